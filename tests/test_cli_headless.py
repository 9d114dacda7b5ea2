"""The headless CLI contract (issue 2): ``tycoon scenarios``, ``sim --json``, ``verify``.

Everything goes through ``game.cli.main([...])`` with capsys, except one test that runs the real
console script in subprocesses. The engine's economics are still being tuned, so these tests
assert properties and contracts (keys, types, determinism, fairness, exit codes, messages),
never particular scores or hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine import RULESET
from engine.bots import BOTS, make_bot, run_bot
from game.cli import main
from game.runfile import load_run, resume_game, run_from_game, save_run, verify_run
from scenarios import DEFAULT_SCENARIO, SCENARIO_DIR, load_scenario

SCENARIO_FILE = SCENARIO_DIR / f"{DEFAULT_SCENARIO}.toml"
QUARTER_KEYS = {
    "quarter", "cash", "revenue", "gross_margin", "ebitda", "net_income", "total_assets", "total_liabilities",
    "equity", "utilization", "contracted_share", "dscr", "covenant", "gpus", "market", "events", "state_hash",
}
MONEY_KEYS = ("cash", "revenue", "ebitda", "net_income", "total_assets", "total_liabilities", "equity")
LABEL = re.compile(r"^\d{4}Q[1-4]$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


# ------------------------------------------------------------------------------ helpers


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _no_constants(name: str):
    raise AssertionError(f"JSON output contains {name}; the contract is strict JSON")


def sim_json(capsys, *argv: str) -> dict:
    rc, out, err = cli(capsys, "sim", *argv, "--json")
    assert rc == 0, err
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1, "sim --json prints exactly one JSON object on one line"
    return json.loads(out, parse_constant=_no_constants)


def assert_user_error(rc: int, out: str, err: str, *needles: str) -> str:
    """Exit 2, nothing on stdout, one short ``tycoon: error:`` line on stderr naming the needles."""
    assert rc == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = [ln for ln in err.splitlines() if ln.startswith("tycoon: error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def next_label(label: str) -> str:
    year, q = int(label[:4]), int(label[5])
    return f"{year + 1}Q1" if q == 4 else f"{year}Q{q + 1}"


def scenario_text() -> str:
    return SCENARIO_FILE.read_text(encoding="utf-8")


def write_scenario(tmp_path: Path, pattern: str, replacement: str, name: str = "bad.toml") -> Path:
    """A copy of the default scenario with exactly one line changed (fails loudly if the anchor moved)."""
    text, n = re.subn(pattern, replacement, scenario_text(), count=1, flags=re.MULTILINE)
    assert n == 1, f"anchor {pattern!r} not found in {SCENARIO_FILE}"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_run(capsys, tmp_path: Path, bot: str = "all-in", quarters: int = 4, seed: int = 5, name: str = "run.json"):
    """``sim --run-out`` a run file; returns (path, the sim's JSON)."""
    path = tmp_path / name
    out = sim_json(capsys, "--seed", str(seed), "--bot", bot, "--quarters", str(quarters), "--run-out", str(path))
    assert path.exists()
    return path, out


def edit_run(src: Path, dst: Path, change) -> Path:
    data = json.loads(src.read_text(encoding="utf-8"))
    change(data)
    dst.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return dst


def tycoon_command() -> list[str]:
    script = Path(sys.executable).parent / "tycoon"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "game.cli"]


# ------------------------------------------------------------------------------ scenarios


def test_scenarios_lists_id_title_archetype_quarters(capsys):
    loaded = load_scenario(DEFAULT_SCENARIO)
    rc, out, err = cli(capsys, "scenarios")
    assert rc == 0 and err == ""
    line = next(ln for ln in out.splitlines() if ln.split()[0] == DEFAULT_SCENARIO)
    assert loaded.scenario.title in line
    assert loaded.scenario.archetype in line
    assert f"{loaded.scenario.quarters}q" in line

    rc, out, err = cli(capsys, "scenarios", "--json")
    assert rc == 0 and err == ""
    rows = json.loads(out)
    assert isinstance(rows, list) and rows
    assert len({r["id"] for r in rows}) == len(rows)
    row = next(r for r in rows if r["id"] == DEFAULT_SCENARIO)
    assert row["title"] == loaded.scenario.title
    assert row["archetype"] == loaded.scenario.archetype
    assert row["quarters"] == loaded.scenario.quarters
    for r in rows:  # every listed scenario loads by its id
        assert {"id", "title", "archetype", "quarters"} <= set(r)
        assert load_scenario(r["id"]).scenario.id == r["id"]


# ------------------------------------------------------------------------------ sim --json: shape


@pytest.mark.parametrize("bot", sorted(BOTS))
def test_sim_json_contract_full_game(capsys, bot):
    loaded = load_scenario(DEFAULT_SCENARIO)
    out = sim_json(capsys, "--scenario", DEFAULT_SCENARIO, "--seed", "11", "--bot", bot)
    assert {"scenario", "scenario_sha256", "ruleset", "seed", "bot", "quarters", "final"} <= set(out)
    assert out["scenario"] == DEFAULT_SCENARIO
    assert out["scenario_sha256"] == hashlib.sha256(SCENARIO_FILE.read_bytes()).hexdigest() == loaded.sha256
    assert out["ruleset"] == RULESET
    assert out["seed"] == 11 and out["bot"] == bot

    quarters = out["quarters"]
    final = out["final"]
    assert {"score", "verdict", "bankrupt"} <= set(final)
    assert isinstance(final["bankrupt"], bool)
    assert isinstance(final["verdict"], str) and final["verdict"]
    assert isinstance(final["score"], (int, float)) and final["score"] >= 0
    if final["bankrupt"]:
        assert final["score"] == 0  # bankruptcy or default scores zero (DESIGN "Score")
    # the game runs to the scenario's end unless it ends early in bankruptcy/default
    assert 1 <= len(quarters) <= loaded.scenario.quarters
    assert len(quarters) == loaded.scenario.quarters or final["bankrupt"]

    label = loaded.scenario.start
    for q in quarters:
        assert QUARTER_KEYS <= set(q), QUARTER_KEYS - set(q)
        assert q["quarter"] == label and LABEL.match(label)
        label = next_label(label)
        for key in MONEY_KEYS:
            assert isinstance(q[key], (int, float)) and not isinstance(q[key], bool), key
        # dollars, to the cent: the balance sheet balances
        assert q["total_assets"] == pytest.approx(q["total_liabilities"] + q["equity"], abs=0.02)
        assert q["gross_margin"] is None or isinstance(q["gross_margin"], float)
        assert 0.0 <= q["utilization"] <= 1.0
        assert 0.0 <= q["contracted_share"] <= 1.0 + 1e-9
        assert q["covenant"] in ("none", "ok", "lock-up", "default")
        assert (q["dscr"] is None) == (q["covenant"] == "none"), "DSCR is null exactly when there is no debt to test"
        assert q["dscr"] is None or isinstance(q["dscr"], (int, float))
        assert isinstance(q["gpus"], dict)
        assert all(isinstance(g, str) and isinstance(n, int) and n >= 0 for g, n in q["gpus"].items())
        m = q["market"]
        assert {"sofr", "gpu_hour", "token_price"} <= set(m)
        assert isinstance(m["sofr"], float) and 0 <= m["sofr"] < 0.5
        assert m["gpu_hour"] and all(isinstance(v, float) and v > 0 for v in m["gpu_hour"].values())
        assert m["token_price"] and all(isinstance(v, float) and v > 0 for v in m["token_price"].values())
        assert set(q["gpus"]) <= set(m["gpu_hour"]) | set(q["gpus"])  # names are generation ids
        assert isinstance(q["events"], list)
        assert all(isinstance(e, dict) and e.get("title") and isinstance(e.get("text"), str) for e in q["events"])
        assert HEX64.match(q["state_hash"])
    assert len({q["state_hash"] for q in quarters}) == len(quarters)  # the state moves every quarter


def test_sim_quarters_limits_the_game_and_is_a_prefix_of_the_full_game(capsys):
    full = sim_json(capsys, "--seed", "4", "--bot", "barbell")
    short = sim_json(capsys, "--seed", "4", "--bot", "barbell", "--quarters", "3")
    assert len(short["quarters"]) == min(3, len(full["quarters"]))
    assert short["quarters"] == full["quarters"][: len(short["quarters"])]
    assert short["final"]["score"] == short["quarters"][-1]["score"]


def test_dscr_is_null_without_debt(capsys, tmp_path):
    text = scenario_text()
    no_loans = re.sub(r"(?ms)^\[\[company\.loans\]\].*?(?=^\[)", "", text)
    assert "[[company.loans]]" not in no_loans and no_loans != text
    path = tmp_path / "no-debt.toml"
    path.write_text(no_loans, encoding="utf-8")
    out = sim_json(capsys, "--scenario", str(path), "--seed", "2", "--bot", "passive", "--quarters", "2")
    assert out["scenario_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    for q in out["quarters"]:
        assert q["dscr"] is None and q["covenant"] == "none"


def test_text_output_is_one_line_per_quarter_plus_final(capsys):
    rc, out, err = cli(capsys, "sim", "--seed", "1", "--bot", "flex", "--quarters", "3")
    assert rc == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[-1].startswith("final:")
    assert 1 <= len(lines) - 1 <= 3 and lines[0].startswith("2025Q1")


# ------------------------------------------------------------------------------ determinism and fairness


def test_same_sim_command_prints_byte_identical_output(capsys, tmp_path):
    argv = ["sim", "--seed", "9", "--bot", "all-in", "--quarters", "6", "--json"]
    a = cli(capsys, *argv, "--run-out", str(tmp_path / "a.json"))
    b = cli(capsys, *argv, "--run-out", str(tmp_path / "b.json"))
    assert a[0] == b[0] == 0
    assert a[1] == b[1]
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    c = cli(capsys, *argv[:-1])  # the text view is deterministic too
    d = cli(capsys, *argv[:-1])
    assert c[1] == d[1]


def test_different_seeds_give_different_worlds(capsys):
    a = sim_json(capsys, "--seed", "1", "--bot", "passive", "--quarters", "4")
    b = sim_json(capsys, "--seed", "2", "--bot", "passive", "--quarters", "4")
    assert [q["market"] for q in a["quarters"]] != [q["market"] for q in b["quarters"]] or [
        q["state_hash"] for q in a["quarters"]] != [q["state_hash"] for q in b["quarters"]]


@pytest.mark.parametrize("seed", [3, 17])
def test_every_bot_faces_the_same_world(capsys, seed):
    """Fair: market blocks and world events depend only on (scenario, seed), never on the player."""
    runs = {bot: sim_json(capsys, "--seed", str(seed), "--bot", bot) for bot in sorted(BOTS)}
    played = {bot: {q["quarter"]: q for q in out["quarters"]} for bot, out in runs.items()}
    ref_bot = max(played, key=lambda b: len(played[b]))
    ref = played[ref_bot]
    for bot, quarters in played.items():
        for label, q in quarters.items():
            assert q["market"] == ref[label]["market"], f"{bot} saw another market than {ref_bot} in {label}"
            assert q["events"] == ref[label]["events"], f"{bot} saw other events than {ref_bot} in {label}"
    # and the bots really played differently (otherwise this test proves nothing)
    assert len({out["quarters"][0]["state_hash"] for out in runs.values()}) > 1


# ------------------------------------------------------------------------------ run files and verify


def test_run_out_writes_a_run_file_that_verifies(capsys, tmp_path):
    path, out = make_run(capsys, tmp_path, bot="barbell", quarters=4, seed=6)
    run = load_run(path)
    assert run.scenario == out["scenario"] and run.scenario_sha256 == out["scenario_sha256"]
    assert run.seed == 6 and run.ruleset == RULESET and run.bot == "barbell"
    assert run.hashes == [q["state_hash"] for q in out["quarters"]]
    assert [q["quarter"] for q in run.quarters] == [q["quarter"] for q in out["quarters"]]
    assert run.final["score"] == out["final"]["score"]
    assert not list(tmp_path.glob(".*.tmp")), "the atomic save leaves no temporary file behind"

    rc, stdout, err = cli(capsys, "verify", str(path))
    assert rc == 0 and err == ""
    assert str(path) in stdout and "OK" in stdout
    v = verify_run(path)
    assert v.ok and v.first_divergence is None


def test_run_out_overwrites_atomically_and_creates_folders(capsys, tmp_path):
    path = tmp_path / "deep" / "er" / "run.json"
    path.parent.mkdir(parents=True)
    path.write_text("old contents", encoding="utf-8")
    sim_json(capsys, "--seed", "1", "--bot", "passive", "--quarters", "2", "--run-out", str(path))
    assert load_run(path).seed == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]


def _numeric_actions(run_path: Path, out: dict) -> list[tuple[int, int, str]]:
    """(quarter index, action index, field) of accepted actions with an ``amount_usd`` or ``count``."""
    data = json.loads(run_path.read_text(encoding="utf-8"))
    found = []
    for i, (q, summary) in enumerate(zip(data["quarters"], out["quarters"], strict=True)):
        rejected = [r["action"] for r in summary["rejected"]]
        for j, action in enumerate(q["actions"]):
            if action in rejected:
                continue
            for key in ("amount_usd", "count"):
                if isinstance(action.get(key), int) and not isinstance(action.get(key), bool):
                    found.append((i, j, key))
                    break
    return found


def _tampered(value: int, key: str) -> int:
    if key == "count":
        return value - 8 if value > 8 else value + 8
    return value // 2 if value > 1 else value + 1


@pytest.mark.parametrize("which", ["first", "last"])
@pytest.mark.parametrize("bot", ["all-in", "barbell"])
def test_verify_names_the_first_divergent_quarter_of_a_tampered_action(capsys, tmp_path, bot, which):
    path, out = make_run(capsys, tmp_path, bot=bot, quarters=6, seed=5)
    candidates = _numeric_actions(path, out)
    assert candidates, f"{bot} should act with an amount or a count in its first quarters"
    i, j, key = candidates[0] if which == "first" else candidates[-1]
    label = out["quarters"][i]["quarter"]

    def change(data):
        action = data["quarters"][i]["actions"][j]
        action[key] = _tampered(action[key], key)

    bad = edit_run(path, tmp_path / "tampered.json", change)
    rc, stdout, err = cli(capsys, "verify", str(bad))
    assert rc == 1 and err == ""
    assert str(bad) in stdout and "FAILED" in stdout
    assert label in stdout
    for earlier in out["quarters"][:i]:  # the quarters before the change still match: not named
        assert earlier["quarter"] not in stdout
    v = verify_run(bad)
    assert not v.ok and v.first_divergence == label


def test_verify_rejects_a_tampered_final_score(capsys, tmp_path):
    path, _ = make_run(capsys, tmp_path, bot="all-in", quarters=4)
    bad = edit_run(path, tmp_path / "score.json", lambda d: d["final"].__setitem__("score", d["final"]["score"] + 1_000_000))
    rc, stdout, err = cli(capsys, "verify", str(bad))
    assert rc == 1 and err == ""
    assert str(bad) in stdout and "score" in stdout
    v = verify_run(bad)
    assert not v.ok and v.first_divergence is None  # every hash matches; only the claim is false


@pytest.mark.parametrize("key, value", [("verdict", "Legendary"), ("bankrupt", "flip")])
def test_verify_rejects_other_tampered_final_claims(capsys, tmp_path, key, value):
    path, _ = make_run(capsys, tmp_path, bot="flex", quarters=3)

    def change(d):
        d["final"][key] = (not d["final"][key]) if value == "flip" else value

    bad = edit_run(path, tmp_path / "final.json", change)
    rc, stdout, _ = cli(capsys, "verify", str(bad))
    assert rc == 1 and key in stdout


def test_verify_rejects_a_final_claim_without_quarters(capsys, tmp_path):
    path, _ = make_run(capsys, tmp_path, bot="all-in", quarters=2)
    bad = edit_run(path, tmp_path / "empty.json", lambda d: d.__setitem__("quarters", []))
    rc, stdout, _ = cli(capsys, "verify", str(bad))
    assert rc == 1 and str(bad) in stdout


@pytest.mark.parametrize("change, where", [
    (lambda d: d["quarters"].pop(), "missing last quarter"),
    (lambda d: d["quarters"][1].__setitem__("state_hash", "0" * 64), "a wrong hash"),
    (lambda d: d.__setitem__("seed", d["seed"] + 1), "another seed"),
])
def test_verify_fails_on_a_changed_log_seed_or_hash(capsys, tmp_path, change, where):
    path, out = make_run(capsys, tmp_path, bot="flex", quarters=3)
    bad = edit_run(path, tmp_path / "bad.json", change)
    rc, stdout, _ = cli(capsys, "verify", str(bad))
    assert rc == 1, where
    assert "FAILED" in stdout


def test_verify_scenario_hash_and_ruleset_mismatch_exit_1_with_reason(capsys, tmp_path):
    path, _ = make_run(capsys, tmp_path, bot="passive", quarters=2)
    sha = edit_run(path, tmp_path / "sha.json", lambda d: d.__setitem__("scenario_sha256", "f" * 64))
    rc, stdout, err = cli(capsys, "verify", str(sha))
    assert rc == 1 and err == ""
    assert str(sha) in stdout and "SHA-256" in stdout and DEFAULT_SCENARIO in stdout

    rules = edit_run(path, tmp_path / "ruleset.json", lambda d: d.__setitem__("ruleset", "1999.1.1"))
    rc, stdout, err = cli(capsys, "verify", str(rules))
    assert rc == 1 and err == ""
    assert str(rules) in stdout and "ruleset" in stdout and "1999.1.1" in stdout and RULESET in stdout


def test_verify_several_files_exit_1_when_any_fails_and_names_each(capsys, tmp_path):
    good, _ = make_run(capsys, tmp_path, bot="passive", quarters=2, name="good.json")
    bad = edit_run(good, tmp_path / "bad.json", lambda d: d["quarters"][0].__setitem__("state_hash", "0" * 64))
    rc, stdout, _ = cli(capsys, "verify", str(good), str(bad), str(good))
    assert rc == 1
    assert stdout.count(str(good)) == 2 and str(bad) in stdout
    rc, _, _ = cli(capsys, "verify", str(good), str(good))
    assert rc == 0


def test_verify_truncated_file_exits_2(capsys, tmp_path):
    path, _ = make_run(capsys, tmp_path, bot="all-in", quarters=3)
    text = path.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    rc, out, err = cli(capsys, "verify", str(cut))
    assert_user_error(rc, out, err, str(cut))


@pytest.mark.parametrize("name, content, needle", [
    ("not-json.json", "this is not json {", "JSON"),
    ("empty.json", "", "JSON"),
    ("list.json", "[1, 2, 3]", "format"),
    ("other.json", json.dumps({"hello": "world"}), "format"),
    ("deep.json", "[" * 200_000, ""),  # RecursionError in the JSON parser
    ("long-int.json", '{"format": ' + "9" * 5000 + "}", ""),  # ValueError: int digit limit
    ("binary.json", b"\xff\xfe\x00garbage", ""),
])
def test_verify_unreadable_or_invalid_file_exits_2(capsys, tmp_path, name, content, needle):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    rc, out, err = cli(capsys, "verify", str(path))
    assert_user_error(rc, out, err, str(path), needle)


@pytest.mark.parametrize("change, field", [
    (lambda d: d.__setitem__("format_version", 99), "format_version"),
    (lambda d: d.pop("seed"), "seed"),
    (lambda d: d.__setitem__("seed", -3), "seed"),
    (lambda d: d.__setitem__("seed", "7"), "seed"),
    (lambda d: d.__setitem__("seed", True), "seed"),
    (lambda d: d.__setitem__("quarters", {"a": 1}), "quarters"),
    (lambda d: d["quarters"][0].pop("state_hash"), "quarters[0]"),
    (lambda d: d["quarters"][0]["actions"].append("buy everything"), "quarters[0].actions"),
    (lambda d: d.__setitem__("scenario", 42), "scenario"),
    (lambda d: d.__setitem__("scenario", "no-such-scenario"), "no-such-scenario"),
    (lambda d: d.__setitem__("final", "a lot"), "final"),
])
def test_verify_run_file_with_a_bad_field_exits_2_naming_it(capsys, tmp_path, change, field):
    path, _ = make_run(capsys, tmp_path, bot="passive", quarters=2)
    bad = edit_run(path, tmp_path / "bad.json", change)
    rc, out, err = cli(capsys, "verify", str(bad))
    assert_user_error(rc, out, err, str(bad), field)


def test_verify_missing_file_exits_2(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    rc, out, err = cli(capsys, "verify", str(missing))
    assert_user_error(rc, out, err, str(missing))
    rc, out, err = cli(capsys, "verify", str(tmp_path))  # a folder
    assert_user_error(rc, out, err, str(tmp_path))


def test_invalid_actions_in_a_run_file_are_replayed_as_rejections(capsys, tmp_path):
    """A hand-edited log with a nonsense action still re-simulates (the action is rejected and
    changes nothing), so the recorded hashes still verify; no traceback either way."""
    path, _ = make_run(capsys, tmp_path, bot="passive", quarters=2)

    def change(d):
        d["quarters"][0]["actions"] += [
            {"kind": "launch_rocket"}, {}, {"kind": "buy_gpus", "gen": "h100", "count": -8, "site_id": "S-TX"},
            {"kind": "take_loan", "offer_id": "nope", "amount_usd": 10**30},
        ]

    edited = edit_run(path, tmp_path / "junk.json", change)
    rc, out, err = cli(capsys, "verify", str(edited))
    assert rc == 0 and "Traceback" not in err


# ------------------------------------------------------------------------------ save -> load -> continue


@pytest.mark.parametrize("bot", ["all-in", "barbell", "flex"])
def test_resume_after_k_quarters_equals_playing_straight_through(capsys, tmp_path, bot):
    """Factorio's rule: save -> load -> continue == continue."""
    straight_path = tmp_path / "straight.json"
    straight = sim_json(capsys, "--seed", "8", "--bot", bot, "--run-out", str(straight_path))
    n = len(straight["quarters"])
    if n < 2:
        pytest.skip(f"{bot} ended the game in its first quarter on this seed")
    for k in sorted({1, n // 2, n - 1}):
        part = tmp_path / f"part{k}.json"
        sim_json(capsys, "--seed", "8", "--bot", bot, "--quarters", str(k), "--run-out", str(part))
        run, loaded, game = resume_game(part)
        assert len(game.reports) == k and game.hashes() == run.hashes
        run_bot(game, make_bot(bot))
        assert game.hashes() == [q["state_hash"] for q in straight["quarters"]], f"resumed after {k}"
        resumed = tmp_path / f"resumed{k}.json"
        save_run(run_from_game(game, loaded, player=f"bot:{bot}", bot=bot), resumed)
        assert resumed.read_bytes() == straight_path.read_bytes()


def test_resume_refuses_a_tampered_run(capsys, tmp_path):
    from game.errors import UserError

    path, _ = make_run(capsys, tmp_path, bot="flex", quarters=2)
    bad = edit_run(path, tmp_path / "bad.json", lambda d: d["quarters"][0].__setitem__("state_hash", "0" * 64))
    with pytest.raises(UserError, match="cannot continue"):
        resume_game(bad)


def test_run_of_a_scenario_file_given_by_path_verifies(capsys, tmp_path):
    """A class's own scenario file (issue 10, item 1): the run embeds its text, so it verifies
    wherever the file went, labelled as not built in; ``verify --scenario-file`` names it too."""
    path = write_scenario(tmp_path, r"^demand_scale = .*$", "demand_scale = 2.5", name="class.toml")
    run = tmp_path / "run.json"
    sim_json(capsys, "--scenario", str(path), "--seed", "1", "--bot", "passive", "--quarters", "2", "--run-out", str(run))
    rc, out, _ = cli(capsys, "verify", str(run))
    assert rc == 0 and "not a built-in scenario" in out, out
    moved = tmp_path / "elsewhere" / "class-v1.toml"
    moved.parent.mkdir()
    path.rename(moved)
    rc, out, err = cli(capsys, "verify", str(run))
    assert rc == 0 and "not a built-in scenario" in out, out  # the text travels in the run file
    rc, out, _ = cli(capsys, "verify", "--scenario-file", str(moved), str(run))
    assert rc == 0 and "not a built-in scenario" in out, out
    rc, out, _ = cli(capsys, "verify", "--scenario-file", str(SCENARIO_FILE), str(run))
    assert rc == 1 and "SHA-256" in out  # the built-in is another scenario than the one played


# ------------------------------------------------------------------------------ user errors


def test_unknown_bot_exits_2_listing_the_bots(capsys):
    rc, out, err = cli(capsys, "sim", "--bot", "genius", "--quarters", "1")
    assert_user_error(rc, out, err, "genius", *BOTS)


def test_unknown_scenario_exits_2_listing_the_scenarios(capsys):
    rc, out, err = cli(capsys, "sim", "--scenario", "moonbase-2099", "--quarters", "1")
    assert_user_error(rc, out, err, "moonbase-2099", DEFAULT_SCENARIO)


def test_missing_scenario_path_exits_2(capsys, tmp_path):
    missing = tmp_path / "gone.toml"
    rc, out, err = cli(capsys, "sim", "--scenario", str(missing), "--quarters", "1")
    assert_user_error(rc, out, err, "gone")


@pytest.mark.parametrize("argv, needle", [
    (["--seed", "-1"], "non-negative"),
    (["--seed", "twelve"], "seed"),
    (["--quarters", "0"], "quarters"),
    (["--quarters", "-4"], "quarters"),
    (["--quarters", "two"], "quarters"),
])
def test_bad_numbers_exit_2(capsys, argv, needle):
    rc, out, err = cli(capsys, "sim", *argv)
    assert_user_error(rc, out, err, needle)


def test_unwritable_run_out_exits_2(capsys, tmp_path):
    rc, out, err = cli(capsys, "sim", "--quarters", "1", "--json", "--run-out", str(tmp_path))  # a folder
    assert_user_error(rc, out, err, str(tmp_path))


def test_unknown_subcommand_and_missing_args_exit_2(capsys):
    rc, out, err = cli(capsys, "simulate")
    assert_user_error(rc, out, err)
    rc, out, err = cli(capsys, "verify")
    assert_user_error(rc, out, err)


@pytest.mark.parametrize("pattern, replacement, field, hint", [
    (r"^quarters = \d+", "quarters = 2", "quarters", "4"),
    (r"^mw = [\d.]+", "mw = -1", "mw", "greater than 0"),
    (r"^\[company\]$", "[company]\nfavourite_colour = \"teal\"", "favourite_colour", ""),
    (r"^archetype = .*$", 'archetype = "bank"', "archetype", "neocloud"),
    (r'^gen = ".*"$', 'gen = "h1000"', "gen", "h100"),
    (r"^start = .*$", 'start = "2025Q7"', "start", "2025Q1"),
    (r"^cash_usd = .*$", 'cash_usd = "lots"', "cash_usd", ""),
])
def test_malformed_scenario_names_file_field_and_what_is_valid(capsys, tmp_path, pattern, replacement, field, hint):
    path = write_scenario(tmp_path, pattern, replacement)
    rc, out, err = cli(capsys, "sim", "--scenario", str(path), "--quarters", "1", "--json")
    line = assert_user_error(rc, out, err, str(path), field, hint)
    assert len(line) < 400, "a short message"


def test_invalid_toml_syntax_exits_2_naming_the_file(capsys, tmp_path):
    path = write_scenario(tmp_path, r"^quarters = \d+", "quarters = = 20")
    rc, out, err = cli(capsys, "sim", "--scenario", str(path), "--quarters", "1")
    assert_user_error(rc, out, err, str(path), "TOML")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe" + scenario_text().encode("utf-8"))
    rc, out, err = cli(capsys, "sim", "--scenario", str(binary), "--quarters", "1")
    assert_user_error(rc, out, err, str(binary))


def test_scenario_valid_to_pydantic_but_not_to_the_world_exits_2(capsys, tmp_path):
    """A start before any GPU on the roadmap launched: the world cannot be built (was a traceback)."""
    path = write_scenario(tmp_path, r"^start = .*$", 'start = "1990Q1"')
    rc, out, err = cli(capsys, "sim", "--scenario", str(path), "--quarters", "1")
    assert_user_error(rc, out, err, str(path))


# ------------------------------------------------------------------------------ the real console script


def test_console_script_is_deterministic_across_processes_and_fails_cleanly(tmp_path):
    cmd = tycoon_command()
    argv = ["sim", "--scenario", DEFAULT_SCENARIO, "--seed", "13", "--bot", "barbell", "--quarters", "5", "--json"]
    outs = []
    for hash_seed in ("1", "2"):  # different str-hash seeds: set/dict-order bugs would show here
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(cmd + argv, capture_output=True, cwd=tmp_path, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    data = json.loads(outs[0])
    assert data["seed"] == 13 and 1 <= len(data["quarters"]) <= 5

    proc = subprocess.run(cmd + ["sim", "--bot", "nobody", "--quarters", "1"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tycoon: error:")
    assert all(bot in lines[0] for bot in BOTS)
