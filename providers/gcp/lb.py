"""Load balancing: forwarding rules (the ``lb`` front door) and backend services with live backend health.

Health comes from ``getHealth``, a POST that only reads: one call per backend group of each backend
service, run concurrently (bounded by the account's ``max_concurrency``). A group whose health could
not be read is listed in ``attrs["health_unknown_groups"]`` with a ``ScopeError``, and the service's
``state`` is ``unknown``.

Backends may be instance groups or network endpoint groups (NEGs). Zonal NEGs (VM and hybrid
endpoints) are health-checked and ``getHealth`` reports them like instance groups. Regional and
global NEGs (serverless: Cloud Run, Cloud Functions, App Engine; Private Service Connect; internet)
cannot carry a health check on a backend service, so the API has no health to report for them: they
are listed in ``attrs["unmonitored_backends"]``, counted neither healthy nor unhealthy, and no
``getHealth`` is sent for them. The endpoint probes are the signal there.
"""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import each, error_kind, one_line
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, location_of, path_of


def read_forwarding_rules(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    """Regional and global rules: the aggregated list carries global ones in its ``global`` scope."""
    project = target.project
    items, errors = session.project_aggregated(project, "forwardingRules")
    return [normalize_forwarding_rule(target, where, rule) for where, rule in items], errors


def normalize_forwarding_rule(target: Target, where: str, rule: Any) -> Resource:
    region, _zone = location_of(where)
    is_global = not region
    native_id = (
        f"projects/{target.project}/{'global' if is_global else f'regions/{region}'}/forwardingRules/{rule.name}"
    )
    return Resource(
        provider="gcp",
        account=target.account,
        region=region,
        kind=Kind.LB,
        native_type=NATIVE_PREFIX + ("GlobalForwardingRule" if is_global else "ForwardingRule"),
        native_id=native_id,
        name=rule.name,
        tags=dict(rule.labels),
        attrs={
            "project": target.project,
            "id": str(rule.id) if rule.id else "",
            "is_global": is_global,
            "ip_address": rule.I_p_address or None,
            "protocol": rule.I_p_protocol or None,
            "port_range": rule.port_range or None,
            "ports": list(rule.ports),
            "scheme": rule.load_balancing_scheme or None,
            "target": path_of(rule.target) or None,
            "backend_service": path_of(rule.backend_service) or None,
        },
    )


def read_backend_services(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    project = target.project
    items, errors = session.project_aggregated(project, "backendServices")
    jobs = [(where, bs, b.group) for where, bs in items for b in bs.backends if b.group and reports_health(b.group)]
    health: dict[tuple[str, str, str], list[dict[str, Any]] | ProviderError] = {
        (where, bs.name, group): result
        for (where, bs, group), result in each(
            lambda job: _group_health(session, project, *job), jobs, max_workers=session.max_workers
        )
    }
    resources = []
    for where, bs in items:
        groups: dict[str, list[dict[str, Any]] | None] = {}
        unmonitored: list[str] = []
        for b in bs.backends:
            if not b.group:
                continue
            if not reports_health(b.group):
                unmonitored.append(path_of(b.group))
                continue
            result = health[(where, bs.name, b.group)]
            if isinstance(result, ProviderError):
                errors.append(ScopeError(result.scope, error_kind(result), one_line(result)))
                groups[path_of(b.group)] = None
            else:
                groups[path_of(b.group)] = result
        resources.append(normalize_backend_service(target, where, bs, groups, unmonitored))
    return resources, errors


def reports_health(group: str) -> bool:
    """Whether ``getHealth`` reports on this backend: instance groups and zonal NEGs do; regional and global
    NEGs (serverless, Private Service Connect, internet) take no health check, so there is nothing to read."""
    path = path_of(group)
    return "/networkEndpointGroups/" not in path or "/zones/" in path


def _group_health(
    session: GcpSession, project: str, where: str, bs: Any, group: str
) -> list[dict[str, Any]] | ProviderError:
    region, _zone = location_of(where)
    scope = f"{project}/backendServices/{bs.name}/health"
    body = {"group": group}
    try:
        if region:
            client = session.client("RegionBackendServicesClient")
            answer = session.call(
                scope,
                client.get_health,
                project=project,
                region=region,
                backend_service=bs.name,
                resource_group_reference_resource=body,
            )
        else:
            client = session.client("BackendServicesClient")
            answer = session.call(
                scope,
                client.get_health,
                project=project,
                backend_service=bs.name,
                resource_group_reference_resource=body,
            )
    except ProviderError as err:
        return err
    return [
        {
            "group": path_of(group),
            "instance": path_of(h.instance) or None,
            "ipAddress": h.ip_address or None,
            "port": int(h.port) if "port" in h else None,
            "healthState": h.health_state or "UNKNOWN",
        }
        for h in answer.health_status
    ]


def normalize_backend_service(
    target: Target,
    where: str,
    bs: Any,
    groups: dict[str, list[dict[str, Any]] | None],
    unmonitored: list[str] | None = None,
) -> Resource:
    """``groups`` maps each health-checked backend to its health entries, or ``None`` where health could not
    be read; ``unmonitored`` lists backends the API reports no health for (regional and global NEGs).

    ``healthy`` counts HEALTHY endpoints; ``unhealthy`` counts every other state (UNHEALTHY, DRAINING,
    TIMEOUT, UNKNOWN): an endpoint not known to be healthy is not counted as healthy. ``state`` is
    ``unknown`` when some health could not be read, or when no backend reports health at all.
    """
    region, _zone = location_of(where)
    is_global = not region
    unmonitored = list(unmonitored or [])
    entries = [e for g in groups.values() if g for e in g]
    unknown_groups = [g for g, v in groups.items() if v is None]
    healthy = sum(1 for e in entries if e["healthState"] == "HEALTHY")
    unhealthy = len(entries) - healthy
    if unknown_groups or (unmonitored and not groups):
        state = "unknown"
    elif healthy == 0:
        state = "unhealthy"  # includes "no backends" and "backends with no instances": nothing serves
    elif unhealthy == 0:
        state = "healthy"
    else:
        state = "degraded"
    where_path = "global" if is_global else f"regions/{region}"
    return Resource(
        provider="gcp",
        account=target.account,
        region=region,
        kind=Kind.LB_BACKEND,
        native_type=NATIVE_PREFIX + ("BackendService" if is_global else "RegionBackendService"),
        native_id=f"projects/{target.project}/{where_path}/backendServices/{bs.name}",
        name=bs.name,
        state=state,
        attrs={
            "project": target.project,
            "id": str(bs.id) if bs.id else "",
            "is_global": is_global,
            "protocol": bs.protocol or None,
            "scheme": bs.load_balancing_scheme or None,
            "backends": [path_of(b.group) for b in bs.backends if b.group],
            "health_checks": [path_of(h) for h in bs.health_checks],
            "health": entries,
            "healthy": healthy,
            "unhealthy": unhealthy,
            "health_unknown_groups": unknown_groups,
            "unmonitored_backends": unmonitored,
        },
    )
