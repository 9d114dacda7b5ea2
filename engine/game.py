"""A game session: the scenario, its world, the state, and the log of what was played.

This is the object the CLI, the Textual app, the bots and the verifier share. It holds no I/O:
the game layer reads and writes files. ``replay`` re-simulates an action log and returns the
state hash after each quarter, which is how run files are loaded and verified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from engine import RULESET
from engine.actions import ACTION_KINDS, Action, action_to_dict, parse_action
from engine.report import ActionResult, QuarterReport
from engine.scenario import Scenario
from engine.state import GameState, canonical_json, copy_state, state_hash
from engine.step import advance, check_actions, json_safe, new_game
from engine.world import World, build_world


MAX_SEED = 2**63 - 1  # issue 10: a seed must fit a signed 64-bit integer (SQLite, numpy)


def _loggable(action: object) -> dict:
    """What the log records of one submitted action: JSON-safe data that replays to the same verdict."""
    if isinstance(action, dict):
        return json_safe(action)  # type: ignore[return-value]
    if getattr(action, "kind", None) in ACTION_KINDS and hasattr(action, "model_dump"):
        return json_safe(action_to_dict(action))  # type: ignore[return-value]
    return {"value": repr(action)[:200]}  # not an action: rejected now and on replay (no 'kind')


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario (the game layer also hashes the file's bytes)."""
    return hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()


@dataclass
class Observation:
    """What a player (or a bot) sees at a decision: the company, this quarter's market and offers,
    and every past report. Never the world's future (demand, spikes, events to come)."""

    quarter: int
    label: str
    quarters: int
    state: GameState
    market: "MarketView"  # noqa: F821 - imported lazily below
    reports: list[QuarterReport]
    scenario: Scenario


class Game:
    def __init__(self, scenario: Scenario, seed: int, world: World | None = None) -> None:
        if isinstance(seed, bool) or not hasattr(seed, "__index__") or not 0 <= int(seed) <= MAX_SEED:
            raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED} (2^63-1), got {seed!r}")
        self.scenario = scenario
        self.seed = int(seed)
        self.world = world or build_world(scenario.world, seed, scenario.start, scenario.quarters)
        self.state: GameState = new_game(scenario, self.world, seed)
        self.rivals = None  # issue 15: the scenario's rivals, cleared in one market with this company
        if scenario.rivals:
            from engine.industry import RivalMarket

            self.rivals = RivalMarket(scenario, self.seed, self.world, self.state)
        self.reports: list[QuarterReport] = []
        self.log: list[list[dict]] = []  # actions submitted per quarter, as data
        self.initial_hash = state_hash(self.state)

    @property
    def over(self) -> bool:
        return self.state.game_over

    @property
    def quarter_label(self) -> str:
        return self.world.quarter(min(self.state.quarter, self.scenario.quarters - 1)).label if not self.over else self.reports[-1].label

    def observation(self) -> Observation:
        from engine.market import market_view

        q = min(self.state.quarter, self.scenario.quarters - 1)
        wq = self.world.quarter(q)
        return Observation(
            quarter=self.state.quarter, label=wq.label, quarters=self.scenario.quarters,
            state=copy_state(self.state), market=market_view(wq), reports=list(self.reports), scenario=self.scenario,
        )

    def check(self, actions: list[Action | dict]) -> list[ActionResult]:
        """Dry-run a turn plan: each action's verdict, with nothing changed."""
        return check_actions(self.state, self.world, self.scenario, list(actions))

    def preview(self, actions: list[Action | dict]) -> tuple[list[ActionResult], GameState]:
        """Dry-run a turn plan and return the state right after the actions (before the quarter runs)."""
        from engine.step import _apply_actions

        trial = copy_state(self.state)
        results = _apply_actions(trial, self.world, self.scenario, list(actions))
        return results, trial

    def play(self, actions: list[Action | dict] | None = None) -> QuarterReport:
        """End the quarter with these actions; returns its report."""
        data = [_loggable(a) for a in (actions or [])]
        if self.rivals is None:
            self.state, report = advance(self.state, self.world, self.scenario, data)
        else:
            self.state, report = self.rivals.play(data)
        self.log.append(data)
        self.reports.append(report)
        return report

    def hashes(self) -> list[str]:
        return [r.state_hash for r in self.reports]

    def canonical_state(self) -> str:
        return canonical_json(self.state)


@dataclass
class ReplayResult:
    game: Game
    hashes: list[str] = field(default_factory=list)
    first_divergence: int | None = None  # index of the first quarter whose hash differs from the expected


def replay(scenario: Scenario, seed: int, log: list[list[dict]], expected_hashes: list[str] | None = None) -> ReplayResult:
    """Re-simulate an action log; compare each quarter's hash with ``expected_hashes`` if given."""
    game = Game(scenario, seed)
    result = ReplayResult(game=game)
    for i, actions in enumerate(log):
        if game.over:
            result.first_divergence = i if result.first_divergence is None else result.first_divergence
            break
        report = game.play(actions)
        result.hashes.append(report.state_hash)
        if expected_hashes is not None and result.first_divergence is None:
            if i >= len(expected_hashes) or expected_hashes[i] != report.state_hash:
                result.first_divergence = i
    if expected_hashes is not None and result.first_divergence is None and len(expected_hashes) != len(result.hashes):
        result.first_divergence = len(result.hashes)
    return result


__all__ = ["Game", "Observation", "ReplayResult", "replay", "scenario_digest", "RULESET", "parse_action"]
