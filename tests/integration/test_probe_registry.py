"""One registration per probe type (``probes.registry``): the engine runs only what is registered there,
and the cycle plans a site's endpoints from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from failover.errors import ProbeError
from failover.probing import endpoint_plan
from probes.registry import PROBERS, endpoint_planner, prober_for
from probes.targets import DnsTarget, HttpTarget, TcpTarget
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]


def test_each_target_type_names_its_probe() -> None:
    assert {t: p.name for t, p in PROBERS.items()} == {HttpTarget: "http", TcpTarget: "tcp", DnsTarget: "dns"}
    assert prober_for(TcpTarget("127.0.0.1", 22)).name == "tcp"


def test_a_target_of_no_registered_type_is_a_probe_error() -> None:
    with pytest.raises(ProbeError, match="no probe for targets of type str"):
        prober_for("https://example.test/")


def test_a_secondary_endpoint_is_planned_directly_and_as_the_public_name() -> None:
    cfg = f.config()
    plan = endpoint_plan(cfg, cfg.workloads)
    assert [(tag.site, tag.label, target.label) for target, tag in plan] == [
        ("gcp-central", "direct", f.SEC_URL),
        ("gcp-central", "as-public-name", f"{f.SEC_URL} as {f.PUBLIC}"),
    ]
    assert all(isinstance(target, HttpTarget) for target, _ in plan)


def test_an_endpoint_kept_off_the_public_name_is_planned_once() -> None:
    cfg = f.config()
    secondary = cfg.workloads[0].secondaries[0]
    secondary.endpoints[0].as_public_name = False
    assert [tag.label for _, tag in endpoint_plan(cfg, cfg.workloads)] == ["direct"]


def test_tcp_is_not_planned_from_endpoints() -> None:
    """TCP is a ``failover probe`` type: no registration plans it from a site's endpoints."""
    assert endpoint_planner("https://a.example.test/") is PROBERS[HttpTarget].plan
    with pytest.raises(ProbeError, match="no probe plans endpoints like"):
        endpoint_planner("tcp://db.example.test:5432")


def test_dns_target_is_limited_per_nameserver_and_labelled_as_probe_dns_reports_it() -> None:
    asked = DnsTarget("www.example.test", "a", server="127.0.0.1:5353")
    assert (asked.host_key, asked.label) == ("127.0.0.1:5353", "www.example.test A @127.0.0.1:5353")
    assert DnsTarget("www.example.test").host_key == "default"  # the system resolver's servers


def test_the_engine_loads_dnspython_only_when_a_dns_probe_runs() -> None:
    code = "import sys, probes.engine; print('dns' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
