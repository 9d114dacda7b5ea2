"""Leases on the balance sheet (ASC 842 / IFRS 16; DESIGN.md "Finance").

A GPU lease (a neocloud's flex layer, or an inference platform's reserved block) is a promise
to pay for its whole term: the remaining payments, discounted at the company's incremental
borrowing rate, are a lease liability, and the right to use the GPUs is an asset of the same
size. For an operating lease with level payments the two stay equal: each quarter the payment
is the lease cost in COGS (so EBITDA carries it, as under US GAAP), and both fall by the
principal part of the payment. The liability counts as debt in net debt and in the score.

A colocation lease commits its rent ($/kW/month, KB §8) for its term (``colo_term_quarters``):
the same liability and right-of-use asset, from signing; releasing the site before the term ends
pays what is still owed, as colocation rent that quarter. After the term it runs quarter to quarter, cancellable, with no
liability (ASC 842's short-term lease). On-demand and spot rentals commit to nothing.
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


def colo_rent_usd(mw: float, usd_per_kw_month: float | None) -> float:
    """One quarter's rent on colocation: MW x 1,000 kW x $/kW/month x 3 months (KB §8)."""
    return mw * 1000 * (usd_per_kw_month or 0.0) * 3


def colo_liability_cents(site, next_quarter: int) -> int:
    """The discounted rent a colo site still owes for its committed term, from ``next_quarter``.
    A site still being provisioned starts paying when it opens (``opened_quarter``)."""
    if site.kind != "colo" or site.stage == "released" or site.lease_end_quarter <= next_quarter:
        return 0
    first = max(next_quarter, site.opened_quarter if site.opened_quarter is not None else next_quarter + 1)
    left = site.lease_end_quarter - first
    lead = first - next_quarter  # quarters of provisioning before the first payment
    pv = present_value_of_payments(colo_rent_usd(site.mw, site.colo_usd_per_kw_month), left, site.lease_discount_rate) / (1 + site.lease_discount_rate / 4) ** lead
    return round(pv * 100)


def total_lease_liability_cents(lots, next_quarter: int, sites=()) -> int:
    return sum(lease_liability_cents(lot, next_quarter) for lot in lots) + sum(colo_liability_cents(st, next_quarter) for st in sites)
