"""Hot-seat industries (issue 15): ``tycoon industry play FILE`` in one terminal.

Each player plans their quarter in turn on the usual screens (their company only: a ``Seat`` is
their company of the industry seen as a single-player game); between players a hand-off screen
covers everything; when the last player ends their turn the bots plan, the quarter is cleared
among all companies (engine.industry) and the industry file is saved. A plan is kept only in
memory until the quarter resolves: quitting mid-quarter drops the plans made so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from engine.game import Game
from game.app.app import TycoonApp
from game.app.session import Session


class SeatRivals:
    """The Rivals screen's source for a seat: the other companies' published results."""

    def __init__(self, industry, name: str) -> None:
        self.industry, self.name = industry, name

    def published(self) -> list[dict]:
        from engine.industry import published

        return published(self.industry, exclude=self.name)


class Seat(Game):
    """One company of an industry as the app's ``Session.game``: its state, reports and log; the
    industry's world and scenario. Its quarter is played by the industry, never alone."""

    def __init__(self, industry, name: str) -> None:  # noqa: D107 - no new game: the industry holds the company
        self.industry, self.name = industry, name
        self.scenario, self.seed, self.world = industry.scenario, industry.seed, industry.world
        self.rivals = SeatRivals(industry, name)

    @property
    def state(self):  # type: ignore[override]
        return self.industry.companies[self.name].state

    @property
    def reports(self):  # type: ignore[override]
        return self.industry.companies[self.name].reports

    @property
    def log(self):  # type: ignore[override]
        return self.industry.companies[self.name].log

    def play(self, actions=None):  # noqa: ARG002
        raise RuntimeError("an industry's quarter is played when every company has planned (HotSeatApp)")


@dataclass
class SeatSession(Session):
    """A player's session in a hot-seat industry: saving writes the industry file."""

    industry_path: Path | None = None
    hot: object | None = field(default=None, repr=False)

    def save(self, path=None) -> Path:  # noqa: ARG002 - one file: the industry's
        from game.industry import industry_file, save_industry

        target = save_industry(industry_file(self.hot.industry, self.loaded), self.industry_path)  # type: ignore[attr-defined]
        self.last_saved = target
        return target


class HandOff(Screen[None]):
    """Covers the screen between players: nobody sees the previous player's plan."""

    BINDINGS = [Binding("enter", "go", "Start my turn", id="handoff.go", priority=True)]  # before the standings table takes it

    def __init__(self, name: str, label: str, standings: list[dict] | None = None) -> None:
        super().__init__()
        self.player, self.label, self.standings = name, label, standings or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="handoff"):
            yield Label(f"{self.label}: {self.player}'s turn", classes="dialog-title")
            if self.standings:
                yield DataTable(id="standings", cursor_type="none", zebra_stripes=True)
            yield Static(f"Pass the keyboard to {self.player}. Press enter when only {self.player} is looking.", id="handoff-text")

    def on_mount(self) -> None:
        if self.standings:
            table = self.query_one("#standings", DataTable)
            for col in ("Company", "Revenue", "Share", "Score"):
                table.add_column(col, key=col)
            for c in self.standings:
                table.add_row(c["name"], f"${c['revenue'] / 1e6:,.1f}M", f"{c['share']:.0%}", f"${c['score'] / 1e6:,.1f}M")

    def action_go(self) -> None:
        self.dismiss(None)


class HotSeatApp(TycoonApp):
    """The game app over an industry: the players take turns, the bots play their companies."""

    NEW_GAME = False  # no start screen: the industry file is the game

    def __init__(self, industry, loaded, path: str | Path, **kw) -> None:
        super().__init__(**kw)  # no start screen and no single-player game: see get_default_screen
        self.industry, self.loaded, self.industry_path = industry, loaded, Path(path)
        self.players = [n for n in industry.order if industry.companies[n].bot is None]
        self.plans: dict[str, list[dict]] = {}
        self.standings: list[dict] = []

    def get_default_screen(self) -> Screen:
        return Screen()  # the first hand-off covers it at once

    def on_mount(self) -> None:  # TycoonApp.on_mount runs too (Textual walks the MRO); it starts nothing here
        self._next_turn()

    def update_titles(self) -> None:
        super().update_titles()
        if self.session is not None:  # whose turn it is, always in sight
            self.sub_title = f"{self.session.player}'s turn · {self.sub_title}"

    def _waiting(self) -> list[str]:
        active = set(self.industry.active())
        return [n for n in self.players if n in active and n not in self.plans]

    def _session(self, name: str) -> SeatSession:
        return SeatSession(game=Seat(self.industry, name), loaded=self.loaded, player=name,
                           save_dir=self.industry_path.parent, save_path=self.industry_path,
                           industry_path=self.industry_path, hot=self)

    def _next_turn(self) -> None:
        waiting = self._waiting()
        if not waiting:  # every player out of the game: show the last standings
            self.begin(self._session(self.players[0]))
            return
        name = waiting[0]
        label = self.industry.world.quarter(min(self.industry.companies[name].state.quarter, self.industry.scenario.quarters - 1)).label
        session = self._session(name)

        def start(_: object) -> None:
            self.begin(session)
            self.call_after_refresh(self.refresh_area)  # the area screen shows this player's company (composed first)

        self.push_screen(HandOff(name, label, self.standings), start)

    def play_quarter(self) -> None:
        """This player's plan is in: the next player's turn, or (the last) the quarter resolves."""
        from engine.bots import make_bot
        from game.industry import company_summary

        assert self.session is not None
        self.plans[self.session.player] = list(self.session.plan)
        self.session.plan = []
        if not self._waiting():
            ind = self.industry
            bots = {n: ind.companies[n].bot for n in ind.active() if ind.companies[n].bot}
            plans = {n: make_bot(b).act(ind.observation(n)) for n, b in bots.items()}
            iq = ind.play({**self.plans, **plans})
            self.plans = {}
            self.standings = company_summary(ind, iq)
            self.session.save()
        self._next_turn()
