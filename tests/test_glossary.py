"""The help glossary: enough concepts, well-formed, and worked numbers that are the engine's."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from game.glossary import CONTEXT_HELP, GLOSSARY, concept, search

SECTION = re.compile(r"^(KB §\d+|CALIBRATION \d+)$")


def test_at_least_forty_unique_concepts():
    assert len(GLOSSARY) >= 40
    ids = [c.id for c in GLOSSARY]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("c", GLOSSARY, ids=lambda c: c.id)
def test_concept_is_well_formed(c):
    assert SECTION.match(c.section), c.section
    assert c.term and c.summary.strip() and c.where.strip() and c.keywords
    text = c.worked
    assert isinstance(text, str) and re.search(r"\d", text), text


def test_dscr_worked_numbers_are_the_engines():
    from engine.finance import dscr, level_principal_schedule

    five = level_principal_schedule(1e9, 0.08, 5)[0].debt_service
    twelve = level_principal_schedule(1e9, 0.07, 12)[0].debt_service
    text = concept("dscr").worked
    assert f"{dscr(400e6, five):.2f}x" in text
    assert "1.43x" in text and "2.61x" in text
    assert f"{dscr(400e6, twelve):.2f}x" in text
    assert "$280.0M" in text


def test_breakeven_and_cost_per_token_match_calibration():
    assert all(s in concept("breakeven-utilization").worked for s in ("44%", "59%", "76%"))
    text = concept("cost-per-m-tokens").worked
    assert "$0.69" in text and "$0.14" in text
    assert "$126.7M a year freed" in concept("tenor").worked  # KB §4's ~$127M


def test_ladder_concepts_quote_the_physics():
    from engine.physics import ladder

    row = {r.step: r for r in ladder()}["paged_attention"]
    assert f"{row.tokens_per_s:,.0f}" in concept("paged-attention").worked


def test_kv_cache_uses_the_arithmetic_not_the_rounded_kb_figure():
    assert "320 KiB" in concept("kv-cache").worked


@pytest.mark.parametrize("query, expected", [("dscr", "dscr"), ("kv cache", "kv-cache"), ("barbell", "barbell"),
                                             ("DSCR", "dscr"), ("swap", "reserved-swap")])
def test_search_ranks_term_matches_first(query, expected):
    hits = search(query)
    assert hits and hits[0].id == expected


def test_search_misses_return_nothing():
    assert search("zzzz-not-a-concept") == []


def test_context_help_covers_every_screen():
    for screen in ("dashboard", "fleet", "market", "contracts", "finance", "news", "start", "report", "debrief"):
        text = CONTEXT_HELP[screen]
        assert 3 <= len(text.splitlines()) <= 6, screen
    for screen in ("dashboard", "fleet", "market", "contracts", "finance", "news"):
        assert all(k in CONTEXT_HELP[screen] for k in ("1-6", "e ", "?", "ctrl+s", "q "))


def test_import_is_lazy():
    code = (
        "import sys, game.glossary as g\n"
        "assert 'engine.physics' not in sys.modules, 'physics imported at import time'\n"
        "assert 'numpy' not in sys.modules, 'numpy imported at import time'\n"
        "g.concept('kv-cache').worked\n"
        "assert 'engine.physics' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lease_liability_worked_number_is_the_engines():
    """ASC 842 / IFRS 16: $1M a quarter for 4 quarters at 8% is a $3.81M lease liability."""
    from engine.leases import present_value_of_payments

    pv = present_value_of_payments(1e6, 4, 0.08)
    assert f"${pv / 1e6:.2f}M" == "$3.81M"
    assert "$3.81M" in concept("lease-liability").worked
    rou = concept("right-of-use").worked
    assert "$3.81M" in rou and f"${present_value_of_payments(1e6, 3, 0.08) / 1e6:.2f}M" in rou


def test_ev_ebitda_turns_revenue_multiples_into_earnings_multiples():
    """KB §18 / CALIBRATION 26: 6x revenue at a 50% margin = 12x earnings."""
    from engine.valuation import earnings_multiple

    assert earnings_multiple(6.0, 17.0, 0.0, 0.5) == pytest.approx(12.0)
    assert "6x revenue at a 50% margin = 12x earnings" in concept("ev-ebitda").worked


def test_backlog_and_run_rate_quote_the_valuation():
    from types import SimpleNamespace

    from engine.valuation import backlog_value_cents, run_rate_factor

    c = SimpleNamespace(status="active", gpus=1000, usd_per_gpu_hour=2.20, start_quarter=0, end_quarter=8)
    cents = backlog_value_cents([c], 0, 1.40, 0.07)
    assert 0 < cents < 1000 * 0.80 * 8 * 2190 * 100  # discounted below the undiscounted margin
    assert f"${cents / 1e8:.1f}M" in concept("contracted-backlog").worked
    assert f"{run_rate_factor([1000, 1000, 1000, 500]) * 100:.0f}%" in concept("run-rate").worked


def test_score_and_enterprise_value_follow_the_cash_valuation():
    """The score entry no longer speaks of trailing revenue x multiple: owner earnings, leases as debt."""
    from game.glossary import _example_score

    s = _example_score(debt_cents=10_000_000_000, lease_cents=2_000_000_000, cash_cents=5_000_000_000)
    assert s.net_debt_cents == 10_000_000_000 + 2_000_000_000 - 5_000_000_000
    text = concept("score").worked
    assert f"${s.score_cents / 1e8:.1f}M" in text and "lease liabilities" in text
    assert "owner earnings" in concept("score").summary and "revenue times" not in concept("score").summary
    ev = concept("enterprise-value").worked
    assert f"${s.valuation.enterprise_value_cents / 1e8:.1f}M" in ev


def test_acceleration_and_cure_say_only_a_company_that_cannot_pay_fails():
    for cid in ("acceleration", "equity-cure"):
        assert "cannot pay" in concept(cid).summary
    assert "$20.4M is due" in concept("acceleration").worked


@pytest.mark.parametrize("query, expected", [("lease liability", "lease-liability"), ("acceleration", "acceleration"),
                                             ("owner earnings", "ev-ebitda"), ("backlog", "contracted-backlog")])
def test_search_finds_the_new_concepts(query, expected):
    assert search(query)[0].id == expected
