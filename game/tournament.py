"""``tycoon tournament``: every scenario x bot x seed, in parallel, summarized (issue 9, item 12).

Each game is played by the same runner as ``tycoon sim`` (``engine.bots.run_bot`` on
``engine.game.Game(scenario, seed)``), so a row equals what ``sim`` prints for that scenario, seed
and bot. Games run in worker processes (``concurrent.futures.ProcessPoolExecutor``); results are
put back in (scenario, bot, seed) order, so the output never depends on scheduling.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from engine.bots import BOTS, run_bot
from engine.game import Game
from engine.money import to_usd
from game.errors import UserError

MAX_SEED = 1_000_000  # a tournament is a few dozen seeds; a typo like 1-1000000000 should not start


@dataclass(frozen=True)
class GameRow:
    """One game's result (a row of ``--csv``); money in US dollars."""

    scenario: str
    bot: str
    seed: int
    score: float
    cumulative_ebitda: float
    bankrupt: bool
    verdict: str
    quarters_played: int
    state_hash: str


@dataclass(frozen=True)
class Cell:
    """One scenario x bot over all seeds."""

    scenario: str
    bot: str
    games: int
    median_score: float
    p10_score: float
    p90_score: float
    median_cumulative_ebitda: float
    bankrupt_share: float


# ------------------------------------------------------------------------------ arguments


def parse_seeds(text: str) -> list[int]:
    """``1-20``, ``3``, ``1,4,9`` or ``1-5,10-12``: sorted, without repeats."""
    seeds: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if a > b:
                    raise ValueError
                seeds.update(range(a, b + 1))
            else:
                seeds.add(int(part))
        except ValueError:
            raise UserError(f"--seeds {text!r}: expected a range like 1-20, or seeds like 1,4,9") from None
    if not seeds or min(seeds) < 0 or max(seeds) > MAX_SEED:
        raise UserError(f"--seeds {text!r}: seeds are integers from 0 to {MAX_SEED:,}")
    return sorted(seeds)


def _scenario_ids(text: str) -> list[str]:
    from scenarios import ScenarioError, list_scenarios, load_scenario

    try:
        if text.strip() == "all":
            return [s.scenario.id for s in list_scenarios()]
        ids = [x.strip() for x in text.split(",") if x.strip()]
        for i in ids:
            load_scenario(i)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    if not ids or len(set(ids)) != len(ids):
        raise UserError(f"--scenarios {text!r}: name each scenario once, or all")
    return ids


def _bot_specs(text: str, files: list[str]) -> list[tuple[str, str]]:
    """(spec, display name) per bot: built-ins (``all`` = engine.bots.BOTS), then ``--bot`` ones."""
    from game.botfile import resolve_bot

    specs = list(BOTS) if text.strip() == "all" else [x.strip() for x in text.split(",") if x.strip()]
    specs += files
    out: list[tuple[str, str]] = []
    for spec in specs:
        bot = resolve_bot(spec)  # fails here, before any worker starts, with the file and what is valid
        out.append((spec, bot.name))
    names = [n for _, n in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UserError(f"two bots are named {', '.join(dup)}: each bot in a tournament needs its own name")
    if not out:
        raise UserError("no bots: --bots all, a list of names, or --bot FILE.py:ClassName")
    return out


# ------------------------------------------------------------------------------ playing


def play_game(scenario_id: str, seed: int, bot_spec: str) -> GameRow:
    """One game, exactly as ``tycoon sim --scenario ID --seed N --bot SPEC`` plays it."""
    from game.botfile import resolve_bot
    from scenarios import load_scenario

    bot = resolve_bot(bot_spec)
    game = run_bot(Game(load_scenario(scenario_id).scenario, seed), bot)
    last = game.reports[-1] if game.reports else None
    return GameRow(
        scenario=scenario_id, bot=bot.name, seed=seed,
        score=to_usd(last.score.score_cents) if last else 0.0,
        cumulative_ebitda=to_usd(sum(r.income.ebitda for r in game.reports)),
        bankrupt=game.state.bankrupt, verdict=last.score.verdict if last else "",
        quarters_played=len(game.reports), state_hash=last.state_hash if last else game.initial_hash,
    )


class Progress:
    """A bar on a terminal; on a pipe or file, a plain line every tenth of the games."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream, self.done, self.start = total, stream, 0, time.monotonic()
        self.tty = stream.isatty()
        self.next_line = max(1, total // 10)

    def tick(self) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        if self.tty:
            width = 30
            full = width * self.done // self.total
            self.stream.write(f"\r[{'#' * full}{'.' * (width - full)}] {self.done}/{self.total} games  {elapsed:5.0f}s")
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done >= self.next_line or self.done == self.total:
            self.stream.write(f"tournament: {self.done}/{self.total} games, {elapsed:.0f}s\n")
            self.next_line = self.done + max(1, self.total // 10)
        self.stream.flush()


def run_tournament(scenarios: list[str], bots: list[str], seeds: list[int], workers: int = 1,
                   progress: Progress | None = None) -> list[GameRow]:
    """Every (scenario, bot spec, seed), in that order whatever the workers' scheduling."""
    jobs = [(s, seed, b) for s in scenarios for b in bots for seed in seeds]
    rows: list[GameRow | None] = [None] * len(jobs)
    if workers <= 1:
        for i, job in enumerate(jobs):
            rows[i] = play_game(*job)
            if progress:
                progress.tick()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(play_game, *job): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                rows[futures[fut]] = fut.result()
                if progress:
                    progress.tick()
    return [r for r in rows if r is not None]


# ------------------------------------------------------------------------------ summary


def _quantile(xs: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default percentile)."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summarize(rows: list[GameRow]) -> tuple[list[Cell], dict[str, str]]:
    """Per scenario x bot (in first-seen order): score quantiles, median cumulative EBITDA and the
    bankrupt share; the winner per scenario is the highest median score (the first bot on a tie)."""
    groups: dict[tuple[str, str], list[GameRow]] = {}
    for r in rows:
        groups.setdefault((r.scenario, r.bot), []).append(r)
    cells = [
        Cell(
            scenario=s, bot=b, games=len(g),
            median_score=round(statistics.median(x.score for x in g), 2),
            p10_score=round(_quantile([x.score for x in g], 0.10), 2),
            p90_score=round(_quantile([x.score for x in g], 0.90), 2),
            median_cumulative_ebitda=round(statistics.median(x.cumulative_ebitda for x in g), 2),
            bankrupt_share=round(sum(x.bankrupt for x in g) / len(g), 4),
        )
        for (s, b), g in groups.items()
    ]
    winners: dict[str, str] = {}
    best: dict[str, float] = {}
    for c in cells:
        if c.scenario not in best or c.median_score > best[c.scenario]:
            best[c.scenario], winners[c.scenario] = c.median_score, c.bot
    return cells, winners


def _m(x: float) -> str:
    return f"${x / 1e6:,.1f}M"


def print_table(cells: list[Cell], winners: dict[str, str], out: TextIO) -> None:
    head = f"{'scenario':<16} {'bot':<20} {'games':>5} {'median':>11} {'p10':>11} {'p90':>11} {'med cum EBITDA':>15} {'bankrupt':>8}"
    out.write(head + "\n" + "-" * len(head) + "\n")
    for c in cells:
        mark = " *" if winners.get(c.scenario) == c.bot else ""
        out.write(f"{c.scenario:<16} {c.bot:<20} {c.games:>5} {_m(c.median_score):>11} {_m(c.p10_score):>11} {_m(c.p90_score):>11} "
                  f"{_m(c.median_cumulative_ebitda):>15} {c.bankrupt_share:>8.0%}{mark}\n")
    out.write("\nwinner per scenario (highest median score, * above):\n")
    for s, b in winners.items():
        out.write(f"  {s:<16} {b}\n")


def write_csv(rows: list[GameRow], path: str) -> None:
    try:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(GameRow.__dataclass_fields__))
            w.writeheader()
            for r in rows:
                w.writerow(asdict(r))
    except OSError as exc:
        raise UserError(f"--csv {path}: cannot write ({exc.strerror})") from None


def cmd_tournament(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.seeds)
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    scenarios = _scenario_ids(args.scenarios)
    bots = _bot_specs(args.bots, args.bot or [])
    total = len(scenarios) * len(bots) * len(seeds)
    rows = run_tournament(scenarios, [spec for spec, _ in bots], seeds, workers, Progress(total, sys.stderr))
    cells, winners = summarize(rows)
    if args.csv:
        write_csv(rows, args.csv)
    if args.json:
        out: dict[str, Any] = {
            "scenarios": scenarios, "bots": [name for _, name in bots], "seeds": seeds, "games": len(rows),
            "results": [asdict(c) for c in cells], "winners": winners,
        }
        sys.stdout.write(json.dumps(out, sort_keys=True, allow_nan=False) + "\n")
    else:
        print_table(cells, winners, sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tournament", help="play every scenario x bot x seed in parallel and summarize")
    p.add_argument("--scenarios", default="all", help="all, or scenario ids separated by commas")
    p.add_argument("--bots", default="all", help=f"all ({', '.join(BOTS)}), or bot names separated by commas")
    p.add_argument("--seeds", default="1-20", help="a range like 1-20, or seeds like 1,4,9 (default 1-20)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the number of CPUs)")
    p.add_argument("--bot", action="append", default=[], metavar="FILE.py:Class", help="add a bot (a file or a name); repeatable")
    p.add_argument("--csv", default=None, help="write one row per game to this CSV file")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(handler=cmd_tournament)
