"""Classroom server load test (issue 13; pytest-benchmark, skipped by default, run with --benchmark-only).

300 submissions from 30 concurrent clients to one `tycoon board serve` (two verification
workers): 270 distinct run files and 30 re-submissions of files already sent. None is lost, every
duplicate is refused, every distinct one is verified and stored. Recorded in ``extra_info``:
throughput (submissions a second, wall clock) and the p50/p95 latency of an accepted submission
(request to ``201``, verification included). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="the server extra is not installed")

from game.classroom.client import submit_bytes  # noqa: E402
from game.classroom.db import Database  # noqa: E402
from tests.classroom_helpers import SCEN, SEED, ServerProcess, make_run, renamed  # noqa: E402

CLIENTS = 30
DISTINCT = 270
DUPLICATES = 30
BOTS = ("passive", "flex", "barbell", "all-in")


def test_bench_300_submissions_from_30_clients(benchmark, db_url, tmp_path):
    base = [make_run(tmp_path, f"base-{b}", b, b) for b in BOTS]
    files = [renamed(base[i % len(base)], tmp_path / f"s{i:03d}.json", f"student-{i:03d}") for i in range(DISTINCT)]
    bodies = [f.read_bytes() for f in files]
    # each client sends 10: nine of its own and, for the first thirty slots, one file another client also sends
    plan: list[list[bytes]] = [[] for _ in range(CLIENTS)]
    for i, body in enumerate(bodies):
        plan[i % CLIENTS].append(body)
    for k in range(DUPLICATES):
        plan[k].append(bodies[(k * 7 + 3) % DISTINCT])
    server = ServerProcess(db_url, "--rate-limit", "0", workers=2)
    results: list[tuple[int, dict, float]] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for body in plan[k]:
            t0 = time.perf_counter()
            reply = submit_bytes(server.url, body)
            with lock:
                results.append((reply.status, reply.data, time.perf_counter() - t0))

    def run() -> float:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0

    try:
        wall = benchmark.pedantic(run, rounds=1, iterations=1)
    finally:
        server.stop()
    accepted = [r for r in results if r[0] == 201]
    refused = [r for r in results if r[0] == 422]
    assert len(results) == DISTINCT + DUPLICATES
    assert len(accepted) == DISTINCT and len(refused) == DUPLICATES, {r[0] for r in results}
    assert all("duplicate" in r[1]["reason"] for r in refused)
    with Database(db_url) as db:
        assert db.queue_counts() == {"done": DISTINCT + DUPLICATES}  # none lost, none left waiting
        stored = db.entries(scenario=SCEN, seed=SEED)
    assert len(stored) == DISTINCT and len({e.player for _, e in stored}) == DISTINCT
    lat = sorted(r[2] for r in accepted)
    benchmark.extra_info.update({
        "submissions": len(results), "clients": CLIENTS, "wall_s": round(wall, 2),
        "throughput_per_s": round(len(results) / wall, 2),
        "p50_accepted_s": round(statistics.median(lat), 3),
        "p95_accepted_s": round(lat[int(0.95 * (len(lat) - 1))], 3),
    })
    print(f"\n{db_url.split(':')[0]}: {benchmark.extra_info}")


# ----------------------------------------------------------------------------- industries (issue 15)

INDUSTRY_SCEN = "neocloud-2025"  # 20 quarters
INDUSTRY_PLAYERS = {"p-barbell": "barbell", "p-all-in": "all-in", "p-flex": "flex", "p-passive": "passive"}
INDUSTRY_RIVALS = ["barbell", "flex"]


def test_bench_verify_and_rank_industry_of_6x20(benchmark, tmp_path):
    """An industry file of 6 companies (4 players, 2 bot rivals) x 20 quarters, verified as the
    server's worker does (``verify_industry_submission``: every company re-simulated, every hash
    compared, then ranked within the industry). Recorded: seconds per industry file; no target."""
    from engine.industry import Industry
    from engine.bots import make_bot
    from game.classroom.worker import verify_industry_submission
    from game.industry import industry_file, save_industry
    from scenarios import load_scenario

    loaded = load_scenario(INDUSTRY_SCEN)
    ind = Industry(loaded.scenario, SEED, [(p, None) for p in INDUSTRY_PLAYERS] + [(b, b) for b in INDUSTRY_RIVALS])
    drivers = {**{p: make_bot(b) for p, b in INDUSTRY_PLAYERS.items()}, **{b: make_bot(b) for b in INDUSTRY_RIVALS}}
    while not ind.over:
        ind.play({n: drivers[n].act(ind.observation(n)) for n in ind.active()})
    body = save_industry(industry_file(ind, loaded), tmp_path / "industry.json").read_bytes()
    assert len(ind.quarters) == 20

    out = benchmark.pedantic(verify_industry_submission, args=(body, None, None), rounds=3, iterations=1)
    assert out.ok, out.reason
    assert len(out.record["companies"]) == 6 and sorted(c["rank"] for c in out.record["companies"])[0] == 1
    benchmark.extra_info.update({"companies": 6, "quarters": 20, "file_bytes": len(body)})
