"""The player's advisor and forecast (engine/advisor.py; issue 11 "What to build", DESIGN.md "Advisor").

Each risk kind fires on a state built to carry that risk and stays quiet on a healthy one; where
the engine can say what really happens, the test plays the quarter and checks the advisor was right.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine import advisor
from engine.advisor import advise, committed_bills, forecast
from engine.calendar import TICKS_PER_QUARTER
from engine.game import Game
from engine.state import Contract, Loan, copy_state
from engine.step import advance
from scenarios import load_scenario


def _game(name: str, seed: int = 7) -> Game:
    return Game(load_scenario(name).scenario, seed)


def _kinds(advice, severity: str | None = None) -> set[str]:
    return {r.kind for r in advice.risks if severity is None or r.severity == severity}


def _take_cash(state, cents: int) -> None:
    """Pay cash out to the owners (a balanced posting): a thinner company, books still in balance."""
    state.ledger.post("Test distribution", [("cash", -cents), ("paid_in_capital", cents)], "financing")


# ---------------------------------------------------------------- issue 11, item 1


def test_spot_100000_plan_is_refused_with_the_shortfall_and_flagged_issue11_item1():
    """inference-2025 Q1, rent 100,000 spot H100: the bill is 100,000 x the spot rate x 2,184 hours
    ($166.31M) on $120M of cash and no credit offered: the engine refuses it naming the $46.31M
    shortfall, and the advisor flags the plan."""
    g = _game("inference-2025")
    wq = g.world.quarter(0)
    bill = round(100_000 * wq.gpus["h100"].spot_usd_per_hour * TICKS_PER_QUARTER * 100)
    plan = [{"kind": "rent_gpus", "gen": "h100", "on_demand": 0, "spot": 100_000}]
    [result] = g.check(plan)
    short = bill - g.state.cash_cents
    assert not result.ok and short > 0
    assert f"${short / 1e8:.2f}M short" in result.message and f"${bill / 1e8:.2f}M" in result.message
    risks = advise(g.state, g.world, g.scenario, plan).risks
    assert any(r.kind == "rejected" and "short" in r.message for r in risks)


def test_out_of_cash_is_critical_and_the_engine_agrees_issue11_item1():
    """Rentals already on the books whose bill cash cannot pay: the advisor says out of cash, with
    the bill, and playing the quarter does end the game out of cash."""
    g = _game("inference-2025")
    state = copy_state(g.state)
    state.inference.spot["h100"] = 70_000  # committed before: the bill comes whatever the plan
    _take_cash(state, 20_000_000_00)
    a = advise(state, g.world, g.scenario, [])
    cash = [r for r in a.risks if r.kind == "cash"]
    assert cash and cash[0].severity == "critical" and "Out of cash" in cash[0].message
    rentals = dict(a.bills)["GPU rentals"]
    assert rentals == round(70_000 * g.world.quarter(0).gpus["h100"].spot_usd_per_hour * TICKS_PER_QUARTER * 100)
    assert cash[0].number("bills_cents") >= rentals and a.forecast.cash_end_cents < 0
    _, report = advance(state, g.world, g.scenario, [])
    assert report.bankrupt


def test_rental_refusal_changes_nothing_for_affordable_plans():
    g = _game("inference-2025")
    ok = g.check([{"kind": "rent_gpus", "gen": "h100", "on_demand": 64, "spot": 256}])
    assert ok[0].ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(od=st.integers(0, 60_000), spot=st.integers(0, 100_000))
def test_rentals_refused_exactly_when_the_bill_exceeds_cash_plus_credit(od, spot):
    """A GPU provider checks credit: refused if and only if the quarter's rental bill exceeds free
    cash plus the credit lenders offer (engine.actions.rental_bill_cents, available_credit_cents)."""
    from engine.actions import available_credit_cents, rental_bill_cents

    g = _GAME_INF
    bill = rental_bill_cents(g.state, g.world.quarter(0), g.scenario.rules, {"h100": (od, spot)})
    [r] = g.check([{"kind": "rent_gpus", "gen": "h100", "on_demand": od, "spot": spot}])
    over = bill > g.state.cash_cents + available_credit_cents(g.state)
    assert r.ok == (not over) or (not r.ok and "rental bill" not in r.message)


_GAME_INF = _game("inference-2025")


# ---------------------------------------------------------------- a healthy company


def test_a_healthy_quarter_flags_nothing():
    g = _game("neocloud-2025")
    a = advise(g.state, g.world, g.scenario, [])
    assert a.risks == () and a.forecast is not None and a.forecast.cash_end_cents > 0


# ---------------------------------------------------------------- runway and covenant


def test_runway_fires_when_the_expected_burn_outlasts_cash_little():
    """inference-2025 burns cash (negative EBITDA at the start); left with $2M it has under
    four quarters: runway = end cash / quarterly burn, both from the forecast."""
    g = _game("inference-2025")
    assert "runway" not in _kinds(advise(g.state, g.world, g.scenario, []))
    state = copy_state(g.state)
    _take_cash(state, state.cash_cents - 2_000_000_00)
    a = advise(state, g.world, g.scenario, [])
    [r] = [r for r in a.risks if r.kind == "runway"]
    assert r.number("runway_quarters") == pytest.approx(a.forecast.cash_end_cents / r.number("burn_cents"))
    assert r.number("runway_quarters") < advisor.RUNWAY_WARN_QUARTERS


def test_projected_dscr_below_default_is_critical_and_the_test_fails():
    """A big one-year loan on neocloud-2025: a year of service the quarter's cash flow cannot cover.
    The advisor projects the trailing DSCR below the default level; the quarter's test agrees."""
    g = _game("neocloud-2025")
    state = copy_state(g.state)
    cents = 200_000_000_00
    state.loans.append(Loan(id="D99", lender="Test Bank", kind="term", principal_cents=cents, balance_cents=cents,
                            spread_bps=300, tenor_quarters=4, start_quarter=0, scheduled_principal_cents=cents // 4))
    state.ledger.post("Debt drawn", [("cash", cents), ("debt", -cents)], "financing")
    a = advise(state, g.world, g.scenario, [])
    [r] = [r for r in a.risks if r.kind == "covenant"]
    assert r.severity == "critical" and r.number("dscr") < r.number("default")
    _, report = advance(state, g.world, g.scenario, [])
    assert report.kpis.dscr is not None and report.kpis.dscr < g.scenario.rules.covenant_default_dscr
    assert a.forecast.dscr == pytest.approx(report.kpis.dscr, rel=0.05)


# ---------------------------------------------------------------- what ends within two quarters (issue 11, item 2)


def test_a_lease_ending_this_quarter_names_the_replicas_it_takes_issue11_item2():
    """inference-2025's H100 lease (the whole starting block), made to end after this quarter: the advisor says the models
    lose GPUs (critical); at its real end (quarter 6) nothing is said in quarter 0."""
    g = _game("inference-2025")
    assert "ending" not in _kinds(advise(g.state, g.world, g.scenario, []))
    state = copy_state(g.state)
    lease = next(l for l in state.lots if l.ownership == "leased")
    lease.lease_end_quarter = 1
    [r] = [r for r in advise(state, g.world, g.scenario, []).risks if r.kind == "ending"]
    assert r.severity == "critical" and r.number("gpus") == lease.count and r.number("replicas_short_gpus") > 0
    assert "2025Q1" in r.message and "replicas" in r.message


def test_a_contract_ending_within_two_quarters_names_its_revenue():
    g = _game("neocloud-2025")
    ending = [c for c in g.state.contracts if c.end_quarter <= 2]
    assert not ending and "ending" not in _kinds(advise(g.state, g.world, g.scenario, []))
    g.play([])
    a = advise(g.state, g.world, g.scenario, [])
    c = min(g.state.contracts, key=lambda c: c.end_quarter)
    assert c.end_quarter <= 3
    [r] = [r for r in a.risks if r.kind == "ending" and c.customer in r.message]
    assert r.number("revenue_per_quarter_cents") == round(c.gpus * c.usd_per_gpu_hour * TICKS_PER_QUARTER * 100)


def test_a_maturing_loan_is_announced():
    g = _game("neocloud-2025")
    state = copy_state(g.state)
    loan = state.loans[0]
    loan.tenor_quarters = 1
    [r] = [r for r in advise(state, g.world, g.scenario, []).risks if r.kind == "ending"]
    assert r.severity == "warning" and r.number("balance_cents") == loan.balance_cents


def test_each_ending_risk_names_its_item_in_its_subject_issue11():
    """Risk.subject (engine.advisor.SUBJECTS) names what ends by its id in the state: neocloud-2025's colo
    site S-VA (term made to end after next quarter), its loan D3 (made to mature), and, after one quarter,
    its soonest contract; inference-2025's lease L1 made to end; a refused action by its index in the plan."""
    g = _game("neocloud-2025")
    state = copy_state(g.state)
    site = next(s for s in state.sites if s.kind == "colo")
    site.lease_end_quarter = 2
    state.loans[0].tenor_quarters = 1
    plan = [{"kind": "rent_gpus", "gen": "h100", "on_demand": 0, "spot": 100_000}]  # refused: the bill exceeds cash and credit
    risks = advise(state, g.world, g.scenario, plan).risks
    by_subject = {r.subject: r for r in risks}
    assert f"colo:{site.id}" in by_subject and site.name in by_subject[f"colo:{site.id}"].message
    assert f"loan:{state.loans[0].id}" in by_subject and state.loans[0].id in by_subject[f"loan:{state.loans[0].id}"].message
    assert by_subject["plan:0"].kind == "rejected"
    g.play([])
    c = min(g.state.contracts, key=lambda c: c.end_quarter)
    [r] = [r for r in advise(g.state, g.world, g.scenario, []).risks if r.subject == f"contract:{c.id}"]
    assert r.kind == "ending" and r.message.startswith(f"{c.customer}'s contract")
    gi = _game("inference-2025")
    state = copy_state(gi.state)
    lease = next(l for l in state.lots if l.ownership == "leased")
    lease.lease_end_quarter = 1
    [r] = [r for r in advise(state, gi.world, gi.scenario, []).risks if r.kind == "ending"]
    assert r.subject == f"lease:{lease.id}"


@pytest.mark.parametrize("name", ["neocloud-2025", "inference-2025", "rate-shock"])
def test_every_subject_is_a_known_topic_or_an_item_of_the_state(name):
    """Over eight quarters of the barbell bot: each risk's subject is one of SUBJECTS, and an item's id exists."""
    from engine.advisor import SUBJECTS
    from engine.bots import make_bot

    g = _game(name)
    bot = make_bot("barbell")
    seen = set()
    for _ in range(8):
        if g.over:
            break
        plan = bot.act(g.observation())
        for r in advise(g.state, g.world, g.scenario, plan).risks:
            what, _, item = r.subject.partition(":")
            assert what in SUBJECTS, r
            ids = {"lease": {l.id for l in g.state.lots}, "contract": {c.id for c in g.state.contracts},
                   "loan": {l.id for l in g.state.loans}, "colo": {s.id for s in g.state.sites},
                   "plan": {str(i) for i in range(len(plan))}}.get(what)
            assert ids is None or item in ids, r
            seen.add(what)
        g.play(plan)
    assert seen  # the bot's companies are warned about something in eight quarters


# ---------------------------------------------------------------- SLA and capacity


def test_contracts_beyond_the_fleet_are_an_sla_risk():
    g = _game("neocloud-2025")
    state = copy_state(g.state)
    from engine.actions import active_gpus

    have = active_gpus(state, "h100", 0)
    state.contracts.append(Contract(id="CX", customer="Test Co", segment="enterprise", gen="h100", gpus=have + 100,
                                    term_quarters=8, usd_per_gpu_hour=2.0, grade="A", start_quarter=0, end_quarter=8))
    [r] = [r for r in advise(state, g.world, g.scenario, []).risks if r.kind == "sla"]
    assert r.severity == "critical" and r.number("contracted_gpus") > r.number("gpus_in_service")


def test_replicas_without_gpus_are_a_capacity_shortfall():
    g = _game("inference-2025")
    state = copy_state(g.state)
    d = state.inference.deployments[0]
    d.replicas *= 20  # more replicas than the pool holds
    risks = [r for r in advise(state, g.world, g.scenario, []).risks if r.kind == "capacity"]
    assert risks and risks[0].severity == "critical" and risks[0].number("replicas") < d.replicas
    assert "capacity" not in _kinds(advise(g.state, g.world, g.scenario, []), "critical")


def test_ttft_sla_risk_matches_the_played_quarter():
    """The advisor's TTFT warning for a model is the quarter's own verdict on its SLA."""
    g = _game("inference-2025")
    flagged = {r.message.split("'")[0].removeprefix("SLA: ") for r in advise(g.state, g.world, g.scenario, []).risks if "time to first token" in r.message}
    report = g.play([])
    missed = {m.model for m in report.inference.models if not m.ttft_sla_met}
    assert flagged == missed


# ---------------------------------------------------------------- bills and the forecast


def test_committed_bills_are_what_the_quarter_charges():
    """Debt service, GPU leases and colo rent in the advisor are the amounts the quarter posts."""
    g = _game("inference-2025")
    bills = dict(committed_bills(g.state, g.world, g.scenario))
    report = g.play([])
    assert bills["GPU leases"] == report.income.cogs_gpu_lease
    n = _game("neocloud-2025")
    bills = dict(committed_bills(n.state, n.world, n.scenario))
    report = n.play([])
    assert bills["Debt service"] == n.state.history[-1].debt_service_cents
    assert bills.get("Colocation rent", 0) == report.income.cogs_colo


@pytest.mark.parametrize("name", ["neocloud-2025", "inference-2025"])
def test_forecast_draws_no_random_number(monkeypatch, name):
    """Next quarter at expected values reads no random stream and no drawn demand: the same for a
    state whose seed differs, and untouched when every random source raises."""
    g = _game(name)
    g.play([])  # a quarter in: the world's later quarters carry drawn demand and events
    plan = [{"kind": "buy_gpus", "gen": "h100", "count": 64, "site_id": g.state.sites[0].id}] if g.state.sites else []
    before = forecast(g.state, g.world, g.scenario, plan)
    other = g.state.model_copy(update={"seed": 12345})
    assert forecast(other, g.world, g.scenario, plan) == before

    def no_draws(*args, **kwargs):
        raise AssertionError("the forecast drew a random number")

    import engine.step

    monkeypatch.setattr(engine.step, "stream", no_draws)
    monkeypatch.setattr(type(g.world), "demand", no_draws)
    assert forecast(g.state, g.world, g.scenario, plan) == before


@pytest.mark.parametrize("name", ["neocloud-2025", "inference-2025"])
def test_forecast_is_close_to_the_realized_quarter_in_a_calm_scenario(name):
    """Three quarters of no decisions: expected revenue within 5% of what happened, end cash within
    2% (the quarter's draws are noise around the trend the forecast plays)."""
    g = _game(name)
    for _ in range(3):
        fc = forecast(g.state, g.world, g.scenario, [])
        report = g.play([])
        assert fc.label == report.label
        assert fc.revenue_cents == pytest.approx(report.income.revenue, rel=0.05)
        assert fc.cash_end_cents == pytest.approx(report.balance.cash, rel=0.02)


def test_no_advice_once_the_game_is_over():
    g = _game("neocloud-2025")
    state = g.state.model_copy(update={"game_over": True})
    a = advise(state, g.world, g.scenario, [])
    assert a.risks == () and a.forecast is None


def test_payback_is_price_over_cash_margin_kb3():
    """KB §3 payback: all-in price / ((on-demand price x utilization - power and operations) x 2,184 h)."""
    g = _game("neocloud-2025")
    wq = g.world.quarter(0)
    m = wq.gpus["h100"]
    margin = (m.on_demand_usd_per_hour * 0.8 - m.cash_floor_usd_per_hour) * TICKS_PER_QUARTER
    assert advisor.payback_quarters(wq, g.scenario.rules, "h100", 3_000_000, 0.8) == pytest.approx(30_000 / margin)
    assert advisor.payback_quarters(wq, g.scenario.rules, "h100", 3_000_000, 0.0) is None


# ---------------------------------------------------------------- renewals (issue 11, "Renewals")


def test_renewal_offers_follow_the_segments_appetite_for_contracts():
    """Whether a customer offers to renew is one keyed draw against its segment's contract appetite
    (KB §1): over many seeds Quanta Bio (a startup, appetite 0.35) offers about 35% of the time,
    the same answer in both quarters of the window, and never three quarters out."""
    from engine.step import renewal_offers

    g = _game("neocloud-2025")
    assert not any(o.id.startswith("R-") for o in g.state.offers.contracts)  # it ends in quarter 3: too early
    g.play([])
    appetite = next(s.contract_appetite for s in g.world.params.segments if s.id == "startup")
    offered = [bool(renewal_offers(g.state.model_copy(update={"seed": seed}), g.world)) for seed in range(400)]
    assert sum(offered) / len(offered) == pytest.approx(appetite, abs=0.06)
    later = g.state.model_copy(update={"quarter": 2})
    assert all(bool(renewal_offers(later.model_copy(update={"seed": seed}), g.world)) == offered[seed] for seed in range(40))


def _renewing_game() -> Game:
    """The first seed whose Quanta Bio offers to renew (the draw is keyed, so the seed is too)."""
    for seed in range(1, 40):
        g = _game("neocloud-2025", seed)
        g.play([])
        if any(o.id.startswith("R-") for o in g.state.offers.contracts):
            return g
    raise AssertionError("no seed renews")


def test_a_contract_renewal_offer_arrives_before_it_ends_and_continues_the_revenue():
    """neocloud-2025's Quanta Bio contract ends after 2025Q3 (quarter 2): its renewal offer arrives
    in quarter 1, priced as a new customer of its term is today (engine.world.contract_offer_price),
    starting when the old term ends; signed, the revenue goes on."""
    from engine.step import renewal_offers
    from engine.world import contract_offer_price

    g = _renewing_game()
    c = next(c for c in g.state.contracts if c.customer == "Quanta Bio")
    [offer] = [o for o in g.state.offers.contracts if o.id == f"R-{c.id}"]
    wq = g.world.quarter(1)
    assert offer.gpus == c.gpus and offer.term_quarters == 4
    assert offer.usd_per_gpu_hour == pytest.approx(contract_offer_price(wq.gpus["h100"], 4, g.world.params.contract_margin_over_cost[4]), abs=1e-4)
    assert renewal_offers(g.state, g.world) == [offer]
    assert any(r.kind == "ending" and "Quanta Bio" in r.message for r in advise(g.state, g.world, g.scenario, []).risks)
    plan = [{"kind": "sign_contract", "offer_id": offer.id}]
    assert not any(r.kind == "ending" and "Quanta Bio" in r.message for r in advise(g.state, g.world, g.scenario, plan).risks)
    g.play(plan)
    renewed = next(x for x in g.state.contracts if x.id == offer.id)
    assert (renewed.start_quarter, renewed.end_quarter) == (c.end_quarter, c.end_quarter + 4)
    assert not any(o.id == offer.id for o in g.state.offers.contracts)  # offered until signed, then not again
    g.play([])
    report = g.play([])  # quarter 3: the old term is over, the renewal bills
    expected = round(c.gpus * offer.usd_per_gpu_hour * TICKS_PER_QUARTER * 100) + sum(
        round(x.gpus * x.usd_per_gpu_hour * TICKS_PER_QUARTER * 100) for x in g.state.contracts if x.id != offer.id and x.start_quarter <= 3 < x.end_quarter)
    assert report.income.rev_reserved == pytest.approx(expected, abs=10)
    b = report.balance
    assert b.total_assets == b.total_liabilities + b.total_equity


def test_an_ending_gpu_lease_can_be_renewed_and_the_gpus_stay():
    """inference-2025's H100 lease ends after 2026Q2 (quarter 5). Renewing it in quarter 4 keeps
    the GPUs (no replica goes without) at today's lease rate; too early, or twice, is refused."""
    from engine.actions import lease_rate

    g = _game("inference-2025")
    lease = next(l for l in g.state.lots if l.ownership == "leased")
    plan = [{"kind": "renew_lease", "lot_id": lease.id, "term_quarters": 4}]
    [early] = g.check(plan)
    assert not early.ok and "within 2 quarters" in early.message
    for _ in range(4):
        g.play([])
    assert any(r.kind == "ending" and lease.id in r.message for r in advise(g.state, g.world, g.scenario, []).risks)
    [ok] = g.check(plan)
    assert ok.ok and "2026Q3" in ok.message
    assert not any(r.kind == "ending" for r in advise(g.state, g.world, g.scenario, plan).risks)
    assert not g.check(plan + plan)[1].ok
    g.play(plan)
    new = g.state.lots[-1]
    assert new.lease_usd_per_hour == pytest.approx(lease_rate(g.world.quarter(4), "h100", 4))
    g.play([])
    report = g.play([])  # quarter 6: the old lease is over
    assert not any(n.title == "Replicas without GPUs" for n in report.news)
    assert report.income.cogs_gpu_lease == round(lease.count * new.lease_usd_per_hour * TICKS_PER_QUARTER * 100)


# ---------------------------------------------------------------- sim --json (DESIGN.md "Advisor")


def test_sim_json_carries_each_quarters_warnings(capsys):
    """`tycoon sim --json`: each quarter's `warnings` are the advisor's risks for the bot's plan (the
    same as advise() on that quarter's state), then the report's own warnings."""
    import json

    from engine.bots import make_bot
    from game.cli import main

    assert main(["sim", "--scenario", "inference-2025", "--seed", "7", "--bot", "passive", "--quarters", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    g = _game("inference-2025")
    for q in out["quarters"]:
        plan = make_bot("passive").act(g.observation())
        advised = (copy_state(g.state), g.world, g.scenario, plan)
        expected = [r.message for r in advise(*advised).risks]
        report = g.play(plan)
        assert [w["message"] for w in q["warnings"]] == expected + report.warnings
        assert all(w["severity"] in ("critical", "warning", "info") and isinstance(w["numbers"], dict) for w in q["warnings"])
        assert [w["subject"] for w in q["warnings"]] == [r.subject for r in advise(*advised).risks] + [""] * len(report.warnings)
    # the starting fleet meets Q1 (issue 12 leftovers); a passive company falls behind demand by Q2
    assert any(w["kind"] == "sla" for w in out["quarters"][1]["warnings"])
