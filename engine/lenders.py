"""Lenders: debt sized by DSCR, covenants, venture debt (KB §4, §5); equity rounds are in engine/equity.py.

Debt capacity is cash-flow underwriting: contracted revenue counts at full weight, the rest at
a haircut; the maximum debt service is underwritten CFADS over the required DSCR; capacity is
the present value of that service over the tenor (CALIBRATION 15-17). Spreads tighten with the
investment-grade contracted share (SOFR + ~250 bps vs + ~400 bps), and tenor follows contract
life (KB §4: long contracts support long debt; without them lenders stop at 3-5 years).
"""

from __future__ import annotations

from engine.base import Frozen
from engine.calendar import TICKS_PER_QUARTER
from engine.finance import debt_capacity, dscr
from engine.money import fmt_usd, to_cents
from engine.scenario import INVESTMENT_GRADE, CompanyRules
from engine.state import GameState, LoanOffer
from engine.world import WorldQuarter

VENTURE_STAGES = ("seed", "series-a", "series-b", "series-c")
VENTURE_SHARE_OF_VALUE = 0.05  # KB §5: venture debt runs 20-30% of the last round; ~5% of post-money
VENTURE_SPREAD_BPS = 800  # KB §5: 12-15% all-in at Series B
VENTURE_WARRANT_COVERAGE = 0.10
EQUIPMENT_LTV = 0.80  # KB §5: equipment financing at ~80% loan-to-value on GPU purchases
MIN_OFFER_CENTS = 100_000_000  # $1M: lenders do not bother below this


class Underwriting(Frozen):
    """How a lender sees the company, in annual dollars-as-cents."""

    contracted_revenue_cents: int  # next four quarters, signed contracts
    uncontracted_revenue_cents: int  # trailing quarter x 4, before the haircut
    cash_costs_cents: int  # trailing quarter x 4
    cfads_cents: int  # underwritten cash flow available for debt service
    ig_share: float  # investment-grade contracted revenue / underwritten revenue
    contracted_share: float
    remaining_contract_quarters: float  # revenue-weighted


def underwrite(state: GameState, rules: CompanyRules) -> Underwriting:
    q = state.quarter  # the quarter about to be played
    contracted = ig = 0
    weighted_life = 0.0
    for c in state.contracts:
        if c.status != "active" or c.end_quarter <= q:
            continue
        quarters = min(4, c.end_quarter - max(q, c.start_quarter))
        rev = to_cents(c.gpus * c.usd_per_gpu_hour * TICKS_PER_QUARTER * quarters)
        contracted += rev
        weighted_life += rev * (c.end_quarter - q)
        if c.grade in INVESTMENT_GRADE:
            ig += rev
    last = state.history[-1] if state.history else None
    uncontracted = max(0, (last.revenue_cents - last.contracted_revenue_cents) * 4) if last else 0
    costs = max(0, (last.revenue_cents - last.ebitda_cents) * 4) if last else 0
    underwritten_rev = contracted + round(uncontracted * (1 - rules.uncontracted_haircut))
    cfads = underwritten_rev - costs
    return Underwriting(
        contracted_revenue_cents=contracted,
        uncontracted_revenue_cents=uncontracted,
        cash_costs_cents=costs,
        cfads_cents=cfads,
        ig_share=ig / underwritten_rev if underwritten_rev > 0 else 0.0,
        contracted_share=contracted / underwritten_rev if underwritten_rev > 0 else 0.0,
        remaining_contract_quarters=weighted_life / contracted if contracted else 0.0,
    )


def term_spread_bps(wq: WorldQuarter, ig_share: float) -> float:
    """SOFR + ~400 bps without investment-grade contracts, down to ~250 with them (KB §4)."""
    share = min(1.0, max(0.0, ig_share))
    return wq.spread_sub_ig_bps - (wq.spread_sub_ig_bps - wq.spread_ig_bps) * share


def term_tenor_quarters(u: Underwriting) -> int:
    """Tenor follows contract life: 80% of it when contracts carry the cash flow, else 4 years."""
    if u.contracted_share >= 0.5:
        return int(min(48, max(16, round(0.8 * u.remaining_contract_quarters))))
    return 16


def venture_debt_offer(state: GameState, wq: WorldQuarter, equity_value_cents: int) -> LoanOffer | None:
    """Venture debt (KB §5): lent against the equity story, not cash flow, to venture-stage
    companies; expensive, and the lender takes warrants (a slice of the upside)."""
    if state.stage not in VENTURE_STAGES or state.covenant in ("lock-up", "default"):
        return None
    existing = sum(l.balance_cents for l in state.loans if l.kind == "venture")
    room = int(equity_value_cents * VENTURE_SHARE_OF_VALUE) - existing
    if room < MIN_OFFER_CENTS:
        return None
    return LoanOffer(
        id=f"V{wq.index}", lender="Sandhill Venture Lending", kind="venture", max_cents=room,
        spread_bps=VENTURE_SPREAD_BPS, tenor_quarters=12, warrant_coverage=VENTURE_WARRANT_COVERAGE,
        warrant_price_cents=max(1, equity_value_cents // max(1, sum(h.shares for h in state.cap_table))),
        basis=(f"{VENTURE_SHARE_OF_VALUE:.0%} of your {fmt_usd(equity_value_cents)} equity value, less {fmt_usd(existing)} "
               f"outstanding; warrants for {VENTURE_WARRANT_COVERAGE:.0%} of the loan at today's share price"),
    )


def loan_offers(state: GameState, wq: WorldQuarter, rules: CompanyRules) -> list[LoanOffer]:
    """Offers for the coming quarter ``wq``. None while covenants are in lock-up or default."""
    if state.covenant in ("lock-up", "default"):
        return []
    offers: list[LoanOffer] = []
    u = underwrite(state, rules)
    debt = state.debt_cents
    if u.cfads_cents > 0:
        tenor = term_tenor_quarters(u)
        spread = round(term_spread_bps(wq, u.ig_share))
        target = 1.35 if u.contracted_share >= 0.5 else 1.5
        rate_q = (wq.sofr + spread / 10_000) / 4
        capacity = debt_capacity(u.cfads_cents / 4, tenor, rate_q, target)
        room = int(capacity) - debt
        if room >= MIN_OFFER_CENTS:
            kind = "project" if tenor > 20 else "term"
            offers.append(
                LoanOffer(
                    id=f"T{wq.index}",
                    lender="Granite Infrastructure Credit" if kind == "project" else "Northbank Capital",
                    kind=kind,
                    max_cents=room,
                    spread_bps=round(spread),
                    tenor_quarters=tenor,
                    basis=(
                        f"Underwritten cash flow {fmt_usd(u.cfads_cents)}/yr ({u.contracted_share:.0%} contracted, the rest at a "
                        f"{rules.uncontracted_haircut:.0%} haircut) / {target:.2f}x DSCR over {tenor // 4} years, less "
                        f"{fmt_usd(debt)} of existing debt"
                    ),
                )
            )
    pledged = sum(l.balance_cents for l in state.loans if l.kind == "equipment")
    book = sum(l.cost_cents - l.accum_dep_cents for l in state.lots if l.ownership == "owned" and l.status != "closed")
    ltv_room = int(book * EQUIPMENT_LTV) - pledged
    # collateral sets the ceiling, but the lender still tests DSCR on all the company's debt
    rate_q = (wq.sofr + (wq.spread_sub_ig_bps + 150) / 10_000) / 4
    dscr_room = int(debt_capacity(u.cfads_cents / 4, 12, rate_q, 1.5)) - debt if u.cfads_cents > 0 else 0
    room = min(ltv_room, dscr_room)
    if room >= MIN_OFFER_CENTS:
        offers.append(
            LoanOffer(
                id=f"E{wq.index}",
                lender="Ironclad Equipment Finance",
                kind="equipment",
                max_cents=room,
                spread_bps=round(wq.spread_sub_ig_bps + 150),
                tenor_quarters=12,
                basis=(
                    f"{EQUIPMENT_LTV:.0%} of {fmt_usd(book)} GPU book value less {fmt_usd(pledged)} pledged, "
                    f"capped so that underwritten cash flow covers all debt service 1.50x"
                ),
            )
        )
    return offers


def trailing_dscr(state: GameState, extra_service_cents: int = 0) -> float | None:
    """Trailing-four-quarter DSCR: CFADS / (interest + scheduled principal), None without debt service.

    ``extra_service_cents`` adds a quarter of a new loan's service: the preview of what it does
    to the next covenant test."""
    window = state.history[-4:]
    service = sum(r.debt_service_cents for r in window) + extra_service_cents
    if not window or service <= 0:
        return None
    return dscr(sum(r.cfads_cents + r.equity_cure_cents for r in window), service)


def loan_quarter_service_cents(amount_cents: int, spread_bps: float, sofr: float, tenor_quarters: int) -> int:
    """One quarter of a new loan's service: floating interest at SOFR + spread and level principal."""
    return round(amount_cents * (sofr + spread_bps / 10_000) / 4) + -(-amount_cents // tenor_quarters)
