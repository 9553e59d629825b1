"""What the probe benchmarks share: child server processes (nginx, blackbox_exporter) on free loopback
ports with their CPU time, and a minimal keep-alive HTTP client driving blackbox_exporter's /probe.
Standard library only: benchmark worker processes re-import their main module on every run."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

BLACKBOX = "prometheus-blackbox-exporter"


def run_loop(coro: Awaitable[Any]) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{what} exited: {err.strip()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready on port {port}")


class ServerProcess:
    """A server child process in its own temp dir; ``cpu_s`` reads its CPU time from /proc."""

    proc: subprocess.Popen[bytes]

    def __init__(self, prefix: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.dir = Path(self._tmp.name)
        self.port = free_tcp_port()

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self._tmp.cleanup()


class Blackbox(ServerProcess):
    """blackbox_exporter with the given module config."""

    def __init__(self, config_text: str) -> None:
        super().__init__("blackbox-bench-")
        binary = shutil.which(BLACKBOX) or f"/usr/bin/{BLACKBOX}"
        if not Path(binary).exists():
            raise RuntimeError(f"{BLACKBOX} is not installed (apt-get install prometheus-blackbox-exporter)")
        config = self.dir / "blackbox.yml"
        config.write_text(config_text)
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_http(self.port, "/-/healthy", self.proc, BLACKBOX)

    @staticmethod
    def probe_request(module: str, target: str) -> bytes:
        """One keep-alive ``/probe`` request line for ``drive``."""
        return f"GET /probe?module={module}&target={target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    def measure(self, requests: list[bytes], concurrency: int) -> tuple[float, int, float]:
        """Drive ``requests`` through it: (seconds, probes that succeeded, its CPU seconds meanwhile)."""
        cpu0 = self.cpu_s()
        started = time.perf_counter()
        ok = run_loop(drive(self.port, requests, concurrency))
        elapsed = time.perf_counter() - started
        return elapsed, ok, self.cpu_s() - cpu0


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return bytes(body)
            body += chunk[:-2]
    start = headers.index(b"content-length:") + len(b"content-length:")
    return await reader.readexactly(int(headers[start : headers.index(b"\r\n", start)]))


async def drive(port: int, requests: list[bytes], concurrency: int) -> int:
    """Send every request over ``concurrency`` keep-alive connections; how many probes succeeded."""
    queue = list(reversed(requests))
    ok = 0

    async def connection() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                writer.write(queue.pop())
                body = await read_response(reader)  # not inline: `ok += await …` would lose updates
                ok += b"\nprobe_success 1" in body
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(requests)))))
    return ok
