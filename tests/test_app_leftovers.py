"""Pilot tests of issue 11's leftovers: switching company in one app session, the scrolling
end-quarter confirmation, one-key renewal from the dashboard's alert."""

from __future__ import annotations

import pytest

from game.app import make_app

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "runs"


# ---------------------------------------------------------------- switching company (issue 11, item 8)


async def _start_from_start_screen(pilot, scenario: str) -> None:
    from textual.widgets import Select

    app = pilot.app
    assert type(app.screen).__name__ == "StartScreen"
    app.screen.query_one("#scenario", Select).value = scenario
    await pilot.pause()
    app.screen.query_one("#start-game").focus()
    await pilot.press("enter")
    await pilot.pause()
    assert app.session is not None and app.session.game.scenario.id == scenario


async def _areas(pilot) -> dict[str, str]:
    """Each area's screen class and, for the dashboard, its KPI cards, as the player reaches them by key."""
    app = pilot.app
    seen = {}
    for key, area in (("1", "dashboard"), ("2", "fleet"), ("3", "market")):
        await pilot.press(key)
        await pilot.pause()
        seen[area] = type(app.screen).__name__
    await pilot.press("1")
    await pilot.pause()
    seen["cards"] = ",".join(c.id for c in app.screen.query(".kpi"))
    await pilot.press("3", "question_mark")  # the Market screen's help names its own market
    await pilot.pause()
    seen["help"] = str(app.screen.query_one("#context-help").render()) if app.screen.query("#context-help") else type(app.screen).__name__
    await pilot.press("escape")
    await pilot.pause()
    return seen


@pytest.mark.parametrize("size", SIZES)
async def test_new_game_of_the_other_archetype_gets_its_own_screens(size):
    """neocloud -> ctrl+n -> inference -> ctrl+n -> neocloud in one session: each company sees its own Market
    screen, dashboard cards and help, none kept from the company before."""
    from game.app.screens.areas import INFERENCE_CARDS, CARDS

    app = make_app(seed=7, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _start_from_start_screen(pilot, "neocloud-2025")
        first = await _areas(pilot)
        assert first["market"] == "MarketScreen"
        assert first["cards"] == ",".join(f"kpi-{cid}" for cid, _ in CARDS)

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmNewGame"
        await pilot.press("y")
        await pilot.pause()
        await _start_from_start_screen(pilot, "inference-2025")
        second = await _areas(pilot)
        assert second["market"] == "InferenceMarketScreen"
        assert second["cards"] == ",".join(f"kpi-{cid}" for cid, _ in INFERENCE_CARDS)
        assert second["help"] != first["help"]

        await pilot.press("ctrl+n", "y")
        await pilot.pause()
        await _start_from_start_screen(pilot, "neocloud-2025")
        assert await _areas(pilot) == first


async def test_new_game_from_a_run_started_without_start_screen_and_staying():
    """--skip-start has no start screen: ctrl+n builds one; `n` on the confirmation keeps the game."""
    app = make_app(scenario="inference-2025", seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.session is s and type(app.screen).__name__ == "DashboardScreen"
        await pilot.press("ctrl+n", "y")
        await pilot.pause()
        assert app.session is None
        await _start_from_start_screen(pilot, "neocloud-2025")
        await pilot.press("3")
        await pilot.pause()
        assert type(app.screen).__name__ == "MarketScreen"


# ---------------------------------------------------------------- the end-quarter confirmation scrolls


def _plan_with_risks(n: int) -> list[dict]:
    """``n`` actions the engine refuses (each a "Not done" risk), distinct so each names its own lot."""
    return [{"kind": "sell_gpus", "lot_id": f"no-such-lot-{i}", "count": 1} for i in range(n)]


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_end_quarter_confirmation_scrolls_to_the_last_risk_at_80x24(answer):
    from textual.containers import VerticalScroll

    app = make_app(seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.session
        s.plan = _plan_with_risks(14)
        risks = s.risks()
        assert len(risks) >= 14
        await pilot.press("e")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ConfirmEndQuarter"
        scroll = screen.query_one("#confirm-scroll", VerticalScroll)
        body = screen.query_one("#confirm-body")
        yes, no = screen.query_one("#yes"), screen.query_one("#no")

        def visible(widget) -> bool:  # wholly inside the 80x24 terminal
            r = widget.region
            return r.height > 0 and r.y >= 0 and r.bottom <= 24

        def last_risk_row() -> int:  # the screen row of the body's last line
            return body.region.y + body.region.height - 1 - int(scroll.scroll_y)

        assert scroll.max_scroll_y > 0  # the body is taller than its box: it must scroll
        assert visible(yes) and visible(no)
        assert last_risk_row() > scroll.region.bottom - 1  # the last risk starts out of sight
        for _ in range(scroll.max_scroll_y + 2):
            await pilot.press("down")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        assert scroll.region.y <= last_risk_row() <= scroll.region.bottom - 1  # now in sight
        lines = str(body.render()).splitlines()
        assert risks[-1][:30] in " ".join(lines[-4:])  # and it is the last risk
        assert visible(yes) and visible(no)  # the buttons never scrolled away
        await pilot.press("pageup")
        await pilot.pause()
        assert scroll.scroll_y < scroll.max_scroll_y

        await pilot.press(answer)
        await pilot.pause()
        if answer == "y":
            assert type(app.screen).__name__ == "QuarterReportScreen" and len(s.reports) == 1
        else:
            assert type(app.screen).__name__ == "DashboardScreen" and not s.reports


# ---------------------------------------------------------------- one key renews from the alert


def _alert_text(app) -> str:
    return str(app.screen.query_one("#alerts").render())


async def _play_empty_quarters_until(pilot, done, limit: int = 6) -> None:
    """End quarters with the plan as it is (the session's own call, as `e` `y` runs it) until ``done()``."""
    app = pilot.app
    for _ in range(limit):
        if done():
            break
        app.session.end_quarter()
    app.refresh_area()
    await pilot.pause()
    assert done()


@pytest.mark.parametrize("size", SIZES)
async def test_j_on_a_lease_alert_renews_that_lease(size):
    from engine.actions import renewal_of

    app = make_app(scenario="neocloud-2025", seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        assert s.add({"kind": "lease_gpus", "gen": "h100", "count": 128, "term_quarters": 4}).ok
        s.end_quarter()
        lot = s.state.lots[-1]
        assert lot.ownership == "leased" and lot.count == 128

        def lease_alert():
            return next((r for r in s.advice().risks if r.kind == "ending" and f"GPU lease {lot.id} " in r.message), None)

        await _play_empty_quarters_until(pilot, lambda: lease_alert() is not None)
        assert type(app.screen).__name__ == "DashboardScreen"
        assert f"[j: renew] " in _alert_text(app) and f"GPU lease {lot.id}" in _alert_text(app)

        await pilot.press("j")  # one key: the renew form, on the lease the alert names
        await pilot.pause()
        assert type(app.screen).__name__ == "ActionForm" and app.screen.kind == "renew_lease"
        assert app.screen.query_one("#f-lot_id").value == lot.id
        await pilot.press("enter")  # "Add to plan" has focus: no number to type
        await pilot.pause()
        assert s.plan[-1]["kind"] == "renew_lease" and s.plan[-1]["lot_id"] == lot.id
        assert renewal_of(s.preview().state, s.preview().state.lot(lot.id)) is not None
        assert lease_alert() is None and f"GPU lease {lot.id}" not in _alert_text(app)  # renewed: the alert is gone


@pytest.mark.parametrize("size", SIZES)
async def test_k_on_a_contract_alert_opens_its_renewal_offer(size):
    from engine.actions import renewal_offer_id

    app = make_app(scenario="deflation", seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        renewal = lambda: next((o for o in s.state.offers.contracts if o.id.startswith("R-")), None)  # noqa: E731
        await _play_empty_quarters_until(pilot, lambda: renewal() is not None)
        offer = renewal()
        contract = next(c for c in s.state.contracts if renewal_offer_id(c.id) == offer.id)
        assert f"[k: renew] {contract.customer}'s contract" in _alert_text(app)

        await pilot.press("k")
        await pilot.pause()
        form = app.screen
        assert type(form).__name__ == "ActionForm" and form.kind == "sign_contract"
        assert form.query_one("#f-offer_id").value == offer.id
        assert [o.id for o in s.state.offers.contracts].index(offer.id) > 0  # not merely the list's first offer
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1] == {"kind": "sign_contract", "offer_id": offer.id}
        assert f"{contract.customer}'s contract on" not in _alert_text(app)  # renewal signed: no longer ends


# ---------------------------------------------------------------- start-up: the menu fills in after the first paint


@pytest.mark.parametrize("scenario", [None, "deflation", "no-such-scenario"])
async def test_start_screen_menu_lists_every_scenario_with_the_asked_one_selected(scenario):
    """The first paint reads one scenario file; the menu then holds the whole catalogue, in order, and the
    selection (and its briefing) is the one asked for (the default, or the first for an unknown id)."""
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    from scenarios import DEFAULT_SCENARIO, scenario_summaries

    catalogue = scenario_summaries()
    expected = scenario or DEFAULT_SCENARIO
    if expected not in {sc.id for sc in catalogue}:
        expected = catalogue[0].id
    app = make_app(scenario=scenario, seed=7, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select = app.screen.query_one("#scenario", Select)
        assert select.value == expected
        assert select.query_one(SelectOverlay).option_count == len(catalogue) > 1
        title = next(sc.title for sc in catalogue if sc.id == expected)
        assert str(app.screen.query_one("#briefing-text").render()).startswith(title)
        await pilot.press("enter")  # Start game
        await pilot.pause()
        assert app.session.game.scenario.id == expected


async def test_j_opens_the_lease_the_alert_names_not_the_soonest_ending():
    """Two leases in the renewal window: the alert lists the older lease first (same severity, fleet order)
    while the form's list puts the sooner-ending one first; j must open the form on the alert's lease."""
    app = make_app(scenario="neocloud-2025", seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.session
        assert s.add({"kind": "lease_gpus", "gen": "h100", "count": 64, "term_quarters": 8}).ok  # ends before quarter 8
        for _ in range(3):
            s.end_quarter()
        assert s.add({"kind": "lease_gpus", "gen": "h100", "count": 32, "term_quarters": 4}).ok  # ends before quarter 7
        s.end_quarter()
        older, newer = [l for l in s.state.lots if l.ownership == "leased"][-2:]
        assert older.lease_end_quarter > newer.lease_end_quarter
        await _play_empty_quarters_until(pilot, lambda: s.state.quarter >= older.lease_end_quarter - 2)
        lease_alerts = [r.message for r in s.advice().risks if r.kind == "ending" and "GPU lease" in r.message]
        assert f"GPU lease {older.id} " in lease_alerts[0] and any(f"GPU lease {newer.id} " in m for m in lease_alerts)
        await pilot.press("j")
        await pilot.pause()
        from game.app.forms import _ending_leases

        assert _ending_leases(s)[0][1] == newer.id  # the form's list starts with the sooner end...
        assert app.screen.query_one("#f-lot_id").value == older.id  # ...yet it opens on the alert's lease


def test_a_contract_alert_acts_on_the_contract_it_names_not_a_look_alike(tmp_path):
    """Two contracts alike in customer, size, GPU and end (a look-alike added before the real one, without a
    renewal offer): each alert acts on its own contract by its subject (engine.advisor.Risk.subject): k signs
    the real one's renewal from its alert and only lists the offers from the look-alike's. Matching alerts to
    contracts by their message could not tell the two apart and sent both to the real one's renewal."""
    from engine.actions import renewal_offer_id
    from game.app.forms import alert_target
    from game.app.session import Session
    from game.app.widgets.alerts import alert_key

    s = Session.new("deflation", 7, save_dir=tmp_path)
    for _ in range(6):
        if any(o.id.startswith("R-") for o in s.state.offers.contracts):
            break
        s.end_quarter()
    offer = next(o for o in s.state.offers.contracts if o.id.startswith("R-"))
    real = next(c for c in s.state.contracts if renewal_offer_id(c.id) == offer.id)
    twin = real.model_copy(update={"id": f"{real.id}-twin"})
    s.state.contracts.insert(0, twin)
    s._advice = None
    ending = {r.subject: r for r in s.advice().risks if r.kind == "ending"}
    mine, theirs = ending[f"contract:{real.id}"], ending[f"contract:{twin.id}"]
    assert mine.message == theirs.message  # the same words: only the subject tells them apart
    assert alert_target(s, mine) == ("sign_contract", offer.id) and alert_key(mine, s) == "k: renew"
    assert alert_target(s, theirs) is None and alert_key(theirs, s) == "k: offers"
