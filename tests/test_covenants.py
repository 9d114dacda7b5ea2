"""Debt that honors its covenant, covenants that accelerate instead of killing (issue 9, items 3, 3b, 6).

KB §4: lenders size by DSCR on underwritten cash flow; DESIGN.md Finance/Covenants: default
accelerates the loan, cash repays it with a prepayment fee, an equity cure is offered, and only a
company that cannot pay is bankrupt; lock-up holds until the covenant is cured over test periods.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import lenders
from engine.bots import make_bot
from engine.finance import annuity_schedule, equity_cure, level_principal_capacity, sculpted_principal_shares
from engine.game import Game
from engine.state import QuarterRecord
from engine.step import advance
from scenarios import load_scenario


@lru_cache(maxsize=None)
def _scenario(name: str):
    return load_scenario(name).scenario


def _record(q: int, cfads: int, service: int, cure: int = 0) -> QuarterRecord:
    return QuarterRecord(quarter=q, revenue_cents=0, contracted_revenue_cents=0, ebitda_cents=cfads, cash_taxes_cents=0,
                         cfads_cents=cfads, debt_service_cents=service, equity_cure_cents=cure)


# --- formulas -------------------------------------------------------------------------------


def test_calibration_14_level_principal_capacity_is_sized_on_the_first_period():
    """CALIBRATION 14: $1B at 8% over 5 years, level principal, pays $280M in year 1. A lender that
    allows $280M of service a year can therefore lend exactly $1B on a level schedule (not the
    ~$1.12B an annuity of $280M would support)."""
    assert level_principal_capacity([280e6] * 5, 0.08) == pytest.approx(1e9)
    assert annuity_schedule(1.118e9, 0.08, 5)[0].debt_service == pytest.approx(280e6, rel=1e-3)
    # a quarter with less room binds: the loan fits every period, not the average
    assert level_principal_capacity([280e6, 100e6, 280e6, 280e6, 280e6], 0.08) == pytest.approx(100e6 / (0.2 + 0.08 * 4 / 5))


def test_sculpted_shares_of_a_level_service_are_the_annuity_principal():
    """CALIBRATION 16: sculpting flat cash flow is an annuity; its principal grows as interest shrinks."""
    shares = sculpted_principal_shares([100.0] * 8, 0.02)
    rows = annuity_schedule(sum(100.0 * 1.02 ** -t for t in range(1, 9)), 0.02, 8)
    assert sum(shares) == pytest.approx(1.0)
    assert shares == pytest.approx([r.principal / sum(x.principal for x in rows) for r in rows])
    assert all(a < b for a, b in zip(shares, shares[1:]))


def test_equity_cure_worked_example():
    """CALIBRATION 15 with the KB §4 1.3x covenant: $250M of CFADS on $280M of service (0.89x) needs
    1.3 x 280 - 250 = $114M of equity; a company above the covenant needs none."""
    assert equity_cure(250e6, 280e6, 1.3) == pytest.approx(114e6)
    assert equity_cure(400e6, 280e6, 1.3) == 0.0
    assert (250e6 + equity_cure(250e6, 280e6, 1.3)) / 280e6 == pytest.approx(1.3)


# --- the window -----------------------------------------------------------------------------


def test_trailing_dscr_uses_matching_windows():
    """Issue 9: four quarters of CFADS over one quarter of service read 10x against 2.56x for the
    quarter. The window is the quarters in which service was due, on both sides of the ratio."""
    game = Game(_scenario("neocloud-2025"), 1)
    s = game.state
    s.history = [_record(0, 100, 0), _record(1, 100, 0), _record(2, 100, 0), _record(3, 100, 39)]
    assert lenders.trailing_dscr(s) == pytest.approx(100 / 39)
    s.history += [_record(4, 50, 0), _record(5, 80, 40)]
    # a quarter without debt service ends the window: the loan repaid in quarter 3 is not the new one's test
    assert lenders.trailing_dscr(s) == pytest.approx(80 / 40)
    s.history += [_record(6, 90, 30), _record(7, 90, 30), _record(8, 90, 30)]
    assert lenders.trailing_dscr(s) == pytest.approx((80 + 270) / (40 + 90))  # only the last four service quarters
    assert lenders.equity_cure_cents(s, 3.0) == round(3.0 * 130 - 350)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**9, 10**9), st.integers(0, 10**8)), min_size=1, max_size=9))
def test_trailing_dscr_window_only_has_service_quarters(rows):
    game = Game(_scenario("neocloud-2025"), 1)
    s = game.state
    s.history = [_record(i, c, d) for i, (c, d) in enumerate(rows)]
    window: list = []  # the latest run of consecutive quarters with service, at most four
    for c, d in reversed(rows):
        if d > 0:
            window.append((c, d))
            if len(window) == 4:
                break
        elif window:
            break
    value = lenders.trailing_dscr(s)
    if not window:
        assert value is None
    else:
        assert value == pytest.approx(sum(c for c, _ in window) / sum(d for _, d in window))


# --- lenders honor their own covenant (3b) ---------------------------------------------------


def _drawable_sets(game: Game) -> list[list]:
    """Every cash-flow offer of the quarter drawn together; an offer made instead of another
    (``alternative_to``) is drawn in place of that one."""
    offers = [o for o in game.state.offers.loans if o.kind != "venture"]
    sets = [[o for o in offers if not o.alternative_to]]
    for alt in (o for o in offers if o.alternative_to):
        sets.append([o for o in offers if o.id != alt.alternative_to])
    return [x for x in sets if x]


@pytest.mark.parametrize("name", ["abilene", "neocloud-2025", "rate-shock", "deflation"])
def test_every_offer_drawn_in_full_passes_its_own_test(name):
    """3b: for states reached by the built-in bots, drawing every offer of the quarter at its maximum
    gives a projected first-year DSCR (the lender's CFADS after tax over all scheduled service,
    existing debt included) at or above the offers' target, and the next quarter's realized DSCR
    stays above the default level when nothing else changes."""
    sc = _scenario(name)
    checked = 0
    for bot, seed in (("barbell", 1), ("barbell", 2), ("all-in", 1), ("all-in", 2), ("flex", 1)):
        game, b = Game(sc, seed), make_bot(bot)
        while not game.over:
            s = game.state
            for offers in _drawable_sets(game) if s.history else []:
                wq = game.world.quarter(s.quarter)
                u = lenders.underwrite(s, sc.rules, wq.sofr)
                new = [lenders.loan_from_offer(o, o.max_cents, f"X{i}", s.quarter) for i, o in enumerate(offers)]
                # a balloon in the year counts as the lenders project it: rolled over (engine.lenders.as_refinanced)
                service = lenders.projected_service([lenders.as_refinanced(l) for l in s.loans] + new, s.quarter, 4, wq.sofr)
                projected = sum(u.quarterly_cfads_cents[:4]) / sum(i + p for i, p in service)
                assert projected >= min(o.target_dscr for o in offers) * (1 - 1e-6), (bot, game.quarter_label, offers)
                draws = [{"kind": "take_loan", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in offers]
                after, rep = advance(s, game.world, sc, draws)
                assert all(r.ok for r in rep.actions), [r.message for r in rep.actions]
                last = after.history[-1]
                assert last.cfads_cents / last.debt_service_cents >= sc.rules.covenant_default_dscr, (bot, game.quarter_label)
                assert after.covenant != "default"
                checked += 1
            game.play(b.act(game.observation()))
    assert checked >= 1  # deflation offers debt in only a couple of quarters


def test_abilene_seed7_anchor_and_t1_at_max_no_longer_default():
    """Issue 9: abilene seed 7, anchor signed, T1 drawn at its maximum in 2025Q4 defaulted in 2026Q3
    (service $47.91M against $29.94M allowed). Sized and repaid on the same sculpted schedule, the
    loan's quarters stay above the lender's own 1.35x target with the business unchanged."""
    sc = _scenario("abilene")
    game = Game(sc, 7)
    anchor = game.state.offers.contracts[0]
    game.play([{"kind": "sign_contract", "offer_id": anchor.id}])
    t1 = next(o for o in game.state.offers.loans if o.kind == "project")
    assert t1.amortization == "sculpted" and t1.target_dscr == pytest.approx(1.35)
    game.play([{"kind": "take_loan", "offer_id": t1.id, "amount_usd": t1.max_cents // 100}])
    for _ in range(8):
        game.play([])
        last = game.state.history[-1]
        assert last.cfads_cents / last.debt_service_cents >= 1.35, game.quarter_label
        assert game.state.covenant == "ok" and not game.state.bankrupt


def test_contracts_lengthen_the_sculpted_loan_and_cut_its_spread():
    """CALIBRATION 16-17 / KB §4: an investment-grade 15-year contract gives a 12-year sculpted
    project loan at ~SOFR + 250; its repayment follows the projected cash flow (shares sum to one)."""
    sc = _scenario("abilene")
    game = Game(sc, 7)
    game.play([{"kind": "sign_contract", "offer_id": game.state.offers.contracts[0].id}])
    project = next(o for o in game.state.offers.loans if o.kind == "project")
    wq = game.world.quarter(game.state.quarter)
    assert project.tenor_quarters >= 40
    assert project.spread_bps == pytest.approx(wq.spread_ig_bps, abs=20)
    assert len(project.principal_shares) == project.tenor_quarters and sum(project.principal_shares) == pytest.approx(1.0)


# --- acceleration, cure, lock-up (3) -----------------------------------------------------------


def _in_default(name: str = "neocloud-2025", seed: int = 1) -> Game:
    """A game one test away from acceleration: the cure period is running and the history is weak."""
    game = Game(_scenario(name), seed)
    game.play([])
    game.play([])
    s = game.state
    assert s.debt_cents > 0
    s.covenant, s.cure_due, s.breaches_in_row = "default", True, 1
    s.history = [_record(q, -5_000_000_00, 2_000_000_00) for q in range(len(s.history))]
    return game


def test_uncured_default_accelerates_and_cash_repays_with_a_fee():
    """DESIGN.md Covenants: after the cure period the lenders call every loan; a company whose cash
    covers the balances repays them plus the prepayment fee and keeps playing, in lock-up."""
    game = _in_default()
    s = game.state
    due_before = s.debt_cents
    report = game.play([])
    s = game.state
    last = s.history[-1]
    assert last.covenant_event == "accelerated"
    assert not s.bankrupt and not game.over
    assert s.debt_cents == 0 and all(l.balance_cents == 0 for l in s.loans)
    assert last.accelerated_cents > 0 and last.accelerated_cents <= due_before
    assert last.prepayment_fee_cents == round(last.accelerated_cents * lenders.PREPAYMENT_FEE)
    assert s.covenant == "lock-up" and not s.offers.loans
    assert any(n.title == "Lenders accelerate" for n in report.news)
    assert report.kpis.covenant_event == "accelerated" and report.kpis.accelerated_cents == last.accelerated_cents
    assert report.balance.total_assets == report.balance.total_liabilities + report.balance.total_equity


def test_default_notice_names_the_equity_cure():
    """The first failing test opens one cure period and names the equity that restores the lock-up level."""
    game = _in_default()
    s = game.state
    s.cure_due, s.covenant = False, "lock-up"
    report = game.play([])
    last = game.state.history[-1]
    assert last.covenant_event == "default-notice" and game.state.cure_due
    assert last.cure_needed_cents == lenders.equity_cure_cents(game.state, _scenario("neocloud-2025").rules.covenant_lockup_dscr) > 0
    assert any("equity cure" in w for w in report.warnings)


def test_lock_up_is_not_reset_by_repaying_in_full():
    """Issue 9: repaying in full used to reset the covenant to "none" and bring full offers back the
    next quarter. Lock-up now needs two tests in a row at the lock-up level (CFADS against the
    service the company carried) before lenders return."""
    game = Game(_scenario("neocloud-2025"), 1)
    game.play([])
    s = game.state
    s.covenant = "lock-up"
    repay = [{"kind": "repay_loan", "loan_id": l.id, "amount_usd": l.balance_cents // 100} for l in s.loans if l.balance_cents > 0]
    game.play(repay)
    s = game.state
    assert s.debt_cents == 0 and s.covenant == "lock-up" and s.clean_tests == 1
    assert not [o for o in s.offers.loans if o.kind != "venture"]
    report = game.play([])
    assert lenders.dscr_without_debt(game.state) >= 1.3  # the test it passed
    assert game.state.covenant == "none" and game.state.history[-1].covenant_event == "released"
    assert report.kpis.dscr is None and report.kpis.covenant_event == "released"  # no debt left: status "none"


@pytest.mark.parametrize("name", ["neocloud-2025", "abilene", "rate-shock", "deflation", "blackwell"])
def test_a_company_whose_cash_covers_its_debt_is_never_bankrupt_through_a_covenant_test(name):
    """Issue 9 item 13 invariant, with the passive bot (which used to die with $82.9M of cash against
    $6.6M of debt in neocloud-2025 seed 1): a foreclosure only happens when cash is below the debt."""
    sc = _scenario(name)
    for seed in (1, 2, 3):
        game, bot = Game(sc, seed), make_bot("passive")
        while not game.over:
            game.play(bot.act(game.observation()))
            s = game.state
            if s.history[-1].covenant_event == "foreclosed":
                assert s.bankrupt and s.cash_cents < s.debt_cents, (seed, game.quarter_label)
            if s.bankrupt and "lenders" in s.end_reason.lower():
                assert s.history[-1].covenant_event == "foreclosed"


def test_raising_the_named_equity_cure_avoids_acceleration():
    """DESIGN.md Covenants: the equity the default notice names, raised in the cure period, counts as
    cash flow in the next test and cures the default: no acceleration, the loans stay in place."""
    game = _in_default()
    s = game.state
    s.cure_due, s.covenant = False, "lock-up"
    game.play([])
    cure = game.state.history[-1].cure_needed_cents
    assert game.state.cure_due and cure > 0
    offers = game.state.offers.equity
    if not offers or offers[0].max_cents < cure:
        pytest.skip("no equity offer large enough in this state")
    debt = game.state.debt_cents
    report = game.play([{"kind": "raise_equity", "offer_id": offers[0].id, "amount_usd": cure // 100 + 1}])
    last = game.state.history[-1]
    assert last.equity_cure_cents >= cure
    assert last.covenant_event == "cured" and report.kpis.dscr >= _scenario("neocloud-2025").rules.covenant_default_dscr
    assert not game.state.cure_due and game.state.covenant == "lock-up"
    assert last.accelerated_cents == 0 and 0 < game.state.debt_cents <= debt


def test_an_equipment_offer_made_instead_of_the_term_loan_is_withdrawn_when_either_is_drawn():
    """Both lenders size on the same cash flow: when the term loan leaves the equipment lender no
    room, its offer stands instead of the term loan and drawing one withdraws the other."""
    found = 0
    for name in ("neocloud-2025", "rate-shock", "blackwell"):
        sc = _scenario(name)
        for seed in (1, 2):
            game, bot = Game(sc, seed), make_bot("barbell")
            while not game.over:
                offers = game.state.offers.loans
                alt = next((o for o in offers if o.alternative_to), None)
                if alt is not None:
                    term = next(o for o in offers if o.id == alt.alternative_to)
                    both = [{"kind": "take_loan", "offer_id": term.id, "amount_usd": term.max_cents // 100},
                            {"kind": "take_loan", "offer_id": alt.id, "amount_usd": alt.max_cents // 100}]
                    results = game.check(both)
                    assert results[0].ok and not results[1].ok and "no loan offer" in results[1].message
                    assert game.check(both[1:])[0].ok
                    found += 1
                game.play(bot.act(game.observation()))
    assert found >= 1


@settings(max_examples=40, deadline=None)
@given(leases=st.lists(st.tuples(st.integers(min_value=0, max_value=4096), st.floats(min_value=0, max_value=10),
                                 st.integers(min_value=-3, max_value=60), st.booleans()), max_size=8),
       q=st.integers(min_value=0, max_value=20))
def test_leases_ended_equals_the_ended_leases_summed_each_quarter(leases, q):
    """Issue 10 item 12: the lender's projection (KB §4) drops each lease from the quarter it ends.
    leases_ended adds each lease once; the definition re-sums the ended leases every quarter."""
    base = Game(_scenario("neocloud-2025"), 1).state.lots[0]
    lots = [base.model_copy(update={"id": f"L{i}", "count": count, "ownership": "leased" if leased else "owned",
                                    "lease_usd_per_hour": rate, "lease_end_quarter": q + end})
            for i, (count, rate, end, leased) in enumerate(leases)]
    n = lenders.PROJECTION_QUARTERS
    gone, saved = lenders.leases_ended(lots, q, n)
    for k in range(n):
        ended = [lot for lot in lots if lot.ownership == "leased" and lot.lease_end_quarter <= q + k]
        assert gone[k] == sum(lot.count for lot in ended)
        assert saved[k] == sum(lenders.to_cents(lenders.lease_payment_usd(lot.count, lot.lease_usd_per_hour)) for lot in ended)


@settings(max_examples=40, deadline=None)
@given(loans=st.lists(st.tuples(st.integers(min_value=0, max_value=10**11), st.floats(min_value=0, max_value=1500),
                                st.integers(min_value=1, max_value=48), st.integers(min_value=-10, max_value=10),
                                st.sampled_from(["level", "sculpted"]),
                                st.lists(st.integers(min_value=0, max_value=10**10), max_size=20)), max_size=6),
       sofr=st.floats(min_value=0, max_value=0.1), first=st.integers(min_value=0, max_value=30))
def test_projected_service_equals_the_quarter_by_quarter_definition(loans, sofr, first):
    """Issue 10 item 12 projects the existing debt loan by loan; the definition (KB §4, as engine.step
    services it) walks the quarters, each live loan's interest then its scheduled principal."""
    objs = [lenders.Loan(id=f"D{i}", lender="L", kind="term", principal_cents=bal, balance_cents=bal, spread_bps=spread,
                         tenor_quarters=tenor, start_quarter=first + start, scheduled_principal_cents=-(-bal // tenor),
                         amortization=amort, principal_schedule_cents=schedule)
            for i, (bal, spread, tenor, start, amort, schedule) in enumerate(loans)]
    balances = {loan.id: loan.balance_cents for loan in objs}
    expected = []
    for k in range(lenders.PROJECTION_QUARTERS):
        interest = principal = 0
        for loan in objs:
            if balances[loan.id] <= 0:
                continue
            interest += lenders.quarterly_interest_cents(balances[loan.id], loan.spread_bps, sofr)
            p = lenders.principal_due(loan, first + k, balances[loan.id])
            balances[loan.id] -= p
            principal += p
        expected.append((interest, principal))
    assert lenders.projected_service(objs, first, lenders.PROJECTION_QUARTERS, sofr) == expected
