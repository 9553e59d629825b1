"""Pure helpers on Compute URLs and scope names, shared by the per-service readers."""

from __future__ import annotations

from dataclasses import dataclass

from failover.model import ScopeError

NATIVE_PREFIX = "compute.googleapis.com/"  # Cloud Asset Inventory type names


@dataclass(frozen=True, slots=True)
class Target:
    """Who the resources belong to: the config account's name (what sites select on) and the project."""

    account: str
    project: str


def last(url: str) -> str:
    """``.../zones/us-east1-b`` -> ``us-east1-b``; a bare name stays as it is."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def path_of(url: str) -> str:
    """A Compute URL without host and version: ``projects/p/zones/z/instances/i``.

    Full URLs (any host, emulators included) and already-relative paths both work.
    """
    if not url:
        return ""
    for marker in ("/compute/v1/", "/compute/beta/", "/compute/alpha/"):
        if marker in url:
            return url.split(marker, 1)[1]
    return url.lstrip("/")


def region_of_zone(zone: str) -> str:
    """``us-central1-a`` -> ``us-central1``."""
    return zone.rsplit("-", 1)[0] if "-" in zone else zone


def location_of(scope_key: str) -> tuple[str, str]:
    """(region, zone) from an aggregated-list key: ``zones/us-east1-b``, ``regions/us-east1`` or ``global``."""
    kind, _, name = scope_key.partition("/")
    if kind == "zones":
        return region_of_zone(name), name
    if kind == "regions":
        return name, ""
    return "", ""


def unreachable_errors(project: str, collection: str, scopes: dict[str, str]) -> list[ScopeError]:
    """One ``ScopeError`` per scope an aggregated list could not read: that part is unknown, not empty."""
    return [
        ScopeError(
            scope=f"{project}/{scope}/{collection}",
            error="unreachable",
            reason=f"the Compute API could not read {scope} while listing {collection} ({why})",
        )
        for scope, why in scopes.items()
    ]
