"""What to probe for a set of workloads, and turning the DNS failover-path helpers' answers into
observations the checks read. The plan is pure; ``probe_workloads`` runs it on the probe engine (on
every core when the plan is large enough: ``probes.engine.ParallelEngine``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from failover.model import Observation, ObsStatus
from failover.schema import Config, Workload
from probes.dns import chain_text
from probes.dnspath import Agreement, CachedTtl, CnameChain, ZoneInfo
from probes.targets import Target

if TYPE_CHECKING:
    from probes.engine import ParallelEngine


@dataclass(frozen=True, slots=True)
class Tag:
    workload: str
    site: str | None
    label: str


def endpoint_plan(config: Config, workloads: Iterable[Workload]) -> list[tuple[Target, Tag]]:
    """Every secondary endpoint, planned by the probe registered for its URL (``probes.registry``): for
    http(s), directly and (with a public name) as the public name."""
    from probes.registry import endpoint_planner

    global_ca = (config.tls.ca_file,) if config.tls.ca_file else ()
    plan: list[tuple[Target, Tag]] = []
    for w in workloads:
        public = w.dns.name if w.dns else None
        for site in w.secondaries:
            for ep in site.endpoints:
                planned = endpoint_planner(ep.url)(ep, public, global_ca)
                plan += [(target, Tag(w.name, site.name, label)) for label, target in planned]
    return plan


def _obs(name: str, label: str, status: ObsStatus, reason: str, data: dict[str, Any]) -> Observation:
    return Observation(probe="dns", target=name, status=status, reason=reason, data=data, label=label)


def delegation_observation(zone: ZoneInfo) -> Observation:
    nameservers = [
        {"name": ns, "provider": provider} for provider, names in sorted(zone.providers.items()) for ns in names
    ]
    data = {**zone.to_dict(), "nameservers": nameservers, "providers": sorted(zone.providers)}
    if zone.zone and nameservers:
        reason = f"zone {zone.zone}: {len(nameservers)} NS on {', '.join(sorted(zone.providers))}"
        return _obs(zone.name, "delegation", ObsStatus.OK, reason, data)
    return _obs(zone.name, "delegation", ObsStatus.ERROR, zone.error or "zone not found", data)


def authoritative_observation(agreement: Agreement) -> Observation:
    servers = [
        {
            "server": server,
            "answered": server not in agreement.failed,
            "answers": answers,
            "error": agreement.failed.get(server),
            "loop": server in agreement.loops,
            "chain": agreement.loops.get(server, []),
            "dead_end": agreement.dead_ends.get(server),
        }
        for server, answers in sorted({**{s: [] for s in agreement.failed}, **agreement.answers}.items())
    ]
    data = {**agreement.to_dict(), "servers": servers}
    if agreement.agree is None:
        return _obs(agreement.name, "authoritative", ObsStatus.FAILED, "no authoritative server answered", data)
    if agreement.loops:
        server, names = sorted(agreement.loops.items())[0]
        reason = f"{len(agreement.loops)} servers answer with a CNAME loop: {chain_text(names)} (at {server})"
        return _obs(agreement.name, "authoritative", ObsStatus.FAILED, reason, data)
    if agreement.dead_ends:
        server, why = sorted(agreement.dead_ends.items())[0]
        reason = f"{len(agreement.dead_ends)} servers answer without an address: {why}"
        return _obs(agreement.name, "authoritative", ObsStatus.FAILED, reason, data)
    if agreement.agree and agreement.all_answered:
        return _obs(agreement.name, "authoritative", ObsStatus.OK, f"{len(servers)} servers agree", data)
    reason = "servers disagree" if not agreement.agree else f"{len(agreement.failed)} servers did not answer"
    return _obs(agreement.name, "authoritative", ObsStatus.FAILED, reason, data)


# Chain walks that stopped before an authoritative answer said anything: not observed, not failed.
_UNOBSERVED = ("unanswered", "bad_question", "")


def chain_observation(chain: CnameChain) -> Observation:
    """The CNAME chain as an observation: ok only when it ends in an address; a loop, a dead end or an
    error code is failed (with the chain in the reason); a walk that got no answer is an error."""
    data = {**chain.to_dict(), "chain": [h.to_dict() for h in chain.hops]}
    if chain.complete and chain.effective_ttl is not None:
        reason = f"{len(chain.hops)} hop(s), effective TTL {chain.effective_ttl}s"
        return _obs(chain.name, "chain", ObsStatus.OK, reason, data)
    why = chain.error or "no records"
    if chain.outcome in _UNOBSERVED:
        return _obs(chain.name, "chain", ObsStatus.ERROR, why, data)
    reason = f"no address: {why}" + (f" (chain {chain_text(chain.names)})" if chain.hops else "")
    return _obs(chain.name, "chain", ObsStatus.FAILED, reason, data)


def target_observation(name: str, chain: CnameChain) -> Observation:
    """A SECONDARY record's (or Traffic Manager endpoint's) target, followed at the workload's
    authoritative servers: every name it passes through and the addresses it ends in. ``failed`` when
    the servers answered that it leads nowhere (NXDOMAIN, NODATA, a loop), ``error`` when none answered."""
    names = sorted(
        {_plain(h.name) for h in chain.hops} | {_plain(v) for h in chain.hops if h.rdtype == "CNAME" for v in h.values}
    )
    data = {**chain.to_dict(), "names": names, "answers": sorted(chain.answers)}
    if chain.complete:
        reason = f"{name} -> {', '.join(sorted(chain.answers))}"
        return _obs(name, "secondary-target", ObsStatus.OK, reason, data)
    error = chain.error or "no records"
    if error.startswith(("no authoritative answer", "bad question")):
        return _obs(name, "secondary-target", ObsStatus.ERROR, error, data)
    return _obs(name, "secondary-target", ObsStatus.FAILED, error, data)


def _plain(name: str) -> str:
    return name.strip().rstrip(".").lower()


def resolver_observation(cached: CachedTtl) -> Observation:
    data = cached.to_dict()
    if cached.error or cached.ttl is None:
        return _obs(cached.name, "resolver", ObsStatus.ERROR, cached.error or "no TTL", data)
    return _obs(cached.name, "resolver", ObsStatus.OK, cached.reason, data)


async def dns_path(
    w: Workload, timeout: float, targets: Mapping[str, Sequence[str]] | None = None
) -> list[Observation]:
    """The workload's DNS failover path: delegation, authoritative agreement, CNAME chain, resolver TTL,
    and each secondary target name resolved through the same authoritative servers. ``targets`` maps
    ``""`` (always) or a name the public name's chain must pass through (a Traffic Manager profile) to
    the names to resolve (``failover.checks.dns.names_to_resolve``)."""
    from probes import dnspath

    assert w.dns is not None
    d = w.dns
    zone = await dnspath.find_zone(d.name, nameservers=d.nameservers, resolver=d.resolver, zone=d.zone, timeout=timeout)
    found = [delegation_observation(zone)]
    servers = list(d.nameservers) or zone.servers
    if servers:
        found.append(authoritative_observation(await dnspath.check_agreement(d.name, "A", servers, timeout)))
    chain = await dnspath.follow_cname_chain(d.name, "A", nameservers=servers, resolver=d.resolver, timeout=timeout)
    found.append(chain_observation(chain))
    passed = {_plain(h.name) for h in chain.hops} | {_plain(v) for h in chain.hops for v in h.values}
    names = sorted({n for key, group in (targets or {}).items() if not key or key in passed for n in group})
    names = names if servers else []  # no authoritative servers: the path is unknown already
    for name in names:
        followed = await dnspath.follow_cname_chain(
            name, "A", nameservers=servers, resolver=d.resolver, timeout=timeout
        )
        found.append(target_observation(name, followed))
    if d.resolver:
        cached = await dnspath.resolver_cached_ttl(
            d.name, "A", resolver=d.resolver, timeout=timeout, authoritative_ttl=chain.effective_ttl
        )
        found.append(resolver_observation(cached))
    return found


def probe_engine(config: Config) -> ParallelEngine:
    """The engine the cycle probes endpoints with: one process per core (``probes.workers``) once the
    plan is large enough to pay for it, this process for a small plan (one workload in a daemon job).
    Either way the observations are ``Engine``'s."""
    from probes.engine import ParallelEngine

    p = config.probes
    return ParallelEngine(workers=p.workers or None, concurrency=p.concurrency, per_host=p.per_host)


async def probe_endpoints(config: Config, workloads: list[Workload], vantage: str) -> list[Observation]:
    """Every endpoint probe of ``workloads`` (``endpoint_plan``) on the probe engine, in plan order, each
    tagged with its workload and site. Needs no inventory, so a full cycle runs it while it inventories."""
    plan = endpoint_plan(config, workloads)
    results = await probe_engine(config).run([t for t, _ in plan])
    return [
        obs.tagged(workload=tag.workload, site=tag.site, label=tag.label, vantage=vantage)
        for obs, (_, tag) in zip(results, plan, strict=True)
    ]


async def probe_dns_paths(
    config: Config,
    workloads: list[Workload],
    vantage: str,
    targets: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> list[Observation]:
    """Every DNS-path lookup of ``workloads`` (``dns_path``), workload by workload, each tagged with its
    workload. ``targets`` (workload -> names to resolve, from the inventory) adds ``secondary-target``
    lookups."""
    limit = asyncio.Semaphore(max(1, config.probes.concurrency // 4))

    async def one_path(w: Workload) -> list[Observation]:
        async with limit:
            try:
                found = await dns_path(w, config.probes.timeout, (targets or {}).get(w.name))
            except Exception as err:  # a helper bug must read as "could not check", never as healthy
                found = [
                    _obs(
                        w.dns.name if w.dns else w.name,
                        "delegation",
                        ObsStatus.ERROR,
                        f"{type(err).__name__}: {err}",
                        {},
                    )
                ]
            return [o.tagged(workload=w.name, site=None, vantage=vantage) for o in found]

    groups = await asyncio.gather(*(one_path(w) for w in workloads if w.dns))
    return [o for group in groups for o in group]


async def probe_workloads(
    config: Config,
    workloads: list[Workload],
    vantage: str,
    targets: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> list[Observation]:
    """Run every endpoint probe and DNS-path lookup for ``workloads`` at once; each result tagged with its
    workload: the endpoints' observations (``probe_endpoints``), then the DNS paths' (``probe_dns_paths``)."""
    endpoints, paths = await asyncio.gather(
        probe_endpoints(config, workloads, vantage), probe_dns_paths(config, workloads, vantage, targets)
    )
    return endpoints + paths


__all__ = [
    "Tag",
    "dns_path",
    "endpoint_plan",
    "probe_dns_paths",
    "probe_endpoints",
    "probe_engine",
    "probe_workloads",
    "target_observation",
]
