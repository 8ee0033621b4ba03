# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Capacity sweep and sizing
#
# How many IServ conference nodes does an ordinary Szenario C morning need so that pupils get
# into their lessons — with 95 % confidence? And how much does a staggered start save?
#
# **The target.** The planners' service target is "≥ 99 % of pupil-meetings get in, 95 % of
# them within 2 minutes". On the default day, though, about 1–2 % of pupil-meetings fail at
# *outdated local school servers* that crash under the morning login rush — whatever the
# conference capacity (see notebook 01). Conference nodes can only fix their own part. An
# overloaded BigBlueButton node refuses no one — everyone on it gets degraded audio and video
# — so the sizing target here is: at most 1 % of the pupil-minutes in meetings on overloaded
# nodes (`degraded_share`) and 95 % of pupils in within 2 minutes (`p95_time_to_join_s`).
# Change `TARGET` below to size against anything else.
#
# We sweep the number of IServ nodes × the number of start slots (schools spread by school
# number, 15 minutes apart), run independent replications at every point, and read off the
# smallest node count whose *conservative* 95 % confidence bound meets the target.
#
# **Size.** `SCALE` sets the share of the state's schools (the tests use 0.02 and 3
# replications; for a decision use `SCALE = 1.0` and 5–10 replications, or `dlsim sweep` on
# a cluster). Nodes and front-end workers are scaled with the population. Every node count
# here is the **whole state's** (what `sim.sweep` takes and `sim.size` answers in); at a small
# `SCALE` the miniature runs `SCALE` of them, so only counts whose miniatures differ are swept.

# %% tags=["parameters"]
SCALE = 0.02  # share of Lower Saxony's schools; 1.0 = the whole state
REPLICATIONS = 3  # independent replications per point (common random numbers across points)
SEED = 1
CONFIG = "lower-saxony-scenario-c.yaml"  # a shipped scenario (sim.config_path) or a file path
NODE_SHARES = [0.35, 0.55, 0.8, 1.0, 1.25]  # of the IServ nodes in CONFIG
STAGGER_SLOTS = [1, 3]  # 1 = no staggering
SLOT_MIN = 15
DAY_END = "10:30"  # the morning peak is what needs sizing; "15:30" simulates the whole day
TARGET = (("degraded_share", "<=", 0.01), ("p95_time_to_join_s", "<=", 120.0))

# %%
from pathlib import Path

import pandas as pd
import plotly.express as px

import sim

# the shipped scenarios are found through the installed package, wherever this notebook is
SCENARIO = Path(CONFIG) if Path(CONFIG).is_file() else sim.config_path(CONFIG)
OUT = Path.cwd() / "out" / "notebooks" / "02-sweep"
base = sim.load_scenario(SCENARIO)
ISERV = next(i for i, p in enumerate(base.platforms) if p.name == "iserv")
FULL_NODES = base.platforms[ISERV].clusters[0].nodes
NODES = f"platforms[iserv].clusters[{base.platforms[ISERV].clusters[0].name}].nodes"
SLOTS = "policies.stagger.school_number_slots"
small = sim.scaled(sim.load_scenario(SCENARIO, [f"day.end={DAY_END}",
                                                f"policies.stagger.slot_min={SLOT_MIN}"]), SCALE)

# %% [markdown]
# ## The sweep
#
# `sim.sweep` runs every point × replication (the same seeds at every point: common random
# numbers) and returns one row per point × replication × KPI. With `out=` it keeps the runs in
# the same directory `dlsim sweep` writes (`results.parquet`, resumable).

# %%
# whole-state node counts whose miniatures differ (SCALE of them is what is simulated)
node_counts = sorted({round(max(1, round(FULL_NODES * SCALE * s)) / SCALE) for s in NODE_SHARES})
runs = sim.sweep(small, {NODES: node_counts, SLOTS: STAGGER_SLOTS}, replications=REPLICATIONS,
                 seed=SEED, out=OUT, force=True)
print(f"{runs['point'].nunique()} points × {REPLICATIONS} replications; whole-state IServ "
      f"nodes {node_counts} (today {FULL_NODES})")

# %% [markdown]
# ## KPIs vs nodes, with 95 % confidence intervals
#
# `sim.summarise` gives each point's mean and 95 % interval per KPI; one line per staggering
# option, the dotted line is the target.

# %%
stats = sim.summarise(runs)
for kpi, _op, threshold in TARGET:
    d = stats[stats["kpi"] == kpi].assign(**{SLOTS: lambda f: f[SLOTS].astype(str)})
    fig = px.line(d, x=NODES, y="mean", color=SLOTS, markers=True,
                  error_y=d["hi"] - d["mean"], error_y_minus=d["mean"] - d["lo"],
                  labels={NODES: "IServ nodes (whole state)", "mean": kpi, SLOTS: "start slots"},
                  title=f"{kpi} (mean and 95 % interval, {REPLICATIONS} replications)")
    fig.add_hline(y=threshold, line_dash="dot", line_color="red")
    fig.show()

# %%
wide = stats.pivot_table(index=[NODES, SLOTS], columns="kpi", values=["mean", "lo", "hi"])
wide.loc[:, (slice(None), [k for k, _, _ in TARGET] + ["join_success_rate"])].round(4)

# %% [markdown]
# ## The sizing answer
#
# The smallest whole-state node count whose conservative 95 % bound meets every part of
# `TARGET` (the upper end of the interval for a "≤" target, the lower for "≥"), every larger
# swept count meeting it too, per staggering option. `sim.size(small, NODES, target)` searches
# the same answer one target at a time, with the Erlang-B bound beside it.


# %%
def meets(row_stats):
    by = row_stats.set_index("kpi")
    return all(by.loc[k, "hi"] <= t if op == "<=" else by.loc[k, "lo"] >= t
               for k, op, t in TARGET)


answer = []
for slots, g in stats.groupby(SLOTS):
    ok = g.groupby(NODES).apply(meets, include_groups=False).sort_index()
    enough = [n for n in ok.index if ok.loc[n:].all()]
    answer.append({"start slots": slots,
                   "IServ nodes for the whole state": enough[0] if enough else "not reached",
                   f"simulated at scale {SCALE:g}": round(enough[0] * SCALE) if enough else None,
                   "today's nodes (whole state)": FULL_NODES})
pd.DataFrame(answer)

# %% [markdown]
# At small scale the node counts move in coarse steps (one miniature node is `1 / SCALE`
# of the state's); the full-size run gives the figure to plan with. The report below has
# every point and the same charts; it is one self-contained HTML file. For bigger grids use
# the command line, which runs in parallel (Dask) and resumes: `dlsim sweep SWEEP.yaml --out
# DIR --workers 8` then `dlsim report DIR` (e.g. `configs/sweeps/nodes-x-stagger.yaml`).

# %%
print(sim.report_directory(OUT))

# %% [markdown]
# ## The what-if page for the planning meeting
#
# The same questions as one offline page: a slider per lever (IServ nodes, staggered start,
# …), and for each simulated setting the day's participants against capacity, failed joins
# and pupils still trying, the key figures with 95 % intervals and the service verdict, with
# a "compare with" pin. The cell below builds a 2 × 2 page at scale 0.01 with one
# replication (seconds); the shipped grid `configs/whatif/planning-meeting.yaml` is the
# real one (`make whatif`, or `dlsim whatif --grid … --out … --workers 8`).

# %%
import yaml

WHATIF = OUT / "whatif"
grid_file = OUT / "whatif-grid.yaml"
OUT.mkdir(parents=True, exist_ok=True)
grid_file.write_text(yaml.safe_dump({
    "name": "notebook what-if (2 × 2, scale 0.01)",
    "base": str(sim.config_path("whatif/scenario-c-dispatcher-fault.yaml")),
    "overrides": ["population.scale=0.01", f"day.end={DAY_END}",
                  "policies.stagger.school_number_slots=3"],
    # whole-state node counts (a faithful miniature: 1 and 3 nodes are simulated)
    "parameters": {f"platforms[{ISERV}].clusters[0].nodes": [100, 300],
                   "policies.stagger.slot_min": [0, 10]},
    "labels": {f"platforms[{ISERV}].clusters[0].nodes": {"label": "IServ nodes",
                                                         "unit": "nodes"},
               "policies.stagger.slot_min": {"label": "Start slots apart",
                                             "values": ["no stagger", "10 minutes"]}},
    "replications": 1,
    "seed": SEED,
}, sort_keys=False), encoding="utf-8")
# the notebook's own scratch folder: the same grid resumes at once, a changed grid or model
# (another config hash) replaces it instead of refusing
page = sim.whatif(grid_file, WHATIF, force=True)
print(f"{page} ({page.stat().st_size / 1e6:.1f} MB): open it in any browser, offline")
