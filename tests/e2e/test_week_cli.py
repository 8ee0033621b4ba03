"""``dlsim week`` end to end: the directory it writes, German, resume, another week refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO
from tests.reliability import cli


def _two_days(tmp: Path) -> Path:
    text = (REPO / "configs" / "2021-01-week.yaml").read_text(encoding="utf-8")
    text = text.replace("scenario: ", f"scenario: {REPO / 'configs'}/")
    keep = [ln for ln in text.splitlines()
            if not any(f"name: {d}" in ln for d in ("wed", "thu", "fri"))]
    p = tmp / "week.yaml"
    p.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return p


@pytest.mark.slow
def test_week_writes_its_directory_resumes_and_refuses_another(tmp_path: Path) -> None:
    week, out = _two_days(tmp_path), tmp_path / "out"
    code, stdout, stderr = cli(["week", str(week), "--out", str(out), "--scale", "0.01",
                                "--lang", "de"])
    assert code == 0, stderr
    for f in ("week.json", "week.parquet", "report.html", "days/1-mon/summary.json",
              "days/2-tue/report.html"):
        assert (out / f).is_file(), f
    assert "Die Tage nebeneinander" in (out / "report.html").read_text(encoding="utf-8")
    assert "schlechter Tag" in stdout  # Monday, in German on the terminal
    meta = json.loads((out / "week.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in meta["days"]] == ["mon", "tue"]
    assert {n["rule"] for n in meta["days"][1]["carried"][0]} >= {"capacity", "patience"}
    frame = pd.read_parquet(out / "week.parquet")
    assert list(frame.columns) == ["day", "date", "replication", "seed", "kpi", "value"]
    # the same command again: every day run is read back, nothing is run, same numbers
    code, _, stderr = cli(["week", str(week), "--out", str(out), "--scale", "0.01"])
    assert code == 0, stderr
    again = json.loads((out / "week.json").read_text(encoding="utf-8"))
    assert again["timing"]["stored_runs_reused"] == 2
    pd.testing.assert_frame_equal(frame, pd.read_parquet(out / "week.parquet"))
    # another week (a rule switched off) into the same --out: refused, exit 2
    code, _, stderr = cli(["week", str(week), "--out", str(out), "--scale", "0.01",
                           "--set", "carry_over.patience.enabled=false"])
    assert code == 2 and "holds the results of another week" in stderr
