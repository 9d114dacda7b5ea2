"""The inference quarter's fast paths compute the same floats as their definitions (issue 12 item 6:
"keep it cheap ... a quarter still a few ms", results unchanged).

Each definition below is the code the fast path replaced, kept here verbatim: the percentile
grids searched at every point, numpy's linspace and geomspace, the TTFT and TPOT tails evaluated
through the general ``_gg1_exceed`` and ``_normal_exceed``. Hypothesis draws loads with idle,
busy and overloaded bins, spreads of zero, limits of zero and prefill stages with and without
load; every comparison is to the bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import inference

SEEDS = st.integers(0, 2**32 - 1)


def _grid_quantiles_definition(late, total, qs, lo, hi):
    """Every point of a log grid, then every point of a linear grid inside the bracket."""
    span = max(hi - lo, 1e-9)
    coarse = lo + np.geomspace(1e-4 * span, span, inference.GRID_POINTS)
    late_coarse = late(coarse)
    out = [hi] * len(qs)
    for k, q in enumerate(qs):
        target = (1 - q) * total
        ok = late_coarse <= target
        if not ok.any():
            continue
        i = int(np.argmax(ok))
        left = lo if i == 0 else float(coarse[i - 1])
        grid = np.linspace(left, float(coarse[i]), inference.GRID_POINTS)
        out[k] = float(grid[int(np.argmax(late(grid) <= target))])
    return out


def _grid_quantiles_many_definition(late_many, searches):
    """Each search alone, at every point of its grids (``late_many`` asked for that search only)."""
    def alone(p):
        return lambda t: late_many([t if j == p else None for j in range(len(searches))])[p]
    return [_grid_quantiles_definition(alone(p), *search) for p, search in enumerate(searches)]


def _ttft_late_definition(load, base, weights, service_ms, ca2, limit, servers, pl, pm):
    def late(t):
        wait = t[:, None] - base[None, :]
        return (weights * inference._gg1_exceed(load[None, :], service_ms, ca2, wait, limit[None, :], servers,
                                                np.asarray(pl)[None, ...], np.asarray(pm)[None, ...])).sum(axis=1)
    return late


def _tpot_late_definition(mean, sd, weights):
    def late(t):
        return (weights * inference._normal_exceed(mean[None, :], sd[None, :], t[:, None])).sum(axis=1)
    return late


def _bins(rng, n):
    """Load bins as serve() makes them: idle, busy and overloaded (load 1) bins, some weights zero."""
    kind = rng.integers(0, 4, n)
    load = np.where(kind == 0, 0.0, np.where(kind == 1, 1.0, rng.uniform(0, 1, n)))
    base = rng.uniform(40, 600, n)
    limit = np.maximum(0.0, 2000.0 - base) * (rng.random(n) > 0.15)
    weights = rng.uniform(0, 3, n) * (rng.random(n) > 0.1)
    pl = rng.uniform(0, 0.95, n) * (rng.random(n) > 0.3)
    pm = rng.uniform(0, 60, n) * (rng.random(n) > 0.3)
    return load, base, weights, limit, pl, pm


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 140), servers=st.sampled_from([1.0, 8.0, 64.0]), no_prefill=st.booleans())
def test_ttft_grid_search_equals_every_point(seed, n, servers, no_prefill):
    """Issue 12 item 6: TTFT p50/p95 by the bracketing search equal the all-points grid, and the
    precomputed tail (``_queue_late``) equals ``_gg1_exceed`` on every grid row."""
    rng = np.random.default_rng(seed)
    load, base, weights, limit, pl, pm = _bins(rng, n)
    if no_prefill:
        pl, pm = np.zeros(n), np.zeros(n)
    args = (load, base, weights, float(rng.uniform(5, 3000)), float(rng.uniform(0.5, 6)))
    fast = inference._queue_late(inference._queue_shape(load, args[3], args[4], servers, pl, pm), base, weights, limit)
    slow = _ttft_late_definition(*args, limit, servers, pl, pm)
    t = np.concatenate([rng.uniform(0, 5000, 7), base[:3], base[:3] + limit[:3]])  # waits at zero and at the limit
    np.testing.assert_array_equal(fast(t), slow(t))
    lo, hi = float(base.min()), float(base.max()) + inference.REQUEST_TIMEOUT_MS
    total = weights.sum()
    qs = (0.5, 0.95, 0.99)
    expected = _grid_quantiles_definition(slow, total, qs, lo, hi) if total > 0 else None
    got = inference._ttft_quantile(load, base, weights, args[3], args[4], qs, limit, servers, pl, pm)
    if expected is not None:
        assert got == expected


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 140), flat_share=st.sampled_from([0.0, 0.3, 1.0]))
def test_tpot_grid_search_equals_every_point(seed, n, flat_share):
    """Issue 12 item 6: TPOT p50/p95 of the normal mixture by the bracketing search equal the
    all-points grid; bins without spread (a step at their mean) included."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(5, 90, n)
    sd = rng.uniform(0, 6, n) * (rng.random(n) >= flat_share)
    w = rng.uniform(0, 3, n) * (rng.random(n) > 0.1)
    lo, hi = float(mean.min()), float(mean.max() + 4 * sd.max() + 1)
    slow = _tpot_late_definition(mean, sd, w)
    t = np.concatenate([rng.uniform(lo - 1, hi + 1, 9), mean[:3]])  # at a flat bin's mean: not late
    np.testing.assert_array_equal(inference._normal_late(mean, sd, w)(t), slow(t))
    if w.sum() > 0:
        qs = (0.5, 0.95)
        assert inference._mixture_quantile(mean, sd, w, qs, lo, hi) == _grid_quantiles_definition(slow, w.sum(), qs, lo, hi)


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS, sizes=st.lists(st.integers(1, 140), min_size=1, max_size=5), flat_share=st.sampled_from([0.0, 0.3, 1.0]))
def test_tpot_searches_of_a_catalog_together_equal_each_alone(seed, sizes, flat_share):
    """Issue 12 item 6: the deployments' TPOT mixtures searched together (one padded block of
    their bins, each look one call for all) give each deployment the numbers of its own all-points
    grid search; a deployment without tokens gets its lowest TPOT, and each row of the stacked tail
    is that deployment's own tail to the bit."""
    rng = np.random.default_rng(seed)
    problems, slows = [], []
    for n in sizes:
        mean = rng.uniform(5, 90, n)
        sd = rng.uniform(0, 6, n) * (rng.random(n) >= flat_share)
        w = rng.uniform(0, 3, n) * (rng.random(n) > 0.1) * (rng.random() > 0.15)  # some deployments without tokens
        lo, hi = float(mean.min()), float(mean.max() + 4 * sd.max() + 1)
        problems.append((mean, sd, w, (0.5, 0.95), lo, hi))
        slows.append(_tpot_late_definition(mean, sd, w))
    ts = [np.concatenate([rng.uniform(p[4] - 1, p[5] + 1, int(rng.integers(1, 14))), p[0][:2]]) if rng.random() > 0.2 else None
          for p in problems]
    for got, t, slow in zip(inference._normal_late_many([p[:3] for p in problems])(ts), ts, slows):
        if t is None:
            assert got is None
        else:
            np.testing.assert_array_equal(got, slow(t))
    want = [_grid_quantiles_definition(slow, p[2].sum(), p[3], p[4], p[5]) if p[2].sum() > 0 else [p[4]] * 2
            for p, slow in zip(problems, slows)]
    assert inference._mixture_quantiles(problems) == want


def test_grid_searches_together_a_nan_in_one_sends_only_it_to_every_point():
    """One search's NaN sends that search to every point; the others keep their bracketing, and
    every answer is the one it gets alone."""
    def out_of_order(t):  # not monotone: only the all-points answer (the first point) is right, and a NaN demands it
        return np.where(t > 90, np.nan, np.where(t < 1.02, 0.0, 1.0 - t / 100))

    lates = [out_of_order, lambda t: 1.0 - t / 100, lambda t: 2.0 - t / 50, lambda t: np.where(t > 30, np.nan, 1.0 - t / 100)]

    def late_many(ts):
        return [None if t is None else f(t) for f, t in zip(lates, ts)]

    searches = [(1.0, (0.5, 0.9), 1.0, 100.0), (1.0, (0.5, 0.9), 1.0, 100.0), (2.0, (0.25,), 0.0, 100.0), (1.0, (0.5,), 1.0, 100.0)]
    got = inference._grid_quantiles_many(late_many, searches)
    assert got == _grid_quantiles_many_definition(late_many, searches)
    assert got[0] == [1.0, 1.0]  # its low end (the first points of both grids): the NaN's fallback, not the bracket


def test_grid_search_on_a_nan_falls_back_to_every_point():
    """A NaN breaks the order the bracketing relies on: the answer is then the all-points one."""
    def late(t):
        return np.where(t > 30, np.nan, 1.0 - t / 100)

    qs = (0.5, 0.9)
    assert inference._grid_quantiles(late, 1.0, qs, 1.0, 100.0) == _grid_quantiles_definition(late, 1.0, qs, 1.0, 100.0)


@settings(max_examples=200, deadline=None)
@given(start=st.floats(-1e6, 1e6, allow_nan=False), span=st.floats(0, 1e7, allow_nan=False),
       ratio=st.sampled_from([1e-4, 0.5, 1.0]))
def test_grids_equal_numpy_linspace_and_geomspace(start, span, ratio):
    """The quantile grids are np.linspace and np.geomspace to the bit, zero steps included."""
    np.testing.assert_array_equal(inference._linear_grid(start, start + span), np.linspace(start, start + span, inference.GRID_POINTS))
    if ratio * span > 0:
        np.testing.assert_array_equal(inference._log_grid(ratio * span, span), np.geomspace(ratio * span, span, inference.GRID_POINTS))


@pytest.mark.parametrize("scenario", ["inference-2025", "price-war"])
def test_quarter_percentiles_equal_the_all_points_grids(scenario, monkeypatch):
    """A played quarter's TTFT and TPOT percentiles (issue 12 item 6) with every grid evaluated at
    every point: the same reports, float for float."""
    from engine.bots import make_bot, run_bot
    from engine.game import Game
    from scenarios import load_scenario

    sc = load_scenario(scenario).scenario
    fast = run_bot(Game(sc, 2), make_bot("barbell"), quarters=4)
    monkeypatch.setattr(inference, "_grid_quantiles", _grid_quantiles_definition)
    monkeypatch.setattr(inference, "_grid_quantiles_many", _grid_quantiles_many_definition)
    slow = run_bot(Game(sc, 2), make_bot("barbell"), quarters=4)
    assert [r.inference.model_dump() for r in fast.reports] == [r.inference.model_dump() for r in slow.reports]
    assert fast.hashes() == slow.hashes()


def _bin_hours_definition(idx, weights, *values):
    """One count per value, the weighted mean where a bin has weight, then the weightless bins dropped."""
    uniq, inv = np.unique(idx, return_inverse=True)
    n = len(uniq)
    w = np.bincount(inv, weights=weights, minlength=n)
    count = np.bincount(inv, minlength=n)
    out = []
    for v in values:
        sw = np.bincount(inv, weights=v * weights, minlength=n)
        sm = np.bincount(inv, weights=v, minlength=n)
        out.append(np.where(w > 0, sw / np.where(w > 0, w, 1.0), sm / count))
    keep = w > 0
    return tuple(o[keep] for o in out), w[keep]


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 2184), k=st.integers(1, 5), overloaded=st.floats(0, 1))
def test_load_bins_counted_at_once_equal_one_count_per_value(seed, n, k, overloaded):
    """Issue 12 item 6 percentiles run over load bins: the bins' weighted means from one stacked
    count equal one count per value, to the bit (bins without weight dropped in both)."""
    rng = np.random.default_rng(seed)
    load = np.where(rng.random(n) < overloaded, 1.0, rng.beta(2, 2, n))
    w = rng.uniform(0, 5, n) * (rng.random(n) > 0.2)
    values = [rng.lognormal(3, 2, n) for _ in range(k)]
    (got, got_w), (want, want_w) = inference._bin_hours(inference._load_key(load), w, *values), _bin_hours_definition(inference._load_key(load), w, *values)
    np.testing.assert_array_equal(got_w, want_w)
    assert len(got) == k
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 2184), k=st.integers(1, 5), scale=st.sampled_from([1e-3, 1.0, 1e4]))
def test_latency_tables_read_at_once_equal_np_interp(seed, n, k, scale):
    """Issue 12 item 6: the latency tables (step, chunk, share, TTFT base, prefill share) read at
    each hour's load in one pass equal np.interp on LOAD_GRID, to the bit: loads on grid points,
    idle hours (0), saturated ones (at and above the last point, 0.99) and in between."""
    rng = np.random.default_rng(seed)
    grid = inference.LOAD_GRID
    x = np.where(rng.random(n) < 0.2, rng.choice(grid, n), rng.uniform(-0.05, 1.05, n))
    x[rng.random(n) < 0.1] = 0.0
    tables = [rng.uniform(0, 100, grid.size) * scale for _ in range(k)]
    tables[0] = np.maximum.accumulate(tables[0])  # a rising table, as step times are
    got = inference._interp_load_grid(x, *tables)
    for row, table in zip(got, tables):
        np.testing.assert_array_equal(row, np.interp(x, grid, table))
    ends = np.array([np.inf, -np.inf, 0.99, 1.0, -0.0])  # infinite loads take the end values as np.interp gives them
    with np.errstate(invalid="ignore"):  # inf x a flat segment's 0 slope, overwritten by the end value
        np.testing.assert_array_equal(inference._interp_load_grid(ends, tables[0])[0], np.interp(ends, grid, tables[0]))
    np.testing.assert_array_equal(inference._interp_load_grid(np.array([0.5, np.nan]), tables[0])[0],
                                  np.interp(np.array([0.5, np.nan]), grid, tables[0]))
    flat = np.full(grid.size, 7.0)
    np.testing.assert_array_equal(inference._interp_load_grid(x, flat)[0], np.interp(x, grid, flat))
    bad = tables[0].copy()
    bad[3] = np.inf  # a non-finite table: numpy's own handling
    with np.errstate(invalid="ignore"):  # inf x 0 on the way to the fallback
        np.testing.assert_array_equal(inference._interp_load_grid(x, bad)[0], np.interp(x, grid, bad))


@pytest.mark.parametrize("scenario, bot", [("inference-2025", "flex"), ("price-war", "undercutter"), ("neocloud-2025", "inference-neocloud")])
def test_model_results_built_without_validation_are_what_validation_gives(scenario, bot):
    """serve() builds each ModelResult with model_construct: every field already has its type, so
    validating the same values gives an equal model with the same field types and fields set."""
    from engine.bots import make_bot, run_bot
    from engine.game import Game
    from scenarios import load_scenario

    game = run_bot(Game(load_scenario(scenario).scenario, 3), make_bot(bot), quarters=6)
    results = [m for r in game.reports if r.inference is not None for m in r.inference.models]
    assert results
    for m in results:
        checked = inference.ModelResult.model_validate(dict(m))
        assert checked == m and checked.model_fields_set == m.model_fields_set
        assert [type(v) for v in dict(checked).values()] == [type(v) for v in dict(m).values()]


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, rows=st.integers(1, 5), n=st.integers(1, 300), saturated=st.floats(0, 1))
def test_latency_tables_of_a_catalog_read_together_equal_each_row_alone(seed, rows, n, saturated):
    """Issue 12 item 6: every deployment's latency tables read at its hours' loads in one pass
    (``_interp_rows``) equal ``_interp_load_grid`` row by row and np.interp, to the bit: idle,
    saturated (at and above 0.99) and in-between loads; a NaN load sends the rows to numpy."""
    rng = np.random.default_rng(seed)
    grid = inference.LOAD_GRID
    x = np.where(rng.random((rows, n)) < saturated, rng.uniform(0.99, 1.2, (rows, n)), rng.uniform(-0.05, 1.0, (rows, n)))
    x[rng.random((rows, n)) < 0.1] = 0.0
    tables = [tuple(np.maximum.accumulate(rng.uniform(0, 100, grid.size)) * rng.uniform(0.01, 10) for _ in range(5)) for _ in range(rows)]
    got = np.array(inference._interp_rows(x, tables))
    assert got.shape == (5, rows, n)
    for r in range(rows):
        np.testing.assert_array_equal(got[:, r], inference._interp_load_grid(x[r], *tables[r]))
        for k in range(5):
            np.testing.assert_array_equal(got[k, r], np.interp(x[r], grid, tables[r][k]))
    x[0, 0] = np.nan
    got = np.array(inference._interp_rows(x, tables))
    for r in range(rows):
        for k in range(5):
            np.testing.assert_array_equal(got[k, r], np.interp(x[r], grid, tables[r][k]))


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, rows=st.integers(1, 5), n=st.integers(1, 2184), k=st.integers(1, 5), overloaded=st.floats(0, 1))
def test_load_bins_of_a_catalog_counted_together_equal_each_row_alone(seed, rows, n, k, overloaded):
    """Issue 12 item 6: the deployments' load bins counted in one pass (``_bin_rows``: each row's
    keys in a range of their own) equal ``_bin_hours`` row by row, to the bit; rows without weight
    in some bins, or in all of them, included."""
    rng = np.random.default_rng(seed)
    load = np.where(rng.random((rows, n)) < overloaded, 1.0, rng.beta(2, 2, (rows, n)))
    w = rng.uniform(0, 5, (rows, n)) * (rng.random((rows, n)) > 0.2) * (rng.random((rows, 1)) > 0.15)
    values = [rng.lognormal(3, 2, (rows, n)) for _ in range(k)]
    for idx in (inference._load_key(load), np.round(load * 4 * inference.HOUR_BINS).astype(np.int64)):
        got = inference._bin_rows(idx, w, *values)
        assert len(got) == rows
        for r, (got_values, got_w) in enumerate(got):
            want_values, want_w = inference._bin_hours(idx[r], w[r], *(v[r] for v in values))
            np.testing.assert_array_equal(got_w, want_w)
            assert len(got_values) == k
            for g, e in zip(got_values, want_values):
                np.testing.assert_array_equal(g, e)


def _latency_definition(rt_served, batch_served, cap, tables, output, tpot_ms, ca2, ttft_sla_ms):
    """One deployment's latency as serve() computed it in its per-deployment loop (verbatim)."""
    from engine.inference import HOUR_BINS, T, _bin_hours, _gg1_exceed, _interp_load_grid, _load_key, _normal_exceed
    step_t, chunk_t, share_t, base_t, service, prompt_t = tables
    tokens_h = rt_served + batch_served  # replica-hours: proportional to output tokens
    up = cap > 0  # hours with replicas running
    busy = np.divide(tokens_h, cap, out=np.zeros(T), where=up)
    rt_load = np.divide(rt_served, cap, out=np.ones(T), where=up)
    step_h, chunk_h, share_h, base_h, pre_load_h = _interp_load_grid(busy, step_t, chunk_t, share_t, base_t, prompt_t)
    tpot_mean_h = step_h + chunk_h * share_h  # a request's TPOT: the mean over its tokens
    frac_h = share_h - np.floor(share_h)  # steps carry floor(q) chunks, a share frac one more
    tpot_sd_h = chunk_h * np.sqrt(frac_h * (1 - frac_h) / output)
    tokens_total = tokens_h.sum()
    tpot_miss = float((tokens_h * _normal_exceed(tpot_mean_h, tpot_sd_h, tpot_ms)).sum() / tokens_total) if tokens_total > 0 else 0.0
    (b_mean, b_sd), b_tokens = _bin_hours(np.round(busy * (4 * HOUR_BINS)).astype(np.int64), tokens_h, tpot_mean_h, tpot_sd_h)
    hi_tpot = float((step_h + chunk_h * np.ceil(share_h + 1e-9)).max())
    tpot_search = (b_mean, b_sd, b_tokens, (0.5, 0.95), float(step_h.min()), hi_tpot)
    rt_req_h = rt_served  # requests per hour are proportional to real-time replica-hours served
    sla_wait = ttft_sla_ms - base_h  # the queueing a request can take and still meet the TTFT SLA
    limit = np.maximum(0.0, sla_wait)  # admission control turns away what would start late
    prompt_h = np.where(pre_load_h > 0, float(service[2]), 0.0)
    ttft_exceed = _gg1_exceed(rt_load, float(service[0]), ca2, sla_wait, limit, float(service[1]), pre_load_h, prompt_h)
    rt_served_total = rt_served.sum()  # rt_req_h's
    ttft_miss = float((rt_req_h * ttft_exceed).sum() / rt_served_total) if rt_served_total > 0 else 0.0
    (b_load, b_base, b_limit, b_pl, b_pm), b_reqs = _bin_hours(_load_key(rt_load), rt_req_h, rt_load, base_h, limit, pre_load_h, prompt_h)
    if not b_reqs.size:  # no real-time request all quarter: the idle replica's first token
        b_load, b_base, b_limit, b_pl, b_pm, b_reqs = np.zeros(1), base_h[:1], limit[:1], np.zeros(1), np.zeros(1), np.zeros(1)
    ttft_search = (b_load, b_base, b_reqs, float(service[0]), ca2, (0.5, 0.95), b_limit, float(service[1]), b_pl, b_pm)
    return tokens_total, tpot_miss, ttft_miss, tpot_search, ttft_search


def _assert_same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w)
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want)
        assert got.shape == want.shape
    else:
        assert got == want and type(float(got)) is type(float(want))


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, rows=st.integers(1, 5), slots=st.sampled_from([1.0, 6.0, 48.0]), idle_row=st.booleans())
def test_a_catalog_latency_together_equals_each_deployment_alone(seed, rows, slots, idle_row):
    """Issue 12 item 6: ``_latency`` puts every deployment's hours through each array operation
    together; each deployment gets what the per-deployment code it replaced gave, to the bit: SLA
    miss shares, replica-hours, the TPOT and TTFT load bins. Replicas missing in some hours (spot
    reclaimed, cold start), overloaded hours, a deployment without a prefill stage (its term
    exactly 0 beside one with) and one without real-time traffic."""
    rng = np.random.default_rng(seed)
    T = inference.T
    grid = inference.LOAD_GRID
    cap = np.repeat(rng.integers(1, 9, (rows, 1)).astype(float), T, axis=1)
    cap[rng.random((rows, T)) < 0.2] -= 1
    cap[:, 0] = np.where(rng.random(rows) < 0.5, 0.0, cap[:, 0])
    need = cap * rng.uniform(0.1, 1.3, (rows, 1)) * (1 + 0.5 * np.sin(np.arange(T) / 24 * 2 * np.pi))
    rt_served = np.minimum(need, cap) * rng.uniform(0.3, 1.0, (rows, 1))
    if idle_row:
        rt_served[-1] = 0.0
    batch_served = np.maximum(0.0, cap - rt_served) * rng.uniform(0, 1, (rows, T)) * (rng.random((rows, 1)) > 0.3)
    tables, outputs, tpot_ms, ca2 = [], [], [], []
    for r in range(rows):
        step = np.maximum.accumulate(rng.uniform(10, 80, grid.size))
        service = np.array([rng.uniform(50, 5000), slots if r % 2 else max(1.0, slots / 2), rng.uniform(1, 80)])
        prompt = rng.uniform(0, 0.6, grid.size) * (r % 3 != 1)  # every third deployment: no prefill stage
        tables.append((step, rng.uniform(0, 40, grid.size), rng.uniform(0, 3, grid.size), rng.uniform(40, 2500, grid.size), service, prompt))
        outputs.append(int(rng.integers(100, 800)))
        tpot_ms.append(float(rng.uniform(20, 90)))
        ca2.append(float(rng.uniform(0.5, 6)))
    got = inference._latency(rt_served, batch_served, cap, tables, outputs, tpot_ms, ca2, 2000.0)
    for r in range(rows):
        want = _latency_definition(rt_served[r], batch_served[r], cap[r], tables[r], outputs[r], tpot_ms[r], ca2[r], 2000.0)
        _assert_same(tuple(got[r]), want)


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, rows=st.integers(1, 5), n=st.integers(1, 2184), backlog=st.sampled_from([0.0, 3.5, 1e4]))
def test_batch_queues_of_a_catalog_together_equal_demand_batch_queue(seed, rows, n, backlog):
    """The catalog's batch queues (the Lindley recursion, DESIGN.md "Time") run together along each
    row give ``demand.batch_queue`` of each deployment alone, to the bit: served work per tick and
    the backlog carried over (capped at a week of arrivals)."""
    from engine.demand import batch_queue

    rng = np.random.default_rng(seed)
    arrivals = rng.uniform(0, 10, (rows, n)) * (rng.random((rows, n)) > 0.3)
    capacity = rng.uniform(0, 12, (rows, n))
    backlogs = [backlog * float(rng.uniform(0, 2)) for _ in range(rows)]
    served, carried = inference._batch_queue_rows(arrivals, capacity, backlogs)
    for r in range(rows):
        alone = batch_queue(arrivals[r], capacity[r], backlogs[r])
        np.testing.assert_array_equal(served[r], alone.served)
        assert carried[r] == alone.backlog


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, rows=st.integers(1, 5), n=st.integers(1, 2184), q=st.sampled_from([0.0, 50.0, 95.0, 99.9, 100.0]))
def test_percentiles_of_a_catalog_together_equal_each_row_alone(seed, rows, n, q):
    """``replicas_needed_p95``: one partition along the rows gives each row's ``_percentile`` (and
    so np.percentile), to the bit; a row with a NaN gives NaN."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(2, 1, (rows, n))
    x[:, : n // 3] = np.round(x[:, : n // 3])  # ties
    got = inference._percentile_rows(x, q)
    for r in range(rows):
        assert got[r] == inference._percentile(x[r], q) == float(np.percentile(x[r], q))
    x[0, n // 2] = np.nan
    assert math.isnan(inference._percentile_rows(x, q)[0])


def test_a_catalog_served_together_gives_each_deployment_what_it_gets_alone():
    """serve() runs the catalog's hours as one row per deployment; with GPUs for every replica (no
    spot: nothing shared), each deployment's result is what it gets served alone, float for float,
    also when a model is missing from a segment's mix (its row skips that segment's arrays)."""
    from engine.game import Game
    from scenarios import load_scenario

    sc = load_scenario("inference-2025").scenario
    game = Game(sc, 1)
    game.play([
        {"kind": "rent_gpus", "gen": "h100", "on_demand": 320, "spot": 0},
        {"kind": "deploy_model", "model": "mixtral-8x7b", "gen": "h100", "precision": "fp8", "replicas": 8},
        {"kind": "deploy_model", "model": "llama-3.1-405b", "gen": "h100", "precision": "fp8", "replicas": 4, "tpot_ms": 80},
    ])
    state, world = game.state, game.world
    assert len(state.inference.deployments) == 4
    traffic = tuple(tr.model_copy(update={"model_mix": {m: x for m, x in tr.model_mix.items() if not (tr.segment == "enterprise" and m == "mixtral-8x7b")}})
                    for tr in sc.rules.inference.traffic)
    params = sc.rules.inference.model_copy(update={"traffic": traffic})
    hourly = {"h100": 2.0}

    def served(deployments):
        s = state.model_copy(deep=True)
        s.inference.deployments = [d.model_copy() for d in deployments]
        return inference.serve(s, world, params, hourly, np.random.default_rng(7)).models

    together = served(state.inference.deployments)
    assert [m.model for m in together] == [d.model for d in state.inference.deployments]
    for d, m in zip(state.inference.deployments, together):
        (alone,) = served([d])
        assert dict(alone) == dict(m)


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 3000))
def test_load_segments_by_arithmetic_equal_searchsorted(seed, n):
    """The latency tables' segment of each load (``_load_segment``: the evenly spaced grid's
    arithmetic, one comparison with each end) is np.searchsorted's, clipped to the grid: loads on
    grid points and next to them (a float either side), below, above and far above the grid."""
    rng = np.random.default_rng(seed)
    grid = inference.LOAD_GRID
    on = rng.choice(grid, n)
    x = np.select([rng.random(n) < 0.2, rng.random(n) < 0.25, rng.random(n) < 0.1, rng.random(n) < 0.1],
                  [on, np.nextafter(on, np.where(rng.random(n) < 0.5, -1.0, 2.0)), rng.uniform(-2, 0, n), rng.uniform(0.99, 1e6, n)],
                  rng.uniform(0, 1.0, n))
    want = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
    np.testing.assert_array_equal(inference._load_segment(x), want)
    np.testing.assert_array_equal(inference._load_segment(x.reshape(1, n)), want.reshape(1, n))
