"""Customer demand over one quarter's 2,184 hourly ticks (KB §1 segments, KB §2 multiplexing).

Four segments (KB §1 "Customer Segmentation and Willingness to Pay") each have their own size,
growth, price elasticity and daily/weekly shape. Their peaks fall at different hours, so the
pooled fleet sees a flatter load than any one segment: that is statistical multiplexing (KB §2).
Correlated spikes (a model release, a viral demo) hit every segment in the same ticks: that is
the "catastrophic event" pooling cannot absorb (KB §2 "Risk: Correlated demand spikes").

Determinism: the 24-hour and 168-hour shape tables use Python's ``math`` (a few dozen values);
the 2,184-tick arrays are built only by indexing, ``+``, ``*`` and ``max``, which are exactly
rounded on every CPU (numpy's SIMD sin/exp/log are not guaranteed to be). Random draws come
only from ``engine.rng.stream``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from pydantic import Field

from engine.base import FileModel
from engine.calendar import TICKS_PER_QUARTER

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
WEEKS_PER_QUARTER = TICKS_PER_QUARTER // HOURS_PER_WEEK  # 13: a quarter is whole weeks
MIN_NOISE_FACTOR = 0.05  # hourly noise never drives demand to zero or below
LEVEL_SHOCK_SD = 0.04  # quarter-to-quarter wobble of a segment's level around its growth trend


class SegmentParams(FileModel):
    """One customer segment of KB §1. Hours are UTC; the quarter starts Monday 00:00 UTC."""

    id: str
    name: str
    base_gpus: float = Field(gt=0)  # mean concurrent GPUs demanded from us at market price, quarter 0
    growth_per_quarter: float = Field(ge=-0.5, le=2.0)
    elasticity: float = Field(ge=0)  # our share falls as (our price / market)^-elasticity
    leave_per_quarter: float = Field(default=0.7, gt=0, le=1)  # how far the customer base moves toward a lower price-implied share in a quarter
    return_per_quarter: float = Field(default=0.25, gt=0, le=1)  # ... and back up: lost customers return slowly (churn persists)
    contract_appetite: float = Field(ge=0, le=1)
    latency_sensitive: bool
    peak_hour: float = Field(ge=0, lt=24)
    daily_amplitude: float = Field(ge=0, le=1)
    weekend_factor: float = Field(gt=0)
    noise: float = Field(ge=0, le=1)
    spike_sensitivity: float = Field(ge=0)
    contract_gpus: int = Field(default=32, ge=8)  # typical reserved-contract size (offers)
    investment_grade_share: float = Field(default=0.3, ge=0, le=1)  # share of its contracts that are IG


# Price response (KB §1 "Customer Segmentation and Willingness to Pay": hobbyists are price-sensitive,
# enterprises buy SLAs and stay; KB §1 "prices vary 10x+ across providers" for the same tokens, so a
# buyer of a commodity GPU-hour or token switches easily). Elasticities are set so that +100% over the
# market keeps 12% (hobbyist) to 29% (enterprise) of a segment, and +25% already costs 33-49%.
# Customers leave within a quarter or two and come back at 15-30% of the gap a quarter.
DEFAULT_SEGMENTS: tuple[SegmentParams, ...] = (
    # KB §1: <1M tokens/day, spiky, very price-sensitive; peaks in the US evening (~02 UTC)
    SegmentParams(
        id="hobbyist", name="Hobbyists & prototypers", base_gpus=90, growth_per_quarter=0.06,
        elasticity=3.0, contract_appetite=0.02, latency_sensitive=True, peak_hour=2.0,
        daily_amplitude=0.55, weekend_factor=1.25, noise=0.15, spike_sensitivity=1.5,
        contract_gpus=8, investment_grade_share=0.05, leave_per_quarter=0.85, return_per_quarter=0.30,
    ),
    # KB §1: 1-100M tokens/day, latency-sensitive, fast growth; US afternoon (~21 UTC)
    SegmentParams(
        id="startup", name="Growth startups", base_gpus=240, growth_per_quarter=0.10,
        elasticity=2.5, contract_appetite=0.35, latency_sensitive=True, peak_hour=21.0,
        daily_amplitude=0.40, weekend_factor=0.80, noise=0.08, spike_sensitivity=1.2,
        contract_gpus=32, investment_grade_share=0.15, leave_per_quarter=0.75, return_per_quarter=0.25,
    ),
    # KB §1: 100M+ tokens/day, SLAs, reserved capacity; weekday business hours (~16 UTC)
    SegmentParams(
        id="enterprise", name="Enterprises", base_gpus=220, growth_per_quarter=0.06,
        elasticity=1.8, contract_appetite=0.8, latency_sensitive=True, peak_hour=16.0,
        daily_amplitude=0.50, weekend_factor=0.55, noise=0.04, spike_sensitivity=0.6,
        contract_gpus=128, investment_grade_share=0.8, leave_per_quarter=0.45, return_per_quarter=0.15,
    ),
    # KB §1: large, latency-insensitive, fills idle capacity; runs through the US night (~08 UTC)
    SegmentParams(
        id="batch", name="Batch & offline", base_gpus=200, growth_per_quarter=0.08,
        elasticity=2.2, contract_appetite=0.4, latency_sensitive=False, peak_hour=8.0,
        daily_amplitude=0.15, weekend_factor=1.10, noise=0.05, spike_sensitivity=0.2,
        contract_gpus=64, investment_grade_share=0.5, leave_per_quarter=0.7, return_per_quarter=0.30,
    ),
)


@dataclass(frozen=True)
class Spike:
    """A correlated demand spike hitting every segment in the same ticks (KB §2)."""

    start_tick: int
    duration_ticks: int
    magnitude: float  # peak extra demand as a fraction (0.4 = +40% at the crest)
    cause: str


@dataclass(frozen=True, eq=False)
class DemandArrays:
    """One quarter of demand at market price, tick by tick (read-only arrays)."""

    ticks: int
    by_segment: dict[str, np.ndarray]  # concurrent GPUs demanded, all generations together
    spike_multiplier: np.ndarray  # the correlated spike factor (1.0 outside spikes)

    def total(self) -> np.ndarray:
        """Pooled demand over all segments (what a multi-tenant fleet actually sees, KB §2)."""
        out = np.zeros(self.ticks)
        for arr in self.by_segment.values():
            out = out + arr
        return out


ABOVE_MARKET_SWITCHING = 2.5  # above the market, elasticity is this many times higher


def price_response(our_price: float, market_price: float, elasticity: float) -> float:
    """Factor on a segment's demand when we charge ``our_price`` against the market (KB §1).

    Constant elasticity: (our / market) ** -elasticity; 1.0 at the market price. The curve is
    kinked (Sweezy's oligopoly demand): rivals match a price cut, so undercutting wins share
    slowly, but they do not follow a rise, and GPU-hours and tokens are near-commodities that
    customers compare, so above the market the elasticity is ``ABOVE_MARKET_SWITCHING`` times
    higher (+25% keeps ~20-35% of a segment, +100% under 5%). A scalar, so the caller multiplies
    the tick array by it (no transcendental on arrays).
    """
    if our_price <= 0 or market_price <= 0:
        raise ValueError("prices must be positive")
    ratio = our_price / market_price
    return ratio ** (-elasticity * (ABOVE_MARKET_SWITCHING if ratio > 1 else 1.0))


def demand_share(our_price: float, market_price: float, elasticity: float, cap: float) -> float:
    """``price_response`` capped: undercutting the market wins share, but only so much of it."""
    return min(cap, price_response(our_price, market_price, elasticity))


def customer_base_step(current: float, target: float, seg: SegmentParams) -> float:
    """Next quarter's customer-base index: it moves toward the price-implied share with a lag (KB §1).

    Leaving is fast (``leave_per_quarter`` of the gap), coming back slow (``return_per_quarter``):
    customers who switched to a cheaper provider do not all return the quarter the price drops.
    """
    speed = seg.leave_per_quarter if target < current else seg.return_per_quarter
    return current + speed * (target - current)


BACKLOG_HOURS_KEPT = 168  # queued batch work beyond a week of arrivals is abandoned at quarter end


@dataclass(frozen=True)
class BatchQueue:
    served: np.ndarray  # work served per tick
    backlog: float  # carried into the next quarter
    dropped: float  # abandoned at the quarter's end


def batch_queue(arrivals: np.ndarray, capacity: np.ndarray, backlog: float) -> BatchQueue:
    """Latency-insensitive work queues and drains in idle ticks (DESIGN.md "Time").

    The Lindley recursion q[t] = max(0, q[t-1] + a[t] - c[t]) in closed form: with the walk
    S = cumsum(a - c), q = S - min(running min of S, -q0); served = q[t-1] + a[t] - q[t].
    """
    walk = np.cumsum(arrivals - capacity)
    queue = walk - np.minimum(np.minimum.accumulate(walk), -backlog)
    prev = np.concatenate(([backlog], queue[:-1]))
    kept = BACKLOG_HOURS_KEPT * float(arrivals.mean())
    end = float(queue[-1])
    return BatchQueue(served=prev + arrivals - queue, backlog=round(min(end, kept), 6), dropped=max(0.0, end - kept))


def daily_shape(seg: SegmentParams) -> list[float]:
    """24 hourly factors with mean 1: one cosine bump peaking at ``peak_hour`` (UTC)."""
    return [
        1.0 + seg.daily_amplitude * math.cos(2.0 * math.pi * (h - seg.peak_hour) / HOURS_PER_DAY)
        for h in range(HOURS_PER_DAY)
    ]


def weekly_shape(seg: SegmentParams) -> np.ndarray:
    """168 hourly factors (Monday 00 UTC first), weekends scaled, normalized to mean 1."""
    return _weekly_factors(seg.daily_amplitude, seg.peak_hour, seg.weekend_factor).copy()


@lru_cache(maxsize=256)
def _weekly_factors(daily_amplitude: float, peak_hour: float, weekend_factor: float) -> np.ndarray:
    """``weekly_shape`` of everything it reads, memoized (read-only): every quarter of every
    segment rebuilt the same 168 factors in Python (issue 10, item 12)."""
    seg = SimpleNamespace(daily_amplitude=daily_amplitude, peak_hour=peak_hour)
    day = daily_shape(seg)
    week = [
        day[h % HOURS_PER_DAY] * (weekend_factor if h // HOURS_PER_DAY >= 5 else 1.0)
        for h in range(HOURS_PER_WEEK)
    ]
    mean = math.fsum(week) / HOURS_PER_WEEK  # fsum: exact, order-independent
    out = np.array([w / mean for w in week], dtype=np.float64)
    out.flags.writeable = False
    return out


def segment_level(seg: SegmentParams, quarter: int, level_shock: float) -> float:
    """Mean concurrent GPUs of a segment in a quarter: compound growth times a seeded wobble."""
    return seg.base_gpus * (1.0 + seg.growth_per_quarter) ** quarter * level_shock


def level_shock(z: float) -> float:
    """A quarter's level wobble from one standard normal draw (kept within +-3 sd)."""
    return 1.0 + LEVEL_SHOCK_SD * max(-3.0, min(3.0, z))


def spike_shape(spike: Spike, ticks: int = TICKS_PER_QUARTER) -> np.ndarray:
    """Extra demand fraction of one spike: a fast linear rise, then a linear fade (len ``ticks``)."""
    out = np.zeros(ticks)
    start = max(0, min(ticks, spike.start_tick))
    end = min(ticks, spike.start_tick + spike.duration_ticks)
    if end <= start:
        return out
    d = spike.duration_ticks
    rise = max(1, d // 6)  # traffic jumps within hours, then decays over days
    k = np.arange(start - spike.start_tick, end - spike.start_tick, dtype=np.float64)
    up = (k + 1.0) / rise
    down = (d - k) / (d - rise + 1.0)
    out[start:end] = spike.magnitude * np.minimum(np.minimum(up, down), 1.0)
    return out


def spike_multiplier(spikes: tuple[Spike, ...], ticks: int = TICKS_PER_QUARTER) -> np.ndarray:
    """1.0 plus the sum of all spikes' shapes: overlapping spikes add up."""
    extra = np.zeros(ticks)
    for s in spikes:  # a handful of spikes, not a loop over ticks
        extra = extra + spike_shape(s, ticks)
    return 1.0 + extra


def segment_demand(
    seg: SegmentParams,
    level: float,
    hourly_z: np.ndarray,
    spikes_mult: np.ndarray,
) -> np.ndarray:
    """A segment's demand over the quarter's ticks (KB §1 shape, KB §2 spikes).

    The quarter's mean ``level`` tilted by the segment's growth (it grows through the quarter,
    mean unchanged), times the weekly shape, times hourly noise, times the spike factor scaled
    by the segment's spike sensitivity (batch barely notices a viral demo; hobbyists pile in).
    """
    ticks = spikes_mult.shape[0]
    t = np.arange(ticks, dtype=np.float64)
    trend = level * (1.0 + seg.growth_per_quarter * ((t + 0.5) / ticks - 0.5))
    shape = np.tile(_weekly_factors(seg.daily_amplitude, seg.peak_hour, seg.weekend_factor), ticks // HOURS_PER_WEEK)
    noise = np.maximum(1.0 + seg.noise * hourly_z, MIN_NOISE_FACTOR)
    spike = 1.0 + seg.spike_sensitivity * (spikes_mult - 1.0)
    out = trend * shape * noise * spike
    out.flags.writeable = False
    return out


def peak_to_mean(arr: np.ndarray) -> float:
    """Peak over mean of a demand array: what capacity must cover vs what it earns (KB §2)."""
    return float(arr.max() / arr.mean())
