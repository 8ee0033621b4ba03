"""What a fault or a policy can do to requests and rooms, declared per type — and the one place
that decides from those declarations which shortcuts of the run stay exact: settling retries
at a down server, and counting reconnects instead of simulating them.

Settling (``sim.model.behaviour.retry``) decides a retry chain that meets a server outage of known
end at once, instead of event by event. That is exact only while nothing but the server can
change the chain's course during the outage:

- a login chain: nothing else can log the pupil in meanwhile — true for every declared type
  (a type that routes requests elsewhere would have to say so and be refused here);
- a pupil's join chain: additionally the room must not fail, re-open, or lose its
  participants other than by its teacher giving up, which the settling window accounts for.

Counted reconnects (``sim.model.behaviour.sessions``): a participant who drops gets straight
back in unless the way in can refuse — a platform's front end or dispatcher
(:data:`Effect.FAILS_WAY_IN`, decided per platform by :func:`rejoins_can_fail`) or the pupil's
own school server when it may go down (the server itself knows: ``RequestQueue.tracked``).

Every fault and policy class states ``effects``; a class that does not (``None``, inherited
from :class:`Declares`) turns settling off and has every drop simulated, so forgetting the
declaration is never unsafe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    # a platform's way in (its front end or dispatcher) refuses requests: a participant who
    # drops may not get back in
    FAILS_WAY_IN = "fails a platform's way in"


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


def rejoins_can_fail(declared: Iterable[tuple[type[Declares], str | None]],
                     platforms: Sequence[str]) -> list[bool]:
    """Per platform (in the order of ``platforms``): whether a participant who drops may fail
    to get back in through the platform's front end or dispatcher, so that the drops must be
    simulated rather than counted.

    ``declared``: each fault or policy of the run as ``(its type, the platform it acts on)``
    (None: no single platform). A type that declares ``FAILS_WAY_IN`` fails the way in of its
    platform (of every platform if it names none); a type without a declaration, of every
    platform.
    """
    out = [False] * len(platforms)
    for cls, platform in declared:
        effects = cls.__dict__.get("effects", None)
        if effects is not None and Effect.FAILS_WAY_IN not in effects:
            continue
        if effects is None or platform is None:
            return [True] * len(platforms)
        out[list(platforms).index(platform)] = True
    return out
