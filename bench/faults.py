"""Fault script: hostile peers, malformed input, kills and dropped database connections. Prints a table.

    .venv/bin/python bench/faults.py                        # everything (a few minutes)
    .venv/bin/python bench/faults.py --rounds 1 --kills 4   # quicker
    .venv/bin/python bench/faults.py --no-postgres          # SQLite only
    .venv/bin/python bench/faults.py --only dns,http        # some categories (dns,http,cli,kill,terminate)

Categories (every loop bounded, every peer on 127.0.0.1):
- hostile DNS: an authoritative server answering loops, dead-end chains, wrong questions, error codes,
  records of the wrong name/type/class, garbage, truncation (UDP then TCP), oversized answers, silence.
  Wrong verdict: the probe, the CNAME chain, ``dns.authoritative`` or ``dns.ttl`` calling it healthy.
- hostile HTTP: broken status lines, header bombs, lying lengths, broken chunking, endless bodies,
  a correct answer sent too slowly, 1xx floods, silence. Wrong verdict: the probe saying ok.
  Each side has a control (a correct peer) that must come out healthy.
- malformed config and URLs through the CLI: expected a located error (exit 2), never a traceback,
  never a hang, never acceptance.
- SIGKILL of ``failover check`` at a random moment, on SQLite and Postgres: every row committed before
  the kill is still there after it (rows are compared by id), and the next full run works.
- ``pg_terminate_backend`` of every connection of a running ``failover check``: a clear error or a
  completed run, no traceback, no lost rows.
- time to timeout against the configured timeout, and the peak RSS of this process under the hostile
  peers.

Exit status 1 when any wrong verdict or lost row is seen.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.rcode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from failover.checks import Evidence, run_checks  # noqa: E402
from failover.model import FindingStatus, Observation, ObsStatus  # noqa: E402
from failover.probing import authoritative_observation, chain_observation  # noqa: E402
from failover.sandbox.hostile import (  # noqa: E402
    HOLD,
    NO_ADDRESS,
    WRONG_QUESTIONS,
    Chunk,
    DnsScenario,
    HostileDns,
    HostileHttp,
    answer_scenario,
    dns_responder,
    dns_response,
    dns_wire,
    garbage,
    hop_then,
    http_head,
    loop_answer,
    no_address,
    silent,
    wrong_question,
)
from failover.schema import Config  # noqa: E402
from probes import dnspath  # noqa: E402
from probes.dns import DnsTarget, probe_dns  # noqa: E402
from probes.http import probe_http  # noqa: E402
from probes.targets import HttpTarget  # noqa: E402

PUBLIC = "checkout.example.com"
DNS_TIMEOUT = 0.25
HTTP_TIMEOUT = 0.5
TOKEN = "ready-7f3a9c"
NOT_OK = {ObsStatus.FAILED, ObsStatus.ERROR}
NOT_PASS = {FindingStatus.FAIL, FindingStatus.UNKNOWN}
TERMINATE = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
APPEND_ONLY = ("runs", "inventory_snapshots", "resources", "observations", "findings", "scores")


@dataclass
class Category:
    name: str
    attempts: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    rows_before: int | None = None
    rows_after: int | None = None
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    def outcome(self, case: str, ok: bool, *, traceback: bool = False, hang: bool = False) -> None:
        self.attempts += 1
        if hang:
            self.hangs.append(case)
        elif traceback:
            self.tracebacks.append(case)
        elif not ok:
            self.wrong.append(case)
        else:
            self.correct += 1

    def survived(self, case: str, coro: Any, seconds: float) -> Any:
        """Run ``coro`` bounded by ``seconds``; its result, or ``None`` when it hung or raised (counted here
        as a hang or a traceback, so the caller moves on to the next case)."""
        try:
            return bounded(coro, seconds)
        except TimeoutError:
            self.outcome(case, False, hang=True)
        except Exception as err:
            self.outcome(f"{case}: {type(err).__name__}", False, traceback=True)
        return None


@dataclass
class Timing:
    worst_ratio: float = 0.0
    worst_s: float = 0.0
    configured_s: float = 0.0

    def add(self, elapsed: float, configured: float) -> None:
        if elapsed / configured > self.worst_ratio:
            self.worst_ratio, self.worst_s, self.configured_s = elapsed / configured, elapsed, configured


async def timed(coro: Any) -> tuple[Any, float]:
    """The result and the seconds it took, measured inside the event loop."""
    started = time.monotonic()
    result = await coro
    return result, time.monotonic() - started


def bounded(coro: Any, seconds: float) -> Any:
    async def run() -> Any:
        return await asyncio.wait_for(coro, seconds)

    return asyncio.run(run())


# ----------------------------------------------------------------------------------------- hostile DNS
def dns_config(server: str) -> Config:
    site = {"account": "aws", "regions": ["us-east-1"], "select": {"tags": {"app": "shop"}}}
    return Config.model_validate(
        {
            "accounts": [{"name": "aws", "provider": "aws", "regions": ["us-east-1"]}],
            "workloads": [
                {
                    "name": "shop",
                    "owners": ["sre@example.com"],
                    "dns": {"name": PUBLIC, "mechanism": "external", "nameservers": [server]},
                    "sites": [{"name": "p", "role": "primary", **site}, {"name": "s", "role": "secondary", **site}],
                }
            ],
        }
    )


def dns_cases() -> list[tuple[str, DnsScenario]]:
    rng = random.Random(15)
    cases: list[tuple[str, DnsScenario]] = [(f"loop of {n}", answer_scenario(loop_answer(n))) for n in range(1, 5)]
    cases += [(f"no address: {how}", answer_scenario(no_address(how))) for how in NO_ADDRESS]
    for rc in (dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.NOTIMP, dns.rcode.FORMERR):
        cases.append((f"rcode {dns.rcode.to_text(rc)}", answer_scenario(no_address("empty", rc))))
    cases += [(f"wrong question: {how}", answer_scenario(wrong_question(how))) for how in WRONG_QUESTIONS]
    cases += [(f"garbage {i}", answer_scenario(garbage(rng.randbytes(rng.randint(0, 700))))) for i in range(3)]
    cases.append(("silent", answer_scenario(silent)))
    hops: list[tuple[str, Any]] = [
        ("silent", silent),
        ("loop back", loop_answer(2)),
        ("NXDOMAIN", no_address("empty", dns.rcode.NXDOMAIN)),
        ("NODATA", no_address("nodata")),
        ("wrong id", wrong_question("id")),
    ]
    cases += [(f"CNAME hop, then {name}", hop_then(build)) for name, build in hops]
    return cases


def _good_answer(q: Any, _: bytes) -> list[bytes]:
    import dns.rrset

    r = dns_response(q)
    r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.10"))
    return [dns_wire(r)]


async def observe_dns(server: str) -> tuple[Observation, Observation, Observation]:
    probe = probe_dns(DnsTarget(PUBLIC, "A", server, DNS_TIMEOUT, recursion=False))
    agreement = dnspath.check_agreement(PUBLIC, "A", [server], DNS_TIMEOUT)
    chain = dnspath.follow_cname_chain(PUBLIC, "A", nameservers=[server], resolver=server, timeout=DNS_TIMEOUT)
    single, agreed, walked = await asyncio.gather(probe, agreement, chain)
    return single, authoritative_observation(agreed), chain_observation(walked)


def dns_verdicts(config: Config, observed: list[Observation]) -> dict[str, FindingStatus]:
    now = datetime.now(UTC)
    tagged = [dataclasses.replace(o, observed_at=now, workload="shop") for o in observed]
    ev = Evidence(config=config, workload=config.workloads[0], inventories={}, observations=tagged, now=now)
    return {f.check: f.status for f in run_checks(ev, only={"dns.authoritative", "dns.ttl"})}


def hostile_dns(rounds: int, timing: Timing) -> Category:
    cat = Category("hostile DNS (authoritative server)")
    with HostileDns.start() as server:
        config = dns_config(server.address)
        control = ("control: a correct answer", answer_scenario(_good_answer))
        for _ in range(rounds):
            for name, scenario in [*dns_cases(), control]:
                for truncate in (False, True):
                    case = f"{name}{' (after TC)' if truncate else ''}"
                    server.responder = dns_responder(scenario, PUBLIC + ".", truncate=truncate)
                    server.tcp_responder = dns_responder(scenario, PUBLIC + ".")
                    observed = cat.survived(case, observe_dns(server.address), 40 * DNS_TIMEOUT)
                    if observed is None:
                        continue
                    single, auth, chain = observed
                    verdicts = dns_verdicts(config, [auth, chain])
                    if scenario.first is _good_answer:
                        ok = single.ok and chain.ok and set(verdicts.values()) == {FindingStatus.PASS}
                    else:
                        ok = chain.status in NOT_OK and verdicts["dns.ttl"] in NOT_PASS
                        if not scenario.hop:
                            ok = ok and single.status in NOT_OK and verdicts["dns.authoritative"] in NOT_PASS
                    cat.outcome(case, ok)
        server.responder, server.tcp_responder = (lambda _wire: []), None
        for _ in range(3):  # time to timeout: a server that never answers
            obs, elapsed = bounded(
                timed(probe_dns(DnsTarget(PUBLIC, "A", server.address, DNS_TIMEOUT))), 40 * DNS_TIMEOUT
            )
            timing.add(elapsed, DNS_TIMEOUT)
            cat.outcome("silent server, timed", obs.status == ObsStatus.ERROR)
    return cat


# ---------------------------------------------------------------------------------------- hostile HTTP
def http_cases() -> list[tuple[str, list[Chunk], bool]]:
    """(name, script, healthy?)."""
    ok = http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", str(len(TOKEN)).encode())]) + TOKEN.encode()
    cases: list[tuple[str, list[Chunk], bool]] = [("control: a correct answer", [ok], True)]
    for line in (
        b"HTTP/1.1 abc",
        b"HTTP/9.9 200 OK",
        b"ICY 200 OK",
        b"HTTP/1.1 0 Zero",
        b"HTTP/1.1 999 X",
        b"\x00\xff",
    ):
        cases.append((f"status line {line[:16]!r}", [http_head(line, [(b"Content-Length", b"0")])], False))
    cases += [
        ("status line of 70 kB", [http_head(b"HTTP/1.1 200 " + b"A" * 70000, [(b"Content-Length", b"0")])], False),
        ("header of 100 kB", [http_head(b"HTTP/1.1 200 OK", [(b"X-Big", b"a" * 100_000)])], False),
        ("5,000 headers", [http_head(b"HTTP/1.1 200 OK", [(b"X-%d" % i, b"v") for i in range(5000)])], False),
        ("header name with a space", [http_head(b"HTTP/1.1 200 OK", [(b"Bad Name", b"v")])], False),
        (
            "escape in Server",
            [http_head(b"HTTP/1.1 503 No", [(b"Server", b"\x1b[2J"), (b"Content-Length", b"0")])],
            False,
        ),
        (
            "two Content-Lengths",
            [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"3"), (b"Content-Length", b"12")]) + TOKEN.encode()],
            False,
        ),
        (
            "Content-Length lies, closes",
            [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"999999")]) + b"ab"],
            False,
        ),
        ("Content-Length lies, holds", [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"999999")]), HOLD], False),
        (
            "chunk size not hex",
            [http_head(b"HTTP/1.1 200 OK", [(b"Transfer-Encoding", b"chunked")]) + b"zz\r\n"],
            False,
        ),
        (
            "chunk of 2^64",
            [http_head(b"HTTP/1.1 200 OK", [(b"Transfer-Encoding", b"chunked")]) + b"f" * 17 + b"\r\n"],
            False,
        ),
        (
            "chunked, never ends",
            [http_head(b"HTTP/1.1 200 OK", [(b"Transfer-Encoding", b"chunked")]) + b"3\r\nabc\r\n", HOLD],
            False,
        ),
        (
            "body of 100 MB offered",
            [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"100000000")]), *[b"x" * 1_000_000] * 100],
            False,
        ),
        ("1xx flood", [b"HTTP/1.1 100 Continue\r\n\r\n" * 500, HOLD], False),
        (
            "correct answer, one slow byte at a time",
            [(HTTP_TIMEOUT / 4, ok[i : i + 8]) for i in range(0, len(ok), 8)],
            False,
        ),
        (
            "503 with the expected body",
            [http_head(b"HTTP/1.1 503 X", [(b"Content-Length", str(len(TOKEN)).encode())]) + TOKEN.encode()],
            False,
        ),
        ("closes at once", [], False),
        ("says nothing", [HOLD], False),
    ]
    return cases


def hostile_http(rounds: int, timing: Timing) -> Category:
    cat = Category("hostile HTTP (endpoint)")
    with HostileHttp.start() as server:
        for _ in range(rounds):
            for name, script, healthy in http_cases():
                server.script = script
                target = HttpTarget(server.url("/healthz"), expect_body=TOKEN, timeout=HTTP_TIMEOUT)
                probed = cat.survived(name, timed(probe_http(target)), 10 * HTTP_TIMEOUT)
                if probed is None:
                    continue
                obs, elapsed = probed
                if HOLD in script or name.startswith("correct answer, one slow"):
                    timing.add(elapsed, HTTP_TIMEOUT)
                cat.outcome(name, obs.ok if healthy else obs.status in NOT_OK)
    return cat


# ------------------------------------------------------------------------------------- CLI, bad input
def cli(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 20.0
) -> tuple[int | None, str]:
    """Run ``failover ARGS``; (exit code or None on a hang, stderr). Memory is capped at 1.5 GB."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    full_env = {k: v for k, v in os.environ.items() if k != "FAILOVER_DATABASE_URL"}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "failover", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limits,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stderr


def bad_input(tmp: Path) -> Category:
    cat = Category("malformed config and URLs (CLI)")
    good: dict[str, Any] = {
        "accounts": [{"name": "aws", "provider": "aws", "regions": ["us-east-1"]}],
        "workloads": [
            {
                "name": "shop",
                "owners": ["sre@example.com"],
                "sites": [
                    {"name": "p", "role": "primary", "account": "aws", "select": {"tags": {"app": "shop"}}},
                    {"name": "s", "role": "secondary", "account": "aws", "select": {"tags": {"app": "shop"}}},
                ],
            }
        ],
    }
    import yaml

    def write(name: str, data: Any) -> str:
        path = tmp / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
        return str(path)

    db = f"sqlite:///{tmp / 'bad-input.db'}"
    valid = write("valid.yaml", {**good, "database": db})
    seed_low_score(db)
    fifo = tmp / "config.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    nested = "a: " + "[" * 500 + "]" * 500 + "\n"
    workload = good["workloads"][0]
    cases: list[tuple[str, list[str], dict[str, str] | None, set[int]]] = [
        ("YAML nested 500 deep", ["validate", "-c", write("nested.yaml", nested)], None, {2}),
        ("-c /dev/zero", ["validate", "-c", "/dev/zero"], None, {2}),
        ("-c a FIFO", ["validate", "-c", str(fifo)], None, {2}),
        ("-c a directory", ["validate", "-c", str(tmp)], None, {2}),
        ("-c a missing file", ["validate", "-c", str(tmp / "missing.yaml")], None, {2}),
        ("score --since 99999999999999d", ["score", "-c", valid, "--since", "99999999999999d"], None, {2}),
        ("probe 'http://[::1'", ["probe", "http://[::1"], None, {2}),
        ("probe 'http://host:99999/'", ["probe", "http://127.0.0.1:99999/"], None, {2}),
        ("score --fail-under nan", ["score", "-c", valid, "--fail-under", "nan"], None, {2}),
        ("check --fail-under inf", ["check", "-c", valid, "--fail-under", "inf", "--no-inventory"], None, {2}),
        ("drill record --at 2999-01-01", ["drill", "record", "shop", "-c", valid, "--at", "2999-01-01"], None, {2}),
        ("vantage with a NUL", ["validate", "-c", write("nul.yaml", {**good, "vantage": "de\0mo"})], None, {2}),
        (
            "dns.nameservers: not a host:port",
            [
                "validate",
                "-c",
                write(
                    "ns.yaml",
                    {
                        **good,
                        "workloads": [
                            {**workload, "dns": {"name": "x.example.com", "nameservers": ["not a host:port"]}}
                        ],
                    },
                ),
            ],
            None,
            {2},
        ),
        (
            "database URL with a bad host",
            ["score", "-c", write("g.yaml", good)],
            {"FAILOVER_DATABASE_URL": "postgresql://u@[::1:5432/db"},
            {2},
        ),
        (
            "database URL, unknown driver",
            ["score", "-c", write("g.yaml", good)],
            {"FAILOVER_DATABASE_URL": "postgresql+nosuchdriver://u@127.0.0.1/db"},
            {2},
        ),
        ("database URL 'garbage'", ["score", "-c", write("g.yaml", good)], {"FAILOVER_DATABASE_URL": "garbage"}, {2}),
    ]
    for name, args, env, expected in cases:
        code, stderr = cli(args, cwd=tmp, env=env, timeout=8.0)
        cat.outcome(name, code in expected, traceback="Traceback (most recent call last)" in stderr, hang=code is None)
    code, _ = cli(["--debug", "validate", "-c", str(tmp / "missing.yaml")], cwd=tmp, timeout=8.0)
    cat.outcome("--debug adds a traceback, keeps exit code 2", code == 2, hang=code is None)
    return cat


def seed_low_score(url: str) -> None:
    from failover.model import Score, Status
    from failover.store import Store

    with Store.open(url) as store:
        run_id = store.start_run("faults")
        score = Score("shop", Status.NOT_READY, 10.0, computed_at=datetime.now(UTC) - timedelta(minutes=1))
        store.save_scores(run_id, [score])
        store.finish_run(run_id, "ok")


# --------------------------------------------------------------------------- kills and dropped connections
class SlowHealth(BaseHTTPRequestHandler):
    """The secondary's health endpoint: answers after a short random delay, so a run lasts a while."""

    def do_GET(self) -> None:
        time.sleep(random.uniform(0.05, 0.3))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class QuietHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed `failover check` leaves broken pipes behind: expected here


@contextmanager
def estate(tmp: Path, url: str) -> Iterator[Path]:
    """A config over a local AWS (moto) and local health endpoints, 12 workloads, writing to ``url``."""
    from failover.sandbox.aws import AwsSandbox, seed_instances

    logging_quiet()
    http = QuietHttpServer(("127.0.0.1", 0), SlowHealth)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    aws = AwsSandbox().start()
    try:
        for region in ("us-east-1", "us-west-2"):
            seed_instances(aws, region, count=4, instance_type="m5.large", tags={"app": "shop"})
        account = aws.account("aws", ["us-east-1", "us-west-2"])
        workloads = [
            {
                "name": f"shop-{i:02d}",
                "owners": ["sre@example.com"],
                "sites": [
                    {
                        "name": "east",
                        "role": "primary",
                        "account": "aws",
                        "regions": ["us-east-1"],
                        "select": {"tags": {"app": "shop"}},
                    },
                    {
                        "name": "west",
                        "role": "secondary",
                        "account": "aws",
                        "regions": ["us-west-2"],
                        "select": {"tags": {"app": "shop"}},
                        "endpoints": [{"url": f"http://127.0.0.1:{http.server_address[1]}/health/{i}"}],
                    },
                ],
            }
            for i in range(12)
        ]
        import yaml

        path = tmp / f"estate-{secrets.token_hex(3)}.yaml"
        path.write_text(yaml.safe_dump({"database": url, "accounts": [account], "workloads": workloads}))
        yield path
    finally:
        aws.stop()
        http.shutdown()


def logging_quiet() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def row_ids(url: str) -> dict[str, set[int]]:
    from sqlalchemy import create_engine, select

    from failover.store import tables

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    )
    try:
        with engine.connect() as conn:
            return {name: set(conn.execute(select(getattr(tables, name).c.id)).scalars()) for name in APPEND_ONLY}
    finally:
        engine.dispose()


def sqlite_ok(url: str) -> bool:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def start_check(config: Path, tmp: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FAILOVER_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "failover", "check", "-c", str(config), "--format", "json"],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_loop(label: str, url: str, tmp: Path, kills: int) -> Category:
    cat = Category(f"SIGKILL `failover check` ({label})")
    rng = random.Random(1500 + kills)
    with estate(tmp, url) as config:
        started = time.monotonic()
        first = start_check(config, tmp)
        _, err = first.communicate(timeout=300)
        full_s = time.monotonic() - started
        cat.outcome("a full run first", first.returncode in (0, 1), traceback="Traceback" in err)
        before_all = row_ids(url)
        cat.rows_before = sum(len(v) for v in before_all.values())
        mid_run = 0
        for k in range(kills):
            before = row_ids(url)
            proc = start_check(config, tmp)
            time.sleep(rng.uniform(0.2, full_s))
            killed = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            after = row_ids(url)
            lost = sum(len(before[t] - after[t]) for t in APPEND_ONLY)
            cat.lost += lost
            mid_run += killed
            cat.outcome(f"kill {k + 1}", lost == 0)
        if url.startswith("sqlite"):
            cat.outcome("integrity_check after the kills", sqlite_ok(url))
        last = start_check(config, tmp)
        _, err = last.communicate(timeout=300)
        cat.outcome("a full run after the kills", last.returncode in (0, 1), traceback="Traceback" in err)
        after_all = row_ids(url)
        cat.rows_after = sum(len(v) for v in after_all.values())
        cat.lost += sum(len(before_all[t] - after_all[t]) for t in APPEND_ONLY)
        cat.notes.append(f"{mid_run} of {kills} kills landed mid-run; a full run takes {full_s:.1f} s")
    return cat


def terminate_loop(url: str, tmp: Path, rounds: int) -> Category:
    """Drop every connection of a running ``failover check`` at a random moment (twice, 0.3 s apart)."""
    import psycopg

    cat = Category("pg_terminate_backend during `failover check`")
    admin = url.replace("postgresql+psycopg://", "postgresql://", 1)
    database = admin.rsplit("/", 1)[1]
    rng = random.Random(4200 + rounds)
    codes: list[int | None] = []
    terminated = 0
    with estate(tmp, url) as config, psycopg.connect(admin.rsplit("/", 1)[0] + "/postgres", autocommit=True) as pg:
        started = time.monotonic()
        warm = start_check(config, tmp)
        warm.communicate(timeout=300)
        full_s = time.monotonic() - started
        before_all = row_ids(url)
        cat.rows_before = sum(len(v) for v in before_all.values())
        for r in range(rounds):
            before = row_ids(url)
            proc = start_check(config, tmp)
            time.sleep(rng.uniform(0.5, full_s))
            for _ in range(2):
                if proc.poll() is None:
                    rows = pg.execute(TERMINATE, (database,)).fetchall()
                    terminated += sum(1 for (done,) in rows if done)
                    time.sleep(0.3)
            try:
                _, err = proc.communicate(timeout=120)
                hang = False
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate(timeout=30)
                hang = True
            codes.append(proc.returncode)
            lost = sum(len(before[t] - row_ids(url)[t]) for t in APPEND_ONLY)
            cat.lost += lost
            clear = proc.returncode in (0, 1, 3) and lost == 0
            cat.outcome(f"round {r + 1}", clear, traceback="Traceback" in err, hang=hang)
        after_all = row_ids(url)
        cat.rows_after = sum(len(v) for v in after_all.values())
    shown = ", ".join(f"{c}: {codes.count(c)}" for c in sorted({c for c in codes if c is not None}))
    cat.notes.append(f"{terminated} connections terminated mid-run; exit codes ({shown})")
    return cat


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    try:
        import psycopg

        name = f"failover_faults_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as err:  # no Postgres here: those categories are skipped, and say so
        print(f"note: Postgres unavailable ({type(err).__name__}: {err}); its categories are skipped", file=sys.stderr)
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------------ main
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(categories: list[Category]) -> str:
    columns = ("attempts", "correct", "wrong", "traceback", "hang", "rows before->after", "lost")
    head = f"{'category':<46} " + " ".join(f"{c:>{max(len(c), 5)}}" for c in columns)
    lines = [head, "-" * len(head)]
    for c in categories:
        rows = f"{c.rows_before}->{c.rows_after}" if c.rows_before is not None else "-"
        lost = str(c.lost) if c.rows_before is not None else "-"
        values = (c.attempts, c.correct, len(c.wrong), len(c.tracebacks), len(c.hangs), rows, lost)
        lines.append(
            f"{c.name:<46} " + " ".join(f"{v!s:>{max(len(k), 5)}}" for k, v in zip(columns, values, strict=True))
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the hostile DNS and HTTP cases")
    parser.add_argument("--kills", type=int, default=12, help="SIGKILLs of `failover check` per backend")
    parser.add_argument("--terminations", type=int, default=4, help="pg_terminate_backend rounds")
    parser.add_argument(
        "--postgres", default=os.environ.get("FAILOVER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--only", default="dns,http,cli,kill,terminate", help="categories to run (comma-separated, default all)"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))

    categories: list[Category] = []
    baseline = peak_rss_mb()
    dns_timing, http_timing = Timing(), Timing()
    started = time.monotonic()
    if "dns" in only:
        categories.append(hostile_dns(args.rounds, dns_timing))
    if "http" in only:
        categories.append(hostile_http(args.rounds, http_timing))
    peak = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="failover-faults-") as tmp_name:
        tmp = Path(tmp_name)
        if "cli" in only:
            categories.append(bad_input(tmp))
        if "kill" in only:
            categories.append(kill_loop("SQLite", f"sqlite:///{tmp / 'kills.db'}", tmp, args.kills))
        if not args.no_postgres and "kill" in only:
            with postgres_database(args.postgres) as url:
                if url is not None:
                    categories.append(kill_loop("Postgres", url, tmp, args.kills))
        if not args.no_postgres and "terminate" in only:
            with postgres_database(args.postgres) as url:
                if url is not None:
                    categories.append(terminate_loop(url, tmp, args.terminations))

    print(table(categories))
    print()
    for c in categories:
        for what, cases in (("WRONG", c.wrong), ("TRACEBACK", c.tracebacks), ("HANG", c.hangs)):
            for case in cases:
                print(f"  {what:<9} {c.name}: {case}")
        for note in c.notes:
            print(f"  note      {c.name}: {note}")
    for label, timing in (("DNS", dns_timing), ("HTTP", http_timing)):
        if timing.configured_s:
            print(
                f"time to timeout, {label}: worst {timing.worst_s:.2f} s for {timing.configured_s:g} s configured "
                f"({timing.worst_ratio:.2f}x)"
            )
    if only & {"dns", "http"}:
        print(f"peak RSS under hostile peers: {peak:.0f} MB (before them: {baseline:.0f} MB)")
    wrong = sum(len(c.wrong) for c in categories)
    lost = sum(c.lost for c in categories)
    tracebacks = sum(len(c.tracebacks) for c in categories)
    hangs = sum(len(c.hangs) for c in categories)
    attempts = sum(c.attempts for c in categories)
    print(
        f"{attempts} attempts in {time.monotonic() - started:.0f} s: {wrong} wrong verdicts, {lost} rows lost, "
        f"{tracebacks} tracebacks, {hangs} hangs"
    )
    sys.exit(1 if wrong or lost else 0)


if __name__ == "__main__":
    main()
