"""ARM's JSON (resource groups, resources, a resource read by id) → normalized ``Resource``s.

Input is the wire shape (camelCase keys), which is what the SDK's hybrid models give back from
``as_dict()``: the functions here are pure and tested on those shapes directly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from failover.model import Capacity, Kind, Provider, Resource
from providers.azure.kinds import DETAIL_API_VERSIONS, kind_for, vm_size

__all__ = [
    "LOCK_TYPE",
    "detail_api_version",
    "enrich",
    "lock_scope",
    "normalize_lock",
    "normalize_resource",
    "normalize_resource_group",
    "resource_group_of",
]

_GEO_REPLICATIONS = {"GRS", "RAGRS", "GZRS", "RAGZRS"}
_LB_TYPES = {
    "microsoft.network/loadbalancers": "load_balancer",
    "microsoft.network/applicationgateways": "application_gateway",
    "microsoft.network/frontdoors": "front_door",
    "microsoft.cdn/profiles": "front_door",
}
LOCK_TYPE = "Microsoft.Authorization/locks"
_LOCK_MARK = "/providers/microsoft.authorization/locks/"


def resource_group_of(resource_id: str) -> str | None:
    """The resource group named in an ARM id (``/subscriptions/s/resourceGroups/RG/...``), if any."""
    parts = resource_id.strip("/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def normalize_resource_group(subscription: str, rg: dict[str, Any]) -> Resource:
    props = _dict(rg.get("properties"))
    return Resource(
        provider=Provider.AZURE,
        account=subscription,
        region=str(rg.get("location") or ""),
        kind=Kind.RESOURCE_GROUP,
        native_type="Microsoft.Resources/resourceGroups",
        native_id=str(rg["id"]),
        name=str(rg.get("name") or ""),
        state=str(props.get("provisioningState") or ""),
        tags=dict(rg.get("tags") or {}),
        attrs={"resource_group": rg.get("name"), "managed_by": rg.get("managedBy")},
    )


def normalize_resource(subscription: str, entry: dict[str, Any]) -> Resource:
    """One entry of ``GET /subscriptions/{s}/resources`` (with ``$expand`` fields when present)."""
    native_type = str(entry.get("type") or "")
    sku = _dict(entry.get("sku"))
    kind = kind_for(native_type, sku.get("name"))
    t = native_type.lower()
    attrs: dict[str, Any] = {
        "resource_group": resource_group_of(str(entry["id"])),
        "sku": sku or None,
        "arm_kind": entry.get("kind"),
        "managed_by": entry.get("managedBy"),
        "created_time": _text(entry.get("createdTime")),
        "changed_time": _text(entry.get("changedTime")),
    }
    capacity = Capacity()
    if kind == Kind.COMPUTE_GROUP:
        size = vm_size(sku.get("name"))
        capacity = Capacity(instances=sku.get("capacity"))
        attrs |= {
            "vm_size": sku.get("name"),
            "vcpu_per_instance": size[0] if size else None,
            "memory_mib_per_instance": size[1] if size else None,
        }
    elif kind == Kind.COMPUTE_INSTANCE:
        attrs["vm_size"] = None  # only the VM's own read says; see enrich()
    elif kind == Kind.LB:
        attrs["lb_type"] = _LB_TYPES.get(t)
    elif kind == Kind.STORAGE_BUCKET:
        replication = str(sku.get("name") or "").rpartition("_")[2].upper() or None
        geo = replication in _GEO_REPLICATIONS if replication else None
        attrs |= {"replication": replication, "geo_redundant": geo}
    resource = Resource(
        provider=Provider.AZURE,
        account=subscription,
        region=str(entry.get("location") or ""),
        zone=",".join(str(z) for z in entry.get("zones") or []),
        kind=kind,
        native_type=native_type,
        native_id=str(entry["id"]),
        name=str(entry.get("name") or ""),
        state=str(entry.get("provisioningState") or ""),
        capacity=capacity,
        tags=dict(entry.get("tags") or {}),
        attrs=attrs,
    )
    return enrich(resource, entry) if _dict(entry.get("properties")) else resource


def detail_api_version(resource: Resource) -> str | None:
    """The API version to read this resource by id with, when its list entry lacks what checks need."""
    if resource.attrs.get("detailed"):
        return None
    return DETAIL_API_VERSIONS.get(resource.native_type.lower())


def enrich(resource: Resource, detail: dict[str, Any]) -> Resource:
    """Fold a resource's own read (``GET {id}``, with ``properties``) into its normalized form."""
    props = _dict(detail.get("properties"))
    t = resource.native_type.lower()
    attrs = dict(resource.attrs, detailed=True)
    capacity = resource.capacity
    state = str(props.get("provisioningState") or resource.state)
    if t == "microsoft.compute/virtualmachines":
        name = _dict(props.get("hardwareProfile")).get("vmSize")
        size = vm_size(name)
        capacity = Capacity(vcpu=size[0], memory_mib=size[1]) if size else Capacity()
        image = _dict(_dict(props.get("storageProfile")).get("imageReference"))
        attrs |= {
            "vm_size": name,
            "image": image.get("id") or _image_urn(image),
            "os_type": _dict(_dict(props.get("storageProfile")).get("osDisk")).get("osType"),
        }
    elif t in ("microsoft.dbforpostgresql/flexibleservers", "microsoft.dbformysql/flexibleservers"):
        backup = _dict(props.get("backup"))
        geo = backup.get("geoRedundantBackup")
        attrs |= {
            "engine": "postgres" if "postgresql" in t else "mysql",
            "version": props.get("version"),
            "replication_role": props.get("replicationRole"),
            "replica_source": props.get("sourceServerResourceId") or None,
            "high_availability": _dict(props.get("highAvailability")).get("mode"),
            "geo_redundant_backup": None if geo is None else str(geo).lower() == "enabled",
            "backup_retention_days": backup.get("backupRetentionDays"),
        }
        state = str(props.get("state") or state)
    elif t == "microsoft.network/trafficmanagerprofiles":
        monitor = _dict(props.get("monitorConfig"))
        dns = _dict(props.get("dnsConfig"))
        attrs |= {
            "routing_method": props.get("trafficRoutingMethod"),
            "profile_status": props.get("profileStatus"),
            "fqdn": dns.get("fqdn"),
            "ttl": dns.get("ttl"),
            "protocol": monitor.get("protocol"),
            "port": monitor.get("port"),
            "path": monitor.get("path"),
            "interval_s": monitor.get("intervalInSeconds"),
            "timeout_s": monitor.get("timeoutInSeconds"),
            "failure_threshold": monitor.get("toleratedNumberOfFailures"),
            "monitor_status": monitor.get("profileMonitorStatus"),
            "endpoints": [_tm_endpoint(e) for e in props.get("endpoints") or [] if isinstance(e, dict)],
        }
    zones = detail.get("zones")
    zone = ",".join(str(z) for z in zones) if zones else resource.zone
    return dataclasses.replace(resource, attrs=attrs, capacity=capacity, state=state, zone=zone)


def normalize_lock(subscription: str, lock: dict[str, Any]) -> Resource:
    """A management lock (``CanNotDelete`` / ``ReadOnly``); ``attrs.scope`` is the id it protects."""
    lock_id = str(lock["id"])
    props = _dict(lock.get("properties"))
    return Resource(
        provider=Provider.AZURE,
        account=subscription,
        region="",
        kind=Kind.LOCK,
        native_type=LOCK_TYPE,
        native_id=lock_id,
        name=str(lock.get("name") or ""),
        attrs={
            "level": props.get("level"),
            "notes": props.get("notes"),
            "scope": lock_scope(lock_id),
            "resource_group": resource_group_of(lock_id),
        },
    )


def lock_scope(lock_id: str) -> str:
    """``/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/locks/x`` → ``…/resourceGroups/rg``."""
    at = lock_id.lower().rfind(_LOCK_MARK)
    return lock_id[:at] if at >= 0 else lock_id


def _tm_endpoint(e: dict[str, Any]) -> dict[str, Any]:
    p = _dict(e.get("properties"))
    return {
        "name": e.get("name"),
        "type": str(e.get("type") or "").rpartition("/")[2],
        "target": p.get("target"),
        "target_resource_id": p.get("targetResourceId"),
        "location": p.get("endpointLocation"),
        "priority": p.get("priority"),
        "weight": p.get("weight"),
        "status": p.get("endpointStatus"),
        "monitor_status": p.get("endpointMonitorStatus"),
    }


def _image_urn(image: dict[str, Any]) -> str | None:
    parts = [image.get(k) for k in ("publisher", "offer", "sku", "version")]
    return ":".join(str(p) for p in parts) if all(parts) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
