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


def test_bench_latency_under_load(benchmark):
    """Issue 12 item 6: one point of the latency curve (Little's-law fixed point, G/G/1 quantiles)."""
    m, g = physics.resolve("llama-3.1-70b", "h100")
    r = benchmark(physics.latency_under_load, m, g, 2, "fp8", physics.FULL, 1000, 300, 0.8, 2.0, 0.3)
    assert r.p95_ttft_ms > r.p50_ttft_ms


def test_bench_max_load_throughput(benchmark):
    m, g = physics.resolve("llama-3.1-70b", "h100")
    r = benchmark(physics.max_load_throughput, m, g, 2, "fp8", physics.FULL, 1000, 1000)
    assert r.output_tokens_per_s > 0


def test_bench_disaggregation(benchmark):
    m, g = physics.resolve("llama-3.1-70b", "h100")
    r = benchmark(physics.disaggregation, m, g, 2, "fp8", physics.FULL, 1000, 300, 400.0, 30.0)
    assert r.disaggregated_goodput_rps_per_gpu > 0
