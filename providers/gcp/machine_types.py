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


@dataclass(frozen=True, slots=True)
class MachineSpec:
    vcpu: float
    memory_mib: int
    shared_cpu: bool = False


def parse_custom(name: str) -> MachineSpec | None:
    m = _CUSTOM.match(name)
    return MachineSpec(vcpu=float(m["cpu"]), memory_mib=int(m["mem"])) if m else None


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
