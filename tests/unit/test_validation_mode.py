"""The validation mode's own loop (``sim.validation_mode``) against the general run loop:
the same scenario and seed give bit-identical KPIs, counts and time series."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.model import _Model
from sim.verification import loss_scenario, queue_scenario

CASES = {
    "loss_light": lambda: loss_scenario(5.0, 10, arrivals=3_000),
    "loss_heavy": lambda: loss_scenario(55.0, 50, arrivals=5_000),
    "loss_bench": lambda: loss_scenario(100.0, 110, holding_s=1.0, arrivals=5_000,
                                        warmup_holdings=0.0),
    "queue": lambda: queue_scenario(8.0, 10, arrivals=5_000, warmup_s=60.0),
}


def _run(case: str, seed: int, fast: bool) -> tuple[_Model, object]:
    model = _Model(CASES[case](), seed, None)
    model.fast_validation = fast
    return model, model.run()


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_results_as_general_loop(case: str) -> None:
    m_fast, fast = _run(case, 3, True)
    m_gen, gen = _run(case, 3, False)
    assert fast.kpis == gen.kpis  # type: ignore[attr-defined]
    assert fast.extra == gen.extra  # type: ignore[attr-defined]
    assert fast.events == gen.events  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(fast.timeseries, gen.timeseries)  # type: ignore[attr-defined]
    assert m_fast.beh.m_state == m_gen.beh.m_state
    assert m_fast.beh.m_open_t == pytest.approx(m_gen.beh.m_open_t, nan_ok=True, rel=0, abs=0)


def test_general_loop_when_retries() -> None:
    from sim import validation_mode

    sc = loss_scenario(5.0, 10, arrivals=500)
    sc = sc.model_copy(update={"behaviour": sc.behaviour.model_copy(update={"retries": True})})
    assert not validation_mode.applies(_Model(sc, 1, None))
    assert validation_mode.applies(_Model(loss_scenario(5.0, 10, arrivals=500), 1, None))
