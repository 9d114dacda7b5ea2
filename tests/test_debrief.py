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


# ------------------------------------------------------------------ issue 9 item 14: the debrief by outcome

from hypothesis import given, strategies as st  # noqa: E402

from engine import debrief as db  # noqa: E402
from engine.leases import incremental_borrowing_rate, lease_payment_usd, present_value_of_payments  # noqa: E402
from engine.money import fmt_usd, to_cents  # noqa: E402
from engine.report import News  # noqa: E402
from engine.score import bridge_lines  # noqa: E402


def _game(scenario: str, bot: str, seed: int):
    sc = load_scenario(scenario).scenario
    return sc, run_bot(Game(sc, seed), make_bot(bot))


def test_leases_are_told_apart_flex_vs_take_or_pay():
    """KB §3/§20: a 4-quarter lease is the flex layer; a 12-quarter lease is a take-or-pay commitment
    whose liability at signing is the discounted payments (ASC 842 / IFRS 16, engine.leases)."""
    game = Game(SCENARIO, 1)
    first = game.play([{"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 4},
                       {"kind": "lease_gpus", "gen": "h100", "count": 128, "term_quarters": 12}])
    assert all(a.ok for a in first.actions), [a.message for a in first.actions]
    assert first.balance.lease_liabilities > 0
    for _ in range(4):
        game.play([])
    found = {d.kind: d for d in db._leases(game.reports, SCENARIO)}
    flex, commit = found["lease"], found["lease_commitment"]
    assert "Flex layer" in flex.title and "call option" in flex.text and "take-or-pay" not in flex.text
    assert "12-quarter" in commit.title and "take-or-pay" in commit.text and "not the flex layer" in commit.text
    m = first.market
    rate = db.lease_rate(m, "h100", 12)
    owed = present_value_of_payments(lease_payment_usd(128, rate), 12, incremental_borrowing_rate(m.sofr, m.spread_sub_ig_bps))
    assert f"lease liability of ~{fmt_usd(to_cents(owed))}" in commit.text
    assert owed < lease_payment_usd(128, rate) * 12  # discounted below the payments owed
    assert ("earned its cost" in commit.text) == (commit.impact_cents >= 0)


def test_shortage_cause_by_where_the_lost_demand_fell():
    """KB §2 vs §20: spikes when lost demand concentrates in spike quarters, chronic when most falls outside."""
    assert db.Shortage(900.0, 100.0, 2, 8).cause == "spikes"
    assert db.Shortage(550.0, 450.0, 6, 6).cause == "chronic"  # most in spikes, but barely more per quarter than elsewhere
    assert db.Shortage(600.0, 400.0, 6, 6).cause == "spikes"  # 1.5x as much per spike quarter
    assert db.Shortage(300.0, 700.0, 3, 9).cause == "chronic"
    assert db.Shortage(0.0, 0.0, 3, 9).cause == "none"
    assert "barely more a quarter in the spikes" in db._shortage_words(db.Shortage(550.0, 450.0, 6, 6))
    assert "most of it fell outside the spikes" in db._shortage_words(db.Shortage(300.0, 700.0, 3, 9))
    assert "Correlated spikes" in db._shortage_words(db.Shortage(900.0, 100.0, 2, 8))


@given(st.floats(0, 1e7), st.floats(0, 1e7), st.integers(0, 20), st.integers(0, 20))
def test_shortage_share_is_a_share_and_spikes_need_a_majority(spike, other, ns, no):
    sh = db.Shortage(spike, other, ns, no)
    assert 0.0 <= sh.spike_share <= 1.0
    assert sh.cause in ("spikes", "chronic", "none")
    if sh.cause == "spikes":
        assert sh.spike_share > 0.5


def _with_lost(reports, lost_in: set[int], hours: float = 50_000.0):
    """The same reports with demand turned away only in the quarters ``lost_in`` (a synthetic outcome)."""
    out = []
    for i, r in enumerate(reports):
        gens = [k.model_copy(update={"lost_gpu_hours": hours if (i in lost_in and j == 0) else 0.0}) for j, k in enumerate(r.kpis.by_gen)]
        out.append(r.model_copy(update={"kpis": r.kpis.model_copy(update={"by_gen": gens})}))
    return out


def test_spike_lesson_is_named_only_when_demand_was_turned_away_in_the_spikes():
    sc, game = _game("viral-spike", "barbell", 1)
    spikes = db.spike_quarters(game.reports)
    assert spikes and len(spikes) < len(game.reports)
    others = set(range(len(game.reports))) - set(spikes)
    in_spikes = db.scenario_lesson(_with_lost(game.reports, set(spikes)), sc)
    assert in_spikes.shown and "100% of it came in the" in in_spikes.evidence and "Correlated spikes" in in_spikes.evidence
    chronic = db.scenario_lesson(_with_lost(game.reports, others), sc)
    assert not chronic.shown and "chronic under-capacity" in chronic.evidence and "0% of it came" in chronic.evidence
    none = db.scenario_lesson(_with_lost(game.reports, set()), sc)
    assert not none.shown and "no demand was turned away" in none.evidence
    d = db._lost_demand(_with_lost(game.reports, others), game.log)[0]
    assert d.title == "Chronic under-capacity" and "not the spikes" in d.text


def test_rate_shock_lesson_needs_floating_debt_that_moved_interest_and_dscr():
    """KB §3/§4: the shock is the lesson only when the floating debt carried made it bite."""
    sc, game = _game("rate-shock", "passive", 2)
    s = next(i for i, r in enumerate(game.reports) if any(n.kind == "world" and n.event == "rate_shock" for n in r.news))
    pre, shock = game.reports[s - 1], game.reports[s]
    lesson = db.scenario_lesson(game.reports, sc)
    assert lesson.shown
    assert fmt_usd(pre.income.interest) in lesson.evidence and fmt_usd(shock.income.interest) in lesson.evidence
    assert f"{pre.kpis.dscr:.2f}x" in lesson.evidence and "off DSCR by itself" in lesson.evidence
    unlevered = [r.model_copy(update={"balance": r.balance.model_copy(update={"debt": 0})}) for r in game.reports]
    calm = db.scenario_lesson(unlevered, sc)
    assert not calm.shown and "added only ~$0" in calm.evidence


def test_gpu_price_fall_shows_the_exposed_uncontracted_fleet():
    """KB §1/§2: the uncontracted fleet's revenue per GPU-hour fell while contracted revenue held."""
    sc, game = _game("deflation", "flex", 1)
    lesson = db.scenario_lesson(game.reports, sc)
    split = [db._contract_split(r) for r in game.reports]
    free = [off for _, off in split if off is not None]
    assert lesson.shown and 1 - free[-1] / free[0] >= db.MATERIAL_PRICE_FALL
    assert f"${free[0]:.2f} per GPU-hour" in lesson.evidence and "exposed position" in lesson.evidence


def test_technique_lesson_quotes_cost_per_token_and_margin():
    """KB §1/§17: throughput optimization shows as a lower cost per M tokens and a higher gross margin."""
    sc, game = _game("inference-2025", "all-in", 1)
    lesson = db.scenario_lesson(game.reports, sc)
    costs = [r.inference.cost_per_m_tokens for r in game.reports if r.inference is not None and r.inference.cost_per_m_tokens]
    margins = [r.kpis.gross_margin for r in game.reports if r.kpis.gross_margin is not None]
    assert lesson.shown == (costs[-1] <= 0.9 * costs[0] and margins[-1] > margins[0])
    assert f"${costs[0]:.3f}" in lesson.evidence and f"{margins[-1] * 100:.0f}%" in lesson.evidence


def test_debt_lesson_says_what_contracted_share_bought():
    """KB §4: the contracted share behind each draw, with the spread and tenor it got."""
    sc, borrowed = _game("neocloud-2025", "all-in", 1)
    lesson = db.scenario_lesson(borrowed.reports, sc)
    loans = db._loans_taken(borrowed.reports)
    assert lesson.shown and loans and "contracted: SOFR +" in lesson.evidence
    assert f"SOFR + {loans[0][2]} bps" in lesson.evidence
    _, idle = _game("neocloud-2025", "passive", 1)
    quiet = db.scenario_lesson(idle.reports, sc)
    assert not quiet.shown and "drew no new loans" in quiet.evidence


def test_long_contract_lesson_shows_the_tenor_it_bought():
    """KB §4/§18: a long investment-grade contract turns 4-year debt into long project debt."""
    sc, game = _game("abilene", "barbell", 1)
    lesson = db.scenario_lesson(game.reports, sc)
    longest = db._longest_offer(game.reports)
    assert lesson.shown and longest[0] >= db.LONG_TENOR_QUARTERS
    assert f"{longest[0] / 4:g} years" in lesson.evidence


def test_margin_benchmark_blends_rental_and_inference():
    """KB §1-§2: GPU rental ~34-55% gross margin, managed inference 50-65%."""
    assert db.margin_benchmark(0.0) == pytest.approx((0.34, 0.55))
    assert db.margin_benchmark(1.0) == pytest.approx((0.50, 0.65))
    assert db.margin_benchmark(0.5) == pytest.approx((0.42, 0.60))


@pytest.mark.parametrize("scenario, bot", [("neocloud-2025", "barbell"), ("inference-2025", "all-in")])
def test_verdict_speaks_of_ebitda_margins_and_the_bridge(scenario, bot):
    _, game = _game(scenario, bot, 1)
    reps = game.reports
    v = db.verdict(reps)
    year = reps[-4:]
    revenue = sum(r.income.revenue for r in year)
    gm = sum(r.income.gross_profit for r in year) / revenue
    em = sum(r.income.ebitda for r in year) / revenue
    assert v.cumulative_ebitda_cents == sum(r.income.ebitda for r in reps)
    assert fmt_usd(v.cumulative_ebitda_cents) in v.margins
    assert v.gross_margin == pytest.approx(gm) and v.ebitda_margin == pytest.approx(em)
    assert f"{gm * 100:.0f}% gross margin" in v.margins and f"{em * 100:.0f}% EBITDA margin" in v.margins
    lo, hi = db.margin_benchmark(v.token_share)
    assert f"{lo * 100:.0f}%-{hi * 100:.0f}%" in v.margins
    assert ("below" in v.margins) == (gm < lo)
    assert v.bridge == bridge_lines(reps[-1].score) and v.name == reps[-1].score.verdict
    s = summary(reps)
    assert s["cumulative_ebitda"][-1] == pytest.approx(v.cumulative_ebitda_cents / 100)


def test_an_event_of_default_is_told_as_acceleration_with_the_cure_it_would_have_cost():
    """Issue 9 items 3 and 14: the debrief says whether a default was cured, accelerated or
    foreclosed, with the equity cure the lenders named (KB §4)."""
    from engine import debrief
    from engine.bots import make_bot, run_bot
    from engine.game import Game
    from scenarios import load_scenario

    sc = load_scenario("neocloud-2025").scenario
    game = run_bot(Game(sc, 1), make_bot("passive"))
    notice = next(r for r in game.reports if r.kpis.covenant_event == "default-notice")
    accelerated = next(r for r in game.reports if r.kpis.covenant_event == "accelerated")
    assert not game.state.bankrupt
    d = next(x for x in debrief._covenant(game.reports, sc) if x.kind == "default")
    assert d.quarter == notice.label
    assert debrief.fmt_usd(notice.kpis.cure_needed_cents) in d.text
    assert "accelerated" in d.text and debrief.fmt_usd(accelerated.kpis.accelerated_cents) in d.text
    assert d.impact_cents == -(accelerated.kpis.accelerated_cents + accelerated.kpis.prepayment_fee_cents)
