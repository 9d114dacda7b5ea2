"""``tycoon serve``: textual-serve on a loopback port serves the game's page (issue 6)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from game.cli import build_parser, main
from game.errors import UserError
from game.serve import INSTALL_HINT, make_server, play_command

ROOT = Path(__file__).resolve().parents[1]
HAVE_SERVE = importlib.util.find_spec("textual_serve") is not None
needs_serve = pytest.mark.skipif(not HAVE_SERVE, reason='textual-serve is not installed (pip install "ai-cloud-tycoon[web]")')


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_binds_to_localhost_by_default():
    args = _args()
    assert args.host == "127.0.0.1" and args.port == 8000


def test_the_served_command_is_this_pythons_tycoon_play():
    cmd = shlex.split(play_command(_args()))
    assert cmd == [sys.executable, "-m", "game.cli", "play", "--private-session"]  # each tab: its own save folder
    cmd = shlex.split(play_command(_args("--scenario", "tutorial", "--seed", "7")))
    assert cmd[5:] == ["--scenario", "tutorial", "--seed", "7"]
    with pytest.raises(UserError, match="no scenario 'atlantis'"):
        play_command(_args("--scenario", "atlantis"))


def test_without_textual_serve_the_error_says_what_to_install(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_textual_serve(name, *a, **k):
        if name.startswith("textual_serve"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_textual_serve)
    assert main(["serve", "--port", str(_free_port())]) == 2
    assert INSTALL_HINT in capsys.readouterr().err and 'pip install "ai-cloud-tycoon[web]"' in INSTALL_HINT


@needs_serve
def test_a_network_bind_gets_a_public_url_browsers_can_reach():
    server = make_server(_args("--host", "0.0.0.0", "--port", "8123"))
    assert server.host == "0.0.0.0"
    assert server.public_url.startswith("http://") and server.public_url.endswith(":8123")
    assert "0.0.0.0" not in server.public_url
    server = make_server(_args("--public-url", "http://class.local:9000"))
    assert server.public_url == "http://class.local:9000"


def _first_screen(url: str, timeout: float = 30.0) -> str:
    """Open a session like the browser page does and return the app's first screen as text."""
    import asyncio
    import json
    import re

    import aiohttp

    async def run() -> bytes:
        got = b""
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(["resize", {"width": 100, "height": 30}]))
            end = time.monotonic() + timeout
            while b"AI Cloud Tycoon" not in got and time.monotonic() < end:
                try:
                    msg = await asyncio.wait_for(ws.receive(), max(0.1, end - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.BINARY:
                    got += msg.data
                elif msg.type != aiohttp.WSMsgType.TEXT:
                    break
        return got

    raw = asyncio.run(run())
    return re.sub(r"\x1b\[[0-9;?$]*[a-zA-Z]|\x1b\][^\x07]*\x07", "", raw.decode("utf-8", "replace"))


@needs_serve
def test_serve_on_a_loopback_port_and_fetch_the_page(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TYCOON_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "game.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )
    try:
        body = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    assert resp.status == 200
                    body = resp.read().decode("utf-8")
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"tycoon serve exited: {proc.stdout.read().decode()}")
                time.sleep(0.2)
        assert "AI Cloud Tycoon" in body, body[:500]
        assert f"ws://127.0.0.1:{port}/ws" in body  # the page opens a websocket back to this server
        screen = _first_screen(f"ws://127.0.0.1:{port}/ws")  # what a browser tab gets: `tycoon play` running
        assert "AI Cloud Tycoon" in screen, screen[:500]
        # nothing listens on another interface: it bound to loopback only
        with socket.socket() as s:
            s.settimeout(1)
            lan = socket.gethostbyname(socket.gethostname())
            if not lan.startswith("127."):
                assert s.connect_ex((lan, port)) != 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
