"""The quarter report: what happened, KPIs with changes, events, covenant, new offers."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from engine.money import fmt_usd
from engine.step import news_to_show
from game.app.widgets.common import StyledOnMount, pct


def _chg(now, before, fmt) -> str:
    if now is None:
        return "-"
    if before is None:
        return fmt(now)
    return f"{fmt(now)} (was {fmt(before)})"


class QuarterReportScreen(StyledOnMount, ModalScreen[None]):
    BINDINGS = [Binding("enter,escape", "close", "Continue", id="report.close", tooltip="Back to the game")]

    def __init__(self, session, report) -> None:
        super().__init__()
        self.session = session
        self.report = report

    def compose(self) -> ComposeResult:
        r = self.report
        with Vertical(classes="dialog", id="report"):
            yield Label(f"Quarter report · {r.label}", classes="dialog-title")
            with VerticalScroll():
                yield Static(self._body(self.app.size.width))
            yield Static("enter or escape: continue", classes="muted")

    def _body(self, width: int = 120) -> Group:
        """The report's text for a terminal ``width`` wide (the replay's timeline calls it with its own session)."""
        r = self.report
        reps = self.session.reports
        i = next((n for n, x in enumerate(reps) if x is r), len(reps) - 1)
        p = reps[i - 1] if i > 0 else None
        k, pk = r.kpis, (p.kpis if p else None)
        x2 = lambda x: f"{x:.2f}x"  # noqa: E731
        usd = fmt_usd
        narrow = width < 100  # 80 columns: one KPI a row, so "$117.53M (was $119.36M)" never wraps
        t = Table(box=None, pad_edge=False, show_header=False)
        for _ in range(1 if narrow else 2):
            t.add_column("KPI", style="bold")
            t.add_column("Value", no_wrap=narrow)
        rows = [
            ("Revenue", _chg(r.income.revenue, p.income.revenue if p else None, usd)),
            ("EBITDA", _chg(r.income.ebitda, p.income.ebitda if p else None, usd)),
            ("Net income", _chg(r.income.net_income, p.income.net_income if p else None, usd)),
            ("Cash", _chg(r.balance.cash, r.cash_flow.cash_begin, usd)),
            ("Gross margin", _chg(k.gross_margin, pk.gross_margin if pk else None, pct)),
            ("Utilization", _chg(k.utilization, pk.utilization if pk else None, pct)),
            ("Contracted share", _chg(k.contracted_share, pk.contracted_share if pk else None, pct)),
            ("DSCR (T4Q)", _chg(k.dscr, pk.dscr if pk else None, x2)),
            ("Runway", "cash-flow positive" if k.runway_quarters is None else f"{k.runway_quarters:.1f} quarters"),
            ("Score", _chg(r.score.score_cents, p.score.score_cents if p else None, usd)),
        ]
        if self.session.archetype == "inference":  # a token platform signs no rental contracts: retention instead
            ndr = k.net_dollar_retention
            rows[6] = ("Net $ retention", "after five quarters" if ndr is None else _chg(ndr, pk.net_dollar_retention if pk else None, pct))
        inf, pinf = r.inference, (p.inference if p else None)
        if inf is not None:  # managed inference: what the catalog served and what a token cost
            tokens = lambda x: f"{x / 1e12:,.2f}T tokens"  # noqa: E731
            per_m = lambda x: f"${x:.3f}"  # noqa: E731
            rows += [
                ("Tokens served", _chg(inf.tokens_in + inf.tokens_out, (pinf.tokens_in + pinf.tokens_out) if pinf else None, tokens)),
                ("Cost / M tokens", _chg(inf.cost_per_m_tokens, pinf.cost_per_m_tokens if pinf else None, per_m)),
                ("Token revenue", _chg(round(inf.revenue_usd * 100), round(pinf.revenue_usd * 100) if pinf else None, usd)),
                ("Churned revenue", usd(round(inf.churned_revenue_usd * 100))),
            ]
            if k.revenue_per_gpu_hour_rental is not None and k.revenue_per_gpu_hour_inference is not None:
                rows.append(("Revenue / GPU-hour", f"rental ${k.revenue_per_gpu_hour_rental:.2f} · tokens ${k.revenue_per_gpu_hour_inference:.2f}"))
            if len(rows) % 2:
                rows.append(("", ""))
        if narrow:
            for a in rows:
                if a[0]:
                    t.add_row(a[0], a[1])
        else:
            for a, b in zip(rows[0::2], rows[1::2]):
                t.add_row(a[0], a[1], b[0], b[1])
        out: list = [t, Text("")]
        cov = f"Covenant: {k.covenant}"
        if k.dscr is not None:
            cov += f" · DSCR {k.dscr:.2f}x vs lock-up {k.dscr_lockup:.2f}x, default {k.dscr_default:.2f}x"
        out.append(Text(cov, style="bold"))
        if inf is not None and inf.models:
            per_model = ", ".join(
                f"{m.model} {m.utilization:.0%} busy, {m.dropped_share:.1%} dropped" + ("" if m.ttft_sla_met else ", TTFT SLA missed")
                for m in inf.models)
            out.append(Text(f"Models: {per_model}"))
        if r.actions:
            out.append(Text("\nYour actions", style="bold"))
            for a in r.actions:
                out.append(Text(f" {'✓' if a.ok else '✗'} {a.message}"))
        if r.warnings:
            out.append(Text("\nWarnings", style="bold"))
            for w in r.warnings:
                out.append(Text(f" ! {w}"))
        shown = news_to_show(r, p)
        if shown:
            out.append(Text("\nEvents", style="bold"))
            for n in shown:
                out.append(Text(f" • {n.title}: {n.text}"))
        o = r.offers
        out.append(Text("\nNew offers for next quarter", style="bold"))
        lines = [f" contract {c.customer}: {c.gpus:,} {c.gen.upper()} for {c.term_quarters}q at ${c.usd_per_gpu_hour:.2f}/h ({c.grade})" for c in o.contracts]
        lines += [f" loan {l.lender}: up to {fmt_usd(l.max_cents)} at SOFR+{l.spread_bps:.0f}bps" for l in o.loans]
        lines += [f" equity {e.investor} ({e.round}): up to {fmt_usd(e.max_cents)}" for e in o.equity]
        out.append(Text("\n".join(lines) or " none"))
        if r.game_over:
            out.append(Text(f"\nGame over: {r.end_reason}", style="bold"))
        return Group(*out)

    def action_close(self) -> None:
        self.dismiss(None)
