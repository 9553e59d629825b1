"""Runs a batch of probes: a global concurrency limit, a per-host limit, per-probe timeouts, start spreading,
and results handed to a sink in batches (so the caller can bulk-insert while probes keep running).

    Engine(concurrency=100, per_host=32).run(targets, batch_size=200, sink=store_batch)

Targets are typed (``probes.targets``) and run by the probe registered for their type in
``probes.registry.PROBERS``, or a ``Job`` wraps any coroutine factory. A probe that raises becomes an
ERROR observation; nothing escapes but cancellation, which cancels and awaits every probe task.

``ParallelEngine`` is what the cycle runs (``failover.probing``): a batch large enough to pay for it is
shared out in chunks to worker processes, one per core (one event loop each, uvloop), started once per
process and kept, keeping the per-host limit exact by sharing it out between workers; a small batch
runs on ``Engine`` in this process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import multiprocessing
import os
import pickle
import queue as queue_mod
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus, utcnow
from probes.loop import loop_factory
from probes.registry import PROBERS, prober_for

__all__ = ["MIN_PER_WORKER", "Engine", "Job", "ParallelEngine", "Sink", "cores"]

Sink = Callable[[list[Observation]], Awaitable[None] | None]

_PRELOAD = [
    "probes.engine",
    "probes.dns",
    "probes.http",
    *(["uvloop"] if importlib.util.find_spec("uvloop") else []),
]

# A worker process pays for itself from about this many probes on: starting the forkserver costs
# 0.5-1.3 s once per process, a run ~0.1 s after that, against ~1.5 ms of CPU per HTTPS probe.
MIN_PER_WORKER = 500

# How long past a target's own timeout the engine waits before calling a probe hung.
_GRACE_S = 1.0


@dataclass(frozen=True, slots=True)
class Job:
    """Any awaitable-producing probe: ``run()`` must return an Observation."""

    run: Callable[[], Awaitable[Observation]]
    label: str
    host_key: str = ""
    probe: str = "custom"
    timeout: float | None = None


def _host_key(target: Any) -> str:
    """Where the per-host limit applies; a target of an unregistered type (an error at once) shares one."""
    return target.host_key if isinstance(target, Job) or type(target) in PROBERS else "default"


class Engine:
    """Runs probes in the current event loop. Limits: ``concurrency`` probes at once overall, ``per_host`` at
    once per endpoint (``host:port``, or the nameserver for DNS); ``timeout`` caps each probe (default: the
    target's own timeout plus a grace second); ``spread_s`` spreads the starts over that many seconds."""

    def __init__(
        self,
        *,
        concurrency: int = 100,
        per_host: int = 32,
        timeout: float | None = None,
        spread_s: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1 or per_host < 1:
            raise ProbeError("concurrency and per_host must be at least 1")
        if spread_s < 0 or (timeout is not None and timeout <= 0):
            raise ProbeError("spread_s must be >= 0 and timeout > 0")
        self.concurrency = concurrency
        self.per_host = per_host
        self.timeout = timeout
        self.spread_s = spread_s
        self._rng = rng or random.Random()

    async def run(
        self,
        targets: Iterable[Any],
        *,
        batch_size: int = 100,
        sink: Sink | None = None,
        on_result: Callable[[Observation], None] | None = None,
        _on_indexed: Callable[[int, Observation], None] | None = None,
        _limits: tuple[asyncio.Semaphore, dict[str, asyncio.Semaphore]] | None = None,
    ) -> list[Observation]:
        """Observations in target order. ``sink`` gets lists of up to ``batch_size`` as they complete, one
        call at a time and in completion order; a synchronous sink runs in a worker thread so a blocking
        database write does not stall the probes. ``on_result`` sees each observation as it lands.
        (``_limits``: the overall and per-host semaphores, shared by concurrent runs of one worker.)"""
        items = list(targets)
        if batch_size < 1:
            raise ProbeError("batch_size must be at least 1")
        results: list[Observation | None] = [None] * len(items)
        overall, hosts = _limits or (asyncio.Semaphore(self.concurrency), {})
        batches: asyncio.Queue[list[Observation] | None] = asyncio.Queue()
        pending: list[Observation] = []
        offsets = self._offsets(len(items))

        async def one(index: int, target: Any) -> None:
            if offsets:
                await asyncio.sleep(offsets[index])
            key = _host_key(target)
            host = hosts.setdefault(key, asyncio.Semaphore(self.per_host))
            async with host, overall:
                obs = await self._guarded(target)
            results[index] = obs
            if on_result is not None:
                on_result(obs)
            if _on_indexed is not None:
                _on_indexed(index, obs)
            pending.append(obs)
            if len(pending) >= batch_size:
                batches.put_nowait(pending[:])
                pending.clear()

        writer = asyncio.create_task(_drain(batches, sink)) if sink is not None else None
        tasks = [asyncio.create_task(one(i, t)) for i, t in enumerate(items)]
        try:
            await asyncio.gather(*tasks)
            if pending:
                batches.put_nowait(pending[:])
                pending.clear()
            if writer is not None:
                batches.put_nowait(None)
                await writer
        finally:
            stragglers = [t for t in tasks if not t.done()]
            if writer is not None and not writer.done():
                stragglers.append(writer)
            for task in stragglers:
                task.cancel()
            if stragglers:
                await asyncio.gather(*stragglers, return_exceptions=True)
        return [r for r in results if r is not None]

    def _offsets(self, n: int) -> list[float]:
        """Start offsets: evenly spaced slots over ``spread_s``, jittered within each slot, in random order."""
        if self.spread_s <= 0 or n == 0:
            return []
        slot = self.spread_s / n
        offsets = [(i + self._rng.random()) * slot for i in range(n)]
        self._rng.shuffle(offsets)
        return offsets

    async def _guarded(self, target: Any) -> Observation:
        started = utcnow()
        t0 = time.perf_counter()
        if isinstance(target, Job):
            name, label, limit, factory = target.probe, target.label, target.timeout, target.run
        else:
            try:
                probe = prober_for(target)
            except ProbeError as err:
                return Observation("unknown", str(target), ObsStatus.ERROR, str(err), observed_at=started)
            name, label, limit = probe.name, target.label, target.timeout + _GRACE_S
            factory = _bind(probe.run, target)
        limit = self.timeout if self.timeout is not None else limit
        try:
            async with asyncio.timeout(limit):
                obs = await factory()
        except TimeoutError:
            reason = f"probe did not finish within {limit:g}s"
            return Observation(name, label, ObsStatus.ERROR, reason, observed_at=started, data={"engine_timeout": True})
        except Exception as err:  # a probe bug must not sink the batch: it becomes unknown, with the reason
            reason = f"probe raised {type(err).__name__}: {err}"[:500]
            data = {"exception": type(err).__name__, "elapsed_ms": round((time.perf_counter() - t0) * 1000, 3)}
            return Observation(name, label, ObsStatus.ERROR, reason, observed_at=started, data=data)
        if not isinstance(obs, Observation):
            reason = f"probe returned {type(obs).__name__}, not an Observation"
            return Observation(name, label, ObsStatus.ERROR, reason, observed_at=started)
        return obs


def _bind(fn: Callable[[Any], Awaitable[Observation]], target: Any) -> Callable[[], Awaitable[Observation]]:
    return lambda: fn(target)


async def _call_sink(sink: Sink, batch: list[Observation]) -> None:
    """Await an async sink; run a synchronous one in a thread (a blocking DB write must not stall probes)."""
    if inspect.iscoroutinefunction(sink) or inspect.iscoroutinefunction(type(sink).__call__):
        await sink(batch)  # type: ignore[misc]
        return
    result = await asyncio.to_thread(sink, batch)
    if inspect.isawaitable(result):
        await result


async def _drain(batches: asyncio.Queue[list[Observation] | None], sink: Sink) -> None:
    while (batch := await batches.get()) is not None:
        await _call_sink(sink, batch)


# --- worker processes -----------------------------------------------------------------------------


def _serve(inbox: Any, out: multiprocessing.Queue[Any]) -> None:
    """A worker process for the life of its parent: one event loop (uvloop when installed) reused for
    every run. A run is ``("run", id, slot, options, batch_size)``, then ``("chunk", [(index, target)])``
    messages, then ``("end",)``; chunks run concurrently under one set of limits. Back on ``out``:
    ``(id, "results", pickled [(index, observation)])`` batches, ``(id, "chunk", slot, pickled rest)``
    when a chunk is finished (the parent may send another), and ``(id, "done")``."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        while (job := _next(inbox)) is not None:
            _, run_id, slot, options, batch_size = job
            runner.run(_session(inbox, out, run_id, slot, Engine(**options), batch_size))


def _next(inbox: Any) -> Any:
    """The next message; None once the parent process has gone (a killed daemon leaves no workers)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            return inbox.get(timeout=1.0)
        except queue_mod.Empty:
            if parent is not None and not parent.is_alive():
                return None
        except (EOFError, OSError):
            return None


async def _session(
    inbox: Any, out: multiprocessing.Queue[Any], run_id: int, slot: int, engine: Engine, batch_size: int
) -> None:
    loop = asyncio.get_running_loop()
    limits: tuple[asyncio.Semaphore, dict[str, asyncio.Semaphore]] = (asyncio.Semaphore(engine.concurrency), {})
    running: set[asyncio.Task[None]] = set()

    async def one_chunk(chunk: list[tuple[int, Any]]) -> None:
        pending: list[tuple[int, Observation]] = []

        def collect(position: int, obs: Observation) -> None:
            pending.append((chunk[position][0], obs))
            if len(pending) >= batch_size:
                out.put((run_id, "results", pickle.dumps(pending, protocol=pickle.HIGHEST_PROTOCOL)))
                pending.clear()

        await engine.run([t for _, t in chunk], _on_indexed=collect, _limits=limits)
        out.put((run_id, "chunk", slot, pickle.dumps(pending, protocol=pickle.HIGHEST_PROTOCOL)))

    while (message := await loop.run_in_executor(None, _next, inbox)) is not None and message[0] == "chunk":
        task = loop.create_task(one_chunk(message[1]))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.gather(*running)
    if message is not None:
        out.put((run_id, "done"))


class _Pool:
    """Worker processes started once (from a forkserver with the probe modules preloaded) and kept:
    a run hands each its part instead of forking new ones, so only the first run pays the start (the
    interpreter, the main module's re-import, cold certificate caches). One run at a time uses it."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server with every probe module (and uvloop) already imported, so a worker
        # does not pay dnspython's and uvloop's import.
        ctx.set_forkserver_preload(_PRELOAD)
        self.ctx = ctx
        self.owner = os.getpid()
        self.out: multiprocessing.Queue[Any] = ctx.Queue()
        self.procs: list[Any] = []
        self.inboxes: list[Any] = []
        self.busy = threading.Lock()
        self.runs = 0

    def grow(self, n: int) -> None:
        while len(self.procs) < n:
            inbox: multiprocessing.Queue[Any] = self.ctx.Queue()
            proc = self.ctx.Process(target=_serve, args=(inbox, self.out), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.inboxes.append(inbox)

    def close(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=5)
        self.out.close()


_pool: _Pool | None = None
_pool_guard = threading.Lock()


def _claim_pool(workers: int) -> _Pool | None:
    """This process's worker pool with at least ``workers`` processes, claimed for one run; None while
    another run holds it (that run's caller probes in process instead)."""
    global _pool
    with _pool_guard:
        if _pool is not None and (_pool.owner != os.getpid() or not all(p.is_alive() for p in _pool.procs)):
            if _pool.owner == os.getpid():
                _pool.close()
            _pool = None  # inherited across a fork, or a worker died: start afresh
        if _pool is None:
            _pool = _Pool()
        if not _pool.busy.acquire(blocking=False):
            return None
        try:
            _pool.grow(workers)
        except BaseException:
            _pool.busy.release()
            raise
        return _pool


def _release_pool(pool: _Pool, healthy: bool) -> None:
    """End a run's claim; a run that did not finish cleanly leaves workers mid-part: they go."""
    global _pool
    if not healthy:
        with _pool_guard:
            if _pool is pool:
                _pool = None
        pool.close()
    pool.busy.release()


def worker_pids() -> list[int]:
    """Process ids of this process's probe workers (for CPU accounting in the benchmarks)."""
    pool = _pool
    return [p.pid for p in pool.procs if p.pid is not None] if pool is not None and pool.owner == os.getpid() else []


def _share(total: int, parts: int, i: int) -> int:
    return total // parts + (1 if i < total % parts else 0)


def split_targets(targets: Sequence[Any], workers: int, per_host: int) -> tuple[list[list[tuple[int, Any]]], list[int]]:
    """Assign (index, target) pairs to workers and each worker's per-host limit.

    With ``per_host >= workers`` targets go round-robin and each worker gets its share of the per-host
    limit; otherwise whole hosts go to one worker each (busiest first, to the least loaded) so the limit
    still holds exactly.
    """
    parts: list[list[tuple[int, Any]]] = [[] for _ in range(workers)]
    if per_host >= workers:
        for i, t in enumerate(targets):
            parts[i % workers].append((i, t))
        return parts, [_share(per_host, workers, w) for w in range(workers)]
    by_host: dict[str, list[tuple[int, Any]]] = {}
    for i, t in enumerate(targets):
        by_host.setdefault(_host_key(t), []).append((i, t))
    for group in sorted(by_host.values(), key=len, reverse=True):
        min(parts, key=len).extend(group)
    return parts, [per_host] * workers


def cores() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ParallelEngine:
    """``Engine`` over up to ``workers`` processes (default: one per core), each with at least
    ``min_per_worker`` targets; fewer targets than that run in this process, on ``Engine``. Workers fork
    from a preloaded forkserver on the first run and stay for the next (``_Pool``), so only the first
    run pays for them. Targets must be picklable
    (typed targets are; ``Job``s are not). The sink runs in this process and receives each worker's
    batches as they arrive. The observations are the ones ``Engine`` makes, in target order."""

    def __init__(
        self,
        *,
        workers: int | None = None,
        concurrency: int = 100,
        per_host: int = 32,
        timeout: float | None = None,
        spread_s: float = 0.0,
        min_per_worker: int = MIN_PER_WORKER,
    ) -> None:
        workers = cores() if workers is None else workers
        if workers < 1 or min_per_worker < 1:
            raise ProbeError("workers and min_per_worker must be at least 1")
        Engine(concurrency=concurrency, per_host=per_host, timeout=timeout, spread_s=spread_s)  # validates
        self.workers = workers
        self.concurrency = concurrency
        self.per_host = per_host
        self.timeout = timeout
        self.spread_s = spread_s
        self.min_per_worker = min_per_worker

    def workers_for(self, n: int) -> int:
        """How many processes a batch of ``n`` targets runs on (1: this process)."""
        return max(1, min(self.workers, n // self.min_per_worker))

    async def run(
        self, targets: Iterable[Any], *, batch_size: int = 100, sink: Sink | None = None
    ) -> list[Observation]:
        items = list(targets)
        if any(isinstance(t, Job) for t in items):
            raise ProbeError("ParallelEngine needs picklable typed targets, not Jobs")
        workers = self.workers_for(len(items))
        if workers == 1 or not items:
            return await self._in_process(items, batch_size, sink)
        pool = _claim_pool(workers)
        if pool is None:  # another run holds the workers: this one probes here
            return await self._in_process(items, batch_size, sink)
        healthy = False
        try:
            results = await self._on_pool(pool, items, workers, batch_size, sink)
            healthy = True
        finally:
            _release_pool(pool, healthy)
        return results

    async def _in_process(self, items: list[Any], batch_size: int, sink: Sink | None) -> list[Observation]:
        engine = Engine(
            concurrency=self.concurrency, per_host=self.per_host, timeout=self.timeout, spread_s=self.spread_s
        )
        return await engine.run(items, batch_size=batch_size, sink=sink)

    async def _on_pool(
        self, pool: _Pool, items: list[Any], workers: int, batch_size: int, sink: Sink | None
    ) -> list[Observation]:
        """Targets go out in chunks, more to whichever worker finishes one, so a worker that gets less
        CPU (or slower hosts) does not leave the others idle at the end. Where the per-host limit is
        smaller than the worker count (whole hosts per worker) or starts are spread, each worker gets
        its part at once instead."""
        pool.runs += 1
        run_id = pool.runs
        shared_hosts = self.per_host >= workers and self.spread_s <= 0
        if shared_hosts:
            indexed = list(enumerate(items))
            size = max(1, min(256, self.concurrency // workers // 2))
            chunks = deque(indexed[i : i + size] for i in range(0, len(indexed), size))
            limits = [_share(self.per_host, workers, w) for w in range(workers)]
        else:
            parts, limits = split_targets(items, workers, self.per_host)
            chunks = deque()
        for w in range(workers):
            options = {
                "concurrency": _share(self.concurrency, workers, w) or 1,
                "per_host": limits[w],
                "timeout": self.timeout,
                "spread_s": self.spread_s,
            }
            pool.inboxes[w].put(("run", run_id, w, options, batch_size))
            if not shared_hosts:
                pool.inboxes[w].put(("chunk", parts[w]))
        outstanding = [0] * workers
        ended = [False] * workers

        def feed(w: int) -> None:
            """Keep three chunks queued at worker ``w`` while there are any; then tell it to end."""
            while chunks and outstanding[w] < 3:
                pool.inboxes[w].put(("chunk", chunks.popleft()))
                outstanding[w] += 1
            if not chunks and not ended[w]:
                pool.inboxes[w].put(("end",))
                ended[w] = True

        for w in range(workers):
            feed(w)
        procs = pool.procs[:workers]
        results: list[Observation | None] = [None] * len(items)
        loop = asyncio.get_running_loop()
        finished = 0
        while finished < workers:
            message = await loop.run_in_executor(None, _get, pool.out, procs)
            if message[0] != run_id:
                continue  # cannot happen: a run that did not finish retires the pool
            if message[1] == "done":
                finished += 1
                continue
            if message[1] == "chunk":
                w = message[2]
                outstanding[w] -= 1
                feed(w)
            pairs: list[tuple[int, Observation]] = pickle.loads(message[-1])
            for i, obs in pairs:
                results[i] = obs
            if sink is not None and pairs:
                await _call_sink(sink, [obs for _, obs in pairs])
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise ProbeError(f"{len(missing)} probe results lost: a worker process died")
        return [r for r in results if r is not None]


def _get(out: multiprocessing.Queue[Any], procs: list[Any]) -> Any:
    """Next message, noticing a worker that died without saying so (no hang)."""
    while True:
        try:
            return out.get(timeout=0.5)
        except queue_mod.Empty:
            if any(not p.is_alive() for p in procs) and out.empty():
                raise ProbeError("a probe worker process exited without returning its results") from None
