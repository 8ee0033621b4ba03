"""The report's words and numbers: Babel formats per language, labels in words, intervals that
respect their bounds, and a report package that renders plain data (no import of Results)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.report import RunData, SweepData, Tr, point_stats
from sim.report import labels as L
from sim.report.layout import fmt_with_interval, interval_range
from sim.runs.stats import kpi_interval

REPORT = Path(__file__).resolve().parents[2] / "sim" / "report"


def test_numbers_and_dates_per_language() -> None:
    de, en = Tr("de"), Tr("en")
    assert de.num(1234.5, 1) == "1.234,5" and en.num(1234.5, 1) == "1,234.5"
    assert de.count(2801) == "2.801" and en.count(2801) == "2,801"
    assert de.pct(0.989, 1) == "98,9\u202f%" and en.pct(0.989, 1) == "98.9\u202f%"
    assert de.date(dt.date(2021, 1, 11)) == "11.01.2021"
    assert en.date(dt.date(2021, 1, 11)) == "11 Jan 2021"
    assert de.sig(0.05) == "0,05" and en.plain(0.02) == "0.02"
    assert de("Key figures") == "Kennzahlen" and en("Key figures") == "Key figures"
    with pytest.raises(ValueError, match="language 'fr'"):
        Tr("fr")


def test_labels_in_words() -> None:
    de = Tr("de")
    for path in ("platforms[0].clusters[0].nodes", "platforms[iserv].clusters[iserv-bbb].nodes",
                 "param:platforms[0].clusters[0].nodes"):
        assert L.config_path(path) == "IServ conference nodes"
    assert L.config_path("platforms[0].clusters[0].nodes", de) == "Konferenzknoten (IServ)"
    assert L.config_path("policies.stagger.school_number_slots") == "Staggered start slots"
    assert L.region("hannover_stadt", de) == "Hannover (Stadt)"
    assert L.region("osnabrueck", de) == "Osnabrück"
    assert L.school_type("foerderschule", de) == "Förderschule"
    assert L.component("frontend:bildungscloud") == "Bildungscloud login service"
    assert L.component("school_servers:outdated", de) == "veraltete Schulserver"
    assert L.value_label("school", 2801) == "no. 2801"
    assert L.value_label("uplink_mbit_s", 16.0, de) == "16\u202fMbit/s"
    assert L.column("uplink_mbit_s") == "uplink"


def _run(per_rep: dict[str, list[float]], extra: dict | None = None) -> RunData:
    n = len(next(iter(per_rep.values())))
    summary = {"scenario": "s", "replications": n,
               "kpis": {k: float(np.mean(v)) for k, v in per_rep.items()},
               "kpis_per_replication": per_rep, **(extra or {})}
    return RunData(summary, pd.DataFrame(), pd.DataFrame())


def test_share_intervals_stay_in_bounds_and_say_when_meaningless() -> None:
    d = _run({"join_success_rate": [0.999, 0.95], "lost_pupil_minutes": [10.0, 9000.0]})
    iv = d.interval("join_success_rate")
    assert iv is not None and 0 <= iv.lo <= iv.hi <= 1 and not iv.meaningful
    lost = d.interval("lost_pupil_minutes")
    assert lost is not None and lost.lo >= 0
    # too few replications: the mean alone, no range
    assert fmt_with_interval("join_success_rate", 0.9745, iv) == "97.45\u202f%"
    d3 = _run({"join_success_rate": [0.999, 0.95, 0.99]})
    iv3 = d3.interval("join_success_rate")
    assert iv3 is not None and iv3.meaningful and iv3.hi <= 1
    text = fmt_with_interval("join_success_rate", iv3.mean, iv3)
    # as precise as the interval supports (never coarser than whole percent): issue 25
    assert text.startswith("98\u202f% (") and text.endswith("%)")


def test_recorded_intervals_are_read_when_present() -> None:
    rec = {"kpis_interval95": {"join_success_rate": {
        "mean": 0.98, "lo": 0.971, "hi": 0.996, "n": 5, "method": "logit-t", "meaningful": True}}}
    d = _run({"join_success_rate": [0.98] * 5}, rec)
    iv = d.interval("join_success_rate")
    assert iv is not None and (iv.lo, iv.hi, iv.method) == (0.971, 0.996, "logit-t")
    # ± 1.25 points: to a tenth of a point (a leading 1 keeps two digits), issue 25
    assert interval_range("join_success_rate", iv, Tr("de")) == "97,1–99,6\u202f%"


def test_sweep_bands_are_clipped_to_the_kpi_bounds() -> None:
    rows = [{"param:platforms[0].clusters[0].nodes": n, "join_success_rate": v,
             "degraded_share": u, "gave_up": g}
            for n in (2, 4) for v, u, g in ((0.9999, 0.99, 0.0), (1.0002, 1.08, 0.0),
                                            (0.9, 0.97, 30.0))]
    stats = point_stats(SweepData(pd.DataFrame(rows)))
    for k in ("join_success_rate", "degraded_share"):
        assert (stats[f"{k}:lo"] >= 0).all() and (stats[f"{k}:hi"] <= 1).all()
    assert (stats["gave_up:lo"] >= 0).all()
    assert stats["join_success_rate"].max() <= 1


def test_sweep_labels_follow_the_recorded_parameter_names() -> None:
    # a base scenario whose first platform is Bildungscloud: sweep.json's parameter_names says
    # what platforms[0] was, where the default scenario's order would say IServ
    from sim.report import render_sweep

    col = "param:platforms[0].clusters[0].nodes"
    rows = [{col: n, "join_success_rate": 0.99, "gave_up": 0.0, "error": None}
            for n in (2, 4) for _ in range(3)]
    named = {"platforms[0].clusters[0].nodes": "platforms[bildungscloud].clusters[nbc-bbb].nodes"}
    with_names = render_sweep(SweepData(pd.DataFrame(rows), meta={"parameter_names": named}))
    without = render_sweep(SweepData(pd.DataFrame(rows)))
    assert "Bildungscloud conference nodes" in with_names
    assert "IServ conference nodes" not in with_names
    assert "IServ conference nodes" in without  # positional: the default scenario's order


def test_report_package_does_not_import_results() -> None:
    """sim/report renders plain data: no module in it imports sim.experiments.replications (issue
    13)."""
    for f in REPORT.glob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "sim.experiments.replications", f.name
                assert not (node.module == "sim" and any(a.name in ("Results", "results")
                                                         for a in node.names)), f.name
            elif isinstance(node, ast.Import):
                assert all(a.name != "sim.experiments.replications" for a in node.names), f.name


def test_kpi_interval_is_the_one_used() -> None:
    v = [0.97, 0.99, 0.995]
    d = _run({"join_success_rate": v})
    assert d.interval("join_success_rate") == kpi_interval("join_success_rate", v)
