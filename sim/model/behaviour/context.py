"""What the parts of one run's behaviour are built from: the run they share (:class:`Shared`),
and the pupils' rules and random streams (:class:`PupilRules`, :class:`PupilDraws`).

Small typed records instead of long parameter lists: a part takes the run it works in, the
rules it follows and its own draws, and the wiring (``people.Behaviour``) says in one place
where each comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.config import MediaConfig
from sim.config.models import BehaviourConfig
from sim.model.behaviour.lobby import Lobby
from sim.model.behaviour.retry import RetryRule
from sim.model.behaviour.sessions import Sessions
from sim.model.demand import Demand
from sim.model.draws import UnitDraws
from sim.model.engine import Engine
from sim.model.policies import CameraRule, JoinLimiter, PolicySet
from sim.model.recorder import Recorder


@dataclass(frozen=True)
class Shared:
    """The run every part of the behaviour works in: its clock, demand and recorder, the one
    retry rule, the media mix, and the parts the pupils and the rooms share."""

    env: Engine
    demand: Demand
    recorder: Recorder
    retry: RetryRule
    media: MediaConfig
    lobby: Lobby
    sessions: Sessions
    n_pupils: int  # size of the per-pupil state (at least the population's pupils)


@dataclass(frozen=True)
class PupilRules:
    """How pupils act (patience, returning after giving up), the policies that change a join,
    and what the run's faults and policies allow (``sim.model.effects``)."""

    patience_s: float
    return_share: float  # of those who gave up, the share that comes back …
    return_after_s: float  # … this long after giving up
    limiter: JoinLimiter | None = None  # join-rate limits
    camera: CameraRule | None = None  # no camera in large rooms
    first_pupil_opens: bool = False  # the first to arrive creates the room
    settle: bool = True  # retries at a down server may be settled at once
    rejoins_fail: tuple[bool, ...] = ()  # per platform: a rejoin may fail on the way in

    @classmethod
    def of(cls, b: BehaviourConfig, policies: PolicySet, settle: bool,
           rejoins_fail: Sequence[bool]) -> PupilRules:
        """The rules of a scenario's behaviour and policies; ``settle`` and ``rejoins_fail``
        as decided from the run's declarations (``effects.settling``, ``rejoins_can_fail``)."""
        return cls(patience_s=b.patience_s, return_share=b.give_up_return_share,
                   return_after_s=b.give_up_return_after_s, limiter=policies.join_limiter,
                   camera=policies.camera, first_pupil_opens=policies.first_pupil_opens,
                   settle=b.retries and settle, rejoins_fail=tuple(rejoins_fail))


@dataclass(frozen=True)
class PupilDraws:
    """The pupils' own random streams."""

    reconnect: np.random.Generator  # drops simulated event by event
    returns: UnitDraws  # who comes back after giving up
