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
# # 06 · The week of 11–15 January 2021
#
# Notebook 03 replays single days, each from scratch. The week was a chain: Monday's
# dispatcher fault made IServ add rented servers and ask schools to start a few minutes apart;
# teachers dared more live video as the days went well; pupils were less patient after a bad
# day. `sim.week` runs the five days in order, each an ordinary scenario run with what the
# day before taught carried over by declared rules (`configs/2021-01-week.yaml`, the rules'
# sources in data/SOURCES.md A170–A179). The planners' question: *if this happens on a
# Monday, how does the week go, and when do we recover?*
#
# **Size.** `SCALE = 0.02` in the tests (a week in about 15 s); `SCALE = 1.0` for the whole
# state (docs/week.md gives the wall times).

# %% tags=["parameters"]
SCALE = 0.02  # share of Lower Saxony's schools; 1.0 = the whole state
REPLICATIONS = 1
WEEK = "2021-01-week.yaml"  # a shipped week file (sim.config_path)

# %%
from pathlib import Path

import plotly.express as px

import sim

OUT = Path.cwd() / "out" / "notebooks"
week_file = sim.config_path(WEEK)

# %% [markdown]
# ## The week as it happened
#
# One row per day × replication × figure: the KPIs and each platform's figures
# (`iserv.joins`, `iserv.conference_hours`, …). With `out=`, the directory holds each day's run
# directory and the week report (`report.html`, German with `lang="de"`).

# %%
week = sim.week(week_file, OUT / "week", scale=SCALE, replications=REPLICATIONS, force=True)
table = week.pivot_table(index="kpi", columns="day", values="value", sort=False)
table.loc[["join_success_rate", "lost_pupil_minutes", "affected_schools_share",
           "iserv.joins", "iserv.conference_hours"]]

# %% [markdown]
# Tuesday's IServ load against Monday's (reported: about three times), and the growth
# through the week.

# %%
joins = table.loc["iserv.joins"]
print(f"Tuesday / Monday IServ joins: {joins['tue'] / joins['mon']:.1f} ×")
px.bar(joins.rename("IServ joins").reset_index(), x="day", y="IServ joins",
       title=f"IServ joins per day (scale {SCALE})")

# %% [markdown]
# ## What if the dispatcher had been rolled back by 09:00 on Monday?
#
# A one-line override of Monday's scenario (`days[mon].…`); every other day keeps its file,
# and what carries over follows from the new Monday. Each day uses the same random numbers
# as in the week above (common random numbers per day).

# %%
rollback = sim.week(week_file, scale=SCALE, replications=REPLICATIONS,
                    overrides=["days[mon].faults[0].end=09:00",
                               "days[mon].faults[0].repair_stages=1"])
both = {"as it happened": week, "rolled back by 09:00": rollback}
lost = {k: v[v.kpi == "lost_pupil_minutes"].groupby("day", sort=False)["value"].mean()
        for k, v in both.items()}
px.line({k: s.values for k, s in lost.items()} | {"day": list(lost["as it happened"].index)},
        x="day", y=list(both), markers=True, title="Lost pupil-minutes per day")

# %% [markdown]
# ## A rule switched off
#
# Every carry-over rule can be switched off (`carry_over.<rule>.enabled=false`): with common
# random numbers per day, the difference is what that rule carries. Here: no rented servers
# overnight.

# %%
no_capacity = sim.week(week_file, scale=SCALE, replications=REPLICATIONS,
                       overrides=["carry_over.capacity.enabled=false"])
cmp = (no_capacity.groupby(["kpi", "day"], sort=False)["value"].mean()
       - week.groupby(["kpi", "day"], sort=False)["value"].mean()).unstack("day")
cmp.loc[["join_success_rate", "lost_pupil_minutes", "peak_cluster_utilisation"]]
