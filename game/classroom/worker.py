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

import hashlib
import json
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from game.classroom.db import MAX_TRIES, Database, Job
from game.classroom.live import resolve_round
from game.competition import Competition, competition_mismatch
from game.leaderboard import RUN_TIME_LIMIT_S, Outcome, _verify_star

DEFAULT_LEASE_S = 30.0  # renewed every third of it: a crashed server's jobs wait at most this long
RENEW_EVERY = 1 / 3
ROUND_POLL_S = 0.5  # how often a server looks for a round past its deadline (a plan arriving wakes it at once)
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


# ----------------------------------------------------------------------------- industry files (issue 15)


@dataclass
class IndustryOutcome:
    """What verifying one submitted industry file found: ``record`` (when ok) holds the industry's
    identity and each company's result, ranked within the industry (plain data: it crosses processes)."""

    ok: bool
    reason: str
    record: dict[str, Any] | None = None


def is_industry_body(body: bytes) -> bool:
    """Whether a submission is an industry file (its JSON ``format``), not a single-player run file."""
    from game.industry import FORMAT

    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def rank_companies(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank an industry's companies by final score (issue 15: "ranks companies within their
    industry"): equal scores share a rank (1, 1, 3), name order breaks the listing; ``share`` is
    each company's part of the industry's revenue over the whole game."""
    total = sum(r["revenue_cents"] for r in rows)
    ordered = sorted(rows, key=lambda r: (-r["score_cents"], r["name"]))
    out = []
    for i, r in enumerate(ordered):
        rank = out[-1]["rank"] if out and out[-1]["score_cents"] == r["score_cents"] else i + 1
        out.append({**r, "rank": rank, "share": round(r["revenue_cents"] / total, 4) if total > 0 else 0.0})
    return out


def industry_record(ind: Any, f: Any, file_sha256: str) -> dict[str, Any]:
    """A verified industry (engine.industry.Industry re-simulated from file ``f``) as the board stores it."""
    from types import SimpleNamespace

    from engine.industry import industry_hash

    rows = []
    for n in ind.order:
        c = ind.companies[n]
        last = c.reports[-1]
        facts = class_facts(SimpleNamespace(reports=c.reports))
        rows.append({"name": n, "bot": c.bot, "score_cents": int(last.score.score_cents),
                     "revenue_cents": int(sum(r.income.revenue for r in c.reports)), "verdict": last.score.verdict,
                     "bankrupt": bool(c.state.bankrupt), "quarters_played": len(c.reports), "facts": facts})
    # the duplicate key: every company's final state hash (a bankrupt company's is its last quarter's)
    final = industry_hash({n: ind.companies[n].reports[-1].state_hash for n in ind.order})
    return {"scenario": f.scenario, "scenario_sha256": f.scenario_sha256, "ruleset": f.ruleset, "seed": f.seed,
            "industry_hash": final, "file_sha256": file_sha256, "quarters": len(f.quarters), "companies": rank_companies(rows)}


def verify_industry_submission(body: bytes, competition: Competition | None,
                               time_limit_s: float | None = RUN_TIME_LIMIT_S) -> IndustryOutcome:
    """Verify one submitted industry file with ``tycoon verify``'s own verification
    (game.industry.verify_industry: every company re-simulated, every quarter's hash compared), then
    the board's rules: a built-in scenario, the competition's scenario, seed and size, a finished game.
    Runs in a worker; never raises for a bad file."""
    from game.errors import UserError
    from game.industry import load_industry, verify_industry
    from game.leaderboard import RunTooSlow, time_limit
    from game.runfile import is_builtin

    with tempfile.TemporaryDirectory(prefix="tycoon-industry-") as tmp:
        path = os.path.join(tmp, "industry.json")
        with open(path, "wb") as fh:
            fh.write(body)

        def clean(text: str) -> str:
            return text.replace(f"{path}: ", "").replace(path, "the industry file")

        try:
            f = load_industry(path)
            if competition is not None:
                if competition.kind == "run":
                    return IndustryOutcome(False, f"competition {competition.id!r} takes run files, not industry files (kind = \"run\")")
                why = competition_mismatch(competition, f.scenario, f.seed, None, f.scenario_sha256)
                if why:
                    return IndustryOutcome(False, f"not an industry of this competition: it {why}")
                if competition.industry_size is not None and len(f.companies) != competition.industry_size:
                    return IndustryOutcome(False, f"competition {competition.id!r} plays industries of {competition.industry_size} "
                                                  f"companies; this one has {len(f.companies)}")
            if not is_builtin(f.scenario, f.scenario_sha256):  # checked before simulating: a board compares one world
                return IndustryOutcome(False, f"another scenario version: {f.scenario!r} (sha256 {f.scenario_sha256[:12]}...) "
                                              "is not this server's built-in scenario")
            if not any(c["bot"] is None for c in f.companies):
                return IndustryOutcome(False, "only bots play this industry: a board ranks players' companies")
            with time_limit(time_limit_s):
                v = verify_industry(path)
        except UserError as exc:
            return IndustryOutcome(False, clean(str(exc)))
        except RunTooSlow as exc:
            return IndustryOutcome(False, f"refused: it {exc} (limit per file)")
        except MemoryError:
            return IndustryOutcome(False, "could not be re-simulated: it asks for more memory than this machine has")
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the queue
            return IndustryOutcome(False, f"could not be re-simulated ({type(exc).__name__}: {clean(str(exc))[:200]})")
    if not v.ok:
        return IndustryOutcome(False, f"does not verify: {clean(v.reason)}")
    ind = v.industry
    if not ind.over:
        return IndustryOutcome(False, f"unfinished: {len(f.quarters)} of {ind.scenario.quarters} quarters played; finish the game first")
    return IndustryOutcome(True, v.reason, industry_record(ind, f, hashlib.sha256(body).hexdigest()))


def verify_body(body: bytes, competition: Competition | None, time_limit_s: float | None = RUN_TIME_LIMIT_S) -> Outcome | IndustryOutcome:
    """One submission, whichever it is: an industry file or a single-player run file."""
    if is_industry_body(body):
        return verify_industry_submission(body, competition, time_limit_s)
    if competition is not None and competition.kind == "industry":
        return Outcome("submission", False, f"competition {competition.id!r} takes industry files only (kind = \"industry\"): "
                                            "submit the file of `tycoon industry play`")
    return verify_submission(body, competition, time_limit_s)


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
                 idle_poll_s: float = 0.2, clock: Callable[[], float] = time.time) -> None:
        self.db, self.workers, self.lease_s, self.time_limit_s = db, max(1, workers), lease_s, time_limit_s
        self.clock = clock  # networked rounds' deadlines and leases (injectable: tests never sleep for minutes)
        self._rounds: dict[str, tuple[int, Future]] = {}  # live industry id -> (quarter, its resolution)
        self.rounds_resolved = 0
        self.round_wake = threading.Event()  # set by the app when a plan arrives: the round may be complete
        self._last_round_claim = 0.0
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
        if self._inflight or self._rounds:
            try:
                self.db.release(list(self._inflight))
                self.db.release_rounds(list(self._rounds))
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
                busy = self._step_rounds() or busy
                if time.monotonic() - last_renew > self.lease_s * RENEW_EVERY:
                    self.db.renew(list(self._inflight), self.lease_s)
                    self.db.renew_rounds(list(self._rounds), self.lease_s, self.clock())
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
                    self._inflight[job.id] = (job, self._pool.submit(verify_body, job.body, comp, self.time_limit_s))
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

    def _step_rounds(self) -> bool:
        """Networked rounds (issue 15): claim the rounds that are due (every player planned, or the
        deadline passed), resolve each in a worker process, store it. True if anything happened."""
        assert self._pool is not None
        acted = False
        free = self.workers - len(self._rounds)
        due = self.round_wake.is_set() or time.monotonic() - self._last_round_claim > ROUND_POLL_S
        if free > 0 and due:
            self.round_wake.clear()
            self._last_round_claim = time.monotonic()
            for live_id, quarter, file_text, plans in self.db.claim_rounds(free, self.lease_s, self.clock()):
                self._rounds[live_id] = (quarter, self._pool.submit(resolve_round, file_text, plans))
                acted = True
        if self._rounds and not any(fut.done() for _, fut in self._rounds.values()):
            try:  # wait a little for one to finish rather than spin
                next(iter(self._rounds.values()))[1].exception(timeout=0.05)
            except Exception:  # noqa: BLE001 - timeout or a broken pool: handled below
                pass
        for live_id in [k for k, (_, fut) in self._rounds.items() if fut.done()]:
            quarter, fut = self._rounds.pop(live_id)
            try:
                resolved = fut.result()
            except Exception as exc:  # noqa: BLE001 - a broken pool or a file that no longer verifies: retried, reported
                self.error = exc
                self.db.release_rounds([live_id])
                continue
            if self.db.finish_round(live_id, quarter, resolved, self.clock()):
                self.rounds_resolved += 1
                if resolved["over"]:
                    self.wake.set()  # its file is queued for the board
            acted = True
        return acted or bool(self._rounds)

    def _close(self, job_id: int, outcome: Outcome | IndustryOutcome, comp: Competition | None) -> None:
        if isinstance(outcome, IndustryOutcome):
            result = self.db.finish_industry(job_id, outcome.ok, outcome.reason, outcome.record, comp)
        else:
            result = self.db.finish(job_id, outcome, comp)
        if self.on_done is not None:
            self.on_done(job_id, result)
