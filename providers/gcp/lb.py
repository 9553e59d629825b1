"""Load balancing: forwarding rules (the ``lb`` front door) and backend services with live backend health.

Health comes from ``getHealth``, a POST that only reads: one call per backend group of each backend
service, run concurrently (bounded). A group whose health could not be read is listed in
``attrs["health_unknown_groups"]`` with a ``ScopeError``, and the service's ``state`` is ``unknown``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import error_kind, one_line, scope_error
from providers.gcp.clients import GcpSession
from providers.gcp.common import NATIVE_PREFIX, Target, location_of, path_of, unreachable_errors

HEALTH_WORKERS = 4


def read_forwarding_rules(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    """Regional rules (aggregated list) and global ones (global list); either may fail alone."""
    project = target.project
    resources: list[Resource] = []
    errors: list[ScopeError] = []
    seen: set[str] = set()
    try:
        client = session.client("ForwardingRulesClient")
        items, unreachable = session.aggregated(
            f"{project}/forwardingRules", client.aggregated_list, {"project": project}, "forwarding_rules"
        )
        errors.extend(unreachable_errors(project, "forwardingRules", unreachable))
        for where, rule in items:
            res = normalize_forwarding_rule(target, where, rule)
            seen.add(res.native_id)
            resources.append(res)
    except ProviderError as err:
        errors.append(scope_error(err, f"{project}/forwardingRules"))
    try:
        gclient = session.client("GlobalForwardingRulesClient")
        for rule in session.listed(f"{project}/globalForwardingRules", gclient.list, {"project": project}):
            res = normalize_forwarding_rule(target, "global", rule)
            if res.native_id not in seen:  # the aggregated list may already carry the global scope
                resources.append(res)
    except ProviderError as err:
        errors.append(scope_error(err, f"{project}/globalForwardingRules"))
    return resources, errors


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
    client = session.client("BackendServicesClient")
    items, unreachable = session.aggregated(
        f"{project}/backendServices", client.aggregated_list, {"project": project}, "backend_services"
    )
    errors = unreachable_errors(project, "backendServices", unreachable)
    jobs = [(where, bs, b.group) for where, bs in items for b in bs.backends if b.group]
    health: dict[tuple[str, str, str], list[dict[str, Any]] | ProviderError] = {}
    if jobs:
        with ThreadPoolExecutor(max_workers=min(HEALTH_WORKERS, len(jobs))) as pool:
            results = pool.map(lambda job: _group_health(session, project, *job), jobs)
            for (where, bs, group), result in zip(jobs, results, strict=True):
                health[(where, bs.name, group)] = result
    resources = []
    for where, bs in items:
        groups: dict[str, list[dict[str, Any]] | None] = {}
        for b in bs.backends:
            if not b.group:
                continue
            result = health[(where, bs.name, b.group)]
            if isinstance(result, ProviderError):
                errors.append(ScopeError(result.scope, error_kind(result), one_line(result)))
                groups[path_of(b.group)] = None
            else:
                groups[path_of(b.group)] = result
        resources.append(normalize_backend_service(target, where, bs, groups))
    return resources, errors


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
    target: Target, where: str, bs: Any, groups: dict[str, list[dict[str, Any]] | None]
) -> Resource:
    """``groups`` maps each backend group to its health entries, or ``None`` where health could not be read.

    ``healthy`` counts HEALTHY endpoints; ``unhealthy`` counts every other state (UNHEALTHY, DRAINING,
    TIMEOUT, UNKNOWN): an endpoint not known to be healthy is not counted as healthy.
    """
    region, _zone = location_of(where)
    is_global = not region
    entries = [e for g in groups.values() if g for e in g]
    unknown_groups = [g for g, v in groups.items() if v is None]
    healthy = sum(1 for e in entries if e["healthState"] == "HEALTHY")
    unhealthy = len(entries) - healthy
    if unknown_groups:
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
            "backends": list(groups),
            "health_checks": [path_of(h) for h in bs.health_checks],
            "health": entries,
            "healthy": healthy,
            "unhealthy": unhealthy,
            "health_unknown_groups": unknown_groups,
        },
    )
