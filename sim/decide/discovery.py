"""Scenario discovery: the regions of the uncertain inputs where a label (a plan fails, the
cheapest plan changes) concentrates — PRIM boxes and CART rules, in domain units.

PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", *Statistics and Computing* 9:123–143), as scenario discovery uses
it (Bryant & Lempert 2010, *Technological Forecasting & Social Change* 77:34–49):

- **peeling**: from the box holding every draw, remove the ``alpha`` share of the box's
  points at the low or the high end of one input — whichever of the 2 × d candidates leaves
  the highest density — until the box holds less than ``min_mass`` of the draws; every box
  on the way is the **peeling trajectory** (coverage falls, density rises);
- **pasting**: a chosen box's limits are widened again, ``alpha`` of its points at a time,
  while widening raises the density;
- **coverage** = labelled draws in the box / all labelled draws; **density** = labelled
  draws in the box / draws in the box; **mass** = draws in the box / all draws;
- **quasi-p** per restricted input: the one-sided binomial probability of at least the box's
  labelled count among its draws, were the label as frequent as in the box with that one
  limit removed (Bryant & Lempert 2010; the EMA Workbench's form). A large value says the
  restriction adds nothing beyond chance;
- **box selection**: the box of highest density whose coverage is at least
  ``min_coverage``;
- **reproducibility**: PRIM re-run on ``n`` bootstrap resamples of the draws, with the same
  parameters and selection: how often each input is restricted, and the Jaccard overlap of the
  resampled box's draws with the original box's draws.

Inputs are numeric (a config path's value per draw); weights are not used — resample a
weighted posterior first (``sim.decide.posterior``). CART (Breiman, Friedman, Olshen & Stone
1984) is scikit-learn's ``DecisionTreeClassifier``; its leaves predicting the label are
rendered as rules, like PRIM boxes, in the inputs' own units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.report.i18n import EN, Tr

Limits = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Box:
    """One box: its limits per input (``-inf``/``inf`` where unrestricted) and its scores."""

    limits: Limits
    coverage: float
    density: float
    mass: float
    n: int
    quasi_p: dict[str, float] = field(default_factory=dict)

    @property
    def restricted(self) -> list[str]:
        """The inputs this box restricts (a finite limit on either side)."""
        return [k for k, (lo, hi) in self.limits.items() if np.isfinite(lo) or np.isfinite(hi)]

    def significant(self, level: float = 0.05) -> list[str]:
        """The restricted inputs whose quasi-p is below ``level``: the restrictions that are
        more than chance (peeling on noisy labels also trims inputs that do not matter)."""
        return [k for k in self.restricted if self.quasi_p.get(k, 1.0) < level]


@dataclass(frozen=True)
class Discovery:
    """PRIM's result: the peeling trajectory, the chosen (pasted) box and its index."""

    trajectory: list[Box]
    chosen: Box
    index: int


def _inside(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((x >= lo) & (x <= hi), axis=1)


def _arrays(x: pd.DataFrame, y: Sequence[bool] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = x.to_numpy(dtype=float)
    ys = np.asarray(y, dtype=bool)
    if xs.ndim != 2 or len(xs) != len(ys) or len(ys) == 0:
        raise ValueError("discovery: inputs and labels must be non-empty and of equal length")
    if not np.all(np.isfinite(xs)):
        raise ValueError("discovery: inputs must be finite numbers")
    if not ys.any():
        raise ValueError("discovery: no draw carries the label: nothing to discover")
    return xs, ys


def _limits(names: Sequence[str], xs: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Limits:
    """Limits with the data's own range reported as unrestricted (±inf)."""
    out: Limits = {}
    for j, name in enumerate(names):
        a = float(lo[j]) if lo[j] > xs[:, j].min() else -np.inf
        b = float(hi[j]) if hi[j] < xs[:, j].max() else np.inf
        out[name] = (a, b)
    return out


def _box(names: Sequence[str], xs: np.ndarray, ys: np.ndarray, lo: np.ndarray,
         hi: np.ndarray) -> Box:
    inside = _inside(xs, lo, hi)
    n, k = int(inside.sum()), int(ys[inside].sum())
    limits = _limits(names, xs, lo, hi)
    quasi: dict[str, float] = {}
    for j, name in enumerate(names):
        if not (np.isfinite(limits[name][0]) or np.isfinite(limits[name][1])):
            continue
        rlo, rhi = lo.copy(), hi.copy()
        rlo[j], rhi[j] = -np.inf, np.inf
        relaxed = _inside(xs, rlo, rhi)
        p = ys[relaxed].mean()
        quasi[name] = float(stats.binom.sf(k - 1, n, p)) if n else 1.0
    return Box(limits=limits, coverage=k / int(ys.sum()), density=k / n if n else 0.0,
               mass=n / len(ys), n=n, quasi_p=quasi)


def _best_peel(xs: np.ndarray, ys: np.ndarray, inside: np.ndarray, lo: np.ndarray,
               hi: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The peel (one input's low or high ``alpha`` share of the box) leaving the highest
    density; ties broken by the larger remaining box. ``None``: no peel removes a point."""
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    for j in range(xs.shape[1]):
        col = xs[inside, j]
        for side in (0, 1):
            q = np.quantile(col, alpha if side == 0 else 1 - alpha, method="linear")
            keep = inside & ((xs[:, j] > q) if side == 0 else (xs[:, j] < q))
            # a peel must remove points but never all: with ties, step to the next value
            if keep.sum() == inside.sum() or not keep.any():
                continue
            nlo, nhi = lo.copy(), hi.copy()
            if side == 0:
                nlo[j] = xs[keep, j].min()
            else:
                nhi[j] = xs[keep, j].max()
            kept = _inside(xs, nlo, nhi)
            cand = (float(ys[kept].mean()), int(kept.sum()), nlo, nhi)
            if best is None or cand[:2] > best[:2]:
                best = cand
    return None if best is None else (best[2], best[3])


def peel(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, alpha: float = 0.05,
         min_mass: float = 0.05) -> list[Box]:
    """PRIM's peeling trajectory: the box of all draws first, then each peel's box."""
    if not 0 < alpha < 0.5 or not 0 < min_mass < 1:
        raise ValueError("discovery: need 0 < alpha < 0.5 and 0 < min_mass < 1")
    xs, ys = _arrays(x, y)
    names = [str(c) for c in x.columns]
    lo, hi = xs.min(axis=0), xs.max(axis=0)
    trajectory = [_box(names, xs, ys, lo, hi)]
    while True:
        step = _best_peel(xs, ys, _inside(xs, lo, hi), lo, hi, alpha)
        if step is None:
            break
        nlo, nhi = step
        if _inside(xs, nlo, nhi).mean() < min_mass:
            break
        lo, hi = nlo, nhi
        trajectory.append(_box(names, xs, ys, lo, hi))
    return trajectory


def paste(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, box: Box,
          alpha: float = 0.05) -> Box:
    """Widen ``box`` one limit at a time (``alpha`` of its draws per step) while the density
    rises (Friedman & Fisher 1999, section 8)."""
    xs, ys = _arrays(x, y)
    names = [str(c) for c in x.columns]
    lo = np.array([box.limits[n][0] for n in names])
    hi = np.array([box.limits[n][1] for n in names])
    lo = np.where(np.isfinite(lo), lo, xs.min(axis=0))
    hi = np.where(np.isfinite(hi), hi, xs.max(axis=0))
    density = ys[_inside(xs, lo, hi)].mean()
    while True:
        n_add = max(1, round(alpha * _inside(xs, lo, hi).sum()))
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for j in range(xs.shape[1]):
            others = np.delete(np.arange(xs.shape[1]), j)
            near = _inside(xs[:, others], lo[others], hi[others])
            for side in (0, 1):
                out = near & ((xs[:, j] < lo[j]) if side == 0 else (xs[:, j] > hi[j]))
                if not out.any():
                    continue
                vals = np.sort(xs[out, j])
                edge = vals[::-1][:n_add][-1] if side == 0 else vals[:n_add][-1]
                nlo, nhi = lo.copy(), hi.copy()
                (nlo if side == 0 else nhi)[j] = edge
                d = float(ys[_inside(xs, nlo, nhi)].mean())
                if d > density and (best is None or d > best[0]):
                    best = (d, nlo, nhi)
        if best is None:
            return _box(names, xs, ys, lo, hi)
        density, lo, hi = best


def select(trajectory: Sequence[Box], min_coverage: float = 0.5) -> int:
    """The index of the densest box with coverage ≥ ``min_coverage`` (the first box, all
    draws, when none qualifies but it); ties: the larger box (earlier on the trajectory)."""
    ok = [i for i, b in enumerate(trajectory) if b.coverage >= min_coverage] or [0]
    return max(ok, key=lambda i: (trajectory[i].density, -i))


def prim(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, alpha: float = 0.05,
         min_mass: float = 0.05, min_coverage: float = 0.5,
         pasting: bool = True) -> Discovery:
    """Peel, select the densest box with enough coverage, paste it."""
    trajectory = peel(x, y, alpha, min_mass)
    i = select(trajectory, min_coverage)
    chosen = paste(x, y, trajectory[i], alpha) if pasting else trajectory[i]
    return Discovery(trajectory=trajectory, chosen=chosen, index=i)


@dataclass(frozen=True)
class Reproducibility:
    """How often each input is restricted in resampled boxes, and the boxes' overlap."""

    restricted_share: dict[str, float]
    jaccard_mean: float
    jaccard: list[float]


def members(x: pd.DataFrame, box: Box) -> np.ndarray:
    """Which rows of ``x`` lie in ``box``."""
    xs = x.to_numpy(dtype=float)
    lo = np.array([box.limits[str(c)][0] for c in x.columns])
    hi = np.array([box.limits[str(c)][1] for c in x.columns])
    return _inside(xs, lo, hi)


def reproducibility(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, n: int = 20,
                    seed: int = 0, **kw: float) -> Reproducibility:
    """PRIM on ``n`` bootstrap resamples (seeded), compared with PRIM on all draws."""
    ys = np.asarray(y, dtype=bool)
    ref = members(x, prim(x, ys, **kw).chosen)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys((str(c) for c in x.columns), 0)
    jac: list[float] = []
    for _ in range(n):
        idx = rng.integers(0, len(ys), len(ys))
        if not ys[idx].any():
            continue
        box = prim(x.iloc[idx].reset_index(drop=True), ys[idx], **kw).chosen  # type: ignore[arg-type]
        for name in box.restricted:
            counts[name] += 1
        got = members(x, box)
        union = int((got | ref).sum())
        jac.append(int((got & ref).sum()) / union if union else 1.0)
    done = max(1, len(jac))
    return Reproducibility(restricted_share={k: v / done for k, v in counts.items()},
                           jaccard_mean=float(np.mean(jac)) if jac else float("nan"),
                           jaccard=jac)


# ------------------------------------------------------------------------------ CART
@dataclass(frozen=True)
class Rule:
    """A CART leaf predicting the label: its conditions and its scores, like a box."""

    limits: Limits
    coverage: float
    density: float
    n: int


def cart_rules(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, max_depth: int = 3,
               min_samples_leaf: int = 20, seed: int = 0) -> list[Rule]:
    """The leaves of a classification tree (scikit-learn) where the label is the majority,
    densest first, each as limits per input (``-inf``/``inf`` where unrestricted)."""
    from sklearn.tree import DecisionTreeClassifier  # heavy import, used here only

    xs, ys = _arrays(x, y)
    names = [str(c) for c in x.columns]
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed).fit(xs, ys)
    t = tree.tree_
    leaf = tree.apply(xs)
    rules: list[Rule] = []

    def walk(node: int, lo: np.ndarray, hi: np.ndarray) -> None:
        if t.children_left[node] == -1:
            inside = leaf == node
            k, n = int(ys[inside].sum()), int(inside.sum())
            if n and k / n > 0.5:
                rules.append(Rule(limits={m: (float(lo[j]), float(hi[j]))
                                          for j, m in enumerate(names)},
                                  coverage=k / int(ys.sum()), density=k / n, n=n))
            return
        j, thr = int(t.feature[node]), float(t.threshold[node])
        lhi, rlo = hi.copy(), lo.copy()
        lhi[j], rlo[j] = min(hi[j], thr), max(lo[j], thr)
        walk(int(t.children_left[node]), lo, lhi)  # x ≤ thr
        walk(int(t.children_right[node]), rlo, hi)  # x > thr

    walk(0, np.full(len(names), -np.inf), np.full(len(names), np.inf))
    return sorted(rules, key=lambda r: (-r.density, -r.coverage))


# --------------------------------------------------------------------------- wording
def describe(limits: Limits, labels: Mapping[str, str] | None = None, tr: Tr = EN,
             digits: int = 2) -> str:
    """A box or rule in a planner's words: "‹input› below 0.083 and ‹input› above 0.4";
    ``labels`` name the inputs (a config path → its words); values in the input's units, to
    ``digits`` significant digits."""
    parts: list[str] = []
    for name, (lo, hi) in limits.items():
        label = (labels or {}).get(name, name)
        if np.isfinite(lo) and np.isfinite(hi):
            parts.append(tr("{name} between {low} and {high}", name=label,
                            low=tr.sig(lo, digits), high=tr.sig(hi, digits)))
        elif np.isfinite(hi):
            parts.append(tr("{name} at most {value}", name=label, value=tr.sig(hi, digits)))
        elif np.isfinite(lo):
            parts.append(tr("{name} at least {value}", name=label, value=tr.sig(lo, digits)))
    if not parts:
        return tr("all draws")
    return tr(" and ").join(parts)
