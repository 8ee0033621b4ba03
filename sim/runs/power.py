"""How many paired replications would show a change of a given size: the power of the
two-sided paired t-test (``dlsim compare``'s verdict).

With n pairs whose differences have standard deviation s, the test statistic of a true
mean difference δ follows a noncentral t distribution with n − 1 degrees of freedom and
noncentrality δ·√n / s (scipy's ``nct``); the power is the chance that it falls outside
±t(1 − α/2, n − 1). :func:`replications_to_detect` is the least n whose power reaches
``power`` (80 %, the customary design power: Cohen 1988, *Statistical Power Analysis for
the Behavioral Sciences*, ch. 2; an assumption, A108). s is estimated from the pairs at
hand, so with few pairs N is itself rough — it says "about N".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

POWER = 0.8
"""The design power of the verdict (A108)."""
EFFECT = 0.05
"""The change the verdict asks about: 5 % of A's mean (A108)."""
MOST = 1_000_000


def power(n: int, effect: float, sd: float, alpha: float = 0.05) -> float:
    """The power of the two-sided paired t-test with ``n`` pairs against a true mean
    difference ``effect`` when the differences' standard deviation is ``sd``."""
    from scipy import stats

    if n < 2:
        return 0.0
    if sd <= 0:
        return 1.0 if effect != 0 else alpha
    df = n - 1
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    nc = abs(effect) * math.sqrt(n) / sd
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def replications_to_detect(differences: Iterable[float], effect: float, alpha: float = 0.05,
                           target: float = POWER, most: int = MOST) -> int | None:
    """The least number of pairs with which a true difference of ``effect`` is found with
    probability ``target`` (the differences' spread estimated from ``differences``); None
    when it cannot be said (fewer than two finite differences, no effect asked for) or it
    exceeds ``most``. Identical differences (no spread) need 2."""
    d = np.asarray([x for x in differences if math.isfinite(x)], dtype=float)
    if d.size < 2 or not math.isfinite(effect) or effect == 0:
        return None
    sd = float(d.std(ddof=1))
    if sd == 0:
        return 2
    if power(most, effect, sd, alpha) < target:
        return None
    lo, hi = 2, 2
    while power(hi, effect, sd, alpha) < target:  # doubling, then bisection
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if power(mid, effect, sd, alpha) >= target:
            hi = mid
        else:
            lo = mid + 1
    return hi


def verdict(kpi: str, a: Iterable[float | None], b: Iterable[float | None]) -> dict[str, Any]:
    """The comparison's verdict on one KPI from its paired replications: ``detectable``
    (the paired 95 % interval of B − A excludes 0), the ``effect`` asked about (5 % of A's
    mean), ``replications_for_effect`` (:func:`replications_to_detect`; None: cannot say) and
    the pairs ``n`` it was judged on."""
    from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS, difference_bounds, paired_difference

    xa = np.asarray([math.nan if x is None else x for x in a], dtype=float)
    xb = np.asarray([math.nan if x is None else x for x in b], dtype=float)
    d = paired_difference(xa, xb, bounds=difference_bounds(kpi))
    ok = np.isfinite(xa) & np.isfinite(xb)
    mean_a = float(xa[ok].mean()) if ok.any() else math.nan
    effect = EFFECT * abs(mean_a) if math.isfinite(mean_a) else math.nan
    return {
        "detectable": bool(d.n >= MIN_MEANINGFUL_REPLICATIONS and (d.lo > 0 or d.hi < 0)),
        "effect": effect if math.isfinite(effect) else None,
        "replications_for_effect": replications_to_detect((xb - xa)[ok], effect),
        "n": int(d.n),
    }
