"""The classroom server takes industry files (issue 15): verified with `tycoon verify`'s own
re-simulation, each company ranked within its industry, players on the competition's board.

The same tests run on SQLite and on a real PostgreSQL (started in a temporary directory; skipped
only when initdb/pg_ctl are missing).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the server extra is not installed")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine.bots import make_bot  # noqa: E402
from engine.industry import Industry  # noqa: E402
from game.classroom.app import create_app, industry_winners, overall_board  # noqa: E402
from game.classroom.db import SCHEMA_VERSION, Database  # noqa: E402
from game.classroom.worker import rank_companies, verify_industry_submission  # noqa: E402
from game.industry import industry_file, save_industry  # noqa: E402
from scenarios import load_scenario  # noqa: E402
from tests.classroom_helpers import SCEN, SEED, edited, make_run, route_requests_to  # noqa: E402

TOKEN = "instructor-secret"
EVIL = "<script>document.title='pwned'</script>"
IND_COMPETITION = (f'id = "econ-201"\ntitle = "ECON 201 industries"\nscenario = "{SCEN}"\nseed = {SEED}\n'
                   'kind = "industry"\nindustry_size = 3\n')


def play_industry(players: dict[str, str], rivals: list[str], seed: int = SEED, scenario: str = SCEN):
    """An industry played to its end: ``players`` are companies of players (bot None in the file),
    their plans made by the named bots here; ``rivals`` are bot companies."""
    loaded = load_scenario(scenario)
    ind = Industry(loaded.scenario, seed, [(p, None) for p in players] + [(b, b) for b in rivals])
    drivers = {**{p: make_bot(b) for p, b in players.items()}, **{b: make_bot(b) for b in rivals}}
    while not ind.over:
        ind.play({n: drivers[n].act(ind.observation(n)) for n in ind.active()})
    return ind, loaded


def make_industry(folder: Path, name: str, players: dict[str, str], rivals: list[str], seed: int = SEED) -> Path:
    ind, loaded = play_industry(players, rivals, seed)
    return save_industry(industry_file(ind, loaded), folder / f"{name}.json")




@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("classroom-industries")
    out = {
        "abc": make_industry(d, "abc", {"alice": "flex", "bob": "all-in"}, ["barbell"]),
        "cd": make_industry(d, "cd", {"carol": "passive", "dave": "barbell"}, ["flex"]),
        "pair": make_industry(d, "pair", {"erin": "flex"}, ["all-in"]),
        "other_seed": make_industry(d, "other-seed", {"frank": "flex", "gina": "all-in"}, ["barbell"], seed=SEED + 1),
        "bots_only": make_industry(d, "bots-only", {}, ["flex", "all-in"]),
        "run": make_run(d, "run", "flex", "hank"),
    }

    def tamper(data):  # alice's third quarter claims another state: the chain breaks there
        data["quarters"][2]["state_hashes"]["alice"] = "0" * 64

    out["tampered"] = edited(out["abc"], d / "tampered.json", tamper)
    out["relabeled"] = edited(out["abc"], d / "relabeled.json", lambda f: f.__setitem__("final", None))  # same game, other bytes

    def evil(data):  # a rival's bot is only a label in the file: it reaches the page, escaped
        data["companies"][2]["bot"] = EVIL

    out["evil"] = edited(out["abc"], d / "evil.json", evil)
    unfinished = json.loads(out["abc"].read_text())
    unfinished["quarters"] = unfinished["quarters"][:3]
    unfinished["final"] = None
    (d / "unfinished.json").write_text(json.dumps(unfinished))
    out["unfinished"] = d / "unfinished.json"
    return out


@pytest.fixture
def client(db_url):
    app = create_app(db_url, workers=1, token=TOKEN, rate_per_minute=0)
    with TestClient(app) as c:
        yield c


def post(client, path: Path, code: str | None = None):
    return client.post("/api/runs" + (f"?code={code}" if code else ""), content=path.read_bytes())


def add_competition(client, text: str = IND_COMPETITION):
    return client.post("/api/competitions", content=text.encode(), headers={"Authorization": f"Bearer {TOKEN}"})


def expected_companies(players: dict[str, str], rivals: list[str]) -> dict[str, dict]:
    """Each company's result re-computed here from the engine: score, revenue over the game, share, rank."""
    ind, _ = play_industry(players, rivals)
    rev = {n: sum(r.income.revenue for r in c.reports) for n, c in ind.companies.items()}
    score = {n: c.reports[-1].score.score_cents for n, c in ind.companies.items()}
    total = sum(rev.values())
    return {n: {"score": score[n] / 100, "share": round(rev[n] / total, 4), "revenue": rev[n] / 100,
                "rank": 1 + sum(1 for m in score if score[m] > score[n])} for n in ind.companies}


# ----------------------------------------------------------------------------- ranking within an industry


def test_industry_is_verified_and_ranked_within_it(client, files):
    want = expected_companies({"alice": "flex", "bob": "all-in"}, ["barbell"])
    r = post(client, files["abc"])
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["accepted"] and d["kind"] == "industry" and d["board"] == f"{SCEN} seed {SEED}"
    got = {c["name"]: c for c in d["companies"]}
    assert set(got) == {"alice", "bob", "barbell"}
    for n, w in want.items():
        assert got[n]["rank"] == w["rank"] and got[n]["score"] == w["score"] and got[n]["share"] == w["share"], n
        assert got[n]["of"] == 3
    assert got["barbell"]["bot"] == "barbell" and got["alice"]["bot"] is None

    doc = client.get(f"/api/standings?scenario={SCEN}&seed={SEED}").json()
    assert doc["entries"] == []  # an open board's run table holds runs only; the industry has its own section
    [ind] = doc["industries"]
    assert {"id", "scenario", "seed", "companies"} <= set(ind) and (ind["scenario"], ind["seed"]) == (SCEN, SEED)
    assert [c["rank"] for c in ind["companies"]] == sorted(w["rank"] for w in want.values())
    assert [c["name"] for c in ind["companies"]] == sorted(want, key=lambda n: want[n]["rank"])
    by = {c["name"]: c for c in ind["companies"]}
    assert by["barbell"]["rival"] and not by["alice"]["rival"]
    assert by["bob"]["revenue"] == want["bob"]["revenue"]
    assert abs(sum(c["share"] for c in ind["companies"]) - 1) < 1e-3
    assert {"rank", "score", "revenue", "share", "verdict", "bankrupt"} <= set(by["alice"])


def test_tampered_industry_is_refused_naming_company_and_quarter(client, files):
    r = post(client, files["tampered"])
    assert r.status_code == 422, r.text
    reason = r.json()["reason"]
    label = json.loads(files["abc"].read_text())["quarters"][2]["quarter"]
    assert "does not verify" in reason and "alice" in reason and label in reason, reason
    assert "/tmp" not in reason and "industry.json" not in reason  # no server path leaks
    unfinished = post(client, files["unfinished"])
    assert unfinished.status_code == 422 and "unfinished: 3 of" in unfinished.json()["reason"]
    bots = post(client, files["bots_only"])
    assert bots.status_code == 422 and "only bots" in bots.json()["reason"]
    assert client.get(f"/api/standings?scenario={SCEN}&seed={SEED}").json()["industries"] == []


def test_duplicate_industry_is_refused(client, files):
    assert post(client, files["abc"]).status_code == 201
    again = post(client, files["abc"])
    assert again.status_code == 422 and "duplicate" in again.json()["reason"]
    same_game = post(client, files["relabeled"])  # other bytes, the same industry hash
    assert same_game.status_code == 422 and "duplicate" in same_game.json()["reason"]
    assert post(client, files["cd"]).status_code == 201  # another industry is welcome
    assert len(client.get(f"/api/standings?scenario={SCEN}&seed={SEED}").json()["industries"]) == 2


# ----------------------------------------------------------------------------- competitions of industries


def test_industry_competition_board_gradebook_and_report(client, files):
    made = add_competition(client)
    assert made.status_code == 201, made.text
    code = made.json()["class_code"]
    run = post(client, files["run"], code)
    assert run.status_code == 422 and "industry files only" in run.json()["reason"]
    wrong_size = post(client, files["pair"], code)
    assert wrong_size.status_code == 422 and "industries of 3 companies" in wrong_size.json()["reason"]
    wrong_seed = post(client, files["other_seed"], code)
    assert wrong_seed.status_code == 422 and "seed" in wrong_seed.json()["reason"]
    assert post(client, files["abc"], code).status_code == 201
    assert post(client, files["cd"], code).status_code == 201
    assert post(client, files["abc"], code).json()["reason"].startswith("duplicate")

    want = {**expected_companies({"alice": "flex", "bob": "all-in"}, ["barbell"]),
            **expected_companies({"carol": "passive", "dave": "barbell"}, ["flex"])}
    doc = client.get("/api/standings?competition=econ-201").json()
    players = ["alice", "bob", "carol", "dave"]
    # the overall board: the four students (the rivals are not students), by score, each with its industry
    assert [e["player"] for e in doc["entries"]] == sorted(players, key=lambda p: -want[p]["score"])
    assert [e["rank"] for e in doc["entries"]] == [1, 2, 3, 4]
    ids = {c["name"]: ind["id"] for ind in doc["industries"] for c in ind["companies"]}
    for e in doc["entries"]:
        assert e["industry"] == ids[e["player"]] and e["industry_rank"] == want[e["player"]]["rank"]
    assert len(doc["industries"]) == 2

    grade = client.get("/api/competitions/econ-201/gradebook.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    assert grade.status_code == 200
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grade.text))}
    assert set(rows) == set(players)  # one row per student, no rival
    for p in players:
        assert int(rows[p]["industry"]) == ids[p] and int(rows[p]["rank_in_industry"]) == want[p]["rank"]
        assert float(rows[p]["score_usd"]) == want[p]["score"] and rows[p]["source"] == "industry"

    page = client.get(f"/instructor/econ-201?token={TOKEN}")
    assert page.status_code == 200 and 'id="industry-winners"' in page.text
    for ind in doc["industries"]:
        top, second = ind["companies"][0], ind["companies"][1]
        assert f"${top['score'] - second['score']:,.0f} ahead of {second['name']}" in page.text
    html = client.get("/standings?competition=econ-201").text
    assert html.count('class="industry"') == 2 and html.count('class="rival"') == 2


def test_run_competition_refuses_industries_and_both_takes_either(client, files):
    run_comp = IND_COMPETITION.replace('kind = "industry"\nindustry_size = 3\n', "").replace("econ-201", "econ-101")
    code = add_competition(client, run_comp).json()["class_code"]
    r = post(client, files["abc"], code)
    assert r.status_code == 422 and 'kind = "run"' in r.json()["reason"]
    both = add_competition(client, IND_COMPETITION.replace('"industry"', '"both"').replace("econ-201", "econ-301")).json()["class_code"]
    assert post(client, files["abc"], both).status_code == 201
    assert post(client, files["run"], both).status_code == 201
    doc = client.get("/api/standings?competition=econ-301").json()
    assert {e["player"]: e["industry"] is None for e in doc["entries"]} == {"alice": False, "bob": False, "hank": True}
    grade = client.get("/api/competitions/econ-301/gradebook.csv", headers={"Authorization": f"Bearer {TOKEN}"}).text
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grade))}
    assert rows["hank"]["source"] == "run" and rows["hank"]["industry"] == "" and rows["alice"]["source"] == "industry"


def test_industry_page_escapes_names(client, files):
    assert post(client, files["evil"]).status_code == 201
    page = client.get(f"/standings?scenario={SCEN}&seed={SEED}")
    assert page.status_code == 200
    assert EVIL not in page.text and "<script" not in page.text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page.text
    index = client.get("/")
    assert f"/standings?scenario={SCEN}&amp;seed={SEED}" in index.text  # an industry opens its board


def test_submit_cli_prints_ranks_within_the_industry(client, files, capsys, monkeypatch):
    from game.cli import main

    route_requests_to(client, monkeypatch)
    want = expected_companies({"alice": "flex", "bob": "all-in"}, ["barbell"])
    assert main(["board", "submit", str(files["abc"]), "--server", "http://class.example"]) == 0
    out = capsys.readouterr().out
    assert f"alice rank {want['alice']['rank']} of 3" in out and f"bob rank {want['bob']['rank']} of 3" in out
    assert "barbell rank" not in out  # the rival is no student
    assert main(["board", "submit", str(files["tampered"]), "--server", "http://class.example"]) == 1
    assert "refused: does not verify: alice" in capsys.readouterr().out


# ----------------------------------------------------------------------------- schema and units


def test_schema_version_2_adds_industries(db_url):
    with Database(db_url) as db:
        assert db.schema_version() == SCHEMA_VERSION >= 2
        assert db.industries() == [] and db.industry_boards() == {}


def test_verification_is_tycoon_verify(files):
    """The worker's verdict is game.industry.verify_industry's: the same reason, word for word."""
    from game.industry import verify_industry

    v = verify_industry(files["tampered"])
    out = verify_industry_submission(files["tampered"].read_bytes(), None, None)
    assert not v.ok and not out.ok and out.reason == f"does not verify: {v.reason}"
    ok = verify_industry_submission(files["abc"].read_bytes(), None, None)
    assert ok.ok and [c["name"] for c in ok.record["companies"]] == sorted(
        ["alice", "bob", "barbell"], key=lambda n: (-next(c["score_cents"] for c in ok.record["companies"] if c["name"] == n), n))


def test_rank_companies_worked_example():
    """Scores 5, 9, 9, 1 -> ranks 3, 1, 1, 4 (a tie shares its rank); revenue 10, 30, 60, 0 of 100
    -> shares 0.1, 0.3, 0.6, 0."""
    rows = [{"name": n, "score_cents": s, "revenue_cents": r} for n, s, r in
            (("a", 5, 10), ("b", 9, 30), ("c", 9, 60), ("d", 1, 0))]
    got = {r["name"]: (r["rank"], r["share"]) for r in rank_companies(rows)}
    assert got == {"a": (3, 0.1), "b": (1, 0.3), "c": (1, 0.6), "d": (4, 0.0)}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**9, 10**9), st.integers(0, 10**9)), min_size=1, max_size=12))
def test_rank_companies_invariants(pairs):
    rows = [{"name": f"c{i}", "score_cents": s, "revenue_cents": r} for i, (s, r) in enumerate(pairs)]
    ranked = rank_companies(rows)
    for r in ranked:  # a rank is one plus how many did strictly better
        assert r["rank"] == 1 + sum(1 for o in rows if o["score_cents"] > r["score_cents"])
    if sum(r for _, r in pairs) > 0:
        assert abs(sum(r["share"] for r in ranked) - 1) < 1e-3


def test_overall_board_and_winners_worked_example():
    """Two industries: x (amy 30, bot 20, ben 10) and y (cat 25, dan 25): students by score
    amy 30, cat 25, dan 25, ben 10 -> ranks 1, 2, 2, 4; amy won x by $10 over the bot; y is a tie."""
    def co(name, score, rank, bot=None):
        return {"name": name, "bot": bot, "rival": bot is not None, "rank": rank, "score": score, "revenue": 0.0, "share": 0.5,
                "verdict": "", "bankrupt": False, "quarters": 8, "facts": {}}

    inds = [{"id": 1, "submitted_at": "t", "companies": [co("amy", 30.0, 1), co("flex", 20.0, 2, "flex"), co("ben", 10.0, 3)]},
            {"id": 2, "submitted_at": "t", "companies": [co("cat", 25.0, 1), co("dan", 25.0, 1)]}]
    board = overall_board([], inds)
    assert [(e["player"], e["rank"], e["industry"]) for e in board] == [("amy", 1, 1), ("cat", 2, 2), ("dan", 2, 2), ("ben", 4, 1)]
    w = industry_winners(inds)
    assert (w[0]["winner"], w[0]["margin"], w[0]["runner_up"], w[0]["tied"]) == ("amy", 10.0, "flex", False)
    assert w[1]["tied"] and w[1]["margin"] == 0.0


# ----------------------------------------------------------------------------- networked rounds


class FakeClock:
    """The server's clock for round deadlines: moved by the test, never slept on."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def live_client(db_url):
    clock = FakeClock()
    app = create_app(db_url, workers=1, token=TOKEN, rate_per_minute=0, clock=clock)
    with TestClient(app) as c:
        c.clock, c.app_state = clock, app.state
        yield c


def wait_round(client, live_id: str, round_no: int, timeout: float = 60.0) -> dict:
    """Poll (real seconds, briefly) until the server's worker has resolved up to ``round_no``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st_ = client.get(f"/api/live/{live_id}").json()
        if st_["quarter"] >= round_no:
            return st_
        time.sleep(0.05)
    raise AssertionError(f"round {round_no} was not resolved: {st_}")


def open_live(client, players=("alice", "bob"), rivals=("barbell",), minutes=10):
    r = client.post("/api/live", json={"scenario": SCEN, "seed": SEED, "players": list(players), "rivals": list(rivals),
                                       "round_minutes": minutes}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    return r.json()


def observe(client, live_id, name, key):
    r = client.get(f"/api/live/{live_id}/observation?player={name}", headers={"X-Player-Key": key})
    assert r.status_code == 200, r.text
    return r.json()


def plan(client, live_id, name, key, round_no, actions):
    return client.post(f"/api/live/{live_id}/plan?player={name}", json={"round": round_no, "actions": actions},
                       headers={"X-Player-Key": key})


def bot_plan(view: dict, bot: str, cache: dict) -> list[dict]:
    from engine.game import _loggable
    from game.classroom.live import observation_from_view

    return [_loggable(a) for a in make_bot(bot).act(observation_from_view(view, SCEN, SEED, cache))]


def test_networked_three_quarters_late_player_and_verified_file(live_client, tmp_path):
    """Two players and a bot rival play three quarters through the server: round 0 resolves when
    both have planned; in round 1 bob is late and the deadline (the injected clock) plays his empty
    plan; the file the server grew verifies with `tycoon verify`, and equals the same industry
    played locally with the same plans (same hashes)."""
    from game.industry import load_industry, verify_industry

    c = live_client
    made = open_live(c)
    live_id, keys = made["id"], made["keys"]
    assert set(keys) == {"alice", "bob"} and [co["bot"] for co in made["companies"]] == [None, None, "barbell"]
    assert c.get(f"/api/live/{live_id}/observation?player=alice", headers={"X-Player-Key": keys["bob"]}).status_code == 403

    cache: dict = {}
    view = observe(c, live_id, "alice", keys["alice"])
    # own company in full, the others' public disclosure only (nothing before the first quarter), no plans
    assert view["round"] == 0 and view["state"] and view["reports"] == [] and view["rivals"] == []
    bad = plan(c, live_id, "alice", keys["alice"], 0, [{"kind": "buy_gpus", "gen": "H100", "count": "many"}])
    assert bad.status_code == 422 and bad.json()["reason"].startswith("actions[0]")  # invalid: refused, loses nothing
    sent = {"alice": [], "bob": []}
    for name, bot in (("alice", "flex"), ("bob", "all-in")):
        actions = bot_plan(observe(c, live_id, name, keys[name]), bot, cache)
        assert plan(c, live_id, name, keys[name], 0, actions).status_code == 201
        sent[name].append(actions)
    st1 = wait_round(c, live_id, 1)
    assert st1["last_quarter"] and st1["deadline"] == c.clock.t + 600  # the next round's deadline, from the clock

    v1 = observe(c, live_id, "alice", keys["alice"])
    assert len(v1["reports"]) == 1 and {r["name"] for r in v1["rivals"]} == {"bob", "barbell"}
    assert all("actions" not in r and "cash" not in json.dumps(r) for r in v1["rivals"])
    a1 = bot_plan(v1, "flex", cache)
    assert plan(c, live_id, "alice", keys["alice"], 1, a1).status_code == 201
    sent["alice"].append(a1)
    sent["bob"].append([])
    import time
    time.sleep(1.0)  # the worker looks for due rounds: bob has not planned and the deadline is not reached
    assert c.get(f"/api/live/{live_id}").json()["quarter"] == 1
    c.clock.t += 601  # the deadline passes
    wait_round(c, live_id, 2)
    late = plan(c, live_id, "bob", keys["bob"], 1, [])
    assert late.status_code == 409 and "round 1 is not the one being played" in late.json()["reason"]

    for name, bot in (("alice", "flex"), ("bob", "all-in")):
        actions = bot_plan(observe(c, live_id, name, keys[name]), bot, cache)
        assert plan(c, live_id, name, keys[name], 2, actions).status_code == 201
        sent[name].append(actions)
    wait_round(c, live_id, 3)

    assert c.get(f"/api/live/{live_id}/file").status_code == 403  # the others' plans stay private until the end
    text = c.get(f"/api/live/{live_id}/file", headers={"Authorization": f"Bearer {TOKEN}"}).text
    path = tmp_path / "live.json"
    path.write_text(text)
    v = verify_industry(path)
    assert v.ok, v.reason
    f = load_industry(path)
    assert len(f.quarters) == 3 and f.quarters[1]["actions"]["bob"] == []  # bob's empty plan at the deadline
    # the same industry played here, with the plans sent and the rival's bot: the same hashes
    local = Industry(load_scenario(SCEN).scenario, SEED, [("alice", None), ("bob", None), ("barbell", "barbell")])
    rival = make_bot("barbell")
    for q in range(3):
        local.play({"alice": sent["alice"][q], "bob": sent["bob"][q], "barbell": rival.act(local.observation("barbell"))})
    assert [q["state_hashes"] for q in f.quarters] == [{n: r.state_hash for n, r in iq.reports.items()} for iq in local.quarters]


def test_no_double_resolution_with_two_servers(db_url):
    """Two servers on one database: a due round is claimed by one; when a slow server's lease runs
    out and another resolves the round, the slow one's result is not stored (compare and set)."""
    from game.classroom.live import new_industry, resolve_round

    with Database(db_url) as a, Database(db_url) as b:
        made = new_industry(SCEN, SEED, ["alice"], ["flex"])
        a.open_live("x1", SCEN, SEED, made, {"alice": "k"}, 600.0, 0.0)
        assert a.post_plan("x1", "alice", 0, [], 1.0) is None
        first = a.claim_rounds(2, 30.0, 2.0)
        assert [r[:2] for r in first] == [("x1", 0)]
        assert b.claim_rounds(2, 30.0, 3.0) == []  # leased: the other server skips it
        assert a.post_plan("x1", "alice", 0, [], 4.0).startswith("round 0 is being resolved")  # a late plan is refused, not lost silently
        resolved_a = resolve_round(first[0][2], first[0][3])
        # server a stalls past its lease; server b takes the round and stores it
        second = b.claim_rounds(2, 30.0, 40.0)
        assert [r[:2] for r in second] == [("x1", 0)]
        assert b.finish_round("x1", 0, resolve_round(second[0][2], second[0][3]), 41.0) is True
        assert a.finish_round("x1", 0, resolved_a, 42.0) is False  # too late: not stored twice
        live = a.live("x1")
        assert live["quarter"] == 1 and live["deadline"] == 41.0 + 600.0
        assert len(json.loads(a.live_file("x1"))["quarters"]) == 1


def test_concurrent_round_claims_never_share_a_round(db_url):
    """Many threads of two servers claim at once: each due round is taken exactly once."""
    import threading

    from game.classroom.live import new_industry

    made = new_industry(SCEN, SEED, ["alice"], [])
    with Database(db_url) as a, Database(db_url) as b:
        for i in range(6):
            a.open_live(f"r{i}", SCEN, SEED, made, {"alice": "k"}, 1.0, 0.0)  # all past their deadline at t=5
        got: list[str] = []
        lock = threading.Lock()

        def claim(db):
            for _ in range(4):
                ids = [r[0] for r in db.claim_rounds(1, 60.0, 5.0)]
                with lock:
                    got.extend(ids)

        threads = [threading.Thread(target=claim, args=(db,)) for db in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(got) == [f"r{i}" for i in range(6)]


def test_headless_client_plays_every_round(live_client, monkeypatch, capsys):
    """`tycoon board industry play`: a bot plays each round for its player until the industry ends;
    the other player's rounds end at the deadline (the clock moves whenever the client waits)."""
    from game.classroom import client as http

    c = live_client

    route_requests_to(c, monkeypatch)
    made = open_live(c, players=("alice", "bob"), rivals=())

    def wait(_s):  # bob never plans: each wait lets the deadline pass and gives the worker a moment
        import time

        c.clock.t += 601
        time.sleep(0.1)

    lines: list[str] = []
    n = http.play_live("http://class.example", made["id"], "alice", made["keys"]["alice"], make_bot("flex"),
                       sleep=wait, out=lines.append)
    quarters = load_scenario(SCEN).scenario.quarters
    assert n == quarters and lines[-1].startswith("alice: the industry is over after")
    assert sum("action(s) sent" in line for line in lines) == quarters
    st_ = c.get(f"/api/live/{made['id']}").json()
    assert st_["status"] == "over" and st_["quarter"] == quarters
    public = c.get(f"/api/live/{made['id']}/file")  # over: the file is public now, and it verifies
    assert public.status_code == 200 and json.loads(public.text)["format"] == "ai-cloud-tycoon-industry"


def test_open_refuses_bad_requests(live_client):
    c = live_client
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.post("/api/live", json={"scenario": SCEN, "players": ["a"]}).status_code == 401
    r = c.post("/api/live", json={"scenario": SCEN, "players": ["a"], "rivals": ["nope"]}, headers=auth)
    assert r.status_code == 422 and "unknown bot 'nope'" in r.json()["error"]
    r = c.post("/api/live", json={"scenario": "x.toml", "players": ["a"]}, headers=auth)
    assert r.status_code == 422 and "built-in scenario" in r.json()["error"]
    r = c.post("/api/live", json={"scenario": SCEN, "players": ["a"], "round_minutes": 0}, headers=auth)
    assert r.status_code == 422 and "round_minutes" in r.json()["error"]
    r = c.post("/api/live", json={"scenario": SCEN, "players": ["<b>"]}, headers=auth)
    assert r.status_code == 422 and "not a usable name" in r.json()["error"]


def test_industry_cli_open_play_file(live_client, monkeypatch, capsys, tmp_path):
    """`tycoon board industry open|play|file` through the CLI: the keys printed, a bot playing a
    player's rounds, the file downloaded and verified; bad input is one line (exit 2)."""
    import re

    from game.cli import main
    from game.industry import verify_industry

    c = live_client

    route_requests_to(c, monkeypatch)
    url = "http://class.example"
    assert main(["board", "industry", "open", url, "--scenario", SCEN, "--seed", str(SEED), "--players", "solo",
                 "--round-minutes", "5", "--token", TOKEN]) == 0
    out = capsys.readouterr().out
    live_id, key = re.search(r"--industry (\S+) --player solo --key (\S+)", out).groups()
    assert main(["board", "industry", "play", url, "--industry", live_id, "--player", "solo", "--key", key, "--bot", "barbell",
                 "--poll", "0.05"]) == 0
    out = capsys.readouterr().out
    assert f"solo: planned {load_scenario(SCEN).scenario.quarters} round(s)" in out
    target = tmp_path / "solo.json"
    assert main(["board", "industry", "file", url, "--industry", live_id, "--out", str(target)]) == 0
    assert verify_industry(target).ok
    assert main(["board", "industry", "play", url, "--industry", live_id, "--player", "solo", "--key", "wrong", "--bot", "flex"]) == 2
    assert "unknown industry, player or key" in capsys.readouterr().err
    assert main(["board", "industry", "open", url, "--players", "a", "--round-minutes", "0", "--token", TOKEN]) == 2
    assert "--round-minutes" in capsys.readouterr().err
