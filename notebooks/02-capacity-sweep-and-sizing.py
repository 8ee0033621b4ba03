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
# a cluster). Nodes and front-end workers are scaled with the population; the node counts in
# the sweep are *at this scale* and are converted back to the whole state at the end.

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
import math
from pathlib import Path

import pandas as pd

from sim import config_path, load_scenario, simulate
from sim.model.scale import scale_count, scaled
from sim.report import (
    SweepData,
    kpi_vs_param,
    point_stats,
    render_sweep,
    sizing_answer,
    target_text,
)
from sim.runs.io import write_parquet, write_text

# the shipped scenarios are found through the installed package, wherever this notebook is
SCENARIO = Path(CONFIG) if Path(CONFIG).is_file() else config_path(CONFIG)
OUT = Path.cwd() / "out" / "notebooks" / "02-sweep"
base = load_scenario(SCENARIO)
ISERV = next(i for i, p in enumerate(base.platforms) if p.name == "iserv")
FULL_NODES = base.platforms[ISERV].clusters[0].nodes
PARTICIPANTS_PER_NODE = base.platforms[ISERV].clusters[0].node_max_participants
ISERV_NODES = f"platforms[iserv].clusters[{base.platforms[ISERV].clusters[0].name}].nodes"
NODES_PARAM = f"param:{ISERV_NODES}"  # config paths by name, as the report prints them
SLOTS_PARAM = "param:policies.stagger.school_number_slots"


def at_scale(overrides=()):
    """The scenario at population SCALE, a faithful miniature (``sim.model.scale`` builds SCALE of
    every central capacity); node counts in ``overrides`` are the whole state's."""
    return scaled(load_scenario(SCENARIO, [f"day.end={DAY_END}", *overrides]), SCALE)


# %% [markdown]
# ## The sweep
#
# One row per (point, replication), in the same long format `dlsim sweep` writes
# (`results.parquet`: parameter columns `param:<config path>`, one column per KPI), so the
# same report functions read both.

# %%
# whole-state node counts whose miniatures differ (SCALE of them is what is simulated)
node_counts = sorted({round(max(1, round(FULL_NODES * SCALE * s)) / SCALE) for s in NODE_SHARES})
rows = []
for nodes in node_counts:
    for slots in STAGGER_SLOTS:
        sc = at_scale([f"{ISERV_NODES}={nodes}",
                       f"policies.stagger.school_number_slots={slots}",
                       f"policies.stagger.slot_min={SLOT_MIN}"])
        res = simulate(sc, seed=SEED, replications=REPLICATIONS)
        for rep, run in enumerate(res.runs):
            iserv_peak = run.extra.get("peak_participants_per_platform", {}).get("iserv")
            rows.append({NODES_PARAM: nodes, SLOTS_PARAM: slots, "replication": rep,
                         "seed": run.seed, **run.kpis, "iserv_peak_participants": iserv_peak})
results = pd.DataFrame(rows)
write_parquet(OUT / "results.parquet", results)
print(f"{len(results)} runs at {len(node_counts) * len(STAGGER_SLOTS)} points")

# %% [markdown]
# ## KPIs vs nodes, with 95 % confidence bands
#
# One line per staggering option; the dotted red lines are the service target.

# %%
sweep = SweepData(results, name="IServ nodes × staggered start",
                  description=f"Population scale {SCALE}, {REPLICATIONS} replications per point.")
stats = point_stats(sweep)
kpi_vs_param(stats, NODES_PARAM, target=TARGET).show()

# %%
cols = [NODES_PARAM, SLOTS_PARAM, "n", "degraded_share", "degraded_share:ci95",
        "p95_time_to_join_s", "p95_time_to_join_s:ci95", "join_success_rate"]
stats[cols].round(4)

# %% [markdown]
# ## The sizing answer
#
# The smallest node count whose conservative 95 % bound meets `TARGET` (every larger swept
# count meeting it too), per staggering option, and what it means for the whole state. Beside
# it a plain lower bound: the peak number of IServ participants divided by the participants a
# node takes — no configuration below it can work, whatever the dispatcher does.

# %%
# The IServ peak hardly depends on the node count (load refuses no one; only the participant
# limit per node does); the largest peak over the sweep gives the bound.
peak = results.groupby(SLOTS_PARAM)["iserv_peak_participants"].max()
answer = []
print("Target:", target_text(TARGET))
for (label, nodes, _), slots in zip(sizing_answer(stats, NODES_PARAM, TARGET),
                                    sorted(STAGGER_SLOTS), strict=True):
    lower = math.ceil(peak[slots] / PARTICIPANTS_PER_NODE)
    answer.append({
        "option": label,
        "≈ nodes for the whole state": nodes,
        "simulated at this scale": None if nodes is None else scale_count(nodes, SCALE),
        "lower bound (this scale)": lower,
        "today's nodes (whole state)": FULL_NODES,
    })
pd.DataFrame(answer)

# %% [markdown]
# At small scale the node counts are small integers, so the answer moves in coarse steps;
# the full-size run gives the figure to plan with. The report below has every point and the
# same charts; it is one self-contained HTML file. For bigger grids use the command line,
# which runs in parallel (Dask) and resumes: `dlsim sweep SWEEP.yaml --out DIR --workers 8`
# then `dlsim report DIR` (e.g. `configs/sweeps/nodes-x-stagger.yaml`).

# %%
path = write_text(OUT / "report.html", render_sweep(sweep, target=TARGET))
print(path)

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

from sim.decide.whatif import load_grid, run_whatif

WHATIF = OUT / "whatif"
grid_file = OUT / "whatif-grid.yaml"
OUT.mkdir(parents=True, exist_ok=True)
grid_file.write_text(yaml.safe_dump({
    "name": "notebook what-if (2 × 2, scale 0.01)",
    "base": str(config_path("whatif/scenario-c-dispatcher-fault.yaml")),
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
outcome, page = run_whatif(load_grid(grid_file), WHATIF, force=True)
print(f"{page} ({page.stat().st_size / 1e6:.1f} MB): open it in any browser, offline")
