"""Game time: quarters of 13 weeks, 2,184 hourly ticks each (DESIGN.md "Time")."""

from __future__ import annotations

import re

WEEKS_PER_QUARTER = 13
TICKS_PER_QUARTER = WEEKS_PER_QUARTER * 7 * 24  # 2,184 hourly ticks
HOURS_PER_YEAR = 8760  # for converting annual rates and lives to hourly figures
QUARTERS_PER_YEAR = 4

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


def parse_quarter(label: str) -> tuple[int, int]:
    """'2025Q1' -> (2025, 1); a clear error otherwise."""
    m = _LABEL.match(label)
    if not m:
        raise ValueError(f"{label!r} is not a quarter label like '2025Q1'")
    return int(m.group(1)), int(m.group(2))


def quarter_label(start: str, index: int) -> str:
    """The label of quarter ``index`` (0-based) of a game that starts at ``start``."""
    year, q = parse_quarter(start)
    n = year * 4 + (q - 1) + index
    return f"{n // 4}Q{n % 4 + 1}"


def quarters_between(a: str, b: str) -> int:
    """Number of quarters from label a to label b (b - a)."""
    ya, qa = parse_quarter(a)
    yb, qb = parse_quarter(b)
    return (yb * 4 + qb) - (ya * 4 + qa)
