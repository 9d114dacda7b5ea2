"""One quarter of the neocloud company: the single entry point that advances the game.

``advance(state, world, scenario, actions)`` returns a new state and the quarter report and
changes nothing else. Inside the quarter the business is simulated on numpy arrays over the
2,184 hourly ticks: capacity, demand by segment, served GPU-hours, the batch queue, spot fill.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ValidationError

from engine import actions as act
from engine import inference
from engine.calendar import TICKS_PER_QUARTER, parse_quarter, quarter_label
from engine.demand import DemandArrays, batch_queue, customer_base_step, demand_share, segment_demand, segment_level
from engine.economics import power_cost_per_gpu_hour
from engine.finance import forward_rates, present_value
from engine.equity import equity_offers, founder_ownership, stage_for_revenue
from engine.hardware import GPU_ORDER, GPUS
from engine.leases import colo_rent_usd, incremental_borrowing_rate, lease_payment_usd, total_lease_liability_cents
from engine.lenders import (
    PREPAYMENT_FEE, balloon_due_cents, dscr_without_debt, equity_cure_cents, loan_from_offer, loan_offers, principal_due, quarterly_interest_cents, trailing_dscr,
    refinancing_offer, venture_debt_offer,
)
from engine.market import market_view
from engine.money import fmt_usd, to_cents
from engine.physics import POWER_SHARE_OF_TDP
from engine.report import ActionResult, GenKpis, Kpis, News, QuarterReport, fleet_economics
from engine.rng import stream
from engine import valuation
from engine.scenario import Scenario
from engine.score import ScoreBreakdown, score
from engine.state import (
    Contract,
    ContractOfferState,
    GameState,
    GpuLot,
    Holder,
    Loan,
    QuarterRecord,
    Site,
    copy_model,
    copy_state,
    prune_ended,
    state_hash,
)
from engine.statements import balance_sheet, cash_flow_statement, income_statement
from engine.world import RESERVED_TERMS, World, WorldQuarter, contract_offer_price, premium_trend, spot_take_rate

T = TICKS_PER_QUARTER
BATCH_PRICE_SHARE = 0.5  # KB §1: batch sells 40-50% below real-time
SPOT_ENABLED_DEFAULT = True
MAX_SHARE_GAIN = 2.0  # pricing below the market at most doubles our share of a segment


# ------------------------------------------------------------------------------ new game


def new_game(scenario: Scenario, world: World, seed: int) -> GameState:
    """The opening state: the scenario's company with its books opened in balance."""
    c = scenario.company
    rules = scenario.rules
    wq = world.quarter(0)
    state = GameState(
        scenario_id=scenario.id, seed=seed, start=scenario.start, quarters=scenario.quarters,
        company_name=c.name, stage=c.stage, archetype=scenario.archetype,
    )
    led = state.ledger
    opening: list[tuple[str, int]] = [("cash", to_cents(c.cash_usd))]
    for s in c.sites:
        site = Site(
            id=s.id, name=s.name, kind=s.kind, mw=s.mw, pue=s.pue, power_source=s.power_source, stage="operating",
            opened_quarter=-s.age_quarters,
            colo_usd_per_kw_month=(s.colo_usd_per_kw_month or wq.colo_usd_per_kw_month) if s.kind == "colo" else None,
        )
        if s.kind == "colo":  # the committed term runs from the start of the game (engine.leases)
            site.lease_end_quarter = rules.colo_term_quarters
            site.lease_discount_rate = incremental_borrowing_rate(wq.sofr, wq.spread_sub_ig_bps)
        if s.kind == "owned":
            site.capex_shell_cents = to_cents(s.mw * rules.build_shell_usd_per_mw)
            site.capex_power_cents = to_cents(s.mw * rules.build_power_usd_per_mw)
            site.capex_spent_cents = site.capex_shell_cents + site.capex_power_cents
            site.dep_shell_cents = min(site.capex_shell_cents, round(site.capex_shell_cents * s.age_quarters / (rules.shell_life_years * 4)))
            site.dep_power_cents = min(site.capex_power_cents, round(site.capex_power_cents * s.age_quarters / (rules.power_life_years * 4)))
            opening += [
                ("site_shell", site.capex_shell_cents), ("site_power", site.capex_power_cents),
                ("site_accum_dep", -(site.dep_shell_cents + site.dep_power_cents)),
            ]
        state.sites.append(site)
    life = round(rules.gpu_life_years * 4)
    for lot in c.lots:
        if lot.ownership == "owned":
            unit = to_cents(lot.unit_cost_usd) if lot.unit_cost_usd else act.owned_unit_cost_cents(wq, rules, lot.gen)
            cost = unit * lot.count
            dep = min(cost, cost * lot.age_quarters // life)
            state.lots.append(GpuLot(
                id=state.new_id("L"), gen=lot.gen, count=lot.count, ownership="owned", status="active", site_id=lot.site,
                ordered_quarter=-lot.age_quarters - 1, arrives_quarter=-lot.age_quarters, unit_cost_cents=unit,
                cost_cents=cost, accum_dep_cents=dep, life_quarters=life,
            ))
            opening += [("gpu_equipment", cost), ("gpu_accum_dep", -dep)]
        else:
            state.lots.append(GpuLot(
                id=state.new_id("L"), gen=lot.gen, count=lot.count, ownership="leased", status="active",
                ordered_quarter=-1, arrives_quarter=0, lease_usd_per_hour=lot.lease_usd_per_hour or 0.0,
                lease_end_quarter=lot.lease_quarters_left or 4,
                lease_discount_rate=incremental_borrowing_rate(wq.sofr, wq.spread_sub_ig_bps),
            ))
    for i, k in enumerate(c.contracts):
        state.contracts.append(Contract(
            id=f"C0-{i + 1}", customer=k.customer, segment=k.segment, gen=k.gen, gpus=k.gpus,
            term_quarters=k.quarters_left, usd_per_gpu_hour=k.usd_per_gpu_hour, grade=k.grade,
            start_quarter=0, end_quarter=k.quarters_left,
        ))
    debt = 0
    for ln in c.loans:
        cents = to_cents(ln.balance_usd)
        debt += cents
        balloon = round(cents * ln.balloon_share)
        state.loans.append(Loan(
            id=state.new_id("D"), lender=ln.lender, kind="term", principal_cents=cents, balance_cents=cents,
            spread_bps=ln.spread_bps, tenor_quarters=ln.quarters_left, start_quarter=0,
            scheduled_principal_cents=-(-(cents - balloon) // ln.quarters_left), balloon_cents=balloon,
        ))
    if debt:
        opening.append(("debt", -debt))
    leases = total_lease_liability_cents(state.lots, 0, state.sites)
    if leases:
        opening += [("rou_asset", leases), ("lease_liability", -leases)]
    equity = sum(cents for _, cents in opening)
    opening.append(("paid_in_capital", -equity))
    led.post("Opening balance", opening, "financing")
    led.cash_flows = {}
    state.cap_table = [Holder(name="Founders", kind="founders", shares=c.founder_shares)]
    if c.investor_shares:
        state.cap_table.append(Holder(name="Earlier investors", kind="investor", shares=c.investor_shares))
    inf = state.inference
    inf.techniques = {t: 0 for t in c.techniques}
    for d in c.deployments:
        n = inference.replica_size(d.model, d.gen, d.precision, inf.stack(), d.tpot_ms)
        inf.deployments.append(inference.Deployment(
            model=d.model, gen=d.gen, precision=d.precision, replicas=d.replicas, gpus_per_replica=n, tpot_ms=d.tpot_ms,
            deployed_quarter=-1,
        ))
    state.offers.contracts = _contract_offers(world, 0) + renewal_offers(state, world)
    state.offers.loans = loan_offers(state, wq, rules)
    state.start_value_cents = _start_value(state, world, scenario)
    return state


def _start_value(state: GameState, world: World, scenario: Scenario) -> int:
    """The founders' stake as the engine itself values the company after one quarter of no
    decisions: the yardstick every verdict is measured against, so that doing nothing reads as
    treading water, never as success (and the scenario's story cannot disagree with the engine)."""
    if state.quarters <= 0:
        return 0
    _, report = advance(state, world, scenario, [])
    return report.score.score_cents


def renewal_offers(state: GameState, world: World) -> list[ContractOfferState]:
    """A customer whose contract ends within two quarters may offer to renew it (issue 11, renewals):
    the same GPUs and term (the nearest reserved term), from the quarter it ends, at the price a
    new customer of its term would be offered today (engine.world.contract_offer_price, no haggle).
    Whether it wants to renew is one keyed draw per contract against its segment's appetite for
    contracts (KB §1: enterprises sign and renew, hobbyists rarely); a renewal is offered each
    quarter of the window until it is signed or the contract ends."""
    q = state.quarter
    if q >= world.n_quarters:
        return []
    wq = world.quarter(q)
    appetite = {seg.id: seg.contract_appetite for seg in world.params.segments}
    signed = {o.id for o in state.contracts}
    out = []
    for c in state.contracts:
        if c.status != "active" or not (q < c.end_quarter <= q + act.RENEWAL_WINDOW_QUARTERS) or c.gen not in wq.gpus:
            continue
        if act.renewal_offer_id(c.id) in signed:
            continue  # already renewed
        if stream(state.seed, "renewal", c.end_quarter, _numeric(c.id)).random() >= appetite.get(c.segment, 0.5):
            continue  # this customer moves on
        term = min(RESERVED_TERMS, key=lambda t: (abs(t - c.term_quarters), t))
        price = contract_offer_price(wq.gpus[c.gen], term, world.params.contract_margin_over_cost[term])
        out.append(ContractOfferState(
            id=act.renewal_offer_id(c.id), customer=c.customer, segment=c.segment, gen=c.gen, gpus=c.gpus, term_quarters=term,
            usd_per_gpu_hour=round(price, 4), grade=c.grade,
        ))
    return out


def _contract_offers(world: World, q: int) -> list[ContractOfferState]:
    if q >= world.n_quarters:
        return []
    return [
        ContractOfferState(
            id=o.id, customer=o.customer, segment=o.segment, gen=o.gen, gpus=o.gpus, term_quarters=o.term_quarters,
            usd_per_gpu_hour=o.usd_per_gpu_hour, grade=o.grade,
        )
        for o in world.quarter(q).offers
    ]


# ------------------------------------------------------------------------------ checks


def check_actions(state: GameState, world: World, scenario: Scenario, actions: list) -> list[ActionResult]:
    """Dry-run a turn plan on a copy: which actions would pass, with their reasons. Changes nothing."""
    trial = copy_state(state)
    return _apply_actions(trial, world, scenario, actions)


def json_safe(value: object, depth: int = 0) -> object:
    """An action as submitted, made fit for a report or a run file (issue 10): non-finite floats
    become strings ("nan"), keys strings, anything JSON cannot hold its repr (cut at 200 chars)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth < 20 and isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if depth < 20 and isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return repr(value)[:200]


def _apply_actions(state: GameState, world: World, scenario: Scenario, actions: list) -> list[ActionResult]:
    wq = world.quarter(state.quarter)
    results = []
    for raw in actions:
        if isinstance(raw, BaseModel) and getattr(raw, "kind", None) in act.ACTION_KINDS:
            raw = raw.model_dump(mode="python")  # validated again: model_construct skips the bounds
        if not isinstance(raw, dict):
            results.append(ActionResult(action={"value": repr(raw)[:200]}, ok=False, message="an action is an object with a 'kind'"))
            continue
        if raw.get("kind") not in act.ACTION_KINDS:
            what = f"invalid kind {json_safe(raw.get('kind'))!r}" if "kind" in raw else "an action is an object with a 'kind'"
            results.append(ActionResult(action=json_safe(raw), ok=False, message=f"{what}; valid: {', '.join(act.ACTION_KINDS)}"))
            continue
        try:
            action = act.parse_action(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "action"
            results.append(ActionResult(action=json_safe(raw), ok=False, message=f"invalid {where}: {err.get('msg')}"))
            continue
        data = act.action_to_dict(action)
        try:
            act.check(state, wq, scenario.rules, action)
        except act.Rejected as exc:
            results.append(ActionResult(action=data, ok=False, message=str(exc)))
            continue
        results.append(ActionResult(action=data, ok=True, message=act.execute(state, wq, scenario.rules, action)))
    return results


# ------------------------------------------------------------------------------ the quarter


def advance(state: GameState, world: World, scenario: Scenario, actions: list, expected: bool = False) -> tuple[GameState, QuarterReport]:
    """Play one quarter. The input state is not modified.

    ``expected=True`` plays it at expected values (issue 11, the forecast): demand at its trend
    level with no hourly noise or spikes, and none of the quarter's random draws (GPU failures,
    grid outages, customer defaults, construction delays, spot reclaims come at their average)."""
    return close_quarter(open_quarter(state, world, scenario, actions, expected))


@dataclass
class OpenQuarter:
    """A quarter opened but not yet cleared: the actions applied, deliveries and contract ends
    done, the rental fleet's capacity per tick known (``fleet``), its demand not yet served.
    An industry (engine.industry) opens every company's quarter, clears the market among them,
    then closes each; a single company's ``advance`` closes it at once against the world alone."""

    state: GameState
    world: World
    scenario: Scenario
    results: list
    news: list
    warnings: list
    cash_begin: int
    equity_raised: int
    fleet: dict[str, dict]
    expected: bool = False


def open_quarter(state: GameState, world: World, scenario: Scenario, actions: list, expected: bool = False) -> OpenQuarter:
    """The first half of ``advance``: everything before the market is served."""
    if state.game_over:
        raise ValueError("the game is over; no more quarters can be played")
    s = copy_state(state)
    q = s.quarter
    wq = world.quarter(q)
    led = s.ledger
    cash_begin = led.balances["cash"]
    news: list[News] = [News(title=e.title, text=e.text, kind="world", event=e.kind) for e in wq.events]
    warnings: list[str] = []
    results = _apply_actions(s, world, scenario, actions)
    equity_raised = sum(v for k, v in led.cash_flows.items() if k == "financing:Equity raised")

    if expected:
        world = ExpectedWorld(world)
    _start_of_quarter(s, world, news, warnings, expected)
    fleet = _rental_fleet(s, world, scenario, expected)
    return OpenQuarter(s, world, scenario, results, news, warnings, cash_begin, equity_raised, fleet, expected)


def close_quarter(oq: OpenQuarter, clearing: dict | None = None) -> tuple[GameState, QuarterReport]:
    """The second half of ``advance``: serve the demand (the world's, or this company's slice of
    it when ``clearing`` holds an industry's allocation per generation), then the books."""
    s, world, scenario = oq.state, oq.world, oq.scenario
    results, news, warnings, cash_begin, equity_raised = oq.results, oq.news, oq.warnings, oq.cash_begin, oq.equity_raised
    expected = oq.expected
    rules = scenario.rules
    q = s.quarter
    wq = world.quarter(q)
    led = s.ledger
    served = _serve(s, world, scenario, news, oq.fleet, clearing)
    inf_result = _serve_inference(s, world, scenario, news, expected, (clearing or {}).get("tokens"))
    _post_operations(s, world, scenario, served, inf_result)
    _progress_sites(s, world, scenario, news, expected)
    served.drivers.update(_depreciate(s, scenario))
    _impair(s, wq)
    _amortize_debt_discount(s)
    debt_service, interest = _service_debt(s, wq)
    _remeasure_leases(s)
    tax = _tax(s, rules)
    balloon_due, refinanced, unpaid = _balloons(s, wq, rules, news)

    inc = income_statement(led)
    contracted_rev = -led.balances["rev_reserved"]
    record = QuarterRecord(
        quarter=q, revenue_cents=inc.revenue, contracted_revenue_cents=contracted_rev, ebitda_cents=inc.ebitda,
        cash_taxes_cents=tax, cfads_cents=inc.ebitda - tax, debt_service_cents=debt_service,
        equity_cure_cents=equity_raised if s.cure_due else 0,
        token_revenue_cents=-led.balances["rev_tokens"], depreciation_cents=inc.depreciation,
        cash_gross_profit_cents=inc.gross_profit + inc.cogs_depreciation, gpus_in_service=_gpus_in_service(s, served),
        capex_cents=-sum(v for k, v in led.cash_flows.items() if k.startswith("investing:") and v < 0),
        balloon_due_cents=balloon_due, refinanced_cents=refinanced, balloon_unpaid_cents=unpaid,
    )
    s.history.append(record)
    dscr_value = _covenant(s, scenario, news, warnings)
    if unpaid > 0:
        _maturity_default(s, unpaid, news, warnings)
    inc = income_statement(led)
    bal = balance_sheet(led)
    cfs = cash_flow_statement(led, cash_begin, inc)
    if bal.cash < 0 and not s.game_over:
        s.game_over = s.bankrupt = True
        s.end_reason = f"Out of cash: the quarter ended at {fmt_usd(bal.cash)}. Nobody would fund the gap."
        news.append(News(title="Bankrupt", text=s.end_reason))
    led.close_period()

    s.stage = stage_for_revenue(inc.revenue * 4, s.stage)
    s.quarter = q + 1
    if s.quarter >= s.quarters and not s.game_over:
        s.game_over = True
        s.end_reason = f"The board's {s.quarters}-quarter plan is complete."
    contracted_share = contracted_rev / inc.revenue if inc.revenue > 0 else 0.0
    sc = _score(s, world)
    if not s.game_over:
        nq = world.quarter(s.quarter)
        s.offers.contracts = _contract_offers(world, s.quarter)  # an inference platform's are dedicated deployments
        if not expected:  # next quarter's offers are no part of a forecast, and renewals draw a number
            s.offers.contracts += renewal_offers(s, world)
        s.offers.loans = loan_offers(s, nq, rules)
        venture = venture_debt_offer(s, nq, sc.equity_value_cents)
        if venture is not None:
            s.offers.loans.append(venture)
        s.offers.equity = equity_offers(s, nq, rules, sc.equity_value_cents)
        news += market_headlines(wq, nq)  # what the Market screen shows from now, announced the quarter it starts
    else:
        s.offers.contracts, s.offers.loans, s.offers.equity = [], [], []
    warnings += _warnings(s, inc, bal, scenario)
    kpis = _kpis(s, inc, bal, served, dscr_value, contracted_share, scenario, world, inf_result)
    prune_ended(s)  # after everything this quarter reads them, before the hash
    report = QuarterReport(
        quarter=q, label=wq.label, actions=results, income=inc, balance=bal, cash_flow=cfs, kpis=kpis,
        market=market_view(wq), news=news, warnings=warnings, offers=copy_model(s.offers), score=sc, inference=inf_result,
        game_over=s.game_over, bankrupt=s.bankrupt, end_reason=s.end_reason, state_hash=state_hash(s),
    )
    return s, report


def _gpus_in_service(s: GameState, served: "Served") -> float:
    """GPUs earning this quarter: the rental fleet (after failures and outages) and the GPUs
    serving tokens (owned, reserved or rented)."""
    rental = sum(float(r["cap"].mean()) for r in served.by_gen.values())
    return rental + sum(inference.pool_gpus(s, g) for g in GPU_ORDER)


def _remeasure_leases(s: GameState) -> None:
    """Lease liabilities (GPU leases, colo terms) at the discounted payments still owed after this
    quarter (ASC 842 / IFRS 16); the right-of-use asset moves with them (engine.leases)."""
    target = total_lease_liability_cents(s.lots, s.quarter + 1, s.sites)
    change = target - s.lease_liability_cents
    if change:
        s.ledger.post("Lease liabilities remeasured", [("rou_asset", change), ("lease_liability", -change)])


def _score(s: GameState, world: World) -> ScoreBreakdown:
    """The founders' stake: engine.valuation's enterprise value less debt and lease liabilities."""
    q = s.quarter - 1  # the quarter just played
    wq = world.quarter(q)
    multiples = [(world.quarter(i).infra_revenue_multiple, world.quarter(i).software_revenue_multiple) for i in range(max(0, q - 3), q + 1)]
    v = valuation.value(
        s.history, s.contracts, s.quarter, multiples, wq.sofr + wq.spread_ig_bps / 10_000,
        _liquidation_value(s, wq), _capital_not_yet_earning(s, q),
    )

    def at(ownership: float) -> ScoreBreakdown:
        return score(v, s.debt_cents, s.lease_liability_cents, s.cash_cents, ownership, s.start_value_cents, s.bankrupt, s.end_reason)

    # warrants dilute by the treasury-stock method at the share price the equity value implies
    return at(founder_ownership(s.cap_table, at(1.0).equity_value_cents))


def _liquidation_value(s: GameState, wq) -> int:
    """What the owned fleet fetches on the secondary market today, plus the sites at book: the
    floor under enterprise value (a fire sale converts exactly this into cash)."""
    gpus = sum(to_cents(wq.gpus[l.gen].secondary_usd) * l.count for l in s.lots if l.ownership == "owned" and l.status == "active")
    sites = sum(st.capex_shell_cents + st.capex_power_cents - st.dep_shell_cents - st.dep_power_cents
                for st in s.sites if st.kind == "owned" and st.stage == "operating")
    return gpus + sites


def _capital_not_yet_earning(s: GameState, q: int) -> int:
    """Cash already invested that the trailing results cannot show yet, at book: GPU deposits,
    construction in progress, and the share of newly delivered GPUs' book value for the quarters
    of the trailing window they were not yet running."""
    b = s.ledger.balances
    first = max(0, q - 3)
    window = q - first + 1
    new = 0
    for lot in s.lots:
        if lot.ownership == "owned" and lot.status == "active" and lot.arrives_quarter > first:
            earned = max(0, q - lot.arrives_quarter + 1)
            new += (lot.cost_cents - lot.accum_dep_cents) * (window - earned) // window
    return b["gpu_deposits"] + b["site_cip"] + new


def _start_of_quarter(s: GameState, world: World, news: list[News], warnings: list[str], expected: bool = False) -> None:
    q = s.quarter
    wq = world.quarter(q)
    for lot in s.lots:
        if lot.status == "on_order" and lot.arrives_quarter <= q:
            site = s.site(lot.site_id or "")
            if site is not None and site.stage == "operating":
                lot.status = "active"
                s.ledger.post("GPU delivery", [("gpu_equipment", lot.cost_cents), ("gpu_deposits", -lot.cost_cents)])
                news.append(News(title="GPUs delivered", text=f"{lot.count:,} {lot.gen.upper()} ({lot.id}) went live at {site.name}."))
            else:
                name = site.name if site else lot.site_id
                warnings.append(f"{lot.count:,} {lot.gen.upper()} ({lot.id}) are waiting in a warehouse: site {name} is not operating yet.")
        if lot.ownership == "leased" and lot.status == "active" and lot.lease_end_quarter <= q:
            lot.status = "closed"
            news.append(News(title="Lease ended", text=f"The lease on {lot.count:,} {lot.gen.upper()} ({lot.id}) ended; the GPUs went back."))
    for c in s.contracts:
        if c.status == "active" and c.end_quarter <= q:
            c.status = "ended"
            news.append(News(title="Contract ended", text=f"{c.customer}'s {c.gpus:,} {c.gen.upper()} contract ran its term."))
    for c in s.contracts:
        if expected or c.status != "active" or c.grade in ("AA", "A", "BBB") or c.start_quarter == q:
            continue
        draw = stream(s.seed, "customer-default", q, _numeric(c.id)).random()
        if draw < wq.sub_ig_default_prob:
            c.status = "defaulted"
            news.append(News(
                title="Customer default",
                text=f"{c.customer} ({c.grade}) stopped paying: {c.gpus:,} {c.gen.upper()} are back on the open market. "
                "Sub-investment-grade contracts carry this risk; lenders discount them for it.",
            ))


# events whose effect is on the Market screen from the quarter they start (spikes and outages are surprises)
MARKET_VISIBLE_EVENTS = ("supply_shock", "price_war", "rate_shock", "power_moratorium", "customer_default", "generation_launch")
PRICE_MOVE_HEADLINE = 0.10  # a quarter-on-quarter price move the player should hear about (issue 11, item 9)


def market_headlines(before: WorldQuarter | None, now: WorldQuarter) -> list[News]:
    """Headlines for the market the player now sees: events that start in ``now`` and prices that moved
    more than 10% since ``before`` (GPU on-demand rates per generation, token prices per tier).

    Announced in the report that opens the quarter (the Market screen shows the same numbers), not a
    quarter later; kind "market" so the record of what happened (kind "world") stays where it was.
    """
    out = [News(title=f"Starting now: {e.title}", text=e.text, kind="market", event=e.kind)
           for e in now.events if e.kind in MARKET_VISIBLE_EVENTS]
    if before is None:
        return out
    moves = []
    for g, m in now.gpus.items():
        b = before.gpus.get(g)
        if b is None or not (m.available and b.available) or b.on_demand_usd_per_hour <= 0:
            continue
        change = m.on_demand_usd_per_hour / b.on_demand_usd_per_hour - 1
        if abs(change) > PRICE_MOVE_HEADLINE:
            moves.append(f"{g.upper()} on-demand ${b.on_demand_usd_per_hour:.2f} → ${m.on_demand_usd_per_hour:.2f}/h ({change:+.0%})")
    for tier, price in now.token_usd_per_m.items():
        b = before.token_usd_per_m.get(tier)
        if not b or b <= 0:
            continue
        change = price / b - 1
        if abs(change) > PRICE_MOVE_HEADLINE:
            moves.append(f"{tier} tokens ${b:.3f} → ${price:.3f}/M ({change:+.0%})")
    if moves:
        out.append(News(title=f"Prices moved in {now.label}", text="; ".join(moves) + ". Your prices are set against the market, so they move with it; signed contracts and leases do not.",
                        kind="market", event="price_move"))
    return out


def news_to_show(report: QuarterReport, previous: QuarterReport | None) -> list[News]:
    """A report's news without the world events the previous report already announced as "Starting now"
    (the record keeps both; the player reads each headline once)."""
    told = {n.title.removeprefix("Starting now: ") for n in (previous.news if previous else []) if n.kind == "market"}
    return [n for n in report.news if not (n.kind == "world" and n.title in told)]


def _numeric(ident: str) -> int:
    return int("".join(ch for ch in ident if ch.isdigit()) or 0)


class ExpectedWorld:
    """The world at expected values (issue 11, the forecast): the same markets and prices, and each
    segment's demand at its trend level, without the quarter's level wobble, hourly noise or spikes."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._demand: dict[int, DemandArrays] = {}

    def __getattr__(self, name: str):
        return getattr(self._world, name)

    def quarter(self, q: int) -> WorldQuarter:
        """The quarter's markets, with the share of idle GPUs spot buyers take at its expected
        level: the price cycle and events move it, the quarter's own wobble does not (engine.world)."""
        wq = self._world.quarter(q)
        cycle = self._world._premium[q] - premium_trend(self._world.params, q)
        take = spot_take_rate(cycle, self._world._effects[q].spot_take_add)
        return dataclasses.replace(wq, spot_take_rate=round(take, 4))

    def demand(self, q: int) -> DemandArrays:
        if q not in self._demand:
            p = self._world.params
            flat, calm = np.zeros(T), np.ones(T)
            by_segment = {seg.id: segment_demand(seg, segment_level(seg, q, 1.0) * p.demand_scale, flat, calm) for seg in p.segments}
            self._demand[q] = DemandArrays(ticks=T, by_segment=by_segment, spike_multiplier=calm)
        return self._demand[q]


class EvenDraws:
    """Stands in for a random generator at expected values: uniform draws spread evenly over [0, 1)
    (a golden-ratio sequence), so a share p of hours falls below p without any random stream."""

    @staticmethod
    def random(n: int) -> np.ndarray:
        return ((np.arange(n) + 0.5) * 0.6180339887498949) % 1.0


class Served:
    """Per-generation results of the tick simulation."""

    def __init__(self) -> None:
        self.by_gen: dict[str, dict] = {}
        self.peak_to_mean: dict[str, float] = {}
        # what drove each revenue and cost line, per generation or lot (engine.report.fleet_economics)
        self.drivers: dict = {}


def _rental_fleet(s: GameState, world: World, scenario: Scenario, expected: bool = False) -> dict[str, dict]:
    """The rental fleet's capacity per tick, per generation, before any demand: failures (written
    off now), grid outages, GPUs serving tokens taken out, contracts served first. ``free`` is
    what is left for on-demand, batch and spot; ``price`` the company's on-demand list price."""
    q = s.quarter
    wq = world.quarter(q)
    grid_sites = {site.id for site in s.sites if site.power_source == "grid"}
    p_fail = 1 - (1 - scenario.rules.annual_failure_rate) ** 0.25
    fleet: dict[str, dict] = {}
    in_service = _lots_in_service(s, q)
    for gen in GPU_ORDER:
        market = wq.gpus[gen]
        lots = [lot for lot in in_service if lot.gen == gen]
        committed = act.committed_gpus(s, gen, q)
        if (not lots and committed == 0) or s.archetype == "inference":
            continue
        owned_by_site: dict[str, int] = {}
        failed = 0
        if expected:
            cap = np.zeros(T)
            for lot in lots:
                cap += lot.count
                if lot.ownership == "owned":  # at expected values: the average failures, spread evenly over the quarter
                    cap -= lot.count * p_fail * (np.arange(T) + 0.5) / T
                    owned_by_site[lot.site_id or ""] = owned_by_site.get(lot.site_id or "", 0) + lot.count
        else:
            # whole GPUs only: summed per generation once instead of per lot (the same integers, issue 10 item 12)
            cap = np.full(T, float(sum(lot.count for lot in lots)))
            failed = _fail_gpus(s, [lot for lot in lots if lot.ownership == "owned"], gen, q, p_fail, cap)
            out_at_grid = 0
            for lot in lots:
                if lot.ownership != "owned":
                    continue
                owned_by_site[lot.site_id or ""] = owned_by_site.get(lot.site_id or "", 0) + lot.count
                if lot.site_id in grid_sites:
                    out_at_grid += lot.count
            if out_at_grid and wq.grid_outage_hours > 0:
                a = wq.outage_start_tick
                cap[a:a + wq.grid_outage_hours] -= out_at_grid
        cap = np.maximum(cap - inference.base_gpus(s, gen), 0.0)  # GPUs serving tokens are not for rent (KB §2)
        contracted_served = np.minimum(cap, committed)
        fleet[gen] = {
            "lots": lots, "cap": cap, "committed": committed, "contracted_served": contracted_served,
            "free": cap - contracted_served, "failed": failed, "owned_by_site": owned_by_site,
            "price": market.on_demand_usd_per_hour * (1 + s.price_vs_market.get(gen, 0.0)),
        }
    return fleet


def _fail_gpus(s: GameState, owned: list[GpuLot], gen: str, q: int, p_fail: float, cap: np.ndarray) -> int:
    """This quarter's GPU failures in a generation's owned lots in service (KB §1: 2-5% a year),
    written off now and taken out of ``cap`` from the tick each one fails; returns how many failed.

    One keyed stream per generation and quarter, the lots in id order: a binomial draw per lot,
    then the failure ticks of all of them. (A stream per lot cost ~30 us each, the largest part of
    a big fleet's quarter: issue 10, item 12.) The same state gives the same failures whatever
    order its lots are listed in."""
    owned = sorted(owned, key=lambda lot: (_numeric(lot.id), lot.id))
    if not owned:
        return 0
    rng = stream(s.seed, "gpu-failures", q, GPU_ORDER.index(gen))
    fails = rng.binomial(np.array([lot.count for lot in owned]), p_fail).tolist()
    total = int(sum(fails))
    if total:  # a failed GPU is gone from its tick on: the running count of failures so far
        cap -= np.cumsum(np.bincount(rng.integers(0, T, size=total), minlength=T))
    for lot, n_fail in zip(owned, fails):
        if n_fail:
            lot.failed += n_fail
            cost, dep = act._remove_from_lot(lot, n_fail)
            s.ledger.post("GPU failures written off", [("gpu_accum_dep", dep), ("gpu_equipment", -cost), ("other_gain_loss", cost - dep)])
    return total


def _serve(s: GameState, world: World, scenario: Scenario, news: list[News], fleet: dict[str, dict], clearing: dict | None = None) -> Served:
    """Hourly ticks: capacity vs contracted, on-demand, batch (queued) and spot demand.

    Alone (``clearing`` None) the company draws the world's demand at its price against the
    market's. In an industry, ``clearing[gen]`` (engine.industry.clear) gives its customer base,
    its own on-demand and batch demand, and the on-demand it serves for rivals who had no room."""
    q = s.quarter
    wq = world.quarter(q)
    demand = world.demand(q)
    segments = {p.id: p for p in world.params.segments}
    out = Served()
    pooled = np.zeros(T)
    for seg_id, arr in demand.by_segment.items():
        out.peak_to_mean[seg_id] = float(arr.max() / arr.mean()) if arr.mean() > 0 else 0.0
        pooled += arr
    out.peak_to_mean["pooled"] = float(pooled.max() / pooled.mean()) if pooled.mean() > 0 else 0.0
    failures: dict[str, int] = {}
    for gen, f in fleet.items():
        market = wq.gpus[gen]
        lots, cap, committed, failed, owned_by_site = f["lots"], f["cap"], f["committed"], f["failed"], f["owned_by_site"]
        price = f["price"]
        alloc = clearing.get(gen) if clearing is not None else None
        if alloc is None:
            od = np.zeros(T)
            arrivals = np.zeros(T)
            for seg_id, arr in demand.by_segment.items():
                seg = segments[seg_id]
                key = f"{gen}/{seg_id}"
                target = demand_share(price, market.on_demand_usd_per_hour, seg.elasticity, MAX_SHARE_GAIN)
                share = customer_base_step(s.customer_base.get(key, 1.0), target, seg)  # customers move with a lag
                s.customer_base[key] = round(share, 9)
                if seg.latency_sensitive:
                    od += arr * (market.demand_mix * share)
                else:
                    arrivals += arr * (market.demand_mix * share)
            spill_in = 0.0
        else:
            for seg_id in demand.by_segment:
                s.customer_base[f"{gen}/{seg_id}"] = alloc["customer_base"][seg_id]
            od, arrivals, spill_in = alloc["od"], alloc["arrivals"], alloc["spill_in"]
        contracted_served = f["contracted_served"]
        shortfall = committed - contracted_served
        free = f["free"]
        own_od = np.minimum(od, free)
        served_od = own_od + spill_in  # rivals' turned-away customers fill room we had left (engine.industry)
        left = free - served_od
        batch = batch_queue(arrivals, left, s.batch_backlog.get(gen, 0.0))
        served_batch = batch.served
        idle = left - served_batch
        spot = idle * wq.spot_take_rate if SPOT_ENABLED_DEFAULT else np.zeros(T)
        dropped_batch = batch.dropped
        s.batch_backlog[gen] = batch.backlog
        busy = contracted_served + served_od + served_batch + spot
        out.by_gen[gen] = {
            "cap": cap, "busy": busy, "committed": committed, "price": price, "market": market.on_demand_usd_per_hour,
            "reserved_hours": float(contracted_served.sum()), "shortfall_hours": float(shortfall.sum()),
            "od_hours": float(served_od.sum()), "batch_hours": float(served_batch.sum()), "spot_hours": float(spot.sum()),
            "lost_hours": float((od - own_od).sum()) + dropped_batch, "failed": failed,
            "owned_by_site": owned_by_site, "spot_price": market.spot_usd_per_hour,
            "owned": sum(l.count for l in lots if l.ownership == "owned"), "leased": sum(l.count for l in lots if l.ownership == "leased"),
            "gpus": int(cap[0]) if T else 0,
        }
        if failed:
            failures[gen] = failed
        if shortfall.sum() > 0:
            news.append(News(title="SLA missed", text=f"Contracted {gen.upper()} capacity fell short by {shortfall.sum():,.0f} GPU-hours; customers get credits."))
    if failures:  # one line a quarter: routine attrition must not bury the news that matters
        what = ", ".join(f"{n:,} {g.upper()}" for g, n in failures.items())
        news.append(News(title="GPU failures", text=f"{what} failed this quarter and were written off (2-5% a year is normal: keep spares)."))
    return out


def _serve_inference(s: GameState, world: World, scenario: Scenario, news: list[News], expected: bool = False,
                     reference: dict[str, float] | None = None) -> inference.InferenceResult | None:
    """Managed inference: serve the catalog's token demand on its replicas (engine.inference);
    ``reference``: per model, the rivals' blended price customers compare ours with (engine.industry)."""
    inf = s.inference
    q = s.quarter
    if not inf.deployments and not any(inf.techniques.values()) and not (inf.on_demand or inf.spot):
        return None
    wq = world.quarter(q)
    params = scenario.rules.inference
    # what one GPU-hour of the pool costs, per generation: leases, depreciation, rentals
    hourly: dict[str, float] = {}
    for gen in GPU_ORDER:
        base = inference.base_gpus(s, gen)
        od, sp = inf.on_demand.get(gen, 0), inf.spot.get(gen, 0)
        if base + od + sp == 0:
            continue
        own_rate = _own_gpu_hour_usd(s, gen, scenario)
        cost = base * own_rate + od * wq.gpus[gen].on_demand_usd_per_hour * params.on_demand_rental_premium + sp * wq.gpus[gen].spot_usd_per_hour
        hourly[gen] = cost / (base + od + sp)
    before = set(t for t, left in inf.techniques.items() if left == 0)
    result = inference.serve(s, world, params, hourly, EvenDraws() if expected else stream(s.seed, "spot-reclaim", q), reference)
    for tech in sorted(set(result.techniques_done) - before):
        news.append(News(title="Optimization shipped", text=f"{tech.replace('_', ' ').title()} is live: the physics of every replica changes from next quarter."))
    for m in result.models:
        d = inf.deployment(m.model)
        if d is not None and m.replicas < d.replicas:
            news.append(News(title="Replicas without GPUs", text=f"{m.model}: only {m.replicas} of {d.replicas} replicas had GPUs to run on; rent or reserve more."))
        if m.dropped_share > 0.02:
            news.append(News(title="Requests dropped", text=f"{m.model}: {m.dropped_share:.0%} of real-time requests were turned away at peak; customers churn when SLAs slip."))
    return result


def _own_gpu_hour_usd(s: GameState, gen: str, scenario: Scenario) -> float:
    """Hourly cost of one of the company's own GPUs of a generation: lease rate, or depreciation."""
    lots = [l for l in s.lots if l.gen == gen and l.status == "active" and l.count > 0]
    leased = [l for l in lots if l.ownership == "leased"]
    owned = [l for l in lots if l.ownership == "owned"]
    total = sum(l.count for l in lots)
    if total == 0:
        return 0.0
    cost = sum(l.count * l.lease_usd_per_hour for l in leased)
    cost += sum(l.cost_cents / 100 / (l.life_quarters * T) for l in owned)
    return cost / total


def _post_operations(s: GameState, world: World, scenario: Scenario, served: Served, inf: inference.InferenceResult | None = None) -> None:
    """Revenue and operating costs of the quarter, one posting per line."""
    q = s.quarter
    wq = world.quarter(q)
    rules = scenario.rules
    led = s.ledger
    reserved = credits = 0.0
    d = served.drivers  # each line's amount per generation: the weights fleet_economics splits the booked cents by
    w = {k: {} for k in ("rev_reserved", "rev_on_demand", "rev_batch", "rev_spot", "rev_tokens", "rev_sla_credits",
                         "cogs_power", "cogs_operations", "cogs_gpu_rental")}
    for c in s.contracts:
        if c.status == "active" and c.start_quarter <= q < c.end_quarter:
            reserved += c.gpus * c.usd_per_gpu_hour * T  # take-or-pay: billed on the commitment
            w["rev_reserved"][c.gen] = w["rev_reserved"].get(c.gen, 0.0) + c.gpus * c.usd_per_gpu_hour * T
    on_demand = batch = spot = 0.0
    power_usd = 0.0
    gpu_hours = 0.0
    for gen, r in served.by_gen.items():
        on_demand += r["od_hours"] * r["price"]
        batch += r["batch_hours"] * r["price"] * BATCH_PRICE_SHARE
        spot += r["spot_hours"] * r["spot_price"]
        w["rev_on_demand"][gen] = r["od_hours"] * r["price"]
        w["rev_batch"][gen] = r["batch_hours"] * r["price"] * BATCH_PRICE_SHARE
        w["rev_spot"][gen] = r["spot_hours"] * r["spot_price"]
        power_before = power_usd
        if r["shortfall_hours"] > 0 and r["committed"] > 0:
            avg = sum(c.usd_per_gpu_hour * c.gpus for c in s.contracts if c.gen == gen and c.status == "active" and c.start_quarter <= q < c.end_quarter) / r["committed"]
            credits += r["shortfall_hours"] * avg * rules.sla_credit_multiple
            w["rev_sla_credits"][gen] = r["shortfall_hours"] * avg * rules.sla_credit_multiple
        cap_hours = float(r["cap"].sum())  # summed once: the same float for all three uses
        gpu_hours += cap_hours
        w["cogs_operations"][gen] = cap_hours
        busy_frac = float(r["busy"].sum()) / cap_hours if cap_hours > 0 else 0.0
        # busy GPUs draw TDP (CALIBRATION 12), idle ones the physics' idle share of it
        watts = GPUS[gen].tdp_w * (busy_frac + (1 - busy_frac) * POWER_SHARE_OF_TDP["idle"])
        for site_id, n in r["owned_by_site"].items():
            site = s.site(site_id)
            if site is None or site.kind != "owned":
                continue  # colo rent bundles power (KB §8)
            power_usd += n * T * power_cost_per_gpu_hour(watts, wq.electricity_usd_per_kwh[site.power_source], site.pue)
        w["cogs_power"][gen] = power_usd - power_before
    credits = min(credits, reserved)
    tokens = inf.revenue_usd if inf else 0.0
    rental = inf.rental_cost_usd if inf else 0.0
    rnd_projects = inf.rnd_usd if inf else 0.0
    if s.archetype == "inference":  # every GPU of the platform serves tokens
        gpu_hours += sum(inference.pool_gpus(s, g) for g in GPU_ORDER) * T
    elif inf:  # a neocloud's dedicated GPUs left the rental pool; count them and the rentals here
        gpu_hours += sum(inference.pool_gpus(s, g) for g in GPU_ORDER) * T
    if s.archetype == "inference" or inf:
        for g in GPU_ORDER:
            w["cogs_operations"][g] = w["cogs_operations"].get(g, 0.0) + inference.pool_gpus(s, g) * T
            od_n, sp_n = s.inference.on_demand.get(g, 0), s.inference.spot.get(g, 0)
            if od_n or sp_n:
                m = wq.gpus[g]
                w["cogs_gpu_rental"][g] = od_n * m.on_demand_usd_per_hour * rules.inference.on_demand_rental_premium + sp_n * m.spot_usd_per_hour
    for m in (inf.models if inf else []):
        w["rev_tokens"][m.gen] = w["rev_tokens"].get(m.gen, 0.0) + m.revenue_usd
    lines = (
        ("rev_tokens", "Token sales", tokens),
        ("rev_reserved", "Reserved contracts", reserved), ("rev_on_demand", "On-demand GPU-hours", on_demand),
        ("rev_batch", "Batch GPU-hours", batch), ("rev_spot", "Spot GPU-hours", spot),
    )
    for account, memo, usd in lines:
        cents = to_cents(usd)
        if cents:
            led.post(memo, [("cash", cents), (account, -cents)], "operating")
    if credits:
        cents = to_cents(credits)
        led.post("SLA credits", [("rev_sla_credits", cents), ("cash", -cents)], "operating")
    revenue = reserved + on_demand + batch + spot + tokens - credits
    colo = sum(colo_rent_usd(site.mw, site.colo_usd_per_kw_month) for site in s.sites if site.kind == "colo" and site.stage == "operating")
    site_opex = sum(site.mw * 1000 * rules.site_opex_usd_per_kw_month * 3 for site in s.sites if site.kind == "owned" and site.stage == "operating")
    lease = sum(
        lease_payment_usd(lot.count, lot.lease_usd_per_hour) for lot in s.lots
        if lot.ownership == "leased" and lot.status == "active" and lot.arrives_quarter <= q < lot.lease_end_quarter
    )
    gpus_in_service = gpu_hours / T
    in_service = _lots_in_service(s, q)
    d.update(w)
    d["gens"] = [g for g in GPU_ORDER if any(v.get(g, 0) > 0 for v in w.values()) or any(lot.gen == g and lot.count for lot in in_service)]
    kinds = {site.id: site.kind for site in s.sites}
    d["lots"] = [{"id": lot.id, "gen": lot.gen, "ownership": lot.ownership, "count": lot.count, "site_id": lot.site_id,
                  "site_kind": kinds.get(lot.site_id or "")} for lot in in_service]
    d["lease_by_lot"] = {
        lot.id: lease_payment_usd(lot.count, lot.lease_usd_per_hour) for lot in in_service
        if lot.ownership == "leased" and lot.arrives_quarter <= q < lot.lease_end_quarter
    }
    d["cogs_colo"] = _by_gen_at_sites(in_service, {
        site.id: colo_rent_usd(site.mw, site.colo_usd_per_kw_month) for site in s.sites if site.kind == "colo" and site.stage == "operating"})
    d["cogs_site_opex"] = _by_gen_at_sites(in_service, {
        site.id: site.mw * 1000 * rules.site_opex_usd_per_kw_month * 3 for site in s.sites if site.kind == "owned" and site.stage == "operating"})
    costs = (
        ("cogs_power", "Power", power_usd), ("cogs_colo", "Colocation rent", colo), ("cogs_gpu_lease", "GPU leases", lease),
        ("cogs_gpu_rental", "GPU rentals (on-demand and spot)", rental),
        ("cogs_site_opex", "Site operations", site_opex), ("cogs_operations", "Platform operations", gpu_hours * rules.ops_usd_per_gpu_hour),
        ("opex_rnd", "R&D", rules.rnd_usd_per_quarter + rnd_projects),
        ("opex_ga", "G&A", rules.ga_usd_per_quarter + rules.ga_usd_per_gpu_quarter * gpus_in_service),
        ("opex_sales", "Sales & marketing", max(0.0, revenue) * rules.sales_share_of_revenue),
    )
    for account, memo, usd in costs:
        cents = to_cents(usd)
        if cents:
            led.post(memo, [(account, cents), ("cash", -cents)], "operating")


def _lots_in_service(s: GameState, q: int) -> list[GpuLot]:
    """The company's GPUs this quarter: owned lots delivered, leased lots within their term."""
    return [
        lot for lot in s.lots
        if lot.status == "active" and (lot.ownership == "owned" or lot.arrives_quarter <= q < lot.lease_end_quarter)
    ]


def _by_gen_at_sites(lots: list[GpuLot], usd_by_site: dict[str, float]) -> dict[str, float]:
    """A site's cost split among the generations installed there by their power (GPUs x TDP, the
    colo's and the campus's unit of capacity, KB §8); a site without GPUs goes unallocated ("")."""
    out: dict[str, float] = {}
    for site_id, usd in usd_by_site.items():
        watts = {}
        for lot in lots:
            if lot.site_id == site_id and lot.count > 0:
                watts[lot.gen] = watts.get(lot.gen, 0.0) + lot.count * GPUS[lot.gen].tdp_w
        total = sum(watts.values())
        for gen, wt in (watts.items() if total > 0 else [("", 1.0)]):
            out[gen] = out.get(gen, 0.0) + usd * wt / (total or 1.0)
    return out


def _progress_sites(s: GameState, world: World, scenario: Scenario, news: list[News], expected: bool = False) -> None:
    """Colo handover, and owned builds through permitting -> interconnect -> construction (KB §18)."""
    q = s.quarter
    wq = world.quarter(q)
    rules = scenario.rules
    for site in s.sites:
        if site.stage == "provisioning":
            site.stage_quarters_left -= 1
            if site.stage_quarters_left <= 0:
                site.stage, site.opened_quarter = "operating", q + 1
                news.append(News(title="Colo ready", text=f"{site.name} ({site.mw:g} MW) is handed over and ready for GPUs next quarter."))
            continue
        if site.kind != "owned" or site.stage not in ("permitting", "interconnect", "construction"):
            continue
        if site.stage in ("permitting", "interconnect") and wq.build_moratorium:
            news.append(News(title="Build stalled", text=f"{site.name}: the power moratorium froze {site.stage} this quarter."))
            continue
        if site.stage in ("interconnect", "construction"):
            total = site.capex_shell_cents + site.capex_power_cents
            remaining_q = site.stage_quarters_left + (rules.construction_quarters if site.stage == "interconnect" else 0)
            pay = (total - site.capex_spent_cents) // max(1, remaining_q)
            if pay > 0:
                site.capex_spent_cents += pay
                s.ledger.post("Data-center construction", [("site_cip", pay), ("cash", -pay)], "investing")
        if site.stage == "construction" and not expected and stream(s.seed, "construction", q, _numeric(site.id)).random() < rules.construction_delay_prob:
            site.delays += 1
            news.append(News(title="Construction delay", text=f"{site.name}: switchgear arrived late; completion slips one quarter."))
            continue
        site.stage_quarters_left -= 1
        if site.stage_quarters_left > 0:
            continue
        if site.stage == "permitting":
            site.stage = "interconnect"
            site.stage_quarters_left = 1 if site.power_source == "stranded-gas" else max(1, rules.interconnect_quarters)
        elif site.stage == "interconnect":
            site.stage, site.stage_quarters_left = "construction", rules.construction_quarters
        else:
            rest = site.capex_shell_cents + site.capex_power_cents - site.capex_spent_cents
            if rest > 0:
                site.capex_spent_cents += rest
                s.ledger.post("Data-center construction", [("site_cip", rest), ("cash", -rest)], "investing")
            cip = site.capex_spent_cents
            shell = cip * site.capex_shell_cents // (site.capex_shell_cents + site.capex_power_cents)
            s.ledger.post("Campus completed", [("site_shell", shell), ("site_power", cip - shell), ("site_cip", -cip)])
            site.capex_shell_cents, site.capex_power_cents = shell, cip - shell
            site.stage, site.opened_quarter = "operating", q + 1
            news.append(News(title="Campus completed", text=f"{site.name} ({site.mw:g} MW, {site.power_source}) is energized and ready for GPUs next quarter."))


def _depreciate(s: GameState, scenario: Scenario) -> dict:
    """Straight line: GPUs over their life (an impaired lot: its new book over the life left),
    shells over 15-25 years, power plant over 15-20 (KB §3, §18; CALIBRATION 18)."""
    rules = scenario.rules
    gpu = site = 0
    dep_by_lot: dict[str, int] = {}
    dep_by_site: dict[str, float] = {}
    for lot in s.lots:
        if lot.ownership == "owned" and lot.status == "active" and lot.count > 0:
            book = lot.cost_cents - lot.accum_dep_cents
            if lot.life_left_quarters is not None:  # IAS 36 para 63: revised book over the remaining life
                d = min(book, -(-book // max(1, lot.life_left_quarters)))
                lot.life_left_quarters = max(0, lot.life_left_quarters - 1)
            else:
                d = min(book, -(-lot.cost_cents // lot.life_quarters))
            lot.accum_dep_cents += d
            gpu += d
            dep_by_lot[lot.id] = dep_by_lot.get(lot.id, 0) + d
    for st in s.sites:
        if st.kind == "owned" and st.stage == "operating" and (st.opened_quarter or 0) <= s.quarter:
            ds = min(st.capex_shell_cents - st.dep_shell_cents, round(st.capex_shell_cents / (rules.shell_life_years * 4)))
            dp = min(st.capex_power_cents - st.dep_power_cents, round(st.capex_power_cents / (rules.power_life_years * 4)))
            st.dep_shell_cents += ds
            st.dep_power_cents += dp
            site += ds + dp
            dep_by_site[st.id] = float(ds + dp)
    if gpu:
        s.ledger.post("GPU depreciation", [("cogs_depreciation_gpu", gpu), ("gpu_accum_dep", -gpu)])
    if site:
        s.ledger.post("Site depreciation", [("cogs_depreciation_site", site), ("site_accum_dep", -site)])
    # what each lot and site booked, for fleet_economics (engine.report); not state
    return {"dep_by_lot": dep_by_lot, "cogs_depreciation_site": _by_gen_at_sites(_lots_in_service(s, s.quarter), dep_by_site)}


def remaining_life_quarters(lot: GpuLot) -> int:
    """Quarters of depreciation left: set at impairment, else the unexpired share of the straight-line life."""
    if lot.life_left_quarters is not None:
        return lot.life_left_quarters
    book = lot.cost_cents - lot.accum_dep_cents
    return -(-book * lot.life_quarters // lot.cost_cents) if lot.cost_cents > 0 else 0


def value_in_use_per_gpu_cents(wq, gen: str, quarters: int) -> int:
    """Value in use of one GPU (IAS 36 para 30-57): the cash margin it can earn each remaining
    quarter at today's market, forward reserved price less the market's cash cost (power and
    operations), discounted at the company's cost of debt (SOFR + the sub-investment-grade spread)."""
    m = wq.gpus[gen]
    if quarters <= 0:
        return 0
    forward = forward_rates(m.reserved_usd_per_hour, quarters, floor=m.cash_floor_usd_per_hour)
    margins = [max(0.0, f - m.cash_floor_usd_per_hour) * T for f in forward]
    return to_cents(present_value(margins, incremental_borrowing_rate(wq.sofr, wq.spread_sub_ig_bps) / 4))


def _impair(s: GameState, wq) -> int:
    """Impairment test, per owned generation, each quarter (IAS 36 / ASC 360): recoverable amount =
    max(fair value less costs to sell, value in use); fair value is the world's secondary price
    (a sale costs nothing else in the game), value in use the discounted cash margin over the
    remaining life. Book above recoverable is written down: a non-cash loss below EBITDA, and the
    new book depreciates over the remaining life. Returns the write-down in cents."""
    total = 0
    for gen in sorted({lot.gen for lot in s.lots if lot.ownership == "owned" and lot.status == "active" and lot.count > 0}):
        lots = [lot for lot in s.lots if lot.gen == gen and lot.ownership == "owned" and lot.status == "active" and lot.count > 0]
        if gen not in wq.gpus:
            continue
        books = [lot.cost_cents - lot.accum_dep_cents for lot in lots]
        book = sum(books)
        fair_value = sum(to_cents(wq.gpus[gen].secondary_usd) * lot.count for lot in lots)
        if fair_value >= book:
            continue  # recoverable >= fair value >= book: nothing to write down, value in use not needed
        per_gpu: dict[int, int] = {}  # value in use depends only on the remaining life: once per life
        for lot in lots:
            life = remaining_life_quarters(lot)
            if life not in per_gpu:
                per_gpu[life] = value_in_use_per_gpu_cents(wq, gen, life)
        in_use = sum(per_gpu[remaining_life_quarters(lot)] * lot.count for lot in lots)
        recoverable = max(fair_value, in_use)
        loss = book - recoverable
        if loss <= 0:
            continue
        left = loss
        for i, (lot, b) in enumerate(zip(lots, books)):
            share = left if i == len(lots) - 1 else loss * b // book  # pro rata to book; the last lot takes the rounding
            left -= share
            lot.life_left_quarters = remaining_life_quarters(lot)
            lot.accum_dep_cents += share
            lot.impaired_cents += share
        total += loss
    if total:
        s.ledger.post("GPU impairment", [("impairment", total), ("gpu_accum_dep", -total)])
    return total


def _amortize_debt_discount(s: GameState) -> None:
    """The warrants' debt discount is non-cash interest, straight line over the loan's tenor
    (a simplification of the effective-interest method); all of it once the loan is repaid."""
    for loan in s.loans:
        if loan.discount_cents <= 0:
            continue
        left = loan.start_quarter + loan.tenor_quarters - s.quarter
        a = loan.discount_cents if loan.balance_cents <= 0 or left <= 1 else -(-loan.discount_cents // left)
        loan.discount_cents -= a
        s.ledger.post("Debt discount amortized", [("interest_discount", a), ("debt_discount", -a)])


def _service_debt(s: GameState, wq) -> tuple[int, int]:
    """Floating interest at SOFR + spread and the scheduled principal (level or sculpted), paid at quarter end.

    A balloon falling due is not debt service (the covenant tests scheduled service, KB §4): it
    stays on the loan for ``_balloons``, after the quarter's other payments."""
    service = interest_total = 0
    for loan in s.loans:
        if loan.balance_cents <= 0:
            continue
        interest = quarterly_interest_cents(loan.balance_cents, loan.spread_bps, wq.sofr)
        principal = principal_due(loan, s.quarter) - balloon_due_cents(loan, s.quarter)
        loan.balance_cents -= principal
        s.ledger.post("Interest paid", [("interest_expense", interest), ("cash", -interest)], "operating")
        s.ledger.post("Debt repaid", [("debt", principal), ("cash", -principal)], "financing")
        service += interest + principal
        interest_total += interest
    return service, interest_total


def _balloons(s: GameState, wq, rules, news: list[News]) -> tuple[int, int, int]:
    """The refinancing wall (KB §4, §18): each balloon falling due is refinanced as far as this
    quarter's sizing allows (engine.lenders.refinancing_offer), cash left after the quarter's other
    payments repays the rest, and what neither covers stays unpaid (a payment default,
    ``_maturity_default``). Returns (balloons due, refinanced, unpaid)."""
    due_total = refinanced_total = unpaid_total = 0
    rollovers: list[Loan] = []
    for loan in s.loans:
        balloon = balloon_due_cents(loan, s.quarter)
        if balloon <= 0:
            continue
        offer = refinancing_offer(s, wq, rules, loan)
        refinanced = min(balloon, offer.max_cents) if offer is not None else 0
        paid = min(balloon - refinanced, max(0, s.cash_cents))
        unpaid = balloon - refinanced - paid
        if refinanced > 0:  # the new lender pays the old one
            rollovers.append(loan_from_offer(offer, refinanced, s.new_id("D"), s.quarter + 1))
            s.ledger.post("Balloon refinanced", [("cash", refinanced), ("debt", -refinanced)], "financing")
        s.ledger.post("Balloon repaid", [("debt", balloon - unpaid), ("cash", -(balloon - unpaid))], "financing")
        loan.balance_cents -= balloon - unpaid
        due_total, refinanced_total, unpaid_total = due_total + balloon, refinanced_total + refinanced, unpaid_total + unpaid
        news.append(News(
            title="Refinancing wall" if refinanced < balloon else "Balloon refinanced",
            text=(f"Loan {loan.id}'s {fmt_usd(balloon)} balloon fell due at SOFR {wq.sofr:.1%}: "
                  + (f"{offer.lender} refinanced {fmt_usd(refinanced)} at SOFR + {offer.spread_bps:.0f} bps, "
                     f"all that the {offer.target_dscr:.2f}x covenant allows at today's rates; " if refinanced > 0 else
                     "the lenders refinanced none of it (no term loan on offer at today's rates and covenant); ")
                  + (f"cash repaid {fmt_usd(paid)}" if paid > 0 else "nothing was due in cash" if unpaid == 0 else "no cash was left to repay it")
                  + (f", and {fmt_usd(unpaid)} is unpaid: a payment default." if unpaid > 0 else ".")),
        ))
    s.loans += rollovers
    return due_total, refinanced_total, unpaid_total


def _tax(s: GameState, rules) -> int:
    """Estimated tax, trued up to the calendar tax year (KB §6, §18; IRC §172): 21% of year-to-date
    taxable income after loss carry-forwards, which offset at most 80% of the YEAR's taxable
    income, less the tax already paid this year. A later loss quarter refunds tax paid earlier in
    the same year (never more); the year's loss joins the carry-forward when the year closes.
    Interest and depreciation are deductible, which is the shield."""
    pretax = income_statement(s.ledger).pretax_income
    s.tax_ytd_pretax_cents += pretax
    ytd = s.tax_ytd_pretax_cents
    nol_used = min(s.nol_cents, int(max(0, ytd) * rules.nol_limit))
    liability = to_cents(max(0, ytd - nol_used) / 100 * rules.tax_rate)
    tax = liability - s.tax_ytd_paid_cents  # negative: a refund, at most what was paid this year
    s.tax_ytd_paid_cents += tax
    if tax:
        s.ledger.post("Income tax" if tax > 0 else "Income tax refund", [("tax_expense", tax), ("cash", -tax)], "operating")
    if parse_quarter(quarter_label(s.start, s.quarter))[1] == 4:  # the tax year closes
        s.nol_cents = s.nol_cents - nol_used + max(0, -ytd)
        s.tax_ytd_pretax_cents = s.tax_ytd_paid_cents = 0
    return tax


CLEAN_TESTS_TO_RELEASE = 2  # lock-up ends after this many consecutive tests at or above the lock-up level


def _covenant(s: GameState, scenario: Scenario, news: list[News], warnings: list[str]) -> float | None:
    """Quarterly DSCR test on matching trailing windows (KB §4; DESIGN.md Finance/Covenants).

    Below the lock-up level: no new debt and a cash sweep; lock-up holds until two consecutive tests
    pass (repaying in full does not end it: the test then reads CFADS against the service the
    company carried). Below the default level, or after repeated lock-ups: an event of default
    with one cure period and the equity cure named; if the next test fails too, the lenders
    accelerate: cash repays every loan plus a prepayment fee, and only a company whose cash
    cannot repay them is bankrupt."""
    rules = scenario.rules
    rec = s.history[-1]
    locked = s.covenant in ("lock-up", "default")
    if s.debt_cents <= 0 and not locked:
        s.covenant, s.breaches_in_row, s.cure_due, s.clean_tests = "none", 0, False, 0
        return None
    if s.debt_cents <= 0 and s.cure_due:  # repaid in full during the cure period: nothing left to accelerate
        s.cure_due, s.covenant = False, "lock-up"
        rec.covenant_event = "cured"
        news.append(News(title="Default cured by repayment", text="The loans are repaid: no acceleration. No new debt until the lock-up is released."))
    value = trailing_dscr(s) if s.debt_cents > 0 else dscr_without_debt(s)
    if value is None:
        s.covenant, s.breaches_in_row, s.cure_due, s.clean_tests = "none", 0, False, 0
        return None
    # one quarter of history is too little to call a default on: it can at worst lock up
    enough = sum(1 for r in s.history[-4:] if r.debt_service_cents > 0) >= 2
    below_default = value < rules.covenant_default_dscr
    repeated = value < rules.covenant_lockup_dscr and s.breaches_in_row >= 3
    if s.debt_cents > 0 and enough and (below_default or repeated):
        s.breaches_in_row += 1
        s.clean_tests = 0
        why = (f"DSCR {value:.2f}x is below the {rules.covenant_default_dscr:.2f}x default level" if below_default
               else f"DSCR {value:.2f}x has been under the {rules.covenant_lockup_dscr:.2f}x lock-up for {s.breaches_in_row} tests in a row")
        if s.cure_due:
            _accelerate(s, why, news)
            return value
        s.covenant, s.cure_due = "default", True
        cure = equity_cure_cents(s, rules.covenant_lockup_dscr)
        rec.covenant_event, rec.cure_needed_cents = "default-notice", cure
        text = (f"Event of default: {why}. An equity cure of {fmt_usd(cure)} raised next quarter (it counts as cash flow "
                f"in the test) restores {rules.covenant_lockup_dscr:.2f}x; otherwise the lenders accelerate: every loan "
                f"({fmt_usd(s.debt_cents)}) falls due with a {PREPAYMENT_FEE:.0%} prepayment fee, paid from cash.")
        warnings.append(text)
        news.append(News(title="Event of default", text=text))
        return value
    if s.cure_due:  # the cure period's test passed the default level
        s.cure_due = False
        rec.covenant_event = "cured"
        news.append(News(title="Default cured", text=f"DSCR {value:.2f}x: the event of default is cured; lock-up rules still apply."))
    if value < rules.covenant_lockup_dscr:
        s.covenant = "lock-up"
        s.breaches_in_row += 1
        s.clean_tests = 0
        swept = _cash_sweep(s, rules) if s.debt_cents > 0 else 0
        rec.covenant_event = rec.covenant_event or "lock-up"
        news.append(News(
            title="Covenant lock-up",
            text=f"DSCR {value:.2f}x is under the {rules.covenant_lockup_dscr:.2f}x lock-up: no new debt, and {fmt_usd(swept)} of cash was swept to the lenders.",
        ))
        return value
    s.breaches_in_row = 0
    if s.covenant in ("lock-up", "default"):
        s.clean_tests += 1
        if s.clean_tests < CLEAN_TESTS_TO_RELEASE:
            s.covenant = "lock-up"
            return value
        rec.covenant_event = rec.covenant_event or "released"
        news.append(News(title="Lock-up released", text=f"DSCR {value:.2f}x: {CLEAN_TESTS_TO_RELEASE} tests in a row at or above the lock-up level. Lenders lend again."))
    s.clean_tests = 0
    s.covenant = "ok" if s.debt_cents > 0 else "none"
    return value if s.debt_cents > 0 else None  # released with no debt: nothing left to test (DSCR null with "none")


def _maturity_default(s: GameState, unpaid: int, news: list[News], warnings: list[str]) -> None:
    """A balloon neither refinanced nor repaid is a payment default (KB §4): one cure period to
    pay it (new equity, GPU sales); still unpaid a quarter later, the lenders accelerate every loan."""
    rec = s.history[-1]
    why = f"{fmt_usd(unpaid)} of a balloon due at maturity is unpaid"
    if len(s.history) > 1 and s.history[-2].balloon_unpaid_cents > 0:
        _accelerate(s, why, news)
        return
    s.covenant, s.cure_due, s.clean_tests = "default", True, 0
    rec.covenant_event, rec.cure_needed_cents = "default-notice", max(rec.cure_needed_cents, unpaid)
    text = (f"Payment default: {why}. Pay it next quarter (cash, new equity, GPU sales); otherwise the lenders "
            f"accelerate: every loan ({fmt_usd(s.debt_cents)}) falls due with a {PREPAYMENT_FEE:.0%} prepayment fee.")
    warnings.append(text)
    news.append(News(title="Event of default", text=text))


def _accelerate(s: GameState, why: str, news: list[News]) -> None:
    """Lenders call every loan (cross-default): cash repays the balances plus a prepayment fee.

    Only a company whose cash cannot repay the balances is bankrupt; the fee is capped at the cash
    left after the balances (the lenders take what there is, not the company)."""
    rec = s.history[-1]
    due = sum(max(0, l.balance_cents) for l in s.loans)
    cash = s.cash_cents
    if cash < due:
        s.covenant = "default"
        s.game_over = s.bankrupt = True
        rec.covenant_event = "foreclosed"
        s.end_reason = (f"Covenant default: {why}, after the cure period. The lenders accelerated {fmt_usd(due)} of loans "
                        f"and {fmt_usd(max(0, cash))} of cash could not repay them. The lenders took the assets.")
        news.append(News(title="The lenders took the assets", text=s.end_reason))
        return
    fee = min(round(due * PREPAYMENT_FEE), cash - due)
    for loan in s.loans:
        if loan.balance_cents > 0:
            s.ledger.post("Debt accelerated", [("debt", loan.balance_cents), ("cash", -loan.balance_cents)], "financing")
            loan.balance_cents = 0
    if fee > 0:
        s.ledger.post("Prepayment fee", [("interest_expense", fee), ("cash", -fee)], "operating")
    rec.covenant_event, rec.accelerated_cents, rec.prepayment_fee_cents = "accelerated", due, fee
    s.covenant, s.cure_due, s.clean_tests, s.breaches_in_row = "lock-up", False, 0, 0
    news.append(News(
        title="Lenders accelerate",
        text=(f"Covenant default: {why}, and the cure period passed. Cash repaid {fmt_usd(due)} of loans and a "
              f"{fmt_usd(fee)} prepayment fee. No new debt until DSCR holds the lock-up level for {CLEAN_TESTS_TO_RELEASE} tests."),
    ))


def _cash_sweep(s: GameState, rules) -> int:
    last = s.history[-1]
    sweep = min(int(max(0, last.cfads_cents - last.debt_service_cents) * rules.lockup_sweep_share), max(0, s.cash_cents), s.debt_cents)
    left = sweep
    for loan in s.loans:
        if left <= 0:
            break
        pay = min(left, loan.balance_cents)
        if pay > 0:
            loan.balance_cents -= pay
            left -= pay
            s.ledger.post("Cash sweep", [("debt", pay), ("cash", -pay)], "financing")
    return sweep - left


def _warnings(s: GameState, inc, bal, scenario: Scenario) -> list[str]:
    out = []
    burn = -(inc.ebitda - inc.interest - inc.tax)
    if burn > 0 and bal.cash > 0 and bal.cash / burn < 4:
        out.append(f"Runway: at this quarter's burn, cash lasts about {bal.cash / burn:.1f} quarters.")
    if s.covenant == "lock-up":
        out.append("Covenant lock-up: no new debt until DSCR holds the lock-up level for two tests in a row (repaying does not end it).")
    return out


def _kpis(s: GameState, inc, bal, served: Served, dscr_value, contracted_share, scenario: Scenario, world: World, inf=None) -> Kpis:
    rules = scenario.rules
    by_gen = []
    total_cap = total_busy = total_spot = 0.0
    for gen, r in served.by_gen.items():
        cap_h = float(r["cap"].sum())
        sold_h = r["reserved_hours"] + r["od_hours"] + r["batch_hours"]  # spot fill is not a sale at our price
        total_cap += cap_h
        total_busy += sold_h
        total_spot += r["spot_hours"]
        by_gen.append(GenKpis(
            gen=gen, gpus=r["gpus"], owned=r["owned"], leased=r["leased"], contracted=r["committed"], failed=r["failed"],
            utilization=sold_h / cap_h if cap_h else 0.0, spot_filled_share=r["spot_hours"] / cap_h if cap_h else 0.0,
            price_usd_per_hour=r["price"], market_usd_per_hour=r["market"],
            served_gpu_hours={"reserved": r["reserved_hours"], "on_demand": r["od_hours"], "batch": r["batch_hours"], "spot": r["spot_hours"]},
            lost_gpu_hours=r["lost_hours"], batch_backlog_gpu_hours=s.batch_backlog.get(gen, 0.0),
        ))
    rental_hours = total_cap  # the rented fleet's GPU-hours, before the replicas join the total
    if inf is not None:  # replicas' GPU-hours count as capacity, their served work as busy
        for m in inf.models:
            total_cap += m.gpus * T
            total_busy += m.gpus * T * m.utilization
    ndr = None
    if len(s.history) >= 5 and s.history[-5].token_revenue_cents > 0:
        ndr = s.history[-1].token_revenue_cents / s.history[-5].token_revenue_cents
    rental_rev = inc.revenue - inc.rev_tokens
    inf_hours = sum(m.gpus for m in inf.models) * T if inf is not None else 0
    gpus = {g: act.active_gpus(s, g, s.quarter) for g in GPU_ORDER}
    on_order = {g: sum(l.count for l in s.lots if l.gen == g and l.status == "on_order") for g in GPU_ORDER}
    burn = -(inc.ebitda - inc.interest - inc.tax)
    runway = max(0.0, bal.cash) / burn if burn > 0 else None
    power_mw = sum(
        GPUS[l.gen].tdp_w * l.count for l in s.lots if l.ownership == "owned" and l.status == "active"
    ) / 1e6
    site_mw = sum(st.mw for st in s.sites if st.stage == "operating")
    cash_costs = inc.revenue - inc.ebitda
    gen_econ, lot_econ = fleet_economics(inc.model_dump(), served.drivers)
    return Kpis(
        utilization=total_busy / total_cap if total_cap else 0.0,
        spot_filled_share=total_spot / total_cap if total_cap else 0.0,
        contracted_share=contracted_share,
        gross_margin=inc.gross_margin,
        ebitda_margin=inc.ebitda / inc.revenue if inc.revenue else None,
        dscr=dscr_value,
        covenant=s.covenant,
        covenant_event=s.history[-1].covenant_event,
        cure_needed_cents=s.history[-1].cure_needed_cents,
        accelerated_cents=s.history[-1].accelerated_cents,
        prepayment_fee_cents=s.history[-1].prepayment_fee_cents,
        dscr_lockup=rules.covenant_lockup_dscr,
        dscr_default=rules.covenant_default_dscr,
        runway_quarters=runway,
        gpus={g: n for g, n in gpus.items() if n},
        gpus_on_order={g: n for g, n in on_order.items() if n},
        cost_per_gpu_hour=(cash_costs + inc.depreciation) / 100 / total_cap if total_cap else None,
        revenue_per_gpu_hour=inc.revenue / 100 / total_cap if total_cap else None,
        power_mw=power_mw,
        site_mw=site_mw,
        by_gen=by_gen,
        peak_to_mean=served.peak_to_mean,
        net_dollar_retention=ndr,
        revenue_per_gpu_hour_rental=rental_rev / 100 / rental_hours if rental_hours else None,
        revenue_per_gpu_hour_inference=inc.rev_tokens / 100 / inf_hours if inf_hours else None,
        fleet_economics=gen_econ,
        lot_economics=lot_econ,
    )
