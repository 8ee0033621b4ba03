"""The per-interval sampler: the state of every cluster, front end, school-server tier and
the people, once per ``day.sample_interval_s``.

It runs as an URGENT scheduled call, so at each instant it sees the state *before* that
instant's events (bells, meeting ends and samples all fall on whole minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.config import Scenario
from sim.model.behaviour import Behaviour
from sim.model.engine import call_urgent
from sim.model.recorder import Recorder
from sim.model.world import World


def start_sampler(sc: Scenario, world: World, beh: Behaviour, rec: Recorder,
                  progress: Callable[[float], None] | None) -> None:
    """Schedule the first sample at the start of the day; each schedules the next."""
    dt = float(sc.day.sample_interval_s)
    env = world.env
    end = sc.day.end
    tiers = sorted({s.tier_name for s in world.school_servers})
    by_tier = [(f"school_servers:{tier}",
                [s for s in world.school_servers if s.tier_name == tier]) for tier in tiers]
    span = sc.day.end - sc.day.start

    def sample(_: Any = None) -> None:
        t = env.now
        total_p = 0.0
        total_cap = 0.0
        for plat in world.platforms:
            for cname, view in zip(
                plat.pool.cluster_names, plat.pool.cluster_view(), strict=True
            ):
                comp = f"cluster:{cname}"
                for k, v in view.items():
                    rec.sample(t, comp, k, v)
                total_p += view["participants"]
                total_cap += view["capacity_participants"]
            fe = plat.frontend
            comp = f"frontend:{plat.name}"
            rec.sample(t, comp, "busy_workers", fe.busy)
            rec.sample(t, comp, "queue_length", fe.waiting)
            rec.sample(t, comp, "workers", fe.workers)
        for comp, servers in by_tier:
            busy = waiting = sat = 0
            for s in servers:
                b = s.busy
                busy += b
                waiting += s.waiting
                if b >= s.workers:
                    sat += 1
            rec.sample(t, comp, "busy_workers", busy)
            rec.sample(t, comp, "queue_length", waiting)
            rec.sample(t, comp, "saturated_servers", sat)
            rec.sample(t, comp, "servers", len(servers))
        rec.sample(t, "total", "participants", total_p)
        rec.sample(t, "total", "capacity_participants", total_cap)
        rec.sample(t, "total", "pupils_trying", beh.trying)
        rec.sample(t, "total", "pupils_in_lobby", beh.lobby_n)
        rec.sample(t, "total", "pupils_in_session", beh.in_session)
        if progress is not None:
            progress(min(1.0, (t - sc.day.start) / span))
        if t + dt <= end + 1e-9:
            call_urgent(env, dt, sample)

    call_urgent(env, 0.0, sample)
