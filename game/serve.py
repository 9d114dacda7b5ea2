"""``tycoon serve``: the game in a browser, for students without Python (optional extra ``web``).

textual-serve runs one ``tycoon play`` process per browser tab and streams it over a websocket.
It binds to localhost unless told otherwise: ``--host 0.0.0.0`` opens it to the local network
(a classroom), and ``--public-url`` says how browsers reach it when the guess is wrong.
Run files are written on the serving machine (``--save-dir``), where the instructor collects them:
each session (one per browser tab) gets its own random subfolder, and the start screen loads run
files only from it (``play --private-session``), so no student can continue another's run.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from pathlib import Path

from game.cli import seed_arg
from game.errors import UserError

INSTALL_HINT = 'tycoon serve needs the optional web extra: pip install "ai-cloud-tycoon[web]"'
_ANY_HOST = ("0.0.0.0", "::", "")


def lan_address() -> str:
    """This machine's address on the local network (no packet is sent), else 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def _play_options() -> set[str]:
    """The flags this tycoon's ``play`` accepts: ``serve`` passes on only what ``play`` takes."""
    from game.cli import build_parser

    parser = build_parser()
    for action in parser._subparsers._group_actions:  # noqa: SLF001 - argparse has no public walk
        play = action.choices.get("play")
        if play is not None:
            return {o for a in play._actions for o in a.option_strings}
    return set()


def play_command(args: argparse.Namespace) -> str:
    """The shell command each browser session runs: this Python's ``game.cli play`` with the passed flags."""
    parts = [sys.executable, "-m", "game.cli", "play", "--private-session"]
    passed = {"--scenario": args.scenario, "--seed": args.seed, "--save-dir": args.save_dir, "--competition": args.competition}
    wanted = {k: v for k, v in passed.items() if v is not None}
    if wanted:
        known = _play_options()
        for flag in wanted:
            if flag not in known:
                raise UserError(f"{flag}: this tycoon's `play` does not take it yet, so `serve` cannot pass it on")
    if args.competition is not None:
        from game.play import competition_for

        competition_for(args)  # a bad file, or a --scenario/--seed it contradicts, fails here, not in every student's browser
        wanted["--competition"] = str(Path(args.competition).resolve())
    if args.save_dir is not None:
        wanted["--save-dir"] = str(Path(args.save_dir).resolve())
    if args.scenario is not None:
        from scenarios import ScenarioError, load_scenario

        try:
            load_scenario(args.scenario)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
    for flag, value in wanted.items():
        parts += [flag, str(value)]
    return shlex.join(parts)


def make_server(args: argparse.Namespace):
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    public_url = args.public_url
    if public_url is None and args.host in _ANY_HOST:
        public_url = f"http://{lan_address()}:{args.port}"
    return Server(play_command(args), host=args.host, port=args.port, title="AI Cloud Tycoon", public_url=public_url)


def cmd_serve(args: argparse.Namespace) -> int:
    server = make_server(args)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"tycoon serve: listening on {args.host}:{args.port}; anyone on this network can open "
              f"{server.public_url} and play", file=sys.stderr)
    try:
        server.serve()
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") from None
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the game to browsers (needs the 'web' extra)",
                       description="Serve `tycoon play` to web browsers with textual-serve. "
                                   "Binds to localhost unless --host says otherwise.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for the local network)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", default=None, help="the URL browsers use to reach this server (default: guessed)")
    p.add_argument("--scenario", default=None, help="start every session on this scenario")
    p.add_argument("--seed", type=seed_arg, default=None, help="start every session on this seed")
    p.add_argument("--competition", metavar="FILE", default=None, help="start every session in this competition")
    p.add_argument("--save-dir", metavar="DIR", default=None, help="where the sessions' run files are written")
    p.set_defaults(handler=cmd_serve)
