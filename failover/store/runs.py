"""The run lifecycle's words: what a run's status means, and the handle a recorded run hands out.

Every run (``check``, ``probe``, ``inventory``, ``retention``, ``demo``, …) goes through
``Store.recorded_run`` and ends in exactly one of these statuses:

    running     started, not finished yet (or its process is still going)
    ok          finished, and every inventory it took or read was complete
    incomplete  finished, but an inventory it took or read has scopes that could not be read (the
                checks that needed them say unknown); nothing failed
    error       raised before it finished: the ``error`` column says what
    cancelled   stopped on purpose before it finished (the daemon shutting down)
    abandoned   found still ``running`` by its own vantage's next start: the process died under it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from failover.errors import StoreError
from failover.model import Inventory

__all__ = ["FINISHED", "RecordedRun", "RunCancelled", "RunStatus", "Unrecorded"]


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    INCOMPLETE = "incomplete"
    ERROR = "error"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


# A run that did its work: the schedule continues from it whether or not its evidence was whole.
FINISHED = (RunStatus.OK, RunStatus.INCOMPLETE)


class RunCancelled(Exception):
    """Raised inside a recorded run to stop it on purpose: the run ends ``cancelled`` with this message."""

    def __init__(self, message: str = "stopped before the run finished") -> None:
        super().__init__(message)


# Called when a failed run's outcome cannot be written either (run id, the status it should have had,
# why the write failed); the run stays ``running`` until its vantage's next start abandons it.
Unrecorded = Callable[[int, RunStatus, StoreError], None]


@dataclass
class RecordedRun:
    """The run in progress: its id for the rows it writes, and what its record will say."""

    id: int
    kind: str
    stats: dict[str, Any] = field(default_factory=dict)
    complete: bool = True

    def rests_on(self, inventories: Iterable[Inventory]) -> None:
        """Note the inventories this run took or read: one with unread scopes makes it ``incomplete``."""
        if not all(inv.complete for inv in inventories):
            self.complete = False

    @property
    def status(self) -> RunStatus:
        return RunStatus.OK if self.complete else RunStatus.INCOMPLETE
