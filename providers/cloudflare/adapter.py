"""Cloudflare zones → one ``Inventory`` of ``routing`` resources (one per load balancer).

Three rounds, each fanned out and bounded by the account's ``max_concurrency`` and inventory deadline:
each zone (``zones/<id>``: its details, for the name and the account its pools live in, and its load
balancers); each account's pools and monitors (``accounts/<id>/pools``, ``accounts/<id>/monitors``);
then the health of every pool a load balancer uses that has a monitor (one call per pool; failures
collapse to one ``accounts/<id>/pool_health`` scope). A scope that fails is recorded incomplete; a
load balancer whose pools could not be read is still inventoried, with unknown targets and a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from failover.model import Inventory, Resource, ScopeError, utcnow
from providers.base import Deadline, Prior, RetryPolicy, deadline_of, fan_out, scope_error
from providers.cloudflare.normalize import health_of, normalize_load_balancer, pool_ids

if TYPE_CHECKING:
    from failover.schema import Account
    from providers.cloudflare.client import CloudflareReader

__all__ = ["CloudflareAdapter"]


class CloudflareAdapter:
    provider = "cloudflare"

    def __init__(
        self,
        *,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._attempts, self._base_delay, self._max_delay, self._sleep = attempts, base_delay, max_delay, sleep

    def inventory(self, account: Account, prior: Prior | None = None) -> Inventory:
        """``prior`` is accepted for the common interface; nothing here is carried over yet."""
        from providers.cloudflare import client  # the library loads only when a Cloudflare account is read

        started = utcnow()
        deadline = deadline_of(account)
        try:
            token = client.token_for(account)
        except Exception as err:
            return Inventory(
                account=account.name,
                provider=self.provider,
                incomplete=[scope_error(err, scope) for scope in account.scopes],
                started_at=started,
                finished_at=utcnow(),
            )
        retry = RetryPolicy(client.classify, self._attempts, self._base_delay, self._max_delay, self._sleep, deadline)
        reader = client.CloudflareReader(account, token, retry)
        try:
            resources, errors = self._read(account, reader, deadline)
        finally:
            reader.close()
        return Inventory(
            account=account.name,
            provider=self.provider,
            resources=resources,
            incomplete=errors,
            started_at=started,
            finished_at=utcnow(),
        )

    def _read(
        self, account: Account, reader: CloudflareReader, deadline: Deadline
    ) -> tuple[list[Resource], list[ScopeError]]:
        zones: dict[str, dict[str, Any]] = {}
        lbs: dict[str, list[dict[str, Any]]] = {}

        def read_zone(scope: str) -> list[Resource]:
            zone_id = scope.split("/")[1]
            zones[zone_id] = reader.zone(zone_id)
            lbs[zone_id] = reader.load_balancers(zone_id)
            return []

        workers = account.max_concurrency
        _, errors = fan_out([f"zones/{z}" for z in account.zones], read_zone, max_workers=workers, deadline=deadline)

        def account_of(zone_id: str) -> str | None:
            return account.account_id or (zones[zone_id].get("account") or {}).get("id")

        accounts = list(dict.fromkeys(a for z in lbs if (a := account_of(z))))
        pools: dict[str, dict[str, dict[str, Any]]] = {}
        monitors: dict[str, dict[str, dict[str, Any]]] = {}

        def read_account(scope: str) -> list[Resource]:
            _, account_id, what = scope.split("/")
            if what == "pools":
                pools[account_id] = {p["id"]: p for p in reader.pools(account_id) if p.get("id")}
            else:
                monitors[account_id] = {m["id"]: m for m in reader.monitors(account_id) if m.get("id")}
            return []

        scopes = [f"accounts/{a}/{what}" for a in accounts for what in ("pools", "monitors")]
        _, account_errors = fan_out(scopes, read_account, max_workers=workers, deadline=deadline)
        errors += account_errors

        # Health of each used pool that has a monitor (a pool without one reports none).
        used = {(a, p) for z in lbs if (a := account_of(z)) for lb in lbs[z] for p in pool_ids(lb)}
        watched = sorted((a, p) for a, p in used if (pools.get(a) or {}).get(p, {}).get("monitor"))
        health: dict[str, bool | None] = {}

        def read_health(scope: str) -> list[Resource]:
            _, account_id, _, pool_id, _ = scope.split("/")
            health[pool_id] = health_of(reader.pool_health(account_id, pool_id))
            return []

        health_scopes = [f"accounts/{a}/pools/{p}/health" for a, p in watched]
        _, health_errors = fan_out(health_scopes, read_health, max_workers=workers, deadline=deadline)
        errors += _collapse(health_errors)

        resources = [
            normalize_load_balancer(
                lb,
                account=account.name,
                zone=zones[zone_id],
                cloudflare_account=account_of(zone_id),
                pools=pools.get(account_of(zone_id) or ""),
                monitors=monitors.get(account_of(zone_id) or ""),
                health=health,
            )
            for zone_id in lbs
            for lb in lbs[zone_id]
        ]
        return resources, errors


def _collapse(errors: list[ScopeError]) -> list[ScopeError]:
    """One ScopeError per account and error kind for pool health reads: 40 denied pools are one problem."""
    groups: dict[tuple[str, str], list[ScopeError]] = {}
    for e in errors:
        account_id = e.scope.split("/")[1] if e.scope.startswith("accounts/") else e.scope
        groups.setdefault((account_id, e.error), []).append(e)
    out = []
    for (account_id, kind), group in groups.items():
        reason = group[0].reason if len(group) == 1 else f"{len(group)} pools' health; first: {group[0].reason}"
        out.append(ScopeError(scope=f"accounts/{account_id}/pool_health", error=kind, reason=reason))
    return out
