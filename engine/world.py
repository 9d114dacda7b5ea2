"""The exogenous world: GPU roadmap and prices, token prices, power, macro, demand, offers, events.

The world depends only on (world params, seed, quarter), never on the player's actions
(DESIGN.md "The engine's contract": fair). Every draw comes from ``engine.rng.stream`` keyed by
(seed, subsystem, quarter, ...), so quarter q's world never depends on how many quarters were
asked for. Recursive scalar paths (the price cycle, SOFR, equity mood) are walked from quarter 0
forward in ``build_world``; per-quarter markets and offers are built on first use and cached
in the ``World`` instance; tick arrays (``World.demand``) likewise.

Price model (DESIGN.md "Prices", CALIBRATION 21): a GPU-hour trades at
    cost floor x (1 + scarcity premium)
where the cost floor is the owning cost of a new GPU bought at today's list price (amortization
+ capital charge + data-center + ops, KB §2-§3, §8), and the premium decays from
``scarcity_premium_start`` toward a long-run markup plus a seeded AR(1) cycle (so prices cycle
as well as deflate). Each newer generation caps the older ones at price parity by ``perf``,
phased in over 4 quarters as it ramps; nobody rents below the cash floor (power + ops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from engine.base import FileModel, Frozen
from engine.economics import HOURS_PER_MONTH, owned_gpu_hourly_cost  # KB §8 counts a 720-hour month
from engine.calendar import HOURS_PER_YEAR, TICKS_PER_QUARTER, parse_quarter, quarter_label
from engine.demand import (
    DEFAULT_SEGMENTS,
    DemandArrays,
    SegmentParams,
    Spike,
    level_shock,
    price_response,
    segment_demand,
    segment_level,
    spike_multiplier,
)
from engine.hardware import GPU_ORDER, GPUS
from engine.inference import InferenceParams, competitor_cost_per_m_output
from engine.models import MODELS
from engine.rng import stream

__all__ = [
    "DEFAULT_ROADMAP",
    "DEFAULT_SEGMENTS",
    "EVENT_KINDS",
    "EVENT_MAGNITUDE",
    "GRADES",
    "INVESTMENT_GRADES",
    "ContractOffer",
    "DemandArrays",
    "GenerationParams",
    "GpuMarket",
    "ScriptedEvent",
    "ScriptedOffer",
    "SegmentParams",
    "Spike",
    "World",
    "WorldEvent",
    "WorldParams",
    "WorldQuarter",
    "build_world",
    "price_response",
]

EVENT_KINDS = (
    "price_war",
    "supply_shock",
    "rate_shock",
    "power_moratorium",
    "customer_default",
    "outage",
    "model_release",
    "viral_demo",
)
LAUNCH_KIND = "generation_launch"  # informational event: a new generation can be ordered

EVENT_MAGNITUDE: dict[str, str] = {
    "price_war": "severity: GPU-hour rates fall 15% x magnitude, token prices 25% x magnitude",
    "supply_shock": "severity: allocations fall 50% x magnitude, rates rise 15% x magnitude, +1 quarter lead time",
    "rate_shock": "percentage points added to SOFR (3.0 = +300 bps); spreads widen 25/50 bps per point",
    "power_moratorium": "unused (duration_quarters sets how long builds are frozen)",
    "customer_default": "sub-investment-grade default probability rises by 6 points x magnitude",
    "outage": "grid outage of 24 hours x magnitude in each quarter of the event",
    "model_release": "demand spike of +40% x magnitude at the crest, about 3 days",
    "viral_demo": "demand spike of +60% x magnitude at the crest, about 1.5 days",
}
"""What ``magnitude`` means for each event kind (help text and scenario authors)."""

GRADES = ("AA", "A", "BBB", "BB", "B")
INVESTMENT_GRADES = frozenset({"AA", "A", "BBB"})  # KB §4: IG counterparties tighten spreads
RESIDUAL_AT_3_YEARS = {"bull": 0.40, "base": 0.20, "bear": 0.05}  # KB §3, CALIBRATION 20
_INFERENCE_DEFAULTS = InferenceParams()  # the world's tier floors use the default traffic mix (scenarios tune the company's)
RESERVED_TERMS = (4, 8, 12)  # 1-3 year commitments (KB §1, §2)


class GenerationParams(FileModel):
    """A roadmap entry for one GPU generation (DESIGN.md "The world": GPU generations)."""

    gen: str
    launch: str  # first quarter it can be ordered
    list_price_usd: float = Field(gt=0, le=10_000_000)  # per GPU at launch, server share included (KB §1)
    list_price_decline_per_quarter: float = Field(ge=0, lt=0.5)
    perf: float = Field(gt=0, le=1000)  # value per GPU-hour relative to H100 = 1.0 (price parity)
    allocation_per_quarter: int = Field(ge=0, le=1_000_000)  # GPUs a buyer our size gets per quarter, ramped
    lead_time_quarters: int = Field(ge=1, le=20)

    @field_validator("gen")
    @classmethod
    def _known_gen(cls, v: str) -> str:
        if v not in GPUS:
            raise ValueError(f"unknown GPU {v!r}; valid: {', '.join(GPU_ORDER)}")
        return v

    @field_validator("launch")
    @classmethod
    def _label(cls, v: str) -> str:
        parse_quarter(v)
        return v


DEFAULT_ROADMAP: tuple[GenerationParams, ...] = (
    # launch quarters as shipped; H100 ~$28K (KB §1, §3), B200 $30-40K (KB §1), GB200 ~$45K/GPU
    GenerationParams(gen="a100", launch="2020Q2", list_price_usd=15_000, list_price_decline_per_quarter=0.015,
                     perf=0.45, allocation_per_quarter=512, lead_time_quarters=1),
    GenerationParams(gen="h100", launch="2022Q4", list_price_usd=28_000, list_price_decline_per_quarter=0.015,
                     perf=1.0, allocation_per_quarter=1024, lead_time_quarters=1),
    GenerationParams(gen="h200", launch="2024Q2", list_price_usd=32_000, list_price_decline_per_quarter=0.015,
                     perf=1.3, allocation_per_quarter=768, lead_time_quarters=1),
    GenerationParams(gen="b200", launch="2025Q1", list_price_usd=35_000, list_price_decline_per_quarter=0.02,
                     perf=1.8, allocation_per_quarter=512, lead_time_quarters=1),
    GenerationParams(gen="gb200", launch="2025Q2", list_price_usd=45_000, list_price_decline_per_quarter=0.02,
                     perf=2.3, allocation_per_quarter=288, lead_time_quarters=2),
    # fictional successor so games past 2027 see a new generation arrive
    GenerationParams(gen="x300", launch="2027Q3", list_price_usd=60_000, list_price_decline_per_quarter=0.02,
                     perf=4.5, allocation_per_quarter=576, lead_time_quarters=2),
)


class ScriptedEvent(FileModel):
    """An event the scenario schedules (its [[events]] table)."""

    quarter: str
    kind: str
    magnitude: float = Field(default=1.0, ge=-20, le=20)  # kind-specific, see EVENT_MAGNITUDE
    duration_quarters: int = Field(default=1, ge=1, le=40)

    @field_validator("quarter")
    @classmethod
    def _label(cls, v: str) -> str:
        parse_quarter(v)
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {v!r}; valid: {', '.join(EVENT_KINDS)}")
        return v

    @model_validator(mode="after")
    def _sign(self) -> ScriptedEvent:
        if self.magnitude < 0 and self.kind != "rate_shock":  # only rates can move both ways
            raise ValueError(f"{self.kind} magnitude must be >= 0, got {self.magnitude}")
        return self


class ScriptedOffer(FileModel):
    """A contract offer the scenario schedules (e.g. a 15-year anchor tenant, KB §4)."""

    quarter: str
    customer: str
    gen: str
    gpus: int = Field(gt=0, le=1_000_000)
    term_quarters: int = Field(ge=1, le=80)
    usd_per_gpu_hour: float = Field(gt=0, le=1000)
    grade: str
    segment: str = "enterprise"

    @field_validator("quarter")
    @classmethod
    def _label(cls, v: str) -> str:
        parse_quarter(v)
        return v

    @field_validator("gen")
    @classmethod
    def _known_gen(cls, v: str) -> str:
        if v not in GPUS:
            raise ValueError(f"unknown GPU {v!r}; valid: {', '.join(GPU_ORDER)}")
        return v

    @field_validator("grade")
    @classmethod
    def _grade(cls, v: str) -> str:
        if v not in GRADES:
            raise ValueError(f"unknown credit grade {v!r}; valid: {', '.join(GRADES)}")
        return v


_SEGMENT_LIMITS = {  # issue 10: what a segment of a real market could be (KB §1 sizes are thousands of GPUs)
    "base_gpus": 10_000_000, "elasticity": 50, "weekend_factor": 10, "spike_sensitivity": 50, "contract_gpus": 1_000_000,
}


class WorldParams(FileModel):
    """Everything exogenous a scenario can tune; ``WorldParams()`` is the neocloud-2025 world."""

    segments: tuple[SegmentParams, ...] = DEFAULT_SEGMENTS
    demand_scale: float = Field(default=1.0, gt=0, le=1000)  # multiplies every segment's size: the company's reach
    roadmap: tuple[GenerationParams, ...] = DEFAULT_ROADMAP
    # --- GPU-hour prices (CALIBRATION 21) ---
    scarcity_premium_start: float = Field(default=0.9, ge=-0.5, le=10)  # markup over cost floor at quarter 0
    scarcity_half_life_quarters: float = Field(default=8.0, gt=0, le=400)
    long_run_premium: float = Field(default=0.35, ge=-0.5, le=10)  # on-demand markup once scarcity is gone
    launch_premium: float = Field(default=0.50, ge=0, le=10)  # extra markup of a brand-new generation, fades in 4 quarters
    price_cycle_sd: float = Field(default=0.10, ge=0, le=1)  # AR(1) shock sd, in premium units
    price_cycle_persistence: float = Field(default=0.6, ge=0, lt=1)
    reserved_discount: dict[int, float] = Field(default_factory=lambda: {4: 0.30, 8: 0.40, 12: 0.50})
    spot_discount: float = Field(default=0.70, gt=0, lt=1)  # KB §2: spot 60-80% below on-demand
    # --- cost floor of a GPU-hour (KB §2 margin table, KB §3, KB §8) ---
    gpu_life_years: float = Field(default=4.0, ge=1, le=20)  # straight-line life the market prices in (3-5 years)
    capital_charge_rate: float = Field(default=0.12, ge=0, le=1)  # KB §3: 12% WACC at today's SOFR
    server_kw_per_gpu_kw: float = Field(default=1.4, ge=1, le=5)  # CPUs, NICs, fans on top of GPU TDP
    market_pue: float = Field(default=1.3, ge=1, le=3)
    ops_usd_per_gpu_hour: float = Field(default=0.20, ge=0, le=100)  # KB §2: networking ~$0.10 + ops ~$0.10
    cash_ops_usd_per_gpu_hour: float = Field(default=0.10, ge=0, le=100)  # out-of-pocket ops in the cash floor
    # --- secondary market (KB §3, CALIBRATION 20) ---
    residual_case: Literal["bull", "base", "bear"] = "base"
    normal_successor_gap_quarters: int = Field(default=9, ge=1, le=40)  # a new architecture every ~2 years
    # --- tokens (KB §1, CALIBRATION 22, 23) ---
    token_price_start: dict[str, float] = Field(
        default_factory=lambda: {"8b-class": 0.20, "70b-class": 0.90, "405b-class": 3.00}
    )  # $/M tokens for the capability of today's 8B, 70B and 405B models at quarter 0
    token_tier_models: dict[str, str] = Field(
        default_factory=lambda: {"8b-class": "llama-3.1-8b", "70b-class": "llama-3.1-70b", "405b-class": "llama-3.1-405b"}
    )  # the catalog model that delivers each tier: its efficient full cost floors the tier's price
    token_deflation_per_year: float = Field(default=10.0, ge=1, le=1000)
    # --- power and space (KB §1, §8; CALIBRATION 12) ---
    grid_usd_per_kwh: float = Field(default=0.09, gt=0, le=10)
    grid_price_sd: float = Field(default=0.06, ge=0, le=0.3)  # relative quarterly wobble
    stranded_gas_usd_per_kwh: float = Field(default=0.03, gt=0, le=10)
    ppa_usd_per_kwh: float = Field(default=0.05, gt=0, le=10)
    colo_usd_per_kw_month: float = Field(default=180.0, gt=0, le=10_000)  # AI-optimized colo, all-in incl. power
    # --- macro (KB §4, §5, §18) ---
    sofr_start: float = Field(default=0.043, ge=0, le=0.5)
    sofr_sd_per_quarter: float = Field(default=0.0025, ge=0, le=0.05)
    sofr_mean_reversion: float = Field(default=0.05, ge=0, le=1)
    spread_ig_bps: float = Field(default=250, ge=0, le=5000)
    spread_sub_ig_bps: float = Field(default=400, ge=0, le=5000)
    infra_revenue_multiple: float = Field(default=6.0, gt=0, le=200)
    software_revenue_multiple: float = Field(default=17.0, gt=0, le=200)
    mood_sd: float = Field(default=0.06, ge=0, le=1)  # equity-market mood shock sd (log multiple)
    mood_persistence: float = Field(default=0.7, ge=0, lt=1)
    sub_ig_default_prob: float = Field(default=0.01, ge=0, le=1)  # per quarter
    # --- offers, events, spikes ---
    offers_per_quarter: float = Field(default=3.0, ge=0, le=50)  # a Poisson mean: 10^7 hung the world build
    # what an efficient owner needs over its full cost to sign a term (KB §2: $2.20 on $1.33-1.64, 34-40%
    # before the capital charge); longer terms give part back as a deflation discount (KB §1 "swap")
    contract_margin_over_cost: dict[int, float] = Field(default_factory=lambda: {4: 0.30, 8: 0.22, 12: 0.15})
    random_event_rate: float = Field(default=0.25, ge=0, le=1)
    events: tuple[ScriptedEvent, ...] = ()
    scripted_offers: tuple[ScriptedOffer, ...] = ()
    spikes_per_quarter: float = Field(default=1.5, ge=0, le=50)

    @model_validator(mode="after")
    def _consistent(self) -> WorldParams:
        seg_ids = [s.id for s in self.segments]
        if not seg_ids or len(set(seg_ids)) != len(seg_ids):
            raise ValueError(f"segments need unique ids, got {seg_ids}")
        gens = [g.gen for g in self.roadmap]
        if not gens or len(set(gens)) != len(gens):
            raise ValueError(f"roadmap needs one entry per GPU generation, got {gens}")
        if set(self.reserved_discount) != set(RESERVED_TERMS):
            raise ValueError(f"reserved_discount needs terms {RESERVED_TERMS}, got {sorted(self.reserved_discount)}")
        for term, d in self.reserved_discount.items():
            if not 0 < d < 1:
                raise ValueError(f"reserved_discount[{term}] = {d} must be between 0 and 1")
        if set(self.contract_margin_over_cost) != set(self.reserved_discount):
            raise ValueError(f"contract_margin_over_cost needs the reserved terms {sorted(self.reserved_discount)}")
        if set(self.token_tier_models) != set(self.token_price_start):
            raise ValueError(f"token_tier_models needs the tiers {sorted(self.token_price_start)}, got {sorted(self.token_tier_models)}")
        for tier, model in self.token_tier_models.items():
            if model not in MODELS:
                raise ValueError(f"token_tier_models[{tier!r}] = {model!r} is not a catalog model; valid: {', '.join(MODELS)}")
        for seg in self.segments:  # SegmentParams lives in engine.demand: its file bounds are checked here
            for name, limit in _SEGMENT_LIMITS.items():
                value = getattr(seg, name)
                if not (math.isfinite(value) and value <= limit):
                    raise ValueError(f"segment {seg.id!r}: {name} = {value} must be a finite number at most {limit:g}")
        for tier, price in self.token_price_start.items():
            if not price > 0:
                raise ValueError(f"token_price_start[{tier!r}] = {price} must be positive")
        for o in self.scripted_offers:
            if o.gen not in gens:
                raise ValueError(f"scripted offer to {o.customer!r} is for {o.gen!r}, not on the roadmap {gens}")
            if o.segment not in seg_ids:
                raise ValueError(f"scripted offer to {o.customer!r}: unknown segment {o.segment!r}; valid: {seg_ids}")
        return self


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class GpuMarket:
    """One generation's market in one quarter (CALIBRATION 21; KB §1-§3)."""

    gen: str
    available: bool
    list_price_usd: float
    on_demand_usd_per_hour: float
    reserved_usd_per_hour: dict[int, float]
    spot_usd_per_hour: float
    lease_usd_per_hour: float
    secondary_usd: float
    allocation_limit: int
    lead_time_quarters: int
    demand_mix: float
    cost_floor_usd_per_hour: float  # owning cost of a new one at today's list price
    cash_floor_usd_per_hour: float  # power + ops: nobody rents below this


@dataclass(frozen=True)
class ContractOffer:
    """A reserved-capacity contract a customer offers us this quarter (KB §2, §4)."""

    id: str
    quarter: int
    customer: str
    segment: str
    gen: str
    gpus: int
    term_quarters: int
    usd_per_gpu_hour: float
    grade: str

    @property
    def investment_grade(self) -> bool:
        """AA/A/BBB: such revenue earns SOFR + ~250 bps instead of ~400 (KB §4)."""
        return self.grade in INVESTMENT_GRADES


@dataclass(frozen=True)
class WorldEvent:
    quarter: int
    kind: str
    title: str
    text: str
    magnitude: float


@dataclass(frozen=True)
class WorldQuarter:
    index: int
    label: str
    gpus: dict[str, GpuMarket]
    token_usd_per_m: dict[str, float]
    token_price_war_mult: float  # 1.0, or below during a price war (applies to per-model token prices too)
    electricity_usd_per_kwh: dict[str, float]
    colo_usd_per_kw_month: float
    sofr: float
    spread_ig_bps: float
    spread_sub_ig_bps: float
    infra_revenue_multiple: float
    software_revenue_multiple: float
    build_moratorium: bool
    sub_ig_default_prob: float
    grid_outage_hours: int
    outage_start_tick: int
    spot_take_rate: float
    offers: tuple[ContractOffer, ...]
    events: tuple[WorldEvent, ...]
    spikes: tuple[Spike, ...]


# ----------------------------------------------------------------------------- small formulas


def abs_quarter(label: str) -> int:
    """A quarter label as a count of quarters since year 0 (for ages and launches)."""
    year, q = parse_quarter(label)
    return year * 4 + q - 1


def list_price(gen: GenerationParams, age_quarters: int) -> float:
    """Purchase price per GPU ``age_quarters`` after launch (flat before launch)."""
    return gen.list_price_usd * (1.0 - gen.list_price_decline_per_quarter) ** max(0, age_quarters)


def ramp(age_quarters: int) -> float:
    """How far a generation has ramped: 0 before launch, 1/4 at launch, full after 4 quarters."""
    if age_quarters < 0:
        return 0.0
    return min(1.0, (age_quarters + 1) / 4.0)


def cost_floor_per_hour(
    price_usd: float, tdp_w: float, p: WorldParams, capital_rate: float, colo_usd_per_kw_month: float
) -> float:
    """Owning cost per GPU-hour of a new GPU (KB §2 table, KB §3 "Cost of Capital", KB §8).

    straight-line amortization + capital charge on the price + data-center (colo $/kW/month,
    all-in incl. power, on the server's kW) + networking/ops. H100 at $28K, 4 years, 12%:
    $0.80 + $0.38 + $0.24 + $0.20 ~ $1.62/h.
    This is "an efficient new owner's full cost": contract offers never go below it (issue 9, item 5).
    """
    kw = tdp_w * p.server_kw_per_gpu_kw / 1000.0
    data_center = colo_usd_per_kw_month * kw / HOURS_PER_MONTH  # colo bundles power (KB §8), so watts=0 below
    return owned_gpu_hourly_cost(
        price_usd, p.gpu_life_years, 0.0, 0.0, wacc=capital_rate, other_hourly=data_center + p.ops_usd_per_gpu_hour
    )


def contract_offer_price(m: GpuMarket, term_quarters: int, margin_over_cost: float, haggle: float = 1.0) -> float:
    """$/GPU-hour a customer offers for a term (issue 9 item 5; KB §1 "Reserved Contract Economics").

    The larger of the forward curve (the market's reserved rate for the term, deflation priced in)
    and what an efficient new owner of the generation needs (full cost x (1 + margin)), times the
    customer's haggle (credit, noise); never below that owner's full cost (``cost_floor_per_hour``).
    """
    need = m.cost_floor_usd_per_hour * (1.0 + margin_over_cost)
    return max(m.cost_floor_usd_per_hour, m.cash_floor_usd_per_hour, max(need, m.reserved_usd_per_hour[term_quarters]) * haggle)


def cash_floor_per_hour(tdp_w: float, p: WorldParams, grid_usd_per_kwh: float) -> float:
    """Power at the wall (PUE included) plus out-of-pocket ops: below this nobody rents (KB §1, §3)."""
    kw = tdp_w * p.server_kw_per_gpu_kw / 1000.0
    return kw * p.market_pue * grid_usd_per_kwh + p.cash_ops_usd_per_gpu_hour


def premium_trend(p: WorldParams, q: int) -> float:
    """Scarcity premium trend: decays from the start value toward the long-run markup (KB §19)."""
    decay = 0.5 ** (q / p.scarcity_half_life_quarters)
    return p.long_run_premium + (p.scarcity_premium_start - p.long_run_premium) * decay


def residual_fraction(case: str, effective_age_quarters: float) -> float:
    """Share of launch price a used GPU fetches: hits 40/20/5% at 3 years (KB §3, CALIBRATION 20)."""
    r = RESIDUAL_AT_3_YEARS[case]
    return max(0.01, r ** (max(0.0, effective_age_quarters) / 12.0))  # 1%: scrap value


def token_price(start_usd_per_m: float, deflation_per_year: float, q: int) -> float:
    """$/M tokens at constant quality: start x deflation^(-q/4) (KB §1, CALIBRATION 22)."""
    return start_usd_per_m * deflation_per_year ** (-q / 4.0)


def tier_token_price(start_usd_per_m: float, deflation_per_year: float, q: int, floor_usd_per_m: float) -> float:
    """$/M tokens of a capability tier: ~10x a year cheaper (CALIBRATION 22) until it meets the full
    cost of an efficient competitor serving the tier's model (issue 9 item 8): no series goes to zero."""
    return max(token_price(start_usd_per_m, deflation_per_year, q), floor_usd_per_m)


# ----------------------------------------------------------------------------- events


@dataclass(frozen=True)
class _RawEvent:
    start: int
    order: int  # position among the events starting that quarter
    kind: str
    magnitude: float
    duration: int


@dataclass
class _Effects:
    """World-level effects of the events active in one quarter (multipliers and additions)."""

    gpu_price_mult: float = 1.0
    token_price_mult: float = 1.0
    allocation_mult: float = 1.0
    extra_lead: int = 0
    sofr_shock: float = 0.0  # added this quarter only (the walk then carries it)
    spread_ig_add: float = 0.0
    spread_sub_ig_add: float = 0.0
    mood_add: float = 0.0
    moratorium: bool = False
    default_prob_add: float = 0.0
    spot_take_add: float = 0.0


_RANDOM_EVENTS: tuple[tuple[str, float, float, float, int, int], ...] = (
    # kind, weight, magnitude lo, hi, duration lo, hi (inclusive)
    ("price_war", 0.20, 0.6, 1.4, 1, 3),
    ("supply_shock", 0.14, 0.6, 1.4, 1, 2),
    ("rate_shock", 0.12, 0.5, 2.0, 4, 4),
    ("power_moratorium", 0.10, 1.0, 1.0, 2, 4),
    ("customer_default", 0.14, 0.5, 1.5, 1, 2),
    ("outage", 0.10, 0.5, 3.0, 1, 1),
    ("model_release", 0.12, 0.7, 1.5, 1, 1),
    ("viral_demo", 0.08, 0.7, 1.5, 1, 1),
)


def _uniforms(rng: np.random.Generator, n: int) -> list[float]:
    """``n`` uniform draws as Python floats (no numpy scalars leak into the world's outputs)."""
    return [float(x) for x in rng.random(n)]


def _normals(rng: np.random.Generator, n: int) -> list[float]:
    return [float(x) for x in rng.standard_normal(n)]


def _random_event(seed: int, q: int, rate: float) -> _RawEvent | None:
    """At most one random event per quarter, drawn from the quarter's "events" stream."""
    rng = stream(seed, "events", q)
    u, pick, mag_u, dur_u = _uniforms(rng, 4)
    if u >= rate:
        return None
    total = math.fsum(e[1] for e in _RANDOM_EVENTS)
    acc = 0.0
    chosen = _RANDOM_EVENTS[-1]
    for e in _RANDOM_EVENTS:
        acc += e[1] / total
        if pick < acc:
            chosen = e
            break
    kind, _, lo, hi, dlo, dhi = chosen
    magnitude = round(lo + (hi - lo) * mag_u, 2)
    duration = dlo + min(dhi - dlo, int(dur_u * (dhi - dlo + 1)))
    return _RawEvent(q, 0, kind, magnitude, duration)


def _apply(eff: _Effects, ev: _RawEvent, first_quarter: bool) -> None:
    """Fold one active event into a quarter's effects (magnitudes: see EVENT_MAGNITUDE)."""
    m = ev.magnitude
    if ev.kind == "price_war":
        eff.gpu_price_mult *= max(0.3, 1.0 - 0.15 * m)
        eff.token_price_mult *= max(0.2, 1.0 - 0.25 * m)
        eff.spot_take_add -= 0.1
    elif ev.kind == "supply_shock":
        eff.allocation_mult *= max(0.1, 1.0 - 0.5 * m)
        eff.gpu_price_mult *= 1.0 + 0.15 * m
        eff.extra_lead = max(eff.extra_lead, 1)
        eff.spot_take_add += 0.1
    elif ev.kind == "rate_shock":
        if first_quarter:
            eff.sofr_shock += m / 100.0
        eff.spread_ig_add += 25.0 * max(0.0, m)
        eff.spread_sub_ig_add += 50.0 * max(0.0, m)
        eff.mood_add -= 0.05 * max(0.0, m)
    elif ev.kind == "power_moratorium":
        eff.moratorium = True
    elif ev.kind == "customer_default":
        eff.default_prob_add += 0.06 * max(0.0, m)
        eff.spread_sub_ig_add += 50.0 * max(0.0, m)
    # outage, model_release and viral_demo act through outage hours and spikes


def spot_take_rate(cycle: float, event_add: float, noise: float = 0.0) -> float:
    """Share of idle GPU-hours spot buyers take: higher when the price cycle runs hot, moved by events
    and a quarter's own wobble (``noise``, a standard normal draw; 0 at expected values), kept in 30-80%."""
    return max(0.3, min(0.8, 0.55 + 1.0 * cycle + 0.08 * noise + event_add))


# ----------------------------------------------------------------------------- the world


_NAME_HEADS = (
    "Northwind", "Bluefin", "Lattice", "Cobalt", "Meridian", "Quarry", "Halcyon", "Tessera",
    "Juniper", "Vantage", "Orchid", "Granite", "Kestrel", "Lumen", "Parallax", "Sable",
    "Tidewater", "Vireo", "Wren", "Zephyr", "Alder", "Brightline", "Cirrus", "Driftwood",
)
_NAME_TAILS = {
    "hobbyist": ("Studio", "Collective", "Games", "Makers"),
    "startup": ("AI", "Labs", "Robotics", "Health AI", "Agents", "Voice"),
    "enterprise": ("Bank", "Insurance", "Logistics", "Pharma", "Retail Group", "Telecom"),
    "batch": ("Genomics", "Analytics", "Research", "Media", "Data"),
}
_IG_GRADES = (("AA", 0.2), ("A", 0.4), ("BBB", 0.4))
_SUB_IG_GRADES = (("BB", 0.55), ("B", 0.45))


def _weighted(u: float, items: tuple[tuple[str, float], ...]) -> str:
    """Pick from (item, weight) pairs with one uniform draw (stable, no numpy choice)."""
    total = math.fsum(w for _, w in items)
    acc = 0.0
    for item, w in items:
        acc += w / total
        if u < acc:
            return item
    return items[-1][0]


class World:
    """The exogenous world of one game: scalar paths walked up front, quarters and ticks on demand."""

    __slots__ = (
        "params", "seed", "start", "n_quarters", "horizon", "_start_abs", "_gens", "_launch",
        "_successor", "_arch_start", "_events", "_effects", "_premium", "_sofr", "_mood", "_grid",
        "_spot_take", "_level_shocks", "_quarters", "_demand",
    )

    def __init__(self, params: WorldParams, seed: int, start: str, n_quarters: int) -> None:
        if n_quarters < 1:
            raise ValueError(f"a game needs at least one quarter, got n_quarters={n_quarters}")
        self.params = params
        self.seed = seed
        self.start = start
        self.n_quarters = n_quarters
        self.horizon = n_quarters + 12  # callers may look 3 years ahead
        self._start_abs = abs_quarter(start)
        # roadmap in launch order (ties in GPU_ORDER): "newer" means later in this list
        self._gens = sorted(params.roadmap, key=lambda g: (abs_quarter(g.launch), GPU_ORDER.index(g.gen)))
        self._launch = {g.gen: abs_quarter(g.launch) for g in self._gens}
        if not any(la <= self._start_abs for la in self._launch.values()):
            raise ValueError(f"no GPU generation on the roadmap has launched by {start}")
        self._successor = self._next_architecture()
        self._arch_start = {  # first launch of each generation's architecture (H200 runs on Hopper's clock)
            g.gen: min(self._launch[n.gen] for n in self._gens if GPUS[n.gen].arch == GPUS[g.gen].arch)
            for g in self._gens
        }
        self._events = self._draw_events()
        self._effects = self._fold_effects()
        self._walk_paths()
        self._quarters: dict[int, WorldQuarter] = {}
        self._demand: dict[int, DemandArrays] = {}

    # ---- construction helpers (all quarters, cheap scalars) ----

    def _next_architecture(self) -> dict[str, int | None]:
        """Launch of the first generation of a newer architecture, per generation (obsolescence)."""
        arch_rank = {a: i for i, a in enumerate(dict.fromkeys(GPUS[g].arch for g in GPU_ORDER))}
        out: dict[str, int | None] = {}
        for g in self._gens:
            later = [
                self._launch[n.gen] for n in self._gens
                if arch_rank[GPUS[n.gen].arch] > arch_rank[GPUS[g.gen].arch]
                and self._launch[n.gen] > self._launch[g.gen]
            ]
            out[g.gen] = min(later) if later else None
        return out

    def _draw_events(self) -> list[list[_RawEvent]]:
        """Scripted events then the random one, per start quarter (keyed "events" streams)."""
        by_q: list[list[_RawEvent]] = [[] for _ in range(self.horizon)]
        for ev in self.params.events:
            q = abs_quarter(ev.quarter) - self._start_abs
            if 0 <= q < self.horizon:
                by_q[q].append(_RawEvent(q, len(by_q[q]), ev.kind, ev.magnitude, ev.duration_quarters))
        for q in range(1, self.horizon):  # quarter 0 is the scenario's briefing: no surprise
            ev = _random_event(self.seed, q, self.params.random_event_rate)
            if ev is not None:
                by_q[q].append(_RawEvent(q, len(by_q[q]), ev.kind, ev.magnitude, ev.duration))
        return by_q

    def _active(self, q: int) -> list[_RawEvent]:
        return [ev for s in range(q + 1) for ev in self._events[s] if s + ev.duration > q]

    def _fold_effects(self) -> list[_Effects]:
        effects = []
        for q in range(self.horizon):
            eff = _Effects()
            for ev in self._active(q):
                _apply(eff, ev, first_quarter=(ev.start == q))
            effects.append(eff)
        return effects

    def _walk_paths(self) -> None:
        """Price cycle, SOFR, equity mood, grid price and spot take rate for every quarter."""
        p = self.params
        self._premium, self._sofr, self._mood = [], [], []
        self._grid, self._spot_take, self._level_shocks = [], [], []
        cycle = 0.0
        sofr = p.sofr_start
        mood = 0.0
        for q in range(self.horizon):
            eff = self._effects[q]
            prices = stream(self.seed, "prices", q)
            e_cycle, e_grid, e_take = _normals(prices, 3)
            macro = stream(self.seed, "macro", q)
            e_sofr, e_mood = _normals(macro, 2)
            if q > 0:  # quarter 0 is the scenario's stated market
                cycle = p.price_cycle_persistence * cycle + p.price_cycle_sd * e_cycle
                sofr = sofr + p.sofr_mean_reversion * (p.sofr_start - sofr) + p.sofr_sd_per_quarter * e_sofr
                mood = p.mood_persistence * mood + p.mood_sd * e_mood
            sofr = max(0.0025, sofr + eff.sofr_shock)  # a shock moves the level; the walk carries it on
            self._premium.append(max(-0.25, premium_trend(p, q) + cycle))
            self._sofr.append(sofr)
            self._mood.append(mood + eff.mood_add)
            grid_wobble = max(0.6, min(1.6, 1.0 + p.grid_price_sd * e_grid))
            self._grid.append(p.grid_usd_per_kwh * grid_wobble if q > 0 else p.grid_usd_per_kwh)
            self._spot_take.append(spot_take_rate(cycle, eff.spot_take_add, e_take))
            demand = [
                level_shock(float(stream(self.seed, "demand", q, i, 0).standard_normal()))
                for i in range(len(p.segments))
            ]
            self._level_shocks.append(demand)

    # ---- public API ----

    def label(self, q: int) -> str:
        return quarter_label(self.start, q)

    def _check(self, q: int) -> None:
        if not 0 <= q < self.horizon:
            raise IndexError(f"quarter {q} is outside this world (0..{self.horizon - 1})")

    def quarter(self, q: int) -> WorldQuarter:
        """The world in quarter ``q`` (0 <= q < n_quarters + 12), built once and cached."""
        self._check(q)
        if q not in self._quarters:
            self._quarters[q] = self._build_quarter(q)
        return self._quarters[q]

    def demand(self, q: int) -> DemandArrays:
        """Quarter ``q``'s demand tick by tick (KB §1 segments), built once and cached."""
        self._check(q)
        if q not in self._demand:
            self._demand[q] = self._build_demand(q)
        return self._demand[q]

    def segment_level(self, q: int, segment_id: str) -> float:
        """Mean concurrent GPUs a segment demands at market price in quarter ``q``."""
        for i, seg in enumerate(self.params.segments):
            if seg.id == segment_id:
                return segment_level(seg, q, self._level_shocks[q][i]) * self.params.demand_scale
        raise KeyError(f"unknown segment {segment_id!r}")

    # ---- one quarter ----

    def _markets(self, q: int) -> dict[str, GpuMarket]:
        p = self.params
        eff = self._effects[q]
        now = self._start_abs + q
        capital_rate = max(0.0, p.capital_charge_rate + self._sofr[q] - p.sofr_start)  # dearer money, dearer GPUs
        premium = self._premium[q]
        grid = self._grid[q]
        ages = {g.gen: now - self._launch[g.gen] for g in self._gens}
        floors, cash, own = {}, {}, {}
        for g in self._gens:
            spec = GPUS[g.gen]
            age = ages[g.gen]
            floors[g.gen] = cost_floor_per_hour(
                list_price(g, age), spec.tdp_w, p, capital_rate, p.colo_usd_per_kw_month
            )
            cash[g.gen] = cash_floor_per_hour(spec.tdp_w, p, grid)
            launch_extra = p.launch_premium * (1.0 - ramp(age)) if age >= 0 else p.launch_premium
            own[g.gen] = floors[g.gen] * (1.0 + premium + launch_extra)
        # newest first: each launched newer generation caps the older at price parity (by perf)
        rate: dict[str, float] = {}
        perf = {g.gen: g.perf for g in self._gens}
        for i in range(len(self._gens) - 1, -1, -1):
            g = self._gens[i].gen
            r = own[g]
            for n in self._gens[i + 1:]:
                if ages[n.gen] < 0:
                    continue
                cap = perf[g] * rate[n.gen] / perf[n.gen]
                if cap < r:
                    r -= ramp(ages[n.gen]) * (r - cap)
            rate[g] = max(cash[g], r)
        mix = self._demand_mix(ages, now)
        out: dict[str, GpuMarket] = {}
        for gen_id in GPU_ORDER:
            if gen_id not in self._launch:
                continue
            g = next(x for x in self._gens if x.gen == gen_id)
            age = ages[gen_id]
            od = max(cash[gen_id], rate[gen_id] * eff.gpu_price_mult)
            reserved = {t: round(max(cash[gen_id], od * (1.0 - p.reserved_discount[t])), 4) for t in RESERVED_TERMS}
            spot = max(cash[gen_id], od * (1.0 - p.spot_discount))
            available = age >= 0
            alloc = 0
            if available:
                alloc = int(g.allocation_per_quarter * ramp(age) * eff.allocation_mult) // 8 * 8
            lead = g.lead_time_quarters + (1 if 0 <= age < 2 else 0) + eff.extra_lead  # launch queues
            out[gen_id] = GpuMarket(
                gen=gen_id,
                available=available,
                list_price_usd=round(list_price(g, age), 2),
                on_demand_usd_per_hour=round(od, 4),
                reserved_usd_per_hour=reserved,
                spot_usd_per_hour=round(spot, 4),
                lease_usd_per_hour=reserved[4],  # a 1-year take-or-pay lease is a 1-year reservation
                secondary_usd=round(self._secondary(g, age, now), 2),
                allocation_limit=alloc,
                lead_time_quarters=lead,
                demand_mix=mix[gen_id],
                cost_floor_usd_per_hour=round(floors[gen_id], 4),
                cash_floor_usd_per_hour=round(cash[gen_id], 4),
            )
        return out

    def _secondary(self, g: GenerationParams, age: int, now: int) -> float:
        """Used-GPU price (KB §3): residual curve, aged faster by an early newer architecture."""
        eff_age = float(max(0, age))
        succ = self._successor[g.gen]
        if succ is not None and now >= succ:
            gap = succ - self._arch_start[g.gen]  # architecture to architecture, ~2 years normally
            early = max(0, self.params.normal_successor_gap_quarters - gap)
            eff_age += early * ramp(now - succ)  # an early successor strands the older chip sooner
        value = g.list_price_usd * residual_fraction(self.params.residual_case, eff_age)
        return min(value, list_price(g, age))  # never above a new one

    def _demand_mix(self, ages: dict[str, int], now: int) -> dict[str, float]:
        """Share of GPU-hour demand per generation: adoption ramps over 2 years, fades after a newer architecture."""
        raw: dict[str, float] = {}
        for g in self._gens:
            age = ages[g.gen]
            if age < 0:
                raw[g.gen] = 0.0
                continue
            adoption = min(1.0, (age + 1) / 8.0)
            succ = self._successor[g.gen]
            fade = 0.5 ** (max(0, now - succ + 1) / 6.0) if succ is not None and now >= succ else 1.0
            raw[g.gen] = adoption * fade
        total = math.fsum(raw.values())
        return {gen: (w / total if total > 0 else 0.0) for gen, w in raw.items()}

    def _offers(self, q: int, gpus: dict[str, GpuMarket]) -> tuple[ContractOffer, ...]:
        """Random offers (Poisson count, KB §2 contract terms) plus the scenario's scripted ones."""
        p = self.params
        label = self.label(q)
        offers: list[ContractOffer] = []
        for k, so in enumerate(o for o in p.scripted_offers if abs_quarter(o.quarter) - self._start_abs == q):
            offers.append(ContractOffer(
                id=f"S{label}-{k + 1}", quarter=q, customer=so.customer, segment=so.segment, gen=so.gen,
                gpus=so.gpus, term_quarters=so.term_quarters, usd_per_gpu_hour=so.usd_per_gpu_hour, grade=so.grade,
            ))
        rng = stream(self.seed, "offers", q)
        count = int(rng.poisson(p.offers_per_quarter))
        seg_weights = tuple(
            (s.id, self.segment_level(q, s.id) * s.contract_appetite) for s in p.segments
        )
        gen_weights = tuple((m.gen, m.demand_mix) for m in gpus.values() if m.available and m.demand_mix > 0)
        if not any(w > 0 for _, w in seg_weights) or not gen_weights:
            return tuple(offers)
        segs = {s.id: s for s in p.segments}
        for k in range(count):
            u_seg, u_gen, u_term, u_grade, u_sub, u_head, u_tail = _uniforms(rng, 7)
            z_size, z_price = _normals(rng, 2)
            seg = segs[_weighted(u_seg, seg_weights)]
            gen = _weighted(u_gen, gen_weights)
            a = seg.contract_appetite
            term = int(_weighted(u_term, (("4", 1.0), ("8", 0.5 + a), ("12", 2.0 * a))))
            ig = u_grade < seg.investment_grade_share
            grade = _weighted(u_sub, _IG_GRADES if ig else _SUB_IG_GRADES)
            size = max(8, int(round(seg.contract_gpus / 8 * math.exp(0.5 * max(-2.5, min(2.5, z_size))))) * 8)
            m = gpus[gen]
            noise = 1.0 + max(-0.12, min(0.12, 0.05 * z_price))
            credit = 0.97 if ig else 1.03  # strong credits negotiate harder; weak ones pay up
            price = contract_offer_price(m, term, p.contract_margin_over_cost[term], noise * credit)
            tails = _NAME_TAILS.get(seg.id, ("Inc",))
            name = f"{_NAME_HEADS[int(u_head * len(_NAME_HEADS))]} {tails[int(u_tail * len(tails))]}"
            offers.append(ContractOffer(
                id=f"C{label}-{k + 1}", quarter=q, customer=name, segment=seg.id, gen=gen, gpus=size,
                term_quarters=term, usd_per_gpu_hour=math.ceil(price * 100 - 1e-9) / 100, grade=grade,  # up to the cent: never under the floor
            ))
        return tuple(offers)

    def _spikes(self, q: int) -> tuple[Spike, ...]:
        """Background spikes (Poisson) plus those of active model-release / viral-demo events (KB §2)."""
        rng = stream(self.seed, "spikes", q)
        spikes = []
        for _ in range(int(rng.poisson(self.params.spikes_per_quarter))):
            u_start, u_dur, u_mag, u_cause = _uniforms(rng, 4)
            spikes.append(Spike(
                start_tick=int(u_start * TICKS_PER_QUARTER),
                duration_ticks=12 + int(u_dur * 61),
                magnitude=round(0.15 + 0.35 * u_mag, 3),
                cause="model release" if u_cause < 0.5 else "viral demo",
            ))
        for ev in self._active(q):
            if ev.kind not in ("model_release", "viral_demo"):
                continue
            u_start, = _uniforms(stream(self.seed, "spikes", q, 1, ev.start, ev.order), 1)
            peak, hours = (0.4, 72) if ev.kind == "model_release" else (0.6, 36)
            spikes.append(Spike(
                start_tick=int(u_start * (TICKS_PER_QUARTER - hours)),
                duration_ticks=hours,
                magnitude=round(max(0.0, peak * ev.magnitude), 3),
                cause=ev.kind.replace("_", " "),
            ))
        return tuple(spikes)

    def _outage(self, q: int) -> tuple[int, int]:
        hours, start = 0, 0
        for ev in self._active(q):
            if ev.kind != "outage":
                continue
            h = max(1, int(round(24 * ev.magnitude)))
            u, = _uniforms(stream(self.seed, "events", q, 2, ev.start, ev.order), 1)
            if hours == 0:
                start = int(u * (TICKS_PER_QUARTER - min(h, TICKS_PER_QUARTER - 1)))
            hours += h
        return min(hours, TICKS_PER_QUARTER - start), start

    def _event_text(self, q: int, ev: _RawEvent) -> WorldEvent:
        """Headline and one or two plain sentences with the number (DESIGN.md "Events")."""
        m = ev.magnitude
        d = ev.duration
        span = "this quarter" if d == 1 else f"for {d} quarters"
        if ev.kind == "price_war":
            title = "Price war on GPU-hours"
            text = (f"A well-funded rival slashes prices: market GPU-hour rates fall {15 * m:.0f}% and "
                    f"token prices {25 * m:.0f}% {span}. Uncontracted capacity feels it first.")
        elif ev.kind == "supply_shock":
            title = "GPU supply shock"
            text = (f"A packaging bottleneck cuts GPU allocations by {min(90, 50 * m):.0f}% and adds a quarter "
                    f"to delivery times; rental rates rise {15 * m:.0f}% {span}.")
        elif ev.kind == "rate_shock":
            if m >= 0:
                title = "Rate shock"
                text = (f"SOFR jumps {m:.2f} points to {100 * self._sofr[q]:.1f}%: floating-rate debt costs more "
                        f"from this quarter. Credit spreads widen by {25 * m:.0f}-{50 * m:.0f} bps {span}.")
            else:
                title = "Rate cut"
                text = (f"SOFR falls {-m:.2f} points to {100 * self._sofr[q]:.1f}%: floating-rate debt "
                        "costs less from this quarter.")
        elif ev.kind == "power_moratorium":
            title = "Power moratorium"
            text = (f"Regulators pause new grid interconnections {span}: data-center builds in permitting "
                    "or interconnection cannot progress until it lifts.")
        elif ev.kind == "customer_default":
            prob = self.params.sub_ig_default_prob + 0.06 * m
            title = "Credit stress among AI startups"
            text = (f"Sub-investment-grade customers now default with a {100 * prob:.0f}% chance per quarter "
                    f"(normally {100 * self.params.sub_ig_default_prob:.0f}%) {span}; lenders widen their spreads.")
        elif ev.kind == "outage":
            title = "Grid outage"
            text = (f"A storm takes the grid down for {max(1, round(24 * m))} hours: grid-powered sites "
                    "go dark, and their customers' SLAs with them.")
        elif ev.kind == "model_release":
            title = "Frontier model release"
            text = (f"A major open-weights model drops: demand jumps up to {40 * m:.0f}% across every "
                    "customer segment at once for about three days.")
        else:  # viral_demo
            title = "Viral AI demo"
            text = (f"A demo goes viral: demand jumps up to {60 * m:.0f}% across every customer segment "
                    "at once for about a day and a half.")
        return WorldEvent(quarter=q, kind=ev.kind, title=title, text=text, magnitude=m)

    def _launch_events(self, q: int, gpus: dict[str, GpuMarket]) -> list[WorldEvent]:
        now = self._start_abs + q
        out = []
        for g in self._gens:
            if self._launch[g.gen] != now:
                continue
            m = gpus[g.gen]
            name = GPUS[g.gen].name.replace(" (per GPU)", "")
            out.append(WorldEvent(
                quarter=q, kind=LAUNCH_KIND, title=f"{name} available to order",
                text=(f"The {name} launches at ${m.list_price_usd:,.0f} per GPU, about {g.perf:.1f}x an H100's "
                      f"value per hour; allocation starts tight at {m.allocation_limit:,} GPUs this quarter, "
                      f"delivered in {m.lead_time_quarters} quarters."),
                magnitude=g.perf,
            ))
        return out

    def _build_quarter(self, q: int) -> WorldQuarter:
        p = self.params
        eff = self._effects[q]
        gpus = self._markets(q)
        tokens = {
            tier: tier_token_price(price, p.token_deflation_per_year, q, competitor_cost_per_m_output(gpus, _INFERENCE_DEFAULTS, p.token_tier_models[tier]))
            * eff.token_price_mult
            for tier, price in p.token_price_start.items()
        }
        mult_mood = max(0.6, min(1.5, math.exp(self._mood[q])))
        hours, start = self._outage(q)
        events = self._launch_events(q, gpus) + [self._event_text(q, ev) for ev in self._events[q]]
        return WorldQuarter(
            index=q,
            label=self.label(q),
            gpus=gpus,
            token_usd_per_m=tokens,
            token_price_war_mult=eff.token_price_mult,
            electricity_usd_per_kwh={
                "grid": round(self._grid[q], 5),
                "stranded-gas": p.stranded_gas_usd_per_kwh,
                "ppa": p.ppa_usd_per_kwh,
            },
            colo_usd_per_kw_month=p.colo_usd_per_kw_month,
            sofr=round(self._sofr[q], 6),
            spread_ig_bps=p.spread_ig_bps + eff.spread_ig_add,
            spread_sub_ig_bps=p.spread_sub_ig_bps + eff.spread_sub_ig_add,
            infra_revenue_multiple=round(p.infra_revenue_multiple * mult_mood, 3),
            software_revenue_multiple=round(p.software_revenue_multiple * mult_mood, 3),
            build_moratorium=eff.moratorium,
            sub_ig_default_prob=min(1.0, p.sub_ig_default_prob + eff.default_prob_add),
            grid_outage_hours=hours,
            outage_start_tick=start,
            spot_take_rate=round(self._spot_take[q], 4),
            offers=self._offers(q, gpus),
            events=tuple(events),
            spikes=self._spikes(q),
        )

    def _build_demand(self, q: int) -> DemandArrays:
        spikes = self.quarter(q).spikes
        mult = spike_multiplier(spikes)
        by_segment: dict[str, np.ndarray] = {}
        for i, seg in enumerate(self.params.segments):
            level = segment_level(seg, q, self._level_shocks[q][i]) * self.params.demand_scale
            z = stream(self.seed, "demand", q, i, 1).standard_normal(TICKS_PER_QUARTER)
            by_segment[seg.id] = segment_demand(seg, level, z, mult)
        mult.flags.writeable = False
        return DemandArrays(ticks=TICKS_PER_QUARTER, by_segment=by_segment, spike_multiplier=mult)


def build_world(params: WorldParams, seed: int, start: str, n_quarters: int) -> World:
    """The world of one game: depends only on (params, seed, start), never on the player (DESIGN.md)."""
    return World(params, seed, start, n_quarters)
