"""The app's hold on a game: the engine's ``Game``, the turn plan, and the run file it autosaves.

No Textual here and no game logic: every number comes from the engine (``Game.preview``,
``Game.play``, ``engine.lenders``). The screens read a ``Session``; the forms add to its plan.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.actions import parse_action

from engine.game import Game
from engine.lenders import loan_offers, loan_quarter_service_cents
from engine.money import fmt_usd, to_cents
from engine.report import ActionResult, QuarterReport
from engine.state import GameState
from scenarios import DEFAULT_SCENARIO, LoadedScenario, load_scenario

from game.app.paths import SAVE_DIR_ENV, default_save_dir  # noqa: E402,F401 - re-exported


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
    competition: object | None = None  # a game.competition.Competition when playing one
    competition_id: str | None = None  # the run file's tag (kept when a tagged run is continued)
    parent: dict | None = None  # a branch's parent block (game.runfile.PARENT_FIELDS), kept on every save
    _advice: tuple | None = field(default=None, repr=False)  # (key, engine.advisor.Advice)

    # ------------------------------------------------------------------ creation

    @classmethod
    def new(cls, scenario: str = DEFAULT_SCENARIO, seed: int = 7, player: str = "", save_dir: Path | None = None,
            competition=None) -> "Session":
        """A new game; with ``competition`` (game.competition.Competition) its scenario and seed win."""
        if competition is not None:
            scenario, seed = competition.scenario, competition.seed
        loaded = load_scenario(scenario)
        game = Game(loaded.scenario, seed)
        s = cls(game=game, loaded=loaded, player=player, save_dir=Path(save_dir) if save_dir else default_save_dir(),
                competition=competition, competition_id=competition.id if competition is not None else None)
        tag = f"{_slug(competition.id)}-" if competition is not None else ""
        s.save_path = s.save_dir / f"{tag}{loaded.scenario.id}-seed{seed}-{_slug(player)}.json"
        return s

    @classmethod
    def load(cls, path: str | os.PathLike, save_dir: Path | None = None, competition=None) -> "Session":
        from game.runfile import resume_game  # the run file's code loads with the first load or save, not with a new game (issue 11)

        run, loaded, game = resume_game(path)
        if competition is not None:
            from game.competition import competition_mismatch
            from game.errors import UserError

            why = competition_mismatch(competition, run.scenario, run.seed, run.competition, run.scenario_sha256)
            if why:
                raise UserError(f"{path}: this run {why}")
        s = cls(game=game, loaded=loaded, player=run.player, save_dir=Path(save_dir) if save_dir else default_save_dir(),
                competition=competition, competition_id=competition.id if competition is not None else run.competition,
                parent=run.parent)
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

    @property
    def runs_inference(self) -> bool:
        """An inference platform, or a neocloud whose scenario gives it an inference stack (or that runs one)."""
        if self.archetype == "inference":
            return True
        inf = self.state.inference
        return bool(inf.techniques or inf.deployments or inf.dedicated or inf.on_demand or inf.spot)

    def world_quarter(self):
        """This quarter's world (engine.world.WorldQuarter): what the engine's own checks read."""
        return self.game.world.quarter(min(self.state.quarter, self.game.scenario.quarters - 1))

    def market_token_price(self, model: str) -> float:
        """$/M output tokens the market charges for ``model`` this quarter (engine.inference)."""
        from engine.inference import market_output_price

        return market_output_price(self.world_quarter(), self.game.scenario.rules.inference, model)

    def quarter_label(self, q: int) -> str:
        return self.game.world.quarter(max(0, min(q, self.game.scenario.quarters - 1))).label

    # ------------------------------------------------------------------ the plan

    def preview(self, extra: dict | None = None) -> Preview:
        from game.app.forms import player_words

        actions = list(self.plan) + ([extra] if extra is not None else [])
        results, state = self.game.preview(actions)
        # the engine's messages in the player's words (the calculator's --flags, action kinds): forms and the plan read these
        results = [r.model_copy(update={"message": words}) if (words := player_words(r.message)) != r.message else r for r in results]
        return Preview(results, state)

    def bills_cents(self, preview: Preview | None = None) -> int:
        """The coming quarter's committed bills once the plan is played (engine.advisor.committed_bills:
        rentals, leases, colo, debt service, capex, overhead): what "cash after" must still pay."""
        from engine.advisor import committed_bills

        state = (preview or self.preview()).state
        return sum(c for _, c in committed_bills(state, self.game.world, self.game.scenario))

    def add(self, action: dict) -> ActionResult:
        """Queue an action if the engine accepts it after the plan so far; returns its verdict."""
        from pydantic import ValidationError

        try:
            parse_action(action)
        except ValidationError as exc:  # shown as the form's message: in the player's words, never "buy_gpus.count"
            return ActionResult(action=dict(action), ok=False, message=self._invalid(action, exc.errors()[0]))
        result = self.preview(action).results[-1]
        if result.ok:
            self.plan.append(result.action)
        return result

    def _invalid(self, action: dict, err: dict) -> str:
        """A pydantic error on an action, as the form states it: the field's label and its limits in its
        units (game.app.forms.out_of_bounds: percent in percent), else the label and what is valid."""
        from game.app.forms import FORMS, out_of_bounds

        kind, name = action.get("kind"), str(err.get("loc", ("",))[-1])
        spec = FORMS.get(kind) if isinstance(kind, str) else None
        f = next((f for f in spec.fields(self) if f.name == name), None) if spec is not None else None
        label = f.label if f is not None else name.replace("_", " ")
        value = action.get(name)
        if f is not None and f.kind != "select" and isinstance(value, (int, float)) and not isinstance(value, bool):
            why = out_of_bounds(kind, f, value)  # the engine's units in, the player's units out (percent in percent)
            if why:
                return why
        valid = err.get("ctx", {}).get("expected")
        return f"{label}: {'valid: ' + str(valid) if valid else str(err.get('msg', 'invalid')).lower()}"

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

    def why_no_debt_capacity(self, state: GameState) -> str:
        """Why a term lender would lend nothing more on ``state`` (engine.lenders.underwrite's numbers)."""
        from engine.lenders import TERM_TARGET_CONTRACTED, underwrite

        if state.covenant in ("lock-up", "default"):
            return f"the covenant is in {state.covenant}: lenders allow no new debt until DSCR recovers"
        u = underwrite(state, self.game.scenario.rules, self.game.observation().market.sofr)
        service = sum(u.existing_service_cents[:4])
        if u.cfads_cents <= 0:
            return f"the projected cash flow after tax for next year is {fmt_usd(u.cfads_cents)}: there is nothing to lend against"
        return (f"the projected cash flow after tax ({fmt_usd(u.cfads_cents)} next year) covers the existing debt's service "
                f"({fmt_usd(service)}) less than {TERM_TARGET_CONTRACTED:.2f}x over, the lenders' sizing ratio")

    def expected_utilization(self, gen: str) -> tuple[float, str]:
        """The share of a generation's GPU-hours sold last quarter (engine quarter report), or the
        fleet's; before the first quarter, the forecast's at expected demand (engine.advisor)."""
        report = self.last or self.advice_report()
        if report is None:
            return 0.0, "no quarter to go by"
        g = next((g for g in report.kpis.by_gen if g.gen == gen), None)
        where = "last quarter" if self.last is not None else "this quarter at expected demand"
        if g is not None:
            return g.utilization, f"{gen.upper()} {where}"
        return report.kpis.utilization, f"the whole fleet {where}"

    def advice_report(self):
        """The expected quarter's report for the plan (engine.advisor), or None once the game is over."""
        return None if self.over else self.advice().report

    def payback_quarters(self, gen: str, unit_cost_cents: int, utilization: float) -> float | None:
        """Quarters for one GPU's cash margin to repay its price (engine.advisor.payback_quarters)."""
        from engine.advisor import payback_quarters

        return payback_quarters(self.world_quarter(), self.game.scenario.rules, gen, unit_cost_cents, utilization)

    def technique_gains(self, technique: str) -> list[str]:
        """What a technique adds to each deployed model's throughput per replica (engine.physics)."""
        from engine.advisor import technique_gain

        out = []
        for d in self.preview().state.inference.deployments:
            gain = technique_gain(self.preview().state, self.game.scenario.rules.inference, d, technique)
            if gain is not None:
                out.append(f"{d.model}: {gain[0]:,.0f} -> {gain[1]:,.0f} output tokens/s per replica ({gain[1] / gain[0] - 1:+.0%})" if gain[0] > 0 else "")
        out = [o for o in out if o]
        if not out:
            return ["No model is deployed yet: it raises the throughput of the replicas you deploy."]
        return ["Throughput once live, at today's TPOT targets:"] + out

    def loan_service_cents(self, offer_id: str, amount_usd: float) -> int:
        """One quarter of a new loan's service (engine.lenders.loan_quarter_service_cents)."""
        o = next((o for o in self.state.offers.loans if o.id == offer_id), None)
        if o is None:
            return 0
        first = o.principal_shares[0] if o.principal_shares else None  # a sculpted offer repays its own first share
        return loan_quarter_service_cents(to_cents(amount_usd), o.spread_bps, self.game.observation().market.sofr, o.tenor_quarters, first)

    def forecast(self, extra: dict | None = None):
        """The plan (and ``extra``, a form's action) played at expected values: engine.advisor.forecast."""
        from engine.advisor import forecast

        return forecast(self.state, self.game.world, self.game.scenario, list(self.plan) + ([extra] if extra is not None else []))

    def advice(self):
        """The advisor's reading of the plan (engine.advisor.advise): risks, forecast, committed bills.
        Cached per quarter and plan: the confirmation, the dashboard alerts and the plan screen share it."""
        from engine.advisor import advise

        key = (len(self.game.reports), json.dumps(self.plan, sort_keys=True, default=str))
        if self._advice is None or self._advice[0] != key:
            self._advice = (key, advise(self.state, self.game.world, self.game.scenario, list(self.plan)))
        return self._advice[1]

    def risks(self) -> list[str]:
        """What the end-of-quarter confirmation names: the advisor's risks (cash after every committed
        bill, runway, covenant, what ends soon, SLA, capacity), then the covenant status carried in."""
        from game.app.forms import player_words

        out = [player_words(r.message) for r in self.advice().risks]
        if self.state.covenant in ("lock-up", "default"):
            k = self.last.kpis if self.last else None
            d = f" (DSCR {k.dscr:.2f}x vs {k.dscr_lockup:.2f}x lock-up)" if k and k.dscr is not None else ""
            out.append(f"Covenant status is {self.state.covenant}{d}: no new debt until two tests in a row pass.")
        return out

    # ------------------------------------------------------------------ turning the quarter

    def end_quarter(self) -> QuarterReport:
        report = self.game.play(list(self.plan))
        self.plan = []
        self.save()
        return report

    def save(self, path: str | os.PathLike | None = None) -> Path:
        from game.runfile import run_from_game, save_run

        target = Path(path) if path else (self.save_path or self.save_dir / "run.json")
        run = run_from_game(self.game, self.loaded, player=self.player, parent=self.parent)
        if self.competition is not None:
            from game.competition import tag_run_with_competition

            run = tag_run_with_competition(run, self.competition)
        elif self.competition_id:  # a continued run keeps its tag
            run.competition = self.competition_id
        self.last_saved = save_run(run, target)
        return self.last_saved

    # ------------------------------------------------------------------ the local leaderboard (game.leaderboard)

    def board_name(self) -> str:
        comp = f" · competition {self.competition_id}" if self.competition_id else ""
        return f"{self.loaded.scenario.id} seed {self.game.seed}{comp}"

    def leaderboard(self, db: str | os.PathLike | None = None) -> list:
        """This game's board in the local store: [(rank, Entry)], best first (same scenario version, seed, ruleset)."""
        from engine import RULESET
        from game.leaderboard import open_store

        with open_store(db) as store:
            rows = store.entries(competition=self.competition_id or "", scenario=self.loaded.scenario.id,
                                 seed=self.game.seed, scenario_sha256=self.loaded.sha256)
        return [(rank, e) for rank, e in rows if e.ruleset == RULESET]

    def add_to_leaderboard(self, db: str | os.PathLike | None = None) -> tuple[bool, str, int | None]:
        """Save, then put the finished run on the local board through ``game.leaderboard.add_runs``
        (re-simulated and verified like ``tycoon leaderboard add``). Returns (added, message, entry id)."""
        from engine import RULESET
        from game.leaderboard import add_runs, open_store
        from game.runfile import load_run

        path = self.save()
        comp = self.competition
        if comp is None and self.competition_id:  # a tagged run continued without its file: check the tag only
            run = load_run(path)
            if run.competition != self.competition_id:
                return False, "the run's competition tag changed", None
        with open_store(db) as store:
            [outcome] = add_runs(store, [str(path)], competition=comp, workers=1)
            if not outcome.ok or outcome.entry is None:
                last = self.last
                if last is not None and "duplicate" in outcome.reason:
                    rank, total = store.placement(self.loaded.scenario.id, self.loaded.sha256, RULESET, self.game.seed,
                                                  last.score.score_cents, competition=self.competition_id or "")
                    return False, f"Not added: {outcome.reason}. Your score places {ordinal(rank)} of {total} on {self.board_name()}.", None
                return False, f"Not added: {outcome.reason}", None
            e = outcome.entry
            board = [(r, x) for r, x in store.entries(competition=e.competition, scenario=e.scenario, seed=e.seed,
                                                       scenario_sha256=e.scenario_sha256) if x.ruleset == e.ruleset]
        rank = next((r for r, x in board if x.id == e.id), None)
        where = f"{ordinal(rank)} of {len(board)}" if rank is not None else f"one of {len(board)}"
        note = f" ({outcome.note})" if outcome.note else ""
        return True, f"Added: {where} on {self.board_name()}{note}.", e.id


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
