"""The one shape every failover mechanism is read into, and the interface a mechanism implements.

A mechanism (``dns.mechanism`` in the config: Route 53 failover records, Route 53 latency records,
Traffic Manager, …) is one subclass of ``Mechanism`` in its own module under
``failover/checks/mechanisms/``, registered with ``@register``. Its ``read(ev)`` turns the evidence
(inventory, observations, config) into a ``RoutingPath``:

- ``serving``: the answers that take traffic in normal operation, each with the ``Governor``
  (``failover.checks.governance``) that decides whether the mechanism keeps answering with it: its
  mode (automatic, manual, forced, never, unknown) and, when automatic, its detection time.
- ``secondary``: the answers that could send users to the secondary, each with ``reaches`` (True:
  known to reach a secondary site; None: not resolved yet; False: known not to).
- ``problems``: what is wrong, each with its status (fail / unknown / warn) and one-line reason;
  ``no_detection``: why there is no health signal to read at all (read by ``dns.health_check``).
- ``gaps``: why the inventory the path was read from may be incomplete.
- ``control_plane`` / ``data_plane``: which provider (and region) runs the mechanism's control plane
  (changing its configuration) and data plane (answering users). ``needs_control_plane`` is true
  when failover needs a configuration change (no serving answer is health-governed).
- ``proxy``: set when failover happens behind a proxy whose addresses resolvers keep (Cloudflare
  proxied): the TTL does not delay failover, and ``dns.ttl`` and the RTO's DNS part say why instead.
- ``summary`` (the pass reason of ``dns.failover_records``), ``subject`` and ``evidence`` (its
  evidence).

The readers of the shape: ``dns.failover_records`` (worst problem, else the summary),
``dns.health_check`` (one finding per serving answer's governor, plus ``no_detection``), the RTO
estimate's detection and decision parts (``failover.scoring``: the slowest automatic governor; a
never-governed answer means a manual decision), ``dependencies.single_provider`` (a failover that
needs a control plane on the primary's provider) and single-provider risk (the data plane's
provider). A mechanism also says which names the DNS probes resolve so that its secondary answers
can be followed (``names_to_resolve``; the default resolves every ``secondary`` answer target that
is a name), and which read-only API calls it needs (``permissions``, rendered in docs/checks.md).

To add a mechanism: add its value to ``Mechanism`` Literal and ``DNS_PROVIDER`` in
``failover/schema.py``, write ``failover/checks/mechanisms/<name>.py`` with a ``@register``ed
subclass, import it in ``failover/checks/mechanisms/__init__.py``, give its service a row in
``failover/whatif/facts.py`` (the control/data-plane facts the what-if needs; a test fails for a
mechanism without one), and cover it with tests for a
ready configuration, no health-governed path to the secondary, detection slower than the RTO, and
a configuration the reader cannot see. Pure: no I/O, only ``Evidence``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlparse

from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode
from failover.equivalence import addresses, is_ip, normalize_name
from failover.model import FindingStatus, ObsStatus, Resource

P = TypeVar("P")
SECONDARY_TARGET = "secondary-target"  # dns observation: a secondary answer's target, resolved


@dataclass(frozen=True)
class Plane:
    """Where one plane of a mechanism runs: a provider (aws, gcp, azure, or another such as
    cloudflare) and a region (``global`` for a globally distributed service)."""

    provider: str
    region: str = "global"
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "region": self.region, **self.detail}


@dataclass(frozen=True)
class Answer:
    """One answer the mechanism may give (a record set, an endpoint)."""

    subject: str  # native id of the record / endpoint
    name: str  # its label (set identifier, endpoint name)
    targets: frozenset[str] = frozenset()  # what it answers with (names, addresses)
    governor: Governor | None = None  # what decides whether it is answered (serving answers)
    reaches: bool | None = None  # secondary answers: does it reach a secondary site
    weight: float | None = None
    resolved: tuple[str, ...] = ()  # what its names resolved to


@dataclass(frozen=True)
class Problem:
    status: FindingStatus  # fail | unknown | warn
    reason: str


@dataclass(frozen=True)
class RoutingPath:
    """A workload's failover path through one mechanism, normalized (see the module docstring)."""

    mechanism: str
    control_plane: Plane
    data_plane: Plane
    serving: tuple[Answer, ...] = ()
    secondary: tuple[Answer, ...] = ()
    problems: tuple[Problem, ...] = ()
    no_detection: tuple[Problem, ...] = ()
    gaps: tuple[str, ...] = ()
    proxy: str = ""
    summary: str = ""
    subject: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def governors(self) -> list[Governor]:
        return [a.governor for a in self.serving if a.governor is not None]

    @property
    def to_secondary(self) -> list[Answer]:
        return [a for a in self.secondary if a.reaches]

    @property
    def needs_control_plane(self) -> bool:
        """Failover needs a configuration change: answers serve, and none is health-governed."""
        govs = self.governors
        return bool(govs) and all(g.mode in (Mode.NEVER, Mode.MANUAL) for g in govs)


class Mechanism(ABC):
    """One way traffic fails over. Subclasses set the class attributes and implement ``read``."""

    id: ClassVar[str]  # the ``dns.mechanism`` value
    title: ClassVar[str]  # one line for the docs
    provider: ClassVar[str]  # whose API it is read from (aws, gcp, azure, cloudflare)
    permissions: ClassVar[tuple[str, ...]]  # read-only API calls the reader needs
    doc: ClassVar[str]  # what is judged, for docs/checks.md

    @abstractmethod
    def read(self, ev: Evidence) -> RoutingPath:
        """The workload's routing path through this mechanism, from the evidence alone."""

    def path_base(self, control_plane: Plane, data_plane: Plane, gaps: Iterable[str]) -> dict[str, Any]:
        """The ``RoutingPath`` fields every path this mechanism reads shares, whatever it finds."""
        return {"mechanism": self.id, "control_plane": control_plane, "data_plane": data_plane, "gaps": tuple(gaps)}

    def names_to_resolve(self, ev: Evidence) -> dict[str, list[str]]:
        """Names the DNS probes resolve at the workload's authoritative servers (``secondary-target``
        observations), keyed by the name whose CNAME chain must pass through them (``""``: always)."""
        wanted = secondary_wanted(ev)
        names = {t for a in self.read(ev).secondary for t in a.targets if is_name(t) and t not in wanted}
        return {"": sorted(names)} if names else {}


# ----------------------------------------------------------------------------- shared helpers
@dataclass(frozen=True)
class DnsScope:
    """What a mechanism reads its path from: the workload's DNS accounts, their resources of the kinds
    it asked for (in account, then kind order), and the inventory gaps that could hide one."""

    accounts: list[str]
    resources: list[Resource]
    gaps: list[str]


def dns_scope(ev: Evidence, *kinds: str) -> DnsScope:
    """The workload's DNS accounts' resources of ``kinds`` and every gap of those accounts."""
    accounts = ev.config.dns_accounts(ev.workload)
    resources = [r for a in accounts for k in kinds for r in ev.of_kind(a, k)]
    return DnsScope(accounts, resources, [g for a in accounts for g in ev.account_gaps(a)])


def site_addresses(ev: Evidence, site_name: str) -> set[str]:
    """Every name and address a site is reached by: its failover targets, endpoint hosts, resources."""
    site = next(s for s in ev.workload.sites if s.name == site_name)
    found = {normalize_name(t) for t in site.failover_targets}
    for ep in site.endpoints:
        host = urlparse(ep.url).hostname
        if host:
            found.add(normalize_name(host))
    for r in ev.resources(site):
        found |= addresses(r)
    return found


def secondary_wanted(ev: Evidence) -> set[str]:
    wanted: set[str] = set()
    for s in ev.workload.secondaries:
        wanted |= site_addresses(ev, s.name)
    return wanted


def is_name(value: str) -> bool:
    """A DNS name to resolve (not an IP address)."""
    return bool(value) and not is_ip(value)


def points_at(ev: Evidence, targets: Iterable[str], wanted: set[str]) -> tuple[bool | None, list[str]]:
    """Do these answers reach the secondary: literally, or through the ``secondary-target``
    observations that resolved each name at the workload's authoritative servers? ``None`` when a
    name that could reach it has not been resolved; the second item says what each name resolved to."""
    targets = set(targets)
    if targets & wanted:
        return True, []
    seen: list[str] = []
    unresolved = False
    for name in sorted(t for t in targets if is_name(t)):
        obs = ev.observation(probe="dns", label=SECONDARY_TARGET, target=name)
        if obs is None:
            unresolved = True
            seen.append(f"{name}: not resolved yet")
            continue
        # Names the CNAMEs pass through count even when the chain then leaves the authoritative
        # servers' reach (an ELB name): reaching the secondary's load balancer name is enough.
        reached = {normalize_name(str(n)) for n in obs.data.get("names") or []}
        reached |= {normalize_name(str(a)) for a in obs.data.get("answers") or []}
        answers = ", ".join(sorted(obs.data.get("answers") or []))
        seen.append(f"{name} -> {answers or obs.reason}")
        if reached & wanted:
            return True, seen
        unresolved = unresolved or obs.status == ObsStatus.ERROR
    return (None if unresolved else False), seen


def with_resolved_secondary(
    ev: Evidence, facts_for: Callable[[set[str]], P], names_of: Callable[[P], Iterable[str]]
) -> tuple[P, set[str]]:
    """Path facts read against the secondary's names and addresses, read again with the names ``names_of``
    gives that resolved (``secondary-target`` observations) to the secondary counted as the secondary's;
    and those names and addresses."""
    wanted = secondary_wanted(ev)
    facts = facts_for(wanted)
    reached = {n for n in names_of(facts) if points_at(ev, {n}, wanted)[0]}
    if reached:
        wanted = wanted | reached
        facts = facts_for(wanted)
    return facts, wanted


def reaching_answer(
    ev: Evidence, subject: str, name: str, targets: Iterable[str], wanted: set[str], weight: float | None = None
) -> Answer:
    """A secondary answer that gives ``targets`` (a record's values): whether they reach the secondary
    (``points_at``) and what its names resolved to."""
    targets = frozenset(targets)
    reaches, seen = points_at(ev, targets, wanted)
    return Answer(subject, name, targets, reaches=reaches, weight=weight, resolved=tuple(seen))


def chain_names(ev: Evidence) -> set[str]:
    """Every name the public name's CNAME chain passes through, as measured at the authoritative servers."""
    chain = ev.observation(probe="dns", label="chain")
    names: set[str] = set()
    for hop in (chain.data.get("chain") or []) if chain else []:
        names.add(normalize_name(str(hop.get("name", ""))))
        names |= {normalize_name(str(v)) for v in hop.get("values") or []}
    return names
