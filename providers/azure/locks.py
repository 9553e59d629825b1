"""Management locks onto the resources they protect: Azure's form of deletion protection.

A lock protects its scope and everything under it (a lock on a resource group covers every resource
in it; one on the subscription covers all). Both levels, ``CanNotDelete`` and ``ReadOnly``, refuse a
delete. Where a subscription's locks could not be read, protection is unknown (``None``), never False.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from failover.model import Kind, Resource

__all__ = ["apply_locks", "covers"]


def covers(scope: str, resource_id: str) -> bool:
    """True when ``scope`` is ``resource_id`` or one of its ancestors (ARM ids compare case-insensitively)."""
    s, r = scope.rstrip("/").lower(), resource_id.rstrip("/").lower()
    return r == s or r.startswith(s + "/")


def apply_locks(resources: Iterable[Resource], unreadable: set[str]) -> list[Resource]:
    """Set ``deletion_protection`` and ``locks`` on every non-lock resource.

    ``unreadable`` holds the subscriptions whose locks could not be listed: their resources get
    ``deletion_protection=None`` and ``locks=None`` (unknown).
    """
    resources = list(resources)
    locks = [r for r in resources if r.kind == Kind.LOCK]
    out: list[Resource] = []
    for r in resources:
        if r.kind == Kind.LOCK:
            out.append(r)
            continue
        if r.account in unreadable:
            attrs = dict(r.attrs, deletion_protection=None, locks=None)
        else:
            mine = [
                {"name": lk.name, "level": lk.attrs.get("level"), "scope": lk.attrs.get("scope"), "id": lk.native_id}
                for lk in locks
                if lk.account == r.account and covers(str(lk.attrs.get("scope") or ""), r.native_id)
            ]
            attrs = dict(r.attrs, deletion_protection=bool(mine), locks=mine)
        out.append(dataclasses.replace(r, attrs=attrs))
    return out
