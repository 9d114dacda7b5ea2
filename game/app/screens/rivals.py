"""The Rivals screen (issue 15): what the rival companies published of their last quarter.

Public information only (engine.industry.public_disclosure through ``Game.rivals.published``):
revenue, the fleet by generation, the price list, the contracted share of revenue and the
financings they announced; never their plans, orders in flight or cash."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from engine.hardware import GPU_ORDER


def _fleet(fleet: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {g.upper()}" for g, n in sorted(fleet.items(), key=lambda kv: GPU_ORDER.index(kv[0]))) or "-"


def _prices(prices: dict[str, float]) -> str:
    return ", ".join(f"{g.upper()} ${p:.2f}" for g, p in sorted(prices.items(), key=lambda kv: GPU_ORDER.index(kv[0]))) or "-"


def _financings(items: list[dict]) -> str:
    return ", ".join(f"{f['kind']} ${(f.get('amount_usd') or 0) / 1e6:,.1f}M" for f in items) or "none"


class RivalsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,R", "close", "Close", id="rivals.close", tooltip="Back to the game")]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rivals"):
            yield Label("Rivals · what they published last quarter", classes="dialog-title")
            yield DataTable(id="rivals-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="rivals-note", classes="muted")

    def on_mount(self) -> None:
        dialog = self.query_one("#rivals")
        dialog.styles.width = 116  # six columns: wider than a form's dialog, and 100% of a smaller terminal
        dialog.styles.max_height = "90%"
        from game.app.screens.areas import _fill

        table = self.query_one("#rivals-table", DataTable)
        rivals = self.session.game.rivals
        published = rivals.published() if rivals is not None else []
        rows = []
        for p in published:
            name = p["name"] + (" (bankrupt)" if p["bankrupt"] else "")
            rows.append([name, f"${p['revenue_usd'] / 1e6:,.1f}M", _fleet(p["fleet"]), _prices(p["gpu_hour_prices"]),
                         f"{p['contracted_share']:.0%}", _financings(p["financings"])])
        # priority columns in the dialog's width (its border and padding take 4): at 80 columns the financings go
        # first; what still does not fit scrolls sideways under a frozen company column
        _fill(table, ["Company", "Revenue", "Fleet", "GPU-hour prices", "Contracted", "Financings"], rows,
              drop_order=("Financings",), squeeze=("Financings",), width=min(116, self.app.size.width) - 4)
        table.focus()
        if rivals is None:
            note = "No rivals in this game: start one with `tycoon play --rivals N` or a scenario's [[rivals]]."
        elif not published:
            note = f"{len(self.session.game.scenario.rivals)} rival(s) compete for your customers; they publish after the first quarter."
        else:
            note = f"Results of {published[0]['quarter']}, as public companies publish them: never their plans. escape: close"
        self.query_one("#rivals-note", Static).update(note)

    def action_close(self) -> None:
        self.dismiss(None)
