"""Pupils and teachers: attempts, back-off, give-up — the part that turns a fault into a storm.

One module per concept; each step of an attempt is a callback, nothing is a generator process:

- ``pupils`` — pupils' join chains: attempt, lobby, admission, drop and rejoin, give-up, return;
- ``rooms`` — rooms and teachers: creating the room, the teacher's chain, the meeting's end,
  a lost node's meetings;
- ``lobby`` — pupils waiting for the moderator, released in one place;
- ``logins`` — the morning logins;
- ``sessions`` — participant-seconds (one place) and the counted reconnects;
- ``retry`` — the one retry rule (back-off, give-up) and settling a chain at a down server;
- ``context`` — what the parts are built from: the run they share, the pupils' rules and draws;
- ``people`` — :class:`Behaviour`, which wires them for one run.

State lives in Python buffers and lists indexed by meeting (``m``), pupil-meeting (``pm``,
one intending participant of one meeting), morning login and pupil; the rooms' lists are
shared with the pupils' chains (the same objects, no copies).
"""

from sim.model.behaviour.people import Behaviour, PeopleOutcome

__all__ = ["Behaviour", "PeopleOutcome"]
