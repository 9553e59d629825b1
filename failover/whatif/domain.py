"""A failure domain: a whole provider (``aws``) or one of its regions (``aws:us-east-1``), and which
resources, sites and copies it contains. Pure.

Valid providers are the three clouds plus every provider a configured account names (``cloudflare``);
valid regions of a provider are those the config names (its accounts' and sites' ``regions``) and those
the stored inventory holds resources in (``global`` and empty regions are not regions: a global
service is down only with its whole provider).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from failover.errors import ConfigError
from failover.model import Inventory, Resource
from failover.schema import PROVIDERS, Config

GLOBAL_REGIONS = ("", "global")  # what a global service's resources carry as their region


@dataclass(frozen=True, slots=True, order=True)
class Domain:
    """What is down: ``provider``, or only its ``region`` (None: the whole provider)."""

    provider: str
    region: str | None = None

    def __str__(self) -> str:
        return self.provider if self.region is None else f"{self.provider}:{self.region}"

    def holds(self, provider: str, region: str | None, zone: str = "") -> bool:
        """Whether something on ``provider`` in ``region`` (or ``zone``) goes down with this domain. A
        global thing (no region, or ``global``) goes down only with its whole provider."""
        if provider != self.provider:
            return False
        if self.region is None:
            return True
        if not region or region in GLOBAL_REGIONS:
            return False
        return region == self.region or region.startswith(f"{self.region}-") or zone.startswith(f"{self.region}-")

    def holds_resource(self, r: Resource) -> bool:
        return self.holds(r.provider, r.region, r.zone)

    def holds_where(self, where: str) -> bool:
        """A copy's ``provider:region`` (``DataCopy.where``)."""
        provider, _, region = where.partition(":")
        return self.holds(provider, region or None)


def known_regions(config: Config, inventories: Iterable[Inventory]) -> dict[str, set[str]]:
    """Per provider, the regions ``--down PROVIDER:REGION`` accepts (see the module docstring)."""
    found: dict[str, set[str]] = {p: set() for p in valid_providers(config)}
    accounts = {a.name: a for a in config.accounts}
    for a in config.accounts:
        found[a.provider].update(a.regions)
    for w in config.workloads:
        for s in w.sites:
            if s.account in accounts:
                found[accounts[s.account].provider].update(s.regions)
    for inv in inventories:
        for r in inv.resources:
            if r.region not in GLOBAL_REGIONS:
                found.setdefault(r.provider, set()).add(r.region)
    return found


def valid_providers(config: Config) -> list[str]:
    return list(dict.fromkeys([*PROVIDERS, *(a.provider for a in config.accounts)]))


def parse_domain(text: str, config: Config, inventories: Iterable[Inventory]) -> Domain:
    """``PROVIDER`` or ``PROVIDER:REGION``; an unknown name is a ``ConfigError`` listing the valid ones."""
    provider, sep, region = text.strip().partition(":")
    provider = provider.lower()
    providers = valid_providers(config)
    if provider not in providers:
        raise ConfigError(f"--down {text!r}: unknown provider {provider!r} (expected one of: {', '.join(providers)})")
    if not sep:
        return Domain(provider)
    regions = known_regions(config, inventories).get(provider, set())
    if region not in regions:
        known = ", ".join(sorted(regions)) or "none in the config or the stored inventory"
        raise ConfigError(f"--down {text!r}: unknown {provider} region {region!r} (known: {known})")
    return Domain(provider, region)
