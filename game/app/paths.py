"""Where the app writes run files: light on purpose (the start screen imports it before any engine)."""

from __future__ import annotations

import os
from pathlib import Path

SAVE_DIR_ENV = "TYCOON_SAVE_DIR"


def default_save_dir() -> Path:
    """``$TYCOON_SAVE_DIR`` if set (tests use it), else the user data dir's ``runs/``."""
    env = os.environ.get(SAVE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ai-cloud-tycoon")) / "runs"
