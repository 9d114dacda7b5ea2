"""What a player sees of the world at a decision: prices, rates, supply. Never future demand."""

from __future__ import annotations

from engine.base import Frozen
from engine.finance import contract_mark_to_market, forward_rates
from engine.leases import incremental_borrowing_rate
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
    """A signed contract marked to market as a fixed-for-floating swap (KB §1, §2). A memo only:
    never booked.

    The floating leg for each remaining quarter is the forward price implied by today's reserved
    rates by term (``forward_rates``: the deflation trend continues past the longest term, never
    below today's spot rate); each quarter's difference is discounted at the company's cost of
    debt, SOFR + the sub-investment-grade spread. Returns (value in cents, the average floating
    price, the reserved term nearest the quarters left, quarters left); positive when the market
    has fallen below the contract's fixed price.
    """
    left = max(0, contract.end_quarter - max(quarter, contract.start_quarter))
    quote = market.gpus.get(contract.gen)
    if quote is None or left == 0:
        return 0, 0.0, 0, left
    term = min(sorted(quote.reserved_usd_per_hour), key=lambda t: abs(t - left))
    floating = forward_rates(quote.reserved_usd_per_hour, left, floor=quote.spot_usd_per_hour)
    rate_q = incremental_borrowing_rate(market.sofr, market.spread_sub_ig_bps) / 4
    value = contract_mark_to_market(contract.usd_per_gpu_hour, floating, contract.gpus, rate_per_period=rate_q)
    return to_cents(value), sum(floating) / left, term, left


class Competitor(Frozen):
    name: str
    what: str  # what they sell and how they price it, in words
    prices: dict[str, float]  # label -> price (e.g. "H100 $/h" or "llama-3.1-70b $/M out")


def competitors(wq: WorldQuarter, inference_params) -> list[Competitor]:
    """Who the player competes with this quarter, priced by the same rules the engine uses.

    Hyperscalers rent on demand at the premium an inference platform pays them
    (``on_demand_rental_premium``); neocloud peers set the market's on-demand and reserved rates;
    spot marketplaces clear idle hours at the spot rate; full-stack inference platforms set the
    per-token market price (their full KB §17 stack on the cheapest common GPU, marked up by their
    margin, engine.inference.market_output_price).
    """
    from engine.inference import market_output_price
    from engine.models import MODEL_ORDER

    live = {g: m for g, m in wq.gpus.items() if m.available}
    premium = inference_params.on_demand_rental_premium
    tokens = {}
    for model in MODEL_ORDER:
        if any(model in tr.model_mix for tr in inference_params.traffic):  # models the market trades
            tokens[f"{model} $/M out"] = round(market_output_price(wq, inference_params, model), 4)
    return [
        Competitor(name="Hyperscalers", what=f"on-demand GPUs at list, ~{premium:.1f}x the neocloud rate; no commitment",
                   prices={f"{g.upper()} $/h": round(m.on_demand_usd_per_hour * premium, 4) for g, m in live.items()}),
        Competitor(name="Neocloud peers", what="on-demand at the market rate; 1-3 year reservations 30-50% below it",
                   prices={f"{g.upper()} $/h": m.on_demand_usd_per_hour for g, m in live.items()}),
        Competitor(name="Spot marketplaces", what="idle hours, reclaimable at short notice, 60-80% below on-demand",
                   prices={f"{g.upper()} $/h": m.spot_usd_per_hour for g, m in live.items()}),
        Competitor(name="Inference platforms", what="tokens from a fully optimized stack on the cheapest common GPU; input at 1/3 of output",
                   prices=tokens),
    ]
