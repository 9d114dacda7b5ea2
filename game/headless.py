"""Headless subcommands: ``scenarios``, ``sim`` and ``verify`` (the contract later tools build on)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine import RULESET
from engine.bots import BOTS
from engine.game import Game
from engine.money import to_usd
from engine.report import QuarterReport
from game.cli import seed_arg
from game.errors import UserError
from game.pool import map_surviving_crashes
from game.runfile import run_from_game, save_run, verify_run
from game.safe_text import printable
from scenarios import DEFAULT_SCENARIO, ScenarioError, list_scenarios, load_scenario


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def quarter_summary(r: QuarterReport) -> dict[str, Any]:
    """One quarter as the ``sim --json`` contract describes it; money in US dollars."""
    return {
        "quarter": r.label,
        "cash": to_usd(r.balance.cash),
        "revenue": to_usd(r.income.revenue),
        "gross_margin": _r(r.kpis.gross_margin),
        "ebitda": to_usd(r.income.ebitda),
        "net_income": to_usd(r.income.net_income),
        "total_assets": to_usd(r.balance.total_assets),
        "total_liabilities": to_usd(r.balance.total_liabilities),
        "equity": to_usd(r.balance.total_equity),
        "utilization": _r(r.kpis.utilization),
        "contracted_share": _r(r.kpis.contracted_share),
        "dscr": _r(r.kpis.dscr, 3),
        "covenant": r.kpis.covenant,
        "gpus": dict(r.kpis.gpus),
        "market": {
            "sofr": _r(r.market.sofr, 5),
            "gpu_hour": {g: _r(v) for g, v in r.market.gpu_hour().items()},
            "token_price": {t: _r(v, 6) for t, v in r.market.token_usd_per_m.items()},
        },
        "events": [{"title": n.title, "text": n.text} for n in r.news if n.kind == "world"],
        "company_events": [{"title": n.title, "text": n.text} for n in r.news if n.kind == "company"],
        "rejected": [{"action": a.action, "reason": a.message} for a in r.actions if not a.ok],
        "score": to_usd(r.score.score_cents),
        "state_hash": r.state_hash,
        **({"inference": _inference_summary(r)} if r.inference is not None else {}),
    }


def _inference_summary(r: QuarterReport) -> dict[str, Any]:
    """The managed-inference fields of a quarter (issue 4's reporting contract)."""
    inf = r.inference
    return {
        "tokens_served": {"input": round(inf.tokens_in), "output": round(inf.tokens_out), "cached": round(inf.tokens_cached)},
        "cost_per_m_tokens": _r(inf.cost_per_m_tokens, 6),
        "churned_revenue": round(inf.churned_revenue_usd, 2),
        "net_dollar_retention": _r(r.kpis.net_dollar_retention),
        "revenue_per_gpu_hour": {"rental": _r(r.kpis.revenue_per_gpu_hour_rental), "inference": _r(r.kpis.revenue_per_gpu_hour_inference)},
        "techniques": list(inf.techniques_done),
        "models": {
            m.model: {
                "gen": m.gen, "replicas": m.replicas, "gpus": m.gpus,
                "revenue": round(m.revenue_usd, 2), "gross_margin": _r(m.gross_margin),
                "utilization": _r(m.utilization), "sla_misses": _r(m.dropped_share),
                "p50_tpot_ms": _r(m.p50_tpot_ms, 2), "p95_tpot_ms": _r(m.p95_tpot_ms, 2), "p95_ttft_ms": _r(m.p95_ttft_ms, 1),
                "price_out_usd_per_m": _r(m.price_out_usd_per_m, 6), "market_out_usd_per_m": _r(m.market_out_usd_per_m, 6),
            }
            for m in inf.models
        },
    }


def cmd_scenarios(args: argparse.Namespace) -> int:
    try:
        items = list_scenarios()
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    rows = [
        {"id": s.scenario.id, "title": s.scenario.title, "archetype": s.scenario.archetype, "quarters": s.scenario.quarters,
         "difficulty": s.scenario.difficulty, "start": s.scenario.start}
        for s in items
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            print(printable(f"{row['id']:<20} {row['archetype']:<10} {row['quarters']:>3}q  {row['start']}  {row['title']}"))
    return 0


def _load(name: str):
    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


def _play_with_advice(game: Game, bot, quarters: int | None) -> list[list[dict[str, Any]]]:
    """engine.bots.run_bot, reading the advisor before each quarter (engine.advisor.advise): each
    quarter's ``warnings`` are the risks of the bot's plan, then the quarter report's own warnings.
    The bot plays exactly as run_bot plays it: it is not shown the advice."""
    out: list[list[dict[str, Any]]] = []
    n = 0
    while not game.over and (quarters is None or n < quarters):
        plan = bot.act(game.observation())
        state = game.state
        report = game.play(plan)
        out.append(quarter_warnings(state, game, list(plan), report))
        n += 1
    return out


def quarter_warnings(state, game: Game, plan: list, report: QuarterReport) -> list[dict[str, Any]]:
    """A quarter's ``warnings`` in ``sim --json``: the advisor's risks of the plan on the state it was
    decided on (engine.advisor.advise), then the quarter report's own warnings."""
    from engine.advisor import advise

    risks = advise(state, game.world, game.scenario, list(plan)).risks
    return ([{"kind": r.kind, "severity": r.severity, "message": r.message, "numbers": dict(r.numbers), "subject": r.subject} for r in risks]
            + [{"kind": "report", "severity": "warning", "message": w, "numbers": {}, "subject": ""} for w in report.warnings])


def cmd_sim(args: argparse.Namespace) -> int:
    loaded = _load(args.scenario)
    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.quarters is not None and args.quarters <= 0:
        raise UserError(f"--quarters must be positive, got {args.quarters}")
    from game.botfile import resolve_bot

    bot = resolve_bot(args.bot)
    try:  # a scenario pydantic accepts can still describe a world the engine cannot build
        game = Game(loaded.scenario, args.seed)
    except ValueError as exc:
        raise UserError(f"{loaded.path}: {exc}") from None
    warnings = _play_with_advice(game, bot, args.quarters)
    out = {
        "scenario": loaded.scenario.id,
        "scenario_sha256": loaded.sha256,
        "ruleset": RULESET,
        "seed": args.seed,
        "bot": bot.name,
        "quarters": [{**quarter_summary(r), "warnings": w} for r, w in zip(game.reports, warnings)],
        "final": {
            "score": to_usd(game.reports[-1].score.score_cents) if game.reports else 0.0,
            "verdict": game.reports[-1].score.verdict if game.reports else "",
            "bankrupt": game.state.bankrupt,
        },
    }
    if args.run_out:
        try:
            save_run(run_from_game(game, loaded, player=f"bot:{bot.name}", bot=bot.name), args.run_out)
        except OSError as exc:
            raise UserError(f"--run-out {args.run_out}: cannot write ({exc.strerror})") from None
    if args.json:
        sys.stdout.write(json.dumps(out, sort_keys=True, allow_nan=False) + "\n")
    else:
        for q in out["quarters"]:
            dscr = "  -  " if q["dscr"] is None else f"{q['dscr']:.2f}x"
            gm = "  -  " if q["gross_margin"] is None else f"{q['gross_margin']:5.0%}"
            print(
                f"{q['quarter']}  cash ${q['cash'] / 1e6:9,.1f}M  revenue ${q['revenue'] / 1e6:7,.1f}M  GM {gm}  "
                f"util {q['utilization']:4.0%}  DSCR {dscr} {q['covenant']:<8} score ${q['score'] / 1e6:8,.1f}M"
            )
        f = out["final"]
        print(f"final: {f['verdict']}  score ${f['score'] / 1e6:,.1f}M{'  (bankrupt)' if f['bankrupt'] else ''}")
    return 0


def verify_one(path: str, scenario_file: str | None = None) -> tuple[str, str]:
    """Verify one run file: ("ok" | "failed" | "error", message). Runs in a worker process, so it
    takes and returns plain data; an unusable file is an "error" (exit 2), never a traceback."""
    try:
        from game.industry import is_industry_file, verify_industry  # issue 15: an industry file verifies all its companies

        v = verify_industry(path, scenario_file) if is_industry_file(path) else verify_run(path, scenario_file)
    except UserError as exc:
        return "error", str(exc)
    except Exception as exc:  # one broken file must not stop the others
        return "error", f"{path}: could not be re-simulated ({type(exc).__name__}: {exc})"
    if v.ok and v.scenario_label:  # a run not on a built-in scenario says so
        return "ok", f"{v.reason}; {v.scenario_label}"
    return ("ok" if v.ok else "failed"), v.reason


def _verify_star(job: tuple[str, str | None]) -> tuple[str, str]:
    return verify_one(*job)


def default_workers() -> int:
    """The cores this process may run on (``--workers`` default)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """``[#######.......]  12/200`` as one line to redraw with a carriage return."""
    filled = width * done // total if total else width
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total}"


def verify_many(paths: Sequence[str], scenario_file: str | None = None, workers: int = 1,
                on_done: Callable[[int], None] | None = None) -> list[tuple[str, str]]:
    """``verify_one`` of every path, in argument order, on ``workers`` processes; ``on_done(n)``
    is called as the n-th result (in any order) comes in."""
    jobs = [(str(p), scenario_file) for p in paths]
    results: list[tuple[str, str] | None] = [None] * len(jobs)
    if workers <= 1 or len(jobs) < 2:
        for i, job in enumerate(jobs):
            results[i] = _verify_star(job)
            if on_done:
                on_done(i + 1)
    else:
        results = map_surviving_crashes(  # a worker killed (out of memory, a signal): that file is named, the rest go on
            _verify_star, jobs, workers, lambda job, why: ("error", f"{job[0]}: could not be verified ({why})"), on_done,
        )
    return [r for r in results if r is not None]


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 if every run verifies, 1 if any does not, 2 if any file is unusable (each is named)."""
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    total = len(args.runs)
    show_progress = total > 1 and sys.stderr.isatty()

    def on_done(n: int) -> None:
        sys.stderr.write(progress_bar(n, total))
        sys.stderr.flush()

    results = verify_many(args.runs, args.scenario_file, workers, on_done if show_progress else None)
    if show_progress:
        sys.stderr.write("\r\x1b[K")  # erase the bar before the results
        sys.stderr.flush()
    status = 0
    for path, (kind, message) in zip(args.runs, results, strict=True):
        if kind == "ok":
            print(printable(f"{path}: OK ({message})"))
        elif kind == "failed":
            print(printable(f"{path}: FAILED: {message}"))
            status = max(status, 1)
        else:
            print(f"tycoon: error: {printable(message)}", file=sys.stderr)
            status = 2
    return status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the scenarios")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_scenarios)

    p = sub.add_parser("sim", help="play a game headless with a built-in bot")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO, help=f"scenario id or .toml path (default {DEFAULT_SCENARIO})")
    p.add_argument("--seed", type=seed_arg, default=1)
    p.add_argument("--bot", default="passive", help=f"one of: {', '.join(BOTS)}, an exploit strategy, or FILE.py:ClassName")
    p.add_argument("--quarters", type=int, default=None, help="stop after this many quarters")
    p.add_argument("--run-out", default=None, help="write the run file here")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_sim)

    p = sub.add_parser("verify", help="re-simulate run files and compare their hashes")
    p.add_argument("runs", nargs="+", help="run files (.json)")
    p.add_argument("--scenario-file", "--scenario", dest="scenario_file", metavar="PATH", default=None,
                   help="the scenario .toml the runs were played on, for old run files that do not embed it "
                        "(a run file never names a file to read)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="verification processes (default: the number of cores)")
    p.set_defaults(handler=cmd_verify)
