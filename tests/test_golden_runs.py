"""Golden run files re-simulate to their recorded hashes (OpenRCT2's replay tests).

A change that alters outcomes fails here; if it is intended, regenerate them with
``tests/golden/regenerate.py`` in the same commit and say why in the message.
"""

from pathlib import Path

import pytest

from game.runfile import load_run, verify_run

GOLDEN = sorted((Path(__file__).resolve().parent / "golden").glob("*.json"))


def test_there_are_golden_runs():
    assert len(GOLDEN) >= 3


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_run_resimulates_to_its_hashes(path):
    run = load_run(path)
    assert len(run.quarters) == 20 or run.final["bankrupt"]
    v = verify_run(path)
    assert v.ok, f"{path.name}: {v.reason} (first divergent quarter: {v.first_divergence})"
