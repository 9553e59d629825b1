"""What the real AWS services report and moto 5.2 does not, served in front of moto.

- Auto Scaling: a group's ``DeletionProtection`` (``none`` by default, as documented) and
  ``DesiredCapacityType`` as set on create/update (moto drops both); each member's
  ``WeightedCapacity`` (the weight of its instance type in the group's mixed instances policy);
  warm-pool members in ``DescribeWarmPool`` (moto lists none) and ``WarmPoolSize``.
- RDS: a global database secondary's ``SynchronizationStatus``; a read replica's ``StatusInfos``
  (``read replication``: replicating and normal unless the test says otherwise, as RDS reports for a
  healthy replica); cross-region automated backup
  replication (``StartDBInstanceAutomatedBackupsReplication`` / ``Stop…`` in the destination region,
  the replicated backups in that region's ``DescribeDBInstanceAutomatedBackups``, the source's
  ``DBInstanceAutomatedBackupsReplications``).
- S3: a replication configuration as it was put (moto rewrites every rule's filter to "all objects").
- DynamoDB: global table replicas (version 2019.11.21). ``UpdateTable`` with ``ReplicaUpdates``
  (Create/Delete) creates or deletes the replica table in its region (moto ignores the updates) and
  ``DescribeTable`` reports the table's other replicas as ``Replicas`` with ``GlobalTableVersion``; a
  new replica is ``CREATING`` until the sandbox makes it ``ACTIVE`` (as DynamoDB does once it is built).
  Legacy global tables (version 2017.11.29, moto has none): ``CreateGlobalTable`` over same-named tables
  with streams (new and old images) in each region, ``ListGlobalTables`` (by ``RegionName``, paged by
  ``ExclusiveStartGlobalTableName``) and ``DescribeGlobalTable``; a new one is ``CREATING`` until the
  sandbox makes it ``ACTIVE``.
- ElastiCache: global datastores (moto has none): ``CreateGlobalReplicationGroup`` around an existing
  primary, secondaries joined by ``CreateReplicationGroup`` with ``GlobalReplicationGroupId`` (moto keeps
  the id on the secondary only), ``DescribeGlobalReplicationGroups`` (``ShowMemberInfo``), and the
  primary's ``GlobalReplicationGroupInfo`` in ``DescribeReplicationGroups``.

State changes that the real service makes on its own (a replica's replication breaking, a replicated
backup's restore window advancing, Auto Scaling launching warm-pool instances) are set through the
sandbox's methods; everything else enters through the real API calls. Answers are edited or written
with botocore's shapes (``_aws_wire_xml``).
"""

from __future__ import annotations

import json
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from failover.sandbox import _aws_wire_xml as wire
from failover.sandbox._aws_wire import WireRequest

Reply = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body
MotoCall = Callable[[str, str, dict[str, str]], tuple[int, bytes]]  # (service, region, params) -> (status, body)
# (target prefix, operation, region, JSON body) -> (status, body): a JSON-protocol call to moto
MotoJsonCall = Callable[[str, str, str, dict[str, Any]], tuple[int, bytes]]
GLOBAL_TABLE_VERSION = "2019.11.21"
LEGACY_LIST_LIMIT = 100  # ListGlobalTables' default (and largest) page
# ElastiCache prefixes a global datastore's id with a code of the region it is created in.
DATASTORE_PREFIX = {"us-east-1": "ldgnf", "us-west-1": "dsdfu"}


@dataclass(frozen=True)
class Exchange:
    """One request the sandbox may answer: what it asks, and how to ask moto (here or in another region)."""

    req: WireRequest
    params: dict[str, str]  # query-protocol parameters (query string and form body)
    body: bytes
    call: Callable[[], Reply]  # moto's own answer to this request
    moto: MotoCall
    moto_json: MotoJsonCall | None = None


@dataclass
class BackupReplication:
    """One source DB instance's automated backups replicated to ``region``."""

    region: str
    source: dict[str, Any]  # the source's DBInstanceArn, DbiResourceId, Region, identifier, engine, …
    arn: str
    retention_days: int
    created: datetime
    status: str = "pending"  # pending → replicating; retained once replication is stopped
    latest: datetime | None = None  # RestoreWindow.LatestTime


@dataclass
class Extras:
    """The state moto lacks, keyed by (region, name); every method is thread-safe."""

    groups: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    warm: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    replication: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    backups: list[BackupReplication] = field(default_factory=list)
    bucket_replication: dict[str, bytes] = field(default_factory=dict)  # bucket -> ReplicationConfiguration XML
    # DynamoDB global tables: (region, table) -> the group it belongs to, {region: ReplicaDescription}
    table_replicas: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    datastores: dict[str, dict[str, Any]] = field(default_factory=dict)  # global datastore id -> GlobalReplicationGroup
    legacy_tables: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # name -> GlobalTableDescription (2017.11.29)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.groups.clear()
            self.warm.clear()
            self.replication.clear()
            self.backups.clear()
            self.bucket_replication.clear()
            self.table_replicas.clear()
            self.datastores.clear()
            self.legacy_tables.clear()

    # ---- what the service does on its own, set by tests and the demo
    def set_replication_status(self, region: str, instance: str, status: str, normal: bool, message: str) -> None:
        with self._lock:
            self.replication[(region, instance)] = {
                "StatusType": "read replication",
                "Normal": normal,
                "Status": status,
                "Message": message,
            }

    def add_warm_instances(self, region: str, group: str, instances: list[dict[str, Any]]) -> None:
        """Members of ``group``'s warm pool, as ``Instance`` shapes (InstanceId, LifecycleState, …)."""
        with self._lock:
            self.warm.setdefault((region, group), []).extend(instances)

    def advance_backup_replication(self, region: str, source_arn: str, latest: datetime) -> None:
        """The replicated backups of ``source_arn`` in ``region`` are restorable up to ``latest``."""
        with self._lock:
            for b in self.backups:
                if b.region == region and b.source["DBInstanceArn"] == source_arn:
                    b.latest = latest
                    if b.status == "pending":
                        b.status = "replicating"
                    return
        raise KeyError(f"no backup replication of {source_arn} to {region}")

    def set_table_replica_status(self, region: str, table: str, replica: str, status: str, description: str) -> None:
        """What DynamoDB reports for the replica of ``table`` (seen from ``region``) in ``replica``."""
        with self._lock:
            group = self.table_replicas.get((region, table))
            if group is None or replica not in group:
                raise KeyError(f"no replica of {table} in {replica}")
            group[replica]["ReplicaStatus"] = status
            group[replica].pop("ReplicaStatusDescription", None)
            if description:
                group[replica]["ReplicaStatusDescription"] = description

    def set_global_table_status(self, name: str, status: str) -> None:
        """A legacy global table's ``GlobalTableStatus`` (CREATING, ACTIVE, UPDATING, DELETING)."""
        with self._lock:
            table = self.legacy_tables.get(name)
            if table is None:
                raise KeyError(f"no global table {name}")
            table["GlobalTableStatus"] = wire.check_json("dynamodb", "GlobalTableStatus", status)

    def set_datastore_member_status(self, datastore: str, region: str, status: str) -> None:
        """A global datastore member's membership ``Status`` (associating, associated, disassociating…)."""
        with self._lock:
            members = self.datastores[datastore]["Members"]
            found = [m for m in members if m["ReplicationGroupRegion"] == region]
            if not found:
                raise KeyError(f"{datastore} has no member in {region}")
            for m in found:
                m["Status"] = status

    # ---- the wire
    def handles(self, req: WireRequest) -> bool:
        return (req.service, req.operation) in _HANDLERS

    def answer(self, ex: Exchange) -> Reply:
        handler = _HANDLERS.get((ex.req.service, ex.req.operation))
        return ex.call() if handler is None else handler(self, ex)


def _ok(reply: Reply) -> bool:
    return reply[0].startswith("200")


def _with_body(reply: Reply, body: bytes) -> Reply:
    headers = [(k, v) for k, v in reply[1] if k.lower() != "content-length"]
    return reply[0], [*headers, ("Content-Length", str(len(body)))], body


def _xml_reply(status: str, body: bytes) -> Reply:
    return status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


# ---- Auto Scaling ---------------------------------------------------------------------------------


def _record_group(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if _ok(reply):
        key = (ex.req.region, ex.params.get("AutoScalingGroupName", ""))
        with x._lock:
            settings = x.groups.setdefault(key, {"DeletionProtection": "none"})
            for name in ("DeletionProtection", "DesiredCapacityType"):
                if name in ex.params:
                    settings[name] = ex.params[name]
    return reply


def _forget_group(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if _ok(reply):
        key = (ex.req.region, ex.params.get("AutoScalingGroupName", ""))
        with x._lock:
            x.groups.pop(key, None)
            x.warm.pop(key, None)
    return reply


def _forget_warm_pool(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if _ok(reply):
        with x._lock:
            x.warm.pop((ex.req.region, ex.params.get("AutoScalingGroupName", "")), None)
    return reply


def _describe_groups(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("autoscaling", reply[2])
    for g in wire.children("autoscaling", root, "DescribeAutoScalingGroupsResult", "AutoScalingGroups", "member"):
        name = wire.child_text("autoscaling", g, "AutoScalingGroupName") or ""
        with x._lock:
            settings = dict(x.groups.get((ex.req.region, name), {"DeletionProtection": "none"}))
            warm = list(x.warm.get((ex.req.region, name), []))
        for key, value in settings.items():
            wire.set_member("autoscaling", g, "AutoScalingGroup", key, value)
        if wire.children("autoscaling", g, "WarmPoolConfiguration"):
            wire.set_member("autoscaling", g, "AutoScalingGroup", "WarmPoolSize", len(warm))
        weights = {
            wire.child_text("autoscaling", o, "InstanceType"): wire.child_text("autoscaling", o, "WeightedCapacity")
            for o in wire.children("autoscaling", g, "MixedInstancesPolicy", "LaunchTemplate", "Overrides", "member")
        }
        for m in wire.children("autoscaling", g, "Instances", "member"):
            weight = weights.get(wire.child_text("autoscaling", m, "InstanceType"))
            if weight:
                wire.set_member("autoscaling", m, "Instance", "WeightedCapacity", weight)
    return _with_body(reply, wire.dump("autoscaling", root))


def _describe_warm_pool(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("autoscaling", reply[2])
    with x._lock:
        warm = list(x.warm.get((ex.req.region, ex.params.get("AutoScalingGroupName", "")), []))
    for result in wire.children("autoscaling", root, "DescribeWarmPoolResult"):
        wire.set_member("autoscaling", result, "DescribeWarmPoolAnswer", "Instances", warm)
    return _with_body(reply, wire.dump("autoscaling", root))


# ---- RDS ------------------------------------------------------------------------------------------


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _describe_db_instances(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("rds", reply[2])
    for d in wire.children("rds", root, "DescribeDBInstancesResult", "DBInstances", "DBInstance"):
        name = wire.child_text("rds", d, "DBInstanceIdentifier") or ""
        arn = wire.child_text("rds", d, "DBInstanceArn") or ""
        with x._lock:
            status = x.replication.get((ex.req.region, name))
            copies = [b.arn for b in x.backups if b.source["DBInstanceArn"] == arn and b.status != "retained"]
        if status is None and wire.child_text("rds", d, "ReadReplicaSourceDBInstanceIdentifier"):
            status = {"StatusType": "read replication", "Normal": True, "Status": "replicating"}
        if status is not None:
            wire.set_member("rds", d, "DBInstance", "StatusInfos", [status])
        if copies:
            wire.set_member(
                "rds",
                d,
                "DBInstance",
                "DBInstanceAutomatedBackupsReplications",
                [{"DBInstanceAutomatedBackupsArn": a} for a in copies],
            )
    return _with_body(reply, wire.dump("rds", root))


def _backup_shape(b: BackupReplication) -> dict[str, Any]:
    window = {} if b.latest is None else {"EarliestTime": min(b.created, b.latest), "LatestTime": b.latest}
    return {
        **b.source,
        "RestoreWindow": window,
        "Status": b.status,
        "BackupRetentionPeriod": b.retention_days,
        "DBInstanceAutomatedBackupsArn": b.arn,
    }


def _start_backup_replication(x: Extras, ex: Exchange) -> Reply:
    """Called in the destination region with the source's ARN, as the real API is."""
    source_arn = ex.params.get("SourceDBInstanceArn", "")
    source_region = _region_of(source_arn)
    status, body = ex.moto("rds", source_region, {"Action": "DescribeDBInstances", "DBInstanceIdentifier": source_arn})
    found = wire.children("rds", wire.parse("rds", body), "DescribeDBInstancesResult", "DBInstances", "DBInstance")
    if status != 200 or not found or source_region == ex.req.region:
        return _xml_reply(
            "404 Not Found", wire.error("rds", "DBInstanceNotFound", f"DBInstance {source_arn} not found.")
        )
    d = found[0]

    def text(name: str) -> str | None:
        return wire.child_text("rds", d, name)

    source = {
        "DBInstanceArn": source_arn,
        "DbiResourceId": text("DbiResourceId"),
        "Region": source_region,
        "DBInstanceIdentifier": text("DBInstanceIdentifier"),
        "AllocatedStorage": int(text("AllocatedStorage") or 0),
        "Port": int(wire.child_text("rds", d, "Endpoint", "Port") or 0) or None,
        "InstanceCreateTime": text("InstanceCreateTime"),
        "MasterUsername": text("MasterUsername"),
        "Engine": text("Engine"),
        "EngineVersion": text("EngineVersion"),
        "Encrypted": (text("StorageEncrypted") or "false") == "true",
        "StorageType": text("StorageType"),
    }
    account = source_arn.split(":")[4]
    backup = BackupReplication(
        region=ex.req.region,
        source=source,
        arn=f"arn:aws:rds:{ex.req.region}:{account}:auto-backup:ab-{uuid.uuid4().hex[:26]}",
        retention_days=int(ex.params.get("BackupRetentionPeriod") or 7),
        created=datetime.now(UTC),
    )
    with x._lock:
        same = [b for b in x.backups if b.region == ex.req.region and b.source["DBInstanceArn"] == source_arn]
        x.backups = [b for b in x.backups if b not in same]
        x.backups.append(backup)
    answer = wire.response("rds", ex.req.operation, {"DBInstanceAutomatedBackup": _backup_shape(backup)})
    return _xml_reply("200 OK", answer)


def _stop_backup_replication(x: Extras, ex: Exchange) -> Reply:
    source_arn = ex.params.get("SourceDBInstanceArn", "")
    with x._lock:
        found = [b for b in x.backups if b.region == ex.req.region and b.source["DBInstanceArn"] == source_arn]
        for b in found:
            b.status = "retained"
    if not found:
        return _xml_reply(
            "404 Not Found", wire.error("rds", "DBInstanceNotFound", f"DBInstance {source_arn} not found.")
        )
    answer = wire.response("rds", ex.req.operation, {"DBInstanceAutomatedBackup": _backup_shape(found[0])})
    return _xml_reply("200 OK", answer)


def _describe_automated_backups(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("rds", reply[2])
    wanted = ex.params.get("DBInstanceIdentifier")
    with x._lock:
        mine = [
            _backup_shape(b)
            for b in x.backups
            if b.region == ex.req.region
            and (wanted is None or wanted in (b.source["DBInstanceIdentifier"], b.source["DBInstanceArn"]))
        ]
    shape = wire.model("rds").shape_for("DBInstanceAutomatedBackup")
    for result in wire.children("rds", root, "DescribeDBInstanceAutomatedBackupsResult"):
        lists = wire.children("rds", result, "DBInstanceAutomatedBackups")
        if not lists:
            wire.set_member("rds", result, "DBInstanceAutomatedBackupMessage", "DBInstanceAutomatedBackups", [])
            lists = wire.children("rds", result, "DBInstanceAutomatedBackups")
        for item in mine:
            lists[0].append(wire.element("rds", shape, item, "DBInstanceAutomatedBackup"))
    return _with_body(reply, wire.dump("rds", root))


def _describe_global_clusters(x: Extras, ex: Exchange) -> Reply:
    """Secondary members report their ``SynchronizationStatus`` (``connected`` while in sync)."""
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("rds", reply[2])
    path = ("DescribeGlobalClustersResult", "GlobalClusters", "GlobalClusterMember")
    for cluster in wire.children("rds", root, *path):
        for member in wire.children("rds", cluster, "GlobalClusterMembers", "GlobalClusterMember"):
            if wire.child_text("rds", member, "IsWriter") == "false":
                wire.set_member("rds", member, "GlobalClusterMember", "SynchronizationStatus", "connected")
    return _with_body(reply, wire.dump("rds", root))


# ---- S3 -------------------------------------------------------------------------------------------


def _bucket(ex: Exchange) -> str:
    return ex.req.path.strip("/").split("/", 1)[0]


def _put_bucket_replication(x: Extras, ex: Exchange) -> Reply:
    """moto keeps a rule's destination but rewrites its ``Filter`` to ``{Prefix: ""}`` and drops a V1
    rule's ``Prefix``; S3 returns the configuration as it was put, so keep the document."""
    reply = ex.call()
    if _ok(reply):
        with x._lock:
            x.bucket_replication[_bucket(ex)] = ex.body
    return reply


def _get_bucket_replication(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    with x._lock:
        stored = x.bucket_replication.get(_bucket(ex))
    return reply if stored is None or not _ok(reply) else _with_body(reply, stored)


def _forget_bucket_replication(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if reply[0][:1] == "2":
        with x._lock:
            x.bucket_replication.pop(_bucket(ex), None)
    return reply


# ---- DynamoDB -------------------------------------------------------------------------------------


def _json(ex: Exchange) -> dict[str, Any]:
    return dict(json.loads(ex.body or b"{}"))


def _json_reply(reply: Reply, value: dict[str, Any]) -> Reply:
    """A JSON answer with its ``x-amz-crc32`` recomputed: DynamoDB clients check it and retry on a mismatch."""
    body = json.dumps(value, default=str).encode()
    status, headers, _ = _with_body(reply, body)
    headers = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
    return status, [*headers, ("x-amz-crc32", str(zlib.crc32(body)))], body


def _json_error(code: str, message: str) -> Reply:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120818#{code}", "message": message}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))], body


def _replicas_seen_from(x: Extras, region: str, table: str) -> list[dict[str, Any]] | None:
    with x._lock:
        group = x.table_replicas.get((region, table))
        if group is None:
            return None
        return [dict(d) for r, d in sorted(group.items()) if r != region]


def _with_replicas(x: Extras, region: str, description: dict[str, Any]) -> dict[str, Any]:
    replicas = _replicas_seen_from(x, region, str(description.get("TableName")))
    if replicas is None:
        return description
    extra = {"GlobalTableVersion": GLOBAL_TABLE_VERSION, "Replicas": replicas}
    return {**description, **wire.check_json("dynamodb", "TableDescription", extra)}


def _describe_table(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    answer = json.loads(reply[2])
    answer["Table"] = _with_replicas(x, ex.req.region, answer["Table"])
    return _json_reply(reply, answer)


def _replica_description(region: str, arn: str, status: str) -> dict[str, Any]:
    parts = arn.split(":")
    replica_arn = ":".join([*parts[:3], region, *parts[4:]])
    shape = {"RegionName": region, "ReplicaStatus": status, "ReplicaArn": replica_arn}
    return dict(wire.check_json("dynamodb", "ReplicaDescription", shape))


def _update_table(x: Extras, ex: Exchange) -> Reply:
    """``ReplicaUpdates``: Create builds the same table in the replica's region (CREATING), Delete drops
    it; the other updates go to moto as asked."""
    body = _json(ex)
    updates = body.get("ReplicaUpdates") or []
    if not updates:
        reply = ex.call()
        if not _ok(reply):
            return reply
        answer = json.loads(reply[2])
        answer["TableDescription"] = _with_replicas(x, ex.req.region, answer["TableDescription"])
        return _json_reply(reply, answer)
    assert ex.moto_json is not None
    region, name = ex.req.region, str(body.get("TableName"))
    status, raw = ex.moto_json("DynamoDB_20120810", "DescribeTable", region, {"TableName": name})
    if status != 200:
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], raw
    table = json.loads(raw)["Table"]
    with x._lock:
        group = x.table_replicas.get((region, name))
        members = set(group) if group else {region}
    for update in updates:
        create, delete = update.get("Create"), update.get("Delete")
        target = (create or delete or {}).get("RegionName", "")
        if create and target in members:
            return _json_error("ValidationException", f"Replica already exists in region {target}")
        if delete and (target not in members or target == region):
            return _json_error("ValidationException", f"Replica does not exist in region {target}")
        if create:
            spec = {
                "TableName": name,
                "KeySchema": table["KeySchema"],
                "AttributeDefinitions": table["AttributeDefinitions"],
                "BillingMode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
            }
            if spec["BillingMode"] == "PROVISIONED":
                t = table.get("ProvisionedThroughput") or {}
                spec["ProvisionedThroughput"] = {
                    "ReadCapacityUnits": t.get("ReadCapacityUnits") or 1,
                    "WriteCapacityUnits": t.get("WriteCapacityUnits") or 1,
                }
            code, out = ex.moto_json("DynamoDB_20120810", "CreateTable", target, spec)
            if code != 200:
                return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], out
            members.add(target)
        else:
            ex.moto_json("DynamoDB_20120810", "DeleteTable", target, {"TableName": name})
            members.discard(target)
    with x._lock:
        old = x.table_replicas.get((region, name)) or {}
        group = {
            r: old.get(r) or _replica_description(r, table["TableArn"], "ACTIVE" if r == region else "CREATING")
            for r in sorted(members)
        }
        for r in old:
            x.table_replicas.pop((r, name), None)
        if len(group) > 1:
            for r in group:
                x.table_replicas[(r, name)] = group
    rest = {k: v for k, v in body.items() if k not in ("ReplicaUpdates", "TableName")}
    if rest:
        code, out = ex.moto_json("DynamoDB_20120810", "UpdateTable", region, {"TableName": name, **rest})
        if code != 200:
            return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], out
        table = json.loads(out)["TableDescription"]
    ok: Reply = ("200 OK", [("Content-Type", "application/x-amz-json-1.0")], b"")
    return _json_reply(ok, {"TableDescription": {**_with_replicas(x, region, table), "TableStatus": "UPDATING"}})


def _delete_table(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if _ok(reply):
        name = str(_json(ex).get("TableName"))
        with x._lock:
            group = x.table_replicas.pop((ex.req.region, name), None)
            if group is not None:
                group.pop(ex.req.region, None)
                if len(group) < 2:
                    for r in group:
                        x.table_replicas.pop((r, name), None)
    return reply


def _create_global_table(x: Extras, ex: Exchange) -> Reply:
    """A legacy (2017.11.29) global table over the same-named, empty tables with streams (new and old
    images) already created in each region of ``ReplicationGroup``, as DynamoDB requires."""
    assert ex.moto_json is not None
    body = _json(ex)
    name = str(body.get("GlobalTableName"))
    regions = [str(r.get("RegionName")) for r in body.get("ReplicationGroup") or []]
    with x._lock:
        if name in x.legacy_tables:
            return _json_error("GlobalTableAlreadyExistsException", f"Global table {name} already exists")
    arn = ""
    for region in regions:
        status, raw = ex.moto_json("DynamoDB_20120810", "DescribeTable", region, {"TableName": name})
        if status != 200:
            return _json_error("TableNotFoundException", f"Table {name} not found in region {region}")
        table = json.loads(raw)["Table"]
        stream = table.get("StreamSpecification") or {}
        if not stream.get("StreamEnabled") or stream.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            return _json_error(
                "ValidationException",
                f"Table {name} in region {region} needs a stream with StreamViewType NEW_AND_OLD_IMAGES",
            )
        arn = arn or str(table["TableArn"])
    parts = arn.split(":")
    description = {
        "GlobalTableName": name,
        "GlobalTableArn": f"arn:aws:dynamodb::{parts[4] if len(parts) > 4 else ''}:global-table/{name}",
        "CreationDateTime": datetime.now(UTC).timestamp(),
        "GlobalTableStatus": "CREATING",
        "ReplicationGroup": [{"RegionName": r} for r in regions],
    }
    wire.check_json("dynamodb", "GlobalTableDescription", description)
    with x._lock:
        x.legacy_tables[name] = description
    ok: Reply = ("200 OK", [("Content-Type", "application/x-amz-json-1.0")], b"")
    return _json_reply(ok, {"GlobalTableDescription": description})


def _list_global_tables(x: Extras, ex: Exchange) -> Reply:
    body = _json(ex)
    region, start = body.get("RegionName"), body.get("ExclusiveStartGlobalTableName")
    limit = min(int(body.get("Limit") or LEGACY_LIST_LIMIT), LEGACY_LIST_LIMIT)
    with x._lock:
        found = [
            {"GlobalTableName": n, "ReplicationGroup": [{"RegionName": r["RegionName"]} for r in t["ReplicationGroup"]]}
            for n, t in sorted(x.legacy_tables.items())
            if (start is None or n > start)
            and (region is None or any(r["RegionName"] == region for r in t["ReplicationGroup"]))
        ]
    answer: dict[str, Any] = {"GlobalTables": found[:limit]}
    if len(found) > limit:
        answer["LastEvaluatedGlobalTableName"] = found[limit - 1]["GlobalTableName"]
    ok: Reply = ("200 OK", [("Content-Type", "application/x-amz-json-1.0")], b"")
    return _json_reply(ok, wire.check_json("dynamodb", "ListGlobalTablesOutput", answer))


def _describe_global_table(x: Extras, ex: Exchange) -> Reply:
    name = str(_json(ex).get("GlobalTableName"))
    with x._lock:
        table = x.legacy_tables.get(name)
        answer = {"GlobalTableDescription": json.loads(json.dumps(table))} if table is not None else None
    if answer is None:
        return _json_error("GlobalTableNotFoundException", f"Global table not found: {name}")
    ok: Reply = ("200 OK", [("Content-Type", "application/x-amz-json-1.0")], b"")
    return _json_reply(ok, wire.check_json("dynamodb", "DescribeGlobalTableOutput", answer))


# ---- ElastiCache ----------------------------------------------------------------------------------


def _cache_error(status: str, code: str, message: str) -> Reply:
    return _xml_reply(status, wire.error("elasticache", code, message))


def _moto_group(ex: Exchange, region: str, group: str) -> ET.Element | None:
    status, body = ex.moto("elasticache", region, {"Action": "DescribeReplicationGroups", "ReplicationGroupId": group})
    if status != 200:
        return None
    found = wire.children(
        "elasticache",
        wire.parse("elasticache", body),
        "DescribeReplicationGroupsResult",
        "ReplicationGroups",
        "ReplicationGroup",
    )
    return found[0] if found else None


def _create_global_group(x: Extras, ex: Exchange) -> Reply:
    primary = ex.params.get("PrimaryReplicationGroupId", "")
    suffix = ex.params.get("GlobalReplicationGroupIdSuffix", "")
    g = _moto_group(ex, ex.req.region, primary)
    if g is None:
        return _cache_error("404 Not Found", "ReplicationGroupNotFoundFault", f"Replication group {primary} not found.")
    region = ex.req.region
    prefix = DATASTORE_PREFIX.get(region) or "".join(c for c in region if c.isalpha())[:5]
    gid = f"{prefix}-{suffix}"
    account = (wire.child_text("elasticache", g, "ARN") or "").split(":")[4]

    def text(name: str) -> str | None:
        return wire.child_text("elasticache", g, name)

    datastore = {
        "GlobalReplicationGroupId": gid,
        "GlobalReplicationGroupDescription": ex.params.get("GlobalReplicationGroupDescription", ""),
        "Status": "primary-only",
        "CacheNodeType": text("CacheNodeType"),
        "Engine": text("Engine") or "redis",
        "EngineVersion": "7.1",
        "Members": [
            {
                "ReplicationGroupId": primary,
                "ReplicationGroupRegion": region,
                "Role": "PRIMARY",
                "AutomaticFailover": text("AutomaticFailover") or "disabled",
                "Status": "associated",
            }
        ],
        "ClusterEnabled": (text("ClusterEnabled") or "false") == "true",
        "AuthTokenEnabled": False,
        "TransitEncryptionEnabled": (text("TransitEncryptionEnabled") or "false") == "true",
        "AtRestEncryptionEnabled": (text("AtRestEncryptionEnabled") or "false") == "true",
        "ARN": f"arn:aws:elasticache::{account}:globalreplicationgroup:{gid}",
    }
    with x._lock:
        if gid in x.datastores:
            return _cache_error("400 Bad Request", "GlobalReplicationGroupAlreadyExistsFault", f"{gid} already exists.")
        x.datastores[gid] = datastore
    answer = wire.response("elasticache", ex.req.operation, {"GlobalReplicationGroup": datastore})
    return _xml_reply("200 OK", answer)


def _create_replication_group(x: Extras, ex: Exchange) -> Reply:
    gid = ex.params.get("GlobalReplicationGroupId")
    if gid:
        with x._lock:
            known = gid in x.datastores
        if not known:
            return _cache_error("404 Not Found", "GlobalReplicationGroupNotFoundFault", f"{gid} not found.")
    reply = ex.call()
    if gid and _ok(reply):
        with x._lock:
            ds = x.datastores[gid]
            ds["Members"].append(
                {
                    "ReplicationGroupId": ex.params.get("ReplicationGroupId", ""),
                    "ReplicationGroupRegion": ex.req.region,
                    "Role": "SECONDARY",
                    "AutomaticFailover": "disabled",
                    "Status": "associating",
                }
            )
            ds["Status"] = "available"
    return reply


def _delete_replication_group(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if _ok(reply):
        group = ex.params.get("ReplicationGroupId", "")
        with x._lock:
            for ds in x.datastores.values():
                ds["Members"] = [
                    m
                    for m in ds["Members"]
                    if (m["ReplicationGroupId"], m["ReplicationGroupRegion"]) != (group, ex.req.region)
                ]
    return reply


def _member_of(x: Extras, region: str, group: str) -> tuple[str, str] | None:
    with x._lock:
        for gid, ds in x.datastores.items():
            for m in ds["Members"]:
                if (m["ReplicationGroupId"], m["ReplicationGroupRegion"]) == (group, region):
                    return gid, m["Role"]
    return None


def _describe_replication_groups(x: Extras, ex: Exchange) -> Reply:
    reply = ex.call()
    if not _ok(reply):
        return reply
    root = wire.parse("elasticache", reply[2])
    path = ("DescribeReplicationGroupsResult", "ReplicationGroups", "ReplicationGroup")
    for g in wire.children("elasticache", root, *path):
        found = _member_of(x, ex.req.region, wire.child_text("elasticache", g, "ReplicationGroupId") or "")
        if found is not None:
            info = {"GlobalReplicationGroupId": found[0], "GlobalReplicationGroupMemberRole": found[1]}
            wire.set_member("elasticache", g, "ReplicationGroup", "GlobalReplicationGroupInfo", info)
    return _with_body(reply, wire.dump("elasticache", root))


def _describe_global_groups(x: Extras, ex: Exchange) -> Reply:
    """The global datastores this region takes part in (every member's region sees them)."""
    wanted = ex.params.get("GlobalReplicationGroupId")
    members = ex.params.get("ShowMemberInfo", "false").lower() == "true"
    with x._lock:
        found = [
            {k: v for k, v in ds.items() if members or k != "Members"}
            for gid, ds in sorted(x.datastores.items())
            if (wanted is None or wanted == gid)
            and any(m["ReplicationGroupRegion"] == ex.req.region for m in ds["Members"])
        ]
        found = [json.loads(json.dumps(d)) for d in found]  # a copy, not the live state
    if wanted and not found:
        return _cache_error("404 Not Found", "GlobalReplicationGroupNotFoundFault", f"{wanted} not found.")
    answer = wire.response("elasticache", ex.req.operation, {"GlobalReplicationGroups": found})
    return _xml_reply("200 OK", answer)


_HANDLERS: dict[tuple[str, str], Callable[[Extras, Exchange], Reply]] = {
    ("autoscaling", "CreateAutoScalingGroup"): _record_group,
    ("autoscaling", "UpdateAutoScalingGroup"): _record_group,
    ("autoscaling", "DeleteAutoScalingGroup"): _forget_group,
    ("autoscaling", "DeleteWarmPool"): _forget_warm_pool,
    ("autoscaling", "DescribeAutoScalingGroups"): _describe_groups,
    ("autoscaling", "DescribeWarmPool"): _describe_warm_pool,
    ("rds", "DescribeDBInstances"): _describe_db_instances,
    ("rds", "StartDBInstanceAutomatedBackupsReplication"): _start_backup_replication,
    ("rds", "StopDBInstanceAutomatedBackupsReplication"): _stop_backup_replication,
    ("rds", "DescribeDBInstanceAutomatedBackups"): _describe_automated_backups,
    ("rds", "DescribeGlobalClusters"): _describe_global_clusters,
    ("s3", "PutBucketReplication"): _put_bucket_replication,
    ("s3", "GetBucketReplication"): _get_bucket_replication,
    ("s3", "DeleteBucketReplication"): _forget_bucket_replication,
    ("s3", "DeleteBucket"): _forget_bucket_replication,
    ("dynamodb", "DescribeTable"): _describe_table,
    ("dynamodb", "UpdateTable"): _update_table,
    ("dynamodb", "DeleteTable"): _delete_table,
    ("dynamodb", "CreateGlobalTable"): _create_global_table,
    ("dynamodb", "ListGlobalTables"): _list_global_tables,
    ("dynamodb", "DescribeGlobalTable"): _describe_global_table,
    ("elasticache", "CreateGlobalReplicationGroup"): _create_global_group,
    ("elasticache", "CreateReplicationGroup"): _create_replication_group,
    ("elasticache", "DeleteReplicationGroup"): _delete_replication_group,
    ("elasticache", "DescribeReplicationGroups"): _describe_replication_groups,
    ("elasticache", "DescribeGlobalReplicationGroups"): _describe_global_groups,
}
