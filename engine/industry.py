"""Rivals in one market: several companies over one world, the market cleared among them (issue 15).

Every company plays the single-player quarter (engine.step): ``open_quarter`` applies its actions
and finds its rental fleet's capacity, ``clear`` shares each generation's demand among the
companies that sell it, ``close_quarter`` serves that share and keeps the books. A company alone
is cleared exactly as ``advance`` would (the single-player path is the one-company industry).

The rules players can read (KB §1, "Customer segmentation" and "Strategic pricing as a weapon"):

* **Market price.** A company prices against the hyperscalers and the long tail (the world's
  market price, weighted by the GPUs the market demands) blended with its rivals' list prices,
  weighted by the GPUs they offer (``reference_price``): an undercutting rival moves the market.
* **Demand.** Each company's customer base moves toward its price against that market price, as
  alone (engine.demand). The segment's demand for the industry is what those customer bases draw
  from the world, one market per company (classroom industries start equal: N companies face N
  times the single-player market); it is then shared in proportion to customer base times
  attraction (``attraction``: SLA record and contract relationships), so a cheaper, more reliable
  company takes customers from the others.
* **Spill.** What a company has no room for (on-demand customers turned away at a busy hour)
  goes to the rivals with room left that hour, in proportion to that room and to the share of
  them willing to pay the rival's price against the rest of the market (``spill_acceptance``);
  what nobody serves is lost (``spill``). Batch work queues at the company that won it (engine.demand.batch_queue).
* **Contracts.** An offer signed by several companies in the same quarter goes to one: the best
  bid (``BID_RULE``); the others' signatures are refused. An anchor tenant's offer (``is_anchor``:
  large, long, investment grade) goes to the bidder best able to deliver it (``ANCHOR_RULE``,
  ``financing_strength``): a 15-year tenant picks the provider that can fund the build.

Symmetric and order-free: companies are handled in name order, shares split ties equally, and
every sum runs over that canonical order, so two identical companies with identical plans get
identical results whatever order they are listed in. Pure and deterministic: no I/O, and the
only random draw (a contract tie) is a hash of the seed, quarter, offer and company name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from engine import inference
from engine.actions import active_gpus, committed_gpus
from engine.calendar import TICKS_PER_QUARTER
from engine.demand import customer_base_step, demand_share, price_response
from engine.game import Observation
from engine.report import News, QuarterReport
from engine.scenario import PLAYER, Scenario
from engine.state import GameState, copy_state
from engine.step import MAX_SHARE_GAIN, OpenQuarter, close_quarter, new_game, open_quarter
from engine.world import World, build_world

T = TICKS_PER_QUARTER
RELATIONSHIP_BONUS = 0.10  # KB §1: enterprise buyers favor the provider already serving them under contract
MIN_RELIABILITY = 0.5  # a company that missed every contracted hour still keeps half its pull (customers are sticky)
BID_RULE = (
    "A contract offer signed by several companies goes to the best bid: the best SLA record last quarter, "
    "then the most GPUs of the generation free to serve it, then the lowest list price for that generation; "
    "a remaining tie is broken by a hash of the seed, the quarter, the offer and the company's name."
)
ANCHOR_MIN_GPUS = 1024  # KB §18 "anchor tenant": a block that fills a campus hall, not a cluster
ANCHOR_MIN_QUARTERS = 12  # three years or more: long enough for project finance to lend against (KB §4)
INVESTMENT_GRADE = ("AA", "A", "BBB")
PRICE_WAR_HEADLINE = 0.10  # a rival listing more than 10% under the market is news to every other company (KB §1)
ANCHOR_RULE = (
    "An anchor offer (investment grade, at least 1,024 GPUs for at least 12 quarters) goes to the bidder best able "
    "to deliver it: the GPUs of its generation it could put behind the contract (free now or on order, plus what its "
    "cash and its lenders' offers could buy at list price), counted up to the offer's size; then the deepest funding "
    "(cash plus loan offers); then the best SLA record and the lowest list price; a remaining tie by the same hash."
)


# ------------------------------------------------------------------------------ the rules


def reference_price(world_price: float, world_gpus: float, rivals: list[tuple[float, float]]) -> float:
    """The market price one company prices against (KB §1 "pricing as a weapon"): the world's
    market price (the hyperscalers and the long tail), weighted by the GPUs the market demands,
    blended with each rival's list price weighted by the GPUs it offers. No rivals: the world's."""
    if not rivals:
        return world_price
    weight = world_gpus + sum(g for _, g in rivals)
    if weight <= 0:
        return world_price
    return (world_price * world_gpus + sum(p * g for p, g in rivals)) / weight


def reliability(report: QuarterReport | None) -> float:
    """The SLA record: 1 minus the share of contracted GPU-hours missed last quarter (floored)."""
    if report is None:
        return 1.0
    owed = sum(g.contracted for g in report.kpis.by_gen) * T
    if owed <= 0:
        return 1.0
    served = sum(g.served_gpu_hours.get("reserved", 0.0) for g in report.kpis.by_gen)
    return max(MIN_RELIABILITY, min(1.0, served / owed))


def attraction(sla: float, has_contract: bool) -> float:
    """How strongly a segment's customers lean to a company at equal prices: its SLA record,
    and a relationship bonus when it already serves customers of that generation under contract."""
    return sla * (1 + RELATIONSHIP_BONUS if has_contract else 1.0)


def spill_acceptance(price: float, market_price: float, elasticities: list[tuple[float, float]]) -> float:
    """Share of customers turned away by a rival who take a company's room (KB §1 "pricing as a
    weapon", customer segmentation): they can still buy from the rest of the market (the
    hyperscalers and the long tail) at its price, so they take ours as fully as our customer base
    would at that price, never more than all of them. ``elasticities``: (weight, elasticity) of
    the segments turned away. Worked example: +50% over the market, elasticity 2.0 -> 1.5^-5 = 13%."""
    weight = sum(w for w, _ in elasticities)
    if weight <= 0:
        return 1.0
    return sum(w * min(1.0, price_response(price, market_price, e)) for w, e in elasticities) / weight


def spill(pulls: list[np.ndarray], free: list[np.ndarray], accept: list[float] | None = None) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Per tick: each company serves its own on-demand customers up to its free capacity; the
    excess of all goes to the companies with room left, in proportion to that room times the share
    of those customers willing to pay its price (``accept``, ``spill_acceptance``; all by default);
    the rest is lost. Returns (own served, spill served, lost) with own + spill + lost = the pulls' sum."""
    own = [np.minimum(p, f) for p, f in zip(pulls, free)]
    excess = np.zeros(T)
    room_total = np.zeros(T)
    rooms = []
    for i, (p, o, f) in enumerate(zip(pulls, own, free)):
        excess += p - o
        room = (f - o) * (1.0 if accept is None else accept[i])  # an overpriced company's room is not where they go
        rooms.append(room)
        room_total += room
    taken = np.minimum(excess, room_total)
    ratio = np.divide(taken, room_total, out=np.zeros(T), where=room_total > 0)
    spilled = [room * ratio for room in rooms]
    return own, spilled, excess - taken


@dataclass
class SegmentClearing:
    """One generation and latency-sensitive segment's tick arrays: the world's demand (what the
    companies' customer bases drew), what each company served of it, and what was lost."""

    demand: np.ndarray
    served: dict[str, np.ndarray]
    lost: np.ndarray


@dataclass
class Clearing:
    """A quarter's market among companies: per company and generation the allocation
    ``close_quarter`` serves, the reference prices, and the latency-sensitive segments' balance."""

    allocations: dict[str, dict[str, dict]] = field(default_factory=dict)  # company -> gen -> allocation
    reference: dict[str, dict[str, float]] = field(default_factory=dict)  # company -> gen -> reference price
    segments: dict[tuple[str, str], SegmentClearing] = field(default_factory=dict)  # (gen, segment) -> balance


def clear(world: World, opens: dict[str, OpenQuarter], sla: dict[str, float], balance: bool = False) -> Clearing:
    """Share each generation's demand among the companies selling it (module docstring rules).
    ``balance``: also attribute the served and lost hours to segments (an audit: tests, reports)."""
    names = sorted(opens)
    q = opens[names[0]].state.quarter
    wq = world.quarter(q)
    demand = world.demand(q)
    segments = {p.id: p for p in world.params.segments}
    out = Clearing(allocations={n: {} for n in names}, reference={n: {} for n in names})
    for gen in sorted({g for n in names for g in opens[n].fleet}):
        market = wq.gpus[gen]
        sellers = [n for n in names if gen in opens[n].fleet]
        fleet = {n: opens[n].fleet[gen] for n in sellers}
        world_gpus = float(sum(arr.mean() for arr in demand.by_segment.values())) * market.demand_mix
        offered = {n: float(fleet[n]["free"].mean()) for n in sellers}
        pull = {n: float(attraction(sla.get(n, 1.0), fleet[n]["committed"] > 0)) for n in sellers}
        od = {n: np.zeros(T) for n in sellers}
        arrivals = {n: np.zeros(T) for n in sellers}
        seg_pulls: dict[str, dict[str, np.ndarray]] = {}
        for n in sellers:
            others = [(fleet[m]["price"], offered[m]) for m in sellers if m != n]
            out.reference[n][gen] = reference_price(market.on_demand_usd_per_hour, world_gpus, others)
        for seg_id, arr in demand.by_segment.items():
            seg = segments[seg_id]
            key = f"{gen}/{seg_id}"
            share = {}
            for n in sellers:
                target = demand_share(fleet[n]["price"], out.reference[n][gen], seg.elasticity, MAX_SHARE_GAIN)
                share[n] = customer_base_step(opens[n].state.customer_base.get(key, 1.0), target, seg)  # customers move with a lag
                out.allocations[n].setdefault(gen, {"customer_base": {}})["customer_base"][seg_id] = round(share[n], 9)
            if len(sellers) == 1:
                factor = {sellers[0]: share[sellers[0]]}  # alone: exactly the single-player demand (engine.step._serve)
            else:
                drawn = sum(share[n] for n in sellers)
                weighted = sum(share[n] * pull[n] for n in sellers)
                factor = {n: drawn * share[n] * pull[n] / weighted if weighted > 0 else share[n] for n in sellers}
            for n in sellers:
                p = arr * (market.demand_mix * factor[n])
                if seg.latency_sensitive:
                    od[n] += p
                    seg_pulls.setdefault(seg_id, {})[n] = p
                else:
                    arrivals[n] += p
        turned_away = [(float(sum(p.mean() for p in seg_pulls[sid].values())), segments[sid].elasticity) for sid in sorted(seg_pulls)]
        accept = [spill_acceptance(fleet[n]["price"], market.on_demand_usd_per_hour, turned_away) for n in sellers]
        own, spilled, lost = spill([od[n] for n in sellers], [fleet[n]["free"] for n in sellers], accept)
        for i, n in enumerate(sellers):
            out.allocations[n][gen].update(od=od[n], arrivals=arrivals[n], spill_in=spilled[i])
        if balance:
            _segment_balance(out, gen, sellers, seg_pulls, od, own, spilled, lost)
    _token_references(opens, names, out)
    return out


def _token_references(opens: dict[str, OpenQuarter], names: list[str], out: Clearing) -> None:
    """Managed inference (KB §2): where rivals serve the same model, each company's token price is
    compared with the market's blended with theirs (``reference_price`` on price ratios to the
    market, the world weighted as one company of the sellers' average size, rivals by the GPUs
    their replicas hold). Each company serves its own customers; what it cannot serve is dropped."""
    offers: dict[str, dict[str, tuple[float, float]]] = {}
    for n in names:
        for d in opens[n].state.inference.deployments:
            if d.replicas > 0:
                offers.setdefault(d.model, {})[n] = (1 + d.price_vs_market, float(d.replicas * d.gpus_per_replica))
    for model, sellers in sorted(offers.items()):
        if len(sellers) < 2:
            continue
        world_weight = sum(g for _, g in sellers.values()) / len(sellers)
        for n in sorted(sellers):
            rivals = [sellers[m] for m in sorted(sellers) if m != n]
            out.allocations[n].setdefault("tokens", {})[model] = reference_price(1.0, world_weight, rivals)


def _segment_balance(out: Clearing, gen: str, sellers: list[str], seg_pulls: dict, od: dict, own: list, spilled: list, lost: np.ndarray) -> None:
    """Attribute each company's served on-demand hours to the segments they came from: its own
    customers pro rata to its segments' pulls, spilled ones and the lost pro rata to the excess."""
    excess_by_seg = {}
    for seg_id, pulls in seg_pulls.items():
        e = np.zeros(T)
        for i, n in enumerate(sellers):
            mix = np.divide(pulls[n], od[n], out=np.zeros(T), where=od[n] > 0)
            e += pulls[n] - own[i] * mix
        excess_by_seg[seg_id] = e
    excess = sum(excess_by_seg.values()) if excess_by_seg else np.zeros(T)
    for seg_id, pulls in seg_pulls.items():
        part = np.divide(excess_by_seg[seg_id], excess, out=np.zeros(T), where=excess > 0)
        served = {}
        for i, n in enumerate(sellers):
            mix = np.divide(pulls[n], od[n], out=np.zeros(T), where=od[n] > 0)
            served[n] = own[i] * mix + spilled[i] * part
        out.segments[(gen, seg_id)] = SegmentClearing(demand=sum(pulls[n] for n in sellers), served=served, lost=lost * part)


def price_war_headlines(world: World, opens: dict[str, OpenQuarter]) -> dict[str, list[News]]:
    """A "price war" headline for each company about every rival that rented GPU-hours this quarter
    more than ``PRICE_WAR_HEADLINE`` under the market (KB §1 "pricing as a weapon"): what the
    rival's public price list shows. Company name -> headlines (none when alone)."""
    names = sorted(opens)
    if len(names) < 2:
        return {n: [] for n in names}
    wq = world.quarter(opens[names[0]].state.quarter)
    cuts: dict[str, list[str]] = {}
    for m in names:
        for gen, f in sorted(opens[m].fleet.items()):
            market = wq.gpus[gen].on_demand_usd_per_hour
            if market > 0 and float(np.mean(f["free"])) > 0 and f["price"] < (1 - PRICE_WAR_HEADLINE) * market:
                cuts.setdefault(m, []).append(f"{gen.upper()} at ${f['price']:.2f}/h, {1 - f['price'] / market:.0%} under the market's ${market:.2f}")
    out = {}
    for n in names:
        out[n] = [News(title=f"Price war: {m} undercuts the market", kind="market", event="rival_price_war",
                       text="; ".join(cuts[m]) + ". Hourly customers compare you with its price; contracted ones stay (KB §1).")
                  for m in sorted(cuts) if m != n]
    return out


def _bid_key(seed: int, q: int, offer_id: str, name: str, state: GameState, sla: float, gen: str, price: float) -> tuple:
    free = active_gpus(state, gen, q) - committed_gpus(state, gen, q) - inference.own_gpus_serving_tokens(state, gen)
    tie = hashlib.sha256(f"{seed}:{q}:{offer_id}:{name}".encode()).hexdigest()
    return (-sla, -free, price, tie)


def is_anchor(offer) -> bool:
    """An anchor tenant's offer (KB §18, abilene): investment grade, large and long (``ANCHOR_RULE``)."""
    return offer.grade in INVESTMENT_GRADE and offer.gpus >= ANCHOR_MIN_GPUS and offer.term_quarters >= ANCHOR_MIN_QUARTERS


def funding_usd(state: GameState) -> float:
    """What a bidder could spend on GPUs now: its cash plus its lenders' offers this quarter (KB §4
    debt capacity, as engine.lenders sized it); offers made instead of another count once, the larger."""
    groups: dict[str, int] = {}
    for o in state.offers.loans:
        key = o.alternative_to or o.id
        groups[key] = max(groups.get(key, 0), o.max_cents)
    return max(0, state.cash_cents) / 100 + sum(groups.values()) / 100


def financing_strength(state: GameState, gen: str, q: int, unit_cost_usd: float) -> tuple[float, float]:
    """A bidder's ability to deliver GPUs of ``gen`` (``ANCHOR_RULE``): (GPUs it could put behind a
    contract: free in service or on order and uncommitted, plus what its funding buys at
    ``unit_cost_usd`` each; its funding in dollars)."""
    free = active_gpus(state, gen, q) - committed_gpus(state, gen, q) - inference.own_gpus_serving_tokens(state, gen)
    on_order = sum(l.count for l in state.lots if l.gen == gen and l.status == "on_order")
    funding = funding_usd(state)
    return max(0, free) + on_order + (funding / unit_cost_usd if unit_cost_usd > 0 else 0.0), funding


def _anchor_bid_key(seed: int, q: int, offer, name: str, state: GameState, sla: float, price: float, unit_cost_usd: float) -> tuple:
    deliverable, funding = financing_strength(state, offer.gen, q, unit_cost_usd)
    tie = hashlib.sha256(f"{seed}:{q}:{offer.id}:{name}".encode()).hexdigest()
    return (-min(float(offer.gpus), deliverable), -round(funding, 2), -sla, price, tie)


def award_contracts(seed: int, states: dict[str, GameState], plans: dict[str, list], sla: dict[str, float], world: World,
                    networking_share: float = 0.15) -> dict[str, str]:
    """Which company wins each contract offer signed by more than one (``BID_RULE``; an anchor's by
    ``ANCHOR_RULE``, GPUs priced at list plus ``networking_share``): offer id -> name."""
    signers: dict[str, list[str]] = {}
    for name in sorted(plans):
        for a in plans[name]:
            if isinstance(a, dict) and a.get("kind") == "sign_contract" and isinstance(a.get("offer_id"), str):
                if name not in signers.setdefault(a["offer_id"], []):
                    signers[a["offer_id"]].append(name)
    winners = {}
    for offer_id, names in sorted(signers.items()):
        if len(names) < 2:
            continue
        s0 = states[names[0]]
        offer = next((o for o in s0.offers.contracts if o.id == offer_id), None)
        if offer is None:
            continue
        wq = world.quarter(s0.quarter)
        quote = wq.gpus[offer.gen]
        price = {n: quote.on_demand_usd_per_hour * (1 + states[n].price_vs_market.get(offer.gen, 0.0)) for n in names}
        if is_anchor(offer):  # the tenant picks the provider that can fund the build (ANCHOR_RULE)
            unit = quote.list_price_usd * (1 + networking_share)
            winners[offer_id] = min(names, key=lambda n: _anchor_bid_key(seed, s0.quarter, offer, n, states[n], sla.get(n, 1.0), price[n], unit))
            continue
        winners[offer_id] = min(names, key=lambda n: _bid_key(
            seed, s0.quarter, offer_id, n, states[n], sla.get(n, 1.0), offer.gen, price[n],
        ))
    return winners


# ------------------------------------------------------------------------------ the industry


@dataclass
class Company:
    """One company of an industry: its name, who plays it (a bot's name, or None for a player),
    its state, its reports and the actions it submitted each quarter."""

    name: str
    bot: str | None
    state: GameState
    reports: list[QuarterReport] = field(default_factory=list)
    log: list[list[dict]] = field(default_factory=list)


@dataclass
class IndustryQuarter:
    label: str
    reports: dict[str, QuarterReport]
    clearing: Clearing
    awarded: dict[str, str]
    actions: dict[str, list[dict]] = field(default_factory=dict)  # what each company submitted, as data


class Industry:
    """N companies over one world, each starting as the scenario's company (equal start); a
    quarter is played when every company still in the game has its actions (``play``)."""

    def __init__(self, scenario: Scenario, seed: int, companies: list[tuple[str, str | None]], world: World | None = None,
                 audit: bool = False, opening: GameState | None = None) -> None:
        names = [n for n, _ in companies]
        if not names:
            raise ValueError("an industry needs at least one company")
        if len(set(names)) != len(names):
            raise ValueError(f"company names must be unique, got {', '.join(names)}")
        self.scenario = scenario
        self.seed = int(seed)
        self.world = world or build_world(scenario.world, self.seed, scenario.start, scenario.quarters)
        opening = opening or new_game(scenario, self.world, self.seed)
        self.companies = {n: Company(n, bot, copy_state(opening)) for n, bot in companies}
        self.order = names  # as created: for display only; every rule runs in name order
        self.quarters: list[IndustryQuarter] = []
        self.audit = audit  # keep each quarter's segment balance (engine.industry.clear)

    @property
    def over(self) -> bool:
        return all(c.state.game_over for c in self.companies.values())

    def active(self) -> list[str]:
        return sorted(n for n, c in self.companies.items() if not c.state.game_over)

    def observation(self, name: str) -> Observation:
        """What the company sees at its decision: as a single player (engine.game.Observation)."""
        from engine.market import market_view

        c = self.companies[name]
        q = min(c.state.quarter, self.scenario.quarters - 1)
        wq = self.world.quarter(q)
        return Observation(
            quarter=c.state.quarter, label=wq.label, quarters=self.scenario.quarters, state=copy_state(c.state),
            market=market_view(wq), reports=list(c.reports), scenario=self.scenario,
        )

    def play(self, plans: dict[str, list]) -> IndustryQuarter:
        """End the quarter for every company still playing, each with its plan (missing: none)."""
        from engine.game import _loggable

        names = self.active()
        if not names:
            raise ValueError("the industry is over; no more quarters can be played")
        data = {n: [_loggable(a) for a in (plans.get(n) or [])] for n in names}
        sla = {n: reliability(self.companies[n].reports[-1] if self.companies[n].reports else None) for n in names}
        states = {n: self.companies[n].state for n in names}
        awarded = award_contracts(self.seed, states, data, sla, self.world, self.scenario.rules.networking_share)
        opens = {}
        for n in names:
            state = states[n]
            lost = [o for o, w in awarded.items() if w != n]
            if lost:  # the offer went to a better bid: gone from this company's offers
                state = copy_state(state)
                state.offers.contracts = [o for o in state.offers.contracts if o.id not in lost]
            opens[n] = open_quarter(state, self.world, self.scenario, data[n])
        clearing = clear(self.world, opens, sla, self.audit)
        headlines = price_war_headlines(self.world, opens)
        reports = {}
        for n in names:
            c = self.companies[n]
            c.state, reports[n] = close_quarter(opens[n], clearing.allocations[n])
            if headlines[n]:  # news, not state: the state hash is unchanged
                reports[n] = reports[n].model_copy(update={"news": [*reports[n].news, *headlines[n]]})
            c.reports.append(reports[n])
            c.log.append(data[n])
        label = next(iter(reports.values())).label
        iq = IndustryQuarter(label=label, reports=reports, clearing=clearing, awarded=awarded, actions=data)
        self.quarters.append(iq)
        return iq

    def hashes(self) -> dict[str, list[str]]:
        return {n: [r.state_hash for r in c.reports] for n, c in self.companies.items()}


class RivalMarket:
    """The scenario's rivals of a single-player game (``Scenario.rivals``): each a company run by
    its bot, cleared in one market with the player's (named ``PLAYER``). engine.game.Game plays
    through it, so run files, replay and verification need nothing more: the rivals' actions are
    the bots', a pure function of what they observe."""

    def __init__(self, scenario: Scenario, seed: int, world: World, opening: GameState) -> None:
        from engine.bots import make_bot

        companies = [(PLAYER, None)] + [(r.name, r.bot) for r in scenario.rivals]
        self.industry = Industry(scenario, seed, companies, world, opening=opening)
        self.bots = {r.name: make_bot(r.bot) for r in scenario.rivals}

    def play(self, actions: list[dict]) -> tuple[GameState, QuarterReport]:
        ind = self.industry
        plans = {n: self.bots[n].act(ind.observation(n)) for n in ind.active() if n != PLAYER}
        iq = ind.play({PLAYER: actions, **plans})
        return ind.companies[PLAYER].state, iq.reports[PLAYER]

    def published(self) -> list[dict]:
        """What each rival published of its last quarter (``public_disclosure``), in scenario order."""
        return published(self.industry, exclude=PLAYER)


def published(industry: Industry, exclude: str) -> list[dict]:
    """What every company but ``exclude`` published of its last quarter, in the industry's order."""
    out = []
    for n in industry.order:
        c = industry.companies[n]
        if n != exclude and c.reports:
            out.append({"name": n, "bot": c.bot, "bankrupt": c.state.bankrupt, **public_disclosure(c.state, c.reports[-1])})
    return out


def industry_hash(reports: dict[str, str]) -> str:
    """One quarter's hash of the whole industry: the companies' state hashes in name order."""
    return hashlib.sha256("".join(f"{n}={h};" for n, h in sorted(reports.items())).encode()).hexdigest()


# ------------------------------------------------------------------------------ what rivals publish


def public_disclosure(state: GameState, report: QuarterReport) -> dict:
    """What a public company would publish of its quarter (issue 15): revenue, the fleet by
    generation, its price list, the contracted share of revenue and the financings it announced.
    Never its plans, its orders in flight, its customers' names or its cash position."""
    fleet = {g.gen: g.gpus for g in report.kpis.by_gen if g.gpus}
    for gen, n in report.kpis.gpus.items():
        fleet.setdefault(gen, n)
    prices = {g.gen: round(g.price_usd_per_hour, 4) for g in report.kpis.by_gen}
    tokens = {
        d.model: round(report.market.token_usd_per_m[d.model] * (1 + d.price_vs_market), 6)
        for d in state.inference.deployments if d.model in report.market.token_usd_per_m
    }
    financings = []
    for r in report.actions:
        if r.ok and r.action.get("kind") in ("take_loan", "raise_equity"):
            financings.append({"kind": "debt" if r.action["kind"] == "take_loan" else "equity", "amount_usd": r.action.get("amount_usd")})
    return {
        "quarter": report.label,
        "revenue_usd": report.income.revenue / 100,
        "fleet": dict(sorted(fleet.items())),
        "gpu_hour_prices": dict(sorted(prices.items())),
        "token_prices": dict(sorted(tokens.items())),
        "contracted_share": round(report.kpis.contracted_share, 4),
        "financings": financings,
    }
