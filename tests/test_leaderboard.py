"""The leaderboard store: only verified runs go in, ranked per board, exported for grading; the
store survives a crash mid-write and two ``add`` processes at once (issue 6, "Leaderboard")."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import RULESET
from engine.bots import make_bot, run_bot
from engine.game import Game
from engine.money import to_usd
from game.cli import main
from game.errors import UserError
from game.headless import quarter_summary
from game.leaderboard import SCHEMA_VERSION, Store, add_runs, default_db_path, verify_many
from game.runfile import run_from_game, save_run
from scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCEN = "tutorial"  # 8 quarters: quick to verify


def _make_run(folder: Path, name: str, bot: str, seed: int, player: str, scenario: str = SCEN, quarters: int | None = None,
              competition: str | None = None) -> Path:
    loaded = load_scenario(scenario)
    game = run_bot(Game(loaded.scenario, seed), make_bot(bot), quarters)
    return save_run(run_from_game(game, loaded, player=player, bot=bot, competition=competition), folder / f"{name}.json")


def _edit(src: Path, dst: Path, change) -> Path:
    data = json.loads(src.read_text())
    change(data)
    dst.write_text(json.dumps(data, indent=1, sort_keys=True))
    return dst


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    out = {
        "ada-barbell-1": _make_run(d, "ada-barbell-1", "barbell", 1, "ada"),
        "bo-all-in-1": _make_run(d, "bo-all-in-1", "all-in", 1, "bo"),
        "cy-passive-1": _make_run(d, "cy-passive-1", "passive", 1, "cy"),
        "ada-barbell-2": _make_run(d, "ada-barbell-2", "barbell", 2, "ada"),
        "unfinished": _make_run(d, "unfinished", "barbell", 1, "dee", quarters=3),
    }
    src = out["bo-all-in-1"]

    def drop_actions(data):  # the player "replays" a better quarter than they played
        q = next(i for i, q in enumerate(data["quarters"]) if q["actions"])
        data["quarters"][q]["actions"] = []

    def bump_hash(data):
        data["quarters"][4]["state_hash"] = "0" * 64

    def bump_score(data):
        data["final"]["score"] += 1_000_000

    def bump_verdict(data):  # a verdict the game did not earn, whichever it earned
        data["final"]["verdict"] = "Value destroyed" if data["final"]["verdict"] == "Legend" else "Legend"

    def other_version(data):
        data["scenario_sha256"] = "f" * 64

    def other_ruleset(data):
        data["ruleset"] = "1999.1.1"

    for name, change in [("tampered-actions", drop_actions), ("tampered-hash", bump_hash), ("tampered-score", bump_score),
                         ("tampered-verdict", bump_verdict), ("other-version", other_version), ("other-ruleset", other_ruleset)]:
        out[name] = _edit(src, d / f"{name}.json", change)
    out["not-json"] = d / "not-json.json"
    out["not-json"].write_text("{ truncated")
    return out


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "lb.sqlite3"


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT player, seed, score_cents, competition FROM runs ORDER BY id").fetchall()


# ----------------------------------------------------------------------------- add


def test_add_stores_verified_runs_and_refuses_the_rest_with_reasons(runs, db, capsys):
    paths = [str(p) for p in runs.values()]
    rc = main(["leaderboard", "add", "--db", str(db), *paths])
    out = capsys.readouterr().out
    assert rc == 1  # some were refused
    stored = {r[0] for r in _rows(db)}
    assert stored == {"ada", "bo", "cy"} and len(_rows(db)) == 4
    lines = {Path(line.split()[1].rstrip(":")).stem: line for line in out.splitlines() if line.startswith(("added", "REFUSED"))}
    for name in ("ada-barbell-1", "bo-all-in-1", "cy-passive-1", "ada-barbell-2"):
        assert lines[name].startswith("added")
    assert "state hash differs from quarter" in lines["tampered-actions"]
    assert "state hash differs from quarter 2026Q1" in lines["tampered-hash"]
    assert "claims a score of" in lines["tampered-score"]
    assert "verdict" in lines["tampered-verdict"] and ("'Legend'" in lines["tampered-verdict"] or "'Value destroyed'" in lines["tampered-verdict"])
    assert "another version of scenario 'tutorial'" in lines["other-version"]
    assert "ruleset 1999.1.1" in lines["other-ruleset"]
    assert "unfinished: 3 of 8 quarters" in lines["unfinished"]
    assert "not valid JSON" in lines["not-json"]
    assert "4 added, 8 refused" in out


def test_stored_rows_keep_the_runs_metadata(runs, db):
    with Store(db) as store:
        [o] = add_runs(store, [str(runs["ada-barbell-1"])], workers=1)
        assert o.ok and o.entry.id == 1
        [(rank, e)] = store.entries()
    loaded = load_scenario(SCEN)
    data = json.loads(runs["ada-barbell-1"].read_text())
    assert rank == 1
    assert (e.scenario, e.scenario_sha256, e.ruleset, e.seed, e.player, e.archetype, e.bot) == (
        SCEN, loaded.sha256, RULESET, 1, "ada", "neocloud", "barbell")
    assert to_usd(e.score_cents) == data["final"]["score"] and e.verdict == data["final"]["verdict"]
    assert e.quarters_played == 8 and e.final_hash == data["quarters"][-1]["state_hash"]
    assert len(e.scorecard) == 8 and e.scorecard[0][0] == "2025Q1"


def test_duplicates_are_refused(runs, db, tmp_path):
    a = runs["ada-barbell-1"]
    # same bytes, another name; and same game re-saved (other bytes, same player and final state)
    copy = tmp_path / "copy.json"
    copy.write_bytes(a.read_bytes())
    resaved = _edit(a, tmp_path / "resaved.json", lambda d: d.update(bot=None))
    with Store(db) as store:
        first = add_runs(store, [str(a), str(copy)], workers=1)
        assert first[0].ok and not first[1].ok and "already on the leaderboard" in first[1].reason
        again = add_runs(store, [str(a), str(resaved)], workers=1)
        assert [o.ok for o in again] == [False, False]
        assert "this run file is already" in again[0].reason
        assert "'ada' already has this game (same final state)" in again[1].reason
        # the same game by another player is not a duplicate, but the instructor is told
        other = _edit(a, tmp_path / "eve.json", lambda d: d.update(player="eve"))
        [o] = add_runs(store, [str(other)], workers=1)
        assert o.ok and "the same game (identical final state) as ada's" in o.note
        assert store.count() == 2


def test_verification_runs_in_a_process_pool_and_keeps_the_order(runs):
    paths = [str(runs[k]) for k in ("cy-passive-1", "tampered-score", "ada-barbell-1", "bo-all-in-1")]
    outcomes = verify_many(paths, workers=2)
    assert [o.path for o in outcomes] == paths
    assert [o.ok for o in outcomes] == [True, False, True, True]
    serial = verify_many(paths, workers=1)
    assert [(o.ok, o.reason, o.entry and o.entry.final_hash) for o in outcomes] == [
        (o.ok, o.reason, o.entry and o.entry.final_hash) for o in serial]


# ----------------------------------------------------------------------------- show and export


@pytest.fixture
def filled(runs, db) -> Path:
    with Store(db) as store:
        add_runs(store, [str(runs[k]) for k in ("ada-barbell-1", "bo-all-in-1", "cy-passive-1", "ada-barbell-2")], workers=1)
    return db


def test_show_ranks_each_board(filled, capsys):
    assert main(["leaderboard", "show", "--db", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "tutorial  seed 1" in out and "tutorial  seed 2" in out and "(3 runs)" in out and "(1 runs)" in out
    main(["leaderboard", "show", "--db", str(filled), "--json", "--seed", "1"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in rows] == [1, 1, 1]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows == sorted(rows, key=lambda r: -r["score"])
    main(["leaderboard", "show", "--db", str(filled), "--json", "--scenario", "deflation"])
    assert json.loads(capsys.readouterr().out) == []
    main(["leaderboard", "show", "--db", str(filled), "--seed", "1", "--limit", "1"])
    out = capsys.readouterr().out
    assert "and 2 more" in out


def test_placement_for_the_apps_end_screen(filled):
    with Store(filled) as store:
        [(_, best), *_] = store.entries(seed=1)
        board = best.board
        assert store.placement(*board, best.score_cents + 1) == (1, 3)
        assert store.placement(*board, best.score_cents) == (1, 3)
        assert store.placement(*board, -1) == (4, 3)
        assert store.placement("tutorial", "x" * 64, RULESET, 1, 5) == (1, 0)


def test_export_writes_rows_and_per_quarter_scorecards(filled, tmp_path, runs):
    out = tmp_path / "grades" / "class.csv"
    assert main(["leaderboard", "export", "--db", str(filled), "--csv", str(out)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    assert {"rank", "player", "score_usd", "verdict", "quarters_played", "q01_revenue", "q08_gross_margin",
            "q08_utilization", "q08_dscr", "q08_score"} <= set(rows[0])
    ada1 = next(r for r in rows if r["player"] == "ada" and r["seed"] == "1")
    loaded = load_scenario(SCEN)
    game = run_bot(Game(loaded.scenario, 1), make_bot("barbell"))
    want = [quarter_summary(r) for r in game.reports]
    for i, q in enumerate(want, 1):
        assert ada1[f"q{i:02d}_quarter"] == q["quarter"]
        assert float(ada1[f"q{i:02d}_revenue"]) == q["revenue"]
        assert float(ada1[f"q{i:02d}_score"]) == q["score"]
        assert ada1[f"q{i:02d}_dscr"] == ("" if q["dscr"] is None else str(q["dscr"]))
    assert float(ada1["score_usd"]) == want[-1]["score"]


# ----------------------------------------------------------------------------- the store itself


def test_the_store_is_created_on_first_use_with_a_schema_version(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))
    path = default_db_path()
    assert path == tmp_path / "data" / "leaderboard.sqlite3" and not path.exists()
    assert main(["leaderboard", "show"]) == 0
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_or_a_non_database_is_a_user_error(tmp_path, capsys):
    newer = tmp_path / "newer.sqlite3"
    Store(newer).close()
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(UserError, match="schema version 99 was written by a newer tycoon"):
        Store(newer)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    assert main(["leaderboard", "show", "--db", str(junk)]) == 2
    assert "not a leaderboard database" in capsys.readouterr().err


def test_an_exception_mid_batch_rolls_the_whole_batch_back(runs, db, monkeypatch):
    with Store(db) as store:
        add_runs(store, [str(runs["cy-passive-1"])], workers=1)
        outcomes = verify_many([str(runs[k]) for k in ("ada-barbell-1", "bo-all-in-1", "ada-barbell-2")], workers=1)
        real = store._insert_one
        calls = []

        def failing(c, e, added_at):
            calls.append(e.player)
            if len(calls) == 2:
                raise RuntimeError("disk on fire")
            return real(c, e, added_at)

        monkeypatch.setattr(store, "_insert_one", failing)
        with pytest.raises(RuntimeError):
            store.add(outcomes)
        assert store.count() == 1  # the first insert of the batch is gone too
    with Store(db) as store:
        assert store.count() == 1
        assert [o.ok for o in add_runs(store, [str(runs["ada-barbell-1"])], workers=1)] == [True]


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from game.leaderboard import Store, verify_many
    store = Store(sys.argv[1])
    outcomes = verify_many(sys.argv[2:], workers=1)
    real = store._insert_one
    def slow(c, e, added_at):
        rid = real(c, e, added_at)
        print("inserted", rid, flush=True)
        time.sleep(60)  # killed here, mid-transaction
        return rid
    store._insert_one = slow
    store.add(outcomes)
""")


def test_a_process_killed_mid_write_leaves_the_store_consistent(runs, db):
    with Store(db) as store:
        add_runs(store, [str(runs["cy-passive-1"])], workers=1)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(db), str(runs["ada-barbell-1"]), str(runs["bo-all-in-1"])],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert proc.stdout.readline().startswith("inserted")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in _rows(db)] == ["cy"]
    with Store(db) as store:  # and it takes the next batch
        assert all(o.ok for o in add_runs(store, [str(runs["ada-barbell-1"]), str(runs["bo-all-in-1"])], workers=1))
        assert store.count() == 3


def test_two_add_processes_at_once_both_succeed(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    a = [str(_make_run(folder, f"a{s}", "barbell", s, f"a{s}")) for s in range(6)]
    b = [str(_make_run(folder, f"b{s}", "all-in", s, f"b{s}")) for s in range(6)]
    db = tmp_path / "shared.sqlite3"  # neither process finds it: both create it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "game.cli", "leaderboard", "add", "--db", str(db), "--workers", "1"]
    procs = [subprocess.Popen(cmd + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for paths in (a, b)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, out + err
        assert "locked" not in err
    assert sorted(r[0] for r in _rows(db)) == sorted([f"a{s}" for s in range(6)] + [f"b{s}" for s in range(6)])


# ----------------------------------------------------------------------------- competitions


def _competition(tmp_path, policy: str, seed: int = 1, scenario: str = SCEN) -> Path:
    p = tmp_path / f"comp-{policy}.toml"
    p.write_text(f'id = "intro"\ntitle = "Intro class"\nscenario = "{scenario}"\nseed = {seed}\n'
                 f'policy = "{policy}"\nnote = "Play the tutorial."\n')
    return p


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[str]:
    """Attempts in the order the class sent them; ada improves, bo gets worse."""
    d = tmp_path_factory.mktemp("submissions")
    return [str(p) for p in (
        _make_run(d, "01-ada", "passive", 1, "ada"),
        _make_run(d, "02-bo", "barbell", 1, "bo"),
        _make_run(d, "03-ada", "barbell", 1, "ada", competition="intro"),
        _make_run(d, "04-bo", "passive", 1, "bo"),
        _make_run(d, "05-cy", "all-in", 1, "cy"),
        _make_run(d, "06-dee-wrong-seed", "barbell", 2, "dee"),
        _make_run(d, "07-eve-wrong-scenario", "barbell", 1, "eve", scenario="deflation"),
        _make_run(d, "08-fay-other-class", "barbell", 1, "fay", competition="another-class"),
    )]


def _expected_ranking(submissions: list[str], policy: str) -> list[tuple[str, int]]:
    """The standings the policy implies, from the runs' own verified scores: the first attempt of
    each player, or the best of the first two (ties: the earlier submission ranks first)."""
    from game.runfile import load_run

    attempts: dict[str, list[tuple[float, int]]] = {}
    order = 0
    for path in submissions[:5]:  # the five that belong to this class
        run = load_run(Path(path))
        attempts.setdefault(run.player, []).append((run.final["score"], order))
        order += 1
    counted = {}
    for player, tries in attempts.items():
        pool = tries[:1] if policy == "first" else tries[:2]
        best = max(pool, key=lambda t: (t[0], -t[1]))
        counted[player] = (best[0], best[1], pool.index(best) + 1)
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [(player, attempt) for player, (_, _, attempt) in ranked]


@pytest.mark.parametrize("policy", ["first", "best-of-2"])
def test_a_class_is_verified_and_ranked_by_one_command(tmp_path, submissions, policy, capsys):
    ranking = _expected_ranking(submissions, policy)
    assert len(ranking) == 3
    comp = _competition(tmp_path, policy)
    db = tmp_path / "class.sqlite3"
    rc = main(["leaderboard", "add", "--db", str(db), "--competition", str(comp), "--json", *submissions])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert len(doc["added"]) == 5
    refused = {Path(r["path"]).stem: r["reason"] for r in doc["refused"]}
    assert "seed 2; competition" in refused["06-dee-wrong-seed"]
    assert "scenario 'deflation'" in refused["07-eve-wrong-scenario"]
    assert "competition 'another-class'" in refused["08-fay-other-class"]
    got = [(s["player"], s["counted_attempt"]) for s in doc["standings"]]
    assert got == ranking
    assert [s["rank"] for s in doc["standings"]] == sorted(s["rank"] for s in doc["standings"])
    # show and export apply the same policy; the open board is untouched
    main(["leaderboard", "show", "--db", str(db), "--competition", str(comp), "--json"])
    assert [(s["player"], s["counted_attempt"]) for s in json.loads(capsys.readouterr().out)["standings"]] == ranking
    out = tmp_path / "gradebook.csv"
    main(["leaderboard", "export", "--db", str(db), "--competition", str(comp), "--csv", str(out)])
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["player"], int(r["counted_attempt"])) for r in rows] == ranking
    assert all(r["competition"] == "intro" and r["attempts"] == "2" for r in rows if r["player"] != "cy")
    main(["leaderboard", "show", "--db", str(db), "--json"])
    assert json.loads(capsys.readouterr().out) == []


def test_a_bad_competition_file_is_a_user_error(tmp_path, submissions, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\ntitle = "t"\nscenario = "tutorial"\nseed = 1\npolicy = "best of 3"\n')
    assert main(["leaderboard", "add", "--db", str(tmp_path / "x.sqlite3"), "--competition", str(bad), submissions[0]]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "field policy" in err
