"""Run files: the save game *is* the run file (DESIGN.md "Files").

A run file records the scenario (id and SHA-256 of its bytes), the ruleset, the seed, the
player, the action log per quarter and the state hash after each quarter. Loading re-simulates
the log; verifying re-simulates and reports the first quarter whose hash differs. Saves are
atomic: written to a temporary file beside the target, then renamed over it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import RULESET
from engine.game import Game, replay
from engine.money import to_usd
from game.errors import UserError
from scenarios import SCENARIO_DIR, LoadedScenario, ScenarioError, load_scenario

FORMAT = "ai-cloud-tycoon-run"
FORMAT_VERSION = 1
MAX_RUN_BYTES = 20 << 20  # issue 10: a 40-quarter game of a busy player is well under 1 MiB
MAX_QUARTERS = 40  # the longest scenario (engine.scenario.Scenario.quarters)
MAX_ACTIONS_PER_QUARTER = 200  # a player submits a dozen; 300,000 took 7 s to re-simulate
MAX_SEED = 2**63 - 1  # engine.game.MAX_SEED: SQLite's INTEGER and numpy's seed words


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


@dataclass
class RunFile:
    scenario: str
    scenario_sha256: str
    seed: int
    ruleset: str = RULESET
    player: str = ""
    archetype: str = "neocloud"
    bot: str | None = None
    competition: str | None = None
    scenario_file: str | None = None  # where a scenario that is not built in was loaded from
    quarters: list[dict[str, Any]] = field(default_factory=list)  # {"quarter", "actions", "state_hash"}
    final: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "ruleset": self.ruleset,
            "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256,
            "seed": self.seed,
            "player": self.player,
            "archetype": self.archetype,
            "bot": self.bot,
            "competition": self.competition,
            "scenario_file": self.scenario_file,
            "quarters": self.quarters,
            "final": self.final,
        }

    @property
    def log(self) -> list[list[dict]]:
        return [q["actions"] for q in self.quarters]

    @property
    def hashes(self) -> list[str]:
        return [q["state_hash"] for q in self.quarters]


def run_from_game(game: Game, loaded: LoadedScenario, player: str = "", bot: str | None = None, competition: str | None = None) -> RunFile:
    quarters = [
        {"quarter": r.label, "actions": actions, "state_hash": r.state_hash}
        for r, actions in zip(game.reports, game.log, strict=True)
    ]
    custom = loaded.path.resolve().parent != SCENARIO_DIR
    return RunFile(
        scenario=loaded.scenario.id, scenario_sha256=loaded.sha256, seed=game.seed, player=player,
        archetype=loaded.scenario.archetype, bot=bot, competition=competition, quarters=quarters, final=final_of(game),
        scenario_file=str(loaded.path.resolve()) if custom else None,
    )


def final_of(game: Game) -> dict[str, Any] | None:
    """The run file's ``final`` block for a game: what verification recomputes and compares."""
    if not game.reports:
        return None
    last = game.reports[-1]
    return {
        "score": to_usd(last.score.score_cents),
        "verdict": last.score.verdict,
        "bankrupt": last.bankrupt,
        "game_over": last.game_over,
        "quarters_played": len(game.reports),
    }


def save_run(run: RunFile, path: str | os.PathLike) -> Path:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(run.to_json(), indent=1, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a run file is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _require(data: dict, key: str, kind: type | tuple, path: Path) -> Any:
    if key not in data:
        raise UserError(f"{path}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UserError(f"{path}: field {key!r} must be {names}, got {type(value).__name__}")
    return value


def load_run(path: str | os.PathLike) -> RunFile:
    """Read and check the shape of a run file; every problem names the file and the field."""
    p = Path(path)
    try:
        with p.open("rb") as fh:  # read at most the cap: /dev/zero must not fill the memory
            raw = fh.read(MAX_RUN_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{p}: no such file") from None
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc})") from None
    if len(raw) > MAX_RUN_BYTES:
        raise UserError(f"{p}: larger than {MAX_RUN_BYTES >> 20} MiB; no run file is that large")
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte-order mark (Windows editors) is accepted
    except UnicodeDecodeError as exc:
        raise UserError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); is the file truncated?") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, arrays nested 100,000 deep
        raise UserError(f"{p}: not a usable JSON file ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{p}: not an AI Cloud Tycoon run file (field 'format' must be {FORMAT!r})")
    version = _require(data, "format_version", int, p)
    if version != FORMAT_VERSION:
        raise UserError(f"{p}: field 'format_version' is {version}; this tycoon reads version {FORMAT_VERSION}")
    quarters = _require(data, "quarters", list, p)
    if len(quarters) > MAX_QUARTERS:
        raise UserError(f"{p}: field 'quarters' has {len(quarters)} entries; a game has at most {MAX_QUARTERS} quarters")
    for i, q in enumerate(quarters):
        if not isinstance(q, dict) or not isinstance(q.get("actions"), list) or not isinstance(q.get("state_hash"), str):
            raise UserError(f"{p}: field quarters[{i}] needs 'actions' (a list) and 'state_hash' (a string)")
        if len(q["actions"]) > MAX_ACTIONS_PER_QUARTER:
            raise UserError(
                f"{p}: field quarters[{i}].actions has {len(q['actions'])} actions; at most {MAX_ACTIONS_PER_QUARTER} a quarter"
            )
        for j, a in enumerate(q["actions"]):
            if not isinstance(a, dict):
                raise UserError(f"{p}: field quarters[{i}].actions[{j}] must be an object with a 'kind'")
    seed = _require(data, "seed", int, p)
    for key, kind in (("final", dict), ("bot", str), ("competition", str), ("scenario_file", str)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise UserError(f"{p}: field {key!r} must be {'an object' if kind is dict else 'a string'} or null, got {type(data[key]).__name__}")
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"{p}: field 'seed' must be a whole number from 0 to {MAX_SEED} (2^63-1), got {seed}")
    return RunFile(
        scenario=_require(data, "scenario", str, p),
        scenario_sha256=_require(data, "scenario_sha256", str, p),
        seed=seed,
        ruleset=_require(data, "ruleset", str, p),
        player=str(data.get("player") or ""),
        archetype=str(data.get("archetype") or ""),
        bot=data.get("bot"),
        competition=data.get("competition"),
        scenario_file=data.get("scenario_file"),
        quarters=quarters,
        final=data.get("final"),
    )


@dataclass
class Verification:
    path: Path
    ok: bool
    reason: str
    first_divergence: str | None = None  # quarter label
    game: Game | None = None


def scenario_for_run(run: RunFile, path: Path, scenario_file: str | os.PathLike | None = None) -> LoadedScenario:
    """Find the scenario a run was played on: a file given by the verifier, the file the run
    recorded, ``<id>.toml`` beside the run, then the built-in scenario of that id. The first one
    whose SHA-256 matches wins; if none matches, the first that loads is returned (and the
    verifier reports the mismatch)."""
    candidates = [str(c) for c in (scenario_file, run.scenario_file, path.parent / f"{run.scenario}.toml") if c]
    candidates.append(run.scenario)
    loaded_any: list[LoadedScenario] = []
    errors: list[str] = []
    for cand in candidates:
        if cand != run.scenario and not Path(cand).exists():
            continue
        try:
            loaded = load_scenario(cand)
        except ScenarioError as exc:
            errors.append(str(exc))
            continue
        if loaded.scenario.id == run.scenario and loaded.sha256 == run.scenario_sha256:
            return loaded
        loaded_any.append(loaded)
    if loaded_any:
        return loaded_any[0]
    raise UserError(f"{path}: field 'scenario': {errors[-1] if errors else run.scenario}")


def verify_run(path: str | os.PathLike, scenario_file: str | os.PathLike | None = None) -> Verification:
    """Re-simulate a run file and compare every quarter's hash and the claimed final score."""
    p = Path(path)
    run = load_run(p)
    loaded = scenario_for_run(run, p, scenario_file)
    if run.ruleset != RULESET:
        return Verification(p, False, f"made with ruleset {run.ruleset}; this tycoon runs {RULESET}")
    if run.scenario_sha256 != loaded.sha256:
        return Verification(p, False, f"made with another version of scenario {run.scenario!r} (its SHA-256 differs)")
    try:
        result = replay(loaded.scenario, run.seed, run.log, run.hashes)
    except ValueError as exc:  # a scenario pydantic accepts can still describe a company the engine cannot start
        raise UserError(f"{p}: scenario {run.scenario!r} cannot be played: {exc}") from None
    game = result.game
    if result.first_divergence is not None:
        i = result.first_divergence
        label = run.quarters[i].get("quarter", f"#{i + 1}") if i < len(run.quarters) else f"#{i + 1}"
        return Verification(p, False, f"state hash differs from quarter {label} on", label, game)
    if run.final is not None:  # every claimed result must be what the log re-simulates to
        expected = final_of(game)
        if expected is None:
            return Verification(p, False, "claims a final result but records no quarters", None, game)
        for key, actual in expected.items():
            claimed = run.final.get(key)
            if (key == "score" or key in run.final) and claimed != actual:
                what = "a score of" if key == "score" else f"{key} ="
                return Verification(p, False, f"claims {what} {claimed!r} but re-simulates to {actual!r}", None, game)
    return Verification(p, True, f"verified {len(run.quarters)} quarter(s)", None, game)


def resume_game(path: str | os.PathLike) -> tuple[RunFile, LoadedScenario, Game]:
    """Load a run file to continue it: re-simulate its log (and insist the hashes match)."""
    p = Path(path)
    v = verify_run(p)
    if not v.ok or v.game is None:
        raise UserError(f"{p}: cannot continue this run: {v.reason}")
    run = load_run(p)
    return run, scenario_for_run(run, p), v.game
