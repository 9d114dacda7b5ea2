"""The ``tycoon`` command line.

Every subcommand registers itself here. A ``UserError`` (bad flag, unreadable or invalid file)
prints one line on stderr and exits 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from game.errors import UserError


MAX_SEED = 2**63 - 1  # engine.game.MAX_SEED (not imported: ``tycoon`` starts without the engine)


def seed_arg(text: str) -> int:
    """argparse type of every ``--seed``: a whole number in 0..2^63-1 (issue 10), else exit 2 with one line."""
    try:
        seed = int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number up to 2^63-1 ({MAX_SEED}), got {text[:40]!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number up to 2^63-1 ({MAX_SEED}), got {text[:40]}")
    return seed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        raise UserError(message)


def build_parser(play_only: bool = False) -> argparse.ArgumentParser:
    """Every subcommand; ``play_only`` registers just ``play`` so that opening the game does not
    first import the engine for subcommands nobody asked for (start-up time is a product feature)."""
    parser = _Parser(prog="tycoon", description="AI Cloud Tycoon: run an AI cloud, quarter by quarter.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    from game import play

    play.register(sub)
    if play_only:
        return parser
    from game import calc, classroom, headless, industry, leaderboard, replay, serve, tournament

    headless.register(sub)
    tournament.register(sub)
    calc.register(sub)
    leaderboard.register(sub)
    serve.register(sub)
    classroom.register(sub)
    replay.register(sub)
    industry.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from game.app import use_one_blas_thread

    use_one_blas_thread()  # before any command loads numpy: `tycoon play --scenario` builds its game before the app
    parser = build_parser(play_only=not argv or argv[0] == "play")
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # plain ``tycoon`` opens the game
            args = parser.parse_args(["play"])
        return int(args.handler(args) or 0)
    except UserError as exc:
        from game.safe_text import printable  # messages quote names and paths from files: print them inert

        print(f"tycoon: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
