"""The debrief: the decisions that mattered most, and whole-game series for the charts.

Pure: reads the quarter reports and the action log, never the world's hidden future, and does no
I/O. Each heuristic estimates a decision's effect in cents with the engine's own formulas
(``engine.finance``, ``engine.economics``, the market each quarter showed) and explains it in the
knowledge base's words:

- buying GPUs that then sat idle: "buying on speculation", the middle the barbell avoids (KB §20);
- buying GPUs that stayed busy: owning the base load beats paying a lessor's margin (KB §3, §20);
- contracts signed before prices moved: a fixed-for-floating swap marked to market (KB §1, §2);
- leases: the flex layer's cost against what the capacity earned (KB §3 option value, §20);
- demand turned away while capacity was short (KB §2 spikes, §20 flex layer);
- debt: interest paid and the DSCR path against the covenant (KB §4, §6);
- covenant lock-ups (cash swept) and the end of the company (KB §4, §6);
- equity: the founders' ownership sold, valued at the end (KB §5, §6);
- sites built and left empty: committed CapEx without revenue certainty (KB §18, §20).

Estimates, not accounting: they rank what to reflect on. Amounts are integer cents.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engine.actions import lease_rate
from engine.calendar import TICKS_PER_QUARTER
from engine.economics import owned_gpu_hourly_cost
from engine.finance import contract_mark_to_market, breakeven_utilization, capital_charge_per_hour, straight_line_per_hour
from engine.hardware import GPUS
from engine.money import fmt_usd, to_cents
from engine.report import QuarterReport
from engine.scenario import Scenario
from engine.step import BATCH_PRICE_SHARE

RESERVED_TERMS = (4, 8, 12)
BUSY_UTILIZATION = 0.80  # a purchase counts as well-used above this (KB §20: base load runs at 85%+)
OBSERVE_QUARTERS = 4  # how long after delivery a purchase's utilization is judged


@dataclass(frozen=True)
class Decision:
    quarter: str  # label of the quarter the decision was made (or the situation arose)
    title: str
    text: str
    impact_cents: int  # estimated effect on cash or the founders' value; negative = cost
    section: str  # "KB §20"
    kind: str = ""  # heuristic that found it: "speculative_purchase", "contract", ...


# ------------------------------------------------------------------------------ helpers


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _usd(dollars: float) -> str:
    return fmt_usd(to_cents(dollars))


def _ok_actions(report: QuarterReport) -> list[tuple[dict, str]]:
    return [(a.action, a.message) for a in report.actions if a.ok]


def _gen_kpi(report: QuarterReport, gen: str):
    return next((g for g in report.kpis.by_gen if g.gen == gen), None)


def _std_term(term: int) -> int:
    """The market's reserved term closest to a contract's (long scripted terms price like 3 years)."""
    return min(RESERVED_TERMS, key=lambda t: (abs(t - term), t))


def _site_power(scenario: Scenario, reports: list[QuarterReport]) -> dict[str, str]:
    """Power source per site id: the scenario's sites, then sites built or leased during the game."""
    out = {s.id: s.power_source for s in scenario.company.sites}
    for r in reports:
        for action, message in _ok_actions(r):
            m = re.search(r"\((\w+)\)$", message)
            if not m:
                continue
            if action["kind"] == "build_site":
                out[m.group(1)] = action.get("power_source", "stranded-gas")
            elif action["kind"] == "lease_colo":
                out[m.group(1)] = "grid"
    return out


def _owned_hourly(report: QuarterReport, scenario: Scenario, gen: str, power: str = "grid", wacc: float | None = None) -> float:
    """All-in hourly cost of a GPU bought in that quarter: depreciation, capital charge, power, ops (KB §3)."""
    rules = scenario.rules
    quote = report.market.gpus[gen]
    unit = quote.list_price_usd * (1 + rules.networking_share)
    kwh = report.market.electricity_usd_per_kwh.get(power, report.market.electricity_usd_per_kwh.get("grid", 0.09))
    rate = scenario.world.capital_charge_rate if wacc is None else wacc
    return owned_gpu_hourly_cost(unit, rules.gpu_life_years, GPUS[gen].tdp_w, kwh, rules.owned_pue, rate,
                                 other_hourly=rules.ops_usd_per_gpu_hour)


# ------------------------------------------------------------------------------ heuristics


def _purchases(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Big GPU purchases judged by the utilization that followed (KB §3 breakeven, KB §20 barbell)."""
    rules = scenario.rules
    power = _site_power(scenario, reports)
    out = []
    for i, r in enumerate(reports):
        bought: dict[str, tuple[int, str]] = {}
        for action, _ in _ok_actions(r):
            if action["kind"] == "buy_gpus":
                n, site = bought.get(action["gen"], (0, action["site_id"]))
                bought[action["gen"]] = (n + action["count"], site)
        for gen, (count, site) in bought.items():
            quote = r.market.gpus[gen]
            unit = quote.list_price_usd * (1 + rules.networking_share)
            arrive = i + max(1, quote.lead_time_quarters)
            window = [k for k in (_gen_kpi(x, gen) for x in reports[arrive:arrive + OBSERVE_QUARTERS]) if k]
            if not window:
                continue
            util = _marginal_utilization(_gen_kpi(r, gen), window, count)
            fleet_util = sum(k.utilization for k in window) / len(window)
            own = _owned_hourly(r, scenario, gen, power.get(site, "grid"))
            breakeven = min(1.0, breakeven_utilization(own, quote.on_demand_usd_per_hour))
            hours = count * TICKS_PER_QUARTER * len(window)
            capital_hourly = straight_line_per_hour(unit, rules.gpu_life_years) + capital_charge_per_hour(
                unit, scenario.world.capital_charge_rate)
            name = f"{count:,} {gen.upper()}"
            cost = fmt_usd(to_cents(unit * count))
            if util < breakeven:
                idle = hours * (1 - util)
                impact = -idle * capital_hourly
                out.append(Decision(
                    r.label, f"Bought {name} on speculation",
                    f"You paid {cost} for {name}; over the next {len(window)} quarter(s) they added busy hours worth "
                    f"only {_pct(util)} of their capacity (the {gen.upper()} fleet averaged {_pct(fleet_util)}), below the {_pct(breakeven)} breakeven at which owning beats renting "
                    f"on demand (${own:.2f}/h owned vs ${quote.on_demand_usd_per_hour:.2f}/h). About {idle:,.0f} idle "
                    f"GPU-hours still paid depreciation and the cost of capital, ~{_usd(-impact)}. This is the middle "
                    "the barbell avoids: ownership costs without revenue certainty. Own what contracts keep busy; "
                    "lease the flex.",
                    to_cents(impact), "KB §20", "speculative_purchase",
                ))
            elif util >= max(breakeven, BUSY_UTILIZATION):
                lease = quote.lease_usd_per_hour
                saved = (lease - own) * hours
                if saved <= 0:
                    continue
                out.append(Decision(
                    r.label, f"Owned the base load: {name}",
                    f"The {cost} purchase of {name} was put to work: it added busy hours worth {_pct(util)} of its "
                    f"capacity. Owned, a GPU-hour cost about "
                    f"${own:.2f} against ${lease:.2f} to lease: ~{_usd(saved)} kept over {len(window)} quarter(s) "
                    "instead of paying a lessor's margin. Own the certain base load (KB §20).",
                    to_cents(saved), "KB §3", "base_load_purchase",
                ))
    return out


def _marginal_utilization(before, window: list, count: int) -> float:
    """Busy GPU-hours the purchase added, as a share of its capacity: (busy after - busy before) / count.

    The fleet's average utilization hides a speculative purchase behind the GPUs that were
    already busy; the change in busy GPUs is what the new ones earned.
    """
    busy_before = before.utilization * before.gpus if before else 0.0
    busy_after = sum(k.utilization * k.gpus for k in window) / len(window)
    return max(0.0, min(1.0, (busy_after - busy_before) / count))


def _contract_details(reports: list[QuarterReport], i: int, offer_id: str, message: str) -> tuple[str, str, int, int, float] | None:
    """(customer, gen, gpus, term, price) of a signed offer: from last quarter's offers, else the message."""
    if i > 0:
        for o in reports[i - 1].offers.contracts:
            if o.id == offer_id:
                return o.customer, o.gen, o.gpus, o.term_quarters, o.usd_per_gpu_hour
    m = re.match(r"signed (.+): ([\d,]+) (\w+) for (\d+) quarters at \$([\d.]+)/h", message)
    if not m:
        return None
    return m.group(1), m.group(3).lower(), int(m.group(2).replace(",", "")), int(m.group(4)), float(m.group(5))


def _defaulted(reports: list[QuarterReport], customer: str) -> int | None:
    for j, r in enumerate(reports):
        if any(n.title == "Customer default" and n.text.startswith(customer) for n in r.news):
            return j
    return None


def _contracts(reports: list[QuarterReport]) -> list[Decision]:
    """Contracts as fixed-for-floating swaps, marked against the market's later reserved rates (KB §1, §2)."""
    out = []
    for i, r in enumerate(reports):
        signed = []
        for action, message in _ok_actions(r):
            if action["kind"] != "sign_contract":
                continue
            d = _contract_details(reports, i, action["offer_id"], message)
            if d is None:
                continue
            customer, gen, gpus, term, price = d
            end = min(i + term, len(reports))
            stop = _defaulted(reports, customer)
            if stop is not None and stop >= i:
                end = min(end, stop)
            floating = [reports[j].market.gpus[gen].reserved_usd_per_hour[_std_term(term)] for j in range(i, end) if gen in reports[j].market.gpus]
            mtm = contract_mark_to_market(price, floating, gpus)
            signed.append((customer, gen, gpus, term, price, mtm, floating, stop))
        if not signed:
            continue
        total = sum(s[5] for s in signed)
        gpus = sum(s[2] for s in signed)
        names = ", ".join(f"{s[0]} ({s[2]:,} {s[1].upper()} x {s[3]}q at ${s[4]:.2f}/h)" for s in signed)
        last = [s[6][-1] for s in signed if s[6]]
        later = f" the market's comparable rate ended at ${min(last):.2f}-{max(last):.2f}/h;" if last else ""
        defaults = [s[0] for s in signed if s[7] is not None]
        tail = f" {', '.join(defaults)} later defaulted: sub-investment-grade revenue carries that risk." if defaults else ""
        if total >= 0:
            title = f"Locked in {gpus:,} GPUs before prices fell" if total > 0 else f"Signed {gpus:,} GPUs at market"
            text = (f"You signed {names}. A reserved contract is a fixed-for-floating swap: you receive fixed, "
                    f"the market floats;{later} so the contracts earned ~{_usd(total)} above market over the quarters "
                    "played. Existing contracts become more valuable as prices deflate, and they are the cash "
                    f"flow lenders finance.{tail}")
        else:
            title = f"Sold {gpus:,} GPUs forward before prices rose"
            text = (f"You signed {names}. As a fixed-for-floating swap it lost ~{_usd(-total)} against the "
                    f"market:{later} when demand pushes prices up, the provider forgoes higher-paying customers. "
                    f"That is the price of certainty; the hedge still backs your debt.{tail}")
        out.append(Decision(r.label, title, text, to_cents(total), "KB §1", "contract"))
    return out


def _leases(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """The flex layer: what leased GPUs cost against what the fleet earned per GPU-hour (KB §3, §20)."""
    out = []
    for i, r in enumerate(reports):
        leased: dict[tuple[str, int], int] = {}
        for action, _ in _ok_actions(r):
            if action["kind"] == "lease_gpus":
                key = (action["gen"], action["term_quarters"])
                leased[key] = leased.get(key, 0) + action["count"]
        for (gen, term), count in leased.items():
            rate = lease_rate(r.market, gen, term)
            window = reports[i:i + term]
            earned = sum(_gen_revenue_per_hour(x, gen) for x in window) / len(window)
            util = sum(_gen_utilization(x, gen) for x in window) / len(window)
            hours = count * TICKS_PER_QUARTER * len(window)
            impact = (earned - rate) * hours
            own = _owned_hourly(r, scenario, gen)
            verdict = ("The flex layer paid for itself" if impact >= 0 else "The flex layer cost more than it earned")
            out.append(Decision(
                r.label, f"Leased {count:,} {gen.upper()} for {term} quarters",
                f"You leased {count:,} {gen.upper()} at ${rate:.2f}/GPU-hour, take-or-pay, against ~${own:.2f}/h to "
                f"own one. Over {len(window)} quarter(s) your {gen.upper()} fleet earned ${earned:.2f} per GPU-hour at "
                f"{_pct(util)} utilization: {verdict.lower()}, ~{_usd(impact)}. Renting is a call option on "
                "compute: you pay a premium to hand the GPUs back, and the obsolescence risk sits with the lessor.",
                to_cents(impact), "KB §3", "lease",
            ))
    return out


def _gen_utilization(report: QuarterReport, gen: str) -> float:
    """Busy share of a generation's GPUs: rental KPIs, or its inference replicas' utilization."""
    if report.inference is not None and not report.kpis.by_gen:
        models = [m for m in report.inference.models if m.gen == gen and m.gpus > 0]
        gpus = sum(m.gpus for m in models)
        return sum(m.utilization * m.gpus for m in models) / gpus if gpus else 0.0
    k = _gen_kpi(report, gen)
    return k.utilization if k else 0.0


def _gen_revenue_per_hour(report: QuarterReport, gen: str) -> float:
    """Revenue per GPU-hour of capacity of one generation: its served hours at the quarter's prices.

    Reserved revenue is shared by reserved hours; on demand at your price, batch at its share of
    it, spot at the market's spot rate (the engine's own billing rules). An inference platform's
    GPUs earn token revenue: its replicas' revenue over their GPU-hours.
    """
    if report.inference is not None and not report.kpis.by_gen:
        models = [m for m in report.inference.models if m.gen == gen and m.gpus > 0]
        gpus = sum(m.gpus for m in models)
        return sum(m.revenue_usd for m in models) / (gpus * TICKS_PER_QUARTER) if gpus else 0.0
    k = _gen_kpi(report, gen)
    if k is None or k.gpus <= 0:
        return 0.0
    hours = k.served_gpu_hours
    all_reserved = sum(g.served_gpu_hours.get("reserved", 0.0) for g in report.kpis.by_gen)
    reserved = report.income.rev_reserved / 100 * hours.get("reserved", 0.0) / all_reserved if all_reserved else 0.0
    spot = report.market.gpus[gen].spot_usd_per_hour if gen in report.market.gpus else 0.0
    revenue = (reserved + hours.get("on_demand", 0.0) * k.price_usd_per_hour
               + hours.get("batch", 0.0) * k.price_usd_per_hour * BATCH_PRICE_SHARE + hours.get("spot", 0.0) * spot)
    return revenue / (k.gpus * TICKS_PER_QUARTER)


def _deflation(reports: list[QuarterReport]) -> list[Decision]:
    """Uncontracted hours sold at falling prices: the exposed position (KB §2)."""
    if len(reports) < 2:
        return []
    first: dict[str, float] = {}
    lost = hours = 0.0
    worst, worst_loss = None, 0.0
    for r in reports:
        q_loss = 0.0
        for k in r.kpis.by_gen:
            if k.gen not in r.market.gpus:
                continue
            rate = r.market.gpus[k.gen].on_demand_usd_per_hour
            first.setdefault(k.gen, rate)
            od = k.served_gpu_hours.get("on_demand", 0.0)
            q_loss += od * max(0.0, first[k.gen] - rate)
            hours += od
        lost += q_loss
        if q_loss > worst_loss:
            worst, worst_loss = r, q_loss
    if worst is None or lost <= 0:
        return []
    c0, c1 = reports[0].kpis.contracted_share, reports[-1].kpis.contracted_share
    return [Decision(
        worst.label, "Uncontracted capacity rode prices down",
        f"You sold {hours:,.0f} on-demand GPU-hours; at the first quarter's market rates they would have brought "
        f"~{_usd(lost)} more. Contracted share went from {_pct(c0)} to {_pct(c1)} of revenue. Contracted revenue is "
        "hedged; uncontracted revenue is an outright bet on future pricing, and in a deflationary market (new "
        "generations, falling rents) the uncontracted capacity must compete at lower prices.",
        -to_cents(lost), "KB §2", "deflation",
    )]


def _lost_demand(reports: list[QuarterReport], log: list[list[dict]]) -> list[Decision]:
    """Demand turned away for lack of capacity, valued at what a 1-year lease would have earned (KB §2, §20)."""
    total_hours = forgone = asked = 0.0
    worst, worst_hours = None, 0.0
    for r in reports:
        q_hours = 0.0
        for k in r.kpis.by_gen:
            if k.lost_gpu_hours <= 0 or k.gen not in r.market.gpus:
                continue
            margin = max(0.0, k.price_usd_per_hour - r.market.gpus[k.gen].lease_usd_per_hour)
            forgone += k.lost_gpu_hours * margin
            q_hours += k.lost_gpu_hours
        asked += sum(sum(k.served_gpu_hours.values()) + k.lost_gpu_hours for k in r.kpis.by_gen)
        total_hours += q_hours
        if q_hours > worst_hours:
            worst, worst_hours = r, q_hours
    if worst is None or forgone <= 0:
        return []
    grew = any(a["kind"] in ("buy_gpus", "lease_gpus") for r in reports for a, _ in _ok_actions(r)) or any(
        a.get("kind") in ("buy_gpus", "lease_gpus") for quarter in log for a in quarter)
    title = "Demand turned away" if grew else "Standing still while demand grew"
    return [Decision(
        worst.label, title,
        f"Customers asked for {total_hours:,.0f} GPU-hours you could not serve ({_pct(total_hours / asked if asked else 0)} "
        f"of all demand), most in {worst.label}. Leased at the 1-year rate, that capacity would have earned "
        f"~{_usd(forgone)} above its cost. Correlated spikes (a model release, a viral demo) hit every customer at "
        "once: a rented flex layer scales up for them and back down after.",
        -to_cents(forgone), "KB §20", "lost_demand",
    )]


def _debt(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Borrowing: after-tax interest paid and how DSCR held against the covenant (KB §4, §6)."""
    rules = scenario.rules
    draws = [(i, a) for i, r in enumerate(reports) for a, _ in _ok_actions(r) if a["kind"] == "take_loan"]
    if not draws:
        return []
    total = sum(a["amount_usd"] for _, a in draws)
    out = []
    for i, r in enumerate(reports):
        amount = sum(a["amount_usd"] for j, a in draws if j == i)
        if not amount:
            continue
        later = reports[i:]
        interest = sum(x.income.interest for x in later) / 100 * amount / total * (1 - rules.tax_rate)
        path = [x.kpis.dscr for x in later if x.kpis.dscr is not None]
        low = min(path) if path else None
        breaches = [x.label for x in later if x.kpis.covenant in ("lock-up", "default")]
        if low is None:
            cover = "no debt service was tested"
        elif breaches:
            cover = (f"DSCR fell as low as {low:.2f}x against the {rules.covenant_lockup_dscr:.2f}x lock-up "
                     f"(breached in {', '.join(breaches[:3])}{'...' if len(breaches) > 3 else ''})")
        else:
            cover = f"DSCR never fell below {low:.2f}x, clear of the {rules.covenant_lockup_dscr:.2f}x lock-up"
        out.append(Decision(
            r.label, f"Borrowed {_usd(amount)}",
            f"You drew {_usd(amount)} of debt; its share of the interest that followed cost ~{_usd(interest)} after "
            f"the {_pct(rules.tax_rate)} tax shield, and {cover}. Lenders size debt by DSCR on contracted cash flow: "
            "longer tenor and contracted revenue keep the ratio resilient.",
            -to_cents(interest), "KB §4", "debt",
        ))
    return out


def _covenant(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Lock-ups: cash swept to the lenders while DSCR sat under the covenant (KB §4)."""
    rules = scenario.rules
    locked = [r for r in reports if r.kpis.covenant == "lock-up"]
    if not locked:
        return []
    swept = sum(-r.cash_flow.lines.get("financing:Cash sweep", 0) for r in reports)
    low = min((r.kpis.dscr for r in locked if r.kpis.dscr is not None), default=None)
    dscr_text = f" at DSCR {low:.2f}x" if low is not None else ""
    return [Decision(
        locked[0].label, "Covenant lock-up",
        f"DSCR fell under the {rules.covenant_lockup_dscr:.2f}x lock-up{dscr_text} for {len(locked)} quarter(s): no "
        f"new debt, and {fmt_usd(swept)} of cash was swept to the lenders. Thin coverage leaves one bad quarter "
        "between you and a breach; longer tenor (lower annual service) and contracted revenue buy headroom.",
        -swept, "KB §4", "covenant",
    )]


def _ending(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Bankruptcy: the value lost, and its cause in the knowledge base's words (KB §4, §6)."""
    last = reports[-1]
    if not last.bankrupt:
        return []
    before = reports[-2].score.score_cents if len(reports) > 1 else last.score.start_value_cents
    lost = max(before, last.score.start_value_cents)
    path = ", ".join(f"{r.label} {r.kpis.dscr:.2f}x" for r in reports[-4:] if r.kpis.dscr is not None)
    if last.end_reason.startswith("Covenant"):
        text = (f"{last.end_reason} DSCR path: {path or 'n/a'}. Debt requires predictability: when cash flow "
                "available for debt service cannot cover interest and principal and no equity cure arrives, the "
                f"lenders take the assets. The founders' stake, {fmt_usd(lost)}, went to zero.")
        section = "KB §4"
    else:
        text = (f"{last.end_reason} Cash ran out before the business could fund itself. Financial distress risk: "
                "too much commitment makes a temporary downturn existential. The founders' stake, "
                f"{fmt_usd(lost)}, went to zero.")
        section = "KB §6"
    return [Decision(last.label, "The company failed", text, -lost, section, "bankruptcy")]


def _equity(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Equity raised: the founders' ownership sold, valued at the end (KB §5, §6)."""
    c = scenario.company
    start = c.founder_shares / (c.founder_shares + c.investor_shares)
    final_equity = reports[-1].score.equity_value_cents if not reports[-1].bankrupt else 0
    out = []
    for i, r in enumerate(reports):
        raised = r.cash_flow.lines.get("financing:Equity raised", 0)
        if raised <= 0:
            continue
        before = reports[i - 1].score.founder_ownership if i > 0 else start
        after = r.score.founder_ownership
        ids = {a["offer_id"] for a, _ in _ok_actions(r) if a["kind"] == "raise_equity"}
        offers = reports[i - 1].offers.equity if i > 0 else []
        coe = next((o.cost_of_equity for o in offers if o.id in ids), None)
        expect = f"this round's investors expect ~{_pct(coe)} a year" if coe else "venture investors expect 30-50%+ a year"
        given = max(0.0, before - after)
        cost = round(given * final_equity)
        out.append(Decision(
            r.label, f"Raised {fmt_usd(raised)} of equity",
            f"You sold new shares for {fmt_usd(raised)}: the founders went from {before:.1%} to {after:.1%} of the "
            f"company. At the final equity value that slice is worth {fmt_usd(cost)}. Equity is the most expensive "
            f"capital ({expect}); debt against contracted cash flow would have "
            "cost a fraction, if the cash flow could carry it.",
            -cost, "KB §5", "equity",
        ))
    return out


def _sites(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Owned capacity built and left empty: committed CapEx without revenue certainty (KB §18, §20)."""
    rules = scenario.rules
    out = []
    last = reports[-1]
    empty_mw = max(0.0, last.kpis.site_mw - last.kpis.power_mw)
    for i, r in enumerate(reports):
        for action, _ in _ok_actions(r):
            if action["kind"] != "build_site":
                continue
            mw = action["mw"]
            capex = mw * (rules.build_shell_usd_per_mw + rules.build_power_usd_per_mw)
            years = (len(reports) - i) / 4
            idle_share = min(1.0, empty_mw / mw) if mw else 0.0
            carry = capex * idle_share * scenario.world.capital_charge_rate * years
            if carry <= 0:
                continue
            out.append(Decision(
                r.label, f"Built a {mw:g} MW campus",
                f"You committed {_usd(capex)} of CapEx to a {mw:g} MW campus. At the end {empty_mw:.1f} MW of your "
                f"operating sites held no GPUs: carrying the empty share cost ~{_usd(carry)} of capital. Committed "
                "CapEx without revenue certainty is the middle to avoid; scout with colo, build behind contracts.",
                -to_cents(carry), "KB §20", "site",
            ))
    return out


# ------------------------------------------------------------------------------ the scenario's lesson


@dataclass(frozen=True)
class Lesson:
    text: str  # the scenario's lesson, in the knowledge base's words
    evidence: str  # what happened in this game that makes it the lesson


def _first_event(reports: list[QuarterReport], kinds: tuple[str, ...]):
    for r in reports:
        for n in r.news:
            if n.kind == "world" and n.event in kinds:
                return r, n
    return None, None


def _ok_kinds(reports: list[QuarterReport], kind: str) -> list[tuple[QuarterReport, dict, str]]:
    return [(r, a, m) for r in reports for a, m in _ok_actions(r) if a["kind"] == kind]


def _lesson_evidence(reports: list[QuarterReport], scenario: Scenario, trigger: str) -> str | None:
    """What in this game shows the scenario's lesson, or None when the situation never came up."""
    if not reports:
        return None
    if trigger == "always":
        return f"{len(reports)} quarters played."
    if trigger == "gpu_price_fall":
        gen = "h100" if "h100" in reports[0].market.gpu_hour() else next(iter(reports[0].market.gpu_hour()))  # the workhorse
        start = reports[0].market.gpus[gen].on_demand_usd_per_hour
        low_r = min(reports, key=lambda r: r.market.gpus[gen].on_demand_usd_per_hour)
        low = low_r.market.gpus[gen].on_demand_usd_per_hour
        if low <= 0.75 * start:
            return f"The {gen.upper()} on-demand rate fell {1 - low / start:.0%}, from ${start:.2f} in {reports[0].label} to ${low:.2f} in {low_r.label}."
        return None
    if trigger in ("rate_shock", "price_war", "spike"):
        kinds = {"rate_shock": ("rate_shock",), "price_war": ("price_war",), "spike": ("model_release", "viral_demo")}[trigger]
        r, n = _first_event(reports, kinds)
        return None if r is None else f"{r.label}: {n.title}. {n.text}"
    if trigger == "new_generation":
        launches = [(r, n) for r in reports for n in r.news if n.kind == "world" and n.event == "generation_launch"]
        if not launches:
            return None
        names = ", ".join(f"{n.title.split(' available')[0]} ({r.label})" for r, n in launches)
        used = [x.market.gpus["h100"].secondary_usd for x in reports if "h100" in x.market.gpus]
        tail = f" A used H100 went from ${used[0]:,.0f} to ${used[-1]:,.0f} over the game." if len(used) > 1 else ""
        return f"New generations arrived: {names}.{tail}"
    if trigger == "long_contract_offer":
        for r, _, m in _ok_kinds(reports, "sign_contract"):
            term = re.search(r"for (\d+) quarters", m)
            if term and int(term.group(1)) >= 40:
                return f"{r.label}: you {m}."
        offered = [o for o in scenario.world.scripted_offers if o.term_quarters >= 40 and any(r.label == o.quarter for r in reports)]
        offered += [o for r in reports for o in r.offers.contracts if o.term_quarters >= 40]
        if offered:
            o = offered[0]
            return f"{o.customer} offered {o.gpus:,} {o.gen.upper()} for {o.term_quarters // 4} years at ${o.usd_per_gpu_hour:.2f}/h, and you did not sign it."
        return None
    if trigger == "dedicated_inference":
        moved = _ok_kinds(reports, "dedicate_gpus")
        if not moved:
            return None
        r = moved[0][0]
        later = [x for x in reports if x.kpis.revenue_per_gpu_hour_inference is not None and x.kpis.revenue_per_gpu_hour_rental]
        tail = ""
        if later:
            k = later[-1].kpis
            tail = f" In {later[-1].label} a GPU earned ${k.revenue_per_gpu_hour_inference:.2f}/h serving tokens vs ${k.revenue_per_gpu_hour_rental:.2f}/h rented."
        return f"You moved GPUs to managed inference in {r.label}.{tail}"
    if trigger == "debt":
        loans = _ok_kinds(reports, "take_loan")
        dscrs = [r.kpis.dscr for r in reports if r.kpis.dscr is not None]
        if not loans and not dscrs:
            return None
        low = f" DSCR ranged {min(dscrs):.2f}x-{max(dscrs):.2f}x against the {reports[-1].kpis.dscr_lockup:.2f}x covenant." if dscrs else ""
        return f"You carried debt{' and borrowed ' + str(len(loans)) + ' time(s)' if loans else ''}.{low}"
    if trigger == "technique_shipped":
        shipped = [r for r in reports if r.inference is not None and r.inference.techniques_done]
        costs = [(r.label, r.inference.cost_per_m_tokens) for r in reports if r.inference is not None and r.inference.cost_per_m_tokens]
        before = set(reports[0].inference.techniques_done) if reports[0].inference else set()
        new = sorted(set(shipped[-1].inference.techniques_done) - before) if shipped else []
        if not new:
            return None
        return (f"You shipped {', '.join(t.replace('_', ' ') for t in new)}; cost per million tokens went from "
                f"${costs[0][1]:.3f} ({costs[0][0]}) to ${costs[-1][1]:.3f} ({costs[-1][0]}).")
    if trigger == "contract_signed":
        signed = _ok_kinds(reports, "sign_contract")
        if not signed:
            return None
        peak = max(r.kpis.contracted_share for r in reports)
        return f"You signed {len(signed)} contract(s); contracted revenue peaked at {peak:.0%} of revenue."
    raise ValueError(f"unknown lesson trigger {trigger!r}")


def scenario_lesson(reports: list[QuarterReport], scenario: Scenario) -> Lesson | None:
    """The scenario's lesson, named only when its situation happened in this game (issue 6)."""
    if not scenario.lesson:
        return None
    evidence = _lesson_evidence(reports, scenario, scenario.lesson_when)
    return None if evidence is None else Lesson(text=scenario.lesson, evidence=evidence)


# ------------------------------------------------------------------------------ public API


def key_decisions(reports: list[QuarterReport], log: list[list[dict]], scenario: Scenario, n: int = 3) -> list[Decision]:
    """The ``n`` decisions (or situations) with the largest estimated impact, largest first.

    One decision per kind first (so the debrief teaches more than one lesson), then the next
    largest of any kind. Deterministic: ties fall back to quarter order, then title. ``log`` is the
    submitted action log; the reports' action results (which say what passed) are read for detail,
    and a quarter with nothing submitted counts as standing still.
    """
    if not reports or n <= 0:
        return []
    reports = list(reports)
    found = (
        _purchases(reports, scenario) + _contracts(reports) + _leases(reports, scenario) + _lost_demand(reports, log)
        + _deflation(reports)
        + _debt(reports, scenario) + _covenant(reports, scenario) + _ending(reports, scenario)
        + _equity(reports, scenario) + _sites(reports, scenario)
    )
    order = {r.label: i for i, r in enumerate(reports)}
    found = [d for d in found if d.impact_cents != 0 or d.kind == "bankruptcy"]
    found.sort(key=lambda d: (-abs(d.impact_cents), order.get(d.quarter, 0), d.title))
    chosen: list[Decision] = []
    kinds: set[str] = set()
    for d in found:
        if len(chosen) < n and d.kind not in kinds:
            chosen.append(d)
            kinds.add(d.kind)
    for d in found:
        if len(chosen) >= n:
            break
        if d not in chosen:
            chosen.append(d)
    chosen.sort(key=lambda d: (-abs(d.impact_cents), order.get(d.quarter, 0), d.title))
    return chosen


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def summary(reports: list[QuarterReport]) -> dict[str, list]:
    """Whole-game series for the debrief charts, one entry per quarter played.

    Money in dollars (floats); ratios as fractions (0.42 = 42%); NaN where a ratio is undefined
    (no revenue for gross margin, no debt service for DSCR). ``quarters`` holds the labels.
    """
    return {
        "quarters": [r.label for r in reports],
        "revenue": [r.income.revenue / 100 for r in reports],
        "gross_profit": [r.income.gross_profit / 100 for r in reports],
        "ebitda": [r.income.ebitda / 100 for r in reports],
        "net_income": [r.income.net_income / 100 for r in reports],
        "cash": [r.balance.cash / 100 for r in reports],
        "debt": [r.balance.debt / 100 for r in reports],
        "gross_margin": [_nan(r.kpis.gross_margin) for r in reports],
        "utilization": [float(r.kpis.utilization) for r in reports],
        "contracted_share": [float(r.kpis.contracted_share) for r in reports],
        "dscr": [_nan(r.kpis.dscr) for r in reports],
        "score": [r.score.score_cents / 100 for r in reports],
        "founder_ownership": [float(r.score.founder_ownership) for r in reports],
    }
