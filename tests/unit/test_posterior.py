"""The decision posterior (sim.decide.posterior): reading hand-written draws with one clear
line per problem, weighted resampling, the lower bound on the probability of meeting a target,
and the robust Erlang-B answer on a loss system with uncertain load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config import ConfigError, load_scenario
from sim.decide import posterior as po
from sim.experiments.analytic import erlang_b, min_servers_erlang_b

REPO = Path(__file__).resolve().parents[2]
DAY = REPO / "configs" / "lower-saxony-scenario-c.yaml"
SHARE = "assignment.outdated_share"


def _write(tmp_path: Path, table: dict) -> Path:
    p = tmp_path / "posterior.parquet"
    pd.DataFrame(table).to_parquet(p)
    return p


def _problems(path: Path, scenario=None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        po.read_posterior(path, scenario)
    return exc.value.problems


def test_reads_hand_written_draws_and_normalises_weights(tmp_path):
    p = _write(tmp_path, {SHARE: [0.1, 0.2, 0.3], "weight": [1.0, 1.0, 2.0]})
    post = po.read_posterior(p, load_scenario(DAY))
    assert list(post.columns) == [SHARE, "weight"]
    assert post["weight"].tolist() == [0.25, 0.25, 0.5]


def test_a_calibration_keeps_only_its_last_generation(tmp_path):
    p = _write(tmp_path, {SHARE: [0.1, 0.2, 0.3, 0.4], "weight": [1.0, 1, 1, 3],
                          "generation": [0, 0, 1, 1]})
    post = po.read_posterior(p)
    assert post[SHARE].tolist() == [0.3, 0.4] and post["weight"].tolist() == [0.25, 0.75]


@pytest.mark.parametrize("table, expect", [
    ({SHARE: [0.1, 0.2]}, "column 'weight': missing"),
    ({SHARE: [0.1, 0.2], "weight": [1.0, -1.0]}, "column 'weight': 1 negative weights"),
    ({SHARE: [0.1, 0.2], "weight": [0.0, 0.0]}, "column 'weight': the weights sum to zero"),
    ({SHARE: [0.1, 0.2], "weight": [1.0, np.nan]}, "column 'weight': 1 missing or infinite"),
    ({SHARE: [0.1, np.nan], "weight": [1.0, 1.0]},
     f"column '{SHARE}': 1 missing or infinite values"),
    ({SHARE: ["a", "b"], "weight": [1.0, 1.0]}, f"column '{SHARE}': not numeric"),
    ({"weight": [1.0, 1.0]}, "no config-path columns beside 'weight'"),
])
def test_bad_posteriors_name_file_and_column(tmp_path, table, expect):
    p = _write(tmp_path, table)
    problems = _problems(p)
    assert any(expect in line for line in problems), problems
    assert all(line.startswith(str(p)) for line in problems)


def test_unknown_config_path_is_named(tmp_path):
    p = _write(tmp_path, {"assignment.outdated_shaer": [0.1], "weight": [1.0]})
    problems = _problems(p, load_scenario(DAY))
    assert len(problems) == 1 and "column 'assignment.outdated_shaer'" in problems[0]
    assert problems[0].startswith(str(p))


def test_missing_and_unreadable_files(tmp_path):
    assert "no such posterior file" in _problems(tmp_path / "nope.parquet")[0]
    bad = tmp_path / "posterior.parquet"
    bad.write_text("not parquet")
    assert "not a readable parquet file" in _problems(bad)[0]


def test_resampling_follows_the_weights_and_is_seeded():
    post = pd.DataFrame({"x": [1.0, 2.0, 3.0], "weight": [0.6, 0.3, 0.1]})
    a = po.resample(post, 20_000, seed=4)
    assert list(a.columns) == ["x"]
    share = a["x"].value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(share, [0.6, 0.3, 0.1], atol=0.015)
    assert a.equals(po.resample(post, 20_000, seed=4))
    assert not a.equals(po.resample(post, 20_000, seed=5))


def test_lower_bound_is_one_sided_clopper_pearson():
    all_met = po.probability_met([True] * 100)
    assert all_met.estimate == 1.0 and all_met.lower == pytest.approx(0.05 ** (1 / 100))
    some = po.probability_met(np.r_[np.ones(90, bool), np.zeros(10, bool)])
    # a one-sided 95 % bound is the lower end of the two-sided 90 % exact interval
    ref = stats.binomtest(90, 100).proportion_ci(0.90, method="exact").low
    assert some.lower == pytest.approx(ref) and some.estimate == 0.9
    assert po.probability_met([False, False]).lower == 0.0
    assert some.settles(0.2) and not some.settles(0.1)


# A loss system whose arrival rate is uncertain: four rates with weights (μ = 1 per minute);
# the β are chosen so that 1 − β falls between the cumulative weights 0.5, 0.8, 0.95
RATES, WEIGHTS, MU, TARGET = [8.0, 10.0, 14.0, 20.0], [0.5, 0.3, 0.15, 0.05], 1.0, 0.01


@pytest.mark.parametrize("beta, rate", [(0.6, 8.0), (0.3, 10.0), (0.1, 14.0)])
def test_robust_erlang_b_answer_per_beta(beta, rate):
    c = po.robust_servers_erlang_b(RATES, WEIGHTS, MU, TARGET, beta)
    # the analytic answer: the servers the rate carrying ≥ 1 − β of the weight needs
    assert c == min_servers_erlang_b(rate / MU, TARGET)
    assert erlang_b(rate / MU, c) <= TARGET < erlang_b(rate / MU, c - 1)


def test_three_betas_give_three_answers():
    got = [po.robust_servers_erlang_b(RATES, WEIGHTS, MU, TARGET, b) for b in (0.6, 0.3, 0.1)]
    assert got[0] < got[1] < got[2]


@pytest.mark.parametrize("beta", [0.6, 0.3, 0.1])
def test_over_resampled_draws_the_estimate_picks_the_analytic_answer(beta):
    post = pd.DataFrame({"rate": RATES, "weight": WEIGHTS})
    draws = po.resample(post, 4000, seed=11)["rate"].to_numpy()
    want = po.robust_servers_erlang_b(RATES, WEIGHTS, MU, TARGET, beta)
    c = 1
    while True:  # cheapest c whose share of draws meeting the target reaches 1 − β
        p = po.probability_met([erlang_b(x / MU, c) <= TARGET for x in draws])
        if p.estimate >= 1 - beta:
            break
        c += 1
    assert c == want
    # and its lower bound is below the estimate, within a few points at 4,000 draws
    assert p.estimate - 0.03 < p.lower < p.estimate


def test_the_command_summarises_a_good_posterior(tmp_path):
    from tests.reliability import cli

    p = _write(tmp_path, {SHARE: [0.1, 0.2, 0.3], "weight": [1.0, 1.0, 2.0]})
    code, out, err = cli(["posterior", str(DAY), str(p)])
    assert code == 0, err
    assert "3 draws, effective number 2.7" in out
    assert f"{SHARE}: median 0.2 (90 % between 0.1 and 0.3)" in out
    assert list(tmp_path.iterdir()) == [p]  # reads only
