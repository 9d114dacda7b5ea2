"""The debrief: the decisions that mattered most, and whole-game series for the charts.

Pure: reads the quarter reports and the action log, never the world's hidden future, and does no
I/O. Each heuristic estimates a decision's effect in cents with the engine's own formulas
(``engine.finance``, ``engine.economics``, the market each quarter showed) and explains it in the
knowledge base's words:

- buying GPUs that then sat idle: "buying on speculation", the middle the barbell avoids (KB §20);
- buying GPUs that stayed busy: owning the base load beats paying a lessor's margin (KB §3, §20);
- contracts signed before prices moved: a fixed-for-floating swap marked to market (KB §1, §2);
- leases told apart: 4 quarters is the flex layer (KB §3 option value, §20); 8-12 quarters a take-or-pay
  commitment, a lease liability from the day it is signed (ASC 842 / IFRS 16);
- demand turned away, attributed to correlated spikes or chronic under-capacity by where it fell (KB §2, §20);
- debt: interest paid and the DSCR path against the covenant (KB §4, §6);
- covenant lock-ups (cash swept) and the end of the company (KB §4, §6);
- equity: the founders' ownership sold, valued at the end (KB §5, §6);
- sites built and left empty: committed CapEx without revenue certainty (KB §18, §20).

Estimates, not accounting: they rank what to reflect on. Amounts are integer cents.

``scenario_lesson`` names the scenario's lesson by outcome, with the numbers, and says plainly when
the situation came but the results do not show it; ``verdict`` puts cumulative EBITDA, last year's
margins against the knowledge base's benchmarks and the score bridge in the verdict (issue 9).
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
from engine.leases import incremental_borrowing_rate, lease_payment_usd, present_value_of_payments
from engine.money import fmt_usd, to_cents
from engine.report import QuarterReport
from engine.scenario import Scenario
from engine.score import bridge_lines
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


FLEX_LEASE_QUARTERS = 4  # KB §20: the flex layer is short; longer leases are take-or-pay commitments


def _leases(reports: list[QuarterReport], scenario: Scenario) -> list[Decision]:
    """Leases told apart: a 4-quarter lease is the flex layer, an option on compute (KB §3, §20);
    an 8- or 12-quarter lease is a take-or-pay commitment, a lease liability from the day it is
    signed (ASC 842 / IFRS 16, engine.leases). Both are judged by what the capacity earned."""
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
            paid = "earned its cost" if impact >= 0 else "did not earn its cost"
            name = f"{count:,} {gen.upper()}"
            seen = f"Over {len(window)} quarter(s) your {gen.upper()} fleet earned ${earned:.2f} per GPU-hour at {_pct(util)} utilization"
            if term <= FLEX_LEASE_QUARTERS:
                out.append(Decision(
                    r.label, f"Flex layer: leased {name} for {term} quarters",
                    f"You leased {name} at ${rate:.2f}/GPU-hour for {term} quarters, against ~${own:.2f}/h to own one. "
                    f"{seen}: the flex layer {paid}, ~{_usd(impact)}. A short lease is a call option on compute: you pay "
                    "a premium to hand the GPUs back, and the obsolescence risk sits with the lessor.",
                    to_cents(impact), "KB §3", "lease",
                ))
                continue
            rate_q = incremental_borrowing_rate(r.market.sofr, r.market.spread_sub_ig_bps)
            owed = present_value_of_payments(lease_payment_usd(count, rate), term, rate_q)
            out.append(Decision(
                r.label, f"Committed to {name} on a {term}-quarter lease",
                f"You leased {name} at ${rate:.2f}/GPU-hour for {term} quarters, take-or-pay: "
                f"{_usd(lease_payment_usd(count, rate) * term)} of payments, a lease liability of ~{_usd(owed)} on the "
                f"balance sheet when signed (discounted at {rate_q:.1%}), owed whether the GPUs are busy or not. "
                f"{seen}: the commitment {paid}, ~{_usd(impact)}. This is not the flex layer: a {term}-quarter lease "
                "is debt in all but name, and the option to hand the GPUs back is gone.",
                to_cents(impact), "KB §20", "lease_commitment",
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


SPIKE_EVENTS = ("model_release", "viral_demo")  # KB §2: correlated spikes hit every segment at once
SPIKE_CONCENTRATION = 1.5  # lost GPU-hours per spike quarter vs per other quarter that counts as "the spikes did it"


def spike_quarters(reports: list[QuarterReport]) -> list[int]:
    """Indices of the quarters whose news carries a correlated spike (a model release, a viral demo)."""
    return [i for i, r in enumerate(reports) if any(n.kind == "world" and n.event in SPIKE_EVENTS for n in r.news)]


@dataclass(frozen=True)
class Shortage:
    """Demand turned away, split between spike quarters and the others (KB §2 spikes vs §20 base load)."""

    spike_lost_gpu_hours: float
    other_lost_gpu_hours: float
    spike_quarters: int
    other_quarters: int

    @property
    def total(self) -> float:
        return self.spike_lost_gpu_hours + self.other_lost_gpu_hours

    @property
    def spike_share(self) -> float:
        """Share of all lost GPU-hours that fell in spike quarters."""
        return self.spike_lost_gpu_hours / self.total if self.total > 0 else 0.0

    @property
    def cause(self) -> str:
        """"spikes" when lost demand concentrates in spike quarters, "chronic" when most of it does
        not (under-capacity for the base load), "none" when nothing was turned away."""
        if self.total <= 0:
            return "none"
        per_spike = self.spike_lost_gpu_hours / self.spike_quarters if self.spike_quarters else 0.0
        per_other = self.other_lost_gpu_hours / self.other_quarters if self.other_quarters else 0.0
        if self.spike_share > 0.5 and per_spike >= SPIKE_CONCENTRATION * per_other:
            return "spikes"
        return "chronic"


def shortage(reports: list[QuarterReport]) -> Shortage:
    spikes = set(spike_quarters(reports))
    lost = [sum(k.lost_gpu_hours for k in r.kpis.by_gen) for r in reports]
    return Shortage(
        spike_lost_gpu_hours=sum(x for i, x in enumerate(lost) if i in spikes),
        other_lost_gpu_hours=sum(x for i, x in enumerate(lost) if i not in spikes),
        spike_quarters=len(spikes),
        other_quarters=len(reports) - len(spikes),
    )


def _shortage_words(sh: Shortage) -> str:
    """The shortage attributed by the numbers: correlated spikes, or a base load left short."""
    if sh.spike_quarters == 0:
        return ("No correlated spike hit in these quarters: the shortage was chronic under-capacity. Demand that is "
                "there every quarter is base load: own it behind contracts, lease the flex on top (KB §20).")
    where = (f"{_pct(sh.spike_share)} of it came in the {sh.spike_quarters} spike quarter(s) (model releases, viral "
             f"demos), {sh.spike_lost_gpu_hours / sh.spike_quarters:,.0f} GPU-hours a quarter against "
             f"{sh.other_lost_gpu_hours / max(1, sh.other_quarters):,.0f} in the other {sh.other_quarters}")
    if sh.cause == "spikes":
        return (f"{where}. Correlated spikes hit every customer at once, so pooling cannot absorb them: a rented flex "
                "layer scales up for them and back down after (KB §2, §20).")
    why = ("most of it fell outside the spikes" if sh.spike_share <= 0.5
           else "barely more a quarter in the spikes than outside them")
    return (f"{where}: {why}, so the shortage was chronic under-capacity, not the spikes. Demand that is there "
            "every quarter is base load: own it behind contracts, lease the flex on top (KB §20).")


def _lost_demand(reports: list[QuarterReport], log: list[list[dict]]) -> list[Decision]:
    """Demand turned away for lack of capacity, valued at what a 1-year lease would have earned,
    and attributed to spikes or chronic under-capacity by where it fell (KB §2, §20)."""
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
    sh = shortage(reports)
    title = ("Demand turned away in the spikes" if sh.cause == "spikes" else "Chronic under-capacity") if grew else "Standing still while demand grew"
    return [Decision(
        worst.label, title,
        f"Customers asked for {total_hours:,.0f} GPU-hours you could not serve ({_pct(total_hours / asked if asked else 0)} "
        f"of all demand), most in {worst.label}. Leased at the 1-year rate, that capacity would have earned "
        f"~{_usd(forgone)} above its cost. {_shortage_words(sh)}",
        -to_cents(forgone), "KB §20" if sh.cause != "spikes" else "KB §2", "lost_demand",
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
    """Lock-ups: cash swept to the lenders while DSCR sat under the covenant; defaults: the equity
    cure that was named, and whether the lenders accelerated or foreclosed (KB §4)."""
    rules = scenario.rules
    out = _defaults(reports)
    locked = [r for r in reports if r.kpis.covenant == "lock-up"]
    if not locked:
        return out
    swept = sum(-r.cash_flow.lines.get("financing:Cash sweep", 0) for r in reports)
    low = min((r.kpis.dscr for r in locked if r.kpis.dscr is not None), default=None)
    dscr_text = f" at DSCR {low:.2f}x" if low is not None else ""
    return [Decision(
        locked[0].label, "Covenant lock-up",
        f"DSCR fell under the {rules.covenant_lockup_dscr:.2f}x lock-up{dscr_text} for {len(locked)} quarter(s): no "
        f"new debt, and {fmt_usd(swept)} of cash was swept to the lenders. Thin coverage leaves one bad quarter "
        "between you and a breach; longer tenor (lower annual service) and contracted revenue buy headroom.",
        -swept, "KB §4", "covenant",
    )] + out


def _defaults(reports: list[QuarterReport]) -> list[Decision]:
    """Each event of default: the cure the lenders named, then what happened (KB §4: acceleration)."""
    out = []
    for i, r in enumerate(reports):
        if r.kpis.covenant_event != "default-notice":
            continue
        cure = r.kpis.cure_needed_cents
        after = next((x for x in reports[i + 1:] if x.kpis.covenant_event in ("cured", "accelerated", "foreclosed")), None)
        if after is None or after.kpis.covenant_event == "cured":
            outcome = (f"You cured it{' in ' + after.label if after else ''}: equity counted as cash flow in the test, "
                       "and the loans stayed in place.")
            impact = -cure
        elif after.kpis.covenant_event == "accelerated":
            fee = after.kpis.prepayment_fee_cents
            outcome = (f"It was not cured, so in {after.label} the lenders accelerated: cash repaid "
                       f"{fmt_usd(after.kpis.accelerated_cents)} at once plus a {fmt_usd(fee)} prepayment fee. The company "
                       f"survived because its cash covered the debt; the cure would have cost {fmt_usd(cure)} of new equity.")
            impact = -(after.kpis.accelerated_cents + fee)
        else:
            outcome = (f"It was not cured, and in {after.label} the cash could not repay the called loans: the lenders took "
                       f"the assets. A cure of {fmt_usd(cure)} of equity was named in the notice.")
            impact = -max(cure, reports[i].score.score_cents)
        out.append(Decision(
            r.label, "Event of default",
            f"Trailing DSCR fell under the default level and the lenders served notice: an equity cure of {fmt_usd(cure)} "
            f"would restore the covenant. {outcome}",
            impact, "KB §4", "default",
        ))
    return out


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
    evidence: str  # what the results show, with the numbers
    shown: bool = True  # False: the situation came but the outcome does not show the lesson (evidence says why)


def _ok_kinds(reports: list[QuarterReport], kind: str) -> list[tuple[QuarterReport, dict, str]]:
    return [(r, a, m) for r in reports for a, m in _ok_actions(r) if a["kind"] == kind]


# The outcome shows a lesson only when the results moved by at least this much (issue 9 item 14).
MATERIAL_DSCR_MOVE = 0.15  # x of DSCR the rate shock alone took off
MATERIAL_SHARE_OF_EBITDA = 0.05  # extra interest as a share of EBITDA over the same quarters
MATERIAL_PRICE_FALL = 0.20  # fall in the uncontracted fleet's revenue per GPU-hour
CONTRACTED_HELD = 0.10  # contracted revenue per GPU-hour "held" if it fell less than this
MATERIAL_MARGIN_POINTS = 0.05  # gross margin change, in points
MATERIAL_COST_FALL = 0.10  # fall in cost per million tokens
MATERIAL_RESIDUAL_FALL = 0.25  # fall of a used GPU's resale price
LONG_TENOR_QUARTERS = 32  # 8-year debt: what only long contracts get (KB §4)


def _index_of_first_event(reports: list[QuarterReport], kinds: tuple[str, ...]) -> int | None:
    return next((i for i, r in enumerate(reports) for n in r.news if n.kind == "world" and n.event in kinds), None)


def _avg(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _contract_split(r: QuarterReport) -> tuple[float | None, float | None]:
    """(contracted, uncontracted) revenue per GPU-hour of capacity in a quarter: reserved revenue
    over contracted GPUs' hours, and on-demand, batch and spot revenue over the other GPUs' hours."""
    contracted = sum(k.contracted for k in r.kpis.by_gen)
    free = sum(max(0, k.gpus - k.contracted) for k in r.kpis.by_gen)
    inc = r.income
    on = (inc.rev_reserved / 100 / (contracted * TICKS_PER_QUARTER)) if contracted else None
    off = ((inc.rev_on_demand + inc.rev_batch + inc.rev_spot) / 100 / (free * TICKS_PER_QUARTER)) if free else None
    return on, off


def _rate_shock(reports: list[QuarterReport], s: int) -> tuple[str, bool]:
    """Rate shock (KB §3, §4): the interest the higher SOFR added on the floating debt carried, and
    the DSCR it took away, against EBITDA over the same quarters."""
    r = reports[s]
    pre = reports[s - 1] if s > 0 else None
    sofr0 = pre.market.sofr if pre else r.market.sofr
    after = reports[s:]
    # floating debt: every loan is SOFR + spread; interest accrues on the balance carried into the quarter
    carried = [(reports[j - 1].balance.debt if j > 0 else reports[j].balance.debt) for j in range(s, len(reports))]
    extra = [c / 100 * max(0.0, x.market.sofr - sofr0) / 4 for c, x in zip(carried, after)]
    total_extra = sum(extra)
    ebitda = sum(x.income.ebitda for x in after) / 100
    share = total_extra / ebitda if ebitda > 0 else math.inf if total_extra > 0 else 0.0
    k = min(len(after), 4)
    service = sum(-x.cash_flow.lines.get("operating:Interest paid", 0) - x.cash_flow.lines.get("financing:Debt repaid", 0) for x in after[:k]) / 100
    later = after[k - 1]
    dscr_hit = 0.0
    if later.kpis.dscr is not None and service > sum(extra[:k]) > 0:
        dscr_hit = later.kpis.dscr * service / (service - sum(extra[:k])) - later.kpis.dscr
    before_dscr = pre.kpis.dscr if pre and pre.kpis.dscr is not None else None
    path = f"DSCR went from {before_dscr:.2f}x ({pre.label}) to {later.kpis.dscr:.2f}x ({later.label})" if (
        before_dscr is not None and later.kpis.dscr is not None) else "no debt service was tested"
    breaches = [x.label for x in after if x.kpis.covenant in ("lock-up", "default")]
    debt0 = carried[0] / 100
    head = (f"{r.label}: SOFR went from {sofr0:.1%} to {r.market.sofr:.1%}. You carried {_usd(debt0)} of floating-rate "
            f"debt into it: interest went from {_usd(pre.income.interest / 100 if pre else 0)} a quarter to "
            f"{_usd(r.income.interest / 100)}")
    # the refinancing wall (KB §4): a balloon that fell due inside the shock, refinanced only in part at its rates
    walls = [f"{x.label}: {n.text.rstrip('.')}" for x in after for n in x.news if n.title == "Refinancing wall"]
    shown = debt0 > 0 and (dscr_hit >= MATERIAL_DSCR_MOVE or share >= MATERIAL_SHARE_OF_EBITDA or bool(breaches) or bool(walls))
    if shown:
        tail = f", covenant breached in {', '.join(breaches[:3])}" if breaches else ""
        tail += f". A refinancing wall hit in {walls[0]}" if walls else ""
        return (f"{head}; the higher rate cost ~{_usd(total_extra)} over {len(after)} quarter(s) "
                f"({_pct(min(share, 9.99))} of EBITDA) and took ~{dscr_hit:.2f}x off DSCR by itself; {path}{tail}."), True
    return (f"{head}. The rate shock came, but with {_usd(debt0)} of floating debt it added only ~{_usd(total_extra)} of "
            f"interest ({_pct(min(share, 9.99))} of EBITDA) and ~{dscr_hit:.2f}x of DSCR; {path}: your results do not "
            "show the lesson."), False


def _price_fall(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Deflation (KB §1, §2): the uncontracted fleet's revenue per GPU-hour fell; contracted revenue held."""
    gen = "h100" if "h100" in reports[0].market.gpu_hour() else next(iter(reports[0].market.gpu_hour()))  # the workhorse
    start = reports[0].market.gpus[gen].on_demand_usd_per_hour
    low_r = min(reports, key=lambda r: r.market.gpus[gen].on_demand_usd_per_hour)
    low = low_r.market.gpus[gen].on_demand_usd_per_hour
    if low > 0.75 * start:
        return None
    head = f"The {gen.upper()} on-demand rate fell {1 - low / start:.0%}, from ${start:.2f} in {reports[0].label} to ${low:.2f} in {low_r.label}."
    split = [(r, *_contract_split(r)) for r in reports]
    free = [(r, off) for r, _, off in split if off is not None]
    held = [(r, on) for r, on, _ in split if on is not None]
    if len(free) < 2:
        return f"{head} You had no uncontracted fleet to expose: your results do not show the lesson.", False
    (r0, f0), (r1, f1) = free[0], free[-1]
    fell = 1 - f1 / f0 if f0 > 0 else 0.0
    exposed = (f" Your uncontracted fleet earned ${f0:.2f} per GPU-hour in {r0.label} and ${f1:.2f} in {r1.label} "
               f"({-fell:+.0%})")
    if len(held) >= 2:
        (c0r, c0), (c1r, c1) = held[0], held[-1]
        hedge = (f"; contracted capacity earned ${c0:.2f} in {c0r.label} and ${c1:.2f} in {c1r.label} "
                 f"({c1 / c0 - 1:+.0%})" if c0 > 0 else "")
        held_ok = c0 > 0 and c1 >= (1 - CONTRACTED_HELD) * c0
    else:
        hedge, held_ok = "; none of your fleet was under contract, so nothing was hedged", True
    if fell >= MATERIAL_PRICE_FALL:
        if held_ok:
            tail = (": the swaps were in the money, the uncontracted fleet was the exposed position." if len(held) >= 2
                    else ": the uncontracted fleet was the exposed position.")
        else:
            tail = (": the uncontracted fleet was exposed, and contracts signed later were priced at the falling market "
                    "too: lock in before prices fall, not after.")
        return head + exposed + hedge + tail, True
    return head + exposed + hedge + ": your uncontracted revenue did not fall with the market, so the results do not show the lesson.", False


def _spike(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Correlated spikes (KB §2): demand turned away in the spike quarters specifically."""
    spikes = spike_quarters(reports)
    if not spikes:
        return None
    sh = shortage(reports)
    first = reports[spikes[0]]
    n = next(n for n in first.news if n.kind == "world" and n.event in SPIKE_EVENTS)
    head = f"{first.label}: {n.title}; {len(spikes)} spike quarter(s) in all."
    if sh.cause == "spikes":
        return f"{head} You turned away {sh.total:,.0f} GPU-hours of demand, and {_shortage_words(sh)}", True
    if sh.cause == "none":
        util = _avg([reports[i].kpis.utilization for i in spikes]) or 0.0
        return (f"{head} The spikes came but no demand was turned away: your fleet carried the headroom "
                f"({_pct(util)} average utilization in the spike quarters)."), False
    return f"{head} You turned away {sh.total:,.0f} GPU-hours of demand, but {_shortage_words(sh)}", False


def _price_war(reports: list[QuarterReport], w: int) -> tuple[str, bool]:
    """A price war (KB §1 pricing as a weapon, §17): what it did to gross margin and cost."""
    r = reports[w]
    n = next(n for n in r.news if n.kind == "world" and n.event == "price_war")
    before = _avg([x.kpis.gross_margin for x in reports[max(0, w - 2):w] if x.kpis.gross_margin is not None])
    during = _avg([x.kpis.gross_margin for x in reports[w:w + 3] if x.kpis.gross_margin is not None])
    costs = [(x.label, x.inference.cost_per_m_tokens) for x in reports[max(0, w - 1):] if x.inference is not None and x.inference.cost_per_m_tokens]
    head = f"{r.label}: {n.title}."
    cost = ""
    cost_fell = False
    if len(costs) >= 2 and costs[0][1] > 0:
        cost_fell = costs[-1][1] <= (1 - MATERIAL_COST_FALL) * costs[0][1]
        cost = f" Your cost per million tokens went from ${costs[0][1]:.3f} ({costs[0][0]}) to ${costs[-1][1]:.3f} ({costs[-1][0]})."
    if before is None or during is None:
        return f"{head}{cost} No gross margin to compare around it: your results do not show the lesson.", False
    moved = before - during
    margin = f" Gross margin went from {_pct(before)} before it to {_pct(during)} during it."
    if moved >= MATERIAL_MARGIN_POINTS:
        return f"{head}{margin}{cost} The rival's price came out of your margin: only a lower cost lets you match it.", True
    if cost_fell:
        return f"{head}{margin}{cost} Your cost fell as prices did: the low-cost producer holds its margin.", True
    return f"{head}{margin}{cost} The price war came but your margin barely moved: your results do not show the lesson.", False


def _new_generation(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """A new generation (KB §3, §18): the old one's rate capped, its residual value collapsed."""
    launches = [(i, n) for i, r in enumerate(reports) for n in r.news if n.kind == "world" and n.event == "generation_launch"]
    if not launches:
        return None
    names = ", ".join(f"{n.title.split(' available')[0]} ({reports[i].label})" for i, n in launches)
    old = "h100"
    used = [(x.label, x.market.gpus[old].secondary_usd, x.market.gpus[old].on_demand_usd_per_hour) for x in reports if old in x.market.gpus]
    if len(used) < 2:
        return f"New generations arrived: {names}.", False
    (l0, s0, od0), (l1, s1, od1) = used[0], used[-1]
    fall = 1 - s1 / s0 if s0 > 0 else 0.0
    k = _gen_kpi(reports[launches[0][0]], old)
    owned = k.owned if k else 0
    head = (f"New generations arrived: {names}. A used {old.upper()} went from ${s0:,.0f} ({l0}) to ${s1:,.0f} ({l1}), "
            f"{-fall:+.0%}, and its on-demand rate from ${od0:.2f} to ${od1:.2f}.")
    if fall >= MATERIAL_RESIDUAL_FALL and owned > 0:
        cover = f", {k.contracted:,} of them under contract" if k.contracted else ", none under contract"
        return f"{head} You owned {owned:,} {old.upper()}{cover}: their resale value fell ~{_usd(owned * (s0 - s1))}.", True
    if owned <= 0:
        return f"{head} You owned no {old.upper()} when it came, so the collapse did not touch your books.", False
    return f"{head} The residual value held: your results do not show the lesson.", False


_LOAN = re.compile(r"borrowed \$[\d.,]+[KMB]? from .+ at SOFR \+ (\d+) bps over (\d+) quarters")


def _loans_taken(reports: list[QuarterReport]) -> list[tuple[int, float, int, int]]:
    """(report index, amount $, spread bps, tenor quarters) of each loan drawn."""
    out = []
    for i, r in enumerate(reports):
        for a, m in _ok_actions(r):
            if a["kind"] != "take_loan":
                continue
            mm = _LOAN.search(m)
            if mm:
                out.append((i, float(a["amount_usd"]), int(mm.group(1)), int(mm.group(2))))
    return out


def _longest_offer(reports: list[QuarterReport]) -> tuple[int, float] | None:
    """(tenor quarters, spread bps) of the longest loan offered over these quarters."""
    offers = [o for r in reports for o in r.offers.loans]
    if not offers:
        return None
    o = max(offers, key=lambda o: (o.tenor_quarters, -o.spread_bps))
    return o.tenor_quarters, o.spread_bps


def _long_contract(reports: list[QuarterReport], scenario: Scenario) -> tuple[str, bool] | None:
    """A long investment-grade contract (KB §4, §18): does the debt offered lengthen behind it?"""
    for i, (r, _, m) in enumerate(_ok_kinds(reports, "sign_contract")):
        term = re.search(r"for (\d+) quarters", m)
        if not (term and int(term.group(1)) >= 40):
            continue
        at = next(j for j, x in enumerate(reports) if x is r)
        before, after = _longest_offer(reports[:at]), _longest_offer(reports[at:])
        was = f"{before[0] / 4:g} years at SOFR + {before[1]:.0f} bps" if before else "no term debt offered"
        now = f"{after[0] / 4:g} years at SOFR + {after[1]:.0f} bps" if after else "no term debt offered"
        head = f"{r.label}: you {m}. The longest loan offered went from {was} before it to {now} after"
        if after and after[0] >= LONG_TENOR_QUARTERS and (before is None or after[0] > before[0]):
            drawn = [x for x in _loans_taken(reports) if x[0] >= at]
            tail = (f"; you drew {_usd(sum(x[1] for x in drawn))}, up to {max(x[3] for x in drawn) / 4:g} years"
                    if drawn else "; you did not draw it")
            return f"{head}{tail}.", True
        return f"{head}: your results do not show the lesson.", False
    offered = [o for o in scenario.world.scripted_offers if o.term_quarters >= 40 and any(r.label == o.quarter for r in reports)]
    offered += [o for r in reports for o in r.offers.contracts if o.term_quarters >= 40]
    if offered:
        o = offered[0]
        longest = _longest_offer(reports)
        debt = f" The longest loan offered to you was {longest[0] / 4:g} years." if longest else " No term loan was offered to you."
        return (f"{o.customer} offered {o.gpus:,} {o.gen.upper()} for {o.term_quarters // 4} years at "
                f"${o.usd_per_gpu_hour:.2f}/h, and you did not sign it.{debt}"), False
    return None


def _dedicated(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Managed inference on a neocloud's GPUs (KB §2): revenue per GPU-hour, and the rental revenue it migrated."""
    moved = _ok_kinds(reports, "dedicate_gpus")
    if not moved:
        return None
    r = moved[0][0]
    at = next(j for j, x in enumerate(reports) if x is r)
    later = [x for x in reports if x.kpis.revenue_per_gpu_hour_inference is not None and x.kpis.revenue_per_gpu_hour_rental]
    rental_before = sum(x.income.revenue - x.income.rev_tokens for x in reports[max(0, at - 2):at + 1]) / 100 / max(1, len(reports[max(0, at - 2):at + 1]))
    rental_after = _avg([(x.income.revenue - x.income.rev_tokens) / 100 for x in reports[at + 1:at + 4]])
    tokens_after = _avg([x.income.rev_tokens / 100 for x in reports[at + 1:at + 4]])
    head = f"You moved GPUs to managed inference in {r.label}."
    if not later:
        return f"{head} No quarter shows both lines side by side: your results do not show the lesson.", False
    k = later[-1].kpis
    per = (f" In {later[-1].label} a GPU earned ${k.revenue_per_gpu_hour_inference:.2f}/h serving tokens vs "
           f"${k.revenue_per_gpu_hour_rental:.2f}/h rented.")
    mig = (f" Rental revenue went from {_usd(rental_before)} a quarter to {_usd(rental_after)} while tokens brought "
           f"{_usd(tokens_after)}: the revenue migrated." if rental_after is not None and tokens_after is not None else "")
    if k.revenue_per_gpu_hour_inference > k.revenue_per_gpu_hour_rental:
        return head + per + mig, True
    return head + per + mig + " Serving tokens earned less than renting: here the migration did not pay.", False


def _debt_lesson(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Contracted revenue and debt (KB §4): the contracted share behind each draw, the spread and
    tenor it got, and the DSCR path."""
    loans = _loans_taken(reports)
    dscrs = [r.kpis.dscr for r in reports if r.kpis.dscr is not None]
    if not loans and not dscrs:
        return None
    path = (f" DSCR ranged {min(dscrs):.2f}x-{max(dscrs):.2f}x against the {reports[-1].kpis.dscr_lockup:.2f}x "
            "covenant." if dscrs else "")
    if not loans:
        longest = _longest_offer(reports)
        offer = (f" The longest loan offered was {longest[0] / 4:g} years at SOFR + {longest[1]:.0f} bps." if longest else "")
        return f"You carried the starting debt and drew no new loans.{offer}{path} Your results do not show the lesson.", False
    parts = []
    for i, amount, spread, tenor in loans[:4]:
        share = reports[i - 1].kpis.contracted_share if i > 0 else reports[i].kpis.contracted_share
        parts.append(f"{_usd(amount)} in {reports[i].label} at {_pct(share)} contracted: SOFR + {spread} bps over {tenor / 4:g} years")
    more = f" (and {len(loans) - 4} more)" if len(loans) > 4 else ""
    return f"You borrowed {'; '.join(parts)}{more}.{path}", True


def _technique(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Throughput optimization (KB §1, §17): cost per million tokens fell and gross margin rose."""
    shipped = [r for r in reports if r.inference is not None and r.inference.techniques_done]
    before = set(reports[0].inference.techniques_done) if reports[0].inference else set()
    new = sorted(set(shipped[-1].inference.techniques_done) - before) if shipped else []
    if not new:
        return None
    costs = [(r.label, r.inference.cost_per_m_tokens) for r in reports if r.inference is not None and r.inference.cost_per_m_tokens]
    margins = [(r.label, r.kpis.gross_margin) for r in reports if r.kpis.gross_margin is not None]
    names = ", ".join(t.replace("_", " ") for t in new)
    if len(costs) < 2 or len(margins) < 2:
        return f"You shipped {names}, but no two quarters of token costs to compare.", False
    (c0l, c0), (c1l, c1) = costs[0], costs[-1]
    (m0l, m0), (m1l, m1) = margins[0], margins[-1]
    text = (f"You shipped {names}; cost per million tokens went from ${c0:.3f} ({c0l}) to ${c1:.3f} ({c1l}) and gross "
            f"margin from {_pct(m0)} ({m0l}) to {_pct(m1)} ({m1l}).")
    if c1 <= (1 - MATERIAL_COST_FALL) * c0 and m1 > m0:
        return text, True
    why = "prices fell faster than your cost" if c1 < c0 else "your cost did not fall"
    return f"{text} The margin did not expand ({why}): your results do not show the lesson.", False


def _contract_signed(reports: list[QuarterReport]) -> tuple[str, bool] | None:
    """Contracts fill the fleet (KB §1, §2): utilization and contracted share around the first signing."""
    signed = _ok_kinds(reports, "sign_contract")
    if not signed:
        return None
    at = next(j for j, x in enumerate(reports) if x is signed[0][0])
    before = reports[at].kpis.utilization
    after = _avg([x.kpis.utilization for x in reports[at + 1:]])
    peak = max(r.kpis.contracted_share for r in reports)
    text = f"You signed {len(signed)} contract(s); contracted revenue peaked at {peak:.0%} of revenue"
    if after is None:
        return f"{text}, but no quarter followed to show what it did.", False
    text += f", and utilization went from {_pct(before)} ({reports[at].label}) to {_pct(after)} on average after."
    if after >= min(before, BUSY_UTILIZATION):
        return text, True
    return text + " Contracts did not keep the fleet busy: your results do not show the lesson.", False


def _lesson_evidence(reports: list[QuarterReport], scenario: Scenario, trigger: str) -> tuple[str, bool] | None:
    """What this game's results show of the scenario's lesson, with the numbers, and whether they
    show it; None when the situation never came up (issue 9: named by outcome, not by event)."""
    if not reports:
        return None
    if trigger == "always":
        ebitda = sum(r.income.ebitda for r in reports)
        return f"{len(reports)} quarters played; cumulative EBITDA {fmt_usd(ebitda)}.", True
    if trigger == "rate_shock":
        s = _index_of_first_event(reports, ("rate_shock",))
        return None if s is None else _rate_shock(reports, s)
    if trigger == "price_war":
        w = _index_of_first_event(reports, ("price_war",))
        return None if w is None else _price_war(reports, w)
    handlers = {
        "gpu_price_fall": lambda: _price_fall(reports),
        "spike": lambda: _spike(reports),
        "new_generation": lambda: _new_generation(reports),
        "long_contract_offer": lambda: _long_contract(reports, scenario),
        "dedicated_inference": lambda: _dedicated(reports),
        "debt": lambda: _debt_lesson(reports),
        "technique_shipped": lambda: _technique(reports),
        "contract_signed": lambda: _contract_signed(reports),
    }
    if trigger not in handlers:
        raise ValueError(f"unknown lesson trigger {trigger!r}")
    return handlers[trigger]()


def scenario_lesson(reports: list[QuarterReport], scenario: Scenario) -> Lesson | None:
    """The scenario's lesson with what the results show of it; None when its situation never came
    up. ``shown`` is False when it came but the outcome does not show the lesson (issue 9 item 14)."""
    if not scenario.lesson:
        return None
    found = _lesson_evidence(reports, scenario, scenario.lesson_when)
    if found is None:
        return None
    evidence, shown = found
    return Lesson(text=scenario.lesson, evidence=evidence, shown=shown)


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


RENTAL_GROSS_MARGIN = (0.34, 0.55)  # KB §1-§2: GPU rental 40-55%, ~34% for a cloud that leases some capacity
INFERENCE_GROSS_MARGIN = (0.50, 0.65)  # KB §1: a managed inference platform at scale


@dataclass(frozen=True)
class Verdict:
    """The end of the game in numbers: cash generation, margins against the knowledge base, the score bridge."""

    name: str  # the score's verdict tier ("Scaled it")
    text: str  # the tier in words
    cumulative_ebitda_cents: int
    last_year: str  # "2027Q1-2027Q4"
    last_year_revenue_cents: int
    gross_margin: float | None  # last year's
    ebitda_margin: float | None
    token_share: float  # of last year's revenue
    benchmark: tuple[float, float]  # gross margin the knowledge base expects for that mix
    margins: str  # the paragraph that says all of the above
    bridge: list[tuple[str, str]]  # engine.score.bridge_lines of the final score


def margin_benchmark(token_share: float) -> tuple[float, float]:
    """The knowledge base's gross margin range for a business mix: GPU rental ~34-55% (KB §1-§2),
    managed inference 50-65% (KB §1), blended by the share of revenue from tokens."""
    t = min(1.0, max(0.0, token_share))
    return (RENTAL_GROSS_MARGIN[0] * (1 - t) + INFERENCE_GROSS_MARGIN[0] * t,
            RENTAL_GROSS_MARGIN[1] * (1 - t) + INFERENCE_GROSS_MARGIN[1] * t)


def verdict(reports: list[QuarterReport]) -> Verdict:
    """The verdict with the margins and EBITDA behind it (issue 9 item 14): cumulative EBITDA, the
    last year's gross and EBITDA margins against the knowledge base's benchmark for the business
    mix, and the score bridge. Every number is read from the reports."""
    if not reports:
        raise ValueError("no quarter played")
    last = reports[-1]
    year = reports[-4:]
    revenue = sum(r.income.revenue for r in year)
    gross = sum(r.income.gross_profit for r in year)
    ebitda_y = sum(r.income.ebitda for r in year)
    tokens = sum(r.income.rev_tokens for r in year)
    share = tokens / revenue if revenue > 0 else 0.0
    gm = gross / revenue if revenue > 0 else None
    em = ebitda_y / revenue if revenue > 0 else None
    lo, hi = margin_benchmark(share)
    cumulative = sum(r.income.ebitda for r in reports)
    span = f"{year[0].label}-{year[-1].label}" if len(year) > 1 else year[0].label
    if share >= 0.9:
        mix = "managed inference"
    elif share <= 0.1:
        mix = "GPU rental"
    else:
        mix = f"your mix ({_pct(share)} of revenue from tokens)"
    text = f"Cumulative EBITDA over {len(reports)} quarter(s): {fmt_usd(cumulative)}."
    if gm is None:
        text += f" No revenue in {span}: no margin to judge."
    else:
        where = "below" if gm < lo else "above" if gm > hi else "within"
        text += (f" In {span} you earned a {_pct(gm)} gross margin and a {_pct(em)} EBITDA margin on "
                 f"{fmt_usd(revenue)} of revenue: {where} the {_pct(lo)}-{_pct(hi)} gross margin the knowledge base "
                 f"expects of {mix} (KB §1-§2).")
        if where == "below":
            text += " Revenue without margin is not value: the market pays for cash generation."
    v = last.score.valuation
    if v.owner_earnings_cents > 0:
        text += (f" The market valued {fmt_usd(v.owner_earnings_cents)} of owner earnings (trailing EBITDA less "
                 f"depreciation) at {v.multiple:.1f}x.")
    else:
        text += (f" Owner earnings (trailing EBITDA less depreciation) were {fmt_usd(v.owner_earnings_cents)}: the "
                 "market paid nothing for the operations.")
    return Verdict(
        name=last.score.verdict,
        text=last.score.verdict_text,
        cumulative_ebitda_cents=cumulative,
        last_year=span,
        last_year_revenue_cents=revenue,
        gross_margin=gm,
        ebitda_margin=em,
        token_share=share,
        benchmark=(lo, hi),
        margins=text,
        bridge=bridge_lines(last.score),
    )


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
        "cumulative_ebitda": [sum(x.income.ebitda for x in reports[:i + 1]) / 100 for i in range(len(reports))],
        "net_income": [r.income.net_income / 100 for r in reports],
        "cash": [r.balance.cash / 100 for r in reports],
        "debt": [r.balance.debt / 100 for r in reports],
        "gross_margin": [_nan(r.kpis.gross_margin) for r in reports],
        "ebitda_margin": [_nan(r.kpis.ebitda_margin) for r in reports],
        "utilization": [float(r.kpis.utilization) for r in reports],
        "contracted_share": [float(r.kpis.contracted_share) for r in reports],
        "dscr": [_nan(r.kpis.dscr) for r in reports],
        "score": [r.score.score_cents / 100 for r in reports],
        "founder_ownership": [float(r.score.founder_ownership) for r in reports],
    }
