"""The dashboard's alerts: the advisor's risks for the turn plan (engine.advisor via Session.advice),
worst first, each with the key that acts on it. Hidden while there is nothing to say."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MAX_ALERTS = 3  # the dashboard must still fit 80x24: the rest are in the end-quarter confirmation
STYLE = {"critical": "bold red", "warning": "yellow", "info": ""}
MARK = {"critical": "!!", "warning": "! ", "info": "· "}


def alert_key(risk, session=None) -> str:
    """The key that acts on a risk: renew a lease (j) or sign a contract's renewal offer (k), the form opening
    on the lease or offer the alert names (game.app.forms.alert_target, by the risk's subject); raise cash
    (o, i); add GPUs (g, u)."""
    if risk.kind == "ending" and risk.subject.startswith("lease:"):
        return "j: renew"
    if risk.kind == "ending" and risk.subject.startswith("contract:"):
        from game.app.forms import alert_target

        return "k: renew" if session is not None and alert_target(session, risk) is not None else "k: offers"
    if risk.kind in ("cash", "runway"):
        return _keys(session, ("take_loan", "raise_equity"), "raise cash")
    if risk.kind == "sla" and session is not None and session.runs_inference and risk.subject.startswith("model:"):
        return _keys(session, ("scale_model", "rent_gpus"), "add replicas")  # the SLA's own fix: more replicas, GPUs for them
    if risk.kind in ("capacity", "sla"):
        return _keys(session, ("rent_gpus", "lease_gpus") if session is not None and session.runs_inference else ("buy_gpus", "lease_gpus"), "add GPUs")
    return ""


def _keys(session, kinds: tuple[str, ...], what: str) -> str:
    """The keys of the decisions that act on a risk, only those of this company (a neocloud has no `u`)."""
    from game.app.forms import FORMS, applies

    shown = [FORMS[k].key for k in kinds if session is None or applies(k, session)]
    return f"{'/'.join(shown)}: {what}" if shown else ""


class Alerts(Static):
    DEFAULT_CSS = """
    Alerts { height: auto; max-height: 4; padding: 0 1; display: none; text-wrap: nowrap; text-overflow: ellipsis; }
    Alerts.-shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(id="alerts")

    def refresh_from(self, session) -> None:
        from game.app.forms import player_words

        risks = [] if session.over else list(session.advice().risks)
        self.set_class(bool(risks), "-shown")
        if not risks:
            self.update("")
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, r in enumerate(risks[:MAX_ALERTS]):
            if i:
                text.append("\n")
            key = alert_key(r, session)
            text.append(f"{MARK[r.severity]} ", style=STYLE[r.severity])
            if key:
                text.append(f"[{key}] ", style="bold")
            text.append(player_words(r.message), style=STYLE[r.severity])
        more = len(risks) - MAX_ALERTS
        if more > 0:
            text.append(f"\n   and {more} more: e shows them all before the quarter is played", style="dim")
        self.update(text)
