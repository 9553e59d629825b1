"""Regions with their quotas: the headroom a secondary has to scale up into."""

from __future__ import annotations

from typing import Any

from failover.model import Kind, Resource
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, last


def read_regions(session: GcpSession, target: Target) -> list[Resource]:
    client = session.client("RegionsClient")
    regions = session.listed(f"{target.project}/regions", client.list, {"project": target.project})
    return [normalize_region(target, r) for r in regions]


def normalize_region(target: Target, region: Any) -> Resource:
    """``attrs["quotas"]`` holds every metric the API gave, e.g. ``{"CPUS": {"limit": 24.0, "usage": 8.0}}``."""
    quotas = {q.metric: {"limit": q.limit, "usage": q.usage} for q in region.quotas if q.metric}
    return Resource(
        provider="gcp",
        account=target.account,
        region=region.name,
        kind=Kind.REGION,
        native_type=NATIVE_PREFIX + "Region",
        native_id=f"projects/{target.project}/regions/{region.name}",
        name=region.name,
        state=region.status,
        attrs={"project": target.project, "quotas": quotas, "zones": [last(z) for z in region.zones]},
    )
