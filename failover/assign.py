"""Which inventoried resources belong to which workload site: pure matching on the config's selectors."""

from __future__ import annotations

from collections.abc import Iterable

from failover.model import Resource
from failover.schema import Account, Config, Site, Workload


def site_matches(site: Site, account: Account, resource: Resource) -> bool:
    """A resource belongs to a site when it is in the site's account and regions and matches its selector.

    Global resources (empty region, e.g. Route 53 zones or S3 in listings) match any region list.
    Selector ids match the native id or the name; tags must all be present with equal values.
    """
    if resource.account != account.name:
        return False
    # GCP/Azure zones and locations: "us-central1-a" is in region "us-central1".
    if (
        site.regions
        and resource.region
        and not any(resource.region.startswith(r) or resource.zone.startswith(r) for r in site.regions)
    ):
        return False
    sel = site.select
    if sel.ids and (resource.native_id in sel.ids or resource.name in sel.ids):
        return True
    if sel.tags:
        return all(resource.tags.get(k) == v for k, v in sel.tags.items())
    return False


def resources_for_site(config: Config, site: Site, resources: Iterable[Resource]) -> list[Resource]:
    account = config.account(site.account)
    return [r for r in resources if site_matches(site, account, r)]


def assign(config: Config, resources: list[Resource]) -> tuple[dict[tuple[str, str], list[Resource]], list[Resource]]:
    """(workload, site) -> resources, plus the resources no site selected."""
    by_site: dict[tuple[str, str], list[Resource]] = {}
    claimed: set[int] = set()
    for w in config.workloads:
        for s in w.sites:
            matched = []
            account = config.account(s.account)
            for i, r in enumerate(resources):
                if site_matches(s, account, r):
                    matched.append(r)
                    claimed.add(i)
            by_site[(w.name, s.name)] = matched
    unassigned = [r for i, r in enumerate(resources) if i not in claimed]
    return by_site, unassigned


def workload_sites(workload: Workload) -> list[Site]:
    return [workload.primary, *workload.secondaries]
