"""Readiness checks: pure functions from one workload's evidence (config, inventory, observations) to
findings. Each check is registered in ``CATALOG`` under its public id.

Observations the checks read, as tagged by the runner:
- ``http`` per secondary endpoint, ``site`` set, ``label`` ``direct`` or ``as-public-name``,
  ``target`` the endpoint URL, ``data["tls"]`` the TLS evidence for https;
- ``dns`` for the workload's public name, ``site`` None, ``label`` one of ``delegation``
  (``data: zone, nameservers[{name, provider}]``), ``authoritative`` (``servers[{server, answered,
  answers}]``, ``agree``), ``chain`` (``chain[...]``, ``effective_ttl``), ``resolver`` (``ttl``).
"""

from __future__ import annotations

from failover.checks import capacity, data, dependencies, dns, drift, drills, guardrails, secondary
from failover.checks.evidence import Evidence
from failover.checks.registry import CATALOG, CheckInfo, info
from failover.model import Finding, FindingStatus

_MODULES = (secondary, capacity, dns, drift, data, guardrails, dependencies, drills)

__all__ = ["CATALOG", "CheckInfo", "Evidence", "info", "run_checks"]


def run_checks(ev: Evidence, only: set[str] | None = None) -> list[Finding]:
    """Every registered check on one workload. A check that raises yields ``unknown``, never a pass."""
    findings: list[Finding] = []
    for check_id, meta in CATALOG.items():
        if only and check_id not in only:
            continue
        try:
            findings.extend(meta.fn(ev))
        except Exception as err:  # a bug in one rule must not hide the others' verdicts
            findings.append(
                meta.finding(ev, FindingStatus.UNKNOWN, f"check failed to run: {type(err).__name__}: {err}")
            )
    return findings
