"""AI Cloud Tycoon's engine: a pure, deterministic, seeded simulation.

No Textual, no files, no clock, no global state. The game layer (``game``) does the I/O.
"""

RULESET = "2026.12.1"
