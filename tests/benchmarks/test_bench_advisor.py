"""The advisor's cost (pytest-benchmark; skipped by default, run with --benchmark-only).

``engine.advisor.advise`` runs when the dashboard refreshes and when the end-quarter confirmation
opens: the plan's checks, the committed bills and one quarter played at expected values. Measured
on a mid-game state of each company with a one-action plan. No target is asserted: the numbers
go into the issue report (the confirmation's latency is slice B's benchmark).
"""

from __future__ import annotations

import pytest

from engine.advisor import advise
from engine.bots import make_bot, run_bot
from engine.game import Game
from scenarios import load_scenario


@pytest.mark.parametrize("scenario,bot", [("neocloud-2025", "barbell"), ("inference-2025", "passive")])
def test_advise_mid_game(benchmark, scenario, bot):
    game = run_bot(Game(load_scenario(scenario).scenario, 1), make_bot(bot), quarters=6)
    plan = make_bot(bot).act(game.observation())
    game.world.demand(game.state.quarter)  # the quarter's demand arrays are built by the time a player looks
    advice = benchmark(advise, game.state, game.world, game.scenario, plan)
    assert advice.forecast is not None
