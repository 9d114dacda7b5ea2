"""The engine's speed-ups compute the same numbers as the code they replaced (issue 10 item 12, issue 12).

Each fast path is checked against its definition: the canonical JSON behind ``state_hash``
against pydantic's dump through ``json.dumps`` (so every digest, and every golden run, stays
the same), the shared percentile grids against one grid per quantile, the counted load bins
against ``np.unique``, the two-order-statistics percentile against ``np.percentile``, the memoized
weekly demand shape against its formula.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import inference
from engine.bots import make_bot, run_bot
from engine.demand import DEFAULT_SEGMENTS, HOURS_PER_DAY, HOURS_PER_WEEK, weekly_shape
from engine.game import Game
from engine.hardware import GPU_ORDER
from engine.state import GameState, canonical_json, copy_state, reference_canonical_json, state_hash
from scenarios import DEFAULT_SCENARIO, load_scenario


@pytest.fixture(scope="module")
def played_states() -> list[GameState]:
    """States from whole games: a leveraged neocloud, an inference platform and rate-shock's
    balloon loans (fields omitted at zero, engine.state.OmitZero), every quarter."""
    out = []
    for scenario, bot in ((DEFAULT_SCENARIO, "max-leverage"), ("inference-2025", "inference-neocloud"), ("rate-shock", "max-leverage")):
        game, b = Game(load_scenario(scenario).scenario, 11), make_bot(bot)
        out.append(copy_state(game.state))
        while not game.over:
            game.play(b.act(game.observation()))
            out.append(copy_state(game.state))
    return out


def test_canonical_json_equals_the_reference_over_whole_games(played_states):
    """DESIGN "State is serializable and hashable": the generated encoders write the reference bytes."""
    for s in played_states:
        assert canonical_json(s) == reference_canonical_json(s)
    assert len({state_hash(s) for s in played_states}) == len(played_states)  # every quarter's state differs


# values the fast path must write exactly as json.dumps does, or hand over to the reference path
_EDGE_FLOATS = st.sampled_from([0.0, -0.0, 1e-5, 1e16, 1e-300, 123456789.125, 2.5e-7, 0.1 + 0.2])
_FLOATS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), _EDGE_FLOATS, st.integers(-10, 10), st.booleans())
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_canonical_json_equals_the_reference_for_odd_values(played_states, data):
    """Assigned values bypass pydantic's validation: ints and bools in float fields, -0.0, non-ASCII
    names, numpy floats; whatever the fast path writes equals the reference, or both refuse."""
    s = copy_state(data.draw(st.sampled_from(played_states)))
    if s.lots:
        lot = data.draw(st.sampled_from(s.lots))
        lot.lease_usd_per_hour = data.draw(_FLOATS)
        lot.id = data.draw(_TEXT)
    if s.loans:
        s.loans[0].spread_bps = data.draw(st.one_of(_FLOATS, st.builds(np.float64, _EDGE_FLOATS)))
    s.company_name = data.draw(_TEXT)
    s.price_vs_market[data.draw(_TEXT)] = data.draw(_FLOATS)
    s.ledger.balances["cash"] = data.draw(st.one_of(st.integers(-(2**70), 2**70), st.booleans()))
    if data.draw(st.booleans()):
        s.batch_backlog["h100"] = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    try:
        expected = reference_canonical_json(s)
    except ValueError:  # json.dumps(allow_nan=False) refuses non-finite floats: so must the fast path
        with pytest.raises(ValueError):
            canonical_json(s)
        return
    assert canonical_json(s) == expected


def test_canonical_json_is_sorted_compact_json(played_states):
    """The canonical form parses back to the JSON-mode dump, with keys sorted at every level."""
    s = played_states[-1]
    text = canonical_json(s)
    assert json.loads(text) == json.loads(json.dumps(s.model_dump(mode="json")))
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_models_pydantic_dumps_differently_take_the_reference_path():
    """A field excluded from the dump or a custom serializer: the generated encoder refuses the model
    (the state then goes through pydantic's own dump), a plain model is written field by field."""
    from pydantic import BaseModel, Field, field_serializer

    from engine import state as state_module

    class Excluded(BaseModel):
        x: int = Field(default=1, exclude=True)
        y: float = 2.0

    class Serialized(BaseModel):
        y: float = 2.0

        @field_serializer("y")
        def _twice(self, v: float) -> float:
            return v * 2

    class Plain(BaseModel):
        y: float = 2.0
        name: str = "Ünïcode"

    for cls in (Excluded, Serialized):
        with pytest.raises(state_module._NotPlain):
            state_module._encoder(cls)(cls())
    plain = Plain()
    assert state_module._encoder(Plain)(plain) == json.dumps(plain.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------------ inference latency


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 120), seed=st.integers(0, 2**32 - 1),
    qs=st.lists(st.sampled_from([0.5, 0.9, 0.95, 0.99, 0.999]), min_size=1, max_size=3),
)
def test_shared_percentile_grids_equal_one_grid_per_quantile(n, seed, qs):
    """Issue 12 item 6 percentiles: p50 and p95 from one shared log grid are the same floats as each
    from its own grid (TPOT's normal mixture and TTFT's queue tail)."""
    rng = np.random.default_rng(seed)
    mean, sd, w = rng.uniform(5, 80, n), rng.uniform(0, 5, n) * (rng.random(n) > 0.2), rng.uniform(0, 3, n)
    lo, hi = float(mean.min()), float(mean.max() + 4 * sd.max() + 1)
    assert inference._mixture_quantile(mean, sd, w, tuple(qs), lo, hi) == [inference._mixture_quantile(mean, sd, w, q, lo, hi) for q in qs]
    load = np.clip(rng.uniform(-0.1, 1.1, n), 0, 1)
    base, limit = rng.uniform(50, 400, n), rng.uniform(0, 2000, n)
    pl, pm = rng.uniform(0, 0.9, n), rng.uniform(0, 50, n) * (rng.random(n) > 0.3)
    args = (load, base, w, 120.0, 1.7)
    together = inference._ttft_quantile(*args, tuple(qs), limit, 8.0, pl, pm)
    assert together == [inference._ttft_quantile(*args, q, limit, 8.0, pl, pm) for q in qs]


def _gg1_exceed_definition(load, service_ms, ca2, wait_ms, limit_ms, servers=1.0, prefill_load=0.0, prefill_ms=0.0):
    """_gg1_exceed as first written: every branch on every hour, then picked per hour."""
    rho = np.clip(load, 0.0, 1.0)
    busy = (rho > 0) & (rho < 1)
    cond_mean = np.where(busy, (ca2 + inference.SERVICE_CV2) / 2 * service_ms / np.where(busy, 1 - rho, 1.0), 1.0)
    p_wait = np.minimum(1.0, rho ** (np.sqrt(2 * (max(1.0, servers) + 1)) - 1))
    rho_p = np.clip(prefill_load, 0.0, 0.999999)
    p_pre = np.where(np.asarray(prefill_ms) > 0, rho_p, 0.0)
    mean_pre = np.maximum((ca2 + inference.SERVICE_CV2) / 2 * np.asarray(prefill_ms) / (1 - rho_p), 1e-9)
    wait = np.maximum(wait_ms, 0.0)
    tail = np.where(wait_ms > 0, np.minimum(1.0, p_wait * np.exp(-wait / cond_mean) + p_pre * np.exp(-wait / mean_pre)),
                    np.minimum(1.0, p_wait + p_pre))
    full = np.clip(1 - np.divide(wait_ms, limit_ms, out=np.ones_like(wait_ms), where=limit_ms > 0), 0.0, 1.0)
    return np.where(rho >= 1, full, np.where(rho > 0, tail, np.where(wait_ms > 0, 0.0, 1.0)))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 5))
def test_queue_tail_computed_where_needed_equals_every_branch_everywhere(n, seed, rows):
    """The TTFT tail (issue 12 item 6) per hour and on a quantile grid, to the bit, with idle,
    busy and overloaded hours and waits below, at and above zero."""
    rng = np.random.default_rng(seed)
    load = rng.choice([0.0, 1.0, 0.5], n) * (rng.random(n) < 0.3) + rng.uniform(0, 1, n) * (rng.random(n) >= 0.3)
    wait = rng.uniform(-300, 3000, (rows, n)) * (rng.random((rows, n)) > 0.1)
    limit = rng.uniform(0, 2000, n) * (rng.random(n) > 0.2)
    pl, pm = rng.uniform(0, 1, n), rng.uniform(0, 40, n) * (rng.random(n) > 0.3)
    got = inference._gg1_exceed(load[None, :], 90.0, 2.0, wait, limit[None, :], 16.0, pl[None, :], pm[None, :])
    np.testing.assert_array_equal(got, _gg1_exceed_definition(load[None, :], 90.0, 2.0, wait, limit[None, :], 16.0, pl[None, :], pm[None, :]))
    np.testing.assert_array_equal(inference._gg1_exceed(load, 90.0, 2.0, wait[0], limit, 16.0, pl, pm),
                                  _gg1_exceed_definition(load, 90.0, 2.0, wait[0], limit, 16.0, pl, pm))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 2184), overloaded=st.floats(0, 1))
def test_counted_load_bins_equal_sorted_ones(seed, n, overloaded):
    """Hours grouped by load bin (``_bin_hours``): the same bins, weights and means as np.unique."""
    rng = np.random.default_rng(seed)
    load = np.where(rng.random(n) < overloaded, 1.0, rng.beta(2, 2, n))
    idx, w, v = inference._load_key(load), rng.uniform(0, 5, n) * (rng.random(n) > 0.1), rng.uniform(0, 100, n)
    uniq, inv = np.unique(idx, return_inverse=True)
    count, inv_fast = inference._group(idx)
    assert count == len(uniq)
    np.testing.assert_array_equal(inv_fast, inv)
    (mean,), weights = inference._bin_hours(idx, w, v)
    ws = np.bincount(inv, weights=w, minlength=len(uniq))
    keep = ws > 0
    np.testing.assert_array_equal(weights, ws[keep])
    assert mean.shape == weights.shape
    wide = np.array([-(10**7), 0, 10**7, 0])  # keys too far apart to count: the sorted path
    assert inference._group(wide)[0] == 3 and list(inference._group(wide)[1]) == [0, 1, 2, 1]


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000), q=st.sampled_from([0, 5, 50, 95, 99.9, 100]))
def test_percentile_equals_numpy(seed, n, q):
    """replicas_needed_p95: two order statistics and numpy's lerp equal np.percentile to the bit."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.lognormal(0, 2, n), int(rng.integers(0, 6)))
    assert inference._percentile(x, q) == float(np.percentile(x, q))


def test_memoized_weekly_shape_equals_its_formula():
    """KB §1 weekly demand shape: the memoized factors are the formula's, and callers cannot change them."""
    for seg in DEFAULT_SEGMENTS:
        day = [1.0 + seg.daily_amplitude * math.cos(2.0 * math.pi * (h - seg.peak_hour) / HOURS_PER_DAY) for h in range(HOURS_PER_DAY)]
        week = [day[h % HOURS_PER_DAY] * (seg.weekend_factor if h // HOURS_PER_DAY >= 5 else 1.0) for h in range(HOURS_PER_WEEK)]
        mean = math.fsum(week) / HOURS_PER_WEEK
        shape = weekly_shape(seg)
        np.testing.assert_array_equal(shape, np.array([w / mean for w in week]))
        shape[0] = -1.0  # a copy: the memo is untouched
        assert weekly_shape(seg)[0] == week[0] / mean


def _failure_definition(s, world, scenario, gen):
    """GPU failures (KB §1: 2-5% a year) as specified: one keyed stream per generation and quarter,
    a binomial draw per owned lot in service in id order, then every failure's tick."""
    from engine.rng import stream
    from engine.step import _lots_in_service, _numeric

    q, T = s.quarter, inference.T
    p_fail = 1 - (1 - scenario.rules.annual_failure_rate) ** 0.25
    owned = sorted((lot for lot in _lots_in_service(s, q) if lot.gen == gen and lot.ownership == "owned"), key=lambda lot: _numeric(lot.id))
    rng = stream(s.seed, "gpu-failures", q, GPU_ORDER.index(gen))
    fails = {lot.id: int(n) for lot, n in zip(owned, rng.binomial([lot.count for lot in owned], p_fail))}
    ticks = np.sort(rng.integers(0, T, size=sum(fails.values())))
    return fails, np.searchsorted(ticks, np.arange(T), side="right")


def test_rental_fleet_failures_follow_their_definition_whatever_the_lot_order():
    """The rental fleet's capacity per tick: the GPUs in service less each failure from the tick it
    happens and the grid outage; the same failures per lot when the lots are listed in another order."""
    from engine.step import _rental_fleet

    loaded = load_scenario(DEFAULT_SCENARIO)
    game = run_bot(Game(loaded.scenario, 2), make_bot("all-in"), 6)
    wq = game.world.quarter(game.state.quarter)
    grid = {site.id for site in game.state.sites if site.power_source == "grid"}
    results = []
    for reverse in (False, True):
        s = copy_state(game.state)
        s.lots = s.lots[::-1] if reverse else s.lots
        before = {lot.id: lot.count for lot in s.lots}
        expected = {gen: _failure_definition(s, game.world, loaded.scenario, gen) for gen in GPU_ORDER}
        fleet = _rental_fleet(s, game.world, loaded.scenario)
        for gen, f in fleet.items():
            fails, failed_by_tick = expected[gen]
            cap = sum(before[lot.id] for lot in f["lots"]) - failed_by_tick.astype(float)
            for lot in f["lots"]:
                assert lot.count == before[lot.id] - fails.get(lot.id, 0)
                if lot.ownership == "owned" and lot.site_id in grid and wq.grid_outage_hours > 0:
                    cap[wq.outage_start_tick:wq.outage_start_tick + wq.grid_outage_hours] -= lot.count
            np.testing.assert_array_equal(f["cap"], np.maximum(cap - inference.base_gpus(s, gen), 0.0))
            assert f["failed"] == sum(fails.values())
        results.append(({lot.id: lot.count for lot in s.lots}, {g: f["cap"].tolist() for g, f in fleet.items()}, s.ledger.balances))
    assert results[0] == results[1]
    assert any(v for v in results[0][0].values()) and sum(f["failed"] for f in fleet.values()) > 0  # failures happened


def test_every_state_model_stays_on_the_fast_path(played_states):
    """The engine's own models (including OmitZero ones such as Loan and QuarterRecord) are written
    by the generated encoders, never by the reference fallback: otherwise the hash speed-up is lost."""
    from engine import state as state_module

    assert any(loan.balloon_cents for s in played_states for loan in s.loans)  # the omitted field set
    assert any(not loan.balloon_cents for s in played_states for loan in s.loans)  # and left out
    for s in played_states:
        state_module._encoder(GameState)(s)  # raises _NotPlain if any model refused


# ------------------------------------------------------------------------------ the lender's projection


def _underwrite_quarter_by_quarter(state, rules, sofr):
    """The lender's projection as defined (KB §4, CALIBRATION 16) before the speed pass of
    engine.lenders.underwrite: each contract added to every quarter it covers, each site's
    straight-line charge computed in every quarter, every quarter's EBITDA computed afresh."""
    from engine import lenders
    from engine.calendar import TICKS_PER_QUARTER
    from engine.money import to_cents
    from engine.scenario import INVESTMENT_GRADE

    q, n = state.quarter, lenders.PROJECTION_QUARTERS
    contracted_q, merchant_q = [0] * n, [0] * n
    for c in state.contracts:
        if c.status != "active" or c.end_quarter <= q:
            continue
        per_q = to_cents(c.gpus * c.usd_per_gpu_hour * TICKS_PER_QUARTER)
        for k in range(max(0, c.start_quarter - q), min(n, c.end_quarter - q)):
            contracted_q[k] += per_q
        for k in range(max(0, c.end_quarter - q), n):
            merchant_q[k] += per_q
    dep = [0] * n
    for lot in state.lots:
        if lot.ownership != "owned" or lot.status == "closed" or lot.count <= 0:
            continue
        per_q, left = -(-lot.cost_cents // lot.life_quarters), lot.cost_cents - lot.accum_dep_cents
        for k in range(n):
            if per_q <= 0 or left <= 0:
                break
            d = min(per_q, left)
            dep[k] += d
            left -= d
    for site in state.sites:
        if site.kind == "owned" and site.stage == "operating":
            shell, power = site.capex_shell_cents - site.dep_shell_cents, site.capex_power_cents - site.dep_power_cents
            for k in range(n):
                ds = min(max(0, shell), round(site.capex_shell_cents / (rules.shell_life_years * 4)))
                dp = min(max(0, power), round(site.capex_power_cents / (rules.power_life_years * 4)))
                shell, power = shell - ds, power - dp
                dep[k] += ds + dp
    last = state.history[-1] if state.history else None
    uncontracted_q = max(0, last.revenue_cents - last.contracted_revenue_cents) if last else 0
    costs_q = max(0, last.revenue_cents - last.ebitda_cents) if last else 0
    existing = lenders.projected_service([lenders.as_refinanced(l) for l in state.loans], q, n, sofr)
    active = [l for l in state.lots if l.status == "active" and l.count > 0 and (l.ownership == "owned" or l.lease_end_quarter > q)]
    held_now = sum(l.count for l in active)
    nol, cfads_q = state.nol_cents, []
    for k in range(n):
        gone = sum(l.count for l in active if l.ownership == "leased" and l.lease_end_quarter - q <= k)
        saved = sum(to_cents(lenders.lease_payment_usd(l.count, l.lease_usd_per_hour)) for l in active
                    if l.ownership == "leased" and l.lease_end_quarter - q <= k)
        kept = 1.0 if held_now <= 0 else (held_now - gone) / held_now
        ebitda = round(contracted_q[k] + (merchant_q[k] + round(uncontracted_q * kept)) * (1 - rules.uncontracted_haircut)
                       - max(0, costs_q - saved))
        pretax = ebitda - dep[k] - existing[k][0]
        if pretax <= 0:
            nol, tax = nol - pretax, 0
        else:
            used = min(nol, int(pretax * rules.nol_limit))
            nol, tax = nol - used, to_cents((pretax - used) / 100 * rules.tax_rate)
        cfads_q.append(ebitda - tax)
    ig = [c for c in state.contracts if c.status == "active" and c.end_quarter > q and c.grade in INVESTMENT_GRADE]
    return tuple(cfads_q), sum(contracted_q[:4]), len(ig)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_lenders_projection_equals_its_quarter_by_quarter_definition(played_states, data):
    """engine.lenders.underwrite adds each contract where it starts and ends and computes a site's
    straight-line charge once (issue 10 item 12): the same integer cents as quarter by quarter,
    for contracts starting, ending and running past the 48-quarter projection, and owned sites."""
    from engine import lenders
    from engine.state import Contract, Site

    s = copy_state(data.draw(st.sampled_from(played_states)))
    if s.game_over:
        return
    q = s.quarter
    for i in range(data.draw(st.integers(0, 6))):
        start = q + data.draw(st.integers(-8, 50))
        s.contracts.append(Contract(
            id=f"C{900 + i}", customer="x", segment="training", gen="h100", gpus=data.draw(st.integers(1, 4000)),
            term_quarters=4, usd_per_gpu_hour=data.draw(st.floats(0.5, 4.0)), grade=data.draw(st.sampled_from(["AA", "BBB", "B"])),
            start_quarter=start, end_quarter=start + data.draw(st.integers(1, 70)),
        ))
    for i in range(data.draw(st.integers(0, 2))):
        shell, power = data.draw(st.integers(0, 10**11)), data.draw(st.integers(0, 10**11))
        s.sites.append(Site(
            id=f"S{900 + i}", name="x", kind="owned", mw=10.0, pue=1.3, power_source="grid", stage="operating",
            capex_shell_cents=shell, capex_power_cents=power, dep_shell_cents=data.draw(st.integers(0, shell)),
            dep_power_cents=data.draw(st.integers(0, power)),
        ))
    rules, sofr = load_scenario(DEFAULT_SCENARIO).scenario.rules, data.draw(st.floats(0.0, 0.08))
    u = lenders.underwrite(s, rules, sofr)
    cfads, contracted, _ = _underwrite_quarter_by_quarter(s, rules, sofr)
    assert u.quarterly_cfads_cents == cfads
    assert u.contracted_revenue_cents == contracted and u.cfads_cents == sum(cfads[:4])
