"""TCP probe: can we open a connection (and, optionally, what does the service say first)?"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

from failover.model import Observation, ObsStatus, utcnow
from probes.targets import TcpTarget

__all__ = ["probe_tcp"]


class _Banner(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.data = bytearray()
        self.done: asyncio.Future[None] = loop.create_future()
        self._limit = limit

    def data_received(self, data: bytes) -> None:
        self.data += data
        if len(self.data) >= self._limit and not self.done.done():
            self.done.set_result(None)

    def eof_received(self) -> bool:
        if not self.done.done():
            self.done.set_result(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def probe_tcp(target: TcpTarget) -> Observation:
    """Connect within ``timeout``; refused is FAILED, no answer before the timeout is ERROR (unknown)."""
    loop = asyncio.get_running_loop()
    observed_at = utcnow()
    started = time.perf_counter()
    data: dict[str, Any] = {"host": target.host, "port": target.port}
    transport: asyncio.BaseTransport | None = None
    reader = _Banner(loop, max(target.banner_bytes, 1))
    try:
        async with asyncio.timeout(target.timeout):
            transport, _ = await loop.create_connection(lambda: reader, target.host, target.port)
    except TimeoutError:
        return Observation(
            "tcp",
            target.label,
            ObsStatus.ERROR,
            f"connect timed out after {target.timeout:g}s",
            None,
            observed_at,
            data,
        )
    except ConnectionRefusedError:
        return Observation("tcp", target.label, ObsStatus.FAILED, "connection refused", None, observed_at, data)
    except socket.gaierror as err:
        return Observation(
            "tcp",
            target.label,
            ObsStatus.ERROR,
            f"cannot resolve {target.host}: {err.strerror or err}",
            None,
            observed_at,
            data,
        )
    except OSError as err:
        return Observation(
            "tcp", target.label, ObsStatus.FAILED, f"cannot connect: {err.strerror or err}", None, observed_at, data
        )
    try:
        connect_ms = _ms(time.perf_counter() - started)
        peer = transport.get_extra_info("peername")
        data["address"] = f"{peer[0]}:{peer[1]}" if peer else None
        data["connect_ms"] = connect_ms
        if target.banner_bytes > 0:
            try:
                async with asyncio.timeout(target.banner_timeout):
                    await reader.done
                data["banner_timeout"] = False
            except TimeoutError:
                data["banner_timeout"] = True
            banner = bytes(reader.data[: target.banner_bytes])
            data["banner"] = banner.decode("utf-8", errors="replace")
            data["banner_bytes"] = len(banner)
            if target.expect_banner is not None and target.expect_banner not in data["banner"]:
                reason = f"banner does not contain {target.expect_banner!r} (got {data['banner'][:60]!r})"
                return Observation("tcp", target.label, ObsStatus.FAILED, reason, connect_ms, observed_at, data)
        return Observation(
            "tcp", target.label, ObsStatus.OK, f"connected in {connect_ms:.1f} ms", connect_ms, observed_at, data
        )
    finally:
        transport.close()
