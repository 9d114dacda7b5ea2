"""Small modal screens: the action menu, the turn plan, and the two confirmations."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from engine.money import fmt_usd
from game.app.forms import FORMS, INFERENCE_FORMS, applies, unavailable_reason


class ActionMenu(ModalScreen[str | None]):
    """Every decision, with its key; unavailable ones are disabled with the reason."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="menu.close")]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        options = []
        kinds = [k for k in FORMS if applies(k, self.session)]  # not this company's decisions: not listed
        if self.session.archetype == "inference":  # a token platform's own decisions first
            kinds.sort(key=lambda k: k not in INFERENCE_FORMS)
        for kind in kinds:
            spec = FORMS[kind]
            reason = unavailable_reason(kind, self.session)
            text = Text.assemble((f"{spec.key}  ", "bold"), (spec.title, "bold"), f" — {reason or spec.help}")
            options.append(Option(text, id=kind, disabled=bool(reason)))
        with Vertical(classes="dialog", id="menu"):
            yield Label("Decisions this quarter", classes="dialog-title")
            yield OptionList(*options, id="menu-list")
            yield Static("enter: open the form · escape: close", classes="muted")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def forecast_line(fc) -> str:
    """The plan's quarter at expected values (engine.advisor.Forecast) in one sentence: the plan screen and the
    end-quarter confirmation read it alike."""
    dscr = "" if fc.dscr is None else f", DSCR {fc.dscr:.2f}x vs {fc.dscr_lockup:.2f}x lock-up"
    return (f"Forecast at expected demand and today's prices: revenue {fmt_usd(fc.revenue_cents)}, "
            f"EBITDA {fmt_usd(fc.ebitda_cents)}, cash at quarter end {fmt_usd(fc.cash_end_cents)}{dscr}.")


class PlanScreen(ModalScreen[None]):
    """The turn plan: queued actions with the engine's verdict; delete removes one."""

    BINDINGS = [
        Binding("escape,t", "close", "Close", id="plan.close"),
        Binding("delete,backspace,x", "remove", "Remove", id="plan.remove", tooltip="Remove the highlighted action"),
    ]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="plan"):
            yield Label("Turn plan", classes="dialog-title")
            yield OptionList(id="plan-list")
            yield Static(id="plan-summary")
            yield Static("↑↓ choose · delete/x: remove · escape: close", classes="muted")

    def on_mount(self) -> None:
        self._fill()
        if self.session.plan:  # x acts at once on the first action (nothing highlighted, it did nothing)
            self.query_one(OptionList).highlighted = 0

    def _fill(self) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        p = self.session.preview()
        for i, r in enumerate(p.results):
            mark = "✓" if r.ok else "✗"
            ol.add_option(Option(Text(f"{mark} {r.message}"), id=str(i)))
        if not p.results:
            ol.add_option(Option("Nothing queued: press a (actions) or a form key, then come back.", disabled=True))
        summary = f"Cash now {fmt_usd(self.session.state.cash_cents)} → after the plan {fmt_usd(p.cash_after)}"
        fc = self.session.advice().forecast
        if fc is not None:  # the plan's quarter at expected values (engine.advisor.forecast), as the confirmation shows it
            summary += "\n" + forecast_line(fc)
        self.query_one("#plan-summary", Static).update(summary)

    def action_remove(self) -> None:
        ol = self.query_one(OptionList)
        if not self.session.plan:
            self.notify("the plan is empty: nothing to remove", severity="warning")
            return
        if ol.highlighted is None:
            self.notify("choose an action with ↑ ↓ first", severity="warning")
            return
        index = ol.highlighted
        self.session.remove(index)
        self._fill()
        if self.session.plan:  # the next item (or the new last one) stays highlighted (issue 11, item 6)
            ol.highlighted = min(index, len(self.session.plan) - 1)

    def action_close(self) -> None:
        self.dismiss(None)


class _Confirm(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "yes", "Yes", id="confirm.yes"),
        Binding("n,escape", "no", "No", id="confirm.no"),
        # a long body (8 risks at 80x24) scrolls under the buttons, which stay in sight (issue 11)
        Binding("down", "scroll_body('down')", "Scroll down", show=False, id="confirm.down"),
        Binding("up", "scroll_body('up')", "Scroll up", show=False, id="confirm.up"),
        Binding("pagedown", "scroll_body('page_down')", "Page down", show=False, id="confirm.pagedown"),
        Binding("pageup", "scroll_body('page_up')", "Page up", show=False, id="confirm.pageup"),
    ]
    TITLE_TEXT = ""
    YES = "Yes"
    NO = "No"

    def body(self) -> str:
        return ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Label(self.TITLE_TEXT, classes="dialog-title")
            with VerticalScroll(id="confirm-scroll", can_focus=False):  # the keys scroll it; focus stays on the buttons
                yield Static(self.body(), id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button(self.YES, id="yes", variant="primary", compact=True)
                yield Button(self.NO, id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def action_scroll_body(self, how: str) -> None:
        scroll = self.query_one("#confirm-scroll", VerticalScroll)
        {"down": scroll.scroll_down, "up": scroll.scroll_up, "page_down": scroll.scroll_page_down, "page_up": scroll.scroll_page_up}[how](animate=False)

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


class ConfirmEndQuarter(_Confirm):
    TITLE_TEXT = "End the quarter?"
    YES = "End quarter (y)"
    NO = "Go back (n)"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def body(self) -> str:
        s = self.session
        advice = s.advice()
        fc = advice.forecast
        cash_after = fc.cash_after_plan_cents if fc is not None else s.preview().cash_after
        lines = [f"Play {s.label} with {len(s.plan)} queued action{'s' if len(s.plan) != 1 else ''}; cash after the plan {fmt_usd(cash_after)}."]
        if advice.bills:
            named = ", ".join(f"{name} {fmt_usd(c)}" for name, c in advice.bills)
            lines.append(f"Committed bills this quarter: {fmt_usd(advice.bills_cents)} ({named}).")
        if fc is not None:
            lines.append(forecast_line(fc))
        risks = s.risks()
        if risks:
            lines.append("")
            lines.append("Risks:")
            lines += [f" ! {r}" for r in risks]
        else:
            lines.append("No risks flagged: cash covers every committed bill, and no covenant, term or SLA is at risk.")
        return "\n".join(lines)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#confirm-body", Static).set_class(bool(self.session.risks()), "warn")


class ConfirmQuit(_Confirm):
    TITLE_TEXT = "Quit AI Cloud Tycoon?"
    YES = "Quit (y)"
    NO = "Stay (n)"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def body(self) -> str:
        s = self.session
        if s is None:
            return "No game in progress."
        where = s.last_saved or s.save_path
        extra = f" Your queued plan ({len(s.plan)} actions) is not saved: it is not played yet." if s.plan else ""
        return f"Every finished quarter is saved in {where}.{extra}"


class ConfirmNewGame(ConfirmQuit):
    TITLE_TEXT = "Leave this game for the start screen?"
    YES = "New game (y)"
    NO = "Stay (n)"
