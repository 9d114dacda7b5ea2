"""Issue 10, items 1 and 6: a run file never names a file to read; ``tycoon serve`` sessions are separate.

A run on a scenario that is not built in embeds the scenario's TOML (bounded), or the verifier names
the file (``--scenario-file``); nothing a run file says is opened. Every refusal in a leaderboard batch
names its reason and never stops the others. Under ``serve`` each session saves in its own random
folder, and a path typed on the start screen resolves only inside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from engine.bots import make_bot, run_bot
from engine.game import Game
from game.app.paths import NoSuchRun, confined_run_path, new_session_dir
from game.cli import main
from game.competition import load_competition
from game.errors import UserError
from game.leaderboard import RunTooSlow, Store, add_runs, time_limit, verify_many
from game.runfile import MAX_SCENARIO_BYTES, load_run, resume_game, run_from_game, save_run, verify_run
from scenarios import SCENARIO_DIR, load_scenario

BUILTIN = "tutorial"  # 8 quarters: quick to verify
BUILTIN_FILE = SCENARIO_DIR / f"{BUILTIN}.toml"


def _custom_scenario(folder: Path, replacement: str = "demand_scale = 1.5", name: str = "class.toml",
                     new_id: str | None = None) -> Path:
    """The tutorial with one line changed: a class's own scenario (same id unless ``new_id``)."""
    text, n = re.subn(r"^demand_scale = .*$", replacement, BUILTIN_FILE.read_text(encoding="utf-8"), count=1, flags=re.M)
    assert n == 1
    if new_id is not None:
        text, n = re.subn(r'^id = ".*"$', f'id = "{new_id}"', text, count=1, flags=re.M)
        assert n == 1
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(folder: Path, scenario: str, name: str, bot: str = "passive", seed: int = 3, player: str = "ada",
         quarters: int | None = None) -> Path:
    loaded = load_scenario(scenario)
    game = run_bot(Game(loaded.scenario, seed), make_bot(bot), quarters)
    return save_run(run_from_game(game, loaded, player=player, bot=bot), folder / name)


def _edit(src: Path, dst: Path, change) -> Path:
    data = json.loads(src.read_text(encoding="utf-8"))
    change(data)
    dst.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return dst


def _quickly(fn, seconds: float = 10.0):
    """Run ``fn`` in a thread; fail if it is still going after ``seconds`` (e.g. reading /dev/zero)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t0 = time.perf_counter()
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s"
    return box, time.perf_counter() - t0


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


# ------------------------------------------------------------------------------ nothing a run file names is read


@pytest.fixture(scope="module")
def custom(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("custom")
    scen = _custom_scenario(d, new_id="class-week6")
    run = _run(d, str(scen), "custom.json", bot="barbell")
    return {"dir": d, "scenario": scen, "run": run}


def test_a_run_on_a_custom_scenario_embeds_its_toml_and_no_path(custom):
    data = json.loads(custom["run"].read_text(encoding="utf-8"))
    assert data["scenario_toml"] == custom["scenario"].read_text(encoding="utf-8")
    assert "scenario_file" not in data
    assert str(custom["dir"]) not in custom["run"].read_text(encoding="utf-8")  # no path of the maker's machine
    builtin = _run(custom["dir"], BUILTIN, "builtin.json", quarters=1)
    assert json.loads(builtin.read_text(encoding="utf-8"))["scenario_toml"] is None  # built in: nothing to embed


def test_embedded_custom_scenario_verifies_without_its_file_and_is_labelled_custom(custom, tmp_path, capsys):
    moved = tmp_path / "elsewhere.json"
    moved.write_bytes(custom["run"].read_bytes())  # no scenario file beside it, and the original may be gone
    v = verify_run(moved)
    assert v.ok and not v.builtin
    assert v.scenario_label.startswith("custom scenario class-week6, sha256 ")
    rc, out, _ = _cli(capsys, "verify", str(moved))
    assert rc == 0
    assert re.search(r"OK \(verified 8 quarter\(s\); custom scenario class-week6, sha256 [0-9a-f]{12}\.\.\.; not a built-in scenario\)", out), out
    builtin = _run(tmp_path, BUILTIN, "builtin.json", quarters=2)
    rc, out, _ = _cli(capsys, "verify", str(builtin))
    assert rc == 0 and out.endswith(": OK (verified 2 quarter(s))\n"), out


def test_continuing_an_embedded_run_keeps_it_self_contained(custom, tmp_path):
    part = _run(tmp_path, str(custom["scenario"]), "part.json", bot="barbell", quarters=3)
    copy = tmp_path / "copy.json"
    copy.write_bytes(part.read_bytes())
    run, loaded, game = resume_game(copy)
    assert not loaded.path.exists() and len(game.reports) == 3  # the scenario came from the run file itself
    run_bot(game, make_bot("barbell"))
    again = save_run(run_from_game(game, loaded, player="ada", bot="barbell"), tmp_path / "again.json")
    assert again.read_bytes() == custom["run"].read_bytes()  # == played straight through on the file


def test_old_run_file_naming_dev_zero_is_refused_quickly_without_reading_it(custom, tmp_path, capsys):
    def old_format(d):  # as run files were written before: a path, no text
        d.pop("scenario_toml")
        d["scenario_file"] = "/dev/zero"

    old = _edit(custom["run"], tmp_path / "old.json", old_format)
    box, seconds = _quickly(lambda: verify_run(old))
    assert isinstance(box.get("error"), UserError) and seconds < 10
    msg = str(box["error"])
    assert "'/dev/zero'" in msg and "--scenario-file" in msg and "no longer name files" in msg
    rc, out, err = _cli(capsys, "verify", str(old))
    assert rc == 2 and "--scenario-file" in err and "Traceback" not in err
    # the instructor names the file: it verifies, labelled custom
    rc, out, _ = _cli(capsys, "verify", "--scenario-file", str(custom["scenario"]), str(old))
    assert rc == 0 and "not a built-in scenario" in out, out


def test_an_old_run_on_a_copy_of_a_built_in_scenario_still_verifies(tmp_path):
    """``scenario_file`` is ignored when the claimed scenario is byte for byte the built-in one."""
    run = _run(tmp_path, BUILTIN, "run.json", quarters=2)
    old = _edit(run, tmp_path / "old.json", lambda d: (d.pop("scenario_toml"), d.__setitem__("scenario_file", "/dev/zero")))
    v = verify_run(old)
    assert v.ok and v.builtin


@pytest.mark.parametrize("what", ["run file", "scenario file", "scenario id"])
def test_dev_zero_anywhere_is_refused_quickly(custom, tmp_path, what):
    if what == "run file":
        call = lambda: verify_run("/dev/zero")  # noqa: E731
    elif what == "scenario file":
        call = lambda: verify_run(custom["run"], "/dev/zero")  # noqa: E731
    else:  # an id that is a path is never opened
        bad = _edit(custom["run"], tmp_path / "id.json", lambda d: (d.pop("scenario_toml"), d.__setitem__("scenario", "/dev/zero")))
        call = lambda: verify_run(bad)  # noqa: E731
    box, _ = _quickly(call)
    assert isinstance(box.get("error"), UserError), box


def test_a_forged_scenario_beside_the_run_is_not_trusted(tmp_path, capsys):
    """Item 1: a scenario file placed beside submissions and matching the claimed hash used to be
    trusted; now nothing beside the run is read, and an edited embedded text is refused."""
    forged = _custom_scenario(tmp_path, "demand_scale = 50.0", name=f"{BUILTIN}.toml")  # same id as the built-in
    run = _run(tmp_path, str(forged), "forged.json", quarters=2)
    assert verify_run(run).ok and not verify_run(run).builtin  # embedded: verifies, but says it is not built in
    stripped = _edit(run, tmp_path / "stripped.json", lambda d: d.pop("scenario_toml"))
    v = verify_run(stripped)  # the file beside it, tutorial.toml, matching the hash, is not opened
    assert not v.ok and "SHA-256" in v.reason and v.builtin
    edited = _edit(run, tmp_path / "edited.json",
                   lambda d: d.__setitem__("scenario_toml", d["scenario_toml"].replace("demand_scale = 50.0", "demand_scale = 60.0")))
    with pytest.raises(UserError, match="scenario_toml.*SHA-256"):
        verify_run(edited)


def test_embedded_scenario_is_bounded(custom, tmp_path):
    big = _edit(custom["run"], tmp_path / "big.json",
                lambda d: d.__setitem__("scenario_toml", d["scenario_toml"] + "#" * MAX_SCENARIO_BYTES))
    with pytest.raises(UserError, match="scenario_toml.*KiB"):
        load_run(big)


# ------------------------------------------------------------------------------ the leaderboard


def test_a_batch_continues_past_bad_runs_and_names_every_reason(custom, tmp_path):
    good = _run(tmp_path, BUILTIN, "good.json", bot="barbell", player="bo")
    old = _edit(custom["run"], tmp_path / "old.json", lambda d: (d.pop("scenario_toml"), d.__setitem__("scenario_file", "/dev/zero")))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    paths = [str(p) for p in (old, "/dev/zero", garbage, tmp_path / "missing.json", custom["run"], good)]
    with Store(tmp_path / "lb.sqlite3") as store:
        outcomes = add_runs(store, paths, workers=1)
        assert [o.ok for o in outcomes] == [False, False, False, False, True, True]
        assert "--scenario-file" in outcomes[0].reason
        assert "not a regular file" in outcomes[1].reason
        assert "JSON" in outcomes[2].reason and "no such file" in outcomes[3].reason
        assert "not a built-in scenario" in outcomes[4].note  # stored, and plainly labelled
        assert outcomes[5].note == ""
        assert store.count() == 2


def test_a_run_that_takes_too_long_is_refused_and_the_rest_go_on(tmp_path):
    slow = _run(tmp_path, BUILTIN, "slow.json", bot="barbell", player="cy")
    fast = _run(tmp_path, BUILTIN, "fast.json", bot="passive", player="dee")
    t0 = time.perf_counter()
    serial = verify_many([str(slow), str(fast)], workers=1, time_limit_s=1e-4)
    assert all(not o.ok and "took longer than 0.0001 s" in o.reason for o in serial)
    assert time.perf_counter() - t0 < 10
    ok = verify_many([str(slow), str(fast)], workers=2)  # in worker processes, with the default limit
    assert [o.ok for o in ok] == [True, True]
    pooled = verify_many([str(slow), str(fast)], workers=2, time_limit_s=1e-4)
    assert all(not o.ok and "took longer" in o.reason for o in pooled)  # the timer works in the workers too


def test_time_limit_interrupts_a_hang():
    t0 = time.perf_counter()
    with pytest.raises(RunTooSlow, match="0.2 s"), time_limit(0.2):
        time.sleep(5)
    assert time.perf_counter() - t0 < 2
    with time_limit(5):  # disarmed on exit: nothing fires later
        pass
    time.sleep(0.05)


def test_a_competition_accepts_only_its_own_built_in_scenario(tmp_path):
    comp_file = tmp_path / "comp.toml"
    comp_file.write_text(f'id = "w6"\ntitle = "Week 6"\nscenario = "{BUILTIN}"\nseed = 3\n', encoding="utf-8")
    comp = load_competition(comp_file)
    same_id = _custom_scenario(tmp_path, "demand_scale = 9.0", name="mine.toml")  # id "tutorial", other bytes
    forged = _run(tmp_path, str(same_id), "forged.json", player="eve")
    honest = _run(tmp_path, BUILTIN, "honest.json", player="ada")
    out = verify_many([str(forged), str(honest)], comp, workers=1)
    assert not out[0].ok and "custom scenario 'tutorial'" in out[0].reason and "not the built-in" in out[0].reason
    assert out[1].ok


def test_show_labels_a_custom_scenario_board_and_never_opens_its_id(custom, tmp_path, capsys):
    db = tmp_path / "lb.sqlite3"
    with Store(db) as store:
        assert add_runs(store, [str(custom["run"])], workers=1)[0].ok
    rc, out, _ = _cli(capsys, "leaderboard", "show", "--db", str(db))
    assert rc == 0 and "class-week6" in out and "[custom scenario: not a built-in scenario]" in out


# ------------------------------------------------------------------------------ tycoon serve: one save space per session


def test_serve_sessions_get_distinct_private_save_dirs(tmp_path):
    a, b = new_session_dir(tmp_path), new_session_dir(tmp_path)
    assert a != b and a.parent == b.parent == tmp_path
    assert a.is_dir() and (a.stat().st_mode & 0o777) == 0o700
    assert re.fullmatch(r"session-[0-9a-f]{16}", a.name)  # 64 random bits: not guessable from another session


def test_play_private_session_hands_each_app_its_own_folder(monkeypatch, tmp_path):
    import game.app
    from game.play import run

    made = []

    class FakeApp:
        return_code = 0

        def run(self):
            made.append(self)

    def fake_make_app(**kwargs):
        app = FakeApp()
        app.kwargs = kwargs
        return app

    monkeypatch.setattr(game.app, "make_app", fake_make_app)
    args = argparse.Namespace(seed=None, scenario=None, competition=None, load=None, player="", save_dir=str(tmp_path),
                              private_session=True)
    assert run(args) == 0 and run(args) == 0
    first, second = (Path(app.kwargs["save_dir"]) for app in made)
    assert first != second and first.parent == second.parent == tmp_path
    assert all(app.confine_loads for app in made)
    with pytest.raises(UserError, match="--load cannot be used with --private-session"):  # no way into another folder
        run(argparse.Namespace(**{**vars(args), "load": str(tmp_path / "x.json")}))
    args.private_session = False
    run(args)
    assert Path(made[-1].kwargs["save_dir"]) == tmp_path and not made[-1].confine_loads


def test_typed_run_paths_are_confined_to_the_session_folder(tmp_path):
    session = tmp_path / "session-x"
    session.mkdir()
    (session / "mine.json").write_text("{}", encoding="utf-8")
    (session / "sub").mkdir()
    (session / "sub" / "deep.json").write_text("{}", encoding="utf-8")
    (tmp_path / "other.json").write_text("{}", encoding="utf-8")  # another student's, one level up
    (session / "link.json").symlink_to(tmp_path / "other.json")
    assert confined_run_path(session, "mine.json") == (session / "mine.json").resolve()
    assert confined_run_path(session, " sub/deep.json ") == (session / "sub" / "deep.json").resolve()
    refused = ["/etc/shadow", "/etc/passwd", str(session / "mine.json"), "../other.json", "sub/../../other.json",
               "~/x.json", "C:\\x.json", "\\\\server\\share\\x.json", "link.json", "sub", "", "nope.json", "a\x00b"]
    for typed in refused:
        with pytest.raises(NoSuchRun) as exc:
            confined_run_path(session, typed)
        assert str(exc.value) == f"no such run: {typed.strip()}"  # one answer: existence outside never leaks


def test_the_start_screen_answers_etc_shadow_like_a_missing_file(tmp_path, monkeypatch):
    """In a private session the run-file box gives /etc/shadow the same answer as a typo."""
    import asyncio

    from textual.widgets import Input, Static

    from game.app import make_app

    session = new_session_dir(tmp_path)
    app = make_app(save_dir=session, cursor_blink=False)
    app.confine_loads = True
    answers = {}

    async def go():
        async with app.run_test(size=(140, 45)) as pilot:
            for typed in ("/etc/shadow", "missing.json", "../../etc/passwd"):
                screen = app.screen
                screen.query_one("#load-path", Input).value = typed
                screen.action_load()
                await pilot.pause()
                answers[typed] = str(screen.query_one("#start-error", Static).render())

    asyncio.run(go())
    assert answers == {t: f"no such run: {t}" for t in answers}
    assert os.listdir(session) == []
