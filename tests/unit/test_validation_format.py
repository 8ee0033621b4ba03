"""How docs/validation.md states figures: precision from the spread, floors as floors."""

from __future__ import annotations

from sim.experiments.validation import floor_verdict, fmt, round_to_spread


def test_precision_follows_the_spread_but_never_beyond_three_figures() -> None:
    # spread ±45,000 → rounded to 10,000s
    assert round_to_spread([310_000, 400_000]) == (360_000, 10_000)
    # a tiny spread does not buy eight digits: three significant figures at most
    mean, unit = round_to_spread([10_843_459.0, 10_843_460.0])
    assert unit == 100_000 and mean == 10_800_000
    assert fmt([0.021, 0.025], pct=True) == "2.3% (2.1%–2.5%, 2 runs)"
    assert fmt([461_592.0]) == "462,000"


def test_a_floor_fails_below_it_whatever_a_tolerance_says() -> None:
    assert floor_verdict([2.35e6], 2.5e6).startswith("below the floor")
    assert floor_verdict([2.51e6, 2.52e6], 2.5e6) == "meets the floor"
    assert "not in every run" in floor_verdict([2.49e6, 2.53e6], 2.5e6)
