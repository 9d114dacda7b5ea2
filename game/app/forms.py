"""One modal form per action: fields build an action dict; as you type, ``Game.preview`` checks it
against the turn plan and shows its effect (cash after, capacity, arrival, DSCR). No game logic here:
the engine accepts or rejects, and every number shown is read from its preview state."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from engine.calendar import TICKS_PER_QUARTER
from engine.hardware import GPUS
from engine.leases import colo_rent_usd
from engine.money import MAX_USD, fmt_usd, to_cents

if TYPE_CHECKING:  # the session pulls in the whole engine; the app's key bindings need only the specs
    from game.app.session import Preview, Session


@dataclass
class FieldSpec:
    name: str
    label: str
    kind: str  # "select" | "int" | "float" | "usd" (dollars and cents) | "pct" (typed in percent)
    options: list[tuple[str, object]] = field(default_factory=list)
    default: object = None
    hint: str = ""
    optional: bool = False  # blank leaves the field out of the action (the engine's default)


@dataclass
class FormSpec:
    title: str
    key: str
    help: str
    fields: Callable[[Session], list[FieldSpec]]
    describe: Callable[[Session, dict, Preview, Preview], list[str]]
    unavailable: Callable[[Session], str | None] = lambda s: None
    applies: Callable[[Session], bool] = lambda s: True  # False: not this company's decision (hidden, not just disabled)
    refill: Callable[[Session, str, object], dict[str, object]] | None = None  # a choice changed: new defaults for other fields


# ---------------------------------------------------------------- option lists, from the state


def _gens(s: Session, orderable: bool = True) -> list[tuple[str, str]]:
    m = s.game.observation().market
    return [(f"{GPUS[g].name} · ${q.on_demand_usd_per_hour:.2f}/h", g) for g, q in m.gpus.items() if q.available or not orderable]


def _sites(s: Session) -> list[tuple[str, str]]:
    from engine.actions import site_load_kw

    out = []
    st = s.preview().state  # a colo leased in the plan can take GPUs that arrive after it is ready (issue 11, item 11)
    for site in st.sites:
        if site.stage == "released":
            continue
        free = site.mw * 1000 - site_load_kw(st, site.id)
        out.append((f"{site.name} ({site.id}) · {free:,.0f} kW free · {site.stage}", site.id))
    out.sort(key=lambda o: 0 if "operating" in o[0] else 1)
    return out


def _owned_lots(s: Session) -> list[tuple[str, str]]:
    return [
        (f"{lot.id} · {lot.count:,} {lot.gen.upper()} at {lot.site_id}", lot.id)
        for lot in s.state.lots if lot.ownership == "owned" and lot.status == "active"
    ]


def _usd_default(cents: int) -> str:
    """A money default as the player would type it: whole dollars, or dollars and cents."""
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"


def _free_gpus(st, gen: str) -> int:
    """GPUs of a generation in service and free of contracts and model replicas (engine.actions' own test)."""
    from engine.actions import active_gpus, committed_gpus
    from engine.inference import own_gpus_serving_tokens

    return max(0, active_gpus(st, gen, st.quarter) - committed_gpus(st, gen, st.quarter) - own_gpus_serving_tokens(st, gen))


def _contract_offers(s: Session) -> list[tuple[str, str]]:
    """This quarter's offers not yet signed in the plan (issue 11, item 5: a signed one is not "missing")."""
    st = s.preview().state
    return [
        (f"{o.customer} · {o.gpus:,} {o.gen.upper()} · {o.term_quarters}q · ${o.usd_per_gpu_hour:.2f}/h · {o.grade} · "
         f"{_free_gpus(st, o.gen):,} {o.gen.upper()} free", o.id)
        for o in st.offers.contracts
    ]


def _open_loan_offers(s: Session):
    return s.preview().state.offers.loans


def _loan_offers(s: Session) -> list[tuple[str, str]]:
    return [
        (f"{o.lender} · up to {fmt_usd(o.max_cents)} · SOFR+{o.spread_bps:.0f}bps · {o.tenor_quarters}q", o.id)
        for o in _open_loan_offers(s)
    ]


def _open_loans(s: Session):
    return [l for l in s.preview().state.loans if l.balance_cents > 0]


def _loans(s: Session) -> list[tuple[str, str]]:
    return [(f"{l.id} · {l.lender} · {fmt_usd(l.balance_cents)} outstanding", l.id) for l in _open_loans(s)]


def _open_equity_offers(s: Session):
    return s.preview().state.offers.equity


def _equity_offers(s: Session) -> list[tuple[str, str]]:
    return [
        (f"{o.investor} ({o.round}) · up to {fmt_usd(o.max_cents)} at {fmt_usd(o.pre_money_cents)} pre", o.id)
        for o in _open_equity_offers(s)
    ]


def _colo_sites(s: Session) -> list[tuple[str, str]]:
    return [(f"{x.name} ({x.id}) · {x.mw:g} MW", x.id) for x in s.state.sites if x.kind == "colo" and x.stage != "released"]


# ---------------------------------------------------------------- previews


def _cash_line(s: Session, base: Preview, after: Preview) -> str:
    delta = after.cash_after - base.cash_after
    return f"Cash after the plan: {fmt_usd(after.cash_after)} ({'+' if delta >= 0 else ''}{fmt_usd(delta)} from this action)"


def _amount_line(a: dict) -> str:
    """The amount as read, to the cent: the verdict's $500.00K is rounded, this is what the engine gets."""
    return f"Amount: ${to_cents(a['amount_usd']) / 100:,.2f}"


def _new_lot(after: Preview):
    return after.state.lots[-1] if after.state.lots else None


def _d_buy(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    lot = _new_lot(after)
    kw = a["count"] * GPUS[a["gen"]].tdp_w / 1000
    out = [_cash_line(s, base, after), f"Capacity added: {a['count']:,} {a['gen'].upper()} ({kw:,.0f} kW of IT load)"]
    if lot is not None:
        out.append(f"Arrives: {s.quarter_label(lot.arrives_quarter)}, unit cost {fmt_usd(lot.unit_cost_cents)} with networking")
        util, source = s.expected_utilization(a["gen"])
        payback = s.payback_quarters(a["gen"], lot.unit_cost_cents, util)
        pays = "never at today's prices (the cash margin is not positive)" if payback is None else f"about {payback:.1f} quarters after it arrives"
        out.append(f"Expected utilization {util:.0%} ({source}); payback at today's on-demand price less power and operations: {pays}")
    return out


def _d_lease(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    lot = _new_lot(after)
    out = [_cash_line(s, base, after), f"Capacity added: {a['count']:,} {a['gen'].upper()}, in service this quarter (no site power needed)"]
    if lot is not None:
        per_q = to_cents(lot.lease_usd_per_hour * a["count"] * TICKS_PER_QUARTER)
        out.append(f"Take-or-pay: ${lot.lease_usd_per_hour:.2f}/GPU-hour = {fmt_usd(per_q)} a quarter until {s.quarter_label(lot.lease_end_quarter)}")
    return out


def _ending_leases(s: Session) -> list[tuple[str, str]]:
    """GPU leases a lessor would renew now (engine.actions.RenewLease's window), soonest first."""
    from engine.actions import RENEWAL_WINDOW_QUARTERS, renewal_of

    st = s.preview().state
    q = st.quarter
    lots = sorted((l for l in st.lots if l.ownership == "leased" and l.status == "active" and q <= l.lease_end_quarter <= q + RENEWAL_WINDOW_QUARTERS
                   and renewal_of(st, l) is None), key=lambda l: l.lease_end_quarter)
    return [(f"{l.id} · {l.count:,} {l.gen.upper()} · ${l.lease_usd_per_hour:.2f}/h · ends after {s.quarter_label(l.lease_end_quarter - 1)}", l.id) for l in lots]


def alert_target(s: Session, risk) -> tuple[str, str] | None:
    """(form, item) that renews what an advisor risk says ends (issue 11, renewals): ``("renew_lease", lot
    id)`` for a GPU lease a lessor would renew now, ``("sign_contract", renewal offer id)`` for a contract
    whose customer has offered its renewal (not yet signed in the plan); None otherwise. The risk names
    the lease or contract in its subject ("lease:<lot id>", "contract:<id>", engine.advisor.SUBJECTS)."""
    what, _, item = risk.subject.partition(":")
    if risk.kind != "ending" or not item:
        return None
    if what == "lease":
        return ("renew_lease", item) if any(lot_id == item for _, lot_id in _ending_leases(s)) else None
    if what == "contract":
        from engine.actions import renewal_offer_id

        offer = renewal_offer_id(item)
        return ("sign_contract", offer) if any(oid == offer for _, oid in _contract_offers(s)) else None
    return None


def _alerted(s: Session, kind: str) -> str | None:
    """The item the worst alert of the dashboard names for this form: its key opens the form on it."""
    if s.over:
        return None
    for risk in s.advice().risks:
        target = alert_target(s, risk)
        if target is not None and target[0] == kind:
            return target[1]
    return None


def _d_renew(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    old = base.state.lot(a["lot_id"])
    new = _new_lot(after)
    if old is None or new is None:
        return []
    per_q = to_cents(new.lease_usd_per_hour * new.count * TICKS_PER_QUARTER)
    return [f"{new.count:,} {new.gen.upper()} stay from {s.quarter_label(new.arrives_quarter)} to {s.quarter_label(new.lease_end_quarter - 1)}",
            f"Take-or-pay: ${new.lease_usd_per_hour:.2f}/GPU-hour (now ${old.lease_usd_per_hour:.2f}) = {fmt_usd(per_q)} a quarter"]


def _d_sell(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    return [_cash_line(s, base, after), f"Capacity removed: {a['count']:,} GPUs from lot {a['lot_id']}"]


def _d_colo(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    site = after.state.sites[-1]
    rent = to_cents(colo_rent_usd(a["mw"], site.colo_usd_per_kw_month))
    return [_cash_line(s, base, after), f"Power added: {a['mw']:g} MW at ${site.colo_usd_per_kw_month:.0f}/kW/month ({fmt_usd(rent)} a quarter)",
            f"Ready: {s.quarter_label(s.state.quarter + 1)}"]


def _d_build(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    site = after.state.sites[-1]
    capex = site.capex_shell_cents + site.capex_power_cents
    rules = s.game.scenario.rules
    ready = site.stage_quarters_left + site.capex_quarters_total
    return [_cash_line(s, base, after), f"Capex: {fmt_usd(capex)} over the build; deposit now {fmt_usd(site.capex_spent_cents)}",
            f"Power added: {a['mw']:g} MW ({a['power_source']}), PUE {rules.owned_pue:.2f}; operating about {s.quarter_label(s.state.quarter + ready)} if there are no delays"]


def _d_release(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    return [_cash_line(s, base, after), "Rent stops from next quarter."]


def _d_price(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    m = s.game.observation().market.gpus[a["gen"]]
    price = m.on_demand_usd_per_hour * (1 + a["vs_market"])
    return [f"Your {a['gen'].upper()} on-demand price: ${price:.2f}/h (market ${m.on_demand_usd_per_hour:.2f}/h)",
            "Lower prices win more demand; elastic segments (hobbyists, startups) respond most."]


def _d_sign(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    o = next((o for o in s.state.offers.contracts if o.id == a["offer_id"]), None)
    if o is None:
        return []
    from engine.scenario import INVESTMENT_GRADE

    per_q = to_cents(o.gpus * o.usd_per_gpu_hour * TICKS_PER_QUARTER)
    added = s.term_capacity(after.state) - s.term_capacity(base.state)
    free = _free_gpus(base.state, o.gen)
    out = [f"Revenue: {fmt_usd(per_q)} a quarter for {o.term_quarters} quarters ({fmt_usd(per_q * o.term_quarters)} in all)",
           f"GPUs free of contracts and replicas: {free:,} {o.gen.upper()}; this contract takes {o.gpus:,}, leaving {max(0, free - o.gpus):,}"]
    if added > 0:
        out.append(f"Debt capacity it adds (term lender, next quarter's terms): {fmt_usd(added)}")
    else:
        out.append(f"Debt capacity it adds: $0, because {s.why_no_debt_capacity(after.state)}")
    if o.grade in INVESTMENT_GRADE:
        out.append(f"Counterparty grade {o.grade} (investment grade): lenders count it in full and it narrows your spread.")
    else:
        out.append(f"Counterparty grade {o.grade} (below investment grade): it may stop paying "
                   f"({s.world_quarter().sub_ig_default_prob:.1%} a quarter), and lenders lend on it at a wider spread.")
    return out


def _d_loan(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    o = next((o for o in s.state.offers.loans if o.id == a["offer_id"]), None)
    out = [_amount_line(a), _cash_line(s, base, after)]
    if o is not None:
        rate = s.game.observation().market.sofr + o.spread_bps / 10_000
        service = s.loan_service_cents(o.id, a["amount_usd"])
        # the covenant's trailing DSCR after the coming quarter at expected values (engine.advisor.forecast, as the
        # end-quarter confirmation): the past quarters alone read 0.00x before the first one is played
        fc = s.forecast(a)
        proj = None if fc is None else fc.dscr
        lock = s.game.scenario.rules.covenant_lockup_dscr if fc is None else fc.dscr_lockup
        out.append(f"First quarter's service: {fmt_usd(service)} (interest at {rate:.2%} + level principal over {o.tenor_quarters}q)")
        out.append(f"Projected DSCR after the quarter, at expected demand, with its service: {'n/a' if proj is None else f'{proj:.2f}x'} vs {lock:.2f}x lock-up")
        out.append(o.basis)
    return out


def _d_repay(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    return [_amount_line(a), _cash_line(s, base, after), f"Debt after: {fmt_usd(after.state.debt_cents)}"]


def _d_equity(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    founders = sum(h.shares for h in after.state.cap_table if h.kind == "founders")
    total = sum(h.shares for h in after.state.cap_table)
    before = sum(h.shares for h in base.state.cap_table if h.kind == "founders") / max(1, sum(h.shares for h in base.state.cap_table))
    return [_amount_line(a), _cash_line(s, base, after), f"Founders' ownership: {before:.1%} -> {founders / max(1, total):.1%}"]


def _no(reason: str, cond: Callable[[Session], bool]) -> Callable[[Session], str | None]:
    return lambda s: reason if cond(s) else None


# ---------------------------------------------------------------- managed inference (engine.inference)


def _inf(s: Session):
    """The inference state after the turn plan: a model deployed in the plan can be scaled in it."""
    return s.preview().state.inference


def _precisions(s: Session) -> list[tuple[str, str]]:
    """FP8 and FP4 serving need the fp8 project (engine.inference.check): named only while it is not done."""
    needs = "" if _inf(s).techniques.get("fp8") == 0 else " (needs the fp8 project)"
    return [("BF16", "bf16"), (f"FP8{needs}", "fp8"), (f"FP4{needs}", "fp4")]


def _deployed(s: Session) -> list[tuple[str, str]]:
    return [(f"{d.model} · {d.replicas} x {d.gpus_per_replica} {d.gen.upper()} · {d.precision.upper()}", d.model) for d in _inf(s).deployments]


def _undeployed(s: Session) -> list[tuple[str, str]]:
    from engine.models import MODELS

    inf = _inf(s)
    return [(f"{m.name} ({mid})", mid) for mid, m in MODELS.items() if inf.deployment(mid) is None]


def _pool_line(s: Session, st, gen: str) -> str:
    from engine.inference import base_gpus, gpus_in_use, pool_gpus

    inf = st.inference
    pool, used = pool_gpus(st, gen), gpus_in_use(inf, gen)
    return (f"{gen.upper()} pool: {base_gpus(st, gen):,} own + {inf.on_demand.get(gen, 0):,} on demand + {inf.spot.get(gen, 0):,} spot"
            f" = {pool:,}; {used:,} in replicas, {max(0, pool - used):,} free")


def _need_line(st, gen: str, need: int) -> str:
    from engine.inference import gpus_in_use, pool_gpus

    pool, used = pool_gpus(st, gen), gpus_in_use(st.inference, gen)
    return f"GPUs needed: {need:,} {gen.upper()}; free before it: {max(0, pool - used):,} (pool {pool:,}, {used:,} in replicas)"


def _inference_gens(s: Session) -> list[tuple[str, str]]:
    """Orderable generations, those the pool already holds first."""
    from engine.inference import pool_gpus

    st = s.preview().state
    gens = _gens(s)
    return sorted(gens, key=lambda o: -pool_gpus(st, o[1]))


def _techniques(s: Session) -> list[tuple[str, str]]:
    from engine.inference import PREREQUISITES

    inf = _inf(s)
    out = []
    for tech, (quarters, usd) in s.game.scenario.rules.inference.roadmap.items():
        if tech in inf.techniques:
            continue
        pre = PREREQUISITES.get(tech, ())
        needs = f" · needs {', '.join(p.replace('_', ' ') for p in pre)}" if pre else ""
        out.append((f"{tech.replace('_', ' ')} · {quarters}q at {fmt_usd(to_cents(usd))}/q{needs}", tech))
    return out


def _dedicable_gens(s: Session) -> list[tuple[str, str]]:
    from engine.actions import active_gpus

    st = s.state
    return [(f"{GPUS[g].name} · {active_gpus(st, g, st.quarter):,} in service · {st.inference.dedicated.get(g, 0):,} serving tokens", g)
            for g in GPUS if active_gpus(st, g, st.quarter) > 0]


def _last_model(s: Session, model: str):
    last = s.last
    if last is None or last.inference is None:
        return None
    return next((m for m in last.inference.models if m.model == model), None)


def _d_rent(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    gen = a["gen"]
    wq = s.world_quarter()
    params = s.game.scenario.rules.inference
    od_rate = wq.gpus[gen].on_demand_usd_per_hour * params.on_demand_rental_premium
    spot_rate = wq.gpus[gen].spot_usd_per_hour
    per_q = to_cents((a["on_demand"] * od_rate + a["spot"] * spot_rate) * TICKS_PER_QUARTER)
    return [_pool_line(s, after.state, gen),
            f"Rates: on demand ${od_rate:.2f}/GPU-hour (the cloud's on-demand price x {params.on_demand_rental_premium:g}), "
            f"spot ${spot_rate:.2f}/GPU-hour, reclaimed about {params.spot_reclaim_share:.0%} of hours",
            f"Rental bill: {fmt_usd(per_q)} this quarter, used or not"]


def _d_deploy(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    from engine.inference import SIZING_CONTEXT, replica_capacity

    inf = after.state.inference
    d = inf.deployment(a["model"])
    if d is None:
        return []
    tps = replica_capacity(d.model, d.gen, d.gpus_per_replica, d.precision, inf.stack(), SIZING_CONTEXT, d.tpot_ms, SIZING_CONTEXT)[0]
    market = s.market_token_price(d.model)
    return [f"Replica: {d.gpus_per_replica} {d.gen.upper()} (tensor parallel), about {tps:,.0f} output tokens/s at a {d.tpot_ms:g} ms TPOT target",
            _need_line(base.state, d.gen, d.replicas * d.gpus_per_replica),
            f"Market price: ${market:.3f} per M output tokens (input at 1/{s.game.scenario.rules.inference.output_price_multiple:g} of that)",
            "Cold start: replicas deployed this quarter load weights before the first request"] + (
                _disaggregation_lines(s, d) if a.get("disaggregated") else [])


def _serving_field(s: Session) -> list[FieldSpec]:
    """The serving option, offered once the disaggregation project is live (issue 12 item 3)."""
    if _inf(s).techniques.get("disaggregation") != 0:
        return []
    return [FieldSpec("disaggregated", "Serving", "select",
                      [("Colocated: prompts and decode share each replica", False),
                       ("Disaggregated: separate prefill and decode pools", True)], False)]


def _disaggregation_lines(s: Session, d) -> list[str]:
    """The engine's sizing of the two pools for this deployment's traffic (physics.disaggregation)."""
    from engine.inference import traffic_mix
    from engine.physics import disaggregation, resolve

    params = s.game.scenario.rules.inference
    prompt, output, cached = traffic_mix(params, d.model)
    m, g = resolve(d.model, d.gen)
    r = disaggregation(m, g, d.gpus_per_replica, d.precision, _inf(s).stack(), max(1, prompt), max(1, output),
                       params.ttft_sla_ms, d.tpot_ms, cached_share=cached)
    if r.disaggregated_goodput_rps_per_gpu <= 0:
        return [f"Disaggregated: no pool meets a {params.ttft_sla_ms:,.0f} ms TTFT and {d.tpot_ms:g} ms TPOT for this traffic"]
    prefill_replicas = min(max(1, round(d.replicas * r.prefill_gpu_share)), max(1, d.replicas - 1))  # whole replicas, both pools
    n = d.gpus_per_replica
    gain = r.disaggregated_goodput_rps_per_gpu / r.colocated_goodput_rps_per_gpu - 1 if r.colocated_goodput_rps_per_gpu > 0 else float("inf")
    return [f"Pools: {prefill_replicas:,} replicas prefill ({prefill_replicas * n:,} GPUs), {d.replicas - prefill_replicas:,} decode "
            f"({(d.replicas - prefill_replicas) * n:,} GPUs): {r.prefill_gpu_share:.0%} prefill, sized by the physics "
            f"for {prompt:,} in / {output:,} out, {cached:.0%} cached; KV cache crosses over in {r.kv_transfer_ms:.1f} ms",
            f"Goodput within a {params.ttft_sla_ms:,.0f} ms TTFT and {d.tpot_ms:g} ms TPOT: "
            f"{r.disaggregated_goodput_rps_per_gpu:.3f} requests/s per GPU vs {r.colocated_goodput_rps_per_gpu:.3f} colocated ({gain:+.0%}); "
            f"p95 TPOT {r.disaggregated_p95_tpot_ms:.0f} ms vs {r.colocated_p95_tpot_ms:.0f} ms"]


def _d_scale(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    d0 = base.state.inference.deployment(a["model"])
    d1 = after.state.inference.deployment(a["model"])
    if d0 is None or d1 is None:
        return []
    out = [f"Replicas: {d0.replicas} -> {d1.replicas} ({d0.replicas * d0.gpus_per_replica:,} -> {d1.replicas * d1.gpus_per_replica:,} {d1.gen.upper()})",
           _pool_line(s, after.state, d1.gen)]
    m = _last_model(s, a["model"])
    if m is not None:
        out.append(f"Last quarter: {m.replicas} replicas {m.utilization:.0%} busy, peak (p95) needed {m.replicas_needed_p95:,.1f}, "
                   f"{m.dropped_share:.1%} of real-time requests dropped")
    return out


def _d_retire(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    d = base.state.inference.deployment(a["model"])
    if d is None:
        return []
    out = [f"Frees {d.replicas * d.gpus_per_replica:,} {d.gen.upper()}; its customers go to competitors",
           _pool_line(s, after.state, d.gen)]
    m = _last_model(s, a["model"])
    if m is not None:
        out.append(f"Last quarter it earned {fmt_usd(to_cents(m.revenue_usd))} on {fmt_usd(to_cents(m.gpu_cost_usd))} of GPU cost")
    return out


def _d_token_price(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    d = after.state.inference.deployment(a["model"])
    if d is None:
        return []
    market = s.market_token_price(d.model)
    params = s.game.scenario.rules.inference
    cd = params.cached_discount if d.cached_discount is None else d.cached_discount
    bd = params.batch_discount if d.batch_discount is None else d.batch_discount
    out = [f"Your {d.model} price: ${market * (1 + d.price_vs_market):.3f} per M output tokens (market ${market:.3f} this quarter)",
           f"Cached input {cd:.0%} off, batch {bd:.0%} off; lower prices win more tokens, elastic segments respond most"]
    m = _last_model(s, a["model"])
    if m is not None:
        gm = "-" if m.gross_margin is None else f"{m.gross_margin:.0%}"
        out.append(f"Last quarter: ${m.price_out_usd_per_m:.3f} vs market ${m.market_out_usd_per_m:.3f}, {m.utilization:.0%} busy, gross margin {gm}")
    return out


def _d_fund(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    from engine.inference import PREREQUISITES

    quarters, usd = s.game.scenario.rules.inference.roadmap[a["technique"]]
    pre = PREREQUISITES.get(a["technique"], ())
    out = [f"R&D: {fmt_usd(to_cents(usd))} a quarter for {quarters} quarter(s), {fmt_usd(to_cents(usd * quarters))} in all",
           f"Live from {s.quarter_label(s.state.quarter + quarters)}: it changes the physics of every replica"]
    out += s.technique_gains(a["technique"])
    if pre:
        out.append(f"Builds on: {', '.join(p.replace('_', ' ') for p in pre)}")
    return out


def _d_dedicate(s: Session, a: dict, base: Preview, after: Preview) -> list[str]:
    from engine.actions import active_gpus, committed_gpus

    st = base.state
    gen = a["gen"]
    free = active_gpus(st, gen, st.quarter) - committed_gpus(st, gen, st.quarter)
    out = [f"{gen.upper()} in service and not under contract: {free:,}; {a['count']:,} serve tokens, {max(0, free - a['count']):,} stay for rent",
           _pool_line(s, after.state, gen)]
    k = s.last.kpis if s.last else None
    if k is not None and (k.revenue_per_gpu_hour_rental is not None or k.revenue_per_gpu_hour_inference is not None):
        r = "-" if k.revenue_per_gpu_hour_rental is None else f"${k.revenue_per_gpu_hour_rental:.2f}"
        i = "-" if k.revenue_per_gpu_hour_inference is None else f"${k.revenue_per_gpu_hour_inference:.2f}"
        out.append(f"Revenue per GPU-hour last quarter: rental {r} · inference {i}")
    return out


def _neocloud(s: Session) -> bool:
    return s.archetype == "neocloud"


def _no_deployments(s: Session) -> str | None:
    return None if _inf(s).deployments else "no model is deployed: deploy one (m) first"


def _rent_default(s: Session, which: str) -> int:
    return getattr(_inf(s), which).get("h100", 0)


def _refill_rent(s: Session, name: str, value: object) -> dict[str, object]:
    inf = _inf(s)
    return {"on_demand": inf.on_demand.get(str(value), 0), "spot": inf.spot.get(str(value), 0)} if name == "gen" else {}


def _refill_model(field_name: str, read: Callable) -> Callable[[Session, str, object], dict[str, object]]:
    def refill(s: Session, name: str, value: object) -> dict[str, object]:
        d = _inf(s).deployment(str(value)) if name == "model" else None
        return {field_name: read(d)} if d is not None else {}
    return refill


def _refill_dedicate(s: Session, name: str, value: object) -> dict[str, object]:
    return {"count": s.state.inference.dedicated.get(str(value), 0)} if name == "gen" else {}


FORMS: dict[str, FormSpec] = {
    "buy_gpus": FormSpec(
        "Buy GPUs", "b", "Order GPUs for one of your sites; paid now, delivered after the lead time",
        lambda s: [
            FieldSpec("gen", "Generation", "select", _gens(s), "h100" if any(v == "h100" for _, v in _gens(s)) else None),
            FieldSpec("count", "How many", "int", default=256, hint="GPUs; each needs site power"),
            FieldSpec("site_id", "Site", "select", _sites(s)),
        ],
        _d_buy, _no("you have no data-center site: lease colo (c) or build a campus (n) first", lambda s: not _sites(s)),
    ),
    "lease_gpus": FormSpec(
        "Lease GPUs", "g", "Rent GPUs from another cloud on a take-or-pay term: the flex layer",
        lambda s: [
            FieldSpec("gen", "Generation", "select", _gens(s), "h100" if any(v == "h100" for _, v in _gens(s)) else None),
            FieldSpec("count", "How many", "int", default=128),
            FieldSpec("term_quarters", "Term", "select", [("4 quarters", 4), ("8 quarters", 8), ("12 quarters", 12)], 4),
        ],
        _d_lease,
    ),
    "renew_lease": FormSpec(
        "Renew lease", "j", "Renew a GPU lease that ends within two quarters: the same GPUs, a new term at today's rate",
        lambda s: [
            FieldSpec("lot_id", "Lease", "select", _ending_leases(s), _alerted(s, "renew_lease")),  # the alert's lease (j from the alert)
            FieldSpec("term_quarters", "Term", "select", [("4 quarters", 4), ("8 quarters", 8), ("12 quarters", 12)], 4),
        ],
        _d_renew, _no("no GPU lease ends within two quarters (or each is renewed)", lambda s: not _ending_leases(s)),
    ),
    "sell_gpus": FormSpec(
        "Sell GPUs", "x", "Sell owned GPUs on the secondary market at this quarter's price",
        lambda s: [FieldSpec("lot_id", "Lot", "select", _owned_lots(s)), FieldSpec("count", "How many", "int", default=64)],
        _d_sell, _no("you own no delivered GPUs to sell", lambda s: not _owned_lots(s)),
    ),
    "lease_colo": FormSpec(
        "Lease colo", "c", "Lease colocation power ($/kW/month, power included); ready next quarter",
        lambda s: [FieldSpec("mw", "Megawatts", "float", default=2.0, hint="IT MW, up to 100")],
        _d_colo,
    ),
    "build_site": FormSpec(
        "Build a campus", "n", "Build an owned data center: permitting, interconnection, then construction",
        lambda s: [
            FieldSpec("mw", "Megawatts", "float", default=20.0, hint="5 to 1,000 MW"),
            FieldSpec("power_source", "Power", "select", [("Stranded gas", "stranded-gas"), ("Grid", "grid"), ("PPA", "ppa")], "stranded-gas"),
        ],
        _d_build,
    ),
    "release_site": FormSpec(
        "Release colo", "r", "End a colocation lease (the site must hold no GPUs)",
        lambda s: [FieldSpec("site_id", "Site", "select", _colo_sites(s))],
        _d_release, _no("you lease no colocation site", lambda s: not _colo_sites(s)),
    ),
    "set_price": FormSpec(
        "Set price", "p", "Set your on-demand price for a generation relative to the market rate",
        lambda s: [
            FieldSpec("gen", "Generation", "select", _gens(s, orderable=True), "h100"),
            FieldSpec("vs_market", "Versus market (%)", "pct", default=0, hint="-50 to +100; -10 = 10% below market"),
        ],
        _d_price, applies=_neocloud,  # an inference platform sells tokens, not GPU-hours
    ),
    "sign_contract": FormSpec(
        "Sign contract", "k", "Sign a reserved-capacity contract from this quarter's offers",
        lambda s: [FieldSpec("offer_id", "Offer", "select", _contract_offers(s), _alerted(s, "sign_contract"))],  # an alert's renewal offer first
        _d_sign,
        lambda s: "no contract offers this quarter" if not s.state.offers.contracts
        else ("every contract offer is already signed in your plan" if not _contract_offers(s) else None),
    ),
    "take_loan": FormSpec(
        "Take loan", "o", "Draw a loan from a lender's offer, up to its maximum",
        lambda s: [
            FieldSpec("offer_id", "Offer", "select", _loan_offers(s)),
            FieldSpec("amount_usd", "Amount ($)", "usd", default=_usd_default(_open_loan_offers(s)[0].max_cents) if _open_loan_offers(s) else 0),
        ],
        _d_loan,
        lambda s: "no loan offers this quarter" if not s.state.offers.loans
        else (f"covenant {s.state.covenant}: no new debt" if s.state.covenant in ("lock-up", "default")
              else ("every loan offer is already drawn in your plan" if not _open_loan_offers(s) else None)),
        refill=lambda s, name, value: {"amount_usd": _usd_default(o.max_cents) for o in _open_loan_offers(s) if o.id == value} if name == "offer_id" else {},
    ),
    "repay_loan": FormSpec(
        "Repay loan", "y", "Prepay part or all of a loan from cash",
        lambda s: [
            FieldSpec("loan_id", "Loan", "select", _loans(s)),
            # the default repays the loan the form selects, all of it (issue 11, item 5)
            FieldSpec("amount_usd", "Amount ($)", "usd", default=_usd_default(_open_loans(s)[0].balance_cents) if _open_loans(s) else 0),
        ],
        _d_repay, _no("no outstanding loans", lambda s: not _loans(s)),
        refill=lambda s, name, value: {"amount_usd": _usd_default(l.balance_cents) for l in _open_loans(s) if l.id == value} if name == "loan_id" else {},
    ),
    "raise_equity": FormSpec(
        "Raise equity", "i", "Sell new shares at the offer's pre-money valuation (dilutes founders)",
        lambda s: [
            FieldSpec("offer_id", "Offer", "select", _equity_offers(s)),
            FieldSpec("amount_usd", "Amount ($)", "usd", default=_usd_default(_open_equity_offers(s)[0].max_cents) if _open_equity_offers(s) else 0),
        ],
        _d_equity,
        lambda s: "no investor offers this quarter" if not s.state.offers.equity
        else ("every investor offer is already taken in your plan" if not _open_equity_offers(s) else None),
        refill=lambda s, name, value: {"amount_usd": _usd_default(o.max_cents) for o in _open_equity_offers(s) if o.id == value} if name == "offer_id" else {},
    ),
    # ---- managed inference (engine.inference): an inference platform, or a neocloud with the stack
    "rent_gpus": FormSpec(
        "Rent GPUs", "u", "Set the flex layer for a generation: GPUs rented on demand (pricey) and on spot (cheap, reclaimable)",
        lambda s: [
            FieldSpec("gen", "Generation", "select", _inference_gens(s), "h100"),
            FieldSpec("on_demand", "On demand", "int", default=_rent_default(s, "on_demand"), hint="GPUs, replaces the current number"),
            FieldSpec("spot", "Spot", "int", default=_rent_default(s, "spot"), hint="GPUs, replaces the current number"),
        ],
        _d_rent, applies=lambda s: s.runs_inference, refill=_refill_rent,
    ),
    "deploy_model": FormSpec(
        "Deploy model", "m", "Add a model to the catalog: replicas of n GPUs at a precision and a TPOT target",
        lambda s: [
            FieldSpec("model", "Model", "select", _undeployed(s)),
            FieldSpec("gen", "GPU", "select", _inference_gens(s)),
            FieldSpec("precision", "Precision", "select", _precisions(s), "fp8" if _inf(s).techniques.get("fp8") == 0 else "bf16"),
            FieldSpec("replicas", "Replicas", "int", default=4),
            FieldSpec("tpot_ms", "TPOT target (ms)", "float", default=60, hint="5 to 500 ms per output token"),
            FieldSpec("gpus_per_replica", "GPUs per replica", "int", optional=True, hint="blank: the size that serves most per GPU"),
        ] + _serving_field(s),
        _d_deploy, _no("every model is already deployed", lambda s: not _undeployed(s)), applies=lambda s: s.runs_inference,
    ),
    "scale_model": FormSpec(
        "Scale model", "s", "Set the number of replicas of a deployed model",
        lambda s: [
            FieldSpec("model", "Model", "select", _deployed(s)),
            FieldSpec("replicas", "Replicas", "int", default=_inf(s).deployments[0].replicas if _inf(s).deployments else 1),
        ],
        _d_scale, _no_deployments, applies=lambda s: s.runs_inference, refill=_refill_model("replicas", lambda d: d.replicas),
    ),
    "retire_model": FormSpec(
        "Retire model", "w", "Take a model out of the catalog and free its GPUs",
        lambda s: [FieldSpec("model", "Model", "select", _deployed(s))],
        _d_retire, _no_deployments, applies=lambda s: s.runs_inference,
    ),
    "set_token_price": FormSpec(
        "Set token price", "v", "Price a model's tokens relative to the market (input and output move together)",
        lambda s: [
            FieldSpec("model", "Model", "select", _deployed(s)),
            FieldSpec("vs_market", "Versus market (%)", "pct", default=round(_inf(s).deployments[0].price_vs_market * 100) if _inf(s).deployments else 0,
                      hint="-80 to +200; -10 = 10% below market"),
            FieldSpec("cached_discount", "Cached off (%)", "pct", optional=True, hint="blank: unchanged"),
            FieldSpec("batch_discount", "Batch off (%)", "pct", optional=True, hint="blank: unchanged"),
        ],
        _d_token_price, _no_deployments, applies=lambda s: s.runs_inference,
        refill=_refill_model("vs_market", lambda d: round(d.price_vs_market * 100)),
    ),
    "fund_technique": FormSpec(
        "Fund technique", "f", "Start an optimization project on the roadmap (KB §17); R&D is paid each quarter it is built",
        lambda s: [FieldSpec("technique", "Technique", "select", _techniques(s))],
        _d_fund, _no("every technique on the roadmap is done or being built", lambda s: not _techniques(s)),
        applies=lambda s: s.runs_inference,
    ),
    "dedicate_gpus": FormSpec(
        "Dedicate GPUs", "h", "Move some of your own GPUs from rental to serving tokens (the number that serve)",
        lambda s: [
            FieldSpec("gen", "Generation", "select", _dedicable_gens(s), "h100"),
            FieldSpec("count", "Serving tokens", "int", default=s.state.inference.dedicated.get("h100", 0), hint="GPUs, replaces the current number"),
        ],
        _d_dedicate, _no("you have no GPUs in service", lambda s: not _dedicable_gens(s)),
        applies=lambda s: s.runs_inference and s.archetype == "neocloud", refill=_refill_dedicate,
    ),
}


INFERENCE_FORMS = ("rent_gpus", "deploy_model", "scale_model", "retire_model", "set_token_price", "fund_technique", "dedicate_gpus")


def parse_number(text: str, kind: str, label: str) -> tuple[float | int | None, str]:
    """A form's number field (commas already removed) -> (value, "") or (None, why).

    Parsed as a Decimal, so what is typed is what is meant (issue 11: `500000.5` is $500,000.50,
    `9000000.50` is $9,000,000.50); dollars keep at most the cents; a percent is typed in percent
    and handed to the engine as a fraction. Bounded first (issue 10: 309 digits made float('inf'))."""
    try:
        num = Decimal(text)
    except InvalidOperation:
        return None, f"{label} must be a number"
    if not num.is_finite() or abs(num) > MAX_USD:
        return None, f"{label} must be a number from -{MAX_USD:,} to {MAX_USD:,}"
    if kind == "int":
        if num != num.to_integral_value():
            return None, f"{label} must be a whole number"
        return int(num), ""
    if kind == "usd":
        if num != num.quantize(Decimal("0.01")):
            return None, f"{label} is in dollars and cents: at most two decimals"
        return (int(num) if num == num.to_integral_value() else float(num)), ""
    if kind == "pct":
        return float(num / 100) + 0.0, ""  # + 0.0: a typed "-0" is 0, not -0.0 ("market -0%")
    return float(num) + 0.0, ""


_ACTION_MODELS: dict[str, type] = {}


def field_bounds(kind: str, name: str) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low exclusive, high exclusive) of an action field, read from the engine's own
    pydantic model (engine.actions), so the form and the engine agree on what is valid."""
    import annotated_types as at

    if not _ACTION_MODELS:
        from typing import get_args

        from engine.actions import Action

        for model in get_args(get_args(Action)[0]):
            _ACTION_MODELS[model.model_fields["kind"].default] = model
    model = _ACTION_MODELS.get(kind)
    info = model.model_fields.get(name) if model is not None else None
    low = high = None
    low_x = high_x = False
    for m in (info.metadata if info is not None else ()):
        if isinstance(m, at.Ge):
            low = m.ge
        elif isinstance(m, at.Gt):
            low, low_x = m.gt, True
        elif isinstance(m, at.Le):
            high = m.le
        elif isinstance(m, at.Lt):
            high, high_x = m.lt, True
    return low, high, low_x, high_x


def _plain(x: float, kind: str) -> str:
    """A bound in the units the player types: percent for percent fields, with thousands separators."""
    v = x * 100 if kind == "pct" else x
    text = f"{abs(v):,.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{abs(int(v)):,}"
    sign = "-" if v < 0 else ("+" if kind == "pct" and v > 0 else "")
    return f"{sign}${text}" if kind == "usd" else f"{sign}{text}{'%' if kind == 'pct' else ''}"


def out_of_bounds(action_kind: str, f: FieldSpec, value: float) -> str:
    """Why ``value`` is outside the engine's limits for the field, in the player's words and units; "" if within."""
    low, high, low_x, high_x = field_bounds(action_kind, f.name)
    below = low is not None and (value <= low if low_x else value < low)
    above = high is not None and (value >= high if high_x else value > high)
    if not (below or above):
        return ""
    unit = ""
    if f.kind == "int" and low is not None and low_x:
        low, low_x = int(low) + 1, False  # "more than 0" reads better as "from 1"
    if low is not None and high is not None and not (low_x or high_x):
        return f"{f.label} must be from {_plain(low, f.kind)} to {_plain(high, f.kind)}{unit}"
    parts = []
    if low is not None:
        parts.append(f"{'more than' if low_x else 'at least'} {_plain(low, f.kind)}{unit}")
    if high is not None:
        parts.append(f"{'less than' if high_x else 'at most'} {_plain(high, f.kind)}{unit}")
    return f"{f.label} must be {' and '.join(parts)}"


_CLI_WORDS = (  # the physics' advice names the calculator's flags (tycoon calc); a form names its fields
    (re.compile(r"--precision (bf16|fp8|fp4)\b"), lambda m: f"{m.group(1).upper()} precision"),
    (re.compile(r"--gpus (\d+)"), lambda m: f"{m.group(1)} GPUs per replica"),
    (re.compile(r"--batch (\d+)"), lambda m: f"a batch of {m.group(1)}"),
    (re.compile(r"--tpot-ms"), lambda m: "the TPOT target"),
    (re.compile(r"more --gpus"), lambda m: "more GPUs per replica"),
    (re.compile(r"--stack"), lambda m: "stack (f: the optimization projects)"),
    (re.compile(r"--precision"), lambda m: "precision"),
    (re.compile(r"\(fund_technique (\w+)\)"), lambda m: f"(f: fund the {m.group(1)} project)"),
    (re.compile(r"^Not done: (\w+):"), lambda m: f"Not done: {FORMS[m.group(1)].title if m.group(1) in FORMS else m.group(1).replace('_', ' ')}:"),
)


def player_words(message: str) -> str:
    """An engine message as a form shows it: the calculator's flags and action kinds (`--tpot-ms`,
    `fund_technique fp8`, `rent_gpus`) become the fields and keys the player sees (issue 11, item 4)."""
    if "--" not in message and "_" not in message:
        return message
    for pattern, words in _CLI_WORDS:
        message = pattern.sub(words, message)
    return message


NOT_AN_INFERENCE_DECISION = {  # an inference platform's key for a neocloud decision says what to do instead
    "set_price": "an inference platform sells tokens, not GPU-hours: v sets a model's token price",
    "dedicate_gpus": "an inference platform's GPUs already serve tokens: h moves a neocloud's own GPUs to tokens",
}


def unavailable_reason(kind: str, s: Session) -> str | None:
    spec = FORMS.get(kind)
    if spec is None:
        return f"unknown action {kind!r}"
    if not spec.applies(s):
        if s.archetype == "neocloud" and not s.runs_inference:  # the managed-inference keys (u m s w v f h)
            return "this company runs no inference stack: it sells GPU-hours, not tokens"
        if s.archetype == "neocloud":
            return "not a decision for this company"
        return NOT_AN_INFERENCE_DECISION.get(kind, "an inference platform does not do this")
    if s.over:
        return "the game is over"
    return spec.unavailable(s)


def applies(kind: str, s: Session) -> bool:
    spec = FORMS.get(kind)
    return spec is not None and spec.applies(s)


class ActionForm(ModalScreen[str | None]):
    """A decision: fields, a live verdict from the engine, the preview of its effect."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without adding"),
        Binding("ctrl+enter", "submit", "Add to plan", id="form.submit", tooltip="Queue this action"),
    ]

    AUTO_FOCUS = None  # on_mount focuses the first number field (a key typed early must find it, not a choice)
    DEFAULT_CSS = """
    ActionForm .field Input:focus, ActionForm .field Select:focus > SelectCurrent { background: $accent 35%; }
    ActionForm .field:focus-within > .field-label { text-style: bold reverse; }
    /* a focus-within rule on the row itself: Textual restyles a row's children on focus moves only then */
    ActionForm .field:focus-within { background-tint: $accent 5%; }
    """

    def __init__(self, kind: str, session: Session) -> None:
        super().__init__(classes="form-screen")
        self._typed_early = ""  # keys typed before the first field had focus (issue 11: `b300` must give 300)
        self.kind = kind
        self.session = session
        self.spec = FORMS[kind]
        self.fields = self.spec.fields(session)
        self.action_dict: dict | None = None
        self.choices: dict[str, object] = {}  # each select's last value: refill only on a real change

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="dialog"):
            yield Label(self.spec.title, classes="dialog-title")
            yield Static(self.spec.help, classes="muted")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    with Horizontal(classes="field"):
                        yield Label(f.label, classes="field-label")
                        if f.kind == "select":
                            options = [(label, value) for label, value in f.options]
                            default = f.default if any(v == f.default for _, v in options) else (options[0][1] if options else Select.NULL)
                            self.choices[f.name] = default
                            yield Select(options, value=default, allow_blank=not options, id=f"f-{f.name}", compact=True)
                        else:
                            # "number" for every field: an "integer" input silently drops a typed "." (issue 11, item 3)
                            yield Input(value="" if f.default is None else str(f.default), type="number", id=f"f-{f.name}",
                                        placeholder=f.hint, select_on_focus=True, compact=True)
            yield Static("", id="verdict")
            yield Static("", id="preview")
            with Horizontal(classes="buttons"):
                yield Button("Add to plan", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        for inp in self.query(Input):
            inp.cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        first_input = next(iter(self.query(Input)), None)
        if first_input is not None:
            first_input.focus()
            if self._typed_early:
                first_input.value = self._typed_early
                first_input.cursor_position = len(first_input.value)
        else:
            self.query_one("#submit", Button).focus()
        self.update_preview()

    def take_early_key(self, character: str | None) -> bool:
        """A digit typed right after the form's key, before this form had focus: it reached the
        screen underneath. It belongs in the first field (issue 11: `b300` must give 300)."""
        if not character or character not in "0123456789.-+" or isinstance(self.focused, (Select, Button)):
            return False  # a key pressed on a choice or a button is not a lost digit
        first_input = next(iter(self.query(Input)), None) if self.is_mounted else None
        if self.is_mounted and first_input is None:
            return False
        self._typed_early += character
        if first_input is not None and first_input.is_mounted:
            first_input.value = self._typed_early
            first_input.cursor_position = len(self._typed_early)
        return True

    def build(self) -> tuple[dict | None, str]:
        a: dict = {"kind": self.kind}
        for f in self.fields:
            w = self.query_one(f"#f-{f.name}")
            if isinstance(w, Select):
                if w.value is Select.NULL:
                    return None, f"choose a {f.label.lower()}"
                a[f.name] = w.value
            else:
                text = w.value.strip().replace(",", "")  # type: ignore[union-attr]
                if not text and f.optional:
                    continue
                if not text:
                    return None, f"enter {f.label.lower()}"
                value, error = parse_number(text, f.kind, f.label)
                if error:
                    return None, error
                error = out_of_bounds(self.kind, f, value)
                if error:
                    return None, error
                a[f.name] = value
        return a, ""

    @on(Select.Changed)
    def _choice_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "")[2:]
        if self.spec.refill is not None and self.choices.get(name) != event.value:
            for other, value in self.spec.refill(self.session, name, event.value).items():
                w = self.query_one(f"#f-{other}")
                if isinstance(w, Input):
                    w.value = str(value)
        self.choices[name] = event.value
        self.update_preview()

    @on(Input.Changed)
    def update_preview(self) -> None:
        a, problem = self.build()
        verdict = self.query_one("#verdict", Static)
        preview = self.query_one("#preview", Static)
        self.action_dict = None
        if a is None:
            verdict.update(f"✗ {problem}")
            verdict.set_class(True, "bad")
            preview.update("")
            return
        base = self.session.preview()
        after = self.session.preview(a)
        result = after.results[-1]
        verdict.set_class(not result.ok, "bad")
        verdict.set_class(result.ok, "good")
        if not result.ok:
            verdict.update(f"✗ {result.message}")
            preview.update("")
            return
        self.action_dict = a
        verdict.update(f"✓ {result.message}")
        try:
            preview.update("\n".join(self.spec.describe(self.session, a, base, after)))
        except Exception as exc:  # a preview line must never crash the form
            preview.update(f"(preview unavailable: {exc})")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        if self.action_dict is None:
            self.update_preview()
            if self.action_dict is None:
                self.app.bell()
                return
        result = self.session.add(self.action_dict)
        if result.ok:
            self.dismiss(result.message)
        else:
            self.query_one("#verdict", Static).update(f"✗ {result.message}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
