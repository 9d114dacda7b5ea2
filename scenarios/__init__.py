"""Scenario files (TOML) and the loader that finds and validates them.

A scenario is named by its id (a file ``<id>.toml`` in this folder) or by a path. Errors name
the file, the field and what would be valid; the engine's pydantic models say what is valid.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the engine (numpy, every model) loads on first use: a menu of scenarios needs none of it
    from pydantic import BaseModel

    from engine.scenario import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent
DEFAULT_SCENARIO = "neocloud-2025"
MAX_FILE_BYTES = 1 << 20  # issue 10: the largest built-in scenario is ~10 KB; a 1 MiB file is no scenario
MAX_NESTING = 20  # tables and arrays within each other; a scenario needs 4


class ScenarioError(ValueError):
    """A scenario that cannot be found, read or validated; the message says which and why."""


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path
    sha256: str  # of the file's bytes: run files and leaderboards key on it
    data: bytes = field(default=b"", repr=False, compare=False)  # those bytes: a run on a custom scenario embeds them


@dataclass(frozen=True)
class ScenarioSummary:
    """What a menu shows of a scenario, read from its TOML without validating it (fast: no engine)."""

    id: str
    title: str
    archetype: str
    difficulty: str
    start: str
    quarters: int
    briefing: str
    objectives: tuple[str, ...]
    lesson: str
    path: Path


def scenario_summaries() -> list[ScenarioSummary]:
    """The built-in scenarios for a menu. Full validation happens when one is loaded to play."""
    return [s for s in map(scenario_summary, scenario_paths()) if s is not None]


def scenario_summary(path: Path) -> ScenarioSummary | None:
    """One scenario's menu entry (None if its TOML cannot be read: load_scenario says why when it is picked)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return ScenarioSummary(
        id=str(raw.get("id", path.stem)), title=str(raw.get("title", path.stem)),
        archetype=str(raw.get("archetype", "neocloud")), difficulty=str(raw.get("difficulty", "normal")),
        start=str(raw.get("start", "2025Q1")), quarters=int(raw.get("quarters", 20)),
        briefing=str(raw.get("briefing", "")).strip(), objectives=tuple(str(o) for o in raw.get("objectives", ())),
        lesson=str(raw.get("lesson", "")), path=path,
    )


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.toml"))


def describe_error(err: dict) -> str:
    """One pydantic error as "field a.b: what is wrong (got value)"."""
    loc = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
    return f"field {loc}: {msg}{shown}"


M = TypeVar("M", bound="BaseModel")


def parse_toml_model(data: bytes, path: Path, model: type[M], error: type[Exception] = ValueError) -> M:
    """TOML bytes -> a validated pydantic model; every problem is an ``error`` naming the file and field."""
    from pydantic import ValidationError

    if len(data) > MAX_FILE_BYTES:
        raise error(f"{path}: {len(data):,} bytes; a file of this kind is at most {MAX_FILE_BYTES:,} bytes (1 MiB)")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # 50,000 nested arrays: the parser gives up before we can measure
        raise error(f"{path}: nested too deeply; at most {MAX_NESTING} tables or arrays within each other") from None
    where = _too_deep(raw, MAX_NESTING)
    if where is not None:
        raise error(f"{path}: field {where}: nested too deeply; at most {MAX_NESTING} tables or arrays within each other")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise error(f"{path}: {describe_error(errors[0])}{more}") from None


def _too_deep(value: object, limit: int, where: str = "") -> str | None:
    """The path of the first value nested more than ``limit`` tables/arrays deep, or None."""
    if not isinstance(value, (dict, list)):
        return None
    if limit <= 0:
        return where or "(top level)"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found = _too_deep(child, limit - 1, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


def parse_scenario(data: bytes, path: Path) -> LoadedScenario:
    from engine.scenario import Scenario

    scenario = parse_toml_model(data, path, Scenario, ScenarioError)
    return LoadedScenario(scenario=scenario, path=path, sha256=hashlib.sha256(data).hexdigest(), data=data)


def load_scenario(name: str) -> LoadedScenario:
    """Load by id (``neocloud-2025``) or by path to a .toml file."""
    path = Path(name)
    if not (path.suffix == ".toml" or path.exists()):
        path = SCENARIO_DIR / f"{name}.toml"
        if not path.exists():
            valid = ", ".join(p.stem for p in scenario_paths())
            raise ScenarioError(f"no scenario {name!r}; valid: {valid}")
    try:
        with path.open("rb") as fh:  # never more than the cap: /dev/zero must not fill the memory
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes (1 MiB); no scenario is that large")
    return parse_scenario(data, path)


def list_scenarios() -> list[LoadedScenario]:
    return [load_scenario(str(p)) for p in scenario_paths()]
