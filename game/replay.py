"""Replays (issue 14): watch a run quarter by quarter, race it against another, take over from any quarter.

``tycoon replay RUN.json [--vs OTHER.json | --vs-bot NAME] [--json]`` opens the app in replay mode
(or prints every quarter as ``tycoon sim --json`` does); ``tycoon replay --scenario ID --seed N
--bot NAME`` plays a bot and replays it; ``tycoon branch RUN.json --at 2026Q2 --out NEW.json``
writes a branch that ``tycoon play --load NEW.json`` continues.

A replay re-simulates the log once when it opens and keeps the state at the start of every
quarter (``Replay.states``): seeking reads that cache, it never simulates again. A branch starts
from the cached state, which was re-simulated from the log, never read from the file's claims.
The engine loads lazily: ``tycoon`` registers this module without importing it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from game.cli import seed_arg
from game.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from engine.game import Game
    from engine.state import GameState
    from game.runfile import RunFile
    from scenarios import LoadedScenario

GHOST_FIELDS = ("score", "cash", "revenue", "ebitda", "contracted_share", "dscr")  # the ghost panel's rows (quarter_summary keys)


@dataclass
class Replay:
    """One run, re-simulated once: the game with every report, and the state at the start of every quarter."""

    loaded: LoadedScenario
    game: Game  # the whole run as re-simulated (reports, log)
    states: list[GameState]  # states[i]: the state at the start of quarter i; states[-1]: after the last quarter
    name: str  # whose run: the player, or bot:NAME
    run: RunFile | None = None  # the run file it came from (None: a bot played it just now)
    path: Path | None = None
    _views: dict[int, Game] = field(default_factory=dict, repr=False)

    @property
    def quarters(self) -> int:
        """Quarters played in the run (the timeline's M)."""
        return len(self.game.reports)

    @property
    def seed(self) -> int:
        return self.game.seed

    def label(self, i: int) -> str:
        return self.game.reports[i].label

    def index_of(self, label: str) -> int:
        """The index of quarter ``label`` in the run; a quarter outside it is a one-line error."""
        labels = [r.label for r in self.game.reports]
        if label.strip().upper() in labels:
            return labels.index(label.strip().upper())
        where = f"{labels[0]} to {labels[-1]}" if labels else "none: the run has no quarter played"
        raise UserError(f"--at {label!r}: not a quarter of this run; valid: {where}")

    def game_at(self, i: int) -> Game:
        """A read-only view of the game at the start of quarter ``i`` (cached: a seek never simulates).
        It shares the world and the cached state; screens only read it."""
        view = self._views.get(i)
        if view is None:
            view = copy.copy(self.game)
            view.state = self.states[i]
            view.reports = self.game.reports[:i]
            view.log = self.game.log[:i]
            self._views[i] = view
        return view

    def branch_game(self, i: int) -> Game:
        """A game of its own from the start of quarter ``i``: the cached state (re-simulated from
        the log) copied, with the reports and decisions before it."""
        from engine.state import copy_state

        g = copy.copy(self.game)
        g.state = copy_state(self.states[i])
        g.reports = list(self.game.reports[:i])
        g.log = [list(actions) for actions in self.game.log[:i]]
        return g

    def final_hash(self) -> str:
        return self.game.reports[-1].state_hash if self.game.reports else self.game.initial_hash

    def parent_block(self, i: int) -> dict[str, Any]:
        """The branch's ``parent`` (game.runfile.PARENT_FIELDS) when it takes over at quarter ``i``."""
        return {
            "scenario": self.loaded.scenario.id, "scenario_sha256": self.loaded.sha256, "seed": self.seed,
            "player": self.name, "final_hash": self.final_hash(), "at": self.label(i), "quarters_before": i,
            "state_hash": self.game.initial_hash if i == 0 else self.game.reports[i - 1].state_hash,
            "actions": [list(a) for a in self.game.log[:i]],
        }

    def summary(self, i: int) -> dict[str, Any]:
        """Quarter ``i`` as ``tycoon sim --json`` prints it (game.headless.quarter_summary, with the
        quarter's ``warnings``: the advisor read on the state that quarter was decided on)."""
        from game.headless import quarter_summary, quarter_warnings

        report = self.game.reports[i]
        return {**quarter_summary(report), "warnings": quarter_warnings(self.states[i], self.game, self.game.log[i], report)}


def _run_name(run: RunFile) -> str:
    return run.player or (f"bot:{run.bot}" if run.bot else "(anonymous)")


def resimulate(loaded: LoadedScenario, seed: int, log: list[list[dict]], name: str,
               run: RunFile | None = None, path: Path | None = None) -> Replay:
    """Play ``log`` once, keeping the state at the start of every quarter (``advance`` never
    modifies its input, so each kept state stays as it was)."""
    from engine.game import Game

    try:
        game = Game(loaded.scenario, seed)
    except ValueError as exc:  # a scenario pydantic accepts can still describe a company the engine cannot start
        raise UserError(f"scenario {loaded.scenario.id!r} cannot be played: {exc}") from None
    states = [game.state]
    for actions in log:
        if game.over:
            break
        game.play(actions)
        states.append(game.state)
    return Replay(loaded=loaded, game=game, states=states, name=name, run=run, path=path)


def open_run(path: str | Path, scenario_file: str | Path | None = None) -> Replay:
    """A run file, verified (a branch's parent too), then re-simulated with its states kept."""
    from game.runfile import load_run, verify_run

    v = verify_run(path, scenario_file)
    if not v.ok or v.loaded is None:
        raise UserError(f"{path}: cannot replay this run: it does not verify ({v.reason})")
    run = load_run(path)
    return resimulate(v.loaded, run.seed, run.log, _run_name(run), run, Path(path))


def bot_replay(loaded: LoadedScenario, seed: int, spec: str) -> Replay:
    """A built-in bot, exploit strategy or bot file (``FILE.py:Class``) played now, its states kept."""
    from engine.game import Game
    from game.botfile import resolve_bot

    bot = resolve_bot(spec)
    try:
        game = Game(loaded.scenario, seed)
    except ValueError as exc:
        raise UserError(f"scenario {loaded.scenario.id!r} cannot be played: {exc}") from None
    states = [game.state]
    while not game.over:
        game.play(bot.act(game.observation()))
        states.append(game.state)
    return Replay(loaded=loaded, game=game, states=states, name=f"bot:{bot.name}")


def scenario_bot_replay(scenario: str, seed: int, spec: str) -> Replay:
    from scenarios import ScenarioError, load_scenario

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    return bot_replay(loaded, seed, spec)


def open_ghost(main: Replay, vs: str | None = None, vs_bot: str | None = None, scenario_file: str | None = None) -> Replay | None:
    """The other run of ``--vs`` (same scenario version and seed, else one clear line) or the bot of ``--vs-bot``."""
    if vs is None and vs_bot is None:
        return None
    if vs_bot is not None:
        return bot_replay(main.loaded, main.seed, vs_bot)
    ghost = open_run(vs, scenario_file)
    same = (ghost.loaded.scenario.id, ghost.loaded.sha256, ghost.seed) == (main.loaded.scenario.id, main.loaded.sha256, main.seed)
    if not same:
        version = "" if ghost.loaded.scenario.id != main.loaded.scenario.id or ghost.loaded.sha256 == main.loaded.sha256 else " (another version of it)"
        raise UserError(f"--vs {vs}: played on scenario {ghost.loaded.scenario.id!r}{version} seed {ghost.seed}; "
                        f"the replay is {main.loaded.scenario.id!r} seed {main.seed}: a ghost must play the same scenario and seed")
    return ghost


def first_divergence(a: Replay, b: Replay) -> int | None:
    """The first quarter whose decisions differ between two runs of one world (None: the same decisions)."""
    for i, (x, y) in enumerate(zip(a.game.log, b.game.log)):
        if json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
            return i
    if len(a.game.log) != len(b.game.log):
        return min(len(a.game.log), len(b.game.log))
    return None


def ghost_rows(a: Replay, b: Replay, i: int) -> list[tuple[str, Any, Any]]:
    """(field, this run's value, the ghost's value) at quarter ``i`` for GHOST_FIELDS; None where a run has no such quarter."""
    sa = a.summary(i) if i < a.quarters else {}
    sb = b.summary(i) if i < b.quarters else {}
    return [(f, sa.get(f), sb.get(f)) for f in GHOST_FIELDS]


def branch_run(rep: Replay, i: int, player: str | None = None) -> tuple[RunFile, Game]:
    """The run file of a branch taking over at quarter ``i`` (its quarters before ``i`` are the parent's)."""
    from game.runfile import run_from_game

    game = rep.branch_game(i)
    run = run_from_game(game, rep.loaded, player=rep.name if player is None else player, parent=rep.parent_block(i))
    if rep.run is not None:
        run.competition = rep.run.competition  # the competition's policy decides whether a branch counts
    return run, game


# ----------------------------------------------------------------------------- the commands


def cmd_replay(args: argparse.Namespace) -> int:
    if args.run is not None and (args.bot is not None or args.scenario is not None):
        raise UserError("name a run file, or --scenario ID --seed N --bot NAME, not both")
    if args.vs is not None and args.vs_bot is not None:
        raise UserError("--vs and --vs-bot: pick one ghost")
    if args.run is None:
        if args.bot is None:
            raise UserError("name a run file to replay, or a bot to watch: --scenario ID --seed N --bot NAME")
        from scenarios import DEFAULT_SCENARIO

        main = scenario_bot_replay(args.scenario or DEFAULT_SCENARIO, args.seed, args.bot)
    else:
        main = open_run(args.run, args.scenario_file)
    ghost = open_ghost(main, args.vs, args.vs_bot, args.scenario_file)
    if args.json:
        for i in range(main.quarters):
            line = main.summary(i)
            if ghost is not None:
                line["vs"] = ghost.summary(i) if i < ghost.quarters else None
            sys.stdout.write(json.dumps(line, sort_keys=True, allow_nan=False) + "\n")
        return 0
    if not main.quarters:
        raise UserError(f"{args.run}: the run has no quarter played: nothing to replay")
    from game.app.screens.replay import make_replay_app

    app = make_replay_app(main, ghost, save_dir=args.save_dir, player=args.player or "")
    app.run()
    return int(app.return_code or 0)


def cmd_branch(args: argparse.Namespace) -> int:
    from game.runfile import save_run

    src, out = Path(args.run), Path(args.out)
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise UserError(f"--out {out}: that is the run being branched; name a new file")
    rep = open_run(src, args.scenario_file)
    i = rep.index_of(args.at)
    run, _ = branch_run(rep, i, args.player)
    try:
        save_run(run, out)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    print(f"{out}: a branch of {src} taking over at {rep.label(i)} ({i} quarter(s) inherited); "
          f"continue it with `tycoon play --load {out}`")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="watch a run (or a bot) quarter by quarter; race it against another")
    p.add_argument("run", nargs="?", default=None, help="the run file (.json) to replay")
    p.add_argument("--vs", metavar="OTHER", default=None, help="a ghost: another run file on the same scenario and seed")
    p.add_argument("--vs-bot", metavar="NAME", default=None, help="a ghost: a built-in bot, an exploit strategy or FILE.py:ClassName")
    p.add_argument("--scenario", default=None, help="with --bot: the scenario id the bot plays")
    p.add_argument("--seed", type=seed_arg, default=1, help="with --bot: the world seed (default 1)")
    p.add_argument("--bot", default=None, help="watch this bot play --scenario and --seed")
    p.add_argument("--scenario-file", metavar="PATH", default=None, help="the scenario .toml of an old run file that does not embed it")
    p.add_argument("--player", default=None, help="your name on a branch you take over with b")
    p.add_argument("--save-dir", metavar="DIR", default=None, help="where a branch you take over is saved")
    p.add_argument("--json", action="store_true", help="print every quarter as a JSON line (the fields of `tycoon sim --json`)")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("branch", help="write a branch of a run from the start of a quarter, to continue with play --load")
    p.add_argument("run", help="the run file (.json) to branch")
    p.add_argument("--at", required=True, metavar="QUARTER", help="the quarter to play again, e.g. 2026Q2")
    p.add_argument("--out", required=True, metavar="NEW", help="the branch's run file")
    p.add_argument("--player", default=None, help="the branch's player (default: the parent's)")
    p.add_argument("--scenario-file", metavar="PATH", default=None, help="the scenario .toml of an old run file that does not embed it")
    p.set_defaults(handler=cmd_branch)
