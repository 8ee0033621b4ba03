"""A school's own server (IServ on premises): a few request workers behind the school's uplink.

Pupils at home reach it over the school's uplink, which they share with each other and with
the day's other traffic (task up- and downloads, staff). The server and its uplink are two
resources: a request waits for a worker (a time-out there is the tier's cause,
``school_server:current`` or ``school_server:outdated``), then its answer waits for the upload
bandwidth the other traffic leaves (:class:`~sim.model.components.uplink.Uplink`; a time-out
there is ``uplink_congestion``). Outdated servers (4–5 years old) have fewer workers, slower
service and less memory; these are the 2–3 % of schools still struggling on Wed 13 Jan 2021.
Whether a server falls over under load is the ``overload_crash`` fault's rule
(:mod:`sim.model.faults`), the same for every tier, relative to the server's own capacity.
"""

from __future__ import annotations

import simpy

from sim.config import ServerTierConfig
from sim.model.causes import SERVER_TIER_CAUSE, UPLINK_CONGESTION
from sim.model.components.request_queue import RequestQueue
from sim.model.components.uplink import Uplink
from sim.model.draws import UnitDraws


class SchoolServer(RequestQueue):
    def __init__(
        self,
        env: simpy.Environment,
        school: int,
        tier_name: str,
        tier: ServerTierConfig,
        uplink_mbit_s: float,
        background_share: float,
        draws: UnitDraws,
    ):
        super().__init__(
            env,
            f"school_server:{school}",
            workers=tier.workers,
            timeout_s=tier.timeout_s,
            draws=draws,
            timeout_cause=SERVER_TIER_CAUSE[tier_name],  # its workers
            login_service_s=tier.login_service_s,
            join_service_s=tier.join_service_s,
            uplink=Uplink(uplink_mbit_s * max(1e-3, 1.0 - background_share)),
            uplink_cause=UPLINK_CONGESTION,
            transfer_mbit=tier.page_mbit,
        )
        self.school = school
        self.tier_name = tier_name
        self.memory_mb = tier.memory_mb
        self.background_share = background_share
