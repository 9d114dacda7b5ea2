"""Small shared widgets: the area tab line and the status line shown on every area screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

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
        self.update(
            f"{s.label} · cash {fmt_usd(s.state.cash_cents)} · {plan} → cash after {fmt_usd(p.cash_after)} · covenant {cov}"
        )
        self.set_class(cov in ("lock-up", "default") or p.cash_after < 0, "warn")
