"""Help: context help for the current screen and a searchable glossary (game.glossary)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

KEYS_HELP = (
    "Keys: 1-6 screens · a decisions · b buy GPUs · g lease GPUs · x sell GPUs · c lease colo · n build campus · "
    "r release colo · p set price · k sign contract · o take loan · y repay loan · i raise equity · t turn plan · "
    "e end quarter · z/Z sort a table (tab picks it) · "
    "l leaderboard · ctrl+s save · ctrl+p command palette · q quit"
)


def keys_help(session=None) -> str:
    """The keys line for this company: the forms it can use (game.app.forms), in their order."""
    if session is None:
        return KEYS_HELP
    from game.app.forms import FORMS, applies

    forms = " · ".join(f"{spec.key} {spec.title[0].lower()}{spec.title[1:]}" for kind, spec in FORMS.items() if applies(kind, session))
    return (f"Keys: 1-6 screens · a decisions · {forms} · t turn plan · e end quarter · "
            "z/Z sort a table (tab picks it) · l leaderboard · "
            "ctrl+s save · ctrl+p command palette · q quit")


def _glossary():
    try:
        from game import glossary
    except ImportError:
        return None
    return glossary


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1", "close", "Close", id="help.close")]

    def __init__(self, area: str | None, session=None) -> None:
        super().__init__()
        self.area = area
        self.keys = keys_help(session) if session is not None and session.runs_inference else KEYS_HELP
        g = _glossary()
        self.concepts = list(getattr(g, "GLOSSARY", [])) if g else []
        helps = getattr(g, "CONTEXT_HELP", {}) if g else {}
        inference = session is not None and session.archetype == "inference"  # the same test as the app's Market screen
        key = "market-inference" if area == "market" and inference else area or ""
        context = helps.get(key, "")  # the inference platform's Market is its token market (issue 11 item 8)
        self.context = "\n".join(line for line in context.splitlines() if not line.startswith("Keys:"))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help"):
            yield Label(f"Help{' · ' + self.area.title() if self.area else ''}", classes="dialog-title")
            with VerticalScroll(id="context-help-box"):  # at 80x24 it scrolls, so the glossary keeps its rows
                yield Static((self.context + "\n" if self.context else "") + self.keys, id="context-help", classes="muted")
            yield Input(placeholder="search the glossary", id="help-search", compact=True)
            with Horizontal(id="help-body"):
                yield OptionList(id="terms")
                with VerticalScroll(id="term-detail-box"):
                    yield Static(id="term-detail")

    def on_mount(self) -> None:
        inp = self.query_one("#help-search", Input)
        inp.cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        inp.focus()
        self._fill("")

    @on(Input.Changed, "#help-search")
    def _search(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#help-search")
    def _to_list(self) -> None:
        self.query_one("#terms", OptionList).focus()

    def _fill(self, query: str) -> None:
        g = _glossary()
        if query.strip() and g is not None and hasattr(g, "search"):
            found = list(g.search(query))
        else:
            found = self.concepts
        self.found = found
        ol = self.query_one("#terms", OptionList)
        ol.clear_options()
        for c in found:
            ol.add_option(Option(f"{c.term}", id=c.id))
        if not found:
            ol.add_option(Option("No concept matches" if self.concepts else "The glossary is not available in this build", disabled=True))
        self._show(found[0] if found else None)

    @on(OptionList.OptionHighlighted, "#terms")
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        c = next((c for c in self.found if c.id == event.option.id), None)
        self._show(c)

    def _show(self, c) -> None:
        box = self.query_one("#term-detail", Static)
        if c is None:
            box.update("")
            return
        box.update(f"{c.term}  ({c.section})\n\n{c.summary}\n\nWorked number: {c.worked}\n\nIn the game: {c.where}")

    def action_close(self) -> None:
        self.dismiss(None)
