"""Restart and crash (issue 13): kill `tycoon board serve` with SIGKILL while runs wait in its queue
and one is being verified; restart it; every acknowledged run is on the board and every queued one
gets verified (the one cut off mid-verification is taken again when its lease runs out).
The same test on SQLite and on PostgreSQL; a handful of runs so that CI stays fast."""

from __future__ import annotations

import threading
import time
import urllib.request
import json

import pytest

pytest.importorskip("uvicorn", reason="the server extra is not installed")

from game.classroom.client import submit_bytes  # noqa: E402
from game.classroom.db import Database  # noqa: E402
from game.errors import UserError  # noqa: E402
from tests.classroom_helpers import SCEN, SEED, ServerProcess, make_run, renamed  # noqa: E402

N_RUNS = 6


def _health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/health", timeout=10) as r:
        return json.loads(r.read())


def test_kill_mid_queue_then_restart_loses_nothing(db_url, tmp_path):
    base = [make_run(tmp_path, "a", "flex", "p0"), make_run(tmp_path, "b", "all-in", "p1")]
    runs = [renamed(base[i % 2], tmp_path / f"s{i}.json", f"student-{i}") for i in range(N_RUNS)]
    server = ServerProcess(db_url, "--lease", "2", "--rate-limit", "0", workers=1)
    acked: list[str] = []
    lock = threading.Lock()

    def submit(path) -> None:
        try:
            reply = submit_bytes(server.url, path.read_bytes())
        except UserError:  # the server died under this request: no acknowledgement
            return
        if reply.status == 201:
            with lock:
                acked.append(reply.data["player"])

    threads = [threading.Thread(target=submit, args=(p,)) for p in runs]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while not acked and time.monotonic() < deadline:
            time.sleep(0.02)
        assert acked, "no submission was acknowledged"
        with Database(db_url) as db:
            before = db.queue_counts()
            with db.read() as c:
                running = [r[0] for r in c.execute("SELECT id FROM jobs WHERE status = 'running'").fetchall()]
        server.kill()
    finally:
        server.kill()
        for t in threads:
            t.join(60)
    acked_at_kill = set(acked)
    assert before.get("queued", 0) + before.get("running", 0) >= 1, f"nothing was waiting when the server died: {before}"

    restarted = ServerProcess(db_url, "--lease", "2", "--rate-limit", "0", workers=1)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            q = _health(restarted.url)["queue"]
            if not q.get("queued") and not q.get("running"):
                break
            time.sleep(0.3)
        with Database(db_url) as db:
            counts = db.queue_counts()
            stored = {e.player for _, e in db.entries(scenario=SCEN, seed=SEED)}
            with db.read() as c:
                jobs = c.execute("SELECT id, status, accepted, tries FROM jobs ORDER BY id").fetchall()
    finally:
        restarted.stop()
    assert set(counts) == {"done"}, counts  # every queued job was verified
    assert acked_at_kill <= stored  # every acknowledged run survived the crash
    assert all(j[2] == 1 for j in jobs), jobs  # every job that made it into the queue verified and was stored
    assert len(stored) == len(jobs)
    for job_id in running:  # the job cut off mid-verification was taken again after its lease
        assert [j[3] for j in jobs if j[0] == job_id][0] >= 2


def test_two_servers_share_one_postgresql(request, tmp_path):
    """A course scaled out: two `board serve` processes on one PostgreSQL share the boards and the
    queue; submissions sent to either are all verified once and shown by both."""
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    base = [make_run(tmp_path, "a", "flex", "p0"), make_run(tmp_path, "b", "barbell", "p1")]
    runs = [renamed(base[i % 2], tmp_path / f"s{i}.json", f"student-{i}") for i in range(8)]
    servers = [ServerProcess(url, "--rate-limit", "0", workers=1) for _ in range(2)]
    replies: list = []
    try:
        threads = [threading.Thread(target=lambda i=i, p=p: replies.append(submit_bytes(servers[i % 2].url, p.read_bytes())))
                   for i, p in enumerate(runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(r.status for r in replies) == [201] * len(runs)
        views = []
        for s in servers:
            with urllib.request.urlopen(f"{s.url}/api/standings?scenario={SCEN}&seed={SEED}", timeout=10) as r:
                views.append(sorted(e["player"] for e in json.loads(r.read())["entries"]))
        assert views[0] == views[1] == sorted(f"student-{i}" for i in range(len(runs)))
    finally:
        for s in servers:
            s.stop()
    with Database(url) as db:
        assert db.queue_counts() == {"done": len(runs)}
