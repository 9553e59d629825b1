"""Facts about an AWS Global Accelerator path, read from the inventory: which accelerator the public name
reaches, and whose site each of its endpoints is. Pure; the ``global-accelerator`` mechanism judges them.

The public name reaches an accelerator when it resolves to the accelerator's static IPs or through its
DNS name: in the CNAME chain measured at the workload's authoritative servers, or in a Route 53 record
for the name (an A alias or CNAME to the DNS name, or A/AAAA records with its static IPs). Failing both,
the one accelerator with an endpoint at one of the workload's sites is taken, and the evidence says so.

An endpoint is a site's when its id (instance id, load balancer ARN) is one of the site's resources or
``failover_targets``, when it is an Elastic IP whose address or associated instance is, or when it is a
load balancer whose target groups target the site's instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from failover.attrs import RoutingOrigin, RoutingTarget, attrs_of
from failover.checks.evidence import Evidence
from failover.checks.mechanisms.base import chain_names, site_addresses
from failover.checks.mechanisms.route53 import record_targets
from failover.equivalence import normalize_name
from failover.model import Kind, Resource

MECHANISM = "global-accelerator"
Role = Literal["primary", "secondary", ""]


@dataclass(frozen=True)
class GaEndpoint:
    """One endpoint of one endpoint group, with the site it was matched to."""

    listener: str
    group: RoutingTarget
    origin: RoutingOrigin
    site: str  # the site's name ("" when it is no site's)
    role: Role

    @property
    def id(self) -> str:
        return str(self.origin.get("id") or "")

    @property
    def weight(self) -> float:
        return float(self.origin.get("weight") or 0.0)

    @property
    def dial(self) -> float:
        d = self.group.get("traffic_dial")
        return 100.0 if d is None else float(d)

    @property
    def region(self) -> str:
        return str(self.group.get("region") or "")

    @property
    def label(self) -> str:
        return f"{self.origin.get('kind') or 'endpoint'} {self.id} ({self.region})"


@dataclass(frozen=True)
class AcceleratorPath:
    accelerator: Resource | None
    identified_by: str = ""  # dns-chain | route53-record | endpoints
    candidates: list[Resource] = field(default_factory=list)  # every accelerator searched
    chain: set[str] = field(default_factory=set)  # the measured chain's names and addresses
    endpoints: list[GaEndpoint] = field(default_factory=list)


def accelerators(ev: Evidence, accounts: list[str]) -> list[Resource]:
    return [
        r
        for a in accounts
        for r in ev.of_kind(a, Kind.ROUTING)
        if str(attrs_of(r, Kind.ROUTING)["mechanism"] or "") == MECHANISM
    ]


def own_names(acc: Resource) -> set[str]:
    """The accelerator's DNS names and static IPs."""
    a = attrs_of(acc, Kind.ROUTING)
    names = {normalize_name(h) for h in a["hostnames"] or []}
    return names | {normalize_name(ip) for s in a["ip_sets"] or [] for ip in s.get("addresses") or []}


def _record_targets(ev: Evidence, name: str) -> set[str]:
    return {t for r in ev.index.records_named(name) if r.kind == Kind.DNS_RECORD for t in record_targets(r)}


def site_refs(ev: Evidence, site_name: str) -> set[str]:
    """Every id, name and address an endpoint of this site may be named by (normalized)."""
    site = next(s for s in ev.workload.sites if s.name == site_name)
    resources = ev.resources(site)
    refs = {normalize_name(r.native_id) for r in resources} | site_addresses(ev, site_name)
    instances = {r.native_id for r in resources if r.kind == Kind.COMPUTE_INSTANCE}
    if instances:
        for lb in ev.index.of_kind(site.account, Kind.LB):
            for arn in attrs_of(lb, Kind.LB)["target_groups"] or []:
                for g in ev.index.by_ref(lb.account, arn):
                    targets = attrs_of(g, Kind.LB_TARGET_GROUP)["targets"] if g.kind == Kind.LB_TARGET_GROUP else []
                    if {str(t.get("id")) for t in targets or []} & instances:
                        refs.add(normalize_name(lb.native_id))
    return refs


def endpoints(ev: Evidence, acc: Resource) -> list[GaEndpoint]:
    """Every endpoint of the accelerator, matched to the workload's sites (the primary wins a tie)."""
    refs = {s.name: site_refs(ev, s.name) for s in ev.workload.sites}
    order = [ev.workload.primary, *ev.workload.secondaries]
    out = []
    for g in attrs_of(acc, Kind.ROUTING)["targets"] or []:
        for o in g.get("origins") or []:
            keys = {normalize_name(str(o.get(k) or "")) for k in ("id", "address", "instance")} - {""}
            site = next((s for s in order if keys & refs[s.name]), None)
            role: Role = site.role if site is not None else ""  # type: ignore[assignment]
            out.append(GaEndpoint(str(g.get("listener") or ""), g, o, site.name if site else "", role))
    return out


def accelerator_path(ev: Evidence, accounts: list[str]) -> AcceleratorPath:
    assert ev.workload.dns is not None
    name = normalize_name(ev.workload.dns.name)
    found = accelerators(ev, accounts)
    chain = chain_names(ev)
    records = _record_targets(ev, name)
    by_chain = [a for a in found if own_names(a) & chain]
    by_record = [a for a in found if own_names(a) & records]
    chosen, how = (by_chain, "dns-chain") if by_chain else (by_record, "route53-record")
    if not chosen:
        chosen = [a for a in found if any(e.site for e in endpoints(ev, a))]
        how = "endpoints"
    if len(chosen) != 1:
        return AcceleratorPath(None, how if chosen else "", found, chain)
    acc = chosen[0]
    return AcceleratorPath(acc, how, found, chain, endpoints(ev, acc))
