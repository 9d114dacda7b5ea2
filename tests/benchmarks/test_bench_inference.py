"""Benchmark: one quarter of the managed-inference company with 4 models and 4 segments (issue 4).

Two measures of the same quarter (``advance`` copies its input, so every round plays it again):
pytest-benchmark's wall-clock rounds, and the CPU time of this process (``time.process_time``,
so a core held by another process is not counted), the median of 40 rounds printed and kept in
``extra_info`` with the quarter's minor page faults (``getrusage``): a quarter whose temporary
arrays outgrow the C allocator's heap pays hundreds of them in system time (issue 12 speed work). Issue 12 asks for "a few ms" with its physics (the latency tables, percentiles
over load bins); the aim is 4 ms or less. Not asserted: the machine these run on is shared.
"""

import resource
import statistics
import time

from engine.game import Game
from engine.step import advance
from scenarios import load_scenario

SCENARIO = load_scenario("inference-2025").scenario
QUARTER_AIM_MS = 4.0


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


def test_bench_inference_quarter_cpu_time(benchmark):
    """Median CPU time of the four-model quarter (issue 12: a few ms; aim <= 4 ms)."""
    game = _four_model_state()
    state, world = game.state, game.world
    world.demand(state.quarter)
    times: list[float] = []
    faults: list[int] = []

    def run():
        f0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        report = advance(state, world, SCENARIO, [])[1]
        times.append(time.process_time() - t0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        return report

    report = benchmark.pedantic(run, rounds=40, iterations=1, warmup_rounds=3)
    median_ms = statistics.median(times[-40:]) * 1000
    median_faults = statistics.median(faults[-40:])
    benchmark.extra_info.update(quarter_median_cpu_ms=round(median_ms, 2), aim_ms=QUARTER_AIM_MS, quarter_median_page_faults=median_faults)
    print(f"\ninference quarter, four models: {median_ms:.2f} ms CPU median (aim <= {QUARTER_AIM_MS} ms), "
          f"{median_faults:g} page faults")
    assert len(report.inference.models) == 4
