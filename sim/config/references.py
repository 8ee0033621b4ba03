"""Checks that need the data files: names a scenario refers to, and the sanity of the tables.

A scenario names regions and school types (faults, overrides, per-type settings) that are
defined not in the scenario but in its data files (``population.regions_file``,
``population.school_types_file``). :func:`check_against_data` runs when the data files are
read (``load_marginals``: the same for ``dlsim validate``, ``run``, ``sweep`` and every point
of a sweep), so that a name pointing at nothing is an error (exit 2) instead of a fault that
silently hits no school.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.base import ConfigError
from sim.config.models import Scenario

FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR = 1, 13
"""School years in Lower Saxony: 1 (Grundschule) to 13 (Abitur at a Gymnasium or IGS)."""
MAX_CLASS_SIZE = 100.0
"""A class of more than 100 pupils is a data error (the legal maximum is about 30)."""


def _row(i: Any) -> int:
    return int(str(i)) + 2  # the header is row 1


def table_problems(types: pd.DataFrame, regions: pd.DataFrame, types_file: Path,
                   regions_file: Path) -> list[str]:
    """Rows of the data tables that cannot describe schools (numbers already non-negative)."""
    where_t = f"{types_file}: population.school_types_file"
    where_r = f"{regions_file}: population.regions_file"
    out: list[str] = []
    for i, r in types.iterrows():
        row = _row(i)
        for col in ("first_year", "last_year"):
            v = float(r[col])
            if not (v.is_integer() and FIRST_SCHOOL_YEAR <= v <= LAST_SCHOOL_YEAR):
                out.append(f"{where_t}: row {row}, column {col}: expected a school year "
                           f"{FIRST_SCHOOL_YEAR}–{LAST_SCHOOL_YEAR}, got {r[col]!r}")
        if not 1.0 <= float(r["class_size"]) <= MAX_CLASS_SIZE:
            out.append(f"{where_t}: row {row}, column class_size: expected 1–"
                       f"{MAX_CLASS_SIZE:g} pupils per class, got {r['class_size']!r}")
        for col in ("schools", "pupils"):
            if not float(r[col]).is_integer():
                out.append(f"{where_t}: row {row}, column {col}: expected a whole number, "
                           f"got {r[col]!r}")
        if float(r["schools"]) >= 1 and float(r["pupils"]) < float(r["schools"]):
            out.append(f"{where_t}: row {row}: fewer pupils ({r['pupils']:g}) than schools "
                       f"({r['schools']:g})")
    dup = regions.loc[regions["region"].duplicated(), "region"].tolist()
    if dup:
        out.append(f"{where_r}: region(s) {sorted(set(dup))} appear in more than one row")
    for col in ("pupil_share", "schools_share"):
        for i in regions.index[regions[col] > 1.0].tolist()[:5]:
            out.append(f"{where_r}: row {_row(i)}, column {col}: a share must not exceed 1, "
                       f"got {regions.at[i, col]!r}")
    return out


def reference_problems(scenario: Scenario, type_names: set[str], region_names: set[str],
                       source: str) -> list[str]:
    """Names of regions and school types the scenario refers to that the data do not define."""
    out: list[str] = []

    def unknown(path: str, what: str, name: str, known: set[str]) -> None:
        out.append(f"{source}: {path}: unknown {what} {name!r} (known: "
                   f"{', '.join(sorted(known))})")

    pop = scenario.population
    state_regions = region_names  # a move takes a region of the state (not the external block)
    if pop.external is not None:  # the external block of schools is a region of its own
        region_names = region_names | {"external"}
    missing = sorted(set(pop.school_types or []) - type_names)
    if missing:
        out.append(f"{source}: population.school_types: unknown school type(s) {missing} "
                   f"(known: {', '.join(sorted(type_names))})")
    for setting in ("start_offset_min_by_type", "live_lesson_share_by_type"):
        for name in getattr(scenario.timetable, setting):
            if name not in type_names:
                unknown(f"timetable.{setting}.{name}", "school type", name, type_names)
    for i, o in enumerate(scenario.assignment.region_overrides):
        if o.region not in region_names:
            unknown(f"assignment.region_overrides[{i}].region", "region", o.region, region_names)
    for region in scenario.assignment.region_moves:
        if region not in state_regions:
            unknown(f"assignment.region_moves.{region}", "region", region, state_regions)
    selected = set(pop.school_types) if pop.school_types else type_names
    for i, f in enumerate(scenario.faults):
        # every fault kind that targets schools by region or school type (a field of that
        # name), not a list of kinds: a new kind is checked without an edit here
        f_region: str | None = (getattr(f, "region", None)
                                if "region" in type(f).model_fields else None)
        stype: str | None = (getattr(f, "school_type", None)
                             if "school_type" in type(f).model_fields else None)
        if f_region is not None and f_region not in region_names:
            unknown(f"faults[{i}].region", "region", f_region, region_names)
        if stype is not None and stype not in type_names:
            unknown(f"faults[{i}].school_type", "school type", stype, type_names)
        if stype in type_names and stype not in selected:
            out.append(f"{source}: faults[{i}].school_type: {stype!r} is not "
                       "simulated (population.school_types leaves it out)")
    return out


def region_school_counts(schools_share: Any, n_schools: int) -> Any:
    """Schools of each region: its exact share of ``n_schools``, whole numbers by largest
    remainder (they sum to ``n_schools``); one rule for the population and its checks."""
    import numpy as np

    share = np.asarray(schools_share, dtype=float)
    exact = share / share.sum() * n_schools
    counts = np.floor(exact).astype(np.int64)
    short = n_schools - int(counts.sum())
    if short > 0:
        counts[np.argsort(counts - exact, kind="stable")[:short]] += 1
    return counts


def override_problems(scenario: Scenario, types: pd.DataFrame, regions: pd.DataFrame,
                      types_file: Path, source: str) -> list[str]:
    """Region overrides asking for more schools than their region has (the whole state at
    scale 1, as ``schools`` is given): never cut silently to what there is. With
    ``population.school_types`` selecting some types, an override places those of its
    schools that are simulated (the default's 99 city schools are not all Gymnasien)."""
    try:
        n = int(sum(float(x) for x in types["schools"]))
    except (TypeError, ValueError):  # the table's own check names the bad cell
        return []
    if n <= 0 or regions.empty or float(regions["schools_share"].sum()) <= 0:
        return []
    counts = dict(zip(regions["region"], region_school_counts(regions["schools_share"], n),
                      strict=True))
    asked: dict[str, int] = {}
    told: set[str] = set()
    out = []
    for i, o in enumerate(scenario.assignment.region_overrides):
        if o.region not in counts:
            continue  # unknown regions (and the external block) are reported elsewhere
        asked[o.region] = asked.get(o.region, 0) + o.schools
        has = int(counts[o.region])
        if asked[o.region] > has and o.region not in told:
            told.add(o.region)  # one line per region: the overrides after it follow from it
            before = asked[o.region] - o.schools
            also = f" (with {before:,} placed by the overrides before it)" if before else ""
            share = float(regions.loc[regions["region"] == o.region, "schools_share"].iloc[0])
            out.append(f"{source}: assignment.region_overrides[{i}].schools: asks for "
                       f"{asked[o.region]:,} schools of region {o.region!r}{also}, which has "
                       f"{has:,} (schools_share {share:g} of the {n:,} schools in {types_file})")
    return out


def school_number_problems(scenario: Scenario, n_schools: int, source: str) -> list[str]:
    """School numbers in ``assignment.replaced_servers``/``upgraded_uplinks`` that the run's
    population (``n_schools``: numbers 0 … n − 1) does not have — never skipped silently."""
    out = []
    for hook in ("replaced_servers", "upgraded_uplinks"):
        beyond = sorted({i for i in getattr(scenario.assignment, hook) if i >= n_schools})
        if not beyond:
            continue
        shown = ", ".join(f"{i:,}" for i in beyond[:5])
        if len(beyond) > 5:
            shown += f" and {len(beyond) - 5:,} more"
        out.append(f"{source}: assignment.{hook}: school number(s) {shown} not in the "
                   f"population, which has {n_schools:,} schools (numbers 0–{n_schools - 1:,} "
                   f"at population.scale {scenario.population.scale:g})")
    return out


def check_against_data(scenario: Scenario, types: pd.DataFrame, regions: pd.DataFrame,
                       types_file: Path, regions_file: Path) -> None:
    """:class:`ConfigError` listing every problem of the tables and of the names the scenario
    refers to (``types``: every row of the school-types file, before any selection)."""
    source = scenario.source_path or "<scenario>"
    problems = table_problems(types, regions, types_file, regions_file)
    problems += reference_problems(
        scenario, set(types["school_type"]), set(regions["region"]), source
    )
    if not problems:
        problems += override_problems(scenario, types, regions, types_file, source)
    if problems:
        raise ConfigError(problems)
