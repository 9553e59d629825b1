"""Property-based fuzzing of hostile peers: an authoritative DNS server and an HTTP server that say
whatever hypothesis makes them say (loops, dead-end chains, wrong questions, truncation, oversized
answers; broken status lines, headers, bodies, slow bytes).

The property: the result is always a ``failed``/``error`` observation and a ``fail``/``unknown``
verdict, never a traceback, never a hang past the timeout, never a pass. Servers are plain sockets on
127.0.0.1 (``tests.fixtures.hostile``); examples are few and timeouts short so the suite stays well
under a minute on two cores.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from failover.checks import run_checks
from failover.model import FindingStatus, Observation, ObsStatus
from failover.probing import authoritative_observation, chain_observation
from failover.sandbox.hostile import (
    HOLD,
    NO_ADDRESS,
    WRONG_QUESTIONS,
    Chunk,
    DnsScenario,
    HostileDns,
    HostileHttp,
    answer_scenario,
    dns_responder,
    garbage,
    hop_then,
    http_head,
    loop_answer,
    no_address,
    silent,
    wrong_question,
)
from probes import dnspath
from probes.dns import DnsTarget, probe_dns
from probes.http import probe_http
from probes.targets import HttpTarget
from tests import factories as f

NOT_OK = {ObsStatus.FAILED, ObsStatus.ERROR}
NOT_PASS = {FindingStatus.FAIL, FindingStatus.UNKNOWN}
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PUBLIC = f.PUBLIC + "."
DNS_TIMEOUT = 0.25


def run(coro: Any, bound: float) -> Any:
    """Run ``coro``; a ``TimeoutError`` after ``bound`` (far past every timeout involved) means a hang."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, bound)

    return asyncio.run(bounded())


# ---------------------------------------------------------------------------------------------- DNS
BROKEN_ANSWERS = st.one_of(
    st.integers(1, 6).map(loop_answer),
    st.sampled_from(NO_ADDRESS).map(no_address),
    st.sampled_from(
        [dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.NOTIMP, dns.rcode.FORMERR]
    ).map(lambda rc: no_address("empty", rc)),
    st.sampled_from(WRONG_QUESTIONS).map(wrong_question),
    st.binary(min_size=0, max_size=600).map(garbage),
)
DNS_SCENARIOS = st.one_of(
    BROKEN_ANSWERS.map(answer_scenario),
    st.one_of(BROKEN_ANSWERS, st.just(silent)).map(hop_then),
)


async def _observe_dns(server: str) -> tuple[Observation, Observation, Observation]:
    """The single probe, and the failover path's authoritative and chain observations, concurrently."""
    probe = probe_dns(DnsTarget(f.PUBLIC, "A", server, DNS_TIMEOUT, recursion=False))
    agreement = dnspath.check_agreement(f.PUBLIC, "A", [server], DNS_TIMEOUT)
    chain = dnspath.follow_cname_chain(f.PUBLIC, "A", nameservers=[server], resolver=server, timeout=DNS_TIMEOUT)
    single, agreed, walked = await asyncio.gather(probe, agreement, chain)
    return single, authoritative_observation(agreed), chain_observation(walked)


def _dns_verdicts(authoritative: Observation, chain: Observation) -> dict[str, FindingStatus]:
    cfg = f.config(dns={"name": f.PUBLIC, "mechanism": "route53-failover", "nameservers": ["127.0.0.1:53"]})
    fresh = [dataclasses.replace(o, observed_at=f.NOW, workload="checkout") for o in (authoritative, chain)]
    observations = [o for o in f.ready_observations() if o.label not in ("authoritative", "chain")] + fresh
    findings = run_checks(f.evidence(cfg=cfg, observations=observations), only={"dns.authoritative", "dns.ttl"})
    return {x.check: x.status for x in findings}


@FUZZ
@given(scenario=DNS_SCENARIOS, truncate=st.booleans())
# Cases found or named in issue 15, run every time whatever hypothesis draws:
@example(scenario=answer_scenario(loop_answer(2)), truncate=False)  # checkout -> loop2 -> checkout
@example(scenario=answer_scenario(loop_answer(1)), truncate=False)  # a self-CNAME
@example(scenario=answer_scenario(no_address("wrong_class")), truncate=False)  # an "A" of class HS was an address
@example(scenario=hop_then(silent), truncate=True)  # TCP closed without an answer was a traceback
@example(scenario=hop_then(loop_answer(3)), truncate=False)  # a loop across questions
def test_hostile_authoritative_server_never_yields_a_pass(
    hostile_dns: HostileDns, scenario: DnsScenario, truncate: bool
) -> None:
    # with ``truncate`` the same answers come only over TCP, after a truncated UDP reply
    hostile_dns.responder = dns_responder(scenario, PUBLIC, truncate=truncate)
    hostile_dns.tcp_responder = dns_responder(scenario, PUBLIC)
    # the chain may ask a few questions in turn (the walk up to the zone): each bounded by DNS_TIMEOUT
    single, authoritative, chain = run(_observe_dns(hostile_dns.address), 40 * DNS_TIMEOUT)
    verdicts = _dns_verdicts(authoritative, chain)

    assert chain.status in NOT_OK, chain.reason
    assert verdicts["dns.ttl"] in NOT_PASS, chain.reason
    if not scenario.hop:  # the answer itself is broken: every view of it says so
        assert single.status in NOT_OK, single.reason
        assert authoritative.status in NOT_OK, authoritative.reason
        assert verdicts["dns.authoritative"] in NOT_PASS, authoritative.reason


# --------------------------------------------------------------------------------------------- HTTP
TOKEN = "ready-7f3a9c"  # the body the probe expects; no broken response below carries it on time
HTTP_TIMEOUT = 0.5


def _no_token(data: bytes) -> bytes:
    return data.replace(TOKEN.encode(), b"")


TEXT = st.binary(min_size=0, max_size=200).map(_no_token)
HEADER_NAME = st.sampled_from([b"Server", b"Content-Type", b"X-\x1b[2J", b"Bad Name", b"", b"Content-Length"])
HEADER_VALUE = st.one_of(TEXT.map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")), st.just(b"\x00\x1b[31m"))

STATUS_LINES = st.one_of(
    st.sampled_from(
        [b"HTTP/1.1 200 OK", b"HTTP/1.1 503 Service Unavailable", b"HTTP/1.1 302 Found", b"HTTP/1.0 404 Nope"]
    ),
    st.sampled_from([b"HTTP/1.1 abc", b"HTTP/9.9 200 OK", b"ICY 200 OK", b"HTTP/1.1 0 Zero", b"HTTP/1.1 999 X"]),
    TEXT.map(lambda b: b.replace(b"\r\n", b"")),
    st.just(b"HTTP/1.1 200 " + b"A" * 70000),
)


@st.composite
def http_scripts(draw: st.DrawFn) -> list[Chunk]:
    kind = draw(st.sampled_from(["head", "length_lies", "chunked", "endless", "slow", "nothing", "interim"]))
    status = draw(STATUS_LINES)
    headers = draw(st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=6))
    body = draw(TEXT)
    if kind == "head":  # any status line and headers, then a body without the token
        return [http_head(status, [*headers, (b"Content-Length", str(len(body)).encode())]) + body]
    if kind == "length_lies":  # promises more than it sends, then closes (or holds)
        promised = draw(st.integers(len(body) + 1, 10**12))
        ending = draw(st.sampled_from([[], [HOLD]]))
        return [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", str(promised).encode())]) + body, *ending]
    if kind == "chunked":  # broken or unterminated chunked encoding
        chunks = draw(st.sampled_from([b"zz\r\nxx\r\n", b"5\r\nab", b"ffffffffffffffff\r\n", b"3\r\nabc\r\n"]))
        ending = draw(st.sampled_from([[], [HOLD]]))
        return [http_head(b"HTTP/1.1 200 OK", [(b"Transfer-Encoding", b"chunked")]) + chunks, *ending]
    if kind == "endless":  # a valid head, then a body that never ends (past max_body_bytes, or held open)
        head = http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"100000000")])
        return [head, b"x" * 70000, HOLD] if draw(st.booleans()) else [head, HOLD]
    if kind == "slow":  # a correct answer, the token included, one piece at a time: too slow to count
        answer = http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", str(len(TOKEN)).encode())]) + TOKEN.encode()
        pieces = draw(st.integers(4, 8))
        step = -(-len(answer) // pieces)
        return [(HTTP_TIMEOUT * 0.4, answer[i : i + step]) for i in range(0, len(answer), step)]
    if kind == "interim":  # 1xx responses that never reach a final one
        return [b"HTTP/1.1 100 Continue\r\n\r\n" * draw(st.integers(1, 50)), HOLD]
    return [] if draw(st.booleans()) else [HOLD]  # closes at once, or says nothing


@FUZZ
@given(script=http_scripts())
def test_hostile_http_server_never_yields_a_pass(hostile_http: HostileHttp, script: list[Chunk]) -> None:
    hostile_http.script = script
    target = HttpTarget(hostile_http.url("/healthz"), expect_body=TOKEN, timeout=HTTP_TIMEOUT, max_body_bytes=65536)
    obs = run(probe_http(target), 10 * HTTP_TIMEOUT)
    assert obs.status in NOT_OK, (obs.status, obs.reason)

    observations = [
        dataclasses.replace(o, status=obs.status, reason=obs.reason, data=obs.data) if o.probe == "http" else o
        for o in f.ready_observations()
    ]
    findings = run_checks(f.evidence(observations=observations), only={"secondary.health"})
    assert {x.status for x in findings} <= NOT_PASS, [x.reason for x in findings]
