"""Equity rounds and the cap table, as venture investors run them (KB §5, CALIBRATION 19).

A round is priced off the same equity value as the score (enterprise value less net debt), less
the cash above about a year of costs (investors do not pay for the company's own cash twice),
at a discount for new money. It is sized by need, not appetite: enough to fund ~24 months of the
company's burn (operating burn, capex, debt service and tax) plus the rest of committed site
capex, less the cash already held, and at most a stage-typical slice of the post-money
(15-25%). Rounds come at most about once a year, except a down round or a rescue. Warrants sit
on the cap table as their own line and dilute by the treasury-stock method.
"""

from __future__ import annotations

from engine.money import fmt_usd
from engine.scenario import CompanyRules
from engine.state import EquityOffer, GameState, Holder
from engine.world import WorldQuarter

NEW_MONEY_DISCOUNT = 0.85  # new investors buy at a discount to the company's estimated equity value
MIN_ROUND_CENTS = 100_000_000  # $1M: no investor runs a round below this
MIN_PRE_MONEY_CENTS = 1_000_000_000  # $10M

# KB §5: what each stage's equity investors expect a year (mid-points of the ranges)
COST_OF_EQUITY = {"seed": 0.90, "series-a": 0.75, "series-b": 0.40, "series-c": 0.20, "late": 0.16, "public": 0.12}
STAGE_BY_REVENUE = ((1_000_000_000, "public"), (200_000_000, "late"), (50_000_000, "series-c"), (5_000_000, "series-b"), (0, "series-a"))
NEXT_ROUND = {"seed": "Series A", "series-a": "Series B", "series-b": "Series C", "series-c": "Series D", "late": "Pre-IPO", "public": "Follow-on"}
ROUND_SEQUENCE = ("Seed", "Series A", "Series B", "Series C", "Series D", "Series E", "Series F", "Series G", "Series H")

# share of the post-money a round sells, by stage: 20-25% early, 15% at C/D, less once public
ROUND_SHARE_OF_POST = {"seed": 0.25, "series-a": 0.25, "series-b": 0.20, "series-c": 0.15, "late": 0.15, "public": 0.10}
RUNWAY_QUARTERS_FUNDED = 8  # a round funds ~18-24 months of the plan (KB §5: "might not exist in 18 months")
MONTHS_BETWEEN_ROUNDS = 12  # a normal gap between priced rounds
EXCESS_CASH_QUARTERS = 4  # cash above ~a year of costs is not paid for again in the pre-money
RESCUE_RUNWAY_QUARTERS = 2  # below this runway (or in covenant default) a rescue round is allowed inside the gap

# Brenner-Subrahmanyam: an at-the-money call is worth ~0.4 x sigma x sqrt(T) of the share price
WARRANT_VOLATILITY = 0.60  # venture-stage equity volatility
WARRANT_TERM_YEARS = 5.0


def stage_for_revenue(annual_revenue_cents: int, current: str) -> str:
    order = list(COST_OF_EQUITY)
    for floor_usd, stage in STAGE_BY_REVENUE:
        if annual_revenue_cents >= floor_usd * 100:
            return stage if order.index(stage) > order.index(current) else current
    return current


# ------------------------------------------------------------------------------ cap table


def basic_shares(cap_table: list[Holder]) -> int:
    """Issued shares: founders and investors, not warrants (which are not yet exercised)."""
    return sum(h.shares for h in cap_table if h.kind != "warrants")


def treasury_stock_shares(count: int, strike_cents: int, price_cents: float) -> float:
    """Treasury-stock method (ASC 260): in-the-money warrants add count x (price - strike) / price
    shares, because the exercise cash buys back count x strike / price of them. Out of the money: 0."""
    if price_cents <= strike_cents or price_cents <= 0:
        return 0.0
    return count * (price_cents - strike_cents) / price_cents


def diluted_shares(cap_table: list[Holder], equity_value_cents: int) -> float:
    """Shares for ownership and score: basic shares plus the warrants' treasury-stock shares,
    at the share price the equity value implies on the basic count."""
    basic = basic_shares(cap_table)
    price = equity_value_cents / basic if basic else 0.0
    return basic + sum(treasury_stock_shares(h.shares, h.strike_cents, price) for h in cap_table if h.kind == "warrants")


def founder_ownership(cap_table: list[Holder], equity_value_cents: int) -> float:
    """Founders' share of the diluted company (treasury-stock method for warrants)."""
    founders = sum(h.shares for h in cap_table if h.kind == "founders")
    total = diluted_shares(cap_table, equity_value_cents)
    return founders / total if total else 0.0


def fully_diluted_shares(cap_table: list[Holder]) -> int:
    """Every share and warrant as if exercised: how a venture round counts the pre-money price per share."""
    return sum(h.shares for h in cap_table)


def warrant_fair_value_cents(count: int, price_cents: float) -> int:
    """Fair value of at-the-money warrants at issue: count x price x 0.4 sigma sqrt(T)
    (Brenner-Subrahmanyam approximation of Black-Scholes; sigma 60%, 5-year term)."""
    return round(count * price_cents * 0.4 * WARRANT_VOLATILITY * WARRANT_TERM_YEARS ** 0.5)


# ------------------------------------------------------------------------------ rounds


def quarterly_burn_cents(state: GameState, quarters: int = 4) -> int:
    """Average cash the company consumed a quarter over the trailing ``quarters``: capex + debt
    service + cash taxes - EBITDA (floored at zero: a company that funds itself burns nothing)."""
    window = state.history[-quarters:]
    if not window:
        return 0
    used = sum(r.capex_cents + r.debt_service_cents + r.cash_taxes_cents - r.ebitda_cents for r in window)
    return max(0, used // len(window))


def operating_burn_cents(state: GameState, quarters: int = 4) -> int:
    """Average quarterly cash shortfall before capex: debt service + cash taxes - EBITDA, floored at zero."""
    window = state.history[-quarters:]
    if not window:
        return 0
    return max(0, sum(r.debt_service_cents + r.cash_taxes_cents - r.ebitda_cents for r in window) // len(window))


def cure_need_cents(state: GameState, rules: CompanyRules) -> int:
    """Equity that lifts trailing-four-quarter DSCR back to the lock-up level, with one more
    quarter of service as a cushion, when a default must be cured (KB §4: an equity cure counts
    as cash flow in the test)."""
    if not state.cure_due:
        return 0
    window = state.history[-4:]
    service = sum(r.debt_service_cents for r in window)
    cash_flow = sum(r.cfads_cents + r.equity_cure_cents for r in window)
    cushion = window[-1].debt_service_cents if window else 0  # the next test adds a quarter of service
    return max(0, round(rules.covenant_lockup_dscr * (service + cushion)) - cash_flow)


def committed_capex_cents(state: GameState) -> int:
    """Site capex still to pay on builds already started (KB §18)."""
    return sum(
        max(0, st.capex_shell_cents + st.capex_power_cents - st.capex_spent_cents)
        for st in state.sites if st.kind == "owned" and st.stage in ("permitting", "interconnect", "construction")
    )


def excess_cash_cents(state: GameState) -> int:
    """Cash above ~a year of the company's cash costs (trailing quarter's revenue - EBITDA, x4)."""
    last = state.history[-1] if state.history else None
    costs = max(0, last.revenue_cents - last.ebitda_cents) if last else 0
    return max(0, state.cash_cents - EXCESS_CASH_QUARTERS * costs)


def round_name(state: GameState) -> str:
    """The next letter after the last round raised in the game, or the stage's next round."""
    base = NEXT_ROUND.get(state.stage, "Growth round")
    if not state.rounds:
        return base
    last = state.rounds[-1].round
    if last in ROUND_SEQUENCE and base in ROUND_SEQUENCE:
        return ROUND_SEQUENCE[min(len(ROUND_SEQUENCE) - 1, max(ROUND_SEQUENCE.index(last) + 1, ROUND_SEQUENCE.index(base)))]
    return base


def equity_offers(
    state: GameState, wq: WorldQuarter, rules: CompanyRules, equity_value_cents: int, book_equity_cents: int | None = None
) -> list[EquityOffer]:
    """At most one term sheet a quarter (KB §5). ``book_equity_cents`` is accepted for old callers
    and ignored: book equity is no floor on what investors pay."""
    del book_equity_cents
    q = state.quarter
    excess = excess_cash_cents(state)
    pre_money = round(max(0, equity_value_cents - excess) * NEW_MONEY_DISCOUNT)
    if pre_money < MIN_PRE_MONEY_CENTS:
        return []
    last = state.rounds[-1] if state.rounds else None
    down = last is not None and pre_money < last.post_money_cents
    burn = quarterly_burn_cents(state)
    op_burn = operating_burn_cents(state)
    runway = state.cash_cents / op_burn if op_burn > 0 else float("inf")  # capex can wait; payroll cannot
    rescue = state.cure_due or state.covenant == "default" or runway < RESCUE_RUNWAY_QUARTERS
    if last is not None and q - last.quarter < MONTHS_BETWEEN_ROUNDS // 3 and not (down or rescue):
        return []
    committed = committed_capex_cents(state)
    need = max(RUNWAY_QUARTERS_FUNDED * burn + committed - state.cash_cents, cure_need_cents(state, rules) if rescue else 0)
    share = min(ROUND_SHARE_OF_POST.get(state.stage, 0.15), rules.max_equity_share_per_round)
    stage_cap = round(pre_money * share / (1 - share))
    size = min(need, stage_cap)
    if size < MIN_ROUND_CENTS:
        return []
    name = round_name(state)
    basis = (
        f"{fmt_usd(equity_value_cents)} equity value less {fmt_usd(excess)} excess cash, at a {1 - NEW_MONEY_DISCOUNT:.0%} "
        f"new-money discount; sized to {RUNWAY_QUARTERS_FUNDED} quarters of {fmt_usd(burn)}/qtr burn plus "
        f"{fmt_usd(committed)} committed capex, less {fmt_usd(state.cash_cents)} cash, and at most {share:.0%} of the post-money"
    )
    if down:
        basis += f"; a down round: below the last round's {fmt_usd(last.post_money_cents)} post-money"
    return [
        EquityOffer(
            id=f"Q{wq.index}",
            investor="Meridian Growth Partners",
            round=name,
            pre_money_cents=pre_money,
            max_cents=size,
            cost_of_equity=COST_OF_EQUITY.get(state.stage, 0.3),
            down_round=down,
            basis=basis,
        )
    ]
