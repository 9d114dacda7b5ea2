"""The local leaderboard (game.leaderboard): this scenario's and seed's board, best first.

Only re-simulated, verified runs are on it; the debrief adds the finished run through the same
path as ``tycoon leaderboard add``. The store honours ``$TYCOON_DATA_DIR``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from engine.money import fmt_usd
from game.errors import UserError


class LeaderboardScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,l", "close", "Close", id="leaderboard.close", tooltip="Back to the game")]

    def __init__(self, session, message: str = "", highlight: int | None = None) -> None:
        super().__init__()
        self.session = session
        self.message = message
        self.highlight = highlight  # the entry id just added

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="leaderboard"):
            yield Label(f"Leaderboard · {self.session.board_name()}", classes="dialog-title")
            yield Static(self.message, id="lb-message", classes="good" if self.message.startswith("Added") else "warn")
            yield DataTable(id="lb-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="lb-note", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#lb-message", Static).display = bool(self.message)
        table = self.query_one("#lb-table", DataTable)
        for col in ("Rank", "Player", "Score", "Verdict", "Quarters", "Archetype", "Added"):
            table.add_column(col, key=col)
        try:
            rows = self.session.leaderboard()
        except UserError as exc:
            self.query_one("#lb-note", Static).update(str(exc))
            return
        cursor = None
        for i, (rank, e) in enumerate(rows):
            mine = e.id == self.highlight
            style = "bold" if mine else ""
            table.add_row(*(Text(str(c), style=style) for c in (
                rank, e.player + (" (you)" if mine else ""), fmt_usd(e.score_cents), e.verdict,
                e.quarters_played, e.archetype, e.added_at[:10])))
            if mine:
                cursor = i
        if cursor is not None:
            table.move_cursor(row=cursor)
        table.focus()
        s = self.session
        hint = "finish the game, then press s on the debrief to add your run" if not s.over else "s on the debrief adds your run"
        self.query_one("#lb-note", Static).update(
            (f"{len(rows)} verified run(s). " if rows else "No verified run on this board yet: ")
            + f"only runs of this scenario version, seed and ruleset compete here; {hint} · escape: close"
        )

    def action_close(self) -> None:
        self.dismiss(None)
