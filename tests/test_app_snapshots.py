"""Snapshot tests of every screen (pytest-textual-snapshot): fixed seed 7, theme textual-dark,
no cursor blink; 120x40, plus the dashboard at 80x24. Regenerate on purpose with
``pytest tests/test_app_snapshots.py --snapshot-update``."""

from __future__ import annotations

import pytest

from game.app import make_app

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))


def _app(**kw):
    return make_app(seed=7, theme="textual-dark", cursor_blink=False, **kw)


def _game():
    return _app(skip_start=True)


async def _one_quarter(pilot) -> None:
    """Buy GPUs, sign the first offer if there is one, end the quarter, close the report."""
    await pilot.press("b", "enter")
    await pilot.pause()
    if pilot.app.session.state.offers.contracts:
        await pilot.press("k", "enter")
        await pilot.pause()
    await pilot.press("e", "y")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def _after_quarter_then(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await _one_quarter(pilot)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_start_screen(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE)


def test_dashboard_first_quarter(snap_compare):
    assert snap_compare(_game(), terminal_size=SIZE)


@pytest.mark.parametrize("key,name", [("1", "dashboard"), ("2", "fleet"), ("3", "market"), ("4", "contracts"), ("5", "finance"), ("6", "news")])
def test_area_screens(snap_compare, key, name):
    assert snap_compare(_game(), terminal_size=SIZE, run_before=_after_quarter_then(key))


def test_dashboard_80x24(snap_compare):
    assert snap_compare(_game(), terminal_size=(80, 24), run_before=_after_quarter_then("1"))


def test_buy_form(snap_compare):
    assert snap_compare(_game(), terminal_size=SIZE, press=["b"])


def test_end_quarter_confirmation(snap_compare):
    assert snap_compare(_game(), terminal_size=SIZE, press=["b", "enter", "e"])


def test_quarter_report(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("b", "enter")
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()

    assert snap_compare(_game(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare):
    assert snap_compare(_game(), terminal_size=SIZE, press=["question_mark"])


def test_debrief(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.pause()
        s = pilot.app.session
        while not s.over:  # a passive game to the end, through the engine, then the debrief by key
            s.game.play([])
        pilot.app.refresh_area()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(_game(), terminal_size=SIZE, run_before=run_before)


# ---- the managed-inference company (inference-2025, seed 7)


def _inference_game():
    return _app(scenario="inference-2025", skip_start=True)


@pytest.mark.parametrize("key,name", [("1", "dashboard"), ("2", "fleet")])
def test_inference_screens(snap_compare, key, name):
    """After one quarter with no decisions: the token KPI cards, the models table and the roadmap."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()

    assert snap_compare(_inference_game(), terminal_size=SIZE, run_before=run_before)


# ---- issue 11: every area screen of both companies at both sizes (the ones above are 120x40 only)

AREAS = [("1", "dashboard"), ("2", "fleet"), ("3", "market"), ("4", "contracts"), ("5", "finance"), ("6", "news")]


def _after_plain_quarter_then(key: str):
    """End one quarter with no decisions (both companies can), close the report, show an area."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("key,name", AREAS)
def test_neocloud_area_screens_80x24(snap_compare, key, name):
    assert snap_compare(_game(), terminal_size=(80, 24), run_before=_after_quarter_then(key))


@pytest.mark.parametrize("size", ["80x24", "120x40"])
@pytest.mark.parametrize("key,name", AREAS)
def test_inference_area_screens_both_sizes(snap_compare, key, name, size):
    w, h = (int(x) for x in size.split("x"))
    assert snap_compare(_inference_game(), terminal_size=(w, h), run_before=_after_plain_quarter_then(key))


# ---- issue 11 audit (part B): every screen and dialog of both companies and the tutorial at both sizes

BOTH = {"80x24": (80, 24), "120x40": (120, 40)}
COMPANY = {"neocloud": "neocloud-2025", "inference": "inference-2025", "tutorial": "tutorial"}


def _company(name: str):
    return _app(scenario=COMPANY[name], skip_start=True)


def test_start_screen_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=BOTH["80x24"])


@pytest.mark.parametrize("size", list(BOTH))
@pytest.mark.parametrize("key,name", AREAS)
def test_tutorial_area_screens_both_sizes(snap_compare, key, name, size):
    assert snap_compare(_company("tutorial"), terminal_size=BOTH[size], run_before=_after_plain_quarter_then(key))


# the dialogs a quarter goes through, by key after one plain quarter: the first decision form of each
# kind the player meets, the decisions menu, the plan with one action, the confirmation, the report, help
DIALOGS = {
    "neocloud": {"buy-form": ["b"], "contract-form": ["k"], "lease-form": ["g"], "sell-form": ["x"], "colo-form": ["c"],
                 "campus-form": ["n"], "price-form": ["p"], "loan-form": ["o"], "equity-form": ["i"], "actions": ["a"],
                 "plan": ["b", "enter", "t"],
                 "confirm": ["b", "enter", "e"], "report": ["e", "y"], "help": ["question_mark"], "leaderboard": ["l"]},
    "inference": {"price-form": ["v"], "fund-form": ["f"], "scale-form": ["s"], "deploy-form": ["m"], "rent-form": ["u"],
                  "retire-form": ["w"], "lease-form": ["g"], "loan-form": ["o"], "actions": ["a"], "plan": ["v", "enter", "t"],
                  "confirm": ["v", "enter", "e"], "report": ["e", "y"], "help": ["question_mark"]},
}


@pytest.mark.parametrize("size", list(BOTH))
@pytest.mark.parametrize("company,dialog", [(c, d) for c, ds in DIALOGS.items() for d in ds])
def test_dialogs_both_companies_both_sizes(snap_compare, company, dialog, size):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("e", "y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        for key in DIALOGS[company][dialog]:
            await pilot.press(key)
            await pilot.pause()

    assert snap_compare(_company(company), terminal_size=BOTH[size], run_before=run_before)


@pytest.mark.parametrize("size", list(BOTH))
@pytest.mark.parametrize("company", ["neocloud", "inference"])
def test_debrief_both_companies_both_sizes(snap_compare, company, size):
    async def run_before(pilot) -> None:
        await pilot.pause()
        s = pilot.app.session
        while not s.over:  # a passive game to the end, through the engine, then the debrief by key
            s.game.play([])
        pilot.app.refresh_area()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(_company(company), terminal_size=BOTH[size], run_before=run_before)


def _mid_game(pilot) -> None:
    """Four quarters of a growing neocloud through the engine (GPUs bought and leased, offers signed): more
    lots, sites and contracts than the first quarter shows, for the tables that fill up as a game goes on."""
    s = pilot.app.session
    for _ in range(4):
        st = s.state
        actions = [{"kind": "buy_gpus", "gen": "h100", "count": 128, "site_id": "S-TX"},
                   {"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 4}]
        actions += [{"kind": "sign_contract", "offer_id": o.id} for o in st.offers.contracts[:1]]
        results, _ = s.game.preview(actions)
        s.game.play([a for a, r in zip(actions, results) if r.ok])


@pytest.mark.parametrize("size", list(BOTH))
@pytest.mark.parametrize("key,name", [("2", "fleet"), ("3", "market"), ("4", "contracts")])
def test_neocloud_mid_game_tables_both_sizes(snap_compare, key, name, size):
    async def run_before(pilot) -> None:
        await pilot.pause()
        _mid_game(pilot)
        pilot.app.refresh_area()
        await pilot.press(key)
        await pilot.pause()

    assert snap_compare(_game(), terminal_size=BOTH[size], run_before=run_before)


@pytest.mark.parametrize("size", list(BOTH))
def test_rivals_screen_both_sizes(snap_compare, size, tmp_path):
    """The Rivals screen (R) against two rivals after one quarter; tests/test_industry.py has it at 120x40 only."""
    from game.industry import write_rivals_scenario

    path = write_rivals_scenario("neocloud-2025", 2, tmp_path)
    assert snap_compare(_app(scenario=str(path), skip_start=True), terminal_size=BOTH[size], run_before=_after_plain_quarter_then("R"))
