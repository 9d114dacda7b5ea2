"""DESIGN.md: ``engine`` never imports Textual or the game layer, and reads no clock or global RNG."""

import re
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def test_engine_imports_without_textual():
    code = (
        "import sys, engine, engine.game, engine.bots, engine.physics, engine.world, engine.step;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'game', 'rich')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine pulled in: {out.stdout}"


def test_engine_source_has_no_clock_or_global_rng():
    pattern = re.compile(r"\b(time\.time|datetime\.now|random\.random|np\.random\.(rand|randn|randint|seed)\(|open\()")
    offenders = [
        f"{p.name}:{i}" for p in ENGINE.glob("*.py") for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)
    ]
    assert offenders == []
