"""What a fault or a policy can do to requests and rooms, declared per type — and the one place
that decides from those declarations whether retries at a down server may be settled.

Settling (``sim.model.behaviour.retry``) decides a retry chain that meets a server outage of known
end at once, instead of event by event. That is exact only while nothing but the server can
change the chain's course during the outage:

- a login chain: nothing else can log the pupil in meanwhile — true for every declared type
  (a type that routes requests elsewhere would have to say so and be refused here);
- a pupil's join chain: additionally the room must not fail, re-open, or lose its
  participants other than by its teacher giving up, which the settling window accounts for.

Every fault and policy class states ``effects``; a class that does not (``None``, inherited
from :class:`Declares`) turns settling off, so forgetting the declaration is never unsafe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar


class Effect(Enum):
    """What a fault or policy may do while a run goes on."""

    FAILS_REQUESTS = "fails requests"  # front-end, dispatcher or admission failures
    OPENS_ROOMS = "opens rooms"  # a room opened by someone other than its teacher
    FAILS_ROOMS = "fails rooms"  # a room that was open (or opening) fails
    REOPENS_ROOMS = "re-opens rooms"  # an open room goes back to opening
    MOVES_PARTICIPANTS = "moves participants"  # people in a room are sent out to rejoin


# effects under which a pupil's join retries at a down front end cannot be settled
_BREAK_JOIN_SETTLING = frozenset(
    {Effect.FAILS_ROOMS, Effect.REOPENS_ROOMS, Effect.MOVES_PARTICIPANTS})


class Declares:
    """Base of every fault and policy type: ``effects`` must be stated by each class."""

    effects: ClassVar[frozenset[Effect] | None] = None


@dataclass(frozen=True)
class Settling:
    """Which retry chains at a down server may be settled at once."""

    logins: bool
    joins: bool


def settling(types: Iterable[type[Declares]]) -> Settling:
    """Whether settling applies, given the fault and policy types active in a run.

    A type without a declaration (``effects is None``) switches both off; a type that can fail,
    re-open or empty a room switches off the settling of pupils' join retries.
    """
    declared = [t.__dict__.get("effects", None) for t in types]
    if any(e is None for e in declared):
        return Settling(logins=False, joins=False)
    joins = not any(e & _BREAK_JOIN_SETTLING for e in declared if e is not None)
    return Settling(logins=True, joins=joins)
