"""Real DNS daemons as child processes on loopback: Knot (authoritative) and dnsmasq (caching resolver).

Tests, the benchmark and the demo use them to prove the DNS probes against production servers, not
only against our in-process one. Each runs in its own temp dir on a port free on both UDP and TCP.

    with KnotServer({"example.test": records}) as knot, Dnsmasq({"example.test": knot.address}) as resolver:
        knot.set_record("example.test", "www", 60, "A", "198.51.100.7")   # knotc zone-begin/set/commit
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from failover.sandbox.dns import ZoneSpec, free_port, make_zone

__all__ = ["DaemonError", "Dnsmasq", "KnotServer", "zone_text"]


class DaemonError(RuntimeError):
    pass


def zone_text(origin: str, spec: ZoneSpec) -> str:
    """Zone-file text (absolute names) from records, adding SOA and NS as ``make_zone`` does."""
    if isinstance(spec, str):
        return spec
    return make_zone(origin, spec).to_text(relativize=False)  # type: ignore[no-any-return]


def _wait_answering(host: str, port: int, name: str, proc: subprocess.Popen[bytes], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise DaemonError(f"exited with {proc.returncode}: {err.strip()[-500:]}")
        try:
            reply = dns.query.udp(dns.message.make_query(name, "SOA"), host, timeout=0.2, port=port)
            if reply.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return
            last = dns.rcode.to_text(reply.rcode())
        except (dns.exception.Timeout, OSError) as err:
            last = str(err) or type(err).__name__
        time.sleep(0.02)
    raise DaemonError(f"not answering on {host}:{port} after {deadline_s:g}s ({last})")


class _Daemon:
    binary = ""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def available(cls) -> str | None:
        """The binary's path, or None when it is not installed."""
        return shutil.which(cls.binary) or next(
            (p for p in (f"/usr/sbin/{cls.binary}", f"/sbin/{cls.binary}") if Path(p).exists()), None
        )

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{self.binary} is not started")
        return self._port

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError(f"{self.binary} is not started")
        return Path(self._tmp.name)

    def _command(self, binary: str) -> list[str]:
        raise NotImplementedError

    def _probe_name(self) -> str:
        raise NotImplementedError

    def start(self, attempts: int = 3) -> _Daemon:
        binary = self.available()
        if binary is None:
            raise DaemonError(f"{self.binary} is not installed")
        fixed = bool(self._port)
        error: Exception | None = None
        for _ in range(attempts):  # a free port can be taken between the check and the bind: retry
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{self.binary}-")
            if not fixed:
                self._port = free_port(self.host)
            self._proc = subprocess.Popen(
                self._command(binary), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self._tmp.name
            )
            try:
                _wait_answering(self.host, self._port, self._probe_name(), self._proc, 10.0)
                return self
            except DaemonError as err:
                error = err
                self.stop()
                if fixed:
                    break
        raise DaemonError(f"{self.binary} did not start: {error}")

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(5)
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None

    def __exit__(self, *exc: object) -> None:
        self.stop()


class KnotServer(_Daemon):
    """Knot DNS serving zones (origin → records or zone-file text); records change through ``knotc``."""

    binary = "knotd"

    def __init__(
        self, zones: Mapping[str, ZoneSpec], host: str = "127.0.0.1", port: int = 0, workers: int | None = None
    ) -> None:
        super().__init__(host, port)
        if not zones:
            raise ValueError("KnotServer needs at least one zone")
        self.zones = {origin.rstrip(".") + ".": zone_text(origin, spec) for origin, spec in zones.items()}
        self.workers = workers

    def __enter__(self) -> KnotServer:
        self.start()
        return self

    @property
    def config(self) -> Path:
        return self.dir / "knot.conf"

    def _probe_name(self) -> str:
        return next(iter(self.zones))

    def _command(self, binary: str) -> list[str]:
        d = self.dir
        workers = f"    udp-workers: {self.workers}\n    tcp-workers: {self.workers}\n" if self.workers else ""
        lines = [
            "server:",
            f'    rundir: "{d}"',
            f"    listen: {self.host}@{self._port}",
            workers.rstrip("\n"),
            "control:",
            f'    listen: "{d}/knot.sock"',
            "database:",
            f'    storage: "{d}"',
            "log:",
            "  - target: stderr",
            "    any: warning",
            "template:",
            "  - id: default",
            f'    storage: "{d}"',
            "    zonefile-sync: -1",
            "    journal-content: none",
            "zone:",
        ]
        for i, (origin, text) in enumerate(self.zones.items()):
            (d / f"zone{i}.zone").write_text(text)
            lines += [f"  - domain: {origin}", f"    file: zone{i}.zone"]
        self.config.write_text("\n".join(line for line in lines if line) + "\n")
        return [binary, "-c", str(self.config)]

    def knotc(self, *args: str) -> str:
        knotc = shutil.which("knotc") or "/usr/sbin/knotc"
        run = subprocess.run([knotc, "-c", str(self.config), *args], capture_output=True, text=True, timeout=10)
        out = (run.stdout + run.stderr).strip()
        if run.returncode != 0 or "error:" in out:
            raise DaemonError(f"knotc {' '.join(args)}: {out}")
        return out

    def _transaction(self, zone: str, edits: Sequence[Sequence[str]]) -> None:
        self.knotc("zone-begin", zone)
        try:
            for edit in edits:
                self.knotc(*edit)
        except DaemonError:
            with contextlib.suppress(DaemonError):
                self.knotc("zone-abort", zone)
            raise
        self.knotc("zone-commit", zone)

    def set_record(self, zone: str, owner: str, ttl: int, rdtype: str, *values: str) -> None:
        """Replace the RRset ``owner``/``rdtype`` in one transaction (seen by the next query)."""
        edits: list[list[str]] = []
        if self._exists(zone, owner, rdtype):
            edits.append(["zone-unset", zone, owner, rdtype])
        edits += [["zone-set", zone, owner, str(ttl), rdtype, v] for v in values]
        self._transaction(zone, edits)

    def delete_record(self, zone: str, owner: str, rdtype: str | None = None) -> None:
        self._transaction(zone, [["zone-unset", zone, owner, *([rdtype] if rdtype else [])]])

    def _exists(self, zone: str, owner: str, rdtype: str) -> bool:
        try:
            return bool(self.knotc("zone-read", zone, owner, rdtype))
        except DaemonError:
            return False


class Dnsmasq(_Daemon):
    """dnsmasq as a caching resolver forwarding each domain to a server (domain → ``host:port``)."""

    binary = "dnsmasq"

    def __init__(
        self, forward: Mapping[str, str], host: str = "127.0.0.1", port: int = 0, extra: Sequence[str] = ()
    ) -> None:
        super().__init__(host, port)
        if not forward:
            raise ValueError("Dnsmasq needs at least one domain to forward")
        self.forward = dict(forward)
        self.extra = list(extra)

    def __enter__(self) -> Dnsmasq:
        self.start()
        return self

    def _probe_name(self) -> str:
        return next(iter(self.forward)).rstrip(".") + "."

    def _command(self, binary: str) -> list[str]:
        servers = []
        for domain, target in self.forward.items():
            host, _, port = target.rpartition(":")
            servers.append(f"--server=/{domain.rstrip('.')}/{host.strip('[]')}#{port}")
        return [
            binary,
            "-k",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            f"--listen-address={self.host}",
            f"--port={self._port}",
            "--pid-file=",
            *(["--user=root"] if os.geteuid() == 0 else []),
            "--cache-size=10000",
            *servers,
            *self.extra,
        ]
