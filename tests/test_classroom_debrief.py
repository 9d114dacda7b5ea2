"""The debrief submits the finished run to the class server named by ``$TYCOON_SERVER`` (or the
competition file's ``server``), and offers nothing when no server is named (issue 13)."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

pytest.importorskip("uvicorn", reason="the server extra is not installed")

from game.app import make_app  # noqa: E402
from tests.classroom_helpers import ServerProcess  # noqa: E402


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TYCOON_SERVER", raising=False)
    monkeypatch.delenv("TYCOON_CLASS_CODE", raising=False)


async def _finish_and_open_debrief(app, pilot) -> None:
    await pilot.pause()
    s = app.session
    while not s.over:
        s.end_quarter()
    app.refresh_area()
    await pilot.press("d")
    await pilot.pause()
    assert type(app.screen).__name__ == "DebriefScreen"


async def test_debrief_submits_the_run_to_the_class_server(tmp_path, monkeypatch):
    server = ServerProcess(f"sqlite:///{tmp_path / 'classroom.sqlite3'}", "--rate-limit", "0")
    try:
        monkeypatch.setenv("TYCOON_SERVER", server.url)
        app = make_app(scenario="tutorial", seed=3, player="dana", skip_start=True, theme="textual-dark", cursor_blink=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await _finish_and_open_debrief(app, pilot)
            assert app.screen.check_action("submit_to_server", ()) is True
            await pilot.press("u")
            text = ""
            for _ in range(300):  # the verification runs on the server: wait for its answer
                await asyncio.sleep(0.1)
                text = str(app.screen.query_one("#board-result").render())
                if text.startswith("Class server:"):
                    break
            assert text.startswith("Class server: accepted: dana"), text
            assert "rank 1 of 1 on tutorial seed 3" in text
        with urllib.request.urlopen(f"{server.url}/api/standings?scenario=tutorial&seed=3", timeout=10) as r:
            entries = json.loads(r.read())["entries"]
        assert [e["player"] for e in entries] == ["dana"]
    finally:
        server.stop()


async def test_no_server_named_no_submission(tmp_path):
    app = make_app(scenario="tutorial", seed=3, player="dana", skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _finish_and_open_debrief(app, pilot)
        assert app.screen.check_action("submit_to_server", ()) is False
        before = str(app.screen.query_one("#board-result").render())
        await pilot.press("u")
        await pilot.pause()
        assert str(app.screen.query_one("#board-result").render()) == before
