"""The providers' control- and data-plane facts the what-if needs beyond what each failover mechanism
already declares (``Mechanism.read`` gives every routing path its ``control_plane`` and ``data_plane``
``Plane``: provider and region). One table, each row with its sources; README's "Control and data
planes" table is this table (a test holds the two together, and the rows to the mechanisms' planes).

Rules the evaluation draws from it:
- the data plane answers users and runs the health checks: a path whose data-plane provider is down
  (a global plane goes down only with its whole provider) answers nothing, health-checked or not;
- a failover that needs a configuration change (no health-governed serving answer) waits for the
  control plane: while its region (or provider) is down it does not happen, unless the service
  resumes changes elsewhere (``recovery_region``) after ``recovery_s``;
- authoritative DNS hosting (the zone's NS set) is global anycast on each provider: only a whole
  provider's outage removes its name servers.
"""

from __future__ import annotations

from dataclasses import dataclass

from failover.checks.mechanisms import route53


@dataclass(frozen=True, slots=True)
class PlaneFacts:
    service: str
    provider: str  # aws | gcp | azure | cloudflare (none of the three clouds)
    data_plane: str  # where it answers users and runs health checks ("global": every region)
    control_plane: str  # where configuration changes go
    mechanisms: tuple[str, ...]  # the ``dns.mechanism`` values it serves (none: not read yet)
    recovery_region: str | None = None  # where changes resume when the control plane's region is down
    recovery_s: float | None = None  # after about this long
    recovery_when: str = ""  # what turns the recovery on
    sources: tuple[str, ...] = ()


FACTS: tuple[PlaneFacts, ...] = (
    PlaneFacts(
        "Route 53",
        "aws",
        "global",
        route53.CONTROL_REGION,
        ("route53-failover", "route53-latency", "route53-weighted", "route53-geo", "route53-multivalue"),
        recovery_region=route53.RECOVERY_REGION,
        recovery_s=3600.0,
        recovery_when="the hosted zone has accelerated recovery (HostedZoneFeatures.AcceleratedRecoveryStatus ENABLED)",
        sources=(
            "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/disaster-recovery-resiliency.html",
            "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/accelerated-recovery.html",
            "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html",
        ),
    ),
    PlaneFacts(
        "Global Accelerator",
        "aws",
        "global",
        "us-west-2",
        ("global-accelerator",),
        sources=(
            "https://docs.aws.amazon.com/global-accelerator/latest/dg/preserve-client-ip-address.regions.html",
            "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html",
        ),
    ),
    PlaneFacts(
        "Traffic Manager",
        "azure",
        "global",
        "global",
        ("traffic-manager",),
        sources=("https://learn.microsoft.com/azure/traffic-manager/traffic-manager-overview",),
    ),
    PlaneFacts(
        "Front Door",
        "azure",
        "global",
        "global",
        ("front-door",),
        sources=("https://learn.microsoft.com/azure/frontdoor/front-door-overview",),
    ),
    PlaneFacts(
        "Cloud DNS",
        "gcp",
        "global",
        "global",
        ("cloud-dns-failover", "cloud-dns-weighted", "cloud-dns-geo"),
        sources=(
            "https://cloud.google.com/dns/docs/overview",
            "https://cloud.google.com/dns/docs/zones/manage-routing-policies",
        ),
    ),
    PlaneFacts(
        "Cloudflare Load Balancing",
        "cloudflare",
        "global",
        "global",
        ("cloudflare-lb",),
        sources=("https://developers.cloudflare.com/load-balancing/",),
    ),
)

BY_MECHANISM: dict[str, PlaneFacts] = {m: f for f in FACTS for m in f.mechanisms}


def facts_of(mechanism: str) -> PlaneFacts | None:
    """The facts of the service a ``dns.mechanism`` runs on (None: ``external``, not read)."""
    return BY_MECHANISM.get(mechanism)


def facts_table() -> str:
    """The table as Markdown (README's "Control and data planes")."""
    header = (
        "service",
        "provider",
        "data plane (answers, health checks)",
        "control plane (changes)",
        "while the control plane's region is down",
        "`dns.mechanism`",
    )
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for f in FACTS:
        if f.recovery_region and f.recovery_s:
            minutes = f"{f.recovery_s / 60:g}"
            recovery = (
                f"changes resume through {f.recovery_region} after about {minutes} min when {f.recovery_when}; "
                "else they wait"
            )
        else:
            recovery = "down only with the whole provider" if f.control_plane == "global" else "changes wait"
        mechanisms = ", ".join(f"`{m}`" for m in f.mechanisms) or "(no mechanism reads it yet)"
        cells = (f.service, f.provider, f.data_plane, f.control_plane, recovery, mechanisms)
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
