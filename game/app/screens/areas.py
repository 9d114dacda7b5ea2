"""The six area screens (one Textual mode each, keys 1-6). Each renders from the session only."""

from __future__ import annotations

import re

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label, Static

from engine.actions import site_load_kw
from engine.calendar import TICKS_PER_QUARTER
from engine.hardware import GPUS
from engine import equity
from engine.demand import demand_share
from engine.inference import MAX_SHARE_GAIN as MAX_TOKEN_SHARE_GAIN
from engine.market import competitors, contract_mtm
from engine.money import fmt_usd, to_cents
from engine.score import bridge_lines
from engine.statements import cash_flow_lines, income_statement_lines
from engine.step import market_headlines, news_to_show
from game.app.widgets.alerts import Alerts
from game.app.widgets.common import AreaTabs, GameFooter, StatusLine, StyledOnMount, pct, plot_series
from game.app.widgets.kpi import KpiCard


def _short(message: str, width: int = 28) -> str:
    """A refusal in a table cell: its first words, the full text is in the form (k)."""
    return message if len(message) <= width else message[: width - 1].rstrip() + "…"


def hours(x: float) -> str:
    """GPU-hours as a whole number: round() first, so a float a hair below zero shows "0", never "-0"."""
    return f"{round(x):,}"


def _money(cents: int) -> Text:
    """A margin in dollars, bold when it loses money."""
    return Text(fmt_usd(cents), style="bold" if cents < 0 else "")


def times(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _delta_usd(now: int, before: int | None) -> str:
    if before is None:
        return ""
    d = now - before
    return f"{'▲' if d > 0 else '▼' if d < 0 else '='} {fmt_usd(abs(d))}"


def _delta_pts(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    d = (now - before) * 100
    return f"{'▲' if d > 0 else '▼' if d < 0 else '='} {abs(d):.1f} pts"


class AreaScreen(StyledOnMount, Screen):
    AREA = "dashboard"

    def __init__(self) -> None:
        super().__init__()
        # a new screen starts "stale" (-1), so switching to its mode the first time re-parses and re-applies the
        # whole stylesheet (App.refresh_css); it gets its styles when it mounts anyway. Half the start-up (issue 11)
        self._css_update_count = self.app._css_update_count

    @property
    def session(self):
        return self.app.session  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield AreaTabs(self.AREA)
        yield StatusLine()
        yield from self.compose_body()
        yield GameFooter()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield Static()

    def on_mount(self) -> None:
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Redraw from the session, once per change: a screen resumed and then refreshed by the app
        (after the report, after a form) drew everything twice (issue 11 latency)."""
        s = self.session
        if s is None:
            return
        key = (id(s), len(s.reports), repr(s.plan), s.over, self.app.size)
        if key == getattr(self, "_drawn", None):
            return
        self._drawn = key
        self.query_one(StatusLine).refresh_from(s)
        self.update_body()

    def update_body(self) -> None:  # pragma: no cover - overridden
        pass

    def on_resize(self, event) -> None:
        if self.is_mounted:
            self.refresh_view()  # priority columns: what fits changes with the width

    @on(DataTable.HeaderSelected)
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        """Click a header (or enter on it) to sort by that column; again to reverse."""
        table = event.data_table
        key = str(event.column_key.value)
        before = getattr(table, "sort_by", None)
        self._sort_table(table, (key, before == (key, False)))

    def _sort_table(self, table: DataTable, sort_by: tuple[str, bool]) -> None:
        """Sort a table and mark its header (▲ ascending, ▼ descending): the table is refilled so the marked
        header keeps its width, and the sort stays when the quarter, the plan or the size changes."""
        table.sort_by = sort_by  # type: ignore[attr-defined]
        self._drawn = None
        self.update_body()  # no toast: it would cover the table at 80x24, the header's mark says it

    def _table_to_sort(self) -> DataTable | None:
        """The table with the focus (tab moves it), else the first one shown that has rows."""
        if isinstance(self.focused, DataTable):
            return self.focused
        shown = [t for t in self.query(DataTable) if t.display and t.parent is not None and t.parent.display and t.columns]
        return next((t for t in shown if t.row_count), shown[0] if shown else None)

    def action_sort_table(self, reverse: bool = False) -> None:
        """z: sort the focused table by its next column (its first one to start); Z: reverse the current sort.
        A keyboard player's header click (issue 11 layout: sortable tables)."""
        table = self._table_to_sort()
        if table is None:
            self.notify("No table to sort on this screen yet.", title="Sort", severity="warning")
            return
        keys = [str(k.value) for k in table.columns]
        before = getattr(table, "sort_by", None)
        if reverse:
            key = before[0] if before is not None and before[0] in keys else keys[0]
            self._sort_table(table, (key, not (before is not None and before[1])))
            return
        i = keys.index(before[0]) + 1 if before is not None and before[0] in keys else 0
        self._sort_table(table, (keys[i % len(keys)], False))


SORT_BINDINGS = [
    Binding("z", "sort_table", "Sort", id="table.sort", tooltip="Sort the focused table by its next column (tab moves the focus)"),
    Binding("Z", "sort_table(True)", "Reverse sort", show=False, id="table.reverse", tooltip="Reverse the focused table's sort"),
]


def sort_key(cell: object) -> tuple[int, float, str]:
    """Numbers sort as numbers ("$1.20M" > "$950.00K", "12%" > "9%", "1,024" > "512"), text as text, blanks last."""
    text = str(cell.plain if isinstance(cell, Text) else cell).strip()
    m = re.match(r"^(-?)\$?(-?[\d,]*\.?\d+)([KMBkmb%x]?)", text)
    if m and m.group(2):
        value = float(m.group(2).replace(",", "")) * {"K": 1e3, "M": 1e6, "B": 1e9}.get(m.group(3).upper(), 1.0)
        return (0, -value if m.group(1) else value, "")
    return (1 if text not in ("", "-") else 2, 0.0, text.lower())


def _plain(cell: object) -> str:
    return str(cell.plain if isinstance(cell, Text) else cell)


def column_widths(columns: list[str], rows: list[list[object]], extra: dict[str, int] | None = None) -> dict[str, int]:
    """Each column's cells on screen: its widest cell or header + 2 of padding (+ ``extra`` for a header
    that carries a mark, the sort's ▲)."""
    return {c: max([len(c) + (extra or {}).get(c, 0), *(len(_plain(r[i])) for r in rows)]) + 2 for i, c in enumerate(columns)}


def fitting_columns(columns: list[str], rows: list[list[object]], width: int, drop_order: tuple[str, ...] = (),
                    extra: dict[str, int] | None = None) -> list[str]:
    """The columns to show in ``width`` cells: the least important (first in ``drop_order``) go first until the
    rest fit, so a decision's columns are never the ones cut at 80x24."""
    widths = column_widths(columns, rows, extra)
    keep = list(columns)
    for c in drop_order:
        if sum(widths[k] for k in keep) <= width:
            break
        if c in keep:
            keep.remove(c)
    return keep


SQUEEZE_MIN = 8  # a squeezed column shows at least this many characters, or stays out


def squeezed_columns(columns: list[str], rows: list[list[object]], width: int, keep: list[str], squeeze: tuple[str, ...],
                     extra: dict[str, int] | None = None) -> dict[str, int]:
    """Dropped text columns that come back cut short (…) into the room the kept ones leave, in ``squeeze``
    order: at 80x24 an offer keeps a few letters of its customer's name rather than none. Column -> text width."""
    widths = column_widths(columns, rows, extra)
    used = sum(widths[k] for k in keep)
    out: dict[str, int] = {}
    for c in squeeze:
        room = width - used - 2
        if c in keep or c not in widths:
            continue
        if room < min(SQUEEZE_MIN, widths[c] - 2):
            break
        out[c] = min(widths[c] - 2, room)
        used += out[c] + 2
    return out


def _cut(cell: object, width: int | None) -> object:
    """A cell as the table shows it: cut with an ellipsis when its squeezed column is narrower."""
    text = cell if isinstance(cell, Text) else str(cell)
    if width is None or len(_plain(text)) <= width:
        return text
    plain = _plain(text)[: width - 1].rstrip() + "…"
    return Text(plain, style=text.style) if isinstance(text, Text) else plain


def _fill(table: DataTable, columns: list[str], rows: list[list[object]], drop_order: tuple[str, ...] = (),
          squeeze: tuple[str, ...] = (), width: int | None = None) -> None:
    """Fill a table: priority columns that fit the screen (``squeeze``: dropped ones that come back cut short),
    the first column frozen when it still scrolls sideways, and the player's sort (z, or click a header) kept
    across refreshes, its header marked ▲/▼."""
    width = width or (table.app.size.width or 120) - 4  # the body's padding and the scrollbar (``width``: a dialog's)
    sort = getattr(table, "sort_by", None)
    mark = {sort[0]: " ▼" if sort[1] else " ▲"} if sort is not None else {}
    extra = {c: len(m) for c, m in mark.items()}
    keep = fitting_columns(columns, rows, width, drop_order, extra)
    cut = squeezed_columns(columns, rows, width, keep, squeeze, extra)
    keep = [c for c in columns if c in keep or c in cut]
    idx = [columns.index(c) for c in keep]
    labels = [_cut(c + mark.get(c, ""), cut.get(c)) for c in keep]
    if [str(c.label) for c in table.columns.values()] != labels:
        table.clear(columns=True)
        for c, label in zip(keep, labels):
            table.add_column(label, key=c)
    else:
        table.clear()
    table.fixed_columns = 1
    for row in rows:
        table.add_row(*[_cut(row[i], cut.get(columns[i])) for i in idx])
    if sort is not None and sort[0] in keep:
        table.sort(sort[0], key=sort_key, reverse=sort[1])


# ------------------------------------------------------------------ 1 Dashboard


CARDS = (
    ("cash", "Cash"), ("revenue", "Revenue / qtr"), ("margin", "Gross margin"), ("util", "Util. sold"),  # titles and lines fit a card at 80 columns (14 cells)
    ("dscr", "DSCR (T4Q)"), ("runway", "Runway"), ("contracted", "Contracted"), ("score", "Score so far"),
)
# an inference platform sells tokens: cost per M tokens and net dollar retention replace DSCR and contracted share
INFERENCE_CARDS = (
    ("cash", "Cash"), ("revenue", "Revenue / qtr"), ("margin", "Gross margin"), ("util", "Utilization"),
    ("costm", "Cost/M tok."), ("runway", "Runway"), ("ndr", "$ retention"), ("score", "Score so far"),
)


# a verdict too long for an 80-column card (engine.score.VERDICTS)
SHORT_VERDICTS = {"Built real value": "Real value", "Value destroyed": "Value lost"}


def usd_per_m(x: float | None) -> str:
    return "-" if x is None else f"${x:.3f}"


class DashboardScreen(AreaScreen):
    AREA = "dashboard"

    def cards(self) -> tuple[tuple[str, str], ...]:
        s = self.session
        return INFERENCE_CARDS if s is not None and s.archetype == "inference" else CARDS

    def compose_body(self) -> ComposeResult:
        with Grid(id="kpis"):
            for cid, title in self.cards():
                yield KpiCard(title, id=f"kpi-{cid}")
        yield Alerts()  # the advisor's risks for the plan (issue 11)
        with VerticalScroll(id="feed"):
            yield Static(id="feed-text")

    def update_body(self) -> None:
        s = self.session
        self.query_one(Alerts).refresh_from(s)
        reps = s.reports
        last = reps[-1] if reps else None
        prev = reps[-2] if len(reps) > 1 else None
        card = lambda cid: self.query_one(f"#kpi-{cid}", KpiCard)  # noqa: E731
        cash_hist = [r.balance.cash / 1e8 for r in reps]
        card("cash").show(fmt_usd(s.state.cash_cents), _delta_usd(s.state.cash_cents, last.cash_flow.cash_begin if last else None), cash_hist,
                          "bad" if s.state.cash_cents < s.quarterly_cash_costs() else "")
        if last is None:
            for cid, _ in self.cards()[1:]:
                card(cid).show("-", "after the first quarter", short="after 1st qtr")
        else:
            k = last.kpis
            card("revenue").show(fmt_usd(last.income.revenue), _delta_usd(last.income.revenue, prev.income.revenue if prev else None),
                                 [r.income.revenue / 1e8 for r in reps])
            card("margin").show(pct(k.gross_margin), _delta_pts(k.gross_margin, prev.kpis.gross_margin if prev else None),
                                [r.kpis.gross_margin or 0.0 for r in reps], "bad" if (k.gross_margin or 0) < 0 else "")
            spot = f"+{pct(k.spot_filled_share)} spot" if pct(k.spot_filled_share) != "0%" else ""  # sold and spot-filled apart (KB §2); never "+0% spot"
            card("util").show(pct(k.utilization), " · ".join(x for x in (_delta_pts(k.utilization, prev.kpis.utilization if prev else None), spot) if x),
                              [r.kpis.utilization for r in reps], short=spot)
            runway = "self-funding" if k.runway_quarters is None else f"{k.runway_quarters:.1f} quarters"
            card("runway").show(runway, "", [min(20.0, r.kpis.runway_quarters or 20.0) for r in reps],
                                "bad" if k.runway_quarters is not None and k.runway_quarters < 4 else "")
            if s.archetype == "inference":
                cpm = last.inference.cost_per_m_tokens if last.inference else None
                before = prev.inference.cost_per_m_tokens if prev and prev.inference else None
                delta = "" if cpm is None or before is None else f"{'▲' if cpm > before else '▼' if cpm < before else '='} ${abs(cpm - before):.3f}"
                card("costm").show(usd_per_m(cpm), delta, [(r.inference.cost_per_m_tokens or 0.0) if r.inference else 0.0 for r in reps])
                ndr = k.net_dollar_retention
                card("ndr").show(pct(ndr), "vs 4 qtrs ago" if ndr is not None else "after 5 qtrs",
                                 [r.kpis.net_dollar_retention or 0.0 for r in reps], "bad" if ndr is not None and ndr < 1 else "")
            else:
                state = {"ok": "good", "lock-up": "warn", "default": "bad"}.get(k.covenant, "")
                card("dscr").show(times(k.dscr), f"lock-up {k.dscr_lockup:.2f}x · {k.covenant}", [max(-2.0, min(5.0, r.kpis.dscr or 0.0)) for r in reps], state,
                                  short=f"lock-up {k.dscr_lockup:.2f}x")  # the card's colour still says ok / lock-up / default
                card("contracted").show(pct(k.contracted_share), _delta_pts(k.contracted_share, prev.kpis.contracted_share if prev else None),
                                        [r.kpis.contracted_share for r in reps])
            sc = last.score
            ratio = f" {sc.score_cents / sc.start_value_cents:.2f}x" if sc.start_value_cents > 0 else ""  # vs the start: fits an 80-column card
            card("score").show(fmt_usd(sc.score_cents) + ratio, sc.verdict, [r.score.score_cents / 1e8 for r in reps],
                               short=SHORT_VERDICTS.get(sc.verdict, ""))
        self.query_one("#feed-text", Static).update(self._feed())

    def _feed(self) -> Text:
        s = self.session
        t = Text()
        last = s.last
        comp = s.competition
        if comp is not None:  # the instructor's note, every quarter
            t.append(f"Competition: {comp.title} ({comp.id}, {comp.policy_text})\n", style="bold")
            if comp.note:
                t.append(f"{' '.join(comp.note.split())}\n", style="italic")
            t.append("\n")
        if last is None:
            sc = s.game.scenario
            t.append(f"{sc.title}\n", style="bold")
            paragraphs = [" ".join(p.split()) for p in sc.briefing.strip().split("\n\n")]
            t.append("\n\n".join(paragraphs) + "\n\n")
            t.append("What success looks like\n", style="bold")
            for o in sc.objectives:
                t.append(f" • {o}\n")
            now = market_headlines(None, s.world_quarter())  # what the Market screen already shows this quarter
            if now:
                t.append("\nOn the market now\n", style="bold")
                for n in now:
                    t.append(f" • {n.title.removeprefix('Starting now: ')}: ", style="bold")
                    t.append(f"{n.text}\n")
            t.append("\nPress a for the decisions you can take, e to end the quarter, ? for help.\n", style="italic")
            return t
        t.append(f"News from {last.label}\n", style="bold")
        for w in last.warnings:
            t.append(f" ! {w}\n", style="bold")
        for n in news_to_show(last, s.reports[-2] if len(s.reports) > 1 else None):
            t.append(f" • {n.title}: ", style="bold")
            t.append(f"{n.text}\n")
        t.append("\nHow the score is built\n", style="bold")
        for label, value in bridge_lines(last.score):
            t.append(f" {label:<58} {value:>12}\n")
        return t


# ------------------------------------------------------------------ 2 Fleet


class FleetScreen(AreaScreen):
    AREA = "fleet"
    BINDINGS = SORT_BINDINGS

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(id="fleet-summary")
            yield Label("By GPU generation, last quarter (the rows add up to the income statement)",
                        classes="section-title", id="gens-title")
            yield DataTable(id="gens", cursor_type="row", zebra_stripes=True)
            with Vertical(id="models-section"):
                yield Label("Models: last quarter's service (TPOT p50/p95); $ per M output tokens now (m deploy · s scale · v price · w retire)",
                            classes="section-title")
                yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
                yield Static(id="sla-note", classes="warn")
            with Vertical(id="roadmap-section"):
                yield Label("Optimization roadmap, KB §17 (f to fund a technique)", classes="section-title")
                yield Static(id="roadmap")
            yield Label("Sites", classes="section-title", id="sites-title")
            yield DataTable(id="sites", cursor_type="row", zebra_stripes=True)
            yield Label("GPU lots", classes="section-title")
            yield DataTable(id="lots", cursor_type="row", zebra_stripes=True)

    def update_body(self) -> None:
        s = self.session
        st = s.state
        q = st.quarter
        sites = []
        for site in st.sites:
            used = site_load_kw(st, site.id)
            left = f"{site.stage_quarters_left}q" if site.stage not in ("operating", "released") else ""
            sites.append([site.id, site.name, site.kind, f"{site.mw:g}", f"{used:,.0f} / {site.mw * 1000:,.0f}", f"{site.pue:.2f}",
                          site.power_source, f"{site.stage} {left}".strip()])
        _fill(self.query_one("#sites", DataTable), ["Id", "Name", "Kind", "MW", "kW used / cap", "PUE", "Power", "Stage"], sites,
              drop_order=("Name", "PUE", "Power"), squeeze=("Name",))
        lots = []
        lot_econ = {e.lot_id: e for e in s.last.kpis.lot_economics} if s.last else {}  # last quarter's, per lot
        for lot in st.lots:
            if lot.status == "closed":
                continue
            if lot.ownership == "owned":
                detail = f"book {fmt_usd(lot.cost_cents - lot.accum_dep_cents)}"
            else:
                detail = f"${lot.lease_usd_per_hour:.2f}/h to {s.quarter_label(lot.lease_end_quarter)}"
            status = lot.status if lot.status != "on_order" else f"arrives {s.quarter_label(lot.arrives_quarter)}"
            econ = lot_econ.get(lot.id)
            money = ["-"] * 4 if econ is None else [
                fmt_usd(econ.revenue_cents), fmt_usd(econ.capital_cost_cents), fmt_usd(econ.other_cost_cents), _money(econ.margin_cents)]
            lots.append([lot.id, lot.gen.upper(), f"{lot.count:,}", lot.ownership, status, lot.site_id or "(lessor)", detail, lot.failed, *money])
        _fill(self.query_one("#lots", DataTable),
              ["Lot", "Gen", "GPUs", "Owned/leased", "Status", "Site", "Book / lease", "Failed", "Revenue", "Dep./lease", "Other cost", "Margin"], lots,
              drop_order=("Failed", "Site", "Other cost", "Book / lease", "Dep./lease", "Status"))
        self._generations()
        by_gen: dict[str, list[int]] = {}
        for lot in st.lots:
            if lot.status == "closed":
                continue
            row = by_gen.setdefault(lot.gen, [0, 0, 0])
            if lot.ownership == "leased":
                row[1] += lot.count if lot.arrives_quarter <= q < lot.lease_end_quarter else 0
            elif lot.status == "active":
                row[0] += lot.count
            else:
                row[2] += lot.count
        per_gen = [f"{g.upper()}: {o:,} owned, {l:,} leased, {n:,} on order" for g, (o, l, n) in by_gen.items()]
        summary = "  ".join(per_gen)
        if len(summary) > self.app.size.width - 4:  # one generation a line rather than "0 on" / "order" at 80 columns
            summary = "\n".join(per_gen)
        it_kw = sum(site_load_kw(st, x.id) for x in st.sites if x.stage != "released")
        cap_kw = sum(x.mw * 1000 for x in st.sites if x.stage == "operating")
        k = s.last.kpis if s.last else None
        util = f" · utilization {k.utilization:.0%}" + (f" sold, {pct(k.spot_filled_share)} spot-filled" if pct(k.spot_filled_share) != "0%" else "") if k else ""
        lines = [summary]
        if st.sites:
            lines.append(f"Power: {it_kw:,.0f} kW of IT load placed in {cap_kw:,.0f} kW of operating sites{util}")
        elif util:
            lines.append(f"Utilization last quarter:{util[len(' · utilization'):]} of replica capacity busy")
        self.query_one("#sites-title").display = bool(st.sites) or s.archetype == "neocloud"
        self.query_one("#sites", DataTable).display = bool(st.sites) or s.archetype == "neocloud"
        inference = s.runs_inference
        self.query_one("#models-section").display = inference and bool(st.inference.deployments)
        self.query_one("#roadmap-section").display = inference
        if inference:
            lines += self._inference_lines(k)
            self._models()
            self._roadmap()
        self.query_one("#fleet-summary", Static).update("\n".join(lines))

    def _generations(self) -> None:
        """Last quarter's revenue, cost of revenue and margin per GPU generation (engine.report.fleet_economics):
        which generation earns its keep once newer ones price it down (KB §3), owned beside leased (KB §20)."""
        s = self.session
        k = s.last.kpis if s.last else None
        rows = []
        if k is not None:
            ops = {g.gen: g for g in k.by_gen}
            gpus: dict[str, list[int]] = {}
            for e in k.lot_economics:
                row = gpus.setdefault(e.gen, [0, 0])
                row[0 if e.ownership == "owned" else 1] += e.gpus
            for e in k.fleet_economics:
                owned, leased = gpus.get(e.gen, [0, 0])
                util = pct(ops[e.gen].utilization) if e.gen in ops else "-"
                gm = e.margin
                name = e.gen.upper() if e.gen else "Idle sites"  # costs no GPU drew: a site with nothing in it
                rows.append([name, f"{owned + leased:,}", f"{owned:,}", f"{leased:,}", util, fmt_usd(e.revenue_cents),
                             fmt_usd(e.cost_cents), _money(e.margin_cents), Text(pct(gm), style="bold" if gm is not None and gm < 0 else "")])
        self.query_one("#gens-title").display = self.query_one("#gens", DataTable).display = bool(rows)
        _fill(self.query_one("#gens", DataTable), ["Gen", "GPUs", "Owned", "Leased", "Util.", "Revenue", "Cost", "Margin", "GM"], rows,
              drop_order=("Owned", "Leased", "Util."))

    def _inference_lines(self, k) -> list[str]:
        """The token pool per generation and, when both lines run, revenue per GPU-hour side by side (KB §2)."""
        from engine.inference import pool_gpus
        from game.app.forms import _pool_line

        st = self.session.state
        out = [_pool_line(self.session, st, g) for g in GPUS if pool_gpus(st, g) > 0 or st.inference.dedicated.get(g)]
        if k is not None:
            rental, tokens = k.revenue_per_gpu_hour_rental, k.revenue_per_gpu_hour_inference
            if rental is not None and tokens is not None:
                better = "inference" if tokens > rental else "rental"
                out.append(f"Revenue per GPU-hour last quarter: rental ${rental:.2f} · managed inference ${tokens:.2f} "
                           f"({better} earns more; every GPU serving tokens is one not rented)")
            elif tokens is not None:
                out.append(f"Revenue per GPU-hour serving tokens last quarter: ${tokens:.2f}")
        return out

    def _models(self) -> None:
        s = self.session
        res = {m.model: m for m in (s.last.inference.models if s.last and s.last.inference else [])}
        rows = []
        for d in s.state.inference.deployments:
            m = res.get(d.model)
            market = s.market_token_price(d.model)
            price = f"${market * (1 + d.price_vs_market):.3f}/${market:.3f}"
            head = [d.model, f"{d.gen.upper()} {d.precision.upper()}", f"{d.replicas} x {d.gpus_per_replica}"]
            if m is None:
                rows.append(head + ["-"] * 7 + [price])
                continue
            ttft = Text(f"{m.p95_ttft_ms:,.0f}" + ("" if m.ttft_sla_met else " ✗"), style="" if m.ttft_sla_met else "bold")
            drop = Text(f"{m.dropped_share:.1%}", style="bold" if m.dropped_share > 0.02 else "")
            gm = m.gross_margin
            rows.append(head + [pct(m.utilization), f"{m.p50_tpot_ms:.0f}/{m.p95_tpot_ms:.0f}", ttft, drop,
                                fmt_usd(to_cents(m.revenue_usd)), fmt_usd(to_cents(m.gpu_cost_usd)),
                                Text(pct(gm), style="bold" if gm is not None and gm < 0 else ""), price])
        _fill(self.query_one("#models", DataTable),
              ["Model", "GPU", "Replicas", "Util", "TPOT ms", "TTFT p95", "Dropped", "Revenue", "GPU cost", "GM", "You/market"],
              rows, drop_order=("TPOT ms", "GPU", "Replicas", "Util", "TTFT p95", "Dropped"))
        # how to fix a TTFT SLA miss (issue 11 item 12), under the table whose ✗ shows it (the advisor's remedy)
        sla = s.game.scenario.rules.inference.ttft_sla_ms
        missed = [m for m in res.values() if not m.ttft_sla_met]
        note = self.query_one("#sla-note", Static)
        note.display = bool(missed)
        note.update("\n".join(
            f"✗ {m.model}: p95 time to first token {m.p95_ttft_ms:,.0f} ms, over the {sla:,.0f} ms SLA (late requests churn "
            f"customers). Fix: more replicas (s: more prefill capacity, {m.replicas} run), or less load at a higher price (v)."
            for m in missed))

    def _roadmap(self) -> None:
        from engine.inference import PREREQUISITES

        s = self.session
        techniques = s.state.inference.techniques
        t = Table(box=None, pad_edge=False)
        for col, just in (("Technique", "left"), ("Status", "left"), ("Cost", "right"), ("Needs", "left")):
            t.add_column(col, justify=just)
        for tech, (quarters, usd) in s.game.scenario.rules.inference.roadmap.items():
            left = techniques.get(tech)
            if left == 0:
                status = Text("done", style="bold")
            elif left is None:
                status = Text("not started", style="italic")
            else:
                status = Text(f"{left} quarter(s) left, live {s.quarter_label(s.state.quarter + left)}")
            t.add_row(tech.replace("_", " "), status, f"{fmt_usd(to_cents(usd))}/q x {quarters}q",
                      ", ".join(p.replace("_", " ") for p in PREREQUISITES.get(tech, ())))
        self.query_one("#roadmap", Static).update(t)


# ------------------------------------------------------------------ 3 Market


class MarketScreen(AreaScreen):
    AREA = "market"
    BINDINGS = SORT_BINDINGS

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(id="market-summary")
            yield DataTable(id="quotes", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="market-charts"):
                yield self._plot("gpu-plot")
                yield self._plot("token-plot")
            yield Label("Competitors this quarter (their prices, from the same market the engine uses)", classes="section-title")
            yield Static(id="competitors")
            yield Label("Demand by product (last quarter, GPU-hours served) and how peaky each segment is", classes="section-title")
            yield DataTable(id="demand-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="demand")

    def _plot(self, id: str):
        from textual_plot import PlotWidget

        return PlotWidget(id=id, allow_pan_and_zoom=False, classes="chart")

    def update_body(self) -> None:
        s = self.session
        obs = s.game.observation()
        m = obs.market
        self.query_one("#market-summary", Static).update(
            f"{m.label}: SOFR {m.sofr:.2%} · spreads IG +{m.spread_ig_bps:.0f} / sub-IG +{m.spread_sub_ig_bps:.0f} bps · "
            f"colo ${m.colo_usd_per_kw_month:.0f}/kW/month · power "
            + ", ".join(f"{k} ${v:.3f}/kWh" for k, v in m.electricity_usd_per_kwh.items())
            + f" · infra multiple {m.infra_revenue_multiple:.1f}x" + (" · POWER MORATORIUM" if m.build_moratorium else "")
        )
        rows = []
        for g, q in m.gpus.items():
            rows.append([g.upper(), "yes" if q.available else "not yet", f"${q.list_price_usd:,.0f}", f"${q.on_demand_usd_per_hour:.2f}",
                         " / ".join(f"${q.reserved_usd_per_hour[t]:.2f}" for t in sorted(q.reserved_usd_per_hour)),
                         f"${q.spot_usd_per_hour:.2f}", f"${q.lease_usd_per_hour:.2f}", f"${q.secondary_usd:,.0f}",
                         f"{q.allocation_limit:,}", f"{q.lead_time_quarters}q"])
        _fill(self.query_one("#quotes", DataTable),
              ["GPU", "Orderable", "List", "On-demand/h", "Reserved 4/8/12q", "Spot", "Lease", "Used", "Allocation", "Lead"], rows,
              drop_order=("Reserved 4/8/12q", "Orderable", "Lead", "List"))
        views = [r.market for r in s.reports] + [m]
        xs = list(range(len(views)))
        colors = self._colors()
        since = f"quarter since {views[0].label}"
        gpu_series = []
        for i, g in enumerate(m.gpus):
            pts = [(x, v.gpus[g].on_demand_usd_per_hour) for x, v in zip(xs, views) if g in v.gpus and v.gpus[g].available]
            gpu_series.append((g.upper(), [p[0] for p in pts], [p[1] for p in pts], colors[i % len(colors)]))
        plot_series(self.query_one("#gpu-plot"), gpu_series, since, "$/GPU-hour")
        token_series = [(tier, xs, [v.token_usd_per_m.get(tier, 0.0) for v in views], colors[i % len(colors)])
                        for i, tier in enumerate(m.token_usd_per_m)]
        plot_series(self.query_one("#token-plot"), token_series, since, "$/M tokens")
        self.query_one("#demand", Static).update(self._demand())
        lines = []
        for c in competitors(s.game.world.quarter(m.quarter), s.game.scenario.rules.inference):
            prices = ", ".join(f"{k.split(' ')[0]} ${v:,.2f}" if "$/h" in k else f"{k.split(' ')[0]} ${v:,.3f}/M" for k, v in c.prices.items())
            lines.append(f"{c.name}: {c.what}. {prices}")
        self.query_one("#competitors", Static).update("\n".join(lines))

    def _colors(self) -> list[str]:
        v = self.app.get_css_variables()
        return [v.get(k, "") or "white" for k in ("primary", "accent", "success", "warning", "error", "secondary")]

    def _demand(self):
        """GPU-hours served per generation and product, what was turned away, and your rate vs the market's: a
        table of priority columns (at 80 columns batch and backlog go first), then how peaky each segment is."""
        last = self.session.last
        table = self.query_one("#demand-table", DataTable)
        table.display = last is not None
        if last is None:
            return "Demand shows after the first quarter: what you served, what you turned away, and how segments pool."
        rows = []
        for g in last.kpis.by_gen:
            h = g.served_gpu_hours
            rows.append([g.gen.upper(), *(hours(h.get(k, 0)) for k in ("reserved", "on_demand", "batch", "spot")),
                         hours(g.lost_gpu_hours), hours(g.batch_backlog_gpu_hours), f"{g.price_usd_per_hour:.2f}", f"{g.market_usd_per_hour:.2f}"])
        _fill(table, ["Gen", "Reserved", "On-demand", "Batch", "Spot", "Turned away", "Backlog", "Your $/h", "Market $/h"], rows,
              drop_order=("Backlog", "Batch", "Spot"))
        ptm = last.kpis.peak_to_mean
        return Text("Peak-to-mean: " + ", ".join(f"{k} {v:.2f}" for k, v in ptm.items()) + "  (pooling segments lowers the peak you must build for)")


class InferenceMarketScreen(MarketScreen):
    """Key 3 for an inference platform: the token market it sells into (issue 11 item 8), not GPU allocations.

    Token prices per model vs the market, the GPU-hour rates it rents at, competitors, and demand by
    customer segment with how much of each it keeps (engine.inference state: retention, customer base)."""

    AREA = "market"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(id="market-summary")
            yield Label("Token prices, $ per M output tokens (v to set yours); last quarter's service", classes="section-title")
            yield DataTable(id="token-prices", cursor_type="row", zebra_stripes=True)
            yield Label("Demand by customer segment: what each wants and how much of it you keep", classes="section-title")
            yield DataTable(id="segments", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="market-charts"):
                yield self._plot("token-plot")
                yield self._plot("gpu-plot")
            yield Label("Competitors this quarter (their prices, from the same market the engine uses)", classes="section-title")
            yield Static(id="competitors")

    def update_body(self) -> None:
        from engine.models import MODEL_ORDER

        s = self.session
        m = s.game.observation().market
        rules = s.game.scenario.rules.inference
        wq = s.world_quarter()
        live = {g: q for g, q in m.gpus.items() if q.available}
        self.query_one("#market-summary", Static).update(
            f"{m.label}: GPU-hours to rent on demand (what your replicas run on): "
            + ", ".join(f"{g.upper()} ${q.on_demand_usd_per_hour:.2f}" for g, q in live.items())
            + f" · SOFR {m.sofr:.2%}"
        )
        last = s.last.inference if s.last else None
        served = {r.model: r for r in (last.models if last else [])}
        deployed = {d.model: d for d in s.state.inference.deployments}
        traded = [x for x in MODEL_ORDER if any(x in tr.model_mix for tr in rules.traffic)]
        tiers = {model: tier for tier, model in s.game.world.params.token_tier_models.items()}
        rows = []
        for model in traded:
            market = s.market_token_price(model)
            d = deployed.get(model)
            r = served.get(model)
            yours = f"${market * (1 + d.price_vs_market):.3f}" if d else "-"
            vs = f"{d.price_vs_market:+.0%}" if d else "not served"
            tokens = f"{(r.tokens_out + r.tokens_in) / 1e12:,.2f}T" if r else "-"
            drop = Text(f"{r.dropped_share:.1%}", style="bold" if r.dropped_share > 0.02 else "") if r else "-"
            rev = fmt_usd(to_cents(r.revenue_usd)) if r else "-"
            rows.append([model, f"${market:.3f}", yours, vs, tokens, drop, rev, tiers.get(model, "")])
        _fill(self.query_one("#token-prices", DataTable),
              ["Model", "Market", "Yours", "vs market", "Tokens last qtr", "Dropped", "Revenue", "Tier"], rows, drop_order=("Tier", "Tokens last qtr"))
        segs = {p.id: p for p in s.game.world.params.segments}
        inf = s.state.inference
        seg_rows = []
        for tr in rules.traffic:
            seg = segs.get(tr.segment)
            if seg is None:
                continue
            wants = ", ".join(f"{k.replace('llama-3.1-', '')} {v:.0%}" for k, v in tr.model_mix.items() if v > 0)
            kept = [inf.customer_base.get(f"{x}/{tr.segment}", 1.0) for x in deployed if tr.model_mix.get(x, 0) > 0]
            share = f"{min(kept):.0%}-{max(kept):.0%}" if len(kept) > 1 and min(kept) != max(kept) else (f"{kept[0]:.0%}" if kept else "none served")
            # how demand answers price (issue 11 item 12): the share the engine moves toward at 10% under / over the market
            cut, rise = (demand_share(r, 1.0, seg.elasticity, MAX_TOKEN_SHARE_GAIN) - 1 for r in (0.9, 1.1))
            seg_rows.append([seg.name, "real-time" if seg.latency_sensitive else "batch", f"{tr.prompt_tokens:,}/{tr.output_tokens:,}",
                             f"{tr.cached_share:.0%}", f"{seg.elasticity:.1f}", f"{cut:+.0%} / {rise:+.0%}",
                             f"{inf.retention.get(tr.segment, 1.0):.0%}", share, wants])
        _fill(self.query_one("#segments", DataTable),
              ["Segment", "Kind", "Prompt/out tok", "Cached", "Elasticity", "-10%/+10% price", "Retention", "Price share", "Models wanted"], seg_rows,
              drop_order=("Prompt/out tok", "Cached", "Kind", "Models wanted", "Elasticity"), squeeze=("Models wanted",))
        views = [r.market for r in s.reports] + [m]
        xs = list(range(len(views)))
        colors = self._colors()
        since = f"quarter since {views[0].label}"
        plot_series(self.query_one("#token-plot"), [(tier, xs, [v.token_usd_per_m.get(tier, 0.0) for v in views], colors[i % len(colors)])
                                                    for i, tier in enumerate(m.token_usd_per_m)], since, "$/M tokens")
        gpu_series = []
        for i, g in enumerate(live):
            pts = [(x, v.gpus[g].on_demand_usd_per_hour) for x, v in zip(xs, views) if g in v.gpus and v.gpus[g].available]
            gpu_series.append((g.upper(), [p[0] for p in pts], [p[1] for p in pts], colors[i % len(colors)]))
        plot_series(self.query_one("#gpu-plot"), gpu_series, since, "$/GPU-hour to rent")
        lines = []
        for c in competitors(wq, rules):
            if c.name == "Spot marketplaces":
                continue
            prices = ", ".join(f"{k.split(' ')[0]} ${v:,.2f}/h" if "$/h" in k else f"{k.split(' ')[0]} ${v:,.3f}/M" for k, v in c.prices.items())
            lines.append(f"{c.name}: {c.what}. {prices}")
        lines.append("Price share: the share of a segment's buyers you keep at your price vs the market's (elasticity, KB §1); "
                     "-10%/+10% price: where that share heads if you price 10% under or over the market (rivals match a cut, "
                     "not a rise; customers move over a few quarters); retention: what SLA misses have not yet driven away.")
        self.query_one("#competitors", Static).update("\n".join(lines))


# ------------------------------------------------------------------ 4 Contracts


class ContractsScreen(AreaScreen):
    AREA = "contracts"
    BINDINGS = SORT_BINDINGS

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Label("Offers this quarter (k to sign)", classes="section-title")
            yield DataTable(id="offers", cursor_type="row", zebra_stripes=True)
            yield Label("Active contracts, marked to market", classes="section-title")
            yield DataTable(id="active", cursor_type="row", zebra_stripes=True)
            yield Static(id="contracts-note", classes="muted")

    def update_body(self) -> None:
        s = self.session
        st = s.state
        base = s.preview()
        base_cap = s.term_capacity(base.state)
        rows = []
        planned = {a.get("offer_id") for a in s.plan if a.get("kind") == "sign_contract"}
        why_zero = ""  # why a signable offer adds no debt capacity (issue 11 item 12), under the table
        for o in st.offers.contracts:
            per_q = to_cents(o.gpus * o.usd_per_gpu_hour * TICKS_PER_QUARTER)
            if o.id in planned:  # signed in the plan: say so, not the engine's refusal to sign it twice (issue 11, item 5)
                last = Text("signed in your plan", style="bold")
            else:
                after = s.preview({"kind": "sign_contract", "offer_id": o.id})
                ok = after.results[-1].ok
                added = s.term_capacity(after.state) - base_cap if ok else 0
                if ok and added <= 0 and not why_zero:
                    why_zero = f" Debt capacity + is $0 now because {s.why_no_debt_capacity(after.state)}."
                last = fmt_usd(max(0, added)) if ok else Text(_short(after.results[-1].message.removeprefix(f"{o.customer} ")), style="italic")  # the reason, not the name again
            rows.append([o.id, o.customer, o.segment, o.gen.upper(), f"{o.gpus:,}", f"{o.term_quarters}q", f"${o.usd_per_gpu_hour:.2f}",
                         o.grade, fmt_usd(per_q), last])
        _fill(self.query_one("#offers", DataTable),
              ["Id", "Customer", "Segment", "Gen", "GPUs", "Term", "$/GPU-h", "Grade", "Revenue/qtr", "Debt capacity +"], rows,
              drop_order=("Segment", "Id", "Customer"), squeeze=("Customer",))
        m = s.game.observation().market
        act = []
        total = 0
        for c in st.contracts:
            if c.status != "active" or c.end_quarter <= st.quarter:
                continue
            if c.gen not in m.gpus:
                continue
            mtm, mkt, term, left = contract_mtm(c, m, st.quarter)
            total += mtm
            act.append([c.id, c.customer, c.gen.upper(), f"{c.gpus:,}", f"${c.usd_per_gpu_hour:.2f}", f"${mkt:.2f} ({term}q)",
                        f"{left}q to {s.quarter_label(c.end_quarter)}", c.grade, fmt_usd(mtm)])
        _fill(self.query_one("#active", DataTable),
              ["Id", "Customer", "Gen", "GPUs", "Fixed $/h", "Market reserved", "Remaining", "Grade", "Mark-to-market"], act,
              drop_order=("Id", "Grade", "Customer"), squeeze=("Customer",))
        self.query_one("#contracts-note", Static).update(
            f"Mark-to-market: a contract is a fixed-for-floating swap on the GPU-hour price: (fixed - today's reserved rate) x GPUs x hours left. "
            f"Total {fmt_usd(total)}. Debt capacity +: what a term lender's offer grows by if you sign (engine.lenders).{why_zero}"
        )


# ------------------------------------------------------------------ 5 Finance


class FinanceScreen(AreaScreen):
    AREA = "finance"
    BINDINGS = [
        # one footer key for the pair: "[ Prev qtr  ] Next qtr" pushed Save and Quit off an 80-column footer
        Binding("left_square_bracket", "quarter(-1)", "Qtr", key_display="[ ]", id="finance.prev",
                tooltip="[ the statements of the previous quarter, ] of the next"),
        Binding("right_square_bracket", "quarter(1)", "Next qtr", show=False, id="finance.next", tooltip="Statements of the next quarter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.index: int | None = None  # which past report; None = the latest

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(id="fin-title", classes="section-title")
            with Horizontal(id="statements"):
                yield Static(id="income", classes="statement")
                yield Static(id="balance", classes="statement")
                yield Static(id="cashflow", classes="statement")
            yield Label("Debt facilities and covenant", classes="section-title")
            yield Static(id="debt")
            yield Label("Cap table", classes="section-title")
            yield Static(id="captable")
            yield Label("Lender and investor offers", classes="section-title")
            yield Static(id="fin-offers")

    def action_quarter(self, step: int) -> None:
        n = len(self.session.reports)
        if not n:
            self.notify("statements appear after the first quarter", severity="warning")
            return
        i = n - 1 if self.index is None else self.index
        if not 0 <= i + step < n:  # a key at the end of the pages says so instead of doing nothing (issue 11, item 6)
            self.notify("this is the first quarter's statement" if step < 0 else "this is the latest quarter's statement",
                        severity="warning")
            return
        self.index = i + step
        self.update_body()

    def update_body(self) -> None:
        s = self.session
        reps = s.reports
        if reps:
            i = len(reps) - 1 if self.index is None else min(self.index, len(reps) - 1)
            r = reps[i]
            self.query_one("#fin-title", Static).update(Text(f"Statements for {r.label} ({i + 1} of {len(reps)}; [ and ] to page)"))
            self.query_one("#income", Static).update(self._stmt("Income statement", income_statement_lines(r.income)))
            b = r.balance
            self.query_one("#balance", Static).update(self._stmt("Balance sheet", [
                ("Cash", b.cash, 1), ("GPU deposits", b.gpu_deposits, 1), ("GPUs (net)", b.gpu_net, 1), ("Sites in build", b.sites_cip, 1),
                ("Sites (net)", b.sites_net, 1), ("Right-of-use (leases)", b.rou_assets, 1), ("Total assets", b.total_assets, 0),
                ("Debt", b.debt, 1), ("Lease liabilities", b.lease_liabilities, 1), ("Total liabilities", b.total_liabilities, 0),
                ("Paid-in capital", b.paid_in_capital, 1), ("Retained earnings", b.retained_earnings, 1), ("Total equity", b.total_equity, 0)]))
            self.query_one("#cashflow", Static).update(self._stmt("Cash flow", cash_flow_lines(r.cash_flow)))
        else:
            self.query_one("#fin-title", Static).update("Statements appear after the first quarter.")
            for w in ("#income", "#balance", "#cashflow"):
                self.query_one(w, Static).update("")
        st = s.state
        t = Table(box=None, pad_edge=False)
        for col in ("Loan", "Lender", "Kind", "Balance", "Spread", "Tenor", "Principal/qtr", "Started"):
            # one line a loan: at 80 columns only the lender's name gives way, cut (…) rather than wrapped over three lines
            t.add_column(col, justify="left" if col in ("Loan", "Lender", "Kind") else "right", no_wrap=col != "Lender")
        for loan in st.loans:
            if loan.balance_cents <= 0:
                continue
            t.add_row(loan.id, Text(loan.lender, no_wrap=True, overflow="ellipsis"), loan.kind, fmt_usd(loan.balance_cents), f"+{loan.spread_bps:.0f}bps", f"{loan.tenor_quarters}q",
                      fmt_usd(loan.scheduled_principal_cents), s.quarter_label(loan.start_quarter))
        k = s.last.kpis if s.last else None
        if k is not None and k.dscr is not None:
            cov = (f"Covenant: trailing DSCR {k.dscr:.2f}x vs lock-up {k.dscr_lockup:.2f}x (headroom {k.dscr - k.dscr_lockup:+.2f}x) "
                   f"and default {k.dscr_default:.2f}x · status {k.covenant}")
        else:
            cov = f"Covenant: status {st.covenant}; tested quarterly on trailing four quarters once you carry debt service."
        from rich.console import Group

        self.query_one("#debt", Static).update(Group(t, Text(cov)))
        # cap table: issued shares, plus warrants by the treasury-stock method at the score's share price
        value = s.last.score.equity_value_cents if s.last else 0
        basic = equity.basic_shares(st.cap_table) or 1
        price = value / basic
        diluted = equity.diluted_shares(st.cap_table, value) or 1
        ct = Table(box=None, pad_edge=False)
        for col in ("Holder", "Round", "Shares", "Ownership", "Diluted"):
            ct.add_column(col, justify="left" if col in ("Holder", "Round") else "right")
        for h in st.cap_table:
            when = f" {s.quarter_label(h.quarter)}" if h.quarter is not None else ""
            if h.kind == "warrants":
                tsm = equity.treasury_stock_shares(h.shares, h.strike_cents, price)
                ct.add_row(h.name, f"{h.round or 'warrants'}{when}", f"{h.shares:,} @ {fmt_usd(h.strike_cents)}", "-", f"{tsm / diluted:.1%}")
            else:
                ct.add_row(h.name, f"{h.round}{when}" if h.round else h.kind, f"{h.shares:,}", f"{h.shares / basic:.1%}", f"{h.shares / diluted:.1%}")
        rounds = [f"{s.quarter_label(r.quarter)} {r.round}{' (DOWN ROUND)' if r.down_round else ''}: {fmt_usd(r.amount_cents)} at "
                  f"{fmt_usd(r.pre_money_cents)} pre / {fmt_usd(r.post_money_cents)} post" for r in st.rounds]
        note = f"Share price {fmt_usd(round(price))} (equity value / issued shares); warrants dilute only in the money (treasury-stock method)."
        self.query_one("#captable", Static).update(Group(ct, Text("\n".join([*rounds, note]))))
        offers = [f"Loan {o.id}: {o.lender} ({o.kind}) up to {fmt_usd(o.max_cents)} at SOFR+{o.spread_bps:.0f}bps for {o.tenor_quarters}q. {o.basis}"
                  for o in st.offers.loans]
        offers += [f"Equity {o.id}: {o.investor} ({o.round}{', a DOWN ROUND' if o.down_round else ''}) up to {fmt_usd(o.max_cents)} at "
                   f"{fmt_usd(o.pre_money_cents)} pre-money; investors at this stage expect {o.cost_of_equity:.0%} a year. {o.basis}"
                   for o in st.offers.equity]
        self.query_one("#fin-offers", Static).update("\n".join(offers) or "No lender or investor offers this quarter.")

    @staticmethod
    def _stmt(title: str, rows: list[tuple[str, int, int]]) -> Table:
        """Totals bold, items indented under them; a label is cut with an ellipsis, never wrapped mid-word."""
        t = Table(title=title, box=None, pad_edge=False, expand=True, title_style="bold")
        t.add_column("", no_wrap=True, overflow="ellipsis", ratio=1)
        t.add_column("", justify="right", no_wrap=True)
        for name, cents, depth in rows:
            label = Text("  " * depth + name, style="bold" if depth == 0 else "", no_wrap=True, overflow="ellipsis")
            t.add_row(label, fmt_usd(cents))
        return t


# ------------------------------------------------------------------ 6 News


class NewsScreen(AreaScreen):
    AREA = "news"
    AUTO_FOCUS = "#news-scroll"
    BINDINGS = [Binding("slash", "search", "Find", id="news.search", tooltip="Search every event so far")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Input(placeholder="search every event so far (/ to focus, enter to finish)", id="news-search", compact=True)
            with VerticalScroll(id="news-scroll"):
                yield Static(id="news")

    def on_mount(self) -> None:
        self.query_one("#news-search", Input).cursor_blink = self.app.cursor_blink  # type: ignore[attr-defined]
        super().on_mount()

    def action_search(self) -> None:
        self.query_one("#news-search", Input).focus()

    @on(Input.Submitted, "#news-search")
    def _done(self) -> None:
        self.query_one("#news-scroll").focus()

    @on(Input.Changed, "#news-search")
    def _search(self) -> None:
        self.update_body()

    def update_body(self) -> None:
        query = self.query_one("#news-search", Input).value.strip().lower()
        t = Text()
        n = 0
        reps = self.session.reports
        for i in range(len(reps) - 1, -1, -1):
            r = reps[i]
            shown = news_to_show(r, reps[i - 1] if i else None)
            items = [("warning", "Warning", w) for w in r.warnings] + [(x.kind, x.title, x.text) for x in shown]
            for kind, title, text in items:
                if query and query not in f"{title} {text} {r.label} {kind}".lower():
                    continue
                n += 1
                t.append(f"{r.label} ", style="bold")
                t.append(f"[{kind}] ", style="italic")
                t.append(f"{title}: ", style="bold")
                t.append(f"{text}\n")
        if not n:
            t.append("No news yet: events appear after each quarter." if not query else f"No event matches {query!r}.")
        self.query_one("#news", Static).update(t)
