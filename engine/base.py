"""Shared pydantic base for the engine's data: frozen, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable model; unknown fields are an error (a typo in a scenario must not pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Rejected(ValueError):
    """An action that cannot be carried out; the message is the reason, for the player."""
