"""Scenario files (TOML) and the loader that finds and validates them.

A scenario is named by its id (a file ``<id>.toml`` in this folder) or by a path. Errors name
the file, the field and what would be valid; the engine's pydantic models say what is valid.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from engine.scenario import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent
DEFAULT_SCENARIO = "neocloud-2025"


class ScenarioError(ValueError):
    """A scenario that cannot be found, read or validated; the message says which and why."""


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path
    sha256: str  # of the file's bytes: run files and leaderboards key on it


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.toml"))


def _describe(err: dict) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
    msg = err.get("msg", "invalid")
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
    return f"field {loc}: {msg}{shown}"


def parse_scenario(data: bytes, path: Path) -> LoadedScenario:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ScenarioError(f"{path}: {_describe(errors[0])}{more}") from None
    return LoadedScenario(scenario=scenario, path=path, sha256=hashlib.sha256(data).hexdigest())


def load_scenario(name: str) -> LoadedScenario:
    """Load by id (``neocloud-2025``) or by path to a .toml file."""
    path = Path(name)
    if not (path.suffix == ".toml" or path.exists()):
        path = SCENARIO_DIR / f"{name}.toml"
        if not path.exists():
            valid = ", ".join(p.stem for p in scenario_paths())
            raise ScenarioError(f"no scenario {name!r}; valid: {valid}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_scenario(data, path)


def list_scenarios() -> list[LoadedScenario]:
    return [load_scenario(str(p)) for p in scenario_paths()]
