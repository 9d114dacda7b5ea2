"""The end of the game: score breakdown, verdict, charts of the whole game, the decisions that mattered."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual import on
from textual.widgets import Button, Footer, Header, Label, Static

from engine.money import fmt_usd
from textual_plot import HiResMode


def key_decisions(session) -> list:
    """engine.debrief.key_decisions(reports, log, scenario), top three."""
    from engine.debrief import key_decisions as kd

    try:
        return list(kd(session.reports, session.game.log, session.game.scenario))[:3]
    except Exception:  # the debrief must open even if the analysis fails
        return []


class DebriefScreen(Screen):
    AREA = "debrief"
    BINDINGS = [
        Binding("s", "add_to_leaderboard", "Add to leaderboard", id="debrief.add", tooltip="Verify the run and add it to the local leaderboard"),
        Binding("l", "app.leaderboard", "Leaderboard", show=False, id="debrief.leaderboard", tooltip="The local leaderboard of this scenario and seed"),
        Binding("u", "submit_to_server", "Submit to class server", id="debrief.submit",
                tooltip="Send the run to the class's server (the competition file's server, or $TYCOON_SERVER)"),
        Binding("escape", "close", "Back", id="debrief.close", tooltip="Back to the game screens"),
    ]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        from textual_plot import PlotWidget

        yield Header()
        with VerticalScroll(id="debrief"):
            yield Static(self._verdict(), id="verdict-box")
            with Horizontal(id="debrief-board"):
                yield Button("Add to leaderboard (s)", id="add-board", compact=True)
                yield Static("l shows the local leaderboard of this scenario and seed", id="board-result", classes="muted")
            with Horizontal(id="debrief-charts"):
                yield PlotWidget(id="plot-money", allow_pan_and_zoom=False, classes="chart")
                yield PlotWidget(id="plot-ratios", allow_pan_and_zoom=False, classes="chart")
            yield Label("The three decisions that mattered most", classes="section-title")
            yield Static(self._decisions(), id="decisions")
            yield Label("The lesson of this scenario", classes="section-title")
            yield Static(self._lesson(), id="lesson")
        yield Footer()

    def on_mount(self) -> None:
        reps = self.session.reports
        xs = list(range(1, len(reps) + 1))
        v = self.app.get_css_variables()
        c = [v.get(k, "") or "white" for k in ("primary", "accent", "success", "warning")]
        money = self.query_one("#plot-money")
        money.plot(xs, [r.balance.cash / 1e8 for r in reps], line_style=c[0], hires_mode=HiResMode.BRAILLE, label="cash $M")
        money.plot(xs, [r.income.revenue / 1e8 for r in reps], line_style=c[1], hires_mode=HiResMode.BRAILLE, label="revenue $M")
        money.plot(xs, [r.balance.debt / 1e8 for r in reps], line_style=c[3], hires_mode=HiResMode.BRAILLE, label="debt $M")
        money.set_xlabel("quarter")
        money.show_legend()
        ratios = self.query_one("#plot-ratios")
        ratios.plot(xs, [r.kpis.utilization for r in reps], line_style=c[0], hires_mode=HiResMode.BRAILLE, label="utilization")
        ratios.plot(xs, [r.kpis.contracted_share for r in reps], line_style=c[1], hires_mode=HiResMode.BRAILLE, label="contracted share")
        ratios.plot(xs, [max(-1.0, min(3.0, r.kpis.dscr or 0.0)) for r in reps], line_style=c[2], hires_mode=HiResMode.BRAILLE, label="DSCR (capped 3x)")
        ratios.set_xlabel("quarter")
        ratios.show_legend()

    def _lesson(self) -> Text:
        """The scenario's lesson, named when its situation happened in this game (engine.debrief)."""
        from engine.debrief import scenario_lesson

        sc = self.session.game.scenario
        lesson = scenario_lesson(self.session.reports, sc)
        if lesson is None:
            return Text(f"{sc.lesson}\nThe situation it teaches did not come up in this game: try another seed or other moves.", style="italic")
        text = Text(lesson.text + "\n", style="bold")
        if not lesson.shown:
            text.append("The situation came, but your results do not show this lesson:\n", style="italic")
        text.append(lesson.evidence)
        return text

    def _verdict(self) -> Group:
        s = self.session
        last = s.last
        if last is None:
            return Group(Text("No quarter played."))
        sc = last.score
        head = Text(f"{sc.verdict}\n", style="bold")
        head.append(f"{sc.verdict_text}\n", style="")
        if s.state.end_reason and s.state.end_reason not in sc.verdict_text:
            head.append(f"{s.state.end_reason}\n", style="italic")
        from engine.debrief import verdict

        v = verdict(s.reports)
        head.append(f"{v.margins}\n")
        t = Table(box=None, pad_edge=False, show_header=False, title="Score breakdown", title_style="bold", title_justify="left")
        t.add_column("")
        t.add_column("", justify="right")
        rows = v.bridge + [("Founders' stake at the start", fmt_usd(sc.start_value_cents))]
        for a, b in rows:
            t.add_row(a, b)
        return Group(head, t)

    def _decisions(self) -> Group:
        ds = key_decisions(self.session)
        if not ds:
            return Group(Text("The decision analysis is not available in this build."))
        out = []
        for i, d in enumerate(ds, 1):
            label = getattr(d, "quarter", "") or getattr(d, "label", "")
            t = Text(f"{i}. {label} · {getattr(d, 'title', '')}\n", style="bold")
            t.append(f"{getattr(d, 'text', '')}\n")
            impact = getattr(d, "impact", None)
            if impact not in (None, ""):
                t.append(f"Impact: {fmt_usd(impact) if isinstance(impact, int) else impact}\n", style="italic")
            out.append(t)
        return Group(*out)

    @on(Button.Pressed, "#add-board")
    def action_add_to_leaderboard(self) -> None:
        """Verify and store the run (game.leaderboard.add_runs), then show the board with it."""
        from game.app.screens.leaderboard import LeaderboardScreen
        from game.errors import UserError

        try:
            added, message, entry_id = self.session.add_to_leaderboard()
        except UserError as exc:
            added, message, entry_id = False, f"Not added: {exc}", None
        result = self.query_one("#board-result", Static)
        result.update(message)
        result.set_class(added, "good")
        result.set_class(not added, "warn")
        if added:
            self.query_one("#add-board", Button).disabled = True
        self.app.push_screen(LeaderboardScreen(self.session, message, entry_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit_to_server":  # offered only when a class server is named
            from game.classroom.client import class_server

            return class_server(self.session.competition) is not None
        return True

    def action_submit_to_server(self) -> None:
        """Save the run and submit it to the class server (game.classroom.client), off the UI thread."""
        from game.classroom.client import class_server, describe, submit_bytes
        from game.errors import UserError

        target = class_server(self.session.competition)
        if target is None:
            return
        result = self.query_one("#board-result", Static)
        result.update(f"Submitting to {target[0]} ...")
        body = self.session.save().read_bytes()

        def send() -> None:
            try:
                ok, line = describe(submit_bytes(target[0], body, target[1]))
            except UserError as exc:
                ok, line = False, str(exc)
            self.app.call_from_thread(self._submitted, ok, line)

        self.run_worker(send, thread=True, exclusive=True, group="class-server")

    def _submitted(self, ok: bool, line: str) -> None:
        result = self.query_one("#board-result", Static)
        result.update(f"Class server: {line}")
        result.set_class(ok, "good")
        result.set_class(not ok, "warn")

    def action_close(self) -> None:
        self.app.pop_screen()
