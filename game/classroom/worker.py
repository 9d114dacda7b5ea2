"""Verification for the classroom server: a process pool fed from the database's queue (issue 13).

Re-simulating a run is CPU-bound, so it never runs in the request loop: each server process has a
``Dispatcher`` thread that claims jobs from the ``jobs`` table, verifies them in worker processes
with the local leaderboard's own verification (``game.leaderboard._verify_star``: the same checks,
the same per-run time limit), and stores the result and closes the job in one transaction.

Claimed jobs carry a lease the dispatcher renews while they run; a server that crashes stops
renewing, so another server (or this one, restarted) takes the job again when the lease ends.
A job whose verification killed its worker ``MAX_TRIES`` times is refused instead of retried.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from game.classroom.db import MAX_TRIES, Database, Job
from game.competition import Competition
from game.leaderboard import RUN_TIME_LIMIT_S, Outcome, _verify_star

DEFAULT_LEASE_S = 30.0  # renewed every third of it: a crashed server's jobs wait at most this long
RENEW_EVERY = 1 / 3
BOT_NAMES = ("passive", "flex", "barbell", "all-in")  # the baselines of the instructor report


def class_facts(game: Any) -> dict[str, Any]:
    """The decisions that mattered, read off a verified game for the standings charts: the mean
    contracted share of revenue (KB §2: contracts vs spot), the peak leverage (debt and lease
    liabilities over total assets, KB §5) and, if the game ended early, why."""
    reps = game.reports
    shares = [r.kpis.contracted_share for r in reps]
    leverage = [(r.balance.debt + r.balance.lease_liabilities) / r.balance.total_assets
                for r in reps if r.balance.total_assets > 0]
    return {
        "contracted_share": round(sum(shares) / len(shares), 4) if shares else 0.0,
        "leverage": round(max(leverage), 4) if leverage else 0.0,
        "end_reason": str(getattr(reps[-1], "end_reason", "") or "") if reps else "",
        "scores": [r.score.score_cents for r in reps],
    }


def verify_submission(body: bytes, competition: Competition | None, time_limit_s: float | None = RUN_TIME_LIMIT_S) -> Outcome:
    """Verify one submitted run file (bytes) as ``tycoon leaderboard add`` would; runs in a worker.

    The server takes only this tycoon's built-in scenarios: a board compares one world."""
    from game.runfile import is_builtin

    with tempfile.TemporaryDirectory(prefix="tycoon-submission-") as tmp:
        path = os.path.join(tmp, "run.json")
        with open(path, "wb") as fh:
            fh.write(body)
        outcome = _verify_star((path, competition, time_limit_s, class_facts))
    outcome.path = "submission"
    if outcome.reason.startswith(f"{path}: "):
        outcome.reason = outcome.reason[len(path) + 2:]
    outcome.reason = outcome.reason.replace(path, "the run file")
    e = outcome.entry
    if outcome.ok and e is not None:
        if not is_builtin(e.scenario, e.scenario_sha256):
            return Outcome("submission", False, f"another scenario version: {e.scenario!r} (sha256 {e.scenario_sha256[:12]}...) "
                                                "is not this server's built-in scenario")
        e.source = "upload"
    return outcome


def bot_baselines(scenario: str, seed: int) -> list[dict[str, Any]]:
    """The built-in bots on the competition's scenario and seed (the instructor report's yardstick)."""
    from game.tournament import play_game

    out = []
    for name in BOT_NAMES:
        row = play_game(scenario, seed, name)
        out.append({"bot": row.bot, "score": row.score, "verdict": row.verdict, "bankrupt": row.bankrupt,
                    "quarters": row.quarters_played})
    return out


class Dispatcher:
    """Claims jobs, verifies them on ``workers`` processes, stores the results. ``start()``/``stop()``."""

    def __init__(self, db: Database, workers: int = 2, lease_s: float = DEFAULT_LEASE_S,
                 time_limit_s: float | None = RUN_TIME_LIMIT_S, on_done: Callable[[int, dict[str, Any]], None] | None = None,
                 idle_poll_s: float = 0.2) -> None:
        self.db, self.workers, self.lease_s, self.time_limit_s = db, max(1, workers), lease_s, time_limit_s
        self.on_done, self.idle_poll_s = on_done, idle_poll_s
        self.wake = threading.Event()  # set by the app when it queues a job: no need to wait for the poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: dict[int, tuple[Job, Future]] = {}
        self._comps: dict[str, Competition | None] = {}
        self.error: BaseException | None = None
        self._last_claim, self._claim_found = 0.0, True

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: the server process has threads (uvicorn, this one), which fork must not copy
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def start(self) -> None:
        self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._run, name="tycoon-verifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop claiming; jobs in flight are left to their lease (another server, or a restart, takes them)."""
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._inflight:
            try:
                self.db.release(list(self._inflight))
            except Exception:  # noqa: BLE001 - the lease covers it
                pass

    def _competition(self, comp_id: str) -> Competition | None:
        if comp_id not in self._comps:
            found = self.db.competition(id=comp_id) if comp_id else None
            self._comps[comp_id] = found[0] if found else None
        return self._comps[comp_id]

    def _run(self) -> None:
        last_renew = time.monotonic()
        while not self._stop.is_set():
            try:
                busy = self._step()
                if time.monotonic() - last_renew > self.lease_s * RENEW_EVERY:
                    self.db.renew(list(self._inflight), self.lease_s)
                    last_renew = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - a database hiccup: keep serving, retry
                self.error = exc
                busy = False
            if not busy:
                self.wake.wait(self.idle_poll_s)

    def _step(self) -> bool:
        """Fill free workers with claimed jobs, then close finished ones. True if anything happened."""
        assert self._pool is not None
        acted = False
        free = self.workers - len(self._inflight)
        due = self.wake.is_set() or self._claim_found or time.monotonic() - self._last_claim > self.idle_poll_s
        if free > 0 and due:
            self.wake.clear()
            self._last_claim = time.monotonic()
            claimed = self.db.claim(free, self.lease_s)
            self._claim_found = bool(claimed)
            for job in claimed:
                acted = True
                comp_id = job.competition
                comp = self._competition(comp_id)
                if comp_id and comp is None:
                    self._close(job.id, Outcome("submission", False, f"unknown competition {comp_id!r}"), None)
                elif job.tries > MAX_TRIES:
                    self._close(job.id, Outcome("submission", False, f"could not be re-simulated: its verification stopped "
                                                                     f"the worker process {MAX_TRIES} times"), comp)
                else:
                    self._inflight[job.id] = (job, self._pool.submit(verify_submission, job.body, comp, self.time_limit_s))
        done = [jid for jid, (_, fut) in self._inflight.items() if fut.done()]
        if not done and self._inflight:
            # wait a little for the first to finish, but keep claiming for free workers
            first = next(iter(self._inflight.values()))[1]
            try:
                first.exception(timeout=0.05)
            except Exception:  # noqa: BLE001 - timeout or a broken pool: handled below
                pass
            done = [jid for jid, (_, fut) in self._inflight.items() if fut.done()]
        broken: list[int] = []
        for jid in done:
            job, fut = self._inflight.pop(jid)
            try:
                outcome = fut.result()
            except BrokenProcessPool:
                broken.append(jid)
                continue
            except Exception as exc:  # noqa: BLE001 - _verify_star catches a run's own errors; this is the pool's
                outcome = Outcome("submission", False, f"could not be re-simulated ({type(exc).__name__})")
            self._close(jid, outcome, self._competition(job.competition))
            acted = True
        if broken:  # a worker died (out of memory, a signal): the pool is gone; its jobs go back to the queue
            lost = broken + list(self._inflight)
            self._inflight.clear()
            self.db.release(lost)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            acted = True
        return acted or bool(self._inflight)

    def _close(self, job_id: int, outcome: Outcome, comp: Competition | None) -> None:
        result = self.db.finish(job_id, outcome, comp)
        if self.on_done is not None:
            self.on_done(job_id, result)
