"""Competition files: validation with errors naming file and field, tagging, and the policies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.game import Game
from game.competition import (
    Competition,
    apply_policy,
    competition_mismatch,
    competition_ranks,
    load_competition,
    rank_of,
    tag_run_with_competition,
)
from game.errors import UserError
from game.runfile import run_from_game
from scenarios import load_scenario

GOOD = """
id = "econ-212-w6"
title = "ECON 212, week 6: the deflation trade"
scenario = "deflation"
seed = 42
policy = "best-of-3"
note = "Sign before the fall. Submit by Friday."
"""


def _write(tmp_path, text: str, name: str = "comp.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_competition_file_loads(tmp_path):
    comp = load_competition(_write(tmp_path, GOOD))
    assert comp.id == "econ-212-w6" and comp.scenario == "deflation" and comp.seed == 42
    assert comp.archetype == "neocloud"  # defaults to the scenario's own
    assert comp.attempts_counted == 3 and "best of the first 3" in comp.policy_text
    assert comp.note.startswith("Sign")


def test_first_is_the_default_policy(tmp_path):
    comp = load_competition(_write(tmp_path, GOOD.replace('policy = "best-of-3"\n', "")))
    assert comp.policy == "first" and comp.attempts_counted == 1 and comp.policy_text == "first attempt counts"


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("seed = 42\n", "", "field seed: Field required"),
        ('policy = "best-of-3"', 'policy = "best3"', "field policy: must be 'first' or 'best-of-N'"),
        ('policy = "best-of-3"', 'policy = "best-of-0"', "field policy"),
        ("seed = 42", "seed = -1", "field seed"),
        ('scenario = "deflation"', 'scenario = "atlantis"', "field scenario: no scenario 'atlantis'"),
        ('scenario = "deflation"', 'scenario = "../x.toml"', "field scenario: name a built-in scenario id"),
        ('note = "', 'notes = "', "field notes: Extra inputs are not permitted"),
        ('id = "econ-212-w6"', 'id = "econ 212"', "field id"),
        ('seed = 42', 'seed = 42\narchetype = "inference"', "field archetype: scenario 'deflation' is played as 'neocloud'"),
        ('seed = 42', 'seed = 42\nscenario_sha256 = "' + "0" * 64 + '"', "field scenario_sha256"),
        ("seed = 42", "seed = [", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, old, new, field):
    assert old in GOOD
    p = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(UserError) as exc:
        load_competition(p)
    assert str(exc.value).startswith(f"{p}: ") and field in str(exc.value), str(exc.value)


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such competition file"):
        load_competition(tmp_path / "nope.toml")


def test_pinning_the_current_scenario_version_is_accepted(tmp_path):
    sha = load_scenario("deflation").sha256
    comp = load_competition(_write(tmp_path, GOOD + f'scenario_sha256 = "{sha}"\n'))
    assert comp.scenario_sha256 == sha


def test_tag_a_run_with_its_competition(tmp_path):
    comp = load_competition(_write(tmp_path, GOOD.replace("seed = 42", "seed = 1")))
    loaded = load_scenario("deflation")
    game = Game(loaded.scenario, 1)
    game.play([])
    run = run_from_game(game, loaded, player="ada")
    tagged = tag_run_with_competition(run, comp)
    assert tagged.competition == comp.id and run.competition is None  # a copy
    other = run_from_game(Game(loaded.scenario, 2), loaded, player="ada")
    with pytest.raises(UserError, match="seed 2; competition 'econ-212-w6' plays seed 1"):
        tag_run_with_competition(other, comp)


def test_why_a_run_does_not_belong():
    comp = Competition(id="c1", title="t", scenario="deflation", seed=5)
    assert competition_mismatch(comp, "deflation", 5, None) is None
    assert competition_mismatch(comp, "deflation", 5, "c1") is None
    assert "competition 'c2'" in competition_mismatch(comp, "deflation", 5, "c2")
    assert "scenario 'tutorial'" in competition_mismatch(comp, "tutorial", 5, None)
    assert "seed 6" in competition_mismatch(comp, "deflation", 6, None)


@dataclass
class _A:
    player: str
    score_cents: int
    order: int


ATTEMPTS = [
    _A("ada", 100, 1), _A("bo", 300, 2), _A("ada", 500, 3), _A("cy", 300, 4),
    _A("bo", 50, 5), _A("ada", 900, 6), _A("cy", 400, 7),
]


def test_policy_first_counts_each_players_first_attempt():
    comp = Competition(id="c", title="t", scenario="deflation", seed=1, policy="first")
    s = apply_policy(ATTEMPTS, comp)
    assert [(x.rank, x.player, x.counted.score_cents) for x in s] == [(1, "bo", 300), (1, "cy", 300), (3, "ada", 100)]
    assert {x.player: (x.counted_attempt, x.attempts) for x in s} == {"ada": (1, 3), "bo": (1, 2), "cy": (1, 2)}
    assert rank_of(s, "ada") == 3 and rank_of(s, "zed") is None


def test_policy_best_of_n_counts_the_best_of_the_first_n():
    comp = Competition(id="c", title="t", scenario="deflation", seed=1, policy="best-of-2")
    s = apply_policy(reversed(ATTEMPTS), comp)  # order comes from `order`, not from the input
    # ada's third attempt (900) comes too late to count; cy's second (400) counts
    assert [(x.rank, x.player, x.counted.score_cents, x.counted_attempt) for x in s] == [
        (1, "ada", 500, 2), (2, "cy", 400, 2), (3, "bo", 300, 1),
    ]
    comp3 = comp.model_copy(update={"policy": "best-of-3"})
    assert apply_policy(ATTEMPTS, comp3)[0].counted.score_cents == 900


def test_equal_scores_share_a_rank():
    assert competition_ranks([9, 7, 7, 5, 5, 5, 1]) == [1, 2, 2, 4, 4, 4, 7]
    assert competition_ranks([]) == []
