"""The books: an integer-cents, double-entry ledger (DESIGN.md "Money is integer cents").

Balances are signed: debits positive, credits negative, so every entry sums to zero and the
whole trial balance always sums to zero. Each entry that touches cash carries a cash-flow
class (operating, investing, financing) so the cash-flow statement is read straight off the
journal (direct method); the report also derives operating cash flow the indirect way, from
net income, as a cross-check.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

# account -> (statement, kind). kind: asset, contra_asset, liability, contra_liability, equity, revenue, expense
ACCOUNTS: dict[str, tuple[str, str]] = {
    "cash": ("balance", "asset"),
    "gpu_deposits": ("balance", "asset"),  # GPUs paid for, not yet delivered
    "gpu_equipment": ("balance", "asset"),
    "gpu_accum_dep": ("balance", "contra_asset"),  # accumulated depreciation and impairment
    "site_cip": ("balance", "asset"),  # construction in progress
    "site_shell": ("balance", "asset"),
    "site_power": ("balance", "asset"),  # power delivery and cooling
    "site_accum_dep": ("balance", "contra_asset"),
    "rou_asset": ("balance", "asset"),  # right-of-use of leased GPUs (ASC 842 / IFRS 16)
    "debt": ("balance", "liability"),  # face value owed
    "debt_discount": ("balance", "contra_liability"),  # unamortized warrant value (ASC 470-20)
    "lease_liability": ("balance", "liability"),  # remaining lease payments, discounted
    "paid_in_capital": ("balance", "equity"),
    "retained_earnings": ("balance", "equity"),
    "rev_reserved": ("income", "revenue"),
    "rev_on_demand": ("income", "revenue"),
    "rev_batch": ("income", "revenue"),
    "rev_spot": ("income", "revenue"),
    "rev_tokens": ("income", "revenue"),  # managed inference: per-token sales
    "rev_sla_credits": ("income", "revenue"),  # contra-revenue: credits paid for missed SLAs
    "cogs_depreciation_gpu": ("income", "expense"),
    "cogs_depreciation_site": ("income", "expense"),
    "cogs_power": ("income", "expense"),
    "cogs_colo": ("income", "expense"),
    "cogs_gpu_lease": ("income", "expense"),
    "cogs_gpu_rental": ("income", "expense"),  # on-demand and spot GPUs rented for inference
    "cogs_site_opex": ("income", "expense"),
    "cogs_operations": ("income", "expense"),
    "opex_rnd": ("income", "expense"),
    "opex_sales": ("income", "expense"),
    "opex_ga": ("income", "expense"),
    "other_gain_loss": ("income", "expense"),  # write-offs, losses (+) and gains (-) on GPU sales
    "impairment": ("income", "expense"),  # GPU write-down to recoverable amount (IAS 36 / ASC 360), non-cash
    "interest_expense": ("income", "expense"),
    "interest_discount": ("income", "expense"),  # non-cash interest: the debt discount amortized over the tenor
    "tax_expense": ("income", "expense"),
}

CASH_FLOW_CLASSES = ("operating", "investing", "financing")


class LedgerError(ValueError):
    """An entry that does not balance or names an unknown account: a bug, never player input."""


class Ledger(BaseModel):
    """Account balances (signed cents) plus this quarter's cash flows by class and line."""

    balances: dict[str, int] = Field(default_factory=lambda: {a: 0 for a in ACCOUNTS})
    # cash-flow lines of the current quarter: "operating:customers" -> cents (signed)
    cash_flows: dict[str, int] = Field(default_factory=dict)

    def post(self, memo: str, lines: list[tuple[str, int]], cash_class: str | None = None) -> None:
        """Post one balanced entry. ``lines`` are (account, signed cents: debit +, credit -)."""
        total = cash_delta = 0
        for account, cents in lines:  # checked in full before any balance moves
            if account not in ACCOUNTS:
                raise LedgerError(f"unknown account {account!r} in {memo!r}")
            if not isinstance(cents, int):
                raise LedgerError(f"{memo!r}: amounts must be integer cents, got {cents!r}")
            total += cents
            if account == "cash":
                cash_delta += cents
        if total != 0:
            raise LedgerError(f"entry {memo!r} does not balance: off by {total} cents")
        if cash_delta and cash_class not in CASH_FLOW_CLASSES:
            raise LedgerError(f"entry {memo!r} moves cash but has no cash-flow class")
        balances = self.balances
        for account, cents in lines:
            balances[account] += cents
        if cash_delta:
            key = f"{cash_class}:{memo}"
            self.cash_flows[key] = self.cash_flows.get(key, 0) + cash_delta

    def balance(self, account: str) -> int:
        return self.balances[account]

    def income_accounts(self) -> dict[str, int]:
        return {a: b for a, b in self.balances.items() if ACCOUNTS[a][0] == "income"}

    def close_period(self) -> None:
        """Close revenue and expense accounts into retained earnings; clear cash-flow lines."""
        net = 0
        for account, (statement, _) in ACCOUNTS.items():
            if statement == "income":
                net += self.balances[account]
                self.balances[account] = 0
        self.balances["retained_earnings"] += net
        self.cash_flows = {}
