"""The DNS failover path, as evidence for the checks: zone and NS set, who hosts each nameserver,
whether every authoritative server gives the same answer, the CNAME chain with its effective TTL,
and the TTL a recursive resolver actually hands out.

Facts, never verdicts: pure functions (``nameserver_provider``, ``agreement_from``, ``chain_ttl``,
``assess_cached_ttl``) describe what the answers say; the ``async`` functions only gather answers with
``probes.dns.exchange`` and hand them over. Whether a TTL is acceptable is a check's decision
(``failover.checks.ttl``), and the one walk of a workload's path is ``failover.probing.dns_path``.
Nothing here raises for network trouble: what could not be determined comes back in an ``error``
field (never as an empty, healthy-looking result).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from probes.dns import (
    DnsTarget,
    Exchange,
    exchange,
    follow_answer,
    format_server,
    probe_dns,
    rrset_records,
    system_nameservers,
)

__all__ = [
    "Agreement",
    "CachedTtl",
    "CnameChain",
    "CnameHop",
    "ZoneInfo",
    "agreement_from",
    "assess_cached_ttl",
    "chain_ttl",
    "check_agreement",
    "find_zone",
    "follow_cname_chain",
    "nameserver_provider",
    "providers_of",
    "registered_domain",
    "resolver_cached_ttl",
]

MAX_HOPS = 8

# ------------------------------------------------------------------------------ provider of an NS name
_AWS = re.compile(r"^ns-\d+\.awsdns-\d+\.(com|net|org|co\.uk)$")
_GCP = re.compile(r"^ns-cloud-[a-z]\d+\.googledomains\.com$")
_AZURE = re.compile(r"^ns\d+-\d+\.azure-dns\.(com|net|org|info)$")
# Cloudflare assigns each zone two nameservers named after people: ``kate.ns.cloudflare.com``. The
# routing planes name the provider ``cloudflare`` (Cloudflare Load Balancing), so delegation does too.
_CLOUDFLARE = re.compile(r"^[a-z0-9-]+\.ns\.cloudflare\.com$")
# Public suffixes of two labels under which names are registered (a short list, not the whole PSL):
# enough to name "other" DNS hosts by their registered domain for the common ccTLDs.
_TWO_LABEL_SUFFIXES = frozenset(
    f"{sld}.{tld}"
    for tld, slds in {
        "uk": ("co", "org", "me", "net", "ltd", "plc", "ac", "gov"),
        "au": ("com", "net", "org", "edu", "gov", "id"),
        "nz": ("co", "net", "org", "govt", "ac"),
        "jp": ("co", "ne", "or", "ac", "go"),
        "br": ("com", "net", "org", "gov"),
        "cn": ("com", "net", "org", "gov", "edu"),
        "in": ("co", "net", "org", "gov", "ac"),
        "za": ("co", "org", "net", "gov"),
        "mx": ("com", "org", "gob"),
        "tr": ("com", "net", "org", "gov"),
        "kr": ("co", "or", "ne", "go"),
        "il": ("co", "org", "net", "ac"),
        "sg": ("com", "net", "org", "gov"),
        "hk": ("com", "net", "org", "gov"),
        "tw": ("com", "net", "org"),
        "ar": ("com", "net", "org", "gob"),
    }.items()
    for sld in slds
)


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def registered_domain(name: str) -> str:
    """``ns1.dnsimple.co.uk`` → ``dnsimple.co.uk``: the name's registrable domain (short suffix list)."""
    labels = [label for label in _norm(name).split(".") if label]
    if len(labels) <= 2:
        return ".".join(labels)
    keep = 3 if ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def nameserver_provider(ns_name: str) -> str:
    """Which provider hosts a nameserver, from its name: aws | gcp | azure | cloudflare | other:<registered
    domain>."""
    name = _norm(ns_name)
    if _AWS.match(name):
        return "aws"
    if _GCP.match(name):
        return "gcp"
    if _AZURE.match(name):
        return "azure"
    if _CLOUDFLARE.match(name):
        return "cloudflare"
    return f"other:{registered_domain(name) or name or '?'}"


def providers_of(ns_names: Iterable[str]) -> dict[str, list[str]]:
    """Provider → the NS names it hosts (sorted): one key means the zone lives on one provider."""
    out: dict[str, list[str]] = {}
    for ns in ns_names:
        out.setdefault(nameserver_provider(ns), []).append(_norm(ns))
    return {p: sorted(names) for p, names in sorted(out.items())}


# ------------------------------------------------------------------------------------------ queries
async def _ask(
    name: str, rdtype: str, servers: Sequence[str], timeout: float, recursion: bool
) -> tuple[Exchange | None, list[str]]:
    """The first server (in order) that answers at all; every server's failure is kept for evidence."""
    failures: list[str] = []
    for server in servers:
        result = await exchange(name, rdtype, server, timeout, recursion)
        if result.response is not None:
            return result, failures
        failures.append(f"{server}: {result.detail}")
    return None, failures


def _query_servers(nameservers: Sequence[str], resolver: str | None) -> tuple[list[str], bool, str]:
    """Where to ask, whether to set RD, and what the source is called in the evidence."""
    if nameservers:
        return list(nameservers), False, "nameservers"
    if resolver:
        return [resolver], True, "resolver"
    return system_nameservers(), True, "system"


# ---------------------------------------------------------------------------------------- zone + NS
@dataclass(frozen=True)
class ZoneInfo:
    name: str
    zone: str | None
    nameservers: list[str] = field(default_factory=list)  # NS names, as the zone publishes them
    providers: dict[str, list[str]] = field(default_factory=dict)  # provider -> NS names
    servers: list[str] = field(default_factory=list)  # host:port to query as authoritative
    unresolved: list[str] = field(default_factory=list)  # NS names with no address
    soa: dict[str, Any] | None = None
    source: str = ""  # nameservers | resolver | system | given
    steps: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def single_provider(self) -> bool | None:
        return None if not self.providers else len(self.providers) == 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "zone": self.zone,
            "nameservers": self.nameservers,
            "providers": self.providers,
            "single_provider": self.single_provider,
            "servers": self.servers,
            "unresolved": self.unresolved,
            "soa": self.soa,
            "source": self.source,
            "steps": self.steps,
            "error": self.error,
        }


def _soa_dict(rrset: Any) -> dict[str, Any]:
    soa = rrset[0]
    return {
        "zone": rrset.name.to_text(),
        "mname": soa.mname.to_text(),
        "rname": soa.rname.to_text(),
        "serial": soa.serial,
        "minimum": soa.minimum,
        "ttl": rrset.ttl,
    }


def zone_from_soa_response(candidate: dns.name.Name, msg: dns.message.Message) -> tuple[dns.name.Name | None, Any]:
    """Pure: the zone apex a SOA query for ``candidate`` reveals (answer SOA, or SOA in authority)."""
    for rrset in msg.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == candidate:
            return candidate, rrset
    if any(r.rdtype == dns.rdatatype.CNAME for r in msg.answer):
        return None, None  # the SOA in authority would be the CNAME target's zone, not this name's
    if msg.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        for rrset in msg.authority:
            if rrset.rdtype == dns.rdatatype.SOA and candidate.is_subdomain(rrset.name):
                return rrset.name, rrset
    return None, None


async def find_zone(
    name: str,
    *,
    nameservers: Sequence[str] = (),
    resolver: str | None = None,
    zone: str | None = None,
    timeout: float = 3.0,
    ns_port: int = 53,
) -> ZoneInfo:
    """The zone holding ``name`` and its NS set (with providers), walking up the labels with SOA queries.

    With ``nameservers`` ("host:port", the config's ``dns.nameservers``) those are asked and taken as
    the zone's authoritative servers, while the NS names they publish still name the providers.
    Otherwise ``resolver`` (or the system's) is asked and the NS names are resolved to addresses
    (queried on ``ns_port``). ``zone`` skips the walk when the config names it.
    """
    try:
        servers, recursion, source = _query_servers(nameservers, resolver)
        qname = dns.name.from_text(name)
    except (ProbeError, ValueError, dns.name.NameTooLong, dns.name.EmptyLabel) as err:
        return ZoneInfo(name=name, zone=None, error=str(err))
    steps: list[str] = []
    apex: dns.name.Name | None = dns.name.from_text(zone) if zone else None
    soa: dict[str, Any] | None = None
    candidate = qname
    while apex is None and len(candidate) > 1:
        result, failures = await _ask(candidate.to_text(), "SOA", servers, timeout, recursion)
        steps += failures
        if result is None or result.response is None:
            return ZoneInfo(name, None, source=source, steps=steps, error=f"no server answered for {candidate}")
        steps.append(f"{result.server}: {candidate} SOA -> {dns.rcode.to_text(result.response.rcode())}")
        found, rrset = zone_from_soa_response(candidate, result.response)
        if found is not None:
            apex, soa = found, _soa_dict(rrset)
            break
        candidate = candidate.parent()
    if apex is None:
        return ZoneInfo(name, None, source=source, steps=steps, error=f"no zone found for {name}")
    ns_result, failures = await _ask(apex.to_text(), "NS", servers, timeout, recursion)
    steps += failures
    if ns_result is None or ns_result.response is None:
        return ZoneInfo(name, apex.to_text(), soa=soa, source=source, steps=steps, error=f"no answer to {apex} NS")
    msg = ns_result.response
    ns_rrsets = [r for r in (*msg.answer, *msg.authority) if r.rdtype == dns.rdatatype.NS and r.name == apex]
    ns_names = sorted({rd.target.to_text() for r in ns_rrsets for rd in r})
    steps.append(f"{ns_result.server}: {apex} NS -> {dns.rcode.to_text(msg.rcode())} ({len(ns_names)} names)")
    info = dict(name=name, zone=apex.to_text(), nameservers=ns_names, providers=providers_of(ns_names), soa=soa)
    if not ns_names:
        return ZoneInfo(**info, source=source, steps=steps, error=f"{apex} publishes no NS records")  # type: ignore[arg-type]
    if nameservers:
        return ZoneInfo(**info, servers=list(nameservers), source=source, steps=steps)  # type: ignore[arg-type]
    addresses, unresolved = await _addresses(ns_names, servers, timeout, ns_port, steps)
    error = None if addresses else "no nameserver name resolved to an address"
    return ZoneInfo(**info, servers=addresses, unresolved=unresolved, source=source, steps=steps, error=error)  # type: ignore[arg-type]


async def _addresses(
    ns_names: Sequence[str], resolvers: Sequence[str], timeout: float, port: int, steps: list[str]
) -> tuple[list[str], list[str]]:
    async def one(ns: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            result, failures = await _ask(ns, rdtype, resolvers, timeout, True)
            steps.extend(failures)
            if result is not None and result.response is not None:
                _, _, final = follow_answer(dns.name.from_text(ns), dns.rdatatype.from_text(rdtype), result.response)
                found += [format_server(rd.to_text(), port) for rd in (final or [])]
        return found

    per_ns = await asyncio.gather(*(one(ns) for ns in ns_names))
    addresses = sorted({a for found in per_ns for a in found})
    return addresses, [ns for ns, found in zip(ns_names, per_ns, strict=True) if not found]


# ---------------------------------------------------------------------------------------- agreement
@dataclass(frozen=True)
class Agreement:
    name: str
    rdtype: str
    agree: bool | None  # None: no server answered, so agreement is unknown
    all_answered: bool
    answers: dict[str, list[str]] = field(default_factory=dict)  # server -> sorted "RCODE" / records
    failed: dict[str, str] = field(default_factory=dict)  # server -> why it gave no usable answer
    groups: list[dict[str, Any]] = field(default_factory=list)  # distinct answers with their servers
    ttls: dict[str, int | None] = field(default_factory=dict)  # server -> min TTL it handed out
    not_authoritative: list[str] = field(default_factory=list)
    loops: dict[str, list[str]] = field(default_factory=dict)  # server -> the names its looping answer walks
    # server -> why its answer gives no address (NXDOMAIN, NODATA, an empty answer, a loop): an answer,
    # so it counts for agreement, but the name does not resolve there
    dead_ends: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rdtype": self.rdtype,
            "agree": self.agree,
            "all_answered": self.all_answered,
            "answers": self.answers,
            "failed": self.failed,
            "groups": self.groups,
            "ttls": self.ttls,
            "not_authoritative": self.not_authoritative,
            "loops": self.loops,
            "dead_ends": self.dead_ends,
        }


_LAME_RCODES = {"SERVFAIL", "REFUSED", "NOTIMP", "FORMERR", "NOTAUTH"}


def agreement_from(name: str, rdtype: str, observations: Mapping[str, Observation]) -> Agreement:
    """Pure: do the servers' observations (server → ``probe_dns`` result) carry the same answer set?

    An answer set is the rcode plus every answer record (TTLs aside, reported separately); NXDOMAIN
    and NODATA are answers, while errors, SERVFAIL/REFUSED and referrals mean the server failed.
    """
    answers: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    ttls: dict[str, int | None] = {}
    not_auth: list[str] = []
    loops: dict[str, list[str]] = {}
    dead_ends: dict[str, str] = {}
    for server, obs in observations.items():
        rcode = obs.data.get("rcode")
        if obs.status == ObsStatus.ERROR or rcode is None:
            failed[server] = obs.reason
            continue
        if rcode in _LAME_RCODES or obs.data.get("referral"):
            failed[server] = obs.reason
            continue
        if not obs.data.get("flags", {}).get("aa"):
            not_auth.append(server)
        if obs.data.get("loop"):
            loops[server] = [str(n) for n in obs.data.get("chain_names") or [name]]
        if obs.status == ObsStatus.FAILED:
            dead_ends[server] = obs.reason
        records = sorted({f"{_norm(r['name'])} {r['type']} {r['value'].lower()}" for r in obs.data.get("answers", [])})
        answers[server] = [str(rcode), *records]
        ttls[server] = obs.data.get("ttl")
    groups: dict[tuple[str, ...], list[str]] = {}
    for server, key in answers.items():
        groups.setdefault(tuple(key), []).append(server)
    return Agreement(
        name=name,
        rdtype=rdtype.upper(),
        agree=None if not answers else len(groups) == 1,
        all_answered=not failed and bool(observations),
        answers=answers,
        failed=failed,
        groups=[
            {"answer": list(k), "servers": sorted(v)} for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        ],
        ttls=ttls,
        not_authoritative=sorted(not_auth),
        loops=loops,
        dead_ends=dead_ends,
    )


async def check_agreement(name: str, rdtype: str, servers: Sequence[str], timeout: float = 3.0) -> Agreement:
    """Ask every authoritative server (concurrently, RD off) and compare their answers."""
    targets = [DnsTarget(name, rdtype, server, timeout, recursion=False) for server in servers]
    observations = await asyncio.gather(*(probe_dns(t) for t in targets))
    return agreement_from(name, rdtype, dict(zip(servers, observations, strict=True)))


# ------------------------------------------------------------------------------------- CNAME chains
@dataclass(frozen=True)
class CnameHop:
    name: str
    rdtype: str  # CNAME for a hop, the asked type for the final records
    ttl: int
    values: list[str]  # the CNAME target, or the final records' values
    server: str
    authoritative: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rdtype": self.rdtype,
            "ttl": self.ttl,
            "values": self.values,
            "server": self.server,
            "authoritative": self.authoritative,
        }


@dataclass(frozen=True)
class CnameChain:
    name: str
    rdtype: str
    hops: list[CnameHop] = field(default_factory=list)
    final_name: str = ""
    complete: bool = False  # the chain ends in records of the asked type
    effective_ttl: int | None = None  # min TTL along the chain: how long a resolver may keep it
    error: str | None = None
    steps: list[str] = field(default_factory=list)
    # How the walk ended: address (records of the asked type) | loop | too_long | nxdomain | nodata |
    # rcode (another error code) | unanswered (no authoritative answer: not observed) | bad_question
    outcome: str = ""

    @property
    def answers(self) -> list[str]:
        return self.hops[-1].values if self.complete and self.hops else []

    @property
    def loop(self) -> bool:
        return self.outcome == "loop"

    @property
    def terminal(self) -> str | None:
        """The name holding the records of the asked type; None when the chain ends without any."""
        return self.hops[-1].name if self.complete and self.hops else None

    @property
    def names(self) -> list[str]:
        """Every name the chain passes through, in order, starting with the asked name."""
        out = [self.hops[0].name] if self.hops else [self.name]
        out += [h.values[0] for h in self.hops if h.rdtype == "CNAME" and h.values]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rdtype": self.rdtype,
            "hops": [h.to_dict() for h in self.hops],
            "final_name": self.final_name,
            "complete": self.complete,
            "effective_ttl": self.effective_ttl,
            "answers": self.answers,
            "error": self.error,
            "steps": self.steps,
            "outcome": self.outcome,
            "loop": self.loop,
            "terminal": self.terminal,
            "names": self.names,
        }


def chain_ttl(hops: Sequence[CnameHop]) -> int | None:
    """Pure: the chain's effective TTL, the smallest TTL of its records (None for no records)."""
    return min((h.ttl for h in hops), default=None)


def _authoritative(msg: dns.message.Message) -> bool:
    return bool(msg.flags & dns.flags.AA) and msg.rcode() not in (dns.rcode.REFUSED, dns.rcode.SERVFAIL)


async def follow_cname_chain(
    name: str,
    rdtype: str = "A",
    *,
    nameservers: Sequence[str] = (),
    resolver: str | None = None,
    max_hops: int = MAX_HOPS,
    timeout: float = 3.0,
    ns_port: int = 53,
) -> CnameChain:
    """Follow ``name``'s CNAMEs hop by hop at the authoritative servers of each hop's zone.

    Each hop is asked first at ``nameservers`` (when given); where they are not authoritative for it
    (REFUSED, or no AA flag) the hop's zone and servers are found through ``resolver`` (or the
    system's). Loops and chains longer than ``max_hops`` stop with an error.
    """
    hops: list[CnameHop] = []
    steps: list[str] = []
    rtype_text = rdtype.upper()
    try:
        qtype = dns.rdatatype.from_text(rdtype)
        current = dns.name.from_text(name)
    except Exception as err:  # an unknown type or a malformed name: a bad target, reported as such
        why = f"bad question {name!r} {rdtype!r}: {err}"
        return CnameChain(name, rtype_text, error=why, outcome="bad_question")
    seen: set[dns.name.Name] = set()  # owners of the CNAMEs walked so far

    def done(outcome: str, error: str | None) -> CnameChain:
        final = current.to_text()
        complete = outcome == "address"
        return CnameChain(name, rtype_text, hops, final, complete, chain_ttl(hops), error, steps, outcome)

    while True:
        msg, server = await _authoritative_answer(
            current.to_text(), rtype_text, nameservers, resolver, timeout, ns_port, steps
        )
        if msg is None:
            return done("unanswered", f"no authoritative answer for {current}")
        aa = _authoritative(msg)
        chain, last, final = follow_answer(current, qtype, msg)
        for rrset in chain:
            if rrset.name in seen:
                return done("loop", f"CNAME loop at {rrset.name}")
            seen.add(rrset.name)
            hops.append(CnameHop(rrset.name.to_text(), "CNAME", rrset.ttl, [rrset[0].target.to_text()], server, aa))
        current = last
        if final is not None:
            values = sorted(r["value"] for r in rrset_records(final))
            hops.append(CnameHop(final.name.to_text(), rtype_text, final.ttl, values, server, aa))
            return done("address", None)
        if current in seen:
            return done("loop", f"CNAME loop at {current}")
        if len(hops) > max_hops:
            return done("too_long", f"CNAME chain longer than {max_hops} hops")
        if msg.rcode() == dns.rcode.NXDOMAIN:
            return done("nxdomain", f"NXDOMAIN: {current} does not exist")
        if msg.rcode() != dns.rcode.NOERROR:
            return done("rcode", f"{dns.rcode.to_text(msg.rcode())} for {current}")
        if not chain:
            return done("nodata", f"NODATA: {current} has no {rtype_text} or CNAME record")


async def _authoritative_answer(
    name: str,
    rdtype: str,
    nameservers: Sequence[str],
    resolver: str | None,
    timeout: float,
    ns_port: int,
    steps: list[str],
) -> tuple[dns.message.Message | None, str]:
    if nameservers:
        result, failures = await _ask(name, rdtype, nameservers, timeout, False)
        steps += failures
        if result is not None and result.response is not None:
            steps.append(f"{result.server}: {name} {rdtype} -> {dns.rcode.to_text(result.response.rcode())}")
            if _authoritative(result.response):
                return result.response, result.server
    info = await find_zone(name, resolver=resolver, timeout=timeout, ns_port=ns_port)
    steps += info.steps
    if not info.servers:
        steps.append(f"{name}: no authoritative servers found ({info.error})")
        return None, ""
    result, failures = await _ask(name, rdtype, info.servers, timeout, False)
    steps += failures
    if result is None or result.response is None:
        return None, ""
    steps.append(f"{result.server}: {name} {rdtype} -> {dns.rcode.to_text(result.response.rcode())}")
    return result.response, result.server


# -------------------------------------------------------------------------------- resolver's cache
@dataclass(frozen=True)
class CachedTtl:
    name: str
    rdtype: str
    resolver: str
    first_ttl: int | None = None
    second_ttl: int | None = None
    gap_s: float = 0.0
    counts_down: bool | None = None
    answers: list[str] = field(default_factory=list)
    reason: str = ""
    error: str | None = None

    @property
    def ttl(self) -> int | None:
        """The TTL the resolver hands out (the larger of the two reads: the worst case for failover)."""
        seen = [t for t in (self.first_ttl, self.second_ttl) if t is not None]
        return max(seen) if seen else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rdtype": self.rdtype,
            "resolver": self.resolver,
            "first_ttl": self.first_ttl,
            "second_ttl": self.second_ttl,
            "ttl": self.ttl,
            "gap_s": self.gap_s,
            "counts_down": self.counts_down,
            "answers": self.answers,
            "reason": self.reason,
            "error": self.error,
        }


def assess_cached_ttl(
    first: int, second: int, gap_s: float, authoritative_ttl: int | None = None
) -> tuple[bool | None, str]:
    """Pure: does a resolver's TTL count down between two reads ``gap_s`` apart, and is it honest?"""
    notes = []
    if authoritative_ttl is not None and max(first, second) > authoritative_ttl:
        notes.append(f"; above the authoritative TTL {authoritative_ttl}s (the resolver stretches TTLs)")
    if second < first:
        counts_down: bool | None = True
        text = f"cached TTL counts down {first}s -> {second}s over {gap_s:.1f}s"
    elif second > first:
        counts_down = None
        text = f"TTL went up {first}s -> {second}s: the cache expired or another backend answered"
    elif gap_s >= 1.0:
        counts_down = False
        text = f"TTL stayed at {first}s over {gap_s:.1f}s: the resolver does not seem to cache it"
    else:
        counts_down = None
        text = f"TTL {first}s unchanged over {gap_s:.1f}s (too short a gap to tell)"
    return counts_down, text + "".join(notes)


async def resolver_cached_ttl(
    name: str,
    rdtype: str = "A",
    *,
    resolver: str,
    gap: float = 1.1,
    timeout: float = 3.0,
    authoritative_ttl: int | None = None,
) -> CachedTtl:
    """Ask the recursive ``resolver`` twice, ``gap`` seconds apart, for the TTL it hands out."""
    rtype = rdtype.upper()
    try:
        qname, qtype = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
        first = await exchange(name, rdtype, resolver, timeout, True)
        started = time.monotonic()
        await asyncio.sleep(gap)
        second = await exchange(name, rdtype, resolver, timeout, True)
        gap_s = time.monotonic() - started
    except (ProbeError, ValueError, dns.name.NameTooLong, dns.name.EmptyLabel) as err:
        return CachedTtl(name, rtype, resolver, error=str(err))
    ttls: list[int] = []
    answers: list[str] = []
    for result in (first, second):
        if result.response is None:
            return CachedTtl(name, rtype, resolver, error=f"{resolver}: {result.detail}")
        msg = result.response
        chain, _, final = follow_answer(qname, qtype, msg)
        if final is None:
            what = dns.rcode.to_text(msg.rcode())
            return CachedTtl(name, rtype, resolver, error=f"{resolver} gave no {rtype} records ({what})")
        ttls.append(min([c.ttl for c in chain] + [final.ttl]))
        answers = sorted(rd.to_text() for rd in final)
    counts_down, reason = assess_cached_ttl(ttls[0], ttls[1], gap_s, authoritative_ttl)
    return CachedTtl(name, rtype, resolver, ttls[0], ttls[1], round(gap_s, 3), counts_down, answers, reason)
