"""The school registry: schools and classes of Lower Saxony generated from public marginals.

The marginals (pupils and schools per school type, class sizes, year ranges, regional shares)
live in ``data/*.csv`` and are documented in ``data/SOURCES.md``. The registry is generated
reproducibly from ``population.seed`` — the state does not change between replications —
and scaled by ``population.scale`` for fast tests.

Everything is kept in numpy arrays (one entry per school / per class): the model never loops
over pupils in Python.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.config.references import (
    check_against_data,
    region_school_counts,
    school_number_problems,
)
from sim.model.seeds import SeedTree

SCHOOL_TYPE_COLUMNS = {
    "school_type": str,
    "label": str,
    "pupils": float,
    "schools": float,
    "class_size": float,
    "first_year": float,
    "last_year": float,
}
REGION_COLUMNS = {"region": str, "pupil_share": float, "schools_share": float}
# Optional column of the school-types file: the legal class-size cap (blank = none), S24.
MAX_CLASS_COLUMN = "max_class_size"

TIER_NONE, TIER_CURRENT, TIER_OUTDATED = -1, 0, 1
TIER_NAMES = {TIER_CURRENT: "current", TIER_OUTDATED: "outdated"}


@dataclass
class Population:
    """Schools and classes as parallel numpy arrays."""

    type_names: list[str]
    type_labels: list[str]
    region_names: list[str]
    platform_names: list[str]
    # per school
    school_type: np.ndarray  # int16 index into type_names
    school_region: np.ndarray  # int16 index into region_names
    school_platform: np.ndarray  # int16 index into platform_names
    school_on_prem: np.ndarray  # bool: front end is the school's own server
    school_tier: np.ndarray  # int8: TIER_NONE / TIER_CURRENT / TIER_OUTDATED
    school_uplink_mbit_s: np.ndarray  # float64
    school_pupils: np.ndarray  # int32
    # per class
    class_school: np.ndarray  # int32
    class_year: np.ndarray  # int16
    class_size: np.ndarray  # int32
    class_first_pupil: np.ndarray  # int64: pupils of a class are first..first+size-1
    meta: dict[str, float] = field(default_factory=dict)

    @property
    def n_schools(self) -> int:
        return int(self.school_type.size)

    @property
    def n_classes(self) -> int:
        return int(self.class_school.size)

    @property
    def n_pupils(self) -> int:
        return int(self.class_size.sum())

    def schools_frame(self) -> pd.DataFrame:
        """One row per school with readable categories (for reports and notebooks)."""
        tiers = np.array(["hosted", "current", "outdated"])
        return pd.DataFrame(
            {
                "school": np.arange(self.n_schools),
                "school_type": np.array(self.type_names)[self.school_type],
                "region": np.array(self.region_names)[self.school_region],
                "platform": np.array(self.platform_names)[self.school_platform],
                "server": tiers[self.school_tier + 1],
                "uplink_mbit_s": self.school_uplink_mbit_s,
                "pupils": self.school_pupils,
            }
        )


def _read_csv(path: Path, columns: dict[str, type], field_name: str) -> pd.DataFrame:
    where = f"{path}: population.{field_name}"
    try:
        df = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        why = {"UnicodeDecodeError": "not a UTF-8 text file",
               "EmptyDataError": "the file is empty"}.get(type(exc).__name__,
                                                        type(exc).__name__)
        raise ConfigError([f"{where}: cannot read as CSV ({why})"]) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError([f"{where}: missing column(s) {', '.join(missing)}"])
    problems = []
    for col, typ in columns.items():
        if typ is float:
            vals = pd.to_numeric(df[col], errors="coerce")
            bad = df.index[vals.isna() | ~np.isfinite(vals.astype(float)) | (vals < 0)].tolist()
            for row in bad[:5]:
                problems.append(
                    f"{where}: row {row + 2}, column {col}: expected a non-negative number, "
                    f"got {str(df.at[row, col])!r}"
                )
            df[col] = vals.astype(float)
    if MAX_CLASS_COLUMN in df.columns:
        # optional: blank = no cap; otherwise a number ≥ 1
        vals = pd.to_numeric(df[MAX_CLASS_COLUMN], errors="coerce")
        given = df[MAX_CLASS_COLUMN].notna()
        bad = df.index[given & (vals.isna() | (vals < 1))].tolist()
        for row in bad[:5]:
            problems.append(
                f"{where}: row {row + 2}, column {MAX_CLASS_COLUMN}: expected blank or a "
                f"number ≥ 1, got {str(df.at[row, MAX_CLASS_COLUMN])!r}"
            )
        df[MAX_CLASS_COLUMN] = vals.astype(float)
    if problems:
        raise ConfigError(problems)
    if df.empty:
        raise ConfigError([f"{where}: no rows"])
    return df


def _type_row_problems(types: pd.DataFrame, where: str) -> list[str]:
    """Per row of a school-type table (1-based CSV rows after the header): years in order,
    positive schools and class size."""
    out = []
    for i, r in types.iterrows():
        row = int(str(i)) + 2
        if r["last_year"] < r["first_year"]:
            out.append(f"{where}: row {row}: last_year is before first_year")
        if r["class_size"] <= 0 or r["schools"] <= 0:
            out.append(f"{where}: row {row}: schools and class_size must be positive")
    return out


def load_marginals(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and check the school-type and region tables named by the scenario."""
    pop = scenario.population
    types_path = scenario.resolve_path(pop.school_types_file)
    regions_path = scenario.resolve_path(pop.regions_file)
    for p, f in ((types_path, "school_types_file"), (regions_path, "regions_file")):
        if not p.is_file():
            raise ConfigError(
                [
                    f"{scenario.source_path or '<scenario>'}: population.{f}: "
                    f"data file not found: {p}"
                ]
            )
    types = _read_csv(types_path, SCHOOL_TYPE_COLUMNS, "school_types_file")
    all_types = set(types["school_type"])
    regions = _read_csv(regions_path, REGION_COLUMNS, "regions_file")
    where_t = f"{types_path}: population.school_types_file"
    problems = []
    if types["school_type"].duplicated().any():
        dup = types.loc[types["school_type"].duplicated(), "school_type"].tolist()
        problems.append(f"{where_t}: duplicate school_type {dup}")
    problems += _type_row_problems(types, where_t)
    where_r = f"{regions_path}: population.regions_file"
    for col in ("schools_share", "pupil_share"):
        total = float(regions[col].sum())
        if not np.isclose(total, 1.0, atol=1e-3):
            problems.append(f"{where_r}: column {col} must sum to 1, sums to {total:.4f}")
    if problems:
        raise ConfigError(problems)
    check_against_data(scenario, types, regions, types_path, regions_path)
    if pop.school_types is not None:
        unknown = sorted(set(pop.school_types) - set(types["school_type"]))
        if unknown:
            raise ConfigError(
                [
                    f"{scenario.source_path or '<scenario>'}: population.school_types: unknown "
                    f"school type(s) {unknown} (known: {sorted(types['school_type'])})"
                ]
            )
        types = types[types["school_type"].isin(pop.school_types)].reset_index(drop=True)
    known_types = all_types
    src = scenario.source_path or "<scenario>"
    for setting in ("start_offset_min_by_type", "live_lesson_share_by_type"):
        for name in getattr(scenario.timetable, setting):
            if name not in known_types:
                raise ConfigError(
                    [f"{src}: timetable.{setting}.{name}: unknown school type {name!r} "
                     f"(known: {', '.join(sorted(known_types))})"]
                )
    known_regions = set(regions["region"])
    for i, o in enumerate(scenario.assignment.region_overrides):
        if o.region not in known_regions:
            raise ConfigError(
                [
                    f"{scenario.source_path or '<scenario>'}: "
                    f"assignment.region_overrides[{i}].region: unknown region {o.region!r} "
                    f"(known: {sorted(known_regions)})"
                ]
            )
    check_size(scenario, types)
    numbered = school_number_problems(scenario, school_count(scenario, types), src)
    if numbered:
        raise ConfigError(numbered)
    return types.reset_index(drop=True), regions.reset_index(drop=True)


def school_count(scenario: Scenario, types: pd.DataFrame) -> int:
    """Schools of the population ``build_population`` makes from ``types`` (the simulated
    school types): the state's block and ``population.external``'s, numbered 0 … count − 1."""
    n = sum(max(1, round(float(s) * scenario.population.scale)) for s in types["schools"])
    ext = scenario.population.external
    if ext is not None:
        n += sum(max(1, round(float(s) * ext.scale))
                 for s in load_external_types(scenario, types)["schools"])
    return int(n)


def load_external_types(scenario: Scenario, types: pd.DataFrame) -> pd.DataFrame:
    """The school-type table of ``population.external`` (the state's if it names none)."""
    ext = scenario.population.external
    if ext is None or ext.school_types_file is None:
        return types
    path = scenario.resolve_path(ext.school_types_file)
    field = "external.school_types_file"
    if not path.is_file():
        raise ConfigError(
            [f"{scenario.source_path or '<scenario>'}: population.{field}: "
             f"data file not found: {path}"]
        )
    ext_types = _read_csv(path, SCHOOL_TYPE_COLUMNS, field)
    unknown = sorted(set(ext_types["school_type"]) - set(types["school_type"]))
    where = f"{path}: population.{field}"
    problems = []
    if unknown:
        problems.append(
            f"{where}: school type(s) {unknown} are not in the state's table "
            f"(known: {sorted(types['school_type'])})"
        )
    if ext_types["school_type"].duplicated().any():
        problems.append(f"{where}: duplicate school_type")
    problems += _type_row_problems(ext_types, where)
    if problems:
        raise ConfigError(problems)
    return ext_types.reset_index(drop=True)


def _schools_and_classes(
    types: pd.DataFrame, scale: float, size_cv: float, rng: np.random.Generator,
    type_index: dict[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Schools (type, pupils) and their classes (school, year, size) from the marginals.

    ``type_index`` maps the table's school types to the registry's type indices (for a block
    generated from another table, e.g. other states' IServ schools); default: row order."""
    sigma = float(np.sqrt(np.log1p(size_cv**2)))
    s_type: list[np.ndarray] = []
    s_pupils: list[np.ndarray] = []
    c_school: list[np.ndarray] = []
    c_year: list[np.ndarray] = []
    c_size: list[np.ndarray] = []
    next_school = 0
    for t_idx, row in types.iterrows():
        n = max(1, round(row["schools"] * scale))
        mean_size = row["pupils"] / row["schools"]
        raw = np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
        # Rescale so the type's total is exact (n × mean size), then round by largest
        # remainder: the per-type totals match the statistics, not just on average.
        target = round(mean_size * n)
        exact = np.maximum(raw / raw.sum() * target, 1.0)
        exact *= target / exact.sum()
        sizes = np.floor(exact).astype(np.int64)
        short = target - int(sizes.sum())
        if short > 0:
            sizes[np.argsort(sizes - exact, kind="stable")[:short]] += 1
        sizes = np.maximum(sizes, 1)
        years = np.arange(int(row["first_year"]), int(row["last_year"]) + 1)
        ny = years.size
        # Pupils per (school, year): even split, remainder to the lower years.
        base = sizes[:, None] // ny
        rem = sizes[:, None] % ny
        per_year = base + (np.arange(ny)[None, :] < rem)
        n_cls = np.maximum(1, np.rint(per_year / row["class_size"])).astype(np.int64)
        cap = row.get(MAX_CLASS_COLUMN, np.nan)
        if cap == cap:  # not NaN: a legal maximum class size (S24) — split larger groups
            n_cls = np.maximum(n_cls, np.ceil(per_year / float(cap)).astype(np.int64))
        n_cls[per_year == 0] = 0
        # Split each (school, year) into n_cls near-equal classes.
        flat_pupils = per_year.ravel()
        flat_ncls = n_cls.ravel()
        rep = np.repeat(np.arange(flat_pupils.size), flat_ncls)
        k = np.arange(rep.size) - np.repeat(np.cumsum(flat_ncls) - flat_ncls, flat_ncls)
        sz = flat_pupils[rep] // flat_ncls[rep] + (k < flat_pupils[rep] % flat_ncls[rep])
        ti = int(str(t_idx)) if type_index is None else type_index[str(row["school_type"])]
        s_type.append(np.full(n, ti, dtype=np.int16))
        s_pupils.append(sizes)
        c_school.append(rep // ny + next_school)
        c_year.append(years[rep % ny])
        c_size.append(sz)
        next_school += n
    return (np.concatenate(s_type), np.concatenate(s_pupils), np.concatenate(c_school),
            np.concatenate(c_year), np.concatenate(c_size))


def _assign_regions(
    school_pupils: np.ndarray, regions: pd.DataFrame, rng: np.random.Generator,
    tolerance: float = 0.005, max_swaps: int = 5000,
) -> np.ndarray:
    """Region of each school, honouring both the regions' school counts and pupil totals.

    Each region gets exactly its share of the schools (largest remainder on
    ``schools_share``), drawn at random; then schools are swapped between a region with too
    many pupils and one with too few (the pair whose size difference best closes the gap)
    until every region's pupils are within ``tolerance`` of ``pupil_share`` × all pupils. The
    city of Hannover has 99 schools but ≈48,200 pupils (S44): larger schools than the state's
    average, which a draw by school counts alone would miss (it gave ≈33,000).
    """
    n_s = school_pupils.size
    n_r = len(regions)
    counts = region_school_counts(regions["schools_share"].to_numpy(float), n_s)
    region = np.repeat(np.arange(n_r), counts)[rng.permutation(n_s)].astype(np.int16)
    pshare = regions["pupil_share"].to_numpy(float)
    size = school_pupils.astype(np.int64)
    target = pshare / pshare.sum() * float(size.sum())
    total = np.bincount(region, weights=size, minlength=n_r)
    for _ in range(max_swaps):
        gap = total - target
        rel = gap / np.maximum(target, 1.0)
        if np.all(np.abs(rel) <= tolerance):
            break
        # the worst region, and a partner on the other side of its target
        r = int(np.argmax(np.abs(rel)))
        others = np.flatnonzero(np.sign(gap) == -np.sign(gap[r]))
        if others.size == 0:
            break
        q = int(others[np.argmax(np.abs(rel[others]))])
        hi, lo = (r, q) if gap[r] > 0 else (q, r)  # hi has too many pupils
        want = min(abs(gap[r]), abs(gap[q]))
        in_hi = np.flatnonzero(region == hi)
        in_lo = np.flatnonzero(region == lo)
        if in_hi.size == 0 or in_lo.size == 0:
            break
        # a random sample of candidates keeps each step cheap and the result seed-dependent
        a = rng.choice(in_hi, size=min(in_hi.size, 256), replace=False)
        b = rng.choice(in_lo, size=min(in_lo.size, 256), replace=False)
        diff = size[a][:, None] - size[b][None, :]
        score = np.where(diff > 0, np.abs(diff - want), np.inf)
        k = int(np.argmin(score))
        if not np.isfinite(score.flat[k]) or score.flat[k] >= want:
            break  # no swap brings the two regions closer
        i, j = a[k // b.size], b[k % b.size]
        region[i], region[j] = lo, hi
        d = float(size[i] - size[j])
        total[hi] -= d
        total[lo] += d
    return region


def _servers(
    scenario: Scenario, school_platform: np.ndarray, pidx: dict[str, int],
    rng: np.random.Generator, hosted: np.ndarray | None = None, first: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On-premise flag, server tier and uplink of each school.

    ``hosted``: schools moved to a central platform (``assignment.region_moves``): hosted
    there, never on their own server. ``first``: the school number of the block's first school
    (the lists of replaced servers and upgraded uplinks hold ``schools.parquet`` numbers)."""
    n_s = school_platform.size
    on_prem = np.zeros(n_s, dtype=bool)
    u = rng.random(n_s)
    for name, share in scenario.assignment.on_prem_share.items():
        on_prem |= (school_platform == pidx[name]) & (u < share)
    if hosted is not None:
        on_prem &= ~hosted
    tier = np.full(n_s, TIER_NONE, dtype=np.int8)
    outdated = rng.random(n_s) < scenario.assignment.outdated_share
    tier[on_prem] = TIER_CURRENT
    tier[on_prem & outdated] = TIER_OUTDATED
    # the levers' changes below come after every draw, so every other school keeps its draw
    replaced = _block(scenario.assignment.replaced_servers, first, n_s)
    tier[replaced[tier[replaced] == TIER_OUTDATED]] = TIER_CURRENT
    mix = scenario.assignment.uplink_mix
    up = np.array([m.mbit_s for m in mix])
    ups = np.array([m.share for m in mix])
    uplink = up[rng.choice(len(mix), size=n_s, p=ups / ups.sum())].astype(float)
    upgraded = _block(scenario.assignment.upgraded_uplinks, first, n_s)
    uplink[upgraded] = next_uplink_class(uplink[upgraded], up)
    return on_prem, tier, uplink


def _block(numbers: list[int], first: int, n: int) -> np.ndarray:
    """The school numbers of ``numbers`` in the block ``first … first + n − 1``, as indices."""
    return np.array(sorted({i - first for i in numbers if first <= i < first + n}), dtype=int)


def next_uplink_class(mbit_s: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The next faster uplink class of each rate (the fastest class stays where it is)."""
    rates = np.unique(classes)
    k = np.searchsorted(rates, mbit_s, side="right")
    return np.where(k < rates.size, rates[np.minimum(k, rates.size - 1)], mbit_s)


def region_moves(scenario: Scenario, school_region: np.ndarray, school_platform: np.ndarray,
                 region_names: list[str], platform_names: list[str]) -> np.ndarray:
    """The schools ``assignment.region_moves`` moves: every school of a named region that is
    not already on the region's new platform (a boolean mask over ``school_region``)."""
    moved = np.zeros(school_region.size, dtype=bool)
    for region, platform in scenario.assignment.region_moves.items():
        moved |= ((school_region == region_names.index(region))
                  & (school_platform != platform_names.index(platform)))
    return moved


def build_population(scenario: Scenario) -> Population:
    """Generate the school registry for a scenario (deterministic in ``population.seed``).

    With ``population.external`` another block of schools (other states using the same
    platform, e.g. IServ's national load) is generated from the same marginals and put on that
    platform, in region ``external``.
    """
    types, regions = load_marginals(scenario)
    pop = scenario.population
    tree = SeedTree(pop.seed)
    rng_region = tree.rng("population.regions")
    rng_platform = tree.rng("population.platforms")

    school_type, school_pupils, class_school, class_year, class_size = _schools_and_classes(
        types, pop.scale, pop.size_cv, tree.rng("population.sizes"))
    n_s = school_type.size

    region_names = regions["region"].tolist()
    school_region = _assign_regions(school_pupils, regions, rng_region)

    platform_names = [p.name for p in scenario.platforms]
    pidx = {n: i for i, n in enumerate(platform_names)}
    school_platform = np.full(n_s, -1, dtype=np.int16)
    for o in scenario.assignment.region_overrides:
        members = np.flatnonzero(
            (school_region == region_names.index(o.region)) & (school_platform < 0)
        )
        k = min(members.size, round(o.schools * pop.scale))
        chosen = rng_platform.choice(members, size=k, replace=False) if k else members[:0]
        school_platform[chosen] = pidx[o.platform]
    rest = np.flatnonzero(school_platform < 0)
    shares = scenario.assignment.platform_shares
    names = list(shares)
    p = np.array([shares[n] for n in names])
    school_platform[rest] = np.array([pidx[n] for n in names])[
        rng_platform.choice(len(names), size=rest.size, p=p / p.sum())
    ]
    # moves (a lever) after the platform draw: no other school's platform changes
    moved = region_moves(scenario, school_region, school_platform, region_names, platform_names)
    for region, platform in scenario.assignment.region_moves.items():
        school_platform[moved & (school_region == region_names.index(region))] = pidx[platform]
    on_prem, tier, uplink = _servers(scenario, school_platform, pidx,
                                     tree.rng("population.servers"), hosted=moved)

    ext = pop.external
    if ext is not None:
        e_types = load_external_types(scenario, types)
        e_type, e_pupils, e_cschool, e_cyear, e_csize = _schools_and_classes(
            e_types, ext.scale, pop.size_cv, tree.rng("population.external.sizes"),
            type_index={n: i for i, n in enumerate(types["school_type"])})
        e_platform = np.full(e_type.size, pidx[ext.platform], dtype=np.int16)
        e_on_prem, e_tier, e_uplink = _servers(scenario, e_platform, pidx,
                                               tree.rng("population.external.servers"),
                                               first=n_s)
        region_names = [*region_names, "external"]
        school_region = np.concatenate(
            [school_region, np.full(e_type.size, len(region_names) - 1, dtype=np.int16)])
        class_school = np.concatenate([class_school, e_cschool + n_s])
        class_year = np.concatenate([class_year, e_cyear])
        class_size = np.concatenate([class_size, e_csize])
        school_type = np.concatenate([school_type, e_type])
        school_pupils = np.concatenate([school_pupils, e_pupils])
        school_platform = np.concatenate([school_platform, e_platform])
        on_prem = np.concatenate([on_prem, e_on_prem])
        tier = np.concatenate([tier, e_tier])
        uplink = np.concatenate([uplink, e_uplink])

    class_size = class_size.astype(np.int32)
    first = np.zeros(class_size.size, dtype=np.int64)
    np.cumsum(class_size[:-1], out=first[1:])
    return Population(
        type_names=types["school_type"].tolist(),
        type_labels=types["label"].tolist(),
        region_names=region_names,
        platform_names=platform_names,
        school_type=school_type,
        school_region=school_region,
        school_platform=school_platform,
        school_on_prem=on_prem,
        school_tier=tier,
        school_uplink_mbit_s=uplink,
        school_pupils=school_pupils.astype(np.int32),
        class_school=class_school.astype(np.int32),
        class_year=class_year.astype(np.int16),
        class_size=class_size,
        class_first_pupil=first,
        meta={"scale": pop.scale, "seed": pop.seed},
    )


# Peak memory of one run: a fixed part (interpreter, numpy/pandas/simpy, metrics) plus a part
# per pupil at home (state arrays, per-meeting records, attempt events). Measured: default day
# (1.09 M pupils, 94 % at home) peaks at ≈0.68 GiB → ≈520 B per pupil at home; 600 B is used
# so that the estimate errs on the safe side. Schools, classes and Poisson arrivals have
# arrays of their own (≈15 numbers each, 8 B apiece: 120 B; 200 B is used).
_BASE_BYTES = 150e6
_BYTES_PER_PUPIL_AT_HOME = 600.0
_BYTES_PER_RECORD = 200.0
_MEMORY_SHARE = 0.8
MAX_EVENTS = 500_000_000
"""Most join attempts, reconnects and arrivals one run may need if everything fails. The
default day needs ≈1.5·10^7 in that worst case and runs in ≈20 s; 5·10^8 is over 30 times
that — hours of simulation, no longer an answer (and a 1 ns back-off would never end)."""


def simulated_pupils(scenario: Scenario, types: pd.DataFrame) -> float:
    """Pupils a run would simulate: the marginals times ``scale`` (plus the external block)."""
    pop = scenario.population
    total = float(types["pupils"].sum()) * pop.scale
    if pop.external is not None:
        ext_total = float(types["pupils"].sum())
        if pop.external.school_types_file is not None:
            path = scenario.resolve_path(pop.external.school_types_file)
            with contextlib.suppress(OSError, ValueError, KeyError, pd.errors.ParserError,
                                     pd.errors.EmptyDataError):
                ext_total = float(pd.to_numeric(pd.read_csv(path)["pupils"]).sum())
        total += ext_total * pop.external.scale
    return total


def estimate_memory_bytes(scenario: Scenario, pupils: float) -> float:
    """Rough peak memory of one run for a population of ``pupils`` (used to refuse absurd sizes)."""
    return _BASE_BYTES + _BYTES_PER_PUPIL_AT_HOME * pupils * scenario.population.at_home_share


def attempts_per_chain(initial_s: float, factor: float, max_s: float, patience_s: float) -> float:
    """Attempts of one join (or login) that fails every time: tries until the back-offs —
    ``initial_s`` growing by ``factor`` up to ``max_s`` (jitter averages out) — exceed the
    patience."""
    n, waited, b = 1, 0.0, initial_s
    while waited + b <= patience_s:
        waited += b
        n += 1
        if b >= max_s:  # from here every back-off is max_s: the rest in one step
            n += int((patience_s - waited) // max_s)
            break
        b = min(b * factor, max_s)
    return float(n)


@dataclass
class WorkEstimate:
    """What one run would build and do (upper estimates), from the settings and data files."""

    schools: float
    classes: float
    pupils_at_home: float
    meetings: float
    joins: float
    """Join chains of pupils and logins (each may take several attempts)."""
    attempts_worst: float
    """Attempts if every attempt fails until patience runs out."""
    reconnects: float
    arrivals: float
    """Poisson arrivals (validation mode)."""
    memory_bytes: float
    drivers: dict[str, float] = field(default_factory=dict)
    """Events by what causes them (worst case), for the message that names the setting."""

    @property
    def events_worst(self) -> float:
        return sum(self.drivers.values())


def estimate_work(scenario: Scenario, types: pd.DataFrame) -> WorkEstimate:
    """Upper estimates of what a run builds (memory) and does (events), before building."""
    pop, tt, beh, day = scenario.population, scenario.timetable, scenario.behaviour, scenario.day
    scale = pop.scale + (pop.external.scale if pop.external is not None else 0.0)
    schools = float(np.maximum(1.0, np.round(types["schools"].to_numpy(float) * scale)).sum())
    pupils = simulated_pupils(scenario, types)
    years = (types["last_year"] - types["first_year"] + 1).to_numpy(float)
    per_type_classes = np.maximum(
        types["pupils"].to_numpy(float) * scale / types["class_size"].to_numpy(float),
        np.maximum(1.0, np.round(types["schools"].to_numpy(float) * scale)) * years,
    )
    classes = float(per_type_classes.sum())
    at_home = pupils * pop.at_home_share
    live = max([tt.live_lesson_share, *tt.live_lesson_share_by_type.values()])
    per_class = tt.periods * live + (tt.checkin.video_share if tt.checkin.enabled else 0.0)
    horizon = day.end - day.start
    timetable = scenario.demand.kind == "timetable"
    meetings = classes * per_class if timetable else 0.0
    chains = at_home * beh.attendance * per_class if timetable else 0.0
    # a pupil who gave up may come back (a new chain), at most once per patience + wait
    returns = beh.give_up_return_share * horizon / (beh.patience_s + beh.give_up_return_after_s)
    chains *= 1.0 + returns
    logins = at_home * scenario.login.share if timetable else 0.0
    retry = beh.retries
    per_join = attempts_per_chain(beh.backoff_initial_s, beh.backoff_factor, beh.backoff_max_s,
                                  beh.patience_s) if retry else 1.0
    per_login = attempts_per_chain(beh.backoff_initial_s, beh.backoff_factor, beh.backoff_max_s,
                                   beh.login_patience_s) if retry else 1.0
    per_teacher = attempts_per_chain(beh.backoff_initial_s, beh.backoff_factor,
                                     beh.backoff_max_s, beh.teacher_patience_s) if retry else 1.0
    arrivals = 0.0
    if scenario.demand.poisson is not None and not timetable:
        arrivals = scenario.demand.poisson.arrival_rate_per_s * horizon
    hours_per_join = tt.period_min / 60.0
    reconnects = (chains + arrivals) * hours_per_join * beh.reconnect_per_h
    drivers = {
        "pupils' join attempts": chains * per_join,
        "login attempts": logins * per_login,
        "teachers' attempts": meetings * per_teacher,
        "reconnects": reconnects,
        "Poisson arrivals": arrivals * per_join,
    }
    memory = (_BASE_BYTES + _BYTES_PER_PUPIL_AT_HOME * at_home
              + _BYTES_PER_RECORD * (schools + classes + meetings + arrivals))
    return WorkEstimate(schools, classes, at_home, meetings, chains + logins,
                        drivers["pupils' join attempts"] + drivers["login attempts"],
                        reconnects, arrivals, memory, drivers)


_SETTINGS = {
    "pupils' join attempts": "behaviour.backoff_initial_s, backoff_factor or backoff_max_s "
                             "(raise) or behaviour.patience_s (lower)",
    "login attempts": "behaviour.backoff_initial_s (raise) or behaviour.login_patience_s (lower)",
    "teachers' attempts": "behaviour.backoff_initial_s (raise) or behaviour.teacher_patience_s "
                          "(lower)",
    "reconnects": "behaviour.reconnect_per_h",
    "Poisson arrivals": "demand.poisson.arrival_rate_per_s or the length of the day",
}


def event_budget() -> tuple[int, str]:
    """Most events one run may process (the stream entries and everything scheduled), and
    the setting that says so: ``DLSIM_MAX_EVENTS`` if set, else :data:`MAX_EVENTS`."""
    env = os.environ.get("DLSIM_MAX_EVENTS")
    if not env:
        return MAX_EVENTS, f"the default of {MAX_EVENTS:,}; DLSIM_MAX_EVENTS sets another"
    try:
        n = int(env.replace("_", ""))
    except ValueError:
        raise ConfigError([f"DLSIM_MAX_EVENTS={env!r}: expected a whole number of events"]
                          ) from None
    if n < 1:
        raise ConfigError([f"DLSIM_MAX_EVENTS={env!r}: expected a whole number ≥ 1"])
    return n, "DLSIM_MAX_EVENTS"


def over_budget(scenario: Scenario, budget: int, setting: str, now: float) -> str:
    """The one line for a run stopped by its event budget: when, and the setting that drives
    most of its events (the worst-case estimate's largest part)."""
    src = scenario.source_path or "<scenario>"
    try:
        drivers = estimate_work(scenario, load_marginals(scenario)[0]).drivers
        top = max(drivers, key=lambda k: drivers[k])
        fix = f"most of them are {top}: change {_SETTINGS[top]}, or lower population.scale"
    except (ConfigError, OSError, ValueError, KeyError):  # the estimate is a hint only
        fix = "lower population.scale or the behaviour's retry and reconnect rates"
    t = int(now) % 86400
    return (f"{src}: the run needed more than {budget:,} events ({setting}) and was stopped "
            f"at {t // 3600:02d}:{t % 3600 // 60:02d} of the simulated day; {fix}")


def available_memory_bytes() -> float:
    """Memory one run may use: ``DLSIM_MAX_MEMORY_GB`` if set, else 80 % of the smaller of the
    machine's RAM and the cgroup limit of this process."""
    env = os.environ.get("DLSIM_MAX_MEMORY_GB")
    if env:
        try:
            gb = float(env)
        except ValueError:
            raise ConfigError([f"DLSIM_MAX_MEMORY_GB={env!r}: expected a number of GiB"]) from None
        if not (np.isfinite(gb) and gb > 0):
            raise ConfigError([f"DLSIM_MAX_MEMORY_GB={env!r}: expected a positive number of GiB"])
        return gb * 2**30
    limits = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limits.append(float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")))
    for cg in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(cg).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(float(text))
    return _MEMORY_SHARE * min(limits) if limits else float("inf")


def _gib(b: float) -> str:
    g = b / 2**30
    return f"{g:,.1f} GiB" if g < 10_000 else f"{g / 1024:,.0f} TiB"


def check_size(scenario: Scenario, types: pd.DataFrame) -> None:
    """Refuse (exit 2), before building anything, a run that would not fit in memory or that
    would need more than :data:`MAX_EVENTS` events in the worst case — naming what drives it
    and the setting to change."""
    src = scenario.source_path or "<scenario>"
    work = estimate_work(scenario, types)
    have = available_memory_bytes()
    if work.memory_bytes > have:
        parts = {"pupils at home": _BYTES_PER_PUPIL_AT_HOME * work.pupils_at_home,
                 "schools and classes": _BYTES_PER_RECORD * (work.schools + work.classes),
                 "meetings": _BYTES_PER_RECORD * work.meetings,
                 "Poisson arrivals": _BYTES_PER_RECORD * work.arrivals}
        top = max(parts, key=lambda k: parts[k])
        fix = {
            "pupils at home": "lower population.scale or check the pupils column of "
                              f"{scenario.resolve_path(scenario.population.school_types_file)}",
            "schools and classes": "lower population.scale or check the schools and "
                                   "class_size columns of "
                                   f"{scenario.resolve_path(scenario.population.school_types_file)}",
            "meetings": "lower population.scale or timetable.live_lesson_share",
            "Poisson arrivals": "lower demand.poisson.arrival_rate_per_s",
        }[top]
        raise ConfigError(
            [
                f"{src}: population: {work.pupils_at_home / scenario.population.at_home_share:,.0f}"
                f" pupils, {work.schools:,.0f} schools, {work.classes:,.0f} classes, "
                f"{work.meetings:,.0f} meetings, {work.arrivals:,.0f} arrivals (data file × "
                f"population.scale) would need ≈{_gib(work.memory_bytes)} of memory for one "
                f"run, more than the {_gib(have)} this run may use (80 % of RAM, or "
                f"DLSIM_MAX_MEMORY_GB); most of it for {top}: {fix}"
            ]
        )
    if work.events_worst > MAX_EVENTS:
        top = max(work.drivers, key=lambda k: work.drivers[k])
        raise ConfigError(
            [
                f"{src}: behaviour: this day could need ≈{work.events_worst:,.3g} events "
                f"(worst case, when attempts keep failing; most of them {top}: "
                f"≈{work.drivers[top]:,.3g}), more than the {MAX_EVENTS:,} a run may take "
                f"(hours of simulation); change {_SETTINGS[top]}, or lower population.scale"
            ]
        )
