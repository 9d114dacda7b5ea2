"""Replay benchmarks (issue 14; run with ``pytest tests/benchmarks/test_bench_replay.py --benchmark-enable``).

- opening a replay: verify the run file and re-simulate it once, keeping every quarter's state;
- seeking: from the first quarter, ``end`` to the last quarter of a 20-quarter run on screen,
  with and without a ghost (target: under 0.3 s after the replay opens; states are cached).
Numbers go to ``benchmark.extra_info`` and are printed; nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FLEX = Path(__file__).parent.parent / "golden" / "neocloud-2025-flex-seed3.json"  # 20 quarters


def test_bench_open_replay(benchmark):
    from game.replay import open_run

    rep = benchmark.pedantic(lambda: open_run(FLEX), rounds=5, iterations=1)
    assert rep.quarters == 20 and len(rep.states) == 21
    benchmark.extra_info.update(quarters=rep.quarters)


async def _seek_times(ghost: bool, rounds: int) -> tuple[list[float], list[float]]:
    """(home -> end, end -> home) seconds from the key press to the screen idle again."""
    from game.app.screens.replay import make_replay_app
    from game.replay import open_ghost, open_run

    rep = open_run(FLEX)
    app = make_replay_app(rep, open_ghost(rep, vs_bot="passive") if ghost else None, theme="textual-dark", cursor_blink=False)
    to_end, to_home = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(rounds):
            t0 = time.perf_counter()
            await pilot.press("end")
            await pilot.pause()
            to_end.append(time.perf_counter() - t0)
            assert app.replay_index == 19
            t0 = time.perf_counter()
            await pilot.press("home")
            await pilot.pause()
            to_home.append(time.perf_counter() - t0)
            assert app.replay_index == 0
    return to_end, to_home


@pytest.mark.parametrize("ghost", [False, True], ids=["alone", "with-ghost"])
def test_bench_seek_to_last_quarter(benchmark, tmp_path, monkeypatch, ghost):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path))
    to_end, to_home = benchmark.pedantic(lambda: asyncio.run(_seek_times(ghost, 10)), rounds=1, iterations=1)
    med, worst = statistics.median(to_end) * 1000, max(to_end) * 1000
    benchmark.extra_info.update(end_median_ms=med, end_max_ms=worst, home_median_ms=statistics.median(to_home) * 1000)
    print(f"\nreplay {'with a ghost' if ghost else 'alone'}: end (last of 20 quarters) on screen median {med:.0f} ms, max {worst:.0f} ms; "
          f"home median {statistics.median(to_home) * 1000:.0f} ms")
