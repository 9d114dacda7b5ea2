"""Issue 11 item 10: the tutorial's advice, followed headless, does well; its instructions are right."""

from __future__ import annotations

import pytest

from engine.game import Game
from scenarios import load_scenario


def _follow_the_advice(seed: int):
    """The briefing: sign the contract offers the free GPUs can serve; add no capacity without lasting demand."""
    game = Game(load_scenario("tutorial").scenario, seed)
    reports = []
    while not game.over:
        signable = [o.id for o in game.state.offers.contracts]
        plan = []
        for offer_id in signable:  # the engine refuses one the free GPUs cannot serve; keep the rest
            trial = plan + [{"kind": "sign_contract", "offer_id": offer_id}]
            if all(r.ok for r in game.check(trial)):
                plan = trial
        reports.append(game.play(plan))
    return reports


@pytest.mark.parametrize("seed", [1, 7])
def test_tutorial_advice_followed_keeps_value_and_a_positive_margin(seed):
    reports = _follow_the_advice(seed)
    passive = Game(load_scenario("tutorial").scenario, seed)
    while not passive.over:
        last_passive = passive.play([])
    assert all(r.score.verdict != "Value destroyed" for r in reports)
    assert reports[0].kpis.gross_margin > 0
    assert reports[-1].kpis.gross_margin > 0  # the objective the briefing sets
    assert reports[-1].score.score_cents > last_passive.score.score_cents  # the advice beats doing nothing


def test_tutorial_says_turned_away_demand_is_on_market():
    """The Market screen's demand table has the "Turned away" column (game/app/screens/areas.py); Fleet has none."""
    briefing = " ".join(load_scenario("tutorial").scenario.briefing.split())
    market = briefing[briefing.index("3 Market"):briefing.index("4 Contracts")]
    assert "turned away" in market
    fleet = briefing[briefing.index("2 Fleet"):briefing.index("3 Market")]
    assert "turned away" not in fleet
