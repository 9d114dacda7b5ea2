"""Text from files made safe for the places it is shown (issue 10, items 4 and 5).

Names, titles and reasons come from run and competition files a student wrote. Printed as they
are, an escape sequence clears the instructor's screen or forges a "REFUSED" line; written as
they are into a CSV gradebook, ``=HYPERLINK(...)`` becomes a live formula. ``printable`` is the
one helper for every line that reaches a terminal; ``csv_text`` is the one for every CSV text cell.
JSON output needs neither: ``json.dumps`` already escapes control characters.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# bidirectional overrides and isolates reorder what the eye sees (CVE-2021-42574, "Trojan Source")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# OWASP "CSV Injection": a cell a spreadsheet may read as a formula starts with one of these
FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def _unsafe(ch: str) -> bool:
    """A character a terminal acts on instead of showing: C0/C1 controls, DEL, line and paragraph
    separators, bidi controls."""
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """``str(value)`` with every control character written as a visible escape (``\\x1b``, ``\\n``,
    ``\\u202e``), so that one value prints as one inert piece of one line."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to do (isprintable is False for every control)
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def csv_text(value: Any) -> Any:
    """A CSV text cell a spreadsheet will not run: one that starts (after any blanks) with ``=``,
    ``+``, ``-``, ``@``, or any control character gets a leading single quote (OWASP). Numbers and
    ``None`` pass through unchanged, so that numbers stay numbers."""
    if not isinstance(value, str) or not value:
        return value
    first = value.lstrip(" ")[:1] or value[0]
    if first in FORMULA_TRIGGERS or _unsafe(first):
        return "'" + value
    return value
