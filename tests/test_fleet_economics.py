"""Revenue, cost of revenue and margin per GPU generation and per lot (issue 11; KB §3 buy vs
rent, §8 sites by the kW, §20 the barbell): split from the income statement's own cents, so the
rows add up to the statement to the cent."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.game import Game
from engine.leases import lease_payment_usd
from engine.money import to_cents
from engine.report import UNALLOCATED, allocate_cents, fleet_economics
from scenarios import load_scenario
from tests.test_engine_invariants import _action

SCENARIO = load_scenario("neocloud-2025").scenario


def _check_sums(report) -> None:
    inc, k = report.income, report.kpis
    rows = k.fleet_economics
    assert sum(r.revenue_cents for r in rows) == inc.revenue
    assert sum(r.cost_cents for r in rows) == inc.cogs
    assert sum(r.margin_cents for r in rows) == inc.gross_profit
    for account, total in (("rev_reserved", inc.rev_reserved), ("rev_on_demand", inc.rev_on_demand), ("rev_batch", inc.rev_batch),
                           ("rev_spot", inc.rev_spot), ("rev_tokens", inc.rev_tokens), ("rev_sla_credits", inc.rev_sla_credits)):
        assert sum(r.revenue.get(account, 0) for r in rows) == total, account
    for account in ("cogs_power", "cogs_colo", "cogs_gpu_lease", "cogs_gpu_rental", "cogs_site_opex", "cogs_operations"):
        assert sum(r.cost.get(account, 0) for r in rows) == getattr(inc, account), account
    assert sum(r.cost.get("cogs_depreciation_gpu", 0) + r.cost.get("cogs_depreciation_site", 0) for r in rows) == inc.cogs_depreciation
    for r in rows:  # a generation's lots add up to its row (GPU rentals for inference are no lot)
        lots = [lot for lot in k.lot_economics if lot.gen == r.gen]
        if lots and sum(lot.gpus for lot in lots):
            assert sum(lot.revenue_cents for lot in lots) == r.revenue_cents
            assert sum(lot.capital_cost_cents + lot.other_cost_cents for lot in lots) == r.cost_cents - r.cost.get("cogs_gpu_rental", 0)


def test_allocate_cents_splits_to_the_cent_by_largest_remainder():
    assert allocate_cents(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert allocate_cents(-100, {"a": 1, "b": 1, "c": 1}) == {"a": -34, "b": -33, "c": -33}
    assert allocate_cents(1_000, {"h100": 3.0, "a100": 1.0}) == {"h100": 750, "a100": 250}
    assert allocate_cents(5, {"a": 0.0}) == {UNALLOCATED: 5}
    assert allocate_cents(0, {"a": 1.0}) == {}


@given(total=st.integers(min_value=-10**13, max_value=10**13),
       weights=st.dictionaries(st.sampled_from(["a100", "h100", "h200", "b200", "gb200", "x300"]),
                               st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=6))
def test_allocate_cents_parts_sum_to_the_total_and_stay_within_a_cent_of_the_share(total, weights):
    parts = allocate_cents(total, weights)
    assert sum(parts.values()) == total
    w_sum = sum(w for w in weights.values() if w > 0)
    if w_sum > 0 and total:
        for key, part in parts.items():
            assert abs(part - total * weights[key] / w_sum) < 1 + 1e-6 * abs(total)


def _largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """The textbook definition allocate_cents implements, with explicit (remainder, index) tie keys."""
    keys = [k for k, w in weights.items() if w > 0]
    w_sum = sum(weights[k] for k in keys)
    if total == 0:
        return {}
    if not keys or w_sum <= 0:
        return {UNALLOCATED: total}
    sign, size = (1, total) if total > 0 else (-1, -total)
    exact = [size * weights[k] / w_sum for k in keys]
    parts = [int(x) for x in exact]
    left = size - sum(parts)
    if left > 0:
        for i in sorted(range(len(keys)), key=lambda i: (-(exact[i] - parts[i]), i))[:left]:
            parts[i] += 1
    elif left < 0:
        for i in sorted(range(len(keys)), key=lambda i: (exact[i] - parts[i], i))[:-left]:
            parts[i] -= 1
    return {k: sign * p for k, p in zip(keys, parts) if p}


@given(total=st.integers(min_value=-10**13, max_value=10**13),
       weights=st.dictionaries(st.text(min_size=1, max_size=3),
                               st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, 1 / 3]),
                                         st.floats(min_value=0, max_value=1e9, allow_nan=False)), max_size=12))
def test_allocate_cents_matches_the_largest_remainder_definition_ties_to_the_earlier_key(total, weights):
    """Issue 10 item 12 made allocate_cents sort by the remainder alone (a stable sort keeps ties in
    key order): the same cents as the definition with explicit tie keys, equal weights included."""
    assert allocate_cents(total, weights) == _largest_remainder(total, weights)


def test_worked_example_neocloud_2025_first_quarter_by_generation_and_lot():
    """neocloud-2025, seed 1: 2,048 owned H100 (L1) at the owned Texas campus, 512 owned A100 (L2)
    in the Virginia colo; lease 64 H100 (L4). Each line falls where engine.step booked it: the
    campus's power, operations and depreciation on H100, the colo's rent on A100, the lease on
    L4; GPU depreciation per lot is cost / life (CALIBRATION 18, straight line)."""
    g = Game(SCENARIO, 1)
    l1, l2 = g.state.lots[0], g.state.lots[1]
    assert (l1.id, l1.gen, l1.site_id, l2.id, l2.gen, l2.site_id) == ("L1", "h100", "S-TX", "L2", "a100", "S-VA")
    r = g.play([{"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 4}])
    assert r.actions[0].ok
    l1, l2 = g.state.lots[0], g.state.lots[1]  # the GPUs that failed this quarter left the lot before depreciation
    dep_l1, dep_l2 = -(-l1.cost_cents // l1.life_quarters), -(-l2.cost_cents // l2.life_quarters)
    lease = next(lot for lot in g.state.lots if lot.ownership == "leased")
    inc = r.income
    rows = {row.gen: row for row in r.kpis.fleet_economics}
    assert list(rows) == ["a100", "h100"]
    h100, a100 = rows["h100"], rows["a100"]
    assert a100.cost["cogs_depreciation_gpu"] == dep_l2
    assert h100.cost["cogs_depreciation_gpu"] == dep_l1
    assert a100.cost["cogs_colo"] == inc.cogs_colo  # the colo holds only the A100
    assert h100.cost["cogs_power"] == inc.cogs_power  # colo rent bundles power (KB §8): only the campus pays it
    assert h100.cost["cogs_site_opex"] == inc.cogs_site_opex
    assert h100.cost["cogs_depreciation_site"] == inc.cogs_depreciation - dep_l1 - dep_l2
    assert h100.cost["cogs_gpu_lease"] == inc.cogs_gpu_lease == to_cents(lease_payment_usd(64, lease.lease_usd_per_hour))
    assert h100.revenue["rev_reserved"] == inc.rev_reserved  # both signed contracts are H100
    assert h100.margin_cents == h100.revenue_cents - h100.cost_cents
    assert math.isclose(h100.margin, h100.margin_cents / h100.revenue_cents)
    lots = {lot.lot_id: lot for lot in r.kpis.lot_economics}
    assert lots[lease.id].capital_cost_cents == inc.cogs_gpu_lease
    assert lots[lease.id].ownership == "leased"
    assert lots["L1"].capital_cost_cents == dep_l1
    # the pooled fleet: a lot earns its share of the generation's GPUs
    share = lots[lease.id].gpus / (lots[lease.id].gpus + lots["L1"].gpus)
    assert abs(lots[lease.id].revenue_cents - h100.revenue_cents * share) <= 1
    # a leased lot in nobody's site pays no power, colo or campus costs: only its operations
    ops_share = h100.cost["cogs_operations"] * share
    assert abs(lots[lease.id].other_cost_cents - ops_share) <= 1
    _check_sums(r)


@pytest.mark.parametrize("scenario,bot", [("inference-2025", "barbell"), ("abilene", "all-in"), ("neocloud-2025", "flex")])
def test_rows_sum_to_the_income_statement_for_whole_bot_games(scenario, bot):
    from engine.bots import make_bot

    g = Game(load_scenario(scenario).scenario, 2)
    b = make_bot(bot)
    while not g.over:
        _check_sums(g.play(b.act(g.observation())))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(min_value=0, max_value=2**32))
def test_rows_sum_to_the_income_statement_to_the_cent_under_random_plans(data, seed):
    game = Game(SCENARIO, seed)
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        if game.over:
            break
        plan = [_action(data.draw, game.state) for _ in range(data.draw(st.integers(min_value=0, max_value=5)))]
        _check_sums(game.play(plan))


def test_a_site_without_gpus_is_its_own_row_not_hidden_in_a_generation():
    """A colo leased and left empty still pays rent (KB §8, take-or-pay by the kW): the cost is
    booked, and shown unallocated rather than loaded onto GPUs that are elsewhere."""
    g = Game(SCENARIO, 1)
    r = g.play([{"kind": "lease_colo", "mw": 1.0}])
    assert r.actions[0].ok
    r = g.play([])
    empty = [row for row in r.kpis.fleet_economics if row.gen == UNALLOCATED]
    assert len(empty) == 1 and empty[0].cost.get("cogs_colo", 0) > 0 and empty[0].revenue_cents == 0
    _check_sums(r)


def test_fleet_economics_with_no_drivers_puts_everything_unallocated():
    gens, lots = fleet_economics({"rev_on_demand": 500, "cogs_power": 120, "cogs_depreciation": 0}, {})
    assert [(g.gen, g.revenue_cents, g.cost_cents) for g in gens] == [(UNALLOCATED, 500, 120)]
    assert lots == []
