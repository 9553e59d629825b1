"""HTTPS probes against real TLS servers with generated certificates, and the TLS verdict on data."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from failover.model import Observation, ObsStatus
from probes import tls
from probes.http import probe_http
from probes.targets import HttpTarget
from tests.fixtures.http import PUBLIC_NAME, WRONG_NAME, CnOnlySite, TlsSites


def probe(target: HttpTarget) -> Observation:
    return asyncio.run(probe_http(target))


def test_valid_certificate_is_ok_with_tls_details(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.valid.url(), ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.OK, obs.reason
    info = obs.data["tls"]
    assert info["verified"] is True and info["covers_name"] is True and info["error"] is None
    assert info["protocol"].startswith("TLSv1.")
    assert info["issuer"].startswith("failover test CA")
    assert PUBLIC_NAME in info["names"] and "127.0.0.1" in info["names"]
    assert info["days_left"] > 300
    assert info["chain_length"] >= 2  # leaf + the trusted root (full chain on 3.11 via the private API)
    assert obs.data["timings_ms"]["tls"] > 0


def test_public_name_mode_with_the_right_certificate(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.valid.url("/host"), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["tls"]["verified"] is True
    assert obs.data["public_name"] == PUBLIC_NAME


def test_public_name_sends_sni_and_host(tls_sites: TlsSites) -> None:
    target = HttpTarget(
        tls_sites.valid.url("/host"), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,), expect_body=PUBLIC_NAME
    )
    assert probe(target).status is ObsStatus.OK


def test_public_name_mode_with_the_wrong_certificate_fails_naming_the_sans(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.wrong_name.url(), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == f"certificate does not cover {PUBLIC_NAME} (SANs: {WRONG_NAME})"
    info = obs.data["tls"]
    assert info["verified"] is False and info["covers_name"] is False
    assert info["names"] == [WRONG_NAME]
    assert info["error"]  # OpenSSL's own words are kept


def test_direct_probe_of_a_certificate_without_the_ip_fails(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.wrong_name.url(), ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("certificate does not cover 127.0.0.1")


def test_expired_certificate_fails_saying_how_long_ago(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.expired.url(), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == f"certificate for {PUBLIC_NAME} expired 3 days ago (CN={PUBLIC_NAME})"
    assert obs.data["tls"]["days_left"] < 0
    assert obs.data["tls"]["earliest_expiry_subject"] == PUBLIC_NAME


def test_certificate_expiring_in_five_days_fails(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.expiring.url(), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == f"certificate for {PUBLIC_NAME} expires in 5 days (CN={PUBLIC_NAME})"
    assert obs.data["tls"]["verified"] is True
    assert obs.data["status_code"] == 200  # the request itself still ran


def test_certificate_in_the_warn_band_warns(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.soon.url(), ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.WARN
    assert obs.reason.startswith("certificate for 127.0.0.1 expires in 20 days")
    assert obs.ok


def test_thresholds_are_parameters(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.expiring.url(), ca_files=(tls_sites.ca_file,), tls_warn_days=4, tls_fail_days=2))
    assert obs.status is ObsStatus.OK, obs.reason


def test_self_signed_certificate_fails_as_self_signed(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.self_signed.url(), public_name=PUBLIC_NAME, ca_files=(tls_sites.ca_file,)))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == f"certificate for {PUBLIC_NAME} is self-signed (CN={PUBLIC_NAME})"
    assert obs.data["tls"]["covers_name"] is True


def test_untrusted_ca_fails_without_the_ca_file(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.valid.url(), public_name=PUBLIC_NAME))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith(f"certificate for {PUBLIC_NAME} is not trusted")
    assert "failover test CA" in obs.reason


def test_plain_http_to_a_tls_port_fails_cleanly(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(f"http://127.0.0.1:{tls_sites.valid.port}/ok", timeout=2))
    assert obs.status is ObsStatus.FAILED


def test_certificate_with_a_cn_and_no_san_fails_like_browsers_and_go(cn_only_site: CnOnlySite) -> None:
    target = HttpTarget(cn_only_site.site.url(), public_name=PUBLIC_NAME, ca_files=(cn_only_site.ca_file,))
    obs = probe(target)
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith(f"certificate for {PUBLIC_NAME} has no subjectAltName (only CN={PUBLIC_NAME})")
    info = obs.data["tls"]
    assert info["covers_name"] is False and info["names"] == [] and info["subject"] == PUBLIC_NAME


def test_cn_only_certificate_fails_secondary_tls(cn_only_site: CnOnlySite) -> None:
    from failover.checks import run_checks
    from failover.model import FindingStatus
    from tests import factories as f

    target = HttpTarget(cn_only_site.site.url(), public_name=PUBLIC_NAME, ca_files=(cn_only_site.ca_file,))
    seen = probe(target)
    observations = [
        o if o.probe != "http" else dataclasses.replace(o, status=seen.status, reason=seen.reason, data=seen.data)
        for o in f.ready_observations()
    ]
    findings = run_checks(f.evidence(observations=observations), only={"secondary.tls"})
    assert [x.status for x in findings] == [FindingStatus.FAIL]
    assert "no subjectAltName (only CN=checkout.example.com)" in findings[0].reason


def test_cn_only_leaf_fails_even_when_a_verifier_accepted_it() -> None:
    leaf = tls.CertInfo(subject=PUBLIC_NAME, issuer="Some CA", not_after=NOW + dt.timedelta(days=90))
    verdict = tls.assess(PUBLIC_NAME, [leaf], verified=True, now=NOW)
    assert verdict.status is ObsStatus.FAILED and "no subjectAltName" in verdict.reason


def test_missing_ca_file_is_an_error(tls_sites: TlsSites) -> None:
    obs = probe(HttpTarget(tls_sites.valid.url(), ca_files=("/nonexistent/ca.pem",)))
    assert obs.status is ObsStatus.ERROR
    assert obs.reason.startswith("cannot load CA file /nonexistent/ca.pem")


# --- the verdict on data ----------------------------------------------------------------------------

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def cert(subject: str, days: float, names: tuple[str, ...] = (), issuer: str = "Test CA") -> tls.CertInfo:
    return tls.CertInfo(subject=subject, issuer=issuer, not_after=NOW + dt.timedelta(days=days), dns_names=names)


def test_earliest_expiry_in_the_chain_is_reported_with_its_subject() -> None:
    chain = [cert("www.example.com", 200, ("www.example.com",)), cert("Intermediate R3", 10, issuer="Root")]
    verdict = tls.assess("www.example.com", chain, verified=True, now=NOW)
    assert verdict.status is ObsStatus.FAILED
    assert verdict.reason == "certificate for www.example.com expires in 10 days (CN=Intermediate R3)"
    assert verdict.data["earliest_expiry_subject"] == "Intermediate R3"
    assert verdict.data["not_after"].startswith("2025-12-18")


@pytest.mark.parametrize(
    ("name", "sans", "covered"),
    [
        ("www.example.com", ("*.example.com",), True),
        ("a.b.example.com", ("*.example.com",), False),
        ("example.com", ("*.example.com",), False),
        ("WWW.Example.COM.", ("www.example.com",), True),
        ("x.com", ("*.com",), False),
        ("bücher.example", ("xn--bcher-kva.example",), True),
    ],
)
def test_name_coverage_follows_rfc6125(name: str, sans: tuple[str, ...], covered: bool) -> None:
    assert tls.covers(name, sans) is covered


def test_ip_names_match_only_ip_sans() -> None:
    assert tls.covers("127.0.0.1", ("127.0.0.1",), ()) is False
    assert tls.covers("::1", (), ("0:0:0:0:0:0:0:1",)) is True


def test_no_certificate_at_all_fails_with_the_handshake_error() -> None:
    verdict = tls.assess("x.example", [], verified=False, error="WRONG_VERSION_NUMBER")
    assert verdict.status is ObsStatus.FAILED
    assert verdict.reason == "TLS handshake for x.example failed: WRONG_VERSION_NUMBER"
    assert verdict.data["days_left"] is None
