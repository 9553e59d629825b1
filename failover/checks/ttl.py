"""The DNS TTL verdict: an observed TTL against the workload's ``max_dns_ttl``. A check's decision, so it
lives with the checks; the probes only report the TTLs they saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failover.model import FindingStatus

__all__ = ["TtlComparison", "compare_ttl"]


@dataclass(frozen=True)
class TtlComparison:
    status: FindingStatus
    ttl: int | None
    target_s: float
    reason: str
    excess_s: float | None = None  # how far above the target (None when within or unknown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "ttl": self.ttl,
            "target_s": self.target_s,
            "reason": self.reason,
            "excess_s": self.excess_s,
        }


def compare_ttl(ttl: int | None, target_s: float, what: str = "TTL") -> TtlComparison:
    """Pure: a TTL against the workload's ``max_dns_ttl``; no TTL (not observed) is unknown, not a pass."""
    if ttl is None:
        return TtlComparison(FindingStatus.UNKNOWN, None, target_s, f"{what} unknown: no answer carried one")
    if ttl <= target_s:
        return TtlComparison(FindingStatus.PASS, ttl, target_s, f"{what} {ttl}s is within the {target_s:g}s target")
    return TtlComparison(
        FindingStatus.FAIL,
        ttl,
        target_s,
        f"{what} {ttl}s exceeds the {target_s:g}s target: resolvers keep the old answer up to {ttl}s after failover",
        excess_s=ttl - target_s,
    )
