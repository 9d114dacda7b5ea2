"""Benchmark: the game's full capacity table (every model x GPU x precision x preset x GPU count).

Run with ``.venv/bin/python -m pytest tests/benchmarks --benchmark-only``.
"""

from __future__ import annotations

from engine import physics


def test_bench_capacity_table(benchmark):
    rows = benchmark(physics.capacity_table)
    assert any(r.feasible for r in rows)


def test_bench_ladder(benchmark):
    rows = benchmark(physics.ladder)
    assert len(rows) == 7
