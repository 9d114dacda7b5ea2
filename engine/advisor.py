"""The player's advisor (issue 11): the coming quarter's risks, with numbers, for a turn plan.

``advise(state, world, scenario, plan)`` reads the state after the plan (``engine.step``'s own
action checks) and plays the quarter once at expected values (``engine.step.advance`` with
``expected=True``: trend demand, today's prices, none of the quarter's random draws). From the two
it names what a management-game player expects to be told before ending the quarter: the bills
already committed and the cash left to pay them, runway, the covenant test, contracts, leases,
colo terms and loans that end within two quarters (and what ends with them), SLA risks and
capacity shortfalls. Pure: no I/O, nothing mutated, no random stream consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import inference
from engine.actions import active_gpus, available_credit_cents, committed_gpus, rental_bill_cents, renewal_of, renewal_offer_id
from engine.calendar import TICKS_PER_QUARTER
from engine.hardware import GPU_ORDER
from engine.leases import colo_rent_usd, lease_payment_usd
from engine.lenders import balloon_at_maturity_cents, principal_due, quarterly_interest_cents
from engine.money import fmt_usd, to_cents
from engine.report import ActionResult
from engine.scenario import Scenario
from engine.state import GameState, copy_state
from engine.world import World

RISK_KINDS = ("rejected", "cash", "runway", "covenant", "ending", "sla", "capacity")
SEVERITIES = ("critical", "warning", "info")
RUNWAY_WARN_QUARTERS = 4.0  # the same threshold as the quarter report's runway warning (engine.step._warnings)
SUBJECTS = {  # Risk.subject: "<what>:<its id>" for the item a player can act on, else the company-wide topic
    "lease": "a GPU lease, by lot id", "contract": "a contract, by contract id", "colo": "a colo site's term, by site id",
    "loan": "a loan, by loan id", "plan": "an action of the plan, by its index", "gen": "a GPU generation",
    "model": "a deployed model", "cash": "cash and runway", "covenant": "the DSCR covenant",
}
HORIZON_QUARTERS = 2  # ends announced this many quarters ahead (issue 11, item 2)
TURNED_AWAY_WARN = 0.10  # capacity: more than this share of demand at our price turned away
DROPPED_WARN = 0.02  # the same level at which the quarter report's news says requests were dropped


@dataclass(frozen=True)
class Risk:
    """One risk of the coming quarter, in the player's words, with the numbers behind it."""

    kind: str  # one of RISK_KINDS
    severity: str  # one of SEVERITIES
    message: str
    numbers: tuple[tuple[str, float], ...] = ()
    subject: str = ""  # what the risk is about, for a screen to act on it: see SUBJECTS

    def number(self, name: str) -> float:
        return dict(self.numbers)[name]


@dataclass(frozen=True)
class Forecast:
    """Next quarter at expected values (issue 11, "Forecast"): the plan played on trend demand and
    today's prices, never the world's random draws. Money in cents."""

    label: str
    revenue_cents: int
    ebitda_cents: int
    cash_after_plan_cents: int  # right after the plan's actions, before the quarter runs
    cash_end_cents: int  # at the end of the quarter
    debt_service_cents: int
    dscr: float | None  # the covenant's trailing DSCR at the end of the quarter (None: no debt)
    dscr_lockup: float
    dscr_default: float
    bankrupt: bool


@dataclass(frozen=True)
class Advice:
    risks: tuple[Risk, ...]
    forecast: Forecast | None  # None once the game is over
    bills: tuple[tuple[str, int], ...]  # the quarter's committed bills, cents, by line
    report: object = None  # the expected quarter's engine.report.QuarterReport (None once the game is over)

    @property
    def bills_cents(self) -> int:
        return sum(c for _, c in self.bills)


def committed_bills(state: GameState, world: World, scenario: Scenario) -> list[tuple[str, int]]:
    """What the coming quarter will charge whatever happens, for ``state`` as the plan leaves it:
    GPU rentals (on demand and spot, used or not), GPU leases (take-or-pay), colocation rent, debt
    service (interest at SOFR + spread and scheduled principal), construction capex due, and fixed
    overhead. The same formulas as engine.step's postings (engine.leases, engine.lenders)."""
    q = state.quarter
    wq = world.quarter(q)
    rules = scenario.rules
    leases = sum(
        lease_payment_usd(l.count, l.lease_usd_per_hour) for l in state.lots
        if l.ownership == "leased" and l.status == "active" and l.arrives_quarter <= q < l.lease_end_quarter
    )
    colo = sum(colo_rent_usd(s.mw, s.colo_usd_per_kw_month) for s in state.sites if s.kind == "colo" and s.stage == "operating")
    service = 0
    for loan in state.loans:
        if loan.balance_cents > 0:
            service += quarterly_interest_cents(loan.balance_cents, loan.spread_bps, wq.sofr) + principal_due(loan, q)
    capex = 0
    for s in state.sites:
        if s.kind == "owned" and s.stage in ("interconnect", "construction") and not (wq.build_moratorium and s.stage == "interconnect"):
            remaining = s.stage_quarters_left + (rules.construction_quarters if s.stage == "interconnect" else 0)
            capex += max(0, (s.capex_shell_cents + s.capex_power_cents - s.capex_spent_cents) // max(1, remaining))
    projects = sum(rules.inference.roadmap[t][1] for t, left in state.inference.techniques.items() if left > 0 and t in rules.inference.roadmap)
    lines = [
        ("GPU rentals", rental_bill_cents(state, wq, rules)),
        ("GPU leases", to_cents(leases)),
        ("Colocation rent", to_cents(colo)),
        ("Debt service", service),
        ("Construction capex", capex),
        ("R&D and G&A overhead", to_cents(rules.rnd_usd_per_quarter + rules.ga_usd_per_quarter + projects)),
    ]
    return [(name, cents) for name, cents in lines if cents > 0]


def forecast(state: GameState, world: World, scenario: Scenario, plan: list) -> Forecast | None:
    """The plan's quarter at expected values (engine.step.advance, ``expected=True``); None once the game is over."""
    if state.game_over:
        return None
    return _expected_quarter(state, world, scenario, plan, copy_state(state))[0]


def _expected_quarter(state: GameState, world: World, scenario: Scenario, plan: list, trial: GameState):
    """(Forecast, the expected quarter's report); ``trial`` is the state with the plan applied."""
    from engine.step import _apply_actions, advance

    _apply_actions(trial, world, scenario, list(plan))
    after, report = advance(state, world, scenario, list(plan), expected=True)
    return Forecast(
        label=report.label, revenue_cents=report.income.revenue, ebitda_cents=report.income.ebitda,
        cash_after_plan_cents=trial.cash_cents, cash_end_cents=report.balance.cash, debt_service_cents=after.history[-1].debt_service_cents,
        dscr=report.kpis.dscr, dscr_lockup=scenario.rules.covenant_lockup_dscr, dscr_default=scenario.rules.covenant_default_dscr,
        bankrupt=report.bankrupt,
    ), report


def advise(state: GameState, world: World, scenario: Scenario, plan: list) -> Advice:
    """The coming quarter's risks for ``plan`` (a list of actions), worst first."""
    from engine.step import check_actions

    if state.game_over:
        return Advice(risks=(), forecast=None, bills=())
    results = check_actions(state, world, scenario, list(plan))
    trial = copy_state(state)
    fc, report = _expected_quarter(state, world, scenario, plan, trial)
    bills = committed_bills(trial, world, scenario)
    risks: list[Risk] = []
    risks += _rejected(results)
    risks += _cash(trial, bills, fc, report)
    risks += _covenant(state, fc)
    risks += _endings(trial, world)
    risks += _sla_and_capacity(trial, report)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    risks.sort(key=lambda r: order[r.severity])
    return Advice(risks=tuple(risks), forecast=fc, bills=tuple(bills), report=report)


# ---------------------------------------------------------------- the risks


def _rejected(results: list[ActionResult]) -> list[Risk]:
    return [Risk("rejected", "warning", f"Not done: {r.action.get('kind', 'action')}: {r.message}", subject=f"plan:{i}")
            for i, r in enumerate(results) if not r.ok]


def _cash(trial: GameState, bills: list[tuple[str, int]], fc: Forecast, report) -> list[Risk]:
    out = []
    cash = trial.cash_cents
    total = sum(c for _, c in bills)
    credit = available_credit_cents(trial)
    named = ", ".join(f"{name} {fmt_usd(c)}" for name, c in sorted(bills, key=lambda b: -b[1])[:4])
    if fc.cash_end_cents < 0:
        out.append(Risk(
            "cash", "critical",
            f"Out of cash: at expected demand the quarter ends at {fmt_usd(fc.cash_end_cents)}, and a company out of cash is "
            f"bankrupt. Committed bills: {fmt_usd(total)} ({named}) against {fmt_usd(cash)} of cash after the plan"
            + (f"; lenders offer {fmt_usd(credit)}" if credit else "") + ".",
            (("cash_after_plan_cents", cash), ("bills_cents", total), ("cash_end_cents", fc.cash_end_cents), ("credit_cents", credit)),
            "cash",
        ))
    elif total > cash:
        out.append(Risk(
            "cash", "warning",
            f"Committed bills of {fmt_usd(total)} ({named}) exceed the {fmt_usd(cash)} of cash after the plan by "
            f"{fmt_usd(total - cash)}: the quarter's revenue must arrive to pay them (expected end cash {fmt_usd(fc.cash_end_cents)}).",
            (("cash_after_plan_cents", cash), ("bills_cents", total), ("cash_end_cents", fc.cash_end_cents), ("credit_cents", credit)),
            "cash",
        ))
    inc = report.income
    burn = -(inc.ebitda - inc.interest - inc.tax)
    if fc.cash_end_cents >= 0 and burn > 0 and fc.cash_end_cents / burn < RUNWAY_WARN_QUARTERS:
        runway = fc.cash_end_cents / burn
        out.append(Risk(
            "runway", "critical" if runway < 1 else "warning",
            f"Runway: at the expected burn of {fmt_usd(burn)} a quarter, cash lasts about {runway:.1f} quarters after this one.",
            (("runway_quarters", runway), ("burn_cents", burn), ("cash_end_cents", fc.cash_end_cents)),
            "cash",
        ))
    return out


def _covenant(state: GameState, fc: Forecast) -> list[Risk]:
    out = []
    if fc.dscr is not None and fc.dscr < fc.dscr_lockup:
        default = fc.dscr < fc.dscr_default
        out.append(Risk(
            "covenant", "critical" if default else "warning",
            f"Covenant: the projected trailing DSCR after this quarter is {fc.dscr:.2f}x, below the "
            f"{'default' if default else 'lock-up'} level ({fc.dscr_lockup:.2f}x lock-up, {fc.dscr_default:.2f}x default)"
            + (": an event of default." if default else ": no new debt and a cash sweep."),
            (("dscr", fc.dscr), ("lockup", fc.dscr_lockup), ("default", fc.dscr_default)),
            "covenant",
        ))
    if state.cure_due:
        out.append(Risk("covenant", "critical", "An equity cure is due this quarter: raise equity, or the lenders accelerate every loan.",
                        subject="covenant"))
    return out


def _when(state: GameState, world: World, end: int) -> str:
    """When a term that ends before quarter ``end`` (exclusive) stops, in the player's words."""
    if end <= state.quarter:
        return "ends as this quarter starts"
    last = world.label(end - 1) if end - 1 < world.n_quarters else f"quarter {end}"
    return f"ends after {last}" + (" (this quarter)" if end == state.quarter + 1 else "")


def _endings(state: GameState, world: World) -> list[Risk]:
    """Contracts, GPU leases, colo terms and loans that end within two quarters, and what ends with them."""
    q = state.quarter
    out = []
    horizon = q + HORIZON_QUARTERS
    for lot in state.lots:
        if lot.ownership != "leased" or lot.status != "active" or lot.lease_end_quarter > horizon or renewal_of(state, lot) is not None:
            continue  # a renewed lease does not end
        gen, end = lot.gen, lot.lease_end_quarter
        left = max(active_gpus(state, gen, end) - 0, 0)  # in service once it is gone
        need_contracts = committed_gpus(state, gen, end)
        need_replicas = inference.gpus_in_use(state.inference, gen)
        pool_after = (max(0, left - need_contracts) if state.archetype == "inference" else min(state.inference.dedicated.get(gen, 0), left)) \
            + state.inference.on_demand.get(gen, 0) + state.inference.spot.get(gen, 0)
        short_replicas = max(0, need_replicas - pool_after)
        on_gen = [d for d in state.inference.deployments if d.gen == gen]
        replicas = sum(d.replicas for d in on_gen)
        replicas_lost = min(replicas, -(-short_replicas * replicas // need_replicas)) if short_replicas else 0  # at the average replica size
        short_contracts = max(0, need_contracts - left)
        consequence = []
        if short_replicas:
            consequence.append(f"your models would lack {short_replicas:,} {gen.upper()} (about {replicas_lost:,} of {replicas:,} replicas)")
        if short_contracts:
            consequence.append(f"signed contracts would be {short_contracts:,} {gen.upper()} short (SLA credits)")
        severe = bool(consequence)
        out.append(Risk(
            "ending", "critical" if severe and end <= q + 1 else ("warning" if severe else "info"),
            f"GPU lease {lot.id} on {lot.count:,} {gen.upper()} {_when(state, world, end)}"
            + (f": {'; '.join(consequence)}. Renew the lease or rent GPUs." if consequence else ": the GPUs go back to the lessor unless you renew it."),
            (("gpus", lot.count), ("end_quarter", end), ("replicas_short_gpus", short_replicas), ("contract_short_gpus", short_contracts)),
            f"lease:{lot.id}",
        ))
    for c in state.contracts:
        if c.status != "active" or c.end_quarter > horizon or any(o.id == renewal_offer_id(c.id) for o in state.contracts):
            continue  # a renewed contract does not end
        per_q = to_cents(c.gpus * c.usd_per_gpu_hour * TICKS_PER_QUARTER)
        out.append(Risk(
            "ending", "warning" if c.end_quarter <= q + 1 else "info",
            f"{c.customer}'s contract on {c.gpus:,} {c.gen.upper()} {_when(state, world, c.end_quarter)}: {fmt_usd(per_q)} a quarter of "
            f"take-or-pay revenue ends with it unless you sign its renewal offer (k) or resell the GPUs.",
            (("revenue_per_quarter_cents", per_q), ("gpus", c.gpus), ("end_quarter", c.end_quarter)),
            f"contract:{c.id}",
        ))
    for s in state.sites:
        if s.kind != "colo" or s.stage == "released" or not (q < s.lease_end_quarter <= horizon):
            continue
        out.append(Risk(
            "ending", "info",
            f"Colo site {s.name}'s committed term {_when(state, world, s.lease_end_quarter)}: the site stays, rent continues, and it "
            "can then be released without paying rent still owed.",
            (("mw", s.mw), ("end_quarter", s.lease_end_quarter)),
            f"colo:{s.id}",
        ))
    for loan in state.loans:
        maturity = loan.start_quarter + loan.tenor_quarters
        if loan.balance_cents <= 0 or maturity > horizon:
            continue
        balloon = balloon_at_maturity_cents(loan, q)
        text = (f"Loan {loan.id} from {loan.lender} matures with a {fmt_usd(balloon)} balloon due {_when(state, world, maturity).replace('ends ', '')}: "
                "the lenders refinance it only as far as the lock-up covenant passes at that quarter's rates (none in lock-up); "
                "cash repays the rest, and what cash cannot is a payment default." if balloon > 0 else
                f"Loan {loan.id} from {loan.lender} matures: {fmt_usd(loan.balance_cents)} outstanding is due {_when(state, world, maturity).replace('ends ', '')}.")
        out.append(Risk(
            "ending", "warning" if maturity <= q + 1 or balloon > 0 else "info", text,
            (("balance_cents", loan.balance_cents), ("balloon_cents", balloon), ("end_quarter", maturity)),
            f"loan:{loan.id}",
        ))
    return out


def _sla_and_capacity(state: GameState, report) -> list[Risk]:
    """SLA risks and capacity shortfalls of the expected quarter (engine.step's serving, at expected demand)."""
    q = state.quarter
    out = []
    for gen in GPU_ORDER:
        committed = committed_gpus(state, gen, q)
        have = active_gpus(state, gen, q)
        if committed > have:
            out.append(Risk(
                "sla", "critical",
                f"SLA: contracts need {committed:,} {gen.upper()} this quarter and {have:,} are in service: customers get credits "
                "for the shortfall. Lease or buy GPUs that arrive now.",
                (("contracted_gpus", committed), ("gpus_in_service", have)),
                f"gen:{gen}",
            ))
    for g in report.kpis.by_gen:
        served = sum(g.served_gpu_hours.get(k, 0.0) for k in ("on_demand", "batch"))
        demand = served + g.lost_gpu_hours
        if demand > 0 and g.lost_gpu_hours / demand > TURNED_AWAY_WARN:
            share = g.lost_gpu_hours / demand
            out.append(Risk(
                "capacity", "info",
                f"Capacity: at expected demand about {share:.0%} of {g.gen.upper()} on-demand and batch demand at your price is turned away "
                f"({g.lost_gpu_hours:,.0f} GPU-hours).",
                (("turned_away_share", share), ("lost_gpu_hours", g.lost_gpu_hours)),
                f"gen:{g.gen}",
            ))
    inf = report.inference
    if inf is not None:
        for m in inf.models:
            d = state.inference.deployment(m.model)
            if d is not None and m.replicas < d.replicas:
                out.append(Risk(
                    "capacity", "critical",
                    f"Capacity: {m.model} has GPUs for only {m.replicas} of its {d.replicas} replicas this quarter; rent or lease more {d.gen.upper()}.",
                    (("replicas", m.replicas), ("replicas_planned", d.replicas)),
                    f"model:{m.model}",
                ))
            if m.dropped_share > DROPPED_WARN:
                out.append(Risk(
                    "sla", "warning",
                    f"SLA: at expected demand {m.model} turns away about {m.dropped_share:.0%} of real-time requests at peak "
                    f"(p95 needs {m.replicas_needed_p95:,.1f} replicas, {m.replicas} run); customers churn when SLAs slip.",
                    (("dropped_share", m.dropped_share), ("replicas_needed_p95", m.replicas_needed_p95), ("replicas", m.replicas)),
                    f"model:{m.model}",
                ))
            if not m.ttft_sla_met:
                out.append(Risk(
                    "sla", "warning",
                    f"SLA: {m.model}'s p95 time to first token would be {m.p95_ttft_ms:,.0f} ms, over the SLA: add replicas "
                    "(more prefill capacity) or lower the load with price.",
                    (("p95_ttft_ms", m.p95_ttft_ms),),
                    f"model:{m.model}",
                ))
    return out


# ---------------------------------------------------------------- decision aids (the forms read these)


def payback_quarters(wq, rules, gen: str, unit_cost_cents: int, utilization: float) -> float | None:
    """Quarters for one owned GPU to repay its all-in price from its cash margin at today's market:
    (on-demand price x utilization - power and operations per hour) x hours in a quarter (KB §3
    payback; the market's cash floor is power + operations, engine.world.cash_floor_per_hour).
    None when the margin is not positive: at today's prices it never pays back."""
    m = wq.gpus[gen]
    margin = (m.on_demand_usd_per_hour * utilization - m.cash_floor_usd_per_hour) * TICKS_PER_QUARTER
    if margin <= 0:
        return None
    return unit_cost_cents / 100 / margin


def technique_gain(state: GameState, params, deployment, technique: str) -> tuple[float, float] | None:
    """(output tokens/s per replica now, with ``technique`` live) for a deployment, at its TPOT target
    and the sizing context (engine.inference.replica_capacity, KB §17). None if already live or infeasible."""
    from engine.physics import PhysicsError

    stack = state.inference.stack()
    if getattr(stack, technique, True):
        return None
    d = deployment
    try:
        now = inference.replica_capacity(d.model, d.gen, d.gpus_per_replica, d.precision, stack, inference.SIZING_CONTEXT, d.tpot_ms, inference.SIZING_CONTEXT)[0]
        then = inference.replica_capacity(d.model, d.gen, d.gpus_per_replica, d.precision, stack.with_(technique), inference.SIZING_CONTEXT, d.tpot_ms, inference.SIZING_CONTEXT)[0]
    except (PhysicsError, inference.Rejected):
        return None
    return now, then
