"""Builders for check/scoring tests on data: one ready estate, which each test then breaks in one way."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from failover.checks import Evidence
from failover.model import Capacity, Drill, Inventory, Kind, Observation, ObsStatus, Resource, ScopeError
from failover.schema import Config

if TYPE_CHECKING:
    from failover.whatif import StoredEvidence

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PUBLIC = "checkout.example.com"
SEC_URL = "https://checkout-gcp.example.net/healthz"


def config(**workload_overrides: Any) -> Config:
    return Config.model_validate(config_data(**workload_overrides))


def config_data(**workload_overrides: Any) -> dict[str, Any]:
    """The ready estate's config as the YAML would hold it (one workload, ``checkout``)."""
    workload: dict[str, Any] = {
        "name": "checkout",
        "owners": ["payments@example.com"],
        "tier": 1,
        "targets": {"rto": "15m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": PUBLIC, "mechanism": "route53-failover"},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "checkout"}},
                "endpoints": [{"url": "https://checkout-east.example.net/healthz"}],
            },
            {
                "name": "gcp-central",
                "role": "secondary",
                "account": "gcp-dr",
                "regions": ["us-central1"],
                "select": {"tags": {"app": "checkout"}},
                "endpoints": [{"url": SEC_URL}],
            },
        ],
        "dependencies": [{"name": "registry", "kind": "registry", "provider": "aws", "providers": ["gcp"]}],
    }
    workload.update(workload_overrides)
    return {
        "accounts": [
            {"name": "aws-prod", "provider": "aws", "regions": ["us-east-1", "us-west-2"]},
            {"name": "gcp-dr", "provider": "gcp", "project": "acme-dr"},
        ],
        "workloads": [workload],
    }


def res(provider: str, account: str, region: str, kind: str, native_id: str, **kw: Any) -> Resource:
    kw.setdefault("name", native_id)
    kw.setdefault("native_type", kind)
    kw.setdefault("tags", {"app": "checkout", "version": "1.4.2"})
    return Resource(provider=provider, account=account, region=region, kind=kind, native_id=native_id, **kw)


def aws(kind: str, native_id: str, region: str = "us-east-1", **kw: Any) -> Resource:
    return res("aws", "aws-prod", region, kind, native_id, **kw)


def gcp(kind: str, native_id: str, region: str = "us-central1", **kw: Any) -> Resource:
    return res("gcp", "gcp-dr", region, kind, native_id, **kw)


def ready_inventory() -> dict[str, Inventory]:
    aws_res = [
        aws(
            Kind.COMPUTE_INSTANCE,
            f"i-{n}",
            state="running",
            capacity=Capacity(vcpu=4, memory_mib=16384),
            attrs={"deletion_protection": True, "image": "ami-1", "private_ip": f"10.0.0.{n}"},
        )
        for n in range(1, 5)
    ]
    aws_res += [
        aws(
            Kind.DB_INSTANCE,
            "orders-db",
            state="available",
            attrs={"deletion_protection": True, "replicas": ["arn:aws:rds:us-west-2:1:db:orders-db-replica"]},
        ),
        aws(
            Kind.DB_INSTANCE,
            "orders-db-replica",
            region="us-west-2",
            state="available",
            tags={},
            attrs={"replica_source": "orders-db", "replica_lag_s": 12, "deletion_protection": True},
        ),
        aws(
            Kind.STORAGE_BUCKET,
            "checkout-assets",
            attrs={
                "versioning": "Enabled",
                "replication": {
                    "role": "r",
                    "rules": [
                        {
                            "status": "Enabled",
                            "destination_bucket": "checkout-assets-dr",
                            "destination_region": "us-west-2",
                        }
                    ],
                },
            },
        ),
        aws(Kind.DNS_ZONE, "Z1", region="global", name="example.com", tags={}),
        aws(
            Kind.DNS_RECORD,
            "Z1/checkout.example.com/A/primary",
            region="global",
            name="checkout.example.com.",
            tags={},
            attrs={
                "failover": "PRIMARY",
                "set_identifier": "primary",
                "health_check_id": "hc-1",
                "ttl": 60,
                "alias": {"dns_name": "east-lb.us-east-1.elb.amazonaws.com"},
            },
        ),
        aws(
            Kind.DNS_RECORD,
            "Z1/checkout.example.com/A/secondary",
            region="global",
            name="checkout.example.com.",
            tags={},
            attrs={"failover": "SECONDARY", "set_identifier": "secondary", "ttl": 60, "values": ["34.1.2.3"]},
        ),
        aws(
            Kind.DNS_HEALTH_CHECK,
            "hc-1",
            region="global",
            tags={},
            attrs={"interval_s": 10, "failure_threshold": 3, "status": "healthy"},
        ),
    ]
    gcp_res = [
        gcp(
            Kind.COMPUTE_INSTANCE,
            f"gce-{n}",
            zone="us-central1-a",
            state="RUNNING",
            capacity=Capacity(vcpu=4, memory_mib=16384),
            attrs={"deletion_protection": True, "image": "img-1", "nat_ips": ["34.1.2.3"]},
        )
        for n in range(1, 5)
    ]
    gcp_res += [
        gcp(
            Kind.COMPUTE_GROUP,
            "mig-checkout",
            state="RUNNING",
            capacity=Capacity(vcpu=16, instances=4),
            attrs={
                "desired": 4,
                "max_size": 10,
                "stable": True,
                "instance_ids": [f"gce-{n}" for n in range(1, 5)],
                "vcpu_per_instance": 4,
            },
        ),
        gcp(Kind.REGION, "us-central1", tags={}, attrs={"quotas": {"CPUS": {"limit": 100, "usage": 16}}}),
    ]
    return {
        "aws-prod": Inventory(account="aws-prod", provider="aws", resources=aws_res, started_at=NOW, finished_at=NOW),
        "gcp-dr": Inventory(account="gcp-dr", provider="gcp", resources=gcp_res, started_at=NOW, finished_at=NOW),
    }


def obs(
    probe: str,
    label: str,
    *,
    site: str | None = None,
    target: str = "",
    status: ObsStatus = ObsStatus.OK,
    reason: str = "ok",
    **data: Any,
) -> Observation:
    return Observation(
        probe=probe,
        target=target,
        status=status,
        reason=reason,
        observed_at=NOW,
        data=data,
        workload="checkout",
        site=site,
        label=label,
    )


def ready_observations() -> list[Observation]:
    tls = {"verified": True, "covers_name": True, "days_left": 80, "names": [PUBLIC], "earliest_expiry_subject": "leaf"}
    return [
        obs("http", "direct", site="gcp-central", target=SEC_URL, status_code=200, tls=tls),
        obs("http", "as-public-name", site="gcp-central", target=f"{SEC_URL} as {PUBLIC}", status_code=200, tls=tls),
        obs(
            "dns",
            "delegation",
            zone="example.com",
            nameservers=[
                {"name": "ns-1.awsdns-01.org", "provider": "aws"},
                {"name": "ns-cloud-a1.googledomains.com", "provider": "gcp"},
            ],
        ),
        obs(
            "dns",
            "authoritative",
            servers=[
                {"server": "ns-1.awsdns-01.org", "answered": True, "answers": ["52.0.0.1"]},
                {"server": "ns-cloud-a1.googledomains.com", "answered": True, "answers": ["52.0.0.1"]},
            ],
            agree=True,
        ),
        obs("dns", "chain", chain=[{"name": PUBLIC, "type": "A", "ttl": 60, "value": "52.0.0.1"}], effective_ttl=60),
    ]


_DEFAULT_DRILL = object()


def evidence(
    cfg: Config | None = None,
    inventories: dict[str, Inventory] | None = None,
    observations: list[Observation] | None = None,
    drill: Any = _DEFAULT_DRILL,
) -> Evidence:
    cfg = cfg or config()
    if drill is _DEFAULT_DRILL:
        drill = Drill("checkout", NOW - timedelta(days=10), succeeded=True, recovery_s=420.0, notes="game day")
    return Evidence(
        config=cfg,
        workload=cfg.workloads[0],
        inventories=ready_inventory() if inventories is None else inventories,
        observations=ready_observations() if observations is None else observations,
        now=NOW,
        drill=drill,
    )


def replace_resource(invs: dict[str, Inventory], native_id: str, **changes: Any) -> dict[str, Inventory]:
    out = {}
    for name, inv in invs.items():
        resources = [dataclasses.replace(r, **changes) if r.native_id == native_id else r for r in inv.resources]
        out[name] = dataclasses.replace(inv, resources=resources)
    return out


def drop_resources(invs: dict[str, Inventory], predicate: Any) -> dict[str, Inventory]:
    return {n: dataclasses.replace(i, resources=[r for r in i.resources if not predicate(r)]) for n, i in invs.items()}


def incomplete(
    invs: dict[str, Inventory], account: str, scope: str, error: str = "access_denied"
) -> dict[str, Inventory]:
    out = dict(invs)
    inv = out[account]
    out[account] = dataclasses.replace(inv, incomplete=[*inv.incomplete, ScopeError(scope, error, "AccessDenied")])
    return out


def without_obs(observations: list[Observation], label: str) -> list[Observation]:
    return [o for o in observations if o.label != label]


def replace_obs(observations: list[Observation], label: str, **changes: Any) -> list[Observation]:
    return [dataclasses.replace(o, **changes) if o.label == label else o for o in observations]


def undeclared_attrs(resources: Iterable[Resource]) -> dict[str, set[str]]:
    """Keys an adapter filled that the resource's kind does not declare in failover.attrs, per kind."""
    from failover.attrs import declared_keys

    out: dict[str, set[str]] = {}
    for r in resources:
        extra = set(r.attrs) - declared_keys(r.kind)
        if extra:
            out.setdefault(f"{r.provider} {r.kind}", set()).update(extra)
    return out


def live_evidence(
    accounts: list[dict[str, Any]],
    inventories: list[Inventory],
    sites: list[dict[str, Any]],
    *,
    data: list[dict[str, Any]] | None = None,
    **targets: Any,
) -> Evidence:
    """Evidence for one workload ``app`` over inventories read from local emulators, judged now;
    ``data``: the workload's declared data stores."""
    workload = {"name": "app", "owners": ["sre@example.com"], "targets": targets, "sites": sites, "data": data or []}
    cfg = Config.model_validate({"accounts": accounts, "workloads": [workload]})
    return Evidence(config=cfg, workload=cfg.workloads[0], inventories={i.account: i for i in inventories})


def site(name: str, role: str, account: str, region: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "role": role, "account": account, "regions": [region], "select": {"tags": tags}}


def scale_secondary(instances: int, max_size: int = 10, cpu_quota_metric: str | None = "CPUS") -> dict[str, Inventory]:
    """The ready estate with the GCP secondary group running ``instances`` members (4 vCPU each);
    ``cpu_quota_metric`` None: the group names no quota its vCPU count against."""
    invs = drop_resources(
        ready_inventory(),
        lambda r: r.kind == Kind.COMPUTE_INSTANCE and r.provider == "gcp" and r.native_id > f"gce-{instances}",
    )
    return replace_resource(
        invs,
        "mig-checkout",
        capacity=Capacity(vcpu=4 * instances, instances=instances),
        attrs={
            "desired": instances,
            "max_size": max_size,
            "stable": True,
            "vcpu_per_instance": 4,
            "instance_ids": [f"gce-{n}" for n in range(1, instances + 1)],
        }
        | ({"cpu_quota_metric": cpu_quota_metric} if cpu_quota_metric else {}),
    )


def stored(
    inventories: dict[str, Inventory] | None = None, observations: list[Observation] | None = None
) -> StoredEvidence:
    """The ready estate as the what-if reads it from the store (judged at ``NOW``)."""
    from failover.whatif import StoredEvidence

    invs = ready_inventory() if inventories is None else inventories
    return StoredEvidence(
        inventories=list(invs.values()),
        observations=ready_observations() if observations is None else observations,
        now=NOW,
    )


def restamped(
    when: datetime, inventories: dict[str, Inventory], observations: list[Observation]
) -> tuple[list[Inventory], list[Observation]]:
    """The estate as if read and probed at ``when`` (a store judged now keeps only fresh evidence)."""
    invs = [dataclasses.replace(i, started_at=when, finished_at=when) for i in inventories.values()]
    return invs, [dataclasses.replace(o, observed_at=when) for o in observations]
