"""A faster quarter that plays the same game (issue 10, item 12).

Each quarter copies the state (``engine.state.copy_state``: generated copiers, with pydantic's
dump and validation as the reference) and prunes what has ended (``engine.state.prune_ended``:
closed lots, ended or defaulted contracts, repaid loans). Neither may change the economics: the
reports stay identical but for the state hash, the bots score what they scored before, the books
balance and a log replays to the same hashes.
No timing is asserted here (tests/benchmarks/test_bench_engine.py measures it).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.step
from engine.bots import BOTS, make_bot, run_bot
from engine.game import Game, replay
from engine.state import canonical_json, copy_state, loan_has_ended, lot_has_ended, prune_ended, state_hash
from scenarios import DEFAULT_SCENARIO, load_scenario
from tests.test_engine_invariants import _action, _check_books

SCENARIO = load_scenario(DEFAULT_SCENARIO).scenario

# Final score and equity value (cents) of built-in bots on the default scenario, measured on the
# engine BEFORE the copy and pruning change (commit dae19df: deepcopy twice a quarter, nothing pruned).
SCORES_BEFORE = {
    ("passive", 3): (4_762_020_050, 8_658_218_272),
    ("all-in", 1): (21_469_192_714, 46_472_410_655),
    ("flex", 2): (1_981_788_890, 3_603_252_527),
    ("barbell", 3): (4_290_163_590, 7_800_297_437),
    ("inference-neocloud", 1): (5_299_421_312, 9_635_311_476),  # re-measured after issue 12's GEMM fill rows and serialized A100 stock GEMMs
    ("max-leverage", 2): (30_963_125_124, 56_911_691_491),
    ("speculator", 1): (4_667_057_577, 8_485_559_231),
}


def _reports_without_hash(game: Game) -> list[dict]:
    out = []
    for r in game.reports:
        d = r.model_dump(mode="json")
        d.pop("state_hash")
        out.append(d)
    return out


def _failures_one_stream_per_lot(s, owned, gen, q, p_fail, cap):
    """GPU failures as drawn when the scores above were measured: one keyed stream per lot."""
    import numpy as np

    from engine.actions import _remove_from_lot
    from engine.rng import stream

    total = 0
    for lot in owned:
        rng = stream(s.seed, "gpu-failures", q, engine.step._numeric(lot.id))
        n_fail = int(rng.binomial(lot.count, p_fail))
        if n_fail:
            cap -= np.cumsum(np.bincount(rng.integers(0, engine.step.T, size=n_fail), minlength=engine.step.T))
            lot.failed += n_fail
            cost, dep = _remove_from_lot(lot, n_fail)
            s.ledger.post("GPU failures written off", [("gpu_accum_dep", dep), ("gpu_equipment", -cost), ("other_gain_loss", cost - dep)])
            total += n_fail
    return total


def _growth_as_measured_then(gross_profits, revenues=None):
    """The valuation's growth rule when the scores above were measured: last year's gross profit on
    the year before, +100% after a year without gross profit, blended with the 50% priced in."""
    from engine.valuation import GROWTH_PRICED_IN, TRAILING_QUARTERS

    n = len(gross_profits)
    if n < 2:
        return GROWTH_PRICED_IN
    k = min(TRAILING_QUARTERS, n // 2)
    last = sum(gross_profits[-k:]) / k
    prev = sum(gross_profits[-2 * k:-k]) / k
    measured = (max(last, 0) / prev) ** (4 / k) - 1 if prev > 0 else (1.0 if last > prev else -0.5)
    measured = min(2.0, max(-0.75, measured))
    weight = min(1.0, n / (2 * TRAILING_QUARTERS))
    return weight * measured + (1 - weight) * GROWTH_PRICED_IN


def _run_rate_as_measured_then(gpus_in_service):
    """The run-rate factor when the scores above were measured: capped at 1 (capacity added during
    the year was valued only on the quarters it had earned)."""
    window = gpus_in_service[-4:]
    if not window:
        return 1.0
    avg = sum(window) / len(window)
    return 1.0 if avg <= 0 else min(1.0, window[-1] / avg)


def _all_in_buys_as_then(obs, signed, budget_usd):
    """all-in's purchases when the scores above were measured: the whole allocation of the best generation."""
    from engine.bots import _best_gen, _buy

    gen = _best_gen(obs)
    return _buy(obs, gen, obs.market.gpus[gen].allocation_limit, budget_usd) if gen else []


@pytest.mark.parametrize(("bot", "seed"), list(SCORES_BEFORE))
def test_bot_scores_are_those_measured_before_copying_less_and_pruning(bot, seed, monkeypatch):
    # issue 11 added contract renewal offers, a deliberate model change the scores above predate:
    # without them the engine must still give exactly the scores measured before copying less and pruning
    monkeypatch.setattr("engine.step.renewal_offers", lambda state, world: [])
    # so did drawing GPU failures from one stream per generation (engine.step._fail_gpus): with the
    # per-lot streams of then, the same scores
    monkeypatch.setattr("engine.step._fail_gpus", _failures_one_stream_per_lot)
    # and so did durable growth in the valuation (issue 9, the horizon audit): with the growth rule of then, the same scores
    monkeypatch.setattr("engine.valuation.blended_growth", _growth_as_measured_then)
    # and so did the run-rate scaled up for a fleet that grew during the year (issue 9, the horizon):
    # then it was capped at 1
    monkeypatch.setattr("engine.valuation.run_rate_factor", _run_rate_as_measured_then)
    # and all-in buying for demand (issue 9): then it bought its whole allocation of the best generation
    monkeypatch.setattr("engine.bots._buy_for_demand", _all_in_buys_as_then)
    game = run_bot(Game(SCENARIO, seed), make_bot(bot))
    final = game.reports[-1].score
    assert (final.score_cents, final.equity_value_cents) == SCORES_BEFORE[(bot, seed)]


@pytest.mark.parametrize("bot", list(BOTS))
def test_pruning_changes_no_report_but_the_state_hash(bot, monkeypatch):
    """The same bot game with pruning switched off: every report equal field for field."""
    pruned = run_bot(Game(SCENARIO, 2), make_bot(bot))
    monkeypatch.setattr(engine.step, "prune_ended", lambda state: None)
    kept = run_bot(Game(SCENARIO, 2), make_bot(bot))
    assert _reports_without_hash(pruned) == _reports_without_hash(kept)
    assert pruned.state.next_id == kept.state.next_id
    assert len(pruned.state.lots) <= len(kept.state.lots) and len(pruned.state.contracts) <= len(kept.state.contracts)


def test_a_whole_game_leaves_nothing_ended_in_the_state():
    """Flex leases for a term (lots close), barbell signs contracts that run out: both get pruned."""
    for bot in ("flex", "barbell"):
        game = Game(SCENARIO, 1)
        b = make_bot(bot)
        closed_seen = ended_seen = 0
        while not game.over:
            report = game.play(b.act(game.observation()))
            st_ = game.state
            assert not any(lot_has_ended(lot) for lot in st_.lots)
            assert all(c.status == "active" for c in st_.contracts)
            assert not any(loan_has_ended(loan) for loan in st_.loans)
            closed_seen += sum(n.title == "Lease ended" for n in report.news)
            ended_seen += sum(n.title in ("Contract ended", "Customer default") for n in report.news)
            ids = [x.id for x in (*st_.lots, *st_.loans)]
            assert len(ids) == len(set(ids))
        assert closed_seen + ended_seen > 0, f"{bot}: nothing ended, so nothing was pruned (the test would prove nothing)"


def test_prune_ended_keeps_what_is_still_on_the_books():
    game = run_bot(Game(SCENARIO, 1), make_bot("barbell"), 6)
    s = copy_state(game.state)
    lot, contract = s.lots[0], s.contracts[0]
    lot.status, lot.cost_cents, lot.accum_dep_cents = "closed", 100, 0  # closed but with book value left: kept
    contract.status = "ended"
    prune_ended(s)
    assert lot in s.lots and contract not in s.contracts
    lot.cost_cents = 0
    prune_ended(s)
    assert lot not in s.lots


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(min_value=0, max_value=2**32))
def test_copy_state_is_equal_and_shares_nothing(data, seed):
    game = Game(SCENARIO, seed)
    for _ in range(data.draw(st.integers(min_value=0, max_value=4))):
        if game.over:
            break
        game.play([_action(data.draw, game.state) for _ in range(data.draw(st.integers(min_value=0, max_value=4)))])
    original = game.state
    before = canonical_json(original)
    c = copy_state(original)
    assert canonical_json(c) == before and c == original
    # mutate every kind of nested container of the copy: the original must not move
    c.ledger.balances["cash"] += 1
    c.ledger.cash_flows["operating:x"] = 1
    c.price_vs_market["h100"] = 0.5
    c.inference.techniques["x"] = 1
    c.offers.contracts.clear()
    for rec in c.history:
        rec.revenue_cents += 1
    for lot in c.lots:
        lot.count += 1
    for loan in c.loans:
        loan.principal_schedule_cents.append(1)
    c.sites.clear()
    assert canonical_json(original) == before


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(min_value=0, max_value=2**32))
def test_random_plans_replay_to_the_same_hashes_with_the_books_balanced(data, seed):
    """Determinism with pruning: the same log played twice gives the same hash every quarter."""
    game = Game(SCENARIO, seed)
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        if game.over:
            break
        plan = [_action(data.draw, game.state) for _ in range(data.draw(st.integers(min_value=0, max_value=5)))]
        before = state_hash(game.state)
        game.check(plan)
        game.preview(plan)
        game.observation()
        assert state_hash(game.state) == before  # dry runs and observations copy, never touch the game
        _check_books(game, game.play(plan))
    again = replay(SCENARIO, seed, game.log, game.hashes())
    assert again.first_divergence is None and again.hashes == game.hashes()


@pytest.mark.parametrize("bot", ["all-in", "flex"])
def test_bot_games_replay_to_the_same_hashes(bot):
    game = run_bot(Game(SCENARIO, 4), make_bot(bot))
    assert replay(SCENARIO, 4, game.log, game.hashes()).first_divergence is None
