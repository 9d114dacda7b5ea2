"""``tycoon calc ...``: the analyst's calculators (issue 3).

Each handler parses flags, calls engine functions (the same ones the game calls) and prints the
result: an aligned table, or one JSON object with ``--json`` (inputs echoed, floats rounded to
4 significant digits). Every bad input is a ``UserError`` naming the flag, the value and what
is valid.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from engine import economics, finance, physics
from engine.hardware import GPU_ORDER
from engine.models import MODEL_ORDER
from game.errors import UserError

SIG_DIGITS = 4


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _round(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    return float(f"{value:.{SIG_DIGITS}g}")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{_round(value):g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _emit(args: argparse.Namespace, result: dict[str, Any], title: str) -> int:
    if args.json:
        print(json.dumps({k: _round(v) for k, v in result.items()}))
        return 0
    width = max(len(k) for k in result)
    print(title)
    for key, value in result.items():
        print(f"  {key.ljust(width)}  {_fmt(value)}")
    return 0


def _emit_rows(args: argparse.Namespace, header: dict[str, Any], rows: list[dict[str, Any]], title: str) -> int:
    if args.json:
        payload = {k: _round(v) for k, v in header.items()}
        payload["rows"] = [{k: _round(v) for k, v in r.items()} for r in rows]
        print(json.dumps(payload))
        return 0
    print(title)
    for key, value in header.items():
        print(f"  {key}: {_fmt(value)}")
    cols = list(rows[0])
    cells = [[_fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))))
    for row in cells:
        print("  " + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return 0


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UserError(f"{_flag(name)} {value}: must be greater than 0")


def _non_negative(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and not value >= 0:
            raise UserError(f"{_flag(name)} {value}: must be 0 or more")


def _fraction(args: argparse.Namespace, *names: str) -> None:
    """Rates are fractions (0.08 for 8%); a value above 1 is almost surely a percentage."""
    for name in names:
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 1:
            raise UserError(f"{_flag(name)} {value}: give a rate as a fraction between 0 and 1 (8% is 0.08)")


def _physics(fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
    try:
        return fn(*a, **kw)
    except physics.PhysicsError as exc:
        raise UserError(str(exc)) from None


def _replica(args: argparse.Namespace, context: int) -> tuple[Any, Any, physics.Stack, str, int]:
    """Model, GPU, stack, precision and GPUs per replica, defaults filled from the engine."""
    m, g = _physics(physics.resolve, args.model, args.gpu)
    stack = physics.PRESETS[args.stack]
    precision = args.precision or physics.default_precision(stack, g)
    _physics(physics.check_precision, g, precision)
    if args.gpus is not None and args.gpus < 1:
        raise UserError(f"--gpus {args.gpus}: a replica needs at least 1 GPU")
    n = args.gpus or _physics(physics.gpus_per_replica, m, g, precision, stack, context)
    return m, g, stack, precision, n


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------


def _inputs(args: argparse.Namespace, precision: str, n: int) -> dict[str, Any]:
    return {"model": args.model, "gpu": args.gpu, "gpus": n, "precision": precision, "stack": args.stack}


def _batch_range(args: argparse.Namespace, cap: int) -> tuple[int, int] | None:
    """``--batch N`` is one batch; ``--batch A..B`` (or ``1..max``) a curve (``physics.batch_points``)."""
    text = args.batch
    if text is None or ".." not in text:
        return None
    lo_s, hi_s = text.split("..", 1)
    try:
        lo = int(lo_s)
        hi = cap if hi_s.strip() == "max" else int(hi_s)
    except ValueError:
        raise UserError(f"--batch {text}: give a batch (32) or a range (1..64, 1..max)") from None
    if lo < 1 or hi < lo:
        raise UserError(f"--batch {text}: a range runs from 1 or more up to at least its start")
    if hi > cap:
        raise UserError(f"--batch {text}: at most {cap} sequences fit (use 1..max)")
    return lo, hi


def _batch_int(args: argparse.Namespace) -> int | None:
    if args.batch is None:
        return None
    try:
        value = int(args.batch)
    except ValueError:
        raise UserError(f"--batch {args.batch}: give a batch (32) or a range (1..64, 1..max)") from None
    if value < 1:
        raise UserError(f"--batch {args.batch}: must be greater than 0")
    return value


def cmd_decode(args: argparse.Namespace) -> int:
    _positive(args, "context")
    m, g, stack, precision, n = _replica(args, args.context)
    cap = _physics(physics.max_batch, m, g, n, precision, args.context, stack)
    span = _batch_range(args, cap)
    if span is not None:  # the batch curve (issue 12 item 2): where the step stops being flat
        curve = _physics(physics.batch_curve, m, g, n, precision, args.context, stack, *span)
        rows = [{
            "batch": r.batch, "step_ms": r.step_ms, "vs_first": r.step_ms / curve[0].step_ms, "tpot_ms": r.tpot_ms,
            "tokens_per_s": r.tokens_per_s, "gemm_ms": r.gemm_ms, "attention_ms": r.attention_ms,
            "comm_ms": r.comm_ms, "bound": r.bound, "draft_tokens": r.draft_tokens,
        } for r in curve]
        header = _inputs(args, precision, n) | {"context": args.context, "max_batch": cap}
        return _emit_rows(args, header, rows, f"Batch curve: {m.name} on {n} x {g.name}, {precision}, {args.stack} stack")
    batch = _batch_int(args)
    if batch is None:  # a moderate default batch, capped by what fits
        batch = max(1, min(32, cap))
    r = _physics(physics.decode, m, g, n, precision, batch, args.context, stack)
    result = _inputs(args, precision, n) | {
        "batch": batch, "context": args.context,
        "step_ms": r.step_ms, "tpot_ms": r.tpot_ms, "tokens_per_s": r.tokens_per_s,
        "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu, "weight_gb": r.weight_gb,
        "kv_bytes_per_token": int(r.kv_bytes_per_token), "kv_token_capacity": r.kv_token_capacity,
        "max_batch": r.max_batch, "bound": r.bound, "memory_ms": r.memory_ms, "compute_ms": r.compute_ms,
        "gemm_ms": r.gemm_ms, "attention_ms": r.attention_ms, "comm_ms": r.comm_ms, "overhead_ms": r.overhead_ms,
    }
    if stack.speculative_decoding:  # the gate and where drafting stops paying (issue 12 item 5)
        cross = _physics(physics.speculative_crossover, m, g, n, precision, args.context, stack)
        result |= {"draft_tokens": r.draft_tokens, "speculative_off_from_batch": cross if cross is not None else "never"}
    return _emit(args, result, f"Decode step: {m.name} on {n} x {g.name}, {precision}, {args.stack} stack")


def cmd_tp(args: argparse.Namespace) -> int:
    """Tensor parallelism 1-8 at one batch (issue 12 item 1): where more GPUs stop buying latency."""
    _positive(args, "batch", "context")
    m, g = _physics(physics.resolve, args.model, args.gpu)
    stack = physics.PRESETS[args.stack]
    precision = args.precision or physics.default_precision(stack, g)
    _physics(physics.check_precision, g, precision)
    rows = []
    for n in (1, 2, 4, 8):
        if physics.max_batch(m, g, n, precision, args.context, stack) < args.batch:
            continue  # the weights and this batch's KV cache do not fit
        r = _physics(physics.decode, m, g, n, precision, args.batch, args.context, stack)
        rows.append({
            "gpus": n, "step_ms": r.step_ms, "tokens_per_s": r.tokens_per_s, "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu,
            "gemm_ms": r.gemm_ms, "comm_ms": r.comm_ms, "overhead_ms": r.overhead_ms, "max_batch": r.max_batch,
        })
    if not rows:
        raise UserError(f"--batch {args.batch}: {m.id} at {precision} with this batch fits no replica of 1-8 x {g.id.upper()}")
    best = min(rows, key=lambda r: r["step_ms"])
    header = {"model": args.model, "gpu": args.gpu, "precision": precision, "stack": args.stack, "batch": args.batch,
              "context": args.context, "fastest_gpus": best["gpus"]}
    return _emit_rows(args, header, rows, f"Tensor parallelism: {m.name} on {g.name}, batch {args.batch}, {args.stack} stack")


def cmd_prefill(args: argparse.Namespace) -> int:
    _positive(args, "tokens")
    m, g, stack, precision, n = _replica(args, args.tokens)
    r = _physics(physics.prefill, m, g, n, precision, args.tokens, stack)
    result = _inputs(args, precision, n) | {"tokens": args.tokens, "prefill_ms": r.prefill_ms, "mfu": r.mfu}
    return _emit(args, result, f"Prefill: {args.tokens:,} prompt tokens of {m.name} on {n} x {g.name}")


def cmd_serve(args: argparse.Namespace) -> int:
    _positive(args, "context", "tpot_ms", "prompt_tokens", "input_tokens", "output_tokens", "chunk_tokens")
    _non_negative(args, "arrival_cv")
    _fraction(args, "cached_share")
    if not 0 <= args.load < 1:
        raise UserError(f"--load {args.load}: a utilization between 0 and 1 (exclusive), e.g. 0.5")
    if (args.input_tokens is None) != (args.output_tokens is None):
        raise UserError("--input-tokens and --output-tokens go together: give both for end-to-end serving, or neither")
    if args.input_tokens is not None:  # end to end at max load, and latency at --load (issue 12 item 7)
        m, g, stack, precision, n = _replica(args, args.input_tokens + args.output_tokens)
        full = _physics(physics.max_load_throughput, m, g, n, precision, stack, args.input_tokens,
                        args.output_tokens, args.cached_share)
        at = _physics(physics.latency_under_load, m, g, n, precision, stack, args.input_tokens, args.output_tokens,
                      args.load, args.arrival_cv, args.cached_share, args.chunk_tokens)
        result = _inputs(args, precision, n) | {
            "input_tokens": args.input_tokens, "output_tokens": args.output_tokens, "cached_share": args.cached_share,
            "prefix_cache_tokens_per_sequence": physics.prefix_cache_tokens(args.input_tokens, args.cached_share),
            "max_batch": full.batch, "output_tokens_per_s": full.output_tokens_per_s,
            "output_tokens_per_s_per_gpu": full.output_tokens_per_s_per_gpu, "requests_per_s": full.requests_per_s,
            "prefill_share": full.prefill_share, "speculative": full.speculative,
            "load": args.load, "arrival_cv": args.arrival_cv, "chunk_tokens": args.chunk_tokens,
            "batch_at_load": at.batch, "p50_ttft_ms": at.p50_ttft_ms, "p95_ttft_ms": at.p95_ttft_ms,
            "p50_tpot_ms": at.p50_tpot_ms, "p95_tpot_ms": at.p95_tpot_ms,
            "tpot_target_ms": args.tpot_ms, "tpot_target_met": at.p95_tpot_ms <= args.tpot_ms,
        }
        return _emit(args, result, f"Serving {m.name} on {n} x {g.name}: {args.input_tokens:,} in / {args.output_tokens:,} out")
    m, g, stack, precision, n = _replica(args, args.context)
    r = _physics(physics.serve_under_tpot, m, g, n, precision, stack, args.context, args.tpot_ms)
    ttft50, ttft = (_physics(
        physics.ttft_ms, m, g, n, precision, stack, args.prompt_tokens, args.load, r.max_batch, args.context,
        args.arrival_cv, q,
    ) for q in (0.5, 0.95))
    result = _inputs(args, precision, n) | {
        "context": args.context, "tpot_target_ms": args.tpot_ms,
        "max_batch": r.max_batch, "limited_by": r.limited_by, "tpot_ms": r.tpot_ms,
        "tokens_per_s": r.tokens_per_s, "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu,
        "prompt_tokens": args.prompt_tokens, "load": args.load, "p50_ttft_ms": ttft50, "p95_ttft_ms": ttft,
    }
    return _emit(args, result, f"Serving {m.name} on {n} x {g.name} under a {args.tpot_ms:g} ms TPOT target")


def cmd_ladder(args: argparse.Namespace) -> int:
    _positive(args, "gpus", "context", "tpot_ms", "concurrency")
    _physics(physics.resolve, args.model, args.gpu)
    rows = _physics(physics.ladder, args.model, args.gpu, args.gpus, args.context, args.tpot_ms, args.concurrency)
    header = {
        "model": args.model, "gpu": args.gpu, "gpus": args.gpus, "context": args.context,
        "tpot_ms": args.tpot_ms, "concurrency": args.concurrency, "overall_multiplier": rows[-1].cumulative,
    }
    table = [
        {
            "step": r.step, "tokens_per_s": r.tokens_per_s, "multiplier": r.multiplier,
            "cumulative": r.cumulative, "kb_tokens_per_s": r.kb_tokens_per_s, "precision": r.precision,
            "gpus_per_replica": r.gpus_per_replica, "replicas": r.replicas, "batch": r.max_batch,
            "tpot_ms": r.tpot_ms,
        }
        for r in rows
    ]
    return _emit_rows(args, header, table, "KB §17 optimization ladder (one technique added per row)")


def cmd_cost_per_token(args: argparse.Namespace) -> int:
    _non_negative(args, "gpu_hour")
    _positive(args, "tokens_per_s", "gpus")
    usd = economics.cost_per_m_tokens(args.gpu_hour, args.tokens_per_s, args.gpus)
    result = {"gpu_hour": args.gpu_hour, "tokens_per_s": args.tokens_per_s, "gpus": args.gpus, "usd_per_m_tokens": usd}
    return _emit(args, result, "Cost per million tokens")


def cmd_breakeven(args: argparse.Namespace) -> int:
    _non_negative(args, "own_hourly", "capex")
    _positive(args, "rent_hourly", "years")
    _fraction(args, "wacc")
    if (args.capex is None) != (args.wacc is None):
        raise UserError("--capex and --wacc go together: give both to add the capital charge, or neither")
    result: dict[str, Any] = {"own_hourly": args.own_hourly, "rent_hourly": args.rent_hourly}
    own = args.own_hourly
    if args.capex is not None:
        charge = finance.capital_charge_per_hour(args.capex, args.wacc)
        result |= {
            "capex": args.capex, "wacc": args.wacc, "capital_charge_per_hour": charge,
            "breakeven_utilization_before_capital": finance.breakeven_utilization(own, args.rent_hourly),
            "own_hourly_with_capital": own + charge,
        }
        own += charge
    if args.years is not None and args.capex is not None:
        result |= {"years": args.years, "depreciation_per_hour": finance.straight_line_per_hour(args.capex, args.years)}
    result["breakeven_utilization"] = finance.breakeven_utilization(own, args.rent_hourly)
    return _emit(args, result, "Own vs rent: breakeven utilization")


def cmd_debt(args: argparse.Namespace) -> int:
    _non_negative(args, "cfads")
    _positive(args, "principal", "years", "covenant")
    _fraction(args, "rate")
    schedule_fn = finance.level_principal_schedule if args.schedule == "level-principal" else finance.annuity_schedule
    year1 = schedule_fn(args.principal, args.rate, args.years)[0]
    cover = finance.dscr(args.cfads, year1.debt_service)
    result = {
        "principal": args.principal, "rate": args.rate, "years": args.years, "cfads": args.cfads,
        "schedule": args.schedule, "covenant": args.covenant,
        "year1_interest": year1.interest, "year1_principal": year1.principal,
        "year1_debt_service": year1.debt_service, "dscr": cover,
        "cfads_decline_to_breach": finance.cfads_decline_to_breach(args.cfads, year1.debt_service, args.covenant),
        "covenant_breached": cover < args.covenant,
    }
    return _emit(args, result, "Debt service and coverage, year 1")


def cmd_debt_capacity(args: argparse.Namespace) -> int:
    _non_negative(args, "cfads")
    _positive(args, "periods", "dscr")
    _fraction(args, "rate")
    capacity = finance.debt_capacity(args.cfads, args.periods, args.rate, args.dscr)
    result = {
        "cfads": args.cfads, "periods": args.periods, "rate": args.rate, "dscr": args.dscr,
        "max_debt_service": args.cfads / args.dscr, "debt_capacity": capacity,
    }
    return _emit(args, result, "Debt capacity (sculpted: PV of CFADS / DSCR)")


def cmd_power(args: argparse.Namespace) -> int:
    _positive(args, "gpus")
    _non_negative(args, "watts", "usd_per_kwh")
    if args.pue < 1:
        raise UserError(f"--pue {args.pue}: power usage effectiveness is 1.0 or more (1.1 liquid-cooled to 1.4)")
    result = {
        "gpus": args.gpus, "watts": args.watts, "usd_per_kwh": args.usd_per_kwh, "pue": args.pue,
        "usd_per_gpu_hour": economics.power_cost_per_gpu_hour(args.watts, args.usd_per_kwh, args.pue),
        "usd_per_year": economics.power_cost_per_year(args.gpus, args.watts, args.usd_per_kwh, args.pue),
        "usd_per_kw_month": economics.colo_power_usd_per_kw_month(args.usd_per_kwh) * args.pue,
    }
    return _emit(args, result, "Power bill")


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------


def _replica_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, choices=MODEL_ORDER, help="model id")
    p.add_argument("--gpu", required=True, choices=GPU_ORDER, help="GPU id")
    p.add_argument("--gpus", type=int, help="GPUs per replica (default: the fewest that fit a useful batch)")
    p.add_argument("--precision", choices=physics.PRECISIONS, help="default: fp8 for the full stack on Hopper+, else bf16")
    p.add_argument("--stack", choices=tuple(physics.PRESETS), default="legacy", help="optimization preset (KB §17)")


def register(subparsers: Any) -> None:
    calc = subparsers.add_parser(
        "calc", help="the analyst's calculators", description="Inference physics, unit economics and debt calculators."
    )
    calc.set_defaults(handler=lambda _args: (calc.print_help(), 0)[1])
    sub = calc.add_subparsers(dest="calc_command", parser_class=type(calc))

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(handler=handler)
        return p

    p = add("decode", cmd_decode, "Decode step time and throughput of one replica (KB §9-11, §16)")
    _replica_flags(p)
    p.add_argument("--batch", help="running sequences (default: 32, or the most that fit); a range 1..64 or 1..max prints the batch curve")
    p.add_argument("--context", type=int, default=physics.DEFAULT_CONTEXT, help="mean context in tokens")

    p = add("tp", cmd_tp, "Tensor parallelism 1-8: step time and tokens/s per GPU (KB §7, §11)")
    p.add_argument("--model", required=True, choices=MODEL_ORDER, help="model id")
    p.add_argument("--gpu", required=True, choices=GPU_ORDER, help="GPU id")
    p.add_argument("--precision", choices=physics.PRECISIONS, help="default: fp8 for the full stack on Hopper+, else bf16")
    p.add_argument("--stack", choices=tuple(physics.PRESETS), default="legacy", help="optimization preset (KB §17)")
    p.add_argument("--batch", type=int, default=1, help="running sequences")
    p.add_argument("--context", type=int, default=512, help="mean context in tokens")

    p = add("prefill", cmd_prefill, "Prompt processing time (compute-bound, KB §11)")
    _replica_flags(p)
    p.add_argument("--tokens", type=int, required=True, help="prompt tokens")

    p = add("serve", cmd_serve, "Largest batch and throughput under a TPOT target, and TTFT (KB §11)")
    _replica_flags(p)
    p.add_argument("--context", type=int, default=physics.DEFAULT_CONTEXT, help="mean context in tokens")
    p.add_argument("--tpot-ms", type=float, required=True, help="time-per-output-token target in ms")
    p.add_argument("--prompt-tokens", type=int, default=1000, help="prompt length for TTFT")
    p.add_argument("--load", type=float, default=0.5,
                   help="utilization, 0-1: of the prefill queue, or with --input-tokens of end-to-end capacity")
    p.add_argument("--arrival-cv", type=float, default=1.0, help="burstiness of arrivals (1 = Poisson; agents 2-4)")
    p.add_argument("--input-tokens", type=int, help="prompt tokens per request: end-to-end serving at max load")
    p.add_argument("--output-tokens", type=int, help="output tokens per request (with --input-tokens)")
    p.add_argument("--cached-share", type=float, default=0.0, help="share of prompt tokens from the prefix cache")
    p.add_argument("--chunk-tokens", type=int, default=physics.PREFILL_CHUNK_TOKENS, help="prefill chunk per decode step")

    p = add("ladder", cmd_ladder, "KB §17's optimization stack on a reference configuration")
    p.add_argument("--model", default=physics.LADDER_MODEL, choices=MODEL_ORDER)
    p.add_argument("--gpu", default=physics.LADDER_GPU, choices=GPU_ORDER)
    p.add_argument("--gpus", type=int, default=physics.LADDER_GPUS, help="GPUs in the system")
    p.add_argument("--context", type=int, default=physics.LADDER_CONTEXT, help="mean context while decoding")
    p.add_argument("--tpot-ms", type=float, default=physics.LADDER_TPOT_MS)
    p.add_argument("--concurrency", type=int, default=physics.LADDER_CONCURRENCY, help="open streams")

    p = add("cost-per-token", cmd_cost_per_token, "Cost per million tokens (KB §1, §17)")
    p.add_argument("--gpu-hour", type=float, required=True, help="USD per GPU-hour")
    p.add_argument("--tokens-per-s", type=float, required=True, help="tokens/s the GPUs serve together")
    p.add_argument("--gpus", type=int, default=1)

    p = add("breakeven", cmd_breakeven, "Utilization at which owning beats renting (KB §3)")
    p.add_argument("--own-hourly", type=float, required=True, help="owned GPU, fully loaded, USD/h")
    p.add_argument("--rent-hourly", type=float, required=True, help="rental price, USD/h")
    p.add_argument("--capex", type=float, help="purchase price, USD (with --wacc: capital charge)")
    p.add_argument("--wacc", type=float, help="cost of capital, a fraction (0.12)")
    p.add_argument("--years", type=float, help="useful life (with --capex: depreciation per hour)")

    p = add("debt", cmd_debt, "Year-1 debt service, DSCR and headroom to the covenant (KB §4)")
    p.add_argument("--principal", type=float, required=True, help="USD")
    p.add_argument("--rate", type=float, required=True, help="annual rate, a fraction (0.08)")
    p.add_argument("--years", type=int, required=True, help="tenor")
    p.add_argument("--cfads", type=float, required=True, help="annual cash flow available for debt service, USD")
    p.add_argument("--schedule", choices=("level-principal", "annuity"), default="level-principal")
    p.add_argument("--covenant", type=float, default=1.3, help="minimum DSCR")

    p = add("debt-capacity", cmd_debt_capacity, "Debt a cash flow supports at a DSCR (sculpted sizing)")
    p.add_argument("--cfads", type=float, required=True, help="cash flow per period, USD")
    p.add_argument("--periods", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="rate per period, a fraction")
    p.add_argument("--dscr", type=float, required=True, help="required DSCR, e.g. 1.3")

    p = add("power", cmd_power, "Electricity per GPU-hour and per year (KB §1, §8)")
    p.add_argument("--gpus", type=int, required=True)
    p.add_argument("--watts", type=float, required=True, help="per GPU")
    p.add_argument("--usd-per-kwh", type=float, required=True)
    p.add_argument("--pue", type=float, default=1.0)

