"""``tycoon industry sim|new`` and industry files (issue 15): companies competing in one market.

An industry file is a run file for N companies: the scenario (and its SHA-256, or its TOML when it
is not built in), the seed, the companies (name, and the bot that plays it or null for a player)
and per quarter every company's actions and state hash. ``tycoon verify`` re-simulates it (it
dispatches on the file's ``format``). The engine (engine.industry) is imported on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from game.errors import UserError

FORMAT = "ai-cloud-tycoon-industry"
FORMAT_VERSION = 1
MAX_COMPANIES = 12  # a classroom industry is 4-8 teams
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


@dataclass
class IndustryFile:
    scenario: str
    scenario_sha256: str
    seed: int
    ruleset: str
    companies: list[dict[str, Any]]  # {"name", "bot"}
    scenario_toml: str | None = None
    quarters: list[dict[str, Any]] = field(default_factory=list)  # {"quarter", "actions": {name: [...]}, "state_hashes": {name: h}}
    final: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "ruleset": self.ruleset, "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256, "seed": self.seed, "scenario_toml": self.scenario_toml,
            "companies": self.companies, "quarters": self.quarters, "final": self.final,
        }


def company_names(text: str, flag: str) -> list[str]:
    """A comma-separated list of names (players or bots), each a short word; else one clear line."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if not _NAME.match(n):
            raise UserError(f"{flag}: {n[:40]!r} is not a usable name (letters, digits, '.', '_', '-', at most 32)")
    return names


def _companies(players: list[str], bots: list[str]) -> list[tuple[str, str | None]]:
    """Players by their names; bots named after the bot, numbered when one plays twice."""
    out: list[tuple[str, str | None]] = [(p, None) for p in players]
    for i, b in enumerate(bots):
        name = b if bots.count(b) == 1 else f"{b}-{bots[:i + 1].count(b)}"
        out.append((name, b))
    names = [n for n, _ in out]
    for n in names:  # a bot file's class can carry any name: the industry file must be able to hold it
        if not _NAME.match(n):
            raise UserError(f"company name {n[:40]!r} is not usable (letters, digits, '.', '_', '-', at most 32)")
    if len(set(names)) != len(names):
        raise UserError(f"company names must be unique, got {', '.join(names)}")
    if not 1 <= len(out) <= MAX_COMPANIES:
        raise UserError(f"an industry has 1 to {MAX_COMPANIES} companies, got {len(out)}")
    return out


def industry_file(ind, loaded) -> IndustryFile:
    """The file of an industry played so far (engine.industry.Industry)."""
    from engine import RULESET
    from engine.money import to_usd
    from game.runfile import embedded_toml, is_builtin

    quarters = []
    for iq in ind.quarters:
        names = sorted(iq.reports)
        quarters.append({
            "quarter": iq.label,
            "actions": {n: iq.actions[n] for n in names},
            "state_hashes": {n: iq.reports[n].state_hash for n in names},
        })
    final = None
    if ind.quarters:
        final = {n: {"score": to_usd(c.reports[-1].score.score_cents), "bankrupt": c.state.bankrupt}
                 for n, c in sorted(ind.companies.items()) if c.reports}
    return IndustryFile(
        scenario=loaded.scenario.id, scenario_sha256=loaded.sha256, seed=ind.seed, ruleset=RULESET,
        companies=[{"name": n, "bot": ind.companies[n].bot} for n in ind.order], quarters=quarters, final=final,
        scenario_toml=None if is_builtin(loaded.scenario.id, loaded.sha256) else embedded_toml(loaded),
    )


def save_industry(f: IndustryFile, path: str | os.PathLike) -> Path:
    """Atomic, as run files are (game.runfile.save_run)."""
    from game.runfile import save_run

    class _Doc:  # save_run writes whatever ``to_json`` gives
        def to_json(self) -> dict[str, Any]:
            return f.to_json()

    try:
        return save_run(_Doc(), path)  # type: ignore[arg-type]
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from None


def is_industry_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an industry file (its JSON ``format``), for ``tycoon verify``'s dispatch."""
    from game.runfile import MAX_RUN_BYTES, read_bounded

    try:
        raw = read_bounded(Path(path), MAX_RUN_BYTES, "run file")
        return json.loads(raw.decode("utf-8-sig")).get("format") == FORMAT
    except (UserError, ValueError, AttributeError, RecursionError):
        return False


def load_industry(path: str | os.PathLike) -> IndustryFile:
    """Read and check an industry file's shape; every problem names the file and the field."""
    from game.runfile import MAX_ACTIONS_PER_QUARTER, MAX_QUARTERS, MAX_RUN_BYTES, MAX_SCENARIO_BYTES, MAX_SEED, _require, read_bounded

    p = Path(path)
    try:
        data = json.loads(read_bounded(p, MAX_RUN_BYTES, "industry file").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UserError(f"{p}: not a usable JSON file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{p}: not an AI Cloud Tycoon industry file (field 'format' must be {FORMAT!r})")
    if _require(data, "format_version", int, p) != FORMAT_VERSION:
        raise UserError(f"{p}: field 'format_version' is {data['format_version']}; this tycoon reads version {FORMAT_VERSION}")
    seed = _require(data, "seed", int, p)
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"{p}: field 'seed' must be a whole number from 0 to {MAX_SEED} (2^63-1), got {seed}")
    companies = _require(data, "companies", list, p)
    if not 1 <= len(companies) <= MAX_COMPANIES:
        raise UserError(f"{p}: field 'companies' must list 1 to {MAX_COMPANIES} companies, got {len(companies)}")
    names = []
    for i, c in enumerate(companies):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not _NAME.match(c["name"]) or not isinstance(c.get("bot"), (str, type(None))):
            raise UserError(f"{p}: field companies[{i}] needs 'name' (letters, digits, '.', '_', '-') and 'bot' (a bot's name or null)")
        names.append(c["name"])
    if len(set(names)) != len(names):
        raise UserError(f"{p}: field 'companies': names must be unique, got {', '.join(names)}")
    quarters = _require(data, "quarters", list, p)
    if len(quarters) > MAX_QUARTERS:
        raise UserError(f"{p}: field 'quarters' has {len(quarters)} entries; a game has at most {MAX_QUARTERS} quarters")
    for i, q in enumerate(quarters):
        acts, hashes = (q.get("actions"), q.get("state_hashes")) if isinstance(q, dict) else (None, None)
        if not isinstance(acts, dict) or not isinstance(hashes, dict) or set(acts) != set(hashes) or not set(acts) <= set(names):
            raise UserError(f"{p}: field quarters[{i}] needs 'actions' and 'state_hashes', objects keyed by the same company names")
        for n, a in acts.items():
            if not isinstance(a, list) or len(a) > MAX_ACTIONS_PER_QUARTER or not all(isinstance(x, dict) for x in a):
                raise UserError(f"{p}: field quarters[{i}].actions.{n} must be a list of at most {MAX_ACTIONS_PER_QUARTER} objects")
            if not isinstance(hashes[n], str):
                raise UserError(f"{p}: field quarters[{i}].state_hashes.{n} must be a string")
    toml = data.get("scenario_toml")
    if toml is not None and (not isinstance(toml, str) or len(toml.encode("utf-8", "surrogatepass")) > MAX_SCENARIO_BYTES):
        raise UserError(f"{p}: field 'scenario_toml' must be the scenario's TOML text (at most {MAX_SCENARIO_BYTES // 1024} KiB) or null")
    if data.get("final") is not None and not isinstance(data["final"], dict):
        raise UserError(f"{p}: field 'final' must be an object or null")
    return IndustryFile(
        scenario=_require(data, "scenario", str, p), scenario_sha256=_require(data, "scenario_sha256", str, p), seed=seed,
        ruleset=_require(data, "ruleset", str, p), companies=companies, scenario_toml=toml, quarters=quarters, final=data.get("final"),
    )


@dataclass
class IndustryVerification:
    path: Path
    ok: bool
    reason: str
    scenario_label: str = ""
    industry: Any = None  # engine.industry.Industry re-simulated (when ok)
    loaded: Any = None


def verify_industry(path: str | os.PathLike, scenario_file: str | os.PathLike | None = None) -> IndustryVerification:
    """Re-simulate every company's actions and compare each quarter's hashes and the final scores."""
    from engine import RULESET
    from engine.industry import Industry
    from engine.money import to_usd
    from game.runfile import RunFile, is_builtin, scenario_for_run

    p = Path(path)
    f = load_industry(p)
    run = RunFile(scenario=f.scenario, scenario_sha256=f.scenario_sha256, seed=f.seed, scenario_toml=f.scenario_toml)
    loaded = scenario_for_run(run, p, scenario_file)
    label = "" if is_builtin(loaded.scenario.id, loaded.sha256) else f"custom scenario {loaded.scenario.id}, sha256 {loaded.sha256[:12]}..."
    if f.ruleset != RULESET:
        return IndustryVerification(p, False, f"made with ruleset {f.ruleset}; this tycoon runs {RULESET}")
    if f.scenario_sha256 != loaded.sha256 or f.scenario != loaded.scenario.id:
        return IndustryVerification(p, False, f"made with another version of scenario {f.scenario!r} (its SHA-256 differs)")
    try:
        ind = Industry(loaded.scenario, f.seed, [(c["name"], c["bot"]) for c in f.companies])
    except ValueError as exc:
        raise UserError(f"{p}: scenario {f.scenario!r} cannot be played: {exc}") from None
    for i, q in enumerate(f.quarters):
        where = q.get("quarter", f"#{i + 1}")
        if ind.over or set(q["actions"]) != set(ind.active()):
            return IndustryVerification(p, False, f"quarter {where}: the companies still playing are not the ones recorded")
        iq = ind.play(q["actions"])
        for n in sorted(iq.reports):
            if iq.reports[n].state_hash != q["state_hashes"][n]:
                return IndustryVerification(p, False, f"{n}'s state hash differs from quarter {where} on")
    for n, claimed in (f.final or {}).items():
        c = ind.companies.get(n)
        actual = {"score": to_usd(c.reports[-1].score.score_cents), "bankrupt": c.state.bankrupt} if c and c.reports else None
        if not isinstance(claimed, dict) or actual is None or any(claimed.get(k) != v for k, v in actual.items()):
            return IndustryVerification(p, False, f"claims {n} ended with {claimed!r} but re-simulates to {actual!r}")
    return IndustryVerification(p, True, f"verified {len(f.quarters)} quarter(s) of {len(f.companies)} companies", label, ind, loaded)


# ------------------------------------------------------------------------------ rivals in a single-player game

DEFAULT_RIVALS = (("Rival-Barbell", "barbell"), ("Rival-Flex", "flex"), ("Rival-AllIn", "all-in"),
                  ("Rival-Leverage", "max-leverage"), ("Rival-Speculator", "speculator"), ("Rival-Passive", "passive"))


def scenario_with_rivals(loaded, n: int) -> bytes:
    """The scenario's TOML with ``n`` rivals of ``DEFAULT_RIVALS`` appended as ``[[rivals]]`` tables:
    a scenario of its own (its SHA-256 differs), so a run file embeds it and verifies as played."""
    if not 1 <= n <= len(DEFAULT_RIVALS):
        raise UserError(f"--rivals must be from 1 to {len(DEFAULT_RIVALS)}, got {n}")
    if loaded.scenario.rivals:
        raise UserError(f"{loaded.path}: this scenario already has rivals ({len(loaded.scenario.rivals)}); drop --rivals")
    tables = "".join(f'\n[[rivals]]\nname = "{name}"\nbot = "{bot}"\n' for name, bot in DEFAULT_RIVALS[:n])
    return loaded.data + ("\n# --rivals " + str(n) + "\n" + tables).encode("utf-8")


def write_rivals_scenario(scenario: str, n: int, folder: Path) -> Path:
    """``tycoon play --rivals N``: write the scenario with its rivals next to the run files (atomic)."""
    import tempfile

    from scenarios import ScenarioError, load_scenario, parse_scenario

    try:
        loaded = load_scenario(scenario)
        data = scenario_with_rivals(loaded, n)
        parse_scenario(data, loaded.path)  # the engine accepts it before the game opens on it
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    target = folder / "scenarios" / f"{loaded.scenario.id}-rivals{n}.toml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise UserError(f"{target}: cannot write the scenario with rivals ({exc.strerror})") from None
    return target


# ------------------------------------------------------------------------------ commands


def company_summary(ind, iq) -> list[dict[str, Any]]:
    """Each company's quarter for ``industry sim --json``: name, revenue, served GPU-hours and
    tokens, its prices, its share of the industry's revenue and its score (US dollars)."""
    from engine.money import to_usd

    total = sum(r.income.revenue for r in iq.reports.values())
    out = []
    for n in ind.order:
        r = iq.reports.get(n)
        if r is None:
            continue
        out.append({
            "name": n,
            "bot": ind.companies[n].bot,
            "revenue": to_usd(r.income.revenue),
            "served_gpu_hours": round(sum(g.served_gpu_hours["reserved"] + g.served_gpu_hours["on_demand"] + g.served_gpu_hours["batch"] for g in r.kpis.by_gen), 1),
            "served_tokens": round(r.inference.tokens_in + r.inference.tokens_out, 0) if r.inference is not None else 0.0,
            "price": {g.gen: round(g.price_usd_per_hour, 4) for g in r.kpis.by_gen},
            "share": round(r.income.revenue / total, 4) if total > 0 else 0.0,
            "score": to_usd(r.score.score_cents),
            "bankrupt": r.bankrupt,
            "state_hash": r.state_hash,
        })
    return out


def _load(name: str):
    from scenarios import ScenarioError, load_scenario

    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


def _industry(loaded, seed: int, companies: list[tuple[str, str | None]]):
    from engine.industry import Industry

    try:
        return Industry(loaded.scenario, seed, companies)
    except ValueError as exc:
        raise UserError(f"{loaded.path}: {exc}") from None


def cmd_sim(args: argparse.Namespace) -> int:
    from engine.industry import industry_hash
    from game.botfile import resolve_bot

    if args.quarters is not None and args.quarters <= 0:
        raise UserError(f"--quarters must be positive, got {args.quarters}")
    loaded = _load(args.scenario)
    bot_specs = company_names(args.bots, "--bots")
    bots = [resolve_bot(b) for b in bot_specs]
    ind = _industry(loaded, args.seed, _companies([], [b.name for b in bots]))
    players = {n: bots[i] for i, n in enumerate(ind.order)}
    quarters = []
    while not ind.over and (args.quarters is None or len(quarters) < args.quarters):
        iq = ind.play({n: players[n].act(ind.observation(n)) for n in ind.active()})
        quarters.append({"quarter": iq.label, "industry_hash": industry_hash({n: r.state_hash for n, r in iq.reports.items()}),
                         "companies": company_summary(ind, iq)})
    if args.run_out:
        save_industry(industry_file(ind, loaded), args.run_out)
    if args.json:
        out = {"scenario": loaded.scenario.id, "scenario_sha256": loaded.sha256, "seed": args.seed,
               "companies": [{"name": n, "bot": ind.companies[n].bot} for n in ind.order], "quarters": quarters}
        sys.stdout.write(json.dumps(out, sort_keys=True, allow_nan=False) + "\n")
        return 0
    for q in quarters:
        row = "  ".join(f"{c['name']} ${c['revenue'] / 1e6:,.1f}M ({c['share']:.0%})" for c in q["companies"])
        print(f"{q['quarter']}  {row}")
    if quarters:
        print("final: " + "  ".join(f"{c['name']} score ${c['score'] / 1e6:,.1f}M{' (bankrupt)' if c['bankrupt'] else ''}"
                                    for c in quarters[-1]["companies"]))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    loaded = _load(args.scenario)
    players = company_names(args.players, "--players")
    rivals = company_names(args.rivals, "--rivals") if args.rivals else []
    from engine.bots import bot_names

    for b in rivals:
        if b not in bot_names():
            raise UserError(f"--rivals: unknown bot {b!r}; valid: {', '.join(bot_names())}")
    ind = _industry(loaded, args.seed, _companies(players, rivals))
    path = save_industry(industry_file(ind, loaded), args.out)
    print(f"{path}: industry of {len(ind.order)} companies on {loaded.scenario.id}, seed {args.seed}: {', '.join(ind.order)}")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    """Hot-seat: the players of an industry file take turns in this terminal (game.app.hotseat)."""
    v = verify_industry(args.file)
    if not v.ok:
        raise UserError(f"{args.file}: cannot continue this industry: {v.reason}")
    ind = v.industry
    if not any(c.bot is None for c in ind.companies.values()):
        raise UserError(f"{args.file}: no players in this industry, only bots: watch it with `tycoon industry sim`")
    from game.app.hotseat import HotSeatApp

    app = HotSeatApp(ind, v.loaded, args.file)
    app.run()
    return int(app.return_code or 0)


def register(sub: argparse._SubParsersAction) -> None:
    from game.cli import seed_arg

    p = sub.add_parser("industry", help="companies competing in one market (issue 15)")
    isub = p.add_subparsers(dest="industry_command", required=True)
    s = isub.add_parser("sim", help="play an industry of bots headless")
    s.add_argument("--scenario", default="neocloud-2025", help="scenario id or .toml path")
    s.add_argument("--seed", type=seed_arg, default=1)
    s.add_argument("--bots", required=True, help="comma-separated bots, one company each (e.g. barbell,all-in,flex)")
    s.add_argument("--quarters", type=int, default=None, help="stop after this many quarters")
    s.add_argument("--run-out", default=None, help="write the industry file here")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(handler=cmd_sim)
    n = isub.add_parser("new", help="create an industry file of players (and bot rivals)")
    n.add_argument("--scenario", default="neocloud-2025", help="scenario id or .toml path")
    n.add_argument("--seed", type=seed_arg, default=1)
    n.add_argument("--players", required=True, help="comma-separated player names")
    n.add_argument("--rivals", default="", help="comma-separated bots playing rival companies")
    n.add_argument("--out", required=True, help="the industry file to write")
    n.set_defaults(handler=cmd_new)
    h = isub.add_parser("play", help="hot-seat: the industry's players take turns in this terminal")
    h.add_argument("file", help="the industry file (tycoon industry new)")
    h.set_defaults(handler=cmd_play)
