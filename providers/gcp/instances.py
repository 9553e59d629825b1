"""Compute Engine instances: aggregated list -> boot images (aggregated disks) -> sizes -> ``Resource``s."""

from __future__ import annotations

from typing import Any

from failover.model import Capacity, Kind, Resource, ScopeError
from providers.base import or_unknown
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, last, path_of, region_of_zone
from providers.gcp.machine_types import MachineSpec, MachineTypes


def read_instances(
    session: GcpSession, target: Target, machine_types: MachineTypes
) -> tuple[list[Resource], list[ScopeError]]:
    """Every instance in the project. Raises if the listing itself fails; sub-reads fail softly."""
    project = target.project
    items, errors = session.project_aggregated(project, "instances")
    instances = [inst for _where, inst in items]
    if not instances:
        return [], errors

    images = or_unknown(errors, f"{project}/disks", read_boot_images, session, project)

    specs: dict[str, MachineSpec] = {}
    for inst in instances:
        mtype = last(inst.machine_type)
        if mtype in specs or not mtype:
            continue
        zone = last(inst.zone)
        spec = or_unknown(
            errors, f"{project}/machineTypes/{mtype}", machine_types.resolve, session, project, zone, mtype
        )
        if spec is not None:
            specs[mtype] = spec

    resources = [normalize_instance(target, inst, specs.get(last(inst.machine_type)), images) for inst in instances]
    return resources, errors


def read_boot_images(session: GcpSession, project: str) -> dict[str, str]:
    """Disk path -> the image it was created from (``projects/debian-cloud/global/images/...``)."""
    # An image we cannot see would read as "no image" to a drift check; fail the sub-read instead.
    items = session.project_aggregated_whole(project, "disks", "disks")
    return {path_of(d.self_link): path_of(d.source_image) for _where, d in items if d.source_image}


def normalize_instance(target: Target, inst: Any, spec: MachineSpec | None, images: dict[str, str] | None) -> Resource:
    """One SDK ``Instance`` as a ``Resource``. ``spec``/``images`` ``None`` mean unknown, and stay unknown."""
    zone = last(inst.zone)
    nics = list(inst.network_interfaces)
    boot = next((d for d in inst.disks if d.boot), None)
    image: str | None = None
    if boot is not None and images is not None:
        image = images.get(path_of(boot.source)) or None
    metadata = {item.key: item.value for item in inst.metadata.items} if "metadata" in inst else {}
    attrs: dict[str, Any] = {
        "project": target.project,
        "id": str(inst.id) if inst.id else "",
        "self_link": path_of(inst.self_link),
        "machine_type": last(inst.machine_type),
        "deletion_protection": bool(inst.deletion_protection),
        "network_ips": [n.network_i_p for n in nics if n.network_i_p],
        "nat_ips": [ac.nat_i_p for n in nics for ac in n.access_configs if ac.nat_i_p],
        "image": image,
        "group": path_of(metadata["created-by"]) if metadata.get("created-by") else None,
    }
    if spec is not None and spec.shared_cpu:
        attrs["shared_cpu"] = True
    return Resource(
        provider="gcp",
        account=target.account,
        region=region_of_zone(zone),
        zone=zone,
        kind=Kind.COMPUTE_INSTANCE,
        native_type=NATIVE_PREFIX + "Instance",
        native_id=f"projects/{target.project}/zones/{zone}/instances/{inst.name}",
        name=inst.name,
        state=inst.status,
        capacity=Capacity(vcpu=spec.vcpu, memory_mib=spec.memory_mib) if spec else Capacity(),
        tags=dict(inst.labels),
        attrs=attrs,
    )
