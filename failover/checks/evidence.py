"""Everything one workload's checks may look at, gathered once and passed to every pure check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from failover.assign import site_matches
from failover.equivalence import DB_KINDS, normalize_name
from failover.model import Drill, Inventory, Kind, Observation, ObsStatus, Resource, ScopeError, utcnow
from failover.schema import Account, Config, Site, Workload, format_duration


class ResourceIndex:
    """Lookups over the inventories, built once per cycle and shared by every workload's evidence.

    Without it each check of each workload scanned every resource: 50 of 1,000 workloads over 20k
    resources took 10 s, so a daemon with thousands of workloads could not keep up.
    """

    def __init__(self, inventories: Mapping[str, Inventory]) -> None:
        self._by_tag: dict[tuple[str, str, str], list[Resource]] = defaultdict(list)
        self._by_ref: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        self._by_kind: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        self._records: dict[str, list[Resource]] = defaultdict(list)
        self.databases: list[Resource] = []
        for account, inv in inventories.items():
            for r in inv.resources:
                for key, value in r.tags.items():
                    self._by_tag[(account, key, value)].append(r)
                for ref in {r.native_id, r.name}:
                    self._by_ref[(account, ref)].append(r)
                self._by_kind[(account, r.kind)].append(r)
                if r.kind == Kind.DNS_RECORD:
                    self._records[normalize_name(r.name)].append(r)
                elif r.kind in DB_KINDS:
                    self.databases.append(r)

    def candidates(self, site: Site) -> list[Resource]:
        """A superset of the site's resources (``site_matches`` decides), from the selector's keys."""
        sel = site.select
        found: dict[int, Resource] = {}
        for ref in sel.ids:
            found.update((id(r), r) for r in self._by_ref.get((site.account, ref), []))
        if sel.tags:
            key, value = next(iter(sel.tags.items()))
            found.update((id(r), r) for r in self._by_tag.get((site.account, key, value), []))
        return list(found.values())

    def of_kind(self, account: str, kind: str) -> list[Resource]:
        return self._by_kind.get((account, kind), [])

    def by_ref(self, account: str, ref: str) -> list[Resource]:
        return self._by_ref.get((account, ref), [])

    def records_named(self, name: str) -> list[Resource]:
        return self._records.get(normalize_name(name), [])


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

    def __post_init__(self) -> None:
        if self.index is None:
            object.__setattr__(self, "index", ResourceIndex(self.inventories))

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
