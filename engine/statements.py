"""The three statements, read off the ledger before the quarter is closed (KB §18, DESIGN "Finance").

All figures are integer cents. Revenue and equity are shown with their natural (positive) sign.
"""

from __future__ import annotations

from engine.base import Frozen
from engine.ledger import Ledger


class IncomeStatement(Frozen):
    rev_reserved: int
    rev_on_demand: int
    rev_batch: int
    rev_spot: int
    rev_tokens: int
    rev_sla_credits: int  # negative or zero
    revenue: int
    cogs_depreciation: int
    cogs_power: int
    cogs_colo: int
    cogs_gpu_lease: int
    cogs_gpu_rental: int
    cogs_site_opex: int
    cogs_operations: int
    cogs: int
    gross_profit: int
    opex_rnd: int
    opex_sales: int
    opex_ga: int
    ebitda: int
    depreciation: int
    other_gain_loss: int  # gains positive, write-offs, losses and impairments negative
    ebit: int
    interest: int
    pretax_income: int
    tax: int
    net_income: int
    impairment: int = 0  # of which GPU impairment (positive), inside other_gain_loss
    interest_non_cash: int = 0  # of which debt-discount amortization, inside interest

    @property
    def gross_margin(self) -> float | None:
        return self.gross_profit / self.revenue if self.revenue else None


class BalanceSheet(Frozen):
    cash: int
    gpu_deposits: int
    gpu_net: int  # equipment at cost less accumulated depreciation
    sites_cip: int
    sites_net: int
    rou_assets: int = 0  # right-of-use of leased GPUs
    total_assets: int
    debt: int
    lease_liabilities: int = 0  # ASC 842 / IFRS 16: debt in all but name
    total_liabilities: int
    paid_in_capital: int
    retained_earnings: int
    total_equity: int


class CashFlowStatement(Frozen):
    operating: int
    investing: int
    financing: int
    net_change: int
    cash_begin: int
    cash_end: int
    lines: dict[str, int]  # "operating:customers" -> cents
    operating_indirect: int  # net income + non-cash charges: must equal ``operating``


def income_statement(ledger: Ledger) -> IncomeStatement:
    b = ledger.balances
    rev = {k: -b[k] for k in ("rev_reserved", "rev_on_demand", "rev_batch", "rev_spot", "rev_tokens", "rev_sla_credits")}
    revenue = sum(rev.values())
    dep = b["cogs_depreciation_gpu"] + b["cogs_depreciation_site"]
    cash_cogs = {k: b[k] for k in ("cogs_power", "cogs_colo", "cogs_gpu_lease", "cogs_gpu_rental", "cogs_site_opex", "cogs_operations")}
    cogs = dep + sum(cash_cogs.values())
    gross = revenue - cogs
    opex = {k: b[k] for k in ("opex_rnd", "opex_sales", "opex_ga")}
    ebitda = revenue - sum(cash_cogs.values()) - sum(opex.values())
    other = -b["other_gain_loss"] - b["impairment"]
    ebit = ebitda - dep + other
    interest = b["interest_expense"] + b["interest_discount"]
    pretax = ebit - interest
    tax = b["tax_expense"]
    return IncomeStatement(
        **rev,
        revenue=revenue,
        cogs_depreciation=dep,
        **cash_cogs,
        cogs=cogs,
        gross_profit=gross,
        **opex,
        ebitda=ebitda,
        depreciation=dep,
        other_gain_loss=other,
        ebit=ebit,
        interest=interest,
        pretax_income=pretax,
        tax=tax,
        net_income=pretax - tax,
        impairment=b["impairment"],
        interest_non_cash=b["interest_discount"],
    )


def balance_sheet(ledger: Ledger) -> BalanceSheet:
    """Assets = liabilities + equity, where equity includes this period's unclosed income."""
    b = ledger.balances
    gpu_net = b["gpu_equipment"] + b["gpu_accum_dep"]
    sites_net = b["site_shell"] + b["site_power"] + b["site_accum_dep"]
    total_assets = b["cash"] + b["gpu_deposits"] + gpu_net + b["site_cip"] + sites_net + b["rou_asset"]
    debt = -b["debt"] - b["debt_discount"]  # carrying amount: face less the unamortized discount
    leases = -b["lease_liability"]
    unclosed = -sum(ledger.income_accounts().values())
    retained = -b["retained_earnings"] + unclosed
    paid_in = -b["paid_in_capital"]
    return BalanceSheet(
        cash=b["cash"],
        gpu_deposits=b["gpu_deposits"],
        gpu_net=gpu_net,
        sites_cip=b["site_cip"],
        sites_net=sites_net,
        rou_assets=b["rou_asset"],
        total_assets=total_assets,
        debt=debt,
        lease_liabilities=leases,
        total_liabilities=debt + leases,
        paid_in_capital=paid_in,
        retained_earnings=retained,
        total_equity=paid_in + retained,
    )


def cash_flow_statement(ledger: Ledger, cash_begin: int, income: IncomeStatement) -> CashFlowStatement:
    """Direct method from the journal's tagged cash lines, with the indirect method beside it.

    Indirect: net income + depreciation + write-offs/losses/impairments - gains (the proceeds of a
    sale sit in investing) + non-cash interest (the debt discount amortized). The engine has no receivables or payables: customers pay and suppliers are
    paid within the quarter, so there is no working-capital line.
    """
    by_class = {c: 0 for c in ("operating", "investing", "financing")}
    for key, cents in ledger.cash_flows.items():
        by_class[key.split(":", 1)[0]] += cents
    net = sum(by_class.values())
    indirect = income.net_income + income.depreciation - income.other_gain_loss + income.interest_non_cash
    return CashFlowStatement(
        operating=by_class["operating"],
        investing=by_class["investing"],
        financing=by_class["financing"],
        net_change=net,
        cash_begin=cash_begin,
        cash_end=ledger.balances["cash"],
        lines=dict(sorted(ledger.cash_flows.items())),
        operating_indirect=indirect,
    )


# ------------------------------------------------------------------ the statements as lines (one source for every screen)

StatementLine = tuple[str, int, int]  # label, cents as shown (costs negative), depth (0 = a total, 1 = an item of the total above)


def income_statement_lines(inc: IncomeStatement) -> list[StatementLine]:
    """Revenue by product (token revenue included: an inference platform's is all tokens), costs by
    kind, then the subtotals (KB §18). Items that are zero this quarter are left out; totals never are."""
    sections: list[tuple[str, int, list[tuple[str, int]]]] = [
        ("Revenue", inc.revenue, [("reserved", inc.rev_reserved), ("on-demand", inc.rev_on_demand), ("batch", inc.rev_batch),
                                  ("spot", inc.rev_spot), ("tokens", inc.rev_tokens), ("SLA credits", inc.rev_sla_credits)]),
        ("COGS", -inc.cogs, [("depreciation", -inc.cogs_depreciation), ("power", -inc.cogs_power), ("colo", -inc.cogs_colo),
                             ("GPU leases", -inc.cogs_gpu_lease), ("GPU rentals", -inc.cogs_gpu_rental),
                             ("site opex", -inc.cogs_site_opex), ("operations", -inc.cogs_operations)]),
        ("Gross profit", inc.gross_profit, []),
        ("Operating expenses", -(inc.opex_rnd + inc.opex_sales + inc.opex_ga),
         [("R&D", -inc.opex_rnd), ("sales", -inc.opex_sales), ("G&A", -inc.opex_ga)]),
        ("EBITDA", inc.ebitda, [("depreciation added back", inc.depreciation)]),  # gross profit is after depreciation
        ("Depreciation", -inc.depreciation, []),
        ("Other gain/loss", inc.other_gain_loss, []),
        ("EBIT", inc.ebit, []),
        ("Interest", -inc.interest, []),
        ("Tax", -inc.tax, []),
        ("Net income", inc.net_income, []),
    ]
    out: list[StatementLine] = []
    for label, cents, items in sections:
        out.append((label, cents, 0))
        out += [(name, v, 1) for name, v in items if v]
    return out


def cash_flow_lines(cf: CashFlowStatement) -> list[StatementLine]:
    """Cash at start, each section with its own items under it (operating items under Operating, not
    under Financing), net change, cash at end (KB §18, direct method)."""
    out: list[StatementLine] = [("Cash at start", cf.cash_begin, 0)]
    for section, total in (("operating", cf.operating), ("investing", cf.investing), ("financing", cf.financing)):
        out.append((section.capitalize(), total, 0))
        out += [(key.split(":", 1)[1], v, 1) for key, v in cf.lines.items() if key.split(":", 1)[0] == section and v]
    out += [("Net change", cf.net_change, 0), ("Cash at end", cf.cash_end, 0)]
    return out
