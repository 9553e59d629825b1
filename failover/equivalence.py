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
    unknown: tuple[str, ...] = ()  # names of resources whose size is unknown


def _group_members(group: Resource) -> set[str]:
    members = group.attrs.get("instance_ids") or group.attrs.get("instances") or []
    ids: set[str] = set()
    for m in members:
        if isinstance(m, str):
            ids.add(m)
        elif isinstance(m, dict):
            for key in ("id", "instance_id", "InstanceId", "name", "instance"):
                if m.get(key):
                    ids.add(str(m[key]).rsplit("/", 1)[-1])
    return ids


def _per_instance_vcpu(group: Resource) -> float | None:
    per = group.attrs.get("vcpu_per_instance")
    if per is not None:
        return float(per)
    n = group.capacity.instances
    if group.capacity.vcpu is not None and n:
        return group.capacity.vcpu / n
    return None


def site_capacity(resources: Iterable[Resource]) -> SiteCapacity:
    """Sum running compute. A group counts only for members not already listed as instances."""
    resources = list(resources)
    instances = [r for r in resources if r.kind == Kind.COMPUTE_INSTANCE and is_running(r)]
    listed = {r.native_id for r in instances} | {r.name for r in instances}
    vcpu = 0.0
    unknown: list[str] = []
    for r in instances:
        if r.capacity.vcpu is None:
            unknown.append(r.name or r.native_id)
        else:
            vcpu += r.capacity.vcpu
    count = len(instances)
    headroom = 0.0
    headroom_known = True
    for g in (r for r in resources if r.kind == Kind.COMPUTE_GROUP):
        members = _group_members(g)
        current = g.capacity.instances or 0
        per = _per_instance_vcpu(g)
        unlisted = current if not members else max(0, current - len(members & listed))
        if unlisted:
            count += unlisted
            if per is None:
                unknown.append(g.name or g.native_id)
            else:
                vcpu += per * unlisted
        max_size = g.attrs.get("max_size")
        if max_size is None or per is None:
            headroom_known = False
        else:
            headroom += max(0, int(max_size) - current) * per
    total = None if unknown else vcpu
    max_vcpu = None if total is None or not headroom_known else total + headroom
    return SiteCapacity(vcpu=total, instances=count, max_vcpu=max_vcpu, unknown=tuple(unknown))


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
