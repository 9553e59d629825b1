"""Mechanisms by their ``dns.mechanism`` value, and the workload's routing path read once per evidence."""

from __future__ import annotations

from typing import TypeVar

from failover.checks.evidence import Evidence
from failover.checks.mechanisms.base import Mechanism, RoutingPath

MECHANISMS: dict[str, Mechanism] = {}
M = TypeVar("M", bound=type[Mechanism])


def register(cls: M) -> M:
    """Class decorator: one instance per ``dns.mechanism`` value."""
    if cls.id in MECHANISMS:
        raise ValueError(f"mechanism {cls.id!r} registered twice")
    MECHANISMS[cls.id] = cls()
    return cls


def mechanism_of(ev: Evidence) -> Mechanism | None:
    """The workload's mechanism, or None when it has no dns: section or its mechanism is not read."""
    dns = ev.workload.dns
    return MECHANISMS.get(dns.mechanism) if dns is not None else None


def routing_path(ev: Evidence) -> RoutingPath | None:
    """The workload's routing path, read once per ``Evidence`` (every reader sees the same one)."""
    mech = mechanism_of(ev)
    if mech is None:
        return None
    key = f"routing-path:{mech.id}"
    if key not in ev.memo:
        ev.memo[key] = mech.read(ev)
    path: RoutingPath = ev.memo[key]
    return path
