"""One registration per probe type, in one place: the target type it runs on, the name its observations
carry, the probe function, and how the cycle plans it from a site's endpoint (or not at all).

The engine runs whatever is registered here and nothing else; ``failover.probing`` plans endpoints from
it. Like blackbox_exporter's ``Probers`` map, but keyed by the target's type, so a target cannot name
the wrong probe. A new probe type is a target in ``probes/targets.py``, a probe function in its own
module, and one ``Prober`` below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from failover.errors import ProbeError
from failover.model import Observation
from probes.http import probe_http
from probes.targets import DnsTarget, HttpTarget, Target, TcpTarget
from probes.tcp import probe_tcp

__all__ = ["PROBERS", "EndpointPlan", "Planned", "Prober", "endpoint_planner", "prober_for"]

T = TypeVar("T", bound=Target)

# A planned probe of one endpoint: the observation's label (which view of the endpoint) and its target.
Planned = tuple[str, Target]
# (config endpoint, the workload's public name or None, global CA files) -> the probes to run for it
EndpointPlan = Callable[[Any, str | None, tuple[str, ...]], list[Planned]]


@dataclass(frozen=True, slots=True)
class Prober(Generic[T]):
    target: type[T]
    name: str  # the Observation.probe value
    run: Callable[[T], Awaitable[Observation]]
    schemes: tuple[str, ...] = ()  # URL schemes of site endpoints the cycle probes with it
    plan: EndpointPlan | None = None  # None: not planned from endpoints (``failover probe``, the DNS path)


def _plan_http(endpoint: Any, public_name: str | None, ca_files: tuple[str, ...]) -> list[Planned]:
    """The endpoint directly and, when the workload has a public name, as that name (SNI/Host)."""
    cas = ca_files + ((endpoint.ca_file,) if endpoint.ca_file else ())
    planned: list[Planned] = [("direct", HttpTarget.from_endpoint(endpoint, ca_files=cas))]
    if public_name and endpoint.as_public_name:
        planned.append(("as-public-name", HttpTarget.from_endpoint(endpoint, public_name=public_name, ca_files=cas)))
    return planned


async def _probe_dns(target: DnsTarget) -> Observation:
    """``probes.dns.probe_dns``, imported on first use: a run without DNS probes does not load dnspython."""
    from probes.dns import probe_dns

    return await probe_dns(target)


def _index(*probers: Prober[Any]) -> Mapping[type, Prober[Any]]:
    return {p.target: p for p in probers}


PROBERS: Mapping[type, Prober[Any]] = _index(
    Prober(HttpTarget, "http", probe_http, schemes=("http", "https"), plan=_plan_http),
    # `failover probe tcp://host:port` only: a site's endpoints are http(s) URLs.
    Prober(TcpTarget, "tcp", probe_tcp),
    # `failover probe NAME`; the cycle's DNS path (failover.probing.dns_path) asks through probes.dnspath.
    Prober(DnsTarget, "dns", _probe_dns),
)


def prober_for(target: object) -> Prober[Any]:
    """The registration for ``target``'s type; a type nobody registered is a ProbeError."""
    prober = PROBERS.get(type(target))
    if prober is None:
        raise ProbeError(f"no probe for targets of type {type(target).__name__}")
    return prober


def endpoint_planner(url: str) -> EndpointPlan:
    """How the probe registered for this URL's scheme plans a site endpoint."""
    scheme = urlsplit(url).scheme
    for prober in PROBERS.values():
        if scheme in prober.schemes and prober.plan is not None:
            return prober.plan
    raise ProbeError(f"no probe plans endpoints like {url!r}")
