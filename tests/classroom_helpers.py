"""Shared by the classroom server's tests: a real PostgreSQL in a temporary directory, run files,
and a `tycoon board serve` process."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from engine.bots import make_bot, run_bot
from engine.game import Game
from game.runfile import run_from_game, save_run
from scenarios import load_scenario

SCEN = "tutorial"  # 8 quarters: quick to verify
SEED = 1


def route_requests_to(client, monkeypatch) -> None:
    """Send the classroom client's HTTP calls (game.classroom.client.request) to a test client of
    the server instead of the network: the CLI and the bots' client talk to the app in-process."""
    from game.classroom import client as http

    def fake_request(method, url, body=None, headers=None, timeout=0):
        path = url.split("://", 1)[1].split("/", 1)[1]
        r = client.request(method, "/" + path, content=body, headers=headers or {})
        return http.Reply(r.status_code, r.json() if "json" in r.headers.get("content-type", "") else {}, r.text)

    monkeypatch.setattr(http, "request", fake_request)


def pg_bin() -> str | None:
    """The folder of initdb/pg_ctl: on PATH, else Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return str(Path(os.path.realpath(found)).parent)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{d}/initdb") and os.path.exists(f"{d}/pg_ctl"):
            return d
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A throwaway PostgreSQL: initdb in a temp dir, listening on a unix socket only (no TCP).

    initdb refuses root, so as root it runs as the ``postgres`` user (``runuser``)."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("no initdb/pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="tycoon-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o755)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "-o",
                  f"-k {self.root} -c listen_addresses='' -p {self.port} -c fsync=off -c max_connections=200", "start")
        self.n = 0

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.prefix, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.root}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database's URL (one per test)."""
        import psycopg

        self.n += 1
        name = f"t{self.n}_{os.getpid()}"
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def make_run(folder: Path, name: str, bot: str, player: str, seed: int = SEED, scenario: str = SCEN,
             competition: str | None = None) -> Path:
    loaded = load_scenario(scenario)
    game = run_bot(Game(loaded.scenario, seed), make_bot(bot))
    return save_run(run_from_game(game, loaded, player=player, bot=bot, competition=competition), folder / f"{name}.json")


def renamed(src: Path, dst: Path, player: str) -> Path:
    """The same game under another player's name (another file, the same final state)."""
    data = json.loads(src.read_text())
    data["player"] = player
    dst.write_text(json.dumps(data))
    return dst


def edited(src: Path, dst: Path, change) -> Path:
    data = json.loads(src.read_text())
    change(data)
    dst.write_text(json.dumps(data))
    return dst


class ServerProcess:
    """`python -m game.cli board serve ...` in a process of its own (killed with SIGKILL by crash tests)."""

    def __init__(self, db_url: str, *extra: str, token: str = "instructor-secret", workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "game.cli", "board", "serve", "--db", db_url, "--port", str(self.port),
                     "--workers", str(workers), "--token", token, *extra]
        self.log = tempfile.NamedTemporaryFile(prefix="tycoon-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not start: {Path(self.log.name).read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (a crash)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        Path(self.log.name).unlink(missing_ok=True)
