"""Built-in strategies. A bot sees an ``Observation`` (what a player sees) and returns actions.

- ``passive``: does nothing; the baseline every lesson is measured against.
- ``all-in``: commits long-term: buys the GPUs demand will use (measured demand grown to when they
  arrive, plus the contract offers it could not serve) and builds, borrows all it can, signs every
  contract it can serve.
- ``flex``: owns nothing new: leases GPUs a year at a time and sells on-demand only.
- ``barbell``: owns what contracts cover (financed with debt), leases the flex layer (KB §20).
- ``inference-neocloud``: a neocloud that dedicates part of its fleet to managed inference and
  sizes it to token demand, renting the rest by the hour (KB §2 "The Strategic Tension").
- ``max-leverage``: draws every loan offer at its maximum and spends it on GPUs, as many as the
  allocations allow (KB §4 leverage).
- ``speculator``: leases only the newest generation, on the shortest term, and signs no contract.
- ``undercutter``: the price warrior: prices its on-demand GPU-hours (or tokens) 20% under the
  market, signs no contract, and buys (with its cash, no debt) or leases the capacity the cheap
  price wins it (KB §1 "pricing as a weapon"); the rival of the price-war-rival scenario.

Strategies written to exploit the rules live in ``engine.exploits``: ``make_bot`` finds them, but
they are not among ``BOTS`` (``--bots all``).

Bot writers: subclass ``Bot`` (or pass any object with ``name`` and ``act(obs)``), and run it
with ``tycoon sim`` or ``engine.bots.run_bot``: the same runner verifies run files.
"""

from __future__ import annotations

from engine.actions import active_gpus, committed_gpus, gpu_kw, site_load_kw
from engine.calendar import TICKS_PER_QUARTER
from engine.game import Game, Observation
from engine.hardware import GPU_ORDER


class Bot:
    name = "bot"

    def act(self, obs: Observation) -> list[dict]:  # pragma: no cover - interface
        raise NotImplementedError


def _cash_usd(obs: Observation) -> float:
    return obs.state.cash_cents / 100


def _quarterly_cash_costs(obs: Observation) -> float:
    if not obs.reports:
        return 10_000_000.0
    inc = obs.reports[-1].income
    return (inc.revenue - inc.ebitda + inc.interest) / 100


def _seen_demand(obs: Observation) -> dict[str, float]:
    """Average concurrent GPUs wanted last quarter (served plus turned away, excluding contracts),
    for the generations the company had rows for: the demand a player measures on its own fleet."""
    if not obs.reports:
        return {}
    return {
        g.gen: (g.served_gpu_hours["on_demand"] + g.served_gpu_hours["batch"] + g.lost_gpu_hours) / TICKS_PER_QUARTER
        for g in obs.reports[-1].kpis.by_gen
    }


def _offer_mix(obs: Observation, lookback: int = 4) -> dict[str, int]:
    """Contract offers per generation over the last quarters: customers ask for the generations the
    market wants, so the offer book is the demand signal a player sees for chips it does not hold."""
    seen: dict[str, str] = {o.id: o.gen for o in obs.state.offers.contracts}
    for r in obs.reports[-lookback:]:
        seen.update({o.id: o.gen for o in r.offers.contracts})
    counts: dict[str, int] = {}
    for gen in seen.values():
        counts[gen] = counts.get(gen, 0) + 1
    return counts


def _demand_gpus(obs: Observation, gen: str) -> float:
    """Average concurrent GPUs wanted of ``gen``: measured when the company served it last quarter;
    otherwise estimated from what it sees, the demand measured on the generations it holds scaled by
    the offer book's mix (``_offer_mix``). Zero when nothing is measured or nobody asks for ``gen``."""
    seen = _seen_demand(obs)
    if gen in seen:
        return seen[gen]
    mix = _offer_mix(obs)
    held = [g for g in seen if mix.get(g, 0) > 0]
    if not held or mix.get(gen, 0) == 0:
        return 0.0
    return sum(seen[g] for g in held) * mix[gen] / sum(mix[g] for g in held)


PROBE_SHARE = 0.5  # of an estimated demand a first lease covers: take-or-pay on a guess


FLEX_UTILIZATION = 0.85  # a flex layer sized to the demand gap runs about this busy (KB §2 pooling)


def _lease_pays(obs: Observation, gen: str, term: int = 4) -> bool:
    """Lease only what earns its take-or-pay: the market's on-demand rate at the flex layer's
    utilization must cover the lease and the operations per GPU-hour (KB §3: renting is an option
    you pay a premium for; it pays in scarcity, not as a business)."""
    from engine.actions import lease_rate

    quote = obs.market.gpus[gen]
    rate = lease_rate(obs.market, gen, term)
    return quote.on_demand_usd_per_hour * FLEX_UTILIZATION > rate + obs.scenario.rules.ops_usd_per_gpu_hour


def _demand_to_cover(obs: Observation, gen: str) -> float:
    """The demand a bot leases for: a measurement in full; an estimate as a probe (half of it, and
    none while the covenant is locked up or in default: KB §4); next quarter's report measures it."""
    if gen in _seen_demand(obs):
        return _demand_gpus(obs, gen)
    if obs.state.covenant in ("lock-up", "default"):
        return 0.0
    return _demand_gpus(obs, gen) * PROBE_SHARE


def _rentable_gpus(obs: Observation, gen: str) -> int:
    """GPUs of ``gen`` in service that rent by the hour: not under contract, not serving tokens."""
    st = obs.state
    return active_gpus(st, gen, st.quarter) - committed_gpus(st, gen, st.quarter) - st.inference.dedicated.get(gen, 0)


def _newest_gen(obs: Observation) -> str | None:
    """The most recent generation that can be had this quarter (hardware order is launch order)."""
    gens = [g for g in GPU_ORDER if g in obs.market.gpus and obs.market.gpus[g].available and obs.market.gpus[g].allocation_limit > 0]
    return gens[-1] if gens else None


def _growth(obs: Observation) -> float:
    revs = [r.income.revenue for r in obs.reports[-5:]]
    if len(revs) >= 2 and revs[0] > 0:
        per_q = (revs[-1] / revs[0]) ** (1 / (len(revs) - 1))
        return min(1.15, max(0.95, per_q))
    return 1.06


def _best_gen(obs: Observation) -> str | None:
    """The generation with the best on-demand rate per dollar of purchase price that we can order."""
    best, value = None, 0.0
    for gen, quote in obs.market.gpus.items():
        if quote.available and quote.allocation_limit > 0 and quote.list_price_usd > 0:
            v = quote.on_demand_usd_per_hour / quote.list_price_usd
            if v > value:
                best, value = gen, v
    return best


def _free_kw_sites(obs: Observation) -> list[tuple[str, float]]:
    st = obs.state
    return [(s.id, s.mw * 1000 - site_load_kw(st, s.id)) for s in st.sites if s.stage not in ("released",)]


def _sign_offers(obs: Observation, only_ig: bool, held_back: dict[str, int] | None = None) -> list[dict]:
    """Sign the best-paying offers the fleet can serve; ``held_back`` GPUs (serving tokens) are not offered."""
    st = obs.state
    out, used = [], dict(held_back or {})
    for offer in sorted(st.offers.contracts, key=lambda o: -o.usd_per_gpu_hour):
        if only_ig and offer.grade not in ("AA", "A", "BBB"):
            continue
        free = active_gpus(st, offer.gen, st.quarter) - committed_gpus(st, offer.gen, st.quarter) - used.get(offer.gen, 0)
        if offer.gpus <= free:
            out.append({"kind": "sign_contract", "offer_id": offer.id})
            used[offer.gen] = used.get(offer.gen, 0) + offer.gpus
    return out


def _buy(obs: Observation, gen: str, want: int, budget_usd: float) -> list[dict]:
    """Buy up to ``want`` GPUs within budget and allocation, filling sites; lease colo when full."""
    quote = obs.market.gpus[gen]
    unit = quote.list_price_usd * (1 + obs.scenario.rules.networking_share)
    n = int(min(want, quote.allocation_limit, budget_usd // unit)) // 8 * 8
    out: list[dict] = []
    if n <= 0:
        return out
    kw = gpu_kw(gen)
    for site_id, free in _free_kw_sites(obs):
        fit = int(free // kw) // 8 * 8
        take = min(n, fit)
        if take > 0:
            out.append({"kind": "buy_gpus", "gen": gen, "count": take, "site_id": site_id})
            n -= take
        if n <= 0:
            break
    if n > 0:  # room runs out: lease colo now; it is ready before the GPUs arrive
        mw = round(max(1.0, n * kw / 1000 * 1.2), 1)
        out.append({"kind": "lease_colo", "mw": mw})
    return out


def _demand_growth(obs: Observation) -> float:
    """Quarterly growth of the GPU-hours customers asked of the fleet (served and turned away, every
    generation, contracts aside) over the last year of reports, kept in 0.95-1.15: volume, not
    revenue, so falling prices do not read as shrinking demand."""
    totals = [sum(g.served_gpu_hours["on_demand"] + g.served_gpu_hours["batch"] + g.lost_gpu_hours for g in r.kpis.by_gen)
              for r in obs.reports[-5:]]
    if len(totals) >= 2 and totals[0] > 0:
        return min(1.15, max(0.95, (totals[-1] / totals[0]) ** (1 / (len(totals) - 1))))
    return 1.06


BUY_AHEAD_QUARTERS = 2  # GPUs ordered now arrive next quarter (most lead times) and should be busy the one after


def _capacity_gap_usd_per_hour(obs: Observation, signed: list[dict]) -> float:
    """Capacity the fleet lacks for the demand it will meet when new GPUs arrive, in market dollars
    per hour (KB §2: size the fleet to the pooled demand, which keeps it about ``FLEX_UTILIZATION``
    busy): the hourly demand it measures (or estimates) on every generation, grown
    ``BUY_AHEAD_QUARTERS`` at its trend (next quarter buys again: capital is not parked in GPUs a
    year early), plus the contract offers it could not serve, less the GPUs it has for them (in
    service or on order, not under contract or signed this quarter). Each GPU-hour is valued at its
    generation's market rate, so a newer generation's capacity answers an older one's demand at
    price parity."""
    st = obs.state
    signed_ids = {a["offer_id"] for a in signed}
    rate = {g: q.on_demand_usd_per_hour for g, q in obs.market.gpus.items()}
    want = sum(_demand_gpus(obs, g) * r for g, r in rate.items()) * _demand_growth(obs) ** BUY_AHEAD_QUARTERS / FLEX_UTILIZATION
    want += sum(o.gpus * rate.get(o.gen, 0.0) for o in st.offers.contracts if o.id not in signed_ids)
    have = -sum(o.gpus * rate.get(o.gen, 0.0) for o in st.offers.contracts if o.id in signed_ids)
    for g, r in rate.items():
        on_order = sum(l.count for l in st.lots if l.status == "on_order" and l.gen == g)
        have += (active_gpus(st, g, st.quarter) + on_order - committed_gpus(st, g, st.quarter)) * r
    return max(0.0, want - have)


def _buy_for_demand(obs: Observation, signed: list[dict], budget_usd: float) -> list[dict]:
    """The best generation's GPUs for the capacity demand will lack (``_capacity_gap_usd_per_hour``),
    within budget and allocation: capital goes where customers will use it, not into idle GPUs."""
    gen = _best_gen(obs)
    if gen is None:
        return []
    rate = obs.market.gpus[gen].on_demand_usd_per_hour
    return _buy(obs, gen, int(_capacity_gap_usd_per_hour(obs, signed) / rate) if rate > 0 else 0, budget_usd)


def _covenant_care(obs: Observation, reserve_usd: float) -> list[dict]:
    """Prepay debt from spare cash when the covenant is breached or DSCR runs thin, and answer a
    default notice with the named equity cure when cash cannot repay the loans (KB §4)."""
    st = obs.state
    last = obs.reports[-1].kpis if obs.reports else None
    thin = last is not None and last.dscr is not None and last.dscr < last.dscr_lockup + 0.2
    if st.covenant not in ("lock-up", "default") and not thin:
        return []
    spare = _cash_usd(obs) - reserve_usd
    out = []
    debt_usd = sum(l.balance_cents for l in st.loans) / 100
    if st.cure_due and last is not None and last.cure_needed_cents > 0 and spare < debt_usd:
        # a default notice the cash cannot answer by repaying: cure it with equity rather than lose the company
        for offer in st.offers.equity:  # the round on offer, up to twice the cure: next quarter's test may be worse
            amount = min(offer.max_cents, 2 * last.cure_needed_cents) // 100
            if amount > 0:
                out.append({"kind": "raise_equity", "offer_id": offer.id, "amount_usd": amount})
        return out  # keep the cash: if the cure falls short, it is what repays the called loans
    for loan in sorted(st.loans, key=lambda l: -l.spread_bps):
        if spare <= 0 or loan.balance_cents <= 0:
            continue
        amount = int(min(spare, loan.balance_cents / 100))
        if amount > 0:
            out.append({"kind": "repay_loan", "loan_id": loan.id, "amount_usd": amount})
            spare -= amount
    return out


# ---------------------------------------------------------------- managed inference (KB §20 sourcing)

ROADMAP_ORDER = ("continuous_batching", "paged_attention", "flash_attention", "fp8", "custom_kernels", "speculative_decoding")


def _replica_plan(obs: Observation, headroom: float = 1.05) -> dict[str, int]:
    """Replicas each deployed model needs next quarter: last quarter's p95 need, grown, plus headroom."""
    if not obs.reports or obs.reports[-1].inference is None:
        return {d.model: d.replicas for d in obs.state.inference.deployments}
    growth = _growth(obs)
    need = {m.model: m.replicas_needed_p95 for m in obs.reports[-1].inference.models}
    return {d.model: max(1, int(need.get(d.model, d.replicas) * growth * headroom + 0.999)) for d in obs.state.inference.deployments}


def _cost_per_token(obs: Observation, model: str, gen: str, precision: str, tpot_ms: float) -> float | None:
    """What one output token costs on a generation at this quarter's 1-year lease rate (engine physics)."""
    from engine.base import Rejected
    from engine.inference import SIZING_CONTEXT, replica_capacity, replica_size

    quote = obs.market.gpus[gen]
    if not quote.available or quote.allocation_limit <= 0:
        return None
    stack = obs.state.inference.stack()
    try:
        n = replica_size(model, gen, precision, stack, tpot_ms)
        tps = replica_capacity(model, gen, n, precision, stack, SIZING_CONTEXT, tpot_ms, SIZING_CONTEXT)[0]
    except (Rejected, ValueError):
        return None
    return quote.lease_usd_per_hour * n / tps if tps > 0 else None


def _migrations(obs: Observation) -> dict[str, str]:
    """Models worth moving to a newer generation: a quarter cheaper per token by a quarter or more."""
    out = {}
    for d in obs.state.inference.deployments:
        now = _cost_per_token(obs, d.model, d.gen, d.precision, d.tpot_ms)
        options = {g: _cost_per_token(obs, d.model, g, d.precision, d.tpot_ms) for g in obs.market.gpus}
        best = min((g for g, c in options.items() if c is not None), key=lambda g: options[g], default=None)
        if best and best != d.gen and now and options[best] < 0.75 * now:
            out[d.model] = best
    return out


def _inference_actions(obs: Observation, reserve_share: float, reserve_term: int, use_spot: bool, roadmap: bool) -> list[dict]:
    """Size the pool to the replica plan: reserve ``reserve_share`` of it (leases), rent the rest;
    move a model to a newer GPU generation when it serves tokens much cheaper there."""
    from engine.inference import base_gpus, replica_size

    st = obs.state
    inf = st.inference
    plan = _replica_plan(obs)
    moves = _migrations(obs)
    placement: dict[str, tuple[str, int]] = {}  # model -> (gen, GPUs per replica) after the moves
    for d in inf.deployments:
        if d.model in moves:
            gen = moves[d.model]
            placement[d.model] = (gen, replica_size(d.model, gen, d.precision, inf.stack(), d.tpot_ms))
        else:
            placement[d.model] = (d.gen, d.gpus_per_replica)
    by_gen: dict[str, int] = {g: 0 for g in set(inf.on_demand) | set(inf.spot)}
    for d in inf.deployments:
        gen, n = placement[d.model]
        by_gen[gen] = by_gen.get(gen, 0) + plan[d.model] * n
    leases: list[dict] = []
    rents: list[dict] = []
    for gen, want in sorted(by_gen.items()):
        quote = obs.market.gpus[gen]
        base = base_gpus(st, gen)  # leases ending now are already out of it
        reserve_target = int(want * reserve_share) // 8 * 8
        if reserve_target - base >= 8 and quote.available:
            n = min(reserve_target - base, 4 * quote.allocation_limit)
            leases.append({"kind": "lease_gpus", "gen": gen, "count": n, "term_quarters": reserve_term})
            base += n
        flex = max(0, want - base) if quote.available else 0
        spot = flex // 3 if use_spot else 0
        rents.append({"kind": "rent_gpus", "gen": gen, "on_demand": flex - spot, "spot": spot})
    # replicas come down before the flex layer shrinks under them, and go up after it grows
    downs = [{"kind": "scale_model", "model": d.model, "replicas": plan[d.model]} for d in inf.deployments
             if d.model not in moves and plan[d.model] < d.replicas]
    actions = leases + [{"kind": "retire_model", "model": m} for m in sorted(moves)] + downs + rents
    for d in inf.deployments:
        if d.model in moves:
            actions.append({"kind": "deploy_model", "model": d.model, "gen": moves[d.model], "precision": d.precision,
                            "replicas": plan[d.model], "tpot_ms": d.tpot_ms})
        elif plan[d.model] > d.replicas:
            actions.append({"kind": "scale_model", "model": d.model, "replicas": plan[d.model]})
    if _cash_usd(obs) < 3 * _quarterly_cash_costs(obs):  # venture-funded: raise before the runway ends
        actions += [{"kind": "raise_equity", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in st.offers.equity]
    if roadmap:
        for tech in ROADMAP_ORDER:
            if tech not in inf.techniques:
                actions.append({"kind": "fund_technique", "technique": tech})
                break
    return actions


class Passive(Bot):
    name = "passive"

    def act(self, obs: Observation) -> list[dict]:
        return []


def _take_every_round(obs: Observation, actions: list[dict]) -> float:
    """Append every equity offer at its maximum to ``actions``; the dollars it brings."""
    offers = obs.state.offers.equity
    actions += [{"kind": "raise_equity", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in offers]
    return sum(o.max_cents for o in offers) / 100


class AllIn(Bot):
    name = "all-in"

    def act(self, obs: Observation) -> list[dict]:
        if obs.state.archetype == "inference":  # reserve everything, long-term
            return _inference_actions(obs, reserve_share=1.0, reserve_term=12, use_spot=False, roadmap=True)
        st = obs.state
        reserve = 2 * _quarterly_cash_costs(obs)
        actions: list[dict] = _covenant_care(obs, reserve)
        drawable = [o for o in st.offers.loans if not o.alternative_to]  # an offer made instead of another is not drawn with it
        for offer in ([] if actions else drawable):
            actions.append({"kind": "take_loan", "offer_id": offer.id, "amount_usd": offer.max_cents // 100})
        cash = _cash_usd(obs) + sum(o.max_cents for o in drawable) / 100 - sum(a.get("amount_usd", 0) for a in actions if a["kind"] == "repay_loan")
        if cash < 3 * _quarterly_cash_costs(obs):
            cash += _take_every_round(obs, actions)
        signed = _sign_offers(obs, only_ig=False)
        actions += signed
        gen = _best_gen(obs)
        if gen:
            # commit long-term: spare dollars into the GPUs that demand will use
            actions += _buy_for_demand(obs, signed, cash - reserve)
            if obs.quarter % 6 == 2 and cash - reserve > 150_000_000:
                actions.append({"kind": "build_site", "mw": 20, "power_source": "stranded-gas"})
        return actions


class Flex(Bot):
    name = "flex"

    def act(self, obs: Observation) -> list[dict]:
        if obs.state.archetype == "inference":  # on-demand and spot only
            return _inference_actions(obs, reserve_share=0.0, reserve_term=4, use_spot=True, roadmap=True)
        st = obs.state
        actions: list[dict] = _covenant_care(obs, 2 * _quarterly_cash_costs(obs))
        for gen, quote in obs.market.gpus.items():
            if not quote.available:
                continue
            gap = int(_demand_to_cover(obs, gen) * _growth(obs) - _rentable_gpus(obs, gen)) // 8 * 8
            if gap >= 8 and _lease_pays(obs, gen):
                actions.append({"kind": "lease_gpus", "gen": gen, "count": min(gap, 4 * quote.allocation_limit), "term_quarters": 4})
        if _cash_usd(obs) < 2 * _quarterly_cash_costs(obs):
            actions += [{"kind": "raise_equity", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in st.offers.equity]
        return actions


class Barbell(Bot):
    name = "barbell"
    roadmap = True  # adopt the KB §17 optimization roadmap (a test switches it off)

    def held_back(self, obs: Observation) -> dict[str, int]:
        """GPUs per generation kept out of new contracts (a subclass serving tokens keeps its own)."""
        return {}

    def act(self, obs: Observation) -> list[dict]:
        if obs.state.archetype == "inference":  # reserved base for the steady load, on-demand for peaks
            return _inference_actions(obs, reserve_share=0.75, reserve_term=4, use_spot=False, roadmap=self.roadmap)
        st = obs.state
        reserve = 2 * _quarterly_cash_costs(obs)
        actions: list[dict] = _covenant_care(obs, reserve)
        cash = _cash_usd(obs) - sum(a["amount_usd"] for a in actions)
        # own the base: sign investment-grade contracts we can serve...
        signed = _sign_offers(obs, only_ig=True, held_back=self.held_back(obs))
        actions += signed
        signed_ids = {a["offer_id"] for a in signed}
        # ...and buy the GPUs that the contracts we could not serve would need, financed by cheap debt
        unmet: dict[str, int] = {}
        for offer in st.offers.contracts:
            if offer.id not in signed_ids and offer.grade in ("AA", "A", "BBB") and obs.market.gpus[offer.gen].available:
                unmet[offer.gen] = unmet.get(offer.gen, 0) + offer.gpus
        if unmet and not actions:
            for offer in st.offers.loans:
                if offer.kind in ("term", "project"):
                    amount = offer.max_cents // 100 // 2
                    actions.append({"kind": "take_loan", "offer_id": offer.id, "amount_usd": amount})
                    cash += amount
        for gen, want in sorted(unmet.items()):
            on_order = sum(l.count for l in st.lots if l.status == "on_order" and l.gen == gen)
            buys = _buy(obs, gen, want - on_order, cash - reserve)
            cash -= sum(a.get("count", 0) for a in buys) * obs.market.gpus[gen].list_price_usd * 1.15
            actions += buys
        # rent the flex layer for on-demand peaks
        for g, quote in obs.market.gpus.items():
            if not quote.available:
                continue
            gap = int(_demand_to_cover(obs, g) - _rentable_gpus(obs, g)) // 8 * 8
            if gap >= 8 and _lease_pays(obs, g):
                actions.append({"kind": "lease_gpus", "gen": g, "count": min(gap, 4 * quote.allocation_limit), "term_quarters": 4})
        return actions


# ---------------------------------------------------------------- a neocloud serving tokens (KB §2)

NEOCLOUD_CATALOG = (("llama-3.1-70b", 0.6), ("llama-3.1-8b", 0.4))  # models and their share of the launch GPUs
LAUNCH_SHARE = 0.08  # a pilot: the share of the rentable fleet a launch moves to managed inference
LAUNCH_PRICE_VS_MARKET = -0.05  # a newcomer's discount to win its first customers (KB §1)
LAUNCH_MIN_GPUS = 256  # below this a catalog is all long tail: replicas idle (KB §2)
TARGET_UTILIZATION = 0.7  # replicas busy this share of the hours: multiplexed fleets run 70-90% (KB §2)
LAUNCH_RUNWAY_QUARTERS = 4  # R&D and a launch only with a year of costs in the bank


def _precision(obs: Observation, gen: str) -> str:
    from engine.hardware import GPUS

    return "fp8" if obs.state.inference.techniques.get("fp8") == 0 and GPUS[gen].fp8_tflops else "bf16"


def _tokens_earn_less(obs: Observation, quarters: int = 2) -> bool:
    """Managed inference earned less per GPU-hour than rentals in each of the last ``quarters``
    (after a launch quarter to ramp): the KB §2 comparison a neocloud makes to keep the line."""
    rows = [r.kpis for r in obs.reports[-quarters:]]
    if len(rows) < quarters or len([r for r in obs.reports if r.inference is not None and r.inference.models]) <= quarters:
        return False
    return all(k.revenue_per_gpu_hour_inference is not None and k.revenue_per_gpu_hour_rental is not None
               and k.revenue_per_gpu_hour_inference < k.revenue_per_gpu_hour_rental for k in rows)


def _neocloud_inference(obs: Observation, signed: dict[str, int]) -> list[dict]:
    """Managed inference on a neocloud's own GPUs: launch a two-model catalog on the generation with
    the most rentable GPUs, then size the dedicated pool to last quarter's p95 replica need (grown),
    never beyond the GPUs free of contracts (``signed`` this quarter included); move to FP8 once
    the project is done (KB §17); give the GPUs back to rental when tokens earn less per GPU-hour.
    Launches only once a quarter is measured, with a year of costs in the bank and a healthy DSCR."""
    from engine.base import Rejected
    from engine.inference import replica_size

    st = obs.state
    inf = st.inference
    actions: list[dict] = []
    runway = _cash_usd(obs) / max(1.0, _quarterly_cash_costs(obs))
    if runway > LAUNCH_RUNWAY_QUARTERS and inf.deployments:
        for tech in ROADMAP_ORDER:  # one project at a time: each makes every replica serve more
            if tech not in inf.techniques:
                actions.append({"kind": "fund_technique", "technique": tech})
                break
    free = {g: active_gpus(st, g, st.quarter) - committed_gpus(st, g, st.quarter) - signed.get(g, 0) for g in obs.market.gpus}
    if inf.deployments and _tokens_earn_less(obs):  # KB §2: the GPUs go back to renting by the hour
        return ([{"kind": "retire_model", "model": d.model} for d in inf.deployments]
                + [{"kind": "dedicate_gpus", "gen": g, "count": 0} for g in sorted(inf.dedicated) if inf.dedicated[g]])
    if not inf.deployments:
        launched_before = any(r.inference is not None and r.inference.models for r in obs.reports)
        last = obs.reports[-1].kpis if obs.reports else None
        healthy = st.covenant in ("none", "ok") and (last is None or last.dscr is None or last.dscr > last.dscr_lockup + 0.5)
        gen = max(sorted(free), key=lambda g: free[g] - inf.dedicated.get(g, 0), default=None)
        if launched_before or not healthy or not obs.reports or gen is None or free[gen] < LAUNCH_MIN_GPUS or runway <= LAUNCH_RUNWAY_QUARTERS:
            return actions
        budget = int(free[gen] * LAUNCH_SHARE) // 8 * 8
        precision = _precision(obs, gen)
        deploys, used = [], 0
        for model, share in NEOCLOUD_CATALOG:
            try:
                n = replica_size(model, gen, precision, inf.stack(), 60.0)
            except Rejected:
                continue
            replicas = int(budget * share) // n
            if replicas > 0:
                deploys.append({"kind": "deploy_model", "model": model, "gen": gen, "precision": precision, "replicas": replicas, "tpot_ms": 60.0})
                deploys.append({"kind": "set_token_price", "model": model, "vs_market": LAUNCH_PRICE_VS_MARKET})
                used += replicas * n
        if not deploys:
            return actions
        dedicated = -(-used // 8) * 8
        return actions + [{"kind": "dedicate_gpus", "gen": gen, "count": dedicated}] + deploys
    plan = _replica_plan(obs)
    k = obs.reports[-1].kpis
    if (k.revenue_per_gpu_hour_inference or 0.0) < (k.revenue_per_gpu_hour_rental or 0.0):  # no growth until tokens pay
        plan = {d.model: min(plan[d.model], d.replicas) for d in inf.deployments}
    busy = {m.model: m.utilization for m in (obs.reports[-1].inference.models if obs.reports[-1].inference else [])}
    for d in inf.deployments:  # grow at most 2x a quarter; trim replicas that idle (each one is paid for, KB §2)
        plan[d.model] = min(plan[d.model], 2 * d.replicas)
        if busy.get(d.model, 1.0) < TARGET_UTILIZATION - 0.1:
            plan[d.model] = min(plan[d.model], max(1, -(-int(d.replicas * busy[d.model] * 100) // int(TARGET_UTILIZATION * 100))))
    redeploy = [d for d in inf.deployments if d.precision == "bf16" and _precision(obs, d.gen) == "fp8"]
    size = {d.model: d.gpus_per_replica for d in inf.deployments}
    for d in list(redeploy):
        try:
            size[d.model] = replica_size(d.model, d.gen, "fp8", inf.stack(), d.tpot_ms)
        except Rejected:
            redeploy.remove(d)
    need: dict[str, int] = {}
    for d in inf.deployments:
        need[d.gen] = need.get(d.gen, 0) + plan[d.model] * size[d.model]
    for gen, want in need.items():  # more than the fleet can spare: scale every model down alike
        if want > free.get(gen, 0):
            f = free.get(gen, 0) / want
            for d in inf.deployments:
                if d.gen == gen:
                    plan[d.model] = max(1, int(plan[d.model] * f))
    target = {g: 0 for g in inf.dedicated}
    for d in inf.deployments:
        target[d.gen] = target.get(d.gen, 0) + plan[d.model] * size[d.model]
    target = {g: min(-(-n // 8) * 8, max(0, free.get(g, 0))) for g, n in target.items()}
    downs, ups = [], []
    redeployed = {d.model for d in redeploy}
    for d in inf.deployments:
        if d.model in redeployed:
            downs.append({"kind": "retire_model", "model": d.model})
            ups.append({"kind": "deploy_model", "model": d.model, "gen": d.gen, "precision": "fp8", "replicas": plan[d.model], "tpot_ms": d.tpot_ms})
            ups.append({"kind": "set_token_price", "model": d.model, "vs_market": d.price_vs_market})
        elif plan[d.model] < d.replicas:
            downs.append({"kind": "scale_model", "model": d.model, "replicas": plan[d.model]})
        elif plan[d.model] > d.replicas:
            ups.append({"kind": "scale_model", "model": d.model, "replicas": plan[d.model]})
    dedicate = [{"kind": "dedicate_gpus", "gen": g, "count": n} for g, n in sorted(target.items()) if n != inf.dedicated.get(g, 0)]
    return actions + downs + dedicate + ups


class InferenceNeocloud(Barbell):
    """A neocloud that moves part of its fleet to managed inference (KB §2 "The Strategic Tension"):
    tokens earn more per GPU-hour than rentals; the rest of the business plays like ``barbell``."""

    name = "inference-neocloud"

    def held_back(self, obs: Observation) -> dict[str, int]:
        """The GPUs replicas occupy now: contracts come first, the catalog gets what they leave."""
        from engine.inference import own_gpus_serving_tokens

        return {g: own_gpus_serving_tokens(obs.state, g) for g in obs.market.gpus}

    def act(self, obs: Observation) -> list[dict]:
        if obs.state.archetype == "inference":  # already a platform: reserved base, on-demand peaks
            return _inference_actions(obs, reserve_share=0.75, reserve_term=4, use_spot=False, roadmap=True)
        rental = super().act(obs)
        signed: dict[str, int] = {}
        offers = {o.id: o for o in obs.state.offers.contracts}
        for a in rental:
            if a["kind"] == "sign_contract":
                signed[offers[a["offer_id"]].gen] = signed.get(offers[a["offer_id"]].gen, 0) + offers[a["offer_id"]].gpus
        return rental + _neocloud_inference(obs, signed)


def _debt_service_usd(obs: Observation) -> float:
    """Next quarter's scheduled principal plus interest at today's rates (KB §4)."""
    out = 0.0
    for loan in obs.state.loans:
        principal = getattr(loan, "scheduled_principal_cents", loan.balance_cents // max(1, loan.tenor_quarters))
        rate = obs.market.sofr + loan.spread_bps / 10_000
        out += (min(principal, loan.balance_cents) + loan.balance_cents * rate / 4) / 100
    return out


class MaxLeverage(Bot):
    """Draws every loan offer at its maximum and puts the money into GPUs (KB §4: leverage magnifies
    both ways). It keeps two quarters of costs and its next debt service in cash, prepays when the
    covenant bites, and signs every contract it can serve: the debt has to be paid from something."""

    name = "max-leverage"

    def act(self, obs: Observation) -> list[dict]:
        st = obs.state
        draws = [{"kind": "take_loan", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in st.offers.loans if not o.alternative_to]  # an offer made instead of another is not drawn with it
        reserve = 2 * _quarterly_cash_costs(obs) + _debt_service_usd(obs)
        actions = _covenant_care(obs, reserve) if st.covenant in ("lock-up", "default") else []
        if not actions:
            actions = draws
        if st.archetype == "inference":
            return actions + _inference_actions(obs, reserve_share=1.0, reserve_term=12, use_spot=False, roadmap=True)
        cash = _cash_usd(obs) + sum(a["amount_usd"] for a in actions if a["kind"] == "take_loan") - sum(
            a["amount_usd"] for a in actions if a["kind"] == "repay_loan")
        if cash < reserve:  # out of runway: equity keeps the lenders paid
            cash += _take_every_round(obs, actions)
        actions += _sign_offers(obs, only_ig=False)
        gen = _best_gen(obs)
        if gen:
            actions += _buy(obs, gen, obs.market.gpus[gen].allocation_limit, cash - reserve)
        return actions


class Speculator(Bot):
    """Bets on the newest chip: leases only the newest generation, on the shortest term, for the
    demand it sees for it (measured, or estimated from the offer book), and signs no contract. Old
    leases run off; no purchase, no debt (KB §20: the flex layer, with nothing underneath)."""

    name = "speculator"

    def act(self, obs: Observation) -> list[dict]:
        st = obs.state
        if st.archetype == "inference":  # the newest chips, rented on demand only
            return _inference_actions(obs, reserve_share=0.0, reserve_term=4, use_spot=False, roadmap=True)
        actions: list[dict] = _covenant_care(obs, 2 * _quarterly_cash_costs(obs))
        gen = _newest_gen(obs)
        if gen is not None:
            quote = obs.market.gpus[gen]
            gap = int(_demand_gpus(obs, gen) * _growth(obs) - _rentable_gpus(obs, gen)) // 8 * 8
            affordable = int(max(0.0, _cash_usd(obs) - _quarterly_cash_costs(obs)) // (quote.lease_usd_per_hour * TICKS_PER_QUARTER * 1.1)) // 8 * 8
            n = min(gap, 4 * quote.allocation_limit, affordable)
            if n >= 8:
                actions.append({"kind": "lease_gpus", "gen": gen, "count": n, "term_quarters": 4})
        if _cash_usd(obs) < 2 * _quarterly_cash_costs(obs):
            actions += [{"kind": "raise_equity", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in st.offers.equity]
        return actions


UNDERCUT = -0.20  # KB §1 "pricing as a weapon": a price warrior lists 15-25% under the market


class Undercutter(Bot):
    """Competes on price alone (KB §1 "pricing as a weapon"): lists every generation it rents (or
    every model it serves) ``UNDERCUT`` under the market, signs no contract, and adds the capacity
    the cheap price wins it: GPUs bought with the cash above two quarters of costs (no debt), then
    one-year leases when the lease still pays at its own, lower price. It raises equity when its
    runway runs short, as a venture-funded price war does."""

    name = "undercutter"

    def act(self, obs: Observation) -> list[dict]:
        from engine.actions import lease_rate

        st = obs.state
        if st.archetype == "inference":
            cuts = [{"kind": "set_token_price", "model": d.model, "vs_market": UNDERCUT}
                    for d in st.inference.deployments if d.price_vs_market != UNDERCUT]
            return cuts + _inference_actions(obs, reserve_share=0.5, reserve_term=4, use_spot=False, roadmap=True)
        reserve = 2 * _quarterly_cash_costs(obs)
        actions: list[dict] = _covenant_care(obs, reserve)
        cash = _cash_usd(obs) - sum(a.get("amount_usd", 0) for a in actions if a["kind"] == "repay_loan") - reserve
        for gen, quote in sorted(obs.market.gpus.items()):
            if not quote.available:
                continue
            on_order = sum(l.count for l in st.lots if l.status == "on_order" and l.gen == gen)
            held = active_gpus(st, gen, st.quarter) + on_order > 0
            gap = int(_demand_to_cover(obs, gen) * _growth(obs) - _rentable_gpus(obs, gen) - on_order) // 8 * 8
            if gap >= 8 and cash > 0 and gen == _best_gen(obs):
                buys = _buy(obs, gen, gap, cash)
                bought = sum(a.get("count", 0) for a in buys)
                cash -= bought * quote.list_price_usd * (1 + obs.scenario.rules.networking_share)
                gap -= bought
                actions += buys
                held = held or bought > 0
            our_rate = quote.on_demand_usd_per_hour * (1 + UNDERCUT)
            if gap >= 8 and our_rate * FLEX_UTILIZATION > lease_rate(obs.market, gen, 4) + obs.scenario.rules.ops_usd_per_gpu_hour:
                actions.append({"kind": "lease_gpus", "gen": gen, "count": min(gap, 4 * quote.allocation_limit), "term_quarters": 4})
                held = True
            if held and st.price_vs_market.get(gen, 0.0) != UNDERCUT:
                actions.append({"kind": "set_price", "gen": gen, "vs_market": UNDERCUT})
        if _cash_usd(obs) < reserve:
            _take_every_round(obs, actions)
        return actions


BOTS: dict[str, type[Bot]] = {b.name: b for b in (Passive, AllIn, Flex, Barbell, InferenceNeocloud, MaxLeverage, Speculator, Undercutter)}


def bot_names(include_exploits: bool = False) -> list[str]:
    """Names ``make_bot`` accepts: the built-in bots, then (on request) the exploit strategies."""
    from engine.exploits import EXPLOITS

    return list(BOTS) + (list(EXPLOITS) if include_exploits else [])


def make_bot(name: str) -> Bot:
    """A built-in bot or an exploit strategy (``engine.exploits``) by name."""
    from engine.exploits import EXPLOITS

    if name in BOTS:
        return BOTS[name]()
    if name in EXPLOITS:
        return EXPLOITS[name]()
    raise KeyError(f"unknown bot {name!r}; valid: {', '.join(bot_names(include_exploits=True))}")


def run_bot(game: Game, bot: Bot, quarters: int | None = None) -> Game:
    """Play ``game`` with ``bot`` until it ends or ``quarters`` more have been played."""
    n = 0
    while not game.over and (quarters is None or n < quarters):
        game.play(bot.act(game.observation()))
        n += 1
    return game
