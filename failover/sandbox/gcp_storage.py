"""Cloud Storage JSON API (v1) bucket shapes for the GCP emulator (served by ``failover.sandbox.gcp``).

``GET /storage/v1/b?project=P`` answers a ``Buckets`` list (``storage#buckets``) of ``Bucket`` bodies as
the ``storage.v1`` discovery document describes them: ``location`` upper-case (``US-EAST1``, ``NAM4``,
``US``), ``locationType`` ``region`` / ``dual-region`` / ``multi-region``, ``rpo`` ``DEFAULT`` or
``ASYNC_TURBO`` (turbo replication, dual-regions only) and, for a configurable dual-region,
``customPlacementConfig.dataLocations``. A bucket the listing could not reach is named in ``unreachable``
(``projects/_/buckets/NAME``) only when the caller asked for ``returnPartialSuccess``.
"""

from __future__ import annotations

from typing import Any

STORAGE_BASE = "https://www.googleapis.com/storage/v1"
# google-cloud-storage's constants (REGION/DUAL_REGION/MULTI_REGION_LOCATION_TYPE, RPO_DEFAULT/ASYNC_TURBO)
LOCATION_TYPES = frozenset({"region", "dual-region", "multi-region"})
RPOS = frozenset({"DEFAULT", "ASYNC_TURBO"})


def bucket(
    project_number: str,
    name: str,
    *,
    location: str,
    location_type: str,
    rpo: str | None = None,
    data_locations: list[str] | None = None,
    labels: dict[str, str] | None = None,
    storage_class: str = "STANDARD",
) -> dict[str, Any]:
    """One ``Bucket`` as ``buckets.list`` (projection noAcl) answers it."""
    if location_type not in LOCATION_TYPES:
        raise ValueError(f"unknown locationType {location_type!r} (one of {sorted(LOCATION_TYPES)})")
    if rpo is not None and rpo not in RPOS:
        raise ValueError(f"unknown rpo {rpo!r} (one of {sorted(RPOS)})")
    if rpo == "ASYNC_TURBO" and location_type != "dual-region":
        raise ValueError("turbo replication (ASYNC_TURBO) exists only on dual-region buckets")
    body: dict[str, Any] = {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "selfLink": f"{STORAGE_BASE}/b/{name}",
        "projectNumber": project_number,
        "metageneration": "1",
        "location": location.upper(),
        "locationType": location_type,
        "storageClass": storage_class,
        "etag": "CAE=",
        "timeCreated": "2024-05-01T12:00:00.000Z",
        "updated": "2024-05-01T12:00:00.000Z",
        "iamConfiguration": {
            "bucketPolicyOnly": {"enabled": True},
            "uniformBucketLevelAccess": {"enabled": True},
            "publicAccessPrevention": "enforced",
        },
    }
    if location_type != "region":
        body["rpo"] = rpo or "DEFAULT"  # the API reports rpo on dual- and multi-region buckets
    if data_locations:
        body["customPlacementConfig"] = {"dataLocations": [d.upper() for d in data_locations]}
    if labels:
        body["labels"] = dict(labels)
    return body


def buckets_list(items: list[dict[str, Any]], unreachable: list[str], token: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "storage#buckets"}
    if items:
        out["items"] = items
    if unreachable:
        out["unreachable"] = [f"projects/_/buckets/{b}" for b in unreachable]
    if token:
        out["nextPageToken"] = token
    return out
