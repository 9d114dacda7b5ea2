"""The two inference scenarios of the pack (issue 6): ``price-war`` and ``cannibalization``.

Every bot keeps the books on three seeds, and each lesson shows up against a counterfactual:
the same scenario with its scripted events removed, or the same company not launching.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from engine.bots import BOTS, Barbell, make_bot
from engine.game import Game
from engine.inference import market_output_price
from scenarios import load_scenario
from tests.test_engine_invariants import _check_books

SEEDS = (0, 1, 2)


@lru_cache(maxsize=None)
def _scenario(name: str, calm: bool = False):
    sc = load_scenario(name).scenario
    if calm:
        sc = sc.model_copy(update={"world": sc.world.model_copy(update={"events": ()})})
    return sc


@pytest.mark.parametrize("name", ["price-war", "cannibalization"])
@pytest.mark.parametrize("bot", sorted(BOTS))
def test_every_bot_keeps_the_books_on_three_seeds(name, bot):
    for seed in SEEDS:
        game = Game(_scenario(name), seed)
        b = make_bot(bot)
        while not game.over:
            _check_books(game, game.play(b.act(game.observation())))


def test_price_war_cuts_token_prices_and_the_low_cost_producer_keeps_its_margin():
    """KB §1 "pricing as a weapon": the rival's war takes market token prices down ~40% in its
    quarters, every company's margin collapses, and the one that shipped the optimization
    roadmap meanwhile comes out of it serving tokens cheaper, at a better margin, than the same
    company without it."""
    sc, calm = _scenario("price-war"), _scenario("price-war", calm=True)
    war, peace = Game(sc, 1), Game(calm, 1)
    params = sc.rules.inference
    for q in range(2, 6):  # 2025Q3 .. 2026Q2
        a = market_output_price(war.world.quarter(q), params, "llama-3.1-70b")
        b = market_output_price(peace.world.quarter(q), params, "llama-3.1-70b")
        assert a < 0.7 * b
    assert market_output_price(war.world.quarter(7), params, "llama-3.1-70b") == pytest.approx(
        market_output_price(peace.world.quarter(7), params, "llama-3.1-70b"), rel=0.05)

    def play(roadmap: bool, scenario):
        bot = Barbell()
        bot.roadmap = roadmap
        game = Game(scenario, 1)
        while not game.over:
            game.play(bot.act(game.observation()))
        return game

    lean, fat, calm_game = play(True, sc), play(False, sc), play(True, calm)

    def gm(game, quarters):
        rs = game.reports[quarters]
        return sum(r.income.gross_profit for r in rs) / sum(r.income.revenue for r in rs)

    war, after = slice(2, 6), slice(6, 12)
    assert gm(lean, war) < gm(calm_game, war) - 0.3  # the war hurts everyone
    assert gm(lean, after) > gm(fat, after)
    cost = lambda g: sum(r.inference.cost_per_m_tokens for r in g.reports[after]) / 6  # noqa: E731
    assert cost(lean) < cost(fat)


def test_cannibalization_inference_earns_more_per_gpu_hour_but_takes_rental_revenue():
    """KB §2 "The Strategic Tension": GPUs moved to managed inference earn more per GPU-hour than
    rented ones, and the rental line loses what they used to earn."""
    sc = _scenario("cannibalization")
    launch = Game(sc, 1)
    stay = Game(sc, 1)
    plan = [
        {"kind": "dedicate_gpus", "gen": "h100", "count": 512},
        {"kind": "deploy_model", "model": "llama-3.1-70b", "gen": "h100", "precision": "fp8", "replicas": 64},
        {"kind": "deploy_model", "model": "llama-3.1-8b", "gen": "h100", "precision": "fp8", "replicas": 64},
    ]
    r_launch = launch.play(plan)
    r_stay = stay.play([])
    assert all(a.ok for a in r_launch.actions), [a.message for a in r_launch.actions]
    k = r_launch.kpis
    assert k.revenue_per_gpu_hour_inference > k.revenue_per_gpu_hour_rental
    rental = lambda r: r.income.revenue - r.income.rev_tokens  # noqa: E731
    assert rental(r_launch) < rental(r_stay)  # the cannibalized line
    assert r_launch.income.rev_tokens > 0


def test_the_whole_pack_is_there():
    """Issue 6: at least eight scenarios, the two open games among them."""
    from scenarios import scenario_paths

    ids = {p.stem for p in scenario_paths()}
    assert {"tutorial", "neocloud-2025", "inference-2025", "abilene", "deflation", "viral-spike", "blackwell",
            "rate-shock", "price-war", "cannibalization"} <= ids
    for i in ids:
        sc = load_scenario(i).scenario
        assert sc.briefing.strip() and sc.objectives and sc.lesson and sc.difficulty
