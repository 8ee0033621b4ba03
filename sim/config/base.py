"""Shared pieces of the scenario models: the error type, field types, the strict base model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic import Strict as _StrictType

# --------------------------------------------------------------------------------------------
# Errors


class ConfigError(Exception):
    """Bad input: a list of one-line problems, each naming file, field path and what is wrong."""

    def __init__(self, problems: Iterable[str] | str):
        # a single string is one problem (not a sequence of one-character problems)
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str]]]:
        # Exception pickles ``self.args`` (the joined text) by default; rebuild from the list
        # so that an error raised in a worker process arrives line by line, as raised.
        return (ConfigError, (self.problems,))


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


# Bounds with a reason. Counts (nodes, workers, schools moved, bursts, reserve nodes) are at
# most a million: a thousand times the largest fleet of January 2021 (NBC: 500 + 750 nodes),
# and every product the model forms of two counts stays far inside int64 (numpy arrays of
# counts silently wrap above 2**63: 1e20 participants per node gave 48 % success instead of
# 99 %). Other numbers (seconds, Mbit/s, minutes) are at most 1e12, the verification
# scenarios' stand-in for "unlimited" (sim/experiments/verification.py): beyond any real quantity
# of the
# model (30,000 years in seconds), and far from float overflow in its sums and products.
MAX_COUNT = 1_000_000
MAX_QUANTITY = 1e12
MAX_SEED = 2**63 - 1
"""Seeds are stored as int64 (parquet, numpy)."""

def _whole_number(value: Any) -> Any:
    """Refuse, with a reason, what lax validation would silently turn into an integer."""
    if isinstance(value, bool):
        raise ValueError(f"Input should be a valid integer, got the boolean {str(value).lower()}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"Input should be a valid integer, got a fractional part ({value!r})")
        raise ValueError(
            f"Input should be a valid integer written without a decimal point, got {value!r}"
        )
    if isinstance(value, str):
        if re.fullmatch(r"\s*[-+]?0[0-9_]+\s*", value):
            raise ValueError(
                f"{value!r} has a leading zero (YAML 1.1 would read it as an octal number): "
                "write the number without it"
            )
        raise ValueError(f"Input should be a valid integer, got the text {value!r}")
    return value


StrictInt = Annotated[int, _StrictType(), BeforeValidator(_whole_number)]
"""An integer written as an integer: never a boolean (``yes``, ``true``), a string or a float
(pydantic's lax mode would turn ``true`` into 1)."""
TimeOfDay = Annotated[float, BeforeValidator(_parse_time_of_day), Field(ge=0, le=86400)]
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
PositiveInt = Annotated[StrictInt, Field(gt=0, le=MAX_COUNT)]
NonNegInt = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
Seed = Annotated[StrictInt, Field(ge=0, le=MAX_SEED)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")]


class Strict(BaseModel):
    """Base: unknown keys are errors, no silent coercion of floats to ints; an assignment
    (``sc.platforms[0].clusters[0].nodes = 300``) is checked as the file would be."""

    model_config = ConfigDict(extra="forbid", validate_default=True, validate_assignment=True)

    def __setattr__(self, name: str, value: Any) -> None:
        # pydantic keeps a value that a model-level check (``day.end`` after ``day.start``)
        # refuses: put the old one back, so a refused assignment changes nothing
        old = self.__dict__.get(name, _UNSET)
        try:
            super().__setattr__(name, value)
        except ValidationError:
            if old is not _UNSET:
                self.__dict__[name] = old
            raise


_UNSET = object()
