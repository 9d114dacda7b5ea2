"""The quarter report: what happened, in statements, KPIs and plain words."""

from __future__ import annotations

from engine.base import Frozen
from engine.inference import InferenceResult
from engine.market import MarketView
from engine.score import ScoreBreakdown
from engine.state import Offers
from engine.statements import BalanceSheet, CashFlowStatement, IncomeStatement


class ActionResult(Frozen):
    action: dict
    ok: bool
    message: str


class News(Frozen):
    title: str
    text: str
    kind: str = "company"  # "world" events come from the market; "company" ones from your own business
    event: str = ""  # for world news: the event kind (engine.world.EVENT_KINDS or a generation launch)


class GenKpis(Frozen):
    gen: str
    gpus: int  # in service at the start of the quarter
    owned: int
    leased: int
    contracted: int
    failed: int
    utilization: float  # sold: (reserved + on-demand + batch) GPU-hours / capacity; spot fill not included (KB §2)
    spot_filled_share: float = 0.0  # idle capacity sold on the spot market, as a share of capacity
    price_usd_per_hour: float  # your on-demand price
    market_usd_per_hour: float
    served_gpu_hours: dict[str, float]  # reserved, on_demand, batch, spot
    lost_gpu_hours: float
    batch_backlog_gpu_hours: float


REVENUE_LINES = ("rev_reserved", "rev_on_demand", "rev_batch", "rev_spot", "rev_tokens", "rev_sla_credits")
# cost of revenue, line by line as the income statement books it (engine.statements.income_statement)
COST_LINES = ("cogs_depreciation_gpu", "cogs_depreciation_site", "cogs_power", "cogs_colo", "cogs_gpu_lease",
              "cogs_gpu_rental", "cogs_site_opex", "cogs_operations")
UNALLOCATED = ""  # the row for amounts no GPU generation drew: a site without GPUs, say


class GenEconomics(Frozen):
    """One GPU generation's share of the quarter's revenue and cost of revenue (KB §3 buy vs rent,
    older generations priced down by newer ones; §20 the barbell; §8 sites by the kW). ``gen`` is
    UNALLOCATED for what no generation drew. The rows sum to the income statement to the cent."""

    gen: str
    revenue: dict[str, int]  # cents per revenue account (REVENUE_LINES)
    cost: dict[str, int]  # cents per cost-of-revenue account (COST_LINES)

    @property
    def revenue_cents(self) -> int:
        return sum(self.revenue.values())

    @property
    def cost_cents(self) -> int:
        return sum(self.cost.values())

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.cost_cents

    @property
    def margin(self) -> float | None:
        return self.margin_cents / self.revenue_cents if self.revenue_cents > 0 else None


class LotEconomics(Frozen):
    """One lot's quarter: revenue by its share of its generation's busy hours (the fleet is
    pooled, so every GPU of a generation is equally busy: its share of the GPUs), its own capital
    cost (depreciation if owned, lease payments if leased), and its share of the generation's other
    costs of revenue (power, colo, sites, operations) among the lots that drew each."""

    lot_id: str
    gen: str
    ownership: str
    gpus: int
    site_id: str | None = None
    revenue_cents: int
    capital_cost_cents: int  # depreciation (owned) or lease payments (leased)
    other_cost_cents: int

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.capital_cost_cents - self.other_cost_cents


def allocate_cents(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` cents by ``weights`` so the parts sum to it exactly (largest remainder;
    ties to the earlier key). No positive weight: all of it to UNALLOCATED. Zero parts are left out."""
    if total == 0:
        return {}
    keys = [k for k, w in weights.items() if w > 0]
    if not keys:
        return {UNALLOCATED: total}
    positive = [weights[k] for k in keys]
    w_sum = sum(positive)
    if w_sum <= 0:
        return {UNALLOCATED: total}
    if len(keys) == 1:  # the common case: one lot, one generation
        return {keys[0]: total}
    sign, size = (1, total) if total > 0 else (-1, -total)
    exact = [size * w / w_sum for w in positive]
    parts = [int(x) for x in exact]
    left = size - sum(parts)
    # sorted() is stable over ascending indices, so sorting by the remainder alone breaks ties to the
    # earlier key; p - x is exactly -(x - p) in floating point (issue 10, item 12: no tuple keys)
    if left > 0:
        for i in sorted(range(len(keys)), key=[p - x for x, p in zip(exact, parts)].__getitem__)[:left]:
            parts[i] += 1
    elif left < 0:  # float rounding floored a part past its true value: take the cent back from the smallest remainders
        for i in sorted(range(len(keys)), key=[x - p for x, p in zip(exact, parts)].__getitem__)[:-left]:
            parts[i] -= 1
    return {k: sign * p for k, p in zip(keys, parts) if p}


_DRAWS = {"cogs_power": "power", "cogs_site_opex": "campus", "cogs_depreciation_site": "campus", "cogs_colo": "colo"}


def _lot_draws(group: str, lot: dict) -> bool:
    """Which lots a cost line falls on, as engine.step books it: power on owned GPUs in owned sites,
    an owned campus's costs on the GPUs in it, colo rent on GPUs in a colo; operations on every GPU."""
    if group == "power":
        return lot["ownership"] == "owned" and lot.get("site_kind") == "owned"
    if group == "campus":
        return lot.get("site_kind") == "owned"
    if group == "colo":
        return lot.get("site_kind") == "colo"
    return True


def fleet_economics(lines: dict[str, int], drivers: dict) -> tuple[list["GenEconomics"], list["LotEconomics"]]:
    """Revenue, cost of revenue and margin per GPU generation and per lot, from the income
    statement's own amounts (``lines``: account -> cents, REVENUE_LINES and COST_LINES) split by
    what drove each line this quarter (``drivers``, gathered where the quarter was served and
    booked, engine.step): revenue and power, colo, site and operations by the generation that
    earned or drew them, GPU depreciation and leases by the lot. Per-generation rows sum to the
    income statement's revenue and cost of revenue to the cent; a generation's lots sum to its row
    less GPU rentals (those are not lots)."""
    gen_order: list[str] = list(drivers.get("gens", []))
    rev: dict[str, dict[str, int]] = {}
    cost: dict[str, dict[str, int]] = {}

    def add(table: dict, account: str, parts: dict[str, int]) -> None:
        for gen, cents in parts.items():
            if gen not in gen_order:
                gen_order.append(gen)
            table.setdefault(gen, {})[account] = table.setdefault(gen, {}).get(account, 0) + cents

    for account in REVENUE_LINES:
        add(rev, account, allocate_cents(lines.get(account, 0), drivers.get(account, {})))
    lots: list[dict] = drivers.get("lots", [])
    lot_gen = {lot["id"]: lot["gen"] for lot in lots}
    lot_capital: dict[str, int] = dict(drivers.get("dep_by_lot", {}))
    lease_by_lot = allocate_cents(lines.get("cogs_gpu_lease", 0), drivers.get("lease_by_lot", {}))
    for lot_id, cents in lease_by_lot.items():
        lot_capital[lot_id] = lot_capital.get(lot_id, 0) + cents
    dep_gpu = sum(drivers.get("dep_by_lot", {}).values())

    def by_gen(per_lot: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for lot_id, cents in per_lot.items():
            g = lot_gen.get(lot_id, UNALLOCATED)
            out[g] = out.get(g, 0) + cents
        return out

    add(cost, "cogs_depreciation_gpu", by_gen(drivers.get("dep_by_lot", {})))
    add(cost, "cogs_gpu_lease", by_gen(lease_by_lot))
    add(cost, "cogs_depreciation_site", allocate_cents(lines.get("cogs_depreciation", 0) - dep_gpu, drivers.get("cogs_depreciation_site", {})))
    for account in ("cogs_power", "cogs_colo", "cogs_gpu_rental", "cogs_site_opex", "cogs_operations"):
        add(cost, account, allocate_cents(lines.get(account, 0), drivers.get(account, {})))
    gens = [GenEconomics(gen=g, revenue=rev.get(g, {}), cost=cost.get(g, {})) for g in gen_order if g != UNALLOCATED]
    if UNALLOCATED in rev or UNALLOCATED in cost:
        gens.append(GenEconomics(gen=UNALLOCATED, revenue=rev.get(UNALLOCATED, {}), cost=cost.get(UNALLOCATED, {})))
    out_lots: list[LotEconomics] = []
    lots_of: dict[str, list[dict]] = {}
    for lot in lots:
        lots_of.setdefault(lot["gen"], []).append(lot)
    for g in gens:
        mine = lots_of.get(g.gen)
        if not mine:
            continue
        share = {lot["id"]: float(lot["count"]) for lot in mine}
        rev_parts = allocate_cents(g.revenue_cents, share)
        pooled: dict[str, int] = {}  # the cost lines that fall on the same lots, summed: one split each
        for account, cents in g.cost.items():
            if account not in ("cogs_depreciation_gpu", "cogs_gpu_lease", "cogs_gpu_rental"):  # own capital cost; rentals are not lots
                pooled[_DRAWS.get(account, "all")] = pooled.get(_DRAWS.get(account, "all"), 0) + cents
        other_parts: dict[str, int] = {}
        for group, cents in pooled.items():
            drew = {lot["id"]: share[lot["id"]] for lot in mine if _lot_draws(group, lot)} or share
            for lot_id, part in allocate_cents(cents, drew).items():
                other_parts[lot_id] = other_parts.get(lot_id, 0) + part
        for lot in mine:
            out_lots.append(LotEconomics(
                lot_id=lot["id"], gen=lot["gen"], ownership=lot["ownership"], gpus=lot["count"], site_id=lot["site_id"],
                revenue_cents=rev_parts.get(lot["id"], 0), capital_cost_cents=lot_capital.get(lot["id"], 0),
                other_cost_cents=other_parts.get(lot["id"], 0),
            ))
    return gens, out_lots


class Kpis(Frozen):
    utilization: float  # sold: reserved + on-demand + batch GPU-hours (and inference replicas' served work) / capacity
    contracted_share: float  # share of revenue from signed contracts
    gross_margin: float | None
    ebitda_margin: float | None
    dscr: float | None
    covenant: str
    dscr_lockup: float
    dscr_default: float
    runway_quarters: float | None  # None: cash flow positive
    gpus: dict[str, int]
    gpus_on_order: dict[str, int]
    cost_per_gpu_hour: float | None
    revenue_per_gpu_hour: float | None
    power_mw: float
    site_mw: float
    by_gen: list[GenKpis]
    peak_to_mean: dict[str, float]  # each segment alone, and "pooled"
    net_dollar_retention: float | None = None  # token revenue vs four quarters ago (the same segments)
    revenue_per_gpu_hour_rental: float | None = None  # KB §2: the two lines side by side
    revenue_per_gpu_hour_inference: float | None = None
    spot_filled_share: float = 0.0  # capacity hours sold on the spot market (KB §2 "fills idle capacity"), not in utilization
    # what the covenant test did this quarter (QuarterRecord): "", lock-up, default-notice, cured, accelerated, foreclosed, released
    covenant_event: str = ""
    cure_needed_cents: int = 0  # the equity cure a default notice named
    accelerated_cents: int = 0  # loans the lenders called and cash repaid
    prepayment_fee_cents: int = 0
    # revenue, cost of revenue and margin per GPU generation and per lot (engine.report.fleet_economics)
    fleet_economics: list[GenEconomics] = []
    lot_economics: list[LotEconomics] = []


class QuarterReport(Frozen):
    quarter: int
    label: str
    actions: list[ActionResult]
    income: IncomeStatement
    balance: BalanceSheet
    cash_flow: CashFlowStatement
    kpis: Kpis
    market: MarketView
    news: list[News]
    warnings: list[str]
    offers: Offers  # for the next quarter
    score: ScoreBreakdown
    game_over: bool
    bankrupt: bool
    end_reason: str
    state_hash: str
    inference: InferenceResult | None = None  # managed inference, when the company runs it
