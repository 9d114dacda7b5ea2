"""Replay, save/load/continue and the state hash (DESIGN "The engine's contract").

- ``engine.game.replay`` re-simulates an action log to the same hashes and finds the first
  quarter that diverges;
- save -> load -> continue == continue (Factorio's rule), through the log and through the state;
- ``state_hash`` is stable across a JSON round trip of ``canonical_json``;
- ``Game.check`` is a dry run; invalid actions are rejected with a reason and change nothing.

Properties only: the engine's numbers are still being tuned.
"""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from engine.bots import make_bot, run_bot
from engine.game import Game, replay
from engine.state import GameState, canonical_json, state_hash
from engine.step import advance
from scenarios import DEFAULT_SCENARIO, load_scenario

SEED = 7


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DEFAULT_SCENARIO).scenario


def straight(scenario, bot: str, seed: int = SEED, quarters: int | None = None):
    """Play straight through, keeping the canonical state after every quarter."""
    game = Game(scenario, seed)
    player = make_bot(bot)
    states = [game.canonical_state()]
    while not game.over and (quarters is None or len(game.reports) < quarters):
        game.play(player.act(game.observation()))
        states.append(game.canonical_state())
    return game, states


def roundtrip(state: GameState) -> GameState:
    return GameState.model_validate(json.loads(canonical_json(state)))


def accepted_bot_actions(game: Game, bot: str) -> list[dict]:
    actions = make_bot(bot).act(game.observation())
    return [r.action for r in game.check(actions) if r.ok]


# ------------------------------------------------------------------------------ replay


@pytest.mark.parametrize("bot", ["all-in", "barbell", "flex", "passive"])
def test_replay_reproduces_every_hash_state_and_report(scenario, bot):
    game, _ = straight(scenario, bot, quarters=8)
    result = replay(scenario, SEED, game.log, game.hashes())
    assert result.first_divergence is None
    assert result.hashes == game.hashes()
    assert result.game.canonical_state() == game.canonical_state()
    assert [r.model_dump(mode="json") for r in result.game.reports] == [r.model_dump(mode="json") for r in game.reports]
    assert result.game.log == game.log
    # without expected hashes it only re-simulates
    assert replay(scenario, SEED, game.log).hashes == game.hashes()


def test_replay_log_is_json_data(scenario):
    """The log a run file stores survives JSON (the run file *is* the save game)."""
    game, _ = straight(scenario, "all-in", quarters=5)
    log = json.loads(json.dumps(game.log))
    assert replay(scenario, SEED, log, game.hashes()).first_divergence is None


def test_replay_finds_the_first_divergent_quarter(scenario):
    game, _ = straight(scenario, "all-in", quarters=6)
    hashes = game.hashes()
    n = len(hashes)
    for i in range(n):
        wrong = list(hashes)
        wrong[i] = "0" * 64
        assert replay(scenario, SEED, game.log, wrong).first_divergence == i
    # an action changed in quarter i diverges there, not before
    tampered = 0
    for i, actions in enumerate(game.log):
        for j, action in enumerate(actions):
            for key in ("amount_usd", "count"):
                if isinstance(action.get(key), int):
                    log = copy.deepcopy(game.log)
                    log[i][j][key] = action[key] - 8 if action[key] > 8 else action[key] + 8
                    result = replay(scenario, SEED, log, hashes)
                    assert result.first_divergence == i, (i, action)
                    assert result.hashes[:i] == hashes[:i]
                    tampered += 1
    assert tampered, "the all-in bot should buy or borrow in its first quarters"


def test_replay_length_mismatches_are_divergences(scenario):
    game, _ = straight(scenario, "flex", quarters=4)
    hashes, log = game.hashes(), game.log
    assert replay(scenario, SEED, log, hashes[:-1]).first_divergence == len(hashes) - 1  # a hash missing
    assert replay(scenario, SEED, log[:-1], hashes).first_divergence == len(hashes) - 1  # a quarter missing
    assert replay(scenario, SEED + 1, log, hashes).first_divergence == 0  # another seed


def test_replay_beyond_the_end_of_the_game_is_a_divergence(scenario):
    game, _ = straight(scenario, "flex")
    assert game.over
    result = replay(scenario, SEED, game.log + [[]], game.hashes() + ["0" * 64])
    assert result.first_divergence == len(game.log)
    assert result.hashes == game.hashes()


# ------------------------------------------------------------------------------ save -> load -> continue


@pytest.mark.parametrize("bot", ["all-in", "barbell", "flex", "passive"])
def test_save_load_continue_equals_continue_through_the_log(scenario, bot):
    game, states = straight(scenario, bot)
    n = len(game.reports)
    for k in sorted({0, 1, n // 2, max(0, n - 1)}):
        loaded = replay(scenario, SEED, game.log[:k], game.hashes()[:k])
        assert loaded.first_divergence is None
        assert loaded.game.canonical_state() == states[k]
        run_bot(loaded.game, make_bot(bot))
        assert loaded.game.hashes() == game.hashes(), f"{bot}: resumed after {k} quarters"
        assert loaded.game.canonical_state() == states[-1]


def test_save_load_continue_equals_continue_through_the_state(scenario):
    """Serialize the state itself (canonical JSON), load it, and play on: same hashes and reports."""
    game, _ = straight(scenario, "barbell", quarters=2)
    player = make_bot("barbell")
    played = 0
    while not game.over and played < 4:
        actions = player.act(game.observation())
        a_state, a_report = advance(game.state, game.world, scenario, actions)
        b_state, b_report = advance(roundtrip(game.state), game.world, scenario, actions)
        assert a_report.state_hash == b_report.state_hash == state_hash(a_state) == state_hash(b_state)
        assert a_report.model_dump(mode="json") == b_report.model_dump(mode="json")
        assert game.play(actions).state_hash == a_report.state_hash
        played += 1
    assert played


# ------------------------------------------------------------------------------ the state hash


def test_state_hash_is_sha256_of_canonical_json_and_survives_a_round_trip(scenario):
    game = Game(scenario, SEED)
    player = make_bot("all-in")
    for _ in range(6):
        state = game.state
        text = canonical_json(state)
        assert text == canonical_json(state)  # stable
        assert state_hash(state) == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert json.loads(text) == state.model_dump(mode="json")
        assert json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) == text  # sorted, compact
        again = roundtrip(state)
        assert canonical_json(again) == text
        assert state_hash(again) == state_hash(state)
        assert state_hash(GameState.model_validate_json(text)) == state_hash(state)
        if game.over:
            break
        game.play(player.act(game.observation()))


def test_report_hash_is_the_hash_of_the_new_state(scenario):
    game = Game(scenario, SEED)
    assert game.initial_hash == state_hash(game.state)
    player = make_bot("all-in")
    seen = {game.initial_hash}
    for _ in range(4):
        report = game.play(player.act(game.observation()))
        assert report.state_hash == state_hash(game.state)
        assert report.state_hash not in seen
        seen.add(report.state_hash)


def test_state_hash_sees_every_change(scenario):
    game = Game(scenario, SEED)
    base = state_hash(game.state)
    changed = game.state.model_copy(deep=True)
    changed.lots[0].count += 1
    assert state_hash(changed) != base
    changed = game.state.model_copy(deep=True)
    changed.seed += 1
    assert state_hash(changed) != base


def test_same_seed_same_hashes_other_seed_other_world(scenario):
    a = Game(scenario, 3)
    b = Game(scenario, 3)
    c = Game(scenario, 4)
    assert a.initial_hash == b.initial_hash != c.initial_hash
    for _ in range(3):
        assert a.play([]).state_hash == b.play([]).state_hash


# ------------------------------------------------------------------------------ advance, check, preview


def test_advance_does_not_touch_its_input_and_stops_at_game_over(scenario):
    game = Game(scenario, SEED)
    before = canonical_json(game.state)
    actions = accepted_bot_actions(game, "all-in")
    advance(game.state, game.world, scenario, actions)
    assert canonical_json(game.state) == before
    finished, _ = straight(scenario, "flex")
    assert finished.over
    with pytest.raises(ValueError):
        finished.play([])


def test_check_is_a_dry_run_and_agrees_with_playing(scenario):
    game, _ = straight(scenario, "barbell", quarters=2)
    assert not game.over
    before = game.canonical_state()
    plan = make_bot("all-in").act(game.observation()) + make_bot("barbell").act(game.observation())
    plan += [{"kind": "take_loan", "offer_id": "nope", "amount_usd": 5}, {"kind": "build_site", "mw": 1}]
    checked = game.check(plan)
    assert game.canonical_state() == before
    assert len(checked) == len(plan)
    assert any(r.ok for r in checked) or not plan
    assert all(r.message for r in checked)
    preview_results, trial = game.preview(plan)
    assert game.canonical_state() == before
    assert [(r.ok, r.message) for r in preview_results] == [(r.ok, r.message) for r in checked]
    assert trial is not game.state
    report = game.play(plan)
    assert [(r.ok, r.message) for r in report.actions] == [(r.ok, r.message) for r in checked]


def test_observation_is_a_copy(scenario):
    game = Game(scenario, SEED)
    before = game.canonical_state()
    obs = game.observation()
    obs.state.lots.clear()
    obs.state.ledger.balances["cash"] = 0
    assert game.canonical_state() == before


INVALID_ACTIONS = [
    pytest.param({"kind": "teleport_gpus"}, id="unknown-kind"),
    pytest.param({}, id="no-kind"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": -8, "site_id": "S-TX"}, id="negative-count"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": 0, "site_id": "S-TX"}, id="zero-count"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": 8}, id="missing-site"),
    pytest.param({"kind": "lease_gpus", "count": 8}, id="missing-gen"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": "eight", "site_id": "S-TX"}, id="count-not-a-number"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": 8, "site_id": "S-TX", "discount": 0.5}, id="extra-field"),
    pytest.param({"kind": "buy_gpus", "gen": "z9000", "count": 8, "site_id": "S-TX"}, id="unknown-gpu"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": 8, "site_id": "S-MARS"}, id="unknown-site"),
    pytest.param({"kind": "take_loan", "offer_id": "nope", "amount_usd": 1_000_000}, id="unknown-loan-offer"),
    pytest.param({"kind": "repay_loan", "loan_id": "D999", "amount_usd": -5}, id="negative-amount"),
    pytest.param({"kind": "raise_equity", "offer_id": "nope", "amount_usd": 10**30}, id="absurd-amount"),
    pytest.param({"kind": "sign_contract", "offer_id": "nope"}, id="unknown-contract-offer"),
    pytest.param({"kind": "set_price", "gen": "h100", "vs_market": 5.0}, id="price-out-of-range"),
    pytest.param({"kind": "lease_gpus", "gen": "h100", "count": 8, "term_quarters": 5}, id="bad-term"),
    pytest.param({"kind": "build_site", "mw": 1, "power_source": "fusion"}, id="bad-power-source"),
    pytest.param({"kind": "release_site", "site_id": "S-TX"}, id="release-site-with-gpus"),
    pytest.param({"kind": "sell_gpus", "lot_id": "L1", "count": 100_000}, id="sell-more-than-owned"),
    pytest.param({"kind": "buy_gpus", "gen": "h100", "count": 100_000, "site_id": "S-TX"}, id="more-than-cash"),
]


@pytest.mark.parametrize("action", INVALID_ACTIONS)
def test_invalid_action_is_rejected_with_a_reason_and_changes_nothing(scenario, action):
    game = Game(scenario, SEED)
    before = game.canonical_state()
    (result,) = game.check([action])
    assert not result.ok
    assert isinstance(result.message, str) and len(result.message.strip()) > 5
    assert game.canonical_state() == before

    # playing the quarter with the bad action is the same as playing it with nothing
    idle = Game(scenario, SEED).play([])
    report = game.play([action])
    assert report.state_hash == idle.state_hash
    assert len(report.actions) == 1 and not report.actions[0].ok and report.actions[0].message == result.message


def test_bad_actions_among_good_ones_change_nothing_but_themselves(scenario):
    game = Game(scenario, SEED)
    good = accepted_bot_actions(game, "all-in")
    if not good:
        pytest.skip("the all-in bot has nothing it can do in the first quarter")
    bad = [p.values[0] for p in INVALID_ACTIONS]
    mixed = [bad[0], good[0], *bad[1:5], *good[1:], *bad[5:]]
    only_good = Game(scenario, SEED).play(good)
    report = game.play(mixed)
    assert report.state_hash == only_good.state_hash
    assert sum(r.ok for r in report.actions) == len(good)


def test_seed_must_be_non_negative(scenario):
    with pytest.raises(ValueError):
        Game(scenario, -1)
