"""What a cluster's nodes that are up can carry, read from a run's tidy time series (the
sampled cluster views): how full the clusters got at most (``peak_cluster_utilisation``, a
KPI), and the participants they can hold at the minute's media mix (``capacity_at_mix``: the
participant ceiling, lowered where bandwidth or CPU binds first — the one rule the reports
and the what-if page draw as "capacity").
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def peak_cluster_utilisation(ts: pd.DataFrame) -> float:
    """Highest cluster share (participants, bandwidth or CPU) of the nodes up, over clusters
    and minutes."""
    pairs = (("participants", "capacity_participants"), ("load_mbit_s", "capacity_mbit_s"),
             ("cpu", "capacity_cpu"))
    names = [m for pair in pairs for m in pair]
    sel = ts[ts["component"].str.startswith("cluster:") & ts["metric"].isin(names)]
    if sel.empty:
        return 0.0
    wide = sel.pivot_table(index=["component", "t"], columns="metric", values="value",
                           aggfunc="first")
    share = np.zeros(len(wide))
    for used, cap in pairs:
        if used in wide and cap in wide:
            u = wide[used].to_numpy(float)
            c = wide[cap].to_numpy(float)
            ok = np.isfinite(u) & np.isfinite(c) & (c > 0)
            share = np.maximum(share, np.where(ok, u / np.where(ok, c, 1.0), 0.0))
    return float(share.max()) if share.size else 0.0


#: What binds a conference node besides its participant ceiling: (used, capacity) metrics of
#: the sampled cluster views. A cluster without a CPU limit samples no ``cpu``.
_BINDING = (("load_mbit_s", "capacity_mbit_s"), ("cpu", "capacity_cpu"))
#: Minutes with fewer participants than this share of the day's peak take the media mix of
#: the nearest minute with more (issue 25: a dispatcher fault's few teachers with cameras drew
#: the capacity line down by 75 %, read as lost servers)
MIX_FLOOR = 0.05


def capacity_at_mix(ts: pd.DataFrame, component: str) -> pd.DataFrame:
    """Participants a cluster's nodes that are up can hold at each minute's media mix.

    The participant ceiling (``capacity_participants``), lowered where bandwidth or CPU binds
    first: that resource's capacity over what one participant uses of it at that minute
    (``used / participants``; minutes with fewer than :data:`MIX_FLOOR` of the day's peak
    participants take the nearest such minute's mix).
    ``component`` is ``cluster:<name>`` or ``total`` (the sum over the clusters). Returns
    columns ``t`` and ``value``, sorted by ``t``; the one rule the reports and the what-if
    page draw as "capacity".
    """
    if component == "total":
        comps = sorted(str(c) for c in ts["component"].unique()
                       if str(c).startswith("cluster:"))
        parts = [capacity_at_mix(ts, c).set_index("t")["value"] for c in comps]
        if not parts:
            return pd.DataFrame({"t": [], "value": []})
        total = pd.concat(parts, axis=1).ffill().fillna(0.0).sum(axis=1)
        return pd.DataFrame({"t": total.index.to_numpy(), "value": total.to_numpy()})
    sel = ts[ts["component"] == component]

    def metric(m: str) -> pd.Series:
        return sel[sel["metric"] == m].groupby("t")["value"].first()

    ceiling = metric("capacity_participants")
    if ceiling.empty:
        return pd.DataFrame({"t": [], "value": []})
    part = metric("participants").reindex(ceiling.index)
    # the mix of a handful of people (teachers' cameras before the lessons or while a fault
    # keeps the pupils out) is not the cluster's: minutes below MIX_FLOOR of the day's peak take
    # the nearest representative minute's, so the line moves with nodes and lessons, not with
    # who happens to be in early
    floor = max(MIX_FLOOR * float(part.max() if part.notna().any() else 0.0), 1e-9)
    held = ceiling.astype(float)
    for used_m, cap_m in _BINDING:
        used, cap = metric(used_m), metric(cap_m)
        if used.empty or cap.empty:
            continue
        per = (used.reindex(ceiling.index) / part.where(part >= floor)).ffill().bfill()
        limit = cap.reindex(ceiling.index).ffill().fillna(0.0) / per.where(per > 0)
        held = held.where(~np.isfinite(limit) | (held <= limit), limit)
    return pd.DataFrame({"t": held.index.to_numpy(), "value": held.to_numpy(float)})
