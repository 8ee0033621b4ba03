"""Shared pieces of the scenario models: the error type, field types, the strict base model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# --------------------------------------------------------------------------------------------
# Errors


class ConfigError(Exception):
    """Bad input: a list of one-line problems, each naming file, field path and what is wrong."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------------------------
# Field types


def _parse_time_of_day(value: Any) -> Any:
    """Accept ``"08:00"``, ``"08:00:30"`` or seconds since midnight; return seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a time of day like '08:00' or seconds since midnight")
    if isinstance(value, int | float):
        if 0 < value <= 24:
            raise ValueError(
                f"ambiguous time of day {value!r}: write it as '{int(value):02d}:00' "
                "(a number is read as seconds since midnight)"
            )
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
        if not m:
            raise ValueError(f"expected a time of day like '08:00', got {value!r}")
        h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
        if h > 24 or mi > 59 or s > 59:
            raise ValueError(f"not a valid time of day: {value!r}")
        return h * 3600 + mi * 60 + s
    raise ValueError("expected a time of day like '08:00' or seconds since midnight")


TimeOfDay = Annotated[float, BeforeValidator(_parse_time_of_day), Field(ge=0, le=86400)]
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")]


class Strict(BaseModel):
    """Base: unknown keys are errors, no silent coercion of floats to ints."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
