"""Shared pydantic base for the engine's data: frozen, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Frozen(BaseModel):
    """Immutable model; unknown fields are an error (a typo in a scenario must not pass)."""

    # defer_build: a model's validator is built on its first use, not at import (issue 11 start-up: 33 of the
    # engine's 72 models, the actions and the scenario's starting company among them, are not needed by the first screen)
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


FILE_NUMBER_LIMIT = 10**15  # issue 10: no count or dollar amount a real company has reaches a quadrillion


class FileModel(Frozen):
    """A model read from a scenario file (issue 10): numbers finite and within ±10^15, and
    ``true``/``false`` never accepted where a number is meant (TOML booleans are ints to pydantic)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_number(cls, v: object, info: ValidationInfo) -> object:
        if isinstance(v, bool):
            if info.field_name is not None and cls.model_fields[info.field_name].annotation not in (bool, "bool"):
                raise ValueError("must be a number or text, not true/false")
        elif isinstance(v, (int, float)) and abs(v) > FILE_NUMBER_LIMIT:
            raise ValueError(f"must be within ±{FILE_NUMBER_LIMIT:.0e} (no real company has more)")
        return v


class Rejected(ValueError):
    """An action that cannot be carried out; the message is the reason, for the player."""
