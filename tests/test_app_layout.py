"""Issue 11 items 5, 7 and 8 at both sizes: the columns a decision needs, a frozen first column,
sortable tables, statements that fit, an inference Market of its own, no "-0", one-point charts."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from engine.money import fmt_usd
from game.app import make_app
from game.app.screens.areas import fitting_columns, sort_key
from game.app.widgets.common import chart_limits

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TYCOON_SAVE_DIR", str(tmp_path / "runs"))


def _app(scenario: str = "neocloud-2025"):
    return make_app(scenario=scenario, seed=7, skip_start=True, theme="textual-dark", cursor_blink=False)


def _columns(app, table_id: str) -> list[str]:
    return [str(c.label) for c in app.screen.query_one(table_id, DataTable).columns.values()]


async def _play_quarter(pilot) -> None:
    await pilot.press("e", "y")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def _text(app, widget_id: str) -> str:
    """What a Static shows, as plain text at its width."""
    w = app.screen.query_one(widget_id, Static)
    lines = w.render_lines(w.region.reset_offset)
    return "\n".join(line.text for line in lines)


@pytest.mark.parametrize("size", SIZES)
async def test_market_shows_spot_lease_used_allocation(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await pilot.pause()
        cols = _columns(app, "#quotes")
        assert {"GPU", "On-demand/h", "Spot", "Lease", "Used", "Allocation"} <= set(cols)
        table = app.screen.query_one("#quotes", DataTable)
        assert table.fixed_columns == 1
        assert table.virtual_size.width <= table.size.width  # nothing cut: no sideways scroll needed
        if size == (120, 40):
            assert "Reserved 4/8/12q" in cols  # the wide screen drops nothing


@pytest.mark.parametrize("size", SIZES)
async def test_contract_offers_keep_revenue_and_debt_capacity(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert app.session.state.offers.contracts
        cols = _columns(app, "#offers")
        assert {"Gen", "GPUs", "Term", "$/GPU-h", "Revenue/qtr", "Debt capacity +"} <= set(cols)


@pytest.mark.parametrize("size", SIZES)
async def test_inference_models_keep_the_money_columns_and_a_frozen_model_column(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        cols = _columns(app, "#models")
        assert cols[0] == "Model"
        assert {"Revenue", "GPU cost", "GM", "You/market"} <= set(cols)
        assert app.screen.query_one("#models", DataTable).fixed_columns == 1


@pytest.mark.parametrize("size", SIZES)
async def test_inference_company_has_its_own_market_screen(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert type(app.screen).__name__ == "InferenceMarketScreen"
        assert not app.screen.query("#quotes")  # no GPU allocations, no "Demand by product"
        rows = app.screen.query_one("#token-prices", DataTable)
        models = [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)]
        assert "llama-3.1-70b" in models
        assert {"Market", "Yours", "vs market", "Dropped", "Revenue"} <= set(_columns(app, "#token-prices"))
        assert app.screen.query_one("#segments", DataTable).row_count == len(app.session.game.scenario.rules.inference.traffic)
        assert "Inference platforms" in _text(app, "#competitors")


async def test_neocloud_keeps_the_gpu_market_screen():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert type(app.screen).__name__ == "MarketScreen"


@pytest.mark.parametrize("size", SIZES)
async def test_inference_income_statement_shows_token_revenue(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("5")
        await pilot.pause()
        text = _text(app, "#income")
        inc = app.session.last.income
        from engine.money import fmt_usd

        assert inc.rev_tokens == inc.revenue > 0
        token_line = next(line for line in text.splitlines() if line.strip().startswith("tokens"))
        assert fmt_usd(inc.rev_tokens) in token_line


@pytest.mark.parametrize("size,layout", [((80, 24), "vertical"), ((120, 40), "horizontal")])
async def test_statements_stack_at_80_columns_and_labels_never_wrap(size, layout):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("5")
        await pilot.pause()
        assert app.screen.query_one("#statements").styles.layout.name == layout
        for wid in ("#income", "#balance", "#cashflow"):
            lines = [line for line in _text(app, wid).splitlines() if line.strip()]
            # every row ends in its amount: a label wrapped mid-word would leave a line with no "$"
            assert all("$" in line for line in lines[1:]), (wid, lines)


async def test_demand_table_never_shows_minus_zero():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("3")
        await pilot.pause()
        text = _text(app, "#demand")
        assert "Turned away" in text
        assert " -0 " not in f" {text} ".replace("\n", " ")


async def test_clicking_a_header_sorts_by_its_numbers_and_again_reverses():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#quotes", DataTable)
        key = next(k for k, c in table.columns.items() if str(c.label) == "Spot")
        col = list(table.columns).index(key)
        for reverse in (False, True):  # first click ascending, second descending
            table.post_message(DataTable.HeaderSelected(table, key, col, table.columns[key].label))
            await pilot.pause()
            spot = [sort_key(table.get_row_at(i)[col])[1] for i in range(table.row_count)]
            assert spot == sorted(spot, reverse=reverse) and len(set(spot)) > 1
        app.screen.update_body()  # the table is refilled (a new quarter, a resize): the sort stays
        await pilot.pause()
        spot = [sort_key(table.get_row_at(i)[col])[1] for i in range(table.row_count)]
        assert spot == sorted(spot, reverse=True)


def test_sort_key_orders_money_percent_and_counts_as_numbers():
    cells = ["$1.20M", "$950.00K", "-$3.00K", "12%", "9%", "1,024", "512", "-", "abc"]
    ordered = sorted(cells, key=sort_key)
    assert ordered[:7] == ["-$3.00K", "9%", "12%", "512", "1,024", "$950.00K", "$1.20M"]
    assert ordered[-1] == "-"  # blanks last


def test_priority_columns_drop_the_least_important_first():
    cols = ["Id", "Customer", "Gen", "Revenue/qtr"]
    rows = [["C2025Q1-1", "Orchid Insurance", "H100", "$980.18K"]]
    full = sum(max(len(c), len(str(r))) + 2 for c, r in zip(cols, rows[0]))
    assert fitting_columns(cols, rows, full, ("Id", "Customer")) == cols
    assert fitting_columns(cols, rows, full - 1, ("Id", "Customer")) == ["Customer", "Gen", "Revenue/qtr"]
    assert fitting_columns(cols, rows, 10, ("Id", "Customer")) == ["Gen", "Revenue/qtr"]  # never the decision's columns


def test_one_point_chart_gets_a_readable_axis():
    """Issue 11: one quarter of history labelled its axis "-0.0000010 ... 0.0000010"."""
    assert chart_limits([2.0]) == pytest.approx((1.8, 2.2))
    assert chart_limits([0.0]) == (-1.0, 1.0)
    assert chart_limits([1.0, 2.0]) is None  # a real range: the plot scales itself
    assert chart_limits([]) is None


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_fleet_shows_revenue_cost_and_margin_per_generation_and_per_lot(size, scenario):
    """Issue 11 layout: which generation and which lot earns its keep. The money columns stay at
    80x24, and the generation rows add up to last quarter's income statement."""
    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert not app.screen.query_one("#gens", DataTable).display  # no quarter played: nothing to show yet
        await _play_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        gens = app.screen.query_one("#gens", DataTable)
        assert gens.display and {"Gen", "GPUs", "Revenue", "Cost", "Margin", "GM"} <= set(_columns(app, "#gens"))
        assert gens.virtual_size.width <= gens.size.width
        assert {"Lot", "Gen", "Owned/leased", "Status", "Revenue", "Margin"} <= set(_columns(app, "#lots"))
        lots = app.screen.query_one("#lots", DataTable)
        assert lots.virtual_size.width <= lots.size.width
        if size == (120, 40):
            assert {"Dep./lease", "Other cost"} <= set(_columns(app, "#lots"))
        last = app.session.last
        cols = _columns(app, "#gens")
        shown = [gens.get_row_at(i) for i in range(gens.row_count)]
        assert [str(r[0]) for r in shown] == [e.gen.upper() for e in last.kpis.fleet_economics]
        assert sum(e.revenue_cents for e in last.kpis.fleet_economics) == last.income.revenue
        for row, e in zip(shown, last.kpis.fleet_economics):
            assert str(row[cols.index("Revenue")]) == fmt_usd(e.revenue_cents)
            assert str(row[cols.index("Margin")]) == fmt_usd(e.margin_cents)
