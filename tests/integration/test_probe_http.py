"""The HTTP probe against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re

import pytest

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from probes.http import probe_http
from probes.targets import HttpTarget
from tests.fixtures.http import Site


def probe(target: HttpTarget) -> Observation:
    return asyncio.run(probe_http(target))


def test_expected_status_is_ok_with_phase_timings(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/ok")))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.probe == "http"
    assert obs.reason.startswith("HTTP 200 in ")
    assert obs.data["status_code"] == 200
    timings = obs.data["timings_ms"]
    assert timings["dns"] is None  # an IP literal needs no lookup
    assert timings["connect"] > 0 and timings["first_byte"] > 0
    assert timings["tls"] is None
    assert timings["total"] >= timings["connect"]
    assert obs.latency_ms == timings["total"]
    assert obs.data["address"] == f"127.0.0.1:{http_site.port}"


def test_hostname_is_resolved_and_timed(http_site: Site) -> None:
    obs = probe(HttpTarget(f"http://localhost:{http_site.port}/ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["timings_ms"]["dns"] is not None


def test_unexpected_status_fails_with_the_code(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/status/503")))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "HTTP 503 (expected 200)"
    assert obs.data["status_code"] == 503


def test_any_of_several_expected_statuses_passes(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/status/204"), expect_status=(200, 204)))
    assert obs.status is ObsStatus.OK, obs.reason


def test_stopped_listener_fails_with_connection_refused(closed_port: int) -> None:
    obs = probe(HttpTarget(f"http://127.0.0.1:{closed_port}/ok", timeout=2))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("connection refused")
    assert obs.latency_ms is None


def test_slow_response_fails_with_timeout_and_phase(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/slow?s=1.5"), timeout=0.3))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("timed out after 0.3s waiting for the response")


def test_unresolvable_host_is_an_error_not_a_failure() -> None:
    obs = probe(HttpTarget("http://no-such-host.invalid/ok", timeout=3))
    assert obs.status is ObsStatus.ERROR
    assert "cannot resolve no-such-host.invalid" in obs.reason


def test_body_substring_match(http_site: Site) -> None:
    assert probe(HttpTarget(http_site.url("/ok"), expect_body="build 1234")).status is ObsStatus.OK
    obs = probe(HttpTarget(http_site.url("/ok"), expect_body="build 9999"))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "body does not contain 'build 9999'"
    assert obs.data["body_match"] is False


def test_body_regex_match(http_site: Site) -> None:
    assert probe(HttpTarget(http_site.url("/ok"), expect_body=r"/build \d+/")).status is ObsStatus.OK
    obs = probe(HttpTarget(http_site.url("/ok"), expect_body=r"/^down/"))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "body does not match /^down/"


def test_json_path_matches_nested_values(http_site: Site) -> None:
    target = HttpTarget(
        http_site.url("/json"), expect_json={"$.status": "ok", "$.checks[0].ok": True, "$['version']": 3}
    )
    obs = probe(target)
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["json_match"]["$.checks[0].ok"]["match"] is True


def test_json_path_mismatch_and_missing_are_reported(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/json"), expect_json={"$.checks[1].ok": True, "$.uptime": 1}))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "$.checks[1].ok is false (expected true); $.uptime not found in the JSON body"


def test_json_expectation_on_a_non_json_body_fails(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/notjson"), expect_json={"$.status": "ok"}))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "body is not JSON"


def test_redirect_is_judged_as_is_when_not_following(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/redirect")))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "HTTP 302 (expected 200) → /ok"


def test_redirect_followed_on_a_fresh_connection(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/redirect"), follow_redirects=True, expect_body="service ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["url"].endswith("/ok")
    assert obs.data["redirects"] == [{"url": http_site.url("/redirect"), "status_code": 302, "location": "/ok"}]


def test_redirect_loop_fails(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/loop"), follow_redirects=True, max_redirects=3))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "more than 3 redirects"


def test_public_name_is_sent_as_host_header_over_http(http_site: Site) -> None:
    obs = probe(
        HttpTarget(http_site.url("/host"), public_name="checkout.example.com", expect_body="checkout.example.com")
    )
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.target == f"{http_site.url('/host')} as checkout.example.com"


def test_direct_probe_sends_host_with_port(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/host"), expect_body=f"127.0.0.1:{http_site.port}"))
    assert obs.status is ObsStatus.OK, obs.reason


def test_body_beyond_the_limit_is_truncated_not_fatal(http_site: Site) -> None:
    obs = probe(HttpTarget(http_site.url("/big?n=50000"), max_body_bytes=1000))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["body_bytes"] == 1000
    assert obs.data["body_truncated"] is True


def test_each_probe_uses_a_fresh_connection(counting_site: Site) -> None:
    async def twice() -> None:
        await probe_http(HttpTarget(counting_site.url("/hold?s=0")))
        await probe_http(HttpTarget(counting_site.url("/hold?s=0")))

    asyncio.run(twice())
    assert counting_site.counter.hits == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://x/"}, "expected an http(s) URL"),
        ({"url": "http://x/", "expect_body": "/[unclosed/"}, "bad body regex"),
        ({"url": "http://x/", "expect_json": {"status": 1}}, "must start with '$'"),
        ({"url": "http://x/", "expect_json": {"$.a[*]": 1}}, "unsupported JSON path"),
        ({"url": "http://x/", "expect_status": (99,)}, "100-599"),
        ({"url": "http://x:99999/"}, "bad port"),
    ],
)
def test_bad_targets_are_rejected_when_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ProbeError, match=re.escape(message)):
        HttpTarget(**kwargs)  # type: ignore[arg-type]
