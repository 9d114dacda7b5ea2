"""A KPI card: a label (border title), this quarter's value, the change, and a Sparkline of the
whole history. One widget per card (Textual's Sparkline renderable inside) keeps start-up cheap."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.reactive import reactive
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widget import Widget


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
        spark = SparklineRenderable(list(self.history), width=max(1, self.content_size.width), height=1,
                                    min_color=lo.rich_color, max_color=hi.rich_color)
        return Group(value, delta, spark)
