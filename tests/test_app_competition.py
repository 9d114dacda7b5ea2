"""``tycoon play --competition FILE``: the competition's scenario and seed, its note on the
dashboard, and the run file tagged with its id on every save (game.competition)."""

from __future__ import annotations

import shlex
import types

import pytest

from game.app import make_app
from game.cli import build_parser, main as cli_main
from game.errors import UserError
from game.runfile import load_run, verify_run

COMPETITION = """
id = "econ-212-week6"
title = "ECON 212, week 6: the deflation trade"
scenario = "neocloud-2025"
seed = 11
policy = "best-of-3"
note = "Sign contracts before prices fall. Submit your run file by Friday."
"""


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def comp_file(tmp_path):
    p = tmp_path / "week6.toml"
    p.write_text(COMPETITION, encoding="utf-8")
    return p


def test_play_passes_the_competition_to_the_app(comp_file, monkeypatch):
    """`tycoon play --competition FILE` builds the app through the factory (no terminal here)."""
    seen = {}

    def fake_make_app(**kw):
        seen.update(kw)
        return types.SimpleNamespace(run=lambda: None, return_code=0)

    monkeypatch.setattr("game.app.make_app", fake_make_app)
    assert cli_main(["play", "--competition", str(comp_file), "--player", "ada"]) == 0
    comp = seen["competition"]
    assert comp.id == "econ-212-week6" and seen["scenario"] == "neocloud-2025" and seen["seed"] == 11
    assert seen["skip_start"] is True and seen["player"] == "ada"
    # agreeing flags are fine
    assert cli_main(["play", "--competition", str(comp_file), "--scenario", "neocloud-2025", "--seed", "11"]) == 0


def test_conflicting_flags_are_a_clear_error(comp_file, capsys):
    assert cli_main(["play", "--competition", str(comp_file), "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "--seed 3 conflicts with competition 'econ-212-week6'" in err and "seed 11" in err
    assert cli_main(["play", "--competition", str(comp_file), "--scenario", "tutorial"]) == 2
    assert "plays scenario 'neocloud-2025'" in capsys.readouterr().err
    assert cli_main(["play", "--competition", str(comp_file.parent / "missing.toml")]) == 2
    assert "no such competition file" in capsys.readouterr().err


async def test_a_competition_game_is_tagged_and_verifies(comp_file, tmp_path):
    app = make_app(competition=comp_file, player="ada", theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.session
        assert s is not None and type(app.screen).__name__ == "DashboardScreen"  # no start screen: the class plays one world
        assert s.loaded.scenario.id == "neocloud-2025" and s.game.seed == 11
        feed = str(app.screen.query_one("#feed-text").render())
        assert "ECON 212, week 6" in feed and "Submit your run file by Friday." in feed
        await pilot.press("b", "enter")
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        path = s.last_saved
    assert path is not None and path.parent == tmp_path / "runs"
    run = load_run(path)
    assert run.competition == "econ-212-week6" and run.scenario == "neocloud-2025" and run.seed == 11
    assert verify_run(path).ok
    # continuing it keeps the tag
    app2 = make_app(load=path, theme="textual-dark", cursor_blink=False)
    async with app2.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app2.session.end_quarter()
    run = load_run(path)
    assert run.competition == "econ-212-week6" and len(run.quarters) == 2 and verify_run(path).ok


def test_serve_passes_competition_on_to_play(comp_file):
    from game.serve import play_command

    cmd = shlex.split(play_command(build_parser().parse_args(["serve", "--competition", str(comp_file)])))
    assert cmd[cmd.index("--competition") + 1] == str(comp_file.resolve())
    with pytest.raises(UserError, match="conflicts with competition"):
        play_command(build_parser().parse_args(["serve", "--competition", str(comp_file), "--seed", "12"]))
