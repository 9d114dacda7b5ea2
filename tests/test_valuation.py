"""Valuation on cash generation and leases on the books (issue 9 items 1 and 2; KB §18 "The
Investor and IPO Lens"; CALIBRATION 26; ASC 842 / IFRS 16)."""

from types import SimpleNamespace

import pytest

import scenarios
from engine import valuation as val
from engine.bots import make_bot
from engine.game import Game
from engine.leases import incremental_borrowing_rate, lease_liability_cents, present_value_of_payments
from engine.score import bridge_lines
from engine.state import QuarterRecord


def _records(revenue, ebitda, dep, gross, gpus=(1000.0,)):
    n = len(revenue)
    gpus = list(gpus) * n if len(gpus) == 1 else list(gpus)
    return [
        QuarterRecord(
            quarter=i, revenue_cents=revenue[i], contracted_revenue_cents=0, ebitda_cents=ebitda[i], cash_taxes_cents=0,
            cfads_cents=ebitda[i], debt_service_cents=0, depreciation_cents=dep[i], cash_gross_profit_cents=gross[i],
            gpus_in_service=gpus[i],
        )
        for i in range(n)
    ]


M = 100_000_000  # $1M in cents


def _value(records, contracts=(), liquidation=0, capital=0):
    return val.value(records, list(contracts), len(records), [(6.0, 17.0)] * 4, 0.07, liquidation, capital)


def test_kb18_infrastructure_multiple_becomes_an_earnings_multiple():
    """KB §18: infrastructure growing 50% trades at 5-8x revenue; at the 50% operating margin it
    assumes, 6x revenue is 12x owner earnings, and the same company with no growth gets 60% of it."""
    assert val.earnings_multiple(6.0, 17.0, 0.0, 0.5) == pytest.approx(12.0)
    assert val.earnings_multiple(6.0, 17.0, 0.0, 0.0) == pytest.approx(7.2)
    # software-delivered inference: 17x revenue at a 40% margin
    assert val.earnings_multiple(6.0, 17.0, 1.0, 0.5) == pytest.approx(42.5)


def test_calibration26_growth_raises_the_multiple_and_shrinkage_lowers_it():
    assert val.growth_factor(0.5) == pytest.approx(1.0)
    assert val.growth_factor(1.0) > val.growth_factor(0.5) > val.growth_factor(0.0) > val.growth_factor(-0.3)
    lo, hi = val.GROWTH_FACTOR_BOUNDS
    assert val.growth_factor(50.0) == hi and val.growth_factor(-50.0) == lo


def test_calibration26_revenue_at_zero_margin_is_worth_nothing():
    """A dollar of revenue earned at zero margin adds about nothing (CALIBRATION 26)."""
    base = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8)
    more = _records([300 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8)  # +$200M/qtr of revenue, no margin on it
    assert _value(more).enterprise_value_cents == _value(base).enterprise_value_cents
    nothing = _records([100 * M] * 8, [20 * M] * 8, [20 * M] * 8, [60 * M] * 8)  # EBITDA only pays for the fleet
    assert _value(nothing).operating_value_cents == 0


def test_owner_earnings_worked_example():
    """$40M EBITDA - $20M depreciation a quarter = $80M a year; flat gross profit for two years
    means no growth: 6x / 0.5 x 0.6 = 7.2x, an operating value of $576M."""
    v = _value(_records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8))
    assert v.owner_earnings_cents == 80 * M
    assert v.growth == pytest.approx(0.0)
    assert v.multiple == pytest.approx(7.2)
    assert v.operating_value_cents == 576 * M


def test_one_quarter_cannot_swing_the_multiple():
    """The issue measured an outage that idled half the fleet raising the score 21%: growth is
    measured on a year of cash gross profit against the year before, so a quarter that halves
    gross profit lowers the multiple, and by less than a fifth."""
    steady = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8)
    dip = _records([100 * M] * 8, [40 * M] * 7 + [10 * M], [20 * M] * 8, [60 * M] * 7 + [30 * M])
    ratio = _value(dip).multiple / _value(steady).multiple
    assert 0.8 <= ratio < 1.0
    assert _value(dip).enterprise_value_cents < _value(steady).enterprise_value_cents


def test_a_fleet_sold_in_the_last_quarter_is_not_valued_on_the_year_it_earned():
    held = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8)
    sold = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8, gpus=[1000.0] * 7 + [0.0])
    assert val.run_rate_factor([1000.0] * 7 + [0.0]) == 0.0
    assert _value(sold).operating_value_cents == 0 < _value(held).operating_value_cents


def test_capacity_added_during_the_year_is_valued_on_a_full_year_up_to_the_last_quarters_pace():
    """CALIBRATION 26 run-rate (issue 9, the valuation horizon): GPUs that joined during the trailing
    year count for the whole year they will earn, so a company that stops investing in its last year
    (the harvest exploit) is not paid for it; never beyond the last quarter x 4, which is what the
    new capacity has shown it earns."""
    assert val.run_rate_factor([1000.0, 1000.0, 1500.0, 1500.0]) == 1500 / 1250
    # 1,000 GPUs earn $20M a quarter after depreciation; 500 more join for the last two quarters and earn their share
    grew = _records([100 * M] * 6 + [150 * M] * 2, [40 * M] * 6 + [60 * M] * 2, [20 * M] * 6 + [30 * M] * 2,
                    [60 * M] * 6 + [90 * M] * 2, gpus=[1000.0] * 6 + [1500.0] * 2)
    v = _value(grew)
    assert v.owner_earnings_cents == 100 * M  # the trailing year: two quarters at 1,000 GPUs, two at 1,500
    assert v.run_rate_factor == pytest.approx(1.2)
    assert v.run_rate_earnings_cents == 120 * M  # a full year of the 1,500-GPU fleet: $30M a quarter x 4
    assert not v.latest_quarter_binds
    # a fleet grown five-fold in the last quarter: the last quarter's results bound it, not the GPU count
    jump = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8, gpus=[1000.0] * 7 + [5000.0])
    v = _value(jump)
    assert val.run_rate_factor([1000.0] * 7 + [5000.0]) == 2.5
    assert v.latest_quarter_binds and v.run_rate_earnings_cents == (40 * M - 20 * M) * 4


def test_contracted_margin_is_worth_more_than_merchant_margin():
    """KB §18: contracted revenue is valued almost like a bond: the backlog adds the margin still
    owed, discounted; a contract below the company's cash cost subtracts."""
    records = _records([100 * M] * 8, [40 * M] * 8, [20 * M] * 8, [60 * M] * 8, gpus=(10_000.0,))  # $1.83/h cash cost
    above = SimpleNamespace(status="active", start_quarter=0, end_quarter=20, gpus=1000, usd_per_gpu_hour=2.20)
    below = SimpleNamespace(status="active", start_quarter=0, end_quarter=20, gpus=1000, usd_per_gpu_hour=0.10)
    merchant = _value(records)
    assert _value(records, [above]).enterprise_value_cents > merchant.enterprise_value_cents
    assert _value(records, [below]).backlog_value_cents < 0
    # 12 quarters of $X margin at 7%/yr discount: the annuity factor
    one = val.backlog_value_cents([above], 8, 0.0, 0.07)
    q_margin = 1000 * 2184 * 2.20
    assert one == pytest.approx(present_value_of_payments(q_margin, 12, 0.07) * 100, rel=1e-9)


def test_liquidation_value_is_a_floor_and_capital_in_progress_counts_at_cost():
    loss = _records([100 * M] * 4, [0] * 4, [20 * M] * 4, [10 * M] * 4)
    v = _value(loss, liquidation=300 * M, capital=50 * M)
    assert v.operating_value_cents == 0
    assert v.enterprise_value_cents == 350 * M


def test_lease_present_value_worked_example():
    """$1M a quarter for 4 quarters at 8% a year (2% a quarter): 1M x (1 - 1.02^-4) / 0.02 = $3.8077M."""
    assert present_value_of_payments(1_000_000, 4, 0.08) == pytest.approx(3_807_728.6, abs=1)
    assert present_value_of_payments(1_000_000, 4, 0.0) == 4_000_000
    assert present_value_of_payments(1_000_000, 0, 0.08) == 0
    assert incremental_borrowing_rate(0.043, 400) == pytest.approx(0.083)


def _game(scenario="neocloud-2025", seed=1):
    return Game(scenarios.load_scenario(scenario).scenario, seed)


def test_a_gpu_lease_is_on_the_balance_sheet_and_counts_as_debt_in_the_score():
    """ASC 842 / IFRS 16: a 12-quarter lease creates a right-of-use asset and a lease liability
    equal to the 11 quarters of payments still owed, discounted; the score subtracts it."""
    g = _game()
    rep = g.play([{"kind": "lease_gpus", "gen": "h100", "count": 256, "term_quarters": 12}])
    assert rep.actions[0].ok, rep.actions[0].message
    lot = next(l for l in g.state.lots if l.ownership == "leased" and l.ordered_quarter == 0 and l.count == 256)
    expected = lease_liability_cents(lot, 1)
    assert expected > 0
    assert rep.balance.lease_liabilities >= expected
    assert rep.balance.rou_assets == rep.balance.lease_liabilities
    assert rep.balance.total_assets == rep.balance.total_liabilities + rep.balance.total_equity
    assert rep.score.lease_liability_cents == rep.balance.lease_liabilities
    assert rep.score.net_debt_cents == rep.balance.debt + rep.balance.lease_liabilities - rep.balance.cash
    # the liability runs off as the payments are made
    before = rep.balance.lease_liabilities
    rep2 = g.play([])
    assert rep2.balance.lease_liabilities < before
    assert rep2.balance.rou_assets == rep2.balance.lease_liabilities


def test_start_value_is_the_engines_own_valuation_after_one_quiet_quarter():
    """Doing nothing must not score as success (issue 9, 3c): after one quarter without
    decisions the founders' stake equals the yardstick exactly."""
    for name in ("neocloud-2025", "inference-2025", "abilene", "rate-shock"):
        g = _game(name)
        rep = g.play([])
        assert rep.score.score_cents == g.state.start_value_cents > 0, name
        assert rep.score.verdict == "Treading water", name


def test_leasing_everything_in_the_final_quarter_does_not_raise_the_score():
    """The issue measured +18% from leasing the maximum of every generation on 12-quarter terms
    in the final quarter: the liability now outweighs one quarter of results."""
    bot = make_bot("all-in")
    a, b = _game(seed=3), _game(seed=3)
    while a.state.quarter < a.state.quarters - 1 and not a.over:
        actions = bot.act(a.observation())
        a.play(actions)
        b.play(actions)
    if a.over:
        pytest.skip("the bot's game ended early on this seed")
    last = bot.act(a.observation())
    plain = a.play(last)
    stuffed_actions = list(last)
    for gen, m in b.world.quarter(b.state.quarter).gpus.items():
        stuffed_actions.append({"kind": "lease_gpus", "gen": gen, "count": 100_000, "term_quarters": 12})
    results = b.check(stuffed_actions)
    ok = [x for x, r in zip(stuffed_actions, results) if r.ok or x in last]
    for x, r in zip(stuffed_actions, results):
        if not r.ok and x["kind"] == "lease_gpus":  # ask for what the lessors allow
            limit = "".join(ch for ch in r.message.split("at most")[-1].split()[0] if ch.isdigit()) if "at most" in r.message else ""
            if limit:
                ok.append({**x, "count": int(limit)})
    stuffed = b.play(ok)
    assert stuffed.balance.lease_liabilities > plain.balance.lease_liabilities
    assert stuffed.score.score_cents <= plain.score.score_cents


def test_bridge_lines_end_at_the_score():
    g = _game()
    rep = g.play([])
    rows = bridge_lines(rep.score)
    assert rows[-1][0] == "= score"
    assert any("lease liabilities" in label for label, _ in rows)


def test_a_colo_lease_commits_its_term_and_leaving_early_pays_what_is_owed():
    """ASC 842 / IFRS 16 for colocation (KB §8 $/kW/month): a colo lease commits its rent for
    ``colo_term_quarters``; the liability is those quarters of rent, discounted, from the quarter
    the site opens; releasing it early pays the rest, as colocation rent that quarter."""
    from engine.leases import colo_liability_cents, colo_rent_usd

    g = _game()
    term = g.scenario.rules.colo_term_quarters
    rep = g.play([{"kind": "lease_colo", "mw": 2}])
    assert rep.actions[0].ok, rep.actions[0].message
    site = next(s for s in g.state.sites if s.kind == "colo" and s.mw == 2)
    rent = colo_rent_usd(site.mw, site.colo_usd_per_kw_month)
    assert site.lease_end_quarter == 1 + term
    assert colo_liability_cents(site, 1) == round(present_value_of_payments(rent, term, site.lease_discount_rate) * 100)
    before = rep.balance.lease_liabilities
    assert before >= colo_liability_cents(site, 1) > 0
    assert rep.balance.rou_assets == rep.balance.lease_liabilities
    owed = colo_liability_cents(site, g.state.quarter)
    rep2 = g.play([{"kind": "release_site", "site_id": site.id}])
    assert rep2.actions[0].ok and "still owed" in rep2.actions[0].message
    assert rep2.income.cogs_colo >= owed  # the rest of the term's rent, paid now
    assert rep2.cash_flow.operating == rep2.cash_flow.operating_indirect
    assert colo_liability_cents(g.state.site(site.id), g.state.quarter) == 0
    assert rep2.balance.lease_liabilities < before
    assert rep2.balance.total_assets == rep2.balance.total_liabilities + rep2.balance.total_equity
