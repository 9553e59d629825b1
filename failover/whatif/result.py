"""What a what-if answers (``WhatIf``), apart from how it is computed (``failover.whatif.evaluate``): a
reader of the matrix stored with the scores (``failover score``) needs these, not the checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from failover.model import RtoVerdict
from failover.whatif.domain import Domain

__all__ = ["Survival", "WhatIf", "WhatIfReason"]


class Survival(StrEnum):
    """Whether the workload would be serving (public spelling: ``yes`` / ``no`` / ``unknown``)."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class WhatIfReason:
    """Why a workload would not survive (or not in time): the check whose finding shows it, and why."""

    check: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "message": self.message}


@dataclass(frozen=True, slots=True)
class WhatIf:
    """One workload under one failed domain."""

    workload: str
    down: Domain
    survives: Survival
    serving_site: str | None
    rto_estimate_s: float | None
    rto_verdict: RtoVerdict
    rpo_exposure_s: float | None  # the lag of the copy that survives; None: unknown
    reasons: tuple[WhatIfReason, ...] = ()
    rto_target_s: float | None = None
    primary_down: bool = False  # the primary is in the failed domain (a failover is needed)

    @property
    def within_target(self) -> bool:
        """Serving again within its RTO: what ``failover whatif`` exits 0 on."""
        return self.survives == Survival.YES and self.rto_verdict == RtoVerdict.WITHIN

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (README: ``failover whatif``)."""
        return {
            "workload": self.workload,
            "down": str(self.down),
            "survives": str(self.survives),
            "serving_site": self.serving_site,
            "rto_estimate_s": self.rto_estimate_s,
            "rto_verdict": str(self.rto_verdict),
            "rpo_exposure_s": self.rpo_exposure_s,
            "reasons": [r.to_dict() for r in self.reasons],
            "rto_target_s": self.rto_target_s,
            "primary_down": self.primary_down,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WhatIf:
        """The inverse of ``to_dict`` (a matrix stored with its score); the two keys with defaults may
        be left out."""
        provider, _, region = str(d["down"]).partition(":")
        return cls(
            workload=d["workload"],
            down=Domain(provider, region or None),
            survives=Survival(d["survives"]),
            serving_site=d["serving_site"],
            rto_estimate_s=d["rto_estimate_s"],
            rto_verdict=RtoVerdict(d["rto_verdict"]),
            rpo_exposure_s=d["rpo_exposure_s"],
            reasons=tuple(WhatIfReason(r["check"], r["message"]) for r in d["reasons"]),
            rto_target_s=d.get("rto_target_s"),
            primary_down=bool(d.get("primary_down", False)),
        )
