"""Project-finance formulas, one small function per concept (KB §3, §4, §6, §18; CALIBRATION 10-18).

Floats in, floats out: the engine converts to integer cents when it posts. Rates are per period
(annual unless a name says otherwise); hourly figures divide annual ones by HOURS_PER_YEAR.
Written after agpwallois/projectFinance: a student can look each name up in a textbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.calendar import HOURS_PER_YEAR, TICKS_PER_QUARTER

CORPORATE_TAX_RATE = 0.21  # US federal (KB §6, §18)


@dataclass(frozen=True, slots=True)
class DebtPeriod:
    period: int  # 1-based
    opening_balance: float
    interest: float
    principal: float
    debt_service: float  # interest + principal
    closing_balance: float


def level_principal_schedule(principal: float, rate: float, periods: int) -> list[DebtPeriod]:
    """Equal principal each period, interest on the opening balance (KB §4: $1B/5y at 8% -> $280M)."""
    _check_loan(principal, rate, periods)
    repay = principal / periods
    rows, balance = [], principal
    for t in range(1, periods + 1):
        interest = balance * rate
        rows.append(DebtPeriod(t, balance, interest, repay, interest + repay, balance - repay))
        balance -= repay
    return rows


def annuity_payment(principal: float, rate: float, periods: int) -> float:
    """Level debt service that repays ``principal`` over ``periods``: P r / (1 - (1 + r)^-n)."""
    _check_loan(principal, rate, periods)
    if rate == 0:
        return principal / periods
    return principal * rate / (1 - (1 + rate) ** -periods)


def annuity_schedule(principal: float, rate: float, periods: int) -> list[DebtPeriod]:
    """Level debt service each period; the principal share grows as interest shrinks."""
    payment = annuity_payment(principal, rate, periods)
    rows, balance = [], principal
    for t in range(1, periods + 1):
        interest = balance * rate
        repay = payment - interest
        rows.append(DebtPeriod(t, balance, interest, repay, payment, balance - repay))
        balance -= repay
    return rows


def dscr(cfads: float, debt_service: float) -> float:
    """Debt service coverage ratio: cash flow available for debt service / (interest + principal)."""
    if debt_service <= 0:
        raise ValueError(f"debt service must be positive, got {debt_service}")
    return cfads / debt_service


def cfads_decline_to_breach(cfads: float, debt_service: float, covenant: float = 1.3) -> float:
    """Share by which cash flow can fall before DSCR hits the covenant: 1 - covenant / DSCR.

    KB §4: $400M on $280M of service (1.43x) breaches 1.3x after a 9% fall; on $153M, after ~50% (the KB rounds it to 45%).
    """
    return 1 - covenant / dscr(cfads, debt_service)


def discount_factors(rate: float, periods: int) -> list[float]:
    """1 / (1 + r)^t for t = 1..periods (end-of-period cash flows)."""
    return [(1 + rate) ** -t for t in range(1, periods + 1)]


def _per_period(cfads: float | Sequence[float], periods: int) -> list[float]:
    if isinstance(cfads, (int, float)):
        return [float(cfads)] * periods
    flows = [float(x) for x in cfads]
    if len(flows) != periods:
        raise ValueError(f"got {len(flows)} cash flows for {periods} periods")
    return flows


def target_debt_service(cfads: float | Sequence[float], periods: int, target_dscr: float) -> list[float]:
    """The most each period's cash flow can service at the required DSCR: CFADS / DSCR."""
    if target_dscr <= 0:
        raise ValueError(f"the target DSCR must be positive, got {target_dscr}")
    return [c / target_dscr for c in _per_period(cfads, periods)]


def debt_capacity(
    cfads_per_period: float | Sequence[float], periods: int, rate_per_period: float, target_dscr: float
) -> float:
    """Sculpted sizing (CALIBRATION 16): present value, at the loan rate, of CFADS / DSCR each period."""
    service = target_debt_service(cfads_per_period, periods, target_dscr)
    return sum(s * d for s, d in zip(service, discount_factors(rate_per_period, periods)))


def sculpted_repayment(
    cfads_per_period: float | Sequence[float], periods: int, rate_per_period: float, target_dscr: float
) -> list[DebtPeriod]:
    """The schedule whose service is exactly CFADS / DSCR each period; it repays the capacity."""
    service = target_debt_service(cfads_per_period, periods, target_dscr)
    balance = debt_capacity(cfads_per_period, periods, rate_per_period, target_dscr)
    rows = []
    for t, s in enumerate(service, start=1):
        interest = balance * rate_per_period
        rows.append(DebtPeriod(t, balance, interest, s - interest, s, balance - (s - interest)))
        balance -= s - interest
    return rows


def sculpted_principal_shares(
    service_per_period: Sequence[float], rate_per_period: float
) -> list[float]:
    """Share of the loan repaid each period when service is sculpted to ``service_per_period``.

    The sculpted schedule (CALIBRATION 16) repays principal = service - interest; a period whose
    service would not cover its interest repays nothing (shares are clipped at zero and rescaled
    to sum to one, which lowers the earlier periods' service: the lender stays on the safe side)."""
    periods = len(service_per_period)
    if periods < 1 or sum(service_per_period) <= 0:
        raise ValueError("sculpting needs at least one period with positive service")
    rows = sculpted_repayment(list(service_per_period), periods, rate_per_period, 1.0)
    principal = [max(0.0, r.principal) for r in rows]
    total = sum(principal)
    return [p / total for p in principal]


def level_principal_capacity(available_service: Sequence[float], rate_per_period: float) -> float:
    """Largest level-principal loan whose service fits under ``available_service`` in EVERY period.

    Period t (1-based) of n pays P/n + r x P (n - t + 1)/n, so P = min_t available_t / (1/n + r (n - t + 1)/n):
    sizing on the first period's service, not on an annuity, is what keeps a level loan inside its
    own covenant (the first quarter carries the most interest)."""
    n = len(available_service)
    if n < 1:
        raise ValueError("need at least one period")
    return max(0.0, min(a / (1 / n + rate_per_period * (n - t + 1) / n) for t, a in enumerate(available_service, start=1)))


def equity_cure(cfads: float, debt_service: float, covenant: float) -> float:
    """Equity that, counted as cash flow in the test, lifts DSCR to ``covenant``: covenant x service - CFADS.

    With CALIBRATION 15's $280M of service and the KB §4 1.3x covenant, $250M of CFADS (0.89x) needs
    1.3 x 280 - 250 = $114M of new equity."""
    if debt_service <= 0:
        raise ValueError(f"debt service must be positive, got {debt_service}")
    return max(0.0, covenant * debt_service - cfads)


def after_tax_cost_of_debt(rate: float, tax_rate: float = CORPORATE_TAX_RATE) -> float:
    """Interest is deductible: 8% costs 8% x (1 - 21%) = 6.32% after tax (KB §6)."""
    return rate * (1 - tax_rate)


def depreciation_tax_shield(capex: float, years: float, tax_rate: float = CORPORATE_TAX_RATE) -> float:
    """Tax saved per year by straight-line depreciation: capex / years x tax rate.

    KB §18's "$2B over 15-20 years shields $100-133M a year" is the deduction (capex / years);
    the cash it saves is 21% of that, ~$21-28M a year.
    """
    return capex / years * tax_rate


def wacc(
    equity: float, debt: float, cost_of_equity: float, cost_of_debt: float, tax_rate: float = CORPORATE_TAX_RATE
) -> float:
    """Weighted average cost of capital: E/V x Re + D/V x Rd x (1 - t)."""
    value = equity + debt
    if value <= 0:
        raise ValueError("equity + debt must be positive")
    return equity / value * cost_of_equity + debt / value * after_tax_cost_of_debt(cost_of_debt, tax_rate)


def straight_line_per_hour(capex: float, years: float, residual: float = 0.0) -> float:
    """Depreciation per hour: (capex - residual) / (years x 8760).

    CALIBRATION 10 / KB §3 quote $0.95/h (3y) and $0.57/h (5y) for a ~$28K H100: that is the
    arithmetic with a 10% residual ($25.2K depreciated), or a $25K purchase with none; $28K
    to zero is $1.07/h and $0.64/h.
    """
    if years <= 0:
        raise ValueError(f"a useful life must be positive, got {years}")
    return (capex - residual) / (years * HOURS_PER_YEAR)


def capital_charge_per_hour(capex: float, wacc_rate: float) -> float:
    """Opportunity cost of the money tied up: capex x WACC / 8760 ($28K at 12% -> $0.38/h, KB §3)."""
    return capex * wacc_rate / HOURS_PER_YEAR


def breakeven_utilization(own_hourly: float, rent_hourly: float) -> float:
    """Share of hours an owned GPU must earn the rental rate to cover its all-hours cost (KB §3)."""
    if rent_hourly <= 0:
        raise ValueError(f"the rental rate must be positive, got {rent_hourly}")
    return own_hourly / rent_hourly


def _check_loan(principal: float, rate: float, periods: int) -> None:
    if principal < 0 or rate < 0 or periods < 1:
        raise ValueError(f"need principal >= 0, rate >= 0, periods >= 1; got {principal}, {rate}, {periods}")


def contract_mark_to_market(
    fixed_usd_per_hour: float,
    floating_usd_per_hour: Sequence[float],
    gpus: int,
    hours_per_period: float = TICKS_PER_QUARTER,
    rate_per_period: float = 0.0,
) -> float:
    """A reserved contract as a swap (KB §1): sum of (fixed - floating) x GPUs x hours, each
    period discounted at ``rate_per_period`` (0: undiscounted), in dollars.

    Positive when the market fell below the contract price: the provider receives above-market
    fixed payments. One floating rate per period (a quarter of 2,184 hours by default), ideally
    the forward price for that period (``forward_rates``).
    """
    flows = [(fixed_usd_per_hour - f) * gpus * hours_per_period for f in floating_usd_per_hour]
    return present_value(flows, rate_per_period)


def present_value(flows: Sequence[float], rate_per_period: float) -> float:
    """Sum of end-of-period flows discounted at ``rate_per_period``: sum CF_t / (1 + r)^t."""
    return sum(f * d for f, d in zip(flows, discount_factors(rate_per_period, len(flows))))


def forward_rates(term_rates: dict[int, float], periods: int, floor: float = 0.0) -> list[float]:
    """Per-quarter forward prices implied by term prices (a reserved rate for T quarters is the
    average price over them, KB §1 "The Deflation Dynamic"): between terms T1 < T2 the forward is
    (R2 T2 - R1 T1) / (T2 - T1); the first term's rate covers its own quarters. Past the longest
    term the last two segments' per-quarter decline continues (the deflation trend, never a
    rise), and no forward falls below ``floor`` (the market's cash cost or spot floor).
    """
    if periods <= 0:
        return []
    terms = sorted(term_rates)
    segments: list[tuple[int, int, float]] = []  # (first quarter, last quarter, forward)
    prev_t, prev_total = 0, 0.0
    for t in terms:
        total = term_rates[t] * t
        segments.append((prev_t + 1, t, max(floor, (total - prev_total) / (t - prev_t))))
        prev_t, prev_total = t, total
    if len(segments) >= 2:
        (a0, a1, fa), (b0, b1, fb) = segments[-2], segments[-1]
        gap = (b0 + b1) / 2 - (a0 + a1) / 2
        decline = min(1.0, fb / fa) ** (1 / gap) if fa > 0 and fb > 0 else 1.0
    else:
        decline = 1.0
    last_first, last_end, last_fwd = segments[-1]
    mid = (last_first + last_end) / 2
    # the segments cover quarters 1..last_end one after another: each its run of quarters, then the
    # trend past them (issue 10, item 12: no search of the segments per quarter)
    out: list[float] = []
    for lo, hi, f in segments:
        out.extend([f] * (hi - lo + 1))
    if len(out) >= periods:
        return out[:periods]
    out.extend(max(floor, last_fwd * decline ** (q - mid)) for q in range(last_end + 1, periods + 1))
    return out
