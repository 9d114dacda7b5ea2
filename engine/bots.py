"""Built-in strategies. A bot sees an ``Observation`` (what a player sees) and returns actions.

- ``passive``: does nothing; the baseline every lesson is measured against.
- ``all-in``: commits long-term: buys GPUs and builds for forecast demand, borrows all it can,
  signs every contract it can serve.
- ``flex``: owns nothing new: leases GPUs a year at a time and sells on-demand only.
- ``barbell``: owns what contracts cover (financed with debt), leases the flex layer (KB §20).

Bot writers: subclass ``Bot`` (or pass any object with ``name`` and ``act(obs)``), and run it
with ``tycoon sim`` or ``engine.bots.run_bot``: the same runner verifies run files.
"""

from __future__ import annotations

from engine.actions import active_gpus, committed_gpus, gpu_kw, site_load_kw
from engine.calendar import TICKS_PER_QUARTER
from engine.game import Game, Observation


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


def _demand_gpus(obs: Observation, gen: str) -> float:
    """Average concurrent GPUs wanted last quarter (served plus turned away), excluding contracts."""
    if not obs.reports:
        return 0.0
    for g in obs.reports[-1].kpis.by_gen:
        if g.gen == gen:
            hours = g.served_gpu_hours["on_demand"] + g.served_gpu_hours["batch"] + g.lost_gpu_hours
            return hours / TICKS_PER_QUARTER
    return 0.0


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


def _sign_offers(obs: Observation, only_ig: bool) -> list[dict]:
    st = obs.state
    out, used = [], {}
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


def _covenant_care(obs: Observation, reserve_usd: float) -> list[dict]:
    """Prepay debt from spare cash when the covenant is breached or DSCR runs thin (KB §4)."""
    st = obs.state
    last = obs.reports[-1].kpis if obs.reports else None
    thin = last is not None and last.dscr is not None and last.dscr < last.dscr_lockup + 0.2
    if st.covenant not in ("lock-up", "default") and not thin:
        return []
    spare = _cash_usd(obs) - reserve_usd
    out = []
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
    actions = leases + [{"kind": "retire_model", "model": m} for m in sorted(moves)] + rents
    for d in inf.deployments:
        if d.model in moves:
            actions.append({"kind": "deploy_model", "model": d.model, "gen": moves[d.model], "precision": d.precision,
                            "replicas": plan[d.model], "tpot_ms": d.tpot_ms})
        elif plan[d.model] != d.replicas:
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
            for offer in st.offers.equity:
                actions.append({"kind": "raise_equity", "offer_id": offer.id, "amount_usd": offer.max_cents // 100})
                cash += offer.max_cents / 100
        actions += _sign_offers(obs, only_ig=False)
        gen = _best_gen(obs)
        if gen:
            # commit long-term: put every spare dollar into the best GPUs a year of growth could use
            actions += _buy(obs, gen, obs.market.gpus[gen].allocation_limit, cash - reserve)
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
            demand = _demand_gpus(obs, gen)
            have = active_gpus(st, gen, st.quarter) - committed_gpus(st, gen, st.quarter)
            gap = int(demand * _growth(obs) - have) // 8 * 8
            if gap >= 8:
                actions.append({"kind": "lease_gpus", "gen": gen, "count": min(gap, 4 * quote.allocation_limit), "term_quarters": 4})
        if _cash_usd(obs) < 2 * _quarterly_cash_costs(obs):
            actions += [{"kind": "raise_equity", "offer_id": o.id, "amount_usd": o.max_cents // 100} for o in st.offers.equity]
        return actions


class Barbell(Bot):
    name = "barbell"
    roadmap = True  # adopt the KB §17 optimization roadmap (a test switches it off)

    def act(self, obs: Observation) -> list[dict]:
        if obs.state.archetype == "inference":  # reserved base for the steady load, on-demand for peaks
            return _inference_actions(obs, reserve_share=0.75, reserve_term=4, use_spot=False, roadmap=self.roadmap)
        st = obs.state
        reserve = 2 * _quarterly_cash_costs(obs)
        actions: list[dict] = _covenant_care(obs, reserve)
        cash = _cash_usd(obs) - sum(a["amount_usd"] for a in actions)
        # own the base: sign investment-grade contracts we can serve...
        signed = _sign_offers(obs, only_ig=True)
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
            gap = int(_demand_gpus(obs, g) - (active_gpus(st, g, st.quarter) - committed_gpus(st, g, st.quarter))) // 8 * 8
            if gap >= 8:
                actions.append({"kind": "lease_gpus", "gen": g, "count": min(gap, 4 * quote.allocation_limit), "term_quarters": 4})
        return actions


BOTS: dict[str, type[Bot]] = {b.name: b for b in (Passive, AllIn, Flex, Barbell)}


def make_bot(name: str) -> Bot:
    try:
        return BOTS[name]()
    except KeyError:
        raise KeyError(f"unknown bot {name!r}; valid: {', '.join(BOTS)}") from None


def run_bot(game: Game, bot: Bot, quarters: int | None = None) -> Game:
    """Play ``game`` with ``bot`` until it ends or ``quarters`` more have been played."""
    n = 0
    while not game.over and (quarters is None or n < quarters):
        game.play(bot.act(game.observation()))
        n += 1
    return game
