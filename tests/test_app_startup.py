"""Start-up work of the first screens (issue 11: the first screen within 1.5x of a bare Textual app).

The times are measured by tests/benchmarks/test_bench_app.py; these tests pin the work that was cut, so
that it cannot come back unnoticed: no pass restyling a whole screen between its mount and its first
paint (Textual restyled every widget again when the new screen resumed, twice for a mode's first screen,
and once more when the width class arrived with the first Resize), no footer key restyled for its
``compact`` class, and the width class (-narrow/-wide) on every screen before its widgets are styled.
"""

from __future__ import annotations

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets._footer import FooterKey

from game.app import make_app

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))


@pytest.fixture
def restyles(monkeypatch) -> list[object]:
    """Every node whose subtree Textual restyles (App.update_styles: class and pseudo-class changes, resume)."""
    seen: list[object] = []
    original = App.update_styles

    def update_styles(self, node, animate: bool = True) -> None:
        seen.append(node)
        original(self, node, animate)

    monkeypatch.setattr(App, "update_styles", update_styles)
    return seen


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("first", ["start", "dashboard"])
async def test_no_whole_screen_restyle_before_the_first_screen_is_shown(first, size, restyles):
    app = make_app(seed=7, skip_start=first == "dashboard", theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        shown = app.screen
        assert type(shown).__name__ == ("StartScreen" if first == "start" else "DashboardScreen")
        assert [n for n in restyles if isinstance(n, Screen)] == []
        assert [n for n in restyles if isinstance(n, FooterKey) and not n.has_class("-command-palette")] == []  # (compact, as in Textual)
        # and still the widgets have their styles: the start screen's focused button, the layout's width class
        assert shown.has_class("-wide" if size[0] >= 100 else "-narrow") and not shown.has_class("-narrow" if size[0] >= 100 else "-wide")
        if first == "start":
            assert shown.focused is shown.query_one("#start-game")


async def test_a_resumed_screen_is_restyled_and_a_resize_changes_its_width_class(restyles):
    """After another screen was on top (the theme may have changed meanwhile), a screen resumes restyled as
    Textual does; a resize across the breakpoint still moves every screen to the other width class."""
    app = make_app(seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dashboard = app.screen
        await pilot.press("2")  # Fleet
        await pilot.pause()
        restyles.clear()
        await pilot.press("1")  # back to the dashboard, suspended meanwhile
        await pilot.pause()
        assert dashboard in restyles
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen is dashboard and dashboard.has_class("-narrow") and not dashboard.has_class("-wide")


@pytest.mark.parametrize("size", SIZES)
async def test_a_pushed_screen_has_its_width_class_before_it_mounts(size):
    """The quarter report (a pushed modal) is composed with the width class already on its screen."""
    app = make_app(seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        classes: list[set[str]] = []
        original = app.get_screen

        def get_screen(screen, screen_class=None):
            got = original(screen, screen_class)
            classes.append(set(got.classes))
            return got

        app.get_screen = get_screen  # type: ignore[method-assign]
        app.play_quarter()
        await pilot.pause()
        assert type(app.screen).__name__ == "QuarterReportScreen"
        assert classes and classes[-1] >= {"-wide" if size[0] >= 100 else "-narrow"}


@pytest.mark.parametrize("first", ["start", "dashboard"])
async def test_the_collector_waits_during_start_up_and_is_back_once_the_first_screen_is_shown(first, monkeypatch):
    """game.app._collect_less_while_starting: the young-generation threshold is START_GEN0_THRESHOLD while the
    first screen is built (its compose sees it) and the process's own threshold again once it is shown; an app
    that exits before its first screen restores it too."""
    import gc

    from game.app import app as app_module
    from game.app.screens.areas import DashboardScreen
    from game.app.screens.start import StartScreen

    normal = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    screen = StartScreen if first == "start" else DashboardScreen
    original = screen.compose

    def compose(self):
        seen.append(gc.get_threshold())
        yield from original(self)

    monkeypatch.setattr(screen, "compose", compose)
    app = make_app(seed=7, skip_start=first == "dashboard", theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert seen and seen[0][0] == max(app_module.START_GEN0_THRESHOLD, normal[0]) and seen[0][1:] == normal[1:]
        assert app.ready_seconds is not None and gc.get_threshold() == normal
    early = make_app(seed=7, theme="textual-dark", cursor_blink=False)
    assert gc.get_threshold() == normal  # made, not yet run
    async with early.run_test(size=(80, 24)):
        early.exit()
    assert gc.get_threshold() == normal


async def test_apps_of_one_process_share_parsed_css_per_theme():
    """game.app.app._SharedParseStylesheet: a second app parses no CSS text again for the same theme, and an
    app on another theme gets its own rules (its colours), not the first theme's."""
    from textual.css.stylesheet import Stylesheet

    from game.app.app import _SharedParseStylesheet

    async def first_screen(theme: str) -> tuple[int, object]:
        calls = []
        original = Stylesheet._parse_rules

        def counting(self, *args, **kw):
            calls.append(args[0])
            return original(self, *args, **kw)

        Stylesheet._parse_rules = counting
        try:
            app = make_app(seed=7, theme=theme, cursor_blink=False)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                assert isinstance(app.stylesheet, _SharedParseStylesheet)
                return len(calls), app.screen.query_one("#start-error").styles.color, app.screen.styles.background
        finally:
            Stylesheet._parse_rules = original

    _SharedParseStylesheet._SHARED.clear()
    parsed, dark_error, dark_bg = await first_screen("textual-dark")
    again, same_error, same_bg = await first_screen("textual-dark")
    assert parsed > 0 and again == 0 and (same_error, same_bg) == (dark_error, dark_bg)
    light, light_error, light_bg = await first_screen("textual-light")
    assert light > 0 and light_bg != dark_bg


_FIRST_SCREEN_MODULES = """
import json, os, sys, threading
from game.app import make_app
app = make_app(seed=7, skip_start=sys.argv[1] == "dashboard", theme="textual-dark", cursor_blink=False)
def on_ready(self):
    actions = sys.modules.get("engine.actions")  # (not imported here: the start screen does not load it)
    built = actions is not None and type(actions.ACTION_ADAPTER.validator).__name__ == "SchemaValidator"
    tasks = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None  # the OS's threads (Linux)
    print(json.dumps({"modules": sorted(sys.modules), "action_validator_built": built, "screen": type(self.screen).__name__,
                      "threads_not_python": None if tasks is None else tasks - threading.active_count(),
                      "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}))
    self.exit()
type(app).on_ready = on_ready
app.run(headless=True, size=(120, 40))
"""

# Code the first screens do not run: the run file (first save or load), the other commands (calculators,
# classroom, leaderboard, replay, tournament, rivals), the debrief and the end-of-game tools, the charts.
NOT_BEFORE_THE_FIRST_SCREEN = (
    "game.runfile", "game.classroom", "game.calc", "game.leaderboard", "game.replay", "game.tournament",
    "game.industry", "game.headless", "game.competition", "engine.industry", "engine.debrief", "engine.bots",
    "engine.exploits", "textual_plot",
)


@pytest.mark.parametrize("first", ["start", "dashboard"])
def test_starting_the_game_imports_only_what_its_first_screen_runs(first, tmp_path):
    """Issue 11 (start-up of `tycoon play`): in a fresh process, as the CLI starts it, the first screen is
    shown without importing the modules of NOT_BEFORE_THE_FIRST_SCREEN, and without building the validator
    of every action kind (engine.actions.ACTION_ADAPTER: an empty turn plan parses no action). The start
    screen loads no engine model at all (pydantic, numpy: the engine loads when a game starts)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, TYCOON_SAVE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _FIRST_SCREEN_MODULES, first], capture_output=True, text=True,
                         env=env, check=True, timeout=120).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    modules = set(seen["modules"])
    assert seen["screen"] == ("StartScreen" if first == "start" else "DashboardScreen")
    loaded = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_BEFORE_THE_FIRST_SCREEN))
    assert loaded == []
    assert seen["action_validator_built"] is False
    if first == "start":
        assert not {"numpy", "pydantic", "engine.state", "engine.step"} & modules
    else:
        assert {"engine.step", "engine.advisor", "numpy"} <= modules  # the game was built and advised: the test sees a real start
        # numpy loaded without OpenBLAS's pool of worker threads (game.app.use_one_blas_thread): no thread
        # that Python did not start (on one core OpenBLAS starts none anyway)
        assert seen["blas_threads"] == "1"
        assert seen["threads_not_python"] in (0, None)


def test_one_blas_thread_is_the_default_and_a_players_setting_is_kept(monkeypatch):
    """game.app.use_one_blas_thread (issue 11 start-up): OPENBLAS_NUM_THREADS=1 when unset; a value the
    player set is theirs, even an empty one."""
    import os

    from game.app import use_one_blas_thread

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    use_one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    for theirs in ("4", ""):
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", theirs)
        use_one_blas_thread()
        assert os.environ["OPENBLAS_NUM_THREADS"] == theirs


def test_the_action_validator_built_on_first_use_still_refuses_a_bad_action():
    """engine.actions.ACTION_ADAPTER is deferred (issue 11 start-up): its first use builds it, and it
    validates as before: a known kind parses, an unknown kind or a bad field is refused."""
    from pydantic import ValidationError

    from engine.actions import TakeLoan, parse_action

    assert parse_action({"kind": "take_loan", "offer_id": "D1", "amount_usd": 5}) == TakeLoan(offer_id="D1", amount_usd=5)
    with pytest.raises(ValidationError):
        parse_action({"kind": "print_money", "amount_usd": 5})
    with pytest.raises(ValidationError):
        parse_action({"kind": "take_loan", "offer_id": "D1", "amount_usd": "lots"})


_COLLECTIONS_WHILE_IMPORTING = """
import gc, json
from game.app import make_app
runs, at_freeze = [], []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
freeze = gc.freeze
gc.freeze = lambda: (at_freeze.append(len(runs)), freeze())  # make_app freezes the heap its imports built
normal = gc.get_threshold()
app = make_app(seed=7, theme="textual-dark", cursor_blink=False)
print(json.dumps({"collections": at_freeze, "threshold_back": gc.get_threshold() == normal, "app": type(app).__name__}))
"""


def test_the_collector_waits_while_the_first_app_loads_its_modules(tmp_path):
    """game.app._collector_waits_while_importing (issue 11 start-up): in a fresh process, loading Textual and
    the app's modules in make_app runs no collection before the import heap is frozen (it ran about 75),
    and the process's threshold is back once the app is made."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, TYCOON_SAVE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _COLLECTIONS_WHILE_IMPORTING], capture_output=True, text=True,
                         env=env, check=True, timeout=120).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"collections": [0], "threshold_back": True, "app": "TycoonApp"}


def test_the_collector_threshold_is_back_when_an_import_fails():
    import gc

    import game.app as package

    normal = gc.get_threshold()
    with pytest.raises(ImportError):
        with package._collector_waits_while_importing():
            assert gc.get_threshold()[0] == max(package.START_GEN0_THRESHOLD, normal[0])
            raise ImportError("a module that does not load")
    assert gc.get_threshold() == normal


def test_every_command_sets_one_blas_thread_before_it_runs(monkeypatch, tmp_path):
    """game.cli.main (issue 11 start-up): `tycoon play --scenario` builds its game, numpy included, before
    the app is made, so the CLI sets OPENBLAS_NUM_THREADS for every command before it runs one."""
    import os

    from game import cli

    seen = []
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    class Parser:  # records the environment the command would run in, and runs none
        def parse_args(self, argv):
            from game.errors import UserError

            seen.append(os.environ.get("OPENBLAS_NUM_THREADS"))
            raise UserError("stop here: the command itself is not what this test runs")

    monkeypatch.setattr(cli, "build_parser", lambda play_only=False: Parser())
    assert cli.main(["verify", str(tmp_path / "missing.json")]) == 2
    assert seen == ["1"]
