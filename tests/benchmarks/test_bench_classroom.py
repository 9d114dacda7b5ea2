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
from tests.test_classroom import db_url, pg_cluster  # noqa: E402,F401 - the same backends

CLIENTS = 30
DISTINCT = 270
DUPLICATES = 30
BOTS = ("passive", "flex", "barbell", "all-in")


def test_bench_300_submissions_from_30_clients(benchmark, db_url, tmp_path):  # noqa: F811 - the fixture
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
