"""Score and verdict (DESIGN.md "Score and verdict").

Score = founders' ownership x max(0, enterprise value - net debt - lease liabilities), where
enterprise value comes from cash generation (engine.valuation): revenue at zero margin, leasing
in the final quarters and a last-quarter fire sale do not pay.
"""

from __future__ import annotations

from engine.base import Frozen
from engine.money import fmt_usd
from engine.valuation import Valuation

VERDICTS = (
    (4.0, "Legend", "You built an AI-infrastructure empire: the founders' stake is worth over 4x what it was."),
    (2.0, "Scaled it", "The founders' stake more than doubled: capacity, contracts and capital moved together."),
    (1.2, "Built real value", "The company is worth more than it started with, and the founders kept enough of it."),
    (0.8, "Treading water", "Roughly where you started: the market moved, and you mostly moved with it."),
    (0.0, "Value destroyed", "The founders' stake shrank: idle GPUs, thin contracts or expensive capital ate the value."),
)


class ScoreBreakdown(Frozen):
    valuation: Valuation
    enterprise_value_cents: int
    debt_cents: int
    lease_liability_cents: int
    cash_cents: int
    net_debt_cents: int  # debt + lease liabilities - cash
    equity_value_cents: int
    founder_ownership: float
    score_cents: int
    start_value_cents: int
    verdict: str
    verdict_text: str


def verdict(score_cents: int, start_value_cents: int, bankrupt: bool, reason: str) -> tuple[str, str]:
    if bankrupt:
        return "Bankrupt", reason or "The company failed: the founders' equity is worth nothing."
    ratio = score_cents / start_value_cents if start_value_cents > 0 else 0.0
    for threshold, name, text in VERDICTS:
        if ratio >= threshold:
            return name, text
    return VERDICTS[-1][1], VERDICTS[-1][2]  # pragma: no cover


def score(
    valuation: Valuation,
    debt_cents: int,
    lease_liability_cents: int,
    cash_cents: int,
    founder_ownership: float,
    start_value_cents: int,
    bankrupt: bool = False,
    reason: str = "",
) -> ScoreBreakdown:
    """Lease liabilities are debt (ASC 842 / IFRS 16): what is still owed on a lease is owed."""
    ev = valuation.enterprise_value_cents
    net_debt = debt_cents + lease_liability_cents - cash_cents
    equity = max(0, ev - net_debt)
    value = 0 if bankrupt else round(founder_ownership * equity)
    name, text = verdict(value, start_value_cents, bankrupt, reason)
    return ScoreBreakdown(
        valuation=valuation,
        enterprise_value_cents=ev,
        debt_cents=debt_cents,
        lease_liability_cents=lease_liability_cents,
        cash_cents=cash_cents,
        net_debt_cents=net_debt,
        equity_value_cents=equity,
        founder_ownership=founder_ownership,
        score_cents=value,
        start_value_cents=start_value_cents,
        verdict=name,
        verdict_text=text,
    )


def bridge_lines(sc: ScoreBreakdown) -> list[tuple[str, str]]:
    """The whole bridge from results to the score, as (label, value) rows: the dashboard and the
    debrief show these same lines."""
    v = sc.valuation
    n = v.quarters_in_trailing
    trailing = "trailing 4 quarters" if n >= 4 else f"{n} quarter(s), annualized"
    rows = [
        (f"EBITDA ({trailing})", fmt_usd(v.trailing_ebitda_cents)),
        ("- depreciation (replacing the fleet)", fmt_usd(v.trailing_depreciation_cents)),
        ("= owner earnings", fmt_usd(v.owner_earnings_cents)),
    ]
    if v.latest_quarter_binds:
        rows.append(("capped at the last quarter's pace (x 4)", fmt_usd(v.run_rate_earnings_cents)))
    elif v.run_rate_factor < 1:
        rows.append((f"x {v.run_rate_factor:.0%} of the fleet still in service", fmt_usd(v.run_rate_earnings_cents)))
    elif v.run_rate_factor > 1:
        rows.append((f"x {v.run_rate_factor:.0%}: the fleet grew during the year", fmt_usd(v.run_rate_earnings_cents)))
    rows += [
        (f"x multiple ({v.software_share:.0%} software, growth {v.growth:+.0%})", f"{v.multiple:.1f}x"),
        ("= operating value", fmt_usd(v.operating_value_cents)),
        ("+ contracted backlog (margin still owed, discounted)", fmt_usd(v.backlog_value_cents)),
    ]
    if v.liquidation_value_cents > v.operating_value_cents + v.backlog_value_cents:
        rows.append(("floor: the assets sold today", fmt_usd(v.liquidation_value_cents)))
    rows += [
        ("+ capital not yet earning (deposits, builds, new GPUs)", fmt_usd(v.capital_not_yet_earning_cents)),
        ("= enterprise value", fmt_usd(sc.enterprise_value_cents)),
        ("- debt", fmt_usd(sc.debt_cents)),
        ("- lease liabilities", fmt_usd(sc.lease_liability_cents)),
        ("+ cash", fmt_usd(sc.cash_cents)),
        ("= equity value", fmt_usd(sc.equity_value_cents)),
        ("x founders' ownership", f"{sc.founder_ownership:.1%}"),
        ("= score", fmt_usd(sc.score_cents)),
    ]
    return rows
