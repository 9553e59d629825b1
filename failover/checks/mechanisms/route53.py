"""What every Route 53 mechanism shares: the public name's record sets in the workload's DNS accounts,
the hosted zones that could hold it, the answers a record gives, and where Route 53 runs.

Route 53 answers queries from its globally distributed data plane, which evaluates health checks by
itself; changing a record goes through the control plane in us-east-1, unless the hosted zone has
accelerated recovery enabled (``HostedZoneFeatures.AcceleratedRecoveryStatus`` ``ENABLED``: changes
then resume through us-west-2 within about an hour of a us-east-1 outage). A failover that needs a
record change, rather than a health-governed record, depends on that control plane.
"""

from __future__ import annotations

from dataclasses import dataclass

from failover.attrs import attrs_of
from failover.checks.evidence import Evidence
from failover.checks.mechanisms.base import Plane
from failover.equivalence import normalize_name
from failover.model import Kind, Resource

CONTROL_REGION = "us-east-1"
RECOVERY_REGION = "us-west-2"  # where record changes resume with accelerated recovery
DATA_PLANE = Plane("aws", "global")
PERMISSIONS = (
    "route53:ListHostedZones",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "route53:ListHealthChecks",
    "route53:ListTagsForResources",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)


@dataclass(frozen=True)
class Route53Records:
    """The public name's Route 53 record sets, where they were looked for, and what could hide them."""

    records: list[Resource]
    gaps: list[str]  # why the searched accounts' Route 53 inventory may be incomplete
    searched: list[str]  # accounts searched (``dns.account``, else every AWS account)
    zones: list[Resource]  # hosted zones that could hold the name

    def role(self, role: str) -> list[Resource]:
        """Failover records with this role (PRIMARY / SECONDARY)."""
        return [r for r in self.records if str(attrs_of(r, Kind.DNS_RECORD)["failover"] or "").upper() == role]

    @property
    def primary(self) -> list[Resource]:
        return self.role("PRIMARY")

    @property
    def secondary(self) -> list[Resource]:
        return self.role("SECONDARY")


def route53_records(ev: Evidence) -> Route53Records:
    """Route 53 record sets for the public name in the workload's DNS accounts, and the zones around it."""
    assert ev.workload.dns
    dns = ev.workload.dns
    name = normalize_name(dns.name)
    accounts = ev.config.dns_accounts(ev.workload)
    gaps = [g for account in accounts for g in ev.account_gaps(account, global_scope)]
    records = [r for r in ev.index.records_named(name) if r.account in accounts and r.kind == Kind.DNS_RECORD]
    zones = [
        z
        for account in accounts
        for z in ev.index.of_kind(account, Kind.DNS_ZONE)
        if in_zone(name, normalize_name(z.name))
        and (not dns.zone or normalize_name(dns.zone) == normalize_name(z.name))
    ]
    return Route53Records(records, gaps, accounts, zones)


def in_zone(name: str, zone: str) -> bool:
    return bool(zone) and (name == zone or name.endswith("." + zone))


def global_scope(scope: str) -> bool:
    s = scope.lower()
    return "route53" in s or s in ("*", "global") or s.startswith(("global", "sts"))


def record_targets(record: Resource) -> set[str]:
    """What a record answers with: its values and its alias target's name."""
    targets = {normalize_name(str(v)) for v in attrs_of(record, Kind.DNS_RECORD)["values"] or []}
    alias = attrs_of(record, Kind.DNS_RECORD)["alias"]
    if isinstance(alias, dict) and alias.get("dns_name"):
        targets.add(normalize_name(str(alias["dns_name"])).removeprefix("dualstack."))
    return targets


def control_plane(records: list[Resource], zones: list[Resource]) -> Plane:
    """Route 53's control plane for the zones holding these records, with their accelerated recovery
    status (``None``: not read)."""
    ids = {attrs_of(r, Kind.DNS_RECORD)["zone_id"] for r in records}
    held = [z for z in zones if z.native_id in ids] or zones
    statuses = {z.name: attrs_of(z, Kind.DNS_ZONE)["accelerated_recovery"] for z in held}
    enabled = bool(statuses) and all(str(s or "").upper() == "ENABLED" for s in statuses.values())
    detail = {
        "accelerated_recovery": statuses,
        "changes_through": f"{CONTROL_REGION}, else {RECOVERY_REGION}" if enabled else CONTROL_REGION,
    }
    return Plane("aws", CONTROL_REGION, detail)


def control_plane_note(plane: Plane) -> str:
    """What a failover that needs a record change depends on, for a finding's evidence."""
    statuses = plane.detail.get("accelerated_recovery") or {}
    shown = ", ".join(f"{z}: {s or 'unknown'}" for z, s in sorted(statuses.items())) or "no zone read"
    return (
        f"failover needs a record change through Route 53's control plane in {plane.detail.get('changes_through')} "
        f"(accelerated recovery {shown})"
    )
