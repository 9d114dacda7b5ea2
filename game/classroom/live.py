"""Networked rounds of an industry on the classroom server (issue 15).

The instructor opens an industry on the server; each player, on their own machine, fetches what
their company sees (its own books in full and what the others published, as the Rivals screen
shows it: ``engine.industry.published``, never their plans) and posts the quarter's plan. The
server resolves the quarter when every player still in the game has a plan, or at the round's
deadline (a missing plan is the empty plan), in a worker process (``resolve_round``), never in
the request loop; the industry file grows a quarter at a time and verifies with ``tycoon verify``.

Everything here is plain data in and out (JSON text, dicts): it crosses process boundaries.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from game.errors import UserError

MAX_ROUND_MINUTES = 7 * 24 * 60  # a round a week is the slowest a course plays


def new_industry(scenario: str, seed: int, players: list[str], rivals: list[str]) -> dict[str, Any]:
    """An industry of ``players`` (and built-in bot ``rivals``) before its first quarter: the file
    (JSON text), the companies and each player's first view. ``UserError`` names the bad field."""
    from engine.bots import bot_names
    from game.industry import _companies, _industry, _load, industry_file
    from game.runfile import is_builtin

    if not players:
        raise UserError("players: name at least one player (a networked industry of bots has nobody to wait for)")
    for b in rivals:
        if b not in bot_names():
            raise UserError(f"rivals: unknown bot {b!r}; valid: {', '.join(bot_names())}")
    if "/" in scenario or scenario.endswith(".toml"):
        raise UserError(f"scenario: name a built-in scenario id (see `tycoon scenarios`), not a path (got {scenario!r})")
    loaded = _load(scenario)
    if not is_builtin(loaded.scenario.id, loaded.sha256):
        raise UserError(f"scenario: {scenario!r} is not a built-in scenario")
    ind = _industry(loaded, seed, _companies(players, rivals))
    return {"file": json.dumps(industry_file(ind, loaded).to_json(), sort_keys=True), "scenario": loaded.scenario.id,
            "companies": [{"name": n, "bot": ind.companies[n].bot} for n in ind.order],
            "views": {n: player_view(ind, n) for n in ind.order if ind.companies[n].bot is None},
            "waiting": waiting_players(ind), "quarters": ind.scenario.quarters}


def waiting_players(ind: Any) -> list[str]:
    """The players whose plan a round waits for: those still in the game (a bankrupt one is out)."""
    return [n for n in ind.active() if ind.companies[n].bot is None]


def player_view(ind: Any, name: str) -> dict[str, Any]:
    """What one player may see before planning: their company in full (state and every report) and
    each other company's public disclosure of its last quarter. Nothing of anyone's plans."""
    from engine.industry import published

    c = ind.companies[name]
    obs = ind.observation(name)
    return {
        "player": name, "quarter": obs.quarter, "label": obs.label, "quarters": obs.quarters,
        "game_over": bool(c.state.game_over), "over": bool(ind.over),
        "state": json.loads(c.state.model_dump_json()),
        "reports": [json.loads(r.model_dump_json()) for r in c.reports],
        "rivals": published(ind, exclude=name),
    }


def validate_plan(actions: Any) -> list[dict[str, Any]]:
    """A posted plan: a list of actions the engine parses (engine.actions.parse_action), at most
    ``MAX_ACTIONS_PER_QUARTER``. ``ValueError`` names the first bad action and why."""
    from pydantic import ValidationError

    from engine.actions import action_to_dict, parse_action
    from game.runfile import MAX_ACTIONS_PER_QUARTER

    if not isinstance(actions, list):
        raise ValueError("actions: must be a list of actions (objects with a 'kind')")
    if len(actions) > MAX_ACTIONS_PER_QUARTER:
        raise ValueError(f"actions: at most {MAX_ACTIONS_PER_QUARTER} a quarter, got {len(actions)}")
    out = []
    for i, a in enumerate(actions):
        if not isinstance(a, dict):
            raise ValueError(f"actions[{i}]: must be an object with a 'kind', got {type(a).__name__}")
        try:
            out.append(action_to_dict(parse_action(a)))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise ValueError(f"actions[{i}]{'.' + where if where else ''}: {err.get('msg', 'invalid')}") from None
    return out


def _replay(file_text: str) -> tuple[Any, Any]:
    """The industry so far, re-simulated from its file with ``tycoon verify``'s verification: a
    stored file that no longer verifies is never extended."""
    from game.industry import verify_industry

    with tempfile.TemporaryDirectory(prefix="tycoon-live-") as tmp:
        path = os.path.join(tmp, "industry.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(file_text)
        v = verify_industry(path)
    if not v.ok:
        raise RuntimeError(f"the stored industry no longer verifies: {v.reason}")
    return v.industry, v.loaded


def resolve_round(file_text: str, plans: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Play one quarter (runs in a worker process): the players' posted plans (a player with none
    plays the empty plan), the bot rivals' plans from their bots, the market cleared among all
    (engine.industry.Industry.play). Returns the grown file, each player's new view, who the next
    round waits for and whether the industry is over."""
    from engine.bots import make_bot
    from game.industry import industry_file

    ind, loaded = _replay(file_text)
    if ind.over:
        raise RuntimeError("the industry is over; no more quarters can be played")
    todo = {}
    for n in ind.active():
        c = ind.companies[n]
        todo[n] = make_bot(c.bot).act(ind.observation(n)) if c.bot is not None else plans.get(n, [])
    iq = ind.play(todo)
    return {"file": json.dumps(industry_file(ind, loaded).to_json(), sort_keys=True), "label": iq.label,
            "views": {n: player_view(ind, n) for n in ind.order if ind.companies[n].bot is None},
            "waiting": waiting_players(ind), "over": bool(ind.over), "missing": sorted(n for n in waiting_before(iq, ind) if n not in plans)}


def waiting_before(iq: Any, ind: Any) -> list[str]:
    """The players who were in the round just played (for the "empty plan at the deadline" note)."""
    return [n for n in iq.reports if ind.companies[n].bot is None]


def observation_from_view(view: dict[str, Any], scenario: str, seed: int, cache: dict[str, Any] | None = None) -> Any:
    """A bot's ``engine.game.Observation`` rebuilt on the player's machine from the server's view:
    the scenario and the world are public (built-in scenario, seed); the state and reports are the
    player's own. The same Observation ``Industry.observation`` gives a company."""
    from engine.game import Observation
    from engine.market import market_view
    from engine.report import QuarterReport
    from engine.state import GameState
    from engine.world import build_world
    from game.industry import _load

    cache = {} if cache is None else cache
    if "world" not in cache:
        loaded = _load(scenario)
        sc = loaded.scenario
        cache["scenario"], cache["world"] = sc, build_world(sc.world, int(seed), sc.start, sc.quarters)
    sc, world = cache["scenario"], cache["world"]
    state = GameState.model_validate(view["state"])
    q = min(state.quarter, sc.quarters - 1)
    wq = world.quarter(q)
    return Observation(quarter=state.quarter, label=wq.label, quarters=sc.quarters, state=state, market=market_view(wq),
                       reports=[QuarterReport.model_validate(r) for r in view["reports"]], scenario=sc)
