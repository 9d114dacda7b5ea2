"""The market answers price (issue 9 items 5, 7, 9): demand elasticity with a lagged customer base,
contract offers above an efficient owner's cost, sold vs spot-filled utilization."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bots import make_bot
from engine.demand import DEFAULT_SEGMENTS, customer_base_step, demand_share
from engine.economics import gross_margin, owned_gpu_hourly_cost
from engine.game import Game
from engine.step import MAX_SHARE_GAIN
from engine.world import WorldParams, build_world, cost_floor_per_hour
from scenarios import list_scenarios, load_scenario

SEGMENTS = {s.id: s for s in DEFAULT_SEGMENTS}


# ------------------------------------------------------------------------------ item 7: elasticity


@pytest.mark.parametrize("seg", DEFAULT_SEGMENTS, ids=lambda s: s.id)
def test_doubling_the_price_loses_most_of_every_segment(seg):
    """Issue 9 item 7 / KB §1 segments: +100% keeps under 30% of a segment, +25% loses a clear share."""
    assert demand_share(2.0, 1.0, seg.elasticity, MAX_SHARE_GAIN) < 0.30
    assert demand_share(1.25, 1.0, seg.elasticity, MAX_SHARE_GAIN) < 0.70
    assert demand_share(1.0, 1.0, seg.elasticity, MAX_SHARE_GAIN) == 1.0
    assert demand_share(0.5, 1.0, seg.elasticity, MAX_SHARE_GAIN) == MAX_SHARE_GAIN  # others match: capped


def test_enterprise_is_stickier_than_developers():
    """KB §1: enterprises buy SLAs and reserved capacity (low elasticity, slow to move); hobbyists
    are price-sensitive and leave fast."""
    ent, hob, startup = SEGMENTS["enterprise"], SEGMENTS["hobbyist"], SEGMENTS["startup"]
    assert ent.elasticity < startup.elasticity < hob.elasticity
    assert ent.leave_per_quarter < startup.leave_per_quarter < hob.leave_per_quarter
    assert ent.return_per_quarter < hob.return_per_quarter
    target = demand_share(2.0, 1.0, ent.elasticity, MAX_SHARE_GAIN)
    assert customer_base_step(1.0, target, ent) > customer_base_step(1.0, demand_share(2.0, 1.0, hob.elasticity, MAX_SHARE_GAIN), hob)


@pytest.mark.parametrize("seg", DEFAULT_SEGMENTS, ids=lambda s: s.id)
def test_lost_customers_come_back_slowly(seg):
    """Issue 9 item 7: leaving is faster than coming back; returns are 15-30% of the gap a quarter."""
    assert seg.leave_per_quarter > seg.return_per_quarter
    assert 0.15 <= seg.return_per_quarter <= 0.30
    base = 1.0
    for _ in range(4):  # a year at +100%
        base = customer_base_step(base, demand_share(2.0, 1.0, seg.elasticity, MAX_SHARE_GAIN), seg)
    low = base
    base = customer_base_step(base, 1.0, seg)  # back at the market price
    assert base == pytest.approx(low + seg.return_per_quarter * (1.0 - low))
    assert base < 0.8  # one quarter at the market price does not bring them all back


@settings(max_examples=200, deadline=None)
@given(current=st.floats(0.0, 3.0), target=st.floats(0.0, 3.0), i=st.integers(0, len(DEFAULT_SEGMENTS) - 1))
def test_customer_base_moves_toward_the_target_without_overshooting(current, target, i):
    nxt = customer_base_step(current, target, DEFAULT_SEGMENTS[i])
    assert min(current, target) - 1e-12 <= nxt <= max(current, target) + 1e-12
    assert abs(nxt - target) <= abs(current - target) + 1e-12


class _Priced:
    """A built-in bot that also prices every GPU generation (or every model's tokens) vs the market."""

    def __init__(self, base: str, vs: float, tokens: bool) -> None:
        self.base, self.vs, self.tokens, self.name = make_bot(base), vs, tokens, f"{base}{vs:+.0%}"

    def act(self, obs):
        acts = self.base.act(obs)
        if self.tokens:
            models = {d.model for d in obs.state.inference.deployments} | {a["model"] for a in acts if a.get("kind") == "deploy_model"}
            return acts + [{"kind": "set_token_price", "model": m, "vs_market": self.vs} for m in sorted(models)]
        return acts + [{"kind": "set_price", "gen": g, "vs_market": self.vs} for g, q in obs.market.gpus.items() if q.available]


def _play(scenario: str, bot, seed: int, quarters: int) -> Game:
    g = Game(load_scenario(scenario).scenario, seed)
    for _ in range(quarters):
        g.play(bot.act(g.observation()))
    return g


def test_neocloud_on_demand_at_double_the_market_loses_most_of_its_customers():
    """Issue 9 measured +100% on GPU-hours "changes almost nothing"; now on-demand + batch hours
    served fall by more than half within a year, and the customer base index remembers it."""
    plain = _play("neocloud-2025", make_bot("flex"), 2, 5)
    dear = _play("neocloud-2025", _Priced("flex", 1.0, tokens=False), 2, 5)

    def sold(g):
        return sum(k.served_gpu_hours["on_demand"] + k.served_gpu_hours["batch"] for r in g.reports[1:] for k in r.kpis.by_gen)

    assert sold(dear) < 0.5 * sold(plain)
    assert dear.state.customer_base and all(v < 0.6 for v in dear.state.customer_base.values())
    assert all(v == pytest.approx(1.0) for v in plain.state.customer_base.values())  # at market: nobody leaves


def test_inference_tokens_at_double_the_market_lose_most_of_the_volume():
    """Issue 9 item 7: +100% on tokens won every seed of inference-2025; now most tokens walk away."""
    plain = _play("inference-2025", make_bot("barbell"), 1, 6)
    dear = _play("inference-2025", _Priced("barbell", 1.0, tokens=True), 1, 6)
    tok = lambda g: g.reports[-1].inference.tokens_out  # noqa: E731
    assert tok(dear) < 0.35 * tok(plain)
    assert all(v < 0.6 for v in dear.state.inference.customer_base.values())


class _ReserveAll:
    """An optimizing platform: the KB §17 roadmap, and the whole pool reserved (no on-demand peaks)."""

    name = "reserve-all"

    def act(self, obs):
        from engine.bots import _inference_actions

        return _inference_actions(obs, reserve_share=1.0, reserve_term=4, use_spot=False, roadmap=True)


class _ReserveAllPriced(_ReserveAll):
    def __init__(self, vs: float) -> None:
        self.vs = vs

    def act(self, obs):
        acts = super().act(obs)
        models = {d.model for d in obs.state.inference.deployments} | {a["model"] for a in acts if a.get("kind") == "deploy_model"}
        return acts + [{"kind": "set_token_price", "model": m, "vs_market": self.vs} for m in sorted(models)]


def test_inference_2025_margin_objective_is_reached_by_optimization_not_by_overpricing():
    """Issue 9 items 7-8, KB §1 (50-65% at scale) and §17: at market prices, the roadmap and a fully
    reserved base reach a 50% gross margin in the last two years (median of seeds 1-5); pricing
    +100% over the market earns fewer gross-profit dollars than the same company at market."""
    import statistics

    def play(bot, seed):
        g = Game(load_scenario("inference-2025").scenario, seed)
        while not g.over:
            g.play(bot.act(g.observation()))
        return g.reports

    late_gm, wins = [], 0
    for seed in range(1, 6):
        fair, dear = play(_ReserveAll(), seed), play(_ReserveAllPriced(1.0), seed)
        late_gm.append(sum(r.income.gross_profit for r in fair[-8:]) / sum(r.income.revenue for r in fair[-8:]))
        wins += sum(r.income.gross_profit for r in fair) > sum(r.income.gross_profit for r in dear)
    assert statistics.median(late_gm) >= 0.50
    assert wins == 5


# ------------------------------------------------------------------------------ item 5: contracts


def test_kb_contract_example_earns_25_to_40_percent_on_an_efficient_owners_cost():
    """KB §2 table / CALIBRATION 10-11: $2.20/h against $1.33 (owner, 3-year straight line) to
    $1.64 (leases some) of cost is 40% to 34%; with the 12% capital charge (CALIBRATION 11) the
    market's floor for a $28K H100 over 4 years is ~$1.62 and $2.20 still earns ~26%."""
    crusoe = owned_gpu_hourly_cost(25_000, 3, 0.0, 0.0, other_hourly=0.03 + 0.15 + 0.10 + 0.10)
    assert crusoe == pytest.approx(1.33, abs=0.02)
    floor = cost_floor_per_hour(28_000, 700, WorldParams(), 0.12, WorldParams().colo_usd_per_kw_month)
    assert floor == pytest.approx(1.62, abs=0.01)
    for cost in (crusoe, 1.64, floor):
        assert 0.25 <= gross_margin(2.20, cost) <= 0.40


def test_every_contract_offer_pays_at_least_a_new_owners_full_cost():
    """Issue 9 item 5: every offer in every scenario, seeds 1-3, every quarter >= the full cost of
    an efficient new owner of the same generation (``cost_floor_per_hour``); longer terms are
    cheaper on average (the deflation discount), and 3-year H100 offers clear the $1.48 of CALIBRATION 11."""
    by_term: dict[int, list[float]] = {4: [], 8: [], 12: []}
    n = 0
    for ls in list_scenarios():
        sc = ls.scenario
        for seed in (1, 2, 3):
            w = build_world(sc.world, seed, sc.start, sc.quarters)
            for q in range(sc.quarters):
                wq = w.quarter(q)
                for o in wq.offers:
                    n += 1
                    floor = wq.gpus[o.gen].cost_floor_usd_per_hour
                    assert o.usd_per_gpu_hour >= floor, (ls.path.stem, seed, q, o)
                    if o.term_quarters in by_term and not o.id.startswith("S"):
                        by_term[o.term_quarters].append(o.usd_per_gpu_hour / floor)
    assert n > 500
    mean = {t: sum(v) / len(v) for t, v in by_term.items()}
    assert mean[4] > mean[8] > mean[12] >= 1.0


# ------------------------------------------------------------------------------ item 9: utilization


def test_utilization_counts_sales_and_spot_fill_apart():
    """Issue 9 item 9: the headline utilization is sold hours (reserved + on-demand + batch);
    spot-filled hours are reported on their own and never counted as sold."""
    g = _play("neocloud-2025", make_bot("flex"), 1, 4)
    spot_seen = False
    for r in g.reports:
        k = r.kpis
        cap = busy = spot = 0.0
        for gk in k.by_gen:
            h = gk.served_gpu_hours
            cap_h = gk.utilization and (h["reserved"] + h["on_demand"] + h["batch"]) / gk.utilization
            if cap_h:
                assert gk.spot_filled_share == pytest.approx(h["spot"] / cap_h)
            cap += cap_h or 0.0
            busy += h["reserved"] + h["on_demand"] + h["batch"]
            spot += h["spot"]
            assert gk.utilization + gk.spot_filled_share <= 1.0 + 1e-9
        if cap:
            assert k.utilization == pytest.approx(busy / cap)
            assert k.spot_filled_share == pytest.approx(spot / cap)
            spot_seen = spot_seen or spot > 0
    assert spot_seen
