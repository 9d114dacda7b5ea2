"""Leases on the balance sheet (ASC 842 / IFRS 16; DESIGN.md "Finance").

A GPU lease (a neocloud's flex layer, or an inference platform's reserved block) is a promise
to pay for its whole term: the remaining payments, discounted at the company's incremental
borrowing rate, are a lease liability, and the right to use the GPUs is an asset of the same
size. For an operating lease with level payments the two stay equal: each quarter the payment
is the lease cost in COGS (so EBITDA carries it, as under US GAAP), and both fall by the
principal part of the payment. The liability counts as debt in net debt and in the score.

Colocation here can be released any quarter once empty: with no non-cancellable term it has
no liability (ASC 842's short-term/cancellable lease), and on-demand or spot rentals commit to
nothing.
"""

from __future__ import annotations

from engine.calendar import TICKS_PER_QUARTER


def incremental_borrowing_rate(sofr: float, spread_sub_ig_bps: float) -> float:
    """What the company would pay to borrow on its own credit: SOFR + the sub-investment-grade
    spread (KB §4), the rate lessees discount their lease payments at."""
    return sofr + spread_sub_ig_bps / 10_000


def lease_payment_usd(count: int, usd_per_gpu_hour: float) -> float:
    """One quarter's payment on a GPU lease."""
    return count * usd_per_gpu_hour * TICKS_PER_QUARTER


def present_value_of_payments(payment: float, quarters: int, annual_rate: float) -> float:
    """Level payments at the end of each of ``quarters`` quarters, discounted at ``annual_rate``."""
    r = annual_rate / 4
    if quarters <= 0:
        return 0.0
    if r == 0:
        return payment * quarters
    return payment * (1 - (1 + r) ** -quarters) / r


def lease_liability_cents(lot, next_quarter: int) -> int:
    """The discounted payments a leased lot still owes from ``next_quarter`` to the end of its term."""
    if lot.ownership != "leased" or lot.status == "closed":
        return 0
    first = max(next_quarter, lot.arrives_quarter)
    left = lot.lease_end_quarter - first
    pv = present_value_of_payments(lease_payment_usd(lot.count, lot.lease_usd_per_hour), left, lot.lease_discount_rate)
    return round(pv * 100)


def total_lease_liability_cents(lots, next_quarter: int) -> int:
    return sum(lease_liability_cents(lot, next_quarter) for lot in lots)
