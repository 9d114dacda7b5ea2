"""``tycoon board``: the classroom server (issue 13) and its client commands.

    tycoon board serve [--db URL] [--host 127.0.0.1] [--port 8765] [--workers N]
    tycoon board submit RUN.json... --server URL [--code CLASS_CODE]
    tycoon board competition add FILE --server URL --token T
    tycoon board gradebook --server URL --token T --competition ID --csv FILE
    tycoon board industry open URL --scenario ID --seed N --players a,b [--rivals barbell] --round-minutes N --token T
    tycoon board industry play URL --industry ID --player NAME --key KEY --bot barbell|FILE.py:Class
    tycoon board industry file URL --industry ID --out FILE [--token T]

This module only registers the commands: the server's dependencies (the ``server`` extra) are
imported when a command runs, so ``tycoon play`` starts as fast as before.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from game.errors import UserError

DEFAULT_PORT = 8765
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
INSTALL_HINT = 'tycoon board serve needs the server extra: pip install "ai-cloud-tycoon[server]"'


def default_db_url() -> str:
    """``sqlite:///`` next to the local leaderboard ($TYCOON_DATA_DIR or the user data directory)."""
    from game.leaderboard import default_db_path

    return f"sqlite:///{default_db_path().parent / 'classroom.sqlite3'}"


def _server(args: argparse.Namespace, fallback: str | None = None) -> str:
    server = args.server or fallback or os.environ.get("TYCOON_SERVER")
    if not server:
        raise UserError("--server: give the classroom server's address (or set TYCOON_SERVER), e.g. http://10.0.0.5:8765")
    return server


def _token(args: argparse.Namespace) -> str:
    token = args.token or os.environ.get("TYCOON_INSTRUCTOR_TOKEN")
    if not token:
        raise UserError("--token: give the instructor token `tycoon board serve` printed (or set TYCOON_INSTRUCTOR_TOKEN)")
    return token


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from game.classroom.app import TOKEN_SETTING, create_app
        from game.classroom.db import token_digest
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be in 1..65535, got {args.port}")
    db_url = args.db or default_db_url()
    token = args.token or os.environ.get("TYCOON_INSTRUCTOR_TOKEN")
    app = create_app(db_url, workers=args.workers, token=token, max_bytes=args.max_bytes, rate_per_minute=args.rate_limit,
                     lease_s=args.lease, time_limit_s=args.time_limit)
    db = app.state.db
    if not token:
        fresh = secrets.token_urlsafe(18)
        if db.set_setting(TOKEN_SETTING, token_digest(fresh), only_if_missing=True):
            print(f"instructor token (shown once; the server keeps only its SHA-256): {fresh}")
        else:
            print("instructor token: the one printed when this database was first served (--token sets a new one)")
    if args.host not in LOCAL_HOSTS:
        print(f"warning: --host {args.host} opens the server to the network: anyone who can reach it can submit runs "
              "and read the standings (competition pages need the instructor token)", file=sys.stderr)
    shown = args.host if args.host not in ("0.0.0.0", "::", "") else "THIS-MACHINE"
    print(f"classroom server on http://{shown}:{args.port}/  database {db.redacted}  "
          f"{args.workers} verification worker(s); Ctrl+C stops it", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from game.classroom.client import describe, submit_bytes
    from game.leaderboard import _expand
    from game.runfile import read_bounded
    from game.safe_text import printable

    server = _server(args)
    code = args.code or os.environ.get("TYCOON_CLASS_CODE")
    paths = _expand(args.runs)
    all_ok = True
    for path in paths:
        try:
            body = read_bounded(Path(path), args.max_bytes, "run file")
        except UserError as exc:
            ok, line = False, f"refused: {exc}"
        else:
            ok, line = describe(submit_bytes(server, body, code))
        all_ok &= ok
        print(printable(f"{path}: {line}"))
    return 0 if all_ok and paths else 1


def cmd_competition_add(args: argparse.Namespace) -> int:
    from game.classroom.client import add_competition
    from game.competition import load_competition
    from game.safe_text import printable

    comp = load_competition(args.file)  # the same checks the server makes, with the file's name in the message
    reply = add_competition(_server(args, comp.server), Path(args.file).read_bytes(), _token(args))
    if reply.status != 201:
        raise UserError(f"{args.file}: the server refused it: {reply.data.get('error') or reply.text[:200]}")
    d = reply.data
    print(printable(f"competition {d['id']} ({d['title']}): class code {d['class_code']}"))
    print(printable(f"students: tycoon play --competition {args.file}, then tycoon board submit RUN.json "
                    f"--server {_server(args, comp.server)} --code {d['class_code']}"))
    for b in d.get("bots", []):
        print(printable(f"  bot {b['bot']:<10} ${b['score']:,.0f}  {b['verdict']}"))
    return 0


def cmd_gradebook(args: argparse.Namespace) -> int:
    from game.classroom.client import gradebook
    from game.leaderboard import _write_atomic

    reply = gradebook(_server(args), args.competition, _token(args))
    if reply.status != 200:
        raise UserError(f"--competition {args.competition}: {reply.data.get('error') or reply.text[:200]}")
    if args.csv == "-":
        sys.stdout.write(reply.text)
        return 0
    try:
        _write_atomic(Path(args.csv), lambda fh: fh.write(reply.text))
    except OSError as exc:
        raise UserError(f"--csv {args.csv}: cannot write ({exc.strerror})") from None
    print(f"wrote {max(0, reply.text.count(chr(10)) - 1)} row(s) to {args.csv}", file=sys.stderr)
    return 0


def _company_label(c: dict) -> str:
    return f"{c['name']} (bot {c['bot']})" if c["bot"] else c["name"]


def cmd_industry_open(args: argparse.Namespace) -> int:
    from game.classroom.client import live_open
    from game.industry import company_names
    from game.safe_text import printable

    players = company_names(args.players, "--players")
    rivals = company_names(args.rivals, "--rivals") if args.rivals else []
    if not 0 < args.round_minutes:
        raise UserError(f"--round-minutes must be more than 0, got {args.round_minutes:g}")
    reply = live_open(args.url, _token(args), {"scenario": args.scenario, "seed": args.seed, "players": players,
                                                "rivals": rivals, "round_minutes": args.round_minutes})
    if reply.status != 201:
        raise UserError(f"{args.url}: the server refused the industry: {reply.data.get('error') or reply.text[:200]}")
    d = reply.data
    print(printable(f"industry {d['id']} on {d['scenario']}, seed {d['seed']}: "
                    f"{', '.join(_company_label(c) for c in d['companies'])}; "
                    f"a round every {d['round_seconds'] / 60:g} minute(s), {d['quarters']} quarters"))
    print("give each player their key (shown once):")
    for name, key in d["keys"].items():
        print(printable(f"  {name}: tycoon board industry play {args.url} --industry {d['id']} --player {name} --key {key} --bot BOT"))
    return 0


def cmd_industry_play(args: argparse.Namespace) -> int:
    from game.botfile import resolve_bot
    from game.classroom.client import play_live
    from game.safe_text import printable

    key = args.key or os.environ.get("TYCOON_PLAYER_KEY")
    if not key:
        raise UserError("--key: give the key the instructor gave you for this player (or set TYCOON_PLAYER_KEY)")
    if args.poll <= 0:
        raise UserError(f"--poll must be more than 0 seconds, got {args.poll:g}")
    bot = resolve_bot(args.bot)
    n = play_live(args.url, args.industry, args.player, key, bot, poll_s=args.poll, out=lambda line: print(printable(line), flush=True))
    print(printable(f"{args.player}: planned {n} round(s)"))
    return 0


def cmd_industry_file(args: argparse.Namespace) -> int:
    from game.classroom.client import live_file
    from game.leaderboard import _write_atomic

    token = args.token or os.environ.get("TYCOON_INSTRUCTOR_TOKEN")
    reply = live_file(args.url, args.industry, token)
    if reply.status != 200:
        raise UserError(f"--industry {args.industry}: {reply.data.get('error') or reply.text[:200]}")
    try:
        _write_atomic(Path(args.out), lambda fh: fh.write(reply.text))
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {args.out}: check it with tycoon verify {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from game.leaderboard import RUN_TIME_LIMIT_S

    board = sub.add_parser("board", help="the classroom server: submissions verified on arrival, live standings",
                           description="Serve a class's boards over HTTP, submit run files to it, manage competitions.")
    inner = board.add_subparsers(dest="board_command", parser_class=type(board), required=True,
                                 metavar="{serve,submit,competition,gradebook,industry}")

    p = inner.add_parser("serve", help="run the classroom server (SQLite or PostgreSQL)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="sqlite:///PATH (default: classroom.sqlite3 in the user data dir) or postgresql://USER@HOST/DB")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workers", type=int, default=2, help="verification processes (default 2)")
    p.add_argument("--token", default=None, help="the instructor token (default: $TYCOON_INSTRUCTOR_TOKEN, else one is made and printed)")
    p.add_argument("--max-bytes", type=int, default=4 << 20, metavar="N", help="largest run file accepted (default 4 MiB)")
    p.add_argument("--rate-limit", type=int, default=120, metavar="N", help="submissions a minute from one address (0: no limit; default 120)")
    p.add_argument("--lease", type=float, default=30.0, metavar="SECONDS",
                   help="a crashed server's jobs are taken by another after this long (default 30)")
    p.add_argument("--time-limit", type=float, default=RUN_TIME_LIMIT_S, metavar="SECONDS",
                   help=f"refuse a run whose re-simulation takes longer (default {RUN_TIME_LIMIT_S:g})")
    p.set_defaults(handler=cmd_serve)

    p = inner.add_parser("submit", help="submit run files to a classroom server; exit 0 when all were accepted")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run files (.json) or folders of them")
    p.add_argument("--server", default=None, help="the server's address (default: $TYCOON_SERVER)")
    p.add_argument("--code", default=None, help="the class code of your competition (default: $TYCOON_CLASS_CODE)")
    p.add_argument("--max-bytes", type=int, default=4 << 20, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_submit)

    comp = inner.add_parser("competition", help="create a competition on the server (instructor)")
    comp_inner = comp.add_subparsers(dest="competition_command", parser_class=type(board), required=True, metavar="{add}")
    p = comp_inner.add_parser("add", help="create (or update) a competition from its TOML file; prints the class code")
    p.add_argument("file", metavar="FILE", help="the competition file (TOML)")
    p.add_argument("--server", default=None, help="the server (default: the file's server, else $TYCOON_SERVER)")
    p.add_argument("--token", default=None, help="the instructor token (default: $TYCOON_INSTRUCTOR_TOKEN)")
    p.set_defaults(handler=cmd_competition_add)

    p = inner.add_parser("gradebook", help="download a competition's gradebook CSV (instructor)")
    p.add_argument("--server", default=None, help="the server (default: $TYCOON_SERVER)")
    p.add_argument("--token", default=None, help="the instructor token (default: $TYCOON_INSTRUCTOR_TOKEN)")
    p.add_argument("--competition", required=True, metavar="ID", help="the competition's id")
    p.add_argument("--csv", required=True, metavar="FILE", help="output file ('-' for stdout)")
    p.set_defaults(handler=cmd_gradebook)

    from game.cli import seed_arg

    ind = inner.add_parser("industry", help="networked rounds: an industry played on the server, a quarter per round")
    ind_inner = ind.add_subparsers(dest="industry_command", parser_class=type(board), required=True, metavar="{open,play,file}")
    p = ind_inner.add_parser("open", help="open an industry on the server (instructor); prints each player's key")
    p.add_argument("url", metavar="URL", help="the server, e.g. http://10.0.0.5:8765")
    p.add_argument("--scenario", default="neocloud-2025", help="a built-in scenario id (default neocloud-2025)")
    p.add_argument("--seed", type=seed_arg, default=1)
    p.add_argument("--players", required=True, help="comma-separated player names, one company each")
    p.add_argument("--rivals", default="", help="comma-separated built-in bots playing rival companies")
    p.add_argument("--round-minutes", type=float, default=10.0, metavar="N",
                   help="a round ends when every player has planned, or after N minutes (missing plans: the empty plan)")
    p.add_argument("--token", default=None, help="the instructor token (default: $TYCOON_INSTRUCTOR_TOKEN)")
    p.set_defaults(handler=cmd_industry_open)
    p = ind_inner.add_parser("play", help="a bot plays every round of a networked industry for one player (headless)")
    p.add_argument("url", metavar="URL", help="the server")
    p.add_argument("--industry", required=True, metavar="ID", help="the industry's id (industry open prints it)")
    p.add_argument("--player", required=True, help="the player's name")
    p.add_argument("--key", default=None, help="the player's key (default: $TYCOON_PLAYER_KEY)")
    p.add_argument("--bot", required=True, help="a built-in bot (e.g. barbell) or a bot file FILE.py:ClassName")
    p.add_argument("--poll", type=float, default=2.0, metavar="SECONDS", help="how often to look for the next round (default 2)")
    p.set_defaults(handler=cmd_industry_play)
    p = ind_inner.add_parser("file", help="download a networked industry's file (anyone once it is over; the instructor before)")
    p.add_argument("url", metavar="URL", help="the server")
    p.add_argument("--industry", required=True, metavar="ID", help="the industry's id")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write it")
    p.add_argument("--token", default=None, help="the instructor token (needed before the industry is over)")
    p.set_defaults(handler=cmd_industry_file)
