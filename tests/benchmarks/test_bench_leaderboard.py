"""Leaderboard benchmarks (pytest-benchmark; skipped by default, run with --benchmark-only).

- a class of 200 run files (bots across seeds, some tampered, some of another scenario or of
  another version of it) verified and ranked by one ``tycoon leaderboard add`` command;
- the same class submitted to a competition (one seed, best-of-2), off-competition runs refused;
- ``leaderboard show`` and ``export`` on a store of 10,000 runs (rows inserted directly);
- issue 10's targets: ``leaderboard show`` of 10,000 runs each on its own seed (10,000 boards, as
  "Random seed" produces) under 1 s, and ``tycoon verify`` of the 200-file class under 30 s on two
  worker processes.
"""

from __future__ import annotations

import json
import random
import resource
from pathlib import Path

import pytest

from engine import RULESET
from engine.bots import make_bot, run_bot
from engine.game import Game
from game.cli import main
from game.leaderboard import Entry, Store
from game.runfile import run_from_game, save_run
from scenarios import load_scenario

BOTS = ("passive", "all-in", "flex", "barbell")


class _NoSign:
    def __init__(self, name: str) -> None:
        self.base = make_bot(name)
        self.name = f"{name}-nosign"

    def act(self, obs):
        return [a for a in self.base.act(obs) if a["kind"] != "sign_contract"]


def _tamper(src: Path, dst: Path, how: int) -> Path:
    data = json.loads(src.read_text())
    if how == 0:
        data["final"]["score"] = round(data["final"]["score"] * 1.5 + 1, 2)
    elif how == 1:
        data["quarters"][len(data["quarters"]) // 2]["state_hash"] = "0" * 64
    elif how == 2:
        data["quarters"][1]["actions"] = [{"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 4}]
    else:
        data["scenario_sha256"] = "a" * 64
    data["player"] = f"cheat-{dst.stem}"
    dst.write_text(json.dumps(data, indent=1, sort_keys=True))
    return dst


@pytest.fixture(scope="module")
def open_class(tmp_path_factory) -> list[str]:
    """200 files: 4 bots x 40 seeds of neocloud-2025, 20 tampered, 10 of another scenario, 10 of another version."""
    d = tmp_path_factory.mktemp("open-class")
    loaded = load_scenario("neocloud-2025")
    other = load_scenario("deflation")
    paths: list[Path] = []
    for seed in range(40):
        for bot in BOTS:
            game = run_bot(Game(loaded.scenario, seed), make_bot(bot))
            paths.append(save_run(run_from_game(game, loaded, player=f"s{seed:02d}-{bot}", bot=bot), d / f"s{seed:02d}-{bot}.json"))
    for i in range(10):
        game = run_bot(Game(other.scenario, i), make_bot(BOTS[i % 4]))
        paths.append(save_run(run_from_game(game, other, player=f"other-{i}"), d / f"other-{i}.json"))
    for i in range(30):
        paths.append(_tamper(paths[i * 5], d / f"tampered-{i:02d}.json", i % 3 if i < 20 else 3))
    assert len(paths) == 200
    return [str(p) for p in paths]


@pytest.fixture(scope="module")
def competition_class(tmp_path_factory) -> tuple[str, list[str]]:
    """200 submissions to one competition: 80 students x 2 attempts, 20 tampered, 10 on another
    seed, 10 of another scenario."""
    d = tmp_path_factory.mktemp("competition-class")
    comp = d / "comp.toml"
    comp.write_text('id = "bench"\ntitle = "Benchmark class"\nscenario = "neocloud-2025"\nseed = 7\npolicy = "best-of-2"\n')
    loaded = load_scenario("neocloud-2025")
    strategies = [make_bot(b) for b in BOTS] + [_NoSign("barbell"), _NoSign("all-in")]
    games = [run_bot(Game(loaded.scenario, 7), s) for s in strategies]
    paths: list[Path] = []
    for student in range(80):
        for attempt in range(2):
            game = games[(student + attempt) % len(games)]
            run = run_from_game(game, loaded, player=f"student-{student:03d}", competition="bench")
            paths.append(save_run(run, d / f"{student:03d}-{attempt}.json"))
    for i in range(20):
        paths.append(_tamper(paths[i * 4], d / f"tampered-{i:02d}.json", i % 4))
    for i in range(10):
        game = run_bot(Game(loaded.scenario, 100 + i), make_bot(BOTS[i % 4]))
        paths.append(save_run(run_from_game(game, loaded, player=f"wrong-seed-{i}"), d / f"wrong-seed-{i}.json"))
    other = load_scenario("deflation")
    for i in range(10):
        game = run_bot(Game(other.scenario, 7), make_bot(BOTS[i % 4]))
        paths.append(save_run(run_from_game(game, other, player=f"wrong-scenario-{i}"), d / f"wrong-scenario-{i}.json"))
    assert len(paths) == 200
    return str(comp), [str(p) for p in paths]


def test_bench_add_a_class_of_200_runs(benchmark, open_class, tmp_path, capsys):
    """`tycoon leaderboard add` of 200 files on two worker processes (verify + store + report)."""
    dbs = iter(tmp_path / f"db{i}.sqlite3" for i in range(100))

    def setup():
        return (["leaderboard", "add", "--db", str(next(dbs)), "--workers", "2", *open_class],), {}

    rc = benchmark.pedantic(main, setup=setup, rounds=2, iterations=1)
    out = capsys.readouterr().out
    assert rc == 1
    assert "170 added, 30 refused" in out, out[-500:]


def test_bench_verify_a_class_of_200_runs(benchmark, open_class, capsys):
    """Issue 10 item 10: `tycoon verify --workers 2` of the 200 files, under 30 s (two cores).

    The workers' CPU seconds are recorded too (``extra_info``): on a machine whose cores are busy
    with other work the wall time says little, CPU / 2 is what two free cores would take."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = benchmark.pedantic(main, args=(["verify", "--workers", "2", *open_class],), rounds=1, iterations=1)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers have been waited for
    benchmark.extra_info["workers_cpu_seconds"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    out = capsys.readouterr().out
    assert rc == 1
    assert out.count(": OK (") == 170 and out.count(": FAILED: ") == 30
    assert [ln.split(": ")[0] for ln in out.splitlines()] == open_class  # argument order
    assert benchmark.stats.stats.max < 30.0, f"verify of 200 runs took {benchmark.stats.stats.max:.1f}s (target 30 s)"


def test_bench_add_a_competition_of_200_submissions(benchmark, competition_class, tmp_path, capsys):
    comp, paths = competition_class
    dbs = iter(tmp_path / f"db{i}.sqlite3" for i in range(100))

    def setup():
        return (["leaderboard", "add", "--db", str(next(dbs)), "--competition", comp, *paths],), {}

    rc = benchmark.pedantic(main, setup=setup, rounds=2, iterations=1)
    out = capsys.readouterr().out
    assert rc == 1
    assert "160 added, 40 refused" in out, out[-500:]


# ----------------------------------------------------------------------------- 10,000 runs


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> Path:
    """10,000 synthetic verified runs on the open board (5 scenarios x 20 seeds, 100 per board,
    20-quarter scorecards), plus a competition of 1,000 attempts by 500 students."""
    db = tmp_path_factory.mktemp("big") / "lb.sqlite3"
    rng = random.Random(6)
    scenarios = ["neocloud-2025", "deflation", "rate-shock", "blackwell", "abilene"]
    shas = {s: load_scenario(s).sha256 for s in scenarios}
    with Store(db) as store, store.transaction() as c:
        for i in range(11_000):
            comp = "bench" if i >= 10_000 else ""
            scen = "neocloud-2025" if comp else scenarios[i % 5]
            quarters = [[f"Q{q + 1:02d}", round(rng.uniform(1e6, 5e7), 2), round(rng.random(), 4), round(rng.random(), 4),
                         round(rng.uniform(0.5, 3), 3), round(rng.uniform(0, 5e8), 2)] for q in range(20)]
            e = Entry(scenario=scen, scenario_sha256=shas[scen], ruleset=RULESET, seed=7 if comp else (i // 5) % 20,
                      player=f"student-{i % 500:03d}" if comp else f"p{i:05d}", archetype="neocloud",
                      score_cents=rng.randrange(0, 10**11), verdict="Built real value", quarters_played=20, bankrupt=False,
                      final_hash=f"{i:064x}", file_sha256=f"{i:064x}", source=f"runs/{i}.json",
                      scorecard_json=json.dumps(quarters), competition=comp)
            store._insert_one(c, e, "2026-01-01T00:00:00+00:00")
        assert c.execute("SELECT COUNT(*) FROM runs WHERE competition = ''").fetchone()[0] == 10_000
    return db


def test_bench_show_10000(benchmark, big_store, capsys):
    """`leaderboard show` over every board (top 20 of each of 100 boards)."""
    assert benchmark(main, ["leaderboard", "show", "--db", str(big_store)]) == 0
    assert "(100 runs)" in capsys.readouterr().out


def test_bench_show_one_board_10000(benchmark, big_store, capsys):
    assert benchmark(main, ["leaderboard", "show", "--db", str(big_store), "--scenario", "deflation", "--seed", "3", "--limit", "0"]) == 0
    assert capsys.readouterr().out.count("\n") >= 100


def test_bench_show_competition_10000(benchmark, big_store, tmp_path, capsys):
    comp = tmp_path / "comp.toml"
    comp.write_text('id = "bench"\ntitle = "Benchmark class"\nscenario = "neocloud-2025"\nseed = 7\npolicy = "best-of-2"\n')
    assert benchmark(main, ["leaderboard", "show", "--db", str(big_store), "--competition", str(comp), "--limit", "0"]) == 0
    out = capsys.readouterr().out
    assert " 500. " in out and "attempt 1 of 2" in out


def test_bench_export_10000(benchmark, big_store, tmp_path):
    """`leaderboard export --csv` of all 10,000 rows with their 20-quarter scorecards."""
    out = tmp_path / "all.csv"
    assert benchmark(main, ["leaderboard", "export", "--db", str(big_store), "--csv", str(out)]) == 0
    assert sum(1 for _ in out.open()) == 10_001


@pytest.fixture(scope="module")
def store_of_10000_boards(tmp_path_factory) -> Path:
    """10,000 synthetic verified runs of neocloud-2025, each on its own seed (one run a board)."""
    db = tmp_path_factory.mktemp("boards") / "lb.sqlite3"
    rng = random.Random(10)
    sha = load_scenario("neocloud-2025").sha256
    with Store(db) as store, store.transaction() as c:
        for i in range(10_000):
            quarters = [[f"Q{q + 1:02d}", round(rng.uniform(1e6, 5e7), 2), round(rng.random(), 4), round(rng.random(), 4),
                         round(rng.uniform(0.5, 3), 3), round(rng.uniform(0, 5e8), 2)] for q in range(20)]
            e = Entry(scenario="neocloud-2025", scenario_sha256=sha, ruleset=RULESET, seed=rng.randrange(2**63),
                      player=f"p{i:05d}", archetype="neocloud", score_cents=rng.randrange(0, 10**11),
                      verdict="Built real value", quarters_played=20, bankrupt=False, final_hash=f"{i:064x}",
                      file_sha256=f"{i:064x}", source=f"runs/{i}.json", scorecard_json=json.dumps(quarters))
            store._insert_one(c, e, "2026-01-01T00:00:00+00:00")
    return db


def test_bench_show_10000_boards(benchmark, store_of_10000_boards, capsys):
    """Issue 10 item 9: `leaderboard show` of 10,000 runs on 10,000 boards, under 1 s (it took
    19-37 s when each board's rows were counted by rescanning every row)."""
    assert benchmark(main, ["leaderboard", "show", "--db", str(store_of_10000_boards)]) == 0
    out = capsys.readouterr().out
    assert out.count("(1 runs)") % 10_000 == 0 and "(1 runs)" in out  # every board, in each round
    assert benchmark.stats.stats.median < 1.0, f"median {benchmark.stats.stats.median:.2f}s (target 1 s)"


def test_bench_export_10000_boards(benchmark, store_of_10000_boards, tmp_path):
    out = tmp_path / "all.csv"
    assert benchmark(main, ["leaderboard", "export", "--db", str(store_of_10000_boards), "--csv", str(out)]) == 0
    assert sum(1 for _ in out.open()) == 10_001
    assert benchmark.stats.stats.median < 1.0, f"median {benchmark.stats.stats.median:.2f}s (target 1 s)"
