"""The GCP adapter: one config account (one or more projects) -> one ``Inventory``.

Each project is read as eight independent parts (instances, regions, instance groups, forwarding
rules, backend services, Cloud SQL instances with their replicas' lag, Cloud Storage buckets, Cloud
DNS zones with their record sets and routing policies) fanned out together, bounded by the account's
``max_concurrency``. A part that cannot be read becomes a ``ScopeError`` such as ``acme-dr/instances``;
the rest is still inventoried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from failover.errors import ProviderError
from failover.model import Inventory, ScopeError, utcnow
from providers.base import Prior, ScopeResult, deadline_of, error_kind, fan_out, one_line
from providers.gcp.clients import GcpSession, credentials_for
from providers.gcp.clouddns import read_clouddns
from providers.gcp.cloudsql import read_cloudsql
from providers.gcp.common import Target
from providers.gcp.gcs import read_buckets
from providers.gcp.groups import read_groups
from providers.gcp.instances import read_instances
from providers.gcp.lb import read_backend_services, read_forwarding_rules
from providers.gcp.machine_types import MachineTypes
from providers.gcp.monitoring import LAG_METRICS, lag_metric_project, read_lag_metrics
from providers.gcp.regions import read_regions

if TYPE_CHECKING:
    from failover.schema import Account, LagMetricRead

PARTS = (
    "instances",
    "regions",
    "instanceGroupManagers",
    "forwardingRules",
    "backendServices",
    "sqlInstances",
    "buckets",
    "managedZones",
)


class GcpAdapter:
    provider = "gcp"

    def __init__(self, *, attempts: int = 4, base_delay: float = 0.2, sleep: Callable[[float], None] = time.sleep):
        self.attempts = attempts
        self.base_delay = base_delay
        self.sleep = sleep

    def inventory(self, account: Account, prior: Prior | None = None) -> Inventory:
        """``prior`` is accepted for the common interface; nothing here is carried over yet."""
        started = utcnow()
        deadline = deadline_of(account)
        projects = account.scopes
        try:
            credentials = credentials_for(account)
        except ProviderError as err:
            errors = [ScopeError(scope=p, error=error_kind(err), reason=one_line(err)) for p in projects]
            return Inventory(account=account.name, provider=self.provider, incomplete=errors, started_at=started)
        session = GcpSession(
            credentials=credentials,
            endpoint=account.endpoint_override,
            timeout=account.timeout,
            attempts=self.attempts,
            base_delay=self.base_delay,
            max_workers=account.max_concurrency,
            sleep=self.sleep,
            deadline=deadline,
        )
        machine_types = MachineTypes()

        def read(scope: str) -> ScopeResult:
            project, part = scope.split("/", 1)
            target = Target(account=account.name, project=project)
            if part == "instances":
                return read_instances(session, target, machine_types)
            if part == "regions":
                return read_regions(session, target)
            if part == "instanceGroupManagers":
                return read_groups(session, target, machine_types)
            if part == "forwardingRules":
                return read_forwarding_rules(session, target)
            if part == "sqlInstances":
                return read_cloudsql(session, target)
            if part == "buckets":
                return read_buckets(session, target)
            if part == "managedZones":
                return read_clouddns(session, target)
            if part == LAG_METRICS:
                return read_lag_metrics(session, target, metrics[project])
            return read_backend_services(session, target)

        metrics: dict[str, list[LagMetricRead]] = {}
        for m in account.lag_metrics:
            metrics.setdefault(lag_metric_project(m, projects), []).append(m)
        scopes = [f"{p}/{part}" for p in projects for part in PARTS] + [f"{p}/{LAG_METRICS}" for p in metrics]
        resources, errors = fan_out(scopes, read, max_workers=account.max_concurrency, deadline=deadline)
        unique = list({(e.scope, e.error): e for e in errors}.values())  # a shared machine type fails once
        return Inventory(
            account=account.name,
            provider=self.provider,
            resources=resources,
            incomplete=unique,
            started_at=started,
            finished_at=utcnow(),
        )
