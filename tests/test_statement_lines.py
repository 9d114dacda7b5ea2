"""Issue 11 item 5: the statements as displayed (engine.statements.*_lines): items add up to their
section, token revenue has its line, and cash-flow items sit under their own section (KB §18)."""

from __future__ import annotations

from engine.game import Game
from engine.statements import cash_flow_lines, income_statement_lines
from scenarios import load_scenario


def _sections(lines):
    out: dict[str, tuple[int, list[int]]] = {}
    head = None
    for label, cents, depth in lines:
        if depth == 0:
            head = label
            out[head] = (cents, [])
        else:
            out[head][1].append(cents)
    return out


def _play(scenario: str, quarters: int):
    game = Game(load_scenario(scenario).scenario, 7)
    return [game.play([]) for _ in range(quarters)]


def test_inference_income_statement_has_a_token_revenue_line_that_is_its_revenue():
    """inference-2025 (issue 11: "$0 lines under $5.09M of revenue"): revenue is tokens, shown as such."""
    r = _play("inference-2025", 1)[0]
    lines = income_statement_lines(r.income)
    tokens = [c for label, c, d in lines if label == "tokens"]
    assert tokens == [r.income.rev_tokens] and r.income.rev_tokens > 0
    sec = _sections(lines)
    assert sec["Revenue"][0] == r.income.revenue == sum(sec["Revenue"][1])
    assert all(c != 0 for _, c, d in lines if d == 1)  # no $0 items


def test_income_sections_add_up_and_ebitda_bridges_to_ebit():
    for r in _play("neocloud-2025", 2):
        sec = _sections(income_statement_lines(r.income))
        for name in ("Revenue", "COGS", "Operating expenses"):
            assert sec[name][0] == sum(sec[name][1]), name
        gp, opex, ebitda = sec["Gross profit"][0], sec["Operating expenses"][0], sec["EBITDA"][0]
        assert gp + opex + sum(sec["EBITDA"][1]) == ebitda  # depreciation, inside COGS, added back
        assert ebitda + sec["Depreciation"][0] + sec["Other gain/loss"][0] == sec["EBIT"][0]
        assert sec["EBIT"][0] + sec["Interest"][0] + sec["Tax"][0] == sec["Net income"][0] == r.income.net_income


def test_cash_flow_items_sit_under_their_own_section():
    r = _play("neocloud-2025", 1)[0]
    cf = r.cash_flow
    sec = _sections(cash_flow_lines(cf))
    for name, total, prefix in (("Operating", cf.operating, "operating:"), ("Investing", cf.investing, "investing:"),
                                ("Financing", cf.financing, "financing:")):
        items = [v for k, v in cf.lines.items() if k.startswith(prefix) and v]
        assert sec[name] == (total, items)
    assert sec["Operating"][1]  # a quarter of business has operating items, and they are not under Financing
    assert sec["Cash at start"][0] + sec["Net change"][0] == sec["Cash at end"][0]
