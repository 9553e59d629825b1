"""What each normalized resource kind carries in ``Resource.attrs``: one declared type per ``Kind``.

Providers fill these types and checks read them, so the two cannot drift apart: a check reads attrs only
through ``attrs_of(resource, Kind.X)``, whose return type is the kind's TypedDict, and mypy rejects a key
the kind does not declare (a test keeps checks, scoring and equivalence off raw ``.attrs``). Another
test inventories the local clouds and asserts every key each adapter fills is declared here.

One key per idea across providers: ``interval_s`` is a health check's interval on Route 53 and on
Traffic Manager alike; ``desired`` is an ASG's desired capacity, a MIG's target size and a scale set's
sku capacity. Each key's ``Annotated`` text is its documentation (docs/attrs.md is generated from it).
Every key is optional (``total=False``): ``None`` or absent means the provider did not say, never "no".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict, get_type_hints, overload

from failover.model import Kind, Resource

__all__ = ["ADDRESS_KEYS", "ATTRS", "attrs_of", "declared_keys", "describe", "render_doc"]


class CommonAttrs(TypedDict, total=False):
    """Keys any kind may carry: where it lives, how it is protected, and what the reader could not tell."""

    account_id: Annotated[str | None, "AWS account id the resource lives in"]
    project: Annotated[str | None, "GCP project id"]
    subscription: Annotated[str | None, "Azure subscription id"]
    resource_group: Annotated[str | None, "Azure resource group"]
    id: Annotated[str | None, "the provider's numeric or secondary id (GCP resource id)"]
    self_link: Annotated[str | None, "GCP self link path (projects/…/zones/…/instances/…)"]
    arn: Annotated[str | None, "AWS ARN"]
    deletion_protection: Annotated[
        bool | None,
        "protected from deletion (EC2 DisableApiTermination, RDS DeletionProtection, GCE deletionProtection, "
        "an Azure CanNotDelete/ReadOnly lock covering it); None: could not be read",
    ]
    deletion_protection_read_at: Annotated[
        str | None,
        "when ``deletion_protection`` was read (ISO 8601), where it may be older than the inventory (EC2: "
        "carried over from an earlier inventory); older than scoring.stale_after it is stale evidence",
    ]
    locks: Annotated[list[dict[str, Any]] | None, "Azure management locks covering it (name, level, scope, id)"]
    managed_by: Annotated[str | None, "Azure managedBy"]
    arm_kind: Annotated[str | None, "Azure resource `kind`"]
    sku: Annotated[dict[str, Any] | None, "Azure sku as listed (name, tier, capacity)"]
    created_time: Annotated[str | None, "Azure createdTime (ISO 8601)"]
    changed_time: Annotated[str | None, "Azure changedTime (ISO 8601)"]
    created: Annotated[str | None, "creation time (ISO 8601)"]
    detailed: Annotated[
        bool, "Azure: the resource's properties were read (from its type's listing, or by id) and folded in"
    ]
    zones: Annotated[list[str], "availability zones the resource spans"]
    vpc_id: Annotated[str | None, "AWS VPC id"]
    notes: Annotated[list[str], "what the reader could not tell about this resource, and why"]


class InstanceAttrs(CommonAttrs, total=False):
    """``compute.instance``: one VM. ``Resource.state`` is its power state (EC2 state, GCE status, Azure
    PowerState): only a running instance counts as capacity."""

    image: Annotated[str | None, "image (AMI id, GCE source image, Azure image id or URN) it booted from"]
    machine_type: Annotated[str | None, "GCE machine type name"]
    vm_size: Annotated[str | None, "Azure VM size (Standard_D4s_v5)"]
    os_type: Annotated[str | None, "Azure OS type"]
    group: Annotated[str | None, "the group it is a member of (GCE created-by, a flexible scale set's id)"]
    autoscaling_group: Annotated[str | None, "the Auto Scaling group it is a member of"]
    private_ip: Annotated[str | None, "private IPv4 address"]
    public_ip: Annotated[str | None, "public IPv4 address"]
    private_dns: Annotated[str | None, "private DNS name"]
    public_dns: Annotated[str | None, "public DNS name"]
    ipv6: Annotated[list[str], "IPv6 addresses"]
    network_ips: Annotated[list[str], "GCE internal addresses"]
    nat_ips: Annotated[list[str], "GCE external (NAT) addresses"]
    subnet_id: Annotated[str | None, "AWS subnet"]
    architecture: Annotated[str | None, "CPU architecture"]
    platform: Annotated[str | None, "OS platform"]
    lifecycle: Annotated[str | None, "on-demand or spot"]
    launch_time: Annotated[str | None, "launch time (ISO 8601)"]
    state_reason: Annotated[str | None, "why it is in its state (EC2 StateReason)"]
    provisioning_state: Annotated[str | None, "Azure provisioning state (says nothing about whether it runs)"]
    shared_cpu: Annotated[bool, "a shared-core machine type (vCPU is a fraction of a core)"]


class GroupAttrs(CommonAttrs, total=False):
    """``compute.group``: ASG, MIG or VMSS. ``capacity.instances`` is the members running now (None: not
    read); ``desired`` is only what the group wants."""

    desired: Annotated[int | None, "desired size (ASG DesiredCapacity, MIG targetSize, VMSS sku capacity)"]
    min_size: Annotated[int | None, "smallest size the group may shrink to"]
    max_size: Annotated[int | None, "largest size the group may grow to (ASG MaxSize, autoscaler max)"]
    vcpu_per_instance: Annotated[float | None, "vCPU of one member (template or sku size)"]
    memory_mib_per_instance: Annotated[int | None, "memory of one member, MiB"]
    in_service: Annotated[
        int | None, "members in service now (ASG InService; MIG RUNNING members the group is not acting on)"
    ]
    unhealthy: Annotated[int | None, "members reported unhealthy"]
    stable: Annotated[bool | None, "the group is not changing members (MIG status.isStable)"]
    instances: Annotated[list[dict[str, Any]], "members: id, lifecycle_state, health, type, zone"]
    instance_ids: Annotated[list[str], "member instance ids (GCE: instance paths of members whose VM exists)"]
    not_serving: Annotated[
        list[str], "MIG members that do not count as running, with why: `web-2 (STAGING, CREATING)` (first 20)"
    ]
    cpu_quota_metric: Annotated[
        str | None, "regional CPU quota its members count against (GCP: CPUS for N1/E2, N2_CPUS, C2_CPUS, …)"
    ]
    instance_group: Annotated[str | None, "GCE instance group path the MIG manages"]
    instance_template: Annotated[str | None, "GCE instance template path"]
    machine_type: Annotated[str | None, "GCE machine type of the template"]
    vm_size: Annotated[str | None, "Azure VM size of the scale set"]
    autoscaled: Annotated[bool | None, "an autoscaler governs the size"]
    current_actions: Annotated[
        dict[str, int] | None, "MIG currentActions: every counter (none, creating, verifying, …), snake_case"
    ]
    launch_template: Annotated[dict[str, Any] | None, "ASG launch template"]
    launch_configuration: Annotated[str | None, "ASG launch configuration name"]
    target_group_arns: Annotated[list[str], "ELBv2 target groups the ASG registers with"]
    load_balancer_names: Annotated[list[str], "classic ELBs the ASG registers with"]
    health_check_type: Annotated[str | None, "ASG health check type (EC2, ELB)"]
    health_check_grace_s: Annotated[int | None, "ASG health check grace period, seconds"]
    suspended_processes: Annotated[list[str], "ASG processes suspended (Launch, Terminate, …)"]
    capacity_unit: Annotated[str | None, "what desired/min/max count: instances, or an ASG's weighted units"]
    running_units: Annotated[float | None, "running capacity in the group's unit (weighted members summed)"]
    warm_instances: Annotated[int | None, "ASG warm-pool instances ready to join (Warmed:*), not running capacity"]
    warm_pool_state: Annotated[str | None, "state warm-pool instances are kept in (Stopped, Running, Hibernated)"]
    deletion_protection_level: Annotated[
        str | None, "ASG DeletionProtection: none, prevent-force-deletion, prevent-all-deletion"
    ]
    orchestration_mode: Annotated[str | None, "Azure scale set orchestration: Uniform or Flexible"]
    provisioning_state: Annotated[str | None, "Azure provisioning state"]
    member_power_states: Annotated[dict[str, int] | None, "Azure scale set members per power state"]
    autoscale: Annotated[str | None, "id of the enabled Azure autoscale setting that targets the scale set"]
    scaling_note: Annotated[str | None, "why min_size/max_size are what they are"]


class LbAttrs(CommonAttrs, total=False):
    """``lb``: ELBv2 load balancer, GCE forwarding rule, Azure load balancer / application gateway / Front Door."""

    dns_name: Annotated[str | None, "the load balancer's DNS name"]
    ip_address: Annotated[str | None, "its address (GCE forwarding rule IPAddress)"]
    canonical_hosted_zone_id: Annotated[str | None, "Route 53 zone id of the ELB's name (alias targets)"]
    scheme: Annotated[str | None, "internet-facing / internal (ELB), EXTERNAL / INTERNAL (GCE)"]
    type: Annotated[str | None, "ELBv2 type: application, network, gateway"]
    lb_type: Annotated[str | None, "Azure: load_balancer, application_gateway, front_door"]
    ip_address_type: Annotated[str | None, "ipv4 / dualstack"]
    target_groups: Annotated[list[str], "ELBv2 target group ARNs behind it"]
    protocol: Annotated[str | None, "GCE forwarding rule protocol"]
    port_range: Annotated[str | None, "GCE forwarding rule port range"]
    ports: Annotated[list[str], "GCE forwarding rule ports"]
    target: Annotated[str | None, "GCE forwarding rule target (proxy, pool)"]
    backend_service: Annotated[str | None, "GCE backend service path"]
    is_global: Annotated[bool | None, "a global GCE forwarding rule or backend service"]


class TargetGroupAttrs(CommonAttrs, total=False):
    """``lb.target_group``: an ELBv2 target group with its targets' health."""

    protocol: Annotated[str | None, "target protocol"]
    port: Annotated[int | None, "target port"]
    target_type: Annotated[str | None, "instance, ip, lambda, alb"]
    load_balancers: Annotated[list[str], "load balancer ARNs using it"]
    health_check: Annotated[dict[str, Any] | None, "protocol, port, path, interval_s, timeout_s, thresholds, matcher"]
    healthy: Annotated[int | None, "targets reported healthy"]
    unhealthy: Annotated[int | None, "targets reported unhealthy"]
    targets: Annotated[list[dict[str, Any]], "registered targets: id, port, state, reason"]


class BackendAttrs(CommonAttrs, total=False):
    """``lb.backend``: a GCE backend service with the health of its backends."""

    protocol: Annotated[str | None, "backend protocol"]
    scheme: Annotated[str | None, "load balancing scheme"]
    is_global: Annotated[bool | None, "a global backend service"]
    backends: Annotated[list[str], "backend group paths (instance groups and network endpoint groups)"]
    health_checks: Annotated[list[str], "health check paths"]
    health: Annotated[list[dict[str, Any]], "getHealth entries: group, instance, ipAddress, port, healthState"]
    healthy: Annotated[int | None, "endpoints reported HEALTHY"]
    unhealthy: Annotated[int | None, "endpoints in any other state (UNHEALTHY, DRAINING, TIMEOUT, UNKNOWN)"]
    health_unknown_groups: Annotated[list[str], "backend groups whose health could not be read"]
    unmonitored_backends: Annotated[
        list[str], "backends the API reports no health for (regional/global NEGs: serverless, PSC, internet)"
    ]


class ZoneAttrs(CommonAttrs, total=False):
    """``dns.zone``: a hosted zone with its delegation set."""

    fqdn: Annotated[str | None, "the zone's name"]
    nameservers: Annotated[list[str] | None, "authoritative nameserver names; None: could not be read"]
    private: Annotated[bool | None, "a private (VPC) zone"]
    record_count: Annotated[int | None, "number of record sets"]
    comment: Annotated[str | None, "the zone's comment"]
    vpcs: Annotated[list[dict[str, Any]], "VPCs a private zone is attached to"]
    accelerated_recovery: Annotated[
        str | None,
        "Route 53 HostedZoneFeatures.AcceleratedRecoveryStatus (ENABLED: record changes resume through us-west-2 "
        "when us-east-1 fails); None: not reported",
    ]


class AliasTarget(TypedDict, total=False):
    dns_name: str
    hosted_zone_id: str | None
    evaluate_target_health: bool


class RecordAttrs(CommonAttrs, total=False):
    """``dns.record``: one record set (Route 53), with its routing policy."""

    zone_id: Annotated[str | None, "hosted zone id"]
    zone: Annotated[str | None, "hosted zone name"]
    type: Annotated[str | None, "record type (A, AAAA, CNAME, …)"]
    ttl: Annotated[int | None, "TTL, seconds (None for alias records)"]
    values: Annotated[list[str], "record values"]
    alias: Annotated[AliasTarget | None, "alias target: dns_name, hosted_zone_id, evaluate_target_health"]
    failover: Annotated[str | None, "failover role: PRIMARY / SECONDARY"]
    set_identifier: Annotated[str | None, "set identifier"]
    health_check_id: Annotated[str | None, "the health check governing the record"]
    weight: Annotated[int | None, "weighted routing weight"]
    latency_region: Annotated[str | None, "latency routing region"]
    geo: Annotated[dict[str, Any] | None, "geolocation routing location (ContinentCode, CountryCode, SubdivisionCode)"]
    geoproximity: Annotated[
        dict[str, Any] | None, "geoproximity routing location (AWSRegion, LocalZoneGroup, Coordinates, Bias)"
    ]
    multivalue: Annotated[bool | None, "multivalue answer record"]
    alias_target_resource: Annotated[
        str | None,
        "Azure DNS alias record: ARM id of the resource it follows (targetResource: a Traffic Manager profile, "
        "a Front Door endpoint, a public IP); None: not an alias",
    ]
    fqdn: Annotated[str | None, "the record's full name as the provider spells it (Azure DNS fqdn)"]
    private: Annotated[bool | None, "the record's zone is private (answers only inside VPC networks)"]
    routing_policy: Annotated[
        dict[str, Any] | None,
        "Cloud DNS routingPolicy: policy (primaryBackup, wrr, geo), health_check (Compute health check URL for "
        "external endpoints), trickle_ratio, fencing (geo enableFencing, or the backup geo's), items "
        "[{role (primary, backup, weighted, geo), location, weight, rrdatas, external_endpoints, "
        "internal_load_balancers [{ip_address, port, protocol, lb_type, region, project, network}]}]",
    ]


class HealthCheckAttrs(CommonAttrs, total=False):
    """``dns.health_check``: what decides DNS failover (a Route 53 health check, a Traffic Manager
    profile's endpoint monitor). Detection time is ``interval_s`` x ``failure_threshold``."""

    type: Annotated[str | None, "Route 53 type: HTTP, HTTPS, TCP, CALCULATED, CLOUDWATCH_METRIC, RECOVERY_CONTROL…"]
    ip: Annotated[str | None, "address probed"]
    fqdn: Annotated[str | None, "name probed (Route 53) or the profile's DNS name (Traffic Manager)"]
    port: Annotated[int | None, "port probed"]
    path: Annotated[str | None, "path probed"]
    protocol: Annotated[str | None, "monitor protocol (Traffic Manager)"]
    search_string: Annotated[str | None, "string the response must contain"]
    interval_s: Annotated[float | None, "seconds between probes"]
    timeout_s: Annotated[float | None, "probe timeout, seconds"]
    failure_threshold: Annotated[int | None, "failed probes before unhealthy"]
    inverted: Annotated[bool | None, "the health status is inverted"]
    disabled: Annotated[bool | None, "disabled (Route 53 then treats it as healthy)"]
    measure_latency: Annotated[bool | None, "Route 53 measures latency"]
    regions: Annotated[list[str], "checker regions"]
    children: Annotated[list[str], "child health checks of a calculated check"]
    health_threshold: Annotated[int | None, "calculated check: healthy children needed"]
    alarm: Annotated[
        dict[str, Any] | None,
        "CloudWatch-alarm check: name, region, period, evaluation periods, datapoints to alarm, state",
    ]
    insufficient_data_status: Annotated[str | None, "alarm check's status while the alarm lacks data"]
    routing_control_arn: Annotated[str | None, "ARC routing control deciding a RECOVERY_CONTROL check"]
    status: Annotated[str | None, "healthy / unhealthy / unknown now"]
    status_reason: Annotated[str | None, "why the status is unknown"]
    routing_method: Annotated[str | None, "Traffic Manager routing method (Priority = failover)"]
    profile_status: Annotated[str | None, "Traffic Manager profile status"]
    monitor_status: Annotated[str | None, "Traffic Manager profile monitor status"]
    ttl: Annotated[int | None, "Traffic Manager DNS TTL"]
    endpoints: Annotated[
        list[dict[str, Any]],
        "Traffic Manager endpoints: id, name, type, target, target_resource_id, location, priority, weight, status, "
        "monitor_status, always_serve; a nested profile's endpoint (type nestedEndpoints, target_resource_id = the "
        "child profile) also min_child_endpoints, min_child_endpoints_ipv4, min_child_endpoints_ipv6 (healthy child "
        "endpoints the child profile needs to count as available)",
    ]


class DataCopy(TypedDict, total=False):
    """One copy of a data store's contents that the provider reports on the store itself."""

    where: str  # provider:region of the copy (``aws:us-west-2``, ``azure:westus2``, ``gcp:nam4``)
    ref: str | None  # the copy's own id or ARN, when it has one
    # global-table, read-replica, geo-replication, failover-group, dual-region, multi-region, geo-redundant, backup
    mechanism: str
    healthy: bool | None  # the provider says the copy is being kept up to date; None: it does not say
    state: str | None  # the provider's own word for the copy's state (ACTIVE, CATCH_UP, …)
    lag_s: float | None  # how far behind, seconds; None: not known
    lag_source: str | None  # the metric it was read from, or the documentation bound it is estimated from
    estimate: bool  # lag_s is a documented bound, not a measurement


class DatabaseAttrs(CommonAttrs, total=False):
    """``db.instance`` / ``db.cluster`` / ``db.table`` / ``cache``: a data store with its copies."""

    store_kind: Annotated[
        str | None, "the config's data store kind (rds, aurora, dynamodb, elasticache, cloudsql, azure-sql, …)"
    ]
    copies: Annotated[
        list[DataCopy],
        "copies the provider reports on the store itself (global table replicas, failover groups, geo "
        "replication, dual-region buckets): where, ref, mechanism, healthy, state, lag_s, lag_source, estimate",
    ]

    engine: Annotated[str | None, "engine (postgres, mysql, aurora-postgresql, …)"]
    version: Annotated[str | None, "engine version"]
    instance_class: Annotated[str | None, "instance class / size"]
    multi_az: Annotated[bool | None, "synchronous standby in another zone"]
    cluster: Annotated[str | None, "the cluster an instance belongs to"]
    members: Annotated[list[dict[str, Any]], "cluster members: id, writer"]
    replica_source: Annotated[str | None, "the primary this replica copies (id or ARN); None for a primary"]
    replica_source_region: Annotated[str | None, "region of the replica's source"]
    replica_source_cluster: Annotated[str | None, "source cluster of an instance replica"]
    replicas: Annotated[list[str], "replicas of this database (ids or ARNs)"]
    replica_clusters: Annotated[list[str], "cluster replicas of this database"]
    replication_mode: Annotated[str | None, "RDS ReplicaMode (open-read-only, mounted)"]
    replication_role: Annotated[str | None, "Azure replication role"]
    replication_state: Annotated[str | None, "Azure replica state (Active, Catchup, Broken, …)"]
    replicas_unknown_reason: Annotated[str | None, "why this database's replicas cannot be read yet"]
    replica_lag_s: Annotated[float | None, "replication lag, seconds (CloudWatch ReplicaLag); None: not read"]
    replica_lag_metric: Annotated[str | None, "the metric the lag was read from (ReplicaLag, AuroraGlobalDBRPOLag, …)"]
    replication_status: Annotated[str | None, "RDS StatusInfos read-replication status, or a global secondary's sync"]
    replication_healthy: Annotated[bool | None, "RDS StatusInfos Normal"]
    replication_message: Annotated[str | None, "RDS StatusInfos Message"]
    backup_copies: Annotated[
        list[dict[str, Any]], "automated backups replicated to other regions: region, arn, status, newest restore"
    ]
    latest_restorable_time: Annotated[str | None, "newest point-in-time restore target (ISO 8601)"]
    backup_retention_days: Annotated[int | None, "backup retention, days"]
    geo_redundant_backup: Annotated[bool | None, "Azure: backups copied to the paired region"]
    high_availability: Annotated[str | None, "Azure high availability mode"]
    global_cluster: Annotated[str | None, "Aurora global database id"]
    storage_encrypted: Annotated[bool | None, "storage encrypted"]
    endpoint: Annotated[str | None, "endpoint address"]
    reader_endpoint: Annotated[str | None, "cluster reader endpoint"]
    port: Annotated[int | None, "port"]
    publicly_accessible: Annotated[bool | None, "reachable from the internet"]
    secondary_zone: Annotated[str | None, "zone of the Multi-AZ standby"]
    # Azure data tier (issue 10): SQL failover groups, Cosmos DB accounts
    failover_group: Annotated[str | None, "Azure SQL: id of the failover group holding the database"]
    failover_policy: Annotated[
        str | None,
        "Azure SQL failover group readWriteEndpoint.failoverPolicy: Manual (customer-managed) or Automatic "
        "(Microsoft-managed, only after the grace period in an outage Microsoft declares)",
    ]
    grace_period_s: Annotated[
        float | None, "Azure SQL failover group failoverWithDataLossGracePeriodMinutes, in seconds (Automatic policy)"
    ]
    automatic_failover: Annotated[
        bool | None, "fails over on its own (Cosmos DB enableAutomaticFailover, ElastiCache AutomaticFailover)"
    ]
    multi_region_writes: Annotated[bool | None, "Cosmos DB enableMultipleWriteLocations"]
    consistency_level: Annotated[str | None, "Cosmos DB default consistency level (Session, BoundedStaleness, …)"]
    write_region: Annotated[str | None, "Cosmos DB: the location with failover priority 0"]

    # GCP Cloud SQL (providers/gcp/cloudsql.py)
    instance_type: Annotated[
        str | None, "Cloud SQL instanceType (CLOUD_SQL_INSTANCE, READ_REPLICA_INSTANCE, ON_PREMISES_INSTANCE, …)"
    ]
    replica_names: Annotated[list[str], "Cloud SQL replicaNames: this primary's replicas (instance names)"]
    dr_replica: Annotated[bool | None, "Cloud SQL: this replica is the primary's designated cross-region DR replica"]
    failover_dr_replica: Annotated[str | None, "Cloud SQL replicationCluster.failoverDrReplicaName of a primary"]
    replica_byte_lag: Annotated[
        float | None,
        "Cloud SQL PostgreSQL replica_byte_lag (bytes, replay position): evidence beside replica_lag_s, "
        "which for PostgreSQL is the apply lag only; None: no recent point",
    ]
    external_host: Annotated[str | None, "Cloud SQL source representation of an external primary: its host:port"]

    # AWS DynamoDB and ElastiCache (data-aws)
    global_table_version: Annotated[
        str | None,
        "DynamoDB GlobalTableVersion (2019.11.21, or 2017.11.29 for a legacy global table from "
        "DescribeGlobalTable; None: not a global table)",
    ]
    multi_region_consistency: Annotated[str | None, "DynamoDB MultiRegionConsistency (EVENTUAL, STRONG)"]
    billing_mode: Annotated[str | None, "DynamoDB billing mode (PROVISIONED, PAY_PER_REQUEST)"]
    stream_enabled: Annotated[bool | None, "DynamoDB stream enabled"]
    global_datastore: Annotated[str | None, "ElastiCache global datastore id (GlobalReplicationGroupId)"]
    global_role: Annotated[str | None, "ElastiCache role in its global datastore (PRIMARY, SECONDARY)"]
    global_status: Annotated[str | None, "ElastiCache global datastore Status (available, primary-only, …)"]
    member_clusters: Annotated[list[str], "ElastiCache member cache cluster ids"]
    cluster_mode: Annotated[str | None, "ElastiCache ClusterMode (enabled, disabled, compatible)"]


class ReplicationRule(TypedDict, total=False):
    id: str | None
    prefix: str  # "" = every key
    tags: dict[str, str]  # {} = any tags
    status: str | None
    priority: int | None
    destination_bucket: str
    destination_region: str | None
    destination_account: str | None
    storage_class: str | None
    replication_time_control: str | None


class Replication(TypedDict, total=False):
    role: str | None
    rules: list[ReplicationRule]


class BucketAttrs(CommonAttrs, total=False):
    """``storage.bucket``: an S3 bucket, GCS bucket or Azure storage account, with where its objects are copied."""

    versioning: Annotated[str | None, "S3 versioning status"]
    mfa_delete: Annotated[str | None, "S3 MFA delete"]
    settings_read_at: Annotated[
        str | None,
        "S3: when versioning and replication were read (ISO 8601); older than the inventory when carried over "
        "from an earlier one (they rarely change and cost calls per bucket)",
    ]
    replication: Annotated[
        Replication | str | None,
        "S3: {role, rules[...]} (None: could not be read); Azure: the redundancy (LRS, ZRS, GRS, GZRS, …)",
    ]
    geo_redundant: Annotated[bool | None, "Azure: a geo-redundant SKU (a copy in the paired region)"]
    store_kind: Annotated[str | None, "the config's data store kind (s3, gcs, azure-storage)"]
    copies: Annotated[
        list[DataCopy],
        "copies the provider reports on the bucket itself (GCS dual/multi-region, Azure geo-redundant account "
        "with its last sync): where, ref, mechanism, healthy, state, lag_s, lag_source, estimate",
    ]
    can_failover: Annotated[bool | None, "Azure geoReplicationStats.canFailover"]

    # GCP Cloud Storage (providers/gcp/gcs.py)
    location: Annotated[str | None, "GCS bucket location as the API names it (US-EAST1, NAM4, US)"]
    location_type: Annotated[str | None, "GCS locationType: region, dual-region or multi-region"]
    rpo: Annotated[str | None, "GCS rpo: DEFAULT or ASYNC_TURBO (turbo replication); None on region buckets"]
    turbo_replication: Annotated[bool | None, "GCS turbo replication on (rpo ASYNC_TURBO)"]
    data_locations: Annotated[list[str], "GCS regions holding the bucket's data (dual-region pair); [] multi-region"]
    storage_class: Annotated[str | None, "GCS default storage class"]


class RoutingOrigin(TypedDict, total=False):
    """One server inside a routing target (an origin of a Cloudflare pool, an endpoint of a Global
    Accelerator endpoint group)."""

    id: str | None  # the service's id for it (Global Accelerator EndpointId: instance id, allocation id, ARN)
    name: str | None
    kind: str | None  # what it is (Global Accelerator: ec2-instance, elastic-ip, alb, nlb)
    address: str | None  # IP address or host name it sends to (an Elastic IP endpoint's public address)
    instance: str | None  # the instance it reaches (an Elastic IP's associated instance)
    enabled: bool | None
    weight: float | None  # share of the target's traffic (Global Accelerator: 0-255, 0 takes none)
    healthy: bool | None  # the service's own health verdict now; None: not reported
    health_state: str | None  # that verdict as the service words it (INITIAL, HEALTHY, UNHEALTHY)
    client_ip_preservation: bool | None  # the client's address reaches it (Global Accelerator)
    note: str | None  # what could not be read about it


class RoutingTarget(TypedDict, total=False):
    """One answer a routing config can send users to (an origin, pool, endpoint or record target)."""

    id: str | None  # the service's id for it (a Cloudflare pool id)
    name: str | None
    addresses: list[str]  # hosts or IPs it sends to
    priority: int | None  # lower takes traffic first (failover order); None: not priority-based
    weight: float | None  # share in normal operation; 0 = standby
    enabled: bool | None
    healthy: bool | None  # the service's own health verdict now; None: not reported
    health_checked: bool | None  # a health signal governs whether it is answered
    interval_s: float | None  # health probe interval
    threshold: int | None  # consecutive failures (or samples) before it is taken out
    detection_s: float | None  # interval x threshold, or the service's documented equivalent
    region: str | None  # where it runs, when the service says
    origins: list[RoutingOrigin]  # the servers inside it (a Cloudflare pool's origins)
    minimum_origins: int | None  # healthy origins it needs to take traffic (fewer: unhealthy as a whole)
    monitor: dict[str, Any] | None  # its health monitor as the service reports it (type, path, expected_codes, …)
    listener: str | None  # the Global Accelerator listener (ARN) the endpoint group belongs to
    traffic_dial: float | None  # percent of its share of traffic it takes (Global Accelerator); failover ignores it
    port_overrides: list[dict[str, Any]]  # listener port -> endpoint port (Global Accelerator PortOverrides)


class RoutingAttrs(CommonAttrs, total=False):
    """``routing``: a traffic-steering config for a public name outside plain records (Cloudflare load
    balancers, Azure Front Door routes, Cloud DNS routing policies, Global Accelerator accelerators, whose
    ``targets`` are the endpoint groups of all its listeners)."""

    mechanism: Annotated[str | None, "the dns.mechanism this config implements (cloudflare-lb, front-door, …)"]
    fqdn: Annotated[str | None, "the public name it serves"]
    enabled: Annotated[bool | None, "the config is on"]
    ttl: Annotated[int | None, "TTL resolvers hold for its answers, seconds (None: proxied or not said)"]
    proxied: Annotated[bool | None, "traffic goes through the service's proxy (Cloudflare orange cloud, Front Door)"]
    policy: Annotated[str | None, "the steering policy as the service names it (off, failover, random, geo, …)"]
    control_plane: Annotated[str | None, "who runs it: aws, gcp, azure, cloudflare"]
    targets: Annotated[list[RoutingTarget], "answers it can give, in the service's priority order"]
    fallback: Annotated[str | None, "what it answers when every target is unhealthy"]
    hostnames: Annotated[
        list[str],
        "every name it serves (Front Door: the route's custom domains, and its endpoint's host name when "
        "the route links to the default domain; Global Accelerator: its DnsName and DualStackDnsName)",
    ]
    ip_sets: Annotated[
        list[dict[str, Any]],
        "static addresses it answers on: family (IPv4, IPv6), addresses (Global Accelerator IpSets)",
    ]
    ip_address_type: Annotated[str | None, "IPV4 / DUAL_STACK (Global Accelerator)"]
    listeners: Annotated[
        list[dict[str, Any]],
        "Global Accelerator listeners: arn, protocol (TCP, UDP), ports (443, 8000-8100), client_affinity "
        "(NONE, SOURCE_IP)",
    ]
    profile: Annotated[str | None, "ARM id of the profile it belongs to (Front Door profile)"]
    endpoint_id: Annotated[str | None, "ARM id of the endpoint serving it (Front Door afdEndpoint)"]
    endpoint_hostname: Annotated[str | None, "the endpoint's own host name (Front Door: <name>-<hash>.z01.azurefd.net)"]
    origin_group: Annotated[str | None, "ARM id of the origin group (Front Door) its targets come from"]
    patterns: Annotated[list[str], "URL path patterns it matches (Front Door patternsToMatch)"]
    probe: Annotated[
        dict[str, Any] | None,
        "health probe: path, protocol, request_type, interval_s (Front Door healthProbeSettings); None: no probes",
    ]
    sample_size: Annotated[int | None, "Front Door loadBalancingSettings.sampleSize: probe results looked at"]
    successful_samples_required: Annotated[
        int | None, "Front Door loadBalancingSettings.successfulSamplesRequired: of those, healthy ones needed"
    ]
    additional_latency_ms: Annotated[
        int | None, "Front Door additionalLatencyInMilliseconds: latency band within which origins share traffic"
    ]
    dns_zone: Annotated[str | None, "the DNS zone it lives in (Cloudflare zone name)"]
    zone_id: Annotated[str | None, "the provider's id of that zone (Cloudflare zone id)"]
    cloudflare_account: Annotated[str | None, "the Cloudflare account id holding its pools and monitors"]
    geo_targets: Annotated[
        dict[str, list[str]] | None,
        "per-location failover order: region:WNAM / country:US / pop:LAX -> target names "
        "(Cloudflare region_pools, country_pools, pop_pools); other locations use targets",
    ]
    session_affinity: Annotated[str | None, "session affinity (Cloudflare none, cookie, ip_cookie, header)"]
    trickle_ratio: Annotated[
        float | None, "share of traffic sent to backup targets while the primary is healthy (Cloud DNS trickleTraffic)"
    ]


class RegionAttrs(CommonAttrs, total=False):
    """``region``: a provider region with its quotas."""

    quotas: Annotated[dict[str, dict[str, float]], "quota metric -> {limit, usage} (GCP CPUS, N2_CPUS, …)"]
    quota_warning: Annotated[str | None, "why the region's quotas may be missing (GCP quotaStatusWarning)"]
    project_quotas: Annotated[
        dict[str, dict[str, float]] | None,
        "the project's quotas, metric -> {limit, usage} (GCP CPUS_ALL_REGIONS); None: could not be read",
    ]


class ResourceGroupAttrs(CommonAttrs, total=False):
    """``resource_group``: an Azure resource group (locks on it protect what it holds)."""


class LockAttrs(CommonAttrs, total=False):
    """``lock``: an Azure management lock."""

    level: Annotated[str | None, "CanNotDelete / ReadOnly"]
    scope: Annotated[str | None, "the id it protects (a resource, group or subscription)"]


class MetricAttrs(CommonAttrs, total=False):
    """``metric``: the newest value of a metric the config names (a declared store's ``lag_metric``)."""

    metric: Annotated[
        str | None,
        "the metric as the evidence names it (CloudWatch namespace, name, dimensions and statistic; "
        "Cloud Monitoring type and labels; Azure Monitor namespace, name, filter, aggregation and resource id)",
    ]
    value_s: Annotated[
        float | None, "its newest value within the last 10 minutes, in seconds; None: no recent datapoint"
    ]


class OtherAttrs(CommonAttrs, total=False):
    """``other``: inventoried but not a kind the checks read."""

    enabled: Annotated[bool | None, "Azure autoscale setting: enabled"]
    target_resource_id: Annotated[str | None, "Azure autoscale setting: the resource it scales"]
    profiles: Annotated[list[dict[str, Any]], "Azure autoscale setting profiles: name, minimum, maximum, default"]


ATTRS: dict[Kind, type] = {
    Kind.COMPUTE_INSTANCE: InstanceAttrs,
    Kind.COMPUTE_GROUP: GroupAttrs,
    Kind.LB: LbAttrs,
    Kind.LB_TARGET_GROUP: TargetGroupAttrs,
    Kind.LB_BACKEND: BackendAttrs,
    Kind.DNS_ZONE: ZoneAttrs,
    Kind.DNS_RECORD: RecordAttrs,
    Kind.DNS_HEALTH_CHECK: HealthCheckAttrs,
    Kind.DB_INSTANCE: DatabaseAttrs,
    Kind.DB_CLUSTER: DatabaseAttrs,
    Kind.DB_TABLE: DatabaseAttrs,
    Kind.CACHE: DatabaseAttrs,
    Kind.STORAGE_BUCKET: BucketAttrs,
    Kind.ROUTING: RoutingAttrs,
    Kind.REGION: RegionAttrs,
    Kind.RESOURCE_GROUP: ResourceGroupAttrs,
    Kind.LOCK: LockAttrs,
    Kind.METRIC: MetricAttrs,
    Kind.OTHER: OtherAttrs,
}


_DATA_KINDS = {Kind.DB_INSTANCE, Kind.DB_CLUSTER, Kind.DB_TABLE, Kind.CACHE}  # one declared type, read alike
# A TypedDict's keys, its bases' included, without evaluating every annotation (get_type_hints would:
# 0.1 s of every command that imports this module); a unit test holds them equal to get_type_hints'.
_DECLARED: dict[Kind, frozenset[str]] = {
    k: frozenset(t.__required_keys__ | t.__optional_keys__)  # type: ignore[attr-defined]
    for k, t in ATTRS.items()
}

# Keys holding an address or DNS name that reaches the resource (equivalence.addresses reads them all).
_ADDRESS_SUFFIXES = ("ip", "ips", "ip_address", "ip_addresses", "dns_name", "fqdn", "hostname", "address", "addresses")
ADDRESS_KEYS: frozenset[str] = frozenset(
    key for keys in _DECLARED.values() for key in keys if key.endswith(_ADDRESS_SUFFIXES)
)


@overload
def attrs_of(r: Resource, kind: Literal[Kind.COMPUTE_INSTANCE]) -> InstanceAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.COMPUTE_GROUP]) -> GroupAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.LB]) -> LbAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.LB_TARGET_GROUP]) -> TargetGroupAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.LB_BACKEND]) -> BackendAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.DNS_ZONE]) -> ZoneAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.DNS_RECORD]) -> RecordAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.DNS_HEALTH_CHECK]) -> HealthCheckAttrs: ...
@overload
def attrs_of(
    r: Resource, kind: Literal[Kind.DB_INSTANCE, Kind.DB_CLUSTER, Kind.DB_TABLE, Kind.CACHE]
) -> DatabaseAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.STORAGE_BUCKET]) -> BucketAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.ROUTING]) -> RoutingAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.REGION]) -> RegionAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.LOCK]) -> LockAttrs: ...
@overload
def attrs_of(r: Resource, kind: Literal[Kind.METRIC]) -> MetricAttrs: ...
@overload
def attrs_of(r: Resource, kind: Kind | None = None) -> CommonAttrs: ...
def attrs_of(r: Resource, kind: Kind | None = None) -> Any:
    """``r.attrs`` as its kind's declared type. A declared key the provider left out reads as ``None``
    (unknown); an undeclared one is a mypy error, and a KeyError should it get past. Asking for the
    wrong kind is a bug in the caller."""
    if kind is not None and r.kind != kind and not {r.kind, kind} <= _DATA_KINDS:
        raise TypeError(f"{r.native_id} is a {r.kind}, not a {kind}")
    return _View(r.attrs, _DECLARED[Kind(r.kind)])


class _View(dict[str, Any]):
    """A copy of a resource's attrs where a declared but absent key reads as None."""

    __slots__ = ("_declared",)

    def __init__(self, attrs: dict[str, Any], declared: frozenset[str]) -> None:
        super().__init__(attrs)
        self._declared = declared

    def __missing__(self, key: str) -> None:
        if key in self._declared:
            return None
        raise KeyError(key)


def declared_keys(kind: Kind | str) -> frozenset[str]:
    return _DECLARED[Kind(kind)]


def describe(kind: Kind) -> list[tuple[str, str, str]]:
    """(key, type, doc) of each declared key."""
    return _rows(ATTRS[kind])


def _type_name(t: Any) -> str:
    text = str(t).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("failover.attrs.", "").replace("__main__.", "")


def render_doc() -> str:
    """docs/attrs.md: every kind's declared attrs. ``python -m failover.attrs > docs/attrs.md``."""
    lines = [
        "# Resource attributes",
        "",
        "Generated from `failover/attrs.py` by `python -m failover.attrs > docs/attrs.md`.",
        "What each normalized resource kind carries in `attrs` (in `failover inventory --format json` and the",
        "store). Keys are the same across providers for the same idea; a key a provider does not fill, or",
        'fills with `null`, means the provider did not say: never "no".',
    ]
    common = set(get_type_hints(CommonAttrs))
    sections: list[tuple[str, type, list[str]]] = [("any kind", CommonAttrs, sorted(common))]
    seen: set[type] = set()
    for t in ATTRS.values():
        if t in seen:
            continue
        seen.add(t)
        names = ", ".join(f"`{k}`" for k, v in ATTRS.items() if v is t)
        sections.append((names, t, [k for k in get_type_hints(t) if k not in common]))
    for title, t, keys in sections:
        doc = " ".join((t.__doc__ or "").split())
        lines += ["", f"## {title}", "", doc, "", "| key | type | meaning |", "|---|---|---|"]
        rows = {key: (type_name.replace("|", "\\|"), text) for key, type_name, text in _rows(t)}
        lines += [f"| `{k}` | `{rows[k][0]}` | {rows[k][1]} |" for k in keys]
    return "\n".join(lines) + "\n"


def _rows(t: type) -> list[tuple[str, str, str]]:
    hints = get_type_hints(t, include_extras=True)
    out = []
    for key, hint in hints.items():
        doc = hint.__metadata__[0] if hasattr(hint, "__metadata__") else ""
        base = hint.__origin__ if hasattr(hint, "__metadata__") else hint
        out.append((key, _type_name(base), doc))
    return out


if __name__ == "__main__":
    print(render_doc(), end="")
