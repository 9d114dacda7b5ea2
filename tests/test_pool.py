"""A worker killed by the system costs only its own job (issue 10: one bad run never stops the others)."""

import os

from game.pool import map_surviving_crashes


def _square_or_die(x: int) -> int:
    if x == 3:
        os._exit(1)  # what the OOM killer or a signal does to a worker: no exception, the process is gone
    return x * x


def test_a_worker_that_dies_costs_only_its_own_job():
    done = []
    out = map_surviving_crashes(_square_or_die, list(range(8)), 2, lambda job, why: f"crashed {job}: {why}", done.append)
    assert out[:3] == [0, 1, 4] and out[4:] == [16, 25, 36, 49]
    assert out[3].startswith("crashed 3: its worker process stopped")
    assert sorted(done) == list(range(1, 9))


def test_results_keep_argument_order_without_crashes():
    assert map_surviving_crashes(_square_or_die, [5, 0, 7, 1], 3, lambda job, why: None) == [25, 0, 49, 1]


def test_leaderboard_and_verify_go_past_a_dead_worker(tmp_path, monkeypatch):
    """Both batch verifiers route through the pool: a file whose worker dies is refused by name."""
    from game import headless, leaderboard

    bad = tmp_path / "boom.json"
    bad.write_text("{}")
    good = tmp_path / "missing.json"
    monkeypatch.setattr(leaderboard, "_verify_star", _verify_or_die)
    monkeypatch.setattr(headless, "_verify_star", _verify_or_die_plain)
    outs = leaderboard.verify_many([str(bad), str(good)], workers=2)
    assert not outs[0].ok and "worker process stopped" in outs[0].reason
    assert outs[1].reason == "fine"
    res = headless.verify_many([str(bad), str(good)], workers=2)
    assert res[0][0] == "error" and "worker process stopped" in res[0][1]
    assert res[1] == ("ok", "fine")


def _verify_or_die(job):
    from game.leaderboard import Outcome

    if job[0].endswith("boom.json"):
        os._exit(1)
    return Outcome(job[0], True, "fine")


def _verify_or_die_plain(job):
    if job[0].endswith("boom.json"):
        os._exit(1)
    return ("ok", "fine")
