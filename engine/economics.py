"""Unit economics of tokens and GPU-hours (KB §1, §3, §8, §17; CALIBRATION 9-13).

Floats in, floats out. A month is 30 days (720 hours), as KB §8 counts it.
"""

from __future__ import annotations

from engine.calendar import HOURS_PER_YEAR
from engine.finance import capital_charge_per_hour, straight_line_per_hour

SECONDS_PER_HOUR = 3600
HOURS_PER_MONTH = 720  # KB §8: "1 kW continuous for a month = $72" at $0.10/kWh


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def cost_per_m_tokens(gpu_hour_usd: float, tokens_per_s: float, gpus: int = 1) -> float:
    """Hourly cost of the GPUs / tokens per hour x 1e6 (KB §1, §17: $2.48/h at 1,000 tok/s -> $0.69/M).

    ``tokens_per_s`` is what the ``gpus`` GPUs serve together.
    """
    _positive("tokens per second", tokens_per_s)
    _positive("GPU count", gpus)
    if gpu_hour_usd < 0:
        raise ValueError(f"the GPU-hour price cannot be negative, got {gpu_hour_usd}")
    return gpu_hour_usd * gpus / (tokens_per_s * SECONDS_PER_HOUR) * 1e6


def power_cost_per_gpu_hour(watts: float, usd_per_kwh: float, pue: float = 1.0) -> float:
    """Electricity for one GPU-hour, facility overhead included: W / 1000 x PUE x $/kWh (KB §1)."""
    if watts < 0 or usd_per_kwh < 0 or pue < 1:
        raise ValueError(f"need watts >= 0, $/kWh >= 0 and PUE >= 1; got {watts}, {usd_per_kwh}, {pue}")
    return watts / 1000 * pue * usd_per_kwh


def power_cost_per_year(gpus: int, watts: float, usd_per_kwh: float, pue: float = 1.0) -> float:
    """A fleet's yearly power bill: 10,000 H100s at 700 W and $0.10 -> ~$6.1M (KB §1)."""
    return gpus * power_cost_per_gpu_hour(watts, usd_per_kwh, pue) * HOURS_PER_YEAR


def colo_power_usd_per_kw_month(usd_per_kwh: float) -> float:
    """The electricity inside $/kW/month: 1 kW x 720 h x price ($72 at $0.10, ~$22 at $0.03; KB §8)."""
    return HOURS_PER_MONTH * usd_per_kwh


def gross_margin(price: float, cost: float) -> float:
    """(price - cost) / price (CALIBRATION 13: do the arithmetic)."""
    _positive("price", price)
    return (price - cost) / price


def owned_gpu_hourly_cost(
    capex: float,
    years: float,
    watts: float,
    usd_per_kwh: float,
    pue: float = 1.0,
    wacc: float = 0.0,
    residual: float = 0.0,
    other_hourly: float = 0.0,
) -> float:
    """Depreciation + capital charge + power + everything else, per GPU-hour (KB §3 buy side)."""
    return (
        straight_line_per_hour(capex, years, residual)
        + capital_charge_per_hour(capex, wacc)
        + power_cost_per_gpu_hour(watts, usd_per_kwh, pue)
        + other_hourly
    )
