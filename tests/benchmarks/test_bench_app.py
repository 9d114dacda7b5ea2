"""App benchmarks (pytest-benchmark; run with ``pytest tests/benchmarks/test_bench_app.py --benchmark-enable``).

- start-up: app start to first screen (``on_ready``), against a bare Textual app in the same run
  (target: at most 1.5x), both in-process and as a fresh process;
- ending a quarter to the report on screen (target: under 200 ms median);
- the app's peak memory (VmHWM, the child's own peak resident set) over a 20-quarter game played through the app (target: under 250 MB).
Numbers go to ``benchmark.extra_info`` and are printed; nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.slow


async def _time_to_ready(make) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) from app start to the first screen: on a shared
    machine the CPU time is the steadier measure of the work done, wall time the one a player sees."""
    app = make()
    t0, c0 = time.perf_counter(), time.process_time()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        return time.perf_counter() - t0, time.process_time() - c0


def _ratios(bare: list[tuple[float, float]], ours: list[tuple[float, float]]) -> dict[str, float]:
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    return dict(bare_ms=med(bare, 0) * 1000, tycoon_ms=med(ours, 0) * 1000, ratio=med(ours, 0) / med(bare, 0),
                bare_cpu_ms=med(bare, 1) * 1000, tycoon_cpu_ms=med(ours, 1) * 1000, cpu_ratio=med(ours, 1) / med(bare, 1))


def _line(what: str, r: dict[str, float]) -> str:
    return (f"\n{what}: bare {r['bare_ms']:.0f} ms, tycoon {r['tycoon_ms']:.0f} ms, ratio {r['ratio']:.2f}x"
            f" (CPU: bare {r['bare_cpu_ms']:.0f} ms, tycoon {r['tycoon_cpu_ms']:.0f} ms, {r['cpu_ratio']:.2f}x)")


def _bare():
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    return Bare()


def _tycoon(first: str = "dashboard"):
    """``start``: what ``tycoon`` opens (the start screen); ``dashboard``: a game already built."""
    from game.app import make_app

    return make_app(seed=7, skip_start=first == "dashboard", theme="textual-dark", cursor_blink=False)


@pytest.mark.parametrize("first", ["start", "dashboard"])
def test_bench_startup_vs_bare_app(benchmark, tmp_path, monkeypatch, first):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path))
    asyncio.run(_time_to_ready(lambda: _tycoon(first)))  # warm imports for both
    bare = [asyncio.run(_time_to_ready(_bare)) for _ in range(5)]
    result = benchmark.pedantic(lambda: asyncio.run(_time_to_ready(lambda: _tycoon(first))), rounds=5, iterations=1)
    del result
    ours = [asyncio.run(_time_to_ready(lambda: _tycoon(first))) for _ in range(5)]
    r = _ratios(bare, ours)
    benchmark.extra_info.update(r)
    print(_line(f"in-process start to first screen ({first})", r))


_PROCESS = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    kind = sys.argv[1]
    if kind == "bare":
        from textual.app import App
        from textual.widgets import Footer, Header, Static
        class Bare(App):
            def compose(self):
                yield Header(); yield Static("hello"); yield Footer()
        app = Bare()
    else:
        from game.app import make_app
        app = make_app(seed=7, skip_start=kind == "dashboard", theme="textual-dark", cursor_blink=False)
    def on_ready(self):
        print(time.perf_counter() - t0, time.process_time(), flush=True)
        self.exit()
    type(app).on_ready = on_ready  # first screen painted: report and leave
    app.run(headless=True, size=(120, 40))
    """
)


@pytest.mark.parametrize("first", ["start", "dashboard"])
def test_bench_process_startup_vs_bare_app(benchmark, tmp_path, first):
    # compiled bytecode, as an installed package runs (pip compiles it; Textual's own modules have theirs):
    # with PYTHONDONTWRITEBYTECODE our modules were compiled from source in every process, Textual's not
    env = dict(os.environ, TYCOON_SAVE_DIR=str(tmp_path), PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def once(kind: str) -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", _PROCESS, kind], capture_output=True, text=True, env=env, check=True, timeout=60).stdout
        wall, cpu = out.strip().splitlines()[-1].split()
        return float(wall), float(cpu)

    once("bare"), once(first)  # writes the bytecode cache
    bare = [once("bare") for _ in range(3)]
    benchmark.pedantic(lambda: once(first), rounds=3, iterations=1)
    ours = [once(first) for _ in range(3)]
    r = _ratios(bare, ours)
    benchmark.extra_info.update(r)
    print(_line(f"fresh process start to first screen ({first})", r))


async def _end_quarter_times(n: int) -> list[float]:
    from engine.bots import make_bot

    app = _tycoon()
    bot = make_bot("barbell")
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.session
        for _ in range(n):
            if s.over:
                break
            s.plan = bot.act(s.game.observation())
            painted = asyncio.Event()
            t0 = time.perf_counter()
            app.play_quarter()  # what `e` -> `y` runs: engine, autosave, refresh, push the report
            assert type(app.screen).__name__ == "QuarterReportScreen"
            app.screen.call_after_refresh(painted.set)  # fires once the report has been composed and refreshed
            await painted.wait()
            times.append(time.perf_counter() - t0)
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
    return times


def test_bench_end_quarter_to_report(benchmark, tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path))
    times = benchmark.pedantic(lambda: asyncio.run(_end_quarter_times(10)), rounds=1, iterations=1)
    med = statistics.median(times) * 1000
    benchmark.extra_info.update(median_ms=med, max_ms=max(times) * 1000, quarters=len(times))
    print(f"\nend quarter -> report on screen: median {med:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} quarters")


_MEMORY = textwrap.dedent(
    """
    import asyncio, runpy, sys
    mod = runpy.run_path(sys.argv[1])
    times = asyncio.run(mod["_end_quarter_times"](20))
    # VmHWM: this process's own peak resident set (ru_maxrss would include the forking pytest's)
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(len(times), hwm)
    """
)


def test_bench_peak_memory_20_quarters(benchmark, tmp_path):
    env = dict(os.environ, TYCOON_SAVE_DIR=str(tmp_path))
    def run() -> tuple[int, float]:
        out = subprocess.run([sys.executable, "-c", _MEMORY, os.path.abspath(__file__)], capture_output=True, text=True, env=env, check=True, timeout=300).stdout
        quarters, kb = out.strip().splitlines()[-1].split()
        return int(quarters), int(kb) / 1024

    quarters, mb = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(peak_vmhwm_mb=mb, quarters=quarters)
    print(f"\npeak memory over a {quarters}-quarter game: {mb:.0f} MB (VmHWM, the process's own peak resident set)")
    assert quarters == 20
    json.dumps(benchmark.extra_info)
