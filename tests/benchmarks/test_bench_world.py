"""World benchmarks (pytest-benchmark; skipped by default, run with --benchmark-only)."""

from __future__ import annotations

from engine.world import WorldParams, build_world


def _world_and_one_quarter(seed: int) -> float:
    world = build_world(WorldParams(), seed, "2025Q1", 20)
    for q in range(20):
        world.quarter(q)
    demand = world.demand(0)
    return float(demand.total().mean())


def test_bench_build_world_20_quarters_plus_demand(benchmark):
    """Building a 20-quarter world (all quarters) plus one quarter's demand arrays."""
    result = benchmark(_world_and_one_quarter, 1)
    assert result > 0


def test_bench_one_quarter_demand(benchmark):
    """One quarter's tick arrays alone (a fresh world each round, so nothing is cached)."""
    params = WorldParams()

    def run() -> int:
        return build_world(params, 2, "2025Q1", 20).demand(3).ticks

    assert benchmark(run) == 2184
