"""What-if grid files: a sweep file (``sim.experiments.sweep.spec``) with words for its levers.

```yaml
name: nodes-stagger-outdated
base: ../lower-saxony-scenario-c.yaml
overrides: [population.scale=0.01]
parameters:                       # every combination is simulated (a grid, never a sample)
  platforms[0].clusters[0].nodes: [2, 3, 4, 5, 6]
  policies.stagger.slot_min: [0, 10, 20]
labels:                           # optional: what the page calls a lever and its values
  platforms[0].clusters[0].nodes: {label: IServ conference nodes, unit: nodes}
  policies.stagger.slot_min:
    label: Schools start in 3 slots, this many minutes apart
    values: [all at once, 10 minutes, 20 minutes]
replications: 3
seed: 1
```

Everything but ``labels`` is validated exactly like a sweep file (unknown keys, types, paths,
values: :class:`ConfigError`, exit 2, naming the file and field). A grid whose page would be
larger than :data:`MAX_PAGE_BYTES` is refused before anything runs, with the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import ConfigError, load_yaml_text, read_config_file
from sim.decide.whatif.labels import FAILED_SERIES
from sim.experiments.sweep.spec import Scalar, Sweep, load_sweep

MAX_PAGE_BYTES = 15_000_000
"""The page's size bound (issue 16: a 5 × 5 × 4 grid with 3 replications is ≤ 15 MB)."""

# Size model of the page (see estimate_page_bytes): the inlined plotly.js, the page's own
# markup and script, and per point its key figures and mean series. A series value is at most
# 7 characters of JSON ("12345.6,"); constant series (capacity without faults) take one.
#: The files of a what-if directory beside the sweep's own.
META = "whatif.json"
PAGE = "whatif.html"

PAGE_FIXED_BYTES = 60_000
KPI_BYTES_PER_POINT = 2_500
ATTRIBUTION_BYTES_PER_POINT = 2_500  # lost minutes by cause and the cost breakdown, as text
BYTES_PER_VALUE = 7


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LeverLabel(_Strict):
    """Words for one lever."""

    label: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=40)
    values: list[str] | None = None
    """One text per value of the lever, in the order of ``parameters`` (e.g. "2 hours")."""


@dataclass
class Lever:
    path: str
    label: str
    """The grid author's words, or '' (the page then names the path in its language)."""
    unit: str
    values: list[Any]
    value_labels: list[str] | None
    """The grid author's words per value, or None (the page formats the values)."""

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "unit": self.unit,
            "values": self.values,
            "value_labels": self.value_labels,
            "control": "slider" if self.numeric and len(self.values) > 1 else "select",
        }


@dataclass
class Grid:
    """A validated what-if grid: its sweep and the words for its levers."""

    sweep: Sweep
    levers: list[Lever]

    @property
    def shape(self) -> list[int]:
        return [len(lv.values) for lv in self.levers]


def _levers(grid_src: str, sweep: Sweep, labels: dict[str, LeverLabel]) -> list[Lever]:
    problems = []
    for path in labels:
        if path not in sweep.spec.parameters:
            problems.append(f"{grid_src}: labels.{path}: not one of the parameters")
    levers = []
    for path, values in sweep.spec.parameters.items():
        assert isinstance(values, list)
        words = labels.get(path, LeverLabel())
        if words.values is not None and len(words.values) != len(values):
            problems.append(
                f"{grid_src}: labels.{path}.values: {len(words.values)} texts for "
                f"{len(values)} values"
            )
        levers.append(
            Lever(
                path=path,
                label=words.label,
                unit=words.unit,
                values=list(values),
                value_labels=list(words.values)
                if words.values is not None and len(words.values) == len(values)
                else None,
            )
        )
    if problems:
        raise ConfigError(problems)
    return levers


def plotly_js_bytes() -> int:
    from plotly.offline import get_plotlyjs

    return len(get_plotlyjs().encode())


def estimate_page_bytes(sweep: Sweep) -> int:
    """Upper estimate of the page's size before anything runs: plotly.js, the page, and per
    point its key figures and series (participants and capacity per cluster, failed
    attempts per cause, pupils trying), one value per sample of the day."""
    sc = sweep.base
    samples = int((sc.day.end - sc.day.start) // sc.day.sample_interval_s) + 1
    clusters = sum(len(p.clusters) for p in sc.platforms)
    series = 2 * clusters + len(FAILED_SERIES) + 1
    per_point = (KPI_BYTES_PER_POINT + ATTRIBUTION_BYTES_PER_POINT
                 + series * samples * BYTES_PER_VALUE)
    return plotly_js_bytes() + PAGE_FIXED_BYTES + len(sweep.points) * per_point


def load_grid(
    path: str | Path, replications: int | None = None, base: str | Path | None = None
) -> Grid:
    """Read and validate a what-if grid file (see the module docstring).

    ``base`` (the command line's CONFIG) is the scenario the grid varies; without it the
    file's ``base:`` (relative to the file) is used.

    Raises
    ------
    ConfigError
        One line per problem (file, field path, what is wrong); also when the page would be
        larger than :data:`MAX_PAGE_BYTES`.
    """
    p = Path(path)
    src = str(p)
    data = load_yaml_text(read_config_file(p), src)
    raw_labels = data.pop("labels", None) if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("sampling", "grid") != "grid":
        raise ConfigError(
            [f"{src}: sampling: a what-if page shows simulated settings only, so it needs "
             "'sampling: grid' (every combination of the listed values)"]
        )
    if base is not None and isinstance(data, dict):
        base_path = Path(base)
        if not base_path.is_file():
            raise ConfigError([f"CONFIG {base}: no such scenario file"])
        data["base"] = str(base_path.resolve())
    elif isinstance(data, dict) and "base" not in data:
        raise ConfigError(
            [f"{src}: base: missing: name the scenario here or give it as CONFIG"]
        )
    try:
        labels = _LabelsFile.model_validate({"labels": raw_labels or {}}).labels
    except ValidationError as err:
        raise ConfigError(
            [
                f"{src}: {'.'.join(str(x) for x in e['loc'])}: "
                + ("unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"])
                for e in err.errors(include_url=False)
            ]
        ) from None
    sweep = load_sweep(p, replications=replications, data=data)
    levers = _levers(src, sweep, labels)
    size = estimate_page_bytes(sweep)
    if size > MAX_PAGE_BYTES:
        raise ConfigError(
            [
                f"{src}: parameters: {len(sweep.points):,} settings make a page of about "
                f"{size / 1e6:,.1f} MB, more than the {MAX_PAGE_BYTES / 1e6:g} MB one page may "
                f"have (plotly.js {plotly_js_bytes() / 1e6:.1f} MB + about "
                f"{(size - plotly_js_bytes()) / len(sweep.points) / 1e3:,.0f} kB per setting); "
                "use fewer values, or `dlsim sweep` and its report for large grids"
            ]
        )
    return Grid(sweep=sweep, levers=levers)


class _LabelsFile(_Strict):
    labels: dict[str, LeverLabel]


__all__ = ["MAX_PAGE_BYTES", "Grid", "Lever", "LeverLabel", "Scalar", "estimate_page_bytes",
           "load_grid"]
