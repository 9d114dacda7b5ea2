"""Rivals in one market (issue 15): market clearing among companies, industries, industry files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bots import make_bot, run_bot
from engine.calendar import TICKS_PER_QUARTER as T
from engine.game import Game
from engine.industry import Industry, attraction, public_disclosure, reference_price, reliability, spill, spill_acceptance
from engine.state import copy_state
from scenarios import load_scenario
from tests.test_engine_invariants import _action, _check_books

SCENARIO = load_scenario("neocloud-2025").scenario
LEASE = {"kind": "lease_gpus", "gen": "h100", "count": 512, "term_quarters": 4}


def _bots_play(ind: Industry, quarters: int | None = None) -> None:
    bots = {n: make_bot(c.bot) for n, c in ind.companies.items() if c.bot}
    k = 0
    while not ind.over and (quarters is None or k < quarters):
        ind.play({n: bots[n].act(ind.observation(n)) for n in ind.active()})
        k += 1


def _plans_play(ind: Industry, plans: dict[str, list[list[dict]]]) -> None:
    for q in range(len(next(iter(plans.values())))):
        ind.play({n: p[q] for n, p in plans.items()})


# ------------------------------------------------------------------------------ the rules, worked examples


def test_reference_price_blends_the_world_and_rivals_by_gpus():
    """KB §1 price as a weapon: world $2.00 for 1,000 GPUs of demand, a rival at $1.50 offering
    1,000 GPUs: the market a company prices against is $1.75; alone, the world's $2.00 exactly."""
    assert reference_price(2.0, 1000.0, [(1.5, 1000.0)]) == pytest.approx(1.75)
    assert reference_price(2.0, 1000.0, [(1.5, 500.0), (3.0, 500.0)]) == pytest.approx((2000 + 750 + 1500) / 2000)
    assert reference_price(2.0, 1000.0, []) == 2.0


def test_attraction_and_reliability_worked_example():
    """SLA record 0.9 with a contract relationship: 0.9 x 1.10 = 0.99; no contracts: 1.0."""
    assert attraction(0.9, True) == pytest.approx(0.99)
    assert attraction(1.0, False) == 1.0
    assert reliability(None) == 1.0


def test_spill_worked_example():
    """Tick 0: A pulls 10 with room for 6, B pulls 2 with room for 5: A serves 6, B its 2, and
    A's 4 turned away go to B's 3 free: B serves 3 more, 1 is lost."""
    pulls = [np.full(T, 10.0), np.full(T, 2.0)]
    free = [np.full(T, 6.0), np.full(T, 5.0)]
    own, spilled, lost = spill(pulls, free)
    assert own[0][0] == 6 and own[1][0] == 2
    assert spilled[0][0] == 0 and spilled[1][0] == pytest.approx(3)
    assert lost[0] == pytest.approx(1)


def test_kb1_spill_acceptance_worked_example():
    """KB §1 (a commodity GPU-hour, the rest of the market one click away): customers a rival turned
    away take our room as fully as our own customers would at our price. +50% over the market at
    elasticity 2.0 (x2.5 above the market): 1.5^-5 = 13.2%; at or under the market all of them;
    two segments weighted 3:1 at elasticities 2.0 and 1.0: (3 x 1.5^-5 + 1.5^-2.5) / 4."""
    assert spill_acceptance(3.0, 2.0, [(1.0, 2.0)]) == pytest.approx(1.5 ** -5)
    assert spill_acceptance(1.0, 2.0, [(1.0, 2.0)]) == 1.0
    assert spill_acceptance(2.0, 2.0, [(1.0, 3.0)]) == 1.0
    assert spill_acceptance(3.0, 2.0, [(3.0, 2.0), (1.0, 1.0)]) == pytest.approx((3 * 1.5 ** -5 + 1.5 ** -2.5) / 4)
    assert spill_acceptance(3.0, 2.0, []) == 1.0


def test_spill_to_an_overpriced_rival_worked_example():
    """The spill worked example with B priced so that half the turned-away customers accept it:
    A's 4 turned away see B's 3 free GPUs as 1.5 of room they would pay for; B serves 1.5, 2.5 are lost.
    With a third company C at the market (room 2, all accept), the 4 split 1.5 : 2 (B 1.5, C 2), 0.5 lost."""
    pulls = [np.full(T, 10.0), np.full(T, 2.0)]
    free = [np.full(T, 6.0), np.full(T, 5.0)]
    own, spilled, lost = spill(pulls, free, [1.0, 0.5])
    assert own[1][0] == 2 and spilled[1][0] == pytest.approx(1.5) and lost[0] == pytest.approx(2.5)
    own, spilled, lost = spill(pulls + [np.zeros(T)], free + [np.full(T, 2.0)], [1.0, 0.5, 1.0])
    assert spilled[1][0] == pytest.approx(1.5) and spilled[2][0] == pytest.approx(2.0) and lost[0] == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4), st.floats(0, 1)), min_size=1, max_size=6))
def test_spill_with_acceptance_conserves_and_never_serves_more_than_accepts(companies):
    """Conservation holds whatever the acceptance; a company never serves more spilled customers
    than its room times the share that accepts its price."""
    pulls = [np.full(T, p) for p, _, _ in companies]
    free = [np.full(T, f) for _, f, _ in companies]
    accept = [a for _, _, a in companies]
    own, spilled, lost = spill(pulls, free, accept)
    total = sum(o + s for o, s in zip(own, spilled)) + lost
    np.testing.assert_allclose(total, sum(pulls), rtol=1e-9, atol=1e-6)
    for o, s, f, a in zip(own, spilled, free, accept):
        assert np.all(s <= (f - o) * a * (1 + 1e-9) + 1e-6)
    assert np.all(lost >= -1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4)), min_size=1, max_size=6))
def test_spill_conserves_and_respects_capacity(companies):
    """Conservation: own + spilled + lost = the pulls, per tick; nobody serves beyond its free capacity."""
    pulls = [np.full(T, p) for p, _ in companies]
    free = [np.full(T, f) for _, f in companies]
    own, spilled, lost = spill(pulls, free)
    total = sum(o + s for o, s in zip(own, spilled)) + lost
    np.testing.assert_allclose(total, sum(pulls), rtol=1e-9, atol=1e-6)
    for o, s, f in zip(own, spilled, free):
        assert np.all(o + s <= f * (1 + 1e-9) + 1e-6)
    assert np.all(lost >= -1e-6)


# ------------------------------------------------------------------------------ the industry


@pytest.mark.parametrize("scenario_id,bot,seed", [("neocloud-2025", "barbell", 2), ("inference-2025", "flex", 2)])
def test_one_company_industry_is_the_single_player_game(scenario_id, bot, seed):
    """The hard invariant: an industry of one company gives the single-player game's hashes."""
    sc = load_scenario(scenario_id).scenario
    game = run_bot(Game(sc, seed), make_bot(bot))
    ind = Industry(sc, seed, [("solo", bot)])
    _bots_play(ind)
    assert ind.hashes()["solo"] == game.hashes()


def test_market_clearing_conserves_demand_per_tick_and_segment():
    """Served by all companies + lost = the world's demand, per tick, generation and segment; and
    what the books served (each company's on-demand hours) is what the clearing gave it."""
    ind = Industry(SCENARIO, 3, [("a", "barbell"), ("b", "all-in"), ("c", "flex")], audit=True)
    _bots_play(ind, quarters=6)
    checked = 0
    for iq in ind.quarters:
        per_company_gen: dict[tuple[str, str], float] = {}
        for (gen, _seg), bal in iq.clearing.segments.items():
            total = sum(bal.served.values()) + bal.lost
            np.testing.assert_allclose(total, bal.demand, rtol=1e-9, atol=1e-6)
            assert np.all(bal.lost >= -1e-6)
            for name, served in bal.served.items():
                per_company_gen[(name, gen)] = per_company_gen.get((name, gen), 0.0) + float(served.sum())
            checked += 1
        for (name, gen), hours in per_company_gen.items():
            by_gen = {g.gen: g for g in iq.reports[name].kpis.by_gen}
            assert by_gen[gen].served_gpu_hours["on_demand"] == pytest.approx(hours, rel=1e-9)
    assert checked > 0


def test_two_identical_companies_get_identical_results_in_either_order():
    """Symmetry: identical plans give identical books whatever the listing order (no contract
    contest here: a contested offer can only go to one of them, by the readable bid rule)."""
    plan = [[LEASE, {"kind": "set_price", "gen": "h100", "vs_market": -0.05}]] + [[]] * 5
    for order in (["x", "y"], ["y", "x"]):
        ind = Industry(SCENARIO, 4, [(n, None) for n in order])
        _plans_play(ind, {n: plan for n in order})
        h = ind.hashes()
        assert h["x"] == h["y"]
        assert [r.income.revenue for r in ind.companies["x"].reports] == [r.income.revenue for r in ind.companies["y"].reports]


def test_listing_order_does_not_change_anyones_results():
    plans = {"x": [[LEASE]] + [[]] * 4, "y": [[{"kind": "set_price", "gen": "h100", "vs_market": -0.2}]] + [[]] * 4, "z": [[]] * 5}
    hashes = []
    for order in (["x", "y", "z"], ["z", "y", "x"], ["y", "z", "x"]):
        ind = Industry(SCENARIO, 5, [(n, None) for n in order])
        _plans_play(ind, {n: plans[n] for n in order})
        hashes.append(ind.hashes())
    assert hashes[0] == hashes[1] == hashes[2]


def test_a_price_cut_moves_share_from_the_others():
    """KB §1: one company cuts its H100 price 20%; its rivals' customer bases and served
    on-demand hours fall against the same industry where nobody cuts, and the cutter's rise."""
    cut = {"kind": "set_price", "gen": "h100", "vs_market": -0.2}

    def play(cutter_plan):
        ind = Industry(SCENARIO, 6, [("a", None), ("b", None), ("c", None)])
        _plans_play(ind, {"a": [cutter_plan] + [[]] * 3, "b": [[]] * 4, "c": [[]] * 4})
        return ind

    base, war = play([]), play([cut])

    def od_hours(ind, name):
        return sum(g.served_gpu_hours["on_demand"] for r in ind.companies[name].reports for g in r.kpis.by_gen if g.gen == "h100")

    def h100_base(ind, name):
        return sum(v for k, v in ind.companies[name].state.customer_base.items() if k.startswith("h100/"))

    for rival in ("b", "c"):
        assert h100_base(war, rival) < h100_base(base, rival)
        assert od_hours(war, rival) < od_hours(base, rival)
    assert h100_base(war, "a") > h100_base(base, "a")
    assert od_hours(war, "a") > od_hours(base, "a")


def test_a_contested_contract_goes_to_one_company_by_the_bid_rule():
    """Both sign the same offer; one gets it, the other's signature is refused, whatever the order."""
    probe = Industry(SCENARIO, 7, [("x", None)])
    offer = probe.companies["x"].state.offers.contracts[0]
    sign = {"kind": "sign_contract", "offer_id": offer.id}
    winners = set()
    for order in (["x", "y"], ["y", "x"]):
        ind = Industry(SCENARIO, 7, [(n, None) for n in order])
        iq = ind.play({"x": [sign], "y": [sign]})
        ok = {n: iq.reports[n].actions[0].ok for n in order}
        assert sorted(ok.values()) == [False, True]
        winner = iq.awarded[offer.id]
        assert ok[winner] and sum(1 for c in ind.companies[winner].state.contracts if c.customer == offer.customer) >= 1
        winners.add(winner)
    assert len(winners) == 1


def test_the_better_sla_record_wins_a_contested_contract():
    """Bid rule, first key: the company that missed contracted hours last quarter loses the bid."""
    from engine.industry import award_contracts

    ind = Industry(SCENARIO, 7, [("x", None), ("y", None)])
    offer = ind.companies["x"].state.offers.contracts[0]
    plans = {n: [{"kind": "sign_contract", "offer_id": offer.id}] for n in ("x", "y")}
    states = {n: c.state for n, c in ind.companies.items()}
    assert award_contracts(7, states, plans, {"x": 0.8, "y": 1.0}, ind.world)[offer.id] == "y"
    assert award_contracts(7, states, plans, {"x": 1.0, "y": 0.8}, ind.world)[offer.id] == "x"


def test_public_disclosure_publishes_results_never_plans():
    ind = Industry(SCENARIO, 8, [("a", "all-in"), ("b", "flex")])
    _bots_play(ind, quarters=2)
    c = ind.companies["a"]
    pub = public_disclosure(c.state, c.reports[-1])
    assert set(pub) == {"quarter", "revenue_usd", "fleet", "gpu_hour_prices", "token_prices", "contracted_share", "financings"}
    assert pub["revenue_usd"] == c.reports[-1].income.revenue / 100
    assert pub["fleet"] and all(n > 0 for n in pub["fleet"].values())


# ------------------------------------------------------------------------------ headless and industry files


def _tycoon(capsys, *argv: str) -> tuple[int, str, str]:
    from game.cli import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_industry_sim_json_is_deterministic_and_its_file_verifies(tmp_path, capsys):
    import json

    run = tmp_path / "industry.json"
    rc, out, _ = _tycoon(capsys, "industry", "sim", "--seed", "3", "--bots", "barbell,all-in,flex", "--quarters", "3", "--json", "--run-out", str(run))
    assert rc == 0
    data = json.loads(out)
    assert [c["name"] for c in data["companies"]] == ["barbell", "all-in", "flex"]
    q = data["quarters"][0]["companies"]
    assert {"name", "revenue", "served_gpu_hours", "served_tokens", "price", "share", "score"} <= set(q[0])
    assert sum(c["share"] for c in q) == pytest.approx(1.0, abs=1e-3)
    rc2, out2, _ = _tycoon(capsys, "industry", "sim", "--seed", "3", "--bots", "barbell,all-in,flex", "--quarters", "3", "--json")
    assert out2 == out  # same seed and bots: the same hashes on any run
    rc, out, err = _tycoon(capsys, "verify", str(run))
    assert rc == 0 and "OK (verified 3 quarter(s) of 3 companies)" in out


def test_a_tampered_industry_file_is_refused(tmp_path, capsys):
    """An edited action no longer re-simulates to the recorded hashes (FAILED, exit 1, as for run
    files); a file whose fields are unusable is refused in one line naming the field (exit 2)."""
    import json

    run = tmp_path / "industry.json"
    assert _tycoon(capsys, "industry", "sim", "--seed", "2", "--bots", "flex,all-in", "--quarters", "2", "--run-out", str(run))[0] == 0
    data = json.loads(run.read_text())
    data["quarters"][0]["actions"]["flex"].append({"kind": "set_price", "gen": "h100", "vs_market": -0.3})
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(data))
    rc, out, _ = _tycoon(capsys, "verify", str(bad))
    # flex's price cut moves all-in's customers too: the first company in name order is named
    assert rc == 1 and "FAILED: all-in's state hash differs from quarter 2025Q1 on" in out
    data = json.loads(run.read_text())
    data["companies"][1]["name"] = data["companies"][0]["name"]
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps(data))
    rc, out, err = _tycoon(capsys, "verify", str(dup))
    assert rc == 2 and err.count("\n") == 1 and "field 'companies': names must be unique" in err and "Traceback" not in err
    data = json.loads(run.read_text())
    data["final"]["flex"]["score"] += 1
    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps(data))
    rc, out, _ = _tycoon(capsys, "verify", str(claim))
    assert rc == 1 and "claims flex ended with" in out


def test_industry_new_writes_a_file_of_players_and_rivals(tmp_path, capsys):
    import json

    path = tmp_path / "class.json"
    rc, out, _ = _tycoon(capsys, "industry", "new", "--seed", "4", "--players", "alice,bob", "--rivals", "barbell,barbell", "--out", str(path))
    assert rc == 0
    data = json.loads(path.read_text())
    assert data["companies"] == [{"name": "alice", "bot": None}, {"name": "bob", "bot": None},
                                 {"name": "barbell-1", "bot": "barbell"}, {"name": "barbell-2", "bot": "barbell"}]
    assert data["quarters"] == [] and data["seed"] == 4
    assert _tycoon(capsys, "verify", str(path))[0] == 0
    rc, _, err = _tycoon(capsys, "industry", "new", "--players", "alice,alice", "--out", str(path))
    assert rc == 2 and "names must be unique" in err
    rc, _, err = _tycoon(capsys, "industry", "new", "--players", "alice", "--rivals", "nobody", "--out", str(path))
    assert rc == 2 and "--rivals: unknown bot 'nobody'" in err


# ------------------------------------------------------------------------------ rivals in a single-player game


RIVALS_TOML = b'\n[[rivals]]\nname = "Lambda-ish"\nbot = "barbell"\n\n[[rivals]]\nname = "Cheapo"\nbot = "flex"\n'


def _with_rivals(extra: bytes = RIVALS_TOML):
    from pathlib import Path

    from scenarios import parse_scenario

    return parse_scenario(load_scenario("neocloud-2025").data + extra, Path("rivals.toml"))


def test_scenario_rivals_play_in_the_same_market_and_replay():
    """A scenario's rivals are bot-run companies: the player's results differ from the game
    alone, and the run replays to the same hashes from the player's actions only."""
    from engine.game import replay

    sc = _with_rivals().scenario
    game = run_bot(Game(sc, 1), make_bot("all-in"), 6)
    alone = run_bot(Game(SCENARIO, 1), make_bot("all-in"), 6)
    assert game.hashes() != alone.hashes()
    assert replay(sc, 1, game.log, game.hashes()).first_divergence is None
    published = game.rivals.published()
    assert [p["name"] for p in published] == ["Lambda-ish", "Cheapo"]
    assert all(p["quarter"] == game.reports[-1].label and p["revenue_usd"] > 0 for p in published)


@pytest.mark.parametrize("extra,why", [
    (b'\n[[rivals]]\nname = "x"\nbot = "nobody"\n', "unknown bot 'nobody'"),
    (b'\n[[rivals]]\nname = "player"\nbot = "flex"\n', "names must be unique and not 'player'"),
    (b'\n[[rivals]]\nname = "a"\nbot = "flex"\n\n[[rivals]]\nname = "a"\nbot = "barbell"\n', "names must be unique"),
])
def test_bad_rivals_are_refused_naming_the_field(extra, why):
    from scenarios import ScenarioError

    with pytest.raises(ScenarioError, match="rivals") as exc:
        _with_rivals(extra)
    assert why in str(exc.value)


def test_play_with_rivals_opens_the_game_on_the_scenario_with_rivals_and_its_run_verifies(tmp_path, monkeypatch, capsys):
    """`tycoon play --rivals 2`: the scenario with two bot rivals (written beside the run files)
    is what the app opens; a game saved on it verifies (its TOML is embedded in the run file)."""
    import game.app as app_pkg
    from game.app.session import Session

    opened = {}

    class _App:
        return_code = 0
        confine_loads = False

        def run(self):
            opened["ran"] = True

    def fake_make_app(**kw):
        opened.update(kw)
        return _App()

    monkeypatch.setattr(app_pkg, "make_app", fake_make_app)
    rc, _, err = _tycoon(capsys, "play", "--rivals", "2", "--seed", "3", "--save-dir", str(tmp_path))
    assert rc == 0 and opened["ran"], err
    scenario_path = opened["scenario"]
    assert scenario_path.endswith("neocloud-2025-rivals2.toml")
    session = Session.new(scenario_path, 3, player="ada", save_dir=tmp_path)
    assert [r.name for r in session.game.scenario.rivals] == ["Rival-Barbell", "Rival-Flex"]
    session.game.play([LEASE])
    saved = session.save(tmp_path / "ada.json")
    rc, out, _ = _tycoon(capsys, "verify", str(saved))
    assert rc == 0 and "OK (verified 1 quarter(s); custom scenario neocloud-2025" in out
    rc, _, err = _tycoon(capsys, "play", "--rivals", "9", "--save-dir", str(tmp_path))
    assert rc == 2 and "--rivals must be from 1 to 6, got 9" in err


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_rivals_screen_shows_what_rivals_published(tmp_path, monkeypatch, size):
    """R opens the Rivals screen: before the first quarter nothing is published yet; after it one
    row per rival with its revenue, fleet, prices, contracted share and financings."""
    from game.app import make_app
    from game.industry import write_rivals_scenario

    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))
    path = write_rivals_scenario("neocloud-2025", 2, tmp_path)
    app = make_app(scenario=str(path), seed=3, player="ada", skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert type(app.screen).__name__ == "RivalsScreen"
        assert app.screen.query_one("#rivals-table").row_count == 0
        assert "2 rival(s) compete for your customers" in str(app.screen.query_one("#rivals-note").render())
        await pilot.press("escape")
        await pilot.pause()
        app.session.end_quarter()
        app.refresh_area()
        await pilot.press("R")
        await pilot.pause()
        table = app.screen.query_one("#rivals-table")
        assert table.row_count == 2
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == "Rival-Barbell" and first[1].startswith("$") and "H100" in first[2]
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "RivalsScreen"


def test_a_token_price_cut_moves_token_customers_from_the_rival():
    """KB §2 managed inference among rivals: one platform cuts its 8B model's token price 20%; the
    other's customer base for that model falls against the industry where nobody cuts, and the
    cutter's rises. The single-player path is untouched (the one-company test above)."""
    sc = load_scenario("inference-2025").scenario
    cut = {"kind": "set_token_price", "model": "llama-3.1-8b", "vs_market": -0.2}

    def play(first):
        ind = Industry(sc, 9, [("a", None), ("b", None)])
        _plans_play(ind, {"a": [first] + [[]] * 2, "b": [[]] * 3})
        return ind

    base, war = play([]), play([cut])

    def base_of(ind, name):
        return sum(v for k, v in ind.companies[name].state.inference.customer_base.items() if k.startswith("llama-3.1-8b/"))

    assert base_of(war, "b") < base_of(base, "b")
    assert base_of(war, "a") > base_of(base, "a")
    assert base_of(base, "a") == base_of(base, "b")  # symmetric when nobody cuts


@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=st.integers(min_value=0, max_value=2**32), n=st.integers(min_value=2, max_value=4))
def test_every_companys_books_balance_under_random_plans(data, seed, n):
    """Each company of an industry keeps balanced books and reconciled cash, whatever the plans
    (the engine invariants' random actions, tests/test_engine_invariants.py)."""
    ind = Industry(SCENARIO, seed, [(f"c{i}", None) for i in range(n)])
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        if ind.over:
            break
        plans = {name: [_action(data.draw, ind.companies[name].state) for _ in range(data.draw(st.integers(0, 3)))] for name in ind.active()}
        iq = ind.play(plans)
        for name, report in iq.reports.items():
            _check_books(ind.companies[name], report)


def test_rivals_screen_snapshot(snap_compare, tmp_path, monkeypatch):
    """The Rivals screen after one quarter against two rivals (seed 7, textual-dark, 120x40)."""
    from game.app import make_app
    from game.industry import write_rivals_scenario

    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    path = write_rivals_scenario("neocloud-2025", 2, tmp_path)
    app = make_app(scenario=str(path), seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_hot_seat_players_take_turns_and_the_quarter_resolves(tmp_path, monkeypatch, capsys, size):
    """`tycoon industry play`: alice plans behind a hand-off screen, then bob; after bob's turn
    the bot rival plans, the quarter is cleared among the three and the file saved; it verifies."""
    import json

    from game.app.hotseat import HandOff, HotSeatApp
    from game.industry import verify_industry

    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    path = tmp_path / "class.json"
    assert _tycoon(capsys, "industry", "new", "--seed", "5", "--players", "alice,bob", "--rivals", "flex", "--out", str(path))[0] == 0
    v = verify_industry(path)
    app = HotSeatApp(v.industry, v.loaded, path, theme_name="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HandOff) and app.screen.player == "alice"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.player == "alice" and "alice" not in str(app.screen.query("#handoff"))
        app.session.add({"kind": "set_price", "gen": "h100", "vs_market": -0.1})
        app.play_quarter()
        await pilot.pause()
        assert isinstance(app.screen, HandOff) and app.screen.player == "bob"
        assert app.industry.quarters == []  # not resolved before bob has planned
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.player == "bob" and app.session.plan == []  # alice's plan is not on bob's screen
        app.play_quarter()
        await pilot.pause()
        assert len(app.industry.quarters) == 1
        assert isinstance(app.screen, HandOff) and app.screen.player == "alice" and app.screen.query_one("#standings").row_count == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.sub_title.startswith("alice's turn") and app.session.last is not None
        await pilot.press("R")  # the other companies' published results: bob's and the bot's
        await pilot.pause()
        assert [str(c) for c in app.screen.query_one("#rivals-table").get_column_at(0)] == ["bob", "flex"]
    data = json.loads(path.read_text())
    assert data["quarters"][0]["actions"]["alice"] == [{"kind": "set_price", "gen": "h100", "vs_market": -0.1}]
    assert data["quarters"][0]["actions"]["bob"] == []
    assert _tycoon(capsys, "verify", str(path))[0] == 0


def test_industry_play_refuses_a_file_without_players_or_that_does_not_verify(tmp_path, capsys):
    import json

    bots = tmp_path / "bots.json"
    assert _tycoon(capsys, "industry", "sim", "--bots", "flex,barbell", "--quarters", "1", "--run-out", str(bots))[0] == 0
    rc, _, err = _tycoon(capsys, "industry", "play", str(bots))
    assert rc == 2 and "no players in this industry, only bots" in err
    data = json.loads(bots.read_text())
    data["quarters"][0]["state_hashes"]["flex"] = "0" * 64
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    rc, _, err = _tycoon(capsys, "industry", "play", str(bad))
    assert rc == 2 and "cannot continue this industry: flex's state hash differs from quarter 2025Q1 on" in err


# ------------------------------------------------------------------------------ the anchor-tenant auction (issue 15 lessons)


ABILENE = load_scenario("abilene").scenario


def _polaris(state):
    return next(o for o in state.offers.contracts if o.customer == "Polaris Hyperscale")


def test_abilene_polaris_is_an_anchor_and_small_offers_are_not():
    """ANCHOR_RULE: investment grade, >= 1,024 GPUs, >= 12 quarters (KB §18 anchor tenant, §4)."""
    from engine.industry import is_anchor

    st = Industry(ABILENE, 3, [("x", None)]).companies["x"].state
    assert is_anchor(_polaris(st))  # AA, 6,144 GB200 for 60 quarters
    others = [o for o in st.offers.contracts if o.customer != "Polaris Hyperscale"]
    assert others and not any(is_anchor(o) for o in others)
    big_junk = _polaris(st).model_copy(update={"grade": "BB"})
    short = _polaris(st).model_copy(update={"term_quarters": 8})
    small = _polaris(st).model_copy(update={"gpus": 512})
    assert not any(is_anchor(o) for o in (big_junk, short, small))


def test_financing_strength_worked_example():
    """ANCHOR_RULE worked example (abilene, quarter 0): 8,192 GB200 in service, none committed,
    $60M cash and no loan offer; at $44,100 x 1.15 = $50,715 a GPU, the cash buys 1,183.08 more:
    9,375.08 GPUs it could put behind the contract. A $100M loan offer and a $150M alternative to
    it add $150M (the larger of the two, once), 2,957.71 GPUs."""
    from engine.industry import financing_strength, funding_usd
    from engine.state import LoanOffer

    ind = Industry(ABILENE, 3, [("x", None)])
    st = copy_state(ind.companies["x"].state)
    unit = 44_100 * 1.15
    assert ind.world.quarter(0).gpus["gb200"].list_price_usd == 44_100
    deliverable, funding = financing_strength(st, "gb200", 0, unit)
    assert funding == 60_000_000
    assert deliverable == pytest.approx(8192 + 60_000_000 / 50_715, abs=1e-6)
    assert deliverable == pytest.approx(9375.08, abs=0.01)
    term = LoanOffer(id="L1", lender="Bank", kind="term", max_cents=100_000_000_00, spread_bps=400, tenor_quarters=12, basis="x")
    alt = term.model_copy(update={"id": "L2", "max_cents": 150_000_000_00, "alternative_to": "L1"})
    st.offers.loans = [term, alt]
    assert funding_usd(st) == 210_000_000
    assert financing_strength(st, "gb200", 0, unit)[0] == pytest.approx(9375.08 + 150_000_000 / 50_715, abs=0.01)


def _move_cash(state, cents: int) -> None:
    """Give (or take back, negative) equity: a balanced ledger entry, so the books still balance."""
    state.ledger.post("Equity raised" if cents > 0 else "Capital returned", [("cash", cents), ("paid_in_capital", -cents)], "financing")


def _anchor_states(ind, weaken):
    states = {n: copy_state(c.state) for n, c in ind.companies.items()}
    weaken(states)
    return states


def test_the_best_financed_bidder_wins_the_anchor_tenant():
    """ANCHOR_RULE: first the GPUs each bidder could deliver (up to the offer's 6,144), then the
    deepest funding; the SLA record and price come after, so a better SLA does not buy an anchor."""
    from engine.industry import award_contracts

    ind = Industry(ABILENE, 3, [("x", None), ("y", None)])
    offer = _polaris(ind.companies["x"].state)
    plans = {n: [{"kind": "sign_contract", "offer_id": offer.id}] for n in ("x", "y")}

    def thin_y(states):  # y sold half its fleet and spent its cash: 4,096 + 0 GPUs < 6,144
        states["y"].lots[0].count = 4096
        _move_cash(states["y"], -states["y"].cash_cents)

    states = _anchor_states(ind, thin_y)
    assert award_contracts(3, states, plans, {"x": 0.6, "y": 1.0}, ind.world)[offer.id] == "x"

    def rich_y(states):  # both deliver in full; y has $40M more to fund the build
        _move_cash(states["y"], 40_000_000_00)

    states = _anchor_states(ind, rich_y)
    assert award_contracts(3, states, plans, {"x": 1.0, "y": 0.6}, ind.world)[offer.id] == "y"
    # symmetric: swap the two companies' positions and the award swaps with them
    swapped = {"x": states["y"], "y": states["x"]}
    assert award_contracts(3, swapped, plans, {"x": 0.6, "y": 1.0}, ind.world)[offer.id] == "x"


def test_an_anchor_tie_is_decided_the_same_whatever_the_listing_order():
    """Equal bidders (the equal start): the hash decides, by name, never by position; the winner
    signs the 15-year contract and the loser's signature is refused."""
    winners = set()
    for order in (["x", "y"], ["y", "x"]):
        ind = Industry(ABILENE, 3, [(n, None) for n in order])
        offer = _polaris(ind.companies["x"].state)
        iq = ind.play({n: [{"kind": "sign_contract", "offer_id": offer.id}] for n in order})
        winner = iq.awarded[offer.id]
        loser = next(n for n in order if n != winner)
        assert any(c.customer == "Polaris Hyperscale" for c in ind.companies[winner].state.contracts)
        assert not any(c.customer == "Polaris Hyperscale" for c in ind.companies[loser].state.contracts)
        assert not iq.reports[loser].actions[0].ok
        winners.add(winner)
    assert len(winners) == 1


def test_in_play_the_company_that_paid_out_its_cash_loses_the_anchor():
    """Through Industry.play: both have the GPUs; y returned $50M to its investors, so x, with the
    deeper funding, wins."""
    ind = Industry(ABILENE, 3, [("x", None), ("y", None)])
    y = ind.companies["y"].state
    _move_cash(y, -50_000_000_00)
    offer = _polaris(y)
    iq = ind.play({n: [{"kind": "sign_contract", "offer_id": offer.id}] for n in ("x", "y")})
    assert iq.awarded[offer.id] == "x"
    assert iq.reports["x"].actions[0].ok and not iq.reports["y"].actions[0].ok


# ------------------------------------------------------------------------------ the price war with a rival (issue 15 lessons)


PRICE_WAR_RIVAL = load_scenario("price-war-rival").scenario


def test_the_undercutter_lists_its_gpu_hours_twenty_percent_under_the_market():
    """KB §1 "pricing as a weapon": the rival of price-war-rival publishes prices at 0.8x the market."""
    from engine.bots import UNDERCUT

    assert UNDERCUT == -0.20 and [r.bot for r in PRICE_WAR_RIVAL.rivals] == ["undercutter"]
    game = run_bot(Game(PRICE_WAR_RIVAL, 4), make_bot("passive"), 3)
    pub = game.rivals.published()[0]
    market = game.reports[-1].market.gpus
    assert pub["gpu_hour_prices"]
    for gen, price in pub["gpu_hour_prices"].items():
        assert price == pytest.approx(market[gen].on_demand_usd_per_hour * 0.8, rel=1e-3)


@pytest.mark.parametrize("seed", [1, 7])
def test_the_rivals_undercut_moves_hourly_customers_not_contracted_ones(seed):
    """The lesson's mechanism: the same company with the same (no) plans, with and without the
    undercutting rival. With it, fewer on-demand GPU-hours are sold; the contracted hours are
    served in full either way (contracts are protected)."""
    alone_sc = PRICE_WAR_RIVAL.model_copy(update={"rivals": ()})
    war = run_bot(Game(PRICE_WAR_RIVAL, seed), make_bot("passive"), 4)
    alone = run_bot(Game(alone_sc, seed), make_bot("passive"), 4)

    def hours(game, kind):
        return sum(g.served_gpu_hours.get(kind, 0.0) for r in game.reports for g in r.kpis.by_gen)

    assert hours(war, "on_demand") < 0.9 * hours(alone, "on_demand")  # measured: 0.57x on seeds 1 and 7
    assert hours(war, "reserved") == pytest.approx(hours(alone, "reserved"), rel=1e-9) and hours(war, "reserved") > 0


def test_a_rival_more_than_ten_percent_under_the_market_makes_a_price_war_headline():
    """The undercutter (-20%) is news to the player each quarter, naming its price and the market's;
    a rival at the market price (barbell) is not, and the player alone hears of no price war."""
    from engine.industry import PRICE_WAR_HEADLINE

    assert PRICE_WAR_HEADLINE == 0.10
    game = run_bot(Game(PRICE_WAR_RIVAL, 4), make_bot("passive"), 2)
    for r in game.reports:
        wars = [n for n in r.news if n.event == "rival_price_war"]
        assert [n.title for n in wars] == ["Price war: Cutrate-Compute undercuts the market"]
        h100 = r.market.gpus["h100"].on_demand_usd_per_hour
        assert f"H100 at ${h100 * 0.8:.2f}/h, 20% under the market's ${h100:.2f}" in wars[0].text
    calm = _with_rivals(b'\n[[rivals]]\nname = "Steady"\nbot = "barbell"\n').scenario
    alone = PRICE_WAR_RIVAL.model_copy(update={"rivals": ()})
    for sc in (calm, alone):
        game = run_bot(Game(sc, 4), make_bot("passive"), 2)
        assert not any(n.event == "rival_price_war" for r in game.reports for n in r.news)
