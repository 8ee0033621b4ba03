"""A platform: its front end (login/join service), its dispatcher and its conference nodes.

Schools hosted by the platform reach the hosted front end; schools that run the platform on
their own server (IServ on premises) reach that server instead (``school_server.py``), but
their video conferences still go to the platform's central conference clusters.
"""

from __future__ import annotations

import simpy

from sim.config import PlatformConfig
from sim.model.causes import LOGIN_SERVICE
from sim.model.components.conference import NodePool, ParticipantCount
from sim.model.components.dispatcher import Dispatcher
from sim.model.components.request_queue import RequestQueue
from sim.model.draws import UnitDraws
from sim.model.seeds import SeedTree


class Platform:
    def __init__(
        self,
        env: simpy.Environment,
        index: int,
        cfg: PlatformConfig,
        seeds: SeedTree,
        infra_seeds: SeedTree,
        shared: ParticipantCount,
        reserve: dict[str, int] | None = None,
    ):
        self.index = index
        self.name = cfg.name
        self.cfg = cfg
        fe = cfg.frontend
        self.frontend = RequestQueue(
            env,
            f"frontend:{cfg.name}",
            workers=fe.workers,
            timeout_s=fe.timeout_s,
            draws=UnitDraws.for_cv(seeds.rng(f"platform.{cfg.name}.frontend"), fe.service_cv),
            timeout_cause=LOGIN_SERVICE + index,
            login_service_s=fe.login_service_s,
            join_service_s=fe.join_service_s,
        )
        self.pool = NodePool(cfg.clusters, infra_seeds, shared, reserve, env)
        self.dispatcher = Dispatcher(
            self.pool,
            cfg.dispatcher,
            UnitDraws(seeds.rng(f"platform.{cfg.name}.dispatcher"), "uniform"),
            env,
        )
