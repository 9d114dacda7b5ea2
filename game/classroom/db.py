"""The classroom server's database: one schema and its migrations on SQLite and PostgreSQL (issue 13).

``--db sqlite:///PATH`` is the embedded default (one machine; WAL mode, a busy timeout);
``--db postgresql://...`` lets several ``tycoon board serve`` processes on several machines share
the boards and the verification queue. SQL is written once with ``?`` placeholders; the few
dialect words (the id column, ``FOR UPDATE SKIP LOCKED``, advisory locks) are filled in here.

Runs are stored with the local leaderboard's columns (``game.leaderboard``), so that its ranking
queries, duplicate rules and CSV export work on this database unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from game.competition import Competition, rank_of
from game.errors import UserError
from game.leaderboard import _COLUMNS, BUSY_TIMEOUT_MS, Entry, Outcome, Store, _csv_cells

# (version, statements): applied in order, each version in one transaction; never edit a shipped one
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE IF NOT EXISTS runs (
            id {ID},
            competition TEXT NOT NULL DEFAULT '', scenario TEXT NOT NULL, scenario_sha256 TEXT NOT NULL,
            ruleset TEXT NOT NULL, seed BIGINT NOT NULL, player TEXT NOT NULL, archetype TEXT NOT NULL, bot TEXT,
            score_cents BIGINT NOT NULL, verdict TEXT NOT NULL, quarters_played INTEGER NOT NULL,
            bankrupt INTEGER NOT NULL, final_hash TEXT NOT NULL, file_sha256 TEXT NOT NULL, source TEXT NOT NULL,
            added_at TEXT NOT NULL, scorecard TEXT NOT NULL, scorecard_csv TEXT NOT NULL,
            branch TEXT NOT NULL DEFAULT '',  -- '' or "branch of PLAYER at 2026Q2" (issue 14)
            facts TEXT NOT NULL DEFAULT '{{}}',  -- JSON: contracted share, leverage, end reason (the charts)
            job_id BIGINT,
            UNIQUE (competition, scenario, scenario_sha256, ruleset, seed, player, final_hash),
            UNIQUE (competition, file_sha256)
        )""",
        "CREATE INDEX IF NOT EXISTS runs_board ON runs (competition, scenario, scenario_sha256, ruleset, seed, score_cents DESC, id)",
        "CREATE INDEX IF NOT EXISTS runs_player ON runs (competition, player)",
        """CREATE TABLE IF NOT EXISTS competitions (
            id TEXT PRIMARY KEY, class_code TEXT NOT NULL UNIQUE, spec TEXT NOT NULL,
            bots TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL
        )""",
        # the verification queue: a job is acknowledged once its row is committed
        """CREATE TABLE IF NOT EXISTS jobs (
            id {ID},
            status TEXT NOT NULL DEFAULT 'queued',  -- queued, running, done
            body {BLOB} NOT NULL, competition TEXT NOT NULL DEFAULT '', client TEXT NOT NULL DEFAULT '',
            created_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            tries INTEGER NOT NULL DEFAULT 0, finished_at DOUBLE PRECISION,
            accepted INTEGER, result TEXT, run_id BIGINT
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_waiting ON jobs (status, id)",
        "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]),
    # issue 15: industry files, each company ranked within its industry
    (2, [
        """CREATE TABLE IF NOT EXISTS industries (
            id {ID},
            competition TEXT NOT NULL DEFAULT '', scenario TEXT NOT NULL, scenario_sha256 TEXT NOT NULL,
            ruleset TEXT NOT NULL, seed BIGINT NOT NULL,
            industry_hash TEXT NOT NULL,  -- every company's final state hash: the same industry twice is a duplicate
            file_sha256 TEXT NOT NULL, quarters INTEGER NOT NULL, added_at TEXT NOT NULL, job_id BIGINT,
            UNIQUE (competition, industry_hash),
            UNIQUE (competition, file_sha256)
        )""",
        "CREATE INDEX IF NOT EXISTS industries_board ON industries (competition, scenario, seed, id)",
        """CREATE TABLE IF NOT EXISTS industry_companies (
            industry_id BIGINT NOT NULL REFERENCES industries (id), name TEXT NOT NULL,
            bot TEXT,  -- the bot that ran a rival company; NULL for a player's
            rank INTEGER NOT NULL, score_cents BIGINT NOT NULL, revenue_cents BIGINT NOT NULL,
            share DOUBLE PRECISION NOT NULL, verdict TEXT NOT NULL, bankrupt INTEGER NOT NULL,
            quarters_played INTEGER NOT NULL, facts TEXT NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (industry_id, name)
        )""",
        # networked rounds: an industry played on the server, a quarter per round
        """CREATE TABLE IF NOT EXISTS live_industries (
            id TEXT PRIMARY KEY, scenario TEXT NOT NULL, seed BIGINT NOT NULL,
            companies TEXT NOT NULL,  -- JSON: each company's name and bot
            keys TEXT NOT NULL,  -- JSON: each player's key, as its SHA-256
            round_seconds DOUBLE PRECISION NOT NULL, quarter INTEGER NOT NULL DEFAULT 0, quarters INTEGER NOT NULL,
            label TEXT NOT NULL DEFAULT '',  -- the last quarter resolved
            deadline DOUBLE PRECISION NOT NULL, waiting TEXT NOT NULL,  -- JSON: the players this round waits for
            n_waiting INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'open',  -- open, over
            file TEXT NOT NULL,  -- the industry file so far (tycoon verify reads it)
            lease_until DOUBLE PRECISION NOT NULL DEFAULT 0, created_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS live_due ON live_industries (status, deadline)",
        """CREATE TABLE IF NOT EXISTS live_plans (
            industry_id TEXT NOT NULL, quarter INTEGER NOT NULL, name TEXT NOT NULL, actions TEXT NOT NULL,
            submitted_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (industry_id, quarter, name)
        )""",
        """CREATE TABLE IF NOT EXISTS live_views (
            industry_id TEXT NOT NULL, name TEXT NOT NULL, view TEXT NOT NULL, PRIMARY KEY (industry_id, name)
        )""",
    ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
MAX_TRIES = 3  # a job whose verification killed its worker this often is refused, not retried forever
_MIGRATION_LOCK = 713_013  # the PostgreSQL advisory lock that serializes migrations across servers
RUN_COLUMNS = (*_COLUMNS[1:], "facts", "job_id")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Job:
    """A claimed verification job."""

    id: int
    body: bytes
    competition: str
    tries: int


class _Conn:
    """A connection in a transaction, with ``?`` placeholders on both databases (so that
    ``game.leaderboard.Store``'s queries run here unchanged)."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw, self.postgres = raw, postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.postgres:
            sql = sql.replace("?", "%s")
        return self.raw.execute(sql, tuple(params))


class _StoreView:
    """What ``game.leaderboard.Store``'s readers need of a store: ``conn``."""

    def __init__(self, conn: _Conn) -> None:
        self.conn = conn


class Database:
    """``Database("sqlite:///PATH")`` or ``Database("postgresql://...")``; ``close()`` when done."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            self.postgres = True
            try:
                from psycopg_pool import ConnectionPool
            except ImportError:
                raise UserError('--db postgresql://... needs the server extra: pip install "ai-cloud-tycoon[server]"') from None
            self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True})
            try:
                self.pool.open(wait=True, timeout=15)
            except Exception as exc:  # noqa: BLE001 - the pool names the cause
                self.pool.close()
                raise UserError(f"--db {self.redacted}: cannot connect to PostgreSQL ({exc})") from None
        elif url.startswith("sqlite:///"):
            self.postgres = False
            self.path = Path(url[len("sqlite:///"):])
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"--db {url}: cannot create its folder ({exc.strerror})") from None
            self._local = threading.local()
            self._all: list[sqlite3.Connection] = []
            self._lock = threading.Lock()
        else:
            raise UserError(f"--db {url!r}: give sqlite:///PATH or postgresql://USER@HOST/DBNAME")
        self.migrate()

    @property
    def redacted(self) -> str:
        """The URL without a password (for messages)."""
        head, sep, tail = self.url.partition("@")
        if not sep or ":" not in head.split("//", 1)[-1]:
            return self.url
        return head.rsplit(":", 1)[0] + ":***@" + tail

    # ---- connections and transactions

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")  # an acknowledged run survives a power cut
            except sqlite3.Error as exc:
                raise UserError(f"--db {self.url}: cannot open ({exc})") from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[_Conn]:
        """One write transaction: all of it commits, or none of it."""
        if self.postgres:
            with self.pool.connection() as raw, raw.transaction():
                yield _Conn(raw, True)
            return
        raw = self._sqlite()
        raw.execute("BEGIN IMMEDIATE")  # writers queue here: SQLite's one writer at a time
        try:
            yield _Conn(raw, False)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[_Conn]:
        """A read-only look (no write lock on SQLite)."""
        if self.postgres:
            with self.pool.connection() as raw:
                yield _Conn(raw, True)
        else:
            yield _Conn(self._sqlite(), False)

    def close(self) -> None:
        if self.postgres:
            self.pool.close()
        else:
            with self._lock:
                for c in self._all:
                    try:
                        c.close()
                    except sqlite3.Error:
                        pass
                self._all.clear()
            self._local = threading.local()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- schema

    def _dialect(self, stmt: str) -> str:
        if self.postgres:
            return stmt.format(ID="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", BLOB="BYTEA")
        return stmt.format(ID="INTEGER PRIMARY KEY AUTOINCREMENT", BLOB="BLOB")

    def schema_version(self) -> int | None:
        with self.read() as c:
            if self.postgres:
                has = c.execute("SELECT to_regclass('schema_version')").fetchone()[0] is not None
            else:
                has = c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone() is not None
            if not has:
                return None
            row = c.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def migrate(self) -> None:
        """Bring the schema to ``SCHEMA_VERSION``; several servers starting at once apply each step once."""
        with self.tx() as c:
            if self.postgres:
                c.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = c.execute("SELECT MAX(version) FROM schema_version").fetchone()
            have = 0 if row is None or row[0] is None else int(row[0])
            if have > SCHEMA_VERSION:
                raise UserError(f"--db {self.redacted}: schema version {have} was written by a newer tycoon "
                                f"(this one reads version {SCHEMA_VERSION}); upgrade it")
            for version, statements in MIGRATIONS:
                if version <= have:
                    continue
                for stmt in statements:
                    c.execute(self._dialect(stmt))
                c.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    # ---- settings: the instructor token is kept as its SHA-256 only

    def setting(self, name: str) -> str | None:
        with self.read() as c:
            row = c.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str, only_if_missing: bool = False) -> bool:
        """Store a setting; with ``only_if_missing``, keep one already there. True if written."""
        with self.tx() as c:
            row = c.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            if row is not None and only_if_missing:
                return False
            if row is None:
                c.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
            else:
                c.execute("UPDATE settings SET value = ? WHERE name = ?", (value, name))
        return True

    # ---- competitions

    def add_competition(self, comp: Competition, class_code: str, bots: list[dict[str, Any]]) -> str:
        """Create (or, same id, update) a competition; returns its class code (kept on update)."""
        spec = comp.model_dump_json()
        with self.tx() as c:
            row = c.execute("SELECT class_code FROM competitions WHERE id = ?", (comp.id,)).fetchone()
            if row is not None:
                c.execute("UPDATE competitions SET spec = ?, bots = ? WHERE id = ?", (spec, json.dumps(bots), comp.id))
                return str(row[0])
            c.execute("INSERT INTO competitions (id, class_code, spec, bots, created_at) VALUES (?, ?, ?, ?, ?)",
                      (comp.id, class_code, spec, json.dumps(bots), now_iso()))
        return class_code

    def competitions(self) -> list[tuple[Competition, str, int]]:
        """(competition, class code, verified runs and industries) for each, newest first."""
        with self.read() as c:
            rows = c.execute(
                "SELECT c.spec, c.class_code, (SELECT COUNT(*) FROM runs r WHERE r.competition = c.id) "
                "+ (SELECT COUNT(*) FROM industries i WHERE i.competition = c.id) "
                "FROM competitions c ORDER BY c.created_at DESC, c.id"
            ).fetchall()
        return [(Competition.model_validate_json(r[0]), str(r[1]), int(r[2])) for r in rows]

    def competition(self, *, id: str | None = None, code: str | None = None) -> tuple[Competition, list[dict[str, Any]]] | None:
        """The competition with this id or class code, and the built-in bots' results on it."""
        col, value = ("id", id) if id is not None else ("class_code", code)
        with self.read() as c:
            row = c.execute(f"SELECT spec, bots FROM competitions WHERE {col} = ?", (value,)).fetchone()
        if row is None:
            return None
        return Competition.model_validate_json(row[0]), json.loads(row[1])

    # ---- the queue

    def enqueue(self, body: bytes, competition: str = "", client: str = "") -> int:
        """Store a submission for verification; once this returns, the submission is not lost."""
        with self.tx() as c:
            row = c.execute("INSERT INTO jobs (body, competition, client, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                            (body, competition, client[:200], time.time())).fetchone()
        return int(row[0])

    def claim(self, limit: int, lease_s: float) -> list[Job]:
        """Take up to ``limit`` waiting jobs (or jobs whose claimer stopped renewing its lease: it
        crashed) for ``lease_s`` seconds. On PostgreSQL, servers skip each other's locked rows."""
        now = time.time()
        lock = "FOR UPDATE SKIP LOCKED" if self.postgres else ""  # SQLite: BEGIN IMMEDIATE already serializes
        with self.tx() as c:
            rows = c.execute(
                "UPDATE jobs SET status = 'running', lease_until = ?, tries = tries + 1 WHERE id IN ("
                "SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < ?) "
                f"ORDER BY id LIMIT ? {lock}) RETURNING id, body, competition, tries",
                (now + lease_s, now, limit),
            ).fetchall()
        return sorted((Job(int(r[0]), bytes(r[1]), str(r[2]), int(r[3])) for r in rows), key=lambda j: j.id)

    def renew(self, job_ids: Sequence[int], lease_s: float) -> None:
        """Keep the lease of jobs still being verified here."""
        if not job_ids:
            return
        with self.tx() as c:
            c.execute(f"UPDATE jobs SET lease_until = ? WHERE status = 'running' AND id IN ({', '.join('?' * len(job_ids))})",
                      (time.time() + lease_s, *job_ids))

    def release(self, job_ids: Sequence[int]) -> None:
        """Put jobs back in the queue (their worker died; ``tries`` already counts the attempt)."""
        if not job_ids:
            return
        with self.tx() as c:
            c.execute(f"UPDATE jobs SET status = 'queued', lease_until = 0 WHERE status = 'running' AND id IN ({', '.join('?' * len(job_ids))})",
                      tuple(job_ids))

    def job(self, job_id: int) -> dict[str, Any] | None:
        """A job's state: ``status`` and, once done, ``accepted`` and ``result`` (the API's answer)."""
        with self.read() as c:
            row = c.execute("SELECT status, accepted, result FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        return {"id": job_id, "status": str(row[0]), "accepted": None if row[1] is None else bool(row[1]),
                "result": None if row[2] is None else json.loads(row[2])}

    def queue_counts(self) -> dict[str, int]:
        with self.read() as c:
            rows = c.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def _closed_job(self, c: Any, job_id: int) -> dict[str, Any] | None:
        """Lock the job's row; the result it already has if another server closed it (or an unknown
        job's refusal), else None: the caller closes it."""
        row = c.execute("SELECT status, result FROM jobs WHERE id = ?" + (" FOR UPDATE" if self.postgres else ""), (job_id,)).fetchone()
        if row is None:
            return {"accepted": False, "reason": "unknown job"}
        return json.loads(row[1]) if row[0] == "done" else None

    def finish(self, job_id: int, outcome: Outcome, comp: Competition | None) -> dict[str, Any]:
        """Store a verified run (unless a duplicate or over the attempt policy) and close its job, in
        one transaction. Returns the job's result. A job another server already closed stays closed."""
        with self.tx() as c:
            closed = self._closed_job(c, job_id)
            if closed is not None:
                return closed
            result: dict[str, Any]
            run_id = None
            if not outcome.ok or outcome.entry is None:
                result = {"accepted": False, "reason": outcome.reason}
            else:
                e = outcome.entry
                if self.postgres:  # one writer per board at a time: the attempt count and duplicates stay exact
                    c.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (e.competition or f"{e.scenario}/{e.seed}",))
                why = Store._duplicate(c, e) or self._over_policy(c, e, comp)
                if why:
                    result = {"accepted": False, "reason": why}
                else:
                    run_id = self._insert(c, e, outcome.facts or {}, job_id)
                    result = {"accepted": True, "id": run_id, **self._placement(c, e, comp), "player": e.player,
                              "score": e.score_usd, "verdict": e.verdict, "quarters": e.quarters_played}
            c.execute("UPDATE jobs SET status = 'done', accepted = ?, result = ?, run_id = ?, finished_at = ? WHERE id = ?",
                      (int(result["accepted"]), json.dumps(result), run_id, time.time(), job_id))
        return result

    def finish_industry(self, job_id: int, ok: bool, reason: str, record: dict[str, Any] | None,
                        comp: Competition | None) -> dict[str, Any]:
        """Store a verified industry file (unless the same industry is already on this board) and close
        its job, in one transaction. Returns the job's result: each player's rank within the industry."""
        with self.tx() as c:
            closed = self._closed_job(c, job_id)
            if closed is not None:
                return closed
            industry_id = None
            if not ok or record is None:
                result: dict[str, Any] = {"accepted": False, "reason": reason}
            else:
                board = comp.id if comp is not None else ""
                if self.postgres:  # one writer per board: the duplicate check stays exact
                    c.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (board or f"{record['scenario']}/{record['seed']}",))
                dup = c.execute("SELECT id FROM industries WHERE competition = ? AND (industry_hash = ? OR file_sha256 = ?)",
                                (board, record["industry_hash"], record["file_sha256"])).fetchone()
                if dup is not None:
                    result = {"accepted": False, "reason": f"duplicate: this industry is already on the board (industry {int(dup[0])})"}
                else:
                    industry_id = self._insert_industry(c, board, record, job_id)
                    players = [co for co in record["companies"] if co["bot"] is None]
                    of = len(record["companies"])
                    result = {
                        "accepted": True, "kind": "industry", "industry": industry_id,
                        "board": f"competition {comp.id}" if comp is not None else f"{record['scenario']} seed {record['seed']}",
                        "competition": board or None, "scenario": record["scenario"], "seed": record["seed"],
                        "companies": [{"name": co["name"], "bot": co["bot"], "rank": co["rank"], "of": of,
                                       "score": co["score_cents"] / 100, "share": co["share"], "verdict": co["verdict"],
                                       "bankrupt": co["bankrupt"]} for co in record["companies"]],
                        "player": ", ".join(co["name"] for co in players),
                        "score": max(co["score_cents"] for co in players) / 100, "rank": min(co["rank"] for co in players), "of": of,
                    }
            c.execute("UPDATE jobs SET status = 'done', accepted = ?, result = ?, finished_at = ? WHERE id = ?",
                      (int(result["accepted"]), json.dumps(result), time.time(), job_id))
        return result

    @staticmethod
    def _insert_industry(c: _Conn, board: str, record: dict[str, Any], job_id: int) -> int:
        row = c.execute(
            "INSERT INTO industries (competition, scenario, scenario_sha256, ruleset, seed, industry_hash, file_sha256, quarters, "
            "added_at, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (board, record["scenario"], record["scenario_sha256"], record["ruleset"], record["seed"], record["industry_hash"],
             record["file_sha256"], record["quarters"], now_iso(), job_id),
        ).fetchone()
        industry_id = int(row[0])
        for co in record["companies"]:
            c.execute("INSERT INTO industry_companies (industry_id, name, bot, rank, score_cents, revenue_cents, share, verdict, "
                      "bankrupt, quarters_played, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (industry_id, co["name"], co["bot"], co["rank"], co["score_cents"], co["revenue_cents"], co["share"],
                       co["verdict"], int(co["bankrupt"]), co["quarters_played"], json.dumps(co.get("facts") or {})))
        return industry_id

    def industries(self, *, competition: str = "", scenario: str | None = None, seed: int | None = None) -> list[dict[str, Any]]:
        """The industries on a board (a competition's, or an open board's scenario and seed), oldest
        first, each with its companies in rank order: ``{id, scenario, seed, quarters, added_at, companies}``."""
        where, params = "competition = ?", [competition]
        if scenario is not None:
            where += " AND scenario = ? AND seed = ?"
            params += [scenario, seed]
        with self.read() as c:
            heads = c.execute(f"SELECT id, scenario, seed, quarters, added_at FROM industries WHERE {where} ORDER BY id", params).fetchall()
            ids = [int(h[0]) for h in heads]
            rows = []
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                rows += c.execute(
                    "SELECT industry_id, name, bot, rank, score_cents, revenue_cents, share, verdict, bankrupt, quarters_played, facts "
                    f"FROM industry_companies WHERE industry_id IN ({', '.join('?' * len(part))}) ORDER BY industry_id, rank, name",
                    part).fetchall()
        companies: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for r in rows:
            companies[int(r[0])].append({
                "name": str(r[1]), "bot": r[2], "rival": r[2] is not None, "rank": int(r[3]), "score": int(r[4]) / 100,
                "revenue": int(r[5]) / 100, "share": float(r[6]), "verdict": str(r[7]), "bankrupt": bool(r[8]),
                "quarters": int(r[9]), "facts": json.loads(r[10]),
            })
        return [{"id": int(h[0]), "scenario": str(h[1]), "seed": int(h[2]), "quarters": int(h[3]), "submitted_at": str(h[4]),
                 "companies": companies[int(h[0])]} for h in heads]

    def industry_boards(self) -> dict[tuple[str, int], int]:
        """Open boards' industries: (scenario, seed) -> how many."""
        with self.read() as c:
            rows = c.execute("SELECT scenario, seed, COUNT(*) FROM industries WHERE competition = '' GROUP BY scenario, seed").fetchall()
        return {(str(r[0]), int(r[1])): int(r[2]) for r in rows}

    # ---- networked rounds (issue 15)

    def open_live(self, live_id: str, scenario: str, seed: int, made: dict[str, Any], keys: dict[str, str],
                  round_seconds: float, now: float) -> None:
        """Store a new networked industry (``game.classroom.live.new_industry``'s ``made``); its first
        round ends ``round_seconds`` from ``now``."""
        with self.tx() as c:
            c.execute("INSERT INTO live_industries (id, scenario, seed, companies, keys, round_seconds, quarter, quarters, deadline, "
                      "waiting, n_waiting, file, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
                      (live_id, scenario, seed, json.dumps(made["companies"]), json.dumps(keys), round_seconds, made["quarters"],
                       now + round_seconds, json.dumps(made["waiting"]), len(made["waiting"]), made["file"], now_iso()))
            self._put_views(c, live_id, made["views"])

    @staticmethod
    def _put_views(c: _Conn, live_id: str, views: dict[str, Any]) -> None:
        for name, view in sorted(views.items()):
            c.execute("DELETE FROM live_views WHERE industry_id = ? AND name = ?", (live_id, name))
            c.execute("INSERT INTO live_views (industry_id, name, view) VALUES (?, ?, ?)", (live_id, name, json.dumps(view)))

    def live(self, live_id: str) -> dict[str, Any] | None:
        """A networked industry's public state (no plans, no keys): quarter, deadline, who has planned."""
        with self.read() as c:
            row = c.execute("SELECT id, scenario, seed, companies, round_seconds, quarter, quarters, label, deadline, waiting, status, "
                            "lease_until FROM live_industries WHERE id = ?", (live_id,)).fetchone()
            if row is None:
                return None
            planned = [str(r[0]) for r in c.execute("SELECT name FROM live_plans WHERE industry_id = ? AND quarter = ? ORDER BY name",
                                                    (live_id, int(row[5]))).fetchall()]
        return {"id": str(row[0]), "scenario": str(row[1]), "seed": int(row[2]), "companies": json.loads(row[3]),
                "round_seconds": float(row[4]), "quarter": int(row[5]), "quarters": int(row[6]), "last_quarter": str(row[7]),
                "deadline": float(row[8]), "waiting": json.loads(row[9]), "status": str(row[10]), "planned": planned,
                "resolving": float(row[11]) > 0}

    def live_key_ok(self, live_id: str, name: str, key_digest: str) -> bool:
        import hmac

        with self.read() as c:
            row = c.execute("SELECT keys FROM live_industries WHERE id = ?", (live_id,)).fetchone()
        stored = json.loads(row[0]).get(name) if row is not None else None
        return stored is not None and hmac.compare_digest(stored, key_digest)

    def live_view(self, live_id: str, name: str) -> dict[str, Any] | None:
        with self.read() as c:
            row = c.execute("SELECT view FROM live_views WHERE industry_id = ? AND name = ?", (live_id, name)).fetchone()
        return None if row is None else json.loads(row[0])

    def live_file(self, live_id: str) -> str | None:
        with self.read() as c:
            row = c.execute("SELECT file FROM live_industries WHERE id = ?", (live_id,)).fetchone()
        return None if row is None else str(row[0])

    def post_plan(self, live_id: str, name: str, quarter: int, actions: list[dict[str, Any]], now: float) -> str | None:
        """Keep a player's plan for the round (a second post replaces the first). None if kept, else
        why not: the round is another one, is being resolved, or the player is out of the game."""
        lock = " FOR UPDATE" if self.postgres else ""
        with self.tx() as c:
            row = c.execute(f"SELECT quarter, status, lease_until, waiting FROM live_industries WHERE id = ?{lock}", (live_id,)).fetchone()
            if row is None:
                return "no such industry"
            if row[1] != "open":
                return "the industry is over"
            if int(row[0]) != quarter:
                return f"round {quarter} is not the one being played: this is round {int(row[0])}"
            if float(row[2]) > now:  # the resolver read the plans already: a late one must not be lost silently
                return f"round {quarter} is being resolved: your plan was not kept; plan the next round"
            if name not in json.loads(row[3]):
                return f"{name} is out of the game (bankrupt): no plan to make"
            c.execute("DELETE FROM live_plans WHERE industry_id = ? AND quarter = ? AND name = ?", (live_id, quarter, name))
            c.execute("INSERT INTO live_plans (industry_id, quarter, name, actions, submitted_at) VALUES (?, ?, ?, ?, ?)",
                      (live_id, quarter, name, json.dumps(actions), now))
        return None

    def claim_rounds(self, limit: int, lease_s: float, now: float) -> list[tuple[str, int, str, dict[str, list]]]:
        """Take up to ``limit`` rounds due for resolution (every player planned, or past the deadline)
        for ``lease_s`` seconds: (id, quarter, file, plans). On PostgreSQL servers skip each other's
        locked rows; a round whose claimer crashed is taken again when its lease ends."""
        lock = "FOR UPDATE SKIP LOCKED" if self.postgres else ""
        with self.tx() as c:
            rows = c.execute(
                "UPDATE live_industries SET lease_until = ? WHERE id IN ("
                "SELECT l.id FROM live_industries l WHERE l.status = 'open' AND l.lease_until < ? AND (l.deadline <= ? OR "
                "(SELECT COUNT(*) FROM live_plans p WHERE p.industry_id = l.id AND p.quarter = l.quarter) >= l.n_waiting) "
                f"ORDER BY l.deadline, l.id LIMIT ? {lock}) RETURNING id, quarter, file",
                (now + lease_s, now, now, limit),
            ).fetchall()
            out = []
            for r in sorted(rows, key=lambda r: str(r[0])):
                plans = {str(p[0]): json.loads(p[1]) for p in c.execute(
                    "SELECT name, actions FROM live_plans WHERE industry_id = ? AND quarter = ?", (r[0], int(r[1]))).fetchall()}
                out.append((str(r[0]), int(r[1]), str(r[2]), plans))
        return out

    def finish_round(self, live_id: str, quarter: int, resolved: dict[str, Any], now: float) -> bool:
        """Store a resolved round: the grown file, the players' views, the next deadline. Only if the
        industry is still at ``quarter`` (compare and set): a round is never resolved twice, even when
        a slow server's lease ran out and another resolved it. When the industry is over, its file is
        queued for the board like a submission. True if this call stored it."""
        with self.tx() as c:
            cur = c.execute(
                "UPDATE live_industries SET quarter = quarter + 1, file = ?, label = ?, deadline = ?, waiting = ?, n_waiting = ?, "
                "status = ?, lease_until = 0 WHERE id = ? AND quarter = ? AND status = 'open'",
                (resolved["file"], resolved["label"], now + self._round_seconds(c, live_id), json.dumps(resolved["waiting"]),
                 len(resolved["waiting"]), "over" if resolved["over"] else "open", live_id, quarter))
            if cur.rowcount != 1:
                return False
            self._put_views(c, live_id, resolved["views"])
            if resolved["over"]:
                c.execute("INSERT INTO jobs (body, competition, client, created_at) VALUES (?, '', ?, ?)",
                          (resolved["file"].encode("utf-8"), f"live industry {live_id}"[:200], time.time()))
        return True

    @staticmethod
    def _round_seconds(c: _Conn, live_id: str) -> float:
        row = c.execute("SELECT round_seconds FROM live_industries WHERE id = ?", (live_id,)).fetchone()
        return float(row[0]) if row else 0.0

    def release_rounds(self, live_ids: Sequence[str]) -> None:
        """Give rounds back (their resolution failed here): the next claim retries them."""
        if not live_ids:
            return
        with self.tx() as c:
            c.execute(f"UPDATE live_industries SET lease_until = 0 WHERE id IN ({', '.join('?' * len(live_ids))})", tuple(live_ids))

    def renew_rounds(self, live_ids: Sequence[str], lease_s: float, now: float) -> None:
        if not live_ids:
            return
        with self.tx() as c:
            c.execute(f"UPDATE live_industries SET lease_until = ? WHERE lease_until > 0 AND id IN ({', '.join('?' * len(live_ids))})",
                      (now + lease_s, *live_ids))

    @staticmethod
    def _over_policy(c: _Conn, e: Entry, comp: Competition | None) -> str | None:
        if comp is None:
            return None
        have = int(c.execute("SELECT COUNT(*) FROM runs WHERE competition = ? AND player = ?", (comp.id, e.player)).fetchone()[0])
        if have >= comp.attempts_counted:
            return (f"over the competition's attempt policy: {e.player!r} already has {have} verified attempt(s) "
                    f"and {comp.policy_text}")
        return None

    @staticmethod
    def _insert(c: _Conn, e: Entry, facts: dict[str, Any], job_id: int) -> int:
        e.added_at = now_iso()
        row = c.execute(
            f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))}) RETURNING id",
            (e.competition, e.scenario, e.scenario_sha256, e.ruleset, e.seed, e.player, e.archetype, e.bot,
             e.score_cents, e.verdict, e.quarters_played, int(e.bankrupt), e.final_hash, e.file_sha256, e.source,
             e.added_at, e.scorecard_json, e.scorecard_csv or _csv_cells(e.scorecard), e.branch, json.dumps(facts), job_id),
        ).fetchone()
        e.id = int(row[0])
        return e.id

    @staticmethod
    def _placement(c: _Conn, e: Entry, comp: Competition | None) -> dict[str, Any]:
        if comp is not None:
            standings = Store.competition_standings(_StoreView(c), comp, ("player", "score_cents"))
            return {"board": f"competition {comp.id}", "competition": comp.id, "rank": rank_of(standings, e.player),
                    "of": len(standings)}
        better, total = c.execute(
            "SELECT COALESCE(SUM(CASE WHEN score_cents > ? THEN 1 ELSE 0 END), 0), COUNT(*) FROM runs WHERE competition = '' "
            "AND scenario = ? AND scenario_sha256 = ? AND ruleset = ? AND seed = ?",
            (e.score_cents, e.scenario, e.scenario_sha256, e.ruleset, e.seed),
        ).fetchone()
        return {"board": f"{e.scenario} seed {e.seed}", "scenario": e.scenario, "seed": e.seed,
                "rank": int(better) + 1, "of": int(total)}

    # ---- reading boards (game.leaderboard.Store's queries, on this database)

    def boards(self) -> dict[tuple[str, str, str, int], int]:
        with self.read() as c:
            return Store.board_sizes(_StoreView(c))

    def entries(self, **kw: Any) -> list[tuple[int, Entry]]:
        with self.read() as c:
            return Store.entries(_StoreView(c), **kw)

    def competition_standings(self, comp: Competition, columns: Sequence[str] = _COLUMNS) -> list:
        with self.read() as c:
            return Store.competition_standings(_StoreView(c), comp, columns)

    def facts(self, run_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Each run's facts (contracted share, leverage, end reason) by id."""
        out: dict[int, dict[str, Any]] = {}
        ids = list(run_ids)
        with self.read() as c:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                for rid, text in c.execute(f"SELECT id, facts FROM runs WHERE id IN ({', '.join('?' * len(part))})", part).fetchall():
                    out[int(rid)] = json.loads(text)
        return out


def token_digest(token: str) -> str:
    """What the database keeps of the instructor token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

