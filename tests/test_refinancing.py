"""Balloons and the refinancing wall (issue 9, item 10; KB §4 "Refinancing risk": a loan that
matures must be refinanced at the rates of the day, "interest rates might be 300bps higher").

A starting loan can leave a balloon at maturity (``balloon_share``); lenders size new debt as if it
were rolled over REFINANCING_TENOR quarters; at maturity it is extended only as far as the lock-up
covenant passes at that quarter's rates, cash repays the rest, and what cash cannot is a payment
default (one cure period, then acceleration).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import pytest

from engine import lenders
from engine.advisor import advise
from engine.game import Game
from engine.money import to_cents
from engine.state import GameState, copy_state
from engine.step import advance
from scenarios import load_scenario


@lru_cache(maxsize=None)
def _scenario():
    return load_scenario("rate-shock").scenario


def _bridge():
    """rate-shock's bridge loan: the starting loan with a balloon."""
    [loan] = [ln for ln in _scenario().company.loans if ln.balloon_share > 0]
    return loan


def _played(quarters: int, seed: int = 1) -> tuple[Game, GameState]:
    """rate-shock played with no actions for ``quarters`` quarters."""
    g = Game(_scenario(), seed)
    state = g.state
    for _ in range(quarters):
        state, _ = advance(state, g.world, g.scenario, [])
    return g, state


def _take_cash(state: GameState, cents: int) -> None:
    """Pay cash out to the owners (a balanced posting): a thinner company, books still in balance."""
    state.ledger.post("Test distribution", [("cash", -cents), ("paid_in_capital", cents)], "financing")


# ---------------------------------------------------------------- formulas, worked examples


def test_extension_service_per_dollar_worked_example():
    """A dollar extended over 16 quarters at 2% a quarter costs, in its first year, 4/16 = 0.25 of
    principal plus interest on the opening balances 1, 15/16, 14/16, 13/16 (sum 3.625): 0.25 + 0.0725."""
    assert lenders.extension_service_per_dollar(0.02, 16) == pytest.approx(0.3225)
    assert lenders.extension_service_per_dollar(0.0, 16) == pytest.approx(0.25)


def test_refinancing_capacity_falls_when_sofr_rises_worked_example():
    """KB §4 "rates might be 300bps higher": a company with $52M of CFADS a year, a 1.30x covenant
    and $16M a year of other service has (52 / 1.3 - 16) = $24M of room. At SOFR 4.2% + 300 bps
    (1.80% a quarter) a 4-year extension costs 0.25 + 0.018 x 3.625 = 0.31525 per dollar in year one:
    $76.13M can be extended. Three points of SOFR later, with spreads 150 bps wider (11.7% a year)
    and $1.8M more interest on $60M of other floating debt, the room is $22.2M and a dollar costs
    0.25 + 0.02925 x 3.625 = 0.35603: $62.35M, an $80M balloon now meets a wall of $17.6M."""
    calm = lenders.refinancing_capacity_cents(52_000_000_00, 16_000_000_00, 1.30, (0.042 + 0.03) / 4, 16)
    shock = lenders.refinancing_capacity_cents(52_000_000_00, 17_800_000_00, 1.30, (0.072 + 0.045) / 4, 16)
    assert calm / 100 == pytest.approx(76_130_055, rel=1e-6)
    assert shock / 100 == pytest.approx(62_354_077, rel=1e-6)
    assert lenders.refinancing_capacity_cents(52_000_000_00, 41_000_000_00, 1.30, 0.02) == 0  # no room: nothing


def test_balloon_at_maturity_of_a_partial_balloon_worked_example():
    """$100M over 10 quarters with a 40% balloon: $6M of level principal a quarter, so from quarter 0
    the balloon at maturity is 100 - 9 x 6 - 6 = $40M; a bullet's balloon is its balance."""
    cents = 100_000_000_00
    loan = lenders.Loan(id="D1", lender="L", kind="term", principal_cents=cents, balance_cents=cents, spread_bps=400,
                        tenor_quarters=10, start_quarter=0, scheduled_principal_cents=6_000_000_00, balloon_cents=40_000_000_00)
    assert lenders.balloon_at_maturity_cents(loan, 0) == 40_000_000_00
    assert lenders.balloon_due_cents(loan, 8) == 0 and lenders.balloon_due_cents(loan, 9) == cents - 6_000_000_00
    assert lenders.principal_due(loan, 3) == 6_000_000_00


def test_starting_bullet_is_interest_only_until_maturity():
    """rate-shock's bridge: balloon_share 1.0 builds a loan with no scheduled principal and the whole
    balance as its balloon."""
    g = Game(_scenario(), 1)
    [loan] = [ln for ln in g.state.loans if ln.balloon_cents > 0]
    assert loan.balloon_cents == loan.balance_cents == to_cents(_bridge().balance_usd)
    assert loan.scheduled_principal_cents == 0 and loan.tenor_quarters == _bridge().quarters_left


def test_lender_sizing_falls_when_sofr_rises():
    """The term offer is sized on the projected interest at the current SOFR (CALIBRATION 16): the
    same company offered debt with SOFR three points higher (and the shock's wider spreads) gets less."""
    g, state = _played(1)
    wq = g.world.quarter(1)
    calm = [o for o in lenders.loan_offers(state, wq, g.scenario.rules) if o.kind in ("term", "project")]
    shocked_wq = dataclasses.replace(wq, sofr=wq.sofr + 0.03, spread_sub_ig_bps=wq.spread_sub_ig_bps + 150,
                                     spread_ig_bps=wq.spread_ig_bps + 75)
    shocked = [o for o in lenders.loan_offers(state, shocked_wq, g.scenario.rules) if o.kind in ("term", "project")]
    assert calm and shocked
    assert shocked[0].max_cents < 0.97 * calm[0].max_cents
    assert shocked[0].spread_bps > calm[0].spread_bps


def test_underwriting_rolls_the_balloon_instead_of_blocking_the_year():
    """Lenders size beside a balloon as if it were refinanced (engine.lenders.as_refinanced): the
    projection carries it over REFINANCING_TENOR quarters, never the whole balloon in one quarter."""
    g = Game(_scenario(), 1)
    [loan] = [ln for ln in g.state.loans if ln.balloon_cents > 0]
    rolled = lenders.as_refinanced(loan)
    service = lenders.projected_service([rolled], 0, 24, 0.0)
    principal = [p for _, p in service]
    last = loan.tenor_quarters - 1
    assert principal[:last] == [0] * last
    assert max(principal) == -(-loan.balloon_cents // lenders.REFINANCING_TENOR)
    assert sum(principal) == pytest.approx(loan.balloon_cents, abs=lenders.REFINANCING_TENOR)


# ---------------------------------------------------------------- the engine at maturity


def test_bullet_falls_due_at_maturity_and_posts_to_the_cent():
    """At maturity the bridge's balloon leaves the books to the cent: refinanced (a new loan from the
    next quarter) plus repaid from cash plus unpaid equals the balloon; none of it is debt service."""
    bridge = _bridge()
    g, state = _played(bridge.quarters_left - 1)
    [loan] = [ln for ln in state.loans if ln.balloon_cents > 0]
    balloon = loan.balance_cents
    ids = {ln.id for ln in state.loans}
    after, report = advance(state, g.world, g.scenario, [])
    rec = after.history[-1]
    assert rec.balloon_due_cents == balloon == to_cents(bridge.balance_usd)
    lines = report.cash_flow.lines
    repaid = -lines.get("financing:Balloon repaid", 0)
    refinanced = lines.get("financing:Balloon refinanced", 0)
    assert rec.refinanced_cents == refinanced > 0
    assert refinanced + (repaid - refinanced) + rec.balloon_unpaid_cents == balloon
    [new] = [ln for ln in after.loans if ln.id not in ids]
    assert new.principal_cents == refinanced and new.start_quarter == state.quarter + 1 and new.lender == bridge.lender
    # the old loan is gone once repaid; what is unpaid stays on it
    assert sum(ln.balance_cents for ln in after.loans if ln.id == loan.id) == rec.balloon_unpaid_cents
    # the covenant tests scheduled service: interest and level principal, not the balloon
    assert rec.debt_service_cents == -lines.get("operating:Interest paid", 0) - lines.get("financing:Debt repaid", 0)
    assert sum(after.ledger.balances.values()) == 0
    assert any(n.title in ("Balloon refinanced", "Refinancing wall") for n in report.news)


def test_lock_up_at_maturity_refinances_nothing_and_an_unpaid_balloon_defaults_then_accelerates():
    """A company in lock-up gets no extension (KB §4): cash repays what it can; the rest is a payment
    default with one cure period; unpaid a quarter later, the lenders accelerate every loan and a
    company whose cash cannot repay them is bankrupt."""
    bridge = _bridge()
    g, state = _played(bridge.quarters_left - 1)
    state = copy_state(state)
    state.covenant = "lock-up"
    _take_cash(state, state.cash_cents - 10_000_000_00)  # $10M left before the quarter's cash flow
    assert lenders.refinancing_offer(state, g.world.quarter(state.quarter), g.scenario.rules, state.loans[-1]) is None
    after, report = advance(state, g.world, g.scenario, [])
    rec = after.history[-1]
    assert rec.refinanced_cents == 0 and rec.balloon_unpaid_cents > 0
    assert after.cash_cents == 0 and rec.balloon_due_cents - rec.balloon_unpaid_cents == -report.cash_flow.lines["financing:Balloon repaid"]
    assert after.covenant == "default" and after.cure_due and rec.covenant_event == "default-notice"
    assert rec.cure_needed_cents >= rec.balloon_unpaid_cents and not after.bankrupt
    final, _ = advance(after, g.world, g.scenario, [])
    assert final.history[-1].covenant_event in ("accelerated", "foreclosed")
    assert final.bankrupt == (final.history[-1].covenant_event == "foreclosed")


def test_advisor_names_the_maturing_balloon_with_its_amount():
    """Two quarters before maturity the advisor warns about the balloon, with its amount."""
    bridge = _bridge()
    g, state = _played(bridge.quarters_left - 2)
    a = advise(state, g.world, g.scenario, [])
    [r] = [r for r in a.risks if r.kind == "ending" and "balloon" in r.message]
    assert r.severity in ("warning", "critical")
    assert r.number("balloon_cents") == to_cents(bridge.balance_usd)
    assert f"${bridge.balance_usd / 1e6:.2f}M balloon" in r.message
