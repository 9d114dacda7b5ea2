"""Small shared widgets: the area tab line and the status line shown on every area screen."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from engine.money import fmt_usd

AREA_KEYS = (("1", "dashboard", "Dashboard"), ("2", "fleet", "Fleet"), ("3", "market", "Market"),
             ("4", "contracts", "Contracts"), ("5", "finance", "Finance"), ("6", "news", "News"))


class AreaTabs(Static):
    """`1 Dashboard  2 Fleet ...` with the current area marked; clicking a name switches to it."""

    def __init__(self, current: str) -> None:
        super().__init__(id="area-tabs")
        self.current = current

    def render(self) -> Text:
        text = Text()
        for key, area, title in AREA_KEYS:
            style = "reverse bold" if area == self.current else ""
            text.append(f" {key} {title} ", style=style)
            text.append(" ")
        return text

    def on_click(self, event) -> None:
        x = event.x
        pos = 0
        for key, area, title in AREA_KEYS:
            width = len(f" {key} {title} ") + 1
            if pos <= x < pos + width:
                self.app.action_area(area)  # type: ignore[attr-defined]
                return
            pos += width


class StyledOnMount:
    """A screen mixin: no whole-screen restyle when the screen resumes without having been suspended.
    Textual restyles every node of a screen each time it resumes; a new screen resumes as it is first
    shown (twice when it is a mode's first screen) right after each of its widgets was styled as it
    mounted: two or three passes over every widget for nothing (issue 11: start-up, the report). After a
    suspension (another screen was on top, the theme may have changed) it restyles as Textual does."""

    _suspended_since_styled = False

    def _on_screen_suspend(self) -> None:  # Textual's own Screen._on_screen_suspend runs as well (the MRO)
        self._suspended_since_styled = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:  # runs before Screen._on_screen_resume
        if not self._suspended_since_styled:
            event.refresh_styles = False
        self._suspended_since_styled = False


class GameFooter(Footer):
    """Textual's Footer, recomposed only when the keys it shows change: every binding refresh (a screen
    switch, a plan change) rebuilt all its keys and restyled them, a visible share of the latency (issue 11).
    Its keys start with the footer's own ``compact``: a FooterKey starts compact and is then bound to the
    footer's (not compact), each key restyled twice on every recompose for no visible change (issue 11)."""

    def compose(self):
        for widget in super().compose():
            if isinstance(widget, FooterKey) and "compact" in (getattr(widget, "_reactive_connect", None) or {}):
                widget.set_reactive(FooterKey.compact, self.compact)  # the value it is bound to (not the palette key)
            yield widget

    def bindings_changed(self, screen) -> None:
        shown = tuple((b.key, b.description, enabled) for (_, b, enabled, _) in screen.active_bindings.values() if b.show)
        if getattr(self, "_shown", None) == shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)


class StatusLine(Static):
    """Quarter, cash, covenant and the turn plan with its cash after, from the session."""

    def __init__(self) -> None:
        super().__init__(id="status-line")

    def refresh_from(self, session) -> None:
        s = session
        if s.over:
            self.update(f"Game over · {s.state.end_reason}  ·  d: debrief")
            return
        if getattr(self.app, "replay", None) is not None:  # replay mode (issue 14): a past quarter, read-only
            self.update(f"{s.label} · cash {fmt_usd(s.state.cash_cents)} · covenant {s.state.covenant} · replay, read-only: 0 timeline · b take over")
            return
        p = s.preview()
        plan = f"Plan: {len(s.plan)} action{'s' if len(s.plan) != 1 else ''}" if s.plan else "Plan: empty"
        cov = s.state.covenant
        bills = s.bills_cents(p)  # issue 11, item 1: rentals and the other committed bills are owed from the cash after
        due = f", bills {fmt_usd(bills)}" if bills > p.cash_after else ""
        covenant = "" if due and cov == "none" else f" · covenant {cov}"  # no debt: room for the bills at 80 columns
        self.update(
            f"{s.label} · cash {fmt_usd(s.state.cash_cents)} · {plan} → cash after {fmt_usd(p.cash_after)}{due}{covenant}"
        )
        self.set_class(cov in ("lock-up", "default") or p.cash_after < 0 or bool(due), "warn")


POINT_PAD_SHARE = 0.15  # of the span, each side: a marker on the chart's frame line is hidden by it


def pct(x: float | None) -> str:
    """A share in whole percent; a float a hair below zero (-2.6e-18 of spot filled) shows "0%", never "-0%"."""
    if x is None:
        return "-"
    shown = f"{x:.0%}"
    return "0%" if shown == "-0%" else shown


def chart_limits(values: list[float], pad_share: float = 0.1) -> tuple[float, float] | None:
    """Axis limits for a chart whose data span nothing (one point, or a flat line): the value ±10%
    (±1 at zero), so the axis reads "1.80 ... 2.20", not "-0.0000010 ... 0.0000010". None: let the
    plot scale itself."""
    if not values:
        return None
    lo, hi = min(values), max(values)
    if hi - lo > 1e-9 * max(1.0, abs(hi)):
        return None
    pad = abs(lo) * pad_share or 1.0
    return lo - pad, hi + pad


def plot_series(plot, series: list[tuple[str, list[float], list[float], str]], xlabel: str, ylabel: str) -> None:
    """Draw each (label, xs, ys, color) series: a line when it has two points or more, a marker when it
    has one. Degenerate axes (one quarter so far, a flat price) get padded limits from chart_limits."""
    from textual_plot import HiResMode  # lazy: the plot library loads with the first chart

    plot.clear()
    all_x: list[float] = []
    all_y: list[float] = []
    for label, xs, ys, color in series:
        if not xs:
            continue
        all_x += xs
        all_y += ys
        if len(xs) == 1:
            plot.scatter(xs, ys, marker="●", marker_style=color, label=label)
        else:
            plot.plot(xs, ys, line_style=color, label=label, hires_mode=HiResMode.BRAILLE)
    xl, yl = chart_limits(all_x), chart_limits(all_y)
    if yl is None and all_y and any(len(xs) == 1 for _, xs, _, _ in series):
        # one point per series at different values: autoscaling puts the highest and the lowest on the frame,
        # where a marker does not show (the 405b-class price vanished); pad the span so every point is inside
        span = max(all_y) - min(all_y)
        yl = (min(all_y) - span * POINT_PAD_SHARE, max(all_y) + span * POINT_PAD_SHARE)
    plot.set_xlimits(*(xl or (None, None)))
    quarters = sorted(set(all_x))
    if quarters and len(quarters) <= 12 and all(float(x).is_integer() for x in quarters):
        plot.set_xticks(quarters)  # whole quarters, not "0.2 0.4 ..."
    plot.set_ylimits(*(yl or (None, None)))
    plot.set_xlabel(xlabel)
    plot.set_ylabel(ylabel)
    plot.show_legend()
