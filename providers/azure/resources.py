"""ARM's JSON (resource groups, resources, a resource read by id, instance views) → normalized ``Resource``s.

Input is the wire shape (camelCase keys), which is what the SDK's hybrid models give back from
``as_dict()``: the functions here are pure and tested on those shapes directly.

What a VM's ``state`` means: its power state from Microsoft.Compute's instance view
(``PowerState/running``, ``deallocated``, ``stopped``, …), never the provisioning state
(``Succeeded`` says the last operation worked, not that the VM runs). A VM whose power state could
not be read has state ``unknown``. A scale set's ``capacity.instances`` is the members running now
(``attrs.desired`` is ``sku.capacity``, what it wants); its ``max_size``/``min_size`` come from its
autoscale setting, or are its desired size when none is enabled (it cannot grow on its own).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from failover.model import Capacity, Kind, Provider, Resource
from providers.azure.data import GEO_STORAGE_SKUS
from providers.azure.kinds import DETAIL_API_VERSIONS, kind_for, vm_size

__all__ = [
    "AUTOSCALE_TYPE",
    "CLASSIC_FRONT_DOOR",
    "CLASSIC_FRONT_DOOR_NOTE",
    "LOCK_TYPE",
    "STORE_KINDS",
    "UNKNOWN_POWER",
    "apply_autoscale",
    "canonical_references",
    "detail_api_version",
    "enrich",
    "link_flexible_members",
    "lock_scope",
    "normalize_lock",
    "normalize_resource",
    "normalize_resource_group",
    "power_state",
    "resource_group_of",
    "uniform_scale_sets",
    "with_members",
    "with_power_state",
]

_LB_TYPES = {
    "microsoft.network/loadbalancers": "load_balancer",
    "microsoft.network/applicationgateways": "application_gateway",
    "microsoft.network/frontdoors": "front_door",
    "microsoft.cdn/profiles": "front_door",
}
LOCK_TYPE = "Microsoft.Authorization/locks"
CLASSIC_FRONT_DOOR = "microsoft.network/frontdoors"
CLASSIC_FRONT_DOOR_NOTE = (
    "classic Front Door (Microsoft.Network/frontDoors) is not read: its backend pools, priorities and health "
    "probes are unknown (Front Door Standard/Premium, Microsoft.Cdn/profiles, is read)"
)
AUTOSCALE_TYPE = "microsoft.insights/autoscalesettings"
_LOCK_MARK = "/providers/microsoft.authorization/locks/"
_VM = "microsoft.compute/virtualmachines"
_VMSS = "microsoft.compute/virtualmachinescalesets"
# The config's data store kind (``data: [{kind}]``) of each ARM type that is one.
STORE_KINDS = {
    "microsoft.sql/servers/databases": "azure-sql",
    "microsoft.documentdb/databaseaccounts": "cosmosdb",
    "microsoft.storage/storageaccounts": "azure-storage",
    "microsoft.dbforpostgresql/flexibleservers": "postgres-flexible",
    "microsoft.dbformysql/flexibleservers": "mysql-flexible",
}
_REFERENCES = ("replica_source", "group")  # attrs that hold another resource's ARM id
UNKNOWN_POWER = "unknown"  # a VM's state when its power state could not be read: never running
# Where the replicas of a database are not read yet: data.replica says unknown with this, never "no replica".
_REPLICAS_UNREAD = {
    # replaced by the real reading once the database's server is read (providers/azure/data.py)
    "microsoft.sql/servers/databases": "its server's failover groups and replication links were not read",
    "microsoft.documentdb/databaseaccounts": "the Cosmos DB account's locations were not read",
    "microsoft.dbforpostgresql/servers": "replicas of PostgreSQL single servers are not read",
    "microsoft.dbformysql/servers": "replicas of MySQL single servers are not read",
}


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
    if t == "microsoft.sql/servers/databases" and "system" in str(entry.get("kind") or "").lower():
        kind = Kind.OTHER  # a server's `master` database: not a workload's data
    attrs: dict[str, Any] = {
        "resource_group": resource_group_of(str(entry["id"])),
        "sku": sku or None,
        "arm_kind": entry.get("kind"),
        "managed_by": entry.get("managedBy"),
        "created_time": _text(entry.get("createdTime")),
        "changed_time": _text(entry.get("changedTime")),
    }
    capacity = Capacity()
    state = str(entry.get("provisioningState") or "")
    if kind == Kind.COMPUTE_GROUP:
        # running members are read from the members' instance views; until then unknown, never sku.capacity
        attrs |= _scale_set_sku(sku) | {
            "orchestration_mode": None,
            "provisioning_state": entry.get("provisioningState"),
        }
    elif kind == Kind.COMPUTE_INSTANCE:
        attrs |= {"vm_size": None, "provisioning_state": entry.get("provisioningState"), "group": None}
        state = UNKNOWN_POWER  # until the power state is read (with_power_state)
    elif kind in (Kind.DB_INSTANCE, Kind.DB_TABLE) and t in _REPLICAS_UNREAD:
        attrs["replicas_unknown_reason"] = _REPLICAS_UNREAD[t]
    elif kind == Kind.LB:
        attrs["lb_type"] = _LB_TYPES.get(t)
        if t == CLASSIC_FRONT_DOOR:
            attrs["notes"] = [CLASSIC_FRONT_DOOR_NOTE]
    elif kind == Kind.DNS_ZONE:
        attrs |= {"fqdn": entry.get("name"), "nameservers": None}  # name servers come from the zone's own read
    elif kind == Kind.STORAGE_BUCKET:
        name = str(sku.get("name") or "")
        replication = name.rpartition("_")[2].upper() or None
        geo = name.lower() in GEO_STORAGE_SKUS if name else None
        attrs |= {"replication": replication, "geo_redundant": geo}
        if geo is False:
            attrs["copies"] = []  # one region only (LRS/ZRS): a fact, not a gap
    if t in STORE_KINDS and kind != Kind.OTHER:
        attrs["store_kind"] = STORE_KINDS[t]
    resource = Resource(
        provider=Provider.AZURE,
        account=subscription,
        region=str(entry.get("location") or ""),
        zone=",".join(str(z) for z in entry.get("zones") or []),
        kind=kind,
        native_type=native_type,
        native_id=str(entry["id"]),
        name=str(entry.get("name") or ""),
        state=state,
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
    if t == _VM:
        name = _dict(props.get("hardwareProfile")).get("vmSize")
        size = vm_size(name)
        capacity = Capacity(vcpu=size[0], memory_mib=size[1]) if size else Capacity()
        image = _dict(_dict(props.get("storageProfile")).get("imageReference"))
        attrs |= {
            "vm_size": name,
            "image": image.get("id") or _image_urn(image),
            "os_type": _dict(_dict(props.get("storageProfile")).get("osDisk")).get("osType"),
            "provisioning_state": props.get("provisioningState") or attrs.get("provisioning_state"),
            # a flexible scale set's member names its set; equivalence.group_members matches on it
            "group": _dict(props.get("virtualMachineScaleSet")).get("id"),
        }
        state = resource.state  # the power state, never the provisioning state
        if props.get("instanceView") is not None:  # read with $expand=instanceView
            state = power_state(_dict(props.get("instanceView"))) or UNKNOWN_POWER
    elif t == _VMSS:
        sku = _dict(detail.get("sku")) or _dict(attrs.get("sku"))
        attrs |= _scale_set_sku(sku) | {
            "sku": sku or None,
            "orchestration_mode": props.get("orchestrationMode") or "Uniform",  # ARM's default
            "provisioning_state": props.get("provisioningState") or attrs.get("provisioning_state"),
        }
    elif t == AUTOSCALE_TYPE:
        attrs |= {
            "enabled": props.get("enabled"),
            "target_resource_id": props.get("targetResourceUri"),
            "profiles": [_autoscale_profile(p) for p in props.get("profiles") or [] if isinstance(p, dict)],
        }
    elif t in ("microsoft.dbforpostgresql/flexibleservers", "microsoft.dbformysql/flexibleservers"):
        backup = _dict(props.get("backup"))
        geo = backup.get("geoRedundantBackup")
        replica = _dict(props.get("replica"))  # PostgreSQL 2024-08-01: role, capacity, replicationState
        attrs |= {
            "engine": "postgres" if "postgresql" in t else "mysql",
            "version": props.get("version"),
            "replication_role": replica.get("role") or props.get("replicationRole"),
            "replication_state": replica.get("replicationState"),
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
    elif t == "microsoft.network/dnszones":
        servers = props.get("nameServers")
        attrs |= {
            "fqdn": detail.get("name") or attrs.get("fqdn"),
            "nameservers": [str(n) for n in servers] if isinstance(servers, list) else None,
            "private": None if props.get("zoneType") is None else str(props["zoneType"]).lower() == "private",
            "record_count": props.get("numberOfRecordSets"),
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
    always = p.get("alwaysServe")
    kind = str(e.get("type") or "").rpartition("/")[2]
    nested = (
        {
            # a nested profile counts as available only with this many healthy endpoints of its own
            "min_child_endpoints": p.get("minChildEndpoints"),
            "min_child_endpoints_ipv4": p.get("minChildEndpointsIPv4"),
            "min_child_endpoints_ipv6": p.get("minChildEndpointsIPv6"),
        }
        if kind.lower() == "nestedendpoints"
        else {}
    )
    return nested | {
        "id": e.get("id"),
        "name": e.get("name"),
        "type": kind,
        "target": p.get("target"),
        "target_resource_id": p.get("targetResourceId"),
        "location": p.get("endpointLocation"),
        "priority": p.get("priority"),
        "weight": p.get("weight"),
        "status": p.get("endpointStatus"),
        "monitor_status": p.get("endpointMonitorStatus"),
        # Enabled: Traffic Manager serves the endpoint whatever its probes say (no health-based failover)
        "always_serve": None if always is None else str(always).lower() == "enabled",
    }


def _image_urn(image: dict[str, Any]) -> str | None:
    parts = [image.get(k) for k in ("publisher", "offer", "sku", "version")]
    return ":".join(str(p) for p in parts) if all(parts) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def power_state(instance_view: dict[str, Any]) -> str | None:
    """``running``, ``deallocated``, ``stopped``, … from an instance view's ``PowerState/<state>`` status;
    ``None`` when it reports none (a VM being created, or an answer without statuses)."""
    for status in instance_view.get("statuses") or []:
        code = str(_dict(status).get("code") or "")
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower() or None
    return None


def with_power_state(vm: Resource, status_entry: dict[str, Any] | None) -> Resource:
    """A VM with its power state as ``state``, from its entry in the ``statusOnly=true`` VM list (or any
    VM body with ``properties.instanceView``); no entry or no power state: ``unknown``."""
    view = _dict(_dict(_dict(status_entry).get("properties")).get("instanceView"))
    return dataclasses.replace(vm, state=power_state(view) or UNKNOWN_POWER)


def uniform_scale_sets(resources: list[Resource]) -> list[Resource]:
    """Scale sets whose members are read through the scale set's own VM list (uniform orchestration)."""
    return [r for r in resources if r.native_type.lower() == _VMSS and r.attrs.get("orchestration_mode") == "Uniform"]


def with_members(vmss: Resource, member_states: list[str | None]) -> Resource:
    """A scale set whose ``capacity.instances`` is the members running now (``PowerState/running``), or
    ``None`` when a member's power state is unknown; ``member_power_states`` counts members per state."""
    counts: dict[str, int] = {}
    for s in member_states:
        counts[s or UNKNOWN_POWER] = counts.get(s or UNKNOWN_POWER, 0) + 1
    running = None if UNKNOWN_POWER in counts else counts.get("running", 0)
    capacity = dataclasses.replace(vmss.capacity, instances=running)
    return dataclasses.replace(vmss, capacity=capacity, attrs={**vmss.attrs, "member_power_states": counts})


def link_flexible_members(resources: list[Resource]) -> list[Resource]:
    """Count a flexible scale set's running members from its VMs (listed as ordinary VMs that name the
    set in ``attrs.group``, so equivalence does not count them twice)."""
    states: dict[str, list[str | None]] = {}
    for r in resources:
        if r.kind == Kind.COMPUTE_INSTANCE and r.attrs.get("group"):
            states.setdefault(str(r.attrs["group"]).lower(), []).append(r.state)
    out = []
    for r in resources:
        if r.native_type.lower() == _VMSS and r.attrs.get("orchestration_mode") == "Flexible":
            r = with_members(r, states.get(r.native_id.lower(), []))
        out.append(r)
    return out


def apply_autoscale(resources: list[Resource], settings_unreadable: bool) -> list[Resource]:
    """Give each scale set the size limits of the enabled autoscale setting that targets it.

    ``max_size`` is the smallest maximum across the setting's profiles (what it can reach whichever
    profile is in effect), ``min_size`` the smallest minimum. Without an enabled setting a scale set
    cannot grow on its own: ``max_size`` is its desired size, and ``scaling_note`` says so. Where
    autoscale settings could not be read (``settings_unreadable``, or a setting whose read by id
    failed) the limits are unknown (``None``), never the desired size.
    """
    settings = [r for r in resources if r.native_type.lower() == AUTOSCALE_TYPE]
    unread = settings_unreadable or any(not s.attrs.get("detailed") for s in settings)
    by_target: dict[str, list[Resource]] = {}
    for s in settings:
        if s.attrs.get("enabled") is True and s.attrs.get("target_resource_id"):
            by_target.setdefault(str(s.attrs["target_resource_id"]).lower(), []).append(s)
    out = []
    for r in resources:
        if r.native_type.lower() == _VMSS:
            found = by_target.get(r.native_id.lower(), [])
            profiles = [p for s in found for p in s.attrs.get("profiles") or []]
            maxima = [p["maximum"] for p in profiles if p.get("maximum") is not None]
            minima = [p["minimum"] for p in profiles if p.get("minimum") is not None]
            if found and maxima:
                limits = {
                    "autoscale": found[0].native_id,
                    "max_size": min(maxima),
                    "min_size": min(minima) if minima else None,
                    "scaling_note": None,
                }
            elif unread:
                limits = {
                    "autoscale": None,
                    "max_size": None,
                    "min_size": None,
                    "scaling_note": "autoscale settings could not be read: size limits unknown",
                }
            else:
                desired = r.attrs.get("desired")
                limits = {
                    "autoscale": None,
                    "max_size": desired,
                    "min_size": desired,
                    "scaling_note": "no enabled autoscale setting: it cannot grow beyond its desired size on its own",
                }
            r = dataclasses.replace(r, attrs={**r.attrs, **limits})
        out.append(r)
    return out


def canonical_references(resources: list[Resource]) -> list[Resource]:
    """ARM ids are case-insensitive, and a reference to another resource (a replica's
    ``sourceServerResourceId``, a VM's ``virtualMachineScaleSet.id``) may differ in case from that
    resource's own id: spell each as the inventoried resource does, so links match exactly."""
    ids = {r.native_id.lower(): r.native_id for r in resources}
    out = []
    for r in resources:
        fixed = {
            key: ids[value.lower()]
            for key in _REFERENCES
            if isinstance(value := r.attrs.get(key), str) and value.lower() in ids and ids[value.lower()] != value
        }
        out.append(dataclasses.replace(r, attrs={**r.attrs, **fixed}) if fixed else r)
    return out


def _scale_set_sku(sku: dict[str, Any]) -> dict[str, Any]:
    size = vm_size(sku.get("name"))
    return {
        "vm_size": sku.get("name"),
        "desired": sku.get("capacity"),
        "vcpu_per_instance": size[0] if size else None,
        "memory_mib_per_instance": size[1] if size else None,
    }


def _autoscale_profile(p: dict[str, Any]) -> dict[str, Any]:
    """A profile's capacity as numbers (the API sends them as strings); a value that is not a number is None."""
    capacity = _dict(p.get("capacity"))
    return {"name": p.get("name")} | {k: _int(capacity.get(k)) for k in ("minimum", "maximum", "default")}


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
