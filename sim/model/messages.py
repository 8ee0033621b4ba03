"""Marking English text that a reader will see: :func:`N_`.

Some text a person reads is written below the report layer — the items of a scenario's cost
(:mod:`sim.model.costs`), the notes on a run directory (:mod:`sim.runs.rundir`) — and
translated only where it is shown (:class:`sim.report.i18n.Tr`). Such English is a gettext
msgid; ``N_("…")`` marks it so that ``make i18n`` (``pybabel extract``) finds it, and leaves
it unchanged. It lives here, in the lowest layer that writes such text, so that every layer
above can use the same mark; :mod:`sim.report.i18n` re-exports it.
"""

from __future__ import annotations


def N_(msgid: str) -> str:
    """``msgid``, unchanged: marks an English message for extraction, translated later."""
    return msgid
