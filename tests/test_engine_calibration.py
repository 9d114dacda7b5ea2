"""The game engine reproduces CALIBRATION.md through the same functions the calculators use.

Items covered here at the engine level: 10 (straight-line GPU depreciation in the books),
12 (power cost per GPU-hour in the books), 14-17 (debt service, DSCR, DSCR-sized capacity with
contracted revenue at full weight, spreads and tenor by contract), 18 (interest deductibility,
loss carry-forward), 21 (reserved/spot relations seen by the company). The pure formulas have
their own worked-example tests in test_finance.py, test_economics.py and test_world.py.
"""

from __future__ import annotations

import pytest

from engine import lenders
from engine.calendar import TICKS_PER_QUARTER
from engine.economics import power_cost_per_gpu_hour
from engine.finance import debt_capacity, dscr, level_principal_schedule
from engine.game import Game
from engine.physics import POWER_SHARE_OF_TDP
from engine.state import Contract, QuarterRecord
from scenarios import load_scenario

SCENARIO = load_scenario("neocloud-2025").scenario


def test_calibration_10_gpu_depreciation_is_straight_line_over_the_rule_life():
    """CALIBRATION 10 / KB §3: a GPU lot depreciates cost / life each quarter."""
    game = Game(SCENARIO, 1)
    lot = next(l for l in game.state.lots if l.gen == "h100")
    age = SCENARIO.company.lots[0].age_quarters
    game.play([])
    after = next(l for l in game.state.lots if l.id == lot.id)
    life_q = SCENARIO.rules.gpu_life_years * 4
    # failed GPUs leave with their share, so accumulated depreciation per GPU is (age + 1) / life
    assert after.accum_dep_cents / after.count == pytest.approx(lot.unit_cost_cents * (age + 1) / life_q, rel=1e-4)
    # $28K over 3 years is ~$1.07/h with no residual (the KB's $0.95 assumes a ~10% residual)
    assert 28_000 / (3 * 8760) == pytest.approx(1.065, rel=0.01)


def test_calibration_12_power_cost_in_the_books_matches_the_formula():
    """CALIBRATION 12: 700 W at $0.10/kWh is $0.07 per GPU-hour; the books use that function."""
    assert power_cost_per_gpu_hour(700, 0.10) == pytest.approx(0.07, rel=0.01)
    game = Game(SCENARIO, 1)
    report = game.play([])
    wq = game.world.quarter(0)
    site = next(s for s in game.state.sites if s.kind == "owned")
    h100 = next(g for g in report.kpis.by_gen if g.gen == "h100")
    busy = h100.utilization + h100.spot_filled_share  # spot-filled GPUs draw power too
    watts = 700 * (busy + (1 - busy) * POWER_SHARE_OF_TDP["idle"])
    owned_h100 = sum(l.count for l in game.state.lots if l.gen == "h100" and l.site_id == site.id)
    expected = power_cost_per_gpu_hour(watts, wq.electricity_usd_per_kwh[site.power_source], site.pue) * TICKS_PER_QUARTER
    # failures during the quarter make the lot count slightly lower at the end than its average
    assert report.income.cogs_power / 100 == pytest.approx(expected * owned_h100, rel=0.03)


def test_calibration_14_15_trailing_dscr_uses_the_finance_formula():
    """CALIBRATION 14-15: $1B at 8% level principal: $280M year-1 service; $400M CFADS -> 1.43x."""
    rows = level_principal_schedule(1e9, 0.08, 5)
    assert rows[0].debt_service == pytest.approx(280e6)
    game = Game(SCENARIO, 1)
    st = game.state
    st.history = [
        QuarterRecord(quarter=i, revenue_cents=0, contracted_revenue_cents=0, ebitda_cents=100_00, cash_taxes_cents=0,
                      cfads_cents=400_000_000_00 // 4, debt_service_cents=280_000_000_00 // 4)
        for i in range(4)
    ]
    assert lenders.trailing_dscr(st) == pytest.approx(dscr(400e6, 280e6)) == pytest.approx(1.43, abs=0.005)


def test_calibration_16_17_contracts_raise_capacity_cut_the_spread_and_lengthen_the_tenor():
    """CALIBRATION 16-17 / KB §4: contracted IG revenue is underwritten at full weight, prices at
    SOFR + ~250 bps instead of ~400, and supports a tenor tied to contract life."""
    game = Game(SCENARIO, 1)
    game.play([])
    st = game.state
    st.contracts = [c for c in st.contracts if False]
    wq = game.world.quarter(st.quarter)
    bare = lenders.underwrite(st, SCENARIO.rules)
    st.contracts.append(Contract(
        id="C-anchor", customer="Anchor", segment="enterprise", gen="h100", gpus=1500, term_quarters=60,
        usd_per_gpu_hour=2.0, grade="AA", start_quarter=st.quarter, end_quarter=st.quarter + 60,
    ))
    anchored = lenders.underwrite(st, SCENARIO.rules)
    assert anchored.cfads_cents > bare.cfads_cents
    assert anchored.contracted_share > 0.5
    assert lenders.term_spread_bps(wq, 1.0) == pytest.approx(wq.spread_ig_bps)
    assert lenders.term_spread_bps(wq, 0.0) == pytest.approx(wq.spread_sub_ig_bps)
    assert wq.spread_ig_bps == pytest.approx(250, abs=60) and wq.spread_sub_ig_bps == pytest.approx(400, abs=80)
    assert lenders.term_tenor_quarters(anchored) == 48  # 12-year debt behind a 15-year contract
    assert 12 <= lenders.term_tenor_quarters(bare) <= 20  # 3-5 years without
    offers = {o.kind: o for o in lenders.loan_offers(st, wq, SCENARIO.rules)}
    project = offers["project"]
    rate_q = (wq.sofr + project.spread_bps / 10_000) / 4
    # sculpted sizing (CALIBRATION 16): PV of each quarter's projected CFADS / 1.35 less the existing debt's service
    u = lenders.underwrite(st, SCENARIO.rules, wq.sofr)
    n = project.tenor_quarters
    room = [max(0.0, c / 1.35 - e) for c, e in zip(u.quarterly_cfads_cents[:n], u.existing_service_cents[:n])]
    cap = debt_capacity(room, n, rate_q, 1.0)
    assert project.max_cents == pytest.approx(cap, rel=1e-6)
    assert project.amortization == "sculpted" and sum(project.principal_shares) == pytest.approx(1.0)


def test_calibration_18_interest_is_deductible_and_losses_carry_forward():
    """CALIBRATION 18 / KB §6: tax is 21% of income after interest, net of loss carry-forwards."""
    from engine.step import _tax

    game = Game(SCENARIO, 1)
    st = game.state
    led = st.ledger
    led.post("sales", [("cash", 10_000_000_00), ("rev_on_demand", -10_000_000_00)], "operating")
    led.post("interest", [("interest_expense", 2_000_000_00), ("cash", -2_000_000_00)], "operating")
    st.nol_cents = 0
    assert _tax(st, SCENARIO.rules) == round(8_000_000_00 * 0.21)
    led.close_period()
    # a later tax year (2026Q4, the year's only profitable quarter) that opens with a $5M loss carried forward
    st.quarter, st.tax_ytd_pretax_cents, st.tax_ytd_paid_cents = 7, 0, 0
    led.post("sales", [("cash", 10_000_000_00), ("rev_on_demand", -10_000_000_00)], "operating")
    st.nol_cents = 5_000_000_00
    # the $5M carried forward is within 80% of the year's $10M, so all of it is used
    assert _tax(st, SCENARIO.rules) == round(5_000_000_00 * 0.21)
    assert st.nol_cents == 0  # the year closed in Q4 with the carry-forward used up


def test_calibration_21_reserved_and_spot_relations_seen_by_the_company():
    """CALIBRATION 21: reserved 30-60% below on-demand, spot 60-80% below."""
    game = Game(SCENARIO, 1)
    for q in range(0, 20, 4):
        m = game.world.quarter(q).gpus["h100"]
        for term, rate in m.reserved_usd_per_hour.items():
            assert 0.295 <= 1 - rate / m.on_demand_usd_per_hour <= 0.605, term  # prices quoted to 4 decimals
        assert 0.60 <= 1 - m.spot_usd_per_hour / m.on_demand_usd_per_hour <= 0.80
