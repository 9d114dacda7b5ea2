"""The end-of-game valuation horizon (issue 9, "the winning strategy must be the one the knowledge
base teaches"; KB §18 "The Investor and IPO Lens"; CALIBRATION 26).

The score reads the trailing four quarters and their growth over the year before. These tests pin
how growth is measured when a year had no gross profit, and check that the strategies written to
game the horizon (engine.exploits: harvest, sprint, growth-pump) do what they say; whether they
ever beat the scenario's best principled bot is checked over seeds 1-20 in tests/test_lessons.py.
"""

from __future__ import annotations

import pytest

from engine import valuation as val
from engine.bots import BOTS
from engine.exploits import DISCRETIONARY, EXPLOITS, LAST_QUARTERS, SPRINT_DISCOUNT, SPRINT_MARKUP
from tests.test_bots import play

M = 100_000_000  # $1M in cents


# ------------------------------------------------------------------------------ growth on a base


def test_calibration26_a_year_with_no_gross_profit_is_not_growth():
    """A company whose trailing year earned no gross profit (a passive company with its revenue
    gone: $0 after a -$1.5M-a-quarter year) was read as growing +100% because 0 > -1.5; nothing is
    growing there: -50%, the same as a loss that deepened."""
    gone = val.blended_growth([-150 * M // 100] * 4 + [0] * 4, [3 * M] * 4 + [0] * 4)
    deeper = val.blended_growth([-1 * M] * 4 + [-2 * M] * 4, [3 * M] * 8)
    assert gone == pytest.approx(-0.5)
    assert deeper == pytest.approx(-0.5)
    assert val.growth_factor(gone) < val.growth_factor(0.0)


def test_kb18_a_turnaround_is_valued_on_its_top_line_growth_not_a_ratio_to_a_loss():
    """Gross profit -$1M a quarter, then +$4M: a ratio to a loss measures nothing, so the growth
    credit is revenue growth ($10M -> $13M a quarter: +30%), not the +100% a turnaround read as."""
    g = val.blended_growth([-1 * M] * 4 + [4 * M] * 4, [10 * M] * 4 + [13 * M] * 4)
    assert g == pytest.approx(0.30)
    assert val.growth_factor(g) == pytest.approx(0.6 + 0.8 * 0.30)
    # a business that had no revenue a year ago shows no growth rate at all: the market's 50%
    new = val.blended_growth([0] * 4 + [4 * M] * 4, [0] * 4 + [13 * M] * 4)
    assert new == pytest.approx(val.GROWTH_PRICED_IN)


def test_growth_on_a_profitable_base_is_unchanged():
    """$20M -> $30M of gross profit a quarter is +50% whatever revenue did (zero-margin revenue
    earns no growth credit: CALIBRATION 26)."""
    assert val.blended_growth([20 * M] * 4 + [30 * M] * 4, [50 * M] * 4 + [200 * M] * 4) == pytest.approx(0.5)


def test_kb18_recovering_a_dip_is_not_growth():
    """A pumped year: $10M of gross profit a quarter, $5M in the year before the last
    (priced 50% under market on purpose), $10M again in the last. Against the year before that is
    +100%, but that year itself fell 50%: growth did not hold two years running, so durable growth
    is the lower, -50% (the 0.4x floor of the growth factor), where the one-year ratio gave the 1.4x cap."""
    pumped = [10 * M] * 4 + [5 * M] * 4 + [10 * M] * 4
    assert val.blended_growth(pumped, [30 * M] * 12) == pytest.approx(-0.5)
    assert val.growth_factor(val.blended_growth(pumped, [30 * M] * 12)) == pytest.approx(0.4)
    # a company that really grew both years keeps its credit: 5 -> 10 -> 20 is +100% each year
    assert val.blended_growth([5 * M] * 4 + [10 * M] * 4 + [20 * M] * 4, [30 * M] * 12) == pytest.approx(1.0)
    # and one that fell 10 -> 5 then rose to 15 reads the fall, not +200% or the two-year +22%
    assert val.blended_growth([10 * M] * 4 + [5 * M] * 4 + [15 * M] * 4, [30 * M] * 12) == pytest.approx(-0.5)


def test_kb18_a_pumped_year_reads_less_growth_than_the_same_company_decelerating():
    """viral-spike seed 1 (issue 9, growth-pump), years of cash gross profit: all-in grew 38.5 ->
    64.4 -> 77.7 ($M); the pump priced 50% under market in the year before the last: 38.5 -> 41.1 ->
    78.3. Durable growth credits all-in its latest +20.7% and the pump only the +6.8% its dipped year
    grew, though the pump's last year is the larger: the two-year rate (+42.6%) no longer rewards the dip."""
    def years(*gp):
        return [round(g * M / 4) for g in gp for _ in range(4)]
    steady = val.blended_growth(years(38.5, 64.4, 77.7), years(42.2, 69.3, 86.0))
    pumped = val.blended_growth(years(38.5, 41.1, 78.3), years(42.2, 46.1, 86.6))
    assert steady == pytest.approx(77.7 / 64.4 - 1, rel=1e-6)
    assert pumped == pytest.approx(41.1 / 38.5 - 1, rel=1e-6)
    assert pumped < steady


# ------------------------------------------------------------------------------ the horizon exploits


def test_horizon_exploits_are_exploits_not_built_in_bots():
    assert {"harvest", "sprint", "growth-pump"} <= set(EXPLOITS)
    assert not {"harvest", "sprint", "growth-pump"} & set(BOTS)


def test_harvest_cuts_discretionary_spend_only_in_the_last_four_quarters():
    game, turns = play("price-war", 1, "harvest")
    _, base = play("price-war", 1, "all-in")
    n = game.scenario.quarters
    early = n - LAST_QUARTERS
    assert [a for _, a, _ in turns[:early]] == [a for _, a, _ in base[:early]]
    late = [a for _, actions, _ in turns[early:] for a in actions]
    assert not [a for a in late if a["kind"] in DISCRETIONARY or a["kind"] == "lease_gpus"]
    # capacity the base would have reserved is rented by the hour instead, so the catalog is still served
    base_late = [a for _, actions, _ in base[early:] for a in actions]
    leased = sum(a["count"] for a in base_late if a["kind"] == "lease_gpus")
    if leased:
        assert sum(a["on_demand"] for a in late if a["kind"] == "rent_gpus") >= leased


def _gpu_prices(turns, quarter: int) -> set[float]:
    """The GPU-hour prices (vs market) the bot set in a quarter."""
    return {a["vs_market"] for a in turns[quarter][1] if a["kind"] == "set_price"}


def test_sprint_prices_under_the_market_then_over_it_in_the_last_year():
    game, turns = play("price-war-rival", 1, "sprint")
    n = game.scenario.quarters
    assert _gpu_prices(turns, 0) == {SPRINT_DISCOUNT}
    assert _gpu_prices(turns, n - LAST_QUARTERS) == {SPRINT_MARKUP}
    assert game.state.price_vs_market and set(game.state.price_vs_market.values()) == {SPRINT_MARKUP}


def test_growth_pump_plays_its_base_then_prices_under_the_market_in_the_year_before_the_last():
    game, turns = play("viral-spike", 1, "growth-pump")
    _, base = play("viral-spike", 1, "all-in")
    n = game.scenario.quarters
    start = n - 2 * LAST_QUARTERS
    assert [a for _, a, _ in turns[:start]] == [a for _, a, _ in base[:start]]
    assert _gpu_prices(turns, start) == {SPRINT_DISCOUNT}
    assert _gpu_prices(turns, n - LAST_QUARTERS) == {0.0}
