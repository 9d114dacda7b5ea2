"""Replay mode in the app (issue 14), with Pilot at 120x40 and 80x24, and snapshots.

A golden run (bot flex, seed 3, 20 quarters) against the passive bot as its ghost: the timeline
steps with left/right/home/end and the mouse, the header says ``replay`` and ``quarter N of M``,
the area screens show the quarter read-only, seeking never simulates, and ``b`` takes over.
Regenerate the snapshots on purpose with ``pytest tests/test_app_replay.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from game.app.screens.replay import ReplayScreen, Timeline, make_replay_app
from game.replay import open_ghost, open_run
from game.runfile import load_run, verify_run

FLEX = Path(__file__).parent / "golden" / "neocloud-2025-flex-seed3.json"


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))


@pytest.fixture(scope="module")
def flex():
    return open_run(FLEX)


@pytest.fixture(scope="module")
def passive(flex):
    return open_ghost(flex, vs_bot="passive")


def _plain(widget) -> str:
    """What a Static or a RichLog shows, as plain text (a Static's content may be a Rich renderable)."""
    import io

    from rich.console import Console

    if hasattr(widget, "lines"):  # the quarter panel: a RichLog's rendered lines
        return "\n".join(line.text for line in widget.lines)
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def _app(rep, ghost=None, save_dir=None):
    return make_replay_app(rep, ghost, theme="textual-dark", cursor_blink=False, save_dir=save_dir)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_stepping_through_a_replay(flex, passive, size, monkeypatch):
    app = _app(flex, passive)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen)
        assert app.sub_title.startswith("replay · quarter 1 of 20 · 2025Q1")

        def no_simulation(*a, **k):  # seeking reads the cache: a keypress never plays a quarter
            raise AssertionError("a replay re-simulated on a keypress")

        monkeypatch.setattr("engine.game.advance", no_simulation)
        await pilot.press("left")  # already at the first quarter: stays
        assert app.replay_index == 0
        await pilot.press("right", "right", "right")
        await pilot.pause()
        assert app.replay_index == 3 and "quarter 4 of 20 · 2025Q4" in app.sub_title
        assert app.session.state.quarter == 3 and len(app.session.reports) == 3
        assert "Decisions in 2025Q4" in _plain(app.screen.query_one("#replay-quarter"))
        assert "Decisions first diverged in 2025Q2" in _plain(app.screen.query_one("#ghost-table"))
        panel = app.screen.query_one("#replay-quarter")
        assert _plain(panel).count("Decisions in") == 1 and _plain(panel).count("Quarter report") == 1  # shown once, not appended
        if size == (80, 24):  # the quarter is longer than the screen: the panel scrolls with the arrows
            assert panel.max_scroll_y > 0 and app.focused is panel
            await pilot.press("down", "down")
            await pilot.pause()
            assert panel.scroll_y == 2
        await pilot.press("end")
        await pilot.pause()
        assert app.replay_index == 19 and "quarter 20 of 20 · 2029Q4" in app.sub_title
        assert _plain(panel).count("Decisions in 2029Q4") == 1 and panel.scroll_y == 0
        await pilot.press("right")
        assert app.replay_index == 19
        await pilot.press("home")
        assert app.replay_index == 0


async def test_area_screens_are_read_only(flex, passive):
    app = _app(flex, passive)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("right", "right", "4")
        await pilot.pause()
        assert type(app.screen).__name__ == "ContractsScreen"
        assert app.session.state is flex.states[2]
        await pilot.press("k", "e", "t", "a")  # sign, end quarter, plan, actions: none opens in a replay
        await pilot.pause()
        assert type(app.screen).__name__ == "ContractsScreen" and app.session.plan == []
        assert "read-only" in _plain(app.screen.query_one("#status-line"))
        await pilot.press("right")  # the timeline steps from an area screen too
        await pilot.pause()
        assert app.session.state is flex.states[3] and "2025Q4" in _plain(app.screen.query_one("#status-line"))
        titles = [c.title for c in app.get_system_commands(app.screen)]  # the palette offers no decision either
        assert "Take over" in titles and "End quarter" not in titles and "Sign contract" not in titles
        await pilot.press("0")
        await pilot.pause()
        assert isinstance(app.screen, ReplayScreen)


async def test_the_slider_follows_the_mouse(flex):
    app = _app(flex)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        width = app.screen.query_one(Timeline).content_size.width
        await pilot.click("#timeline", offset=(1, 0))
        assert app.replay_index == 0
        await pilot.click("#timeline", offset=(width, 0))
        assert app.replay_index == 19
        x = 1 + width // 2  # the middle cell of 20 is quarter 11
        await pilot.click("#timeline", offset=(x, 1))
        await pilot.pause()
        assert app.replay_index == 10 and "2027Q3" in app.sub_title


async def test_take_over_starts_a_branch_that_verifies(flex, tmp_path):
    app = _app(flex, save_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(5):
            await pilot.press("right")
        await pilot.press("b")
        await pilot.pause()
        assert app.replay is None and type(app.screen).__name__ == "DashboardScreen"
        s = app.session
        assert len(s.reports) == 5 and s.state.quarter == 5 and s.label == "2026Q2"
        assert s.state is not flex.states[5]  # a game of its own, not the replay's cached state
        path = s.save_path
        assert path.exists() and verify_run(path).ok
        assert load_run(path).parent["at"] == "2026Q2" and load_run(path).parent["final_hash"] == flex.final_hash()
        await pilot.press("b")  # a normal game again: b is Buy GPUs
        await pilot.pause()
        assert type(app.screen).__name__ == "ActionForm"


def _at(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_snapshot_replay_with_ghost(snap_compare, flex, passive):
    assert snap_compare(_app(flex, passive), terminal_size=(120, 40), run_before=_at("right", "right", "right"))


def test_snapshot_replay_80x24(snap_compare, flex, passive):
    assert snap_compare(_app(flex, passive), terminal_size=(80, 24), run_before=_at("end"))


def test_snapshot_replay_finance_area(snap_compare, flex):
    assert snap_compare(_app(flex), terminal_size=(120, 40), run_before=_at("right", "right", "right", "right", "right", "5"))
