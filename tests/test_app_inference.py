"""Pilot tests of the managed-inference company in the app: forms by key presses, availability,
the Fleet screen's models and roadmap, the report's token numbers."""

from __future__ import annotations

import pytest

from game.app import make_app
from game.runfile import verify_run


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TYCOON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "runs"


def _app(scenario: str = "inference-2025"):
    return make_app(scenario=scenario, seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)


async def _end_quarter(pilot) -> None:
    await pilot.press("e")
    await pilot.pause()
    await pilot.press("y")
    await pilot.pause()
    assert type(pilot.app.screen).__name__ == "QuarterReportScreen"
    await pilot.press("enter")
    await pilot.pause()


async def _type_into(pilot, field: str, text: str) -> None:
    """Focus a form field by id and replace its text (select_on_focus: typing replaces)."""
    pilot.app.screen.query_one(f"#f-{field}").focus()
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause()


async def test_four_inference_quarters_by_keys(_save_dir):
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.session
        assert s.archetype == "inference" and s.label == "2025Q1"
        replicas_70b = s.state.inference.deployment("llama-3.1-70b").replicas

        # Q1: rent 64 H100 on demand (u), scale the 70B model up with them (s, pick it, type replicas)
        await pilot.press("u")
        await pilot.pause()
        assert type(app.screen).__name__ == "ActionForm"
        await pilot.press(*"64", "enter")  # "On demand" has focus
        await pilot.pause()
        assert s.plan and s.plan[-1] == {"kind": "rent_gpus", "gen": "h100", "on_demand": 64, "spot": 0}
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("shift+tab")  # back to the model select
        await pilot.press("down", "down", "enter")  # open it, the second deployed model (the 70B)
        await pilot.pause()
        await _type_into(pilot, "replicas", str(replicas_70b + 16))
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1] == {"kind": "scale_model", "model": "llama-3.1-70b", "replicas": replicas_70b + 16}
        await _end_quarter(pilot)
        assert s.state.inference.on_demand == {"h100": 64}
        assert s.state.inference.deployment("llama-3.1-70b").replicas == replicas_70b + 16
        assert s.reports[-1].inference is not None and s.reports[-1].inference.tokens_out > 0

        # Q2: fund a technique (f, enter: the first one not started)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("enter")  # no text field: "Add to plan" has focus
        await pilot.pause()
        tech = s.plan[-1]["technique"]
        assert s.plan[-1]["kind"] == "fund_technique"
        await _end_quarter(pilot)
        assert tech in s.state.inference.techniques

        # Q3: price the 8B model 10% below market (v, type -10)
        await pilot.press("v")
        await pilot.pause()
        await _type_into(pilot, "vs_market", "-10")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1]["kind"] == "set_token_price" and s.plan[-1]["vs_market"] == pytest.approx(-0.10)
        model = s.plan[-1]["model"]
        await _end_quarter(pilot)
        assert s.state.inference.deployment(model).price_vs_market == pytest.approx(-0.10)

        # Q4: nothing queued
        await _end_quarter(pilot)
        assert len(s.reports) == 4 and s.state.quarter == 4
        kinds = [a["kind"] for q in s.game.log for a in q]
        assert {"rent_gpus", "scale_model", "fund_technique", "set_token_price"} <= set(kinds)
        runs = list(_save_dir.glob("*.json"))
        assert len(runs) == 1
        v = verify_run(runs[0])
        assert v.ok, v.reason
        assert len(v.game.reports) == 4


async def test_inference_availability_and_screens(_save_dir):
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # not this company's decisions: hidden
        assert app.check_action("form", ("dedicate_gpus",)) is False
        assert app.check_action("form", ("set_price",)) is False
        # no site to put bought GPUs in: disabled, with the reason
        assert app.check_action("form", ("buy_gpus",)) is None
        for kind in ("rent_gpus", "deploy_model", "scale_model", "retire_model", "set_token_price", "fund_technique"):
            assert app.check_action("form", (kind,)) is True, kind
        await pilot.press("h")  # dedicate: nothing opens
        await pilot.pause()
        assert type(app.screen).__name__ == "DashboardScreen"
        # every inference form opens and closes
        for key in "umswvf":
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "ActionForm", key
            await pilot.press("escape")
            await pilot.pause()
        await _end_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        fleet = app.screen
        assert fleet.query_one("#models-section").display and fleet.query_one("#roadmap-section").display
        assert fleet.query_one("#models").row_count == len(app.session.state.inference.deployments)
        await pilot.press("1")
        await pilot.pause()
        assert app.screen.query_one("#kpi-costm").value.startswith("$")


async def test_deploy_form_previews_engine_numbers(_save_dir):
    from engine.inference import replica_size

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        # the default (405B) cannot meet 60 ms on a legacy TP8 replica since issue 12: NCCL ring
        # latency alone is ~34 ms a step; Mixtral can
        form.query_one("#f-model").value = "mixtral-8x7b"
        await pilot.pause()
        a = form.action_dict
        assert a is not None and a["kind"] == "deploy_model"
        s = app.session
        n = replica_size(a["model"], a["gen"], a["precision"], s.state.inference.stack(), a["tpot_ms"])
        text = str(form.query_one("#preview").render())
        assert f"Replica: {n} " in text
        assert f"${s.market_token_price(a['model']):.3f} per M output tokens" in text
        await pilot.press("escape")


async def test_deploy_form_offers_disaggregation_once_live_with_the_engines_pools(_save_dir):
    """Issue 12 leftovers item 3: the deploy form's serving option appears when the disaggregation
    project is done, and its preview sizes the prefill and decode pools with physics.disaggregation."""
    from engine.inference import traffic_mix
    from engine.physics import disaggregation, resolve

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.session
        await pilot.press("m")
        await pilot.pause()
        assert not app.screen.query("#f-disaggregated")  # not funded: no serving option
        await pilot.press("escape")
        await pilot.pause()
        s.state.inference.techniques["disaggregation"] = 0  # the project shipped
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-model").value = "mixtral-8x7b"
        await pilot.pause()
        assert "Pools:" not in str(form.query_one("#preview").render())  # colocated by default
        form.query_one("#f-disaggregated").value = True
        await pilot.pause()
        a = form.action_dict
        assert a is not None and a["disaggregated"] is True
        d = s.preview(a).state.inference.deployment("mixtral-8x7b")
        params = s.game.scenario.rules.inference
        prompt, output, cached = traffic_mix(params, d.model)
        m, g = resolve(d.model, d.gen)
        r = disaggregation(m, g, d.gpus_per_replica, d.precision, s.state.inference.stack(), prompt, output,
                           params.ttft_sla_ms, d.tpot_ms, cached_share=cached)
        pre = min(max(1, round(d.replicas * r.prefill_gpu_share)), d.replicas - 1)  # whole replicas in each pool
        n = d.gpus_per_replica
        text = str(form.query_one("#preview").render()).replace("\n", " ")
        assert f"Pools: {pre} replicas prefill ({pre * n} GPUs), {d.replicas - pre} decode ({(d.replicas - pre) * n} GPUs)" in text
        assert f"{r.disaggregated_goodput_rps_per_gpu:.3f} requests/s per GPU vs {r.colocated_goodput_rps_per_gpu:.3f} colocated" in text
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1]["kind"] == "deploy_model" and s.plan[-1]["disaggregated"] is True


async def test_cannibalization_dedicates_gpus(_save_dir):
    app = _app("cannibalization")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.session
        assert s.runs_inference and app.check_action("form", ("dedicate_gpus",)) is True
        assert app.check_action("form", ("set_price",)) is True
        await pilot.press("h")
        await pilot.pause()
        await _type_into(pilot, "count", "256")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1] == {"kind": "dedicate_gpus", "gen": "h100", "count": 256}
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        # the 8B model on H100: GPUs from the dedicated pool
        form.query_one("#f-model").value = "llama-3.1-8b"
        form.query_one("#f-gen").value = "h100"
        await pilot.pause()
        await _type_into(pilot, "replicas", "16")
        await pilot.press("enter")
        await pilot.pause()
        assert s.plan[-1]["kind"] == "deploy_model", form.query_one("#verdict").render()
        await _end_quarter(pilot)
        k = s.last.kpis
        assert k.revenue_per_gpu_hour_inference is not None and k.revenue_per_gpu_hour_rental is not None
        await pilot.press("2")
        await pilot.pause()
        summary = str(app.screen.query_one("#fleet-summary").render())
        assert "Revenue per GPU-hour last quarter: rental" in summary


async def test_neocloud_keeps_its_forms(_save_dir):
    app = make_app(seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for kind in ("rent_gpus", "deploy_model", "dedicate_gpus", "fund_technique"):
            assert app.check_action("form", (kind,)) is False, kind  # neocloud-2025 has no inference stack
        assert app.check_action("form", ("buy_gpus",)) is True


@pytest.mark.parametrize(("scenario", "says", "never"), [
    ("inference-2025", "token price per model", "GPU-hour rates"),
    ("neocloud-2025", "GPU-hour rates", "token price per model"),
])
async def test_market_help_describes_the_market_screen_each_company_sees(_save_dir, scenario, says, never):
    """Issue 11 item 8: the inference platform's Market is its token market, and `?` there says so."""
    app = _app(scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = str(app.screen.query_one("#context-help").render())
        assert says in help_text and never not in help_text
