"""Per-minute series of each what-if run: the few the page draws, one parquet part per run.

```
DIR/series/<key>.parquet   t (s of the day), participants:<cluster>, capacity:<cluster>
                           (participant ceiling, or what the CPU holds at the minute's mix),
                           failed:<cause> (per sample interval), pupils_trying
```

``<key>`` is the sweep row's key (``sim.experiments.sweep.spec.row_key``). A part is computed where
the
run ran (:func:`extract_series`, via ``Task.extract``), written atomically
(``sim.runs.io.write_parquet``) just *before* the sweep stores the row, so a stored row always has
its series; a part without a row (killed in between) is simply rewritten when the run is
repeated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.decide.whatif.labels import FAILED_SERIES
from sim.model.capacity import capacity_at_mix
from sim.runs.io import write_parquet

STATE_METRICS = {"participants": "participants", "capacity_participants": "capacity"}


def extract_series(result: object) -> pd.DataFrame:
    """The page's series of one ``RunResult`` (a module-level function: pickles by name)."""
    ts: pd.DataFrame = result.timeseries  # type: ignore[attr-defined]
    times = np.sort(ts["t"].unique())
    cols: dict[str, np.ndarray] = {"t": times.astype(np.int32)}
    clusters = ts[ts["component"].astype(str).str.startswith("cluster:")]
    for comp in sorted(clusters["component"].astype(str).unique()):
        name = comp.split(":", 1)[1]
        sel = clusters[clusters["component"] == comp]
        for metric, col in STATE_METRICS.items():
            s = sel[sel["metric"] == metric].set_index("t")["value"]
            cols[f"{col}:{name}"] = s.reindex(times).ffill().fillna(0).to_numpy(np.float32)
        held = capacity_at_mix(ts, comp).set_index("t")["value"]  # at the minute's media mix
        cols[f"capacity:{name}"] = held.reindex(times).ffill().fillna(0).to_numpy(np.float32)
    total = ts[ts["component"] == "total"]
    for cause in FAILED_SERIES:
        s = total[total["metric"] == cause].set_index("t")["value"]
        cols[f"failed:{cause}"] = s.reindex(times).fillna(0).to_numpy(np.float32)
    s = total[total["metric"] == "pupils_trying"].set_index("t")["value"]
    cols["pupils_trying"] = s.reindex(times).ffill().fillna(0).to_numpy(np.float32)
    return pd.DataFrame(cols)


class SeriesStore:
    """``DIR/series/<key>.parquet`` of a what-if directory."""

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir) / "series"

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.parquet"

    def write(self, key: str, series: pd.DataFrame) -> Path:
        return write_parquet(self.path(key), series)

    def stored_keys(self) -> set[str]:
        """Keys with a stored series (half-written temporaries are removed)."""
        if not self.dir.is_dir():
            return set()
        for tmp in self.dir.glob(".*.parquet.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()
        return {p.name[: -len(".parquet")] for p in self.dir.glob("*.parquet")}

    def read(self, key: str) -> pd.DataFrame | None:
        p = self.path(key)
        return pq.read_table(p).to_pandas() if p.exists() else None

    def read_many(self, keys: Iterable[str]) -> list[pd.DataFrame]:
        return [df for k in keys if (df := self.read(k)) is not None]

    def discard(self) -> None:
        if self.dir.is_dir():
            for p in self.dir.glob("*.parquet"):
                p.unlink(missing_ok=True)
