"""The end-of-game valuation horizon (issue 9, "the winning strategy must be the one the knowledge
base teaches"; KB §18 "The Investor and IPO Lens"; CALIBRATION 26).

The score reads the trailing four quarters and their growth over the year before. These tests pin
how growth is measured when a year had no gross profit, and check that the strategies written to
game the horizon (engine.exploits: harvest) do what they say; whether they
ever beat the scenario's best principled bot is checked over seeds 1-20 in tests/test_lessons.py.
"""

from __future__ import annotations

import pytest

from engine import valuation as val
from engine.bots import make_bot
from engine.exploits import DISCRETIONARY, EXPLOITS, LAST_QUARTERS
from engine.game import Game
from scenarios import load_scenario

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
    +100%; against two years ago it is 0%. Durable growth is the lower: 0%, a 0.6x growth factor,
    where the one-year ratio gave the 1.4x cap."""
    pumped = [10 * M] * 4 + [5 * M] * 4 + [10 * M] * 4
    assert val.blended_growth(pumped, [30 * M] * 12) == pytest.approx(0.0)
    # a company that really grew both years keeps its credit: 5 -> 10 -> 20 is +100% on either base
    assert val.blended_growth([5 * M] * 4 + [10 * M] * 4 + [20 * M] * 4, [30 * M] * 12) == pytest.approx(1.0)
    # and one that grew 10 -> 5 -> 15: +200% on last year, sqrt(1.5) - 1 = +22% a year over two
    assert val.blended_growth([10 * M] * 4 + [5 * M] * 4 + [15 * M] * 4, [30 * M] * 12) == pytest.approx(1.5 ** 0.5 - 1)


# ------------------------------------------------------------------------------ the horizon exploits


def _play(sid: str, seed: int, bot_name: str):
    game, bot, turns = Game(load_scenario(sid).scenario, seed), make_bot(bot_name), []
    while not game.over:
        obs = game.observation()
        actions = bot.act(obs)
        report = game.play(actions)
        turns.append((obs, actions, report))
    return game, turns


def test_horizon_exploits_are_exploits_not_built_in_bots():
    assert "harvest" in EXPLOITS


def test_harvest_cuts_discretionary_spend_only_in_the_last_four_quarters():
    game, turns = _play("price-war", 1, "harvest")
    _, base = _play("price-war", 1, "all-in")
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
