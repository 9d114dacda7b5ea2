"""Classroom competitions: one scenario, one seed, one policy for the whole class.

An instructor writes a small TOML file and hands it out with the game::

    id = "econ-212-deflation"
    title = "ECON 212, week 6: the deflation trade"
    scenario = "deflation"
    seed = 42
    archetype = "neocloud"          # optional: defaults to the scenario's own
    policy = "best-of-3"            # "first" (the first attempt counts) or "best-of-N"
    note = "Sign contracts before prices fall. Submit your run file by Friday."
    server = "http://10.0.0.5:8765"   # optional: the class's `tycoon board serve` (issue 13)
    class_code = "K7PQ-3QXA"          # optional: the code the server gave (or takes) for this competition
    branches = "count"              # optional: "count" (a branch is an attempt like any) or "refuse"

Students play it with ``tycoon play --competition FILE`` (the run file is tagged with the id);
the instructor ranks the class with ``tycoon leaderboard add --competition FILE submissions/*``.
Attempts are counted per player in the order the leaderboard received them: under ``first`` only
the first verified run counts; under ``best-of-N`` the best of the first N counts.
A branch (a run taken over from another with ``b`` in a replay or ``tycoon branch``; its run file
names a ``parent``) is an attempt like any under ``branches = "count"`` and is refused under
``branches = "refuse"`` (a class that must play every quarter itself).
"""

from __future__ import annotations

import dataclasses
import os
import re

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from game.errors import UserError

_POLICY = re.compile(r"^(first|best-of-([1-9][0-9]*))$")


class Competition(BaseModel):
    """A competition file, validated (unknown fields are an error: a typo must not pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)
    title: str = Field(min_length=1)
    scenario: str = Field(min_length=1)  # a scenario id from ``tycoon scenarios``
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)  # strict: "42" and 42.0 are typos, not seeds; 2^63 overflows SQLite
    archetype: Literal["neocloud", "inference"] | None = None
    policy: str = "first"
    note: str = ""
    scenario_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")  # pin one version of the scenario
    server: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=300)  # the class's `tycoon board serve`
    class_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{3,31}$")  # what students submit with
    branches: Literal["count", "refuse"] = "count"  # whether a branch of another run (issue 14) counts as an attempt
    kind: Literal["run", "industry", "both"] = "run"  # what the classroom server takes: run files, industry files (issue 15), or both
    industry_size: int | None = Field(default=None, ge=1, le=12, strict=True)  # companies per industry file, if fixed

    @field_validator("policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        v = v.strip().lower()
        if not _POLICY.match(v):
            raise ValueError("must be 'first' or 'best-of-N' with N a positive whole number, e.g. 'best-of-3'")
        return v

    @property
    def attempts_counted(self) -> int:
        """How many of a player's attempts can count: 1 under ``first``, N under ``best-of-N``."""
        m = _POLICY.match(self.policy)
        assert m is not None
        return int(m.group(2)) if m.group(2) else 1

    @property
    def policy_text(self) -> str:
        branches = "; branches do not count" if self.branches == "refuse" else ""
        if self.policy == "first":
            return "first attempt counts" + branches
        return f"best of the first {self.attempts_counted} attempts counts{branches}"


def load_competition(path: str | os.PathLike) -> Competition:
    """Read and validate a competition file; every problem names the file and the field.

    The scenario must exist and, if the file pins ``scenario_sha256`` or ``archetype``, agree
    with them: a class must not discover on Friday that the file named a game nobody can play.
    """
    from scenarios import ScenarioError, load_scenario, parse_toml_model

    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{p}: no such competition file") from None
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror})") from None
    comp = parse_toml_model(data, p, Competition, UserError)
    if "/" in comp.scenario or comp.scenario.endswith(".toml"):
        raise UserError(f"{p}: field scenario: name a built-in scenario id (see `tycoon scenarios`), not a path (got {comp.scenario!r})")
    try:
        loaded = load_scenario(comp.scenario)
    except ScenarioError as exc:
        raise UserError(f"{p}: field scenario: {exc}") from None
    if comp.archetype is not None and comp.archetype != loaded.scenario.archetype:
        raise UserError(
            f"{p}: field archetype: scenario {comp.scenario!r} is played as {loaded.scenario.archetype!r}, got {comp.archetype!r}"
        )
    if comp.scenario_sha256 is not None and comp.scenario_sha256 != loaded.sha256:
        raise UserError(
            f"{p}: field scenario_sha256: this tycoon's {comp.scenario!r} has SHA-256 {loaded.sha256[:12]}..., "
            f"the competition pins {comp.scenario_sha256[:12]}... (another version of the scenario)"
        )
    if comp.archetype is None:
        comp = comp.model_copy(update={"archetype": loaded.scenario.archetype})
    return comp


def competition_mismatch(competition: Competition, scenario: str, seed: int, tag: str | None, scenario_sha256: str | None = None) -> str | None:
    """Why a run does not belong to this competition, or None if it does.

    An untagged run of the right scenario and seed is accepted (the tag is a label, not a proof);
    a run tagged for another competition is not.
    """
    if tag and tag != competition.id:
        return f"was played for competition {tag!r}, not {competition.id!r}"
    if scenario != competition.scenario:
        return f"is a game of scenario {scenario!r}; competition {competition.id!r} plays {competition.scenario!r}"
    if seed != competition.seed:
        return f"was played on seed {seed}; competition {competition.id!r} plays seed {competition.seed}"
    if competition.scenario_sha256 and scenario_sha256 and scenario_sha256 != competition.scenario_sha256:
        return f"was made with another version of scenario {scenario!r} than the competition pins"
    return None


def tag_run_with_competition(run, competition: Competition):
    """Return a copy of ``run`` (a ``game.runfile.RunFile``) tagged with the competition's id.

    Raises ``UserError`` if the run is not a game of the competition's scenario and seed.
    """
    why = competition_mismatch(competition, run.scenario, run.seed, None, run.scenario_sha256)
    if why:
        raise UserError(f"this run {why}")
    return dataclasses.replace(run, competition=competition.id)


# ----------------------------------------------------------------------------- ranking


class Attempt(Protocol):
    player: str
    score_cents: int
    order: int  # when the leaderboard received it (lower = earlier)


A = TypeVar("A", bound=Attempt)


@dataclasses.dataclass(frozen=True)
class Standing:
    rank: int
    player: str
    counted: object  # the attempt that counts (same type as given)
    attempts: int  # how many verified attempts the player submitted
    counted_attempt: int  # 1-based number of the attempt that counts


def apply_policy(attempts: Iterable[A], competition: Competition) -> list[Standing]:
    """One standing per player under the competition's policy, ranked by score (equal scores share a rank).

    Attempts are ordered by ``order``; under ``best-of-N`` attempts after the N-th never count.
    """
    by_player: dict[str, list[A]] = {}
    for a in sorted(attempts, key=lambda a: a.order):
        by_player.setdefault(a.player, []).append(a)
    n = competition.attempts_counted
    picked: list[tuple[A, int, int]] = []
    for player, items in by_player.items():
        window = items[:n]
        best_i = max(range(len(window)), key=lambda i: (window[i].score_cents, -i))
        picked.append((window[best_i], best_i + 1, len(items)))
    picked.sort(key=lambda t: (-t[0].score_cents, t[0].order))
    ranks = competition_ranks([a.score_cents for a, _, _ in picked])
    return [
        Standing(rank=r, player=a.player, counted=a, attempts=total, counted_attempt=k)
        for r, (a, k, total) in zip(ranks, picked, strict=True)
    ]


def competition_ranks(sorted_scores: Sequence[int]) -> list[int]:
    """Standard competition ranking ("1224") of scores already sorted best first: equal scores share a rank."""
    ranks: list[int] = []
    for i, s in enumerate(sorted_scores):
        ranks.append(ranks[-1] if i and s == sorted_scores[i - 1] else i + 1)
    return ranks


def rank_of(standings: Sequence[Standing], player: str) -> int | None:
    for s in standings:
        if s.player == player:
            return s.rank
    return None
