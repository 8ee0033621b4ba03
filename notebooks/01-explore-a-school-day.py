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
# # 01 · Explore a school day
#
# One ordinary Szenario C school day in Lower Saxony (like Wednesday 13 January 2021): about
# 94 % of pupils at home (no daily check-in yet: that decree came in mid-February), live
# lessons on the central BigBlueButton clusters of IServ, the Bildungscloud and the city of
# Hannover. We run the default day, look at the 08:00 peak, then change the conference
# capacity and stagger the start of school, and compare.
#
# **Size.** The parameter cell below sets `SCALE`, the share of the state's schools simulated.
# The test suite runs this notebook at `SCALE = 0.02` (about 60 schools, about half a second
# of computing per run); set `SCALE = 1.0` for the whole state (≈2,900 schools, about half a
# minute per run; run times: benchmarks/README.md). Conference
# nodes and front-end workers are scaled with the population, so a small run is stressed as
# the full state would be. Every case runs `REPLICATIONS` independent replications, so that
# each figure comes with its 95 % interval and a difference can be told from chance.
#
# Everything here comes through the front door, `import sim` (README): no module behind it.

# %% tags=["parameters"]
SCALE = 0.02  # share of Lower Saxony's schools; 1.0 = the whole state
SEED = 1
REPLICATIONS = 3  # per case, on the same seeds in every case (common random numbers)
CONFIG = "lower-saxony-scenario-c.yaml"  # a shipped scenario (sim.config_path) or a file path
NODE_SHARE = 0.5  # the "less capacity" case: this share of today's conference nodes
STAGGER_SLOTS = 3  # the "staggered start" case: schools spread over this many start slots
SLOT_MIN = 15  # minutes between start slots

# %%
from pathlib import Path

import ipywidgets as widgets
import plotly.graph_objects as go
from IPython.display import display

import sim

# the shipped scenarios are found through the installed package, wherever this notebook is
SCENARIO = Path(CONFIG) if Path(CONFIG).is_file() else sim.config_path(CONFIG)
OUT = Path.cwd() / "out" / "notebooks"


def scenario(overrides=(), node_share=1.0):
    """The scenario at population SCALE: a faithful miniature (``sim.scaled`` builds SCALE of
    every central capacity), with ``node_share`` of every cluster's nodes."""
    base = sim.load_scenario(SCENARIO, list(overrides))
    nodes = [f"platforms[{i}].clusters[{j}].nodes={max(1, round(c.nodes * node_share))}"
             for i, p in enumerate(base.platforms) for j, c in enumerate(p.clusters)
             if node_share != 1.0]
    return sim.scaled(sim.load_scenario(SCENARIO, [*overrides, *nodes]), SCALE)


def run(sc):
    """REPLICATIONS replications of ``sc`` on the notebook's seeds."""
    return sim.simulate(sc, seed=SEED, replications=REPLICATIONS)


# %% [markdown]
# ## The default day
#
# Each figure is the mean over the replications with its 95 % interval in brackets.

# %%
default = run(scenario())
sim.kpi_table({"default day": default})

# %% [markdown]
# ## The peak
#
# Concurrent participants against the capacity of the nodes that are up, for all platforms
# and per cluster. The peak comes with the first period.

# %%
ts = default.timeseries  # per minute: the mean over the replications and its 95 % band
total = sim.figures.series(ts, "total", "participants").set_index("t")["value"]
cap = sim.figures.series(ts, "total", "capacity_participants").set_index("t")["value"]
t_peak = total.idxmax()
print(f"Peak at {int(t_peak // 3600):02d}:{int(t_peak % 3600 // 60):02d}: {total.max():,.0f} "
      f"participants, {total.max() / cap.loc[t_peak]:.0%} of the conference capacity.")
default.plot().show()

# %% [markdown]
# Failed joins per minute and the pupils still trying: on an ordinary day the failures come
# from outdated local servers that crash under the morning login rush (the orange bars).

# %%
default.plot("retries").show()

# %% [markdown]
# ## What if: less capacity, staggered start
#
# `node_share` keeps that share of every cluster's nodes; `stagger_slots` spreads the schools
# over that many start slots `slot_min` apart by school number (as Bavaria's Mebis did,
# SOURCES.md S68; IServ asked schools to stagger, S59).


# %%
_runs = {}


def what_if(node_share=1.0, stagger_slots=1, slot_min=SLOT_MIN):
    """The case's replications (each case is run once, then reused)."""
    key = (node_share, stagger_slots, slot_min)
    if key not in _runs:
        overrides = [f"policies.stagger.school_number_slots={stagger_slots}",
                     f"policies.stagger.slot_min={slot_min}"]
        _runs[key] = run(scenario(overrides, node_share=node_share))
    return _runs[key]


variants = {
    "default day": default,
    f"{NODE_SHARE:.0%} of the nodes": what_if(NODE_SHARE),
    f"{NODE_SHARE:.0%} of the nodes, {STAGGER_SLOTS} start slots": what_if(
        NODE_SHARE, STAGGER_SLOTS),
}
sim.kpi_table(variants)

# %% [markdown]
# ## Change or chance?
#
# Every case ran on the same seeds (common random numbers), so replication *i* of each case
# met the same pupils and the same random events, and the cases can be compared pair by
# pair: `sim.compare` gives the mean difference B − A over the pairs with its 95 % interval.
# Only where that interval excludes zero is the difference unlikely to be chance; with
# `REPLICATIONS = 3` many are not, and more replications (or `dlsim replications`) tell.

# %%
KEY = ["join_success_rate", "lost_pupil_minutes", "p95_time_to_join_s", "gave_up"]


def change_or_chance(a, b):
    d = sim.compare(a, b).set_index("kpi").loc[KEY, ["a", "b", "diff", "lo", "hi", "p_value"]]
    d["verdict"] = [("change" if lo > 0 or hi < 0 else "could be chance")
                    for lo, hi in zip(d["lo"], d["hi"], strict=True)]
    return d


names = list(variants)
for a, b in ((names[0], names[1]), (names[1], names[2])):
    print(f"{b}  −  {a}")
    display(change_or_chance(variants[a], variants[b]).round(4))

# %% [markdown]
# Participants over the day (means over the replications):

# %%
fig = go.Figure()
for name, r in variants.items():
    s = sim.figures.series(r.timeseries, "total", "participants")
    fig.add_trace(go.Scatter(x=sim.figures.hhmm(s["t"]), y=s["value"], name=name))
    c = sim.figures.series(r.timeseries, "total", "capacity_participants")
    fig.add_trace(go.Scatter(x=sim.figures.hhmm(c["t"]), y=c["value"], name=f"capacity: {name}",
                             line={"dash": "dash", "width": 1}))
fig.update_layout(title="Concurrent participants", xaxis={"tickformat": "%H:%M"}, height=420)
fig.show()

# %% [markdown]
# ## Try it yourself
#
# Move the sliders and press *Run Interact* (each choice runs `REPLICATIONS` replications,
# seconds at `SCALE = 0.02`). The cell below also runs once without the sliders, so that it
# is tested.


# %%
def explore(node_share=NODE_SHARE, stagger_slots=STAGGER_SLOTS, slot_min=SLOT_MIN):
    r = what_if(node_share, stagger_slots, slot_min)
    display(sim.kpi_table({"default day": default, "your choice": r}))
    display(change_or_chance(default, r).round(4))
    r.plot("retries").show()
    return r


explore()
_ = widgets.interact_manual(
    explore,
    node_share=widgets.FloatSlider(value=NODE_SHARE, min=0.2, max=1.5, step=0.05),
    stagger_slots=widgets.IntSlider(value=STAGGER_SLOTS, min=1, max=6),
    slot_min=widgets.IntSlider(value=SLOT_MIN, min=0, max=30, step=5),
)

# %% [markdown]
# ## Reports to forward
#
# The full report of the default day, and the staggered variant against the reduced
# capacity (self-contained HTML files: they open offline and can be sent on).

# %%
p1 = default.report(OUT / "01-default-day.html")
p2 = sim.compare_report(variants[names[1]], variants[names[2]],
                        OUT / "01-staggering-vs-less-capacity.html", labels=(names[1], names[2]))
print(p1, p2, sep="\n")
