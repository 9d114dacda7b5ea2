"""The app's session layer without Textual: plan, preview, risks, autosave (game/app/session.py)."""

from __future__ import annotations

from game.app.session import SAVE_DIR_ENV, Session, default_save_dir
from game.runfile import verify_run


def test_save_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv(SAVE_DIR_ENV, str(tmp_path))
    assert default_save_dir() == tmp_path


def test_plan_preview_and_autosave(tmp_path):
    s = Session.new(seed=7, player="Ada Lovelace", save_dir=tmp_path)
    cash = s.state.cash_cents
    ok = s.add({"kind": "buy_gpus", "gen": "h100", "count": 64, "site_id": s.state.sites[0].id})
    assert ok.ok and len(s.plan) == 1
    assert s.preview().cash_after < cash
    assert s.state.cash_cents == cash  # previews never touch the game
    bad = s.add({"kind": "sign_contract", "offer_id": "nope"})
    assert not bad.ok and len(s.plan) == 1 and "nope" in bad.message
    invalid = s.add({"kind": "buy_gpus", "gen": "h100", "count": -1, "site_id": "S-TX"})
    assert not invalid.ok and len(s.plan) == 1
    s.remove(5)  # out of range: ignored
    report = s.end_quarter()
    assert report.label == "2025Q1" and s.plan == []
    assert s.save_path.name == "neocloud-2025-seed7-ada-lovelace.json"
    assert verify_run(s.save_path).ok
    again = Session.load(s.save_path, save_dir=tmp_path)
    assert again.state.quarter == 1 and again.player == "Ada Lovelace"


def test_risks_name_thin_cash(tmp_path):
    s = Session.new(seed=7, save_dir=tmp_path)
    assert s.risks() == []
    # spend almost all the cash: the confirmation must say so
    site = s.state.sites[0]
    s.plan.append({"kind": "build_site", "mw": 1000, "power_source": "grid"})
    risks = s.risks()
    assert any("Rejected" in r or "cash" in r.lower() for r in risks)
    del site


def test_play_rejects_bad_flags_without_opening_the_app(tmp_path, capsys):
    from game.cli import main

    assert main(["play", "--seed", "-1"]) == 2
    assert main(["play", "--scenario", "no-such-scenario"]) == 2
    assert main(["play", "--load", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_invalid_action_is_refused_in_the_players_words_issue11_item4(tmp_path):
    """Session.add on an action the engine's model rejects: the form's label and limits (percent in
    percent), never pydantic's "1 validation error for tagged-union[...]" or "buy_gpus.count"."""
    s = Session.new("neocloud-2025", 7, save_dir=tmp_path)
    site = s.state.sites[0].id
    cases = {
        "How many must be from 1 to 100,000": {"kind": "buy_gpus", "gen": "h100", "count": 0, "site_id": site},
        "Versus market (%) must be from -50% to +100%": {"kind": "set_price", "gen": "h100", "vs_market": -3},
        "Term: valid: 4, 8 or 12": {"kind": "lease_gpus", "gen": "h100", "count": 5, "term_quarters": 5},
    }
    for message, action in cases.items():
        result = s.add(action)
        assert not result.ok and result.message == message and "validation" not in result.message and s.plan == []
