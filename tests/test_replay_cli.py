"""Replays, headless (issue 14): ``tycoon replay --json``, ``tycoon branch``, a branch's ``parent``.

- ``replay --json`` prints every quarter with the fields and values of ``tycoon sim --json``;
- a branch at every quarter of a golden run verifies standalone and, played on with the parent's
  remaining decisions, reproduces the parent's final state hash;
- refused inputs (a quarter outside the run, a ``--vs`` run on another seed, a tampered parent)
  print one line and exit 2;
- a run without ``parent`` keeps its format: existing run files read and write as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from game.cli import main
from game.replay import branch_run, first_divergence, open_ghost, open_run, scenario_bot_replay
from game.runfile import load_run, resume_game, save_run, verify_run

GOLDEN = Path(__file__).parent / "golden"
FLEX = GOLDEN / "neocloud-2025-flex-seed3.json"  # bot flex, seed 3, 20 quarters
PASSIVE_SEED1 = GOLDEN / "neocloud-2025-passive-seed1.json"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tycoon: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def flex():
    return open_run(FLEX)


def test_replay_json_is_sim_json_quarter_by_quarter(capsys):
    code, out, _ = cli(capsys, "replay", str(FLEX), "--json")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    code, sim, _ = cli(capsys, "sim", "--scenario", "neocloud-2025", "--seed", "3", "--bot", "flex", "--json")
    assert code == 0
    assert lines == json.loads(sim)["quarters"]
    assert len(lines) == 20 and [x["state_hash"] for x in lines] == load_run(FLEX).hashes


def test_replay_a_bot_with_a_ghost_bot(capsys):
    code, out, _ = cli(capsys, "replay", "--scenario", "neocloud-2025", "--seed", "3", "--bot", "flex", "--vs-bot", "passive", "--json")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    _, sim, _ = cli(capsys, "sim", "--scenario", "neocloud-2025", "--seed", "3", "--bot", "passive", "--json")
    passive = json.loads(sim)["quarters"]
    assert [x["vs"] for x in lines] == passive
    assert [{k: v for k, v in x.items() if k != "vs"} for x in lines] == [json.loads(x) for x in cli(capsys, "replay", str(FLEX), "--json")[1].splitlines()]


def test_states_are_cached_at_the_start_of_every_quarter(flex):
    """states[i] is the state the player decided quarter i on: replaying the log up to i gives its hash."""
    from engine.state import state_hash

    assert len(flex.states) == flex.quarters + 1
    assert state_hash(flex.states[0]) == flex.game.initial_hash
    assert [state_hash(s) for s in flex.states[1:]] == load_run(FLEX).hashes
    view = flex.game_at(7)
    assert view is flex.game_at(7)  # cached: a seek builds nothing twice
    assert len(view.reports) == 7 and view.state.quarter == 7 and flex.game.state.quarter == 20


def test_first_divergence_is_the_first_quarter_whose_decisions_differ(flex):
    ghost = open_ghost(flex, vs_bot="passive")
    expected = next(i for i, (a, b) in enumerate(zip(flex.game.log, ghost.game.log)) if a != b)
    assert first_divergence(flex, ghost) == expected
    assert first_divergence(flex, open_ghost(flex, vs_bot="flex")) is None


def test_a_branch_at_every_quarter_verifies_and_replays_to_the_parents_final_hash(flex, tmp_path):
    final = load_run(FLEX).hashes[-1]
    for i in range(flex.quarters):
        run, _ = branch_run(flex, i, player="student")
        path = save_run(run, tmp_path / f"branch-{i}.json")
        v = verify_run(path)
        assert v.ok, (i, v.reason)
        assert f"taking over at {flex.label(i)}" in v.reason
        loaded = load_run(path)
        assert loaded.parent["quarters_before"] == i and loaded.parent["final_hash"] == final
        assert loaded.hashes == load_run(FLEX).hashes[:i]
        _, _, game = resume_game(path)
        for actions in load_run(FLEX).log[i:]:
            game.play(actions)
        assert game.reports[-1].state_hash == final, i


def test_branch_command_then_continue_keeps_the_parent(capsys, tmp_path):
    from game.app.session import Session

    out = tmp_path / "branch.json"
    code, text, _ = cli(capsys, "branch", str(FLEX), "--at", "2026Q2", "--out", str(out))
    assert code == 0 and "play --load" in text
    s = Session.load(out, save_dir=tmp_path)
    assert len(s.reports) == 5 and s.parent["at"] == "2026Q2"
    s.end_quarter()  # the player plays on: the parent block is kept on every save
    run = load_run(out)
    assert run.parent == load_run(out).parent and run.parent["at"] == "2026Q2" and len(run.quarters) == 6
    code, text, _ = cli(capsys, "verify", str(out))
    assert code == 0 and "taking over at 2026Q2" in text


@pytest.mark.parametrize("at", ["2040Q1", "2024Q4", "soon"])
def test_a_quarter_outside_the_run_is_one_line(capsys, tmp_path, at):
    line = one_line_error(*cli(capsys, "branch", str(FLEX), "--at", at, "--out", str(tmp_path / "b.json"))[::2])
    assert "valid: 2025Q1 to 2029Q4" in line
    assert not (tmp_path / "b.json").exists()


def test_a_ghost_on_another_seed_is_one_line(capsys):
    line = one_line_error(*cli(capsys, "replay", str(FLEX), "--vs", str(PASSIVE_SEED1), "--json")[::2])
    assert "same scenario and seed" in line


def test_replay_needs_one_source_and_one_ghost(capsys):
    one_line_error(*cli(capsys, "replay", "--json")[::2])
    one_line_error(*cli(capsys, "replay", str(FLEX), "--vs", str(FLEX), "--vs-bot", "passive", "--json")[::2])
    one_line_error(*cli(capsys, "replay", str(FLEX), "--bot", "flex", "--json")[::2])


def _tamper(tmp_path: Path, change) -> Path:
    src = tmp_path / "branch.json"
    if not src.exists():
        assert main(["branch", str(FLEX), "--at", "2026Q3", "--out", str(src)]) == 0
    data = json.loads(src.read_text())
    change(data)
    out = tmp_path / "tampered.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize("change,field", [
    (lambda d: d["parent"]["actions"][2].append({"kind": "lease_gpus", "gen": "h100", "count": 8, "term_quarters": 4}), "parent.actions"),
    (lambda d: d["parent"].update(state_hash="0" * 64), "parent.state_hash"),
    (lambda d: d["parent"].update(seed=4), "parent"),
    (lambda d: d["parent"].update(at="2026Q1"), "parent.at"),
    (lambda d: d["parent"].update(quarters_before="6"), "parent.quarters_before"),
    (lambda d: d["parent"].pop("final_hash"), "parent.final_hash"),
])
def test_a_tampered_parent_is_refused_in_one_line(capsys, tmp_path, change, field):
    path = _tamper(tmp_path, change)
    line = one_line_error(*cli(capsys, "verify", str(path))[::2])
    assert f"field '{field}'" in line
    line = one_line_error(*cli(capsys, "replay", str(path), "--json")[::2])
    assert f"field '{field}'" in line


def test_a_run_without_parent_keeps_its_format(tmp_path):
    """Backward compatible: an existing run file reads and writes back to the same JSON, with no 'parent' key."""
    run = load_run(FLEX)
    assert run.parent is None and "parent" not in run.to_json()
    out = save_run(run, tmp_path / "same.json")
    assert json.loads(out.read_text()) == json.loads(FLEX.read_text())
    assert verify_run(out).ok


def test_watch_a_bot_plays_it_once(capsys):
    rep = scenario_bot_replay("neocloud-2025", 3, "flex")
    assert rep.name == "bot:flex" and rep.quarters == 20
    assert [r.state_hash for r in rep.game.reports] == load_run(FLEX).hashes


@pytest.fixture()
def finished_branch(flex, tmp_path) -> Path:
    """A finished branch of the golden run: taken over at 2026Q2, then nothing decided (so another final state)."""
    from game.runfile import run_from_game

    _, game = branch_run(flex, 5, player="student")
    while not game.over:
        game.play([])
    run = run_from_game(game, flex.loaded, player="student", parent=flex.parent_block(5))
    path = save_run(run, tmp_path / "student-branch.json")
    assert verify_run(path).ok and game.reports[-1].state_hash != flex.final_hash()
    return path


def test_the_leaderboard_labels_a_branch(capsys, tmp_path, finished_branch):
    db = str(tmp_path / "board.sqlite3")
    code, _, err = cli(capsys, "leaderboard", "add", "--db", db, str(FLEX), str(finished_branch))
    assert code == 0, err
    code, out, _ = cli(capsys, "leaderboard", "show", "--db", db)
    lines = out.splitlines()
    assert any("student" in x and x.endswith("[branch of bot:flex at 2026Q2]") for x in lines), out
    assert any("bot:flex" in x and "[branch" not in x for x in lines), out
    _, out, _ = cli(capsys, "leaderboard", "show", "--db", db, "--json")
    assert sorted(r["branch"] for r in json.loads(out)) == ["", "branch of bot:flex at 2026Q2"]


@pytest.mark.parametrize("branches", ["count", "refuse"])
def test_a_competition_decides_whether_branches_count(capsys, tmp_path, finished_branch, branches):
    comp = tmp_path / "class.toml"
    comp.write_text(f'id = "econ-1"\ntitle = "Econ 1"\nscenario = "neocloud-2025"\nseed = 3\npolicy = "best-of-2"\nbranches = "{branches}"\n')
    db = str(tmp_path / "board.sqlite3")
    code, out, err = cli(capsys, "leaderboard", "add", "--db", db, "--competition", str(comp), str(finished_branch))
    if branches == "count":
        assert code == 0, err
        _, out, _ = cli(capsys, "leaderboard", "show", "--db", db, "--competition", str(comp))
        assert "[branch of bot:flex at 2026Q2]" in out
    else:
        assert code != 0 and "does not count branches" in out + err
        _, out, _ = cli(capsys, "leaderboard", "show", "--db", db, "--competition", str(comp))
        assert "no verified submissions" in out and "branches do not count" in out


def test_a_competition_refuses_an_unknown_branches_policy(capsys, tmp_path):
    comp = tmp_path / "class.toml"
    comp.write_text('id = "econ-1"\ntitle = "Econ 1"\nscenario = "neocloud-2025"\nseed = 3\nbranches = "sometimes"\n')
    line = one_line_error(*cli(capsys, "leaderboard", "show", "--db", str(tmp_path / "b.sqlite3"), "--competition", str(comp))[::2])
    assert "branches" in line


def test_a_version_1_leaderboard_gains_the_branch_column(tmp_path):
    """Schema 2 adds ``branch``: a file written by the previous tycoon opens, keeps its rows, labels them ''."""
    import sqlite3

    from game.leaderboard import _SCHEMA, SCHEMA_VERSION, Store

    db = tmp_path / "v1.sqlite3"
    v1 = "\n".join(x for x in _SCHEMA.splitlines() if not x.strip().startswith("branch "))
    with sqlite3.connect(db) as c:
        c.executescript(v1)
        c.execute("INSERT INTO schema_version (version) VALUES (1)")
        c.execute("INSERT INTO runs (scenario, scenario_sha256, ruleset, seed, player, archetype, score_cents, verdict, quarters_played, "
                  "bankrupt, final_hash, file_sha256, source, added_at, scorecard, scorecard_csv) "
                  "VALUES ('s', 'x', 'r', 1, 'ada', 'neocloud', 5, 'v', 20, 0, 'h', 'f', 'src', 't', '[]', '')")
    store = Store(db)
    try:
        assert store.schema_version() == SCHEMA_VERSION == 2
        [(rank, e)] = store.entries()
        assert e.player == "ada" and e.branch == ""
    finally:
        store.close()
    with Store(db) as again:  # opening again migrates nothing twice
        assert again.schema_version() == 2 and [e.player for _, e in again.entries()] == ["ada"]


_GOLDENS = sorted(GOLDEN.glob("*.json"))
_OPENED: dict[Path, object] = {}


def _golden(path: Path):
    if path not in _OPENED:
        _OPENED[path] = open_run(path)
    return _OPENED[path]




@settings(max_examples=12, deadline=None, derandomize=True)
@given(data=st.data())
def test_any_golden_run_branches_at_any_quarter_and_replays_to_its_final_hash(data):
    """Every archetype (neocloud, inference, project finance): the cached state a branch starts
    from is the state the parent decided on, so the parent's remaining decisions reproduce it."""
    rep = _golden(data.draw(st.sampled_from(_GOLDENS)))
    i = data.draw(st.integers(0, rep.quarters - 1))
    _, game = branch_run(rep, i)
    for actions in rep.game.log[i:]:
        game.play(actions)
    assert [r.state_hash for r in game.reports] == [r.state_hash for r in rep.game.reports]
    from engine.state import state_hash

    # playing the branch on left the replay's cached state as it was
    assert state_hash(rep.states[i]) == (rep.game.reports[i - 1].state_hash if i else rep.game.initial_hash)


def test_replay_opens_the_app_in_replay_mode(capsys, monkeypatch):
    seen = {}

    def run(app, *a, **k):  # the app's event loop is not started here: tests/test_app_replay.py drives it
        seen.update(replay=app.replay, ghost=app.ghost, player=app.start_player)

    monkeypatch.setattr("game.app.app.TycoonApp.run", run)
    code, _, err = cli(capsys, "replay", str(FLEX), "--vs", str(FLEX), "--player", "ada")
    assert code == 0, err
    assert seen["replay"].quarters == 20 and seen["ghost"].name == "bot:flex" and seen["player"] == "ada"
    assert first_divergence(seen["replay"], seen["ghost"]) is None


def test_a_branch_never_overwrites_its_parent(capsys, tmp_path):
    parent = tmp_path / "run.json"
    parent.write_bytes(FLEX.read_bytes())
    line = one_line_error(*cli(capsys, "branch", str(parent), "--at", "2026Q2", "--out", str(parent))[::2])
    assert "--out" in line and parent.read_bytes() == FLEX.read_bytes()
