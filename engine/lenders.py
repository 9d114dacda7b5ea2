"""Lenders: debt sized by DSCR, covenants, venture debt (KB §4, §5); equity rounds are in engine/equity.py.

Debt capacity is cash-flow underwriting: contracted revenue counts at full weight, the rest at
a haircut; the maximum debt service is underwritten CFADS over the required DSCR; capacity is
the present value of that service over the tenor (CALIBRATION 15-17). Spreads tighten with the
investment-grade contracted share (SOFR + ~250 bps vs + ~400 bps), and tenor follows contract
life (KB §4: long contracts support long debt; without them lenders stop at 3-5 years).
"""

from __future__ import annotations

from itertools import accumulate

from engine.base import Frozen
from engine.calendar import TICKS_PER_QUARTER
from engine.finance import debt_capacity, dscr, equity_cure, level_principal_capacity, sculpted_principal_shares
from engine.leases import lease_payment_usd
from engine.money import fmt_usd, to_cents
from engine.scenario import INVESTMENT_GRADE, CompanyRules
from engine.state import GameState, GpuLot, Loan, LoanOffer
from engine.world import WorldQuarter

VENTURE_STAGES = ("seed", "series-a", "series-b", "series-c")
VENTURE_SHARE_OF_VALUE = 0.05  # KB §5: venture debt runs 20-30% of the last round; ~5% of post-money
VENTURE_SPREAD_BPS = 800  # KB §5: 12-15% all-in at Series B
VENTURE_WARRANT_COVERAGE = 0.10
EQUIPMENT_LTV = 0.80  # KB §5: equipment financing at ~80% loan-to-value on GPU purchases
MIN_OFFER_CENTS = 100_000_000  # $1M: lenders do not bother below this


PROJECTION_QUARTERS = 48  # the longest tenor a lender offers (12 years behind a 15-year contract, KB §4)
PREPAYMENT_FEE = 0.02  # on accelerated balances: a typical prepayment (make-whole) premium; the KB quotes none
TERM_TARGET_CONTRACTED = 1.35  # the lender's sizing DSCR, a cushion above the 1.30x lock-up (KB §4)
TERM_TARGET_MERCHANT = 1.50
EQUIPMENT_TENOR = 12
EQUIPMENT_SPREAD_OVER_SUB_IG_BPS = 150


class Underwriting(Frozen):
    """How a lender sees the company: a quarter-by-quarter projection of CFADS (after tax)."""

    contracted_revenue_cents: int  # next four quarters, signed contracts (each ends when it ends)
    uncontracted_revenue_cents: int  # trailing quarter x 4, before the haircut
    cash_costs_cents: int  # trailing quarter x 4
    cfads_cents: int  # underwritten CFADS over the next four quarters
    ig_share: float  # investment-grade contracted revenue / underwritten revenue
    contracted_share: float
    remaining_contract_quarters: float  # revenue-weighted
    longest_contract_quarters: int = 0  # quarters until the last signed contract ends
    quarterly_cfads_cents: tuple[int, ...] = ()  # quarter i = the i-th quarter from now, after projected tax
    existing_service_cents: tuple[int, ...] = ()  # scheduled service of the debt already drawn, per quarter


def principal_due(loan: Loan, quarter: int, balance_cents: int | None = None) -> int:
    """Scheduled principal of ``loan`` in ``quarter`` (on ``balance_cents``, default its balance):
    level, or the sculpted schedule; all of it at maturity."""
    balance = loan.balance_cents if balance_cents is None else balance_cents
    if balance <= 0:
        return 0
    if loan.start_quarter + loan.tenor_quarters - 1 <= quarter:
        return balance
    if loan.amortization == "sculpted" and loan.principal_schedule_cents:
        i = quarter - loan.start_quarter
        scheduled = loan.principal_schedule_cents[i] if 0 <= i < len(loan.principal_schedule_cents) else 0
        return min(balance, scheduled)
    return min(balance, loan.scheduled_principal_cents)


def balloon_due_cents(loan: Loan, quarter: int) -> int:
    """The part of ``principal_due`` in ``quarter`` that is a balloon, not scheduled service: at or
    after maturity, the balance beyond the level instalment of a loan that carries one (KB §4)."""
    if loan.balloon_cents <= 0 or loan.balance_cents <= 0 or loan.start_quarter + loan.tenor_quarters - 1 > quarter:
        return 0
    return loan.balance_cents - min(loan.balance_cents, loan.scheduled_principal_cents)


def balloon_at_maturity_cents(loan: Loan, quarter: int) -> int:
    """The balloon ``loan`` will leave at maturity, seen from ``quarter``: its balance less the level
    instalments due before then, less the last one (0 for a loan without a balloon)."""
    if loan.balloon_cents <= 0 or loan.balance_cents <= 0:
        return 0
    last = loan.start_quarter + loan.tenor_quarters - 1
    left = max(0, loan.balance_cents - loan.scheduled_principal_cents * max(0, last - quarter))
    return left - min(left, loan.scheduled_principal_cents)


def quarterly_interest_cents(balance_cents: int, spread_bps: float, sofr: float) -> int:
    """A quarter's floating interest on a balance: SOFR + spread, a quarter of the annual rate (KB §4)."""
    return to_cents(balance_cents / 100 * (sofr + spread_bps / 10_000) / 4)


def projected_service(loans: list[Loan], first_quarter: int, quarters: int, sofr: float) -> list[tuple[int, int]]:
    """(interest, principal) per quarter of the debt already drawn, at today's SOFR, as engine.step services it.

    Loan by loan over the quarters (integer cents, so the same sums as quarter by quarter), a repaid
    loan left at once (issue 10, item 12); each quarter's interest is quarterly_interest_cents."""
    interest = [0] * quarters
    principal = [0] * quarters
    for loan in loans:
        bal = loan.balance_cents
        for k in range(quarters):
            if bal <= 0:  # repaid: it is skipped from here on, its balance never changes again
                break
            interest[k] += quarterly_interest_cents(bal, loan.spread_bps, sofr)
            p = principal_due(loan, first_quarter + k, bal)
            bal -= p
            principal[k] += p
    return list(zip(interest, principal))


REFINANCING_TENOR = 16  # a balloon is underwritten as rolled into the shortest term loan lenders give (4 years, KB §4)


def as_refinanced(loan: Loan) -> Loan:
    """How a lender projects a loan with a balloon: the scheduled principal until maturity, then the
    balloon rolled into a level loan over REFINANCING_TENOR quarters (lenders size beside a balloon
    assuming it is refinanced; whether it is, is decided at maturity at that quarter's rates)."""
    if loan.balloon_cents <= 0:
        return loan
    before = [loan.scheduled_principal_cents] * (loan.tenor_quarters - 1)
    after = [-(-loan.balloon_cents // REFINANCING_TENOR)] * REFINANCING_TENOR
    return loan.model_copy(update={
        "amortization": "sculpted", "principal_schedule_cents": before + after,
        "tenor_quarters": loan.tenor_quarters - 1 + REFINANCING_TENOR,
    })


def _projected_depreciation(state: GameState, rules: CompanyRules, quarters: int) -> list[int]:
    """Straight-line depreciation of what the company owns today, as engine.step books it (the tax shield)."""
    out = [0] * quarters
    steps = [0] * (quarters + 1)  # a lot adds per_q for its whole quarters, then its remainder once
    for lot in state.lots:
        if lot.ownership != "owned" or lot.status == "closed" or lot.count <= 0:
            continue
        per_q = -(-lot.cost_cents // lot.life_quarters)
        left = lot.cost_cents - lot.accum_dep_cents
        if per_q <= 0 or left <= 0:
            continue
        full = min(quarters, left // per_q)
        steps[0] += per_q
        steps[full] -= per_q
        if full < quarters:
            out[full] += left - full * per_q
    running = 0
    for k in range(quarters):
        running += steps[k]
        out[k] += running
    for st in state.sites:
        if st.kind == "owned" and st.stage == "operating":
            shell = st.capex_shell_cents - st.dep_shell_cents
            power = st.capex_power_cents - st.dep_power_cents
            # the straight-line charges are the same every quarter: computed once, not per quarter
            shell_q = round(st.capex_shell_cents / (rules.shell_life_years * 4))
            power_q = round(st.capex_power_cents / (rules.power_life_years * 4))
            for k in range(quarters):
                if shell <= 0 and power <= 0:
                    break  # fully depreciated: nothing more to add in any later quarter
                ds = min(max(0, shell), shell_q)
                dp = min(max(0, power), power_q)
                shell, power = shell - ds, power - dp
                out[k] += ds + dp
    return out


def _underwritten_ebitda(contracted: int, merchant: int, costs: int, haircut: float) -> int:
    """A quarter's EBITDA as the lender underwrites it (KB §4, CALIBRATION 16): contracted revenue at
    full weight, merchant revenue in the lender's downside case (``haircut`` below today's), all
    the cash costs in full."""
    return round(contracted + merchant * (1 - haircut) - costs)


def leases_ended(lots: list[GpuLot], q: int, n: int) -> tuple[list[int], list[int]]:
    """Per projected quarter k (quarter q + k), the leased GPUs whose lease has ended by then and
    their quarterly lease payments in cents: what the lender's projection drops (KB §4, a lender
    counts cash flow from assets the company holds). Each lease is added once, from the quarter it
    ends, rather than the ended leases re-summed every quarter (issue 10, item 12): integer sums,
    so the same cents."""
    gone_from = [0] * (n + 1)
    saved_from = [0] * (n + 1)
    for lot in lots:
        if lot.ownership == "leased":
            k_end = min(n, max(0, lot.lease_end_quarter - q))
            gone_from[k_end] += lot.count
            saved_from[k_end] += to_cents(lease_payment_usd(lot.count, lot.lease_usd_per_hour))
    gone, saved = [], []
    g = s = 0
    for k in range(n):
        g += gone_from[k]
        s += saved_from[k]
        gone.append(g)
        saved.append(s)
    return gone, saved


def underwrite(state: GameState, rules: CompanyRules, sofr: float = 0.0) -> Underwriting:
    """Project CFADS quarter by quarter (KB §4, CALIBRATION 16): each signed contract at full weight
    until it ends, the trailing quarter's other revenue at the haircut, the trailing quarter's cash
    costs, and tax at the statutory rate on that EBITDA less depreciation and the existing debt's
    interest (loss carry-forwards used as engine.step uses them). CFADS is after tax, as in the test.
    A contract's revenue ends with it; its GPUs then count as merchant capacity, whose cash flow is
    underwritten at the haircut (``_underwritten_ebitda``)."""
    q = state.quarter  # the quarter about to be played
    n = PROJECTION_QUARTERS
    # each contract's revenue added where its quarters start and taken off where they end, then
    # summed once over the projection (integer cents: the same sums as quarter by quarter)
    contracted_step = [0] * (n + 1)
    merchant_step = [0] * (n + 1)  # contracted GPUs back on the market once their contract ends
    ig_year = weighted_life = 0
    for c in state.contracts:
        if c.status != "active" or c.end_quarter <= q:
            continue
        per_q = to_cents(c.gpus * c.usd_per_gpu_hour * TICKS_PER_QUARTER)
        first, end = max(0, c.start_quarter - q), min(n, c.end_quarter - q)
        if first < end:
            contracted_step[first] += per_q
            contracted_step[end] -= per_q
        merchant_step[min(n, c.end_quarter - q)] += per_q  # after it ends its GPUs are merchant capacity
        year = per_q * min(4, c.end_quarter - max(q, c.start_quarter))
        weighted_life += year * (c.end_quarter - q)
        if c.grade in INVESTMENT_GRADE:
            ig_year += year
    contracted_q = list(accumulate(contracted_step[:n]))
    merchant_q = list(accumulate(merchant_step[:n]))
    contracted = sum(contracted_q[:4])
    last = state.history[-1] if state.history else None
    uncontracted_q = max(0, last.revenue_cents - last.contracted_revenue_cents) if last else 0
    costs_q = max(0, last.revenue_cents - last.ebitda_cents) if last else 0
    haircut_q = round(uncontracted_q * (1 - rules.uncontracted_haircut))
    existing = projected_service([as_refinanced(l) for l in state.loans], q, n, sofr)
    dep = _projected_depreciation(state, rules, n)
    nol = state.nol_cents
    cfads_q = []
    # leased GPUs earn only until their lease ends: their share of merchant revenue, and their lease
    # payments, leave the projection then (a lender counts cash flow from assets the company holds)
    active = [l for l in state.lots if l.status == "active" and l.count > 0 and (l.ownership == "owned" or l.lease_end_quarter > q)]
    held_now = sum(l.count for l in active)
    gone_q, lease_saved_q = leases_ended(active, q, n)
    haircut, nol_limit, tax_rate = rules.uncontracted_haircut, rules.nol_limit, rules.tax_rate
    inputs = ebitda = None
    for k in range(n):
        key = (contracted_q[k], merchant_q[k], gone_q[k], lease_saved_q[k])
        if key != inputs:  # the same inputs as the quarter before give the same EBITDA
            inputs = key
            kept = 1.0 if held_now <= 0 else (held_now - gone_q[k]) / held_now
            ebitda = _underwritten_ebitda(
                contracted_q[k], merchant_q[k] + round(uncontracted_q * kept), max(0, costs_q - lease_saved_q[k]), haircut,
            )
        pretax = ebitda - dep[k] - existing[k][0]
        if pretax <= 0:
            nol += -pretax
            tax = 0
        else:
            used = min(nol, int(pretax * nol_limit))
            nol -= used
            tax = to_cents((pretax - used) / 100 * tax_rate)
        cfads_q.append(ebitda - tax)
    underwritten_rev = contracted + haircut_q * 4
    return Underwriting(
        contracted_revenue_cents=contracted,
        uncontracted_revenue_cents=uncontracted_q * 4,
        cash_costs_cents=costs_q * 4,
        cfads_cents=sum(cfads_q[:4]),
        ig_share=ig_year / underwritten_rev if underwritten_rev > 0 else 0.0,
        contracted_share=contracted / underwritten_rev if underwritten_rev > 0 else 0.0,
        remaining_contract_quarters=weighted_life / contracted if contracted else 0.0,
        longest_contract_quarters=max((c.end_quarter - q for c in state.contracts if c.status == "active" and c.end_quarter > q), default=0),
        quarterly_cfads_cents=tuple(cfads_q),
        existing_service_cents=tuple(i + p for i, p in existing),
    )


def term_spread_bps(wq: WorldQuarter, ig_share: float) -> float:
    """SOFR + ~400 bps without investment-grade contracts, down to ~250 with them (KB §4)."""
    share = min(1.0, max(0.0, ig_share))
    return wq.spread_sub_ig_bps - (wq.spread_sub_ig_bps - wq.spread_ig_bps) * share


def term_tenor_quarters(u: Underwriting) -> int:
    """Tenor follows contract life (KB §4): 80% of the longest signed contract (12-year debt behind a
    15-year contract), never less than the 4 years lenders give uncontracted cash flow. The loan is
    sculpted, so the quarters after shorter contracts end only carry what their cash flow covers."""
    return int(min(PROJECTION_QUARTERS, max(16, round(0.8 * u.longest_contract_quarters))))


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


def _available_service(u: Underwriting, target: float, quarters: int, more: list[int] | None = None) -> list[float]:
    """What each quarter's projected CFADS can still service at ``target``, after the debt already
    drawn (and ``more``: another offer drawn in full), never below zero."""
    more = more or [0] * quarters
    return [max(0.0, u.quarterly_cfads_cents[k] / target - u.existing_service_cents[k] - more[k]) for k in range(quarters)]


def _first_year_cap(u: Underwriting, target: float, offer: LoanOffer, room: int, sofr: float, more: list[int]) -> int:
    """Cut ``room`` so that the first year's projected CFADS covers the first year's service of all
    the debt (existing, ``more`` and this offer drawn in full) ``target`` times: the quarter-by-quarter
    sizing cannot see an existing loan that already takes more than its share of some quarter."""
    allowed = sum(u.quarterly_cfads_cents[:4]) / target - sum(u.existing_service_cents[:4]) - sum(more[:4])
    service = sum(offer_service_cents(offer, room, sofr, 4))
    if allowed <= 0:
        return 0
    return room if service <= allowed else int(room * allowed / service)


def _equipment_room(u: Underwriting, ltv_room: int, spread_bps: int, rate_q: float, sofr: float, term_service: list[int]) -> int:
    """Equipment finance: the LTV ceiling, cut so every quarter of its level service fits beside the
    debt already drawn and ``term_service`` at the merchant target, and the first year passes."""
    if u.cfads_cents <= 0:
        return 0
    room = min(ltv_room, int(level_principal_capacity(_available_service(u, TERM_TARGET_MERCHANT, EQUIPMENT_TENOR, term_service), rate_q)))
    if room < MIN_OFFER_CENTS:
        return room
    probe = LoanOffer(id="probe", lender="", kind="equipment", max_cents=room, spread_bps=spread_bps, tenor_quarters=EQUIPMENT_TENOR, basis="")
    return _first_year_cap(u, TERM_TARGET_MERCHANT, probe, room, sofr, term_service[:4])


def offer_service_cents(offer: LoanOffer, amount_cents: int, sofr: float, quarters: int) -> list[int]:
    """Interest + scheduled principal per quarter of ``amount_cents`` drawn on ``offer`` (as engine.step services it)."""
    loan = loan_from_offer(offer, amount_cents, "projection", 0)
    return [i + p for i, p in projected_service([loan], 0, quarters, sofr)]


def loan_from_offer(offer: LoanOffer, cents: int, loan_id: str, quarter: int) -> Loan:
    """The loan a draw of ``cents`` on ``offer`` creates: a sculpted offer's shares scale to the draw."""
    schedule: list[int] = []
    if offer.amortization == "sculpted" and offer.principal_shares:
        schedule = [int(cents * share) for share in offer.principal_shares]
        schedule[-1] += cents - sum(schedule)  # rounding: the last quarter repays what is left
    return Loan(
        id=loan_id, lender=offer.lender, kind=offer.kind, principal_cents=cents, balance_cents=cents,
        spread_bps=offer.spread_bps, tenor_quarters=offer.tenor_quarters, start_quarter=quarter,
        scheduled_principal_cents=-(-cents // offer.tenor_quarters), amortization=offer.amortization,
        principal_schedule_cents=schedule,
    )


def loan_offers(state: GameState, wq: WorldQuarter, rules: CompanyRules) -> list[LoanOffer]:
    """Offers for the coming quarter ``wq``. None while covenants are in lock-up or default.

    Lenders honor their own covenant (issue 9, 3b): the term/project loan is sculpted (CALIBRATION
    16): its service each quarter is the projected CFADS / target DSCR less the existing debt's
    scheduled service, and it repays on that schedule; the equipment loan (level principal) is
    sized after it, so that every quarter of its service fits what is left with the term loan drawn
    in full. Both drawn together pass the lenders' test on the lenders' projection."""
    if state.covenant in ("lock-up", "default"):
        return []
    offers: list[LoanOffer] = []
    u = underwrite(state, rules, wq.sofr)
    term_service = [0] * EQUIPMENT_TENOR
    if u.cfads_cents > 0:
        tenor = term_tenor_quarters(u)
        spread = round(term_spread_bps(wq, u.ig_share))
        target = TERM_TARGET_CONTRACTED if u.contracted_share >= 0.5 else TERM_TARGET_MERCHANT
        rate_q = (wq.sofr + spread / 10_000) / 4
        available = _available_service(u, target, tenor)
        room = int(debt_capacity(available, tenor, rate_q, 1.0)) if sum(available) > 0 else 0
        if room >= MIN_OFFER_CENTS:
            kind = "project" if tenor > 20 else "term"
            shares = sculpted_principal_shares(available, rate_q)
            probe = LoanOffer(id="probe", lender="", kind=kind, max_cents=room, spread_bps=spread, tenor_quarters=tenor,
                              basis="", amortization="sculpted", principal_shares=shares)
            room = _first_year_cap(u, target, probe, room, wq.sofr, [0] * 4)
        if room >= MIN_OFFER_CENTS:
            offer = LoanOffer(
                id=f"T{wq.index}",
                lender="Granite Infrastructure Credit" if kind == "project" else "Northbank Capital",
                kind=kind,
                max_cents=room,
                spread_bps=spread,
                tenor_quarters=tenor,
                amortization="sculpted",
                principal_shares=shares,
                target_dscr=target,
                basis=(
                    f"Projected cash flow after tax {fmt_usd(u.cfads_cents)} next year ({u.contracted_share:.0%} contracted, "
                    f"each contract until it ends; the rest at a {rules.uncontracted_haircut:.0%} haircut) / {target:.2f}x DSCR, "
                    f"less the service of {fmt_usd(state.debt_cents)} of existing debt, over {tenor // 4} years; "
                    f"repayment sculpted to that cash flow"
                ),
            )
            offers.append(offer)
            term_service = offer_service_cents(offer, room, wq.sofr, EQUIPMENT_TENOR)
    pledged = sum(l.balance_cents for l in state.loans if l.kind == "equipment")
    book = sum(l.cost_cents - l.accum_dep_cents for l in state.lots if l.ownership == "owned" and l.status != "closed")
    ltv_room = int(book * EQUIPMENT_LTV) - pledged
    # collateral sets the ceiling; the lender still tests DSCR on all the company's debt, the term offer included
    spread_e = round(wq.spread_sub_ig_bps + EQUIPMENT_SPREAD_OVER_SUB_IG_BPS)
    rate_q = (wq.sofr + spread_e / 10_000) / 4
    term = next((o for o in offers if o.kind in ("term", "project")), None)
    room = _equipment_room(u, ltv_room, spread_e, rate_q, wq.sofr, term_service)
    alternative_to = ""
    if room < MIN_OFFER_CENTS and term is not None:
        # no room beside the term loan: the equipment lender offers instead of it, on the whole cash flow
        room = _equipment_room(u, ltv_room, spread_e, rate_q, wq.sofr, [0] * EQUIPMENT_TENOR)
        alternative_to = term.id
    if room >= MIN_OFFER_CENTS:
        instead = f"; instead of {alternative_to}: drawing one withdraws the other" if alternative_to else " (any term offer drawn in full)"
        offers.append(
            LoanOffer(
                id=f"E{wq.index}",
                lender="Ironclad Equipment Finance",
                kind="equipment",
                max_cents=room,
                spread_bps=spread_e,
                tenor_quarters=EQUIPMENT_TENOR,
                target_dscr=TERM_TARGET_MERCHANT,
                alternative_to=alternative_to,
                basis=(
                    f"{EQUIPMENT_LTV:.0%} of {fmt_usd(book)} GPU book value less {fmt_usd(pledged)} pledged, "
                    f"capped so that every quarter's projected cash flow covers all debt service "
                    f"{TERM_TARGET_MERCHANT:.2f}x{instead}"
                ),
            )
        )
    return offers


def extension_service_per_dollar(rate_q: float, tenor: int = REFINANCING_TENOR) -> float:
    """First-year service of one dollar extended over ``tenor`` quarters, level principal at ``rate_q``
    a quarter: 4/tenor of principal plus interest on the four opening balances (1, 1 - 1/tenor, ...)."""
    return 4 / tenor + rate_q * sum(1 - k / tenor for k in range(4))


def refinancing_capacity_cents(
    cfads_year_cents: int, other_service_year_cents: int, covenant: float, rate_q: float, tenor: int = REFINANCING_TENOR
) -> int:
    """The most a lender extends at maturity (KB §4: "refinancing at year 5, rates might be 300bps
    higher"): the balance whose first year of service at today's rate, with the other debt's next
    year of service at today's SOFR, still passes the lock-up covenant on the last year's CFADS:
    (CFADS / covenant - other service) / first-year service per dollar."""
    room = cfads_year_cents / covenant - other_service_year_cents
    return max(0, int(room / extension_service_per_dollar(rate_q, tenor)))


def refinancing_offer(state: GameState, wq: WorldQuarter, rules: CompanyRules, maturing: Loan) -> LoanOffer | None:
    """The refinancing wall (KB §4, §18): a balloon falling due is extended (level, over
    REFINANCING_TENOR quarters, at SOFR + today's term spread) only as far as the company still
    passes its lock-up covenant with it at that quarter's rates (``refinancing_capacity_cents``, on
    the last four quarters' CFADS). Higher SOFR raises the service of every floating loan and of the
    extension, and spreads widen: the capacity shrinks. Nothing is extended in lock-up or default."""
    if state.covenant in ("lock-up", "default") or not state.history:
        return None
    recent = state.history[-4:]
    cfads_year = round(sum(r.cfads_cents + r.equity_cure_cents for r in recent) * 4 / len(recent))
    others = [as_refinanced(l) for l in state.loans if l.id != maturing.id]
    other_service = sum(i + p for i, p in projected_service(others, state.quarter + 1, 4, wq.sofr))
    u = underwrite(state, rules, wq.sofr)
    spread = round(term_spread_bps(wq, u.ig_share))
    rate_q = (wq.sofr + spread / 10_000) / 4
    room = refinancing_capacity_cents(cfads_year, other_service, rules.covenant_lockup_dscr, rate_q)
    if room <= 0:
        return None
    return LoanOffer(
        id=f"R{wq.index}", lender=maturing.lender, kind="term", max_cents=room, spread_bps=spread,
        tenor_quarters=REFINANCING_TENOR, target_dscr=rules.covenant_lockup_dscr,
        basis=(f"Last year's cash flow {fmt_usd(cfads_year)} / {rules.covenant_lockup_dscr:.2f}x lock-up covenant, less "
               f"{fmt_usd(other_service)} of other debt service at today's SOFR, over the first year of a "
               f"{REFINANCING_TENOR // 4}-year extension at SOFR + {spread} bps"),
    )


def service_window(state: GameState) -> list:
    """The covenant's window: the (up to 4) most recent consecutive quarters in which debt service
    was due. A quarter without service ends the run: debt repaid in full and borrowed again later
    is tested on the new loan's quarters, not on the old one's."""
    out: list = []
    for r in reversed(state.history):
        if r.debt_service_cents > 0:
            out.append(r)
            if len(out) == 4:
                break
        elif out:
            break
    return out[::-1]


def trailing_dscr(state: GameState, extra_service_cents: int = 0) -> float | None:
    """Trailing DSCR on matching windows (issue 9, 3b; KB §4): CFADS (with any equity cure) over the
    up to four most recent quarters in which debt service was due / the service of those same
    quarters. None without debt service.

    ``extra_service_cents`` adds a quarter of a new loan's service: the preview of what it does
    to the next covenant test."""
    window = service_window(state)
    service = sum(r.debt_service_cents for r in window) + extra_service_cents
    if service <= 0:
        return None
    return dscr(sum(r.cfads_cents + r.equity_cure_cents for r in window), service)


def dscr_without_debt(state: GameState) -> float | None:
    """A company in lock-up that repaid everything is still tested: the last quarter's CFADS against
    the average quarterly service it carried in its window (it must show it could carry that debt)."""
    window = service_window(state)
    if not window or not state.history:
        return None
    last = state.history[-1]
    return dscr(last.cfads_cents + last.equity_cure_cents, sum(r.debt_service_cents for r in window) / len(window))


def equity_cure_cents(state: GameState, covenant: float) -> int:
    """The equity that, counted as cash flow in the trailing test, lifts DSCR to ``covenant`` (finance.equity_cure)."""
    window = service_window(state)
    service = sum(r.debt_service_cents for r in window)
    if service <= 0:
        return 0
    return int(round(equity_cure(sum(r.cfads_cents + r.equity_cure_cents for r in window), service, covenant)))


def loan_quarter_service_cents(
    amount_cents: int, spread_bps: float, sofr: float, tenor_quarters: int, first_principal_share: float | None = None
) -> int:
    """One quarter of a new loan's service: floating interest at SOFR + spread and the first quarter's
    principal (level unless a sculpted offer gives its first share)."""
    principal = -(-amount_cents // tenor_quarters) if first_principal_share is None else int(amount_cents * first_principal_share)
    return round(amount_cents * (sofr + spread_bps / 10_000) / 4) + principal
