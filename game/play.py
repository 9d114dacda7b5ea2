"""``tycoon play``: the Textual game (the default when ``tycoon`` runs without a subcommand)."""

from __future__ import annotations

import argparse
from pathlib import Path

from game.cli import seed_arg
from game.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="play in the terminal (the default)", description="Open the game. Without flags it starts on the start screen.")
    p.add_argument("--scenario", help="scenario id or path to a .toml (starts the game at once)")
    p.add_argument("--seed", type=seed_arg, help="world seed, a non-negative integer (starts the game at once)")
    p.add_argument("--player", default="", help="your name, recorded in the run file")
    p.add_argument("--load", metavar="RUN", help="continue a saved run file")
    p.add_argument("--save-dir", metavar="DIR", help="where run files are written (default: $TYCOON_SAVE_DIR or the user data dir)")
    p.add_argument("--competition", metavar="FILE",
                   help="play a classroom competition: its scenario and seed, its note on the dashboard, the run file tagged with its id")
    p.add_argument("--private-session", action="store_true",
                   help="(used by `tycoon serve`) save in a new private subfolder of the save dir, and load run files only from it")
    p.add_argument("--rivals", type=int, metavar="N", help="add N rival companies run by the built-in bots (game.industry.DEFAULT_RIVALS)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scenarios import ScenarioError, load_scenario

    if args.seed is not None and args.seed < 0:
        raise UserError("--seed must be a non-negative integer")
    if getattr(args, "private_session", False) and args.load:
        raise UserError("--load cannot be used with --private-session: a private session starts empty")
    if getattr(args, "rivals", None) is not None:  # issue 15: the scenario with rivals, written beside the run files
        if args.load or args.competition:
            raise UserError("--rivals starts a new game: it cannot be used with --load or --competition")
        from game.app.paths import default_save_dir
        from game.industry import write_rivals_scenario

        args.scenario = str(write_rivals_scenario(args.scenario or "neocloud-2025", args.rivals,
                                                  Path(args.save_dir) if args.save_dir else default_save_dir()))
    if args.scenario:
        try:
            loaded = load_scenario(args.scenario)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
        from engine.game import Game

        try:  # a scenario the schema accepts can still describe a company the engine cannot start
            Game(loaded.scenario, args.seed if args.seed is not None else 0)
        except ValueError as exc:
            raise UserError(f"{args.scenario}: this scenario cannot be played: {exc}") from None
    competition = competition_for(args)
    if args.load:
        from game.runfile import load_run, verify_run

        v = verify_run(args.load)  # raises UserError for unreadable files
        if not v.ok:
            raise UserError(f"{args.load}: cannot continue this run: {v.reason}")
        if competition is not None:
            from game.competition import competition_mismatch

            run = load_run(args.load)
            why = competition_mismatch(competition, run.scenario, run.seed, run.competition, run.scenario_sha256)
            if why is None and not v.builtin:
                why = f"was played on a {v.scenario_label.split(';')[0]}, not the built-in one"
            if why:
                raise UserError(f"{args.load}: cannot continue it in competition {competition.id!r}: this run {why}")
    from game.app import make_app

    save_dir = Path(args.save_dir) if args.save_dir else None
    if getattr(args, "private_session", False):
        from game.app.paths import default_save_dir, new_session_dir

        root = save_dir or default_save_dir()
        try:
            save_dir = new_session_dir(root)
        except OSError as exc:
            raise UserError(f"--save-dir {root}: cannot make a session folder in it ({exc.strerror or exc})") from None
    app = make_app(
        scenario=competition.scenario if competition else args.scenario,
        seed=competition.seed if competition else args.seed,
        player=args.player, load=args.load,
        save_dir=save_dir,
        skip_start=bool(args.scenario or args.seed is not None or competition),
        competition=competition,
    )
    app.confine_loads = bool(getattr(args, "private_session", False))  # the start screen reads only this session's runs
    app.run()
    return int(app.return_code or 0)


def competition_for(args: argparse.Namespace):
    """The competition of ``--competition FILE`` (game.competition), or None. A --scenario or
    --seed that disagrees with it is an error: the class plays one world."""
    if not getattr(args, "competition", None):
        return None
    from game.competition import load_competition

    comp = load_competition(args.competition)  # UserError names the file and the field
    if args.scenario:
        from scenarios import ScenarioError, load_scenario

        try:
            sid = load_scenario(args.scenario).scenario.id
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
        if sid != comp.scenario:
            raise UserError(f"--scenario {args.scenario} conflicts with competition {comp.id!r} ({args.competition}), "
                            f"which plays scenario {comp.scenario!r}: drop --scenario")
    if args.seed is not None and args.seed != comp.seed:
        raise UserError(f"--seed {args.seed} conflicts with competition {comp.id!r} ({args.competition}), "
                        f"which plays seed {comp.seed}: drop --seed")
    return comp
