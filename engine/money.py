"""Money: integer cents in the ledger; floats only for physics and rates.

One rounding rule converts a float dollar amount to cents when it is posted: Python's
``round`` (half to even) of the amount in cents.
"""

from __future__ import annotations

import math

CENTS_PER_USD = 100


def to_cents(usd: float) -> int:
    """Dollars (float) to integer cents, with the engine's single rounding rule."""
    if not math.isfinite(usd):
        raise ValueError(f"cannot post a non-finite amount: {usd!r}")
    return int(round(usd * CENTS_PER_USD))


def to_usd(cents: int) -> float:
    """Integer cents to dollars, for reports and JSON."""
    return cents / CENTS_PER_USD


def fmt_usd(cents: int) -> str:
    """Human money: $1.23B, $45.6M, $789K, $12."""
    usd = cents / CENTS_PER_USD
    sign = "-" if usd < 0 else ""
    a = abs(usd)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            return f"{sign}${a / div:,.2f}{suffix}"
    return f"{sign}${a:,.0f}"
