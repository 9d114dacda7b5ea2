"""Score and verdict (DESIGN.md "Score and verdict").

Score = founders' ownership x max(0, enterprise value - net debt). Enterprise value is trailing
four-quarter revenue times a multiple (so a last-quarter fire sale does not pay): infrastructure
trades at 5-8x revenue, contracted infrastructure at a premium (KB §18, §21).
"""

from __future__ import annotations

from engine.base import Frozen

CONTRACTED_PREMIUM = 0.3  # multiple uplift for fully contracted revenue (KB §18: investors pay for predictability)

VERDICTS = (
    (4.0, "Legend", "You built an AI-infrastructure empire: the founders' stake is worth over 4x what it was."),
    (2.0, "Scaled it", "The founders' stake more than doubled: capacity, contracts and capital moved together."),
    (1.2, "Built real value", "The company is worth more than it started with, and the founders kept enough of it."),
    (0.8, "Treading water", "Roughly where you started: the market moved, and you mostly moved with it."),
    (0.0, "Value destroyed", "The founders' stake shrank: idle GPUs, thin contracts or expensive capital ate the value."),
)


class ScoreBreakdown(Frozen):
    trailing_revenue_cents: int
    quarters_in_trailing: int
    multiple: float
    contracted_share: float
    enterprise_value_cents: int
    debt_cents: int
    cash_cents: int
    net_debt_cents: int
    equity_value_cents: int
    founder_ownership: float
    score_cents: int
    start_value_cents: int
    verdict: str
    verdict_text: str


def trailing_revenue(revenues: list[int]) -> tuple[int, int]:
    """Sum of the last four quarters' revenue, annualized when fewer have been played."""
    last = revenues[-4:]
    if not last:
        return 0, 0
    return sum(last) * 4 // len(last), len(last)


def revenue_multiple(base_multiple: float, contracted_share: float) -> float:
    return base_multiple * (1 + CONTRACTED_PREMIUM * contracted_share)


def verdict(score_cents: int, start_value_cents: int, bankrupt: bool, reason: str) -> tuple[str, str]:
    if bankrupt:
        return "Bankrupt", reason or "The company failed: the founders' equity is worth nothing."
    ratio = score_cents / start_value_cents if start_value_cents > 0 else 0.0
    for threshold, name, text in VERDICTS:
        if ratio >= threshold:
            return name, text
    return VERDICTS[-1][1], VERDICTS[-1][2]  # pragma: no cover


def score(
    revenues: list[int],
    contracted_share: float,
    base_multiple: float,
    debt_cents: int,
    cash_cents: int,
    founder_ownership: float,
    start_value_cents: int,
    bankrupt: bool = False,
    reason: str = "",
) -> ScoreBreakdown:
    rev, n = trailing_revenue(revenues)
    multiple = revenue_multiple(base_multiple, contracted_share)
    ev = round(rev * multiple)
    net_debt = debt_cents - cash_cents
    equity = max(0, ev - net_debt)
    value = 0 if bankrupt else round(founder_ownership * equity)
    name, text = verdict(value, start_value_cents, bankrupt, reason)
    return ScoreBreakdown(
        trailing_revenue_cents=rev,
        quarters_in_trailing=n,
        multiple=multiple,
        contracted_share=contracted_share,
        enterprise_value_cents=ev,
        debt_cents=debt_cents,
        cash_cents=cash_cents,
        net_debt_cents=net_debt,
        equity_value_cents=equity,
        founder_ownership=founder_ownership,
        score_cents=value,
        start_value_cents=start_value_cents,
        verdict=name,
        verdict_text=text,
    )
