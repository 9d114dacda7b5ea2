"""Keyed random streams: every draw comes from (seed, subsystem, quarter, ...), never a global RNG.

The exogenous world draws from subsystems such as "prices" or "demand", so two players on the
same seed face the same world whatever they do (DESIGN.md "Fair"). Draws about one company
(its GPU failures, its customers' defaults) use their own subsystems and extra key words.
"""

from __future__ import annotations

import zlib

import numpy as np


def subsystem_word(name: str) -> int:
    """A stable 32-bit word for a subsystem name (crc32 is the same on every machine)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, subsystem: str, quarter: int, *extra: int) -> np.random.Generator:
    """A fresh generator keyed by (seed, subsystem, quarter, *extra)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    words = [seed, subsystem_word(subsystem), quarter, *extra]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))
