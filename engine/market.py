"""What a player sees of the world at a decision: prices, rates, supply. Never future demand."""

from __future__ import annotations

from engine.base import Frozen
from engine.finance import contract_mark_to_market
from engine.money import to_cents
from engine.world import WorldQuarter


class GpuQuote(Frozen):
    gen: str
    available: bool
    list_price_usd: float
    on_demand_usd_per_hour: float
    reserved_usd_per_hour: dict[int, float]
    spot_usd_per_hour: float
    lease_usd_per_hour: float
    secondary_usd: float
    allocation_limit: int
    lead_time_quarters: int


class MarketView(Frozen):
    quarter: int
    label: str
    sofr: float
    spread_ig_bps: float
    spread_sub_ig_bps: float
    gpus: dict[str, GpuQuote]
    token_usd_per_m: dict[str, float]
    electricity_usd_per_kwh: dict[str, float]
    colo_usd_per_kw_month: float
    infra_revenue_multiple: float
    build_moratorium: bool

    def gpu_hour(self) -> dict[str, float]:
        """On-demand market rate per generation that can be had this quarter."""
        return {g: q.on_demand_usd_per_hour for g, q in self.gpus.items() if q.available}


def market_view(wq: WorldQuarter) -> MarketView:
    return MarketView(
        quarter=wq.index,
        label=wq.label,
        sofr=wq.sofr,
        spread_ig_bps=wq.spread_ig_bps,
        spread_sub_ig_bps=wq.spread_sub_ig_bps,
        gpus={
            g: GpuQuote(
                gen=g,
                available=m.available,
                list_price_usd=m.list_price_usd,
                on_demand_usd_per_hour=m.on_demand_usd_per_hour,
                reserved_usd_per_hour=dict(m.reserved_usd_per_hour),
                spot_usd_per_hour=m.spot_usd_per_hour,
                lease_usd_per_hour=m.lease_usd_per_hour,
                secondary_usd=m.secondary_usd,
                allocation_limit=m.allocation_limit,
                lead_time_quarters=m.lead_time_quarters,
            )
            for g, m in wq.gpus.items()
        },
        token_usd_per_m=dict(wq.token_usd_per_m),
        electricity_usd_per_kwh=dict(wq.electricity_usd_per_kwh),
        colo_usd_per_kw_month=wq.colo_usd_per_kw_month,
        infra_revenue_multiple=wq.infra_revenue_multiple,
        build_moratorium=wq.build_moratorium,
    )


def contract_mtm(contract, market: MarketView, quarter: int) -> tuple[int, float, int, int]:
    """A signed contract marked to market as a fixed-for-floating swap (KB §1, §2).

    The floating leg is today's reserved rate for the term nearest the quarters left. Returns
    (value in cents, that market rate, the term used, quarters left); positive when the market
    has fallen below the contract's fixed price.
    """
    left = max(0, contract.end_quarter - max(quarter, contract.start_quarter))
    quote = market.gpus.get(contract.gen)
    if quote is None or left == 0:
        return 0, 0.0, 0, left
    term = min(sorted(quote.reserved_usd_per_hour), key=lambda t: abs(t - left))
    rate = quote.reserved_usd_per_hour[term]
    return to_cents(contract_mark_to_market(contract.usd_per_gpu_hour, [rate] * left, contract.gpus)), rate, term, left
