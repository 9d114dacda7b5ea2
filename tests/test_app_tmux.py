"""A real terminal session: `tycoon` in tmux, end a quarter with `e`, see the next label: the neocloud from the
start screen at 120x40, the inference platform straight into a game at 80x24 (issue 11: both companies)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed: cannot drive a real terminal")


def _capture(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-t", name, "-p"], capture_output=True, text=True, check=False).stdout


def _wait_for(name: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(name)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout}s; screen was:\n{screen}")


def test_real_terminal_session(tmp_path: Path):
    name = f"tycoon-test-{uuid.uuid4().hex[:8]}"
    save_dir = tmp_path / "runs"
    exe = Path(sys.executable).with_name("tycoon")
    cmd = shlex.quote(str(exe)) if exe.exists() else f"{shlex.quote(sys.executable)} -m game.cli"
    env = f"TYCOON_SAVE_DIR={shlex.quote(str(save_dir))} TERM=xterm-256color"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", f"cd {shlex.quote(os.getcwd())} && {env} {cmd}"],
        check=True,
    )
    try:
        _wait_for(name, "Start game", timeout=60)
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)  # start the default game
        _wait_for(name, "2025Q1 (quarter 1 of")
        subprocess.run(["tmux", "send-keys", "-t", name, "e"], check=True)
        _wait_for(name, "End the quarter?")
        subprocess.run(["tmux", "send-keys", "-t", name, "y"], check=True)
        _wait_for(name, "Quarter report · 2025Q1")
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)
        _wait_for(name, "2025Q2 (quarter 2 of")  # the dashboard's title: the report (which names 2025Q2 too) is closed
        assert list(save_dir.glob("*.json")), "the run file is written after every quarter"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)


def test_real_terminal_inference_quarter_at_80x24(tmp_path: Path):
    name = f"tycoon-test-{uuid.uuid4().hex[:8]}"
    save_dir = tmp_path / "runs"
    exe = Path(sys.executable).with_name("tycoon")
    cmd = shlex.quote(str(exe)) if exe.exists() else f"{shlex.quote(sys.executable)} -m game.cli"
    env = f"TYCOON_SAVE_DIR={shlex.quote(str(save_dir))} TERM=xterm-256color"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24",
         f"cd {shlex.quote(os.getcwd())} && {env} {cmd} play --scenario inference-2025 --seed 7"],
        check=True,
    )
    try:
        _wait_for(name, "2025Q1 (quarter 1 of", timeout=60)
        subprocess.run(["tmux", "send-keys", "-t", name, "e"], check=True)
        _wait_for(name, "End the quarter?")
        subprocess.run(["tmux", "send-keys", "-t", name, "y"], check=True)
        _wait_for(name, "Quarter report · 2025Q1")
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)
        _wait_for(name, "2025Q2 (quarter 2 of")
        subprocess.run(["tmux", "send-keys", "-t", name, "3"], check=True)  # the token market, not GPU allocations
        screen = _wait_for(name, "Token prices")
        assert "llama-3.1-70b" in screen and "Allocation" not in screen
        subprocess.run(["tmux", "send-keys", "-t", name, "z"], check=True)  # sort by keyboard: the header is marked
        _wait_for(name, "Model ▲")
        assert list(save_dir.glob("*.json")), "the run file is written after every quarter"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)
