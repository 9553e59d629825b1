"""Machine type -> vCPU and memory, with the fewest API calls.

Custom types (``custom-4-16384``, ``n2-custom-8-32768-ext``) carry their size in the name and need no
call. Predefined types are the same size in every zone, so one ``machineTypes.get`` per distinct name
(in the zone where it was first seen) serves the whole inventory call; the aggregated catalogue would
be megabytes across every zone. A failed lookup is cached too and reported once: capacity stays
unknown (``None``), never zero.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from failover.errors import ProviderError
from providers.gcp.clients import GcpSession

_CUSTOM = re.compile(r"^(?:[a-z0-9]+-)?custom-(?P<cpu>\d+)-(?P<mem>\d+)(?:-ext)?$")
_FAMILY = re.compile(r"^(?P<family>[a-z][a-z0-9]*)-")
# Machine series whose vCPUs count against the region's general ``CPUS`` quota
# (https://cloud.google.com/compute/quotas#cpu_quota): N1 (including plain ``custom-*`` types), E2 and
# the shared-core F1/G1. Every other series has its own regional quota, ``<SERIES>_CPUS`` (``N2_CPUS``,
# ``N2D_CPUS``, ``C2_CPUS``, ``C3_CPUS``, ``T2D_CPUS`` ...), separate from ``CPUS``.
GENERAL_CPU_SERIES = frozenset({"n1", "e2", "f1", "g1"})
GENERAL_CPU_QUOTA = "CPUS"


@dataclass(frozen=True, slots=True)
class MachineSpec:
    vcpu: float
    memory_mib: int
    shared_cpu: bool = False


def parse_custom(name: str) -> MachineSpec | None:
    m = _CUSTOM.match(name)
    return MachineSpec(vcpu=float(m["cpu"]), memory_mib=int(m["mem"])) if m else None


def cpu_quota_metric(machine_type: str) -> str | None:
    """The regional quota metric a machine type's vCPUs count against: ``e2-standard-4`` -> ``CPUS``,
    ``n2-standard-8`` -> ``N2_CPUS``, ``custom-4-16384`` (N1) -> ``CPUS``; ``None`` for an empty name."""
    if not machine_type:
        return None
    if machine_type.startswith("custom-"):
        return GENERAL_CPU_QUOTA
    m = _FAMILY.match(machine_type)
    if m is None:
        return None
    series = m["family"]
    return GENERAL_CPU_QUOTA if series in GENERAL_CPU_SERIES else f"{series.upper()}_CPUS"


class MachineTypes:
    """A per-inventory cache of machine type sizes, safe to share between reader threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, MachineSpec | ProviderError] = {}

    def resolve(self, session: GcpSession, project: str, zone: str, name: str) -> MachineSpec:
        """The size of ``name``; raises the (cached) ``ProviderError`` if it could not be read."""
        custom = parse_custom(name)
        if custom is not None:
            return custom
        with self._lock:
            known = self._known.get(name)
        if known is None:
            known = self._fetch(session, project, zone, name)
            with self._lock:
                known = self._known.setdefault(name, known)
        if isinstance(known, ProviderError):
            raise known
        return known

    def _fetch(self, session: GcpSession, project: str, zone: str, name: str) -> MachineSpec | ProviderError:
        scope = f"{project}/machineTypes/{name}"
        client = session.client("MachineTypesClient")
        try:
            mt = session.call(scope, client.get, project=project, zone=zone, machine_type=name)
        except ProviderError as err:
            return err
        if not mt.guest_cpus:
            return ProviderError(f"error reading {scope}: the API gave no guestCpus for {name}", scope)
        return MachineSpec(vcpu=float(mt.guest_cpus), memory_mib=int(mt.memory_mb), shared_cpu=bool(mt.is_shared_cpu))
