"""Small pure helpers the checks share: combining statuses and describing observations."""

from __future__ import annotations

from collections.abc import Iterable

from failover.model import FindingStatus, Observation, ObsStatus

_ORDER = {
    FindingStatus.SKIP: -1,
    FindingStatus.PASS: 0,
    FindingStatus.WARN: 1,
    FindingStatus.UNKNOWN: 2,
    FindingStatus.FAIL: 3,
}


def worst(statuses: Iterable[FindingStatus]) -> FindingStatus:
    """Fail beats unknown beats warn beats pass: unknown is never healthy, but a known failure is worse.
    Skip (not applicable) loses to everything; nothing at all is a pass."""
    result: FindingStatus | None = None
    for s in statuses:
        if result is None or _ORDER[s] > _ORDER[result]:
            result = s
    return result if result is not None else FindingStatus.PASS


def from_observation(obs: Observation | None) -> FindingStatus:
    if obs is None or obs.status == ObsStatus.ERROR:
        return FindingStatus.UNKNOWN
    if obs.status == ObsStatus.FAILED:
        return FindingStatus.FAIL
    if obs.status == ObsStatus.WARN:
        return FindingStatus.WARN
    return FindingStatus.PASS


def join(parts: list[str], limit: int = 3) -> str:
    if len(parts) <= limit:
        return "; ".join(parts)
    return "; ".join(parts[:limit]) + f"; and {len(parts) - limit} more"
