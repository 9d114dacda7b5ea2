"""Actions are data: a pydantic discriminated union on ``kind`` (DESIGN.md "Actions are data").

Each action is checked against the state first (``check``) and only then carried out
(``execute``); a rejected action leaves the state exactly as it was (OpenTTD's "test run,
then execute"). Reasons are written for a player, with the numbers that matter.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import ConfigDict, Field, TypeAdapter

from engine.base import Frozen, Rejected
from engine.calendar import TICKS_PER_QUARTER, quarter_label
from engine import inference
from engine.hardware import GPUS
from engine.lenders import loan_from_offer
from engine.inference import INFERENCE_ACTIONS, DedicateGpus, DeployModel, FundTechnique, RentGpus, RetireModel, ScaleModel, SetTokenPrice
from engine.leases import colo_liability_cents, colo_rent_usd, incremental_borrowing_rate
from engine.money import MAX_USD, fmt_usd, to_cents
from engine.scenario import CompanyRules
from engine import equity
from engine.state import Contract, GameState, GpuLot, Holder, Loan, RoundRecord, Site
from engine.world import WorldQuarter

LEASE_TERMS = (4, 8, 12)
# dollars and cents (issue 11: $500,000.50 is a loan); bounded before any float conversion (issue 10)
Usd = Annotated[int | float, Field(ge=0.01, le=MAX_USD, allow_inf_nan=False)]


class BuyGpus(Frozen):
    """Order GPUs for one of your sites; paid now, delivered after the lead time."""

    kind: Literal["buy_gpus"] = "buy_gpus"
    gen: str
    count: int = Field(gt=0, le=100_000)
    site_id: str


class LeaseGpus(Frozen):
    """Rent GPU capacity from another cloud on a take-or-pay term: the flex layer (KB §20)."""

    kind: Literal["lease_gpus"] = "lease_gpus"
    gen: str
    count: int = Field(gt=0, le=100_000)
    term_quarters: Literal[4, 8, 12] = 4


class RenewLease(Frozen):
    """Renew a GPU lease that ends within two quarters (issue 11, renewals): the same GPUs stay, on a
    new take-or-pay term at today's lease rate that starts when the old one ends (KB §20)."""

    kind: Literal["renew_lease"] = "renew_lease"
    lot_id: str
    term_quarters: Literal[4, 8, 12] = 4


RENEWAL_WINDOW_QUARTERS = 2  # a lessor takes a renewal this close to the end (the advisor's horizon)


def renewal_of(state: GameState, lot: GpuLot) -> GpuLot | None:
    """The lease that renews ``lot``: the same GPUs on a term starting the quarter ``lot`` ends."""
    return next((o for o in state.lots if o.ownership == "leased" and o.status == "active" and o.id != lot.id and o.gen == lot.gen
                 and o.count == lot.count and o.arrives_quarter == lot.lease_end_quarter and o.ordered_quarter >= lot.ordered_quarter), None)


RENEWAL_PREFIX = "R-"  # a renewal offer's id: the prefix and the id of the contract it renews


def renewal_offer_id(contract_id: str) -> str:
    return f"{RENEWAL_PREFIX}{contract_id}"


def renewed_contract(state: GameState, offer_id: str) -> Contract | None:
    """The running contract a renewal offer renews (None for a new customer's offer)."""
    if not offer_id.startswith(RENEWAL_PREFIX):
        return None
    cid = offer_id[len(RENEWAL_PREFIX):]
    return next((c for c in state.contracts if c.id == cid and c.status == "active"), None)


class SellGpus(Frozen):
    """Sell owned GPUs on the secondary market at this quarter's price for their generation."""

    kind: Literal["sell_gpus"] = "sell_gpus"
    lot_id: str
    count: int = Field(gt=0, le=100_000)


class LeaseColo(Frozen):
    """Lease colocation capacity ($/kW/month, power included); ready next quarter (KB §8)."""

    kind: Literal["lease_colo"] = "lease_colo"
    mw: float = Field(gt=0, le=100)


class BuildSite(Frozen):
    """Build an owned data center: permitting, interconnection, then construction (KB §18)."""

    kind: Literal["build_site"] = "build_site"
    mw: float = Field(ge=5, le=1000)
    power_source: Literal["grid", "stranded-gas", "ppa"] = "stranded-gas"


class ReleaseSite(Frozen):
    """End a colocation lease; the site must hold no GPUs."""

    kind: Literal["release_site"] = "release_site"
    site_id: str


class SetPrice(Frozen):
    """Set your on-demand price for one generation relative to the market rate."""

    kind: Literal["set_price"] = "set_price"
    gen: str
    vs_market: float = Field(ge=-0.5, le=1.0)  # -0.10 = 10% below the market rate


class SignContract(Frozen):
    """Sign a reserved-capacity contract from this quarter's offers."""

    kind: Literal["sign_contract"] = "sign_contract"
    offer_id: str


class TakeLoan(Frozen):
    """Draw a loan from a lender's offer, up to its maximum."""

    kind: Literal["take_loan"] = "take_loan"
    offer_id: str
    amount_usd: Usd


class RepayLoan(Frozen):
    """Prepay part or all of a loan from cash."""

    kind: Literal["repay_loan"] = "repay_loan"
    loan_id: str
    amount_usd: Usd


class RaiseEquity(Frozen):
    """Sell new shares to an investor at the offer's pre-money valuation (dilutes founders)."""

    kind: Literal["raise_equity"] = "raise_equity"
    offer_id: str
    amount_usd: Usd


Action = Annotated[
    Union[
        BuyGpus, LeaseGpus, RenewLease, SellGpus, LeaseColo, BuildSite, ReleaseSite, SetPrice, SignContract, TakeLoan, RepayLoan, RaiseEquity,
        RentGpus, DeployModel, ScaleModel, RetireModel, SetTokenPrice, FundTechnique, DedicateGpus,
    ],
    Field(discriminator="kind"),
]
# defer_build: the union's validator is built by the first action parsed, not at import (issue 11 start-up:
# an empty turn plan, as on the first screen, parses none)
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action, config=ConfigDict(defer_build=True))
ACTION_KINDS = (
    "buy_gpus", "lease_gpus", "renew_lease", "sell_gpus", "lease_colo", "build_site", "release_site",
    "set_price", "sign_contract", "take_loan", "repay_loan", "raise_equity",
    "rent_gpus", "deploy_model", "scale_model", "retire_model", "set_token_price", "fund_technique", "dedicate_gpus",
)


def parse_action(data: dict) -> Action:
    """Validate a dict (from JSON) into an action; raises pydantic.ValidationError."""
    return ACTION_ADAPTER.validate_python(data)


def action_to_dict(action: Action) -> dict:
    return action.model_dump(mode="json")


# ---------------------------------------------------------------- helpers used by checks


def owned_unit_cost_cents(world: WorldQuarter, rules: CompanyRules, gen: str) -> int:
    """All-in price of one owned GPU: list price plus its networking share (KB §7: +15-25%)."""
    return to_cents(world.gpus[gen].list_price_usd * (1 + rules.networking_share))


def gpu_kw(gen: str) -> float:
    return GPUS[gen].tdp_w / 1000.0


def site_load_kw(state: GameState, site_id: str) -> float:
    """IT load of owned GPUs placed in a site, counting those still on order."""
    return sum(lot.count * gpu_kw(lot.gen) for lot in state.lots if lot.site_id == site_id and lot.status != "closed")


def active_gpus(state: GameState, gen: str, quarter: int) -> int:
    """GPUs of a generation in service in a quarter (owned and delivered, or leased and running)."""
    n = 0
    for lot in state.lots:
        if lot.gen != gen or lot.status == "closed":
            continue
        if lot.ownership == "owned" and lot.status == "active":
            n += lot.count
        elif lot.ownership == "leased" and lot.arrives_quarter <= quarter < lot.lease_end_quarter:
            n += lot.count
    return n


def committed_gpus(state: GameState, gen: str, quarter: int) -> int:
    return sum(
        c.gpus for c in state.contracts if c.gen == gen and c.status == "active" and c.start_quarter <= quarter < c.end_quarter
    )


def shares_outstanding(state: GameState) -> int:
    return sum(h.shares for h in state.cap_table)


# ---------------------------------------------------------------- check and execute


def check(state: GameState, world: WorldQuarter, rules: CompanyRules, action: Action, reserved_cash: int = 0) -> None:
    """Raise ``Rejected`` with a reason if the action cannot be done now; never mutates."""
    q = state.quarter
    cash = state.cash_cents - reserved_cash
    if state.game_over:
        raise Rejected("the game is over")
    match action:
        case BuyGpus(gen=gen, count=count, site_id=site_id):
            market = _market(world, gen)
            if not market.available:
                raise Rejected(f"{GPUS[gen].name} cannot be ordered yet")
            ordered = sum(lot.count for lot in state.lots if lot.gen == gen and lot.ownership == "owned" and lot.ordered_quarter == q)
            if ordered + count > market.allocation_limit:
                left = max(0, market.allocation_limit - ordered)
                raise Rejected(f"NVIDIA's allocation for a buyer your size is {market.allocation_limit:,} {gen.upper()} this quarter; {left:,} left")
            site = state.site(site_id)
            if site is None or site.stage == "released":
                raise Rejected(f"no site {site_id!r}; your sites: {', '.join(s.id for s in state.sites if s.stage != 'released') or 'none'}")
            free_kw = site.mw * 1000 - site_load_kw(state, site_id)
            need_kw = count * gpu_kw(gen)
            if need_kw > free_kw + 1e-9:
                fits = int(max(0.0, free_kw) // gpu_kw(gen))
                raise Rejected(f"site {site.name} has {max(0.0, free_kw):,.0f} kW free; {count:,} {gen.upper()} need {need_kw:,.0f} kW (at most {fits:,} fit)")
            cost = count * owned_unit_cost_cents(world, rules, gen)
            if cost > cash:
                raise Rejected(f"{count:,} {gen.upper()} cost {fmt_usd(cost)} with networking; you have {fmt_usd(cash)} free cash")
        case LeaseGpus(gen=gen, count=count, term_quarters=term):
            market = _market(world, gen)
            if not market.available:
                raise Rejected(f"{GPUS[gen].name} is not offered for lease yet")
            leased = sum(lot.count for lot in state.lots if lot.gen == gen and lot.ownership == "leased" and lot.ordered_quarter == q)
            limit = 4 * market.allocation_limit
            if leased + count > limit:
                raise Rejected(f"lessors can place at most {limit:,} {gen.upper()} with you this quarter; {max(0, limit - leased):,} left")
            first_quarter = to_cents(lease_rate(world, gen, term) * count * TICKS_PER_QUARTER)
            if first_quarter > cash:
                raise Rejected(f"the first quarter of this lease costs {fmt_usd(first_quarter)}; you have {fmt_usd(cash)} free cash")
        case RenewLease(lot_id=lot_id, term_quarters=term):
            lot = state.lot(lot_id)
            if lot is None or lot.ownership != "leased" or lot.status != "active" or lot.lease_end_quarter < q:
                raise Rejected(f"no running GPU lease {lot_id!r}")
            if lot.lease_end_quarter > q + RENEWAL_WINDOW_QUARTERS:
                raise Rejected(f"lease {lot_id} runs to {quarter_label(state.start, lot.lease_end_quarter - 1)}: lessors renew "
                               f"within {RENEWAL_WINDOW_QUARTERS} quarters of the end")
            done = renewal_of(state, lot)
            if done is not None:
                raise Rejected(f"lease {lot_id} is already renewed ({done.id})")
            market = _market(world, lot.gen)
            if not market.available:
                raise Rejected(f"{GPUS[lot.gen].name} is no longer offered for lease")
            if lot.lease_end_quarter <= q:  # it ends as this quarter starts: the first payment is now
                first_quarter = to_cents(lease_rate(world, lot.gen, term) * lot.count * TICKS_PER_QUARTER)
                if first_quarter > cash:
                    raise Rejected(f"the first quarter of the renewal costs {fmt_usd(first_quarter)}; you have {fmt_usd(cash)} free cash")
        case SellGpus(lot_id=lot_id, count=count):
            lot = state.lot(lot_id)
            if lot is None or lot.ownership != "owned" or lot.status != "active":
                raise Rejected(f"no delivered owned GPU lot {lot_id!r}")
            free = active_gpus(state, lot.gen, q) - committed_gpus(state, lot.gen, q) - inference.own_gpus_serving_tokens(state, lot.gen)
            if count > lot.count:
                raise Rejected(f"lot {lot_id} holds {lot.count:,} GPUs")
            if count > free:
                raise Rejected(f"only {max(0, free):,} {lot.gen.upper()} are free of contracts and model replicas; signed customers keep theirs")
        case LeaseColo(mw=mw):
            rent = to_cents(colo_rent_usd(mw, world.colo_usd_per_kw_month))
            if rent > cash:
                raise Rejected(f"a quarter of rent on {mw:g} MW is {fmt_usd(rent)}; you have {fmt_usd(cash)} free cash")
        case BuildSite(mw=mw):
            if world.build_moratorium:
                raise Rejected("a power moratorium is in force: no new data-center permits this quarter")
            first = to_cents(mw * (rules.build_shell_usd_per_mw + rules.build_power_usd_per_mw) * 0.05)
            if first > cash:
                raise Rejected(f"the permit and design deposit (5%) is {fmt_usd(first)}; you have {fmt_usd(cash)} free cash")
        case ReleaseSite(site_id=site_id):
            site = state.site(site_id)
            if site is None or site.kind != "colo" or site.stage == "released":
                raise Rejected(f"no leased colo site {site_id!r}")
            if site_load_kw(state, site_id) > 0:
                raise Rejected(f"site {site.name} still holds GPUs: sell them first")
            owed = colo_liability_cents(site, q)
            if owed > cash:
                raise Rejected(f"{site.name}'s lease runs to {quarter_label(state.start, site.lease_end_quarter)}: leaving now pays the "
                               f"{fmt_usd(owed)} of rent still owed, and you have {fmt_usd(cash)} free cash")
        case SetPrice(gen=gen):
            _market(world, gen)
        case SignContract(offer_id=offer_id):
            offer = next((o for o in state.offers.contracts if o.id == offer_id), None)
            if offer is None:
                if any(c.id == offer_id and c.start_quarter == q for c in state.contracts):
                    raise Rejected(f"contract offer {offer_id} is already signed in your plan")
                if any(c.id == offer_id for c in state.contracts):
                    raise Rejected(f"the contract is already renewed ({offer_id})")
                raise Rejected(f"no contract offer {offer_id!r} this quarter")
            old = renewed_contract(state, offer_id)
            if old is not None:  # a renewal starts when the old term ends: the GPUs it frees are the ones it needs
                start = old.end_quarter
                free = active_gpus(state, offer.gen, start) - committed_gpus(state, offer.gen, start)
                if offer.gpus > free:
                    raise Rejected(f"{offer.customer} renews {offer.gpus:,} {offer.gen.upper()} from {quarter_label(state.start, start)}; "
                                   f"you will have {max(0, free):,} in service and not under contract then (a lease ends?)")
            else:
                free = active_gpus(state, offer.gen, q) - committed_gpus(state, offer.gen, q) - inference.own_gpus_serving_tokens(state, offer.gen)
                if offer.gpus > free:
                    raise Rejected(f"{offer.customer} needs {offer.gpus:,} {offer.gen.upper()} now; you have {max(0, free):,} in service and not under contract")
        case TakeLoan(offer_id=offer_id, amount_usd=amount):
            offer = next((o for o in state.offers.loans if o.id == offer_id), None)
            if offer is None:
                raise Rejected(f"no loan offer {offer_id!r} this quarter")
            if state.covenant in ("lock-up", "default"):
                raise Rejected(f"your covenant status is {state.covenant}: lenders allow no new debt until DSCR recovers")
            if to_cents(amount) > offer.max_cents:
                raise Rejected(f"{offer.lender} lends at most {fmt_usd(offer.max_cents)}")
        case RepayLoan(loan_id=loan_id, amount_usd=amount):
            loan = state.loan(loan_id)
            if loan is None or loan.balance_cents <= 0:
                raise Rejected(f"no outstanding loan {loan_id!r}")
            if to_cents(amount) > loan.balance_cents:
                raise Rejected(f"loan {loan_id} has {fmt_usd(loan.balance_cents)} outstanding")
            if to_cents(amount) > cash:
                raise Rejected(f"you have {fmt_usd(cash)} free cash")
        case RaiseEquity(offer_id=offer_id, amount_usd=amount):
            offer = next((o for o in state.offers.equity if o.id == offer_id), None)
            if offer is None:
                raise Rejected(f"no equity offer {offer_id!r} this quarter")
            if to_cents(amount) > offer.max_cents:
                raise Rejected(f"{offer.investor} invests at most {fmt_usd(offer.max_cents)}")
        case RentGpus(gen=gen, on_demand=od, spot=sp) if gen in world.gpus:
            inference.check(state, world, rules.inference, action)
            # a GPU provider checks credit (issue 11, item 1): the quarter's rental bill, used or not
            bill = rental_bill_cents(state, world, rules, {gen: (od, sp)})
            credit = available_credit_cents(state)
            if bill > cash + credit:
                raise Rejected(f"the rental bill would be {fmt_usd(bill)} this quarter, used or not; you have {fmt_usd(cash)} free cash"
                               f"{f' and {fmt_usd(credit)} of credit offered' if credit else ''}: {fmt_usd(bill - cash - credit)} short")
        case _ if isinstance(action, INFERENCE_ACTIONS):
            inference.check(state, world, rules.inference, action)
        case _:  # pragma: no cover - the union is closed
            raise Rejected(f"unknown action {action!r}")


def rental_bill_cents(state: GameState, world: WorldQuarter, rules: CompanyRules, change: dict[str, tuple[int, int]] | None = None) -> int:
    """The quarter's bill for GPUs rented on demand and on spot, used or not (engine.inference.serve's
    rental cost): on demand at the cloud's price times the premium, spot at the spot price.
    ``change`` replaces a generation's (on demand, spot) numbers, as a rent_gpus action would."""
    inf = state.inference
    counts = {g: (inf.on_demand.get(g, 0), inf.spot.get(g, 0)) for g in set(inf.on_demand) | set(inf.spot)}
    counts.update(change or {})
    usd = 0.0
    for gen, (od, sp) in counts.items():
        if gen in world.gpus:
            m = world.gpus[gen]
            usd += (od * m.on_demand_usd_per_hour * rules.inference.on_demand_rental_premium + sp * m.spot_usd_per_hour) * TICKS_PER_QUARTER
    return to_cents(usd)


def available_credit_cents(state: GameState) -> int:
    """What the lenders would still lend this quarter: the loan offers' maxima, an offer sized on
    the same cash flow as another counted once (drawing one withdraws the other); none in lock-up."""
    if state.covenant in ("lock-up", "default"):
        return 0
    offers = {o.id: o for o in state.offers.loans}
    total = sum(o.max_cents for o in offers.values())
    for o in offers.values():
        twin = offers.get(o.alternative_to)
        if twin is not None:
            total -= min(o.max_cents, twin.max_cents)  # the larger of two alternatives stands for both
    return total


def lease_rate(world: WorldQuarter, gen: str, term_quarters: int) -> float:
    """What we pay per GPU-hour to lease for a term: the longer, the closer to the reserved rate."""
    market = world.gpus[gen]
    return {4: market.lease_usd_per_hour, 8: market.reserved_usd_per_hour[8] * 1.05, 12: market.reserved_usd_per_hour[12] * 1.05}[term_quarters]


def _market(world: WorldQuarter, gen: str):
    if gen not in world.gpus:
        raise Rejected(f"unknown GPU generation {gen!r}; valid: {', '.join(world.gpus)}")
    return world.gpus[gen]


def execute(state: GameState, world: WorldQuarter, rules: CompanyRules, action: Action) -> str:
    """Carry out a checked action on ``state`` (mutates it); returns a one-line summary."""
    q = state.quarter
    led = state.ledger
    match action:
        case BuyGpus(gen=gen, count=count, site_id=site_id):
            unit = owned_unit_cost_cents(world, rules, gen)
            lead = max(1, world.gpus[gen].lead_time_quarters)
            lot = GpuLot(
                id=state.new_id("L"), gen=gen, count=count, ownership="owned", status="on_order", site_id=site_id,
                ordered_quarter=q, arrives_quarter=q + lead, unit_cost_cents=unit, cost_cents=unit * count,
                life_quarters=round(rules.gpu_life_years * 4),
            )
            state.lots.append(lot)
            led.post("GPU purchases", [("gpu_deposits", unit * count), ("cash", -unit * count)], "investing")
            return f"ordered {count:,} {gen.upper()} for {fmt_usd(unit * count)}, arriving in {lead} quarter(s) ({lot.id})"
        case LeaseGpus(gen=gen, count=count, term_quarters=term):
            rate = lease_rate(world, gen, term)
            lot = GpuLot(
                id=state.new_id("L"), gen=gen, count=count, ownership="leased", status="active", site_id=None,
                ordered_quarter=q, arrives_quarter=q, lease_usd_per_hour=rate, lease_end_quarter=q + term,
                lease_discount_rate=incremental_borrowing_rate(world.sofr, world.spread_sub_ig_bps),
            )
            state.lots.append(lot)
            return f"leased {count:,} {gen.upper()} for {term} quarters at ${rate:.2f}/GPU-hour ({lot.id})"
        case RenewLease(lot_id=lot_id, term_quarters=term):
            old = state.lot(lot_id)
            assert old is not None
            rate = lease_rate(world, old.gen, term)
            start = max(q, old.lease_end_quarter)
            lot = GpuLot(
                id=state.new_id("L"), gen=old.gen, count=old.count, ownership="leased", status="active", site_id=None,
                ordered_quarter=q, arrives_quarter=start, lease_usd_per_hour=rate, lease_end_quarter=start + term,
                lease_discount_rate=incremental_borrowing_rate(world.sofr, world.spread_sub_ig_bps),
            )
            state.lots.append(lot)
            return (f"renewed lease {old.id}: {old.count:,} {old.gen.upper()} for {term} more quarters from "
                    f"{quarter_label(state.start, start)} at ${rate:.2f}/GPU-hour ({lot.id})")
        case SellGpus(lot_id=lot_id, count=count):
            lot = state.lot(lot_id)
            assert lot is not None
            price = to_cents(world.gpus[lot.gen].secondary_usd) * count
            cost, dep = _remove_from_lot(lot, count)
            lot.sold += count
            book = cost - dep
            led.post(
                "GPU sales",
                [("cash", price), ("gpu_accum_dep", dep), ("gpu_equipment", -cost), ("other_gain_loss", book - price)],
                "investing",
            )
            return f"sold {count:,} {lot.gen.upper()} for {fmt_usd(price)} (book value {fmt_usd(book)})"
        case LeaseColo(mw=mw):
            site = Site(
                id=state.new_id("S"), name=f"Colo {len(state.sites) + 1}", kind="colo", mw=mw, pue=rules.colo_pue,
                power_source="grid", stage="provisioning", stage_quarters_left=1, colo_usd_per_kw_month=world.colo_usd_per_kw_month,
                lease_end_quarter=q + 1 + rules.colo_term_quarters,  # rent from next quarter, for the term
                lease_discount_rate=incremental_borrowing_rate(world.sofr, world.spread_sub_ig_bps),
            )
            state.sites.append(site)
            return (f"leased {mw:g} MW of colocation at ${world.colo_usd_per_kw_month:.0f}/kW/month for {rules.colo_term_quarters} "
                    f"quarters, ready next quarter ({site.id})")
        case BuildSite(mw=mw, power_source=source):
            shell = to_cents(mw * rules.build_shell_usd_per_mw)
            power = to_cents(mw * rules.build_power_usd_per_mw)
            deposit = to_cents(mw * (rules.build_shell_usd_per_mw + rules.build_power_usd_per_mw) * 0.05)
            interconnect = 1 if source == "stranded-gas" else rules.interconnect_quarters
            site = Site(
                id=state.new_id("S"), name=f"Campus {len(state.sites) + 1}", kind="owned", mw=mw, pue=rules.owned_pue,
                power_source=source, stage="permitting", stage_quarters_left=max(1, rules.permit_quarters),
                capex_shell_cents=shell, capex_power_cents=power, capex_spent_cents=deposit,
                capex_quarters_total=interconnect + rules.construction_quarters,
            )
            state.sites.append(site)
            led.post("Data-center construction", [("site_cip", deposit), ("cash", -deposit)], "investing")
            return f"started a {mw:g} MW {source} campus: {fmt_usd(shell + power)} of capex over the build ({site.id})"
        case ReleaseSite(site_id=site_id):
            site = state.site(site_id)
            assert site is not None
            owed = colo_liability_cents(site, q)
            site.stage = "released"
            if owed:  # take-or-pay for the term: the rest of the rent is paid now, as rent (ASC 842 termination)
                led.post("Colo lease terminated", [("cogs_colo", owed), ("cash", -owed)], "operating")
                return f"released colo site {site.name}, paying the {fmt_usd(owed)} of rent still owed for its term"
            return f"released colo site {site.name}"
        case SetPrice(gen=gen, vs_market=v):
            state.price_vs_market[gen] = v
            return f"{gen.upper()} on-demand price set to market {v:+.0%}"
        case SignContract(offer_id=offer_id):
            offer = next(o for o in state.offers.contracts if o.id == offer_id)
            state.offers.contracts = [o for o in state.offers.contracts if o.id != offer_id]
            old = renewed_contract(state, offer_id)
            start = old.end_quarter if old is not None else q
            state.contracts.append(
                Contract(
                    id=offer.id, customer=offer.customer, segment=offer.segment, gen=offer.gen, gpus=offer.gpus,
                    term_quarters=offer.term_quarters, usd_per_gpu_hour=offer.usd_per_gpu_hour, grade=offer.grade,
                    start_quarter=start, end_quarter=start + offer.term_quarters,
                )
            )
            if old is not None:
                return (f"renewed {offer.customer}: {offer.gpus:,} {offer.gen.upper()} for {offer.term_quarters} more quarters from "
                        f"{quarter_label(state.start, start)} at ${offer.usd_per_gpu_hour:.2f}/h")
            return f"signed {offer.customer}: {offer.gpus:,} {offer.gen.upper()} for {offer.term_quarters} quarters at ${offer.usd_per_gpu_hour:.2f}/h"
        case TakeLoan(offer_id=offer_id, amount_usd=amount):
            offer = next(o for o in state.offers.loans if o.id == offer_id)
            cents = to_cents(amount)
            # an alternative offer sized on the same cash flow is withdrawn with it (engine.lenders.loan_offers)
            state.offers.loans = [o for o in state.offers.loans if o.id != offer_id and o.alternative_to != offer_id and o.id != offer.alternative_to]
            loan = loan_from_offer(offer, cents, state.new_id("D"), q)
            state.loans.append(loan)
            led.post("Debt drawn", [("cash", cents), ("debt", -cents)], "financing")
            warrants = ""
            if offer.warrant_coverage > 0 and offer.warrant_price_cents > 0:  # venture debt: warrants, struck at today's price
                n = max(1, round(cents * offer.warrant_coverage / offer.warrant_price_cents))
                state.cap_table.append(Holder(
                    name=f"{offer.lender} (warrants)", kind="warrants", shares=n, round="Venture debt warrants", quarter=q,
                    strike_cents=offer.warrant_price_cents,
                ))
                # ASC 470-20: the warrants' fair value is equity and a discount on the debt, amortized to interest
                value = min(cents, equity.warrant_fair_value_cents(n, offer.warrant_price_cents))
                if value > 0:
                    loan.discount_cents = value
                    led.post("Warrants issued with debt", [("debt_discount", value), ("paid_in_capital", -value)])
                warrants = f", with warrants for {n:,} shares at {fmt_usd(offer.warrant_price_cents)} (fair value {fmt_usd(value)}, a debt discount)"
            return f"borrowed {fmt_usd(cents)} from {offer.lender} at SOFR + {offer.spread_bps:.0f} bps over {offer.tenor_quarters} quarters{warrants} ({loan.id})"
        case RepayLoan(loan_id=loan_id, amount_usd=amount):
            loan = state.loan(loan_id)
            assert loan is not None
            cents = to_cents(amount)
            loan.balance_cents -= cents
            led.post("Debt repaid", [("debt", cents), ("cash", -cents)], "financing")
            return f"prepaid {fmt_usd(cents)} of loan {loan_id}"
        case RaiseEquity(offer_id=offer_id, amount_usd=amount):
            offer = next(o for o in state.offers.equity if o.id == offer_id)
            cents = to_cents(amount)
            shares = shares_outstanding(state)
            new_shares = max(1, round(shares * cents / offer.pre_money_cents))
            state.offers.equity = [o for o in state.offers.equity if o.id != offer_id]
            label = f"{offer.round} (down round)" if offer.down_round else offer.round
            state.cap_table.append(Holder(name=f"{offer.investor} ({label})", kind="investor", shares=new_shares, round=label, quarter=q))
            led.post("Equity raised", [("cash", cents), ("paid_in_capital", -cents)], "financing")
            post_money = offer.pre_money_cents + cents
            state.rounds.append(RoundRecord(
                quarter=q, round=offer.round, investor=offer.investor, amount_cents=cents, pre_money_cents=offer.pre_money_cents,
                post_money_cents=post_money, shares=new_shares, price_per_share_cents=offer.pre_money_cents / shares if shares else 0.0,
                down_round=offer.down_round,
            ))
            return f"raised {fmt_usd(cents)} from {offer.investor} ({label}) at {fmt_usd(offer.pre_money_cents)} pre-money ({cents / post_money:.1%} of the company)"
    if isinstance(action, INFERENCE_ACTIONS):
        return inference.execute(state, world, rules.inference, action)
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


def _remove_from_lot(lot: GpuLot, count: int) -> tuple[int, int]:
    """Take ``count`` GPUs out of a lot; returns (gross cost, accumulated depreciation) removed."""
    cost = lot.cost_cents * count // lot.count
    dep = lot.accum_dep_cents * count // lot.count
    lot.count -= count
    lot.cost_cents -= cost
    lot.accum_dep_cents -= dep
    if lot.count == 0:
        lot.status = "closed"
    return cost, dep
