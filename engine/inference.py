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

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from engine.base import FileModel, Frozen, Rejected
from engine.calendar import TICKS_PER_QUARTER
from engine.demand import batch_queue, customer_base_step, demand_share
from engine.hardware import GPUS
from engine.models import MODELS
from engine.physics import FULL, TECHNIQUES, PhysicsError, Stack, decode, gpus_per_replica, prefill, serve_under_tpot, ttft_ms

T = TICKS_PER_QUARTER

# ------------------------------------------------------------------------------ parameters


class SegmentTraffic(FileModel):
    """What one segment's requests look like (KB §1 segments, KB §11 tokens, KB §15 caching)."""

    segment: str
    prompt_tokens: int = Field(gt=0)
    output_tokens: int = Field(gt=0)
    cached_share: float = Field(ge=0, le=1)  # share of prompt tokens served from the prefix cache
    model_mix: dict[str, float]  # share of this segment's tokens that want each model
    churn_per_miss: float = Field(default=0.5, ge=0, le=5)  # demand lost per unit share of dropped requests


DEFAULT_TRAFFIC = (
    SegmentTraffic(segment="hobbyist", prompt_tokens=600, output_tokens=250, cached_share=0.1,
                   model_mix={"llama-3.1-8b": 0.55, "llama-3.1-70b": 0.3, "mixtral-8x7b": 0.1, "llama-3.1-405b": 0.05},
                   churn_per_miss=0.3),
    SegmentTraffic(segment="startup", prompt_tokens=1500, output_tokens=300, cached_share=0.35,
                   model_mix={"llama-3.1-8b": 0.35, "llama-3.1-70b": 0.45, "mixtral-8x7b": 0.1, "llama-3.1-405b": 0.1},
                   churn_per_miss=0.8),
    SegmentTraffic(segment="enterprise", prompt_tokens=3000, output_tokens=400, cached_share=0.5,
                   model_mix={"llama-3.1-8b": 0.2, "llama-3.1-70b": 0.55, "mixtral-8x7b": 0.05, "llama-3.1-405b": 0.2},
                   churn_per_miss=1.5),
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
}
PREREQUISITES = {"custom_kernels": ("flash_attention",), "speculative_decoding": ("continuous_batching",)}


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
                deployed_quarter=state.quarter,
            ))
            return f"deployed {model}: {replicas} x {n} {gen.upper()} at {precision.upper()}, TPOT target {tpot:g} ms"
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
def replica_capacity(model: str, gen: str, n: int, precision: str, stack: Stack, context: int, tpot: float, prompt: int) -> tuple[float, float, int]:
    """(output tokens/s per replica under the TPOT target, prefill seconds per prompt token, max batch).

    A memo of a pure function of constant specs: the same arguments always give the same numbers.
    """
    m, g = MODELS[model], GPUS[gen]
    sr = serve_under_tpot(m, g, n, precision, stack, context, tpot)
    pre = prefill(m, g, n, precision, prompt, stack).prefill_ms / 1000 / prompt
    return sr.tokens_per_s, pre, sr.max_batch


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
            tps, pre_s, _ = replica_capacity(model, gen, n, precision, FULL, prompt + output // 2, 60.0, prompt)
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
    dropped_share: float  # real-time requests turned away: the SLA misses
    p50_tpot_ms: float
    p95_tpot_ms: float
    p95_ttft_ms: float
    ttft_sla_met: bool

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


MAX_SHARE_GAIN = 3.0  # token buyers switch providers more freely than GPU renters


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
    left_gpus = {g: pool_gpus(state, g) for g in GPUS}
    left_non_spot = {g: base_gpus(state, g) + inf.on_demand.get(g, 0) for g in GPUS}
    for d in inf.deployments:
        mk = wq.gpus[d.gen]
        traffic = [tr for tr in params.traffic if tr.model_mix.get(d.model, 0) > 0 and tr.segment in demand.by_segment]
        if not traffic:
            continue
        out_weight = sum(tr.model_mix[d.model] for tr in traffic)
        prompt = round(sum(tr.prompt_tokens * tr.model_mix[d.model] for tr in traffic) / out_weight)
        context = round(sum((tr.prompt_tokens + tr.output_tokens / 2) * tr.model_mix[d.model] for tr in traffic) / out_weight)
        tps, pre_s, max_b = replica_capacity(d.model, d.gen, d.gpus_per_replica, d.precision, stack, context, d.tpot_ms, prompt)
        market_out = market_output_price(wq, params, d.model)
        p_out = market_out * (1 + d.price_vs_market)
        p_in = p_out / params.output_price_multiple
        cd = params.cached_discount if d.cached_discount is None else d.cached_discount
        bd = params.batch_discount if d.batch_discount is None else d.batch_discount
        # a deeper cached-input discount pulls more traffic onto shared prefixes (KB §15)
        cache_pull = 0.5 + cd
        # replicas that have GPUs (a lease can end under them); spot-hosted ones vanish when reclaimed
        free = left_gpus.get(d.gen, 0)
        running = min(d.replicas, free // d.gpus_per_replica)
        left_gpus[d.gen] = free - running * d.gpus_per_replica
        non_spot = left_non_spot.get(d.gen, 0)
        on_base = min(running, non_spot // d.gpus_per_replica)
        left_non_spot[d.gen] = max(0, non_spot - on_base * d.gpus_per_replica)
        cap = np.full(T, float(running))
        cap[reclaim] -= running - on_base
        if d.deployed_quarter == q:
            cap[0] = 0.0  # cold start: weights stream from disk before the first request (KB §16)
        rt_need = np.zeros(T)
        batch_need = np.zeros(T)
        seg_tokens = []
        for tr in traffic:
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
            out = demand.by_segment[tr.segment] * (per_unit * tr.model_mix[d.model] * keep * share)
            cached_share = min(0.95, tr.cached_share * cache_pull)
            need = out / tps + out * (tr.prompt_tokens / tr.output_tokens) * (1 - cached_share) * pre_s
            seg_tokens.append((tr, seg, out, need, cached_share))
            if seg.latency_sensitive:
                rt_need += need
            else:
                batch_need += need
        frac = np.minimum(1.0, np.divide(cap, rt_need, out=np.ones(T), where=rt_need > 0))
        rt_served = rt_need * frac
        left = cap - rt_served
        batch = batch_queue(batch_need, left, inf.batch_backlog.get(d.model, 0.0))
        batch_served = batch.served
        inf.batch_backlog[d.model] = batch.backlog
        b_frac = float(batch_served.sum() / batch_need.sum()) if batch_need.sum() > 0 else 1.0
        m_rev = m_in = m_out = m_cached = 0.0
        for tr, seg, out, need, cached_share in seg_tokens:
            served_out = float((out * (frac if seg.latency_sensitive else 1.0)).sum()) * 3600 * (1.0 if seg.latency_sensitive else b_frac)
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
                demanded = float(out.sum()) * 3600
                miss_by_segment.setdefault(tr.segment, []).append((demanded - served_out) / demanded if demanded > 0 else 0.0)
        load = np.divide(rt_served + batch_served, cap, out=np.zeros(T), where=cap > 0)
        rho50, rho95 = (float(x) for x in np.percentile(np.minimum(load, 0.99), [50, 95]))
        m, g = MODELS[d.model], GPUS[d.gen]
        tpot50 = decode(m, g, d.gpus_per_replica, d.precision, max(1, round(rho50 * max_b)), context, stack).tpot_ms
        tpot95 = decode(m, g, d.gpus_per_replica, d.precision, max(1, round(rho95 * max_b)), context, stack).tpot_ms
        ttft95 = ttft_ms(m, g, d.gpus_per_replica, d.precision, stack, prompt, load=min(0.95, rho95), batch=max(1, round(rho95 * max_b)), context=context)
        dropped = float(1 - rt_served.sum() / rt_need.sum()) if rt_need.sum() > 0 else 0.0
        gpus = running * d.gpus_per_replica
        hourly = own_gpu_hour_usd.get(d.gen, mk.reserved_usd_per_hour[4])
        m_cost = gpus * T * hourly
        results.append(ModelResult(
            model=d.model, gen=d.gen, replicas=running, gpus=gpus, price_out_usd_per_m=p_out, market_out_usd_per_m=market_out,
            tokens_in=m_in, tokens_out=m_out, tokens_cached=m_cached, revenue_usd=m_rev, gpu_cost_usd=m_cost,
            utilization=float((rt_served + batch_served).sum() / cap.sum()) if cap.sum() > 0 else 0.0,
            replicas_needed_p95=float(np.percentile(rt_need + batch_need, 95)), dropped_share=dropped,
            p50_tpot_ms=tpot50, p95_tpot_ms=tpot95, p95_ttft_ms=ttft95,
            ttft_sla_met=ttft95 <= params.ttft_sla_ms,
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
    pool_cost = sum(own_gpu_hour_usd.get(g, 0.0) * pool_gpus(state, g) * T for g in GPUS)  # idle GPUs cost too
    return InferenceResult(
        models=results, revenue_usd=revenue, gpu_cost_usd=pool_cost, rental_cost_usd=rental, tokens_in=t_in, tokens_out=t_out,
        tokens_cached=t_cached, churned_revenue_usd=churned, rnd_usd=rnd,
        techniques_done=[t for t, left in sorted(inf.techniques.items()) if left == 0],
    )
