"""Benchmark: one quarter of the managed-inference company with 4 models and 4 segments (issue 4)."""

from engine.game import Game
from engine.step import advance
from scenarios import load_scenario

SCENARIO = load_scenario("inference-2025").scenario


def _four_model_state():
    game = Game(SCENARIO, 1)
    game.play([
        {"kind": "rent_gpus", "gen": "h100", "on_demand": 256, "spot": 64},
        {"kind": "deploy_model", "model": "mixtral-8x7b", "gen": "h100", "precision": "fp8", "replicas": 8},
        {"kind": "deploy_model", "model": "llama-3.1-405b", "gen": "h100", "precision": "fp8", "replicas": 4, "tpot_ms": 80},
    ])
    assert len(game.state.inference.deployments) == 4
    return game


def test_bench_inference_quarter_four_models(benchmark):
    game = _four_model_state()
    state, world = game.state, game.world
    world.demand(state.quarter)  # the world's arrays are shared by every player on the seed

    def run():
        return advance(state, world, SCENARIO, [])

    _, report = benchmark(run)
    assert len(report.inference.models) == 4
