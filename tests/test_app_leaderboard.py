"""The local leaderboard in the app (game.leaderboard): the board modal (l) and, on the debrief,
adding the finished run through the same verification as `tycoon leaderboard add`."""

from __future__ import annotations

import re

import pytest

from game.app import make_app
from game.app.session import Session
from game.leaderboard import add_runs, open_store


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))


def _finished_run(tmp_path, player: str, first: list[dict]) -> str:
    s = Session.new("neocloud-2025", 7, player, save_dir=tmp_path / "others")
    s.game.play(first)
    while not s.over:
        s.game.play([])
    return str(s.save())


async def test_debrief_adds_the_run_and_shows_its_place(tmp_path):
    site = Session.new("neocloud-2025", 7).state.sites[0].id
    others = [_finished_run(tmp_path, "alice", []),
              _finished_run(tmp_path, "bob", [{"kind": "buy_gpus", "gen": "h100", "count": 512, "site_id": site}])]
    with open_store() as store:
        assert all(o.ok for o in add_runs(store, others, workers=1))
    app = make_app(scenario="neocloud-2025", seed=7, player="carol", skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("l")  # the board before playing: the two runs
        await pilot.pause()
        assert type(app.screen).__name__ == "LeaderboardScreen"
        assert app.screen.query_one("#lb-table").row_count == 2
        await pilot.press("escape")
        await pilot.pause()
        s = app.session
        s.add({"kind": "buy_gpus", "gen": "h100", "count": 128, "site_id": site})
        while not s.over:
            s.end_quarter()
        app.refresh_area()
        await pilot.press("d")
        await pilot.pause()
        assert type(app.screen).__name__ == "DebriefScreen"
        await pilot.press("s")  # add to the leaderboard
        await pilot.pause()
        assert type(app.screen).__name__ == "LeaderboardScreen"
        message = str(app.screen.query_one("#lb-message").render())
        assert re.search(r"Added: (1st|2nd|3rd) of 3 on neocloud-2025 seed 7", message), message
        assert app.screen.query_one("#lb-table").row_count == 3
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "DebriefScreen"
        assert "Added:" in str(app.screen.query_one("#board-result").render())
        await pilot.press("s")  # again: refused as a duplicate, the place still shown
        await pilot.pause()
        again = str(app.screen.query_one("#lb-message").render())
        assert "Not added: duplicate" in again and re.search(r"places (1st|2nd|3rd) of 3", again), again
    with open_store() as store:
        rows = store.entries(scenario="neocloud-2025", seed=7)
    assert sorted(e.player for _, e in rows) == ["alice", "bob", "carol"]


async def test_an_unfinished_run_is_refused(tmp_path):
    app = make_app(seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.session.end_quarter()
        added, message, _ = app.session.add_to_leaderboard()
        assert not added and "unfinished" in message
        await pilot.press("l")
        await pilot.pause()
        assert "No verified run on this board yet" in str(app.screen.query_one("#lb-note").render())
