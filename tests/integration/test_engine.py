"""The probe engine: limits observed from the server side, failures as observations, clean cancellation."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from failover.probing import probe_engine
from failover.sandbox.dns import AuthoritativeServer
from failover.schema import Config, Probes
from probes import tls
from probes.engine import MIN_PER_WORKER, Engine, Job, ParallelEngine, split_targets, worker_pids
from probes.loop import run
from probes.targets import HttpTarget, TcpTarget
from tests.fixtures.http import PUBLIC_NAME, Site, TlsSites, start_site


@pytest.fixture
def second_site() -> Iterator[Site]:
    site = start_site()
    yield site
    site.stop()


def hold(site: Site, n: int, seconds: float = 0.15) -> list[HttpTarget]:
    return [HttpTarget(site.url(f"/hold?s={seconds}&i={i}"), timeout=5) for i in range(n)]


def test_global_concurrency_limit_holds(counting_site: Site) -> None:
    results = asyncio.run(Engine(concurrency=3, per_host=100).run(hold(counting_site, 9)))
    assert [o.status for o in results] == [ObsStatus.OK] * 9
    assert counting_site.counter.peak == 3


def test_per_host_limit_holds_without_slowing_other_hosts(counting_site: Site, second_site: Site) -> None:
    targets = [t for pair in zip(hold(counting_site, 6), hold(second_site, 6), strict=True) for t in pair]
    results = asyncio.run(Engine(concurrency=50, per_host=2).run(targets))
    assert all(o.status is ObsStatus.OK for o in results)
    assert counting_site.counter.peak == 2
    assert second_site.counter.peak == 2  # both hosts ran side by side, two at a time each


def test_results_come_back_in_target_order(http_site: Site) -> None:
    targets = [HttpTarget(http_site.url(f"/status/{code}"), expect_status=(code,)) for code in (500, 200, 404, 204)]
    results = asyncio.run(Engine(concurrency=4).run(targets))
    assert [o.data["status_code"] for o in results] == [500, 200, 404, 204]


def test_a_raising_probe_becomes_an_error_observation(http_site: Site) -> None:
    async def boom() -> Observation:
        raise RuntimeError("socket table exploded")

    jobs = [Job(boom, label="custom://boom", host_key="x"), HttpTarget(http_site.url("/ok"))]
    results = asyncio.run(Engine().run(jobs))
    assert results[0].status is ObsStatus.ERROR
    assert results[0].reason == "probe raised RuntimeError: socket table exploded"
    assert results[0].target == "custom://boom"
    assert results[1].status is ObsStatus.OK


def test_an_unknown_target_type_is_an_error_observation() -> None:
    results = asyncio.run(Engine().run(["not a target"]))
    assert results[0].status is ObsStatus.ERROR
    assert results[0].reason == "no probe for targets of type str"


def test_a_hung_probe_is_cut_at_the_engine_timeout() -> None:
    async def hang() -> Observation:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    started = time.perf_counter()
    results = asyncio.run(Engine().run([Job(hang, label="hang", timeout=0.2)]))
    assert time.perf_counter() - started < 2
    assert results[0].status is ObsStatus.ERROR
    assert results[0].reason == "probe did not finish within 0.2s"


def test_sink_receives_batches_in_a_thread_for_sync_sinks(http_site: Site) -> None:
    batches: list[int] = []
    threads: set[int] = set()

    def sink(batch: list[Observation]) -> None:
        batches.append(len(batch))
        threads.add(threading.get_ident())

    targets = [HttpTarget(http_site.url(f"/ok?i={i}")) for i in range(10)]
    results = asyncio.run(Engine(concurrency=10).run(targets, batch_size=3, sink=sink))
    assert len(results) == 10
    assert sorted(batches, reverse=True) == [3, 3, 3, 1]
    assert threading.get_ident() not in threads  # a blocking database write does not stall the loop


def test_async_sink_and_per_result_callback(http_site: Site) -> None:
    seen: list[str] = []
    batches: list[list[Observation]] = []

    async def sink(batch: list[Observation]) -> None:
        await asyncio.sleep(0)
        batches.append(batch)

    targets = [HttpTarget(http_site.url(f"/ok?i={i}")) for i in range(5)]
    asyncio.run(Engine().run(targets, batch_size=2, sink=sink, on_result=lambda o: seen.append(o.target)))
    assert sorted(seen) == sorted(t.url for t in targets)
    assert sum(len(b) for b in batches) == 5


def test_starts_are_spread_over_the_interval() -> None:
    starts: list[float] = []

    def job(i: int) -> Job:
        async def run() -> Observation:
            starts.append(time.perf_counter())
            return Observation("custom", f"j{i}", ObsStatus.OK, "ok")

        return Job(run, label=f"j{i}", host_key=f"h{i}")

    began = time.perf_counter()
    asyncio.run(Engine(spread_s=0.5).run([job(i) for i in range(5)]))
    offsets = sorted(s - began for s in starts)
    assert offsets[-1] > 0.3 and offsets[-1] < 1.0
    assert all(b - a > 0 for a, b in itertools.pairwise(offsets))


def test_cancellation_leaves_no_tasks_or_warnings(counting_site: Site) -> None:
    leftover: set[asyncio.Task[object]] = set()

    async def main() -> None:
        run = asyncio.create_task(Engine(concurrency=5).run(hold(counting_site, 20, seconds=1.0)))
        await asyncio.sleep(0.2)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        leftover.update(t for t in asyncio.all_tasks() if t is not asyncio.current_task())

    gc.collect()  # earlier tests' garbage is not this test's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
        gc.collect()
    assert not leftover
    assert [str(w.message) for w in caught] == []


def test_dns_targets_run_through_the_same_engine() -> None:
    from probes.dns import DnsTarget

    with AuthoritativeServer({"example.test": [("www", 60, "A", "192.0.2.1")]}) as server:
        target = DnsTarget("www.example.test", "A", server=server.address, timeout=2)
        results = asyncio.run(Engine().run([target, TcpTarget("127.0.0.1", server.port)]))
    assert results[0].probe == "dns"
    assert results[0].status is ObsStatus.OK, results[0].reason
    assert results[1].status is ObsStatus.OK  # the DNS server also listens on TCP


def test_parallel_engine_returns_every_result_in_order(http_site: Site) -> None:
    targets = [HttpTarget(http_site.url(f"/status/{200 + i % 3}"), expect_status=(200,)) for i in range(12)]
    batches: list[int] = []
    results = asyncio.run(
        ParallelEngine(workers=2, concurrency=6, per_host=6).run(
            targets, batch_size=4, sink=lambda b: batches.append(len(b))
        )
    )
    assert [o.data["status_code"] for o in results] == [200 + i % 3 for i in range(12)]
    assert sum(batches) == 12


def test_parallel_engine_keeps_the_per_host_limit_exact(counting_site: Site) -> None:
    results = asyncio.run(ParallelEngine(workers=2, concurrency=20, per_host=1).run(hold(counting_site, 4, 0.1)))
    assert all(o.status is ObsStatus.OK for o in results)
    assert counting_site.counter.peak == 1


def _statuses(results: list[Observation]) -> list[int]:
    return [o.data["status_code"] for o in results]


def test_parallel_engine_keeps_its_workers_between_runs(http_site: Site) -> None:
    targets = [HttpTarget(http_site.url(f"/status/{200 + i % 3}")) for i in range(8)]
    engine = ParallelEngine(workers=2, concurrency=6, per_host=6, min_per_worker=1)
    first = asyncio.run(engine.run(targets))
    pids = worker_pids()
    second = asyncio.run(engine.run(targets))
    assert len(pids) == 2 and worker_pids() == pids  # the second run forked nothing
    assert _statuses(first) == _statuses(second) == [200 + i % 3 for i in range(8)]


def test_a_dead_worker_is_replaced_by_the_next_run(http_site: Site) -> None:
    targets = [HttpTarget(http_site.url("/ok")) for _ in range(6)]
    engine = ParallelEngine(workers=2, concurrency=6, per_host=6, min_per_worker=1)
    asyncio.run(engine.run(targets))
    killed = worker_pids()[0]
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(f"/proc/{killed}") and _alive(killed):
        time.sleep(0.02)
    results = asyncio.run(engine.run(targets))
    assert [o.status for o in results] == [ObsStatus.OK] * 6
    assert killed not in worker_pids()


def _alive(pid: int) -> bool:
    """Not yet a zombie (a killed worker stays in /proc until its parent reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_dying_mid_run_fails_that_run_and_not_the_next(counting_site: Site) -> None:
    engine = ParallelEngine(workers=2, concurrency=8, per_host=8, min_per_worker=1)
    asyncio.run(engine.run(hold(counting_site, 2, 0.01)))
    victim = worker_pids()[0]
    threading.Timer(0.3, os.kill, (victim, signal.SIGKILL)).start()
    with pytest.raises(ProbeError, match="worker process"):
        asyncio.run(engine.run(hold(counting_site, 8, 1.0)))
    results = asyncio.run(engine.run(hold(counting_site, 4, 0.01)))
    assert [o.status for o in results] == [ObsStatus.OK] * 4


def test_a_run_while_another_holds_the_workers_probes_in_process(http_site: Site) -> None:
    engine = ParallelEngine(workers=2, concurrency=6, per_host=6, min_per_worker=1)
    a = [HttpTarget(http_site.url("/status/200")) for _ in range(6)]
    b = [HttpTarget(http_site.url("/status/404"), expect_status=(404,)) for _ in range(6)]

    async def both() -> tuple[list[Observation], list[Observation]]:
        return await asyncio.gather(engine.run(a), engine.run(b))

    first, second = asyncio.run(both())
    assert _statuses(first) == [200] * 6 and _statuses(second) == [404] * 6
    assert all(o.status is ObsStatus.OK for o in [*first, *second])


def test_parallel_engine_hands_out_chunks_in_order_within_the_per_host_limit(counting_site: Site) -> None:
    targets = hold(counting_site, 40, 0.02)
    engine = ParallelEngine(workers=2, concurrency=12, per_host=6, min_per_worker=1)
    results = asyncio.run(engine.run(targets, batch_size=7))
    assert [o.data["url"] for o in results] == [t.url for t in targets]
    assert all(o.status is ObsStatus.OK for o in results)
    assert counting_site.counter.peak <= 6


def test_split_shares_limits_or_whole_hosts() -> None:
    a = [TcpTarget("10.0.0.1", 80, timeout=1) for _ in range(5)]
    b = [TcpTarget("10.0.0.2", 80, timeout=1) for _ in range(3)]
    parts, limits = split_targets([*a, *b], workers=2, per_host=5)
    assert [len(p) for p in parts] == [4, 4] and limits == [3, 2]
    parts, limits = split_targets([*a, *b], workers=2, per_host=1)
    assert sorted(len(p) for p in parts) == [3, 5] and limits == [1, 1]
    assert {t.host for _, t in parts[0]} != {t.host for _, t in parts[1]}


def test_bad_engine_settings_are_rejected() -> None:
    with pytest.raises(ProbeError):
        Engine(concurrency=0)
    with pytest.raises(ProbeError):
        ParallelEngine(workers=0)


# What differs between two runs of the same probe: when it ran and how long each phase took.
_TIMING_KEYS = frozenset({"timings_ms", "elapsed_ms", "days_left"})


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _TIMING_KEYS}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _facts(obs: Observation) -> Observation:
    reason = re.sub(r"in [0-9.]+ ms", "in N ms", obs.reason)
    return dataclasses.replace(obs, latency_ms=None, observed_at=None, reason=reason, data=_timeless(obs.data))  # type: ignore[arg-type]


def _mixed_plan(tls_sites: TlsSites, http_site: Site, closed_port: int) -> list[HttpTarget]:
    """Every kind of outcome the cycle meets: valid, wrong-name, expired, warn-band and self-signed TLS
    (directly and as the public name), HTTP statuses, a body mismatch and a refused connection."""
    ca = (tls_sites.ca_file,)
    plan: list[HttpTarget] = []
    for site in (tls_sites.valid, tls_sites.wrong_name, tls_sites.expired, tls_sites.soon, tls_sites.self_signed):
        url = site.url("/ok").replace("http://", "https://")
        plan += [HttpTarget(url, ca_files=ca), HttpTarget(url, ca_files=ca, public_name=PUBLIC_NAME)]
    plan += [HttpTarget(http_site.url(f"/status/{code}"), expect_status=(200,)) for code in (200, 404, 503)]
    plan += [HttpTarget(http_site.url("/ok"), expect_body="nope"), HttpTarget(f"http://127.0.0.1:{closed_port}/")]
    return plan * 3


def test_the_cycle_engine_on_every_core_observes_what_one_process_observes(
    tls_sites: TlsSites, http_site: Site, closed_port: int
) -> None:
    plan = _mixed_plan(tls_sites, http_site, closed_port)
    one = run(Engine(concurrency=10, per_host=4).run(plan))
    engine = ParallelEngine(workers=2, concurrency=10, per_host=4, min_per_worker=1)
    assert engine.workers_for(len(plan)) == 2
    both = run(engine.run(plan))
    assert [_facts(o) for o in both] == [_facts(o) for o in one]
    assert {o.status for o in one} == {ObsStatus.OK, ObsStatus.WARN, ObsStatus.FAILED}


def test_the_cycle_probes_a_small_plan_in_process_and_a_large_one_on_every_core() -> None:
    engine = probe_engine(Config(probes=Probes(workers=2)))
    assert engine.workers_for(10) == 1  # one workload in a daemon job: no worker processes
    assert engine.workers_for(2 * MIN_PER_WORKER) == 2
    assert probe_engine(Config(probes=Probes(workers=1))).workers_for(10 * MIN_PER_WORKER) == 1


def test_a_certificate_chain_is_parsed_once_for_many_probes(tls_sites: TlsSites) -> None:
    tls.describe_certificate.cache_clear()
    url = tls_sites.valid.url("/ok").replace("http://", "https://")
    results = run(Engine(concurrency=4).run([HttpTarget(url, ca_files=(tls_sites.ca_file,)) for _ in range(6)]))
    assert [o.status for o in results] == [ObsStatus.OK] * 6
    info = tls.describe_certificate.cache_info()
    assert info.misses == 2 and info.hits == 10  # leaf and CA: parsed by the first probe, reused by five
    assert info.maxsize == tls.CHAIN_CACHE_SIZE
