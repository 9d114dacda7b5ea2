"""Industry benchmark (issue 15; skipped by default, run with --benchmark-only).

An industry of 6 companies (two each of barbell, all-in and flex) plays a whole game; the engine
time of each quarter (``Industry.play``: six quarters opened, the market cleared among them, six
closed) is measured in CPU time of this process (``time.process_time``: a core held by another
process is not counted), the bots' own thinking left out. Per quarter the fastest of three games
(other load only ever adds time), then the median over the game. Target: under 30 ms, asserted.
"""

from __future__ import annotations

import statistics
import time

from engine.bots import make_bot
from engine.industry import Industry
from scenarios import DEFAULT_SCENARIO, load_scenario

SEED = 1
QUARTER_TARGET_MS = 30.0
COMPANIES = [("barbell-1", "barbell"), ("all-in-1", "all-in"), ("flex-1", "flex"),
             ("barbell-2", "barbell"), ("all-in-2", "all-in"), ("flex-2", "flex")]


def _industry_quarter_times(scenario) -> list[float]:
    ind = Industry(scenario, SEED, COMPANIES)
    bots = {n: make_bot(b) for n, b in COMPANIES}
    times = []
    while not ind.over:
        plans = {n: bots[n].act(ind.observation(n)) for n in ind.active()}
        t0 = time.process_time()
        ind.play(plans)
        times.append(time.process_time() - t0)
    return times


def test_bench_industry_of_six_quarter(benchmark):
    """Median engine time of an industry quarter with 6 companies (issue 15: under 30 ms)."""
    scenario = load_scenario(DEFAULT_SCENARIO).scenario
    games: list[list[float]] = []
    benchmark.pedantic(lambda: games.append(_industry_quarter_times(scenario)), rounds=3, iterations=1, warmup_rounds=1)
    games = games[-3:]
    fastest = [min(g[i] for g in games) for i in range(min(len(g) for g in games))]
    median_ms = statistics.median(fastest) * 1000
    benchmark.extra_info.update(quarter_median_ms=round(median_ms, 2), quarters=len(fastest))
    print(f"\nindustry of 6: a quarter takes {median_ms:.2f} ms median, the slowest {max(fastest) * 1000:.2f} ms")
    assert median_ms < QUARTER_TARGET_MS
