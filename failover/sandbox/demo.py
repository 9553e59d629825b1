"""The demo estate: five workloads across the local AWS, GCP and Azure emulators, a local
authoritative DNS server and local HTTPS endpoints. One is truly ready; one has a secondary scaled to
zero, DNS only on Route 53 and a disabled Route 53 health check; one has a secondary whose certificate
does not cover the public name, a stale database replica, and an Azure VM that is deallocated
(provisioned fine, not running), so the secondary runs half the primary's vCPU; one has a GCP managed
instance group whose target size matches the primary but only half of whose members run (the other is
stuck booting). Each cloud also carries one data-tier defect (``_data_defects``): search's DynamoDB table
has no replica outside us-east-1, and its Cloud SQL database's cross-region replica is 2 h behind a 1 h
RPO; payments' Azure SQL ledger is in a Microsoft-managed failover group whose 1 h grace period puts
the estimated RTO past its 10 m target. A fifth workload, boutique, fails over from AWS to Azure through
Azure Front Door, whose secondary origin was left disabled (``_front_door``): the one defect in another
failover mechanism. A sixth, storefront, is ready: it fails over from AWS to GCP through a proxied
Cloudflare load balancer (``_storefront_*``), outside both clouds. ``failover demo`` runs one real cycle
over it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from failover.model import Drill

if TYPE_CHECKING:
    from failover.store import Store

AZURE_SUB = "00000000-0000-0000-0000-00000000d3a0"
GCP_PROJECT = "acme-dr"
EXPECTED = {
    "checkout": "READY",
    "search": "NOT_READY",
    "payments": "NOT_READY",
    "catalog": "AT_RISK",
    "boutique": "AT_RISK",
    "storefront": "READY",
}
STOREFRONT = "storefront.example.dev"
STOREFRONT_SECONDARY_IP = "34.120.50.100"  # storefront's GCP forwarding rule, origin of the secondary pool
CLOUDFLARE_ANYCAST = "104.16.132.229"  # what a proxied Cloudflare load balancer answers with


@dataclass
class Estate:
    """Running emulators and the config (as plain data) pointing at them."""

    config: dict[str, Any]
    stack: contextlib.ExitStack


def _aws(stack: contextlib.ExitStack) -> Any:
    from failover.sandbox import aws

    sandbox = stack.enter_context(aws.AwsSandbox())
    # checkout: 4 x m5.xlarge (16 vCPU) behind an ALB, a database replicated to us-west-2 (5 s behind).
    checkout_ids = aws.seed_instances(
        sandbox,
        "us-east-1",
        count=4,
        instance_type="m5.xlarge",
        image="ami-0c0ffee0checkout",
        tags={"app": "checkout", "version": "2.3.1", "Name": "checkout-web"},
        deletion_protection=True,
    )
    aws.seed_load_balancer(sandbox, "us-east-1", "checkout-alb", instance_ids=checkout_ids, tags={"app": "checkout"})
    aws.seed_rds_with_replica(sandbox, "us-east-1", "us-west-2", "checkout-db", tags={"app": "checkout"})
    aws.seed_buckets(
        sandbox,
        "checkout-assets",
        "us-east-1",
        replica="checkout-assets-dr",
        replica_region="us-west-2",
        tags={"app": "checkout"},
    )
    aws.seed_failover_zone(sandbox, "example.com", "checkout", primary="52.0.10.1", secondary="34.120.10.100", ttl=60)
    # search: 3 x m5.large in an Auto Scaling group.
    aws.seed_auto_scaling_group(
        sandbox,
        "us-east-1",
        "search-asg",
        desired=3,
        min_size=3,
        max_size=6,
        instance_type="m5.large",
        tags={"app": "search", "version": "7.1.0"},
    )
    # ... and its Route 53 health check was disabled for maintenance and never re-enabled: Route 53
    # treats it as always healthy, so search.example.org never fails over.
    aws.seed_failover_zone(
        sandbox, "example.org", "search", primary="52.0.20.1", secondary="34.120.20.1", ttl=300, disabled=True
    )
    # payments: 2 x m5.2xlarge (16 vCPU), a database whose replica is 30 minutes behind.
    aws.seed_instances(
        sandbox,
        "us-east-1",
        count=2,
        instance_type="m5.2xlarge",
        image="ami-0c0ffee0payments",
        tags={"app": "payments", "version": "4.0.2"},
        deletion_protection=True,
    )
    aws.seed_rds_with_replica(sandbox, "us-east-1", "us-west-2", "payments-db", tags={"app": "payments"})
    aws.seed_failover_zone(sandbox, "example.net", "payments", primary="52.0.30.1", secondary="20.50.30.1", ttl=60)
    aws.seed_replica_lag(sandbox, "us-west-2", {"checkout-db-replica": 5.0, "payments-db-replica": 1800.0})
    # catalog: 2 x m5.xlarge (8 vCPU), failing over to GCP.
    aws.seed_instances(
        sandbox,
        "us-east-1",
        count=2,
        instance_type="m5.xlarge",
        image="ami-0c0ffee0catalog",
        tags={"app": "catalog", "version": "3.2.0"},
        deletion_protection=True,
    )
    aws.seed_failover_zone(sandbox, "example.io", "catalog", primary="52.0.40.1", secondary="34.120.40.100", ttl=60)
    return sandbox


def _gcp(stack: contextlib.ExitStack) -> Any:
    from failover.sandbox.gcp import FakeGcp

    fake = stack.enter_context(FakeGcp())
    fake.add_machine_type("n2-standard-4", 4, 16384)
    fake.add_machine_type("n2-standard-2", 2, 8192)
    # n2 machine types draw on the region's N2_CPUS quota (checkout 16 + catalog 4 + storefront 4
    # running), and every series on the project's CPUS_ALL_REGIONS.
    fake.add_project(GCP_PROJECT, quotas={"CPUS_ALL_REGIONS": (96, 24)})
    fake.add_region(
        GCP_PROJECT,
        "us-central1",
        zones=["us-central1-a", "us-central1-b"],
        quotas={"CPUS": (48, 0), "N2_CPUS": (48, 24)},
    )
    # checkout's secondary: a MIG of 4 x n2-standard-4 (16 vCPU, as much as the primary), up to 8.
    fake.add_instance_template(
        GCP_PROJECT, "checkout-tmpl", machine_type="n2-standard-4", labels={"app": "checkout", "version": "2.3.1"}
    )
    fake.add_group(
        GCP_PROJECT,
        "checkout-mig",
        zone="us-central1-a",
        target_size=4,
        template="checkout-tmpl",
        autoscaler_min=4,
        autoscaler_max=8,
    )
    for n in range(1, 5):
        fake.add_instance(
            GCP_PROJECT,
            "us-central1-a",
            f"checkout-mig-{n}",
            machine_type="n2-standard-4",
            labels={"app": "checkout", "version": "2.3.1"},
            deletion_protection=True,
            network_ip=f"10.128.0.{n}",
            nat_ip=f"34.120.10.{n}",
            image="checkout-2-3-1",
            created_by=f"projects/{GCP_PROJECT}/zones/us-central1-a/instanceGroupManagers/checkout-mig",
        )
    # search's secondary: scaled to zero, and its autoscaler may only reach 2 x n2-standard-2.
    fake.add_instance_template(
        GCP_PROJECT, "search-tmpl", machine_type="n2-standard-2", labels={"app": "search", "version": "7.1.0"}
    )
    fake.add_group(
        GCP_PROJECT,
        "search-mig",
        zone="us-central1-a",
        target_size=0,
        template="search-tmpl",
        autoscaler_min=0,
        autoscaler_max=2,
    )
    # catalog's secondary: a MIG whose target size (2 x n2-standard-4 = 8 vCPU) matches the primary,
    # but only one member runs; the other is stuck booting (STAGING, still being created).
    fake.add_instance_template(
        GCP_PROJECT, "catalog-tmpl", machine_type="n2-standard-4", labels={"app": "catalog", "version": "3.2.0"}
    )
    catalog = fake.add_group(
        GCP_PROJECT,
        "catalog-mig",
        zone="us-central1-a",
        target_size=2,
        template="catalog-tmpl",
        autoscaler_min=2,
        autoscaler_max=4,
    )
    for n, status in ((1, "RUNNING"), (2, "STAGING")):
        fake.add_instance(
            GCP_PROJECT,
            "us-central1-a",
            f"catalog-mig-{n}",
            machine_type="n2-standard-4",
            status=status,
            labels={"app": "catalog", "version": "3.2.0"},
            deletion_protection=True,
            network_ip=f"10.128.1.{n}",
            image="catalog-3-2-0",
            created_by=catalog["selfLink"].split("/compute/v1/", 1)[1],
            member_action="NONE" if status == "RUNNING" else "CREATING",
        )
    # Each secondary is reached through a regional load balancer (forwarding rule) at the address the
    # SECONDARY failover record answers with.
    for app, ip in (("checkout", "34.120.10.100"), ("search", "34.120.20.1"), ("catalog", "34.120.40.100")):
        fake.add_forwarding_rule(
            GCP_PROJECT, f"{app}-fr", region="us-central1", ip_address=ip, port_range="443-443", labels={"app": app}
        )
    return fake


def _azure(stack: contextlib.ExitStack) -> Any:
    from failover.sandbox.azure import FakeArm

    fake = stack.enter_context(FakeArm())
    fake.add_resource_group(AZURE_SUB, "payments-westus2", location="westus2", tags={"app": "payments"})
    # payments' secondary: a scale set running 1 x Standard_D8s_v5 (autoscale up to 4) and a worker VM of
    # the same size that provisioned fine ("Succeeded") but is deallocated: 8 vCPU run, not 16.
    vmss = fake.add_scale_set(
        AZURE_SUB,
        "payments-westus2",
        "payments-vmss",
        size="Standard_D8s_v5",
        capacity=1,
        location="westus2",
        tags={"app": "payments", "version": "4.0.2"},
    )
    fake.add_autoscale(
        AZURE_SUB,
        "payments-westus2",
        "payments-vmss-autoscale",
        target=vmss["id"],
        minimum=1,
        maximum=4,
        location="westus2",
    )
    fake.add_vm(
        AZURE_SUB,
        "payments-westus2",
        "payments-worker",
        size="Standard_D8s_v5",
        location="westus2",
        tags={"app": "payments", "version": "4.0.2"},
        power_state="deallocated",
    )
    fake.add_resource(
        AZURE_SUB,
        "payments-westus2",
        "Microsoft.Network/loadBalancers",
        "payments-lb",
        location="westus2",
        sku={"name": "Standard"},
        tags={"app": "payments"},
    )
    fake.add_lock(f"/subscriptions/{AZURE_SUB}/resourceGroups/payments-westus2", "no-delete", notes="DR site")
    return fake


def _dns(stack: contextlib.ExitStack) -> Any:
    from failover.sandbox.dns import AuthoritativeServer

    aws_ns = ["ns-1536.awsdns-00.co.uk.", "ns-512.awsdns-00.net."]
    zones = {
        # checkout's zone is served by Route 53 and Cloud DNS: one provider's outage leaves DNS up.
        "example.com": [
            *[("@", 3600, "NS", ns) for ns in [*aws_ns, "ns-cloud-a1.googledomains.com."]],
            ("checkout", 60, "A", "52.0.10.1"),
        ],
        # search's zone is only on Route 53, with a 5 minute TTL.
        "example.org": [*[("@", 3600, "NS", ns) for ns in aws_ns], ("search", 300, "A", "52.0.20.1")],
        # catalog's zone is served by Route 53 and Cloud DNS.
        "example.io": [
            *[("@", 3600, "NS", ns) for ns in [*aws_ns, "ns-cloud-b1.googledomains.com."]],
            ("catalog", 60, "A", "52.0.40.1"),
        ],
        # payments' zone is on Route 53 and Azure DNS.
        "example.net": [
            *[("@", 3600, "NS", ns) for ns in [*aws_ns, "ns1-01.azure-dns.com."]],
            ("payments", 60, "CNAME", "payments-edge.example.net."),
            ("payments-edge", 60, "A", "52.0.30.1"),
        ],
        # storefront's zone is on Cloudflare, whose proxied load balancer answers with its own anycast
        # address (TTL 300): failover happens behind it, so that TTL does not delay it.
        "example.dev": [
            *[("@", 3600, "NS", ns) for ns in ["bob.ns.cloudflare.com.", "lola.ns.cloudflare.com."]],
            ("storefront", 300, "A", CLOUDFLARE_ANYCAST),
        ],
    }
    return stack.enter_context(AuthoritativeServer(zones))


def _web(stack: contextlib.ExitStack, directory: Path) -> tuple[Any, dict[str, str]]:
    from failover.sandbox.web import WebSandbox

    web = WebSandbox(directory)
    stack.callback(web.stop)
    urls = {
        "checkout": web.start(["checkout.example.com", "checkout-gcp.example.com"]).url(),
        "checkout-primary": web.start(["checkout.example.com"]).url(),
        # scaled to zero: the load balancer has no backends and answers 503.
        "search": web.start(["search.example.org"], status=503, body='{"error": "no healthy upstream"}').url(),
        # the DR certificate was issued for the site's own name only.
        "payments": web.start(["payments-azure.example.net"]).url(),
        "catalog": web.start(["catalog.example.io", "catalog-gcp.example.io"]).url(),
        "catalog-primary": web.start(["catalog.example.io"]).url(),
        "storefront": web.start([STOREFRONT, "storefront-gcp.example.dev"]).url(),
        "storefront-primary": web.start([STOREFRONT]).url(),
    }
    return web, urls


def _aws_data(sandbox: Any) -> None:
    """search's index lives in a DynamoDB table that was never made a global table: no replica outside
    us-east-1."""
    from failover.sandbox import aws

    aws.seed_dynamodb_table(sandbox, "us-east-1", "search-index", tags={"team": "search"})


def _gcp_data(fake: Any) -> None:
    """search's click analytics live in Cloud SQL in us-central1; its cross-region replica in us-east1 is
    2 h behind (Cloud Monitoring replica_lag), past the workload's 1 h RPO."""
    fake.add_sql_instance(GCP_PROJECT, "search-analytics", region="us-central1", labels={"team": "search"})
    fake.add_sql_instance(
        GCP_PROJECT,
        "search-analytics-dr",
        region="us-east1",
        master="search-analytics",
        dr_replica=True,
        labels={"team": "search"},
    )
    fake.add_replica_lag(GCP_PROJECT, "search-analytics-dr", [7100.0, 7150.0, 7200.0])


def _azure_data(fake: Any) -> None:
    """payments' ledger is an Azure SQL database in westus2, in a failover group with westcentralus on the
    Microsoft-managed (Automatic) policy with a 1 h grace period: the copy is current, but Microsoft fails
    over only after the grace period, so the data alone takes an hour against a 10 m RTO."""
    fake.add_resource_group(AZURE_SUB, "payments-data-westus2", location="westus2", tags={"team": "payments"})
    fake.add_resource_group(AZURE_SUB, "payments-data-wcus", location="westcentralus", tags={"team": "payments"})
    tags = {"team": "payments"}
    west = fake.add_sql_server(AZURE_SUB, "payments-data-westus2", "payments-sql", location="westus2", tags=tags)
    partner = fake.add_sql_server(
        AZURE_SUB, "payments-data-wcus", "payments-sql-dr", location="westcentralus", tags=tags
    )
    ledger = fake.add_sql_database(
        AZURE_SUB, "payments-data-westus2", "payments-sql", "ledger", location="westus2", tags=tags
    )
    ledger_dr = fake.add_sql_database(
        AZURE_SUB, "payments-data-wcus", "payments-sql-dr", "ledger", location="westcentralus", tags=tags
    )
    for server, other, location, other_location, role in (
        (west, partner, "West US 2", "West Central US", "Primary"),
        (partner, west, "West Central US", "West US 2", "Secondary"),
    ):
        fake.add_failover_group(
            server["id"],
            "payments-fg",
            location=location,
            partners=[(other["id"], other_location)],
            databases=[ledger["id"]],
            role=role,
            policy="Automatic",
            grace_minutes=60,
        )
    fake.add_replication_link(
        ledger["id"],
        partner_server="payments-sql-dr",
        partner_location="West Central US",
        partner_database_id=ledger_dr["id"],
    )
    fake.add_replication_link(
        ledger_dr["id"],
        partner_server="payments-sql",
        partner_location="West US 2",
        role="Secondary",
        partner_database_id=ledger["id"],
    )


def _data_defects(aws: Any, gcp: Any, azure: Any) -> None:
    """One data-tier defect per cloud, declared in the workloads' ``data:`` (see ``_declared_data``)."""
    _aws_data(aws)
    _gcp_data(gcp)
    _azure_data(azure)


def _declared_data(workloads: list[dict[str, Any]]) -> None:
    """The data stores search and payments declare: each is found and judged, whatever its tags."""
    declared = {
        "search": [
            {"name": "search-index", "kind": "dynamodb"},
            {"name": "search-analytics", "kind": "cloudsql", "site": "gcp-central"},
        ],
        "payments": [
            {"name": "payments-db", "kind": "rds"},
            {
                "name": "payments-ledger",
                "kind": "azure-sql",
                "site": "azure-west",
                "select": {"ids": ["payments-sql/ledger"]},
            },
        ],
    }
    for w in workloads:
        w["data"] = declared.get(w["name"], [])
        if not w["data"]:
            del w["data"]


def _storefront_aws(sandbox: Any) -> str:
    """storefront's primary: 2 x m5.large (4 vCPU) behind an ALB; returns the ALB's DNS name (the
    primary pool's origin)."""
    from failover.sandbox import aws

    tags = {"app": "storefront", "version": "1.8.0"}
    ids = aws.seed_instances(
        sandbox, "us-east-1", count=2, instance_type="m5.large", image="ami-0c0ffee0store", tags=tags,
        deletion_protection=True,
    )  # fmt: skip
    lb = aws.seed_load_balancer(sandbox, "us-east-1", "storefront-alb", instance_ids=ids, tags={"app": "storefront"})
    return lb["dns_name"]


def _storefront_gcp(fake: Any) -> None:
    """storefront's secondary: a MIG of 2 x n2-standard-2 (4 vCPU, as much as the primary) behind a
    regional forwarding rule."""
    labels = {"app": "storefront", "version": "1.8.0"}
    fake.add_instance_template(GCP_PROJECT, "storefront-tmpl", machine_type="n2-standard-2", labels=labels)
    mig = fake.add_group(
        GCP_PROJECT, "storefront-mig", zone="us-central1-b", target_size=2, template="storefront-tmpl",
        autoscaler_min=2, autoscaler_max=4,
    )  # fmt: skip
    for n in (1, 2):
        fake.add_instance(
            GCP_PROJECT, "us-central1-b", f"storefront-mig-{n}", machine_type="n2-standard-2", labels=labels,
            deletion_protection=True, network_ip=f"10.128.2.{n}", image="storefront-1-8-0",
            created_by=mig["selfLink"].split("/compute/v1/", 1)[1],
        )  # fmt: skip
    fake.add_forwarding_rule(
        GCP_PROJECT, "storefront-fr", region="us-central1", ip_address=STOREFRONT_SECONDARY_IP,
        port_range="443-443", labels={"app": "storefront"},
    )  # fmt: skip


def _storefront_cloudflare(stack: contextlib.ExitStack, primary_origin: str) -> Any:
    """The Cloudflare account serving storefront.example.dev: a proxied load balancer whose AWS pool fails
    over to the GCP pool (also the fallback) after 2 failed 15 s checks."""
    from failover.sandbox.cloudflare import FakeCloudflare, seed_demo

    fake = stack.enter_context(FakeCloudflare())
    seed_demo(fake, name=STOREFRONT, primary=primary_origin, secondary=STOREFRONT_SECONDARY_IP)
    return fake


def _storefront_workload(cloudflare: Any, urls: dict[str, str], ns: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Cloudflare account and the storefront workload, as config."""
    from failover.sandbox.cloudflare import DEMO_ZONE

    account = {
        "name": "cloudflare",
        "provider": "cloudflare",
        "zones": [DEMO_ZONE],
        "endpoint": cloudflare.api_url,
        "credentials": "anonymous",
    }
    workload = {
        "name": "storefront",
        "owners": ["storefront-team@example.com"],
        "tier": 1,
        "targets": {"rto": "15m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": STOREFRONT, "mechanism": "cloudflare-lb", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "storefront"}},
                "endpoints": [{"url": urls["storefront-primary"]}],
            },
            {
                "name": "gcp-central",
                "role": "secondary",
                "account": "gcp-dr",
                "regions": ["us-central1"],
                "select": {"tags": {"app": "storefront"}},
                "endpoints": [{"url": urls["storefront"]}],
            },
        ],
    }
    return account, workload


def _front_door(fake: Any) -> str:
    """boutique's seeded defect: a Front Door route whose origin group probes the AWS primary origin, but
    whose secondary origin (priority 2, in Azure westus2) was left disabled, so Front Door has nowhere to
    fail over to. Returns the endpoint's host name (the public name's CNAME target)."""
    fake.add_resource_group(AZURE_SUB, "boutique-edge", location="global", tags={"app": "boutique"})
    profile = fake.add_front_door(
        AZURE_SUB,
        "boutique-edge",
        "boutique-fd",
        domains={"boutique": "boutique.example.net"},
        origin_groups=[
            {
                "name": "web",
                "probe": {"path": "/healthz", "protocol": "Https", "interval_s": 30},
                "origins": [
                    {"name": "aws-east", "host": "boutique-aws.example.net", "priority": 1},
                    {"name": "azure-west", "host": "boutique-westus2.example.net", "priority": 2, "enabled": False},
                ],
            }
        ],
        routes=[{"name": "web", "endpoint": "boutique-fd", "origin_group": "web", "domains": ["boutique"]}],
    )
    [endpoint] = fake.children(AZURE_SUB, profile["id"], "afdEndpoints")
    return str(endpoint["properties"]["hostName"])


def _front_door_dns(server: Any, endpoint_host: str) -> None:
    """The public name CNAMEs to the Front Door endpoint, which answers with Front Door's anycast edge."""
    server.set_record("boutique.example.net", "CNAME", f"{endpoint_host}.", ttl=60)
    label = endpoint_host.removesuffix(".azurefd.net")
    server.add_zone("azurefd.net", [("@", 3600, "NS", "ns1-01.azure-dns.com."), (label, 60, "A", "13.107.246.40")])


def _boutique_compute(aws_sandbox: Any, azure: Any) -> None:
    """boutique runs 2 x m5.large (4 vCPU) in us-east-1 and one Standard_D4s_v5 (4 vCPU) in westus2."""
    from failover.sandbox import aws

    tags = {"app": "boutique", "version": "1.4.0"}
    aws.seed_instances(
        aws_sandbox,
        "us-east-1",
        count=2,
        instance_type="m5.large",
        image="ami-0c0ffee0store",
        tags=tags,
        deletion_protection=True,
    )
    azure.add_resource_group(AZURE_SUB, "boutique-westus2", location="westus2", tags={"app": "boutique"})
    azure.add_vm(AZURE_SUB, "boutique-westus2", "boutique-web", size="Standard_D4s_v5", location="westus2", tags=tags)
    azure.add_lock(f"/subscriptions/{AZURE_SUB}/resourceGroups/boutique-westus2", "no-delete", notes="DR site")


def _boutique(ns: list[str], web: Any) -> dict[str, Any]:
    """A workload failing over through Azure Front Door from AWS to Azure (see ``_front_door``)."""
    return {
        "name": "boutique",
        "owners": ["boutique-team@example.com"],
        "tier": 2,
        "targets": {"rto": "15m", "rpo": "1h", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": "boutique.example.net", "mechanism": "front-door", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "boutique"}},
                "failover_targets": ["boutique-aws.example.net"],
            },
            {
                "name": "azure-west",
                "role": "secondary",
                "account": "azure-dr",
                "regions": ["westus2"],
                "select": {"tags": {"app": "boutique"}},
                "endpoints": [{"url": web.start(["boutique.example.net", "boutique-westus2.example.net"]).url()}],
                "failover_targets": ["boutique-westus2.example.net"],
            },
        ],
    }


def build(directory: Path) -> Estate:
    """Start every emulator, seed the estate and return the config that points at it."""
    stack = contextlib.ExitStack()
    try:
        aws = _aws(stack)
        gcp = _gcp(stack)
        azure = _azure(stack)
        _data_defects(aws, gcp, azure)
        edge = _front_door(azure)
        _boutique_compute(aws, azure)
        _storefront_gcp(gcp)
        cloudflare = _storefront_cloudflare(stack, _storefront_aws(aws))
        dns_server = _dns(stack)
        _front_door_dns(dns_server, edge)
        web, urls = _web(stack, directory)
    except BaseException:
        stack.close()
        raise
    ns = [dns_server.address]
    config: dict[str, Any] = {
        "database": f"sqlite:///{directory / 'failover.db'}",
        "vantage": "demo",
        "tls": {"ca_file": str(web.ca_file)},
        "accounts": _accounts(aws, gcp, azure),
        "workloads": [_checkout(urls, ns), _search(urls, ns), _catalog(urls, ns), _payments(urls, ns)],
    }
    config["workloads"].append(_boutique(ns, web))
    account, workload = _storefront_workload(cloudflare, urls, ns)
    config["accounts"].append(account)
    config["workloads"].append(workload)
    _declared_data(config["workloads"])
    return Estate(config=config, stack=stack)


def _accounts(aws: Any, gcp: Any, azure: Any) -> list[dict[str, Any]]:
    """The three accounts, each pointing at its local emulator."""
    return [
        aws.account("aws-prod", regions=["us-east-1", "us-west-2"]),
        {
            "name": "gcp-dr",
            "provider": "gcp",
            "project": GCP_PROJECT,
            "endpoint": gcp.url,
            "credentials": "anonymous",
        },
        {
            "name": "azure-dr",
            "provider": "azure",
            "subscription": AZURE_SUB,
            "endpoint": azure.url,
            "credentials": "anonymous",
        },
    ]


def _checkout(urls: dict[str, str], ns: list[str]) -> dict[str, Any]:
    """Truly ready: a GCP secondary at full capacity behind Route 53 failover."""

    return {
        "name": "checkout",
        "owners": ["payments-oncall@example.com"],
        "tier": 1,
        "targets": {"rto": "15m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": "checkout.example.com", "mechanism": "route53-failover", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "checkout"}},
                "endpoints": [{"url": urls["checkout-primary"]}],
            },
            {
                "name": "gcp-central",
                "role": "secondary",
                "account": "gcp-dr",
                "regions": ["us-central1"],
                "select": {"tags": {"app": "checkout"}},
                "endpoints": [{"url": urls["checkout"]}],
            },
        ],
        "dependencies": [{"name": "container-registry", "kind": "registry", "provider": "aws", "providers": ["gcp"]}],
    }


def _search(urls: dict[str, str], ns: list[str]) -> dict[str, Any]:
    """Not ready: a secondary scaled to zero, DNS only on Route 53 with a disabled health check."""

    return {
        "name": "search",
        "owners": ["search-team@example.com"],
        "tier": 2,
        "targets": {"rto": "30m", "rpo": "1h", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": "search.example.org", "mechanism": "route53-failover", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "search"}},
            },
            {
                "name": "gcp-central",
                "role": "secondary",
                "account": "gcp-dr",
                "regions": ["us-central1"],
                "select": {"tags": {"app": "search"}},
                "endpoints": [{"url": urls["search"]}],
            },
        ],
        "dependencies": [{"name": "sso", "kind": "identity", "provider": "aws"}],
    }


def _catalog(urls: dict[str, str], ns: list[str]) -> dict[str, Any]:
    """At risk: a GCP managed instance group at target size with only half its members running."""

    return {
        "name": "catalog",
        "owners": ["catalog-team@example.com"],
        "tier": 1,
        "targets": {"rto": "15m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": "catalog.example.io", "mechanism": "route53-failover", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "catalog"}},
                "endpoints": [{"url": urls["catalog-primary"]}],
            },
            {
                "name": "gcp-central",
                "role": "secondary",
                "account": "gcp-dr",
                "regions": ["us-central1"],
                "select": {"tags": {"app": "catalog"}},
                "endpoints": [{"url": urls["catalog"]}],
            },
        ],
    }


def _payments(urls: dict[str, str], ns: list[str]) -> dict[str, Any]:
    """Not ready: a certificate that misses the public name, a stale replica, a deallocated Azure VM."""

    return {
        "name": "payments",
        "owners": ["payments-oncall@example.com", "cfo-office@example.com"],
        "tier": 0,
        "targets": {"rto": "10m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
        "dns": {"name": "payments.example.net", "mechanism": "route53-failover", "nameservers": ns},
        "sites": [
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "payments"}},
            },
            {
                "name": "azure-west",
                "role": "secondary",
                "account": "azure-dr",
                "regions": ["westus2"],
                "select": {"tags": {"app": "payments"}},
                "endpoints": [{"url": urls["payments"]}],
                "failover_targets": ["20.50.30.1"],
            },
        ],
    }


def seed_store(store: Store) -> None:
    """The drills the demo teams ran: checkout's game day three weeks ago recovered in 6 minutes;
    storefront drained its AWS pool ten days ago (4 minutes); search has never been drilled; payments' last
    drill failed (DNS never moved)."""
    now = datetime.now(UTC)
    drills = [
        Drill("checkout", now - timedelta(days=21), succeeded=True, recovery_s=360.0, notes="game day"),
        Drill("storefront", now - timedelta(days=10), succeeded=True, recovery_s=240.0, notes="pool drained"),
        Drill("payments", now - timedelta(days=40), succeeded=False, notes="DNS never moved to Azure"),
    ]
    for d in drills:
        if not store.drills(d.workload, limit=1):
            store.record_drill(d)


@contextlib.contextmanager
def running(directory: Path) -> Iterator[Estate]:
    estate = build(directory)
    try:
        yield estate
    finally:
        estate.stack.close()
