"""Replay mode (issue 14): the timeline of a run, what was decided each quarter and what came of it,
the ghost of another run beside it, and ``b`` to take over from the start of a quarter.

The app keeps the ``game.replay.Replay`` (every quarter's state, re-simulated once at open) in
``app.replay`` and the selected quarter in ``app.replay_index``; ``app.session`` is a read-only
``Session`` over the game as at the start of that quarter, so the six area screens show it
unchanged (the app refuses every decision in replay mode). Seeking swaps cached views: nothing
is simulated again.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, RichLog, Static

from engine.money import fmt_usd
from game.app.widgets.common import AreaTabs


def _session_at(app, i: int):
    """The read-only session of quarter ``i`` (cached on the app: one per quarter visited)."""
    from game.app.session import Session

    cache = app.__dict__.setdefault("_replay_sessions", {})
    s = cache.get(i)
    if s is None:
        rep = app.replay
        s = Session(game=rep.game_at(i), loaded=rep.loaded, player=rep.name,
                    save_dir=Path(app.save_dir) if app.save_dir else Path("."))
        s.save_path = None
        cache[i] = s
    return s


def begin_replay(app) -> None:
    """Open replay mode: the area screens as modes, plus the timeline (key 0) shown first."""
    app.session = _session_at(app, app.replay_index)
    app.install_areas(app.session.archetype, fresh=False)  # an inference run replays on its own Market screen
    if "replay" not in app._modes:
        app.add_mode("replay", ReplayScreen)
    app.update_titles()
    app.switch_mode("replay")


def replay_subtitle(app) -> str:
    rep, i = app.replay, app.replay_index
    return f"replay · quarter {i + 1} of {rep.quarters} · {rep.label(i)} · {rep.name}"


def seek(app, index: int) -> None:
    """Show quarter ``index`` (clamped to the run): swap in its cached view and redraw the screen on top."""
    rep = app.replay
    if rep is None or not rep.quarters:
        return
    index = max(0, min(rep.quarters - 1, index))
    if index == app.replay_index and app.session is not None:
        return
    app.replay_index = index
    app.session = _session_at(app, index)
    with app.batch_update():  # one repaint for the title, the timeline and the panels
        app.update_titles()  # not refresh_area: the bindings do not change along a replay, and a footer rebuild costs ~40 ms
        refresh = getattr(app.screen, "refresh_view", None)
        if refresh:
            refresh()


def take_over(app) -> None:
    """``b``: a new game from the start of the selected quarter (the state re-simulated from the
    log when the replay opened), saved at once as a branch whose ``parent`` names this run."""
    from game.app.session import Session, _slug, default_save_dir
    from game.replay import branch_run

    rep, i = app.replay, app.replay_index
    player = app.start_player or rep.name
    run, game = branch_run(rep, i, player)
    s = Session(game=game, loaded=rep.loaded, player=player, save_dir=Path(app.save_dir) if app.save_dir else default_save_dir(),
                competition_id=run.competition, parent=run.parent)
    s.save_path = s.save_dir / f"{rep.loaded.scenario.id}-seed{rep.seed}-{_slug(player)}-branch-{rep.label(i).lower()}.json"
    path = s.save()
    app.replay = app.ghost = None
    app.begin(s)
    app.notify(f"Took over at {rep.label(i)}: saved to {path}", title="Branch")


def _action_text(action: dict) -> str:
    args = ", ".join(f"{k}={v}" for k, v in action.items() if k != "kind")
    return f"{action.get('kind', '?')}({args})"


def _value(field: str, v) -> str:
    if v is None:
        return "-"
    if field == "contracted_share":
        return f"{v:.0%}"
    if field == "dscr":
        return f"{v:.2f}x"
    return fmt_usd(round(v * 100))


GHOST_TITLES = {"score": "Score", "cash": "Cash", "revenue": "Revenue", "ebitda": "EBITDA",
                "contracted_share": "Contracted", "dscr": "DSCR (T4Q)"}


class Timeline(Widget):
    """The run's quarters as a slider: one cell per quarter, the selected one marked; click or drag to seek."""

    DEFAULT_CSS = """
    Timeline { height: 2; padding: 0 1; background: $panel; }
    """

    class Seek(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self) -> None:
        super().__init__(id="timeline")
        self._dragging = False

    def _labels(self) -> tuple[list[str], int]:
        rep = self.app.replay  # type: ignore[attr-defined]
        if rep is None:
            return [], 0
        return [r.label for r in rep.game.reports], self.app.replay_index  # type: ignore[attr-defined]

    def render(self) -> Text:
        labels, i = self._labels()
        width = max(1, self.content_size.width)
        n = max(1, len(labels))
        bar = Text()
        for x in range(width):
            q = x * n // width
            if q == i:
                bar.append("█", style="bold")
            elif q < i:
                bar.append("━")
            else:
                bar.append("─", style="dim")
        first, last = (labels[0], labels[-1]) if labels else ("", "")
        here = f"◀ {labels[i]} ▶" if labels else ""
        gap = max(1, width - len(first) - len(last) - len(here))
        left = gap // 2
        under = Text(f"{first}{' ' * left}{here}{' ' * (gap - left)}{last}"[:width])
        return Text("\n").join([bar, under])

    def _index_at(self, x: int) -> int:
        labels, _ = self._labels()
        width = max(1, self.content_size.width)
        return max(0, min(len(labels) - 1, (x - 1) * max(1, len(labels)) // width))  # x counts the left padding

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self.post_message(self.Seek(self._index_at(event.x)))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(self.Seek(self._index_at(event.x)))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._dragging = False
        self.release_mouse()


class QuarterPanel(RichLog):
    """The selected quarter's decisions, report and news, rendered once per seek into lines it
    scrolls itself (a Static in a scroll container renders its whole text two or three times)."""

    DEFAULT_CSS = """
    QuarterPanel { scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(wrap=True, auto_scroll=False, min_width=1, **kw)
        self._shown = None

    def show(self, renderable) -> None:
        self._shown = renderable
        self.clear()
        width = self.scrollable_content_region.width if self._size_known else None  # None: RichLog waits for its size
        self.write(renderable, width=width or None, expand=True, scroll_end=False)
        self.scroll_home(animate=False)

    def on_resize(self) -> None:
        if self._shown is not None:  # wrap again at the new width
            self.show(self._shown)


class ReplayScreen(Screen):
    """The timeline: the selected quarter's decisions and results, its report and news, and the ghost."""

    AREA = "replay"
    DEFAULT_CSS = """
    #replay-body { height: 1fr; }
    #replay-quarter { width: 1fr; height: 1fr; padding: 0 1; background: $background; border: none; }
    #ghost { width: 40%; min-width: 34; max-width: 46; height: 100%; border-left: solid $panel; padding: 0 1; }
    #ghost-table { height: auto; }
    #ghost-plot { height: 1fr; min-height: 8; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield AreaTabs("replay")
        yield Timeline()
        with Horizontal(id="replay-body"):
            yield QuarterPanel(id="replay-quarter")
            if self.app.ghost is not None:  # type: ignore[attr-defined]
                with Vertical(id="ghost"):
                    yield Static(id="ghost-table")
                    from textual_plot import PlotWidget  # lazy: the plot library loads with the first chart

                    plot = PlotWidget(id="ghost-plot", allow_pan_and_zoom=False, classes="chart")
                    plot.can_focus = False  # the keys belong to the timeline and the quarter panel
                    yield plot
        yield Footer()

    def on_mount(self) -> None:
        if self.app.ghost is not None:  # type: ignore[attr-defined]
            self._plot_scores(self.app.replay, self.app.ghost)  # type: ignore[attr-defined]
        self.refresh_view()

    def _plot_scores(self, rep, ghost) -> None:
        """Both runs' scores by quarter, drawn once: the lines do not move when the timeline does."""
        from textual_plot import HiResMode

        plot = self.query_one("#ghost-plot")
        plot.clear()
        v = self.app.get_css_variables()
        for run, color in ((rep, v.get("primary") or "white"), (ghost, v.get("warning") or "white")):
            ys = [r.score.score_cents / 1e8 for r in run.game.reports]
            plot.plot(list(range(1, len(ys) + 1)), ys, line_style=color, label=_short(run.name), hires_mode=HiResMode.BRAILLE)
        plot.set_ylabel("score $M")
        plot.set_xlabel("quarter")
        plot.show_legend()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def on_timeline_seek(self, message: Timeline.Seek) -> None:
        seek(self.app, message.index)

    def refresh_view(self) -> None:
        app = self.app
        rep = app.replay  # type: ignore[attr-defined]
        if rep is None:
            return
        i = app.replay_index  # type: ignore[attr-defined]
        self.query_one(Timeline).refresh()
        self.query_one("#replay-quarter", QuarterPanel).show(self._quarter(rep, i))
        if app.ghost is not None:  # type: ignore[attr-defined]
            self._ghost(rep, app.ghost, i)  # type: ignore[attr-defined]

    def _quarter(self, rep, i: int) -> Group:
        from game.app.screens.report import QuarterReportScreen

        r = rep.game.reports[i]
        out: list = [Text(f"{r.label} · quarter {i + 1} of {rep.quarters} · {rep.name}", style="bold")]
        out.append(Text("←/→ step a quarter · home/end jump · 1-6 the areas as they stood at the start of it · b take over from here",
                        style="italic"))
        out.append(Text(f"\nDecisions in {r.label}", style="bold"))
        if not r.actions:
            out.append(Text(" none: the quarter ran on what was already in place"))
        for a in r.actions:
            line = Text(f" {'✓' if a.ok else '✗'} {_action_text(a.action)}", style="" if a.ok else "bold")
            line.append(f"\n     {a.message}" if a.ok else f"\n     rejected: {a.message}", style="italic")
            out.append(line)
        out.append(Text(f"\nQuarter report · {r.label}", style="bold"))
        # the same report the player saw when the quarter ended (one source of truth: QuarterReportScreen)
        after = SimpleNamespace(reports=rep.game.reports[: i + 1], archetype=rep.loaded.scenario.archetype)
        out.append(QuarterReportScreen._body(SimpleNamespace(session=after, report=r), self.app.size.width))  # one KPI a row at 80
        return Group(*out)

    def _ghost(self, rep, ghost, i: int) -> None:
        from game.replay import first_divergence, ghost_rows

        t = Table(box=None, pad_edge=False, title=f"At {rep.label(i)}", title_style="bold", title_justify="left")
        t.add_column("")
        t.add_column(_short(rep.name), justify="right")
        t.add_column(_short(ghost.name), justify="right")
        for f, a, b in ghost_rows(rep, ghost, i):
            t.add_row(GHOST_TITLES[f], _value(f, a), _value(f, b))
        d = first_divergence(rep, ghost)
        if d is None:
            where = "The same decisions every quarter."
        else:
            label = rep.label(d) if d < rep.quarters else ghost.label(d)
            where = f"Decisions first diverged in {label} (quarter {d + 1})."
        self.query_one("#ghost-table", Static).update(Group(t, Text(""), Text(where)))


def _short(name: str) -> str:
    return re.sub(r"\s+", " ", name)[:14] or "(anonymous)"


def make_replay_app(replay, ghost=None, **kw):
    """The app opened in replay mode on ``replay`` (a game.replay.Replay), with ``ghost`` beside it."""
    from game.app import make_app

    app = make_app(**kw)
    app.replay, app.ghost = replay, ghost
    return app
