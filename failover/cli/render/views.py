"""What each command shows, as data: the command builds one of these and ``emit`` renders it in the
chosen format. A view holds facts, never layout; each format module decides how it looks. A probe's
result needs no view: ``emit`` takes the ``Observation`` itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from failover.errors import ConfigError
from failover.model import Drill, Finding, Inventory, Resource, Score

if TYPE_CHECKING:
    from failover.whatif import Domain, WhatIf


@dataclass(frozen=True)
class CycleView:
    """``failover check``: one stored cycle's findings and scores."""

    run_id: int
    scores: list[Score]
    findings: list[Finding]


@dataclass(frozen=True)
class ScoresView:
    """``failover score``: the latest scores with the score each had ``since_s`` earlier."""

    scores: list[Score]
    previous: dict[str, Score | None]
    since_s: float
    top: int
    whatif: list[WhatIf] = field(default_factory=list)  # each workload with aws, gcp, azure down


@dataclass(frozen=True)
class ExplainView:
    """``failover explain``: a workload's latest score (if any) and every latest finding."""

    scores: list[Score]
    findings: list[Finding]


@dataclass(frozen=True)
class DrillsView:
    """``failover drill list``: recorded drills, newest first."""

    drills: list[Drill]


@dataclass(frozen=True)
class SiteResources:
    """The resources one workload site selected."""

    workload: str
    site: str
    role: str
    account: str
    resources: list[Resource]


@dataclass(frozen=True)
class InventoryView:
    """``failover inventory``: what was read, where each resource is assigned, and by site."""

    inventories: list[Inventory]
    resources: list[Resource]
    assignments: dict[int, list[dict[str, str]]]  # id(resource) -> [{workload, site, role}]
    sites: list[SiteResources]
    unassigned: list[Resource]


@dataclass(frozen=True)
class ConfigSummary:
    """``failover validate`` of a valid config (the dict is the public JSON shape)."""

    summary: dict[str, Any]


@dataclass(frozen=True)
class InvalidConfig:
    """``failover validate`` of a config that does not load."""

    path: Path | None
    error: ConfigError


@dataclass(frozen=True)
class DemoView:
    """``failover demo``: the demo cycle's findings and scores, and where it left its files."""

    scores: list[Score]
    findings: list[Finding]
    expected: dict[str, str]
    elapsed_s: float
    database: str | None
    config_path: Path
    whatif: list[WhatIf] = field(default_factory=list)  # each workload with aws, gcp, azure down


@dataclass(frozen=True)
class WhatIfView:
    """``failover whatif``: each selected workload under each failed domain, in that order."""

    results: list[WhatIf]
    downs: list[Domain]
