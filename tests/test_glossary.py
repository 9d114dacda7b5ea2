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
