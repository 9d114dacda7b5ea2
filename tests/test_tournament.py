"""``tycoon tournament`` (issue 9, item 12): every scenario x bot x seed, in parallel, summarized.

Checks the contract (order, equality with ``sim``, the summary's arithmetic, CSV/JSON, errors),
never particular scores: the economics are being retuned.
"""

from __future__ import annotations

import csv
import io
import json
import statistics

import pytest

from game.cli import main
from game.tournament import GameRow, Progress, _quantile, parse_seeds, run_tournament, summarize

SCENARIOS = ["tutorial", "price-war"]


def cli(capsys, *argv):
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def row(scenario, bot, seed, score, ebitda=0.0, bankrupt=False):
    return GameRow(scenario=scenario, bot=bot, seed=seed, score=score, cumulative_ebitda=ebitda, bankrupt=bankrupt,
                   verdict="", quarters_played=1, state_hash="")


# ------------------------------------------------------------------------------ pieces


@pytest.mark.parametrize("text, seeds", [("1-20", list(range(1, 21))), ("3", [3]), ("1,4,9", [1, 4, 9]),
                                         ("5-6,1,6", [1, 5, 6]), ("0-2", [0, 1, 2])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


def test_quantiles_interpolate_like_numpy():
    """p10 and p90 by linear interpolation between order statistics (numpy.percentile's default)."""
    xs = [10.0, 1.0, 4.0, 7.0, 2.0]  # sorted: 1 2 4 7 10
    assert _quantile(xs, 0.5) == 4.0
    assert _quantile(xs, 0.10) == pytest.approx(1.4)  # position 0.4 between 1 and 2
    assert _quantile(xs, 0.90) == pytest.approx(8.8)  # position 3.6 between 7 and 10
    assert _quantile([5.0], 0.9) == 5.0


def test_summary_per_scenario_and_bot_with_the_winner_by_median():
    rows = [row("a", "x", s, sc, e, b) for s, sc, e, b in [(1, 10, 1, False), (2, 30, 3, True), (3, 20, 2, False)]]
    rows += [row("a", "y", s, sc) for s, sc in [(1, 25), (2, 15), (3, 21)]]
    rows += [row("b", "x", 1, 5), row("b", "y", 1, 9)]
    cells, winners = summarize(rows)
    assert [(c.scenario, c.bot) for c in cells] == [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    ax = cells[0]
    assert (ax.games, ax.median_score, ax.median_cumulative_ebitda) == (3, 20, 2)
    assert ax.bankrupt_share == pytest.approx(1 / 3, abs=1e-4)
    assert ax.p10_score == pytest.approx(12.0) and ax.p90_score == pytest.approx(28.0)
    assert winners == {"a": "y", "b": "y"}  # 21 > 20; 9 > 5


def test_progress_is_plain_lines_off_a_terminal():
    out = io.StringIO()
    p = Progress(20, out)
    for _ in range(20):
        p.tick()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 10 and lines[-1].startswith("tournament: 20/20 games")


# ------------------------------------------------------------------------------ the games


def test_rows_come_in_order_and_equal_sim_whatever_the_workers(capsys):
    seeds = [1, 2]
    bots = ["flex", "max-leverage"]
    serial = run_tournament(SCENARIOS, bots, seeds, workers=1)
    parallel = run_tournament(SCENARIOS, bots, seeds, workers=2)
    assert serial == parallel
    assert [(r.scenario, r.bot, r.seed) for r in serial] == [(s, b, n) for s in SCENARIOS for b in bots for n in seeds]
    for r in serial[:3] + serial[-2:]:
        rc, out, err = cli(capsys, "sim", "--scenario", r.scenario, "--seed", str(r.seed), "--bot", r.bot, "--json")
        sim = json.loads(out)
        assert sim["final"]["score"] == r.score and sim["final"]["bankrupt"] == r.bankrupt
        assert sim["quarters"][-1]["state_hash"] == r.state_hash
        assert sum(q["ebitda"] for q in sim["quarters"]) == pytest.approx(r.cumulative_ebitda, abs=0.01 * len(sim["quarters"]))


def test_cli_json_summary_csv_rows_and_bot_files(capsys, tmp_path):
    bot_file = tmp_path / "mine.py"
    bot_file.write_text("class Idle:\n    name = 'idle'\n    def act(self, obs):\n        return []\n")
    out_csv = tmp_path / "games.csv"
    rc, out, err = cli(capsys, "tournament", "--scenarios", ",".join(SCENARIOS), "--bots", "passive,flex", "--seeds", "1-3",
                       "--workers", "2", "--bot", f"{bot_file}:Idle", "--csv", str(out_csv), "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert data["bots"] == ["passive", "flex", "idle"] and data["seeds"] == [1, 2, 3] and data["games"] == 18
    assert [(c["scenario"], c["bot"]) for c in data["results"]] == [(s, b) for s in SCENARIOS for b in ("passive", "flex", "idle")]
    with open(out_csv, newline="") as fh:
        games = list(csv.DictReader(fh))
    assert len(games) == 18
    for c in data["results"]:
        scores = [float(g["score"]) for g in games if g["scenario"] == c["scenario"] and g["bot"] == c["bot"]]
        assert c["median_score"] == pytest.approx(statistics.median(scores), abs=0.01)
        assert c["p10_score"] <= c["median_score"] <= c["p90_score"]
    idle = {(g["scenario"], g["seed"]): g["score"] for g in games if g["bot"] == "idle"}
    passive = {(g["scenario"], g["seed"]): g["score"] for g in games if g["bot"] == "passive"}
    assert idle == passive  # a file bot that does nothing plays the passive bot's games
    for s in SCENARIOS:
        best = max((c for c in data["results"] if c["scenario"] == s), key=lambda c: c["median_score"])
        assert data["winners"][s] == best["bot"]


def test_cli_table_names_the_winners(capsys):
    rc, out, err = cli(capsys, "tournament", "--scenarios", "tutorial", "--bots", "passive,barbell", "--seeds", "1", "--workers", "1")
    assert rc == 0, err
    assert "winner per scenario" in out and "median" in out and "bankrupt" in out
    assert "tournament: 2/2 games" in err  # progress on stderr, plain when stderr is not a terminal


@pytest.mark.parametrize("argv, needle", [
    (["--seeds", "20-1"], "--seeds"),
    (["--seeds", "a-b"], "--seeds"),
    (["--seeds", "-3"], "--seeds"),
    (["--workers", "0"], "--workers"),
    (["--scenarios", "atlantis"], "atlantis"),
    (["--bots", "genius"], "genius"),
    (["--bots", "flex,flex"], "flex"),
    (["--bot", "nowhere.py:Bot"], "nowhere.py"),
    (["--csv", "/nonexistent-dir/x.csv", "--seeds", "1", "--scenarios", "tutorial", "--bots", "passive", "--workers", "1"], "--csv"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, needle):
    rc, out, err = cli(capsys, "tournament", *argv)
    assert rc == 2 and "Traceback" not in err
    assert needle in err.strip().splitlines()[-1]
