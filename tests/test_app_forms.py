"""Pilot tests for issue 11's measured form and key bugs (items 1-6, 11, 12), at 120x40 and 80x24.

Each test plays the bug as the issue's player did, by keys, and checks what the player sees (the
form's verdict and preview, the plan, the confirmation) and what the engine received.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import DataTable, Input, OptionList, Select, Static

from engine.money import fmt_usd
from game.app import make_app

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))


def _app(scenario: str = "neocloud-2025"):
    return make_app(scenario=scenario, seed=7, theme="textual-dark", cursor_blink=False, skip_start=True)


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _type(pilot, text: str) -> None:
    await pilot.press(*list(text))
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_loan_amounts_keep_their_cents_issue11_item3(size):
    """Take loan: `500000.5` is $500,000.50 (not $5.00M); `9000000.50` is $9,000,000.50 (not 900,000,050)."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("o")
        await pilot.pause()
        form = app.screen
        amount = form.query_one("#f-amount_usd", Input)
        amount.value = ""
        await _type(pilot, "9000000.50")
        a, problem = form.build()
        assert problem == "" and a["amount_usd"] == 9_000_000.5
        amount.value = ""
        await _type(pilot, "500000.5")
        assert form.build()[0]["amount_usd"] == 500_000.5
        assert "$500.00K" in _text(form, "#verdict")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1]["amount_usd"] == 500_000.5
        assert s.preview().state.debt_cents - s.state.debt_cents == 50_000_050


@pytest.mark.parametrize("size", SIZES)
async def test_limits_are_in_percent_and_in_the_players_words_issue11_item4(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-vs_market", Input).value = "-100"
        await pilot.pause()
        verdict = _text(form, "#verdict")
        assert "Versus market (%) must be from -50% to +100%" in verdict and "0.5" not in verdict
        await pilot.press("escape")
        await pilot.press("b")
        await pilot.pause()
        app.screen.query_one("#f-count", Input).value = "0"
        await pilot.pause()
        verdict = _text(app.screen, "#verdict")
        assert "How many must be from 1 to 100,000" in verdict and "buy_gpus" not in verdict


@pytest.mark.parametrize("size", SIZES)
async def test_offers_in_the_plan_are_not_missing_issue11_item5(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        first = s.state.offers.contracts[0].id
        await pilot.press("k")
        await pilot.pause()
        assert app.screen.query_one("#f-offer_id", Select).value == first
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1] == {"kind": "sign_contract", "offer_id": first}
        await pilot.press("k")
        await pilot.pause()
        form = app.screen
        values = [v for _, v in form.fields[0].options]
        assert first not in values and values  # signed in the plan: not offered again
        assert "no contract offer" not in _text(form, "#verdict") and _text(form, "#verdict").startswith("✓")
        assert "GPUs free of contracts and replicas" in _text(form, "#preview")
        # the engine, asked again for the signed offer, says so in the player's words
        assert s.add({"kind": "sign_contract", "offer_id": first}).message == f"contract offer {first} is already signed in your plan"


@pytest.mark.parametrize("size", SIZES)
async def test_sub_investment_grade_is_not_told_investment_grade_issue11_item5(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        for o in s.state.offers.contracts:
            o.grade = "BB"
        await pilot.press("k")
        await pilot.pause()
        preview = _text(app.screen, "#preview")
        assert "below investment grade" in preview and "narrows your spread" not in preview


@pytest.mark.parametrize("size", SIZES)
async def test_repay_fills_the_selected_loans_balance_issue11_item5(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        offer = s.state.offers.loans[0]
        assert s.add({"kind": "take_loan", "offer_id": offer.id, "amount_usd": 1_000_000}).ok
        loans = [l for l in s.preview().state.loans if l.balance_cents > 0]
        assert len(loans) == 2 and loans[0].balance_cents != loans[1].balance_cents
        await pilot.press("y")
        await pilot.pause()
        form = app.screen
        select = form.query_one("#f-loan_id", Select)
        amount = form.query_one("#f-amount_usd", Input)
        assert select.value == loans[0].id and amount.value == str(loans[0].balance_cents // 100)
        select.value = loans[1].id
        await pilot.pause()
        assert amount.value == str(loans[1].balance_cents // 100)


@pytest.mark.parametrize("size", SIZES)
async def test_keys_typed_as_the_form_opens_are_kept_issue11_item6(size):
    """`b300` typed at once (the keys reach the app before the form is on screen) orders 300, not 256."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for k in "b300":
            app.post_message(events.Key(k, k))
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == "ActionForm"
        assert app.screen.query_one("#f-count", Input).value == "300"
        assert app.screen.focused is app.screen.query_one("#f-count", Input)


@pytest.mark.parametrize("size", SIZES)
async def test_unavailable_keys_say_why_issue11_item6(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        s.state.offers.equity = []
        await pilot.press("h")  # a neocloud's decision
        await pilot.press("i")  # no investor offers
        await pilot.press("p")  # a neocloud's GPU-hour price
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "an inference platform sells tokens, not GPU-hours: v sets a model's token price" in messages
        assert "an inference platform's GPUs already serve tokens: h moves a neocloud's own GPUs to tokens" in messages
        assert "no investor offers this quarter" in messages
        assert type(app.screen).__name__ != "ActionForm"


@pytest.mark.parametrize("size", SIZES)
async def test_after_x_the_next_item_is_highlighted_issue11_item6(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        site = s.state.sites[0].id
        for n in (8, 16, 24):
            assert s.add({"kind": "buy_gpus", "gen": "h100", "count": n, "site_id": site}).ok
        await pilot.press("t")
        await pilot.pause()
        ol = app.screen.query_one(OptionList)
        ol.highlighted = 1
        await pilot.press("x")
        await pilot.pause()
        assert [a["count"] for a in s.plan] == [8, 24] and ol.highlighted == 1
        await pilot.press("x")
        await pilot.pause()
        assert [a["count"] for a in s.plan] == [8] and ol.highlighted == 0


@pytest.mark.parametrize("size", SIZES)
async def test_game_over_footer_offers_no_quarter_keys_issue11_item6(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.session.state.game_over = True
        app.refresh_area()
        await pilot.pause()
        shown = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert not shown & {"end_quarter", "plan", "actions"}
        assert all(app.check_action(a, ()) is False for a in ("end_quarter", "plan", "actions"))


@pytest.mark.parametrize("size", SIZES)
async def test_confirmation_names_the_ending_lease_and_the_forecast_issue11_item2(size):
    """A lease that ends after this quarter: the confirmation never says "No risks"; it names the
    lease, the replicas it takes, the committed bills and the forecast."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        next(l for l in s.state.lots if l.ownership == "leased").lease_end_quarter = 1
        s._advice = None  # the state was edited in place: the dashboard's cached advice is stale
        await pilot.press("e")
        await pilot.pause()
        body = _text(app.screen, "#confirm-body")
        assert "No risks" not in body and "Risks:" in body and "576 H100" in body and "replicas" in body
        assert "Committed bills this quarter" in body and "Forecast at expected demand" in body
        await pilot.press("n")


@pytest.mark.parametrize("size", SIZES)
async def test_confirmation_says_no_risks_only_when_there_are_none(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.session.risks() == []
        await pilot.press("e")
        await pilot.pause()
        assert "No risks flagged" in _text(app.screen, "#confirm-body")


@pytest.mark.parametrize("size", SIZES)
async def test_gpus_can_be_ordered_into_colo_leased_in_the_same_plan_issue11_item11(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("c", "enter")
        await pilot.pause()
        new_site = s.preview().state.sites[-1]
        assert s.plan[-1]["kind"] == "lease_colo" and new_site.stage == "provisioning"
        await pilot.press("b")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-site_id", Select).value = new_site.id
        form.query_one("#f-count", Input).value = "64"
        await pilot.pause()
        assert _text(form, "#verdict").startswith("✓")
        preview = _text(form, "#preview")
        assert "Expected utilization" in preview and "payback" in preview
        await pilot.press("ctrl+enter")
        await pilot.pause()
        assert s.plan[-1]["site_id"] == new_site.id


@pytest.mark.parametrize("size", SIZES)
async def test_why_debt_capacity_is_zero_issue11_item12(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.session.state.covenant = "lock-up"
        await pilot.press("k")
        await pilot.pause()
        assert "Debt capacity it adds: $0, because the covenant is in lock-up" in _text(app.screen, "#preview")


@pytest.mark.parametrize("size", SIZES)
async def test_optimization_form_says_what_it_adds_to_throughput_issue11_item12(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        preview = _text(app.screen, "#preview")
        model = app.session.state.inference.deployments[0].model
        assert "Throughput once live" in preview and f"{model}:" in preview and "output tokens/s per replica" in preview


@pytest.mark.parametrize("size", SIZES)
async def test_the_focused_field_is_visible_issue11(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        count = app.screen.query_one("#f-count", Input)
        assert app.screen.focused is count
        focused_bg = count.styles.background
        app.screen.query_one("#submit").focus()
        await pilot.pause()
        assert count.styles.background != focused_bg


@pytest.mark.parametrize("size", SIZES)
async def test_the_highlighted_label_follows_the_focus_issue11(size):
    """Tab from On demand to Spot: the reversed label moves with the cursor (it stayed on the field
    that lost focus, so the player read Spot's digits as On demand's)."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        form = app.screen

        def highlighted() -> list[str]:
            return [str(row.query_one(".field-label").render()) for row in form.query(".field")
                    if "reverse" in str(row.query_one(".field-label").styles.text_style)]

        assert form.focused is form.query_one("#f-on_demand", Input) and highlighted() == ["On demand"]
        await pilot.press("tab")
        await pilot.pause()
        assert form.focused is form.query_one("#f-spot", Input) and highlighted() == ["Spot"]
        await pilot.press("shift+tab")
        await pilot.pause()
        assert highlighted() == ["On demand"]


@pytest.mark.parametrize("size", SIZES)
async def test_status_line_names_the_bills_the_cash_after_must_pay_issue11_item1(size):
    """Spot = 70000 on inference-2025 Q1: accepted ($116.42M of rent on $120M), but the quarter's
    committed bills ($121.25M with the lease and overhead) exceed the cash after the plan: the
    status line says so in warning colours instead of a bare "cash after $120.00M"."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        line = app.screen.query_one("#status-line", Static)
        assert ", bills" not in str(line.render()) and not line.has_class("warn")
        await pilot.press("u", "tab")
        await _type(pilot, "70000")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1]["spot"] == 70000
        bills = s.advice().bills_cents
        assert bills == s.bills_cents() and bills > s.preview().cash_after
        shown = str(line.render())
        assert f"cash after {fmt_usd(s.preview().cash_after)}, bills {fmt_usd(bills)}" in shown and line.has_class("warn")
        assert len(shown) <= size[0] - 2  # the whole line fits the narrow terminal


@pytest.mark.parametrize("size", SIZES)
async def test_loan_preview_states_the_amount_to_the_cent_and_a_forecast_dscr_issue11_item3(size):
    """`500000.5` previews "Amount: $500,000.50" (the verdict's $500.00K is rounded); the DSCR line
    is the advisor's forecast with the loan (as the confirmation shows it), not the 0.00x that the
    unplayed past quarters gave in Q1."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("o")
        await _type(pilot, "500000.5")
        preview = _text(app.screen, "#preview")
        assert "Amount: $500,000.50" in preview
        action = app.screen.build()[0]
        fc = s.forecast(action)
        assert fc.dscr is not None and fc.dscr > 1.0
        assert f"with its service: {fc.dscr:.2f}x vs {fc.dscr_lockup:.2f}x lock-up" in preview and "0.00x" not in preview
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.advice().forecast.dscr == fc.dscr


@pytest.mark.parametrize("size", SIZES)
async def test_repay_previews_the_amount_to_the_cent(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("y")
        await _type(pilot, "1234567.89")
        assert "Amount: $1,234,567.89" in _text(app.screen, "#preview")
        assert app.screen.build()[0]["amount_usd"] == 1_234_567.89


@pytest.mark.parametrize("size", SIZES)
async def test_the_plan_opens_on_its_first_action_and_x_acts_or_says_why_issue11_item6(size):
    """`t` then `x` removes the first action (nothing was highlighted, so `x` did nothing, silently);
    on an empty plan `x` says there is nothing to remove."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        site = s.state.sites[0].id
        for n in (8, 16):
            assert s.add({"kind": "buy_gpus", "gen": "h100", "count": n, "site_id": site}).ok
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("x")
        await pilot.pause()
        assert [a["count"] for a in s.plan] == [16]
        await pilot.press("x")
        await pilot.pause()
        assert s.plan == []
        await pilot.press("x")
        await pilot.pause()
        assert "the plan is empty: nothing to remove" in [n.message for n in app._notifications]


@pytest.mark.parametrize("size", SIZES)
async def test_after_game_over_the_quarter_keys_say_why_issue11_item6(size):
    """`e`, `t`, `a` left the footer at game over; pressed anyway they say why (they were silent)."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.session.state.game_over = True
        app.session.state.end_reason = "Out of cash"
        app.refresh_area()
        await pilot.pause()
        for key in "eta":
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "DashboardScreen"
        messages = [n.message for n in app._notifications]
        assert messages == ["the game is over: d opens the debrief"] * 3
        await pilot.press("d")  # on the debrief too
        await pilot.pause()
        assert type(app.screen).__name__ == "DebriefScreen"
        await pilot.press("e")
        await pilot.pause()
        assert len(app._notifications) == 4 and type(app.screen).__name__ == "DebriefScreen"


@pytest.mark.parametrize("size", SIZES)
async def test_inference_keys_on_a_neocloud_say_why_issue11_item6(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert not app.session.runs_inference
        await pilot.press("h")
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["this company runs no inference stack: it sells GPU-hours, not tokens"]


@pytest.mark.parametrize("size", SIZES)
async def test_alert_keys_are_this_companys_keys_issue11(size):
    """The tutorial's turned-away H100 demand offered `[g/u: add GPUs]`, and `u` (rent GPUs for
    tokens) is not a neocloud's key: its alert offers b/g. An inference model's SLA risk offers the
    fix its message names, more replicas (s) and the GPUs for them (u)."""
    from game.app.widgets.alerts import alert_key

    app = make_app(scenario="tutorial", seed=7, theme="textual-dark", cursor_blink=False, skip_start=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        capacity = [r for r in app.session.advice().risks if r.kind == "capacity"]
        assert capacity and alert_key(capacity[0], app.session) == "b/g: add GPUs"
        assert "[b/g: add GPUs]" in str(app.screen.query_one("#alerts", Static).render())
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        assert s.add({"kind": "scale_model", "model": s.state.inference.deployments[-1].model, "replicas": 1}).ok
        sla = [r for r in s.advice().risks if r.kind == "sla" and r.subject.startswith("model:")]
        assert sla and {alert_key(r, s) for r in sla} == {"s/u: add replicas"}
        cash = [r for r in s.advice().risks if r.kind in ("cash", "runway")]
        assert all(alert_key(r, s) == "o/i: raise cash" for r in cash)


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_one_point_price_charts_show_every_point_inside_the_frame_issue11_item5(size, scenario):
    """Q1's Market charts have one point per series: autoscaling put the highest and lowest price on
    the frame, where the marker vanished (3 of 4 GPU prices and 2 of 3 token prices showed). Every
    point now lies strictly inside the y limits."""
    from textual_plot import PlotWidget

    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        plots = list(app.screen.query(PlotWidget))
        assert plots
        for plot in plots:
            ys = [float(y) for ds in plot._datasets for y in ds.y]
            assert ys
            span = plot._y_max - plot._y_min
            assert all(plot._y_min + 0.05 * span < y < plot._y_max - 0.05 * span for y in ys), (plot.id, ys, plot._y_min, plot._y_max)


@pytest.mark.parametrize("size", SIZES)
async def test_a_share_a_hair_below_zero_never_shows_minus_zero_issue11_item5(size):
    """Tutorial seed 7, Q2: the spot-filled share is -2.6e-18 (float noise); Fleet read "-0% spot-filled"."""
    from textual.widgets import DataTable

    app = make_app(scenario="tutorial", seed=7, theme="textual-dark", cursor_blink=False, skip_start=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for _ in range(2):
            app.session.end_quarter()
        share = app.session.last.kpis.spot_filled_share
        assert share < 0 and f"{share:.0%}" == "-0%"  # the case this test is about
        for key in "12":
            await pilot.press(key)
            await pilot.pause()
            shown = [str(w.render()) for w in app.screen.query(Static)]
            shown += [" ".join(map(str, t.get_row_at(r))) for t in app.screen.query(DataTable) for r in range(t.row_count)]
            assert not [t for t in shown if "-0%" in t or "+0% spot" in t]


@pytest.mark.parametrize("size", SIZES)
async def test_typed_minus_zero_and_half_a_dollar_never_show_minus_zero_issue11_item5(size):
    """A price typed "-0" read "market -0%"; repaying $0.50 previewed "(-$0 from this action)"."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await _type(pilot, "-0")
        assert app.screen.build()[0]["vs_market"] == 0.0
        assert "-0%" not in _text(app.screen, "#verdict") and "+0%" in _text(app.screen, "#verdict")
        await pilot.press("escape", "y")
        await _type(pilot, "0.5")
        preview = _text(app.screen, "#preview")
        assert "Amount: $0.50" in preview and "($0 from this action)" in preview and "-$0" not in preview
    assert fmt_usd(-50) == "$0" and fmt_usd(-51) == "-$1" and fmt_usd(-150) == "-$2"


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_the_plan_shows_its_forecast_at_expected_values_issue11_forecast(size, scenario):
    """`t` shows the plan's quarter at expected values (revenue, EBITDA, cash, DSCR when there is debt),
    the advisor's numbers, and they follow the plan: removing an action changes them."""
    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        action = ({"kind": "buy_gpus", "gen": "h100", "count": 256, "site_id": s.state.sites[0].id} if scenario == "neocloud-2025"
                  else {"kind": "rent_gpus", "gen": "h100", "on_demand": 64, "spot": 0})
        assert s.add(action).ok
        with_action = s.advice().forecast
        await pilot.press("t")
        await pilot.pause()
        summary = _text(app.screen, "#plan-summary")
        assert (f"revenue {fmt_usd(with_action.revenue_cents)}, EBITDA {fmt_usd(with_action.ebitda_cents)}, "
                f"cash at quarter end {fmt_usd(with_action.cash_end_cents)}") in summary
        assert ("DSCR" in summary) == (with_action.dscr is not None)
        await pilot.press("x")
        await pilot.pause()
        without = s.advice().forecast
        assert without.cash_end_cents != with_action.cash_end_cents
        assert f"cash at quarter end {fmt_usd(without.cash_end_cents)}" in _text(app.screen, "#plan-summary")


@pytest.mark.parametrize("size", SIZES)
async def test_spot_100000_by_keys_is_refused_and_70000_is_flagged_issue11_item1(size):
    """inference-2025 Q1 by keys: `u`, Spot = 100000 is refused in the form naming the shortfall and
    `enter` queues nothing; Spot = 70000 is accepted, and `e` then says "Out of cash" with the rental
    bill, never "No risks flagged"."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("u", "tab")
        await _type(pilot, "100000")
        verdict = _text(app.screen, "#verdict")
        assert verdict.startswith("✗") and "the rental bill would be $166.31M" in verdict and "$46.31M short" in verdict
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan == [] and type(app.screen).__name__ == "ActionForm"
        spot = app.screen.query_one("#f-spot", Input)
        spot.value = ""
        await _type(pilot, "70000")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan == [{"kind": "rent_gpus", "gen": "h100", "on_demand": 0, "spot": 70000}]
        await pilot.press("e")
        await pilot.pause()
        body = _text(app.screen, "#confirm-body")
        assert "No risks flagged" not in body and "Out of cash" in body and "GPU rentals $116.42M" in body
        await pilot.press("n")


@pytest.mark.parametrize("size", SIZES)
async def test_tutorial_by_keys_points_to_market_and_its_advice_does_well_issue11_item10(size):
    """The tutorial's briefing (on the dashboard) sends turned-away demand to 3 Market, where the
    demand table has it; signing the offered contracts by keys (`k`, `enter`), as it advises, ends
    Q1 with a positive gross margin and a verdict other than "Value destroyed"."""
    app = make_app(scenario="tutorial", seed=7, theme="textual-dark", cursor_blink=False, skip_start=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        briefing = " ".join(" ".join(str(w.render()) for w in app.screen.query(Static)).split())
        assert "3 Market what GPU-hours rent for" in briefing and "the demand you turned away" in briefing
        for _ in range(len(s.state.offers.contracts)):
            await pilot.press("k")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            if type(app.screen).__name__ == "ActionForm":  # refused: the free GPUs cannot serve it
                await pilot.press("escape")
                await pilot.pause()
        assert any(a["kind"] == "sign_contract" for a in s.plan)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        report = s.last
        assert report.kpis.gross_margin > 0 and report.score.verdict != "Value destroyed"
        await pilot.press("enter", "3")
        await pilot.pause()
        demand = app.screen.query_one("#demand-table", DataTable)  # the Market screen's demand by product
        assert "Turned away" in [str(c.label) for c in demand.columns.values()] and demand.row_count


@pytest.mark.parametrize("size", SIZES)
async def test_supply_shock_headlined_the_quarter_it_starts_and_failures_one_line_by_keys_issue11_item9(size):
    """neocloud-2025 seed 3: a supply shock starts 2025Q2. Ending Q1 by keys, the report's Events say
    "Starting now: GPU supply shock" (the Market screen shows it from now on), and the quarter's GPU
    failures of two generations are one line."""
    app = make_app(scenario="neocloud-2025", seed=3, theme="textual-dark", cursor_blink=False, skip_start=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert type(app.screen).__name__ == "QuarterReportScreen"
        body = app.screen.query_one("VerticalScroll Static", Static)
        text = " ".join(" ".join(line.text for line in body.render_lines(body.region.reset_offset)).split())
        assert text.count("Starting now: GPU supply shock") == 1
        assert text.count("GPU failures") == 1 and "A100" in text.split("GPU failures")[1][:40]
        assert app.session.game.world.quarter(1).gpus["h100"].allocation_limit < app.session.game.world.quarter(0).gpus["h100"].allocation_limit


@pytest.mark.parametrize("size", SIZES)
async def test_contracts_screen_marks_an_offer_signed_in_the_plan_issue11_item5(size):
    """`k`, `enter`, `4`: the signed offer's row read "contract offer C2025Q1-1 is…" (the engine's
    refusal to sign it twice, cut); it says it is signed in the plan, the others keep their numbers."""
    from textual.widgets import DataTable

    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("k", "enter")
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#offers", DataTable)
        cells = [" ".join(str(c) for c in table.get_row_at(r)) for r in range(table.row_count)]
        assert len(cells) == len(s.state.offers.contracts) >= 2
        assert "signed in your plan" in cells[0] and "contract offer" not in " ".join(cells)
        assert all("signed in your plan" not in c and "$" in c.split()[-1] for c in cells[1:])


@pytest.mark.parametrize("size", SIZES)
async def test_deploy_form_speaks_in_fields_not_calculator_flags_issue11_item4(size):
    """`m` on inference-2025: Llama-405B at the default 60 ms TPOT on H100 is refused; the verdict read
    "raise --tpot-ms, or use a faster --stack, --precision or GPU" (the calculator's flags). It names
    the form's fields; FP8, done at the start, is not labelled "(needs the fp8 project)"."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        assert s.state.inference.techniques.get("fp8") == 0
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#f-model", Select).value == "llama-3.1-405b"
        verdict = _text(form, "#verdict")
        assert verdict.startswith("✗") and "raise the TPOT target" in verdict and "--" not in verdict
        labels = [label for label, _ in form.fields[2].options]
        assert labels == ["BF16", "FP8", "FP4"]


@pytest.mark.parametrize("size", SIZES)
async def test_a_plan_action_the_engine_refuses_is_named_by_its_title_issue11_item4(size):
    """An action that the plan's earlier actions made impossible: the advisor's "Not done: rent_gpus: ..."
    reads "Not done: Rent GPUs: ..." on the dashboard and in the confirmation."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        s = app.session
        assert s.add({"kind": "rent_gpus", "gen": "h100", "on_demand": 0, "spot": 60000}).ok
        s.plan.append({"kind": "rent_gpus", "gen": "h100", "on_demand": 0, "spot": 100000})  # queued earlier, now unaffordable
        app.refresh_area()
        await pilot.pause()
        assert any(m.startswith("Not done: Rent GPUs: the rental bill would be") for m in s.risks())
        assert not any("rent_gpus" in m for m in s.risks())
        await pilot.press("e")
        await pilot.pause()
        body = _text(app.screen, "#confirm-body")
        assert "Not done: Rent GPUs:" in body and "rent_gpus" not in body


@pytest.mark.parametrize("size", SIZES)
async def test_a_one_quarter_or_flat_kpi_history_is_a_level_line_issue11_item5(size):
    """After one quarter each card's sparkline drew a full block row (Textual's one-point case), and
    the runway, capped flat at 20 quarters, a floor line as if it were zero: both are a level line."""
    from game.app.widgets.kpi import FLAT_BAR, KpiCard

    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        def spark(card) -> str:
            line = card.render().renderables[2]
            return line.plain if hasattr(line, "plain") else ""  # Textual's sparkline for a real series

        for card in app.screen.query(KpiCard):
            assert len(card.history) == 1 and spark(card) == FLAT_BAR * card.content_size.width, card.id
        for _ in range(2):
            app.session.end_quarter()
        app.refresh_area()
        await pilot.pause()
        runway = app.screen.query_one("#kpi-runway", KpiCard)
        assert len(set(runway.history)) == 1 and len(runway.history) == 3
        assert spark(runway) == FLAT_BAR * runway.content_size.width
        cash = app.screen.query_one("#kpi-cash", KpiCard)
        assert len(set(cash.history)) > 1 and spark(cash) == ""


@pytest.mark.parametrize("size", SIZES)
async def test_statement_paging_at_its_ends_says_why_issue11_item6(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("5", "right_square_bracket")
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["statements appear after the first quarter"]
        for _ in range(2):
            app.session.end_quarter()
        app.refresh_area()
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert [n.message for n in app._notifications][-1] == "this is the latest quarter's statement"
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert "2025Q1 (1 of 2" in _text(app.screen, "#fin-title")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert [n.message for n in app._notifications][-1] == "this is the first quarter's statement"
        assert "2025Q1 (1 of 2" in _text(app.screen, "#fin-title")
