"""The debrief: key decisions from real bot games, and the speculative-purchase lesson on demand."""

from __future__ import annotations

import math

import pytest

from engine.actions import gpu_kw, site_load_kw
from engine.bots import make_bot, run_bot
from engine.debrief import Decision, contract_mark_to_market, key_decisions, summary
from engine.game import Game
from scenarios import load_scenario

SCENARIO = load_scenario("neocloud-2025").scenario


def _play(bot: str, seed: int) -> Game:
    return run_bot(Game(SCENARIO, seed), make_bot(bot))


@pytest.mark.parametrize("bot", ["barbell", "all-in"])
@pytest.mark.parametrize("seed", [1, 2])
def test_key_decisions_from_bot_games(bot, seed):
    game = _play(bot, seed)
    decisions = key_decisions(game.reports, game.log, SCENARIO)
    labels = {r.label for r in game.reports}
    assert len(decisions) <= 3
    for d in decisions:
        assert isinstance(d, Decision)
        assert d.quarter in labels
        assert d.title.strip() and len(d.text) > 40
        assert d.section.startswith("KB §")
    impacts = [abs(d.impact_cents) for d in decisions]
    assert impacts == sorted(impacts, reverse=True)
    again = _play(bot, seed)
    assert key_decisions(again.reports, again.log, SCENARIO) == decisions


def test_n_and_empty():
    game = _play("barbell", 1)
    assert len(key_decisions(game.reports, game.log, SCENARIO, n=1)) <= 1
    assert key_decisions([], [], SCENARIO) == []


def test_a_big_purchase_followed_by_low_utilization_is_called_speculation():
    game = Game(SCENARIO, 3)
    st = game.state
    site = max((s for s in st.sites if s.stage == "operating"), key=lambda s: s.mw * 1000 - site_load_kw(st, s.id))
    count = int((site.mw * 1000 - site_load_kw(st, site.id)) // gpu_kw("h100")) // 8 * 8
    count = min(count, game.observation().market.gpus["h100"].allocation_limit)
    report = game.play([{"kind": "buy_gpus", "gen": "h100", "count": count, "site_id": site.id}])
    assert report.actions[0].ok, report.actions[0].message
    while not game.over and len(game.reports) < 6:
        game.play([])
    decisions = key_decisions(game.reports, game.log, SCENARIO)
    spec = [d for d in decisions if d.kind == "speculative_purchase"]
    assert spec, [d.title for d in decisions]
    assert spec[0].quarter == game.reports[0].label
    assert spec[0].impact_cents < 0
    assert "barbell" in spec[0].text and spec[0].section == "KB §20"


def test_contract_mark_to_market_is_a_swap():
    assert contract_mark_to_market(2.20, [1.20] * 4, 10, hours_per_period=100) == pytest.approx(4000.0)
    assert contract_mark_to_market(2.00, [2.50], 10, hours_per_period=100) == pytest.approx(-500.0)


def test_summary_series():
    game = _play("barbell", 2)
    s = summary(game.reports)
    n = len(game.reports)
    for key in ("revenue", "cash", "gross_margin", "utilization", "dscr", "score"):
        assert len(s[key]) == n and all(isinstance(x, float) for x in s[key])
    assert s["quarters"] == [r.label for r in game.reports]
    assert s["revenue"][0] == game.reports[0].income.revenue / 100
    assert all(math.isnan(x) or x > -100 for x in s["dscr"])


def test_the_debrief_names_the_scenario_lesson_when_it_happens():
    """Issue 6: each scenario's lesson is named by the debrief when its situation happened."""
    from engine.debrief import scenario_lesson

    deflation = load_scenario("deflation").scenario
    game = run_bot(Game(deflation, 1), make_bot("passive"))
    lesson = scenario_lesson(game.reports, deflation)
    assert lesson is not None and lesson.text == deflation.lesson and "fell" in lesson.evidence

    abilene = load_scenario("abilene").scenario
    signed = scenario_lesson(run_bot(Game(abilene, 1), make_bot("barbell")).reports, abilene)
    ignored = scenario_lesson(run_bot(Game(abilene, 1), make_bot("passive")).reports, abilene)
    assert "you signed" in signed.evidence and "did not sign" in ignored.evidence

    tutorial = load_scenario("tutorial").scenario
    assert scenario_lesson(run_bot(Game(tutorial, 1), make_bot("passive")).reports, tutorial) is None  # never signed a contract
