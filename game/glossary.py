"""The help glossary: the knowledge base's concepts, each with a worked number from the engine.

One source of truth (STYLE.md): every ``worked`` text is built by calling the same engine
functions the game and the calculators call (``engine.finance``, ``engine.economics``,
``engine.physics``, the hardware and model tables, the world's and the company's rules). Inputs
(an example's $1B, 8%, 5 years) are written here; results never are.

Importing this module is cheap: it defines the concepts and small functions only. The engine is
imported, and a worked number computed, the first time a concept's ``worked`` text is read
(then cached). ``search`` ranks term matches first; ``CONTEXT_HELP`` is the per-screen help.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

KEYS = "Keys: 1-6 switch screens, e ends the quarter, ? opens help, ctrl+s saves, q quits."


@dataclass(frozen=True)
class Concept:
    id: str
    term: str
    section: str  # "KB §4" or "CALIBRATION 16"
    summary: str  # 2-4 sentences in the knowledge base's words
    where: str  # where the concept shows in the game
    keywords: tuple[str, ...]
    worked_fn: Callable[[], str] = field(repr=False, compare=False)

    @property
    def worked(self) -> str:
        """A worked example whose numbers the engine computes now (cached after the first call)."""
        return self.worked_fn()


# ------------------------------------------------------------------------------------- format


def _usd(x: float) -> str:
    """$1.23B, $45.6M, $789K, $2.48 (hourly rates keep cents)."""
    a, sign = abs(x), "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.1f}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:,.1f}K"
    if a >= 100:
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.2f}"


def _pct(x: float, digits: int = 0) -> str:
    return f"{x * 100:.{digits}f}%"


_REGISTRY: dict[str, Callable[[], str]] = {}


def _worked(concept_id: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register a worked-example function for a concept id; its text is computed once, on first use."""

    def deco(fn: Callable[[], str]) -> Callable[[], str]:
        cached = functools.cache(fn)
        _REGISTRY[concept_id] = cached
        return cached

    return deco


# --------------------------------------------------------------------- shared engine results


@functools.cache
def _ladder():
    from engine.physics import ladder

    return {row.step: row for row in ladder()}


def _m(model_id: str):
    from engine.models import model

    return model(model_id)


def _g(gpu_id: str):
    from engine.hardware import gpu

    return gpu(gpu_id)


def _world_q0():
    """2025Q1 of the default world (quarter 0 carries no random shocks: seed-independent)."""
    from engine.world import WorldParams, build_world

    return build_world(WorldParams(), 0, "2025Q1", 1).quarter(0)


# =========================================================================== worked examples
# ---- unit economics (KB §1, §2, §3, §17; CALIBRATION 9-13) ----


@_worked("cost-per-m-tokens")
def _w_cost_per_m() -> str:
    from engine.economics import cost_per_m_tokens

    slow, fast = cost_per_m_tokens(2.48, 1000), cost_per_m_tokens(2.48, 5000)
    return (f"A GPU at $2.48/hour serving 1,000 tokens/s costs {_usd(slow)} per million tokens; "
            f"fully optimized at 5,000 tokens/s, {_usd(fast)} (KB §17's Provider A vs Provider B).")


_KB2_STACK = {  # KB §2 "Illustrative margin comparison", $/H100-hour
    "Crusoe (owns infra)": (0.95, 0.03, 0.15, 0.10, 0.10),
    "CoreWeave (leases some)": (1.10, 0.07, 0.25, 0.10, 0.12),
}


@_worked("gross-margin")
def _w_gross_margin() -> str:
    from engine.economics import gross_margin

    parts = []
    for who, stack in _KB2_STACK.items():
        cost = sum(stack)
        parts.append(f"{who}: cost {_usd(cost)}/h at a $2.20 price -> {_pct(gross_margin(2.20, cost))}")
    return ("; ".join(parts) + ". Do the arithmetic: the table's '~34%' for the second line is "
            "really (2.20 - 1.64) / 2.20.")


@_worked("utilization")
def _w_utilization() -> str:
    from engine.economics import cost_per_m_tokens

    full = cost_per_m_tokens(2.48, 5000)
    parts = [f"{_pct(u)} busy: {_usd(cost_per_m_tokens(2.48, 5000 * u))}/M" for u in (0.85, 0.5, 0.25)]
    return (f"Idle hours still cost money: a $2.48/h GPU that could serve 5,000 tokens/s costs "
            f"{_usd(full)} per million tokens when always busy; " + ", ".join(parts) + ".")


@_worked("statistical-multiplexing")
def _w_multiplexing() -> str:
    import numpy as np

    from engine.demand import DEFAULT_SEGMENTS, weekly_shape

    shapes = {s.id: s.base_gpus * weekly_shape(s) for s in DEFAULT_SEGMENTS}
    alone = {k: float(v.max() / v.mean()) for k, v in shapes.items()}
    pooled = np.sum(list(shapes.values()), axis=0)
    sum_peaks = sum(float(v.max()) for v in shapes.values())
    return ("Peak-to-mean of the game's weekly demand shapes: "
            + ", ".join(f"{k} {v:.2f}x" for k, v in alone.items())
            + f"; pooled {float(pooled.max() / pooled.mean()):.2f}x. Serving each segment's own peak "
            f"needs {sum_peaks:,.0f} GPUs, the pooled peak only {float(pooled.max()):,.0f}.")


@_worked("correlated-spikes")
def _w_spikes() -> str:
    import numpy as np

    from engine.demand import DEFAULT_SEGMENTS, weekly_shape

    crest = 0.40  # a model release at magnitude 1 (engine.world: +40% x magnitude at the crest)
    base = np.sum([s.base_gpus * weekly_shape(s) for s in DEFAULT_SEGMENTS], axis=0)
    hit = np.sum([s.base_gpus * weekly_shape(s) * (1 + s.spike_sensitivity * crest) for s in DEFAULT_SEGMENTS], axis=0)
    return (f"A model release (+{_pct(crest)} at the crest, scaled by each segment's sensitivity) lifts "
            f"the pooled weekly peak from {float(base.max()):,.0f} to {float(hit.max()):,.0f} GPUs "
            f"({_pct(float(hit.max() / base.max()) - 1)} more): every segment peaks at once, so pooling "
            "no longer helps.")


@_worked("reserved-swap")
def _w_swap() -> str:
    from engine.finance import contract_mark_to_market

    gain = contract_mark_to_market(2.20, [1.20] * 4, 1000)
    return (f"Signed at $2.20/GPU-hour (fixed); the market falls to $1.20 (floating). On 1,000 GPUs for "
            f"a year the provider receives {_usd(gain)} above market: the swap is in the money.")


@_worked("uncontracted-exposure")
def _w_uncontracted() -> str:
    from engine.finance import cfads_decline_to_breach, dscr

    service, cfads = 280e6, 400e6
    contracted_share = 0.4  # of the cash flow
    fall = 0.40  # market rates fall 40% (KB §2)
    stressed = cfads * (contracted_share + (1 - contracted_share) * (1 - fall))
    return (f"$400M of cash flow, {_pct(contracted_share)} contracted, against $280M of debt service: "
            f"DSCR {dscr(cfads, service):.2f}x, with {_pct(cfads_decline_to_breach(cfads, service))} "
            f"headroom to a 1.30x covenant. A {_pct(fall)} fall in rates on the uncontracted part leaves "
            f"{_usd(stressed)} and DSCR {dscr(stressed, service):.2f}x.")


@_worked("on-demand")
def _w_on_demand() -> str:
    q = _world_q0()
    h = q.gpus["h100"]
    return (f"In 2025Q1 an H100 rents on demand for {_usd(h.on_demand_usd_per_hour)}/hour; the owning cost "
            f"of a new one (its cost floor) is {_usd(h.cost_floor_usd_per_hour)}/hour.")


@_worked("reserved-pricing")
def _w_reserved() -> str:
    from engine.world import WorldParams

    q, p = _world_q0(), WorldParams()
    h = q.gpus["h100"]
    return ("H100 in 2025Q1: on demand " + _usd(h.on_demand_usd_per_hour) + "/h; reserved "
            + ", ".join(f"{t // 4} yr {_usd(r)} ({_pct(p.reserved_discount[t])} off)" for t, r in h.reserved_usd_per_hour.items())
            + ".")


@_worked("spot")
def _w_spot() -> str:
    from engine.world import WorldParams

    q, p = _world_q0(), WorldParams()
    h = q.gpus["h100"]
    return (f"Spot sells {_pct(p.spot_discount)} below on demand: an H100 at {_usd(h.on_demand_usd_per_hour)} "
            f"on demand earns {_usd(h.spot_usd_per_hour)}/h as spot, still far above its cash floor of "
            f"{_usd(h.cash_floor_usd_per_hour)}/h (power and operations).")


@_worked("batch-pricing")
def _w_batch() -> str:
    from engine.step import BATCH_PRICE_SHARE

    od = _world_q0().gpus["h100"].on_demand_usd_per_hour
    return (f"The game bills batch work at {_pct(BATCH_PRICE_SHARE)} of your on-demand price: "
            f"{_usd(od * BATCH_PRICE_SHARE)} per H100-hour against {_usd(od)}. It queues for idle hours, "
            "like standby airline tickets.")


@_worked("cached-input")
def _w_cached() -> str:
    from engine.physics import LEGACY, prefill

    m, g = _m("llama-3.1-70b"), _g("h100")
    whole = prefill(m, g, 2, "bf16", 4096, LEGACY).prefill_ms
    new = prefill(m, g, 2, "bf16", 256, LEGACY).prefill_ms
    return (f"Llama-3.1-70B on 2 x H100: prefilling a 4,096-token prompt takes {whole:.0f} ms; with the "
            f"first 3,840 tokens' KV cache reused, only 256 new tokens take {new:.0f} ms "
            f"({_pct(1 - new / whole)} less GPU time). A ~50% discount shares that saving.")


@_worked("input-output-pricing")
def _w_io() -> str:
    from engine.physics import LEGACY, prefill, serve_under_tpot

    m, g = _m("llama-3.1-70b"), _g("h100")
    pre = prefill(m, g, 2, "bf16", 2048, LEGACY)
    in_tps = 2048 / pre.prefill_ms * 1e3
    out_tps = serve_under_tpot(m, g, 2, "bf16", LEGACY, 1024, 60.0).tokens_per_s
    return (f"Llama-3.1-70B on 2 x H100 (BF16): prefill reads a 2,048-token prompt at {in_tps:,.0f} tokens/s; "
            f"decode writes {out_tps:,.0f} tokens/s under a 60 ms TPOT. Each output token takes "
            f"{in_tps / out_tps:.0f}x the GPU time of an input token here; price lists charge 2-4x.")


@_worked("deflation")
def _w_deflation() -> str:
    from engine.world import WorldParams, token_price

    p = WorldParams()
    start = p.token_price_start["70b-class"]
    return (f"The game deflates token prices {p.token_deflation_per_year:.0f}x a year: a 70B-class model "
            f"at {_usd(start)}/M in 2025Q1 sells for {_usd(token_price(start, p.token_deflation_per_year, 2))}/M "
            f"two quarters later and {_usd(token_price(start, p.token_deflation_per_year, 4))}/M a year later. "
            f"(KB §1's $20 -> $0.40 over ~2.5 years is {50 ** (1 / 2.5):.1f}x a year.)")


@_worked("breakeven-utilization")
def _w_breakeven() -> str:
    from engine.finance import breakeven_utilization, capital_charge_per_hour

    base = breakeven_utilization(1.10, 2.50)
    wacc = capital_charge_per_hour(28_000, 0.12)
    equity = capital_charge_per_hour(28_000, 0.25)
    return (f"Owned H100 at $1.10/h vs renting at $2.50/h: breakeven {_pct(base)} utilization. Add a 12% "
            f"capital charge on $28K (+{_usd(wacc)}/h): {_pct(breakeven_utilization(1.10 + wacc, 2.50))}. "
            f"Funded with equity at 25% (+{_usd(equity)}/h): {_pct(breakeven_utilization(1.10 + equity, 2.50))}.")


@_worked("gpu-failures")
def _w_failures() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    return (f"At {_pct(r.annual_failure_rate)} a year, a 1,024-GPU fleet loses about "
            f"{1024 * r.annual_failure_rate / 4:.1f} GPUs a quarter ({1024 * r.annual_failure_rate:.0f} a year): "
            "keep spares, or sell contracts with headroom.")


# ---- models and hardware (KB §7, §9, §10, §11, §16, §17; CALIBRATION 1-8) ----


@_worked("smaller-models")
def _w_smaller() -> str:
    from engine.physics import weight_bytes

    g = _g("h100")
    s, b = weight_bytes(_m("llama-3.1-8b"), "bf16"), weight_bytes(_m("llama-3.1-405b"), "bf16")
    return (f"At BF16, Llama-3.1-8B is {s / 1e9:.0f} GB of weights and 405B is {b / 1e9:.0f} GB "
            f"({b / s:.0f}x). Streaming them once at H100's {g.hbm_tb_s} TB/s takes "
            f"{s / (g.hbm_tb_s * 1e12) * 1e3:.1f} ms on one GPU, and {b / (8 * g.hbm_tb_s * 1e12) * 1e3:.0f} ms "
            "even spread over 8.")


@_worked("hbm")
def _w_hbm() -> str:
    from engine.physics import gpus_per_replica, weight_bytes

    m = _m("llama-3.1-70b")
    h100, h200 = _g("h100"), _g("h200")
    wb = weight_bytes(m, "bf16") / 1e9
    return (f"Llama-3.1-70B at BF16 is {wb:.1f} GB: more than an H100's {h100.hbm_gb:.0f} GB and, by a hair, "
            f"an H200's {h200.hbm_gb:.0f} GB. A serving replica needs {gpus_per_replica(m, h100, 'bf16')} H100s or "
            f"{gpus_per_replica(m, h200, 'bf16')} H200s at BF16; at FP8 ({weight_bytes(m, 'fp8') / 1e9:.1f} GB) one "
            f"H200 does ({gpus_per_replica(m, h200, 'fp8')} GPU), and its {h200.hbm_tb_s} TB/s beats H100's "
            f"{h100.hbm_tb_s} TB/s.")


@_worked("kv-cache")
def _w_kv() -> str:
    from engine.physics import kv_bytes_per_token

    m = _m("llama-3.1-70b")
    per = kv_bytes_per_token(m, "bf16")
    return (f"Llama-3.1-70B stores 2 x {m.layers} layers x {m.kv_heads} KV heads x {m.head_dim} dims x 2 bytes "
            f"= {per / 1024:.0f} KiB per token at BF16: a 4K prompt holds {per * 4096 / 1e9:.2f} GB, a 128K "
            f"context {per * 131072 / 1e9:.1f} GB. KB §11 quotes ~1.2 MB/token; grouped-query attention's 8 KV heads "
            "make the real figure about 4x smaller.")


@_worked("memory-bound")
def _w_memory_bound() -> str:
    from engine.physics import LEGACY, decode

    m, g = _m("llama-3.1-70b"), _g("h100")
    one = decode(m, g, 2, "bf16", 1, 1024, LEGACY)
    many = decode(m, g, 2, "bf16", 30, 1024, LEGACY)
    ridge = g.bf16_tflops * 1e12 / (g.hbm_tb_s * 1e12)
    return (f"An H100 does {ridge:.0f} BF16 FLOPs per byte it reads (its ridge point); decode at batch 1 does "
            f"~1 (2 FLOPs per 2-byte weight). Llama-3.1-70B on 2 x H100: batch 1 takes {one.step_ms:.1f} ms a step "
            f"({one.bound}-bound, {one.tokens_per_s:.0f} tok/s); batch 30 takes {many.step_ms:.1f} ms for "
            f"{many.tokens_per_s:,.0f} tok/s.")


@_worked("prefill-decode")
def _w_prefill_decode() -> str:
    from engine.physics import LEGACY, decode, prefill

    m, g = _m("llama-3.1-70b"), _g("h100")
    p = prefill(m, g, 2, "bf16", 2048, LEGACY)
    d = decode(m, g, 2, "bf16", 1, 2048, LEGACY)
    return (f"Llama-3.1-70B on 2 x H100: prefill of 2,048 prompt tokens takes {p.prefill_ms:.0f} ms at "
            f"{_pct(p.mfu)} of peak FLOPS (compute-bound); each decode step then takes {d.step_ms:.0f} ms for one "
            f"token ({d.bound}-bound).")


@_worked("ttft-tpot")
def _w_latency() -> str:
    from engine.physics import LEGACY, decode, ttft_ms

    g = _g("h100")
    out = []
    for mid, n in (("llama-3.1-8b", 1), ("llama-3.1-70b", 2)):
        m = _m(mid)
        ttft = ttft_ms(m, g, n, "bf16", LEGACY, 500, load=0.5)
        tpot = decode(m, g, n, "bf16", 16, 1024, LEGACY).tpot_ms
        out.append(f"{m.name} on {n} x H100: TTFT {ttft:.0f} ms for a 500-token prompt at 50% load, TPOT {tpot:.0f} ms at batch 16")
    return "; ".join(out) + ". A 300-token answer takes TTFT + 300 x TPOT."


def _ladder_text(step: str, lead: str) -> str:
    rows = _ladder()
    r = rows[step]
    return (f"{lead} On the reference (Llama-3.1-70B, 2 x H100, 60 ms TPOT): {r.tokens_per_s / r.multiplier:,.0f} -> "
            f"{r.tokens_per_s:,.0f} tokens/s ({r.multiplier:.2f}x; KB §17 quotes {r.kb_tokens_per_s:,.0f}).")


@_worked("continuous-batching")
def _w_cb() -> str:
    from engine.physics import CONTINUOUS_SLOT_UTILIZATION, STATIC_SLOT_UTILIZATION

    return _ladder_text(
        "continuous_batching",
        f"Useful batch slots rise from {_pct(STATIC_SLOT_UTILIZATION)} (static) to {_pct(CONTINUOUS_SLOT_UTILIZATION)}.",
    )


@_worked("paged-attention")
def _w_paged() -> str:
    from engine.physics import KV_WASTE_CONTIGUOUS, KV_WASTE_PAGED

    rows = _ladder()
    before, after = rows["continuous_batching"].max_batch, rows["paged_attention"].max_batch
    return _ladder_text(
        "paged_attention",
        f"KV waste falls from {_pct(KV_WASTE_CONTIGUOUS)} to {_pct(KV_WASTE_PAGED)}: the batch cap rises from "
        f"{before} to {after} sequences.",
    )


@_worked("flash-attention")
def _w_flash() -> str:
    from engine.physics import LEGACY, NAIVE, prefill

    m, g = _m("llama-3.1-70b"), _g("h100")
    slow = prefill(m, g, 2, "bf16", 4096, NAIVE.with_("continuous_batching").with_("paged_attention")).prefill_ms
    fast = prefill(m, g, 2, "bf16", 4096, LEGACY).prefill_ms
    return _ladder_text("flash_attention", f"Prefill of 4,096 tokens: {slow:.0f} ms -> {fast:.0f} ms.")


@_worked("quantization")
def _w_quant() -> str:
    from engine.physics import weight_bytes

    m, b = _m("llama-3.1-70b"), _g("b200")
    return _ladder_text(
        "fp8",
        f"Llama-3.1-70B weights: {weight_bytes(m, 'bf16') / 1e9:.0f} GB at BF16, {weight_bytes(m, 'fp8') / 1e9:.0f} GB "
        f"at FP8, {weight_bytes(m, 'fp4') / 1e9:.0f} GB at FP4 (Blackwell only: B200 {b.fp4_tflops:,.0f} FP4 TFLOPS vs "
        f"{b.bf16_tflops:,.0f} BF16).",
    )


@_worked("custom-kernels")
def _w_kernels() -> str:
    from engine.physics import (
        FIXED_OVERHEAD_MS_CUSTOM,
        FIXED_OVERHEAD_MS_STOCK,
        MEM_EFFICIENCY_CUSTOM,
        MEM_EFFICIENCY_STOCK,
    )

    return _ladder_text(
        "custom_kernels",
        f"Fused kernels lift achieved HBM bandwidth from {_pct(MEM_EFFICIENCY_STOCK)} to {_pct(MEM_EFFICIENCY_CUSTOM)} "
        f"of spec and cut per-step overhead from {FIXED_OVERHEAD_MS_STOCK:.0f} ms to {FIXED_OVERHEAD_MS_CUSTOM:.0f} ms.",
    )


@_worked("speculative-decoding")
def _w_spec() -> str:
    from engine.physics import DRAFT_ACCEPTANCE, DRAFT_TOKENS, tokens_per_step

    rows = _ladder()
    total = rows["speculative_decoding"].cumulative
    return _ladder_text(
        "speculative_decoding",
        f"A draft model proposes {DRAFT_TOKENS} tokens; at {_pct(DRAFT_ACCEPTANCE)} acceptance each verify step "
        f"advances {tokens_per_step(DRAFT_TOKENS):.2f} tokens.",
    ) + f" The whole stack: {total:.1f}x over naive."


@_worked("tensor-parallelism")
def _w_tp() -> str:
    from engine.physics import IB_GB_S, allreduce_us, tp_comm_ms

    m, g = _m("llama-3.1-405b"), _g("h100")
    msg = 16 * m.d_model * 2  # 16 sequences' activations, BF16
    return (f"NVLink gives an H100 {g.nvlink_gb_s:,.0f} GB/s; InfiniBand NDR {IB_GB_S:.0f} GB/s (400 Gb/s), "
            f"{g.nvlink_gb_s / IB_GB_S:.0f}x less. One all-reduce for a batch of 16 on Llama-3.1-405B: "
            f"{allreduce_us(msg, g, 8):.0f} us across 8 GPUs in a node, {allreduce_us(msg, g, 16):.0f} us across 16 "
            f"(two nodes); x {m.layers} layers x 2 per token = {tp_comm_ms(m, g, 8, 16):.1f} ms vs "
            f"{tp_comm_ms(m, g, 16, 16):.1f} ms per step.")


@_worked("nvl72")
def _w_nvl72() -> str:
    from engine.physics import weight_bytes

    gb = _g("gb200")
    w = weight_bytes(_m("llama-3.1-405b"), "bf16") / 1e9
    return (f"Llama-3.1-405B at BF16 is {w:.0f} GB: {w / 80:.1f} H100s' worth of HBM, so more than one 8-GPU node. "
            f"A GB200 NVL72 puts {gb.nvlink_domain} GPUs ({gb.nvlink_domain * gb.hbm_gb / 1e3:.1f} TB of HBM) in one "
            f"NVLink domain at {gb.nvlink_gb_s / 1e3:.1f} TB/s each.")


@_worked("moe")
def _w_moe() -> str:
    from engine.physics import experts_touched, weight_bytes, weight_bytes_read

    m = _m("mixtral-8x7b")
    return (f"{m.name}: {weight_bytes(m, 'bf16') / 1e9:.0f} GB resident at BF16, but one token reads only "
            f"{weight_bytes_read(m, 'bf16', 1) / 1e9:.0f} GB ({m.experts_per_token} of {m.n_experts} experts). "
            f"A batch of 8 touches {experts_touched(m, 8):.1f} experts on average "
            f"({weight_bytes_read(m, 'bf16', 8) / 1e9:.0f} GB read).")


@_worked("memory-hierarchy")
def _w_hierarchy() -> str:
    from engine.physics import weight_bytes

    m, g = _m("llama-3.1-70b"), _g("h100")
    w = weight_bytes(m, "bf16")
    return (f"Llama-3.1-70B ({w / 1e9:.0f} GB) loads from a ~7 GB/s NVMe disk in {w / 7e9:.0f} s (the cold start), "
            f"crosses PCIe 5.0 at ~64 GB/s, then streams from HBM at {g.hbm_tb_s} TB/s: {w / (g.hbm_tb_s * 1e12) * 1e3:.0f} ms "
            "for every decode step on one GPU's worth of bandwidth.")


# ---- data centers and power (KB §1, §8, §18, §19; CALIBRATION 12) ----


@_worked("kw-month")
def _w_kw_month() -> str:
    from engine.economics import colo_power_usd_per_kw_month

    grid, gas = colo_power_usd_per_kw_month(0.10), colo_power_usd_per_kw_month(0.03)
    return (f"1 kW for a month is {_usd(grid)} of power at $0.10/kWh and {_usd(gas)} at $0.03: "
            f"{_usd(grid - gas)}/kW/month, or {_usd((grid - gas) * 100_000 * 12)} a year at a 100 MW facility.")


@_worked("pue")
def _w_pue() -> str:
    from engine.economics import power_cost_per_year

    lo, hi = power_cost_per_year(10_000, 700, 0.10, 1.1), power_cost_per_year(10_000, 700, 0.10, 1.4)
    return (f"10,000 H100s at 700 W and $0.10/kWh: {_usd(lo)} a year at PUE 1.1 (liquid cooling), {_usd(hi)} at "
            f"PUE 1.4.")


@_worked("power-cost")
def _w_power() -> str:
    from engine.economics import power_cost_per_gpu_hour, power_cost_per_year

    w = _g("h100").tdp_w
    return (f"An H100 at {w:.0f} W and $0.10/kWh costs {_usd(power_cost_per_gpu_hour(w, 0.10))} an hour; 10,000 of "
            f"them {_usd(power_cost_per_year(10_000, w, 0.10))} a year, before cooling (PUE).")


@_worked("stranded-energy")
def _w_stranded() -> str:
    from engine.economics import power_cost_per_gpu_hour, power_cost_per_year
    from engine.scenario import CompanyRules
    from engine.world import WorldParams

    p, r = WorldParams(), CompanyRules()
    w = _g("h100").tdp_w
    grid = power_cost_per_gpu_hour(w, p.grid_usd_per_kwh, r.owned_pue)
    gas = power_cost_per_gpu_hour(w, p.stranded_gas_usd_per_kwh, r.owned_pue)
    saved = power_cost_per_year(10_000, w, p.grid_usd_per_kwh, r.owned_pue) - power_cost_per_year(
        10_000, w, p.stranded_gas_usd_per_kwh, r.owned_pue)
    return (f"In the game, grid power is ${p.grid_usd_per_kwh:.2f}/kWh and stranded gas ${p.stranded_gas_usd_per_kwh:.2f}: "
            f"an H100 at PUE {r.owned_pue} costs {_usd(grid)} vs {_usd(gas)} an hour, {_usd(saved)} a year on 10,000 GPUs.")


@_worked("colocation")
def _w_colo() -> str:
    from engine.economics import HOURS_PER_MONTH
    from engine.world import WorldParams

    p = WorldParams()
    kw = _g("h100").tdp_w / 1000 * p.server_kw_per_gpu_kw
    return (f"Colo at ${p.colo_usd_per_kw_month:.0f}/kW/month on an H100 server's {kw:.2f} kW per GPU is "
            f"{_usd(p.colo_usd_per_kw_month * kw / HOURS_PER_MONTH)} per GPU-hour, power included; rented "
            "by the kW, not the square foot.")


@_worked("build-stages")
def _w_build() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    capex = 20 * (r.build_shell_usd_per_mw + r.build_power_usd_per_mw)
    grid = r.permit_quarters + r.interconnect_quarters + r.construction_quarters
    gas = r.permit_quarters + 1 + r.construction_quarters
    return (f"A 20 MW campus costs {_usd(capex)} ({_usd(r.build_shell_usd_per_mw)}/MW shell + "
            f"{_usd(r.build_power_usd_per_mw)}/MW power and cooling). On the grid: {r.permit_quarters} quarters of "
            f"permits, {r.interconnect_quarters} of interconnection, {r.construction_quarters} of construction = "
            f"{grid} quarters; on stranded gas (no grid queue) {gas}.")


@_worked("capex-opex")
def _w_capex() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    gpus = 10_000 * 28_000 * (1 + r.networking_share)
    return (f"10,000 H100s at $28K plus {_pct(r.networking_share)} for networking is {_usd(gpus)} of CapEx before "
            "the first customer; leasing the same GPUs is OpEx paid hour by hour.")


@_worked("scarcity-premium")
def _w_scarcity() -> str:
    from engine.world import WorldParams, premium_trend

    p = WorldParams()
    return (f"The game prices a GPU-hour at its cost floor x (1 + premium). The scarcity premium starts at "
            f"{_pct(premium_trend(p, 0))}, halves its excess every {p.scarcity_half_life_quarters:.0f} quarters: "
            f"{_pct(premium_trend(p, 8))} after 2 years, {_pct(premium_trend(p, 16))} after 4, toward "
            f"{_pct(p.long_run_premium)}.")


@_worked("depreciation-split")
def _w_dep_split() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    return (f"The game depreciates GPUs over {r.gpu_life_years:.0f} years, shells over {r.shell_life_years:.0f} and "
            f"power plant over {r.power_life_years:.0f}: a $200M campus ($60M shell, $140M power) costs "
            f"{_usd(60e6 / r.shell_life_years + 140e6 / r.power_life_years)} a year, $200M of GPUs "
            f"{_usd(200e6 / r.gpu_life_years)}.")


# ---- GPU ownership (KB §3, §20; CALIBRATION 10, 11, 20) ----


@_worked("straight-line")
def _w_straight() -> str:
    from engine.finance import straight_line_per_hour

    return (f"$28K H100 to zero: {_usd(straight_line_per_hour(28_000, 3))}/h over 3 years, "
            f"{_usd(straight_line_per_hour(28_000, 5))}/h over 5. KB §3's $0.95 and $0.57 are $28K less a 10% "
            f"residual: {_usd(straight_line_per_hour(28_000, 3, 2_800))} and {_usd(straight_line_per_hour(28_000, 5, 2_800))}.")


@_worked("residual-value")
def _w_residual() -> str:
    from engine.world import residual_fraction

    cases = ", ".join(f"{c} {_pct(residual_fraction(c, 12))} = {_usd(28_000 * residual_fraction(c, 12))}"
                      for c in ("bull", "base", "bear"))
    return f"A $28K H100 after 3 years (12 quarters): {cases}."


@_worked("obsolescence")
def _w_obsolete() -> str:
    from engine.world import DEFAULT_ROADMAP

    gens = {g.gen: g for g in DEFAULT_ROADMAP}
    h, b = gens["h100"], gens["b200"]
    per_h100 = b.list_price_usd / b.perf
    return (f"A B200 at {_usd(b.list_price_usd)} delivers {b.perf:.1f}x an H100's value per hour: "
            f"{_usd(per_h100)} per H100-equivalent vs {_usd(h.list_price_usd)} for an H100, "
            f"{_pct(1 - per_h100 / h.list_price_usd)} less. Once B200s ramp, an H100 rents for at most "
            f"1/{b.perf:.1f} of a B200-hour.")


@_worked("barbell")
def _w_barbell() -> str:
    from engine.economics import owned_gpu_hourly_cost
    from engine.scenario import CompanyRules
    from engine.world import WorldParams

    r, p = CompanyRules(), WorldParams()
    h = _world_q0().gpus["h100"]
    own = owned_gpu_hourly_cost(h.list_price_usd * (1 + r.networking_share), r.gpu_life_years, _g("h100").tdp_w,
                                p.stranded_gas_usd_per_kwh, r.owned_pue, wacc=0.08, other_hourly=r.ops_usd_per_gpu_hour)
    return (f"2025Q1 H100: owning costs {_usd(own)} per hour (8% debt, stranded gas), i.e. {_usd(own / 0.85)} per busy "
            f"hour at 85% utilization but {_usd(own / 0.4)} at 40%; a 1-year lease is {_usd(h.lease_usd_per_hour)} "
            "per hour you hold it. Own what contracts keep busy; lease the part you are unsure of.")


@_worked("option-value")
def _w_option() -> str:
    from engine.economics import owned_gpu_hourly_cost
    from engine.scenario import CompanyRules
    from engine.world import WorldParams

    r, p = CompanyRules(), WorldParams()
    h = _world_q0().gpus["h100"]
    own = owned_gpu_hourly_cost(h.list_price_usd * (1 + r.networking_share), r.gpu_life_years, _g("h100").tdp_w,
                                p.stranded_gas_usd_per_kwh, r.owned_pue, wacc=0.12, other_hourly=r.ops_usd_per_gpu_hour)
    return (f"2025Q1: a 1-year H100 lease at {_usd(h.lease_usd_per_hour)}/h vs {_usd(own)}/h to own at a 12% capital "
            f"charge: {_usd(h.lease_usd_per_hour - own)}/h is the premium for the option to hand the GPU back.")


# ---- lenders (KB §4, §5, §6; CALIBRATION 14-19) ----


def _service(principal: float, rate: float, years: int) -> float:
    from engine.finance import level_principal_schedule

    return level_principal_schedule(principal, rate, years)[0].debt_service


@_worked("dscr")
def _w_dscr() -> str:
    from engine.finance import cfads_decline_to_breach, dscr

    five, twelve = _service(1e9, 0.08, 5), _service(1e9, 0.07, 12)
    return (f"$400M of cash flow on $1B of debt: 5 years at 8% = {_usd(five)} year-1 service, DSCR "
            f"{dscr(400e6, five):.2f}x ({_pct(cfads_decline_to_breach(400e6, five))} fall to a 1.3x breach); "
            f"12 years at 7% = {_usd(twelve)}, DSCR {dscr(400e6, twelve):.2f}x "
            f"({_pct(cfads_decline_to_breach(400e6, twelve))} fall).")


@_worked("debt-capacity")
def _w_capacity() -> str:
    from engine.finance import debt_capacity, target_debt_service

    with_c = target_debt_service(400e6, 1, 1.5)[0]
    without = target_debt_service(150e6, 1, 1.5)[0]
    return (f"At 1.5x DSCR, $400M of contracted cash flow supports {_usd(with_c)}/yr of service; over 12 years at 7% "
            f"that is {_usd(debt_capacity(400e6, 12, 0.07, 1.5))} of debt (the present value). $150M uncontracted "
            f"supports {_usd(without)}/yr: {_usd(debt_capacity(150e6, 5, 0.08, 1.5))} over 5 years at 8%. "
            "(KB §4's $3-4B and $1-1.5B add up the service without discounting.)")


@_worked("tenor")
def _w_tenor() -> str:
    from engine.lenders import Underwriting, term_tenor_quarters

    five, twelve = _service(1e9, 0.08, 5), _service(1e9, 0.07, 12)

    def tenor(share: float, life_quarters: float) -> int:
        return term_tenor_quarters(Underwriting(
            contracted_revenue_cents=0, uncontracted_revenue_cents=0, cash_costs_cents=0, cfads_cents=0,
            ig_share=0.0, contracted_share=share, remaining_contract_quarters=life_quarters))

    return (f"Same $1B: 5-year debt at 8% costs {_usd(five)} in year 1, 12-year at 7% {_usd(twelve)}: "
            f"{_usd(five - twelve)} a year freed. The game's lenders give {tenor(0.8, 60) / 4:.0f}-year debt behind "
            f"15-year contracts and {tenor(0.2, 0) / 4:.0f} years without.")


@_worked("credit-spread")
def _w_spread() -> str:
    from types import SimpleNamespace

    from engine.lenders import term_spread_bps
    from engine.world import WorldParams

    p = WorldParams()
    wq = SimpleNamespace(spread_ig_bps=p.spread_ig_bps, spread_sub_ig_bps=p.spread_sub_ig_bps)
    lo, mid, hi = term_spread_bps(wq, 1.0), term_spread_bps(wq, 0.5), term_spread_bps(wq, 0.0)
    return (f"Spreads over SOFR: {hi:.0f} bps with no investment-grade contracts, {mid:.0f} at half, {lo:.0f} fully "
            f"contracted. On $5B, {hi - lo:.0f} bps is {_usd(5e9 * (hi - lo) / 1e4)} a year; on $1B, 300-400 bps is "
            f"{_usd(1e9 * 0.03)}-{_usd(1e9 * 0.04)}.")


@_worked("covenants")
def _w_covenants() -> str:
    from engine.finance import cfads_decline_to_breach, dscr
    from engine.scenario import CompanyRules

    r = CompanyRules()
    five = _service(1e9, 0.08, 5)
    d = dscr(400e6, five)
    return (f"The game tests trailing-four-quarter DSCR each quarter: below {r.covenant_lockup_dscr:.2f}x is lock-up, "
            f"below {r.covenant_default_dscr:.2f}x default. At {d:.2f}x, cash flow can fall "
            f"{_pct(cfads_decline_to_breach(400e6, five, r.covenant_lockup_dscr))} before lock-up and "
            f"{_pct(cfads_decline_to_breach(400e6, five, r.covenant_default_dscr))} before default.")


@_worked("refinancing-wall")
def _w_refinancing_wall() -> str:
    from engine.lenders import REFINANCING_TENOR, refinancing_capacity_cents
    from engine.scenario import CompanyRules

    cov = CompanyRules().covenant_lockup_dscr
    cfads, other, balloon = 52e6, 16e6, 70e6
    calm = refinancing_capacity_cents(round(cfads * 100), round(other * 100), cov, (0.042 + 0.03) / 4) / 100
    shock = refinancing_capacity_cents(round(cfads * 100), round((other + 60e6 * 0.03) * 100), cov, (0.072 + 0.045) / 4) / 100
    return (f"{_usd(cfads)} a year of cash flow, {_usd(other)} of other service and a {_usd(balloon)} balloon: at SOFR 4.2% + "
            f"300 bps up to {_usd(calm)} fits the {cov:.2f}x covenant over a {REFINANCING_TENOR // 4}-year "
            f"extension: the lender rolls it all. Three points of SOFR later, spreads 150 bps wider: {_usd(shock)}, and cash must find "
            f"the other {_usd(balloon - min(balloon, shock))}.")


@_worked("equity-cure")
def _w_cure() -> str:
    from engine.finance import dscr
    from engine.scenario import CompanyRules

    r = CompanyRules()
    cfads, service = 50e6, 60e6
    need = service * r.covenant_default_dscr - cfads
    return (f"Trailing cash flow {_usd(cfads)} on {_usd(service)} of service is DSCR {dscr(cfads, service):.2f}x, "
            f"under the {r.covenant_default_dscr:.2f}x default line. Equity raised counts as cash flow in the test: "
            f"{_usd(need)} brings it back to {dscr(cfads + need, service):.2f}x.")


@_worked("cash-sweep")
def _w_sweep() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    cfads, service = 30e6, 25e6
    return (f"In lock-up the lenders sweep {_pct(r.lockup_sweep_share)} of the quarter's cash flow after debt "
            f"service: {_usd(cfads)} - {_usd(service)} leaves {_usd(cfads - service)}, of which "
            f"{_usd((cfads - service) * r.lockup_sweep_share)} prepays the loans.")


@_worked("project-finance")
def _w_project() -> str:
    from engine.finance import level_principal_schedule

    five = level_principal_schedule(9.6e9, 0.07, 5)[0].principal
    twelve = level_principal_schedule(9.6e9, 0.07, 12)[0].principal
    return (f"Abilene's $9.6B: principal alone is {_usd(five)} a year over 5 years vs {_usd(twelve)} over 12, "
            f"{_usd(five - twelve)} a year the ramping campus does not have to find.")


@_worked("equipment-finance")
def _w_equipment() -> str:
    from engine.lenders import EQUIPMENT_LTV
    from engine.scenario import CompanyRules

    r = CompanyRules()
    book = 1024 * 28_000 * (1 + r.networking_share)
    return (f"1,024 H100s at $28K plus networking are {_usd(book)} of book value; at {_pct(EQUIPMENT_LTV)} "
            f"loan-to-value an equipment lender advances {_usd(book * EQUIPMENT_LTV)}, secured on the GPUs.")


@_worked("venture-debt")
def _w_venture() -> str:
    from engine.finance import after_tax_cost_of_debt
    from engine.equity import COST_OF_EQUITY

    return (f"At Series B, venture debt at 12-15% costs {_pct(after_tax_cost_of_debt(0.12), 1)}-"
            f"{_pct(after_tax_cost_of_debt(0.15), 1)} after tax, against ~{_pct(COST_OF_EQUITY['series-b'])} a year "
            f"for equity; sized at 20-30% of the last round: {_usd(0.2 * 60e6)}-{_usd(0.3 * 60e6)} after a $60M round.")


@_worked("interest-tax-shield")
def _w_interest_shield() -> str:
    from engine.finance import CORPORATE_TAX_RATE, after_tax_cost_of_debt

    rate = after_tax_cost_of_debt(0.08)
    return (f"8% interest at a {_pct(CORPORATE_TAX_RATE)} tax rate costs {_pct(rate, 2)} after tax: on $1B, "
            f"{_usd(1e9 * 0.08)} of interest saves {_usd(1e9 * (0.08 - rate))} of tax.")


@_worked("depreciation-tax-shield")
def _w_dep_shield() -> str:
    from engine.finance import depreciation_tax_shield

    return (f"A $2B facility over 15-20 years deducts {_usd(2e9 / 20)}-{_usd(2e9 / 15)} a year of non-cash expense; "
            f"at 21% that saves {_usd(depreciation_tax_shield(2e9, 20))}-{_usd(depreciation_tax_shield(2e9, 15))} "
            "of tax a year (once there is taxable income to shield).")


@_worked("nol")
def _w_nol() -> str:
    from engine.scenario import CompanyRules

    r = CompanyRules()
    nol, pretax = 50e6, 40e6
    used = min(nol, pretax * r.nol_limit)
    return (f"With {_usd(nol)} of past losses and {_usd(pretax)} of pre-tax income, the game lets losses offset "
            f"{_pct(r.nol_limit)} of income: {_usd(used)} used, tax {_usd((pretax - used) * r.tax_rate)} instead of "
            f"{_usd(pretax * r.tax_rate)}; {_usd(nol - used)} carries forward.")


@_worked("wacc")
def _w_wacc() -> str:
    from engine.finance import wacc

    mix = wacc(5e9, 9.6e9, 0.25, 0.08)
    return (f"Abilene-like funding, $5B equity at 25% and $9.6B debt at 8% (6.32% after tax): WACC {_pct(mix, 1)}. "
            f"All equity: 25%. The KB §3 ownership math uses 12%.")


@_worked("cost-of-equity")
def _w_coe() -> str:
    from engine.finance import after_tax_cost_of_debt
    from engine.equity import COST_OF_EQUITY

    stages = ", ".join(f"{k} {_pct(v)}" for k, v in COST_OF_EQUITY.items())
    return (f"What the game's investors expect a year by stage: {stages}. Debt at 8% costs "
            f"{_pct(after_tax_cost_of_debt(0.08), 1)} after tax.")


@_worked("interest-rates")
def _w_rates() -> str:
    from engine.world import WorldParams

    p = WorldParams()
    return (f"The game starts at SOFR {_pct(p.sofr_start, 1)}: investment-grade-backed debt at SOFR + "
            f"{p.spread_ig_bps:.0f} bps costs {_pct(p.sofr_start + p.spread_ig_bps / 1e4, 2)}. A rate shock of 3 points "
            f"adds {_usd(1e9 * 0.03)} a year of interest per $1B of floating-rate debt.")


# ---- customers and valuation (KB §1, §5, §18, §21) ----


@_worked("segments")
def _w_segments() -> str:
    from engine.demand import DEFAULT_SEGMENTS

    return "Segments in the game (GPUs demanded at 2025Q1, growth a quarter, price elasticity): " + "; ".join(
        f"{s.name} {s.base_gpus:.0f}, {_pct(s.growth_per_quarter)}, {s.elasticity:g}" for s in DEFAULT_SEGMENTS) + "."


@_worked("price-elasticity")
def _w_elasticity() -> str:
    from engine.demand import DEFAULT_SEGMENTS, price_response

    segs = {s.id: s for s in DEFAULT_SEGMENTS}
    return ("Pricing 10% below market multiplies a segment's demand by (0.9)^-elasticity: " + ", ".join(
        f"{k} x{price_response(0.9, 1.0, s.elasticity):.2f}" for k, s in segs.items()) + "; 10% above: " + ", ".join(
        f"{k} x{price_response(1.1, 1.0, s.elasticity):.2f}" for k, s in segs.items()) + ".")


@_worked("ndr")
def _w_ndr() -> str:
    from engine.demand import DEFAULT_SEGMENTS

    ent = next(s for s in DEFAULT_SEGMENTS if s.id == "enterprise")
    yearly = (1 + ent.growth_per_quarter) ** 4
    return (f"The game's enterprises grow {_pct(ent.growth_per_quarter)} a quarter, {_pct(yearly)} of last year's "
            f"spend a year: like a {_pct(yearly)} net dollar retention. $1M of such revenue becomes "
            f"{_usd(1e6 * yearly ** 3)} in 3 years with no new customers.")


def _example_score(debt_cents: int = 0, lease_cents: int = 0, cash_cents: int = 0, ownership: float = 0.5):
    """The engine's valuation and score of one example company: four quarters of $25M revenue,
    $12.5M EBITDA and $5M depreciation, at the default world's market multiples."""
    from engine.score import score
    from engine.state import QuarterRecord
    from engine.valuation import value
    from engine.world import WorldParams

    p = WorldParams()
    records = [QuarterRecord(quarter=q, revenue_cents=2_500_000_000, contracted_revenue_cents=1_250_000_000,
                             ebitda_cents=1_250_000_000, cash_taxes_cents=0, cfads_cents=1_250_000_000,
                             debt_service_cents=0, depreciation_cents=500_000_000,
                             cash_gross_profit_cents=1_500_000_000, gpus_in_service=1000.0) for q in range(4)]
    v = value(records, [], 4, [(p.infra_revenue_multiple, p.software_revenue_multiple)], 0.07, 0, 0)
    return score(v, debt_cents, lease_cents, cash_cents, ownership, 22_000_000_000)


@_worked("enterprise-value")
def _w_ev() -> str:
    s = _example_score()
    v = s.valuation
    return (f"$100M of revenue with {_usd(v.trailing_ebitda_cents / 100)} of EBITDA and "
            f"{_usd(v.trailing_depreciation_cents / 100)} of depreciation earns {_usd(v.owner_earnings_cents / 100)} "
            f"for its owners; at {v.multiple:.1f}x (two flat quarters blend growth to {_pct(v.growth)}) it is worth "
            f"{_usd(v.enterprise_value_cents / 100)}. The same revenue at zero margin would be worth only its assets.")


@_worked("ev-ebitda")
def _w_ev_ebitda() -> str:
    from engine.valuation import earnings_multiple
    from engine.world import WorldParams

    p = WorldParams()
    infra = earnings_multiple(p.infra_revenue_multiple, p.software_revenue_multiple, 0.0, 0.5)
    soft = earnings_multiple(p.infra_revenue_multiple, p.software_revenue_multiple, 1.0, 0.5)
    flat = earnings_multiple(p.infra_revenue_multiple, p.software_revenue_multiple, 0.0, 0.0)
    return (f"{p.infra_revenue_multiple:.0f}x revenue at a 50% margin = {infra:.0f}x earnings for infrastructure "
            f"growing 50% a year; {flat:.1f}x if it stops growing. Software-delivered inference at "
            f"{p.software_revenue_multiple:.0f}x revenue and a 40% margin = {soft:.1f}x earnings.")


@_worked("contracted-backlog")
def _w_backlog() -> str:
    from types import SimpleNamespace

    from engine.valuation import backlog_value_cents

    c = SimpleNamespace(status="active", gpus=1000, usd_per_gpu_hour=2.20, start_quarter=0, end_quarter=8)
    cents = backlog_value_cents([c], 0, 1.40, 0.07)
    margin = 1000 * (2.20 - 1.40) * 24 * 365 * 2
    return (f"1,000 GPUs contracted at $2.20/h for 8 more quarters, against $1.40/h of cash cost: "
            f"{_usd(margin)} of margin still owed, worth {_usd(cents / 100)} discounted at 7%.")


@_worked("run-rate")
def _w_run_rate() -> str:
    from engine.valuation import run_rate_factor

    f = run_rate_factor([1000, 1000, 1000, 500])
    g = run_rate_factor([1000, 1000, 1500, 1500])
    return (f"A fleet of 1,000 GPUs for three quarters that sells half of them in the fourth is valued on "
            f"{_pct(f)} of its trailing owner earnings: the year it earned is not the year it can earn. One that "
            f"added 500 GPUs halfway through the year is valued on {_pct(g)} of its trailing owner earnings, never "
            f"more than its last quarter x 4: the new GPUs count for the whole year they will earn.")


@_worked("dilution")
def _w_dilution() -> str:
    from engine.equity import NEW_MONEY_DISCOUNT

    founders, investors = 5_500_000, 4_500_000
    pre = 400e6 * NEW_MONEY_DISCOUNT
    raise_ = 60e6
    new_shares = round((founders + investors) * raise_ / pre)
    before = founders / (founders + investors)
    after = founders / (founders + investors + new_shares)
    s = _example_score(ownership=after)
    return (f"Founders hold {_pct(before, 1)}. Raising {_usd(raise_)} at {_usd(pre)} pre-money issues "
            f"{new_shares:,} shares: founders fall to {_pct(after, 1)}. On {_usd(s.equity_value_cents / 100)} of "
            f"equity value, the game scores their stake at {_usd(s.score_cents / 100)}.")


@_worked("score")
def _w_score() -> str:
    s = _example_score(debt_cents=10_000_000_000, lease_cents=2_000_000_000, cash_cents=5_000_000_000)
    return (f"{_usd(s.valuation.owner_earnings_cents / 100)} of owner earnings x {s.valuation.multiple:.1f} = "
            f"{_usd(s.enterprise_value_cents / 100)} enterprise value, less {_usd(s.net_debt_cents / 100)} of net debt "
            f"(including {_usd(s.lease_liability_cents / 100)} of lease liabilities) = "
            f"{_usd(s.equity_value_cents / 100)} of equity; founders own {_pct(s.founder_ownership)}: score "
            f"{_usd(s.score_cents / 100)} ({s.verdict}).")


@_worked("lease-liability")
def _w_lease_liability() -> str:
    from engine.leases import present_value_of_payments

    pv = present_value_of_payments(1e6, 4, 0.08)
    return (f"A lease of $1M a quarter for 4 quarters, discounted at 8%, is a lease liability of "
            f"${pv / 1e6:.2f}M on the day it is signed: {_usd(4e6 - pv)} less than the $4.0M of payments.")


@_worked("right-of-use")
def _w_rou() -> str:
    from engine.leases import present_value_of_payments

    pv = present_value_of_payments(1e6, 4, 0.08)
    after = present_value_of_payments(1e6, 3, 0.08)
    interest = pv * 0.08 / 4
    return (f"The same $1M-a-quarter lease brings a right-of-use asset of ${pv / 1e6:.2f}M. After the first "
            f"payment, {_usd(interest)} of it was interest and {_usd(1e6 - interest)} principal: asset and "
            f"liability both fall to ${after / 1e6:.2f}M.")


@_worked("acceleration")
def _w_acceleration() -> str:
    fee = 0.02  # an illustrative prepayment fee
    owed = 20e6
    due = owed * (1 + fee)
    return (f"A {_usd(owed)} loan in default is accelerated: with a {_pct(fee)} prepayment fee, {_usd(due)} is due "
            f"now. With {_usd(80e6)} of cash the company repays it and keeps {_usd(80e6 - due)}; with "
            f"{_usd(10e6)} and no equity cure it cannot pay, and the lenders take the assets.")


@_worked("debt-vs-equity")
def _w_debt_equity() -> str:
    from engine.finance import after_tax_cost_of_debt
    from engine.equity import COST_OF_EQUITY

    d = after_tax_cost_of_debt(0.08)
    e = COST_OF_EQUITY["late"]
    return (f"Late stage: equity ~{_pct(e)} a year vs debt at 8% = {_pct(d, 1)} after tax, {e / d:.1f}x cheaper. "
            f"$100M funded with debt costs ~{_usd(100e6 * d)} a year; with equity, ~{_usd(100e6 * e)} of expected return.")


# ============================================================================== the concepts

_C = (
    # id, term, section, summary, where, keywords
    ("cost-per-m-tokens", "Cost per million tokens", "KB §1",
     "Cost per million tokens = (total hourly cost of GPU + power + overhead) / (tokens served per hour on that "
     "GPU). Throughput optimization is literally margin expansion: if kernels serve 2x the tokens/sec on the same "
     "GPU, cost per token halves.",
     "tycoon calc decode; Fleet screen: cost per GPU-hour", ("tokens", "unit economics", "throughput", "price per token")),
    ("gross-margin", "Gross margin", "KB §2",
     "Gross margin is (price - cost) / price. Asset-heavy GPU rental runs 40-55% at scale, managed inference "
     "50-65%. An energy cost advantage flows either to margin or to competitive pricing.",
     "Dashboard: gross margin card; Quarter report: income statement", ("margin", "cogs", "gross profit", "coreweave", "crusoe")),
    ("utilization", "Utilization", "KB §21",
     "GPU utilization is the single most important driver of unit economics. A GPU serving one request at a time "
     "wastes most capacity; idle hours still pay depreciation, capital and power.",
     "Dashboard: utilization card; Fleet screen: utilization by generation", ("idle", "busy", "unit economics")),
    ("statistical-multiplexing", "Statistical multiplexing", "KB §2",
     "Customer A peaks at 2pm, Customer B at 6pm, Customer C runs batch overnight. Pooling across customers "
     "enables 80-90% GPU utilization, far higher than any single customer: like insurance pooling, the law of "
     "large numbers applies to token traffic.",
     "Fleet screen: peak-to-mean by segment and pooled", ("pooling", "peak to mean", "insurance", "law of large numbers")),
    ("correlated-spikes", "Correlated demand spikes", "KB §2",
     "When a new model drops or a viral AI demo happens, everyone hits the API simultaneously. This is the "
     "catastrophic event pooling cannot absorb: you need burst capacity or graceful degradation.",
     "News screen: model release / viral demo; Fleet screen: lost GPU-hours", ("spike", "model release", "viral demo", "burst")),
    ("reserved-swap", "Reserved contract as a fixed-for-floating swap", "KB §1",
     "Reserved contracts are economically similar to fixed-rate swaps on GPU compute prices: the provider receives "
     "fixed from the customer and effectively pays floating, the market value of that compute. If market prices "
     "fall, existing contracts become more valuable; if they rise, the provider forgoes higher-paying customers.",
     "Contracts screen: signed contracts vs market rate; Debrief: key decisions", ("swap", "reserved", "contract", "mark to market", "hedge")),
    ("uncontracted-exposure", "Contracted vs speculative capacity", "KB §2",
     "Contracted revenue is hedged; uncontracted revenue is an outright bet on future pricing and demand. Model "
     "what share of capacity is contracted and make sure debt can be serviced even if the uncontracted part fills "
     "at much lower rates.",
     "Dashboard: contracted share card; Finance screen: underwriting", ("contracted share", "speculative", "stress test", "exposure")),
    ("on-demand", "On-demand pricing", "KB §2",
     "On demand is full price, no commitment, available when capacity exists. It earns the most per hour and "
     "carries all of the price and volume risk.",
     "Market screen: GPU-hour prices; Fleet screen: your on-demand price", ("on demand", "list price", "rental rate")),
    ("reserved-pricing", "Reserved / committed pricing", "KB §1",
     "Reserved capacity trades 30-60% below on demand for 1-3 year commitments. The customer guarantees "
     "utilization, the provider guarantees availability: a revenue predictability engine, like a forward contract.",
     "Contracts screen: offers table; Market screen: reserved rates", ("reserved", "commitment", "discount", "term")),
    ("spot", "Spot / preemptible", "KB §2",
     "Spot sells 60-80% below on demand, and the provider can reclaim the GPUs at short notice. It fills idle "
     "capacity that would otherwise earn nothing.",
     "Market screen: spot rate; Quarter report: spot revenue", ("spot", "preemptible", "idle capacity")),
    ("batch-pricing", "Batch pricing", "KB §1",
     "Batch pricing gives a 40-50% discount for non-real-time workloads. It fills idle capacity like standby "
     "airline tickets: batch is off-peak electricity pricing.",
     "Fleet screen: batch backlog; Quarter report: batch revenue", ("batch", "offline", "off-peak", "queue")),
    ("cached-input", "Cached input pricing (prefix caching)", "KB §15",
     "If many requests share a system prompt, its KV cache is computed once and reused. Providers price cached "
     "input tokens ~50% lower, which nudges customers to keep consistent prefixes.",
     "Help only (token pricing)", ("prefix caching", "cached tokens", "discount", "kv cache")),
    ("input-output-pricing", "Input vs output token pricing", "KB §2",
     "Output tokens are sequential decode, input tokens parallel prefill, so output is 2-4x more expensive to serve. "
     "Without a split price, adverse selection sends you the output-heavy traffic.",
     "tycoon calc prefill / decode", ("input tokens", "output tokens", "adverse selection", "prefill", "decode")),
    ("deflation", "Price deflation", "KB §1",
     "Frontier inference cost declines ~10x a year: GPT-3.5-class went from $20/M tokens (late 2022) to $0.40/M "
     "(2025). GPU-hour rents fell from $7-8 at the 2023 peak to $2-3.",
     "Market screen: token prices and GPU-hour trend", ("deflation", "price decline", "token prices")),
    ("breakeven-utilization", "Breakeven utilization (buy vs rent)", "KB §3",
     "An owned GPU pays for every hour; a rented one only for the hours you hold it. Breakeven utilization is the "
     "share of hours an owned GPU must earn the rental rate to cover its all-hours cost. Cost of capital changes "
     "everything.",
     "tycoon calc breakeven; Fleet screen: cost per GPU-hour", ("buy vs rent", "breakeven", "own", "rent")),
    ("gpu-failures", "GPU failures and spares", "KB §1",
     "GPUs fail at ~2-5% a year; a fleet needs spares as a buffer. Failed owned GPUs are written off.",
     "News screen: GPU failures; Fleet screen: failed", ("failure", "spares", "write-off")),
    ("smaller-models", "Why smaller models are cheaper per token", "KB §9",
     "Every token needs a full forward pass, and decode streams every weight from HBM. A 405B model reads ~50x "
     "the bytes of an 8B one, needs 8-16 GPUs, pays all-reduces at each layer and batches less: 10-20x the cost "
     "per token.",
     "tycoon calc decode", ("model size", "8b", "405b", "params")),
    ("hbm", "HBM bandwidth and capacity", "KB §10",
     "Bandwidth sets token generation speed: each token streams the weights. Capacity sets what fits on one GPU: "
     "70B at FP16 does not fit an H100's 80 GB. The H200 mattered for inference because it has more memory at "
     "higher bandwidth with the same compute.",
     "Market screen: GPU specs; tycoon calc decode", ("hbm", "memory bandwidth", "h200", "h100", "capacity")),
    ("kv-cache", "KV cache", "KB §11",
     "The KV cache stores the keys and values of processed tokens so decode does not recompute them. It grows "
     "linearly with context and competes with batch slots for GPU memory: the central resource constraint.",
     "tycoon calc decode (KV bytes per token, max batch)", ("kv cache", "context", "memory", "batch slots", "gqa")),
    ("memory-bound", "Memory-bound vs compute-bound (arithmetic intensity)", "KB §11",
     "Decode is a matrix-vector multiply: little compute per byte loaded, so the GPU waits on HBM. Batching fixes "
     "the arithmetic intensity problem by reusing each weight load for many sequences.",
     "tycoon calc decode: bound", ("arithmetic intensity", "roofline", "memory bound", "compute bound", "batching")),
    ("prefill-decode", "Prefill vs decode", "KB §11",
     "Prefill processes the whole prompt in one pass and is compute-bound. Decode generates one token at a time, "
     "each depending on the last, and is memory-bandwidth-bound: that is why output tokens cost more.",
     "tycoon calc prefill / decode", ("prefill", "decode", "autoregressive", "compute bound")),
    ("ttft-tpot", "TTFT and TPOT", "KB §11",
     "Time to first token is the wait before streaming starts (queueing and prefill); time per output token is "
     "the decode step. Total latency = TTFT + TPOT x output tokens; under 60 ms TPOT feels real-time.",
     "tycoon calc decode: TPOT; tycoon calc ttft", ("latency", "ttft", "tpot", "itl", "sla")),
    ("continuous-batching", "Continuous batching", "KB §17",
     "Static batches wait on their longest sequence; continuous batching frees and refills slots the moment a "
     "request finishes, taking GPU utilization from ~30% to 60-70%.",
     "tycoon calc ladder", ("batching", "scheduler", "vllm")),
    ("paged-attention", "PagedAttention", "KB §17",
     "Allocating KV cache in pages cuts memory waste by ~55%, so 30-40 requests fit in a batch instead of 16. "
     "Batching creates demand for slots; PagedAttention creates the memory to fill them.",
     "tycoon calc ladder", ("paged attention", "kv waste", "vllm", "fragmentation")),
    ("flash-attention", "FlashAttention", "KB §17",
     "A fused attention kernel that never writes the score matrix to HBM: prefill 2-4x faster, decode 1.2-1.3x, "
     "and it makes 128K+ contexts possible at all.",
     "tycoon calc ladder; tycoon calc prefill", ("flash attention", "fused kernel", "long context")),
    ("quantization", "Quantization (FP8 / FP4)", "KB §17",
     "FP16 to FP8 halves the weights, may fit a model on 1 GPU instead of 2, and doubles tensor FLOPS on Hopper; "
     "accuracy loss is typically under 1%. FP4 needs Blackwell.",
     "tycoon calc ladder; tycoon calc decode --precision", ("fp8", "fp4", "int8", "precision", "quantize")),
    ("custom-kernels", "Custom CUDA kernels", "KB §17",
     "Fused operations, coalesced memory access and fewer kernel launches: the hardest optimization to replicate "
     "and the most durable competitive advantage of an inference platform.",
     "tycoon calc ladder", ("cuda", "kernels", "fireattention", "moat")),
    ("speculative-decoding", "Speculative decoding", "KB §17",
     "A small draft model proposes tokens and the large model verifies them in one pass, with exactly the same "
     "output distribution. It helps most at small batch sizes, when the GPU has spare capacity.",
     "tycoon calc ladder", ("speculative", "draft model", "latency")),
    ("tensor-parallelism", "Tensor parallelism, NVLink and InfiniBand", "KB §7",
     "A model split across GPUs all-reduces at every layer for every token. NVLink inside a node is ~18x faster "
     "than 400 Gb/s InfiniBand between nodes, so keeping a model in one node is dramatically better; InfiniBand "
     "adds 15-25% to cluster cost.",
     "tycoon calc decode --gpus", ("nvlink", "infiniband", "all-reduce", "tensor parallel", "networking")),
    ("nvl72", "GB200 NVL72", "KB §7",
     "Blackwell's GB200 NVL72 puts 72 GPUs in one NVLink domain at 1.8 TB/s, so a 405B model that needed "
     "inter-node InfiniBand fits in one NVLink domain.",
     "Market screen: GB200", ("gb200", "nvl72", "blackwell", "rack")),
    ("moe", "Mixture of experts (MoE)", "KB §17",
     "An MoE model keeps all experts in memory but routes each token to a few, so it reads far fewer weights per "
     "token than its size suggests. Custom kernels exploit this routing.",
     "tycoon calc decode --model mixtral-8x7b", ("moe", "experts", "mixtral", "deepseek", "sparse")),
    ("memory-hierarchy", "GPU memory hierarchy", "KB §16",
     "Disk -> CPU RAM -> HBM -> SRAM -> compute cores. Weights live in HBM while serving and cannot stay on-chip "
     "between tokens: every decode step streams them again.",
     "Help only", ("sram", "nvme", "pcie", "cold start", "memory")),
    ("kw-month", "$/kW/month", "KB §8",
     "Data-center space is priced per kW per month because power capacity is the binding constraint, not space: "
     "AI racks draw 40-140 kW vs 2-4 kW for legacy racks. Typical: $80-250/kW/month.",
     "Market screen: colo price; Finance screen: site costs", ("colocation", "kw", "data center", "rack")),
    ("pue", "PUE", "KB §1",
     "Power Usage Effectiveness: 1.1 means 10% overhead for cooling, 1.4 means 40%. Liquid cooling gets closer to "
     "1.1.",
     "Fleet screen: sites", ("pue", "cooling", "liquid cooling", "efficiency")),
    ("power-cost", "Power cost per GPU-hour", "KB §1",
     "A single H100 draws ~700 W under load. Power is a larger share of an asset-heavy GPU cloud's costs, with no "
     "software margin layer on top.",
     "Quarter report: power line; Fleet screen: sites", ("electricity", "kwh", "watts", "power")),
    ("stranded-energy", "Stranded energy", "KB §8",
     "Energy-first: power that would otherwise be flared or curtailed costs $0.03-0.05/kWh against $0.08-0.12 on "
     "the Northern Virginia grid. The advantage flows to margin or to competitive pricing, and it is durable "
     "after scarcity fades.",
     "Build site form: power source; Fleet screen: sites", ("stranded gas", "crusoe", "energy", "flare")),
    ("colocation", "Colocation", "KB §20",
     "Colocation space in new markets is the rented extreme: lease from an operator, install your own GPUs, "
     "validate demand; convert to an owned facility if it works, walk away at lease expiry if not. Colo rent is "
     "the cost of optionality.",
     "Lease colo form; Fleet screen: sites", ("colo", "lease", "scouting", "equinix")),
    ("build-stages", "Building a data center: permit, interconnect, construct", "KB §19",
     "Supply bottlenecks are sequential: permits (12-18 months), power interconnection (a 3-5 year queue on the "
     "grid), construction. From decide-to-build to serving customers is 2-4 years for most operators.",
     "Build site form; Fleet screen: site stages", ("permit", "interconnection", "construction", "lead time")),
    ("capex-opex", "CapEx vs OpEx", "KB §18",
     "CapEx on the moat (energy, data centers), OpEx on everything else. GPU CapEx sits uncomfortably in between: "
     "own the contracted base load, rent the flex.",
     "Quarter report: cash flow (investing vs operating)", ("capex", "opex", "capital expenditure")),
    ("scarcity-premium", "Scarcity premium", "KB §19",
     "Permitted, powered, connected capacity is scarce, so operating facilities are worth more than they cost to "
     "build and rents carry a premium. It fades when supply catches up, demand plateaus or technology shifts.",
     "Market screen: GPU-hour price trend", ("scarcity", "supply constrained", "premium")),
    ("depreciation-split", "Shells vs GPUs: two kinds of CapEx", "KB §18",
     "A data-center shell has a 15-25 year life; the GPUs inside have 3-5 year economic lives that are shrinking. "
     "They are separate CapEx categories with different depreciation and risk.",
     "Quarter report: depreciation; Finance screen: balance sheet", ("useful life", "shell", "depreciation")),
    ("straight-line", "Straight-line depreciation", "KB §3",
     "Purchase price (less residual) spread evenly over the useful life. H100 over 3 years ~$0.95/h, over 5 "
     "~$0.57/h; but if the next generation delivers 3-5x per dollar, a 5-year schedule outlives the economics.",
     "Quarter report: depreciation; tycoon calc breakeven", ("depreciation", "amortization", "useful life")),
    ("residual-value", "Residual value", "KB §3",
     "What a GPU fetches at the end of its life: after 3 years an H100 keeps ~40% in a bull case, ~20% base, ~5% "
     "bear when next-gen makes it essentially worthless.",
     "Market screen: secondary price; Sell GPUs form", ("salvage", "secondary market", "resale")),
    ("obsolescence", "Technology obsolescence", "KB §18",
     "GPU generations turn over every 18-24 months with 2-5x gains. Accounting may say 3 more years of "
     "depreciation while economics say the asset is impaired.",
     "Market screen: new generations; News screen: launches", ("obsolete", "impairment", "blackwell", "generation")),
    ("option-value", "Renting as a call option", "KB §3",
     "Buying a GPU is being long a depreciating asset with uncertain value; renting is buying a monthly call option "
     "on compute. The option is worth more when volatility, uncertainty and interest rates are high.",
     "Lease GPUs form; Fleet screen: leased", ("option", "flexibility", "lease", "rent")),
    ("barbell", "The barbell", "KB §20",
     "Go heavy on both extremes, stay light in the middle: own what you are certain about, rent what you are not. "
     "The middle to avoid is buying GPUs on speculation that demand will materialize: ownership costs without "
     "revenue certainty.",
     "Debrief: key decisions; Fleet screen: owned vs leased", ("barbell", "taleb", "own", "rent", "speculation")),
    ("dscr", "DSCR (debt service coverage ratio)", "KB §4",
     "DSCR = cash flow available for debt service / (principal + interest). Lenders size loans to 1.3-2.0x; a "
     "lower annual service gives the same cash flow a higher, more resilient DSCR.",
     "Dashboard: DSCR card; Finance screen: covenant row", ("dscr", "coverage", "debt service", "covenant")),
    ("debt-capacity", "Debt capacity (sculpted sizing)", "KB §4",
     "Lenders underwrite cash flow, not collateral: maximum debt service = underwritten cash flow / required DSCR, "
     "and capacity is the present value of that service over the tenor. Contracted revenue counts in full, the "
     "rest at a haircut.",
     "Finance screen: loan offers (basis)", ("debt capacity", "sizing", "sculpted", "underwriting", "haircut")),
    ("tenor", "Tenor and contract life", "KB §4",
     "15-year contracted revenue can support 10-12 year debt; uncontracted revenue only 3-5 years. Lenders' "
     "nightmare is the loan outlasting the cash flows behind it. Longer tenor lowers annual service.",
     "Finance screen: loan offers (tenor)", ("tenor", "maturity", "amortization", "refinancing")),
    ("credit-spread", "Credit spread and investment grade", "KB §4",
     "Contracted revenue from an investment-grade counterparty compresses the spread: SOFR + 400 bps becomes "
     "SOFR + 250 bps.",
     "Finance screen: loan offers (spread); Contracts screen: customer grade", ("spread", "sofr", "investment grade", "rating", "bps")),
    ("covenants", "Covenants: lock-up and default", "KB §4",
     "Lenders protect themselves with covenants. The game tests DSCR each quarter on the trailing four: below the "
     "lock-up level, no new debt and a cash sweep; below the default level, or after repeated breaches, default: "
     "the lenders accelerate the loan unless the owners cure it with equity.",
     "Dashboard: covenant status; Finance screen: covenant row", ("covenant", "lock-up", "default", "breach")),
    ("refinancing-wall", "Balloon and the refinancing wall", "KB §4",
     "A balloon (bullet) loan repays little or nothing until maturity, then the whole balance at once; it must be "
     "refinanced at the rates and credit of that day. \"Interest rates might be 300bps higher. Credit markets might be "
     "tight.\" The game extends a balloon only as far as the lock-up covenant still passes with it at that quarter's "
     "SOFR and spreads (none in lock-up); cash repays the rest, and what cash cannot is a payment default.",
     "Advisor: loans ending; Quarter report: news (Refinancing wall); Debrief", ("balloon", "bullet", "refinancing", "maturity", "wall", "extension")),
    ("equity-cure", "Equity cure", "KB §4",
     "After an event of default, the owners can inject equity; the cure counts as cash flow in the DSCR test. "
     "Without it, the lenders accelerate: every loan falls due and cash repays it with a prepayment fee; only a "
     "company that cannot pay (its cash short of the balances) loses its assets.",
     "Finance screen: covenant row; Raise equity form", ("cure", "default", "equity")),
    ("cash-sweep", "Cash sweep", "KB §4",
     "In lock-up, cash that would have gone to the owners is swept to prepay the lenders until coverage recovers.",
     "Finance screen: cash flow (cash sweep line)", ("sweep", "lock-up", "prepayment")),
    ("project-finance", "Project finance", "KB §5",
     "Debt raised against one project's contracted cash flows, with the contracts assigned to the lenders as "
     "quasi-collateral: cheap, long money for infrastructure with signed customers.",
     "Finance screen: loan offers (project)", ("project finance", "abilene", "assignment of contracts", "non-recourse")),
    ("equipment-finance", "Equipment finance and LTV", "KB §5",
     "From Series B, GPU purchases can be financed at ~80% loan-to-value, secured on the equipment. The loan is "
     "sized to the asset, not the cash flow.",
     "Finance screen: loan offers (equipment)", ("ltv", "loan to value", "equipment", "gpu-backed")),
    ("venture-debt", "Venture debt", "KB §5",
     "At Series A-B: debt of 20-30% of the last equity round, with warrants; 12-15% interest. Effectively "
     "equity-flavored.",
     "Help only", ("venture debt", "warrants", "series b")),
    ("interest-tax-shield", "Interest tax shield", "KB §6",
     "Interest payments are tax-deductible: at a 21% rate, 8% interest costs ~6.3% after tax. Equity returns have "
     "no such benefit.",
     "Quarter report: interest and tax lines", ("tax shield", "interest", "deductible", "after-tax")),
    ("depreciation-tax-shield", "Depreciation tax shield", "KB §18",
     "Depreciation is a non-cash expense that reduces taxable income: a $2B data center over 15-20 years deducts "
     "$100-133M a year. The tax saved is 21% of that.",
     "Quarter report: depreciation and tax lines", ("tax shield", "depreciation", "non-cash")),
    ("nol", "NOL carry-forward", "KB §18",
     "Losses are not refunded: they carry forward and offset future taxable income. The game follows the US "
     "rule: up to 80% of a year's income.",
     "Finance screen: tax (NOL balance)", ("nol", "net operating loss", "tax", "carry forward")),
    ("wacc", "WACC (cost of capital)", "KB §3",
     "Weighted average cost of capital = E/V x cost of equity + D/V x cost of debt x (1 - tax). Adding it to the "
     "buy case moves breakeven utilization from ~44% to ~59%.",
     "Finance screen: capital structure", ("wacc", "cost of capital", "hurdle rate")),
    ("cost-of-equity", "Cost of equity by stage", "KB §5",
     "Debt requires predictability; equity tolerates uncertainty. Series A investors need 50-100%+ implied "
     "returns, Series B 30-50%, C/D 15-25%, late stage 12-20%, public 10-15%.",
     "Finance screen: equity offers (cost of equity)", ("cost of equity", "series a", "series b", "ipo", "stage")),
    ("debt-vs-equity", "Why equity costs more than debt", "KB §6",
     "Debt holders are paid first, with contractual cash flows and collateral; equity is last in line and "
     "residual. Higher risk, higher required return. But too much debt makes a temporary downturn existential.",
     "Finance screen: capital structure", ("risk hierarchy", "seniority", "leverage", "distress")),
    ("interest-rates", "Interest rate environment", "KB §3",
     "Floating debt pays SOFR plus a spread. 300-400 bps on a $1B GPU purchase is $30-40M a year of extra "
     "interest; high rates also raise the carrying cost of owned assets.",
     "Market screen: SOFR; News screen: rate shock", ("sofr", "rates", "floating", "rate shock")),
    ("segments", "Customer segments", "KB §1",
     "Hobbyists (spiky, price-sensitive), growth startups (latency-sensitive), enterprises (SLAs, reserved "
     "capacity, high margin) and batch (latency-insensitive, fills idle capacity) pay differently.",
     "Fleet screen: demand by segment; Contracts screen: offers by segment", ("segments", "enterprise", "startup", "hobbyist", "batch")),
    ("price-elasticity", "Price elasticity and strategic pricing", "KB §1",
     "Willingness to pay differs by segment: hobbyists leave for a cheaper API, enterprises stay for SLAs. Price "
     "aggressively where you acquire, at a premium where you monetize.",
     "Set price form; Fleet screen: your price vs market", ("elasticity", "pricing", "land and expand", "discount")),
    ("ndr", "Net dollar retention", "KB §21",
     "Net dollar retention is the key growth metric for inference platforms: this year's revenue from last "
     "year's customers. Enterprise accounts yield 120%+.",
     "Dashboard: revenue trend", ("ndr", "retention", "expansion", "growth")),
    ("enterprise-value", "Enterprise value", "KB §18",
     "The market pays for cash generation and its predictability, not revenue. The game values owner earnings "
     "(trailing-four-quarter EBITDA less depreciation) at a multiple set by business mix and growth, adds the "
     "contracted backlog and capital not yet earning, and never goes below what the assets would fetch.",
     "Dashboard: score breakdown; Debrief: the bridge", ("valuation", "multiple", "ev", "ipo", "enterprise value")),
    ("ev-ebitda", "EV/EBITDA and owner earnings", "KB §18",
     "Quoted revenue multiples (infrastructure 5-8x, software-delivered inference 15-20x) assume healthy margins "
     "and ~50% growth: divided by the margin they assume they become multiples of earnings. Owner earnings are "
     "EBITDA less depreciation, the fleet's replacement cost, so a dollar of revenue at zero margin adds nothing.",
     "Dashboard: score breakdown (multiple); Debrief: the bridge", ("ebitda", "ev/ebitda", "owner earnings", "multiple", "margin")),
    ("contracted-backlog", "Contracted backlog", "KB §18",
     "The margin still owed on signed contracts, quarter by quarter, discounted at the lenders' rate: contracted "
     "revenue trades like a bond, the part of the value that deflation and churn cannot touch. A contract priced "
     "below your cash cost counts against you.",
     "Dashboard: score breakdown (backlog); Contracts screen", ("backlog", "contracted", "remaining performance obligation", "rpo")),
    ("run-rate", "Run-rate", "CALIBRATION 26",
     "Trailing results scaled to the capacity in service at the end: capacity sold or gone is not valued on the "
     "year it earned, so a fire sale in the last quarter does not pay; capacity added during the year counts for "
     "a full year, up to the last quarter's pace x 4, so stopping investment in the last year does not pay either.",
     "Dashboard: score breakdown (fleet still in service, or grown during the year)", ("run-rate", "run rate", "annualized", "trailing")),
    ("dilution", "Founders' dilution and the cap table", "KB §5",
     "Every equity round sells part of the company: the founders' share falls by the new money over the "
     "post-money valuation. Equity is the most expensive capital, paid in ownership.",
     "Finance screen: cap table; Raise equity form", ("dilution", "cap table", "ownership", "pre-money", "post-money")),
    ("score", "The score", "KB §18",
     "Score = founders' ownership x max(0, enterprise value - debt - lease liabilities + cash), with enterprise "
     "value on trailing-four-quarter owner earnings (EBITDA less depreciation) at a multiple set by mix and "
     "growth, plus the contracted backlog. Bankruptcy scores zero.",
     "Dashboard: score; Debrief: verdict and bridge", ("score", "verdict", "equity value", "net debt")),
    ("lease-liability", "Lease liability (ASC 842 / IFRS 16)", "KB §18",
     "A lease is a promise to pay for its whole term: the remaining payments, discounted at the company's "
     "borrowing rate, are a liability on the balance sheet, and it counts as debt in net debt and in the score. "
     "A 4-quarter lease is the flex layer; 8- and 12-quarter leases are take-or-pay commitments. A colocation "
     "lease commits its rent for its term too: releasing the site early pays what is still owed.",
     "Finance screen: balance sheet (lease liabilities); Lease GPUs and Lease colo forms", ("lease liability", "asc 842", "ifrs 16", "take-or-pay", "lease", "colo")),
    ("right-of-use", "Right-of-use asset", "KB §18",
     "The other side of a lease liability: the right to use the leased GPUs, an asset of the same size. For a "
     "level operating lease both fall together by the principal part of each payment.",
     "Finance screen: balance sheet (right-of-use assets)", ("right-of-use", "rou", "asc 842", "lease")),
    ("acceleration", "Acceleration (covenant default)", "KB §4",
     "On a covenant default the lenders call the loan: the balance is due now, with a prepayment fee. Cash repays "
     "it, or the owners cure the breach with equity; only a company that cannot pay is bankrupt and the lenders "
     "take the assets.",
     "Finance screen: covenant row; Quarter report: news", ("acceleration", "default", "call", "prepayment", "covenant")),
)


def _build() -> tuple[Concept, ...]:
    concepts = []
    for cid, term, section, summary, where, keywords in _C:
        concepts.append(Concept(cid, term, section, summary, where, keywords, _REGISTRY[cid]))
    return tuple(concepts)


GLOSSARY: tuple[Concept, ...] = _build()
BY_ID: dict[str, Concept] = {c.id: c for c in GLOSSARY}


def concept(concept_id: str) -> Concept:
    """Look a concept up by id; the error lists close ids."""
    try:
        return BY_ID[concept_id]
    except KeyError:
        close = [c for c in BY_ID if concept_id.split("-")[0] in c]
        raise KeyError(f"unknown concept {concept_id!r}" + (f"; did you mean {', '.join(close)}?" if close else "")) from None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9§]+", " ", text.lower()).strip()


def search(query: str) -> list[Concept]:
    """Concepts matching every word of ``query`` (case-insensitive), best first.

    Rank: the whole query in the term, then in a keyword, then all words in term and keywords,
    then anywhere in the summary; ties keep glossary order.
    """
    q = _norm(query)
    if not q:
        return list(GLOSSARY)
    words = q.split()
    ranked = []
    for i, c in enumerate(GLOSSARY):
        term, keys, summary = _norm(c.term), [_norm(k) for k in c.keywords], _norm(c.summary)
        head = " ".join([term, _norm(c.id), *keys])
        if q in term:
            rank = 0
        elif any(q in k for k in keys) or q in _norm(c.id):
            rank = 1
        elif all(w in head for w in words):
            rank = 2
        elif all(w in head or w in summary for w in words):
            rank = 3
        else:
            continue
        ranked.append((rank, i, c))
    return [c for _, _, c in sorted(ranked, key=lambda t: (t[0], t[1]))]


CONTEXT_HELP: dict[str, str] = {
    "start": (
        "Start: choose a scenario, an archetype and a seed, name yourself, or load a saved run.\n"
        "The briefing states the company you inherit and the objectives; the seed fixes the world, so the same seed "
        "replays the same market.\n"
        "Press enter to begin; ? opens help and the glossary; q quits."
    ),
    "dashboard": (
        "Dashboard (1): the company at a glance: cash, revenue, gross margin, utilization, contracted share, DSCR "
        "and covenant status, runway and the score.\n"
        "Use it to spot the next problem: idle GPUs (utilization), thin hedges (contracted share), covenant "
        "headroom (DSCR vs 1.30x), cash runway.\n"
        + KEYS
    ),
    "fleet": (
        "Fleet (2): GPUs by generation (owned, leased, contracted, failed), utilization, served and lost GPU-hours, "
        "sites and their power.\n"
        "It informs buy vs lease (own what contracts keep busy, lease the flex: the barbell), pricing (lost hours "
        "mean demand you turned away) and when to sell an aging generation.\n"
        + KEYS
    ),
    "market": (
        "Market (3): this quarter's GPU-hour rates (on demand, reserved, spot, lease), list and secondary prices, "
        "allocations and lead times, token prices, power and colo prices, SOFR and spreads.\n"
        "It informs what to buy and when: prices deflate and new generations make old ones cheaper.\n"
        + KEYS
    ),
    "market-inference": (
        "Market (3), managed inference: your token price per model against the market price (set by competitors' "
        "full-stack cost), the competitors and their prices, and demand by customer segment with the share you keep.\n"
        "It informs pricing and capacity: above the market customers leave fast and come back slowly; below it you "
        "win share only while your replicas can serve it (drops and late first tokens churn customers too).\n"
        + KEYS
    ),
    "contracts": (
        "Contracts (4): reserved-capacity offers (customer, grade, GPUs, term, price) and the contracts you hold.\n"
        "A contract is a fixed-for-floating swap: it hedges deflation and makes lenders lend more, longer and "
        "cheaper, but only if you have the GPUs free to serve it; investment-grade customers tighten spreads.\n"
        + KEYS
    ),
    "finance": (
        "Finance (5): statements, loans, DSCR and covenant tests, loan and equity offers with how they were sized, "
        "and the cap table.\n"
        "It informs how to fund growth: debt sized by DSCR on contracted cash flow is cheap, equity dilutes the "
        "founders; keep DSCR above the lock-up level.\n"
        + KEYS
    ),
    "news": (
        "News (6): world events (launches, price wars, rate shocks, spikes, moratoriums) and company events "
        "(deliveries, failures, defaults, covenant tests).\n"
        "Read it before you act: a price war hits uncontracted capacity first, a rate shock hits floating debt.\n"
        + KEYS
    ),
    "report": (
        "Quarter report: what your actions did and what the quarter brought: income statement, balance sheet, "
        "cash flow, KPIs and the news.\n"
        "Check revenue by line, gross margin, utilization and DSCR against the covenant before planning the next "
        "quarter.\n"
        "Press enter to continue; 1-6 switch screens; ? help; ctrl+s saves; q quits."
    ),
    "debrief": (
        "Debrief: the verdict with cumulative EBITDA and last year's margins against the knowledge base, the score "
        "bridge, whole-game charts, the decisions that mattered most and the scenario's lesson, named only when "
        "your results show it.\n"
        "Use it to replay the game in your head: what would the barbell, a contract or a longer tenor have "
        "changed?\n"
        "? opens the glossary; ctrl+s saves the run; q quits."
    ),
}
