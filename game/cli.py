"""The ``tycoon`` command line.

Every subcommand registers itself here. A ``UserError`` (bad flag, unreadable or invalid file)
prints one line on stderr and exits 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from game.errors import UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tycoon", description="AI Cloud Tycoon: run an AI cloud, quarter by quarter.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    from game import calc, headless, play

    headless.register(sub)
    calc.register(sub)
    play.register(sub)
    from game import leaderboard, serve

    leaderboard.register(sub)
    serve.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:  # plain ``tycoon`` opens the game
            args = parser.parse_args(["play"])
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"tycoon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
