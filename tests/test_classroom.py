"""The classroom server (issue 13): the same tests on SQLite and on a real PostgreSQL.

PostgreSQL is started by the tests in a temporary directory (``initdb``, ``pg_ctl``); the
PostgreSQL cases are skipped only when those programs are missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the server extra is not installed")
with warnings.catch_warnings():  # Starlette 1.x suggests httpx2 for its TestClient; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from engine.bots import make_bot, run_bot  # noqa: E402
from engine.game import Game  # noqa: E402
from game.classroom import svg  # noqa: E402
from game.classroom.app import RateLimit, create_app, instructor_report  # noqa: E402
from game.classroom.db import MIGRATIONS, SCHEMA_VERSION, Database, token_digest  # noqa: E402
from game.classroom.worker import class_facts  # noqa: E402
from game.errors import UserError  # noqa: E402
from scenarios import load_scenario  # noqa: E402
from tests.classroom_helpers import SCEN, SEED, edited, make_run, renamed, route_requests_to  # noqa: E402

TOKEN = "instructor-secret"
EVIL = "<script>document.title='pwned'</script>"
COMPETITION = f'id = "econ-101"\ntitle = "ECON 101 <b>week 1</b>"\nscenario = "{SCEN}"\nseed = {SEED}\npolicy = "best-of-2"\n'




@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("classroom-runs")
    out = {
        "alice": make_run(d, "alice", "flex", "alice"),
        "bob": make_run(d, "bob", "all-in", "bob"),
        "carol": make_run(d, "carol", "passive", "carol"),
        "evil": make_run(d, "evil", "barbell", EVIL),
        "other_seed": make_run(d, "other-seed", "flex", "dave", seed=SEED + 1),
    }
    out["alice2"] = renamed(out["carol"], d / "alice2.json", "alice")  # alice's second attempt: another game
    out["alice3"] = renamed(out["bob"], d / "alice3.json", "alice")
    out["tampered"] = edited(out["alice"], d / "tampered.json", lambda r: r["final"].__setitem__("score", r["final"]["score"] * 2))
    out["ruleset"] = edited(out["alice"], d / "ruleset.json", lambda r: r.__setitem__("ruleset", "1999.1.1"))
    out["version"] = edited(out["alice"], d / "version.json", lambda r: r.__setitem__("scenario_sha256", "a" * 64))

    def custom(r):  # a class's own edit of the scenario, self-consistent: it verifies, but is no built-in world
        r["scenario_toml"] = load_scenario(SCEN).data.decode() + "\n# edited\n"
        r["scenario_sha256"] = hashlib.sha256(r["scenario_toml"].encode()).hexdigest()

    out["custom"] = edited(out["alice"], d / "custom.json", custom)
    return out


@pytest.fixture
def client(db_url):
    app = create_app(db_url, workers=1, token=TOKEN, rate_per_minute=0)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def post_run(client, path: Path, code: str | None = None):
    return client.post("/api/runs" + (f"?code={code}" if code else ""), content=path.read_bytes())


def add_competition(client, text: str = COMPETITION, token: str = TOKEN):
    return client.post("/api/competitions", content=text.encode(), headers={"Authorization": f"Bearer {token}"})


# ----------------------------------------------------------------------------- submissions


def test_submission_is_verified_stored_and_ranked(client, runs):
    a = post_run(client, runs["alice"])
    assert a.status_code == 201, a.text
    assert a.json()["accepted"] and a.json()["rank"] == 1 and a.json()["of"] == 1
    b = post_run(client, runs["bob"])
    assert b.status_code == 201, b.text
    # bob (all-in) beats alice (flex) on this seed: he is first, and the answer says so
    assert b.json()["score"] > a.json()["score"] and b.json()["rank"] == 1 and b.json()["of"] == 2
    doc = client.get(f"/api/standings?scenario={SCEN}&seed={SEED}").json()
    assert [e["player"] for e in doc["entries"]] == ["bob", "alice"]
    assert [e["rank"] for e in doc["entries"]] == [1, 2]
    first = doc["entries"][0]
    assert {"player", "score", "verdict", "quarters", "submitted_at", "rank"} <= set(first)
    assert first["quarters"] == load_scenario(SCEN).scenario.quarters
    # the score the server stored is the one it re-simulated, in dollars to the cent
    game = run_bot(Game(load_scenario(SCEN).scenario, SEED), make_bot("all-in"))
    assert first["score"] == game.reports[-1].score.score_cents / 100


def test_refusals_name_the_reason(client, runs):
    assert post_run(client, runs["alice"]).status_code == 201
    cases = {
        "tampered": "does not verify",
        "ruleset": "ruleset 1999.1.1",
        "version": "another version of scenario",
        "custom": "another scenario version",
        "alice": "duplicate",
    }
    for name, why in cases.items():
        r = post_run(client, runs[name])
        assert r.status_code == 422, (name, r.text)
        assert r.json()["accepted"] is False and why in r.json()["reason"], (name, r.json())
    same_game = post_run(client, renamed(runs["alice"], runs["alice"].with_name("alice-copy.json"), "alice"))
    assert same_game.status_code == 422 and "already has this game" in same_game.json()["reason"]
    assert client.post("/api/runs", content=b"").json()["reason"].startswith("empty")
    garbage = client.post("/api/runs", content=b"{not json")
    assert garbage.status_code == 422 and garbage.json()["reason"] and not garbage.json()["accepted"]
    unknown = post_run(client, runs["bob"], code="NOPE-NOPE")
    assert unknown.status_code == 422 and "unknown class code" in unknown.json()["reason"]
    # nothing refused was stored
    assert [e["player"] for e in client.get(f"/api/standings?scenario={SCEN}&seed={SEED}").json()["entries"]] == ["alice"]


def test_too_large_is_refused_before_it_is_read(db_url, runs):
    app = create_app(db_url, workers=1, token=TOKEN, max_bytes=1000, rate_per_minute=0)
    with TestClient(app) as c:
        r = post_run(c, runs["alice"])
        assert r.status_code == 422 and r.json()["reason"].startswith("too large")
        assert app.state.db.queue_counts() == {}  # never queued


def test_rate_limit_per_address(db_url, runs):
    app = create_app(db_url, workers=1, token=TOKEN, rate_per_minute=2)
    with TestClient(app) as c:
        codes = [post_run(c, runs[n]).status_code for n in ("alice", "bob", "carol")]
    assert codes == [201, 201, 429]


def test_rate_limit_window_slides():
    rl = RateLimit(2)
    assert rl.allow("a", 0.0) and rl.allow("a", 1.0) and not rl.allow("a", 59.0)
    assert rl.allow("b", 59.0)  # per address
    assert rl.allow("a", 60.5)  # the first request left the window


# ----------------------------------------------------------------------------- competitions


def test_competition_class_code_attempt_policy_gradebook_and_report(client, runs):
    assert add_competition(client, token="wrong").status_code == 401
    assert client.post("/api/competitions", content=COMPETITION.encode()).status_code == 401
    bad = add_competition(client, COMPETITION.replace('scenario = "tutorial"', 'scenario = "nope"'))
    assert bad.status_code == 422 and "field scenario" in bad.json()["error"]
    made = add_competition(client)
    assert made.status_code == 201, made.text
    code = made.json()["class_code"]
    assert {b["bot"] for b in made.json()["bots"]} == {"passive", "flex", "barbell", "all-in"}

    first = post_run(client, runs["alice"], code)
    assert first.status_code == 201 and first.json()["rank"] == 1
    wrong_seed = post_run(client, runs["other_seed"], code)
    assert wrong_seed.status_code == 422 and "seed" in wrong_seed.json()["reason"]
    second = post_run(client, runs["alice2"], code.lower())  # codes are read case-blind
    assert second.status_code == 201, second.text
    third = post_run(client, runs["alice3"], code)  # best-of-2: a third attempt could never count
    assert third.status_code == 422 and "attempt policy" in third.json()["reason"]
    assert post_run(client, runs["evil"], code).status_code == 201

    doc = client.get("/api/standings?competition=econ-101").json()
    by = {e["player"]: e for e in doc["entries"]}
    assert set(by) == {"alice", EVIL}
    assert by["alice"]["attempts"] == 2  # the best of her two counts
    assert by["alice"]["score"] == max(first.json()["score"], second.json()["score"])

    assert client.get("/api/competitions/econ-101/gradebook.csv").status_code == 401
    grade = client.get("/api/competitions/econ-101/gradebook.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    assert grade.status_code == 200
    rows = list(csv.DictReader(io.StringIO(grade.text)))
    assert {r["player"] for r in rows} == {"alice", EVIL}
    q = load_scenario(SCEN).scenario.quarters
    assert f"q{q:02d}_score" in rows[0] and rows[0]["q01_quarter"]

    assert client.get("/instructor/econ-101").status_code == 401
    page = client.get(f"/instructor/econ-101?token={TOKEN}")
    assert page.status_code == 200
    assert 'id="bots"' in page.text and "all-in" in page.text
    assert EVIL not in page.text and "&lt;script&gt;" in page.text
    assert "<b>week 1</b>" not in page.text  # the competition's title is escaped too


def test_instructor_report_medians_outliers_defaults():
    """Tukey's fences on a worked example: scores 10, 11, 12, 13, 100 -> quartiles 10.5 and 56.5
    (statistics.quantiles, exclusive), fences -58.5 and 125.5: no outlier; add 1000: it is one."""
    entries = [{"player": f"p{i}", "score": float(s), "bankrupt": s == 10, "verdict": "Bankrupt" if s == 10 else "ok",
                "facts": {"end_reason": "Covenant default: DSCR below 1.0x"} if s == 10 else {}}
               for i, s in enumerate((10, 11, 12, 13, 100))]
    bots = [{"bot": "flex", "score": 12.5}, {"bot": "passive", "score": 20.0}]
    rep = instructor_report(None, bots, entries)
    assert rep["median"] == 12 and rep["bot_median"] == 16.25 and rep["beat_best_bot"] == 1
    assert rep["outliers"] == []
    assert [d["why"] for d in rep["defaulted"]] == ["Covenant default: DSCR below 1.0x"]
    rep = instructor_report(None, bots, entries + [{"player": "x", "score": 1000.0, "bankrupt": False, "verdict": "", "facts": {}}])
    assert [(o["player"], o["side"]) for o in rep["outliers"]] == [("x", "high")]


# ----------------------------------------------------------------------------- pages


def test_pages_escape_names_and_draw_charts(client, runs):
    for n in ("alice", "bob", "evil"):
        assert post_run(client, runs[n]).status_code == 201
    index = client.get("/")
    assert index.status_code == 200 and f"/standings?scenario={SCEN}&amp;seed={SEED}" in index.text
    page = client.get(f"/standings?scenario={SCEN}&seed={SEED}")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"] and "default-src 'none'" in page.headers["content-security-policy"]
    assert EVIL not in page.text and "<script" not in page.text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page.text
    assert page.text.count("<svg") == 4 and page.text.count('class="entry"') == 3
    assert page.text.count('class="series"') == 3  # a line per player
    assert client.get("/standings?scenario=nope&seed=1").status_code == 404
    assert client.get("/standings?scenario=tutorial").status_code == 400


def test_svg_histogram_counts_and_ticks():
    """Worked example: five scores in [0, 100] over 4 bins of 25 -> counts 2, 1, 0, 2."""
    out = svg.histogram([0, 10, 30, 80, 100], bins=4)
    assert out.count('class="bar"') == 3  # the empty bin draws nothing
    assert "2 player(s)" in out and "1 player(s)" in out
    assert svg._nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]
    assert svg._nice_ticks(-3e6, 7e6, 5) == [-4e6, -2e6, 0, 2e6, 4e6, 6e6, 8e6]
    assert "&lt;b&gt;" in svg.scatter([(0.5, 1.0, "<b>")], "t", "x") and "<b>" not in svg.scatter([(0.5, 1.0, "<b>")], "t", "x")


def test_class_facts_from_the_balance_sheet():
    """KB §5 leverage = (debt + lease liabilities) / total assets, the peak over the game; KB §2
    contracted share, the mean over quarters; recomputed by hand from the quarter reports."""
    game = run_bot(Game(load_scenario(SCEN).scenario, SEED), make_bot("all-in"))
    f = class_facts(game)
    by_hand = max((r.balance.debt + r.balance.lease_liabilities) / r.balance.total_assets for r in game.reports)
    assert f["leverage"] == round(by_hand, 4) and f["leverage"] > 0
    share = sum(r.kpis.contracted_share for r in game.reports) / len(game.reports)
    assert f["contracted_share"] == round(share, 4)
    assert f["scores"] == [r.score.score_cents for r in game.reports]


# ----------------------------------------------------------------------------- database


def test_schema_migrations_apply_once_and_refuse_newer(db_url):
    with Database(db_url) as db:
        assert db.schema_version() == SCHEMA_VERSION == MIGRATIONS[-1][0]
    with Database(db_url) as db:  # a second server on the same database: nothing applied twice
        with db.read() as c:
            assert c.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        with db.tx() as c:
            c.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(UserError, match="newer tycoon"):
        Database(db_url)


def test_bad_db_url_is_one_line():
    with pytest.raises(UserError, match="sqlite:///PATH or postgresql://"):
        Database("mysql://x")


def test_token_is_kept_as_digest_only(db_url):
    app = create_app(db_url, workers=1, token=TOKEN)
    db = app.state.db
    try:
        with db.read() as c:
            values = [r[0] for r in c.execute("SELECT value FROM settings").fetchall()]
        assert TOKEN not in values and token_digest(TOKEN) in values
    finally:
        db.close()


def test_concurrent_claims_never_share_a_job(db_url):
    """Two servers claiming from one queue: every job is taken once (PostgreSQL: FOR UPDATE SKIP
    LOCKED; SQLite: one writer at a time); an expired lease (a crashed server) is taken again."""
    dbs = [Database(db_url), Database(db_url)]
    try:
        ids = [dbs[0].enqueue(f"run {i}".encode()) for i in range(40)]
        got: list[list[int]] = [[], []]

        def claimer(k: int) -> None:
            while True:
                jobs = dbs[k].claim(3, 60)
                if not jobs:
                    return
                got[k] += [j.id for j in jobs]

        threads = [threading.Thread(target=claimer, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(got[0] + got[1]) == ids  # all taken, none twice
        assert dbs[0].claim(5, 60) == []
        extra = dbs[0].enqueue(b"late")
        assert [j.id for j in dbs[0].claim(1, 0.05)] == [extra]
        time.sleep(0.1)  # its server "crashed": the lease runs out
        again = dbs[1].claim(1, 60)
        assert [(j.id, j.tries) for j in again] == [(extra, 2)]
    finally:
        for db in dbs:
            db.close()


def test_a_closed_job_stays_closed(db_url, runs):
    """Two servers finishing the same job (the first was slow, its lease ran out): one result."""
    from game.classroom.worker import verify_submission

    with Database(db_url) as db:
        job = db.enqueue(runs["alice"].read_bytes())
        outcome = verify_submission(runs["alice"].read_bytes(), None)
        first = db.finish(job, outcome, None)
        second = db.finish(job, verify_submission(runs["alice"].read_bytes(), None), None)
        assert first == second and first["accepted"]
        assert len(db.entries(scenario=SCEN)) == 1


def test_submit_cli_exit_codes(client, runs, capsys, monkeypatch):
    """`tycoon board submit` prints each run's rank or refusal; exit 0 only when all were accepted."""
    from game.cli import main

    route_requests_to(client, monkeypatch)
    assert main(["board", "submit", str(runs["alice"]), "--server", "http://class.example"]) == 0
    assert "accepted: alice" in capsys.readouterr().out
    assert main(["board", "submit", str(runs["bob"]), str(runs["tampered"]), "--server", "http://class.example"]) == 1
    out = capsys.readouterr().out
    assert "bob.json: accepted" in out and "tampered.json: refused: does not verify" in out
    assert main(["board", "submit", str(runs["bob"]), "--server", "ftp://x"]) == 2
    assert "--server" in capsys.readouterr().err


def test_class_server_from_competition_file_then_environment(tmp_path, monkeypatch):
    """The debrief's target: the competition file's server and class code win over the environment."""
    from game.classroom.client import class_server
    from game.competition import load_competition

    monkeypatch.delenv("TYCOON_SERVER", raising=False)
    monkeypatch.delenv("TYCOON_CLASS_CODE", raising=False)
    assert class_server(None) is None
    monkeypatch.setenv("TYCOON_SERVER", "http://env.example:8765")
    monkeypatch.setenv("TYCOON_CLASS_CODE", "ENVC-ODE1")
    assert class_server(None) == ("http://env.example:8765", "ENVC-ODE1")
    f = tmp_path / "c.toml"
    f.write_text(COMPETITION + 'server = "http://10.0.0.5:8765"\nclass_code = "K7PQ-3QXA"\n')
    assert class_server(load_competition(f)) == ("http://10.0.0.5:8765", "K7PQ-3QXA")
    f.write_text(COMPETITION + 'server = "javascript:alert(1)"\n')
    with pytest.raises(UserError, match="server"):
        load_competition(f)


def test_serve_cli_token_once_and_warns_off_localhost(tmp_path, monkeypatch, capsys):
    """`board serve` makes and prints an instructor token on a new database only, and warns when it
    binds beyond localhost (uvicorn.run is replaced: the real server is tested in test_classroom_restart)."""
    import uvicorn

    from game.cli import main

    served: list[dict] = []
    monkeypatch.delenv("TYCOON_INSTRUCTOR_TOKEN", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert main(["board", "serve", "--db", url, "--workers", "1"]) == 0
    out = capsys.readouterr()
    assert "instructor token (shown once" in out.out and "warning" not in out.err
    token = out.out.split("SHA-256): ", 1)[1].split()[0]
    with Database(url) as db:
        assert db.setting("instructor_token_sha256") == token_digest(token)
    assert main(["board", "serve", "--db", url, "--host", "0.0.0.0", "--port", "9999"]) == 0
    out = capsys.readouterr()
    assert token not in out.out and "first served" in out.out
    assert "warning: --host 0.0.0.0 opens the server to the network" in out.err
    assert [(s["host"], s["port"]) for s in served] == [("127.0.0.1", 8765), ("0.0.0.0", 9999)]
    assert main(["board", "serve", "--db", "mysql://nope"]) == 2
    assert "sqlite:///PATH or postgresql://" in capsys.readouterr().err


def test_competition_add_and_gradebook_cli(client, runs, tmp_path, capsys, monkeypatch):
    from game.cli import main

    route_requests_to(client, monkeypatch)
    f = tmp_path / "econ.toml"
    f.write_text(COMPETITION + 'class_code = "ECON-0101"\n')
    server = ["--server", "http://class.example"]
    assert main(["board", "competition", "add", str(f), *server, "--token", "nope"]) == 2
    assert "instructor token is missing or wrong" in capsys.readouterr().err
    assert main(["board", "competition", "add", str(f), *server, "--token", TOKEN]) == 0
    out = capsys.readouterr().out
    assert "class code ECON-0101" in out and "bot all-in" in out
    assert main(["board", "submit", str(runs["alice"]), *server, "--code", "ECON-0101"]) == 0
    assert "on competition econ-101" in capsys.readouterr().out
    dest = tmp_path / "grades.csv"
    assert main(["board", "gradebook", *server, "--token", TOKEN, "--competition", "econ-101", "--csv", str(dest)]) == 0
    rows = list(csv.DictReader(dest.open(newline="")))
    assert [r["player"] for r in rows] == ["alice"] and rows[0]["competition"] == "econ-101"
    assert main(["board", "gradebook", *server, "--token", TOKEN, "--competition", "nope", "--csv", str(dest)]) == 2
