"""Which native things are the same thing across clouds, and capacity in common units.

Pure functions over normalized ``Resource``s. Adapters already map native types onto ``Kind``s; this
module answers the cross-cloud questions the checks ask: is it running, how many vCPU does a site
really run (without counting a group's members twice), which addresses and names reach it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from failover.attrs import ADDRESS_KEYS, ReplicationRule, attrs_of
from failover.model import Kind, Resource

# Native states meaning "serving": EC2 running, GCE RUNNING, Azure PowerState/running. A provisioning
# state ("Succeeded") is never one: it says the last operation worked, not that the machine runs.
_RUNNING = {"running", "available", "active", "inservice", "healthy", "up", "ready"}
# States that say the provider could not tell (an Azure VM whose power state was not read).
_UNKNOWN_STATES = {"", "unknown"}
COMPUTE_KINDS = {Kind.COMPUTE_INSTANCE, Kind.COMPUTE_GROUP}
# Data stores judged by data.replica: databases, clusters, tables (DynamoDB, Cosmos DB) and caches.
DB_KINDS = {Kind.DB_INSTANCE, Kind.DB_CLUSTER, Kind.DB_TABLE, Kind.CACHE}
# The config's data store kinds (``data: [{kind}]``) and the normalized kind each is inventoried as.
STORE_KINDS: dict[str, Kind] = {
    "rds": Kind.DB_INSTANCE,
    "aurora": Kind.DB_CLUSTER,
    "dynamodb": Kind.DB_TABLE,
    "elasticache": Kind.CACHE,
    "s3": Kind.STORAGE_BUCKET,
    "cloudsql": Kind.DB_INSTANCE,
    "gcs": Kind.STORAGE_BUCKET,
    "azure-sql": Kind.DB_INSTANCE,
    "cosmosdb": Kind.DB_TABLE,
    "azure-storage": Kind.STORAGE_BUCKET,
    "postgres-flexible": Kind.DB_INSTANCE,
    "mysql-flexible": Kind.DB_INSTANCE,
}
_AZURE_STORE = {
    "microsoft.sql/servers/databases": "azure-sql",
    "microsoft.dbforpostgresql/flexibleservers": "postgres-flexible",
    "microsoft.dbforpostgresql/servers": "postgres-flexible",
    "microsoft.dbformysql/flexibleservers": "mysql-flexible",
    "microsoft.dbformysql/servers": "mysql-flexible",
    "microsoft.documentdb/databaseaccounts": "cosmosdb",
    "microsoft.storage/storageaccounts": "azure-storage",
}
_BY_KIND = {
    ("aws", Kind.DB_INSTANCE): "rds",
    ("aws", Kind.DB_CLUSTER): "aurora",
    ("aws", Kind.DB_TABLE): "dynamodb",
    ("aws", Kind.CACHE): "elasticache",
    ("aws", Kind.STORAGE_BUCKET): "s3",
    ("gcp", Kind.DB_INSTANCE): "cloudsql",
    ("gcp", Kind.STORAGE_BUCKET): "gcs",
    ("azure", Kind.DB_TABLE): "cosmosdb",
    ("azure", Kind.STORAGE_BUCKET): "azure-storage",
}


def is_running(resource: Resource) -> bool:
    state = resource.state.strip().lower().replace("_", "").replace(" ", "")
    return state in _RUNNING


def state_unknown(resource: Resource) -> bool:
    """The provider could not say whether it runs: neither running nor not, so capacity is unknown."""
    return resource.state.strip().lower() in _UNKNOWN_STATES


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    """Running vCPU of a site and how far its groups may grow. ``None`` = not known from the inventory."""

    vcpu: float | None
    instances: int
    max_vcpu: float | None  # if every group scaled to its max size
    unknown: tuple[str, ...] = ()  # names of resources whose size or running count is unknown
    shortfalls: tuple[str, ...] = ()  # groups running fewer members than they want ("web runs 1 of 3")
    warm_instances: int = 0  # stopped/hibernated/running members of warm pools, ready to join their groups
    warm_unknown: tuple[str, ...] = ()  # groups whose warm pool could not be read


def group_max_size(group: Resource) -> int | None:
    """Largest size the group may reach (ASG max size, MIG autoscaler max); Azure VMSS has none of its own."""
    value = attrs_of(group, Kind.COMPUTE_GROUP)["max_size"]
    return None if value is None else int(value)


def group_desired(group: Resource) -> int | None:
    """The size the group wants (ASG desired capacity, MIG target size, VMSS sku capacity): not what runs."""
    value = attrs_of(group, Kind.COMPUTE_GROUP)["desired"]
    return None if value is None else int(value)


def group_unit(group: Resource) -> str:
    """What a group's desired/min/max sizes count: ``instances`` unless the provider says otherwise
    (an ASG with weights counts ``units``, or ``vcpu`` / ``memory-mib``)."""
    return str(attrs_of(group, Kind.COMPUTE_GROUP)["capacity_unit"] or "instances")


def group_running_units(group: Resource) -> float | None:
    """What the group runs now in its own unit (weighted members count their weight), to compare with
    its desired and max sizes; a group without weights runs its running member count."""
    a = attrs_of(group, Kind.COMPUTE_GROUP)
    if "running_units" in a:
        value = a["running_units"]
        return None if value is None else float(value)
    n = group.capacity.instances
    return None if n is None else float(n)


def group_shortfall(group: Resource) -> str | None:
    """``"group web runs 1 of 3 desired"`` (in units for a weighted group) when it runs less than it wants."""
    running, desired = group_running_units(group), group_desired(group)
    if running is None or desired is None or running >= desired:
        return None
    unit = group_unit(group)
    suffix = "" if unit == "instances" else f" {unit}"
    return f"group {group.name or group.native_id} runs {running:g} of {desired} desired{suffix}"


def _vcpu_per_unit(group: Resource, per_instance: float | None) -> float | None:
    """vCPU one unit of the group's size adds: a member's for plain groups, 1 for ``vcpu`` groups, else
    the running vCPU over the running units (weighted or memory-sized groups)."""
    unit = group_unit(group)
    if unit == "instances":
        return per_instance
    if unit == "vcpu":
        return 1.0
    units = group_running_units(group)
    if group.capacity.vcpu is not None and units:
        return group.capacity.vcpu / units
    return None


def per_instance_vcpu(group: Resource) -> float | None:
    """vCPU of one member: from the group's instance size (template, VMSS sku), else the group's running
    vCPU over its running members (AWS, where members are described)."""
    per = attrs_of(group, Kind.COMPUTE_GROUP)["vcpu_per_instance"]
    if per is not None:
        return float(per)
    n = group.capacity.instances
    if group.capacity.vcpu is not None and n:
        return group.capacity.vcpu / n
    return None


def _group_refs(group: Resource) -> set[str]:
    a = attrs_of(group, Kind.COMPUTE_GROUP)
    refs = {group.native_id, group.name, a["self_link"], a["instance_group"], a["arn"]}
    return {str(r) for r in refs if r}


def group_members(group: Resource, instances: Iterable[Resource]) -> set[str]:
    """Native ids of listed instances that belong to ``group``: named by the group (ASG members) or
    naming the group (GCE's ``created-by``, a flexible scale set's VMs)."""
    a = attrs_of(group, Kind.COMPUTE_GROUP)
    named: set[str] = set(a["instance_ids"] or [])
    if not named:
        named = {str(m["id"]) for m in a["instances"] or [] if m.get("id")}
    refs = _group_refs(group)
    found = set()
    for r in instances:
        if r.native_id in named or r.name in named or str(attrs_of(r, Kind.COMPUTE_INSTANCE)["group"] or "") in refs:
            found.add(r.native_id)
    return found


def site_capacity(resources: Iterable[Resource]) -> SiteCapacity:
    """Sum running compute. A group's ``capacity.instances`` is the members that run now (never its
    desired size: a group that wants 3 and runs 1 carries the load of 1); ``None`` there means the
    provider could not say, and the site's capacity is unknown. A group adds only members not already
    listed as instances (uniform Azure scale sets list none; ASG and MIG members are instances too); a
    member whose VM runs but which the group does not count (an ASG instance in Standby or Terminating,
    a MIG member being verified or failing its autohealing check) is taken back out. Its max size gives
    the headroom (max size and desired size count the group's own unit: weighted ASGs compare running
    units). Warm-pool members are not running capacity: they are counted apart, as a faster way to the
    headroom."""
    resources = list(resources)
    all_instances = [r for r in resources if r.kind == Kind.COMPUTE_INSTANCE]
    instances = [r for r in all_instances if is_running(r)]
    running_ids = {r.native_id for r in instances}
    vcpu = 0.0
    unknown: list[str] = [f"{r.name or r.native_id} (power state unknown)" for r in all_instances if state_unknown(r)]
    shortfalls: list[str] = []
    for r in instances:
        if r.capacity.vcpu is None:
            unknown.append(r.name or r.native_id)
        else:
            vcpu += r.capacity.vcpu
    count = len(instances)
    headroom = 0.0
    headroom_known = True
    warm = 0
    warm_unknown: list[str] = []
    for g in (r for r in resources if r.kind == Kind.COMPUTE_GROUP):
        name = g.name or g.native_id
        listed = len(group_members(g, all_instances) & running_ids)
        running = g.capacity.instances
        if running is None:
            unknown.append(f"{name} (running members unknown)")
            headroom_known = False
            continue
        shortfall = group_shortfall(g)
        if shortfall:
            shortfalls.append(shortfall)
        ga = attrs_of(g, Kind.COMPUTE_GROUP)
        if "warm_instances" in ga:
            if ga["warm_instances"] is None:
                warm_unknown.append(name)
            else:
                warm += int(ga["warm_instances"])
        per = per_instance_vcpu(g)
        unlisted = running - listed  # < 0: running VMs the group does not count as serving
        if unlisted:
            count += unlisted
            if per is None:
                unknown.append(name)
            else:
                vcpu += per * unlisted
        max_size = group_max_size(g)
        per_unit = _vcpu_per_unit(g, per)
        units = group_running_units(g) if group_unit(g) != "instances" else float(running)
        if max_size is None or per_unit is None or units is None:
            headroom_known = False
        else:
            headroom += max(0.0, max_size - units) * per_unit
    total = None if unknown else vcpu
    max_vcpu = None if total is None or not headroom_known else total + headroom
    return SiteCapacity(
        vcpu=total,
        instances=count,
        max_vcpu=max_vcpu,
        unknown=tuple(unknown),
        shortfalls=tuple(shortfalls),
        warm_instances=warm,
        warm_unknown=tuple(warm_unknown),
    )


def addresses(resource: Resource) -> set[str]:
    """Every IP address and DNS name the inventory says reaches this resource (lower-case, no dot).

    The declared address keys (``ADDRESS_KEYS``: ``private_ip``, ``nat_ips``, ``dns_name``,
    ``ip_address`` …) that the resource carries all count.
    """
    found: set[str] = set()
    attrs = attrs_of(resource)
    for key in ADDRESS_KEYS & attrs.keys():
        value = attrs[key]  # type: ignore[literal-required]
        values = value if isinstance(value, list | tuple | set) else [value]
        for v in values:
            if isinstance(v, str) and v:
                found.add(normalize_name(v))
    return found


def normalize_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


@functools.lru_cache(maxsize=4096)
def is_ip(value: str) -> bool:
    """An IPv4 or IPv6 address literal (else a name to resolve, or nothing). Cached: a cycle asks it
    of the same few DNS servers for every one of its thousands of exchanges."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class BucketCopy:
    """Where (some of) a bucket's objects are copied outside its region.

    ``region`` is the copy's region (``None`` when the inventory cannot tell: a destination bucket not
    inventoried, e.g. in another account); ``scope`` is ``None`` when every object is copied, else which
    ones are ("prefix logs/", "tags tier=gold").
    """

    where: str
    region: str | None
    scope: str | None = None


def _rule_scope(rule: ReplicationRule) -> str | None:
    parts = []
    if rule.get("prefix"):
        parts.append(f"prefix {rule['prefix']}")
    tags = rule.get("tags")
    if tags:
        parts.append("tags " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    return " and ".join(parts) or None


def bucket_copies(bucket: Resource) -> list[BucketCopy] | None:
    """Where a bucket's objects are copied outside its own region: S3 replication rules that are
    enabled (each with the objects its filter selects), an Azure geo-redundant SKU (the paired region,
    every object). ``None`` when the inventory could not tell (replication config unreadable)."""
    a = attrs_of(bucket, Kind.STORAGE_BUCKET)
    replication = a["replication"]
    if bucket.provider == "azure" or "geo_redundant" in a:
        geo = a["geo_redundant"]
        return None if geo is None else ([BucketCopy("paired region", "paired region")] if geo else [])
    if not isinstance(replication, dict):
        return None
    copies = []
    for rule in replication.get("rules") or []:
        if str(rule.get("status") or "").lower() != "enabled":
            continue
        region = rule.get("destination_region")
        if region and region == bucket.region:
            continue  # same-region replication survives a bucket deletion, not a regional outage
        where = str(region) if region else f"bucket {rule.get('destination_bucket')}"
        copies.append(BucketCopy(where, str(region) if region else None, _rule_scope(rule)))
    return copies


def store_kind_of(r: Resource) -> str | None:
    """The config's data store kind of an inventoried resource: ``store_kind`` as the provider filled
    it, else read from the provider, kind and native type (readers written before the attr existed).
    None: not a data store kind the config names."""
    if r.kind not in STORE_KINDS.values():
        return None
    a = attrs_of(r, Kind.STORAGE_BUCKET) if r.kind == Kind.STORAGE_BUCKET else attrs_of(r, Kind.DB_INSTANCE)
    if a["store_kind"]:
        return str(a["store_kind"])
    if r.provider == "azure":
        return _AZURE_STORE.get(r.native_type.lower()) or _BY_KIND.get((r.provider, r.kind))
    if r.provider == "aws" and r.kind == Kind.DB_INSTANCE and attrs_of(r, Kind.DB_INSTANCE)["cluster"]:
        return "aurora"  # a member of an Aurora cluster (the cluster itself is the store)
    return _BY_KIND.get((r.provider, r.kind))
