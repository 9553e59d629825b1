"""The data-tier emulator routes answer as the real APIs do: every Cloud SQL Admin and Cloud Storage body
holds only fields the v1 discovery documents (bundled with google-api-python-client) define, with enum
values they list; every Monitoring body parses into ``google.cloud.monitoring_v3`` types with unknown
fields refused (and fits the v3 discovery document). Every data route is exercised and is a method of
its API; a new route without a check here fails the suite."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from failover.sandbox.gcp import DATA_ROUTES, FakeGcp, Request
from failover.schema import Account
from providers.gcp import GcpAdapter
from tests.fixtures.discovery import doc, violations

googleapiclient = pytest.importorskip("googleapiclient")
monitoring_v3 = pytest.importorskip("google.cloud.monitoring_v3")
# route -> (discovery document, method path prefix, response schema)
ROUTE_DOCS = {
    "sql_instances": ("sqladmin.v1.json", "", "InstancesListResponse"),
    "buckets": ("storage.v1.json", "/storage/v1/", "Buckets"),
    "time_series": ("monitoring.v3.json", "", "ListTimeSeriesResponse"),
}


@pytest.fixture
def served(gcp_fake: FakeGcp) -> list[Request]:
    fake = gcp_fake
    fake.page_size = 2
    p = "acme"
    fake.add_region(p, "us-central1")
    fake.add_sql_instance(p, "db", region="us-central1", availability="REGIONAL", deletion_protection=True)
    fake.add_sql_instance(p, "db-dr", region="us-east1", master="db", dr_replica=True)
    fake.add_sql_instance(p, "db-r", region="us-central1", master="db", replication_enabled=False)
    fake.add_sql_instance(p, "src", region="us-central1", database_version="MYSQL_8_0", external_host="192.0.2.1:3306")
    fake.add_sql_instance(p, "src-copy", region="us-west1", database_version="MYSQL_8_0", master="src", state="FAILED")
    fake.set_sql_region_unreachable(p, "europe-west1")
    fake.add_replica_lag(p, "db-dr", [1, 2, 3])
    fake.add_replica_lag(p, "src-copy", [90])
    for kind in ("replay_location", "sent_location"):
        fake.add_replica_byte_lag(p, "db", "db-dr", [10, 20], lag_type=kind)
    fake.add_bucket(p, "r", location="US-EAST1", location_type="region", labels={"app": "x"})
    fake.add_bucket(
        p, "d", location="US", location_type="dual-region", rpo="ASYNC_TURBO", data_locations=["US-EAST1", "US-WEST1"]
    )
    fake.add_bucket(p, "n", location="NAM4", location_type="dual-region")
    fake.add_bucket(p, "m", location="EU", location_type="multi-region")
    fake.set_bucket_unreachable(p, "gone")
    account = Account(name="gcp", provider="gcp", project=p, endpoint=fake.url, credentials="anonymous", timeout=5)
    GcpAdapter(base_delay=0.01).inventory(account)
    return [r for r in fake.requests if r.route in ROUTE_DOCS]


def test_every_data_route_is_covered(served: list[Request]) -> None:
    ok = {r.route for r in served if r.status == 200}
    assert ok == {name for _v, _p, name, _c in DATA_ROUTES} == set(ROUTE_DOCS)
    assert any(r.query.get("pageToken") for r in served if r.route == "sql_instances")
    assert any(r.query.get("pageToken") for r in served if r.route == "buckets")


def test_sqladmin_and_storage_bodies_hold_only_discovery_fields_and_enum_values(served: list[Request]) -> None:
    checked = 0
    for req in served:
        document, _prefix, response = ROUTE_DOCS[req.route]
        schemas = doc(document)["schemas"]
        assert req.status == 200, req.response
        assert violations(schemas, schemas[response], req.response, f"{req.method} {req.path}") == []
        checked += 1
    assert checked >= 6


def test_storage_location_types_and_rpo_are_the_sdks(served: list[Request]) -> None:
    from google.cloud.storage import constants

    location_types = {
        constants.REGION_LOCATION_TYPE,
        constants.DUAL_REGION_LOCATION_TYPE,
        constants.MULTI_REGION_LOCATION_TYPE,
    }
    buckets = [b for r in served if r.route == "buckets" for b in r.response.get("items", [])]
    assert {b["locationType"] for b in buckets} == location_types
    assert {b.get("rpo") for b in buckets} == {None, constants.RPO_DEFAULT, constants.RPO_ASYNC_TURBO}


def test_monitoring_bodies_parse_into_the_sdk_types_with_no_unknown_field(served: list[Request]) -> None:
    from google.api import metric_pb2

    metric_kind = metric_pb2.MetricDescriptor.MetricKind
    bodies = [r.response for r in served if r.route == "time_series"]
    assert len(bodies) == 2
    for body in bodies:
        parsed = monitoring_v3.ListTimeSeriesResponse.from_json(json.dumps(body), ignore_unknown_fields=False)
        for series in parsed.time_series:
            assert series.metric_kind == metric_kind.GAUGE  # Cloud SQL's lag metrics are gauges
            assert series.resource.type == "cloudsql_database"
            assert series.points


def test_every_data_route_is_a_method_of_its_api(served: list[Request]) -> None:
    for req in served:
        document, prefix, _response = ROUTE_DOCS[req.route]
        d = doc(document)

        def methods(resources: dict[str, Any]) -> list[dict[str, Any]]:
            out = []
            for r in resources.values():
                out += list(r.get("methods", {}).values()) + methods(r.get("resources", {}))
            return out

        patterns = [
            (
                m["httpMethod"],
                re.compile(
                    "^/"
                    + prefix.strip("/")
                    + ("/" if prefix else "")
                    + re.sub(r"\{\+?[^}]+\}", "[^/]+(?:/[^/]+)?", m["path"])
                    + "$"
                ),
            )
            for m in methods(d["resources"])
        ]
        assert any(v == req.method and p.match(req.path) for v, p in patterns), f"{req.method} {req.path}"


def test_the_validators_catch_unknown_fields_and_enum_values() -> None:
    schemas = doc("sqladmin.v1.json")["schemas"]
    bad = {"items": [{"name": "x", "state": "MELTING", "replicaLag": 3}]}
    assert violations(schemas, schemas["InstancesListResponse"], bad, "r") == [
        "r.items[0].state = 'MELTING' (not in the enum)",
        "r.items[0].replicaLag (unknown field)",
    ]
    from google.protobuf.json_format import ParseError

    with pytest.raises(ParseError):
        monitoring_v3.ListTimeSeriesResponse.from_json(
            json.dumps({"timeSeries": [{"lagSeconds": 1}]}), ignore_unknown_fields=False
        )


def test_a_filter_without_one_metric_type_is_refused_as_the_api_does(gcp_fake: FakeGcp) -> None:
    import urllib.error
    import urllib.request

    gcp_fake.add_region("acme", "us-central1")
    url = gcp_fake.url + "/v3/projects/acme/timeSeries?filter=resource.type%3D%22cloudsql_database%22"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "&interval.endTime=2026-01-01T00:00:00Z", timeout=5)
    assert err.value.code == 400
