"""Issue 10 (Hardening), items 2, 3, 7, 8: every value from a file or a form is bounded, and a
bad one is refused with a message naming the file or field, never a traceback.

The fuzz test throws random actions (any kind, any field, huge, negative, NaN, wrong types) at
``Game.check`` and ``Game.play`` and asserts the engine's contract holds: nothing escapes, every
rejection says why, the books balance, the log is JSON and replays to the same hashes.
"""

from __future__ import annotations

import json
import math
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.actions import ACTION_KINDS, Action
from engine.game import MAX_SEED, Game, replay
from engine.money import MAX_USD, to_cents
from engine.physics import TECHNIQUES
from game.app.forms import parse_number
from game.cli import main
from game.competition import load_competition
from game.errors import UserError
from game.runfile import MAX_ACTIONS_PER_QUARTER, load_run, run_from_game, save_run, verify_run
from scenarios import SCENARIO_DIR, ScenarioError, load_scenario, parse_scenario
from tests.test_engine_invariants import _check_books

NEOCLOUD = load_scenario("neocloud-2025")
INFERENCE = load_scenario("inference-2025")
NEO_TEXT = (SCENARIO_DIR / "neocloud-2025.toml").read_text(encoding="utf-8")
INF_TEXT = (SCENARIO_DIR / "inference-2025.toml").read_text(encoding="utf-8")

# ----------------------------------------------------------------------------- money (item 3)


def test_to_cents_refuses_amounts_beyond_a_quadrillion_dollars_issue10_item3():
    assert to_cents(MAX_USD) == MAX_USD * 100  # the bound itself is money
    assert to_cents(-MAX_USD) == -MAX_USD * 100
    for amount in (10**309, -(10**309), MAX_USD + 1, 1e16, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="cannot post"):
            to_cents(amount)


@given(usd=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-2 * MAX_USD, max_value=2 * MAX_USD),
                    st.floats(min_value=-MAX_USD, max_value=MAX_USD)))
def test_to_cents_is_round_half_even_of_the_cents_within_bounds_and_refuses_the_rest(usd):
    """The one rounding rule (engine.money; issue 10 items 3 and 12): in range, round(usd * 100);
    beyond ±10^15 USD or not finite, refused."""
    if math.isfinite(usd) and abs(usd) <= MAX_USD:
        assert to_cents(usd) == int(round(usd * 100)) and type(to_cents(usd)) is int
    else:
        with pytest.raises(ValueError, match="cannot post"):
            to_cents(usd)


@pytest.mark.parametrize("kind,ref", [("take_loan", "offer_id"), ("repay_loan", "loan_id"), ("raise_equity", "offer_id")])
@pytest.mark.parametrize("amount", [10**309, MAX_USD + 1])
def test_huge_amounts_are_rejected_with_a_reason_not_a_crash_issue10_item3(kind, ref, amount):
    game = Game(NEOCLOUD.scenario, 1)
    action = {"kind": kind, ref: "X-1", "amount_usd": amount}
    [checked] = game.check([action])
    assert not checked.ok and "amount_usd" in checked.message and "less than or equal" in checked.message
    report = game.play([action])
    assert not report.actions[0].ok
    json.dumps(report.model_dump(mode="json"), allow_nan=False)


@pytest.mark.parametrize("text,kind,expect", [
    ("1" * 309, "int", None), ("9" * 400, "int", None), ("inf", "usd", None), ("nan", "int", None),
    ("1.5", "int", None), ("12", "int", 12), ("2.5", "pct", 0.025), ("-3", "usd", -3), (str(MAX_USD), "int", MAX_USD),
])
def test_form_numbers_are_bounded_issue10_item3(text, kind, expect):
    value, error = parse_number(text, kind, "Amount")
    if expect is None:
        assert value is None and error.startswith("Amount must be")
    else:
        assert error == "" and value == expect and type(value) is type(expect)


# ----------------------------------------------------------------------------- seeds (item 2)


def test_a_game_seed_is_a_whole_number_in_0_to_2_63_minus_1_issue10_item2():
    assert MAX_SEED == 2**63 - 1
    for bad in (2**63, 2**64, -1, True, 4.0, "42"):
        with pytest.raises(ValueError, match="seed must be a whole number from 0 to"):
            Game(NEOCLOUD.scenario, bad)  # type: ignore[arg-type]
    assert Game(NEOCLOUD.scenario, MAX_SEED).seed == MAX_SEED


@pytest.mark.parametrize("argv", [
    ["sim", "--seed", str(2**63)], ["sim", "--seed", "-1"], ["sim", "--seed", "4.0"],
    ["play", "--seed", str(2**64)], ["leaderboard", "show", "--seed", str(2**63)],
])
def test_the_cli_refuses_a_seed_out_of_range_with_exit_2_and_one_line_issue10_item2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tycoon: error:") and "--seed" in err[-1] and "2^63-1" in err[-1]
    assert "Traceback" not in "\n".join(err)


COMP = """
id = "econ-212"
title = "ECON 212"
scenario = "deflation"
seed = {seed}
"""


@pytest.mark.parametrize("seed", ['"42"', "42.0", "true", str(2**63), "-1"])
def test_competition_seeds_are_strict_integers_in_range_issue10_item2(tmp_path, seed):
    p = tmp_path / "comp.toml"
    p.write_text(COMP.format(seed=seed), encoding="utf-8")
    with pytest.raises(UserError, match=r"comp\.toml: field seed: "):
        load_competition(p)


def test_competition_seed_at_the_bound_is_accepted_issue10_item2(tmp_path):
    p = tmp_path / "comp.toml"
    p.write_text(COMP.format(seed=2**63 - 1), encoding="utf-8")
    assert load_competition(p).seed == 2**63 - 1


# ----------------------------------------------------------------------------- scenario files (item 7)


def _world(line: str) -> tuple[str, str]:
    return ("[world]\n", f"[world]\n{line}\n")


ONLY_B200 = """
[[world.roadmap]]
gen = "b200"
launch = "2025Q1"
list_price_usd = 45000
list_price_decline_per_quarter = 0.03
perf = 2.5
allocation_per_quarter = 512
lead_time_quarters = 2
"""

MALFORMED = [  # (name, base text, old, new, what the message must name)
    ("cash 1e308", NEO_TEXT, "cash_usd = 80_000_000", "cash_usd = 1e308", "company.cash_usd"),
    ("cash inf", NEO_TEXT, "cash_usd = 80_000_000", "cash_usd = inf", "company.cash_usd"),
    ("cash nan", NEO_TEXT, "cash_usd = 80_000_000", "cash_usd = nan", "company.cash_usd"),
    ("valuation 1e308", NEO_TEXT, "valuation_usd = 320_000_000", "valuation_usd = 1e308", "company.valuation_usd"),
    ("shares 1e20", NEO_TEXT, "founder_shares = 5_500_000", "founder_shares = 100_000_000_000_000_000_000", "company.founder_shares"),
    ("loan balance inf", NEO_TEXT, "balance_usd = 20_000_000", "balance_usd = inf", "company.loans.0.balance_usd"),
    ("unit cost 1e308", NEO_TEXT, "unit_cost_usd = 30_000", "unit_cost_usd = 1e308", "company.lots.0.unit_cost_usd"),
    ("lot count 1e15", NEO_TEXT, "count = 2048", "count = 1_000_000_000_000_000", "company.lots.0.count"),
    ("mw = true", NEO_TEXT, "mw = 4\n", "mw = true\n", "company.sites.0.mw"),
    ("shares = true", NEO_TEXT, "investor_shares = 4_500_000", "investor_shares = true", "company.investor_shares"),
    ("unknown gpu", NEO_TEXT, 'gen = "a100"', 'gen = "z999"', "company.lots.1.gen"),
    ("offers 1e7", NEO_TEXT, *_world("offers_per_quarter = 1e7"), "world.offers_per_quarter"),
    ("spikes 1e7", NEO_TEXT, *_world("spikes_per_quarter = 1e7"), "world.spikes_per_quarter"),
    ("price vol 1e308", NEO_TEXT, *_world("price_cycle_sd = 1e308"), "world.price_cycle_sd"),
    ("mood vol inf", NEO_TEXT, *_world("mood_sd = inf"), "world.mood_sd"),
    ("sofr 1e308", NEO_TEXT, *_world("sofr_start = 1e308"), "world.sofr_start"),
    ("grid cost inf", NEO_TEXT, *_world("grid_usd_per_kwh = inf"), "world.grid_usd_per_kwh"),
    ("colo cost 1e308", NEO_TEXT, *_world("colo_usd_per_kw_month = 1e308"), "world.colo_usd_per_kw_month"),
    ("reserved discount nan", NEO_TEXT, *_world("reserved_discount = { 4 = nan, 8 = 0.4, 12 = 0.5 }"), "world.reserved_discount"),
    ("roadmap missing an owned generation", NEO_TEXT, "[world]\n", ONLY_B200 + "\n[world]\n", "not on world.roadmap"),
    ("rules cost 1e308", INF_TEXT, "rnd_usd_per_quarter = 1_500_000", "rnd_usd_per_quarter = 1e308", "rules.rnd_usd_per_quarter"),
    ("unknown technique", INF_TEXT, '"fp8"]', '"fp8", "telepathy"]', "company.techniques"),
    ("unknown model", INF_TEXT, 'model = "llama-3.1-8b"', 'model = "gpt-17"', "company.deployments.0.model"),
    ("inference rule inf", INF_TEXT, "\n[world]\n", "\n[rules.inference]\ncompetitor_utilization = inf\n\n[world]\n", "rules.inference.competitor_utilization"),
    ("inference rule = true", INF_TEXT, "\n[world]\n", "\n[rules.inference]\ncompetitor_margin_end = true\n\n[world]\n", "rules.inference.competitor_margin_end"),
    ("deployment on unknown gpu", INF_TEXT, 'gen = "h100"\nprecision = "fp8"\nreplicas = 52',
     'gen = "z999"\nprecision = "fp8"\nreplicas = 52', "company.deployments.0.gen"),
]


@pytest.mark.parametrize("name,base,old,new,names", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenario_files_fail_cleanly_naming_the_field_issue10_item7(tmp_path, name, base, old, new, names):
    assert old in base, "the test's anchor text is gone from the built-in scenario"
    path = tmp_path / "bad.toml"
    path.write_text(base.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(path))
    message = str(exc.value)
    assert message.startswith(f"{path}:") and names in message and "\n" not in message


def test_deep_nesting_and_huge_files_fail_cleanly_issue10_item7(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_bytes(b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(str(deep))
    big = tmp_path / "big.toml"
    big.write_text(NEO_TEXT + "#" * (1 << 20) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="1 MiB"):
        load_scenario(str(big))
    with pytest.raises(ScenarioError, match="1 MiB"):
        parse_scenario(big.read_bytes(), big)


def test_the_unmodified_scenario_text_still_loads(tmp_path):
    """The anchors above change a file that is otherwise valid: without the change it loads."""
    for base in (NEO_TEXT, INF_TEXT):
        path = tmp_path / "ok.toml"
        path.write_text(base + ONLY_B200 * 0, encoding="utf-8")
        assert load_scenario(str(path)).scenario.company.cash_usd > 0


def test_the_cli_reports_a_bad_scenario_in_one_line_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(NEO_TEXT.replace("[world]\n", "[world]\noffers_per_quarter = 1e7\n"), encoding="utf-8")
    assert main(["sim", "--scenario", str(path), "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "world.offers_per_quarter" in err[0]


# ----------------------------------------------------------------------------- run files (item 8)


def _saved_run(tmp_path, actions=()):
    game = Game(NEOCLOUD.scenario, 3)
    game.play(list(actions))
    return save_run(run_from_game(game, NEOCLOUD), tmp_path / "run.json"), game


def test_a_byte_order_mark_is_accepted_issue10_item8(tmp_path):
    path, _ = _saved_run(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_run(path).seed == 3
    assert verify_run(path).ok


def test_nan_in_a_rejected_action_never_reaches_the_report_or_the_run_file_issue10_item8(tmp_path, capsys):
    nan_action = {"kind": "set_price", "gen": "h100", "vs_market": float("nan")}
    inf_action = {"kind": "take_loan", "offer_id": "T-1", "amount_usd": float("inf")}
    path, game = _saved_run(tmp_path, [nan_action, inf_action])
    results = game.reports[0].actions
    assert [r.ok for r in results] == [False, False] and all(r.message for r in results)
    json.dumps(game.reports[0].model_dump(mode="json"), allow_nan=False)
    assert results[0].action["vs_market"] == "nan" and game.log[0][1]["amount_usd"] == "inf"
    assert "NaN" not in path.read_text(encoding="utf-8") and "Infinity" not in path.read_text(encoding="utf-8")
    assert verify_run(path).ok
    assert main(["verify", str(path)]) == 0


def test_run_file_bounds_issue10_item8(tmp_path):
    path, _ = _saved_run(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))

    def refused(mutate, match):
        d = json.loads(json.dumps(data))
        mutate(d)
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(d), encoding="utf-8")
        with pytest.raises(UserError, match=match):
            load_run(bad)

    refused(lambda d: d.update(seed=2**63), r"field 'seed' must be a whole number from 0 to")
    refused(lambda d: d["quarters"][0].update(actions=[{"kind": "set_price"}] * (MAX_ACTIONS_PER_QUARTER + 1)),
            r"quarters\[0\]\.actions has 201 actions; at most 200")
    refused(lambda d: d.update(quarters=d["quarters"] * 41), r"'quarters' has 41 entries; a game has at most 40")
    nan = tmp_path / "nan.json"
    nan.write_text(path.read_text(encoding="utf-8").replace('"seed": 3', '"seed": NaN'), encoding="utf-8")
    with pytest.raises(UserError, match="NaN is not a number JSON allows"):
        load_run(nan)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**data, "player": "x" * (21 << 20)}), encoding="utf-8")
    with pytest.raises(UserError, match="larger than 20 MiB"):
        load_run(big)
    assert main(["verify", str(big)]) == 2


# ----------------------------------------------------------------------------- the action union, fuzzed


def _action_fields() -> dict[str, dict[str, object]]:
    union = typing.get_args(typing.get_args(Action)[0])
    return {cls.model_fields["kind"].default: {n: f.annotation for n, f in cls.model_fields.items() if n != "kind"} for cls in union}


FIELDS = _action_fields()
NASTY = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20), st.sampled_from([0, -1, 10**15, 10**15 + 1, 10**309, -(10**309)]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([True, False, None, "", "1e400", [], {}, [1, 2]]),
    st.text(max_size=8),
)


def _ids(state, kind: str, name: str) -> list[str]:
    """The ids a field of this name can take in this state, plus one that does not exist."""
    offers = {"sign_contract": state.offers.contracts, "take_loan": state.offers.loans, "raise_equity": state.offers.equity}
    pools = {
        "offer_id": [o.id for o in offers.get(kind, [])], "loan_id": [l.id for l in state.loans],
        "lot_id": [l.id for l in state.lots], "site_id": [s.id for s in state.sites],
        "gen": ["a100", "h100", "h200", "b200"], "model": ["llama-3.1-8b", "llama-3.1-70b"],
        "technique": list(TECHNIQUES),
    }
    return pools.get(name, []) + ["X-none"]


def _plausible(name: str, annotation: object, ids: list[str]) -> st.SearchStrategy:
    """A value of the field's own type, often valid: the fuzz must also reach execute and the books."""
    literal = [a for a in typing.get_args(annotation) if isinstance(a, str)] or (
        list(typing.get_args(annotation)) if typing.get_origin(annotation) is typing.Literal else [])
    if literal:
        return st.sampled_from(literal)
    if "usd" in name:
        return st.integers(min_value=1, max_value=100_000_000)
    if annotation is int or int in typing.get_args(annotation):
        return st.sampled_from([4, 8, 12]) if "term" in name else st.integers(min_value=1, max_value=300)
    if annotation is float or float in typing.get_args(annotation):
        return st.floats(min_value=-0.5, max_value=1.0) if name != "mw" else st.floats(min_value=1, max_value=40)
    return st.sampled_from(ids)


@st.composite
def _fuzz_action(draw, state) -> object:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["foo", 7, None, ["buy_gpus"], {"no": "kind"}, {"kind": "bogus"}]))
    kind = draw(st.sampled_from(sorted(FIELDS)))
    action: dict = {"kind": kind}
    for name, annotation in FIELDS[kind].items():
        roll = draw(st.integers(0, 9))
        if roll == 0:
            continue  # a missing field
        action[name] = draw(NASTY if roll <= 2 else _plausible(name, annotation, _ids(state, kind, name)))
    return action


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), inference=st.booleans())
def test_fuzzed_actions_never_escape_and_keep_the_books_issue10(data, inference):
    loaded = INFERENCE if inference else NEOCLOUD
    game = Game(loaded.scenario, 5)
    for _ in range(3):
        plan = data.draw(st.lists(_fuzz_action(game.state), max_size=6))
        before = game.state.model_copy(deep=True)
        checked = game.check(plan)
        assert len(checked) == len(plan) and all(r.message for r in checked)
        assert game.state == before  # a check changes nothing
        report = game.play(plan)
        assert all(r.message for r in report.actions)
        assert {r.action.get("kind") for r in report.actions if r.ok} <= set(ACTION_KINDS)
        json.dumps(report.model_dump(mode="json"), allow_nan=False)
        _check_books(game, report)
        if game.over:
            break
    json.dumps(game.log, allow_nan=False)  # the log is what a run file stores
    assert replay(loaded.scenario, game.seed, json.loads(json.dumps(game.log)), game.hashes()).first_divergence is None


def test_play_with_a_string_is_a_clean_rejection_issue10_item8():
    game = Game(NEOCLOUD.scenario, 2)
    report = game.play(["foo"])  # type: ignore[list-item]
    [result] = report.actions
    assert not result.ok and "'kind'" in result.message
    assert game.log == [[{"value": "'foo'"}]]
    assert not math.isnan(report.score.score_cents)


# ------------------------------------------------------------------------------ fuzzing the file formats

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def _valid_run(tmp_path_factory):
    game = Game(load_scenario("tutorial").scenario, 3)
    game.play([])
    game.play([{"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 4}])
    path = tmp_path_factory.mktemp("fuzzrun") / "run.json"
    save_run(run_from_game(game, load_scenario("tutorial"), player="fuzz"), path)
    return json.loads(path.read_text())


def _mutations(doc: dict):
    """Paths to every field of a run file, the quarters' actions included, for the fuzzer to replace."""
    paths = [(k,) for k in doc]
    for i, q in enumerate(doc.get("quarters", [])):
        paths += [("quarters", i, k) for k in q]
        paths += [("quarters", i, "actions", j) for j in range(len(q.get("actions", [])))]
    return paths


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_fuzzed_run_file_is_verified_or_refused_cleanly_issue10(_valid_run, tmp_path, data):
    """Issue 10 "What to build": a fuzz test over the file formats. Any field of a real run file
    replaced by any JSON value (or deleted) either verifies or is refused with a UserError; nothing
    else ever escapes `load_run` and `verify_run`."""
    doc = json.loads(json.dumps(_valid_run))
    paths = _mutations(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = doc
        for key in path[:-1]:
            if not isinstance(target, (dict, list)):
                break
            try:
                target = target[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(target, dict) and data.draw(st.booleans()) and path[-1] in target:
                del target[path[-1]]
            elif isinstance(target, (dict, list)):
                try:
                    target[path[-1]] = data.draw(_JSON_VALUES)
                except (IndexError, TypeError):
                    pass
    f = tmp_path / f"fuzz-{data.draw(st.integers(0, 10**9))}.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    try:
        v = verify_run(f)
    except UserError as exc:
        assert str(exc).startswith(str(f)) or str(f) in str(exc)
        return
    assert isinstance(v.ok, bool) and v.reason


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=400))
def test_fuzzed_scenario_text_loads_or_fails_naming_the_file_issue10(tmp_path_factory, text):
    """Any text as a scenario file: a scenario, or a ScenarioError naming the file, never a traceback."""
    path = tmp_path_factory.mktemp("fuzzscen") / "s.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # lone surrogates make invalid UTF-8: refused too
    try:
        load_scenario(str(path))
    except ScenarioError as exc:
        assert str(path) in str(exc)


def test_play_refuses_a_scenario_the_engine_cannot_start_in_one_line_issue10(tmp_path, capsys):
    """A scenario the schema accepts but the physics cannot start (a TPOT target below one stream's
    step time) is refused before the app opens: exit 2, one line, no traceback."""
    path = tmp_path / "slow.toml"
    path.write_text((SCENARIO_DIR / "inference-2025.toml").read_text().replace("tpot_ms = 40", "tpot_ms = 5", 1))
    assert main(["play", "--scenario", str(path), "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be played" in err and "TPOT" in err and "\n" not in err and "Traceback" not in err
