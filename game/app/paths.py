"""Where the app writes run files: light on purpose (the start screen imports it before any engine)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path, PurePosixPath, PureWindowsPath

SAVE_DIR_ENV = "TYCOON_SAVE_DIR"


def default_save_dir() -> Path:
    """``$TYCOON_SAVE_DIR`` if set (tests use it), else the user data dir's ``runs/``."""
    env = os.environ.get(SAVE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ai-cloud-tycoon")) / "runs"


def new_session_dir(root: str | os.PathLike) -> Path:
    """A new private subfolder of ``root`` for one browser session of ``tycoon serve`` (issue 10,
    item 6): named by a random id nobody can guess, so one student cannot open another's runs."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        d = root / f"session-{secrets.token_hex(8)}"
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:  # 2^64 ids: only a retry, never a shared folder
            continue
        return d


class NoSuchRun(LookupError):
    """A typed run path that is not a run file in the session's folder; one message for every cause."""


def confined_run_path(root: str | os.PathLike, typed: str) -> Path:
    """The run file ``typed`` names inside ``root``, or ``NoSuchRun``: no absolute path, no ``..``,
    no symlink out. A path outside answers exactly as a missing file, so nothing outside leaks."""
    name = typed.strip()
    refused = NoSuchRun(f"no such run: {name}")
    if not name or "\x00" in name or name.startswith("~"):
        raise refused
    for flavour in (PurePosixPath(name), PureWindowsPath(name)):
        if flavour.is_absolute() or flavour.drive or flavour.root or ".." in flavour.parts:
            raise refused
    base = Path(root).resolve()
    try:
        target = (base / name).resolve()
        inside = target.is_relative_to(base) and target != base and target.is_file()
    except (OSError, ValueError, RuntimeError):  # a symlink loop, a name too long
        inside = False
    if not inside:
        raise refused
    return target
