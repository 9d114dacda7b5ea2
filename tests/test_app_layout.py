"""Issue 11 items 5, 7 and 8 at both sizes: the columns a decision needs, a frozen first column,
sortable tables, statements that fit, an inference Market of its own, no "-0", one-point charts."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from engine.money import fmt_usd
from game.app import make_app
from game.app.screens.areas import fitting_columns, sort_key, squeezed_columns
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
        table = app.screen.query_one("#demand-table", DataTable)  # a DataTable since the 80-column audit
        assert "Turned away" in _columns(app, "#demand-table") and table.row_count
        cells = [str(c) for i in range(table.row_count) for c in table.get_row_at(i)]
        assert "-0" not in cells and "Peak-to-mean" in _text(app, "#demand")


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


# ---- issue 11 layout audit (part B): keyboard sorting, cards, titles and footers that fit both sizes

AREA_KEYS = ["1", "2", "3", "4", "5", "6"]


def _sorted_values(table: DataTable, key: str) -> list[tuple[int, float, str]]:
    col = list(table.columns).index(next(k for k in table.columns if str(k.value) == key))
    return [sort_key(table.get_row_at(i)[col]) for i in range(table.row_count)]


@pytest.mark.parametrize("size", SIZES)
async def test_z_sorts_the_focused_table_by_its_next_column_and_Z_reverses(size):
    """Issue 11 layout, sortable tables by keyboard: `z` sorts the focused table (tab moves the focus) by its
    next column, marks the header ▲, `Z` reverses it (▼); the footer offers "z Sort"."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        lots = app.screen.query_one("#lots", DataTable)
        lots.focus()
        await pilot.pause()
        assert any(b.key == "z" and b.description == "Sort" for (_, b, ok, _) in app.screen.active_bindings.values() if b.show and ok)
        keys = [str(k.value) for k in lots.columns]
        await pilot.press("z", "z", "z")  # Lot, Gen, GPUs: the third column
        await pilot.pause()
        assert lots.sort_by == (keys[2], False)
        assert [str(c.label) for c in lots.columns.values()][2] == f"{keys[2]} ▲"
        gpus = _sorted_values(lots, keys[2])
        assert gpus == sorted(gpus) and len(set(gpus)) > 1
        await pilot.press("Z")
        await pilot.pause()
        assert [str(c.label) for c in lots.columns.values()][2] == f"{keys[2]} ▼"
        assert _sorted_values(lots, keys[2]) == sorted(gpus, reverse=True)
        assert lots.virtual_size.width <= lots.size.width  # the mark is counted: nothing scrolls off
        gens = app.screen.query_one("#gens", DataTable)
        assert getattr(gens, "sort_by", None) is None  # only the focused table was sorted


@pytest.mark.parametrize("size", SIZES)
async def test_z_without_a_focused_table_sorts_the_first_table_shown(size):
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("3")
        await pilot.pause()
        app.screen.set_focus(None)
        await pilot.press("z", "z", "z")
        await pilot.pause()
        prices = app.screen.query_one("#token-prices", DataTable)
        assert prices.sort_by == ("Yours", False)
        yours = _sorted_values(prices, "Yours")
        assert yours == sorted(yours)


def _card_lines(card) -> list[str]:
    return [line.text for line in card.render_lines(card.region.reset_offset)]


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_no_dashboard_card_is_cut(size, scenario):
    """Issue 11 item 7: "a dashboard card cut". Every card's title, value and change line fit its width at
    80x24 and 120x40, before the first quarter and after two (with a change from the quarter before)."""
    from game.app.widgets.kpi import KpiCard

    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        for played in range(3):
            await pilot.press("1")
            await pilot.pause()
            for card in app.screen.query(KpiCard):
                lines = _card_lines(card)
                assert card.border_title in lines[0], (played, lines[0])
                assert not any("…" in line for line in lines), (played, card.id, lines)
            await _play_quarter(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_dscr_card_keeps_the_lockup_when_narrow_and_the_status_when_wide(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("1")
        await pilot.pause()
        k = app.session.last.kpis
        text = "\n".join(_card_lines(app.screen.query_one("#kpi-dscr")))
        assert f"lock-up {k.dscr_lockup:.2f}x" in text
        assert (f"· {k.covenant}" in text) == (size == (120, 40))


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_section_titles_and_footer_keys_fit_every_screen(size, scenario):
    """Issue 11 item 7 at both sizes: no section title runs off the screen (it wraps), and every key the
    footer offers is visible (the Finance pair "[ ]" is one key, so Save and Quit stay on an 80-column footer)."""
    from textual.widgets._footer import FooterKey

    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        for key in AREA_KEYS:
            await pilot.press(key)
            await pilot.pause()
            for label in app.screen.query(".section-title"):
                if not label.display or not label.parent.display:
                    continue
                shown = " ".join(line.text.strip() for line in label.render_lines(label.region.reset_offset))
                assert " ".join(str(label.render()).split()) in " ".join(shown.split()), (key, shown)
            keys = list(app.screen.query(FooterKey))
            palette = next(k for k in keys if k.has_class("-command-palette"))
            shown_keys = [k for k in keys if k is not palette]
            assert shown_keys and all(k.region.right <= palette.region.x for k in shown_keys), \
                (key, [(k.description, k.region) for k in shown_keys])
            assert {"Save", "Quit"} <= {k.description for k in shown_keys}


def test_squeezed_columns_come_back_cut_into_the_room_left():
    """A dropped text column returns cut short when at least 8 of its characters fit (sites' names at 80x24)."""
    cols = ["Id", "Name", "MW", "Stage"]
    rows = [["S-TX", "West Texas Campus", "4", "operating"], ["S-VA", "Ashburn Colo", "0.25", "operating"]]
    keep = ["Id", "MW", "Stage"]  # 6 + 6 + 11 = 23 cells
    assert squeezed_columns(cols, rows, 23 + 2 + 9, keep, ("Name",)) == {"Name": 9}
    assert squeezed_columns(cols, rows, 23 + 2 + 7, keep, ("Name",)) == {}  # 7 letters of a name: left out
    assert squeezed_columns(cols, rows, 200, keep, ("Name",)) == {"Name": 17}  # never wider than its text
    assert squeezed_columns(cols, rows, 200, cols, ("Name",)) == {}  # kept whole: nothing to squeeze


@pytest.mark.parametrize("size", SIZES)
async def test_sites_keep_a_cut_name_at_80_columns_and_the_whole_name_at_120(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause()
        sites = app.screen.query_one("#sites", DataTable)
        cols = _columns(app, "#sites")
        assert "Name" in cols and sites.virtual_size.width <= sites.size.width
        names = [str(sites.get_row_at(i)[cols.index("Name")]) for i in range(sites.row_count)]
        whole = [site.name for site in app.session.state.sites]
        if size == (120, 40):
            assert names == whole
        else:
            assert all(n.endswith("…") or n == w for n, w in zip(names, whole)) and names != whole
            assert all(w.startswith(n.rstrip("…")) for n, w in zip(names, whole))


@pytest.mark.parametrize("size", SIZES)
async def test_contracts_say_why_debt_capacity_added_is_zero(size):
    """Issue 11 item 12: "why debt capacity added is $0", on the Contracts screen as in the form: in lock-up
    lenders allow no new debt, so every signable offer adds $0 and the note under the tables says why."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert "is $0 now" not in _text(app, "#contracts-note")  # a healthy company: no such note
        game = app.session.game
        game.state = game.state.model_copy(update={"covenant": "lock-up"})
        app.screen._drawn = None  # the screen redraws once per quarter and plan: this state is new
        app.screen.refresh_view()
        await pilot.pause()
        offers = app.screen.query_one("#offers", DataTable)
        col = _columns(app, "#offers").index("Debt capacity +")
        assert "$0" in {str(offers.get_row_at(i)[col]) for i in range(offers.row_count)}
        note = " ".join(_text(app, "#contracts-note").split())
        assert "Debt capacity + is $0 now because the covenant is in lock-up" in note


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
@pytest.mark.parametrize("size", SIZES)
async def test_quarter_report_values_never_wrap(size, scenario):
    """Issue 11 item 7 (the report at 80x24): "$117.53M (was $119.36M)" stayed on its line only at 120
    columns; at 80 the report lists one KPI a row. Every KPI's value ends on its own line, both sizes."""
    from game.app.screens.report import QuarterReportScreen

    app = _app(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for _ in range(2):  # the second report has "(was ...)" beside every value
            await pilot.press("e", "y")
            await pilot.pause()
            if _ == 0:
                await pilot.press("enter")
                await pilot.pause()
        assert isinstance(app.screen, QuarterReportScreen)
        body = app.screen.query_one("#report VerticalScroll Static", Static)
        lines = [line.text.rstrip() for line in body.render_lines(body.region.reset_offset)]
        was = [line for line in lines if "(was" in line]
        assert len(was) >= 4
        import re

        assert all(line.count("(was") == len(re.findall(r"\(was [^()]+\)", line)) for line in was), was  # each closes on its line
        revenue = next(line for line in lines if line.lstrip().startswith("Revenue"))
        prev = app.session.reports[-2].income.revenue
        assert f"(was {fmt_usd(prev)})" in revenue


@pytest.mark.parametrize("size", SIZES)
async def test_demand_by_product_fits_and_keeps_turned_away_and_prices(size):
    """Issue 11 item 7: at 80x24 the demand table printed "1,415,…" and "Reserv…" (a rich table squeezed to the
    screen). Now whole numbers in priority columns: turned away and your rate vs the market's always stay."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#demand-table", DataTable)
        cols = _columns(app, "#demand-table")
        assert {"Gen", "Reserved", "On-demand", "Turned away", "Your $/h", "Market $/h"} <= set(cols)
        assert table.virtual_size.width <= table.size.width
        cells = [str(c) for i in range(table.row_count) for c in table.get_row_at(i)]
        assert not any("…" in c for c in cells)
        by_gen = {g.gen.upper(): g for g in app.session.last.kpis.by_gen}
        for i in range(table.row_count):
            row = table.get_row_at(i)
            g = by_gen[str(row[0])]
            assert str(row[cols.index("Reserved")]) == f"{round(g.served_gpu_hours.get('reserved', 0)):,}"
            assert str(row[cols.index("Turned away")]) == f"{round(g.lost_gpu_hours):,}"
        if size == (120, 40):
            assert {"Batch", "Spot", "Backlog"} <= set(cols)


@pytest.mark.parametrize("size", SIZES)
async def test_inference_segments_show_how_demand_answers_price(size):
    """Issue 11 item 12, "how demand answers price", on the token Market: each segment's share at 10% under and
    over the market, from engine.demand.demand_share (KB §1: a kinked curve, rivals match a cut, not a rise)."""
    from engine.demand import demand_share
    from engine.inference import MAX_SHARE_GAIN

    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#segments", DataTable)
        cols = _columns(app, "#segments")
        assert "-10%/+10% price" in cols and table.virtual_size.width <= table.size.width
        segs = {p.name: p for p in app.session.game.world.params.segments}
        for i in range(table.row_count):
            row = table.get_row_at(i)
            e = segs[str(row[0])].elasticity
            cut, rise = demand_share(0.9, 1.0, e, MAX_SHARE_GAIN) - 1, demand_share(1.1, 1.0, e, MAX_SHARE_GAIN) - 1
            assert str(row[cols.index("-10%/+10% price")]) == f"{cut:+.0%} / {rise:+.0%}"
            assert cut > 0 > rise and abs(rise) > cut  # above the market buyers leave faster than a cut wins them


@pytest.mark.parametrize("scenario", ["neocloud-2025", "inference-2025"])
async def test_statements_side_by_side_at_120_cut_no_label_and_keep_a_gap(scenario):
    """At 120x40 the three statements stand side by side: no label is cut ("…"), and a balance-sheet amount
    no longer runs into the cash flow's label ("$76.63M Cash at start")."""
    app = _app(scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("5")
        await pilot.pause()
        for wid in ("#income", "#balance", "#cashflow"):
            assert "…" not in _text(app, wid), wid
        balance, cashflow = (app.screen.query_one(w, Static) for w in ("#balance", "#cashflow"))
        assert cashflow.region.x - balance.content_region.right >= 2


@pytest.mark.parametrize("size", SIZES)
async def test_help_keeps_rows_for_the_glossary(size):
    """At 80x24 the screen help and the keys line took all but five rows of the help dialog; they scroll now,
    so the glossary list keeps at least eight rows, and the keys line (sorting included) is still there."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("2", "question_mark")
        await pilot.pause()
        assert app.screen.query_one("#help-body").size.height >= 8
        box = app.screen.query_one("#context-help-box")
        assert "z/Z sort a table" in str(app.screen.query_one("#context-help").render())
        assert box.size.height <= app.screen.query_one("#help").size.height * 0.4 + 1


@pytest.mark.parametrize("size", SIZES)
async def test_fleet_says_how_to_fix_a_ttft_sla_miss(size):
    """Issue 11 item 12, "how to fix a TTFT SLA miss": under the models table, each model that missed its
    time-to-first-token SLA last quarter, by how much, and the fix (replicas, or price); none when all met it."""
    app = _app("inference-2025")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _play_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        note = app.screen.query_one("#sla-note", Static)
        models = app.session.last.inference.models
        assert all(m.ttft_sla_met for m in models) and not note.display  # the first quarter meets it (seed 7)
        await _play_quarter(pilot)
        await pilot.press("2")
        await pilot.pause()
        missed = [m for m in app.session.last.inference.models if not m.ttft_sla_met]
        assert missed and note.display
        text = " ".join(_text(app, "#sla-note").split())
        sla = app.session.game.scenario.rules.inference.ttft_sla_ms
        for m in missed:
            assert f"✗ {m.model}: p95 time to first token {m.p95_ttft_ms:,.0f} ms, over the {sla:,.0f} ms SLA" in text
        assert "more replicas (s" in text and "higher price (v)" in text


@pytest.mark.parametrize("size", SIZES)
async def test_buy_and_contract_forms_show_their_decision_facts(size):
    """Issue 11 item 12, audited at both sizes: the buy form gives the expected utilization and the payback, the
    contract form the GPUs free of contracts and replicas (and what the offer leaves), all inside the dialog."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("b")
        await pilot.pause()
        buy = " ".join(_text(app, "#preview").split())
        assert "Expected utilization" in buy and "payback" in buy and "quarters after it arrives" in buy
        await pilot.press("escape", "k")
        await pilot.pause()
        sign = " ".join(_text(app, "#preview").split())
        offer = app.session.state.offers.contracts[0]
        assert "GPUs free of contracts and replicas:" in sign and f"this contract takes {offer.gpus:,}" in sign
        preview = app.screen.query_one("#preview", Static)
        assert preview.region.right <= app.size.width and preview.region.bottom <= app.size.height


@pytest.mark.parametrize("size", SIZES)
async def test_each_loan_stays_on_one_line(size):
    """At 80x24 "Ironclad Equipment Finance" wrapped over three lines of the loans table; now a loan is one line
    (the lender's name cut with … when narrow) and every other column keeps its whole header and value."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("5")
        await pilot.pause()
        lines = [line.rstrip() for line in _text(app, "#debt").splitlines()]
        header = lines[0].split()
        assert header == ["Loan", "Lender", "Kind", "Balance", "Spread", "Tenor", "Principal/qtr", "Started"]
        loans = [x for x in app.session.state.loans if x.balance_cents > 0]
        assert loans
        for loan, line in zip(loans, lines[1:]):
            assert line.startswith(loan.id) and fmt_usd(loan.balance_cents) in line and line.endswith(app.session.quarter_label(loan.start_quarter))
            lender = loan.lender if size == (120, 40) else loan.lender[:8]
            assert lender in line
        assert lines[1 + len(loans)].startswith("Covenant:")


@pytest.mark.parametrize("size", SIZES)
async def test_fleet_summary_wraps_by_generation_not_mid_phrase(size):
    """At 80 columns "A100: 506 owned, 0 leased, 0 on / order" broke mid-phrase; each generation's counts now
    stay on one line (one a line when they do not all fit)."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause()
        lines = [line.strip() for line in _text(app, "#fleet-summary").splitlines() if line.strip()]
        gens = {lot.gen.upper() for lot in app.session.state.lots}
        for g in gens:
            line = next(x for x in lines if f"{g}: " in x)
            assert line[line.index(f"{g}: "):].split("  ")[0].endswith("on order")
        assert (len([x for x in lines if "owned" in x]) == 1) == (size == (120, 40))
