"""Managed instance groups: the members that run now, autoscaler bounds, per-instance size from the template.

``targetSize`` is what a group wants, not what runs: the running count comes from each group's
``listManagedInstances`` (one call per group, run concurrently up to the account's ``max_concurrency``;
the group's own ``currentActions`` counters cannot say whether a member is RUNNING). The group listing
is the part that must succeed; members, autoscalers and templates are read beside it and, when they
fail, leave the running count, ``max_size``/``autoscaled`` or the vCPU capacity unknown (``None``) and
a ``ScopeError`` saying why, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource, ScopeError
from providers.base import each, or_unknown, scope_error
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, last, location_of, path_of
from providers.gcp.machine_types import MachineSpec, MachineTypes, cpu_quota_metric

# A member serves only when its VM is RUNNING and the group is doing nothing to it, or only refreshing
# it (REFRESHING applies changes "without stopping that instance"). CREATING, VERIFYING (created, not
# yet verified), RECREATING, RESTARTING, STARTING, RESUMING, STOPPING, SUSPENDING, DELETING and
# ABANDONING members do not carry load, and neither does a member whose autohealing health check
# reports anything but HEALTHY.
SERVING_STATUS = "RUNNING"
SERVING_ACTIONS = frozenset({"NONE", "REFRESHING"})
NOT_SERVING_SHOWN = 20  # members listed in attrs["not_serving"]; the count is what capacity uses


@dataclass(frozen=True, slots=True)
class Members:
    """What ``listManagedInstances`` said about a group's members."""

    serving: int  # RUNNING members the group is not acting on, with no failing health check
    instance_ids: tuple[str, ...]  # paths of every member VM that exists (``projects/p/zones/z/instances/i``)
    not_serving: tuple[str, ...] = ()  # ``web-2 (STAGING, CREATING)``: why each other member does not count


def summarize_members(managed: Iterable[Any]) -> Members:
    """Count serving members from SDK ``ManagedInstance`` messages (pure: tested on wire shapes)."""
    serving = 0
    ids: list[str] = []
    idle: list[str] = []
    for mi in managed:
        if mi.instance and mi.instance_status:  # the VM exists (the URL may exist before the VM does)
            ids.append(path_of(mi.instance))
        health = [h.detailed_health_state or "UNKNOWN" for h in mi.instance_health]
        status, action = mi.instance_status or "", mi.current_action or ""
        if status == SERVING_STATUS and action in SERVING_ACTIONS and all(h == "HEALTHY" for h in health):
            serving += 1
            continue
        why = ", ".join(p for p in (status or "no VM", action, *(h for h in health if h != "HEALTHY")) if p)
        idle.append(f"{mi.name or last(mi.instance)} ({why})")
    return Members(serving=serving, instance_ids=tuple(ids), not_serving=tuple(idle))


def read_groups(
    session: GcpSession, target: Target, machine_types: MachineTypes
) -> tuple[list[Resource], list[ScopeError]]:
    project = target.project
    items, errors = session.project_aggregated(project, "instanceGroupManagers")
    if not items:
        return [], errors

    scalers = or_unknown(errors, f"{project}/autoscalers", read_autoscalers, session, project)
    templates = or_unknown(errors, f"{project}/instanceTemplates", read_templates, session, project)

    reads = each(lambda item: read_members(session, project, *item), items, max_workers=session.max_workers)
    resources = []
    for (where, mig), found in reads:
        template = templates.get(template_of(mig)) if templates is not None else None
        mtype = template.machine_type if template else ""
        zone = _lookup_zone(where, mig)
        spec: MachineSpec | None = None
        if mtype and zone:
            spec = or_unknown(
                errors, f"{project}/machineTypes/{mtype}", machine_types.resolve, session, project, zone, mtype
            )
        labels = dict(template.labels) if template else {}
        members: Members | None = None
        if isinstance(found, ProviderError):
            errors.append(scope_error(found, members_scope(project, where, mig.name)))
        else:
            members = found
        resources.append(normalize_group(target, where, mig, scalers, mtype or None, spec, labels, members))
    return resources, errors


def members_scope(project: str, where: str, name: str) -> str:
    return f"{project}/{where}/instanceGroupManagers/{name}/managedInstances"


def read_members(session: GcpSession, project: str, where: str, mig: Any) -> Members:
    """One ``listManagedInstances`` call (a read-only POST), zonal or regional, every page."""
    region, zone = location_of(where)
    scope = members_scope(project, where, mig.name)
    if zone:
        client = session.client("InstanceGroupManagersClient")
        request = {"project": project, "zone": zone, "instance_group_manager": mig.name}
    else:
        client = session.client("RegionInstanceGroupManagersClient")
        request = {"project": project, "region": region, "instance_group_manager": mig.name}
    pages = session.pages(scope, client.list_managed_instances, request)
    return summarize_members(mi for page in pages for mi in page.managed_instances)


def read_autoscalers(session: GcpSession, project: str) -> dict[str, Any]:
    """Group path -> its autoscaler's ``autoscalingPolicy``."""
    items = session.project_aggregated_whole(project, "autoscalers", "autoscalers")
    return {path_of(a.target): a.autoscaling_policy for _where, a in items if a.target}


class Template(NamedTuple):
    machine_type: str
    labels: dict[str, str]


def read_templates(session: GcpSession, project: str) -> dict[str, Template]:
    """Instance template path -> its machine type and the labels it gives instances.

    MIGs carry no labels of their own; the template's labels are what a site's tag selector means."""
    items = session.project_aggregated_whole(project, "instanceTemplates", "instance templates")
    return {
        path_of(t.self_link): Template(last(t.properties.machine_type), dict(t.properties.labels))
        for _where, t in items
        if t.properties.machine_type
    }


def template_of(mig: Any) -> str:
    """The group's instance template path (the first version's when the group uses versions)."""
    if mig.instance_template:
        return path_of(mig.instance_template)
    versions = list(mig.versions)
    return path_of(versions[0].instance_template) if versions else ""


def _lookup_zone(where: str, mig: Any) -> str:
    _region, zone = location_of(where)
    if zone:
        return zone
    zones = [last(z.zone) for z in mig.distribution_policy.zones] if "distribution_policy" in mig else []
    return zones[0] if zones else ""


SCALING_MODES = frozenset({"ON", "ONLY_SCALE_OUT", "ONLY_UP"})  # autoscaler modes that add instances


def normalize_group(
    target: Target,
    where: str,
    mig: Any,
    scalers: dict[str, Any] | None,
    machine_type: str | None,
    spec: MachineSpec | None,
    labels: dict[str, str] | None = None,
    members: Members | None = None,
) -> Resource:
    """One SDK ``InstanceGroupManager`` as a ``compute.group`` resource, tagged with its template's labels.

    ``capacity.instances`` is the members serving now (``members``); ``None`` when they could not be
    read, which makes the site's capacity unknown. ``targetSize`` is only ``attrs["desired"]``.
    ``scalers`` ``None`` means autoscalers could not be read: ``autoscaled``/``max_size`` stay ``None``;
    so do they when the group names an autoscaler (``status.autoscaler``) the listing did not return.
    An autoscaler in mode ``OFF`` adds no instances: the group is not autoscaled and has no max size.
    """
    region, zone = location_of(where)
    self_path = path_of(mig.self_link) or f"projects/{target.project}/{where}/instanceGroupManagers/{mig.name}"
    size = int(mig.target_size)
    status = mig.status if "status" in mig else None
    stable = bool(status.is_stable) if status is not None else None
    named_scaler = path_of(status.autoscaler) if status is not None and status.autoscaler else ""
    autoscaled: bool | None = None
    min_size = max_size = None
    if scalers is not None:
        policy = scalers.get(self_path)
        # A group naming an autoscaler the listing did not return keeps unknown bounds, not "none".
        if policy is not None or not named_scaler:
            autoscaled = policy is not None and policy.mode in SCALING_MODES
        if policy is not None and autoscaled:
            min_size = int(policy.min_num_replicas) if "min_num_replicas" in policy else None
            max_size = int(policy.max_num_replicas) if "max_num_replicas" in policy else None
    running = members.serving if members is not None else None
    attrs: dict[str, Any] = {
        "project": target.project,
        "id": str(mig.id) if mig.id else "",
        "self_link": self_path,
        "desired": size,
        "in_service": running,
        "instance_ids": list(members.instance_ids) if members is not None else [],
        "not_serving": list(members.not_serving[:NOT_SERVING_SHOWN]) if members is not None else [],
        "stable": stable,
        "instance_template": template_of(mig) or None,
        "machine_type": machine_type,
        "cpu_quota_metric": cpu_quota_metric(machine_type or ""),
        "vcpu_per_instance": spec.vcpu if spec else None,
        "memory_mib_per_instance": spec.memory_mib if spec else None,
        "autoscaled": autoscaled,
        "min_size": min_size,
        "max_size": max_size,
        "instance_group": path_of(mig.instance_group) or None,
        "current_actions": _counters(mig.current_actions) if "current_actions" in mig else None,
    }
    if not zone:
        attrs["zones"] = [last(z.zone) for z in mig.distribution_policy.zones] if "distribution_policy" in mig else []
    return Resource(
        provider="gcp",
        account=target.account,
        region=region,
        zone=zone,
        kind=Kind.COMPUTE_GROUP,
        native_type=NATIVE_PREFIX + "InstanceGroupManager",
        native_id=self_path,
        name=mig.name,
        state="" if stable is None else ("STABLE" if stable else "UPDATING"),
        capacity=Capacity(
            vcpu=running * spec.vcpu if spec and running is not None else None,
            memory_mib=running * spec.memory_mib if spec and running is not None else None,
            instances=running,
        ),
        tags=dict(labels or {}),
        attrs=attrs,
    )


def _counters(actions: Any) -> dict[str, int]:
    """Every counter of the SDK's ``InstanceGroupManagerActionsSummary`` (none, creating, verifying, ...)."""
    return {name: int(getattr(actions, name)) for name in sorted(type(actions).meta.fields)}
