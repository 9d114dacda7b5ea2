"""The app's hold on a game: the engine's ``Game``, the turn plan, and the run file it autosaves.

No Textual here and no game logic: every number comes from the engine (``Game.preview``,
``Game.play``, ``engine.lenders``). The screens read a ``Session``; the forms add to its plan.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.actions import parse_action

from engine.game import Game
from engine.lenders import loan_offers, loan_quarter_service_cents, projected_dscr
from engine.money import fmt_usd, to_cents
from engine.report import ActionResult, QuarterReport
from engine.state import GameState
from game.runfile import resume_game, run_from_game, save_run
from scenarios import DEFAULT_SCENARIO, LoadedScenario, load_scenario

SAVE_DIR_ENV = "TYCOON_SAVE_DIR"


def default_save_dir() -> Path:
    """``$TYCOON_SAVE_DIR`` if set (tests use it), else the user data dir's ``runs/``."""
    env = os.environ.get(SAVE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ai-cloud-tycoon")) / "runs"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "player"


@dataclass
class Preview:
    """What the turn plan (plus one candidate action) would do, before the quarter runs."""

    results: list[ActionResult]
    state: GameState

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def cash_after(self) -> int:
        return self.state.ledger.balances["cash"]


@dataclass
class Session:
    game: Game
    loaded: LoadedScenario
    player: str = ""
    save_dir: Path = field(default_factory=default_save_dir)
    save_path: Path | None = None
    plan: list[dict] = field(default_factory=list)
    last_saved: Path | None = None

    # ------------------------------------------------------------------ creation

    @classmethod
    def new(cls, scenario: str = DEFAULT_SCENARIO, seed: int = 7, player: str = "", save_dir: Path | None = None) -> "Session":
        loaded = load_scenario(scenario)
        game = Game(loaded.scenario, seed)
        s = cls(game=game, loaded=loaded, player=player, save_dir=Path(save_dir) if save_dir else default_save_dir())
        s.save_path = s.save_dir / f"{loaded.scenario.id}-seed{seed}-{_slug(player)}.json"
        return s

    @classmethod
    def load(cls, path: str | os.PathLike, save_dir: Path | None = None) -> "Session":
        run, loaded, game = resume_game(path)
        s = cls(game=game, loaded=loaded, player=run.player, save_dir=Path(save_dir) if save_dir else default_save_dir())
        s.save_path = Path(path)
        return s

    # ------------------------------------------------------------------ reading

    @property
    def state(self) -> GameState:
        return self.game.state

    @property
    def reports(self) -> list[QuarterReport]:
        return self.game.reports

    @property
    def last(self) -> QuarterReport | None:
        return self.game.reports[-1] if self.game.reports else None

    @property
    def label(self) -> str:
        return self.game.quarter_label

    @property
    def over(self) -> bool:
        return self.game.over

    @property
    def archetype(self) -> str:
        return self.loaded.scenario.archetype

    def quarter_label(self, q: int) -> str:
        return self.game.world.quarter(max(0, min(q, self.game.scenario.quarters - 1))).label

    # ------------------------------------------------------------------ the plan

    def preview(self, extra: dict | None = None) -> Preview:
        actions = list(self.plan) + ([extra] if extra is not None else [])
        results, state = self.game.preview(actions)
        return Preview(results, state)

    def add(self, action: dict) -> ActionResult:
        """Queue an action if the engine accepts it after the plan so far; returns its verdict."""
        try:
            parse_action(action)
        except Exception as exc:  # pydantic.ValidationError: shown as the form's message
            return ActionResult(action=dict(action), ok=False, message=str(exc).splitlines()[0])
        result = self.preview(action).results[-1]
        if result.ok:
            self.plan.append(result.action)
        return result

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.plan):
            del self.plan[index]

    # ------------------------------------------------------------------ money helpers (engine numbers only)

    def quarterly_cash_costs(self) -> int:
        """Last quarter's cash costs (cash COGS + opex + interest); before the first quarter: fixed opex."""
        if self.last is None:
            rules = self.game.scenario.rules
            return to_cents(rules.rnd_usd_per_quarter + rules.ga_usd_per_quarter)
        inc = self.last.income
        return inc.revenue - inc.ebitda + inc.interest

    def term_capacity(self, state: GameState) -> int:
        """Debt a term lender would offer on ``state`` this quarter (engine.lenders.loan_offers)."""
        wq = self.game.world.quarter(min(state.quarter, self.game.scenario.quarters - 1))
        state = state.model_copy(update={"covenant": "ok" if state.covenant == "none" else state.covenant})
        return sum(o.max_cents for o in loan_offers(state, wq, self.game.scenario.rules) if o.kind != "equipment")

    def projected_dscr(self, extra_service_cents: int = 0) -> float | None:
        """Trailing DSCR with one more quarter of debt service added (engine.lenders)."""
        return projected_dscr(self.state, extra_service_cents)

    def loan_service_cents(self, offer_id: str, amount_usd: float) -> int:
        """One quarter of a new loan's service (engine.lenders.loan_quarter_service_cents)."""
        o = next((o for o in self.state.offers.loans if o.id == offer_id), None)
        if o is None:
            return 0
        return loan_quarter_service_cents(to_cents(amount_usd), o.spread_bps, self.game.observation().market.sofr, o.tenor_quarters)

    def planned_new_service(self) -> int:
        return sum(self.loan_service_cents(a["offer_id"], a["amount_usd"]) for a in self.plan if a.get("kind") == "take_loan")

    def risks(self) -> list[str]:
        """What the end-of-quarter confirmation names: rejected actions, thin cash, covenant trouble."""
        out: list[str] = []
        p = self.preview()
        for r in p.results:
            if not r.ok:
                out.append(f"Rejected: {r.action.get('kind')}: {r.message}")
        costs = self.quarterly_cash_costs()
        if p.cash_after < costs:
            out.append(f"Cash after your plan is {fmt_usd(p.cash_after)}, less than one quarter of cash costs ({fmt_usd(costs)}).")
        proj = self.projected_dscr(self.planned_new_service())
        rules = self.game.scenario.rules
        if proj is not None and proj < rules.covenant_lockup_dscr:
            level = "default" if proj < rules.covenant_default_dscr else "lock-up"
            out.append(f"Covenant test may fail: trailing DSCR with your plan's new debt is about {proj:.2f}x, "
                       f"below the {level} level ({rules.covenant_lockup_dscr:.2f}x lock-up, {rules.covenant_default_dscr:.2f}x default).")
        if self.state.covenant in ("lock-up", "default"):
            k = self.last.kpis if self.last else None
            d = f" (DSCR {k.dscr:.2f}x vs {k.dscr_lockup:.2f}x lock-up)" if k and k.dscr is not None else ""
            out.append(f"Covenant status is {self.state.covenant}{d}: the next test may fail.")
        if self.state.cure_due:
            out.append("An equity cure is due this quarter: raise equity or the lenders take the assets.")
        if self.last is not None:
            for w in self.last.warnings:
                if "Runway" in w:
                    out.append(w)
        return out

    # ------------------------------------------------------------------ turning the quarter

    def end_quarter(self) -> QuarterReport:
        report = self.game.play(list(self.plan))
        self.plan = []
        self.save()
        return report

    def save(self, path: str | os.PathLike | None = None) -> Path:
        target = Path(path) if path else (self.save_path or self.save_dir / "run.json")
        self.last_saved = save_run(run_from_game(self.game, self.loaded, player=self.player), target)
        return self.last_saved
