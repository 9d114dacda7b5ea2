"""The quarter report: what happened, in statements, KPIs and plain words."""

from __future__ import annotations

from engine.base import Frozen
from engine.inference import InferenceResult
from engine.market import MarketView
from engine.score import ScoreBreakdown
from engine.state import Offers
from engine.statements import BalanceSheet, CashFlowStatement, IncomeStatement


class ActionResult(Frozen):
    action: dict
    ok: bool
    message: str


class News(Frozen):
    title: str
    text: str
    kind: str = "company"  # "world" events come from the market; "company" ones from your own business
    event: str = ""  # for world news: the event kind (engine.world.EVENT_KINDS or a generation launch)


class GenKpis(Frozen):
    gen: str
    gpus: int  # in service at the start of the quarter
    owned: int
    leased: int
    contracted: int
    failed: int
    utilization: float  # sold: (reserved + on-demand + batch) GPU-hours / capacity; spot fill not included (KB §2)
    spot_filled_share: float = 0.0  # idle capacity sold on the spot market, as a share of capacity
    price_usd_per_hour: float  # your on-demand price
    market_usd_per_hour: float
    served_gpu_hours: dict[str, float]  # reserved, on_demand, batch, spot
    lost_gpu_hours: float
    batch_backlog_gpu_hours: float


class Kpis(Frozen):
    utilization: float  # sold: reserved + on-demand + batch GPU-hours (and inference replicas' served work) / capacity
    contracted_share: float  # share of revenue from signed contracts
    gross_margin: float | None
    ebitda_margin: float | None
    dscr: float | None
    covenant: str
    dscr_lockup: float
    dscr_default: float
    runway_quarters: float | None  # None: cash flow positive
    gpus: dict[str, int]
    gpus_on_order: dict[str, int]
    cost_per_gpu_hour: float | None
    revenue_per_gpu_hour: float | None
    power_mw: float
    site_mw: float
    by_gen: list[GenKpis]
    peak_to_mean: dict[str, float]  # each segment alone, and "pooled"
    net_dollar_retention: float | None = None  # token revenue vs four quarters ago (the same segments)
    revenue_per_gpu_hour_rental: float | None = None  # KB §2: the two lines side by side
    revenue_per_gpu_hour_inference: float | None = None
    spot_filled_share: float = 0.0  # capacity hours sold on the spot market (KB §2 "fills idle capacity"), not in utilization
    # what the covenant test did this quarter (QuarterRecord): "", lock-up, default-notice, cured, accelerated, foreclosed, released
    covenant_event: str = ""
    cure_needed_cents: int = 0  # the equity cure a default notice named
    accelerated_cents: int = 0  # loans the lenders called and cash repaid
    prepayment_fee_cents: int = 0


class QuarterReport(Frozen):
    quarter: int
    label: str
    actions: list[ActionResult]
    income: IncomeStatement
    balance: BalanceSheet
    cash_flow: CashFlowStatement
    kpis: Kpis
    market: MarketView
    news: list[News]
    warnings: list[str]
    offers: Offers  # for the next quarter
    score: ScoreBreakdown
    game_over: bool
    bankrupt: bool
    end_reason: str
    state_hash: str
    inference: InferenceResult | None = None  # managed inference, when the company runs it
