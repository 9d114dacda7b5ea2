"""The local leaderboard: only re-simulated, verified runs go in (DESIGN.md "Files").

A board is keyed by scenario id + scenario SHA-256 + ruleset + seed: scores are comparable only
within one world. The store is SQLite (a file in the user data directory by default; ``--db``
picks another, and ``$TYCOON_DATA_DIR`` moves the default, which tests use). It is created on
first use, carries a ``schema_version`` table, runs in WAL mode with a busy timeout so that two
``add`` processes can write at once, and writes each ``add`` batch in one transaction so that a
crash mid-write leaves the store as it was before the batch.

Verification is deterministic and CPU-bound, so ``add`` re-simulates runs in a process pool
(two workers by default) and only then opens the write transaction.

Subcommands: ``tycoon leaderboard add RUN...``, ``show`` and ``export --csv FILE``; each takes
``--competition FILE`` to work on one classroom competition (see ``game.competition``).
"""

from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import io
import json
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from game.competition import Competition, apply_policy, competition_mismatch, load_competition
from game.cli import seed_arg
from game.errors import UserError
from game.pool import map_surviving_crashes
from game.safe_text import csv_text, printable

SCHEMA_VERSION = 2  # 2: the ``branch`` column (issue 14); a version-1 file gains it on open
APP_NAME = "ai-cloud-tycoon"
DB_NAME = "leaderboard.sqlite3"
DEFAULT_WORKERS = 2
BUSY_TIMEOUT_MS = 60_000
RUN_TIME_LIMIT_S = 60.0  # per run file: an honest 40-quarter run re-simulates in well under a second
SCORECARD_FIELDS = ("revenue", "gross_margin", "utilization", "dscr", "score")  # per quarter, for grading

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of receipt: attempts are counted by it
    competition     TEXT    NOT NULL DEFAULT '',        -- '' for the open board
    scenario        TEXT    NOT NULL,
    scenario_sha256 TEXT    NOT NULL,
    ruleset         TEXT    NOT NULL,
    seed            INTEGER NOT NULL,
    player          TEXT    NOT NULL,
    archetype       TEXT    NOT NULL,
    bot             TEXT,
    score_cents     INTEGER NOT NULL,
    verdict         TEXT    NOT NULL,
    quarters_played INTEGER NOT NULL,
    bankrupt        INTEGER NOT NULL,
    final_hash      TEXT    NOT NULL,
    file_sha256     TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    added_at        TEXT    NOT NULL,
    scorecard       TEXT    NOT NULL,                   -- JSON: [[label, revenue, gm, util, dscr, score], ...]
    scorecard_csv   TEXT    NOT NULL,                   -- the same cells as CSV, so that export need not parse JSON
    branch          TEXT    NOT NULL DEFAULT '',        -- '' or "branch of PLAYER at 2026Q2" (a run file's parent)
    UNIQUE (competition, scenario, scenario_sha256, ruleset, seed, player, final_hash),
    UNIQUE (competition, file_sha256)
);
CREATE INDEX IF NOT EXISTS runs_board ON runs (competition, scenario, scenario_sha256, ruleset, seed, score_cents DESC, id);
"""

_COLUMNS = (
    "id", "competition", "scenario", "scenario_sha256", "ruleset", "seed", "player", "archetype", "bot",
    "score_cents", "verdict", "quarters_played", "bankrupt", "final_hash", "file_sha256", "source", "added_at",
    "scorecard", "scorecard_csv", "branch",
)


# what a column holds when a reader did not select it
_BLANK: dict[str, Any] = {
    "competition": "", "scenario": "", "scenario_sha256": "", "ruleset": "", "seed": 0, "player": "", "archetype": "",
    "bot": None, "score_cents": 0, "verdict": "", "quarters_played": 0, "bankrupt": 0, "final_hash": "", "file_sha256": "",
    "source": "", "added_at": "", "scorecard": "[]", "scorecard_csv": "", "id": None, "branch": "",
}
# the columns each reader prints: a row's scorecard (~4.5 KB for 20 quarters) is read only by export
SHOW_COLUMNS = ("id", "competition", "scenario", "scenario_sha256", "ruleset", "seed", "player", "archetype",
                "score_cents", "verdict", "quarters_played", "bankrupt", "final_hash", "branch")
EXPORT_READ_COLUMNS = tuple(c for c in _COLUMNS if c != "scorecard")


def _csv_cells(rows: Iterable[Sequence[Any]]) -> str:
    """Cells as one CSV fragment (no line end), quoted exactly as ``csv.writer`` quotes them."""
    buf = io.StringIO()
    # "\r\n" as line end so that a cell holding either is quoted (csv quotes only the terminator's characters)
    csv.writer(buf, lineterminator="\r\n").writerow([("" if v is None else v) for row in rows for v in row])
    return buf.getvalue()[:-2]


def default_db_path() -> Path:
    """``$TYCOON_DATA_DIR/leaderboard.sqlite3``, else the platform's user data directory."""
    env = os.environ.get("TYCOON_DATA_DIR")
    if env:
        return Path(env) / DB_NAME
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / DB_NAME


# ----------------------------------------------------------------------------- records


@dataclass
class Entry:
    """One verified run on a board."""

    scenario: str
    scenario_sha256: str
    ruleset: str
    seed: int
    player: str
    archetype: str
    score_cents: int
    verdict: str
    quarters_played: int
    bankrupt: bool
    final_hash: str
    file_sha256: str
    source: str
    scorecard_json: str  # per quarter: [label, *SCORECARD_FIELDS], as JSON (decoded on demand)
    bot: str | None = None
    competition: str = ""
    id: int | None = None
    added_at: str = ""
    scorecard_csv: str = ""  # the same cells as one CSV fragment (filled when stored)
    branch: str = ""  # "branch of PLAYER at 2026Q2" for a run taken over from another (issue 14), else ""

    @property
    def scorecard(self) -> list[list[Any]]:
        """Per quarter: the label, then revenue, gross margin, utilization, DSCR and score."""
        return json.loads(self.scorecard_json)

    @property
    def order(self) -> int:  # for game.competition.apply_policy
        return self.id if self.id is not None else 0

    @property
    def score_usd(self) -> float:
        return self.score_cents / 100

    @property
    def board(self) -> tuple[str, str, str, int]:
        return (self.scenario, self.scenario_sha256, self.ruleset, self.seed)

    @classmethod
    def from_row(cls, row: Sequence[Any], columns: Sequence[str] = _COLUMNS) -> Entry:
        """An entry from a row of ``columns``; columns not selected are left blank (``show`` reads
        no scorecard, ``export`` only its CSV cells)."""
        d = {**_BLANK, **dict(zip(columns, row, strict=True))}
        d["bankrupt"] = bool(d["bankrupt"])
        d["scorecard_json"] = d.pop("scorecard")
        return cls(**d)


@dataclass
class Outcome:
    """What ``add`` did with one run file."""

    path: str
    ok: bool
    reason: str
    entry: Entry | None = None
    note: str = ""
    facts: dict[str, Any] | None = None  # what ``on_game`` said of the re-simulated game (the classroom server's charts)


# ----------------------------------------------------------------------------- verification (workers)


def _strip_path(message: str, path: str) -> str:
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def verify_for_leaderboard(path: str, competition: Competition | None = None,
                           on_game: Callable[[Any], dict[str, Any]] | None = None) -> Outcome:
    """Re-simulate one run file and build its board entry, or say why it cannot go in.

    Runs in a worker process: takes and returns plain, picklable data. ``on_game`` (a module-level
    function) reads more facts off the verified game, so that nobody re-simulates it again.
    """
    from engine.money import to_usd
    from game.headless import quarter_summary
    from game.runfile import MAX_RUN_BYTES, is_builtin, load_run, read_bounded, verify_run

    p = Path(path)
    try:
        data = read_bounded(p, MAX_RUN_BYTES, "run file")  # bounded: a path to /dev/zero is refused, not read
        run = load_run(p)
        if competition is not None:
            why = competition_mismatch(competition, run.scenario, run.seed, run.competition, run.scenario_sha256)
            if why is None and not is_builtin(run.scenario, run.scenario_sha256):  # checked before simulating
                why = f"was played on a custom scenario {run.scenario!r} (sha256 {run.scenario_sha256[:12]}...), not the built-in one"
            if why:
                return Outcome(path, False, f"not a run of this competition: it {why}")
            if run.parent is not None and competition.branches == "refuse":
                return Outcome(path, False, f"{branch_label(run.parent)}: competition {competition.id!r} does not count branches (branches = \"refuse\")")
        v = verify_run(p)
    except UserError as exc:
        return Outcome(path, False, _strip_path(str(exc), str(p)))
    if not v.ok:
        where = f" (first divergent quarter: {v.first_divergence})" if v.first_divergence else ""
        return Outcome(path, False, f"does not verify: {v.reason}{where}")
    game = v.game
    assert game is not None
    if not game.reports:
        return Outcome(path, False, "does not verify: the run has no quarters played")
    if not game.over:
        return Outcome(path, False, f"unfinished: {len(game.reports)} of {game.scenario.quarters} quarters played; finish the game first")
    last = game.reports[-1]
    final = run.final or {}
    if not final:
        return Outcome(path, False, "does not verify: the run records no final score")
    if final.get("verdict") != last.score.verdict:
        return Outcome(path, False, f"does not verify: claims the verdict {final.get('verdict')!r} but re-simulates to {last.score.verdict!r}")
    if final.get("quarters_played", len(game.reports)) != len(game.reports):
        return Outcome(path, False, f"does not verify: claims {final.get('quarters_played')} quarters but has {len(game.reports)}")
    scorecard = []
    for r in game.reports:
        s = quarter_summary(r)
        scorecard.append([s["quarter"], *(s[f] for f in SCORECARD_FIELDS)])
    entry = Entry(
        scenario=run.scenario, scenario_sha256=run.scenario_sha256, ruleset=run.ruleset, seed=run.seed,
        player=run.player or "(anonymous)", archetype=run.archetype or game.scenario.archetype,
        score_cents=int(last.score.score_cents), verdict=last.score.verdict, quarters_played=len(game.reports),
        bankrupt=bool(last.bankrupt), final_hash=last.state_hash, file_sha256=hashlib.sha256(data).hexdigest(),
        source=str(p), scorecard_json=json.dumps(scorecard, separators=(",", ":")), bot=run.bot, competition=competition.id if competition else "",
        branch=branch_label(run.parent) if run.parent is not None else "",
    )
    if to_usd(entry.score_cents) != final.get("score"):
        return Outcome(path, False, f"does not verify: claims a score of {final.get('score')!r} but re-simulates to {to_usd(entry.score_cents)}")
    facts = on_game(game) if on_game is not None else None
    return Outcome(path, True, f"verified {len(game.reports)} quarters", entry, v.scenario_label, facts)


def branch_label(parent: dict) -> str:
    """How the boards label a branch: whose run it took over, and from which quarter."""
    return f"branch of {parent.get('player') or '(anonymous)'} at {parent.get('at')}"


class RunTooSlow(Exception):
    """A run file whose re-simulation passed the per-run time limit."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``RunTooSlow`` in this thread after ``seconds`` of wall time (a SIGALRM timer), so that
    one run on a pathological scenario cannot hold a class's batch. Where no timer can be set (not
    the main thread, no SIGALRM), the run goes unbounded."""
    usable = seconds is not None and seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - signal handler signature
        raise RunTooSlow(f"took longer than {seconds:g} s to re-simulate")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _verify_star(args: tuple) -> Outcome:
    """(path, competition[, time limit[, on_game]]) -> the outcome; never raises for a bad file."""
    path, competition, *rest = args
    limit = rest[0] if rest else RUN_TIME_LIMIT_S
    on_game = rest[1] if len(rest) > 1 else None
    try:
        with time_limit(limit):
            return verify_for_leaderboard(path, competition, on_game)
    except RunTooSlow as exc:
        return Outcome(path, False, f"refused: it {exc} (limit per run file)")
    except MemoryError:
        return Outcome(path, False, "could not be re-simulated: it asks for more memory than this machine has")
    except Exception as exc:  # one broken file must not stop a class's batch
        return Outcome(path, False, f"could not be re-simulated ({type(exc).__name__}: {str(exc)[:200]})")


def verify_many(paths: Sequence[str], competition: Competition | None = None, workers: int = DEFAULT_WORKERS,
                time_limit_s: float | None = RUN_TIME_LIMIT_S) -> list[Outcome]:
    """Verify run files in order, in a process pool when there is more than one; each run file
    gets at most ``time_limit_s`` seconds, and a refusal never stops the others."""
    jobs = [(str(p), competition, time_limit_s) for p in paths]
    if workers <= 1 or len(jobs) < 2:
        return [_verify_star(j) for j in jobs]
    # a worker killed by the system (out of memory, a signal) costs only its own run file
    return map_surviving_crashes(
        _verify_star, jobs, workers, lambda job, why: Outcome(job[0], False, f"could not be re-simulated: {why}"),
    )


# ----------------------------------------------------------------------------- the store


class Store:
    """The SQLite leaderboard. Open with ``Store(path)``; close with ``close()`` or ``with``."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot create its folder ({exc.strerror})") from None
        try:
            # autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot open the leaderboard ({exc})") from None
        try:
            self._setup()
        except sqlite3.OperationalError as exc:
            self.conn.close()
            raise UserError(f"{self.path}: cannot open the leaderboard ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise UserError(f"{self.path}: not a leaderboard database ({exc})") from None
        except BaseException:
            self.conn.close()
            raise

    def _setup(self) -> None:
        """WAL mode and the schema. Switching to WAL and creating the schema can meet another
        process doing the same on first use; SQLite then answers "locked" at once instead of
        waiting, so retry until the busy timeout."""
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.01
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = FULL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                time.sleep(pause)
                pause = min(0.2, pause * 2)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it commits, or none of it (a crash rolls it back)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.schema_version()
        if version == SCHEMA_VERSION:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise UserError(
                f"{self.path}: leaderboard schema version {version} was written by a newer tycoon "
                f"(this one reads version {SCHEMA_VERSION}); upgrade, or pick another file with --db"
            )
        with self.transaction() as c:
            if self.schema_version() == 1:  # read again under the lock: another process may have migrated it
                c.execute("ALTER TABLE runs ADD COLUMN branch TEXT NOT NULL DEFAULT ''")
                c.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            for stmt in _SCHEMA.strip().split(";"):
                if stmt.strip():
                    c.execute(stmt)
            row = c.execute("SELECT version FROM schema_version").fetchone()
            if row is None:  # another process may have created it while we waited for the lock
                c.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def schema_version(self) -> int | None:
        has = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
        if not has:
            return None
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # ---- writing ----

    def _insert_one(self, c: sqlite3.Connection, e: Entry, added_at: str) -> int:
        cur = c.execute(
            f"INSERT INTO runs ({', '.join(_COLUMNS[1:])}) VALUES ({', '.join('?' * (len(_COLUMNS) - 1))})",
            (
                e.competition, e.scenario, e.scenario_sha256, e.ruleset, e.seed, e.player, e.archetype, e.bot,
                e.score_cents, e.verdict, e.quarters_played, int(e.bankrupt), e.final_hash, e.file_sha256, e.source,
                added_at, e.scorecard_json, e.scorecard_csv or _csv_cells(e.scorecard), e.branch,
            ),
        )
        return int(cur.lastrowid)

    def add(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Store the verified outcomes in one transaction; refuse duplicates with a reason.

        Returns the outcomes, updated: a duplicate becomes a refusal, a stored one gets its id.
        """
        added_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out: list[Outcome] = []
        with self.transaction() as c:
            for o in outcomes:
                if not o.ok or o.entry is None:
                    out.append(o)
                    continue
                e = o.entry
                why = self._duplicate(c, e)
                if why:
                    out.append(Outcome(o.path, False, why))
                    continue
                e.id = self._insert_one(c, e, added_at)
                e.added_at = added_at
                same = c.execute(
                    "SELECT player FROM runs WHERE competition = ? AND final_hash = ? AND player != ? LIMIT 1",
                    (e.competition, e.final_hash, e.player),
                ).fetchone()
                note = f"the same game (identical final state) as {same[0]}'s" if same else ""
                out.append(Outcome(o.path, True, o.reason, e, "; ".join(n for n in (o.note, note) if n)))
        return out

    @staticmethod
    def _duplicate(c: sqlite3.Connection, e: Entry) -> str | None:
        board = "this competition" if e.competition else "the leaderboard"
        row = c.execute(
            "SELECT id, player FROM runs WHERE competition = ? AND file_sha256 = ?", (e.competition, e.file_sha256)
        ).fetchone()
        if row:
            return f"duplicate: this run file is already on {board} (entry #{row[0]}, player {row[1]!r})"
        row = c.execute(
            "SELECT id FROM runs WHERE competition = ? AND scenario = ? AND scenario_sha256 = ? AND ruleset = ? "
            "AND seed = ? AND player = ? AND final_hash = ?",
            (e.competition, e.scenario, e.scenario_sha256, e.ruleset, e.seed, e.player, e.final_hash),
        ).fetchone()
        if row:
            return f"duplicate: {e.player!r} already has this game (same final state) on {board} (entry #{row[0]})"
        return None

    # ---- reading ----

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def entries(self, *, competition: str = "", scenario: str | None = None, seed: int | None = None,
                scenario_sha256: str | None = None, limit_per_board: int | None = None,
                columns: Sequence[str] = _COLUMNS) -> list[tuple[int, Entry]]:
        """(rank within its board, entry), boards in a stable order, best score first in each.

        Equal scores share a rank; ``limit_per_board`` keeps the top of each board. Only
        ``columns`` are read (the others are left blank in the entries).
        """
        columns = _checked_columns(columns)
        where = ["competition = ?"]
        params: list[Any] = [competition]
        if scenario is not None:
            where.append("scenario = ?")
            params.append(scenario)
        if seed is not None:
            where.append("seed = ?")
            params.append(seed)
        if scenario_sha256 is not None:
            where.append("scenario_sha256 = ?")
            params.append(scenario_sha256)
        part = "PARTITION BY scenario, scenario_sha256, ruleset, seed ORDER BY score_cents DESC"
        sql = (
            f"SELECT * FROM (SELECT {', '.join(columns)}, RANK() OVER ({part}) AS rnk, "
            f"ROW_NUMBER() OVER ({part}, id) AS rn FROM runs WHERE {' AND '.join(where)}) AS ranked "  # named: PostgreSQL (classroom server) needs it
            + ("WHERE rn <= ? " if limit_per_board is not None else "")
            + "ORDER BY scenario, seed, ruleset, scenario_sha256, score_cents DESC, id"
        )
        if limit_per_board is not None:
            params.append(limit_per_board)
        rows = self.conn.execute(sql, params).fetchall()
        return [(int(r[-2]), Entry.from_row(r[:-2], columns)) for r in rows]

    def board_sizes(self, competition: str = "") -> dict[tuple[str, str, str, int], int]:
        rows = self.conn.execute(
            "SELECT scenario, scenario_sha256, ruleset, seed, COUNT(*) FROM runs WHERE competition = ? "
            "GROUP BY scenario, scenario_sha256, ruleset, seed", (competition,),
        ).fetchall()
        return {(r[0], r[1], r[2], int(r[3])): int(r[4]) for r in rows}

    def placement(self, scenario: str, scenario_sha256: str, ruleset: str, seed: int, score_cents: int,
                  competition: str = "") -> tuple[int, int]:
        """Where a score places on its board: (rank, entries on the board), the score itself not counted.

        For the app's end screen: "you would place 3rd of 41".
        """
        key = (competition, scenario, scenario_sha256, ruleset, seed)
        better, total = self.conn.execute(
            "SELECT COALESCE(SUM(score_cents > ?), 0), COUNT(*) FROM runs WHERE competition = ? AND scenario = ? "
            "AND scenario_sha256 = ? AND ruleset = ? AND seed = ?", (score_cents, *key),
        ).fetchone()
        return int(better) + 1, int(total)

    def competition_standings(self, comp: Competition, columns: Sequence[str] = _COLUMNS) -> list:
        """The class ranking: every verified attempt of the competition, the policy applied
        (reading only ``columns``)."""
        from scenarios import load_scenario

        columns = _checked_columns(columns)
        sha = comp.scenario_sha256 or load_scenario(comp.scenario).sha256
        rows = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM runs WHERE competition = ? AND scenario = ? AND seed = ? "
            "AND scenario_sha256 = ? ORDER BY id", (comp.id, comp.scenario, comp.seed, sha),
        ).fetchall()
        return apply_policy([Entry.from_row(r, columns) for r in rows], comp)


def _checked_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """Known column names only (they are spliced into SQL), always with the id and score that rank."""
    unknown = [c for c in columns if c not in _COLUMNS]
    if unknown:
        raise ValueError(f"unknown leaderboard columns: {unknown}")
    return tuple(dict.fromkeys(("id", "score_cents", *columns)))


def open_store(db: str | os.PathLike | None = None) -> Store:
    """The store at ``db``, or the default one (``$TYCOON_DATA_DIR`` or the user data directory)."""
    return Store(db)


def add_runs(store: Store, paths: Sequence[str], competition: Competition | None = None,
             workers: int = DEFAULT_WORKERS, time_limit_s: float | None = RUN_TIME_LIMIT_S) -> list[Outcome]:
    """Verify ``paths`` (in parallel) and store those that verify, in one transaction."""
    return store.add(verify_many(paths, competition, workers, time_limit_s))


# ----------------------------------------------------------------------------- CLI


def _money(cents: int) -> str:
    usd = cents / 100
    if abs(usd) >= 1e9:
        return f"${usd / 1e9:,.2f}B"
    return f"${usd / 1e6:,.1f}M"


def _expand(patterns: Iterable[str]) -> list[str]:
    """Run files from arguments: a folder means its *.json; an unexpanded glob (Windows) is expanded."""
    out: list[str] = []
    for pat in patterns:
        p = Path(pat)
        if p.is_dir():
            out += sorted(str(x) for x in p.glob("*.json"))
        elif not p.exists() and any(ch in pat for ch in "*?["):
            matches = sorted(glob.glob(pat))
            out += matches or [pat]
        else:
            out.append(pat)
    return out


def _competition(args: argparse.Namespace) -> Competition | None:
    return load_competition(args.competition) if getattr(args, "competition", None) else None


def _standings_rows(standings: list) -> list[dict[str, Any]]:
    return [
        {"rank": s.rank, "player": s.player, "score": s.counted.score_usd, "verdict": s.counted.verdict,
         "attempts": s.attempts, "counted_attempt": s.counted_attempt, "quarters_played": s.counted.quarters_played,
         "final_hash": s.counted.final_hash, "id": s.counted.id, "branch": s.counted.branch}
        for s in standings
    ]


def _print_standings(comp: Competition, standings: list, limit: int | None, file=None) -> None:
    file = file or sys.stdout
    print(printable(f"{comp.title} [{comp.id}]: scenario {comp.scenario}, seed {comp.seed}, {comp.policy_text}"), file=file)
    if comp.note:
        print(f"  note: {printable(comp.note.strip())}", file=file)
    if not standings:
        print("  (no verified submissions yet)", file=file)
    for s in standings[: limit if limit is not None else None]:
        att = f"attempt {s.counted_attempt} of {s.attempts}" + (f"  [{printable(s.counted.branch)}]" if s.counted.branch else "")
        print(f"  {s.rank:>4}. {printable(s.player):<28} {_money(s.counted.score_cents):>12}  {s.counted.verdict:<18} {att}", file=file)
    if limit is not None and len(standings) > limit:
        print(f"  ... and {len(standings) - limit} more (use --limit)", file=file)


def cmd_add(args: argparse.Namespace) -> int:
    comp = _competition(args)
    paths = _expand(args.runs)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if not args.time_limit > 0:
        raise UserError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    t0 = time.perf_counter()
    with open_store(args.db) as store:
        outcomes = verify_many(paths, comp, args.workers, args.time_limit)
        t_verify = time.perf_counter() - t0
        outcomes = store.add(outcomes)
        standings = store.competition_standings(comp) if comp else None
    elapsed = time.perf_counter() - t0
    added = [o for o in outcomes if o.ok]
    refused = [o for o in outcomes if not o.ok]
    if args.json:
        doc: dict[str, Any] = {
            "db": str(store.path),
            "added": [{"path": o.path, "id": o.entry.id, "player": o.entry.player, "score": o.entry.score_usd,
                       "verdict": o.entry.verdict, "note": o.note} for o in added if o.entry],
            "refused": [{"path": o.path, "reason": o.reason} for o in refused],
            "seconds": round(elapsed, 3),
        }
        if comp is not None:
            doc["standings"] = _standings_rows(standings or [])
        print(json.dumps(doc, indent=1))
    else:
        for o in outcomes:
            if o.ok and o.entry:
                note = f"  (note: {printable(o.note)})" if o.note else ""
                print(f"added    {printable(o.path)}: {printable(o.entry.player)}, {_money(o.entry.score_cents)}, "
                      f"{printable(o.entry.verdict)}{note}")
            else:
                print(f"REFUSED  {printable(o.path)}: {printable(o.reason)}")
        print(f"{len(added)} added, {len(refused)} refused, in {elapsed:.1f}s "
              f"(verification {t_verify:.1f}s on {min(args.workers, max(1, len(paths)))} worker(s)); store {printable(store.path)}")
        if comp is not None:
            print()
            _print_standings(comp, standings or [], args.limit)
    return 0 if not refused else 1


def _board_title(board: tuple[str, str, str, int], current_sha: dict[str, str | None]) -> str:
    scenario, sha, ruleset, seed = board
    cur = current_sha.get(scenario)
    if cur is None:
        stale = "  [custom scenario: not a built-in scenario]"
    else:  # a stored sha that is not today's built-in: an older version, or a class's own edit of it
        stale = "" if cur == sha else "  [not this tycoon's built-in version: an older version or a custom scenario]"
    return printable(f"{scenario}  seed {seed}  ruleset {ruleset}  scenario {sha[:12]}{stale}")


def _current_shas(scenarios: Iterable[str]) -> dict[str, str | None]:
    from game.runfile import builtin_scenario

    out: dict[str, str | None] = {}
    for s in set(scenarios):  # an id from a stored run is never opened as a path (a custom id could be one)
        loaded = builtin_scenario(s)
        out[s] = None if loaded is None else loaded.sha256
    return out


def cmd_show(args: argparse.Namespace) -> int:
    comp = _competition(args)
    limit = None if args.limit <= 0 else args.limit
    with open_store(args.db) as store:
        if comp is not None:
            standings = store.competition_standings(comp, SHOW_COLUMNS)
            if args.json:
                print(json.dumps({"competition": comp.id, "policy": comp.policy, "standings": _standings_rows(standings[:limit] if limit else standings)}, indent=1))
            else:
                _print_standings(comp, standings, limit)
            return 0
        rows = store.entries(scenario=args.scenario, seed=args.seed, limit_per_board=limit, columns=SHOW_COLUMNS)
        sizes = store.board_sizes()
    if args.json:
        print(json.dumps([
            {"rank": rank, "scenario": e.scenario, "scenario_sha256": e.scenario_sha256, "ruleset": e.ruleset, "seed": e.seed,
             "player": e.player, "archetype": e.archetype, "score": e.score_usd, "verdict": e.verdict,
             "quarters_played": e.quarters_played, "final_hash": e.final_hash, "id": e.id, "branch": e.branch}
            for rank, e in rows
        ], indent=1))
        return 0
    if not rows:
        print("The leaderboard is empty" + (" for that filter" if args.scenario or args.seed is not None else "")
              + ". Add verified runs with `tycoon leaderboard add RUN...`.")
        return 0
    current = _current_shas(e.scenario for _, e in rows)
    buf = io.StringIO()
    board = None
    shown = 0  # rows printed for the current board: counted as they go, so the listing is linear in rows

    def more() -> None:
        if board is not None and sizes.get(board, 0) > shown:
            buf.write(f"  ... and {sizes[board] - shown} more (use --limit 0 for all)\n")

    for rank, e in rows:
        if e.board != board:
            more()
            if board is not None:
                buf.write("\n")
            board, shown = e.board, 0
            buf.write(_board_title(board, current) + f"  ({sizes.get(board, 0)} runs)\n")
        buf.write(f"  {rank:>5}. {printable(e.player):<28} {_money(e.score_cents):>12}  {printable(e.verdict):<18} {e.quarters_played:>2}q"
                  + (f"  [{printable(e.branch)}]" if e.branch else "") + "\n")
        shown += 1
    more()
    sys.stdout.write(buf.getvalue())
    return 0


EXPORT_COLUMNS = (
    "rank", "player", "scenario", "seed", "ruleset", "scenario_sha256", "archetype", "competition", "score_usd",
    "verdict", "quarters_played", "bankrupt", "attempts", "counted_attempt", "bot", "final_hash", "added_at", "source",
)


def write_export(fh, store: Store, comp: Competition | None = None, scenario: str | None = None,
                 seed: int | None = None) -> int:
    """Write the CSV: one row per run (or per student, under a competition's policy), then each
    quarter's scorecard (label, revenue, gross margin, utilization, DSCR, score). Returns the row count.

    The per-quarter cells were rendered to CSV when the run was stored: exporting 10,000 runs
    is a fetch and a write, not 10,000 JSON parses. Text cells that a spreadsheet could read as a
    formula are neutralized (``game.safe_text.csv_text``); numbers are written as numbers.
    """
    items: list[tuple[int, Entry, int | str, int | str]] = []
    if comp is not None:
        items = [(s.rank, s.counted, s.attempts, s.counted_attempt) for s in store.competition_standings(comp, EXPORT_READ_COLUMNS)]
    else:
        items = [(rank, e, "", "") for rank, e in store.entries(scenario=scenario, seed=seed, columns=EXPORT_READ_COLUMNS)]
    n_q = max((e.quarters_played for _, e, _, _ in items), default=0)
    per_q = ("quarter", *SCORECARD_FIELDS)
    buf = io.StringIO()
    # "\r\n" as line end so that a cell holding either is quoted (csv quotes only the terminator's
    # characters); the scorecard cells follow on the same line, so the terminator is cut off
    w = csv.writer(buf, lineterminator="\r\n")

    def row_text(cells: list[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        w.writerow(cells)
        return buf.getvalue()[:-2]

    fh.write(row_text(list(EXPORT_COLUMNS) + [f"q{i + 1:02d}_{f}" for i in range(n_q) for f in per_q]) + "\n")
    for rank, e, attempts, counted in items:
        text = [csv_text(v) for v in (e.player, e.scenario, e.ruleset, e.scenario_sha256, e.archetype, e.competition,
                                      e.verdict, e.bot or "", e.final_hash, e.added_at, e.source)]
        player, scen, ruleset, sha, archetype, competition, verdict, bot, final_hash, added_at, source = text
        fh.write(row_text([rank, player, scen, e.seed, ruleset, sha, archetype, competition,
                           f"{e.score_cents / 100:.2f}", verdict, e.quarters_played, int(e.bankrupt), attempts, counted,
                           bot, final_hash, added_at, source]))
        pad = "," * (len(per_q) * (n_q - e.quarters_played))
        fh.write(f",{e.scorecard_csv}{pad}\n" if n_q else "\n")
    return len(items)


def _write_atomic(path: Path, write: Callable[[io.TextIOBase], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    comp = _competition(args)
    count = 0
    with open_store(args.db) as store:

        def write(fh) -> None:
            nonlocal count
            count = write_export(fh, store, comp, args.scenario, args.seed)

        if args.csv == "-":
            if sys.stdout.isatty():  # a CSV read on a terminal: its cells must not drive the terminal
                buf = io.StringIO()
                write(buf)
                sys.stdout.write("\n".join(printable(line) for line in buf.getvalue().split("\n")))
            else:
                write(sys.stdout)
            return 0
        try:
            _write_atomic(Path(args.csv), write)
        except OSError as exc:
            raise UserError(f"--csv {args.csv}: cannot write ({exc.strerror})") from None
    print(f"wrote {count} row(s) to {printable(args.csv)}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser("leaderboard", help="verified local leaderboard and classroom competitions",
                        description="Re-simulate run files, keep the ones that verify, rank and export them.")
    inner = lb.add_subparsers(dest="leaderboard_command", parser_class=type(lb), required=True, metavar="{add,show,export}")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=None,
                        help="the leaderboard file (default: $TYCOON_DATA_DIR or the user data dir, leaderboard.sqlite3)")
    common.add_argument("--competition", metavar="FILE", default=None, help="a competition file (TOML): work on that class's board")

    p = inner.add_parser("add", parents=[common], help="verify run files and store the ones that verify")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run files (.json) or folders of them; attempts count in this order")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help=f"verification processes (default {DEFAULT_WORKERS})")
    p.add_argument("--limit", type=int, default=None, help="with --competition: show this many of the standings")
    p.add_argument("--time-limit", type=float, default=RUN_TIME_LIMIT_S, metavar="SECONDS",
                   help=f"refuse a run file whose re-simulation takes longer (default {RUN_TIME_LIMIT_S:g})")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_add)

    p = inner.add_parser("show", parents=[common], help="rank the stored runs, board by board")
    p.add_argument("--scenario", default=None, help="only this scenario id")
    p.add_argument("--seed", type=seed_arg, default=None, help="only this seed")
    p.add_argument("--limit", type=int, default=20, help="rows per board (0: all; default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)

    p = inner.add_parser("export", parents=[common], help="write the ranked rows and per-quarter scorecards as CSV")
    p.add_argument("--csv", required=True, metavar="FILE", help="output file ('-' for stdout)")
    p.add_argument("--scenario", default=None, help="only this scenario id")
    p.add_argument("--seed", type=seed_arg, default=None, help="only this seed")
    p.set_defaults(handler=cmd_export)
