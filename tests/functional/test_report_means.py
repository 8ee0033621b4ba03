"""Every table of the run report shows the same runs as its headline (issue 25, point 1).

The headline is the mean over the replications (``kpis_per_replication``); the breakdowns by
school type, region, platform and server, the affected schools and ``Results.schools`` were
replication 1 alone, unlabelled (194,617 lost minutes in the headline, 201,961 in the tables).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from sim import Results, simulate
from sim.report import Tr, render_report
from sim.report.run_report import breakdown_table
from tests.conftest import small_scenario

FAULT = ("faults=[{kind: dispatcher_failure, label: dispatcher fault (test), platform: iserv, "
         "start: '08:00', end: '08:40'}]")


@pytest.fixture(scope="module")
def res() -> Results:
    return simulate(small_scenario(0.02, ["day.end=10:30", FAULT]), seed=3, replications=3)


def _mean(res: Results, kpi: str) -> float:
    return float(np.mean(res.summary["kpis_per_replication"][kpi]))


def test_replications_differ(res: Results) -> None:
    """The test means something only when the replications' minutes differ."""
    per = res.summary["kpis_per_replication"]["lost_pupil_minutes"]
    assert len(set(per)) == 3, per


def test_schools_table_is_the_mean_over_replications(res: Results) -> None:
    s = res.schools
    assert len(s) == len(res.runs[0].schools)
    assert s["lost_pupil_minutes"].sum() == pytest.approx(_mean(res, "lost_pupil_minutes"),
                                                          rel=1e-9)
    assert s["affected"].sum() / len(s) == pytest.approx(_mean(res, "affected_schools_share"),
                                                         rel=1e-9)
    per_school = np.mean([r.schools["gave_up"].to_numpy() for r in res.runs], axis=0)
    np.testing.assert_allclose(s["gave_up"].to_numpy(), per_school)
    # what describes the school is the same in every replication, and kept as it is
    for c in ("school_type", "region", "platform", "server", "pupils"):
        assert s[c].tolist() == res.runs[0].schools[c].tolist()


def _column(table_html: str, col: int) -> list[float]:
    """The numbers of one column of a rendered English table."""
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, re.S)
    out = []
    for r in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        if cells:
            out.append(float(cells[col].replace(",", "")))
    return out


@pytest.mark.parametrize("by", ["school_type", "region", "platform", "server"])
def test_breakdowns_add_up_to_the_headline(res: Results, by: str) -> None:
    """Each breakdown's lost minutes and affected schools sum to the mean of the replications
    (to the rounding of each row)."""
    t = str(breakdown_table(res.schools, by, Tr("en"), res.scenario))
    lost = _column(t, 5)
    assert sum(lost) == pytest.approx(_mean(res, "lost_pupil_minutes"), abs=len(lost))
    affected = _column(t, 7)
    n = len(res.schools)
    assert sum(affected) == pytest.approx(_mean(res, "affected_schools_share") * n,
                                          abs=0.05 * len(affected) + 1e-9)


def test_report_says_which_runs_its_tables_show(res: Results) -> None:
    page = render_report(res, lang="en")
    assert "mean over the 3 replications" in page
    one = render_report(Results(res.runs[:1]), lang="en")
    assert "One replication: the figures are its own." in one


def test_a_cause_absent_from_one_replication_counts_zero(res: Results) -> None:
    """The by-cause columns of the schools table: a cause one replication did not see has no
    column there and counts 0 (as in the summary's mean by cause)."""
    cause = next(c for c in res.runs[0].schools.columns if c.startswith("lost_pupil_minutes:"))
    runs = [dataclasses.replace(r) for r in res.runs]  # the fixture's runs stay as they are
    runs[1].schools = runs[1].schools.drop(columns=[cause])  # as if the cause were absent
    s = Results(runs).schools
    want = (res.runs[0].schools[cause].to_numpy() + res.runs[2].schools[cause].to_numpy()) / 3
    np.testing.assert_allclose(s[cause].to_numpy(), want)


def test_an_older_run_directory_says_its_tables_are_replication_1(res: Results) -> None:
    """A directory written before the mean (replication 1's schools, boolean ``affected``)
    says so rather than passing replication 1 off as the mean."""
    old = res.to_run_data()
    old.schools = res.runs[0].schools
    page = render_report(old, lang="en")
    assert "These tables show replication 1 of 3 only" in page
    assert "mean over the 3 replications" not in page
