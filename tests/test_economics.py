"""Unit economics against CALIBRATION.md items 9, 11, 12 and 13 (KB §1, §3, §8, §17)."""

from __future__ import annotations

import pytest

from engine import economics as E
from engine.hardware import gpu
from engine.physics import power_per_gpu_w


def test_item9_cost_per_million_tokens():
    """CALIBRATION 9 / KB §17: $2.48/GPU-hour at 1,000 tok/s -> ~$0.69/M; 5,000 tok/s -> ~$0.14/M."""
    assert E.cost_per_m_tokens(2.48, 1000) == pytest.approx(0.69, rel=0.02)
    assert E.cost_per_m_tokens(2.48, 5000) == pytest.approx(0.14, rel=0.02)
    # tokens/s served by 2 GPUs together cost twice the GPU-hours
    assert E.cost_per_m_tokens(2.48, 1000, gpus=2) == pytest.approx(2 * E.cost_per_m_tokens(2.48, 1000))
    with pytest.raises(ValueError):
        E.cost_per_m_tokens(2.48, 0)


def test_item12_power_per_gpu_hour_and_fleet():
    """CALIBRATION 12 / KB §1: 700 W at $0.10/kWh = $0.07/h; 10,000 GPUs ~ $6.1M a year."""
    assert E.power_cost_per_gpu_hour(700, 0.10) == pytest.approx(0.07)
    assert E.power_cost_per_year(10_000, 700, 0.10) == pytest.approx(6.1e6, rel=0.02)
    assert E.power_cost_per_gpu_hour(700, 0.10, pue=1.4) == pytest.approx(0.098)
    with pytest.raises(ValueError):
        E.power_cost_per_gpu_hour(700, 0.10, pue=0.9)


def test_item12_colo_power_per_kw_month():
    """CALIBRATION 12 / KB §8: $72 vs ~$22 per kW-month; ~$50/kW/month is $60M a year at 100 MW."""
    hi, lo = E.colo_power_usd_per_kw_month(0.10), E.colo_power_usd_per_kw_month(0.03)
    assert hi == pytest.approx(72) and lo == pytest.approx(22, rel=0.02)
    assert (hi - lo) * 100_000 * 12 == pytest.approx(60e6, rel=0.02)


def test_item12_physics_decode_power_drives_the_bill():
    """The fleet's power bill uses the physics' per-phase watts (decode below TDP)."""
    h100 = gpu("h100")
    assert E.power_cost_per_gpu_hour(power_per_gpu_w(h100, "decode"), 0.10) < 0.07


def test_item13_gross_margin_arithmetic():
    """CALIBRATION 13 / KB §17: $0.40 price on $0.14 cost is 65% gross margin; do the arithmetic."""
    assert E.gross_margin(0.40, 0.14) == pytest.approx(0.65)
    assert E.gross_margin(1.00, 0.69) == pytest.approx(0.31)
    with pytest.raises(ValueError):
        E.gross_margin(0, 1)


def test_item11_owned_gpu_hourly_cost_adds_up():
    """KB §3 buy side: depreciation + capital charge + power + other."""
    total = E.owned_gpu_hourly_cost(28_000, 5, 700, 0.10, pue=1.2, wacc=0.12, other_hourly=0.1)
    assert total == pytest.approx(28_000 / 43_800 + 28_000 * 0.12 / 8760 + 0.7 * 1.2 * 0.1 + 0.1)
