"""What the company is worth: enterprise value on cash generation (KB §18 "The Investor and IPO
Lens"; CALIBRATION 26; DESIGN.md "Score and verdict").

The market pays for cash generation and its predictability, not for revenue:

    owner earnings   = trailing-four-quarter EBITDA - depreciation (the fleet's replacement cost)
    run-rate         = owner earnings x GPUs in service last quarter / trailing average,
                       and never more than the last quarter's owner earnings x 4
    multiple         = mix-weighted (revenue multiple / the margin it assumes) x growth factor
    operating value  = multiple x max(0, run-rate)
    backlog value    = remaining contracted margin, discounted at the lenders' rate
    capital not yet earning = GPU deposits + construction in progress + book value of GPUs too
                       new to be in the trailing results
    enterprise value = max(operating value + backlog value, liquidation value) + capital not yet earning

The quoted revenue multiples (infrastructure 5-8x, software-delivered inference 15-20x) assume
healthy margins and ~50% growth, so they become multiples of earnings by dividing by the margin
they assume: a dollar of revenue at zero margin adds nothing; growth raises the multiple and
shrinkage lowers it. Multiples follow the market's path averaged over four quarters: the same
for every player. Depreciation stands in for the capex that keeps the fleet earning, so owning
and leasing are compared fairly (a lease payment sits in EBITDA; an owned GPU's cost in
depreciation), and buying GPUs adds value only when they earn more than the multiple's implied
yield (~8-14% at 7-12x, about the cost of capital of CALIBRATION 11).
"""

from __future__ import annotations

from engine.base import Frozen
from engine.calendar import TICKS_PER_QUARTER

INFRA_MARGIN_BENCHMARK = 0.50  # operating margin (EBITDA - depreciation) behind infra's 5-8x revenue
SOFTWARE_MARGIN_BENCHMARK = 0.40  # behind software-delivered inference's 15-20x revenue
GROWTH_PRICED_IN = 0.50  # KB §18: those multiples are quoted for companies growing ~50% a year
GROWTH_FACTOR_AT_ZERO = 0.6  # a company that stopped growing trades at ~60% of a 50%-grower's multiple
GROWTH_FACTOR_BOUNDS = (0.4, 1.4)
TRAILING_QUARTERS = 4


class Valuation(Frozen):
    """The enterprise-value bridge, every figure in cents (annual where it says trailing)."""

    trailing_revenue_cents: int
    trailing_ebitda_cents: int
    trailing_depreciation_cents: int
    owner_earnings_cents: int  # EBITDA - depreciation
    quarters_in_trailing: int
    run_rate_factor: float  # < 1: capacity sold or gone; > 1: capacity that joined during the year
    latest_quarter_binds: bool = False  # the last quarter x 4 was lower than the trailing year
    run_rate_earnings_cents: int
    software_share: float  # token revenue / revenue, trailing
    growth: float  # blended year-on-year growth of cash gross profit
    growth_factor: float
    market_infra_multiple: float  # revenue multiples of the market, averaged over four quarters
    market_software_multiple: float
    multiple: float  # on owner earnings
    operating_value_cents: int
    backlog_value_cents: int
    contracted_share: float  # of the last quarter's revenue
    liquidation_value_cents: int
    capital_not_yet_earning_cents: int
    enterprise_value_cents: int


def earnings_multiple(infra_revenue_multiple: float, software_revenue_multiple: float, software_share: float, growth: float) -> float:
    """Revenue multiples turned into a multiple of owner earnings by the margin they assume,
    blended by business mix and scaled by growth (KB §18; CALIBRATION 26)."""
    share = min(1.0, max(0.0, software_share))
    base = (1 - share) * infra_revenue_multiple / INFRA_MARGIN_BENCHMARK + share * software_revenue_multiple / SOFTWARE_MARGIN_BENCHMARK
    return base * growth_factor(growth)


def growth_factor(growth: float) -> float:
    """1.0 at the growth the quoted multiples price in (50%), 0.6 at none, within [0.4, 1.4]."""
    slope = (1 - GROWTH_FACTOR_AT_ZERO) / GROWTH_PRICED_IN
    lo, hi = GROWTH_FACTOR_BOUNDS
    return min(hi, max(lo, GROWTH_FACTOR_AT_ZERO + slope * growth))


def _growth_over(gross_profits: list[int], revenues: list[int], k: int, years: float) -> float:
    """Annual growth of the last ``k`` quarters over the ``k`` quarters ``years`` earlier. Growth is
    a ratio to a period that had gross profit: with none in the latest period nothing is growing
    (-50%, however much smaller the earlier loss was); after a period without any, profit growth
    measures nothing, so the top line is the evidence, and with no revenue then either, the
    market's 50%."""
    lag = round(years * TRAILING_QUARTERS)
    last = sum(gross_profits[-k:]) / k
    prev = sum(gross_profits[-lag - k:-lag]) / k
    if prev > 0:
        return (max(last, 0) / prev) ** (1 / years) - 1
    if last <= 0:
        return -0.5
    rev_last, rev_prev = sum(revenues[-k:]) / k, sum(revenues[-lag - k:-lag]) / k
    return (rev_last / rev_prev) ** (1 / years) - 1 if rev_prev > 0 else GROWTH_PRICED_IN


def blended_growth(gross_profits: list[int], revenues: list[int] | None = None) -> float:
    """Durable year-on-year growth of cash gross profit (revenue less cash costs of sales), blended
    with the 50% the market assumes until two years of results show otherwise: zero-margin revenue
    earns no growth credit, and one quarter cannot swing the multiple.

    Durable means growth held two years running (with three years of results): the lower of the
    last year's growth on the year before and that year's own growth on its predecessor. Recovering
    from a dip is not growth, so a company cannot depress the year before the last (pricing under
    the market: volume bought with margin) to make the year the score reads look like a jump, and
    the two-year average cannot launder the dip either (10 -> 5 -> 10 reads -50%, the dip, where
    the two-year rate read 0%; a decelerating 38 -> 64 -> 78 reads its latest +21%, where the pump
    38 -> 41 -> 78 read the two-year +42%). KB §18: the market pays for cash generation and its
    predictability. A ratio to a loss measures nothing (``_growth_over``)."""
    n = len(gross_profits)
    if n < 2:
        return GROWTH_PRICED_IN
    revenues = list(revenues) if revenues is not None and len(revenues) == n else [0] * n
    k = min(TRAILING_QUARTERS, n // 2)
    measured = _growth_over(gross_profits, revenues, k, k / TRAILING_QUARTERS)
    if n >= 3 * TRAILING_QUARTERS:  # and the year before grew on its own predecessor: growth held two years running
        before = _growth_over(gross_profits[:-TRAILING_QUARTERS], revenues[:-TRAILING_QUARTERS], TRAILING_QUARTERS, 1.0)
        measured = min(measured, before)
    measured = min(2.0, max(-0.75, measured))
    weight = min(1.0, n / (2 * TRAILING_QUARTERS))
    return weight * measured + (1 - weight) * GROWTH_PRICED_IN


def run_rate_factor(gpus_in_service: list[float]) -> float:
    """Last quarter's capacity over the trailing average: the trailing year scaled to the fleet the
    company has now. A fleet sold in the final quarter is not valued on the year it earned (below 1);
    GPUs that joined during the year are valued on a full year of what they earn (above 1), so
    stopping investment in the last year does not pay (issue 9: the valuation-horizon exploit).
    ``value`` never lets the run-rate pass the last quarter x 4: capacity is valued only on what it
    has already earned."""
    window = gpus_in_service[-TRAILING_QUARTERS:]
    if not window:
        return 1.0
    avg = sum(window) / len(window)
    return 1.0 if avg <= 0 else window[-1] / avg


def backlog_value_cents(contracts, next_quarter: int, cash_cost_per_gpu_hour: float, annual_rate: float) -> int:
    """Remaining contracted margin, quarter by quarter, discounted at the lenders' rate: the part
    of the value that deflation and churn cannot touch (KB §18: contracted revenue trades like a
    bond). A contract priced below the company's cash cost is a liability here."""
    rate_q = annual_rate / 4
    total = 0.0
    for c in contracts:
        if c.status != "active" or c.end_quarter <= next_quarter:
            continue
        margin_q = c.gpus * TICKS_PER_QUARTER * (c.usd_per_gpu_hour - cash_cost_per_gpu_hour)
        first = max(next_quarter, c.start_quarter)
        for k, _ in enumerate(range(first, c.end_quarter), start=first - next_quarter + 1):
            total += margin_q / (1 + rate_q) ** k
    return round(total * 100)


def value(
    records: list,
    contracts,
    next_quarter: int,
    market_multiples: list[tuple[float, float]],
    discount_rate: float,
    liquidation_value_cents: int,
    capital_not_yet_earning_cents: int,
) -> Valuation:
    """The bridge from the trailing records (engine.state.QuarterRecord) to enterprise value.

    ``market_multiples`` is the market's (infrastructure, software) revenue multiples for the
    quarters to average over (the last four of the world's path)."""
    last = records[-TRAILING_QUARTERS:]
    n = len(last)
    scale = TRAILING_QUARTERS / n if n else 0.0  # annualize the first year
    revenue = round(sum(r.revenue_cents for r in last) * scale)
    ebitda = round(sum(r.ebitda_cents for r in last) * scale)
    dep = round(sum(r.depreciation_cents for r in last) * scale)
    tokens = sum(r.token_revenue_cents for r in last)
    rev_raw = sum(r.revenue_cents for r in last)
    software_share = tokens / rev_raw if rev_raw > 0 else 0.0
    earnings = ebitda - dep
    factor = run_rate_factor([r.gpus_in_service for r in records])
    run_rate = round(earnings * factor) if earnings > 0 else earnings
    latest = (records[-1].ebitda_cents - records[-1].depreciation_cents) * TRAILING_QUARTERS if records else 0
    latest_binds = latest < run_rate
    run_rate = min(run_rate, latest)  # a buyer reads the latest quarter too: the year cannot hide a collapse
    growth = blended_growth([r.cash_gross_profit_cents for r in records], [r.revenue_cents for r in records])
    infra = sum(m[0] for m in market_multiples) / len(market_multiples)
    software = sum(m[1] for m in market_multiples) / len(market_multiples)
    multiple = earnings_multiple(infra, software, software_share, growth)
    operating = round(multiple * max(0, run_rate))
    lr = records[-1] if records else None
    gpu_hours = lr.gpus_in_service * TICKS_PER_QUARTER if lr else 0.0
    unit_cost = (lr.revenue_cents - lr.cash_gross_profit_cents) / 100 / gpu_hours if lr and gpu_hours > 0 else 0.0
    backlog = backlog_value_cents(contracts, next_quarter, unit_cost, discount_rate)
    going_concern = operating + backlog
    ev = max(going_concern, liquidation_value_cents) + capital_not_yet_earning_cents
    return Valuation(
        trailing_revenue_cents=revenue,
        trailing_ebitda_cents=ebitda,
        trailing_depreciation_cents=dep,
        owner_earnings_cents=earnings,
        quarters_in_trailing=n,
        run_rate_factor=factor,
        latest_quarter_binds=latest_binds,
        run_rate_earnings_cents=run_rate,
        software_share=software_share,
        growth=growth,
        growth_factor=growth_factor(growth),
        market_infra_multiple=infra,
        market_software_multiple=software,
        multiple=multiple,
        operating_value_cents=operating,
        backlog_value_cents=backlog,
        contracted_share=lr.contracted_revenue_cents / lr.revenue_cents if lr and lr.revenue_cents > 0 else 0.0,
        liquidation_value_cents=liquidation_value_cents,
        capital_not_yet_earning_cents=capital_not_yet_earning_cents,
        enterprise_value_cents=ev,
    )
