"""The app: one screen per area (Textual MODES, switched by 1-6), modal forms, the quarter loop."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.cache import LRUCache
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen

from game.app import START_GEN0_THRESHOLD, _collect_less_while_starting, _started  # noqa: F401 - the threshold, re-exported
from game.app.forms import FORMS, ActionForm, applies, unavailable_reason
from game.app.widgets.common import StyledOnMount
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine loads when a game starts, not with the start screen
    from game.app.session import Session

AREAS = ("dashboard", "fleet", "market", "contracts", "finance", "news")
AREA_TITLES = {
    "dashboard": "Dashboard", "fleet": "Fleet", "market": "Market",
    "contracts": "Contracts", "finance": "Finance", "news": "News",
}
FORM_KEYS = {spec.key: kind for kind, spec in FORMS.items()}  # one key, one decision
QUARTER_KEYS = {"e": "End quarter", "t": "Plan", "a": "Actions"}  # the quarter's keys, gone from the footer after game over
GAME_ACTIONS = {"area", "end_quarter", "plan", "form", "actions", "save", "debrief", "leaderboard", "rivals", "new_game"}
REPLAY_ACTIONS = {"replay_view", "replay_step", "replay_jump", "branch"}  # only in replay mode (game.app.screens.replay)


def _area_screens(archetype: str = "neocloud") -> dict[str, type[Screen]]:
    """One screen class per area; an inference platform's Market is the token market (issue 11 item 8)."""
    from game.app.screens import areas

    market = areas.InferenceMarketScreen if archetype == "inference" else areas.MarketScreen
    return {
        "dashboard": areas.DashboardScreen, "fleet": areas.FleetScreen, "market": market,
        "contracts": areas.ContractsScreen, "finance": areas.FinanceScreen, "news": areas.NewsScreen,
    }


class _SharedParseStylesheet(Stylesheet):
    """Textual's stylesheet, its parsed CSS shared by the apps of one process: each new app tokenized and
    parsed every widget's CSS and tycoon.tcss again, 10-40 ms of its first screen, the same text giving the
    same rules for the same theme variables (`tycoon serve` starts an app per player; issue 11). The rules
    are only read once parsed (Stylesheet.apply). Keyed as Textual's own per-stylesheet cache, plus the
    variables; the stylesheets a theme change builds (Stylesheet.reparse) parse as before."""

    _SHARED: LRUCache[tuple, list] = LRUCache(1024)

    def _parse_rules(self, css, read_from, is_default_rules=False, tie_breaker=0, scope=""):
        variables = self._variables
        if getattr(self, "_key_of", (None,))[0] is not variables:
            self._key_of = (variables, tuple(sorted(variables.items())))
        key = (self._key_of[1], css, read_from, is_default_rules, tie_breaker, scope)
        rules = self._SHARED.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            self._SHARED[key] = rules
        return rules


class _Blank(StyledOnMount, Screen):
    """The default screen when a game starts at once (the game's modes replace it)."""


class TycoonApp(App):
    """AI Cloud Tycoon: run an AI cloud, quarter by quarter."""

    CSS_PATH = "tycoon.tcss"
    NEW_GAME = True  # ctrl+n returns to the start screen (a hot-seat industry has none)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # 80x24 stacks what sits side by side at 120x40
    TITLE = "AI Cloud Tycoon"
    BINDINGS = [
        *(
            Binding(str(i), f"area('{a}')", AREA_TITLES[a], show=False, id=f"area.{a}", tooltip=f"Show the {AREA_TITLES[a]} screen")
            for i, a in enumerate(AREAS, 1)
        ),
        Binding("e", "end_quarter", "End quarter", id="end_quarter", tooltip="Play the quarter with your turn plan"),
        Binding("t", "plan", "Plan", id="plan", tooltip="The turn plan: queued actions, remove one"),
        Binding("a", "actions", "Actions", id="actions", tooltip="Every decision you can take this quarter"),
        *(
            Binding(spec.key, f"form('{kind}')", spec.title, show=False, id=f"form.{kind}", tooltip=spec.help)
            for kind, spec in FORMS.items()
        ),
        Binding("d", "debrief", "Debrief", id="debrief", tooltip="The end-of-game debrief"),
        Binding("l", "leaderboard", "Leaderboard", show=False, id="leaderboard", tooltip="The local leaderboard of this scenario and seed"),
        Binding("R", "rivals", "Rivals", show=False, id="rivals", tooltip="What the rival companies published last quarter"),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?", tooltip="Glossary and help for this screen"),
        Binding("ctrl+s", "save", "Save", id="save", tooltip="Save the run file now"),
        Binding("q", "quit_confirm", "Quit", id="quit", tooltip="Quit (the run is saved after every quarter)"),
        Binding("ctrl+n", "new_game", "New game", show=False, id="new_game", tooltip="Back to the start screen: another scenario, seed or run file"),
        # replay mode (issue 14); listed after the forms: in a replay, b takes over instead of buying
        Binding("0", "replay_view", "Timeline", id="replay.view", tooltip="The replay's timeline, decisions and report"),
        Binding("left", "replay_step(-1)", "Earlier", id="replay.prev", priority=True, tooltip="The previous quarter of the replay"),
        Binding("right", "replay_step(1)", "Later", id="replay.next", priority=True, tooltip="The next quarter of the replay"),
        Binding("home", "replay_jump(0)", "First", show=False, id="replay.first", priority=True, tooltip="The first quarter of the replay"),
        Binding("end", "replay_jump(-1)", "Last", show=False, id="replay.last", priority=True, tooltip="The last quarter of the replay"),
        Binding("b", "branch", "Take over", id="replay.branch", tooltip="Play on from the start of this quarter: a new run, a branch of this one"),
    ]

    def __init__(
        self,
        scenario: str | None = None,
        seed: int | None = None,
        player: str = "",
        load: str | Path | None = None,
        save_dir: str | Path | None = None,
        skip_start: bool = False,
        theme_name: str | None = None,
        cursor_blink: bool = True,
        competition: object | None = None,
    ) -> None:
        super().__init__()
        self.stylesheet = _SharedParseStylesheet(variables=self.stylesheet._variables)  # empty yet: its sources are read as it runs
        self.competition = competition  # game.competition.Competition: its scenario and seed, and its tag on the run file
        self.start_scenario = scenario
        self.start_seed = seed
        self.start_player = player
        self.start_load = load
        self.save_dir = Path(save_dir) if save_dir else None
        self.skip_start = skip_start
        self.cursor_blink = cursor_blink
        self.session: Session | None = None
        self.replay = None  # game.replay.Replay in replay mode (then self.session is the view of the selected quarter)
        self.ghost = None  # the --vs / --vs-bot run beside it
        self.replay_index = 0
        self.started_at = time.perf_counter()
        self.ready_seconds: float | None = None
        self._starting = False
        if theme_name:
            self.theme = theme_name

    # ------------------------------------------------------------------ start-up

    def get_default_screen(self) -> Screen:
        if self.start_load or self.skip_start or self.competition is not None or self.replay is not None:
            return self.with_breakpoints(_Blank())  # the game's modes replace it at once; skip building the start screen
        from game.app.screens.start import StartScreen

        return self.with_breakpoints(StartScreen())

    def get_screen(self, screen, screen_class=None):  # every mode's and every pushed screen comes through here
        got = super().get_screen(screen, screen_class)
        return got if got.is_running else self.with_breakpoints(got)

    def with_breakpoints(self, screen: Screen) -> Screen:
        """The screen with its width class (-narrow/-wide) before its widgets are styled: Textual adds it when
        the new screen gets its first Resize, after every widget was styled as it mounted, and that class
        change restyled the whole screen once more (issue 11: start-up). The same rule as Textual's
        Screen._on_resize (the largest breakpoint at or below the width), which then finds nothing to change."""
        points = screen.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is not None else self.HORIZONTAL_BREAKPOINTS
        width = self.size.width
        names = {name for _, name in points or ()}
        chosen = next((name for minimum, name in sorted(points or (), reverse=True) if width >= minimum), None)
        screen.update_classes({name: name == chosen for name in names}, update=False)
        return screen

    def on_mount(self) -> None:
        if self.replay is not None:
            from game.app.screens.replay import begin_replay

            begin_replay(self)
        elif self.start_load:
            from game.app.session import Session

            self.begin(Session.load(self.start_load, save_dir=self.save_dir, competition=self.competition))
        elif self.skip_start or self.competition is not None:
            from scenarios import DEFAULT_SCENARIO

            from game.app.session import Session

            self.begin(Session.new(self.start_scenario or DEFAULT_SCENARIO, 7 if self.start_seed is None else self.start_seed,
                                   self.start_player, save_dir=self.save_dir, competition=self.competition))

    def on_load(self) -> None:
        self._starting = True  # when it runs, not when it is made: an app never run leaves the collector alone
        _collect_less_while_starting()

    def on_ready(self) -> None:
        self.ready_seconds = time.perf_counter() - self.started_at
        self.log.info(f"tycoon ready in {self.ready_seconds * 1000:.0f} ms")
        self._end_start_up()

    def on_unmount(self) -> None:
        self._end_start_up()  # an app that exits before its first screen (an error, a test) still restores it

    def _end_start_up(self) -> None:
        if self._starting:
            self._starting = False
            _started()

    def begin(self, session: Session) -> None:
        """Start (or continue) a game: install one mode per area and show the dashboard."""
        self.session = session
        self.install_areas(session.archetype, fresh=self.current_mode not in AREAS)
        self.update_titles()
        self.switch_mode("dashboard")
        if session.over:
            self.call_after_refresh(self.action_debrief)

    def install_areas(self, archetype: str, fresh: bool) -> None:
        """One mode per area, with this company's screens (an inference platform's Market is its own).
        ``fresh`` (a game begun from the start screen or a replay): every area screen is composed anew
        for the new company, none kept from the last one (issue 11: switching company in one session).
        A hot-seat turn keeps the screens: the same industry, the same archetype."""
        screens = _area_screens(archetype)
        for area in AREAS:
            if area in self._modes and area != self.current_mode and (fresh or self._modes[area] is not screens[area]):
                self.remove_mode(area)
            if area not in self._modes:
                self.add_mode(area, screens[area])

    def update_titles(self) -> None:
        s = self.session
        if s is None:
            return
        if self.replay is not None:
            from game.app.screens.replay import replay_subtitle

            self.sub_title = replay_subtitle(self)
            return
        company = s.state.company_name
        total = s.game.scenario.quarters
        played = len(s.reports)
        when = "game over" if s.over else f"{s.label} (quarter {played + 1} of {total})"
        self.sub_title = f"{company} · {when}"

    def refresh_area(self) -> None:
        self.update_titles()
        refresh = getattr(self.screen, "refresh_view", None)
        if refresh:
            refresh()
        self.refresh_bindings()

    # ------------------------------------------------------------------ availability

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.replay is not None:  # read-only: look at any area, step the timeline, take over; no decision
            return action in ("area", *REPLAY_ACTIONS) or action not in GAME_ACTIONS
        if action in REPLAY_ACTIONS:
            return False
        if action in GAME_ACTIONS and self.session is None:
            return False
        s = self.session
        if s is None:
            return True
        if action == "form":
            kind = str(parameters[0])
            if not applies(kind, s):
                return False  # not this company's decision: hidden (its key still says why: _on_key)
            return None if (s.over or unavailable_reason(kind, s)) else True
        if action in ("end_quarter", "plan", "actions"):
            return False if s.over else True  # after game over the footer no longer offers them
        if action == "debrief":
            return True if s.over else False
        if action == "new_game":
            return self.NEW_GAME and self.competition is None  # a competition is one scenario and seed
        return True

    async def _on_key(self, event) -> None:
        # keys typed right after a form key bubble up from the screen underneath once the form is
        # on top: they belong in the form's first field, not to the app's bindings (issue 11, item 6)
        # (Textual calls App._on_key after this one unless the default is prevented)
        if isinstance(self.screen, ActionForm) and self.screen.take_early_key(event.character):
            event.prevent_default()
            event.stop()
            return
        # a decision's key that cannot run now says why instead of doing nothing (issue 11, item 6: `i`, `h`)
        kind = FORM_KEYS.get(event.key)
        if kind is not None and self.session is not None and getattr(self.screen, "AREA", None) in AREAS \
                and self.check_action("form", (kind,)) is not True:  # on an area screen only: others bind these letters
            event.prevent_default()
            event.stop()
            self.notify(unavailable_reason(kind, self.session) or "not available now", title=FORMS[kind].title, severity="warning")
            return
        # after game over `e`, `t` and `a` leave the footer; pressed anyway, they say why (issue 11, item 6)
        if event.key in QUARTER_KEYS and self.replay is None and self.session is not None and self.session.over \
                and (getattr(self.screen, "AREA", None) in AREAS or type(self.screen).__name__ == "DebriefScreen"):
            event.prevent_default()
            event.stop()
            self.notify("the game is over: d opens the debrief", title=QUARTER_KEYS[event.key], severity="warning")

    # ------------------------------------------------------------------ actions

    def action_area(self, area: str) -> None:
        if area in AREAS and self.session is not None:
            self.switch_mode(area)
            self.update_titles()

    def action_replay_view(self) -> None:
        self.switch_mode("replay")
        self.update_titles()

    def action_replay_step(self, step: int) -> None:
        from game.app.screens.replay import seek

        seek(self, self.replay_index + step)

    def action_replay_jump(self, index: int) -> None:
        from game.app.screens.replay import seek

        seek(self, index if index >= 0 else self.replay.quarters - 1)

    def action_branch(self) -> None:
        from game.app.screens.replay import take_over

        take_over(self)

    def action_form(self, kind: str) -> None:
        if self.session is None:
            return
        reason = unavailable_reason(kind, self.session)
        if reason:
            self.notify(reason, title=FORMS[kind].title, severity="warning")
            return
        self.push_screen(ActionForm(kind, self.session), self._after_form)

    def _after_form(self, result: object) -> None:
        # no toast: the status line shows the plan and its cash after (and toasts would make snapshots time-dependent)
        self.refresh_area()

    def action_actions(self) -> None:
        from game.app.screens.modals import ActionMenu

        def chosen(kind: str | None) -> None:
            if kind:
                self.action_form(kind)

        self.push_screen(ActionMenu(self.session), chosen)

    def action_plan(self) -> None:
        from game.app.screens.modals import PlanScreen

        self.push_screen(PlanScreen(self.session), lambda _: self.refresh_area())

    def action_end_quarter(self) -> None:
        from game.app.screens.modals import ConfirmEndQuarter

        if self.session is None or self.session.over:
            return
        self.push_screen(ConfirmEndQuarter(self.session), self._confirmed_end)

    def _confirmed_end(self, go: bool | None) -> None:
        if go:
            self.play_quarter()

    def play_quarter(self) -> None:
        """Send the plan to the engine, autosave, and show the quarter's report."""
        from game.app.screens.report import QuarterReportScreen

        assert self.session is not None
        report = self.session.end_quarter()
        self.update_titles()  # the screen beneath refreshes when the report closes (_after_report), not before it shows
        self.push_screen(QuarterReportScreen(self.session, report), self._after_report)

    def _after_report(self, _: object) -> None:
        self.refresh_area()
        if self.session is not None and self.session.over:
            self.action_debrief()

    def action_debrief(self) -> None:
        from game.app.screens.debrief import DebriefScreen

        if self.session is not None and self.session.over and not isinstance(self.screen, DebriefScreen):
            self.push_screen(DebriefScreen(self.session))

    def action_leaderboard(self) -> None:
        from game.app.screens.leaderboard import LeaderboardScreen

        if self.session is not None and not isinstance(self.screen, LeaderboardScreen):
            self.push_screen(LeaderboardScreen(self.session))

    def action_rivals(self) -> None:
        from game.app.screens.rivals import RivalsScreen

        if self.session is not None and not isinstance(self.screen, RivalsScreen):
            self.push_screen(RivalsScreen(self.session))

    def action_help(self) -> None:
        from game.app.screens.help import HelpScreen

        area = getattr(self.screen, "AREA", None) or self.current_mode
        self.push_screen(HelpScreen(area if isinstance(area, str) and not area.startswith("_") else None, self.session))

    def action_save(self) -> None:
        if self.session is None:
            return
        path = self.session.save()
        self.notify(f"Saved {path}", title="Run file saved")

    def action_new_game(self) -> None:
        """ctrl+n: back to the start screen (after a confirmation naming what is saved); the game
        begun there installs its own area screens (install_areas)."""
        from game.app.screens.modals import ConfirmNewGame
        from game.app.screens.start import StartScreen

        if self.check_action("new_game", ()) is not True:
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            self.session = None
            self.sub_title = ""
            if "start" in self._modes:  # a fresh start screen: its recent runs list the run just left
                self.remove_mode("start")
            self.add_mode("start", StartScreen)
            self.switch_mode("start")

        self.push_screen(ConfirmNewGame(self.session), done)

    def action_quit_confirm(self) -> None:
        from game.app.screens.modals import ConfirmQuit

        def done(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmQuit(self.session if self.replay is None else None), done)  # a replay has nothing to save

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.session is None:
            return
        if self.replay is not None:  # read-only: the areas, the timeline and take over; no decision
            for area in AREAS:
                yield SystemCommand(f"Go to {AREA_TITLES[area]}", f"The {AREA_TITLES[area]} screen as of this quarter", lambda a=area: self.action_area(a))
            yield SystemCommand("Replay timeline", "The quarter's decisions, report and news", self.action_replay_view)
            yield SystemCommand("Take over", "Play on from the start of this quarter: a branch of this run", self.action_branch)
            yield SystemCommand("Help and glossary", "Searchable concepts from the knowledge base", self.action_help)
            return
        for area in AREAS:
            yield SystemCommand(f"Go to {AREA_TITLES[area]}", f"Show the {AREA_TITLES[area]} screen", lambda a=area: self.action_area(a))
        for kind, spec in FORMS.items():
            if not applies(kind, self.session):
                continue
            reason = unavailable_reason(kind, self.session)
            yield SystemCommand(spec.title, reason or spec.help, lambda k=kind: self.action_form(k))
        yield SystemCommand("Leaderboard", "The local leaderboard of this scenario and seed", self.action_leaderboard)
        yield SystemCommand("End quarter", "Play the quarter with your turn plan", self.action_end_quarter)
        yield SystemCommand("Turn plan", "Queued actions; remove one", self.action_plan)
        yield SystemCommand("Save run", "Write the run file now", self.action_save)
        if self.check_action("new_game", ()) is True:
            yield SystemCommand("New game", "Back to the start screen: another scenario, seed or run file", self.action_new_game)
        yield SystemCommand("Help and glossary", "Searchable concepts from the knowledge base", self.action_help)
