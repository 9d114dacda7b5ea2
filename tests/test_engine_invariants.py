"""Property tests of the books and the action contract (DESIGN.md "The engine's contract").

Random turn plans mixing valid and invalid actions must keep, every quarter: assets equal
liabilities plus equity to the cent; cash reconcile with the cash-flow statement (and the
direct and indirect operating cash flows agree); no NaN in any report; the loans list agree
with the ledger's debt; and a rejected action change nothing.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.game import Game
from engine.state import state_hash
from scenarios import load_scenario

SCENARIO = load_scenario("neocloud-2025").scenario


def _action(draw, obs_state) -> dict:
    st_ = obs_state
    lots = [l.id for l in st_.lots] or ["L999"]
    sites = [s.id for s in st_.sites] or ["S999"]
    offers = [o.id for o in st_.offers.contracts] + ["C-nope"]
    loans = [o.id for o in st_.offers.loans] + ["T-nope"]
    equity = [o.id for o in st_.offers.equity] + ["Q-nope"]
    debt = [l.id for l in st_.loans] + ["D-nope"]
    gens = ["a100", "h100", "h200", "b200", "gb200", "x300", "z999"]
    kind = draw(st.sampled_from([
        "buy_gpus", "lease_gpus", "sell_gpus", "lease_colo", "build_site", "release_site", "set_price",
        "sign_contract", "take_loan", "repay_loan", "raise_equity", "bogus",
    ]))
    big = st.integers(min_value=-5, max_value=5_000)
    money = st.integers(min_value=-1, max_value=400_000_000)
    match kind:
        case "buy_gpus":
            return {"kind": kind, "gen": draw(st.sampled_from(gens)), "count": draw(big), "site_id": draw(st.sampled_from(sites))}
        case "lease_gpus":
            return {"kind": kind, "gen": draw(st.sampled_from(gens)), "count": draw(big), "term_quarters": draw(st.sampled_from([4, 8, 12, 5]))}
        case "sell_gpus":
            return {"kind": kind, "lot_id": draw(st.sampled_from(lots)), "count": draw(big)}
        case "lease_colo":
            return {"kind": kind, "mw": draw(st.floats(min_value=-1, max_value=30, allow_nan=False))}
        case "build_site":
            return {"kind": kind, "mw": draw(st.floats(min_value=1, max_value=200, allow_nan=False)), "power_source": draw(st.sampled_from(["grid", "stranded-gas", "ppa", "coal"]))}
        case "release_site":
            return {"kind": kind, "site_id": draw(st.sampled_from(sites))}
        case "set_price":
            return {"kind": kind, "gen": draw(st.sampled_from(gens)), "vs_market": draw(st.floats(min_value=-0.9, max_value=1.5, allow_nan=False))}
        case "sign_contract":
            return {"kind": kind, "offer_id": draw(st.sampled_from(offers))}
        case "take_loan":
            return {"kind": kind, "offer_id": draw(st.sampled_from(loans)), "amount_usd": draw(money)}
        case "repay_loan":
            return {"kind": kind, "loan_id": draw(st.sampled_from(debt)), "amount_usd": draw(money)}
        case "raise_equity":
            return {"kind": kind, "offer_id": draw(st.sampled_from(equity)), "amount_usd": draw(money)}
    return {"kind": "bogus", "x": 1}


def _no_nan(obj) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_no_nan(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_no_nan(v) for v in obj)
    return True


def _check_books(game: Game, report) -> None:
    bal, cfs, inc = report.balance, report.cash_flow, report.income
    assert bal.total_assets == bal.total_liabilities + bal.total_equity
    assert cfs.cash_begin + cfs.net_change == cfs.cash_end == bal.cash
    assert cfs.operating + cfs.investing + cfs.financing == cfs.net_change
    assert cfs.operating == cfs.operating_indirect, "direct and indirect operating cash flow disagree"
    # the balance sheet carries debt at face less the unamortized warrant discount (ASC 470-20)
    discount = sum(l.discount_cents for l in game.state.loans)
    assert game.state.ledger.balances["debt_discount"] == discount >= 0
    assert sum(l.balance_cents for l in game.state.loans) == game.state.debt_cents == bal.debt + discount
    assert sum(game.state.ledger.balances.values()) == 0
    assert inc.net_income == inc.revenue - inc.cogs - inc.opex_rnd - inc.opex_sales - inc.opex_ga + inc.other_gain_loss - inc.interest - inc.tax
    assert _no_nan(json.loads(report.model_dump_json()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(min_value=0, max_value=2**32))
def test_books_balance_and_cash_reconciles_under_random_plans(data, seed):
    game = Game(SCENARIO, seed)
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        if game.over:
            break
        plan = [_action(data.draw, game.state) for _ in range(data.draw(st.integers(min_value=0, max_value=5)))]
        report = game.play(plan)
        _check_books(game, report)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), seed=st.integers(min_value=0, max_value=1000))
def test_a_rejected_action_changes_nothing(data, seed):
    """OpenTTD's rule: an action that fails its check leaves the state exactly as it was."""
    game = Game(SCENARIO, seed)
    action = _action(data.draw, game.state)
    results = game.check([action])
    before = state_hash(game.state)
    if not results[0].ok:
        assert results[0].message
        # the quarter played with the rejected action equals the quarter played without it
        a = Game(SCENARIO, seed)
        b = Game(SCENARIO, seed)
        ra = a.play([action])
        rb = b.play([])
        assert ra.state_hash == rb.state_hash
    assert state_hash(game.state) == before


@pytest.mark.parametrize("bot", ["passive", "all-in", "flex", "barbell"])
def test_bots_keep_the_books_balanced_for_a_whole_game(bot):
    from engine.bots import make_bot

    game = Game(SCENARIO, 3)
    b = make_bot(bot)
    while not game.over:
        report = game.play(b.act(game.observation()))
        _check_books(game, report)
