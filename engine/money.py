"""Money: integer cents in the ledger; floats only for physics and rates.

One rounding rule converts a float dollar amount to cents when it is posted: Python's
``round`` (half to even) of the amount in cents.
"""

from __future__ import annotations

import math

CENTS_PER_USD = 100
MAX_USD = 10**15  # issue 10: no real company books a quadrillion dollars; beyond it floats lose the cents


def to_cents(usd: float) -> int:
    """Dollars (float) to integer cents, with the engine's single rounding rule.

    Amounts beyond ±``MAX_USD`` are refused before any float conversion (10**309 overflows one).
    """
    if -MAX_USD <= usd <= MAX_USD:  # the common case first (issue 10, item 12); NaN and ±inf fail it
        return int(round(usd * CENTS_PER_USD))
    if isinstance(usd, int) and abs(usd) > MAX_USD:  # an int too large for a float must not reach math.isfinite
        raise ValueError(f"cannot post an amount beyond ±10^15 USD ({len(str(abs(usd)))} digits)")
    if not math.isfinite(usd):
        raise ValueError(f"cannot post a non-finite amount: {usd!r}")
    if abs(usd) > MAX_USD:
        raise ValueError(f"cannot post an amount beyond ±10^15 USD: {usd:.3e}")
    return int(round(usd * CENTS_PER_USD))


def to_usd(cents: int) -> float:
    """Integer cents to dollars, for reports and JSON."""
    return cents / CENTS_PER_USD


def fmt_usd(cents: int) -> str:
    """Human money: $1.23B, $45.6M, $789K, $12."""
    usd = cents / CENTS_PER_USD
    a = abs(usd)
    sign = "-" if usd < 0 and f"{a:,.0f}" != "0" else ""  # never "-$0": up to 50 cents below zero round to $0
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            return f"{sign}${a / div:,.2f}{suffix}"
    return f"{sign}${a:,.0f}"
