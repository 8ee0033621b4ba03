"""A school's own server (IServ on premises): a few request workers behind the school's uplink.

Pupils at home reach it over the school's uplink, which they share with each other and with
the day's other traffic (task up-/downloads, staff). Outdated servers (4–5 years old) have
fewer workers and slower service; these are the 2–3 % of schools still struggling on
Wed 13 Jan 2021.
"""

from __future__ import annotations

import simpy

from sim.config import ServerTierConfig
from sim.model.causes import SERVER_TIER_CAUSE
from sim.model.components.request_queue import RequestQueue
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
            timeout_cause=SERVER_TIER_CAUSE[tier_name],  # its workers or its uplink
            login_service_s=tier.login_service_s,
            join_service_s=tier.join_service_s,
            link_mbit_s=uplink_mbit_s * max(1e-3, 1.0 - background_share),
            transfer_mbit=tier.page_mbit,
        )
        self.school = school
        self.tier_name = tier_name
