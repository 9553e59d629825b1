"""Which native things are the same thing across clouds, and capacity in common units.

Pure functions over normalized ``Resource``s. Adapters already map native types onto ``Kind``s; this
module answers the cross-cloud questions the checks ask: is it running, how many vCPU does a site
really run (without counting a group's members twice), which addresses and names reach it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from failover.model import Kind, Resource

# Native states meaning "serving": EC2 running, GCE RUNNING, Azure Succeeded/running VM.
_RUNNING = {"running", "succeeded", "available", "active", "inservice", "healthy", "up", "ready"}
COMPUTE_KINDS = {Kind.COMPUTE_INSTANCE, Kind.COMPUTE_GROUP}
DB_KINDS = {Kind.DB_INSTANCE, Kind.DB_CLUSTER}


def is_running(resource: Resource) -> bool:
    state = resource.state.strip().lower().replace("_", "").replace(" ", "")
    return state in _RUNNING


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    """Running vCPU of a site and how far its groups may grow. ``None`` = not known from the inventory."""

    vcpu: float | None
    instances: int
    max_vcpu: float | None  # if every group scaled to its max size
    unknown: tuple[str, ...] = ()  # names of resources whose size or running count is unknown
    shortfalls: tuple[str, ...] = ()  # groups running fewer members than they want ("web runs 1 of 3")


def group_max_size(group: Resource) -> int | None:
    """Largest size the group may reach (ASG max size, MIG autoscaler max); Azure VMSS has none of its own."""
    value = group.attrs.get("max_size")
    return None if value is None else int(value)


def group_desired(group: Resource) -> int | None:
    """The size the group wants (ASG desired capacity, MIG target size, VMSS sku capacity): not what runs."""
    value = group.attrs.get("desired")
    return None if value is None else int(value)


def per_instance_vcpu(group: Resource) -> float | None:
    """vCPU of one member: from the group's instance size (template, VMSS sku), else the group's running
    vCPU over its running members (AWS, where members are described)."""
    if group.attrs.get("vcpu_per_instance") is not None:
        return float(group.attrs["vcpu_per_instance"])
    n = group.capacity.instances
    if group.capacity.vcpu is not None and n:
        return group.capacity.vcpu / n
    return None


def _group_refs(group: Resource) -> set[str]:
    refs = {group.native_id, group.name}
    for key in ("self_link", "instance_group", "arn"):
        if group.attrs.get(key):
            refs.add(str(group.attrs[key]))
    return {r for r in refs if r}


def group_members(group: Resource, instances: Iterable[Resource]) -> set[str]:
    """Native ids of listed instances that belong to ``group``: named by the group (ASG members) or
    naming the group (GCE's ``created-by``, a flexible scale set's VMs)."""
    named: set[str] = set()
    for m in group.attrs.get("instance_ids") or group.attrs.get("instances") or []:
        if isinstance(m, str):
            named.add(m)
        elif isinstance(m, dict):
            for key in ("id", "instance_id", "InstanceId", "name", "instance"):
                if m.get(key):
                    named.add(str(m[key]))
    refs = _group_refs(group)
    found = set()
    for r in instances:
        if r.native_id in named or r.name in named or str(r.attrs.get("group") or "") in refs:
            found.add(r.native_id)
    return found


def site_capacity(resources: Iterable[Resource]) -> SiteCapacity:
    """Sum running compute. A group's ``capacity.instances`` is the members that run now (never its
    desired size: a group that wants 3 and runs 1 carries the load of 1); ``None`` there means the
    provider could not say, and the site's capacity is unknown. A group adds only members not already
    listed as instances (uniform Azure scale sets list none; ASG and MIG members are instances too); a
    member whose VM runs but which the group does not count (an ASG instance in Standby or Terminating,
    a MIG member being verified or failing its autohealing check) is taken back out. Its max size gives
    the headroom."""
    resources = list(resources)
    all_instances = [r for r in resources if r.kind == Kind.COMPUTE_INSTANCE]
    instances = [r for r in all_instances if is_running(r)]
    running_ids = {r.native_id for r in instances}
    vcpu = 0.0
    unknown: list[str] = []
    shortfalls: list[str] = []
    for r in instances:
        if r.capacity.vcpu is None:
            unknown.append(r.name or r.native_id)
        else:
            vcpu += r.capacity.vcpu
    count = len(instances)
    headroom = 0.0
    headroom_known = True
    for g in (r for r in resources if r.kind == Kind.COMPUTE_GROUP):
        name = g.name or g.native_id
        listed = len(group_members(g, all_instances) & running_ids)
        running = g.capacity.instances
        if running is None:
            unknown.append(f"{name} (running members unknown)")
            headroom_known = False
            continue
        desired = group_desired(g)
        if desired is not None and running < desired:
            shortfalls.append(f"group {name} runs {running} of {desired} desired")
        per = per_instance_vcpu(g)
        unlisted = running - listed  # < 0: running VMs the group does not count as serving
        if unlisted:
            count += unlisted
            if per is None:
                unknown.append(name)
            else:
                vcpu += per * unlisted
        max_size = group_max_size(g)
        if max_size is None or per is None:
            headroom_known = False
        else:
            headroom += max(0, max_size - running) * per
    total = None if unknown else vcpu
    max_vcpu = None if total is None or not headroom_known else total + headroom
    return SiteCapacity(
        vcpu=total, instances=count, max_vcpu=max_vcpu, unknown=tuple(unknown), shortfalls=tuple(shortfalls)
    )


_ADDRESS_SUFFIXES = (
    "ip",
    "ips",
    "ip_address",
    "ip_addresses",
    "ipaddress",
    "dns_name",
    "fqdn",
    "hostname",
    "address",
    "addresses",
)


def addresses(resource: Resource) -> set[str]:
    """Every IP address and DNS name the inventory says reaches this resource (lower-case, no dot).

    Adapters name these attrs after their provider (``private_ip``, ``nat_ips``, ``dns_name``,
    ``ip_address`` …); any attr whose name ends like an address field counts.
    """
    found: set[str] = set()
    for key, value in resource.attrs.items():
        if not key.lower().endswith(_ADDRESS_SUFFIXES):
            continue
        values = value if isinstance(value, list | tuple | set) else [value]
        for v in values:
            if isinstance(v, str) and v:
                found.add(normalize_name(v))
    return found


def normalize_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


def bucket_copies(bucket: Resource) -> list[str] | None:
    """Where a bucket's objects are copied outside its own region: S3 replication rules that are
    enabled (``region`` or ``bucket``), an Azure geo-redundant SKU (``paired region``). ``None`` when
    the inventory could not tell (replication config unreadable)."""
    replication = bucket.attrs.get("replication")
    if bucket.provider == "azure" or "geo_redundant" in bucket.attrs:
        geo = bucket.attrs.get("geo_redundant")
        return None if geo is None else (["paired region"] if geo else [])
    if not isinstance(replication, dict):
        return None
    copies = []
    for rule in replication.get("rules") or []:
        if str(rule.get("status") or "").lower() != "enabled":
            continue
        region = rule.get("destination_region")
        if region and region == bucket.region:
            continue  # same-region replication survives a bucket deletion, not a regional outage
        copies.append(str(region or f"bucket {rule.get('destination_bucket')} (region unknown)"))
    return copies
