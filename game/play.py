"""``tycoon play``: the Textual game (the default when ``tycoon`` runs without a subcommand)."""

from __future__ import annotations

import argparse
from pathlib import Path

from game.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="play in the terminal (the default)", description="Open the game. Without flags it starts on the start screen.")
    p.add_argument("--scenario", help="scenario id or path to a .toml (starts the game at once)")
    p.add_argument("--seed", type=int, help="world seed, a non-negative integer (starts the game at once)")
    p.add_argument("--player", default="", help="your name, recorded in the run file")
    p.add_argument("--load", metavar="RUN", help="continue a saved run file")
    p.add_argument("--save-dir", metavar="DIR", help="where run files are written (default: $TYCOON_SAVE_DIR or the user data dir)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scenarios import ScenarioError, load_scenario

    if args.seed is not None and args.seed < 0:
        raise UserError("--seed must be a non-negative integer")
    if args.scenario:
        try:
            load_scenario(args.scenario)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
    if args.load:
        from game.runfile import verify_run

        v = verify_run(args.load)  # raises UserError for unreadable files
        if not v.ok:
            raise UserError(f"{args.load}: cannot continue this run: {v.reason}")
    from game.app import make_app

    app = make_app(
        scenario=args.scenario, seed=args.seed, player=args.player, load=args.load,
        save_dir=Path(args.save_dir) if args.save_dir else None,
        skip_start=bool(args.scenario or args.seed is not None),
    )
    app.run()
    return int(app.return_code or 0)
