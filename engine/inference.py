"""Managed inference: a catalog of models on GPU replicas, selling tokens (KB §1, §2, §11, §15-17, §20).

The company (an asset-light platform, or a neocloud that dedicates part of its fleet) runs
*deployments*: one model on one GPU generation at a precision, with replicas of n GPUs each and a
TPOT target. What a replica can serve comes from the physics (``engine.physics``): output
tokens per second under the latency target, and prefill seconds per uncached prompt token. Demand
arrives per tick from the world's four segments as requests with their own prompt/output lengths,
cached-prefix shares and model mix; real-time traffic beyond capacity is dropped (SLA misses),
batch traffic queues (the Lindley recursion) and drains in idle hours. Every replica is paid for
whether used or not: the catalog's long tail costs money (KB §2).

Market token prices per model follow competitors' cost to serve: the best GPU-hour deal on the
market divided by what a fully optimized server gets out of it, marked up by a competitor margin
that compresses over time and collapses in a price war. (The world's "constant quality" tier
prices fall ~10x a year because ever smaller models reach the same quality, KB §1; the price of
serving *one fixed model* falls with hardware and software cost, which is what competitors charge.)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from engine.base import FileModel, Frozen, Rejected
from engine.calendar import TICKS_PER_QUARTER
from engine.demand import BACKLOG_HOURS_KEPT, customer_base_step, demand_share
from engine.hardware import GPUS
from engine.models import MODELS
from engine.physics import (
    FULL, PREFILL_CHUNK_TOKENS, REQUEST_OVERHEAD_MS, SERVICE_CV2, TECHNIQUES, PhysicsError, Stack, gpus_per_replica,
    latency_under_load, prefill, prefill_compute_ms, prefix_cache_tokens, serve_under_tpot,
)

T = TICKS_PER_QUARTER
try:  # the ufunc np.clip calls, without its Python wrapper (the same ufunc, the same floats)
    from numpy._core.umath import clip as _clip  # numpy 2
except ImportError:  # numpy 1.26 (pyproject allows it)
    from numpy.core.umath import clip as _clip

# ------------------------------------------------------------------------------ parameters


class SegmentTraffic(FileModel):
    """What one segment's requests look like (KB §1 segments, KB §11 tokens, KB §15 caching)."""

    segment: str
    prompt_tokens: int = Field(gt=0)
    output_tokens: int = Field(gt=0)
    cached_share: float = Field(ge=0, le=1)  # share of prompt tokens served from the prefix cache
    model_mix: dict[str, float]  # share of this segment's tokens that want each model
    churn_per_miss: float = Field(default=0.5, ge=0, le=5)  # demand lost per unit share of missed requests (dropped or late)
    arrival_cv: float = Field(default=1.0, ge=0, le=10)  # minute-level burstiness: chat ~1 (Poisson), code and agents higher


DEFAULT_TRAFFIC = (
    SegmentTraffic(segment="hobbyist", prompt_tokens=600, output_tokens=250, cached_share=0.1,
                   model_mix={"llama-3.1-8b": 0.55, "llama-3.1-70b": 0.3, "mixtral-8x7b": 0.1, "llama-3.1-405b": 0.05},
                   churn_per_miss=0.3, arrival_cv=1.0),
    SegmentTraffic(segment="startup", prompt_tokens=1500, output_tokens=300, cached_share=0.35,
                   model_mix={"llama-3.1-8b": 0.35, "llama-3.1-70b": 0.45, "mixtral-8x7b": 0.1, "llama-3.1-405b": 0.1},
                   churn_per_miss=0.8, arrival_cv=2.5),
    SegmentTraffic(segment="enterprise", prompt_tokens=3000, output_tokens=400, cached_share=0.5,
                   model_mix={"llama-3.1-8b": 0.2, "llama-3.1-70b": 0.55, "mixtral-8x7b": 0.05, "llama-3.1-405b": 0.2},
                   churn_per_miss=1.5, arrival_cv=1.5),
    SegmentTraffic(segment="batch", prompt_tokens=2000, output_tokens=600, cached_share=0.2,
                   model_mix={"llama-3.1-8b": 0.4, "llama-3.1-70b": 0.45, "mixtral-8x7b": 0.05, "llama-3.1-405b": 0.1},
                   churn_per_miss=0.1),
)

# KB §17 techniques as an engineering roadmap: quarters to build and R&D dollars per quarter
DEFAULT_ROADMAP: dict[str, tuple[int, float]] = {
    "continuous_batching": (1, 500_000),
    "paged_attention": (1, 750_000),
    "flash_attention": (1, 500_000),
    "fp8": (2, 1_500_000),
    "custom_kernels": (4, 3_000_000),  # the hardest to replicate, the most durable moat (KB §17)
    "speculative_decoding": (2, 1_500_000),
    "disaggregation": (2, 2_000_000),  # Splitwise/DistServe: prefill and decode on separate GPU pools (issue 12)
}
PREREQUISITES = {
    "custom_kernels": ("flash_attention",), "speculative_decoding": ("continuous_batching",),
    "disaggregation": ("continuous_batching",),
}
SERVING_TECHNIQUES = ("disaggregation",)  # roadmap projects that are serving options, not KB §17 stack layers


class InferenceParams(FileModel):
    output_tokens_per_unit: float = Field(default=300.0, gt=0)  # output tok/s per world demand unit
    token_growth_per_quarter: float = Field(default=0.10, ge=-0.5, le=1.0)  # usage per customer grows on top of the segments' growth
    traffic: tuple[SegmentTraffic, ...] = DEFAULT_TRAFFIC
    competitor_margin_start: float = Field(default=0.65, ge=0, lt=1)  # KB §17: $0.40 at 65% gross margin
    competitor_margin_end: float = Field(default=0.55, ge=0, lt=1)  # KB §1: 50-65% at scale; competition compresses it toward the low end
    competitor_utilization: float = Field(default=0.75, gt=0, le=1)  # multiplexed fleets run 70-90% busy (KB §2)
    competitor_ops_usd_per_gpu_hour: float = Field(default=0.10, ge=0)  # KB §2 table: operations/platform on top of a rented GPU
    margin_fade_quarters: int = Field(default=16, ge=1)
    output_price_multiple: float = Field(default=3.0, ge=1)  # output costs 2-4x more to serve (KB §2)
    cached_discount: float = Field(default=0.5, ge=0, le=1)  # KB §15: cached input ~50% off
    batch_discount: float = Field(default=0.5, ge=0, le=1)  # KB §1: batch 40-50% off
    on_demand_rental_premium: float = Field(default=1.5, ge=1)  # hyperscaler on-demand vs market rate
    spot_reclaim_share: float = Field(default=0.2, ge=0, lt=1)  # share of hours spot GPUs are taken back
    roadmap: dict[str, tuple[int, float]] = Field(default_factory=lambda: dict(DEFAULT_ROADMAP))
    ttft_sla_ms: float = Field(default=2000.0, gt=0)
    prefill_chunk_tokens: int = Field(default=PREFILL_CHUNK_TOKENS, ge=16, le=65_536)  # prompt tokens per decode step (chunked prefill)


# ------------------------------------------------------------------------------ state


class Deployment(BaseModel):
    model: str
    gen: str
    precision: Literal["bf16", "fp8", "fp4"]
    replicas: int
    gpus_per_replica: int
    tpot_ms: float
    price_vs_market: float = 0.0
    cached_discount: float | None = None  # None: the platform default (InferenceParams)
    batch_discount: float | None = None
    deployed_quarter: int = 0
    disaggregated: bool = False  # prefill and decode on separate pools of these replicas (issue 12)


class InferenceState(BaseModel):
    deployments: list[Deployment] = Field(default_factory=list)
    techniques: dict[str, int] = Field(default_factory=dict)  # name -> quarters left (0 = done)
    on_demand: dict[str, int] = Field(default_factory=dict)  # GPUs rented on demand, per generation
    spot: dict[str, int] = Field(default_factory=dict)
    dedicated: dict[str, int] = Field(default_factory=dict)  # a neocloud's own GPUs serving tokens
    retention: dict[str, float] = Field(default_factory=dict)  # segment -> demand kept after churn
    customer_base: dict[str, float] = Field(default_factory=dict)  # "model/segment" -> share kept vs market price (1.0 absent; KB §1)
    batch_backlog: dict[str, float] = Field(default_factory=dict)  # model -> replica-hours queued

    def deployment(self, model: str) -> Deployment | None:
        return next((d for d in self.deployments if d.model == model), None)

    def stack(self) -> Stack:
        return Stack(**{t: self.techniques.get(t) == 0 for t in TECHNIQUES})


# ------------------------------------------------------------------------------ actions


class RentGpus(Frozen):
    """Set the flex layer: GPUs rented on demand (2-3x reserved) and on spot (cheap, reclaimable)."""

    kind: Literal["rent_gpus"] = "rent_gpus"
    gen: str
    on_demand: int = Field(ge=0, le=100_000)
    spot: int = Field(ge=0, le=100_000)


class DeployModel(Frozen):
    """Put a model in the catalog: replicas of n GPUs on one generation, at a precision and TPOT target."""

    kind: Literal["deploy_model"] = "deploy_model"
    model: str
    gen: str
    precision: Literal["bf16", "fp8", "fp4"] = "bf16"
    replicas: int = Field(gt=0, le=10_000)
    tpot_ms: float = Field(default=60.0, ge=5, le=500)
    gpus_per_replica: int | None = Field(default=None, ge=1, le=72)  # None: the size that serves most per GPU
    disaggregated: bool = False  # serve prefill and decode on separate pools (needs the disaggregation project)


class ScaleModel(Frozen):
    kind: Literal["scale_model"] = "scale_model"
    model: str
    replicas: int = Field(ge=1, le=10_000)


class RetireModel(Frozen):
    kind: Literal["retire_model"] = "retire_model"
    model: str


class SetTokenPrice(Frozen):
    """Price a model relative to the market per-token price (input and output move together)."""

    kind: Literal["set_token_price"] = "set_token_price"
    model: str
    vs_market: float = Field(ge=-0.8, le=2.0)
    cached_discount: float | None = Field(default=None, ge=0, le=1)  # off the input price for cached prefixes (KB §15)
    batch_discount: float | None = Field(default=None, ge=0, le=0.9)  # off real-time prices for batch jobs (KB §1)


class FundTechnique(Frozen):
    """Start building one KB §17 optimization; it changes the physics once done."""

    kind: Literal["fund_technique"] = "fund_technique"
    technique: str


class DedicateGpus(Frozen):
    """A neocloud moves some of its own GPUs from rental to managed inference (KB §2 tension)."""

    kind: Literal["dedicate_gpus"] = "dedicate_gpus"
    gen: str
    count: int = Field(ge=0, le=100_000)


INFERENCE_ACTIONS = (RentGpus, DeployModel, ScaleModel, RetireModel, SetTokenPrice, FundTechnique, DedicateGpus)


def base_gpus(state, gen: str) -> int:
    """The company's own (owned or reserved) GPUs of a generation that serve tokens."""
    from engine.actions import active_gpus  # local: actions imports this module

    if state.archetype == "inference":  # all of them, less those dedicated to enterprise contracts
        from engine.actions import committed_gpus

        return max(0, active_gpus(state, gen, state.quarter) - committed_gpus(state, gen, state.quarter))
    return min(state.inference.dedicated.get(gen, 0), active_gpus(state, gen, state.quarter))


def own_gpus_serving_tokens(state, gen: str) -> int:
    """Own (not rented) GPUs the catalog's replicas occupy: what a new contract cannot take."""
    inf = state.inference
    return max(0, gpus_in_use(inf, gen) - inf.on_demand.get(gen, 0) - inf.spot.get(gen, 0))


def pool_gpus(state, gen: str) -> int:
    inf = state.inference
    return base_gpus(state, gen) + inf.on_demand.get(gen, 0) + inf.spot.get(gen, 0)


def gpus_in_use(inf: InferenceState, gen: str, skip: str | None = None) -> int:
    return sum(d.replicas * d.gpus_per_replica for d in inf.deployments if d.gen == gen and d.model != skip)


def check(state, wq, params: InferenceParams, action) -> None:
    inf = state.inference
    match action:
        case RentGpus(gen=gen, on_demand=od, spot=sp):
            if gen not in wq.gpus or not wq.gpus[gen].available:
                raise Rejected(f"{gen!r} cannot be rented this quarter; available: {', '.join(g for g, m in wq.gpus.items() if m.available)}")
            after = base_gpus(state, gen) + od + sp
            if gpus_in_use(inf, gen) > after:
                raise Rejected(f"your deployments use {gpus_in_use(inf, gen):,} {gen.upper()}; scale them down before renting fewer")
        case DeployModel(model=model, gen=gen, precision=precision, replicas=replicas, tpot_ms=tpot):
            if model not in MODELS:
                raise Rejected(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
            if gen not in GPUS:
                raise Rejected(f"unknown GPU {gen!r}; valid: {', '.join(GPUS)}")
            if inf.deployment(model) is not None:
                raise Rejected(f"{model} is already deployed: scale it or retire it first")
            if precision != "bf16" and inf.techniques.get("fp8") != 0:
                raise Rejected(f"serving at {precision.upper()} needs the FP8 quantization project done first (fund_technique fp8)")
            if action.disaggregated and inf.techniques.get("disaggregation") != 0:
                raise Rejected("disaggregated serving needs the disaggregation project done first (fund_technique disaggregation)")
            n = replica_size(model, gen, precision, inf.stack(), tpot, action.gpus_per_replica)
            need = replicas * n
            free = pool_gpus(state, gen) - gpus_in_use(inf, gen)
            if need > free:
                raise Rejected(f"{replicas} replicas of {model} need {need:,} {gen.upper()} ({n} per replica); {max(0, free):,} are free")
        case ScaleModel(model=model, replicas=replicas):
            d = inf.deployment(model)
            if d is None:
                raise Rejected(f"{model} is not deployed")
            free = pool_gpus(state, d.gen) - gpus_in_use(inf, d.gen, skip=model)
            if replicas * d.gpus_per_replica > free:
                raise Rejected(f"{replicas} replicas need {replicas * d.gpus_per_replica:,} {d.gen.upper()}; {max(0, free):,} are free")
        case RetireModel(model=model) | SetTokenPrice(model=model):
            if inf.deployment(model) is None:
                raise Rejected(f"{model} is not deployed")
        case FundTechnique(technique=tech):
            if tech not in params.roadmap:
                raise Rejected(f"unknown technique {tech!r}; valid: {', '.join(params.roadmap)}")
            if tech in inf.techniques:
                raise Rejected(f"{tech} is {'done' if inf.techniques[tech] == 0 else 'already being built'}")
            for pre in PREREQUISITES.get(tech, ()):
                if inf.techniques.get(pre) != 0:
                    raise Rejected(f"{tech} builds on {pre}: finish that first")
        case DedicateGpus(gen=gen, count=count):
            if state.archetype == "inference":
                raise Rejected("an inference platform serves tokens on all its GPUs already")
            from engine.actions import active_gpus, committed_gpus

            free = active_gpus(state, gen, state.quarter) - committed_gpus(state, gen, state.quarter)
            if count > free:
                raise Rejected(f"only {max(0, free):,} {gen.upper()} are in service and not under contract")
            if gpus_in_use(inf, gen) > count + inf.on_demand.get(gen, 0) + inf.spot.get(gen, 0):
                raise Rejected("your deployments use more GPUs than that: scale them down first")


def execute(state, wq, params: InferenceParams, action) -> str:
    inf = state.inference
    match action:
        case RentGpus(gen=gen, on_demand=od, spot=sp):
            inf.on_demand[gen], inf.spot[gen] = od, sp
            return f"flex layer for {gen.upper()}: {od:,} on demand, {sp:,} spot"
        case DeployModel(model=model, gen=gen, precision=precision, replicas=replicas, tpot_ms=tpot):
            n = replica_size(model, gen, precision, inf.stack(), tpot, action.gpus_per_replica)
            inf.deployments.append(Deployment(
                model=model, gen=gen, precision=precision, replicas=replicas, gpus_per_replica=n, tpot_ms=tpot,
                deployed_quarter=state.quarter, disaggregated=action.disaggregated,
            ))
            split = ", prefill and decode on separate pools" if action.disaggregated else ""
            return f"deployed {model}: {replicas} x {n} {gen.upper()} at {precision.upper()}, TPOT target {tpot:g} ms{split}"
        case ScaleModel(model=model, replicas=replicas):
            d = inf.deployment(model)
            d.replicas = replicas
            return f"{model} scaled to {replicas} replicas"
        case RetireModel(model=model):
            inf.deployments = [d for d in inf.deployments if d.model != model]
            inf.batch_backlog.pop(model, None)
            return f"retired {model}"
        case SetTokenPrice(model=model, vs_market=v, cached_discount=cd, batch_discount=bd):
            d = inf.deployment(model)
            d.price_vs_market = v
            if cd is not None:
                d.cached_discount = cd
            if bd is not None:
                d.batch_discount = bd
            return f"{model} priced at market {v:+.0%}" + (f", cached input {cd:.0%} off" if cd is not None else "") + (f", batch {bd:.0%} off" if bd is not None else "")
        case FundTechnique(technique=tech):
            inf.techniques[tech] = params.roadmap[tech][0]
            return f"started {tech.replace('_', ' ')}: {params.roadmap[tech][0]} quarter(s) at ${params.roadmap[tech][1] / 1e6:.2f}M a quarter"
        case DedicateGpus(gen=gen, count=count):
            inf.dedicated[gen] = count
            return f"{count:,} of your {gen.upper()} now serve tokens instead of renting by the hour"
    raise AssertionError(f"unhandled {action!r}")  # pragma: no cover


SIZING_CONTEXT = 2048  # tokens: the context a replica is sized for (chat with a system prompt)


def replica_size(model: str, gen: str, precision: str, stack: Stack, tpot: float, gpus: int | None = None) -> int:
    """GPUs per replica: the player's choice, or the tensor-parallel size (the smallest that fits
    the weights, doubled while it helps) that serves the most tokens per GPU. Tensor parallelism
    buys memory for batch slots, not speed (CALIBRATION 2, 5)."""
    m, g = MODELS[model], GPUS[gen]
    try:
        smallest = gpus_per_replica(m, g, precision, stack)
        if gpus is not None:
            if gpus < smallest:
                raise Rejected(f"{model} at {precision.upper()} needs at least {smallest} {gen.upper()} per replica")
            replica_capacity(model, gen, gpus, precision, stack, SIZING_CONTEXT, tpot, SIZING_CONTEXT)
            return gpus
        best, best_tps = smallest, 0.0
        n = smallest
        while n <= max(smallest, 8):
            tps = replica_capacity(model, gen, n, precision, stack, SIZING_CONTEXT, tpot, SIZING_CONTEXT)[0] / n
            if tps > best_tps * 1.02:  # a bigger replica must earn its GPUs
                best, best_tps = n, tps
            n *= 2
        return best
    except PhysicsError as exc:
        raise Rejected(str(exc)) from None


# ------------------------------------------------------------------------------ physics lookups


@lru_cache(maxsize=4096)
def replica_capacity(model: str, gen: str, n: int, precision: str, stack: Stack, context: int, tpot: float, prompt: int,
                     output: int = 0, cached: float = 0.0, held: float = 0.0) -> tuple[float, float, int]:
    """(decode output tokens/s per replica under the TPOT target, prefill seconds per prompt token, max batch).

    With ``output`` > 0 the batch is sized so the TPOT target holds with the traffic's prompts
    (``prompt`` tokens, ``cached`` of them from the prefix cache) co-batched at full load (issue 12
    item 6); 0 sizes on decode alone. ``held``: idle prefix-cache KV tokens per running sequence
    (``segment_prefix_cache_tokens``), which shrink the memory cap on the batch. A memo of a pure
    function of constant specs.
    """
    m, g = MODELS[model], GPUS[gen]
    per_output = prefill_compute_ms(m, g, n, precision, prompt * (1 - cached), stack) / output if output > 0 else 0.0
    sr = serve_under_tpot(m, g, n, precision, stack, context, tpot, prefill_ms_per_output=per_output, cache_tokens=held)
    pre = prefill(m, g, n, precision, prompt, stack).prefill_ms / 1000 / prompt
    return sr.tokens_per_s, pre, sr.max_batch


LOAD_GRID = np.linspace(0.0, 0.99, 34)  # replica utilizations the latency table is computed at
_LOAD_GAPS = LOAD_GRID[1:] - LOAD_GRID[:-1]
_LOAD_GAPS.setflags(write=False)  # module constants: read-only


def _interp_load_grid(x: np.ndarray, *tables: np.ndarray) -> np.ndarray:
    """``np.interp(x, LOAD_GRID, table)`` for several tables at once, row by row, to the bit: each
    x's grid segment found once (instead of a binary search per table), then numpy's own formula,
    slope x (x - left point) + left value, with its slopes (difference over gap); loads below the
    grid take the first value, at or above its last point the last (infinite loads too). A NaN
    load or a non-finite table goes to np.interp itself, which handles them its own way."""
    values = np.array(tables, dtype=np.float64)
    if not np.isfinite(values).all() or np.isnan(x).any():  # numpy's own NaN handling
        return np.array([np.interp(x, LOAD_GRID, t) for t in tables])
    j = np.searchsorted(LOAD_GRID, x, side="right") - 1  # LOAD_GRID[j] <= x < LOAD_GRID[j + 1]
    _clip(j, 0, LOAD_GRID.size - 2, out=j)
    slopes = (values[:, 1:] - values[:, :-1]) / _LOAD_GAPS
    out = slopes.take(j, axis=1)  # take: a plain gather, several times faster than fancy indexing here
    out *= x - LOAD_GRID.take(j)
    out += values.take(j, axis=1)
    below, top = np.flatnonzero(x < LOAD_GRID[0]), np.flatnonzero(x >= LOAD_GRID[-1])
    if below.size:
        out[:, below] = values[:, :1]
    if top.size:
        out[:, top] = values[:, -1:]
    return out


@lru_cache(maxsize=1024)
def serving_table(model: str, gen: str, n: int, precision: str, stack: Stack, context: int, tpot: float, prompt: int,
                  output: int, cached: float, chunk: int, disaggregated: bool, held: float = 0.0) -> tuple[np.ndarray, ...]:
    """Decode latency of one replica at ``LOAD_GRID`` utilizations (issue 12 item 6): (step ms,
    a prefill chunk's extra ms, share of steps carrying a chunk, TTFT before queueing ms), and the
    replica time one request costs at capacity, the batch slots and one prompt's prefill ms (the
    TTFT queues), and the prefill share of replica time per load.

    Precomputed once per deployment shape so a quarter interpolates instead of iterating.
    """
    m, g = MODELS[model], GPUS[gen]
    tps, pre_s, sized_batch = replica_capacity(model, gen, n, precision, stack, context, tpot, prompt, output, cached, held)
    per_request_s = output / tps + prompt * (1 - cached) * pre_s
    rows = [latency_under_load(m, g, n, precision, stack, prompt, output, float(u), 1.0, cached, chunk,
                               capacity_rps=1 / per_request_s, disaggregated=disaggregated) for u in LOAD_GRID]
    sat = [r.saturated for r in rows]
    last = max(i for i, x in enumerate(sat) if not x) if not all(sat) else 0
    pick = [rows[min(i, last)] for i in range(len(rows))]  # past saturation the replica runs flat out
    step = np.array([r.step_ms for r in pick])
    chunk_extra = np.array([r.chunk_per_token_ms for r in pick])
    share = np.array([r.chunk_step_share if not r.saturated else 1.0 for r in pick])
    if disaggregated:  # the prompt runs whole on a prefill replica, then its KV cache crosses over
        from engine.physics import kv_transfer_ms
        base = np.full(len(pick), prefill(m, g, n, precision, max(1, round(prompt * (1 - cached))), stack).prefill_ms
                       + kv_transfer_ms(m, g, n, precision, prompt))
        service, slots = base[0], 1  # the prefill pool's queue serves prompts only, one at a time
        prompt_ms = np.zeros(len(pick))  # no second queue: the prefill pool is the queue above (its load 0)
    else:
        base = np.array([r.prefill_latency_ms for r in pick])
        service, slots = per_request_s * 1e3, sized_batch  # a request waits for one of the batch's slots
        prompt_ms = np.array([r.prefill_share for r in pick])  # then for the prefill stage: its load...
    pre_ms = prefill_compute_ms(m, g, n, precision, prompt * (1 - cached), stack)  # ...and one prompt's compute
    return (step, chunk_extra, share, base + step + REQUEST_OVERHEAD_MS, np.array([service, max(1, slots), pre_ms]),
            prompt_ms)


class _QueueShape(NamedTuple):
    """The load-only terms of ``_gg1_exceed`` (per hour or per load bin): computed once, then
    evaluated at as many waits as a quantile grid asks for."""

    rho: np.ndarray
    cond_mean: np.ndarray
    p_wait: np.ndarray
    p_pre: np.ndarray
    mean_pre: np.ndarray
    over: np.ndarray
    any_over: bool
    idle: np.ndarray
    any_idle: bool
    any_pre: bool


def _queue_shape(load: np.ndarray, service_ms: float, ca2: float, servers: float = 1.0,
                 prefill_load: np.ndarray | float = 0.0, prefill_ms: np.ndarray | float = 0.0) -> _QueueShape:
    """The wait-independent half of ``_gg1_exceed``: the slot queue's utilization, conditional mean
    wait and wait probability (physics.wait_probability), the prefill stage's. ``servers`` a list:
    one deployment per row of (deployments, hours) arrays, ``service_ms`` and ``ca2`` columns."""
    rho = _clip(load, 0.0, 1.0)
    positive = rho > 0
    busy = positive & (rho < 1)
    cond_mean = np.where(busy, (ca2 + SERVICE_CV2) / 2 * service_ms / np.where(busy, 1 - rho, 1.0), 1.0)
    if isinstance(servers, list):  # one deployment a row (``_latency``): each row's own exponent, computed as alone
        p_wait = np.empty_like(rho)
        for r, slots in enumerate(servers):
            p_wait[r] = rho[r] ** (np.sqrt(2 * (max(1.0, slots) + 1)) - 1)
        np.minimum(1.0, p_wait, out=p_wait)
    else:
        p_wait = np.minimum(1.0, rho ** (np.sqrt(2 * (max(1.0, servers) + 1)) - 1))  # physics.wait_probability
    rho_p = _clip(prefill_load, 0.0, 0.999999)
    p_pre = np.where(np.asarray(prefill_ms) > 0, rho_p, 0.0)
    mean_pre = np.maximum((ca2 + SERVICE_CV2) / 2 * np.asarray(prefill_ms) / (1 - rho_p), 1e-9)
    if isinstance(servers, list):  # a row without a prefill stage adds exactly 0 (p_pre 0 over a mean of 1), as alone it adds nothing
        pre_rows = p_pre.any(axis=1)
        if pre_rows.any() and not pre_rows.all():
            mean_pre = np.where(pre_rows[:, None], mean_pre, 1.0)
    over = rho >= 1  # in the load's own shape: per hour, or per load bin of a quantile grid
    idle = ~(over | positive)  # as the comparisons read it: a NaN load counts as idle
    return _QueueShape(rho, cond_mean, p_wait, p_pre, mean_pre, over, bool(over.any()), idle, bool(idle.any()),
                       bool(p_pre.any()))


def _queue_exceed(shape: _QueueShape, wait_ms: np.ndarray, limit_ms: np.ndarray) -> np.ndarray:
    """The wait-dependent half of ``_gg1_exceed``, on a ``_queue_shape``."""
    neg_wait = -np.maximum(wait_ms, 0.0)
    # no wait asked (wait_ms <= 0): exp(-0) is exactly 1, so this is min(1, p_wait + p_pre) there too
    tail = shape.p_wait * np.exp(neg_wait / shape.cond_mean)
    if shape.any_pre:  # a prefill stage with no load adds exactly 0 to every hour: skipped
        tail = tail + shape.p_pre * np.exp(neg_wait / shape.mean_pre)
    out = np.minimum(1.0, tail)
    if shape.any_over or shape.any_idle:  # hours: the masks as they are; a grid: broadcast to its rows
        wait_ms = wait_ms if np.shape(wait_ms) == out.shape else np.broadcast_to(wait_ms, out.shape)
    if shape.any_over:  # only the overloaded hours pay for the admission queue
        mask = shape.over if shape.over.shape == out.shape else np.broadcast_to(shape.over, out.shape)
        limit = (limit_ms if np.shape(limit_ms) == out.shape else np.broadcast_to(limit_ms, out.shape))[mask]
        out[mask] = _clip(1 - np.divide(wait_ms[mask], limit, out=np.ones_like(limit), where=limit > 0), 0.0, 1.0)
    if shape.any_idle:
        mask = shape.idle if shape.idle.shape == out.shape else np.broadcast_to(shape.idle, out.shape)
        out[mask] = np.where(wait_ms[mask] > 0, 0.0, 1.0)
    return out


def _gg1_exceed(load: np.ndarray, service_ms: float, ca2: float, wait_ms: np.ndarray, limit_ms: np.ndarray,
                servers: float = 1.0, prefill_load: np.ndarray | float = 0.0, prefill_ms: np.ndarray | float = 0.0) -> np.ndarray:
    """Share of requests waiting longer than ``wait_ms`` in each hour: a G/G/c queue for one of
    ``servers`` batch slots, then a G/G/1 queue for the prefill stage (``prefill_load``,
    ``prefill_ms`` per prompt); ``physics.two_queue_wait_quantile_ms`` over arrays.

    An overloaded hour (load 1: the excess was dropped) runs a full admission queue: the server
    turns away what it could not start within ``limit_ms`` (the TTFT SLA), and the queue of a
    zero-drift queue up to a wall is uniform, so the admitted wait is uniform on [0, limit].
    """
    return _queue_exceed(_queue_shape(load, service_ms, ca2, servers, prefill_load, prefill_ms), wait_ms, limit_ms)


def _normal_exceed(mean: np.ndarray, sd: np.ndarray, x) -> np.ndarray:
    """P(X > x) for normal X per hour (logistic approximation of the normal CDF; sd 0: a step)."""
    gap = x - mean
    z = gap / np.maximum(sd, 1e-12)
    out = 1 / (1 + np.exp(_clip(1.702 * z, -60, 60)))
    flat = ~np.asarray(sd > 0)
    if flat.any():  # only hours without spread are a step
        out = np.where(sd > 0, out, (gap < 0) * 1.0)
    return out


HOUR_BINS = 32  # bins per unit of log queue odds (~3% apart), and per 1/4 of decode load


# the overloaded hours' bin: above every finite key (|log odds| <= log(1e12) ~ 27.7, x HOUR_BINS < 900),
# so it sorts last as before, and the keys stay in a range small enough to count (``_bin_hours``)
OVERLOAD_KEY = 1000


def _load_key(load: np.ndarray) -> np.ndarray:
    """Integer bin of a load on the scale queues care about, log(rho / (1 - rho)); overloaded hours
    (load 1) get a bin of their own."""
    rho = _clip(load, 1e-9, 1.0)
    odds = np.log(rho / np.maximum(1e-12, 1 - rho))
    return np.where(rho >= 1, OVERLOAD_KEY, np.round(odds * HOUR_BINS)).astype(np.int64)


def _group(idx: np.ndarray) -> tuple[int, np.ndarray]:
    """(number of distinct keys, each hour's rank among them, ascending): ``np.unique(idx,
    return_inverse=True)`` counted in a table when the keys span a small range (no sort)."""
    lo = int(idx.min())
    span = int(idx.max()) - lo + 1
    if span > 4 * idx.size + 64:
        uniq, inv = np.unique(idx, return_inverse=True)
        return len(uniq), inv
    off = idx - lo
    seen = np.flatnonzero(np.bincount(off, minlength=span))
    rank = np.zeros(span, dtype=np.int64)
    rank[seen] = np.arange(len(seen))
    return len(seen), rank[off]


def _bin_hours(idx: np.ndarray, weights: np.ndarray, *values: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Group hours with the same integer bin ``idx``: per bin, the summed weights and the weighted
    mean of each value (bins without weight dropped). Percentiles then run over bins, not 2,184 hours.

    One count for all the values: value j's bins are offset by j x (number of bins), so each bin
    still sums its own hours in hour order (the same floats as a count per value)."""
    n, inv = _group(idx) if idx.size else (0, idx)
    w = np.bincount(inv, weights=weights, minlength=n)
    k = len(values)
    weighted = np.array(values, dtype=np.float64).reshape(k, idx.size)
    weighted *= weights
    sums = np.bincount((inv + (np.arange(k) * n)[:, None]).ravel(), weights=weighted.ravel(), minlength=k * n).reshape(k, n)
    keep = w > 0
    if keep.all():
        return tuple(sums / w), w
    kept = w[keep]
    return tuple(sums[:, keep] / kept), kept


_SEGMENTS_PER_LOAD = (LOAD_GRID.size - 1) / LOAD_GRID[-1]  # LOAD_GRID is evenly spaced


def _load_segment(x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(LOAD_GRID, x, side="right") - 1`` clipped to the grid's segments (0 ..
    size - 2) for loads without NaN, by arithmetic: the grid is evenly spaced, so x over the spacing
    is the segment but for rounding, and one comparison with each end fixes that (exact: the
    segment j with LOAD_GRID[j] <= x < LOAD_GRID[j + 1] inside the grid; off it, the end segment)."""
    last = LOAD_GRID.size - 2
    j = (np.minimum(np.maximum(x, 0.0), 2.0) * _SEGMENTS_PER_LOAD).astype(np.int64)
    _clip(j, 0, last, out=j)
    j -= LOAD_GRID.take(j) > x  # a segment too far right
    j += LOAD_GRID.take(j + 1) <= x  # or too far left
    return _clip(j, 0, last, out=j)


def _interp_rows(x: np.ndarray, tables: list[tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """``_interp_load_grid(x[r], *tables[r])`` for every row r of a (rows, hours) ``x`` at once: one
    (rows, hours) array per table, to the bit: the same segment search, slopes and formula, each
    row reading its own tables (gathered at row r's offset in a flat take; a table at a time, so no
    temporary outgrows the rows). A NaN load or a non-finite table goes row by row to
    ``_interp_load_grid``, which hands it to np.interp."""
    values = np.array(tables, dtype=np.float64)  # (rows, tables, grid points)
    rows, k, g = values.shape
    if not np.isfinite(values).all() or np.isnan(x).any():
        alone = [_interp_load_grid(xr, *tr) for xr, tr in zip(x, tables)]
        return [np.array([a[t] for a in alone]) for t in range(k)]
    j = _load_segment(x)
    slopes = ((values[..., 1:] - values[..., :-1]) / _LOAD_GAPS).transpose(1, 0, 2).copy()  # (tables, rows, segments)
    values = values.transpose(1, 0, 2).copy()  # (tables, rows, grid points)
    at_slope = j + np.arange(rows)[:, None] * (g - 1)  # row r's segment in its table's flat (rows x segments)
    at_value = j + np.arange(rows)[:, None] * g
    dx = x - LOAD_GRID.take(j)
    below, top = x < LOAD_GRID[0], x >= LOAD_GRID[-1]
    any_below, any_top = bool(below.any()), bool(top.any())
    out = []
    for t in range(k):
        y = slopes[t].take(at_slope)
        y *= dx
        y += values[t].take(at_value)
        if any_below:
            np.copyto(y, values[t, :, :1], where=below)
        if any_top:
            np.copyto(y, values[t, :, -1:], where=top)
        out.append(y)
    return out


def _bin_rows(idx: np.ndarray, weights: np.ndarray, *values: np.ndarray) -> list[tuple[tuple[np.ndarray, ...], np.ndarray]]:
    """``_bin_hours(idx[r], weights[r], *(v[r] for v in values))`` for every row r of (rows, hours)
    arrays at once, to the bit: each row's keys moved into a range of their own, so a bin holds one
    row's hours, summed in hour order as alone, and the bins of row r are the ranks of its range
    (each weighted value summed in hour order: the same floats as ``_bin_hours``' stacked count).
    Rows whose keys span too much to count in a table (``_group``) go one by one."""
    rows, hours = idx.shape
    lo = idx.min(axis=1)
    span = idx.max(axis=1) - lo + 1
    if (span > 4 * hours + 64).any():
        return [_bin_hours(idx[r], weights[r], *(v[r] for v in values)) for r in range(rows)]
    start = np.concatenate(([0], np.cumsum(span)))  # row r's keys: start[r] .. start[r + 1] - 1
    off = (idx + (start[:-1] - lo)[:, None]).ravel()
    seen = np.flatnonzero(np.bincount(off, minlength=int(start[-1])))
    n = len(seen)
    rank = np.zeros(int(start[-1]), dtype=np.int64)
    rank[seen] = np.arange(n)
    inv = rank[off]
    ends = np.searchsorted(seen, start[1:]).tolist()  # row r's bins: ends[r - 1] .. ends[r] - 1
    flat_weights = weights.ravel()
    w = np.bincount(inv, weights=flat_weights, minlength=n)
    sums = np.empty((len(values), n))
    for v, row in zip(values, sums):  # a count per value: a stacked count's temporaries would outgrow the rows
        row[:] = np.bincount(inv, weights=v.ravel() * flat_weights, minlength=n)
    keep = w > 0
    out = []
    first = 0
    for end in ends:
        w_r, keep_r = w[first:end], keep[first:end]
        if keep_r.all():
            out.append((tuple(sums[:, first:end] / w_r), w_r))
        else:
            kept = w_r[keep_r]
            out.append((tuple(sums[:, first:end][:, keep_r] / kept), kept))
        first = end
    return out


def _percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` (method "linear") of a 1-d array to the bit, without its generic
    machinery: the two order statistics around the virtual index (n - 1) x q / 100, then numpy's
    own lerp (from the upper neighbour when the weight is 1/2 or more)."""
    if np.isnan(x).any():
        return float("nan")
    n = x.size
    v = (n - 1) * (q / 100)
    lo = min(max(int(np.floor(v)), 0), n - 1)
    hi = min(lo + 1, n - 1)
    part = np.partition(x, (lo, hi))
    a, b = part[lo], part[hi]
    g = v - lo
    diff = b - a
    return float(b - diff * (1 - g) if g >= 0.5 else a + diff * g)


GRID_POINTS = 48


def _grid_quantile(late, total: float, q: float, lo: float, hi: float) -> float:
    """Smallest t in [lo, hi] with ``late(t)`` (weighted share above t, vectorized over t) at most
    (1 - q) x total: a log-spaced grid, then a linear one inside the bracket (~0.4% precision)."""
    return _grid_quantiles(late, total, (q,), lo, hi)[0]


GRID_STRIDE = 6  # the first look at a grid takes every 6th point (8 of 48, the last one among them)
_GRID_STEPS = np.arange(GRID_POINTS, dtype=float)
_GRID_FIRST = np.arange(GRID_STRIDE - 1, GRID_POINTS, GRID_STRIDE)
_FIRST_POINTS = tuple(int(i) for i in _GRID_FIRST)
_GRID_STEPS.setflags(write=False)  # module constants: read-only
_GRID_FIRST.setflags(write=False)


def _linear_grid(start: float, stop: float) -> np.ndarray:
    """``np.linspace(start, stop, GRID_POINTS)`` to the bit (its steps times the step, plus the
    start, the stop set last), without its generic machinery; a zero or non-finite step goes to numpy."""
    step = (stop - start) / (GRID_POINTS - 1)
    if step == 0 or not math.isfinite(step):
        return np.linspace(start, stop, GRID_POINTS)
    grid = _GRID_STEPS * step + start
    grid[-1] = stop
    return grid


def _log_grid(start: float, stop: float) -> np.ndarray:
    """``np.geomspace(start, stop, GRID_POINTS)`` to the bit for finite 0 < start, stop: ten to the
    power of the linear grid of their logs, the ends set to start and stop."""
    if not (0 < start < np.inf and 0 < stop < np.inf):
        return np.geomspace(start, stop, GRID_POINTS)
    grid = np.power(10.0, _linear_grid(np.log10(start), np.log10(stop)))
    grid[0], grid[-1] = start, stop
    return grid


def _first_at_most(late_many, grids: list[list[np.ndarray]], asks: list[list[tuple[int, float]]]) -> list[list[int | None]]:
    """For each search p and each of its asks (grid, target): ``argmax(late_p(grid) <= target)``,
    the first of the grid's points with ``late_p`` at most the target, or None if there is none,
    without running ``late_p`` on every point. ``late_p`` (a weighted share of requests above t)
    is non-increasing in t, so a first look at every ``GRID_STRIDE``-th point brackets the answer
    and a second looks inside the bracket: 13 points of 48. A NaN seen anywhere in a search sends
    its asks to every point. The searches are independent (one per deployment) but each look runs
    all of them in one ``late_many`` call (a list of point arrays, None for a search with nothing to
    look at, to the list of their ``late`` values): a quarter makes the same few array calls for
    four deployments as for one. The few values are scanned as Python floats."""
    n = len(_FIRST_POINTS)
    firsts = late_many([None if not a else g[0][_GRID_FIRST] if len(g) == 1 else np.concatenate([x[_GRID_FIRST] for x in g])
                        for g, a in zip(grids, asks)])
    found: list[list[int | None]] = []
    inside: list[list[tuple[int, int, int]]] = []  # per search: (ask, first point of the bracket, its end)
    nan: list[bool] = []
    for a, first_p in zip(asks, firsts):
        first = first_p.tolist() if first_p is not None else []
        found_p: list[int | None] = []
        inside_p: list[tuple[int, int, int]] = []
        for k, (g, target) in enumerate(a):
            row = first[g * n:(g + 1) * n]
            m = next((j for j, v in enumerate(row) if v <= target), None)
            if m is None:
                found_p.append(None)
                continue
            end = _FIRST_POINTS[m]
            found_p.append(end)
            inside_p.append((k, end - GRID_STRIDE + 1, end))
        found.append(found_p)
        inside.append(inside_p)
        nan.append(any(map(math.isnan, first)))
    looks = [np.concatenate([g[a[k][0]][lo:hi] for k, lo, hi in ins]) if ins and not bad else None
             for g, a, ins, bad in zip(grids, asks, inside, nan)]
    if any(x is not None for x in looks):
        for p, seen_p in enumerate(late_many(looks)):
            if seen_p is None:
                continue
            seen = seen_p.tolist()
            nan[p] = any(map(math.isnan, seen))
            at = 0
            for k, lo, hi in inside[p]:
                target = asks[p][k][1]
                j = next((j for j, v in enumerate(seen[at:at + hi - lo]) if v <= target), None)
                at += hi - lo
                if j is not None:
                    found[p][k] = lo + j
    if any(nan):  # no order to rely on: every point
        for p, every in enumerate(late_many([np.concatenate(g) if bad else None for g, bad in zip(grids, nan)])):
            if every is None:
                continue
            found[p] = []
            for g, target in asks[p]:
                ok = every[g * GRID_POINTS:(g + 1) * GRID_POINTS] <= target
                found[p].append(int(np.argmax(ok)) if ok.any() else None)
    return found


def _one(late):
    """A single ``late`` as the ``late_many`` of one search."""
    return lambda ts: [None if t is None else late(t) for t in ts]


def _grid_quantiles(late, total: float, qs: tuple[float, ...], lo: float, hi: float) -> list[float]:
    """``_grid_quantile`` at several ``qs`` at once, the same numbers (``_grid_quantiles_many`` of one search)."""
    return _grid_quantiles_many(_one(late), [(total, qs, lo, hi)])[0]


def _grid_quantiles_many(late_many, searches: list[tuple[float, tuple[float, ...], float, float]]) -> list[list[float]]:
    """``_grid_quantile`` at several ``qs`` for several independent searches (total, qs, lo, hi) at
    once, each the same numbers as alone: the log-spaced grid is the same for every q, so
    ``late`` runs on it once, then once on every q's linear grid together; each grid is searched by
    ``_first_at_most`` (a few points, not all 48: each point is a row of array operations over the
    load bins), every search's looks in the same ``late_many`` call."""
    coarse: list[np.ndarray] = []
    targets: list[list[float]] = []
    for total, qs, lo, hi in searches:
        span = max(hi - lo, 1e-9)
        coarse.append(lo + _log_grid(1e-4 * span, span))
        targets.append([float((1 - q) * total) for q in qs])
    out: list[list[float]] = [[hi] * len(qs) for _, qs, _, hi in searches]
    fine: list[list[tuple[int, np.ndarray]]] = []
    for p, found in enumerate(_first_at_most(late_many, [[c] for c in coarse], [[(0, t) for t in tp] for tp in targets])):
        fine_p = []
        for k, i in enumerate(found):
            if i is None:
                continue
            left = searches[p][2] if i == 0 else float(coarse[p][i - 1])
            fine_p.append((k, _linear_grid(left, float(coarse[p][i]))))
        fine.append(fine_p)
    if any(fine):
        found_fine = _first_at_most(late_many, [[grid for _, grid in f] for f in fine],
                                    [[(j, targets[p][k]) for j, (k, _) in enumerate(f)] for p, f in enumerate(fine)])
        for p, f in enumerate(fine):
            for (k, grid), i in zip(f, found_fine[p]):
                out[p][k] = float(grid[i or 0])  # argmax of no point at or below the target is the first point
    return out


def _mixture_quantile(mean: np.ndarray, sd: np.ndarray, weights: np.ndarray, q: float | tuple[float, ...], lo: float,
                      hi: float) -> float | list[float]:
    """The ``q`` quantile of TPOT over requests: a mixture over load bins of normals (mean, sd);
    a tuple of ``q`` gives the list of their quantiles (``_mixture_quantiles`` of one deployment)."""
    qs = q if isinstance(q, tuple) else (q,)
    out = _mixture_quantiles([(mean, sd, weights, qs, lo, hi)])[0]
    return out if isinstance(q, tuple) else out[0]


def _mixture_quantiles(problems: list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, ...], float, float]]) -> list[list[float]]:
    """``_mixture_quantile`` (a tuple of qs) of several deployments' (mean, sd, weights, qs, lo,
    hi), their grids searched together (``_grid_quantiles_many``)."""
    totals = [w.sum() for _, _, w, _, _, _ in problems]
    out = [[lo] * len(qs) for _, _, _, qs, lo, _ in problems]  # no tokens: the lowest TPOT
    live = [p for p, total in enumerate(totals) if total > 0]
    if live:
        late = _normal_late_many([problems[p][:3] for p in live])
        found = _grid_quantiles_many(late, [(totals[p], *problems[p][3:]) for p in live])
        for p, f in zip(live, found):
            out[p] = f
    return out


def _pad(rows: list, sizes: list[int], fill, dtype=np.float64) -> np.ndarray:
    """Rows of the given lengths (arrays of that length, or scalars spread over it) as one (rows,
    1, longest) array, the rest of each row ``fill``: a search's columns, ready to broadcast over its points."""
    if len(rows) == 1 and isinstance(rows[0], np.ndarray) and rows[0].shape == (sizes[0],) and rows[0].dtype == dtype:
        return rows[0].reshape(1, 1, -1)  # one search: its own columns, no padding (a view: the searches only read it)
    out = np.full((len(rows), 1, max(sizes)), fill, dtype=dtype)
    for p, (r, n) in enumerate(zip(rows, sizes)):
        out[p, 0, :n] = r
    return out


def _stack_points(ts: list[np.ndarray | None]) -> np.ndarray:
    """Each search's points as one (searches, most points, 1) array, zeros past a search's own."""
    if len(ts) == 1 and ts[0] is not None:
        return ts[0].reshape(1, -1, 1)
    out = np.zeros((len(ts), max((t.size for t in ts if t is not None), default=0), 1))
    for p, t in enumerate(ts):
        if t is not None:
            out[p, :t.size, 0] = t
    return out


def _row_sums(out: np.ndarray, ts: list[np.ndarray | None], sizes: list[int]) -> list[np.ndarray | None]:
    """Each search's weighted shares summed over its own bins, row by row: a row of a padded block
    sums its bins in the same order as the contiguous array of that search alone (the same floats)."""
    return [None if t is None else out[p, :t.size, :n].sum(axis=1) for p, (t, n) in enumerate(zip(ts, sizes))]


def _normal_late(mean: np.ndarray, sd: np.ndarray, weights: np.ndarray):
    """``late(t)`` of ``_mixture_quantile``: the weighted share of tokens slower than each t,
    ``(weights * _normal_exceed(mean[None, :], sd[None, :], t[:, None])).sum(axis=1)`` to the bit
    (``_normal_late_many`` of one deployment)."""
    late_many = _normal_late_many([(mean, sd, weights)])
    return lambda t: late_many([t])[0]


def _normal_late_many(problems: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """``late_many`` of several deployments' TPOT mixtures (mean, sd, weights per bin): each
    deployment's bins a row of one padded block (the padding weightless), so one call evaluates
    every deployment at its own points; the bins' own terms (the spread's floor, the bins without
    spread) worked out once."""
    sizes = [np.size(m) for m, _, _ in problems]
    mean = _pad([m for m, _, _ in problems], sizes, 0.0)
    spread = _pad([np.maximum(sd, 1e-12) for _, sd, _ in problems], sizes, 1.0)
    flat = _pad([~np.asarray(sd > 0) for _, sd, _ in problems], sizes, False, bool)  # bins without spread: a step at their mean
    any_flat = bool(flat.any())
    weights = _pad([w for _, _, w in problems], sizes, 0.0)

    def late(ts: list[np.ndarray | None]) -> list[np.ndarray | None]:
        gap = _stack_points(ts) - mean
        z = gap / spread
        z *= 1.702
        out = np.exp(_clip(z, -60, 60, out=z))
        out += 1
        np.divide(1, out, out=out)
        if any_flat:
            np.copyto(out, (gap < 0) * 1.0, where=flat)
        out *= weights
        return _row_sums(out, ts, sizes)

    return late


REQUEST_TIMEOUT_MS = 60_000.0  # clients give up on a first token after a minute: the longest wait anyone sees


def _ttft_quantile(load: np.ndarray, base: np.ndarray, weights: np.ndarray, service_ms: float, ca2: float,
                   q: float | tuple[float, ...], limit: np.ndarray, servers: float = 1.0,
                   prefill_load: np.ndarray | float = 0.0, prefill_ms: np.ndarray | float = 0.0) -> float | list[float]:
    """The request-weighted ``q`` quantile of TTFT over the quarter's load bins (the mixture of
    ``_gg1_exceed``); a request still waiting at ``REQUEST_TIMEOUT_MS`` is abandoned, so no TTFT
    is longer. A tuple of ``q`` gives the list of their quantiles (``_grid_quantiles``)."""
    qs = q if isinstance(q, tuple) else (q,)
    total = weights.sum()
    if total <= 0:  # no real-time requests: the unloaded first token
        first = float(base.min()) if base.size else REQUEST_OVERHEAD_MS
        return [first] * len(qs) if isinstance(q, tuple) else first

    late = _queue_late(_queue_shape(load, service_ms, ca2, servers, prefill_load, prefill_ms), base, weights, limit)
    out = _grid_quantiles(late, total, qs, float(base.min()), float(base.max()) + REQUEST_TIMEOUT_MS)
    return out if isinstance(q, tuple) else out[0]


def _queue_late(shape: _QueueShape, base: np.ndarray, weights: np.ndarray, limit: np.ndarray):
    """``late(t)`` of ``_ttft_quantile``: the weighted share of requests whose first token comes
    after each t, ``(weights * _gg1_exceed(load[None, :], ..., t[:, None] - base[None, :], ...)).sum(axis=1)``
    to the bit, on a ``_queue_shape`` of the bins; the overloaded and idle bins' columns are
    found once and only they are overwritten."""
    over = np.flatnonzero(shape.over if shape.over.shape == base.shape else np.broadcast_to(shape.over, base.shape))
    idle = np.flatnonzero(shape.idle if shape.idle.shape == base.shape else np.broadcast_to(shape.idle, base.shape))
    limit_over = (limit if np.shape(limit) == base.shape else np.broadcast_to(limit, base.shape))[over]
    limited = limit_over > 0
    every_limited = bool(limited.all())

    def late(t: np.ndarray) -> np.ndarray:
        wait = np.subtract.outer(t, base)
        neg_wait = np.maximum(wait, 0.0)
        np.negative(neg_wait, out=neg_wait)
        out = np.exp(neg_wait / shape.cond_mean)
        out *= shape.p_wait
        if shape.any_pre:  # a prefill stage with no load adds exactly 0: skipped
            pre = np.exp(neg_wait / shape.mean_pre)
            pre *= shape.p_pre
            out += pre
        np.minimum(out, 1.0, out=out)
        if over.size:  # admission control: the admitted wait is uniform up to the limit
            wait_over = wait[:, over]
            share = wait_over / limit_over if every_limited else np.divide(wait_over, limit_over, out=np.ones_like(wait_over), where=limited)
            out[:, over] = _clip(1 - share, 0.0, 1.0)
        if idle.size:
            out[:, idle] = np.where(wait[:, idle] > 0, 0.0, 1.0)
        out *= weights
        return out.sum(axis=1)

    return late


def segment_prefix_cache_tokens(rows: list[tuple[int, float, float]]) -> float:
    """Idle prefix-cache KV tokens per running sequence of a deployment, from its segments'
    (prompt tokens, hit rate, weight) rows: each segment's cached prefixes stay resident at its own
    hit rate (physics.prefix_cache_tokens; KB §15), weighted like the deployment's context."""
    w = sum(x for _, _, x in rows)
    if w <= 0:
        return 0.0
    return sum(prefix_cache_tokens(prompt, hit) * x for prompt, hit, x in rows) / w


@lru_cache(maxsize=1024)
def competitor_gpu_seconds_per_request(model: str, gen: str, prompt: int, output: int, cached: float) -> float:
    """GPU-seconds a fully optimized competitor spends on one request (prefill + decode), or 0
    if it cannot serve the model on that generation."""
    m, g = MODELS[model], GPUS[gen]
    precision = "fp8" if g.fp8_tflops else "bf16"
    try:
        n = gpus_per_replica(m, g, precision, FULL)
        best = None
        while n <= 8:
            tps, pre_s, _ = replica_capacity(model, gen, n, precision, FULL, prompt + output // 2, 60.0, prompt,
                                             held=round(prefix_cache_tokens(prompt, cached), 1))
            secs = n * (output / tps + prompt * (1 - cached) * pre_s)
            best = secs if best is None or secs < best else best
            n *= 2
        return best or 0.0
    except PhysicsError:
        return 0.0


def traffic_mix(params: InferenceParams, model: str) -> tuple[int, int, float]:
    """Mean prompt tokens, output tokens and cached share of a model's requests."""
    rows = [(tr, tr.model_mix.get(model, 0.0)) for tr in params.traffic if tr.model_mix.get(model, 0.0) > 0]
    w = sum(x for _, x in rows) or 1.0
    prompt = round(sum(tr.prompt_tokens * x for tr, x in rows) / w) if rows else 1000
    output = round(sum(tr.output_tokens * x for tr, x in rows) / w) if rows else 300
    cached = sum(tr.cached_share * x for tr, x in rows) / w if rows else 0.0
    return prompt, output, cached


def competitor_margin(params: InferenceParams, q: int) -> float:
    f = min(1.0, q / params.margin_fade_quarters)
    return params.competitor_margin_start + (params.competitor_margin_end - params.competitor_margin_start) * f


def competitor_cost_per_m_output(gpus: dict, params: InferenceParams, model: str) -> float:
    """An efficient competitor's full cost to serve a model, in $/M billable output tokens (KB §1, §17).

    Competitors run whichever common GPU of the day (>= 10% of demand) serves the model cheapest,
    with the full KB §17 stack at ``competitor_utilization``, paying the 1-year reserved rate plus its
    own ops or, when that is cheaper, an efficient owner's full cost (``world.cost_floor_per_hour``); input
    tokens bill at 1/``output_price_multiple`` of output (cached ones at the cached discount).
    ``gpus`` is a quarter's ``WorldQuarter.gpus``. No market price falls below this (issue 9 item 8).
    """
    prompt, output, cached = traffic_mix(params, model)
    common = [g for g, mk in gpus.items() if mk.available and mk.demand_mix >= 0.1] or [g for g, mk in gpus.items() if mk.available]
    costs = []
    for gen in common:
        secs = competitor_gpu_seconds_per_request(model, gen, prompt, output, cached)
        if secs > 0:
            mk = gpus[gen]  # a 1-year reservation plus their own ops, or owning the GPU if that is dearer
            hourly = max(mk.reserved_usd_per_hour[4] + params.competitor_ops_usd_per_gpu_hour, mk.cost_floor_usd_per_hour)
            costs.append(hourly * secs / 3600 / params.competitor_utilization)
    cost = min(costs) if costs else float("inf")
    billable = output + prompt * (1 - cached) / params.output_price_multiple + prompt * cached * (1 - params.cached_discount) / params.output_price_multiple
    return cost / billable * 1e6


def market_output_price(wq, params: InferenceParams, model: str) -> float:
    """$/M output tokens the market charges for a model (input at 1/``output_price_multiple``).

    The competitor's full cost / (1 - margin): the KB §17 arithmetic ($0.14/M cost -> $0.40 at 65%
    gross margin); a price war cuts it by ``token_price_war_mult``.
    """
    cost = competitor_cost_per_m_output(wq.gpus, params, model)
    return cost / (1 - competitor_margin(params, wq.index)) * wq.token_price_war_mult


# ------------------------------------------------------------------------------ the quarter


class ModelResult(BaseModel):
    model: str
    gen: str
    replicas: int
    gpus: int
    price_out_usd_per_m: float
    market_out_usd_per_m: float
    tokens_in: float
    tokens_out: float
    tokens_cached: float
    revenue_usd: float
    gpu_cost_usd: float
    utilization: float
    replicas_needed_p95: float
    dropped_share: float  # real-time requests turned away
    p50_tpot_ms: float  # percentiles over output tokens (real-time and batch), not hours
    p95_tpot_ms: float
    p95_ttft_ms: float  # percentiles over real-time requests, not hours
    ttft_sla_met: bool
    p50_ttft_ms: float = 0.0
    ttft_miss_share: float = 0.0  # served real-time requests whose first token came after the TTFT SLA
    tpot_miss_share: float = 0.0  # output tokens slower than the deployment's TPOT target
    sla_miss_share: float = 0.0  # real-time requests dropped or served late (either SLA): what drives churn

    @property
    def gross_margin(self) -> float | None:
        return (self.revenue_usd - self.gpu_cost_usd) / self.revenue_usd if self.revenue_usd > 0 else None


class InferenceResult(BaseModel):
    models: list[ModelResult]
    revenue_usd: float
    gpu_cost_usd: float  # the whole pool: reserved/owned GPUs + on-demand + spot rentals, used or not
    rental_cost_usd: float  # on-demand + spot (the part not already in leases or depreciation)
    tokens_in: float
    tokens_out: float
    tokens_cached: float
    churned_revenue_usd: float
    rnd_usd: float
    techniques_done: list[str]

    @property
    def cost_per_m_tokens(self) -> float | None:
        total = self.tokens_in + self.tokens_out
        return self.gpu_cost_usd / total * 1e6 if total > 0 else None


class _Latency(NamedTuple):
    """One deployment's quarter of latency (issue 12 item 6): the SLA miss shares, its replica-hours
    served, and the load bins its TPOT and TTFT percentiles are searched over."""

    tokens_total: float
    tpot_miss: float
    ttft_miss: float
    tpot_search: tuple  # (mean, sd, tokens) per load bin, (0.5, 0.95), lowest and highest TPOT: ``_mixture_quantiles``
    ttft_search: tuple  # the arguments of ``_ttft_quantile``


def _latency(rt_served: np.ndarray, batch_served: np.ndarray, cap: np.ndarray, tables: list[tuple[np.ndarray, ...]],
             outputs: list[int], tpot_ms: list[float], ca2: list[float], ttft_sla_ms: float) -> list[_Latency]:
    """Latency under load of a catalog's deployments, one row each of the (deployments, hours)
    arrays ``rt_served``, ``batch_served`` (replica-hours) and ``cap`` (replicas running), with
    each one's ``serving_table``, mean output tokens, TPOT target and real-time arrival variability.

    Batch fills idle capacity but queues behind real-time traffic, so TTFT sees the real-time load;
    decode steps carry both. Every deployment's hours go through each array operation together:
    element by element the same floats as one deployment alone, the sums row by row (the same
    order), the bins counted with the rows' keys kept apart (``_bin_rows``)."""
    rows = len(tables)
    outputs_col = np.array(outputs, dtype=np.float64)[:, None]
    tokens_h = rt_served + batch_served  # replica-hours: proportional to output tokens
    up = cap > 0  # hours with replicas running
    busy = np.divide(tokens_h, cap, out=np.zeros(cap.shape), where=up)
    rt_load = np.divide(rt_served, cap, out=np.ones(cap.shape), where=up)
    # the tables at each hour's load; pre_load_h: the prefill share of replica time
    step_h, chunk_h, share_h, base_h, pre_load_h = _interp_rows(busy, [(t[0], t[1], t[2], t[3], t[5]) for t in tables])
    tpot_mean_h = step_h + chunk_h * share_h  # a request's TPOT: the mean over its tokens
    frac_h = share_h - np.floor(share_h)  # steps carry floor(q) chunks, a share frac one more
    tpot_sd_h = chunk_h * np.sqrt(frac_h * (1 - frac_h) / outputs_col)
    tokens_total = tokens_h.sum(axis=1)
    tpot_late = (tokens_h * _normal_exceed(tpot_mean_h, tpot_sd_h, np.array(tpot_ms, dtype=np.float64)[:, None])).sum(axis=1)
    # percentiles: hours of near-equal load share a bin (a few dozen instead of 2,184 hours)
    tpot_bins = _bin_rows(np.round(busy * (4 * HOUR_BINS)).astype(np.int64), tokens_h, tpot_mean_h, tpot_sd_h)
    hi_tpot = (step_h + chunk_h * np.ceil(share_h + 1e-9)).max(axis=1)
    lo_tpot = step_h.min(axis=1)
    service = [t[4] for t in tables]
    rt_req_h = rt_served  # requests per hour are proportional to real-time replica-hours served
    sla_wait = ttft_sla_ms - base_h  # the queueing a request can take and still meet the TTFT SLA
    limit = np.maximum(0.0, sla_wait)  # admission control turns away what would start late
    prompt_h = np.where(pre_load_h > 0, np.array([float(s[2]) for s in service])[:, None], 0.0)
    ttft_exceed = _gg1_exceed(rt_load, np.array([float(s[0]) for s in service])[:, None], np.array(ca2, dtype=np.float64)[:, None],
                              sla_wait, limit, [float(s[1]) for s in service], pre_load_h, prompt_h)
    rt_served_total = rt_served.sum(axis=1)  # rt_req_h's
    ttft_late = (rt_req_h * ttft_exceed).sum(axis=1)
    ttft_bins = _bin_rows(_load_key(rt_load), rt_req_h, rt_load, base_h, limit, pre_load_h, prompt_h)
    out = []
    for r in range(rows):
        (b_mean, b_sd), b_tokens = tpot_bins[r]
        (b_load, b_base, b_limit, b_pl, b_pm), b_reqs = ttft_bins[r]
        if not b_reqs.size:  # no real-time request all quarter: the idle replica's first token
            b_load, b_base, b_limit, b_pl, b_pm, b_reqs = np.zeros(1), base_h[r, :1], limit[r, :1], np.zeros(1), np.zeros(1), np.zeros(1)
        total = tokens_total[r]
        served_rt = rt_served_total[r]
        out.append(_Latency(
            total, float(tpot_late[r] / total) if total > 0 else 0.0, float(ttft_late[r] / served_rt) if served_rt > 0 else 0.0,
            (b_mean, b_sd, b_tokens, (0.5, 0.95), float(lo_tpot[r]), float(hi_tpot[r])),
            (b_load, b_base, b_reqs, float(service[r][0]), ca2[r], (0.5, 0.95), b_limit, float(service[r][1]), b_pl, b_pm),
        ))
    return out


class _Plan(NamedTuple):
    """One deployment's quarter before its hours are served (``serve``'s first phase): its prices,
    replicas and each traffic segment's scalars (output tokens per demand unit, cached share)."""

    d: Deployment
    mk: object  # the generation's GPU market this quarter
    mine: list[int]  # indices of the traffic segments that ask for the model
    prompt: int
    context: int
    market_out: float
    p_out: float
    p_in: float
    cd: float
    bd: float
    cache_pull: float
    out_weight: float
    held: float  # prefix-cache tokens held per replica (segment_prefix_cache_tokens)
    tps: float
    pre_s: float
    running: int
    on_base: int
    seg_scalars: dict[int, tuple[float, float]]


MAX_SHARE_GAIN = 3.0  # token buyers switch providers more freely than GPU renters


# most deployments whose hours go through the arrays together: arrays of 3 x 2,184 floats (52 kB) stay
# in the C allocator's heap; from 4 rows (70 kB) on, the freed temporaries overflow its trim threshold
# (128 kB) and each quarter paid ~150 page faults (measured: ~0.5 ms, a tenth of the quarter)
ROWS_AT_ONCE = 3


def _batch_queue_rows(arrivals: np.ndarray, capacity: np.ndarray, backlogs: list[float]) -> tuple[np.ndarray, list[float]]:
    """``demand.batch_queue`` for every row of (deployments, hours) arrays at once: the served work
    per tick and each row's backlog carried into the next quarter, to the bit (the Lindley walk and
    its running minimum run along each row in hour order, as alone)."""
    backlog = np.array(backlogs, dtype=np.float64)[:, None]
    walk = np.cumsum(arrivals - capacity, axis=1)
    queue = walk - np.minimum(np.minimum.accumulate(walk, axis=1), -backlog)
    prev = np.concatenate((backlog, queue[:, :-1]), axis=1)
    kept = (BACKLOG_HOURS_KEPT * arrivals.mean(axis=1)).tolist()
    return prev + arrivals - queue, [round(min(end, k), 6) for end, k in zip(queue[:, -1].tolist(), kept)]


def _percentile_rows(x: np.ndarray, q: float) -> list[float]:
    """``_percentile(x[r], q)`` of every row of a 2-d array, to the bit: the same two order
    statistics of each row (one partition along the rows), the same lerp."""
    n = x.shape[1]
    v = (n - 1) * (q / 100)
    lo = min(max(int(np.floor(v)), 0), n - 1)
    hi = min(lo + 1, n - 1)
    part = np.partition(x, (lo, hi), axis=1)
    g = v - lo
    out = []
    for a, b, nan in zip(part[:, lo].tolist(), part[:, hi].tolist(), np.isnan(x).any(axis=1).tolist()):
        diff = b - a
        out.append(float("nan") if nan else float(b - diff * (1 - g) if g >= 0.5 else a + diff * g))
    return out


def serve(state, world, params: InferenceParams, own_gpu_hour_usd: dict[str, float], rng, reference: dict[str, float] | None = None) -> InferenceResult:
    """Serve one quarter of token demand tick by tick; mutates the inference state (backlogs,
    retention, roadmap progress) and returns what to post. ``reference``: per model, the price
    (relative to the market's) customers compare ours with when rivals sell it (engine.industry)."""
    inf = state.inference
    q = state.quarter
    wq = world.quarter(q)
    demand = world.demand(q)
    segments = {p.id: p for p in world.params.segments}
    stack = inf.stack()
    results: list[ModelResult] = []
    reclaim = rng.random(T) < params.spot_reclaim_share  # hours the clouds take spot GPUs back
    revenue = t_in = t_out = t_cached = churned = 0.0
    miss_by_segment: dict[str, list[float]] = {}
    seg_revenue: dict[str, float] = {}
    # pool cost per generation: own/reserved GPUs at their hourly cost, rentals at market rates
    rental = 0.0
    for gen, n in inf.on_demand.items():
        rental += n * wq.gpus[gen].on_demand_usd_per_hour * params.on_demand_rental_premium * T
    for gen, n in inf.spot.items():
        rental += n * wq.gpus[gen].spot_usd_per_hour * T
    # the quarter's own GPUs, once per generation that serves or costs (others add 0.0 to the pool's cost)
    used = [g for g in GPUS if g in own_gpu_hour_usd or g in inf.on_demand or g in inf.spot or any(d.gen == g for d in inf.deployments)]
    own = {g: base_gpus(state, g) for g in used}
    pool = {g: own[g] + inf.on_demand.get(g, 0) + inf.spot.get(g, 0) for g in used}  # pool_gpus
    left_gpus = dict(pool)
    left_non_spot = {g: own[g] + inf.on_demand.get(g, 0) for g in used}
    served: list[tuple] = []  # per deployment: what its result needs besides its latency
    plans: list[tuple] = []  # per deployment with traffic: its prices, replicas and segments' scalars
    for d in inf.deployments:
        mk = wq.gpus[d.gen]
        mine = [j for j, tr in enumerate(params.traffic) if tr.model_mix.get(d.model, 0) > 0 and tr.segment in demand.by_segment]
        if not mine:
            continue
        traffic = [params.traffic[j] for j in mine]
        out_weight = sum(tr.model_mix[d.model] for tr in traffic)
        prompt = round(sum(tr.prompt_tokens * tr.model_mix[d.model] for tr in traffic) / out_weight)
        context = round(sum((tr.prompt_tokens + tr.output_tokens / 2) * tr.model_mix[d.model] for tr in traffic) / out_weight)
        market_out = market_output_price(wq, params, d.model)
        p_out = market_out * (1 + d.price_vs_market)
        p_in = p_out / params.output_price_multiple
        cd = params.cached_discount if d.cached_discount is None else d.cached_discount
        bd = params.batch_discount if d.batch_discount is None else d.batch_discount
        # a deeper cached-input discount pulls more traffic onto shared prefixes (KB §15)
        cache_pull = 0.5 + cd
        # cached prefixes occupy KV memory at each segment's hit rate: fewer sequences per replica
        held = round(segment_prefix_cache_tokens(
            [(tr.prompt_tokens, min(0.95, tr.cached_share * cache_pull), tr.model_mix[d.model]) for tr in traffic]), 1)
        tps, pre_s, _ = replica_capacity(d.model, d.gen, d.gpus_per_replica, d.precision, stack, context, d.tpot_ms, prompt,
                                         held=held)
        # replicas that have GPUs (a lease can end under them); spot-hosted ones vanish when reclaimed
        free = left_gpus.get(d.gen, 0)
        running = min(d.replicas, free // d.gpus_per_replica)
        left_gpus[d.gen] = free - running * d.gpus_per_replica
        non_spot = left_non_spot.get(d.gen, 0)
        on_base = min(running, non_spot // d.gpus_per_replica)
        left_non_spot[d.gen] = max(0, non_spot - on_base * d.gpus_per_replica)
        seg_scalars = {}  # traffic index -> (output tokens per demand unit, cached share)
        for j, tr in zip(mine, traffic):
            seg = segments[tr.segment]
            keep = inf.retention.get(tr.segment, 1.0)
            per_unit = params.output_tokens_per_unit * (1 + params.token_growth_per_quarter) ** q
            ratio = 1 + d.price_vs_market
            if not seg.latency_sensitive:  # batch buyers compare batch prices
                ratio *= (1 - bd) / (1 - params.batch_discount)
            key = f"{d.model}/{tr.segment}"
            market_ratio = reference.get(d.model, 1.0) if reference else 1.0
            share = customer_base_step(inf.customer_base.get(key, 1.0), demand_share(ratio, market_ratio, seg.elasticity, MAX_SHARE_GAIN), seg)
            inf.customer_base[key] = round(share, 9)  # customers who left come back slowly (KB §1)
            seg_scalars[j] = (per_unit * tr.model_mix[d.model] * keep * share, min(0.95, tr.cached_share * cache_pull))
        plans.append(_Plan(d, mk, mine, prompt, context, market_out, p_out, p_in, cd, bd, cache_pull, out_weight, held, tps, pre_s,
                           running, on_base, seg_scalars))
    # the deployments' hours through each array operation together (one row each, ROWS_AT_ONCE at a
    # time): element by element the same floats as one deployment alone, sums along each row in hour order
    lat: list[_Latency] = []
    at_once = -(-len(plans) // -(-len(plans) // ROWS_AT_ONCE)) if plans else 1  # even groups: 4 deployments go 2 + 2
    for first in range(0, len(plans), at_once):
        plans_at_once = plans[first:first + at_once]
        rows = len(plans_at_once)
        cap = np.empty((rows, T))
        cap[:] = np.array([float(p.running) for p in plans_at_once])[:, None]
        cap -= reclaim * np.array([p.running - p.on_base for p in plans_at_once], dtype=np.float64)[:, None]  # exact: small integers
        for r, p in enumerate(plans_at_once):
            if p.d.deployed_quarter == q:
                cap[r, 0] = 0.0  # cold start: weights stream from disk before the first request (KB §16)
        rt_need = np.zeros((rows, T))
        batch_need = np.zeros((rows, T))
        tps_col = np.array([p.tps for p in plans_at_once], dtype=np.float64)[:, None]
        pre_col = np.array([p.pre_s for p in plans_at_once], dtype=np.float64)[:, None]
        seg_out: dict[int, tuple[list[int], np.ndarray]] = {}  # traffic index -> (its rows, their output tokens per hour)
        for j, tr in enumerate(params.traffic):  # traffic order: each row adds its segments' needs in its own traffic's order
            at = [r for r, p in enumerate(plans_at_once) if j in p.seg_scalars]
            if not at:
                continue
            scalars = [plans_at_once[r].seg_scalars[j] for r in at]
            every = len(at) == rows
            out = demand.by_segment[tr.segment] * np.array([s for s, _ in scalars], dtype=np.float64)[:, None]
            cached = np.array([c for _, c in scalars], dtype=np.float64)[:, None]
            need = out / (tps_col if every else tps_col[at]) + out * (tr.prompt_tokens / tr.output_tokens) * (1 - cached) * (pre_col if every else pre_col[at])
            total = rt_need if segments[tr.segment].latency_sensitive else batch_need
            if every:
                total += need
            else:
                total[at] += need
            seg_out[j] = (at, out)
        frac = np.minimum(1.0, np.divide(cap, rt_need, out=np.ones(cap.shape), where=rt_need > 0))
        rt_served = rt_need * frac
        left = cap - rt_served
        batch_served, backlogs = _batch_queue_rows(batch_need, left, [inf.batch_backlog.get(p.d.model, 0.0) for p in plans_at_once])
        batch_totals, batch_served_totals = batch_need.sum(axis=1).tolist(), batch_served.sum(axis=1).tolist()
        sums: dict[int, tuple[list[int], list[float], list[float]]] = {}  # traffic index -> (rows, output demanded, served) per hour
        for j, (at, out) in seg_out.items():
            if segments[params.traffic[j].segment].latency_sensitive:
                sums[j] = (at, out.sum(axis=1).tolist(), (out * (frac if len(at) == rows else frac[at])).sum(axis=1).tolist())
            else:
                demanded = out.sum(axis=1).tolist()
                sums[j] = (at, demanded, demanded)
        needed_p95 = _percentile_rows(rt_need + batch_need, 95)
        rt_need_totals, rt_served_totals, cap_totals = rt_need.sum(axis=1).tolist(), rt_served.sum(axis=1).tolist(), cap.sum(axis=1).tolist()
        hours: list[tuple] = []  # per deployment: what its latency is computed from (``_latency``)
        for r, (d, mk, mine, prompt, context, market_out, p_out, p_in, cd, bd, cache_pull, out_weight, held, tps, pre_s, running,
                on_base, seg_scalars) in enumerate(plans_at_once):
            inf.batch_backlog[d.model] = backlogs[r]
            batch_total = batch_totals[r]
            b_frac = float(batch_served_totals[r] / batch_total) if batch_total > 0 else 1.0
            m_rev = m_in = m_out = m_cached = 0.0
            rt_outcomes: list[tuple[str, float, float]] = []  # (segment, output demanded, output served)
            ca2_num = rt_reqs_total = 0.0  # the real-time mix's arrival variability, weighted by requests
            traffic = [params.traffic[j] for j in mine]
            for j, tr in zip(mine, traffic):
                seg = segments[tr.segment]
                at, demanded, served_sum = sums[j]
                i = at.index(r)
                cached_share = seg_scalars[j][1]
                served_out = served_sum[i] * 3600 * (1.0 if seg.latency_sensitive else b_frac)
                served_in = served_out * tr.prompt_tokens / tr.output_tokens
                cached = served_in * cached_share
                price_mult = 1.0 if seg.latency_sensitive else 1 - bd
                seg_rev = price_mult * (served_out * p_out + (served_in - cached) * p_in + cached * p_in * (1 - cd)) / 1e6
                seg_revenue[tr.segment] = seg_revenue.get(tr.segment, 0.0) + seg_rev
                m_rev += seg_rev
                m_in += served_in
                m_out += served_out
                m_cached += cached
                if seg.latency_sensitive:
                    rt_outcomes.append((tr.segment, demanded[i] * 3600, served_out))
                    reqs = demanded[i] / tr.output_tokens
                    ca2_num += reqs * tr.arrival_cv ** 2
                    rt_reqs_total += reqs
            # latency under load (issue 12 item 6): batch fills idle capacity but queues behind real-time
            # traffic, so TTFT sees the real-time load; decode steps carry both
            output = round(sum(tr.output_tokens * tr.model_mix[d.model] for tr in traffic) / out_weight)
            cached_mix = sum(min(0.95, tr.cached_share * cache_pull) * tr.model_mix[d.model] for tr in traffic) / out_weight
            tables = serving_table(
                d.model, d.gen, d.gpus_per_replica, d.precision, stack, context, d.tpot_ms, prompt, output,
                round(cached_mix, 3), params.prefill_chunk_tokens, d.disaggregated, held,
            )
            hours.append((tables, output, d.tpot_ms, ca2_num / rt_reqs_total if rt_reqs_total > 0 else 1.0))
            rt_need_total, rt_served_total = rt_need_totals[r], rt_served_totals[r]
            dropped = float(1 - rt_served_total / rt_need_total) if rt_need_total > 0 else 0.0
            gpus = running * d.gpus_per_replica
            hourly = own_gpu_hour_usd.get(d.gen, mk.reserved_usd_per_hour[4])
            m_cost = gpus * T * hourly
            served.append((d, running, gpus, p_out, market_out, m_in, m_out, m_cached, m_rev, m_cost, cap_totals[r],
                           needed_p95[r], dropped, rt_outcomes))
        # latency under load (issue 12 item 6): every deployment's hours through each array operation together
        tables, outputs, tpot_targets, ca2s = zip(*hours)
        lat += _latency(rt_served, batch_served, cap, list(tables), list(outputs), list(tpot_targets), list(ca2s), params.ttft_sla_ms)
    tpots = _mixture_quantiles([x.tpot_search for x in lat])  # the catalog's TPOT grids searched together
    ttfts = [_ttft_quantile(*x.ttft_search) for x in lat]  # TTFT: each alone (bin counts differ too much for one padded block to pay)
    for (d, running, gpus, p_out, market_out, m_in, m_out, m_cached, m_rev, m_cost, cap_total, needed_p95, dropped,
         rt_outcomes), x, (tpot50, tpot95), (ttft50, ttft95) in zip(served, lat, tpots, ttfts):
        ttft_miss, tpot_miss = x.ttft_miss, x.tpot_miss
        utilization = float(x.tokens_total / cap_total) if cap_total > 0 else 0.0
        late = 1 - (1 - ttft_miss) * (1 - tpot_miss)  # a served request missing either SLA
        for segment, demanded, served_out in rt_outcomes:  # dropped or late: both count as misses
            miss_by_segment.setdefault(segment, []).append((demanded - served_out * (1 - late)) / demanded if demanded > 0 else 0.0)
        results.append(ModelResult.model_construct(  # the fields' own types already: validation would return them as they are
            model=d.model, gen=d.gen, replicas=running, gpus=gpus, price_out_usd_per_m=p_out, market_out_usd_per_m=market_out,
            tokens_in=m_in, tokens_out=m_out, tokens_cached=m_cached, revenue_usd=m_rev, gpu_cost_usd=m_cost,
            utilization=utilization, replicas_needed_p95=needed_p95, dropped_share=dropped,
            p50_tpot_ms=tpot50, p95_tpot_ms=tpot95, p95_ttft_ms=ttft95,
            ttft_sla_met=ttft95 <= params.ttft_sla_ms, p50_ttft_ms=ttft50, ttft_miss_share=ttft_miss,
            tpot_miss_share=tpot_miss, sla_miss_share=dropped + (1 - dropped) * late,
        ))
        revenue += m_rev
        t_in += m_in
        t_out += m_out
        t_cached += m_cached
    # churn: customers who were dropped leave in proportion (enterprise most of all, KB §1 SLAs)
    for tr in params.traffic:
        misses = miss_by_segment.get(tr.segment)
        if misses:
            miss = sum(misses) / len(misses)
            keep = inf.retention.get(tr.segment, 1.0)
            new_keep = max(0.2, keep * (1 - min(0.9, tr.churn_per_miss * miss)))
            churned += seg_revenue.get(tr.segment, 0.0) * (1 - new_keep / keep)  # next quarter's revenue that walked
            inf.retention[tr.segment] = round(new_keep, 9)
    # the roadmap advances: each project costs R&D every quarter it is being built
    rnd = 0.0
    for tech, left in sorted(inf.techniques.items()):
        if left > 0:
            rnd += params.roadmap[tech][1]
            inf.techniques[tech] = left - 1
    pool_cost = sum(own_gpu_hour_usd.get(g, 0.0) * pool.get(g, 0) * T for g in GPUS)  # idle GPUs cost too
    return InferenceResult(
        models=results, revenue_usd=revenue, gpu_cost_usd=pool_cost, rental_cost_usd=rental, tokens_in=t_in, tokens_out=t_out,
        tokens_cached=t_cached, churned_revenue_usd=churned, rnd_usd=rnd,
        techniques_done=[t for t, left in sorted(inf.techniques.items()) if left == 0],
    )
