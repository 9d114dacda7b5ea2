"""The classroom server's web application (Starlette, ASGI; served by uvicorn) - issue 13.

Routes:
  POST /api/runs[?code=CLASS]            a run file or an industry file as the body: 201 accepted (board, rank, score;
                                         an industry: each company's rank within it),
                                         422 refused (the reason), 202 still queued (poll the job), 429 slow down
  GET  /api/jobs/{id}                    a submission's state
  GET  /api/standings?scenario=ID&seed=N or ?competition=ID    JSON standings (``entries``, ``industries``)
  GET  /                                 boards and competitions (HTML)
  GET  /standings?...                    the standings page: table and server-drawn SVG charts
  POST /api/competitions                 (instructor token) a competition TOML: creates it, returns its class code
  GET  /api/competitions/{id}/gradebook.csv   (instructor token) per-quarter scorecards
  GET  /instructor/{id}                  (instructor token) the class against the built-in bots
  POST /api/live                         (instructor token) open a networked industry: its id and each player's key
  GET  /api/live/{id}                    its round, deadline, who has planned (public)
  GET  /api/live/{id}/observation?player=NAME   (X-Player-Key) the player's company and the others' disclosures
  POST /api/live/{id}/plan?player=NAME   (X-Player-Key) {"round": N, "actions": [...]}: 201 kept, 422 invalid, 409 too late
  GET  /api/live/{id}/file               the industry file so far (the instructor's until the industry is over)

Verification runs in ``game.classroom.worker.Dispatcher``'s processes, never in this event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import os
import secrets
import statistics
import tempfile
import time
from collections import deque
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from game.classroom import svg
from game.classroom.db import Database, token_digest
from game.classroom.worker import DEFAULT_LEASE_S, Dispatcher, bot_baselines
from game.competition import Competition
from game.errors import UserError
from game.leaderboard import RUN_TIME_LIMIT_S, SHOW_COLUMNS, write_export

TOKEN_SETTING = "instructor_token_sha256"
DEFAULT_MAX_BYTES = 4 << 20  # a 40-quarter run of a busy player is well under 1 MiB
MAX_COMPETITION_BYTES = 64 << 10
DEFAULT_RATE = 120  # submissions per minute from one address (a class behind one NAT shares it)
DEFAULT_WAIT_S = 60.0  # then answer 202 and let the client poll the job
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a classroom
SECURITY_HEADERS = {
    # nothing on these pages runs: no script, no external asset
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(default=True, default_for_string=True))


def new_class_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class RateLimit:
    """At most ``per_minute`` requests per client address in any 60 seconds (sliding window)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}

    def allow(self, who: str, now: float | None = None) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.monotonic() if now is None else now
        q = self.seen.setdefault(who, deque())
        while q and now - q[0] >= 60.0:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        if len(self.seen) > 10_000:  # forget idle addresses
            for k in [k for k, v in self.seen.items() if not v or now - v[-1] >= 60.0]:
                del self.seen[k]
        return True


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_TEMPLATES.get_template(name).render(**context), status_code=status, headers=SECURITY_HEADERS)


def _refuse(reason: str, status: int = 422, **extra: Any) -> JSONResponse:
    return _json({"accepted": False, "reason": reason, **extra}, status)


# ----------------------------------------------------------------------------- standings


def board_of(db: Database, q: dict[str, str]) -> tuple[str, Competition | None, list[dict[str, Any]]]:
    """(title, competition, entries) for ``?competition=ID`` or ``?scenario=ID&seed=N``; entries
    carry player, score, verdict, quarters, submitted_at, rank (and the charts' facts)."""
    from engine import RULESET
    from game.runfile import builtin_scenario

    columns = (*SHOW_COLUMNS, "added_at")
    if q.get("competition"):
        found = db.competition(id=q["competition"])
        if found is None:
            raise LookupError(f"no competition {q['competition']!r} on this server")
        comp = found[0]
        rows = [(s.rank, s.counted, {"attempts": s.attempts, "counted_attempt": s.counted_attempt})
                for s in db.competition_standings(comp, columns)]
        title = f"{comp.title} [{comp.id}]: {comp.scenario}, seed {comp.seed}, {comp.policy_text}"
    else:
        scenario, seed_text = q.get("scenario", ""), q.get("seed", "")
        if not scenario or not seed_text.isdigit():
            raise ValueError("give ?competition=ID, or ?scenario=ID&seed=N (N a whole number)")
        loaded = builtin_scenario(scenario)
        if loaded is None:
            raise LookupError(f"no built-in scenario {scenario!r} on this server")
        comp = None
        found_rows = db.entries(scenario=scenario, seed=int(seed_text), scenario_sha256=loaded.sha256, columns=columns)
        rows = [(rank, e, {}) for rank, e in found_rows if e.ruleset == RULESET]
        title = f"{scenario}, seed {int(seed_text)} (ruleset {RULESET})"
    facts = db.facts([e.id for _, e, _ in rows if e.id is not None])
    entries = [
        {"rank": rank, "player": e.player, "score": e.score_usd, "verdict": e.verdict, "quarters": e.quarters_played,
         "submitted_at": e.added_at, "bankrupt": e.bankrupt, "id": e.id, **extra, "industry": None,
         "facts": facts.get(e.id or -1, {})}
        for rank, e, extra in rows
    ]
    if comp is not None:
        entries = overall_board(entries, db.industries(competition=comp.id))
    return title, comp, entries


def industries_of(db: Database, q: dict[str, str]) -> list[dict[str, Any]]:
    """The industries on the board ``board_of`` reads (issue 15), each company ranked within its industry."""
    if q.get("competition"):
        return db.industries(competition=q["competition"])
    return db.industries(scenario=q.get("scenario", ""), seed=int(q.get("seed") or 0))


def overall_board(entries: list[dict[str, Any]], industries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A competition's overall board: its counted runs and every player's company of its industries
    (bot rivals are not students: they stay in their industry's table), by score; equal scores share
    a rank. Industry entries carry ``industry`` (its id) and ``industry_rank`` (its rank in it)."""
    merged = list(entries)
    for ind in industries:
        for co in ind["companies"]:
            if co["rival"]:
                continue
            merged.append({"player": co["name"], "score": co["score"], "verdict": co["verdict"], "quarters": co["quarters"],
                           "submitted_at": ind["submitted_at"], "bankrupt": co["bankrupt"], "id": None, "attempts": 1,
                           "counted_attempt": 1, "industry": ind["id"], "industry_rank": co["rank"],
                           "industry_size": len(ind["companies"]), "facts": co["facts"]})
    if not industries:
        return merged
    merged.sort(key=lambda e: (-e["score"], e["player"]))
    for i, e in enumerate(merged):
        e["rank"] = merged[i - 1]["rank"] if i and merged[i - 1]["score"] == e["score"] else i + 1
    return merged


def industry_winners(industries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who won each industry and by what (the instructor report): the top company (a player or a bot
    rival), its score, and its lead over the runner-up, in dollars of score."""
    out = []
    for ind in industries:
        cos = ind["companies"]
        if not cos:
            continue
        top, second = cos[0], cos[1] if len(cos) > 1 else None
        out.append({"industry": ind["id"], "winner": top["name"], "bot": top["bot"], "score": top["score"],
                    "share": top["share"], "runner_up": second["name"] if second else None,
                    "margin": top["score"] - second["score"] if second else None, "tied": bool(second and second["rank"] == top["rank"])})
    return out


GRADEBOOK_INDUSTRY_COLUMNS = ("student", "source", "industry", "rank_in_industry", "companies_in_industry", "overall_rank",
                              "score_usd", "revenue_usd", "revenue_share", "verdict", "bankrupt", "scenario", "seed")


def industry_gradebook(comp: Competition, entries: list[dict[str, Any]], industries: list[dict[str, Any]]) -> str:
    """The gradebook of a competition that takes industries: one row per student's entry (a company
    of an industry, or a counted run), with the industry and the rank in it."""
    import csv

    from game.safe_text import csv_text

    revenue = {(ind["id"], co["name"]): (co["revenue"], co["share"]) for ind in industries for co in ind["companies"]}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(GRADEBOOK_INDUSTRY_COLUMNS)
    for e in entries:
        rev, share = revenue.get((e["industry"], e["player"]), ("", ""))
        w.writerow([csv_text(e["player"]), "industry" if e["industry"] is not None else "run",
                    e["industry"] if e["industry"] is not None else "", e.get("industry_rank", ""), e.get("industry_size", ""),
                    e["rank"], f"{e['score']:.2f}", "" if rev == "" else f"{rev:.2f}", share, csv_text(e["verdict"]),
                    int(bool(e["bankrupt"])), comp.scenario, comp.seed])
    return buf.getvalue()


def charts(entries: list[dict[str, Any]]) -> list[Markup]:
    """The standings page's charts: each player's score by quarter, the spread of final scores, and
    the decisions that mattered (contracted share, leverage) against the outcome."""
    top = entries[:20]  # a readable line chart: the top twenty
    lines = [(e["player"], [c / 100 for c in e["facts"].get("scores", [])]) for e in top]
    finals = [e["score"] for e in entries]
    share = [(e["facts"]["contracted_share"], e["score"], e["player"]) for e in entries if "contracted_share" in e["facts"]]
    lev = [(e["facts"]["leverage"], e["score"], e["player"]) for e in entries if "leverage" in e["facts"]]
    return [Markup(s) for s in (  # svg.py escapes every name it draws
        svg.score_by_quarter(lines, "Score by quarter" + (" (top 20)" if len(entries) > 20 else "")),
        svg.histogram(finals, "Distribution of final scores"),
        svg.scatter(share, "Contracted share of revenue (mean) vs final score", "contracted share"),
        svg.scatter(lev, "Peak leverage (debt and leases / assets) vs final score", "peak leverage"),
    )]


def instructor_report(comp: Competition, bots: list[dict[str, Any]], entries: list[dict[str, Any]],
                      industries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The class against the built-in bots on the same scenario and seed: medians, outliers
    (beyond 1.5 interquartile ranges, Tukey's fences), who defaulted and why, and who won each industry."""
    scores = [e["score"] for e in entries]
    med = statistics.median(scores) if scores else None
    outliers: list[dict[str, Any]] = []
    if len(scores) >= 4:
        q1, _, q3 = statistics.quantiles(scores, n=4)
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        outliers = [{**e, "side": "high" if e["score"] > hi else "low"} for e in entries if e["score"] > hi or e["score"] < lo]
    defaulted = [{**e, "why": e["facts"].get("end_reason") or e["verdict"]} for e in entries if e["bankrupt"]]
    bot_med = statistics.median([b["score"] for b in bots]) if bots else None
    return {"players": len(entries), "median": med, "bots": bots, "bot_median": bot_med,
            "beat_best_bot": sum(1 for s in scores if bots and s > max(b["score"] for b in bots)),
            "outliers": outliers, "defaulted": defaulted, "industries": industry_winners(industries or [])}


# ----------------------------------------------------------------------------- the app


def create_app(db_url: str, *, workers: int = 2, token: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
               rate_per_minute: int = DEFAULT_RATE, wait_s: float = DEFAULT_WAIT_S, lease_s: float = DEFAULT_LEASE_S,
               time_limit_s: float | None = RUN_TIME_LIMIT_S, pool_size: int = 16, clock: Any = time.time) -> Starlette:
    """The ASGI app. The database opens (and migrates) here; the verification processes start with
    the app's lifespan. ``token`` (the instructor's) is stored as its SHA-256 and replaces an earlier one."""
    db = Database(db_url, pool_size=pool_size)
    if token:
        db.set_setting(TOKEN_SETTING, token_digest(token))
    limiter = RateLimit(rate_per_minute)
    waiters: dict[int, asyncio.Future] = {}
    loop_box: dict[str, asyncio.AbstractEventLoop] = {}

    def done(job_id: int, result: dict[str, Any]) -> None:  # in the dispatcher thread
        loop = loop_box.get("loop")
        fut = waiters.get(job_id)
        if loop is not None and fut is not None:
            loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(result))

    dispatcher = Dispatcher(db, workers=workers, lease_s=lease_s, time_limit_s=time_limit_s, on_done=done, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        loop_box["loop"] = asyncio.get_running_loop()
        dispatcher.start()
        try:
            yield
        finally:
            dispatcher.stop()
            db.close()

    def authorized(request: Request) -> bool:
        """The instructor token (``Authorization: Bearer T`` or ``?token=T``), compared in constant time."""
        given = request.headers.get("authorization", "")
        given = given[7:].strip() if given.lower().startswith("bearer ") else request.query_params.get("token", "")
        stored = db.setting(TOKEN_SETTING)
        return bool(given) and stored is not None and hmac.compare_digest(token_digest(given), stored)

    async def wait_for(job_id: int) -> dict[str, Any] | None:
        """The job's result once verified (here or by another server), or None after ``wait_s``."""
        fut = asyncio.get_running_loop().create_future()
        waiters[job_id] = fut
        try:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), timeout=0.5)
                except asyncio.TimeoutError:
                    job = await run_in_threadpool(db.job, job_id)  # another server may have done it
                    if job and job["status"] == "done":
                        return job["result"]
            return None
        finally:
            waiters.pop(job_id, None)

    async def submit_run(request: Request) -> Response:
        who = request.client.host if request.client else ""
        if not limiter.allow(who):
            return _refuse(f"too many submissions from this address: at most {limiter.per_minute} a minute", 429,
                           **{"retry_after": 60})
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            return _refuse(f"too large: {int(declared):,} bytes; this server takes run files up to {max_bytes:,} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                return _refuse(f"too large: over {max_bytes:,} bytes; this server takes run files up to {max_bytes:,} bytes")
        if not body.strip():
            return _refuse("empty: send a run file (the .json that `tycoon play` or `tycoon sim --out` saves) as the body")
        code = (request.query_params.get("code") or request.headers.get("x-class-code") or "").strip().upper()
        comp_id = ""
        if code:
            found = await run_in_threadpool(db.competition, code=code)
            if found is None:
                return _refuse(f"unknown class code {code!r}: ask your instructor for the code of your competition")
            comp_id = found[0].id
        job_id = await run_in_threadpool(db.enqueue, bytes(body), comp_id, who)
        dispatcher.wake.set()
        result = await wait_for(job_id)
        if result is None:
            return _json({"accepted": None, "status": "queued", "job": job_id, "url": f"/api/jobs/{job_id}"}, 202)
        return _json({**result, "job": job_id}, 201 if result.get("accepted") else 422)

    async def job_status(request: Request) -> Response:
        try:
            job = await run_in_threadpool(db.job, int(request.path_params["job_id"]))
        except ValueError:
            job = None
        return _json(job) if job else _json({"error": "no such job"}, 404)

    async def api_standings(request: Request) -> Response:
        try:
            title, comp, entries = await run_in_threadpool(board_of, db, dict(request.query_params))
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        except LookupError as exc:
            return _json({"error": exc.args[0]}, 404)
        industries = await run_in_threadpool(industries_of, db, dict(request.query_params))
        for e in entries:
            e.pop("facts")
        for ind in industries:
            for co in ind["companies"]:
                co.pop("facts")
        return _json({"board": title, "competition": comp.id if comp else None, "entries": entries, "industries": industries})

    async def index(request: Request) -> Response:
        def read() -> tuple[Any, Any, Any]:
            return db.boards(), db.competitions(), db.queue_counts()

        boards, comps, queue = await run_in_threadpool(read)
        counts: dict[tuple[str, int], int] = {}
        for (s, _sha, _r, seed), n in boards.items():
            counts[(s, seed)] = counts.get((s, seed), 0) + n
        for key, n in (await run_in_threadpool(db.industry_boards)).items():  # industries count as entries of their board
            counts[key] = counts.get(key, 0) + n
        open_boards = sorted(((s, seed, n) for (s, seed), n in counts.items()), key=lambda t: (t[0], t[1]))
        return _html("index.html", boards=open_boards, competitions=comps, queue=queue)

    async def standings_page(request: Request) -> Response:
        try:
            title, comp, entries = await run_in_threadpool(board_of, db, dict(request.query_params))
        except ValueError as exc:
            return _html("error.html", 400, message=str(exc))
        except LookupError as exc:
            return _html("error.html", 404, message=exc.args[0])
        industries = await run_in_threadpool(industries_of, db, dict(request.query_params))
        return _html("standings.html", title=title, comp=comp, entries=entries, charts=charts(entries), industries=industries)

    async def add_competition(request: Request) -> Response:
        from game.competition import load_competition

        if not authorized(request):
            return _json({"error": "the instructor token is missing or wrong"}, 401)
        body = await request.body()
        if len(body) > MAX_COMPETITION_BYTES:
            return _json({"error": f"too large: a competition file is at most {MAX_COMPETITION_BYTES:,} bytes"}, 422)
        with tempfile.TemporaryDirectory(prefix="tycoon-competition-") as tmp:
            path = os.path.join(tmp, "competition.toml")
            Path(path).write_bytes(body)
            try:
                comp = load_competition(path)
            except UserError as exc:
                return _json({"error": str(exc).replace(path, "competition file")}, 422)
        loop = asyncio.get_running_loop()
        try:  # four bot games: in the verification pool, not in this loop
            bots = await loop.run_in_executor(dispatcher._pool, bot_baselines, comp.scenario, comp.seed)
        except Exception as exc:  # noqa: BLE001 - the report then shows no bots, the competition still works
            bots = [{"bot": "(bots could not be played)", "score": 0.0, "verdict": str(exc)[:200], "bankrupt": False, "quarters": 0}]
        code = (comp.class_code or new_class_code()).upper()
        try:
            code = await run_in_threadpool(db.add_competition, comp, code, bots)
        except Exception as exc:  # noqa: BLE001 - the class code is taken by another competition
            return _json({"error": f"cannot create competition {comp.id!r}: {type(exc).__name__} (is class_code {code!r} taken?)"}, 422)
        return _json({"id": comp.id, "title": comp.title, "class_code": code, "scenario": comp.scenario, "seed": comp.seed,
                      "policy": comp.policy, "bots": bots}, 201)

    async def gradebook(request: Request) -> Response:
        if not authorized(request):
            return _json({"error": "the instructor token is missing or wrong"}, 401)
        found = await run_in_threadpool(db.competition, id=request.path_params["comp_id"])
        if found is None:
            return _json({"error": "no such competition"}, 404)

        def render() -> str:
            comp = found[0]
            if comp.kind != "run":  # one row per student, with the industry and the rank in it
                _, _, entries = board_of(db, {"competition": comp.id})
                return industry_gradebook(comp, entries, db.industries(competition=comp.id))
            buf = io.StringIO()
            write_export(buf, db, found[0])  # the local leaderboard's export, on this database
            return buf.getvalue()

        text = await run_in_threadpool(render)
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{found[0].id}-gradebook.csv"'})

    async def report_page(request: Request) -> Response:
        if not authorized(request):
            return _html("error.html", 401, message="the instructor token is missing or wrong (add ?token=... to the address)")
        comp_id = request.path_params["comp_id"]
        found = await run_in_threadpool(db.competition, id=comp_id)
        if found is None:
            return _html("error.html", 404, message=f"no competition {comp_id!r} on this server")
        comp, bots = found
        title, _, entries = await run_in_threadpool(board_of, db, {"competition": comp.id})
        industries = await run_in_threadpool(db.industries, competition=comp.id)
        return _html("report.html", title=title, comp=comp, report=instructor_report(comp, bots, entries, industries),
                     charts=charts(entries))

    # ---- networked rounds of an industry (issue 15)

    async def live_open(request: Request) -> Response:
        """(instructor) Open an industry: JSON {scenario, seed, players: [...], rivals: [...], round_minutes}."""
        from game.classroom.live import MAX_ROUND_MINUTES, new_industry
        from game.industry import company_names

        if not authorized(request):
            return _json({"error": "the instructor token is missing or wrong"}, 401)
        try:
            spec = json.loads(await request.body())
            if not isinstance(spec, dict):
                raise ValueError
        except (ValueError, RecursionError):
            return _json({"error": "send a JSON object: {scenario, seed, players, rivals, round_minutes}"}, 422)
        seed, minutes = spec.get("seed", 1), spec.get("round_minutes", 10)
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
            return _json({"error": f"seed: a whole number from 0 to 2^63-1, got {seed!r}"}, 422)
        if not isinstance(minutes, (int, float)) or isinstance(minutes, bool) or not 0 < minutes <= MAX_ROUND_MINUTES:
            return _json({"error": f"round_minutes: more than 0 and at most {MAX_ROUND_MINUTES}, got {minutes!r}"}, 422)
        try:
            players = company_names(",".join(spec.get("players") or []), "players")
            rivals = company_names(",".join(spec.get("rivals") or []), "rivals")
            made = await asyncio.get_running_loop().run_in_executor(
                dispatcher._pool, new_industry, str(spec.get("scenario", "")), seed, players, rivals)
        except (UserError, TypeError) as exc:
            return _json({"error": str(exc)}, 422)
        live_id = new_class_code().replace("-", "").lower()
        keys = {p: secrets.token_hex(10) for p in players}  # hex: never starts with "-", which a command line would take for an option
        await run_in_threadpool(db.open_live, live_id, made["scenario"], seed, made,
                                {p: token_digest(k) for p, k in keys.items()}, float(minutes) * 60, clock())
        return _json({"id": live_id, "scenario": made["scenario"], "seed": seed, "companies": made["companies"],
                      "keys": keys, "round_seconds": float(minutes) * 60, "quarters": made["quarters"]}, 201)

    async def live_status(request: Request) -> Response:
        live = await run_in_threadpool(db.live, request.path_params["live_id"])
        if live is None:
            return _json({"error": "no such industry"}, 404)
        return _json({**live, "now": clock()})

    async def player(request: Request) -> tuple[str, Response | None]:
        """The player named by ``?player=`` and proven by their key (``X-Player-Key``), or the refusal."""
        name = request.query_params.get("player", "")
        key = request.headers.get("x-player-key", "")
        ok = bool(name and key) and await run_in_threadpool(db.live_key_ok, request.path_params["live_id"], name, token_digest(key))
        return name, None if ok else _json({"error": "unknown industry, player or key (X-Player-Key: the key the instructor gave you)"}, 403)

    async def live_observation(request: Request) -> Response:
        name, refused = await player(request)
        if refused is not None:
            return refused
        live_id = request.path_params["live_id"]
        view, live = await run_in_threadpool(lambda: (db.live_view(live_id, name), db.live(live_id)))
        if view is None or live is None:
            return _json({"error": "no such industry"}, 404)
        return _json({**view, "industry": live_id, "round": live["quarter"], "deadline": live["deadline"], "now": clock(),
                      "status": live["status"], "planned": name in live["planned"], "scenario": live["scenario"], "seed": live["seed"]})

    async def live_plan(request: Request) -> Response:
        from game.classroom.live import validate_plan

        name, refused = await player(request)
        if refused is not None:
            return refused
        body = await request.body()
        if len(body) > max_bytes:
            return _refuse(f"too large: a plan is at most {max_bytes:,} bytes")
        try:
            posted = json.loads(body)
            if not isinstance(posted, dict) or not isinstance(posted.get("round"), int):
                raise ValueError("send {\"round\": N, \"actions\": [...]} (N: the round your observation names)")
            actions = validate_plan(posted.get("actions", []))
        except RecursionError:
            return _refuse("not a usable plan: nested too deeply")
        except ValueError as exc:
            return _refuse(str(exc) if str(exc) else "not JSON")
        why = await run_in_threadpool(db.post_plan, request.path_params["live_id"], name, posted["round"], actions, clock())
        if why is not None:
            return _refuse(why, 409)
        dispatcher.round_wake.set()
        dispatcher.wake.set()
        return _json({"accepted": True, "player": name, "round": posted["round"], "actions": len(actions)}, 201)

    async def live_file(request: Request) -> Response:
        """The industry file so far: for the instructor at any time, for everyone once it is over
        (before, it would show the players' past plans to their rivals)."""
        live_id = request.path_params["live_id"]
        live = await run_in_threadpool(db.live, live_id)
        if live is None:
            return _json({"error": "no such industry"}, 404)
        if live["status"] != "over" and not authorized(request):
            return _json({"error": "the industry is still being played: its file is the instructor's until it is over"}, 403)
        text = await run_in_threadpool(db.live_file, live_id)
        return Response(text, media_type="application/json", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="industry-{live_id}.json"'})

    async def health(request: Request) -> Response:
        queue = await run_in_threadpool(db.queue_counts)
        return _json({"ok": True, "queue": queue, "verifier_error": repr(dispatcher.error) if dispatcher.error else None})

    app = Starlette(lifespan=lifespan, routes=[
        Route("/", index),
        Route("/standings", standings_page),
        Route("/instructor/{comp_id}", report_page),
        Route("/api/runs", submit_run, methods=["POST"]),
        Route("/api/jobs/{job_id}", job_status),
        Route("/api/standings", api_standings),
        Route("/api/competitions", add_competition, methods=["POST"]),
        Route("/api/competitions/{comp_id}/gradebook.csv", gradebook),
        Route("/api/health", health),
        Route("/api/live", live_open, methods=["POST"]),
        Route("/api/live/{live_id}", live_status),
        Route("/api/live/{live_id}/observation", live_observation),
        Route("/api/live/{live_id}/plan", live_plan, methods=["POST"]),
        Route("/api/live/{live_id}/file", live_file),
    ])
    app.state.db = db
    app.state.dispatcher = dispatcher
    return app

