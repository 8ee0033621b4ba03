"""The lobby: pupils who got through before the teacher opened the room wait for the
moderator; when the room opens, fails or closes, the lobby is released in one place."""

from __future__ import annotations

from collections.abc import Callable


class Lobby:
    """Pupils waiting per meeting."""

    def __init__(self, patience_s: float):
        self.waiting: dict[int, list[int]] = {}
        self.n = 0  # pupils waiting now (live counter for the per-minute series)
        self._patience = patience_s
        self._chain: list[float] = []
        self._admit: Callable[[int, int, float], object] | None = None
        self._give_up: Callable[[int, float], None] | None = None

    def attach(self, admit: Callable[[int, int, float], object],
               give_up: Callable[[int, float], None], pm_chain: list[float]) -> None:
        """What releasing does to a pupil: let in (``admit(pm, m, now)``) or give up;
        ``pm_chain``: when each pupil-meeting's chain started (the pupils' list)."""
        self._admit = admit
        self._give_up = give_up
        self._chain = pm_chain

    def add(self, m: int, pm: int) -> None:
        self.n += 1
        self.waiting.setdefault(m, []).append(pm)

    def release(self, m: int, now: float, opened: bool) -> None:
        """The room of meeting ``m`` opened (``opened``: let everyone in whose patience is not
        exhausted) or will not open (everyone gives up, at most when their patience ran out).
        """
        waiting = self.waiting.pop(m, None)
        if not waiting:
            return
        self.n -= len(waiting)
        admit, give_up = self._admit, self._give_up
        assert admit is not None and give_up is not None
        chain, patience = self._chain, self._patience
        for pm in waiting:
            if not opened:
                give_up(pm, min(now, chain[pm] + patience))
            elif now - chain[pm] > patience:
                give_up(pm, chain[pm] + patience)
            else:
                admit(pm, m, now)
