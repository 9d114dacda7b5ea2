"""The start screen: pick a scenario, a seed and a name, or continue a saved run."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from rich.text import Text
from textual.widgets import Button, Header, Input, Label, Select, Static

from game.app.widgets.common import GameFooter, StyledOnMount
from game.errors import UserError

if TYPE_CHECKING:
    from scenarios import ScenarioSummary

_SUMMARIES: dict[tuple[Path, int, int], ScenarioSummary | None] = {}  # (file, mtime, size) -> menu entry: read once a process (`tycoon serve` runs an app per player)


def _summary(path: Path) -> ScenarioSummary | None:
    """A scenario's menu entry, read again only when its file changes (None: missing or unreadable)."""
    from scenarios import scenario_summary

    try:
        st = path.stat()
    except OSError:
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _SUMMARIES:
        _SUMMARIES[key] = scenario_summary(path)
    return _SUMMARIES[key]


class StartScreen(StyledOnMount, Screen):
    AREA = "start"
    AUTO_FOCUS = "#start-game"  # focused as it is composed: focusing the scenario menu first restyled both twice
    BINDINGS = [
        Binding("ctrl+r", "random_seed", "Random seed", id="start.random", tooltip="Draw a random seed"),
        Binding("ctrl+l", "load", "Load run", id="start.load", tooltip="Continue the run file named below"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.scenarios: dict[str, ScenarioSummary] = {}  # id -> summary; the whole catalogue loads after the first paint
        self._catalogue_complete = False

    def _load_catalogue(self) -> None:
        from scenarios import scenario_paths  # TOML only: the engine loads when a game starts

        self.scenarios = {sc.id: sc for sc in filter(None, map(_summary, scenario_paths()))}
        self._catalogue_complete = True

    def compose(self) -> ComposeResult:
        app = self.app
        from scenarios import DEFAULT_SCENARIO, SCENARIO_DIR

        first = getattr(app, "start_scenario", None) or DEFAULT_SCENARIO
        # the first screen reads only the scenario it preselects; the menu fills in after the first paint (issue 11: start-up)
        one = _summary(SCENARIO_DIR / f"{first}.toml") if Path(first).name == first else None
        if one is not None and one.id == first:
            self.scenarios = {first: one}
        else:  # a path or an unknown id: the whole catalogue now, then its first scenario
            self._load_catalogue()
            if first not in self.scenarios:
                first = next(iter(self.scenarios))
        seed = getattr(app, "start_seed", None)
        yield Header()
        with Horizontal(id="start"):
            with Vertical(id="start-form"):
                yield Label("New game", classes="section-title")
                yield Label("Scenario")
                yield Select([(sc.title, sid) for sid, sc in self.scenarios.items()], value=first, allow_blank=False, id="scenario", compact=True)
                yield Label("Seed (same seed, same world)")
                with Horizontal(classes="row"):
                    yield Input(str(7 if seed is None else seed), type="integer", id="seed", compact=True)
                    yield Button("Random", id="random", compact=True)
                yield Label("Your name")
                yield Input(getattr(app, "start_player", "") or "", placeholder="player", id="player", compact=True)
                yield Button("Start game", id="start-game", variant="primary")
                yield Label("Continue a run", classes="section-title")
                yield Input(placeholder="path to a run file (.json)", id="load-path", compact=True)
                yield Select(self._recent_runs(), prompt="recent runs", id="recent", compact=True)
                yield Button("Continue", id="load")
                yield Static("", id="start-error", classes="bad")
            with VerticalScroll(id="briefing"):
                yield Static(id="briefing-text")
        yield GameFooter()

    def _recent_runs(self) -> list[tuple[str, str]]:
        from game.app.paths import default_save_dir

        d = getattr(self.app, "save_dir", None) or default_save_dir()
        try:
            files = sorted(Path(d).glob("*.json"))[:20]
        except OSError:
            return []
        if getattr(self.app, "confine_loads", False):  # under `tycoon serve`: names inside the session's folder
            return [(p.name, p.name) for p in files]
        return [(p.name, str(p)) for p in files]

    def on_mount(self) -> None:
        self.query_one("#seed", Input).cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        self.query_one("#player", Input).cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        self.query_one("#load-path", Input).cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        self.query_one("#start-game", Button).focus()
        self.show_briefing()
        if not self._catalogue_complete:
            self.call_after_refresh(self._fill_catalogue)

    def _fill_catalogue(self) -> None:
        """Every built-in scenario in the menu, the one shown still selected (no Changed: nothing changed)."""
        select = self.query_one("#scenario", Select)
        chosen = select.value
        self._load_catalogue()
        with select.prevent(Select.Changed):
            select.set_options([(sc.title, sid) for sid, sc in self.scenarios.items()])
            if chosen in self.scenarios:
                select.value = chosen

    @on(Select.Changed, "#scenario")
    def show_briefing(self) -> None:
        sid = self.query_one("#scenario", Select).value
        sc = self.scenarios.get(sid)  # type: ignore[arg-type]
        if sc is None:
            return
        # a Static with markup, not a Markdown widget: the first screen paints in about half the time
        text = Text()
        text.append(f"{sc.title}\n\n", style="bold")
        text.append(f"{sc.archetype}", style="bold")
        text.append(" · difficulty ")
        text.append(sc.difficulty, style="bold")
        text.append(f" · {sc.quarters} quarters from {sc.start}\n\n")
        paragraphs = [" ".join(p.split()) for p in sc.briefing.strip().split("\n\n")]  # reflow the TOML's hard wraps
        text.append("\n\n".join(paragraphs) + "\n\n")
        text.append("What success looks like\n", style="bold underline")
        for o in sc.objectives:
            text.append(f"  • {o}\n")
        text.append(f"\n{sc.lesson}", style="italic")
        self.query_one("#briefing-text", Static).update(text)

    @on(Select.Changed, "#recent")
    def _recent(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.query_one("#load-path", Input).value = str(event.value)

    @on(Button.Pressed, "#random")
    def action_random_seed(self) -> None:
        self.query_one("#seed", Input).value = str(random.randrange(1, 1_000_000))  # only when asked for

    @on(Input.Submitted, "#seed,#player")
    @on(Button.Pressed, "#start-game")
    def start_game(self) -> None:
        from game.app.session import Session

        sid = str(self.query_one("#scenario", Select).value)
        try:
            seed = int(self.query_one("#seed", Input).value or "0")
            if not 0 <= seed <= 2**63 - 1:  # issue 10: 2^64 crashed the leaderboard (SQLite INTEGER)
                raise ValueError
        except ValueError:
            self.query_one("#start-error", Static).update("The seed must be a whole number from 0 to 2^63-1.")
            return
        player = self.query_one("#player", Input).value.strip()
        app = self.app
        session = Session.new(str(self.scenarios[sid].path), seed, player, save_dir=getattr(app, "save_dir", None))
        app.begin(session)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#load-path")
    @on(Button.Pressed, "#load")
    def action_load(self) -> None:
        from game.app.session import Session

        path = self.query_one("#load-path", Input).value.strip()
        if not path:
            self.query_one("#start-error", Static).update("Type the path of a run file, or pick a recent run.")
            return
        save_dir = getattr(self.app, "save_dir", None)
        if getattr(self.app, "confine_loads", False):
            from game.app.paths import NoSuchRun, confined_run_path

            try:
                resolved = confined_run_path(save_dir, path)
            except NoSuchRun as exc:  # the same answer for /etc/shadow and a typo: nothing outside leaks
                self.query_one("#start-error", Static).update(str(exc))
                return
            try:
                session = Session.load(resolved, save_dir=save_dir)
            except UserError as exc:  # name the run as typed, not the server's folder
                self.query_one("#start-error", Static).update(str(exc).replace(str(resolved), path))
                return
            self.app.begin(session)  # type: ignore[attr-defined]
            return
        try:
            session = Session.load(path, save_dir=save_dir)
        except UserError as exc:
            self.query_one("#start-error", Static).update(str(exc))
            return
        self.app.begin(session)  # type: ignore[attr-defined]
