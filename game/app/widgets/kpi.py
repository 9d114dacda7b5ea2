"""A KPI card: a label (border title), this quarter's value, the change, and a Sparkline of the
whole history. One widget per card (Textual's Sparkline renderable inside) keeps start-up cheap."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widget import Widget


FLAT_BAR = "▄"  # a series with one value: a level line at half height


class KpiCard(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"kpi--value", "kpi--delta", "sparkline--max-color", "sparkline--min-color"}
    DEFAULT_CSS = """
    KpiCard > .kpi--value { text-style: bold; }
    KpiCard > .kpi--delta { color: $text-muted; }
    KpiCard > .sparkline--max-color { color: $primary; }
    KpiCard > .sparkline--min-color { color: $primary 30%; }
    """

    value = reactive("-")
    delta = reactive("")
    history: reactive[tuple[float, ...]] = reactive(tuple)

    def __init__(self, title: str, id: str) -> None:
        super().__init__(id=id, classes="kpi")
        self.border_title = title

    short_delta = reactive("")

    def show(self, value: str, delta: str = "", history: list[float] | None = None, state: str = "", short: str = "") -> None:
        """``short``: the change line for a card too narrow for ``delta`` (80 columns), instead of cutting it."""
        self.value = value
        self.delta = delta
        self.short_delta = short
        self.history = tuple(history or ())
        for cls in ("good", "warn", "bad"):
            self.set_class(cls == state, cls)

    def render(self) -> Group:
        _, base = self.background_colors
        lo = base + self.get_component_styles("sparkline--min-color").color
        hi = base + self.get_component_styles("sparkline--max-color").color
        value = Text(self.value, style=self.get_component_rich_style("kpi--value"), no_wrap=True, overflow="ellipsis")
        fits = self.delta if len(self.delta) <= self.content_size.width or not self.short_delta else self.short_delta
        delta = Text(fits, style=self.get_component_rich_style("kpi--delta"), no_wrap=True, overflow="ellipsis")
        width = max(1, self.content_size.width)
        if self.history and min(self.history) == max(self.history):
            # one quarter, or a flat line (runway capped at 20 quarters): Textual draws one point as a full block and a
            # flat line at the floor, as if it were zero; a level line halfway says "no change" (issue 11, one-point charts)
            spark = Text(FLAT_BAR * width, style=Style(color=lo.blend(hi, 0.5).rich_color), no_wrap=True)
        else:
            spark = SparklineRenderable(list(self.history), width=width, height=1, min_color=lo.rich_color, max_color=hi.rich_color)
        return Group(value, delta, spark)
