"""The states of attempt chains and rooms (shared by the behaviour and the KPIs)."""

from __future__ import annotations

# pupil-meeting / login status
PENDING, TRYING, LOBBY, IN_SESSION, DONE, GAVE_UP = 0, 1, 2, 3, 4, 5
# meeting state
M_PENDING, M_OPENING, M_OPEN, M_CLOSED, M_FAILED = 0, 1, 2, 3, 4
