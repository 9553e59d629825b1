"""A CNAME loop at the authoritative servers is a public name that does not resolve: the DNS checks
fail with the chain in the reason and the workload is not READY (it used to pass both and score READY)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable

import dns.message
import dns.rrset
import pytest

from failover.checks import run_checks
from failover.model import FindingStatus, Observation, ObsStatus, Status
from failover.probing import dns_path
from failover.sandbox.dns import Record
from failover.sandbox.dnsd import KnotServer
from failover.scoring import score
from probes.dns import DnsTarget, classify, probe_dns
from tests import factories as f

ZONE = "example.com"
NS: list[Record] = [
    ("@", 3600, "NS", "ns-1.awsdns-01.org."),
    ("@", 3600, "NS", "ns-cloud-a1.googledomains.com."),
]
HEALTHY: list[Record] = [("checkout", 60, "A", "52.0.0.1")]
LOOP: list[Record] = [("checkout", 60, "CNAME", "loop2"), ("loop2", 60, "CNAME", "checkout")]
SELF: list[Record] = [("checkout", 60, "CNAME", "checkout")]
DEAD_END: list[Record] = [("checkout", 60, "CNAME", "gone")]


def _evaluate(knot: KnotServer) -> tuple[dict[str, tuple[FindingStatus, str]], Status]:
    cfg = f.config(dns={"name": f.PUBLIC, "mechanism": "route53-failover", "nameservers": [knot.address]})
    observed = asyncio.run(dns_path(cfg.workloads[0], timeout=2.0))
    fresh = [dataclasses.replace(o, observed_at=f.NOW, workload="checkout") for o in observed]
    observations = [o for o in f.ready_observations() if o.probe != "dns"] + fresh
    ev = f.evidence(cfg=cfg, observations=observations)
    findings = run_checks(ev)
    by_check = {x.check: (x.status, x.reason) for x in findings if x.check in ("dns.authoritative", "dns.ttl")}
    return by_check, score(ev, findings).status


def test_the_same_workload_with_an_address_is_ready(knot_factory: Callable[..., KnotServer]) -> None:
    checks, status = _evaluate(knot_factory({ZONE: NS + HEALTHY}))
    assert checks["dns.authoritative"][0] == FindingStatus.PASS, checks
    assert checks["dns.ttl"][0] == FindingStatus.PASS, checks
    assert status == Status.READY


@pytest.mark.parametrize(
    ("records", "chain"),
    [
        (LOOP, "checkout.example.com -> loop2.example.com -> checkout.example.com"),
        (SELF, "checkout.example.com -> checkout.example.com"),
    ],
)
def test_cname_loop_fails_both_dns_checks_and_is_not_ready(
    knot_factory: Callable[..., KnotServer], records: list[Record], chain: str
) -> None:
    checks, status = _evaluate(knot_factory({ZONE: NS + records}))
    assert checks["dns.authoritative"][0] == FindingStatus.FAIL
    assert chain in checks["dns.authoritative"][1]
    assert checks["dns.ttl"][0] == FindingStatus.FAIL
    assert "loop" in checks["dns.ttl"][1] and chain in checks["dns.ttl"][1]
    assert status != Status.READY


def test_chain_ending_without_an_address_fails_both_dns_checks(knot_factory: Callable[..., KnotServer]) -> None:
    checks, status = _evaluate(knot_factory({ZONE: NS + DEAD_END}))
    assert checks["dns.authoritative"][0] == FindingStatus.FAIL
    assert "answer without an address" in checks["dns.authoritative"][1]
    assert checks["dns.ttl"][0] == FindingStatus.FAIL
    assert "NXDOMAIN" in checks["dns.ttl"][1] and "gone.example.com" in checks["dns.ttl"][1]
    assert status != Status.READY


def test_probe_reports_the_loop_as_a_fact_and_fails(knot_factory: Callable[..., KnotServer]) -> None:
    knot = knot_factory({ZONE: NS + LOOP})
    obs: Observation = asyncio.run(probe_dns(DnsTarget(f.PUBLIC, "A", knot.address, recursion=False)))
    assert obs.status == ObsStatus.FAILED
    assert obs.data["loop"] is True and obs.data["terminal"] is None
    assert obs.reason.startswith("CNAME loop: checkout.example.com -> loop2.example.com -> checkout.example.com")
    assert "not served here" not in obs.reason


def test_long_chain_in_one_answer_is_failed_not_followed_forever() -> None:
    msg = dns.message.make_response(dns.message.make_query(f.PUBLIC, "A"))
    names = [f"h{i}.example.com." for i in range(40)]
    msg.answer.append(dns.rrset.from_text(f.PUBLIC + ".", 60, "IN", "CNAME", names[0]))
    for a, b in itertools.pairwise(names):
        msg.answer.append(dns.rrset.from_text(a, 60, "IN", "CNAME", b))
    status, reason, extra = classify(f.PUBLIC, "A", msg)
    assert status == ObsStatus.FAILED and "more than 16 hops" in reason
    assert extra["loop"] is False and extra["terminal"] is None


def test_probe_command_says_loop_not_ok(knot_factory: Callable[..., KnotServer]) -> None:
    from click.testing import CliRunner

    from failover.cli import cli

    knot = knot_factory({ZONE: NS + LOOP})
    result = CliRunner().invoke(cli, ["probe", f.PUBLIC, "--dns-server", knot.address, "--format", "json"])
    assert result.exit_code == 1, result.output
    assert '"status": "failed"' in result.output and "CNAME loop" in result.output
