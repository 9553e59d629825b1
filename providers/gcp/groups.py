"""Managed instance groups, with their autoscaler bounds and per-instance size from the instance template.

The group listing is the part that must succeed; autoscalers and templates are read beside it and,
when they fail, leave ``max_size``/``autoscaled`` or the vCPU capacity unknown (``None``) and a
``ScopeError`` saying why, never a guess.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource, ScopeError
from providers.base import scope_error
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, last, location_of, path_of, unreachable_errors
from providers.gcp.machine_types import MachineSpec, MachineTypes


def read_groups(
    session: GcpSession, target: Target, machine_types: MachineTypes
) -> tuple[list[Resource], list[ScopeError]]:
    project = target.project
    client = session.client("InstanceGroupManagersClient")
    items, unreachable = session.aggregated(
        f"{project}/instanceGroupManagers", client.aggregated_list, {"project": project}, "instance_group_managers"
    )
    errors = unreachable_errors(project, "instanceGroupManagers", unreachable)
    if not items:
        return [], errors

    scalers: dict[str, Any] | None
    try:
        scalers = read_autoscalers(session, project)
    except ProviderError as err:
        scalers = None
        errors.append(scope_error(err, f"{project}/autoscalers"))

    templates: dict[str, Template] | None
    try:
        templates = read_templates(session, project)
    except ProviderError as err:
        templates = None
        errors.append(scope_error(err, f"{project}/instanceTemplates"))

    resources = []
    for where, mig in items:
        template = templates.get(template_of(mig)) if templates is not None else None
        mtype = template.machine_type if template else ""
        zone = _lookup_zone(where, mig)
        spec: MachineSpec | None = None
        if mtype and zone:
            try:
                spec = machine_types.resolve(session, project, zone, mtype)
            except ProviderError as err:
                errors.append(scope_error(err, f"{project}/machineTypes/{mtype}"))
        labels = dict(template.labels) if template else {}
        resources.append(normalize_group(target, where, mig, scalers, mtype or None, spec, labels))
    return resources, errors


def read_autoscalers(session: GcpSession, project: str) -> dict[str, Any]:
    """Group path -> its autoscaler's ``autoscalingPolicy``."""
    client = session.client("AutoscalersClient")
    items, unreachable = session.aggregated(
        f"{project}/autoscalers", client.aggregated_list, {"project": project}, "autoscalers"
    )
    if unreachable:
        raise ProviderError(f"autoscalers unreachable in {', '.join(unreachable)}", f"{project}/autoscalers")
    return {path_of(a.target): a.autoscaling_policy for _where, a in items if a.target}


class Template(NamedTuple):
    machine_type: str
    labels: dict[str, str]


def read_templates(session: GcpSession, project: str) -> dict[str, Template]:
    """Instance template path -> its machine type and the labels it gives instances.

    MIGs carry no labels of their own; the template's labels are what a site's tag selector means."""
    client = session.client("InstanceTemplatesClient")
    items, unreachable = session.aggregated(
        f"{project}/instanceTemplates", client.aggregated_list, {"project": project}, "instance_templates"
    )
    if unreachable:
        raise ProviderError(
            f"instance templates unreachable in {', '.join(unreachable)}", f"{project}/instanceTemplates"
        )
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


def normalize_group(
    target: Target,
    where: str,
    mig: Any,
    scalers: dict[str, Any] | None,
    machine_type: str | None,
    spec: MachineSpec | None,
    labels: dict[str, str] | None = None,
) -> Resource:
    """One SDK ``InstanceGroupManager`` as a ``compute.group`` resource, tagged with its template's labels.

    ``scalers`` ``None`` means autoscalers could not be read: ``autoscaled``/``max_size`` stay ``None``.
    Capacity vCPU/memory are ``targetSize`` x the template's machine type, when both are known.
    """
    region, zone = location_of(where)
    self_path = path_of(mig.self_link) or f"projects/{target.project}/{where}/instanceGroupManagers/{mig.name}"
    size = int(mig.target_size)
    stable = bool(mig.status.is_stable) if "status" in mig else None
    autoscaled: bool | None = None
    min_size = max_size = None
    if scalers is not None:
        policy = scalers.get(self_path)
        autoscaled = policy is not None and policy.mode != "OFF"
        if policy is not None:
            min_size = int(policy.min_num_replicas) if "min_num_replicas" in policy else None
            max_size = int(policy.max_num_replicas) if "max_num_replicas" in policy else None
    actions = mig.current_actions
    attrs: dict[str, Any] = {
        "project": target.project,
        "id": str(mig.id) if mig.id else "",
        "self_link": self_path,
        "desired": size,
        "stable": stable,
        "instance_template": template_of(mig) or None,
        "machine_type": machine_type,
        "vcpu_per_instance": spec.vcpu if spec else None,
        "memory_mib_per_instance": spec.memory_mib if spec else None,
        "autoscaled": autoscaled,
        "min_size": min_size,
        "max_size": max_size,
        "instance_group": path_of(mig.instance_group) or None,
        "current_actions": {
            name: int(getattr(actions, name))
            for name in ("none", "creating", "recreating", "deleting", "abandoning", "restarting", "refreshing")
        }
        if "current_actions" in mig
        else None,
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
            vcpu=size * spec.vcpu if spec else None,
            memory_mib=size * spec.memory_mib if spec else None,
            instances=size,
        ),
        tags=dict(labels or {}),
        attrs=attrs,
    )
