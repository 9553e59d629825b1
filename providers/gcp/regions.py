"""Regions with their quotas, and the project's own quotas: the headroom a secondary has to scale up into.

A region's ``quotas`` hold the regional CPU quotas, ``CPUS`` and one per machine series with its own
(``N2_CPUS``, ``C2_CPUS`` ...). When the API could not load them it says so in ``quotaStatusWarning``
(and may answer with an empty list): that is kept as ``quota_warning``, so "no quota reported" is
never read as "no limit". ``CPUS_ALL_REGIONS`` is a project quota (``projects.get``), shared by every
region; each region carries its project's quotas as ``project_quotas`` (``None`` if they could not be
read, with a ``ScopeError``).
"""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import scope_error
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, last

Quotas = dict[str, dict[str, float]]


def read_regions(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    project = target.project
    client = session.client("RegionsClient")
    regions = session.listed(f"{project}/regions", client.list, {"project": project})
    errors: list[ScopeError] = []
    project_quotas: Quotas | None = None
    try:
        projects = session.client("ProjectsClient")
        project_quotas = quotas_of(session.call(f"{project}/project", projects.get, project=project).quotas)
    except ProviderError as err:
        errors.append(scope_error(err, f"{project}/project"))
    return [normalize_region(target, r, project_quotas) for r in regions], errors


def quotas_of(quotas: Any) -> Quotas:
    """``{"CPUS": {"limit": 24.0, "usage": 8.0}, ...}`` from SDK ``Quota`` messages."""
    return {q.metric: {"limit": q.limit, "usage": q.usage} for q in quotas if q.metric}


def normalize_region(target: Target, region: Any, project_quotas: Quotas | None = None) -> Resource:
    """``attrs["quotas"]`` holds every metric the region gave; ``quota_warning`` why they may be missing."""
    warning = region.quota_status_warning if "quota_status_warning" in region else None
    quota_warning = None
    if warning is not None:
        quota_warning = " ".join(p for p in (warning.code, warning.message) if p) or "quotaStatusWarning"
    return Resource(
        provider="gcp",
        account=target.account,
        region=region.name,
        kind=Kind.REGION,
        native_type=NATIVE_PREFIX + "Region",
        native_id=f"projects/{target.project}/regions/{region.name}",
        name=region.name,
        state=region.status,
        attrs={
            "project": target.project,
            "quotas": quotas_of(region.quotas),
            "quota_warning": quota_warning,
            "project_quotas": project_quotas,
            "zones": [last(z) for z in region.zones],
        },
    )
