"""Everything one workload's checks may look at, gathered once and passed to every pure check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from failover.assign import ResourceIndex, site_matches
from failover.model import Drill, Inventory, Observation, ObsStatus, Resource, ScopeError, utcnow
from failover.schema import Account, Config, Site, Workload, format_duration


@dataclass(frozen=True)
class Evidence:
    config: Config
    workload: Workload
    inventories: dict[str, Inventory]  # account name -> newest inventory (absent: never inventoried)
    observations: list[Observation] = field(default_factory=list)  # this workload's, newest per key
    now: datetime = field(default_factory=utcnow)
    drill: Drill | None = None  # the workload's newest recorded failover drill
    index: ResourceIndex = None  # type: ignore[assignment]  # built from ``inventories`` when not shared
    _site_cache: dict[str, list[Resource]] = field(default_factory=dict, compare=False, repr=False)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # derived once (routing path)

    def __post_init__(self) -> None:
        if self.index is None:
            object.__setattr__(self, "index", ResourceIndex.of(self.inventories))

    def account(self, site: Site) -> Account:
        return self.config.account(site.account)

    def provider(self, site: Site) -> str:
        return self.account(site).provider

    def resources(self, site: Site) -> list[Resource]:
        cached = self._site_cache.get(site.name)
        if cached is None:
            account = self.account(site)
            cached = [r for r in self.index.candidates(site) if site_matches(site, account, r)]
            self._site_cache[site.name] = cached
        return list(cached)

    def of_kind(self, account_name: str, kind: str) -> list[Resource]:
        return list(self.index.of_kind(account_name, kind))

    def gaps(self, site: Site) -> list[str]:
        """Why this site's inventory cannot be trusted as complete or current; empty when it can."""
        inv = self.inventories.get(site.account)
        if inv is None:
            return [f"account {site.account} has not been inventoried"]
        account = self.account(site)
        gaps = [f"{site.account} {e.scope}: {e.reason}" for e in inv.incomplete if _affects(e, site, account)]
        age = (self.now - inv.finished_at).total_seconds()
        if age > self.config.scoring.stale_after:
            gaps.append(f"inventory of {site.account} is {format_duration(age)} old")
        return gaps

    def account_gaps(self, account_name: str, relevant: Callable[[str], bool] | None = None) -> list[str]:
        """Why an account's inventory cannot be trusted for a lookup not tied to one site (DNS records
        in a central account): never inventoried, an incomplete scope ``relevant`` selects (all by
        default), or stale."""
        inv = self.inventories.get(account_name)
        if inv is None:
            return [f"account {account_name} has not been inventoried"]
        gaps = [
            f"{account_name} {e.scope}: {e.reason}" for e in inv.incomplete if relevant is None or relevant(e.scope)
        ]
        age = (self.now - inv.finished_at).total_seconds()
        if age > self.config.scoring.stale_after:
            gaps.append(f"inventory of {account_name} is {format_duration(age)} old")
        return gaps

    def observation(
        self, *, probe: str, site: str | None = None, label: str = "", target: str | None = None
    ) -> Observation | None:
        """The fresh observation for this probe; with several vantages, the one that matters most.

        A failure seen from any vantage wins (users there see it too); otherwise the worst of the
        answers that did come back; an error (no answer) only when no vantage got one, so one vantage
        with a broken network does not turn every workload unknown.
        """
        matches = [
            o
            for o in self.observations
            if (self.now - o.observed_at).total_seconds() <= self.config.scoring.stale_after  # stale: no evidence
            and o.probe == probe
            and o.site == site
            and (not label or o.label == label)
            and (target is None or o.target == target or o.target.startswith(f"{target} as "))
        ]
        if not matches:
            return None
        worst = min(matches, key=lambda o: _VANTAGE_RANK[o.status])
        if len({o.vantage for o in matches}) > 1 and worst.vantage:
            return worst.tagged(reason=f"from {worst.vantage}: {worst.reason}")
        return worst


_VANTAGE_RANK = {ObsStatus.FAILED: 0, ObsStatus.WARN: 1, ObsStatus.OK: 2, ObsStatus.ERROR: 3}


def _affects(err: ScopeError, site: Site, account: Account) -> bool:
    """A gap affects a site unless it clearly names only regions the site is not in."""
    scope = err.scope
    regions = site.regions or account.regions
    if any(r in scope for r in regions):
        return True
    known = set(account.regions)
    # A scope naming another known region (us-west-2/ec2) does not touch a us-east-1 site;
    # anything global or unparseable ("*", "route53", a project or subscription) does.
    return not any(r in scope for r in known)
