"""Everything one workload's checks may look at, gathered once and passed to every pure check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from failover.assign import site_matches
from failover.model import Inventory, Observation, Resource, ScopeError, utcnow
from failover.schema import Account, Config, Site, Workload, format_duration


@dataclass(frozen=True)
class Evidence:
    config: Config
    workload: Workload
    inventories: dict[str, Inventory]  # account name -> newest inventory (absent: never inventoried)
    observations: list[Observation] = field(default_factory=list)  # this workload's, newest per key
    now: datetime = field(default_factory=utcnow)

    def account(self, site: Site) -> Account:
        return self.config.account(site.account)

    def provider(self, site: Site) -> str:
        return self.account(site).provider

    def resources(self, site: Site) -> list[Resource]:
        inv = self.inventories.get(site.account)
        if inv is None:
            return []
        account = self.account(site)
        return [r for r in inv.resources if site_matches(site, account, r)]

    def account_resources(self, account_name: str) -> list[Resource]:
        inv = self.inventories.get(account_name)
        return list(inv.resources) if inv else []

    def all_resources(self) -> list[Resource]:
        return [r for inv in self.inventories.values() for r in inv.resources]

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

    def observation(
        self, *, probe: str, site: str | None = None, label: str = "", target: str | None = None
    ) -> Observation | None:
        for o in self.observations:
            if (self.now - o.observed_at).total_seconds() > self.config.scoring.stale_after:
                continue  # stale evidence is no evidence
            if (
                o.probe == probe
                and o.site == site
                and (not label or o.label == label)
                and (target is None or o.target == target or o.target.startswith(f"{target} as "))
            ):
                return o
        return None


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
