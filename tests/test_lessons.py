"""The winning strategy is the one the knowledge base teaches (issue 9 item 13).

Over seeds 1-20, every scenario's lesson holds in the medians (each scenario states it in its TOML
as comparisons of strategies, ``[[lesson_checks]]``), no single bot wins every scenario, and the
strategies written to exploit the rules (engine.exploits: stuffing leases in the last quarters,
renting at zero margin, raising every round, pricing +100%, selling the fleet in the last quarter,
and the valuation-horizon exploits: harvest, cutting discretionary spend in the last year; sprint,
50% under the market until the last year and 50% over it then; growth-pump, 50% under the market
in the year before the last) never beat the scenario's best principled bot.

The whole matrix (11 scenarios x 16 strategies x 20 seeds, plus the calm counterfactuals) is played
once per session in a process pool, exactly as ``tycoon tournament`` plays it.
"""

from __future__ import annotations

import os
import statistics
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import pytest

from engine.bots import BOTS, make_bot, run_bot
from engine.exploits import EXPLOITS
from engine.game import Game
from scenarios import load_scenario, scenario_paths

def _seeds(text: str) -> range:
    """Seeds 1-20 unless ``TYCOON_LESSON_SEEDS`` ("21-40") names others: the same checks on seeds the
    scenarios were not tuned on, to see whether a lesson is robust or a draw of these twenty."""
    lo, sep, hi = text.partition("-")
    if not (lo.isdigit() and hi.isdigit() and sep and int(lo) <= int(hi)):
        raise ValueError(f"TYCOON_LESSON_SEEDS={text!r}: expected a range like 21-40")
    return range(int(lo), int(hi) + 1)


SEEDS = _seeds(os.environ.get("TYCOON_LESSON_SEEDS", "1-20"))
SCENARIOS = sorted(p.stem for p in scenario_paths())
PRINCIPLED = sorted(BOTS)
EXPLOITS_ = sorted(EXPLOITS)


@lru_cache(maxsize=None)
def _scenario(name: str, calm: bool):
    sc = load_scenario(name).scenario
    if calm:  # the counterfactual: the same scenario without its scripted events
        sc = sc.model_copy(update={"world": sc.world.model_copy(update={"events": ()})})
    return sc


def _play(job: tuple[str, str, int, bool]) -> tuple[tuple[str, str, int, bool], int, bool]:
    name, bot, seed, calm = job
    game = run_bot(Game(_scenario(name, calm), seed), make_bot(bot))
    return job, game.reports[-1].score.score_cents, game.state.bankrupt


def _jobs() -> list[tuple[str, str, int, bool]]:
    jobs = {(s, b, seed, False) for s in SCENARIOS for b in PRINCIPLED + EXPLOITS_ for seed in SEEDS}
    for s in SCENARIOS:
        for check in _scenario(s, False).lesson_checks:
            if check.calm:
                jobs |= {(s, b, seed, True) for b in (check.better, check.worse) for seed in SEEDS}
    return sorted(jobs)


@pytest.fixture(scope="module")
def matrix() -> dict[tuple[str, str, bool], list[tuple[int, bool]]]:
    jobs = _jobs()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(_play, jobs, chunksize=8))
    out: dict[tuple[str, str, bool], list[tuple[int, bool]]] = {}
    for (name, bot, _seed, calm), score, bankrupt in results:
        out.setdefault((name, bot, calm), []).append((score, bankrupt))
    return out


def _median(matrix, name: str, bot: str, calm: bool = False) -> float:
    return statistics.median(score for score, _ in matrix[(name, bot, calm)])


def _best_principled(matrix, name: str) -> tuple[str, float]:
    return max(((b, _median(matrix, name, b)) for b in PRINCIPLED), key=lambda x: (x[1], x[0]))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_states_its_lesson_as_comparisons_of_strategies(name):
    checks = _scenario(name, False).lesson_checks
    assert checks, f"{name}: no [[lesson_checks]] in its TOML"
    for c in checks:
        assert c.better in BOTS and c.worse in BOTS, f"{name}: lesson checks name built-in bots ({', '.join(BOTS)})"
        assert c.because, f"{name}: say why in 'because'"


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_lesson_holds_in_the_medians(matrix, name):
    for c in _scenario(name, False).lesson_checks:
        better, worse = _median(matrix, name, c.better, c.calm), _median(matrix, name, c.worse, c.calm)
        world = "without its scripted events" if c.calm else "as written"
        assert better > (1 + c.margin) * worse, (
            f"{name} {world}: {c.better} median ${better / 1e8:.1f}M vs {c.worse} ${worse / 1e8:.1f}M "
            f"(needs +{c.margin:.0%}): the lesson '{c.because}' does not decide the outcome"
        )


@pytest.mark.slow
def test_no_single_bot_wins_every_scenario(matrix):
    winners = {name: _best_principled(matrix, name)[0] for name in SCENARIOS}
    assert len(set(winners.values())) >= 2, f"one strategy wins everything: {winners}"


# Open gaps, measured and explained (strict: the test fails once a gap closes, so it leaves this list).
KNOWN_GAPS: dict[tuple[str, str], str] = {}  # (scenario, exploit): why; none open


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_exploits_never_beat_the_best_principled_bot(matrix, name):
    best, best_score = _best_principled(matrix, name)
    known = []
    for exploit in EXPLOITS_:
        score = _median(matrix, name, exploit)
        if (name, exploit) in KNOWN_GAPS:
            assert score > best_score, f"{name}: {exploit} no longer beats {best}: remove it from KNOWN_GAPS"
            known.append(KNOWN_GAPS[(name, exploit)])
            continue
        assert score <= best_score, f"{name}: exploit {exploit} median ${score / 1e8:.1f}M beats {best} ${best_score / 1e8:.1f}M"
    if known:
        pytest.xfail("; ".join(known))


@pytest.mark.slow
def test_the_principled_winner_is_never_a_bankruptcy_lottery(matrix):
    """The best strategy of a scenario wins on the median without going bankrupt on most seeds."""
    for name in SCENARIOS:
        best, _ = _best_principled(matrix, name)
        bankrupt = sum(b for _, b in matrix[(name, best, False)])
        assert bankrupt <= len(SEEDS) // 10, f"{name}: {best} wins the median but goes bankrupt on {bankrupt} seeds"
