"""Bots from files: ``--bot path/to/file.py:ClassName`` (issue 9, item 11).

A bot file is a Python file that defines a class (or an object) with a ``name`` and an
``act(observation) -> list[action dicts]`` method, like ``engine.bots.Bot``. Loading it runs the
file, so only load files you trust (as with any script). I/O lives here, in the game layer.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from engine.bots import Bot, bot_names, make_bot
from game.errors import UserError


def is_bot_file(spec: str) -> bool:
    """``FILE.py:Class`` (or ``FILE.py``) rather than a built-in bot's name."""
    return spec.rsplit(":", 1)[0].endswith(".py")


def _classes(module: Any) -> list[str]:
    return sorted(n for n, v in vars(module).items() if inspect.isclass(v) and callable(getattr(v, "act", None)) and v.__module__ == module.__name__)


def load_bot_file(spec: str) -> Bot:
    """Load ``path.py:ClassName``: instantiate the class (or take the object) and check it is a bot.
    Errors name the file and what would be valid (``UserError``: the CLI exits 2)."""
    path_s, _, cls_name = spec.rpartition(":") if ":" in spec and not spec.endswith(".py") else (spec, "", "")
    path = Path(path_s)
    if not path.is_file():
        raise UserError(f"--bot {spec}: no bot file {path} (expected FILE.py:ClassName)")
    module_name = f"tycoon_botfile_{abs(hash(str(path.resolve())))}"
    try:
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module  # dataclasses and pickling look the module up by name
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # the file's own error: say where, without a traceback
        sys.modules.pop(module_name, None)
        raise UserError(f"--bot {spec}: {path} failed to load: {type(exc).__name__}: {exc}") from None
    candidates = _classes(module)
    if not cls_name:
        raise UserError(f"--bot {spec}: name the class, FILE.py:ClassName; {path} defines: {', '.join(candidates) or 'no class with act()'}")
    if not hasattr(module, cls_name):
        raise UserError(f"--bot {spec}: {path} has no {cls_name!r}; bot classes there: {', '.join(candidates) or 'none'}")
    obj = getattr(module, cls_name)
    if inspect.isclass(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise UserError(f"--bot {spec}: {cls_name}() failed: {type(exc).__name__}: {exc} (a bot class takes no arguments)") from None
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name or not callable(getattr(obj, "act", None)):
        raise UserError(f"--bot {spec}: {cls_name} is not a bot: it needs a string `name` and a method `act(observation)`; "
                        f"bot classes in {path}: {', '.join(candidates) or 'none'}")
    return obj


def resolve_bot(spec: str) -> Bot:
    """A built-in bot or exploit strategy by name, or a bot file ``FILE.py:ClassName``."""
    if is_bot_file(spec):
        return load_bot_file(spec)
    try:
        return make_bot(spec)
    except KeyError:
        raise UserError(f"unknown bot {spec!r}; valid: {', '.join(bot_names(include_exploits=True))}, or FILE.py:ClassName") from None
