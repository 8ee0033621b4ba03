"""Properties for random small scenarios (hypothesis): conservation, non-negativity,
monotonicity in capacity on common random numbers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import simulate_once
from sim.experiments.verification import loss_scenario
from sim.model.simulation import build
from tests.conftest import small_scenario

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    capacity=st.floats(0.05, 2.0),
    patience=st.floats(10.0, 1800.0),
    backoff=st.floats(1.0, 120.0),
    attendance=st.floats(0.1, 1.0),
    retries=st.booleans(),
    workers=st.integers(1, 50),
    seed=st.integers(0, 10_000),
)
def test_conservation_and_non_negativity(capacity: float, patience: float, backoff: float,
                                         attendance: float, retries: bool, workers: int,
                                         seed: int) -> None:
    sc = small_scenario(0.004, [
        f"behaviour.patience_s={patience}",
        f"behaviour.backoff_initial_s={backoff}",
        f"behaviour.backoff_max_s={max(backoff, 240.0)}",
        f"behaviour.attendance={attendance}",
        f"behaviour.retries={str(retries).lower()}",
        f"platforms[1].frontend.workers={workers}",
    ], capacity_factor=capacity)
    model = build(sc, seed)
    res = model.run()  # raises ConservationError if the books do not balance
    cons = res.meta["conservation"]
    assert cons["intending"] == cons["joined"] + cons["gave_up"] + cons["still_trying"]
    assert (res.timeseries["value"] >= 0).all()
    for k, v in res.kpis.items():
        assert v is None or v >= 0, k
    assert res.kpis["joins_succeeded"] <= res.kpis["join_attempts"]
    assert model.behaviour.in_session == 0 and model.behaviour.lobby_n == 0


@SETTINGS
@given(servers=st.integers(2, 40), extra=st.integers(1, 10), load=st.floats(0.3, 1.5),
       seed=st.integers(0, 10_000))
def test_loss_system_monotone_in_capacity(servers: int, extra: int, load: float,
                                          seed: int) -> None:
    """Same arrivals and holding times: more slots never block more (sample-path)."""
    a = simulate_once(loss_scenario(load * servers, servers, arrivals=2_000), seed)
    b = simulate_once(loss_scenario(load * servers, servers + extra, arrivals=2_000), seed)
    refused_a = a.extra["refused_capacity"]
    refused_b = b.extra["refused_capacity"]
    assert refused_b <= refused_a
    assert a.kpis["join_attempts"] == b.kpis["join_attempts"]
