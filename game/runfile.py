"""Run files: the save game *is* the run file (DESIGN.md "Files").

A run file records the scenario (id and SHA-256 of its bytes), the ruleset, the seed, the
player, the action log per quarter and the state hash after each quarter. Loading re-simulates
the log; verifying re-simulates and reports the first quarter whose hash differs. Saves are
atomic: written to a temporary file beside the target, then renamed over it.

A run file never names a file to read (issue 10, item 1): a run on a scenario that is not built
in carries that scenario's TOML text (``scenario_toml``, at most 256 KiB), or the verifier names
the file on the command line (``--scenario-file``). Every read is bounded in size.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import RULESET
from engine.game import Game, replay
from engine.money import to_usd
from game.errors import UserError
from scenarios import SCENARIO_DIR, LoadedScenario, ScenarioError, parse_scenario, scenario_paths

FORMAT = "ai-cloud-tycoon-run"
FORMAT_VERSION = 1
MAX_RUN_BYTES = 20 << 20  # issue 10: a 40-quarter game of a busy player is well under 1 MiB
MAX_QUARTERS = 40  # the longest scenario (engine.scenario.Scenario.quarters)
MAX_ACTIONS_PER_QUARTER = 200  # a player submits a dozen; 300,000 took 7 s to re-simulate
MAX_SEED = 2**63 - 1  # engine.game.MAX_SEED: SQLite's INTEGER and numpy's seed words


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")
MAX_SCENARIO_BYTES = 256 * 1024  # a built-in scenario is ~4 KiB: room for a class's own, not for a bomb
_SCENARIO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # an id names a file in SCENARIO_DIR, never a path


def read_bounded(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; a device, FIFO or folder (``/dev/zero``)
    is refused before any read, and a larger file after reading ``limit + 1`` bytes."""
    p = Path(path)
    try:
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{p}: not a regular file; a {what} must be one")
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise UserError(f"{p}: no such file") from None
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        size = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit // 1024} KiB"
        raise UserError(f"{p}: larger than {size}; a {what} is never that big")
    return data


def builtin_scenario(scenario_id: str) -> LoadedScenario | None:
    """The built-in scenario of that id (a file in SCENARIO_DIR), or None: an id is never read as a path."""
    if not _SCENARIO_ID.match(scenario_id) or scenario_id.endswith(".toml"):
        return None
    path = SCENARIO_DIR / f"{scenario_id}.toml"
    if not path.is_file():
        return None
    try:
        return parse_scenario(path.read_bytes(), path)
    except (OSError, ScenarioError):
        return None


def is_builtin(scenario_id: str, sha256: str) -> bool:
    """Whether (id, SHA-256) is this tycoon's built-in scenario, byte for byte."""
    path = SCENARIO_DIR / f"{scenario_id}.toml"
    if not _SCENARIO_ID.match(scenario_id) or not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def load_scenario_file(path: str | os.PathLike) -> LoadedScenario:
    """A scenario .toml the verifier names on the command line (``--scenario-file``), read bounded."""
    p = Path(path)
    data = read_bounded(p, MAX_SCENARIO_BYTES, "scenario file")
    try:
        return parse_scenario(data, p)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


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
    scenario_toml: str | None = None  # the TOML text of a scenario that is not built in (None: built in)
    scenario_file: str | None = None  # read from old run files only, to say how to verify them; never opened
    quarters: list[dict[str, Any]] = field(default_factory=list)  # {"quarter", "actions", "state_hash"}
    final: dict[str, Any] | None = None
    parent: dict[str, Any] | None = None  # a branch's parent (issue 14): see PARENT_FIELDS; None for a run played from the start

    def to_json(self) -> dict[str, Any]:
        out = {
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
            "scenario_toml": self.scenario_toml,
            "quarters": self.quarters,
            "final": self.final,
        }
        if self.parent is not None:  # absent, not null, in a run that is no branch: old files stay byte for byte
            out["parent"] = self.parent
        return out

    @property
    def log(self) -> list[list[dict]]:
        return [q["actions"] for q in self.quarters]

    @property
    def hashes(self) -> list[str]:
        return [q["state_hash"] for q in self.quarters]


def run_from_game(game: Game, loaded: LoadedScenario, player: str = "", bot: str | None = None, competition: str | None = None,
                  parent: dict[str, Any] | None = None) -> RunFile:
    quarters = [
        {"quarter": r.label, "actions": actions, "state_hash": r.state_hash}
        for r, actions in zip(game.reports, game.log, strict=True)
    ]
    return RunFile(
        scenario=loaded.scenario.id, scenario_sha256=loaded.sha256, seed=game.seed, player=player,
        archetype=loaded.scenario.archetype, bot=bot, competition=competition, quarters=quarters, final=final_of(game),
        scenario_toml=None if is_builtin(loaded.scenario.id, loaded.sha256) else embedded_toml(loaded), parent=parent,
    )


def embedded_toml(loaded: LoadedScenario) -> str:
    """The scenario's TOML text for the run file; its UTF-8 bytes hash to ``loaded.sha256``."""
    data = loaded.data
    if not data or hashlib.sha256(data).hexdigest() != loaded.sha256:
        raise UserError(f"{loaded.path}: the scenario's text is not at hand to embed in the run file")
    if len(data) > MAX_SCENARIO_BYTES:
        raise UserError(f"{loaded.path}: larger than {MAX_SCENARIO_BYTES // 1024} KiB; a run file cannot embed it")
    return data.decode("utf-8")  # parse_scenario accepted it, so it is UTF-8


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
    raw = read_bounded(p, MAX_RUN_BYTES, "run file")  # a regular file, read up to the cap: /dev/zero must not fill the memory
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
    for key, kind in (("final", dict), ("bot", str), ("competition", str), ("scenario_file", str), ("scenario_toml", str)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise UserError(f"{p}: field {key!r} must be {'an object' if kind is dict else 'a string'} or null, got {type(data[key]).__name__}")
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"{p}: field 'seed' must be a whole number from 0 to {MAX_SEED} (2^63-1), got {seed}")
    toml = data.get("scenario_toml")
    if toml is not None and len(toml.encode("utf-8", "surrogatepass")) > MAX_SCENARIO_BYTES:
        raise UserError(f"{p}: field 'scenario_toml' is larger than {MAX_SCENARIO_BYTES // 1024} KiB")
    parent = data.get("parent")
    if parent is not None:
        _check_parent_shape(parent, p)
    return RunFile(
        scenario=_require(data, "scenario", str, p),
        scenario_sha256=_require(data, "scenario_sha256", str, p),
        seed=seed,
        ruleset=_require(data, "ruleset", str, p),
        player=str(data.get("player") or ""),
        archetype=str(data.get("archetype") or ""),
        bot=data.get("bot"),
        competition=data.get("competition"),
        scenario_toml=toml,
        scenario_file=data.get("scenario_file"),
        quarters=quarters,
        final=data.get("final"),
        parent=parent,
    )


# a branch's ``parent`` block (issue 14): what it was branched from, and the parent's actions up to
# the branch so that the branch re-simulates on its own (its own ``quarters`` repeat them)
PARENT_FIELDS: dict[str, type] = {
    "scenario": str, "scenario_sha256": str, "seed": int, "player": str,
    "final_hash": str,  # the parent's state hash after its last quarter
    "at": str,  # the quarter the branch plays again (its first own decision)
    "quarters_before": int,  # quarters inherited from the parent (the index of ``at``)
    "state_hash": str,  # the parent's state hash at the start of ``at``
    "actions": list,  # the parent's actions of the inherited quarters
}


def _check_parent_shape(parent: object, p: Path) -> None:
    if not isinstance(parent, dict):
        raise UserError(f"{p}: field 'parent' must be an object or absent, got {type(parent).__name__}")
    for key, kind in PARENT_FIELDS.items():
        value = parent.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise UserError(f"{p}: field 'parent.{key}' must be {'a list' if kind is list else kind.__name__}, got {type(value).__name__}")
    if not 0 <= parent["quarters_before"] <= MAX_QUARTERS or len(parent["actions"]) != parent["quarters_before"]:
        raise UserError(f"{p}: field 'parent.actions' must hold one list of actions per inherited quarter ({parent['quarters_before']})")
    if not all(isinstance(q, list) and all(isinstance(a, dict) for a in q) for q in parent["actions"]):
        raise UserError(f"{p}: field 'parent.actions' must be a list of lists of actions (objects with a 'kind')")


def parent_mismatch(run: RunFile, game: Game) -> str | None:
    """Why a branch's ``parent`` block does not hold (a tampered parent), or None. ``game`` is the
    branch re-simulated from its own log; the parent must have played the same scenario and seed,
    the branch must repeat the parent's actions before ``at``, and they must re-simulate to the
    parent's state hash at ``at``."""
    par = run.parent
    if par is None:
        return None
    if (par["scenario"], par["scenario_sha256"], par["seed"]) != (run.scenario, run.scenario_sha256, run.seed):
        return (f"field 'parent': the parent was played on scenario {par['scenario']!r} seed {par['seed']}, "
                f"the branch on {run.scenario!r} seed {run.seed}; a branch keeps its parent's world")
    n = par["quarters_before"]
    if n >= game.scenario.quarters or game.world.quarter(n).label != par["at"]:
        return f"field 'parent.at': {par['at']!r} is not quarter {n + 1} of scenario {run.scenario!r}"
    if len(run.quarters) < n or [q["actions"] for q in run.quarters[:n]] != par["actions"]:
        return f"field 'parent.actions': the branch does not repeat its parent's decisions before {par['at']} (the parent was edited)"
    at_hash = game.initial_hash if n == 0 else game.reports[n - 1].state_hash
    if at_hash != par["state_hash"]:
        return f"field 'parent.state_hash': the parent's decisions before {par['at']} do not re-simulate to it (the parent was edited)"
    return None


@dataclass
class Verification:
    path: Path
    ok: bool
    reason: str
    first_divergence: str | None = None  # quarter label
    game: Game | None = None
    loaded: LoadedScenario | None = None  # the scenario re-simulated
    builtin: bool = True  # whether that scenario is this tycoon's built-in one, byte for byte

    @property
    def scenario_label(self) -> str:
        """"" for a built-in scenario; else what ``verify`` and the leaderboard print about it."""
        if self.builtin or self.loaded is None:
            return ""
        return f"custom scenario {self.loaded.scenario.id}, sha256 {self.loaded.sha256[:12]}...; not a built-in scenario"


def scenario_for_run(run: RunFile, path: Path, scenario_file: str | os.PathLike | None = None) -> LoadedScenario:
    """The scenario a run was played on: the file the verifier names (``--scenario-file``), else
    the TOML the run embeds (its SHA-256 must be the claimed one), else the built-in scenario of
    that id. Nothing a run file says is ever opened as a file (issue 10, item 1)."""
    if scenario_file is not None:
        return load_scenario_file(scenario_file)
    if run.scenario_toml is not None:
        data = run.scenario_toml.encode("utf-8", "surrogatepass")
        if hashlib.sha256(data).hexdigest() != run.scenario_sha256:
            raise UserError(f"{path}: field 'scenario_toml': its SHA-256 is not the run's scenario_sha256 (the embedded scenario was edited)")
        try:
            loaded = parse_scenario(data, Path(f"{path}:scenario_toml"))
        except ScenarioError as exc:
            raise UserError(_strip_prefix(str(exc), f"{path}:scenario_toml: ", f"{path}: field 'scenario_toml': ")) from None
        if loaded.scenario.id != run.scenario:
            raise UserError(f"{path}: field 'scenario_toml' is scenario {loaded.scenario.id!r}, the run claims {run.scenario!r}")
        return loaded
    builtin = builtin_scenario(run.scenario)
    if run.scenario_file is not None and (builtin is None or builtin.sha256 != run.scenario_sha256):
        raise UserError(
            f"{path}: field 'scenario_file': this run was played on a scenario file that is not built in "
            f"({run.scenario_file!r}); run files no longer name files to read: verify it with "
            f"`tycoon verify --scenario-file PATH {path}`")
    if builtin is None:
        valid = ", ".join(q.stem for q in scenario_paths())
        raise UserError(f"{path}: field 'scenario': no built-in scenario {run.scenario!r} (valid: {valid}); "
                        f"if it was played on a scenario file, name it with --scenario-file")
    return builtin


def _strip_prefix(message: str, prefix: str, replacement: str) -> str:
    return replacement + message[len(prefix):] if message.startswith(prefix) else message


def verify_run(path: str | os.PathLike, scenario_file: str | os.PathLike | None = None) -> Verification:
    """Re-simulate a run file and compare every quarter's hash and the claimed final score."""
    p = Path(path)
    run = load_run(p)
    loaded = scenario_for_run(run, p, scenario_file)
    builtin = is_builtin(loaded.scenario.id, loaded.sha256)
    if run.ruleset != RULESET:
        return Verification(p, False, f"made with ruleset {run.ruleset}; this tycoon runs {RULESET}", loaded=loaded, builtin=builtin)
    if run.scenario_sha256 != loaded.sha256 or run.scenario != loaded.scenario.id:
        return Verification(p, False, f"made with another version of scenario {run.scenario!r} (its SHA-256 differs)", loaded=loaded, builtin=builtin)
    try:
        result = replay(loaded.scenario, run.seed, run.log, run.hashes)
    except ValueError as exc:  # a scenario pydantic accepts can still describe a company the engine cannot start
        raise UserError(f"{p}: scenario {run.scenario!r} cannot be played: {exc}") from None
    game = result.game
    if result.first_divergence is not None:
        i = result.first_divergence
        label = run.quarters[i].get("quarter", f"#{i + 1}") if i < len(run.quarters) else f"#{i + 1}"
        return Verification(p, False, f"state hash differs from quarter {label} on", label, game, loaded, builtin)
    why = parent_mismatch(run, game)
    if why:  # a tampered parent is refused, not merely failed: the file lies about where it comes from
        raise UserError(f"{p}: {why}")
    if run.final is not None:  # every claimed result must be what the log re-simulates to
        expected = final_of(game)
        if expected is None:
            return Verification(p, False, "claims a final result but records no quarters", None, game, loaded, builtin)
        for key, actual in expected.items():
            claimed = run.final.get(key)
            if (key == "score" or key in run.final) and claimed != actual:
                what = "a score of" if key == "score" else f"{key} ="
                return Verification(p, False, f"claims {what} {claimed!r} but re-simulates to {actual!r}", None, game, loaded, builtin)
    branch = f"; a branch of {run.parent['player'] or '(anonymous)'}'s run taking over at {run.parent['at']}" if run.parent else ""
    return Verification(p, True, f"verified {len(run.quarters)} quarter(s){branch}", None, game, loaded, builtin)


def resume_game(path: str | os.PathLike, scenario_file: str | os.PathLike | None = None) -> tuple[RunFile, LoadedScenario, Game]:
    """Load a run file to continue it: re-simulate its log (and insist the hashes match)."""
    p = Path(path)
    v = verify_run(p, scenario_file)
    if not v.ok or v.game is None or v.loaded is None:
        raise UserError(f"{p}: cannot continue this run: {v.reason}")
    return load_run(p), v.loaded, v.game
