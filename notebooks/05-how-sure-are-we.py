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
# # 05 · How sure are we?
#
# The default day's answers rest on inputs nobody measured: how slow an outdated school
# server is, when it crashes, how many schools have one, how many cameras are on, how much
# CPU a conference participant costs… (`data/SOURCES.md` grades most of them L). This
# notebook walks a planner through what the figures reported in January 2021 say about them:
#
# 1. **What is uncertain** — each input a distribution (`configs/priors/default-day.yaml`).
# 2. **What was reported** — the figures a run can produce, each with its error model; some
#    are *held out*: never used to fit, only to check (`data/targets/jan-2021.yaml`).
# 3. **What the figures allow** — `sim.calibrate` (ABC-SMC, pyABC): the posterior, which
#    inputs the figures pin down and which they cannot tell apart.
# 4. **Does it predict what it was not shown?** — the held-out figures against the
#    posterior-predictive 90 % intervals.
#
# **Size.** `SCALE = 0.02` with a handful of particles is what the test suite runs: a
# demonstration of the procedure, not a result — its posterior is barely narrower than the
# priors. The default day's calibration and its held-out checks are in `docs/calibration.md`
# (scale 0.05, then checked at scale 1); for a calibration of your own set e.g.
# `SCALE = 0.05`, `POPULATION = 16`, `GENERATIONS = 4`, `WORKERS = 2` (about an hour on
# 2 cores). Killed, the same call continues where it stopped.

# %% tags=["parameters"]
SCALE = 0.02  # share of Lower Saxony's schools in every calibration run
POPULATION = 4  # particles per ABC-SMC generation
GENERATIONS = 1  # at most this many generations
PREDICTIVE = 2  # fresh runs at posterior draws for the predictive checks
SEED = 1
WORKERS = None  # None: this process; 2 or more: local processes

# %%
from pathlib import Path

import pandas as pd
import plotly.express as px
import yaml

import sim

OUT = Path.cwd() / "out" / "notebooks"
config = sim.config_path("lower-saxony-scenario-c.yaml")
priors_file = sim.config_path("priors/default-day.yaml")
targets_file = sim.config_dir().parent / "data" / "targets" / "jan-2021.yaml"

# %% [markdown]
# ## 1 · What is uncertain
#
# Each input is a config path with a `scipy.stats` distribution and the row of SOURCES.md its
# range comes from. The generated population (its seed) is an input too: which schools have an
# outdated server is drawn once per population.

# %%
priors = yaml.safe_load(priors_file.read_text(encoding="utf-8"))
pd.DataFrame([{"input": i.get("label", i["path"]), "distribution": i["dist"],
               "parameters": i["params"], "source": i["source"]} for i in priors["inputs"]])

# %% [markdown]
# ## 2 · What was reported
#
# Shares, ratios and rates per IServ pupil (a miniature keeps those, never totals). The error
# model is the report's own precision: "2–3 %" an interval, "≈" a relative band, "> 2.5 M" a
# one-sided bound.

# %%
targets = yaml.safe_load(targets_file.read_text(encoding="utf-8"))
pd.DataFrame([{"figure": t["name"], "observed": t["observed"],
               "error model": next(k for k in ("interval", "relative", "bound") if k in t),
               "source": t["source"], "held out": t["held_out"]} for t in targets["targets"]])

# %% [markdown]
# ## 3 · What the figures allow
#
# A particle is one value per input; it runs every day the targets name and is accepted when
# its figures are close to the reported ones (in units of their error models). Each
# generation tightens the threshold. The directory holds pyABC's database (resumable), the
# posterior, `calibration.json` and a page in English and German.

# %%
res = sim.calibrate(config, priors_file, targets_file, OUT / "calibration", scale=SCALE,
                    population=POPULATION, generations=GENERATIONS, predictive=PREDICTIVE,
                    budget_runs=400, seed=SEED, workers=WORKERS)
inputs = pd.DataFrame([{"input": r["label"], "prior 5 %": r["prior"]["lo"],
                        "prior 95 %": r["prior"]["hi"], "posterior 5 %": r["posterior"]["lo"],
                        "posterior 95 %": r["posterior"]["hi"],
                        "width vs prior": r["width_ratio"], "identified": r["identified"]}
                       for r in res["inputs"]])
inputs.round(4)

# %% [markdown]
# An input is *identified* when its posterior 90 % interval is at most 60 % as wide as its
# prior's. The rest the figures cannot tell apart: e.g. the central servers' load at the peak
# moves with cameras × CPU law × live lessons jointly (docs/calibration.md, "Which inputs
# matter"), so one figure leaves their combination, not each of them. The pairs plot on the
# page shows such ridges.

# %%
post = pd.read_parquet(OUT / "calibration" / "posterior.parquet")
last = post[post.generation == post.generation.max()]
px.scatter(last, x="timetable.live_lesson_share", y="behaviour.webcam_share_pupils",
           size="weight", title="Posterior: live-lesson share against cameras on")

# %% [markdown]
# ## 4 · Does it predict what it was not shown?
#
# Fresh runs at posterior draws; a figure is *covered* when their 90 % interval overlaps what
# the report allows. Held-out figures were never used to fit.

# %%
pd.DataFrame([{"figure": t["name"], "held out": t["held_out"], "observed": t["observed"],
               "predicted mean": t["mean"], "predicted 5 %": t["lo"], "predicted 95 %": t["hi"],
               "covered": t["covered"]} for t in res["targets"]])

# %% [markdown]
# The page with the charts: `out/notebooks/calibration/calibration.html` (German:
# `calibration.de.html`). The next step, deciding under this uncertainty, reads the
# posterior directory.
