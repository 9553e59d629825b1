"""Cloud Storage buckets as ``storage.bucket`` resources, with the copy their location type makes.

Read with google-cloud-storage (``Client.list_buckets``, partial success on, so a bucket the listing
cannot reach becomes a scope error rather than a silent absence). A bucket's objects are copied across
regions only by its location: a ``region`` bucket has no copy; a ``dual-region`` or ``multi-region``
bucket has one (the second region of the pair, or "somewhere else in the multi-region").

The API reports no replication lag. Google documents the bound (cited in ``LAG_SOURCE``): default
replication copies 99.9 % of newly written objects within 1 hour and 100 % within 12 hours; turbo
replication (``rpo: ASYNC_TURBO``, dual-regions only) copies 100 % within 15 minutes. The copy's
``lag_s`` is that bound, ``estimate`` true.
"""

from __future__ import annotations

import importlib
from typing import Any

from failover.attrs import DataCopy
from failover.model import Kind, Resource, ScopeError
from providers.base import with_retries
from providers.gcp.clients import GcpSession, classify
from providers.gcp.common import Target

NATIVE_TYPE = "storage.googleapis.com/Bucket"
TURBO_LAG_S = 15 * 60.0
DEFAULT_LAG_S = 12 * 3600.0
LAG_SOURCE = (
    "Google documents default replication at 99.9% of new objects within 1 h and 100% within 12 h, "
    "turbo replication at 100% within 15 min (cloud.google.com/storage/docs/availability-durability)"
)
# Predefined dual-regions and the regions they pair (cloud.google.com/storage/docs/locations);
# configurable dual-regions list theirs in customPlacementConfig.dataLocations.
PREDEFINED_DUAL_REGIONS = {
    "NAM4": ("us-central1", "us-east1"),
    "EUR4": ("europe-north1", "europe-west4"),
    "ASIA1": ("asia-northeast1", "asia-northeast2"),
}


def placement(b: dict[str, Any]) -> tuple[str, list[str]]:
    """(the bucket's home region, the regions its data lives in); a multi-region has no single home."""
    location = str(b.get("location") or "")
    kind = b.get("locationType")
    if kind == "dual-region":
        custom = [str(d).lower() for d in (b.get("customPlacementConfig") or {}).get("dataLocations") or []]
        regions = custom or list(PREDEFINED_DUAL_REGIONS.get(location.upper(), ()))
        return (regions[0] if regions else ""), regions
    if kind == "multi-region":
        return "", []
    return location.lower(), [location.lower()]


def copies_of(b: dict[str, Any]) -> list[DataCopy]:
    """The cross-region copy a dual- or multi-region location makes; none for a region bucket."""
    kind = b.get("locationType")
    if kind not in ("dual-region", "multi-region"):
        return []
    rpo = str(b.get("rpo") or "DEFAULT")
    home, regions = placement(b)
    others = [r for r in regions if r != home]
    where = f"gcp:{others[0]}" if others else f"gcp:{str(b.get('location') or '?').lower()}"
    return [
        DataCopy(
            where=where,
            ref=None,
            mechanism=str(kind),
            healthy=True,  # Google replicates every object of these locations; the API reports no per-copy state
            state=rpo,
            lag_s=TURBO_LAG_S if rpo == "ASYNC_TURBO" else DEFAULT_LAG_S,
            lag_source=LAG_SOURCE,
            estimate=True,
        )
    ]


def normalize_bucket(target: Target, b: dict[str, Any]) -> Resource:
    name = str(b["name"])
    home, regions = placement(b)
    rpo = b.get("rpo")
    attrs: dict[str, Any] = {
        "project": target.project,
        "store_kind": "gcs",
        "location": b.get("location"),
        "location_type": b.get("locationType"),
        "rpo": rpo,
        "turbo_replication": rpo == "ASYNC_TURBO",
        "data_locations": regions,
        "storage_class": b.get("storageClass"),
        "copies": copies_of(b),
        "versioning": "Enabled" if (b.get("versioning") or {}).get("enabled") else None,
        "created": b.get("timeCreated"),
    }
    return Resource(
        provider="gcp",
        account=target.account,
        region=home,
        zone="",
        kind=Kind.STORAGE_BUCKET,
        native_type=NATIVE_TYPE,
        native_id=name,
        name=name,
        state="",
        tags=dict(b.get("labels") or {}),
        attrs=attrs,
    )


def _fields(b: Any) -> dict[str, Any]:
    """The wire fields this reader uses, from the SDK's ``Bucket`` properties."""
    created = b.time_created
    return {
        "name": b.name,
        "location": b.location,
        "locationType": b.location_type,
        "rpo": b.rpo,
        "customPlacementConfig": {"dataLocations": list(b.data_locations or [])},
        "labels": dict(b.labels or {}),
        "storageClass": b.storage_class,
        "versioning": {"enabled": bool(b.versioning_enabled)},
        "timeCreated": created.isoformat() if created else None,
    }


def read_buckets(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    """Every bucket of the project; buckets the listing names as unreachable are a scope error each."""
    scope = f"{target.project}/buckets"
    storage = importlib.import_module("google.cloud.storage")
    options = {"api_endpoint": session.endpoint.rstrip("/")} if session.endpoint else None
    client = storage.Client(project=target.project, credentials=session.credentials, client_options=options)

    def listing() -> tuple[list[dict[str, Any]], list[str]]:
        iterator = client.list_buckets(
            project=target.project,
            page_size=500,
            timeout=session.timeout,
            retry=None,
            return_partial_success=True,
        )
        items: list[dict[str, Any]] = []
        unreachable: list[str] = []
        for page in iterator.pages:
            items.extend(_fields(b) for b in page)
            unreachable.extend(getattr(page, "unreachable", []) or [])
        return items, unreachable

    items, unreachable = with_retries(
        listing,
        classify=lambda e: classify(e, scope),
        attempts=session.attempts,
        base_delay=session.base_delay,
        max_delay=session.max_delay,
        sleep=session.sleep,
    )
    errors = [
        ScopeError(
            scope=f"{target.project}/buckets/{str(u).rsplit('/', 1)[-1]}",
            error="unreachable",
            reason=f"the Cloud Storage API could not reach bucket {u} while listing buckets",
        )
        for u in unreachable
    ]
    return [normalize_bucket(target, b) for b in items], errors
