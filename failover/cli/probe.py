"""``failover probe``: run one probe by hand and print what it saw (for debugging an endpoint or a name).

Exit codes: 0 ok/warn, 1 failed/error, 2 bad arguments.
"""

from __future__ import annotations

import json
from typing import Any

import click

from failover.cli.options import Duration, config_option, format_option
from failover.cli.render import Format, emit
from failover.errors import ProbeError
from failover.model import ObsStatus
from failover.schema import check_host, parse_host_port, parse_http_url


def _checked(check: Any, hint: str) -> Any:
    """Run one of the schema's parsers on an argument; its ValueError becomes a usage error (exit 2)."""
    try:
        return check()
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=hint) from None


def _json_expectations(values: tuple[str, ...]) -> dict[str, Any] | None:
    """``$.status=ok`` / ``$.count=3`` (the value is JSON when it parses as JSON, else a string)."""
    if not values:
        return None
    out: dict[str, Any] = {}
    for item in values:
        path, sep, raw = item.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"expected PATH=VALUE like $.status=ok, got {item!r}", param_hint="--expect-json")
        try:
            out[path.strip()] = json.loads(raw)
        except ValueError:
            out[path.strip()] = raw
    return out


def _kind(target: str) -> str:
    lowered = target.lower()
    if lowered.startswith(("http://", "https://")):
        return "http"
    if lowered.startswith("tcp://"):
        return "tcp"
    if "://" in target:
        raise click.BadParameter(f"unsupported scheme in {target!r} (use http://, https://, tcp:// or a DNS name)")
    return "dns"


def _refuse(kind: str, **flags: object) -> None:
    used = [name for name, value in flags.items() if value not in (None, (), False)]
    if used:
        names = ", ".join("--" + u.replace("_", "-") for u in used)
        raise click.UsageError(f"{names} cannot be used with {kind.upper()} targets")


def _build(
    target: str,
    *,
    config_path: str | None,
    as_name: str | None,
    ca_files: tuple[str, ...],
    dns_server: str | None,
    rdtype: str | None,
    expect_status: tuple[int, ...],
    expect_body: str | None,
    expect_json: tuple[str, ...],
    follow_redirects: bool,
    banner: int,
    timeout: float | None,
) -> Any:
    kind = _kind(target)
    if as_name is not None:
        _checked(lambda: check_host(as_name), "--as-name")
    if dns_server is not None:
        _checked(lambda: parse_host_port(dns_server, default_port=53), "--dns-server")
    http_flags = {
        "as_name": as_name,
        "ca_file": ca_files,
        "expect_status": expect_status,
        "expect_body": expect_body,
        "expect_json": expect_json,
        "follow_redirects": follow_redirects,
    }
    try:
        if kind == "http":
            _refuse(kind, dns_server=dns_server, type=rdtype, banner=banner)
            _checked(lambda: parse_http_url(target), "TARGET")
            from probes.targets import HttpTarget

            global_ca: tuple[str, ...] = ()
            if config_path is not None:
                from failover.config import load_config

                ca = load_config(config_path).tls.ca_file
                global_ca = (ca,) if ca else ()
            return HttpTarget(
                url=target,
                expect_status=expect_status or (200,),
                expect_body=expect_body,
                expect_json=_json_expectations(expect_json),
                timeout=timeout or 10.0,
                follow_redirects=follow_redirects,
                public_name=as_name,
                ca_files=global_ca + ca_files,
            )
        if kind == "tcp":
            _refuse(kind, dns_server=dns_server, type=rdtype, **http_flags)
            from probes.targets import TcpTarget

            host, port = _checked(lambda: parse_host_port(target[len("tcp://") :].rstrip("/")), "TARGET")
            return TcpTarget(host=host, port=port, timeout=timeout or 5.0, banner_bytes=banner)
        _refuse(kind, banner=banner, **http_flags)
        import dns.name
        import dns.rdatatype

        from probes.dns import DnsTarget, parse_server

        try:
            dns.name.from_text(target)
            dns.rdatatype.from_text(rdtype or "A")
        except Exception as err:  # dnspython raises several unrelated types for bad text
            raise ProbeError(f"bad DNS question {target!r} {rdtype or 'A'}: {err}") from None
        if dns_server is not None:
            parse_server(dns_server)
        return DnsTarget(name=target, rdtype=(rdtype or "A").upper(), server=dns_server, timeout=timeout or 3.0)
    except ProbeError as err:
        raise click.UsageError(str(err)) from None


@click.command("probe")
@click.argument("target")
@click.option("--as-name", "as_name", metavar="HOST", help="HTTPS: send HOST as SNI and Host, verify the cert for it.")
@click.option("--ca-file", "ca_files", multiple=True, type=click.Path(dir_okay=False), help="Extra CA file to trust.")
@click.option("--dns-server", metavar="HOST:PORT", help="DNS: the server to ask (default: the system resolver).")
@click.option("--type", "rdtype", metavar="TYPE", help="DNS: record type (A, AAAA, CNAME, NS, MX, TXT, SOA...).")
@click.option("--expect-status", type=click.IntRange(100, 599), multiple=True, help="HTTP: accepted status (repeat).")
@click.option("--expect-body", metavar="TEXT|/REGEX/", help="HTTP: the body must contain TEXT or match /REGEX/.")
@click.option("--expect-json", multiple=True, metavar="PATH=VALUE", help="HTTP: e.g. '$.status=ok' (repeat).")
@click.option("--follow-redirects", is_flag=True, help="HTTP: follow redirects (each on a fresh connection).")
@click.option("--banner", type=click.IntRange(0, 65536), default=0, help="TCP: read up to N banner bytes.")
@click.option("--timeout", type=Duration(positive=True), metavar="DURATION", help="Probe timeout (e.g. 5s, 500ms).")
@config_option
@format_option()
@click.pass_context
def probe(
    ctx: click.Context,
    target: str,
    as_name: str | None,
    ca_files: tuple[str, ...],
    dns_server: str | None,
    rdtype: str | None,
    expect_status: tuple[int, ...],
    expect_body: str | None,
    expect_json: tuple[str, ...],
    follow_redirects: bool,
    banner: int,
    timeout: float | None,
    config_path: str | None,
    fmt: Format,
) -> None:
    """Probe TARGET once: an http(s):// URL, tcp://HOST:PORT, or a DNS name.

    Exits 0 when the probe is ok or warn, 1 when it failed or could not run, 2 on bad arguments.
    -c FILE takes the global CA file from the config's tls.ca_file.
    """
    built = _build(
        target,
        config_path=config_path,
        as_name=as_name,
        ca_files=ca_files,
        dns_server=dns_server,
        rdtype=rdtype,
        expect_status=expect_status,
        expect_body=expect_body,
        expect_json=expect_json,
        follow_redirects=follow_redirects,
        banner=banner,
        timeout=timeout,
    )
    from probes.engine import Engine
    from probes.loop import run

    obs = run(Engine(concurrency=1, per_host=1).run([built]))[0]
    emit(obs, fmt)
    if obs.status in (ObsStatus.FAILED, ObsStatus.ERROR):
        ctx.exit(1)
