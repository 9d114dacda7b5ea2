"""Engine benchmarks (pytest-benchmark; skipped by default, run with --benchmark-only).

- one quarter step: ``advance`` on a prepared mid-game state with the ``barbell`` bot's actions
  (``advance`` copies its input, so every round plays the same quarter); once as in a real game
  (that quarter's hourly demand arrays built in the round) and once with them cached;
- a full game with the ``all-in`` bot (engine time only: no CLI, JSON or files);
- ``verify_run`` of a full run file written in a fixture (read, re-simulate, compare);
- the peak memory of a headless full game: a fresh interpreter reads its own ``VmHWM`` (the
  high-water mark of its resident set, ``/usr/bin/time -v`` semantics) from ``/proc/self/status``.
  Not ``ru_maxrss``: on Linux a child forked from pytest starts with the parent's peak in it.

Targets (DESIGN "Quality bars"; reported, not asserted in the normal suite): quarter <= 20 ms
median, full game <= 0.5 s, peak RSS < 150 MB.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.bots import make_bot, run_bot
from engine.game import Game
from engine.state import state_hash
from engine.step import advance
from game.runfile import run_from_game, save_run, verify_run
from scenarios import DEFAULT_SCENARIO, load_scenario

SEED = 1
PEAK_RSS_LIMIT_MB = 150


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def mid_game(loaded):
    """A game a few quarters in (fleet, contracts, debt in place) and the barbell bot's plan."""
    game = Game(loaded.scenario, SEED)
    bot = make_bot("barbell")
    run_bot(game, bot, 4)
    if game.over:  # the economics are being tuned: fall back to the first quarter
        game = Game(loaded.scenario, SEED)
    actions = bot.act(game.observation())
    return game, actions


def test_bench_one_quarter_step(benchmark, mid_game, loaded):
    """One ``advance`` as in a real game: the quarter's demand arrays are built in the round."""
    game, actions = mid_game
    before = state_hash(game.state)
    q = game.state.quarter

    def setup():
        game.world._demand.pop(q, None)  # as on the first (and only) visit of this quarter

    new_state, report = benchmark.pedantic(
        lambda: advance(game.state, game.world, loaded.scenario, actions), setup=setup, rounds=40, iterations=1,
        warmup_rounds=2,
    )
    assert state_hash(game.state) == before  # every round played the same quarter
    assert new_state.quarter == q + 1 and report.state_hash == state_hash(new_state)
    benchmark.extra_info["quarter"] = report.label
    benchmark.extra_info["actions"] = len(actions)


def test_bench_one_quarter_step_cached_world(benchmark, mid_game, loaded):
    """The same step with the world's tick arrays already built (the company's simulation only)."""
    game, actions = mid_game
    game.world.demand(game.state.quarter)
    new_state, _ = benchmark(advance, game.state, game.world, loaded.scenario, actions)
    assert new_state.quarter == game.state.quarter + 1


def test_bench_full_game_all_in(benchmark, loaded):
    """A whole game with the all-in bot: world build, every quarter, the bot's decisions."""

    def play() -> Game:
        return run_bot(Game(loaded.scenario, SEED), make_bot("all-in"))

    game = benchmark.pedantic(play, rounds=10, iterations=1, warmup_rounds=1)
    assert game.over
    benchmark.extra_info["quarters"] = len(game.reports)


@pytest.fixture(scope="module")
def run_file(loaded, tmp_path_factory):
    game = run_bot(Game(loaded.scenario, SEED), make_bot("all-in"))
    path = tmp_path_factory.mktemp("bench") / "all-in.json"
    save_run(run_from_game(game, loaded, player="bench", bot="all-in"), path)
    return path, len(game.reports)


def test_bench_verify_run(benchmark, run_file):
    path, quarters = run_file
    v = benchmark.pedantic(verify_run, args=(path,), rounds=10, iterations=1, warmup_rounds=1)
    assert v.ok, v.reason
    benchmark.extra_info["quarters"] = quarters


_CHILD = """
import sys
from game.cli import main
rc = main(["sim", "--scenario", "{scenario}", "--seed", "{seed}", "--bot", "all-in", "--json"])
sys.stdout.flush()
# VmHWM is this process's own peak resident set; ru_maxrss would include the forking parent's
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")), file=sys.stderr)
sys.exit(rc)
"""


def _peak_rss_mb() -> float:
    """Run a full headless game (``tycoon sim --json``) in a fresh interpreter; its own peak (VmHWM) in MB."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.format(scenario=DEFAULT_SCENARIO, seed=SEED)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    kib = int(proc.stderr.strip().splitlines()[-1])  # /proc/self/status reports VmHWM in kB (KiB)
    return kib / 1024


def test_bench_headless_game_peak_memory(benchmark):
    """Peak memory of a headless full game in a subprocess (timed too: process start included)."""
    peaks: list[float] = []
    benchmark.pedantic(lambda: peaks.append(_peak_rss_mb()), rounds=3, iterations=1)
    peak = max(peaks)
    benchmark.extra_info["peak_vmhwm_mb"] = round(peak, 1)
    print(f"\nheadless full game: peak resident set (VmHWM) {peak:.1f} MB (limit {PEAK_RSS_LIMIT_MB} MB)")
    assert peak < PEAK_RSS_LIMIT_MB
