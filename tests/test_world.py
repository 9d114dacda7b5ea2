"""The exogenous world: determinism, calibration bands, demand shape, events and offers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.calendar import TICKS_PER_QUARTER
from engine.demand import peak_to_mean, price_response, weekly_shape
from engine.world import (
    DEFAULT_ROADMAP,
    EVENT_KINDS,
    ScriptedEvent,
    ScriptedOffer,
    WorldParams,
    build_world,
)

START = "2025Q1"
QUIET = WorldParams(random_event_rate=0.0)  # no random events: isolates one mechanism


def h100(world, q: int) -> float:
    return world.quarter(q).gpus["h100"].on_demand_usd_per_hour


def without(*gens: str) -> tuple:
    return tuple(g for g in DEFAULT_ROADMAP if g.gen not in gens)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_world_different_seed_different_world():
    """DESIGN.md "The engine's contract": deterministic and fair (keyed streams, no global RNG)."""
    a = build_world(WorldParams(), 7, START, 20)
    b = build_world(WorldParams(), 7, START, 20)
    for q in range(32):
        assert a.quarter(q) == b.quarter(q)
    for q in (0, 5):
        da, db = a.demand(q), b.demand(q)
        for seg in da.by_segment:
            assert da.by_segment[seg].tobytes() == db.by_segment[seg].tobytes()
        assert da.spike_multiplier.tobytes() == db.spike_multiplier.tobytes()
    c = build_world(WorldParams(), 8, START, 20)
    assert any(a.quarter(q) != c.quarter(q) for q in range(1, 20))
    assert a.demand(0).by_segment["startup"].tobytes() != c.demand(0).by_segment["startup"].tobytes()


def test_quarter_does_not_depend_on_game_length():
    """DESIGN.md "Fair": draws keyed by (seed, subsystem, quarter), so horizon never matters."""
    short = build_world(WorldParams(), 3, START, 20)
    long = build_world(WorldParams(), 3, START, 40)
    for q in range(32):
        assert short.quarter(q) == long.quarter(q)
    assert short.demand(11).by_segment["batch"].tobytes() == long.demand(11).by_segment["batch"].tobytes()


def test_horizon_is_n_plus_twelve():
    """Callers may look 3 years ahead to price contracts; beyond that is an error."""
    w = build_world(WorldParams(), 1, START, 12)
    w.quarter(23)
    with pytest.raises(IndexError):
        w.quarter(24)
    with pytest.raises(IndexError):
        w.demand(-1)


# ----------------------------------------------------------------------------- GPU-hour prices


def test_h100_on_demand_2025q1_in_mid_market_band():
    """CALIBRATION 21 / KB §1: H100 rental $2.00-3.00/h mid-market by 2025 (target $2.2-3.0)."""
    for seed in range(5):
        assert 2.2 <= h100(build_world(WorldParams(), seed, START, 12), 0) <= 3.0


def test_reserved_and_spot_discounts():
    """CALIBRATION 21 / KB §2: reserved 30-60% below on-demand, spot 60-80% below."""
    for seed in range(3):
        w = build_world(WorldParams(), seed, START, 20)
        for q in range(20):
            for m in w.quarter(q).gpus.values():
                if m.gen not in ("h100", "h200", "b200"):
                    continue
                od = m.on_demand_usd_per_hour
                for term, rate in m.reserved_usd_per_hour.items():
                    assert 0.30 - 1e-3 <= 1 - rate / od <= 0.60 + 1e-3, (q, m.gen, term)
                assert 0.60 - 1e-3 <= 1 - m.spot_usd_per_hour / od <= 0.80 + 1e-3
                assert m.lease_usd_per_hour == m.reserved_usd_per_hour[4]
                assert m.cash_floor_usd_per_hour <= m.spot_usd_per_hour


def test_2023_peak_with_raised_scarcity_premium():
    """CALIBRATION 21 / KB §1: H100 ~$7-8/h at the 2023 peak (scenario raises the premium)."""
    params = WorldParams(scarcity_premium_start=3.3)
    for seed in range(3):
        w = build_world(params, seed, "2023Q1", 12)
        assert 7.0 <= h100(w, 0) <= 8.0
        assert h100(w, 11) < 3.5  # and back toward the 2025 band two-plus years later


def test_prices_cycle_as_well_as_deflate():
    """CALIBRATION 21: prices cycle as well as fall (seeded AR(1) premium over a decaying trend)."""
    rising = ending_lower = 0
    for seed in range(20):
        w = build_world(WorldParams(), seed, START, 20)
        path = [h100(w, q) for q in range(20)]
        rising += any(b > a for a, b in zip(path, path[1:]))
        ending_lower += path[-1] < path[0]
    assert rising >= 15
    assert ending_lower >= 18


def test_new_generation_pushes_older_down():
    """DESIGN.md "Prices" / KB §3: a new generation pushes the old one down (parity by perf)."""
    full = build_world(QUIET, 1, START, 20)
    no_blackwell = build_world(QUIET.model_copy(update={"roadmap": without("b200", "gb200")}), 1, START, 20)
    assert h100(full, 0) <= h100(no_blackwell, 0)  # B200 launches 2025Q1 at a launch premium
    assert h100(full, 2) < h100(no_blackwell, 2)  # its parity pressure phases in as it ramps
    assert h100(full, 4) < 0.9 * h100(no_blackwell, 4)
    no_x300 = build_world(QUIET.model_copy(update={"roadmap": without("x300")}), 1, START, 20)
    assert h100(full, 9) == h100(no_x300, 9)  # X300 arrives 2027Q3 = quarter 10
    assert h100(full, 11) < 0.95 * h100(no_x300, 11)
    assert h100(full, 14) < 0.9 * h100(no_x300, 14)
    assert full.quarter(14).gpus["b200"].on_demand_usd_per_hour < no_x300.quarter(14).gpus["b200"].on_demand_usd_per_hour


def test_generation_ladder_and_floors():
    """KB §1-§3: newer chips rent for more per hour; nobody rents below the cash floor."""
    w = build_world(WorldParams(), 1, START, 20)
    for q in range(32):
        gpus = w.quarter(q).gpus
        assert list(gpus) == ["a100", "h100", "h200", "b200", "gb200", "x300"]
        od = [gpus[g].on_demand_usd_per_hour for g in gpus]
        assert od == sorted(od)
        for m in gpus.values():
            assert m.on_demand_usd_per_hour >= m.cash_floor_usd_per_hour > 0


def test_roadmap_launches_allocation_and_lead_times():
    """DESIGN.md "GPU generations": launch quarters, tight allocation at launch, lead times."""
    w = build_world(WorldParams(), 1, START, 20)
    q0 = w.quarter(0).gpus
    assert q0["b200"].available and not q0["gb200"].available and not q0["x300"].available
    assert q0["b200"].allocation_limit < q0["h100"].allocation_limit  # tight right after launch
    assert q0["b200"].lead_time_quarters >= 2
    assert q0["gb200"].allocation_limit == 0 and q0["gb200"].demand_mix == 0.0
    assert w.quarter(1).gpus["gb200"].available
    assert w.label(10) == "2027Q3" and w.quarter(10).gpus["x300"].available
    assert not w.quarter(9).gpus["x300"].available
    assert any(e.kind == "generation_launch" and "X300" in e.title for e in w.quarter(10).events)
    for q in range(32):
        gpus = w.quarter(q).gpus
        assert math.isclose(sum(m.demand_mix for m in gpus.values()), 1.0, rel_tol=1e-12)
        for m in gpus.values():
            assert m.lead_time_quarters >= 1 and m.allocation_limit % 8 == 0
    assert w.quarter(6).gpus["b200"].allocation_limit > q0["b200"].allocation_limit  # ramped
    h100_price = q0["h100"].list_price_usd
    assert 22_000 <= h100_price <= 28_000  # ~$28K at launch (KB §1, §3), decaying since 2022Q4
    assert 30_000 <= q0["b200"].list_price_usd <= 40_000  # KB §1: B200 ~$30-40K


# ----------------------------------------------------------------------------- secondary market


@pytest.mark.parametrize("case,share", [("bull", 0.40), ("base", 0.20), ("bear", 0.05)])
def test_residual_value_three_years_after_launch(case, share):
    """KB §3 / CALIBRATION 20: an H100 retains 40% bull / 20% base / 5% bear after 3 years."""
    w = build_world(QUIET.model_copy(update={"residual_case": case}), 1, START, 12)
    assert w.label(3) == "2025Q4"  # H100 launched 2022Q4
    assert w.quarter(3).gpus["h100"].secondary_usd / 28_000 == pytest.approx(share, rel=0.02)
    values = [w.quarter(q).gpus["h100"].secondary_usd for q in range(12)]
    assert all(b <= a for a, b in zip(values, values[1:]))


def test_early_successor_collapses_residual_faster():
    """KB §3 "Technology obsolescence": a newer architecture arriving early strands the old chip."""
    normal = build_world(QUIET, 1, START, 12)
    early = [g.model_copy(update={"launch": "2023Q4"}) if g.gen == "b200" else g for g in DEFAULT_ROADMAP]
    rushed = build_world(QUIET.model_copy(update={"roadmap": tuple(early)}), 1, START, 12)
    assert rushed.quarter(3).gpus["h100"].secondary_usd < 0.8 * normal.quarter(3).gpus["h100"].secondary_usd


# ----------------------------------------------------------------------------- tokens, power, macro


def test_token_prices_fall_tenfold_a_year_until_the_competitor_cost_floor():
    """CALIBRATION 22 / KB §1: a fixed capability's $/M falls ~10x a year, but never below what an
    efficient competitor pays to serve the tier's model (issue 9 item 8): no series goes to zero."""
    from engine.inference import InferenceParams, competitor_cost_per_m_output

    w = build_world(QUIET, 1, START, 24)
    tenfold = 0
    for q in range(20):
        wq, later = w.quarter(q), w.quarter(q + 1)
        for tier, model in QUIET.token_tier_models.items():
            floor = competitor_cost_per_m_output(wq.gpus, InferenceParams(), model)
            assert wq.token_usd_per_m[tier] >= floor * (1 - 1e-9)
            assert wq.token_usd_per_m[tier] > 0.002  # never "essentially zero" (was 100,000x down in 5 years)
            if later.token_usd_per_m[tier] > competitor_cost_per_m_output(later.gpus, InferenceParams(), model):
                assert wq.token_usd_per_m[tier] / later.token_usd_per_m[tier] == pytest.approx(10.0 ** 0.25, rel=0.01)
                tenfold += 1
    assert tenfold >= 6  # the deflation is visible before the floor binds
    q0, q20 = w.quarter(0).token_usd_per_m, w.quarter(20).token_usd_per_m
    assert 10 <= q0["405b-class"] / q0["8b-class"] <= 20  # CALIBRATION 23: 8B ~10-20x cheaper than 405B
    assert all(q0[t] / q20[t] < 1000 for t in q0)  # was 100,000x at 10x a year with no floor


def test_power_colo_and_macro_defaults():
    """KB §1, §8 (power, colo), KB §4 (SOFR + 250/400 bps), KB §18 (multiples)."""
    w = build_world(QUIET, 1, START, 20)
    q0 = w.quarter(0)
    assert q0.electricity_usd_per_kwh == {"grid": 0.09, "stranded-gas": 0.03, "ppa": 0.05}
    assert q0.colo_usd_per_kw_month == 180.0
    assert q0.sofr == 0.043 and q0.spread_ig_bps == 250 and q0.spread_sub_ig_bps == 400
    grids = {w.quarter(q).electricity_usd_per_kwh["grid"] for q in range(20)}
    assert len(grids) > 5 and all(0.05 < g < 0.15 for g in grids)  # grid wobbles
    assert {w.quarter(q).electricity_usd_per_kwh["ppa"] for q in range(20)} == {0.05}  # PPA is fixed
    sofrs = [w.quarter(q).sofr for q in range(20)]
    assert len(set(sofrs)) > 10 and all(0.0 < s < 0.10 for s in sofrs)
    for q in range(20):
        wq = w.quarter(q)
        assert 4.0 <= wq.infra_revenue_multiple <= 9.0 and 11.0 <= wq.software_revenue_multiple <= 25.0
        assert 0.3 <= wq.spot_take_rate <= 0.8
        assert wq.sub_ig_default_prob == pytest.approx(0.01)


# ----------------------------------------------------------------------------- demand


def test_demand_size_and_growth_for_neocloud_2025():
    """KB §1 segments; neocloud-2025: ~600-900 GPUs on-demand demand in quarter 0, +5-12%/quarter."""
    w = build_world(WorldParams(), 1, START, 20)
    d0 = w.demand(0)
    assert d0.ticks == TICKS_PER_QUARTER
    assert set(d0.by_segment) == {"hobbyist", "startup", "enterprise", "batch"}
    for arr in d0.by_segment.values():
        assert arr.shape == (TICKS_PER_QUARTER,) and arr.dtype == np.float64 and not arr.flags.writeable
        assert np.all(arr > 0)
    assert 600 <= d0.total().mean() <= 900
    means = [sum(w.segment_level(q, s) for s in d0.by_segment) for q in (0, 8)]
    growth = (means[1] / means[0]) ** (1 / 8) - 1
    assert 0.05 <= growth <= 0.12
    assert w.segment_level(0, "startup") == pytest.approx(d0.by_segment["startup"].mean(), rel=0.05)


def test_pooling_flattens_peaks():
    """KB §2 statistical multiplexing: segments peak at different hours, so the pool is flatter."""
    params = WorldParams(spikes_per_quarter=0.0, random_event_rate=0.0)
    peak_hours = {s.id: int(np.argmax(weekly_shape(s))) % 24 for s in params.segments}
    assert len(set(peak_hours.values())) == len(peak_hours)
    w = build_world(params, 1, START, 12)
    for q in (0, 5):
        d = w.demand(q)
        ratios = {s: peak_to_mean(a) for s, a in d.by_segment.items()}
        pooled = peak_to_mean(d.total())
        assert pooled < max(ratios.values())
        assert pooled < sum(ratios.values()) / len(ratios)
        assert pooled < min(ratios[s] for s in ("hobbyist", "startup", "enterprise"))


def test_enterprise_weekday_batch_flat():
    """KB §1: enterprise is a business-hours weekday load; batch runs flat through the night."""
    params = WorldParams().segments
    ent = weekly_shape(next(s for s in params if s.id == "enterprise"))
    batch = weekly_shape(next(s for s in params if s.id == "batch"))
    assert ent[: 5 * 24].mean() > 1.2 * ent[5 * 24 :].mean()
    assert peak_to_mean(batch) < peak_to_mean(ent)
    for shape in (ent, batch):
        assert shape.mean() == pytest.approx(1.0, rel=1e-12)


def test_spikes_hit_every_segment_in_the_same_ticks():
    """KB §2 "correlated demand spikes": a model release hits all segments at once."""
    base = WorldParams(spikes_per_quarter=0.0, random_event_rate=0.0)
    release = base.model_copy(update={"events": (ScriptedEvent(quarter="2025Q3", kind="model_release", magnitude=1.5),)})
    calm = build_world(base, 4, START, 12).demand(2)
    busy_world = build_world(release, 4, START, 12)
    busy = busy_world.demand(2)
    assert [s.cause for s in busy_world.quarter(2).spikes] == ["model release"]
    in_spike = busy.spike_multiplier > 1.0
    assert 24 <= in_spike.sum() <= 96
    for seg in busy.by_segment:
        ratio = busy.by_segment[seg] / calm.by_segment[seg]
        assert np.all(ratio[in_spike] > 1.0)  # every segment up in exactly the spike's ticks
        assert np.allclose(ratio[~in_spike], 1.0)
    peak = int(np.argmax(busy.spike_multiplier))
    assert busy.total()[peak] > 1.3 * calm.total()[peak]
    assert any(e.kind == "model_release" and "60%" in e.text for e in busy_world.quarter(2).events)


def test_price_response_is_constant_elasticity_with_a_kink_at_the_market():
    """KB §1 willingness to pay: below the market, constant elasticity (rivals match a cut);
    above it, customers of a near-commodity switch ABOVE_MARKET_SWITCHING times faster (Sweezy's
    kinked demand), so +100% keeps a few percent of a segment and +25% under half."""
    from engine.demand import ABOVE_MARKET_SWITCHING

    assert price_response(2.0, 2.0, 2.5) == 1.0
    assert price_response(1.8, 2.0, 2.5) == pytest.approx(0.9 ** -2.5)
    assert price_response(2.2, 2.0, 2.5) == pytest.approx(1.1 ** (-2.5 * ABOVE_MARKET_SWITCHING))
    assert price_response(1.8, 2.0, 0.6) > 1.0
    for elasticity in (1.8, 2.2, 2.5, 3.0):  # the game's segments, enterprise to hobbyist
        assert price_response(4.0, 2.0, elasticity) < 0.05
        assert price_response(2.5, 2.0, elasticity) < 0.4


# ----------------------------------------------------------------------------- events and offers


def test_random_events_read_in_plain_words():
    """DESIGN.md "Events": each event is reported in plain words, with its number."""
    kinds = set()
    for seed in range(12):
        w = build_world(WorldParams(random_event_rate=1.0), seed, START, 12)
        for q in range(24):
            for e in w.quarter(q).events:
                kinds.add(e.kind)
                assert e.title and len(e.text) > 40 and any(ch.isdigit() for ch in e.text)
                assert e.quarter == q and math.isfinite(e.magnitude)
    assert set(EVENT_KINDS) <= kinds


def test_scripted_rate_shock_moves_sofr_and_spreads():
    """KB §3-§4: a +300 bps rate shock; floating debt costs more, spreads widen."""
    shock = QUIET.model_copy(update={"events": (ScriptedEvent(quarter="2026Q2", kind="rate_shock", magnitude=3.0),)})
    calm, hit = build_world(QUIET, 2, START, 12), build_world(shock, 2, START, 12)
    q = 5
    assert hit.label(q) == "2026Q2"
    assert hit.quarter(q).sofr - calm.quarter(q).sofr == pytest.approx(0.03, abs=1e-9)
    assert hit.quarter(q - 1) == calm.quarter(q - 1)
    assert hit.quarter(q).spread_ig_bps > 250 and hit.quarter(q).spread_sub_ig_bps > 400
    assert hit.quarter(q).infra_revenue_multiple < calm.quarter(q).infra_revenue_multiple
    assert hit.quarter(q + 4).sofr > calm.quarter(q + 4).sofr + 0.02  # the walk carries the shock on
    (event,) = hit.quarter(q).events
    assert "3.00 points" in event.text and f"{100 * hit.quarter(q).sofr:.1f}%" in event.text


def test_world_level_event_effects():
    """DESIGN.md "Events": price war, supply shock, moratorium, default wave, outage, applied in the world."""
    def with_event(kind: str, magnitude: float = 1.0, duration: int = 2):
        ev = ScriptedEvent(quarter="2025Q3", kind=kind, magnitude=magnitude, duration_quarters=duration)
        return build_world(QUIET.model_copy(update={"events": (ev,)}), 5, START, 12)

    calm = build_world(QUIET, 5, START, 12)
    war = with_event("price_war")
    assert h100(war, 2) == pytest.approx(0.85 * h100(calm, 2), rel=1e-3)
    assert war.quarter(2).token_usd_per_m["70b-class"] == pytest.approx(0.75 * calm.quarter(2).token_usd_per_m["70b-class"])
    assert h100(war, 4) == h100(calm, 4)  # over after its 2 quarters
    shortage = with_event("supply_shock")
    s, c = shortage.quarter(2).gpus["h200"], calm.quarter(2).gpus["h200"]
    assert s.allocation_limit <= c.allocation_limit // 2 and s.lead_time_quarters == c.lead_time_quarters + 1
    assert s.on_demand_usd_per_hour > c.on_demand_usd_per_hour
    moratorium = with_event("power_moratorium", duration=3)
    assert [moratorium.quarter(q).build_moratorium for q in range(1, 6)] == [False, True, True, True, False]
    defaults = with_event("customer_default")
    assert defaults.quarter(2).sub_ig_default_prob == pytest.approx(0.07)
    outage = with_event("outage", magnitude=1.5, duration=1)
    wq = outage.quarter(2)
    assert wq.grid_outage_hours == 36 and 0 <= wq.outage_start_tick <= TICKS_PER_QUARTER - 36
    assert outage.quarter(3).grid_outage_hours == 0


def test_scripted_offer_appears_in_its_quarter():
    """KB §4: a scripted anchor tenant (e.g. a 15-year contract) is offered when the scenario says."""
    anchor = ScriptedOffer(quarter="2025Q3", customer="Stargate Anchor", gen="gb200", gpus=7200,
                           term_quarters=60, usd_per_gpu_hour=3.10, grade="AA")
    w = build_world(QUIET.model_copy(update={"scripted_offers": (anchor,)}), 1, START, 12)
    offers = w.quarter(2).offers
    assert offers[0].id == "S2025Q3-1" and offers[0].term_quarters == 60 and offers[0].investment_grade
    assert all(o.customer != "Stargate Anchor" for q in (0, 1, 3) for o in w.quarter(q).offers)


def test_random_offers_terms_sizes_prices_and_grades():
    """KB §1-§2, §4: 1-3 year terms at the larger of the forward (reserved) rate and an efficient
    owner's need, haggled by credit and noise; enterprises mostly IG, startups not."""
    grades: dict[str, list[bool]] = {"enterprise": [], "startup": []}
    count = 0
    for seed in range(6):
        w = build_world(WorldParams(offers_per_quarter=5.0), seed, START, 12)
        ids: set[str] = set()  # unique within one game
        for q in range(24):
            wq = w.quarter(q)
            for o in wq.offers:
                assert o.id not in ids
                ids.add(o.id)
                count += 1
                assert o.quarter == q and o.gpus % 8 == 0 and o.gpus >= 8
                assert o.term_quarters in (4, 8, 12)
                m = wq.gpus[o.gen]
                assert m.available
                need = m.cost_floor_usd_per_hour * (1 + WorldParams().contract_margin_over_cost[o.term_quarters])
                ref = max(need, m.reserved_usd_per_hour[o.term_quarters])
                assert max(0.84 * ref, m.cost_floor_usd_per_hour) <= o.usd_per_gpu_hour <= 1.16 * ref + 0.01
                if o.segment in grades:
                    grades[o.segment].append(o.investment_grade)
    assert count > 300
    assert sum(grades["enterprise"]) / len(grades["enterprise"]) > 0.6
    assert sum(grades["startup"]) / len(grades["startup"]) < 0.3


def test_params_validation_names_the_problem():
    """STYLE.md: errors a person can act on (scenario typos must not pass)."""
    with pytest.raises(ValidationError, match="unknown event kind"):
        ScriptedEvent(quarter="2025Q2", kind="meteor")
    with pytest.raises(ValidationError, match="not on the roadmap"):
        WorldParams(roadmap=without("gb200"), scripted_offers=(
            ScriptedOffer(quarter="2025Q2", customer="X", gen="gb200", gpus=72, term_quarters=4,
                          usd_per_gpu_hour=3.0, grade="A"),))
    with pytest.raises(ValidationError):
        WorldParams(residual_case="meh")
    with pytest.raises(ValueError, match="no GPU generation"):
        build_world(WorldParams(), 1, "2019Q1", 12)


# ----------------------------------------------------------------------------- properties


def _money_like(wq) -> list[float]:
    out = [wq.sofr, wq.colo_usd_per_kw_month, wq.infra_revenue_multiple, wq.software_revenue_multiple]
    out += list(wq.token_usd_per_m.values()) + list(wq.electricity_usd_per_kwh.values())
    for m in wq.gpus.values():
        out += [m.list_price_usd, m.on_demand_usd_per_hour, m.spot_usd_per_hour, m.lease_usd_per_hour,
                m.secondary_usd, *m.reserved_usd_per_hour.values()]
    out += [o.usd_per_gpu_hour for o in wq.offers]
    return out


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    start=st.sampled_from(["2023Q1", "2025Q1", "2026Q3"]),
    premium=st.floats(min_value=0.0, max_value=4.0),
    event_rate=st.floats(min_value=0.0, max_value=1.0),
)
def test_no_nan_and_positive_prices(seed, start, premium, event_rate):
    """Every money-like value is finite and positive; demand finite and positive (any seed)."""
    params = WorldParams(scarcity_premium_start=premium, random_event_rate=event_rate, price_cycle_sd=0.3)
    w = build_world(params, seed, start, 8)
    for q in range(20):
        for v in _money_like(w.quarter(q)):
            assert math.isfinite(v) and v > 0
    d = w.demand(seed % 20)
    for arr in (*d.by_segment.values(), d.spike_multiplier):
        assert np.all(np.isfinite(arr)) and np.all(arr > 0)
