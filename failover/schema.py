"""The config file's schema (pydantic). Field names here are the user's contract: keep them.

Validation of single fields lives on the models; cross-references (accounts named by sites, primary
and secondary present, unique names) are checked in ``Config``'s model validator so every problem is
reported with its field path. Loading, ``${ENV}`` expansion and locating errors by line live in
``failover.config``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from failover.printable import UNSAFE

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
# Ten years: longer than any interval, retention or drill window anyone means, and small enough that
# every consumer (timedelta, asyncio and socket timeouts, threading waits) takes it without overflowing.
MAX_DURATION_S = 3650 * 86400.0


def parse_duration(value: Any) -> float:
    """Seconds from ``90s``, ``15m``, ``2h``, ``1d``, ``500ms`` or a bare number of seconds, at most
    ``MAX_DURATION_S``. The one parser for every duration in the config and on the command line."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 90s, 15m or 2h")
    seconds: float | None = None
    if isinstance(value, int | float):
        if value != value:  # NaN
            raise ValueError("expected a duration like 90s, 15m or 2h, got nan")
        if value < 0:
            raise ValueError("expected a non-negative duration")
        seconds = float(value) if value <= MAX_DURATION_S else math.inf  # a huge int overflows float()
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNIT_S[m.group(2) or "s"]
    if seconds is None:
        raise ValueError(f"expected a duration like 90s, 15m or 2h, got {_shown(value)}")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"expected a duration of at most 3650d (10 years), got {_shown(value)}")
    return seconds


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = round(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m{s % 60:02d}s" if s % 60 else f"{s // 60}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"expected an email address like team@example.com, got {value!r}")
    return value


# C0 and C1 control characters (NUL, ESC, newline, tab...), DEL, the line and paragraph separators,
# and the bidirectional overrides that make text read differently from what it is: the same set the
# renderers escape in remote text (one definition, in failover.printable).
_CONTROL = UNSAFE


def control_character(text: str) -> str | None:
    """Why ``text`` may not be stored or printed (a control character, shown escaped), or None.

    Names, tags, URLs and notes end up in terminals, emails, logs and Postgres (which refuses NUL):
    the config and the CLI refuse them at the door. The value itself is never echoed (it may hold an
    expanded secret), only the character and its position."""
    m = _CONTROL.search(text)
    if m is None:
        return None
    return f"control character {m.group()!r} at position {m.start() + 1} is not allowed"


def _control_in(value: Any, where: str = "") -> str | None:
    """The first control character in a string, or in the keys and items of a list or mapping."""
    if isinstance(value, str):
        found = control_character(value)
        return f"{found}{where}" if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _control_in(key, " (in a key)") or _control_in(item, f" (in {key!r})")
            if found:
                return found
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _control_in(item, f" (in item {i})")
            if found:
                return found
    return None


_PORT = re.compile(r"^[0-9]{1,5}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_DOTTED = re.compile(r"^[0-9.]+$")


def check_host(host: str) -> str:
    """``host`` as given if it is an IP address or a DNS host name (IDN allowed); ValueError if not."""
    if ":" in host or _DOTTED.match(host):  # nothing else can be an address: spare the two refusals
        try:
            ipaddress.ip_address(host)
            return host
        except ValueError:
            pass
    if host.isascii():
        ascii_name = host  # what the idna codec returns for ASCII, where its own label checks are _LABEL's
    else:
        try:
            ascii_name = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_name = ""
    labels = ascii_name[:-1].split(".") if ascii_name.endswith(".") else ascii_name.split(".")
    if not ascii_name or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"expected an IP address or a host name, got {_shown(host)}")
    return host


def parse_host_port(value: str, default_port: int | None = None) -> tuple[str, int]:
    """``host``, ``host:port``, ``[ipv6]:port`` or a bare IPv6 address → (host, port); ValueError with
    what is expected otherwise. ``default_port`` None makes the port required."""
    expected = "expected host:port or [ipv6]:port" + (" or a host" if default_port is not None else "")
    text = value.strip()
    host, port_text, bracketed = text, None, False
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :] if end > 0 else "?"
        if end < 0 or (rest and not rest.startswith(":")):
            raise ValueError(f"{expected}, got {_shown(value)}")
        host, port_text, bracketed = text[1:end], (rest[1:] if rest else None), True
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise ValueError(f"{expected}, got {_shown(value)}")
    if ":" in host:  # IPv6, bracketed or bare
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"expected an IPv6 address, got {_shown(host)}") from None
    elif bracketed:
        raise ValueError(f"expected an IPv6 address inside [ ], got {_shown(host)}")
    else:
        check_host(host)
    if port_text is None:
        if default_port is None:
            raise ValueError(f"{expected}, got {_shown(value)}")
        return host, default_port
    if not _PORT.match(port_text) or not 0 < int(port_text) < 65536:
        raise ValueError(f"port must be 1-65535, got {_shown(port_text)} in {_shown(value)}")
    return host, int(port_text)


def parse_http_url(value: str) -> str:
    """``value`` if it is an http(s) URL with a valid host and port; ValueError otherwise."""
    bad = control_character(value)
    if bad:
        raise ValueError(f"expected an http(s) URL: {bad}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"expected an http(s) URL, got {_shown(value)}")
    host = parts.netloc.rpartition("@")[2]
    try:
        if host.startswith("["):
            ipaddress.IPv6Address(parts.hostname)
        else:
            check_host(parts.hostname)
    except ValueError:
        raise ValueError(f"expected an http(s) URL with a valid host, got {_shown(value)}") from None
    return value


def expand_user(path: str) -> Path:
    """``Path(path).expanduser()``, with ValueError instead of RuntimeError for an unknown ``~user``."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise ValueError(f"cannot expand {path.split('/')[0]!r}: no such user's home directory") from None


def _file_path(value: str) -> str:
    expand_user(value)
    return value


def _api_endpoint(value: str) -> str:
    """An API endpoint override: an http(s) URL, or host[:port] (GCP's ``api_endpoint`` form)."""
    if "://" in value:
        return parse_http_url(value)
    parse_host_port(value, default_port=443)
    return value


_CLOUDFLARE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def _cloudflare_id(value: str) -> str:
    if not _CLOUDFLARE_ID.match(value):
        raise ValueError(
            f"expected a Cloudflare id (32 hexadecimal digits, from the dashboard Overview), got {_shown(value)}"
        )
    return value


def _host_port(value: str) -> str:
    parse_host_port(value, default_port=53)
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
# host[:port] of a DNS server (port 53 by default)
DnsServer = Annotated[str, AfterValidator(_host_port)]
# a local file; ~ and ~user are expanded
FilePath = Annotated[str, AfterValidator(_file_path)]
HttpUrl = Annotated[str, AfterValidator(parse_http_url)]
# an API endpoint override: an http(s) URL or host[:port]
ApiEndpoint = Annotated[str, AfterValidator(_api_endpoint)]
# a Cloudflare zone or account id (32 hex digits), and the name of an environment variable
CloudflareId = Annotated[str, AfterValidator(_cloudflare_id)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]


def is_loopback_url(url: str | None) -> bool:
    """True for http(s)://127.x, ::1 or localhost: the only endpoints anonymous credentials may use."""
    if not url:
        return False
    try:
        host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    except ValueError:  # e.g. an unbalanced "[" (IPv6 literal)
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        """Every string of every model (names, tags, URLs, owners, ...) is printable: one rule, here."""
        found = _control_in(value)
        if found:
            raise ValueError(found)
        return value


class Account(_Strict):
    """Where inventory comes from. Credentials come from the provider's standard chain (Cloudflare: an
    API token from the environment, never from this file)."""

    name: Name
    provider: Literal["aws", "gcp", "azure", "cloudflare"]
    # AWS
    regions: list[str] = Field(default_factory=list)
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: ApiEndpoint | None = None
    # GCP
    project: str | None = None
    projects: list[str] = Field(default_factory=list)
    # Azure
    subscription: str | None = None
    subscriptions: list[str] = Field(default_factory=list)
    # Cloudflare: the zones whose load balancers are read, the account holding their pools and monitors
    # (default: each zone's own account), and the environment variable holding the API token.
    zones: list[CloudflareId] = Field(default_factory=list)
    account_id: CloudflareId | None = None
    token_env: EnvName | None = None
    # GCP, Azure and Cloudflare endpoint override (emulators, sovereign clouds)
    endpoint: ApiEndpoint | None = None
    # "default" uses the provider's chain; "anonymous" is for loopback emulators only.
    credentials: Literal["default", "anonymous"] = "default"
    max_concurrency: int = Field(default=8, ge=1, le=64)
    timeout: Duration = 30.0
    # The whole inventory of this account must finish within this; scopes still being read are then
    # recorded incomplete (``deadline``). Unset: half of daemon.inventory_interval, at least a minute.
    inventory_deadline: Annotated[Duration, Field(gt=0)] | None = None
    # the declared stores' lag metrics this account reads (``Config.lag_metric_reads``; set per inventory)
    _lag_metrics: tuple[LagMetricRead, ...] = PrivateAttr(default=())

    @property
    def lag_metrics(self) -> tuple[LagMetricRead, ...]:
        return self._lag_metrics

    def reading(self, lag_metrics: tuple[LagMetricRead, ...]) -> Account:
        """This account, also reading ``lag_metrics`` in its inventory."""
        copy = self.model_copy()
        copy._lag_metrics = lag_metrics
        return copy

    @property
    def endpoint_override(self) -> str | None:
        return self.endpoint_url or self.endpoint

    @property
    def scopes(self) -> list[str]:
        """Regions (AWS), projects (GCP) or subscriptions (Azure) to read, de-duplicated in order."""
        if self.provider == "aws":
            items = self.regions
        elif self.provider == "cloudflare":
            items = [f"zones/{z}" for z in self.zones] + ([f"accounts/{self.account_id}"] if self.account_id else [])
        elif self.provider == "gcp":
            items = [*([self.project] if self.project else []), *self.projects]
        else:
            items = [*([self.subscription] if self.subscription else []), *self.subscriptions]
        return list(dict.fromkeys(items))

    @model_validator(mode="after")
    def _check(self) -> Account:
        if self.provider == "aws" and not self.regions:
            raise ValueError("an aws account needs regions: [us-east-1, ...]")
        if self.provider == "gcp" and not (self.project or self.projects):
            raise ValueError("a gcp account needs project: NAME (or projects: [...])")
        if self.provider == "azure" and not (self.subscription or self.subscriptions):
            raise ValueError("an azure account needs subscription: ID (or subscriptions: [...])")
        if self.provider == "cloudflare" and not self.zones:
            raise ValueError("a cloudflare account needs zones: [ZONE_ID, ...] (the zones holding its load balancers)")
        if self.provider != "cloudflare":
            extra = [k for k in ("zones", "account_id", "token_env") if getattr(self, k)]
            if extra:
                raise ValueError(f"{', '.join(extra)}: only for provider: cloudflare")
        if self.credentials == "anonymous" and not is_loopback_url(self.endpoint_override):
            raise ValueError(
                "credentials: anonymous is only allowed with a loopback endpoint/endpoint_url "
                "(http://127.0.0.1:PORT), for local emulators"
            )
        return self


class Targets(_Strict):
    rto: Duration = 900.0
    rpo: Duration = 300.0
    capacity_ratio: float = Field(default=1.0, gt=0, le=10)
    max_dns_ttl: Duration = 60.0
    drill_within: Duration = 90 * 86400.0  # a failover drill at least this recent (evidence.drill)


# The provider whose records a DNS failover mechanism lives in (``external``: none we read).
# Every mechanism is read by its module in ``failover/checks/mechanisms/`` (a value without one is
# reported unknown until its reader exists).
Mechanism = Literal[
    "route53-failover",
    "route53-latency",
    "route53-weighted",
    "route53-geo",
    "route53-multivalue",
    "global-accelerator",
    "traffic-manager",
    "front-door",
    "cloud-dns-failover",
    "cloud-dns-weighted",
    "cloud-dns-geo",
    "cloudflare-lb",
    "external",
]
DNS_PROVIDER = {
    "route53-failover": "aws",
    "route53-latency": "aws",
    "route53-weighted": "aws",
    "route53-geo": "aws",
    "route53-multivalue": "aws",
    "global-accelerator": "aws",
    "traffic-manager": "azure",
    "front-door": "azure",
    "cloud-dns-failover": "gcp",
    "cloud-dns-weighted": "gcp",
    "cloud-dns-geo": "gcp",
    "cloudflare-lb": "cloudflare",
}


class DnsPath(_Strict):
    name: str = Field(min_length=1)
    mechanism: Mechanism = "external"
    zone: str | None = None
    # the account holding the zone / Traffic Manager profile (a central DNS account); default: every
    # configured account of the mechanism's provider
    account: str | None = None
    # host:port of servers to query as the zone's authoritative servers (instead of the NS set)
    nameservers: list[DnsServer] = Field(default_factory=list)
    # host:port of a recursive resolver whose cached TTLs are checked
    resolver: DnsServer | None = None


class Endpoint(_Strict):
    url: str
    expect_status: int | list[int] = 200
    expect_body: str | None = None  # substring, or /regex/
    expect_json: dict[str, Any] | None = None  # {"$.status": "ok"}
    timeout: Duration = 10.0
    follow_redirects: bool = False
    ca_file: FilePath | None = None
    as_public_name: bool = True  # also probe this address with the workload's public name (SNI/Host)

    @model_validator(mode="after")
    def _check(self) -> Endpoint:
        parse_http_url(self.url)
        return self

    @property
    def expected_statuses(self) -> list[int]:
        return [self.expect_status] if isinstance(self.expect_status, int) else list(self.expect_status)


class Selector(_Strict):
    tags: dict[str, str] = Field(default_factory=dict)
    ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Selector:
        if not self.tags and not self.ids:
            raise ValueError("select needs tags: {key: value} or ids: [...]")
        return self


class Site(_Strict):
    name: Name
    role: Literal["primary", "secondary"]
    account: str
    regions: list[str] = Field(default_factory=list)
    select: Selector
    endpoints: list[Endpoint] = Field(default_factory=list)
    # how the secondary is reached after failover: its LB DNS name or addresses (optional)
    failover_targets: list[str] = Field(default_factory=list)


class Dependency(_Strict):
    name: Name
    kind: Literal["identity", "registry", "secrets", "cdn", "registrar", "dns", "queue", "other"]
    provider: str  # aws | gcp | azure | any other vendor name
    providers: list[str] = Field(default_factory=list)  # where it is replicated, if more than one


# The data store kinds a workload may declare, and the provider each lives on.
STORE_PROVIDER: dict[str, str] = {
    "rds": "aws",
    "aurora": "aws",
    "dynamodb": "aws",
    "elasticache": "aws",
    "s3": "aws",
    "cloudsql": "gcp",
    "gcs": "gcp",
    "azure-sql": "azure",
    "cosmosdb": "azure",
    "azure-storage": "azure",
    "postgres-flexible": "azure",
    "mysql-flexible": "azure",
}
StoreKind = Literal[
    "rds",
    "aurora",
    "dynamodb",
    "elasticache",
    "s3",
    "cloudsql",
    "gcs",
    "azure-sql",
    "cosmosdb",
    "azure-storage",
    "postgres-flexible",
    "mysql-flexible",
]
PROVIDERS = ("aws", "gcp", "azure")


_ARM_ID = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/[^/]+/[^/]+/[^/]+", re.I)


class LagMetric(_Strict):
    """The metric that measures a store's copy where no replication link shows it (AWS DMS, hand-built
    logical replication): a CloudWatch metric for an AWS account, a Cloud Monitoring metric type for a
    GCP account, an Azure Monitor metric of a resource for an Azure account, read read-only through
    ``account`` (default: the account of the store's site) and judged like every other lag."""

    account: str | None = None
    unit: Literal["seconds", "milliseconds"] = "seconds"
    # CloudWatch (AWS): e.g. AWS/DMS CDCLatencyTarget by ReplicationInstanceIdentifier + ReplicationTaskIdentifier
    namespace: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1)
    dimensions: dict[str, str] = Field(default_factory=dict)
    region: str | None = Field(default=None, min_length=1)  # default: the account's first region
    statistic: Literal["Maximum", "Average", "Minimum", "Sum", "SampleCount", "p99", "p90", "p50"] = "Maximum"
    # Cloud Monitoring (GCP): a metric type, narrowed by its resource type and labels
    type: str | None = Field(default=None, min_length=1)
    project: str | None = Field(default=None, min_length=1)  # default: the account's first project
    resource_type: str | None = Field(default=None, min_length=1)
    resource_labels: dict[str, str] = Field(default_factory=dict)
    metric_labels: dict[str, str] = Field(default_factory=dict)
    # Azure Monitor (Azure): a metric (``name``, ``namespace`` for a custom one) of the resource ``resource_id``
    resource_id: str | None = None
    aggregation: Literal["Average", "Maximum", "Minimum", "Total", "Count"] = "Maximum"
    filter: str | None = Field(default=None, min_length=1)  # a dimension filter, $filter syntax

    @field_validator("resource_id")
    @classmethod
    def _arm_id(cls, value: str | None) -> str | None:
        if value is not None and not _ARM_ID.match(value):
            raise ValueError(
                "expected an ARM resource id, /subscriptions/ID/resourceGroups/GROUP/providers/NAMESPACE/TYPE/NAME, "
                f"got {value!r}"
            )
        return value

    @property
    def subscription(self) -> str | None:
        """The subscription of ``resource_id`` (Azure reads the metric there)."""
        return self.resource_id.split("/")[2] if self.resource_id else None

    @property
    def per_s(self) -> float:
        """Units per second (1000 for milliseconds)."""
        return 1000.0 if self.unit == "milliseconds" else 1.0

    def label(self) -> str:
        """The metric as the evidence names it."""
        if self.type is not None:
            labels = [f"resource.type={self.resource_type}"] if self.resource_type else []
            labels += [f"resource.{k}={v}" for k, v in sorted(self.resource_labels.items())]
            labels += [f"metric.{k}={v}" for k, v in sorted(self.metric_labels.items())]
            return f"{self.type}" + (f" {{{', '.join(labels)}}}" if labels else "")
        if self.resource_id is not None:
            where = f" [{self.filter}]" if self.filter else ""
            named = f"{self.namespace} {self.name}" if self.namespace else f"{self.name}"
            return f"{named}{where} {self.aggregation} of {self.resource_id}"
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions.items())
        return f"{self.namespace} {self.name}" + (f" {{{dims}}}" if dims else "") + f" {self.statistic}"


_CLOUDWATCH_KEYS = ("namespace", "name", "region", "dimensions", "statistic")
_MONITORING_KEYS = ("type", "project", "resource_type", "resource_labels", "metric_labels")
_AZURE_MONITOR_KEYS = ("resource_id", "aggregation", "filter")


@dataclass(frozen=True)
class LagMetricRead:
    """One declared store's lag metric, as handed to the adapter of the account that reads it: ``key``
    (``workload/store``) names the reading in the inventory."""

    key: str
    metric: LagMetric


class DataStore(_Strict):
    """A data store the workload depends on. Declared so that one the inventory does not show is
    ``unknown`` (never silently absent); found ones are judged with their own RPO and copy target."""

    name: Name
    kind: StoreKind
    site: str | None = None  # the site it lives in; default: the primary
    select: Selector | None = None  # default: ids: [name] (its name or provider id: ARN, self link, resource id)
    rpo: Duration | None = None  # default: the workload's targets.rpo
    # where its copy lives: a site of this workload, a provider (aws | gcp | azure), a region, or provider:region
    copy_to: str | None = Field(default=None, min_length=1)
    # the metric that measures the copy at copy_to when no replication link shows it (DMS, logical replication)
    lag_metric: LagMetric | None = None

    @property
    def selector(self) -> Selector:
        return self.select or Selector(ids=[self.name])


class Workload(_Strict):
    name: Name
    owners: list[Email] = Field(min_length=1)
    tier: int = Field(default=2, ge=0, le=5)
    targets: Targets = Field(default_factory=Targets)
    dns: DnsPath | None = None
    sites: list[Site] = Field(min_length=2)
    dependencies: list[Dependency] = Field(default_factory=list)
    data: list[DataStore] = Field(default_factory=list)
    check_interval: Duration | None = None  # daemon: overrides daemon.check_interval

    @property
    def primary(self) -> Site:
        return next(s for s in self.sites if s.role == "primary")

    @property
    def secondaries(self) -> list[Site]:
        return [s for s in self.sites if s.role == "secondary"]

    def site_named(self, name: str | None) -> Site:
        """The site called ``name``; the primary for None."""
        return self.primary if name is None else next(s for s in self.sites if s.name == name)

    def store_rpo(self, store: DataStore) -> float:
        return self.targets.rpo if store.rpo is None else store.rpo

    def lag_metric_account(self, store: DataStore) -> str | None:
        """The account that reads ``store``'s lag metric: its own, else the account of the store's site."""
        if store.lag_metric is None:
            return None
        if store.lag_metric.account is not None:
            return store.lag_metric.account
        wanted = (lambda s: s.role == "primary") if store.site is None else (lambda s: s.name == store.site)
        return next((s.account for s in self.sites if wanted(s)), None)

    def lag_metric_key(self, store: DataStore) -> str:
        return f"{self.name}/{store.name}"


class Smtp(_Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    tls: bool = False  # implicit TLS (port 465)
    username_env: str | None = None
    password_env: str | None = None
    timeout: Duration = 30.0
    ca_file: FilePath | None = None  # PEM bundle to trust for a relay with a private CA (default: tls.ca_file, system)


class MailSchedule(_Strict):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"
    grace: Duration = 86400.0  # send a missed week's email on start if still within this


class Mail(_Strict):
    from_: Email = Field(alias="from")
    smtp: Smtp
    schedule: MailSchedule = Field(default_factory=MailSchedule)
    docs_url: HttpUrl = "https://github.com/failover-dev/failover/blob/main/docs/checks.md"
    subject_prefix: str = "[failover]"


# Where status changes go (``alerts:``). The URL and routing key usually hold a token: they come from
# ``${ENV}`` and are never echoed in an error, a log line, the database or the output.
AlertType = Literal["slack", "teams", "pagerduty", "webhook"]
AlertStatus = Literal["AT_RISK", "NOT_READY"]
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


def _secret_url(value: str) -> str:
    """An http(s) URL; the error never shows the value (its path is often the webhook's token)."""
    try:
        return parse_http_url(value)
    except ValueError:
        raise ValueError("expected an http(s) URL with a valid host (value not shown: it may hold a token)") from None


SecretUrl = Annotated[str, AfterValidator(_secret_url)]


class AlertDestination(_Strict):
    """One place alerts go: a Slack or Teams channel, a PagerDuty service, or any JSON webhook."""

    name: Name
    type: AlertType
    url: SecretUrl | None = None  # slack/teams/webhook: required; pagerduty: overrides the Events API URL
    secret: str | None = Field(default=None, min_length=1)  # webhook: HMAC-SHA256 key for X-Failover-Signature
    routing_key: str | None = Field(default=None, min_length=1, max_length=200)  # pagerduty: integration key
    workloads: list[str] = Field(default_factory=list)  # only these workloads (default: every one)
    owners: list[Email] = Field(default_factory=list)  # only workloads with one of these owners
    min_status: AlertStatus | None = None  # only workloads at this status or worse (and their resolve)
    cooldown: Duration | None = None  # overrides alert_policy.cooldown for this destination

    @model_validator(mode="after")
    def _check(self) -> AlertDestination:
        if self.type == "pagerduty" and not self.routing_key:
            raise ValueError("a pagerduty destination needs routing_key: ${PAGERDUTY_ROUTING_KEY}")
        if self.type != "pagerduty" and not self.url:
            raise ValueError(f"a {self.type} destination needs url: ${{...}} (its webhook URL)")
        if self.type != "pagerduty" and self.routing_key:
            raise ValueError("routing_key: only for type: pagerduty")
        if self.type != "webhook" and self.secret:
            raise ValueError("secret: only for type: webhook (it signs the body)")
        return self

    @property
    def endpoint(self) -> str:
        """Where the alert is POSTed."""
        return self.url or PAGERDUTY_EVENTS_URL

    @property
    def hidden(self) -> list[str]:
        """The values that must never be shown: the URL (its path and query), the secret, the key."""
        return [v for v in (self.url, self.secret, self.routing_key) if v]


class AlertPolicy(_Strict):
    """When and how hard alerts are sent (every destination; ``cooldown`` may be set per destination)."""

    score_drop: float = Field(default=10.0, gt=0, le=100)  # readiness points lost since the previous score
    cooldown: Duration = 1800.0  # least time between two alerts of one workload to one destination (not escalations)
    attempts: int = Field(default=4, ge=1, le=10)  # tries per alert (the first and its retries)
    backoff: Duration = 2.0  # wait before the first retry; doubled each time (with jitter), at most 60s
    timeout: Duration = 10.0  # per HTTP request


class Tls(_Strict):
    ca_file: FilePath | None = None


class ScoringConfig(_Strict):
    """Overrides for the scoring model; defaults are documented in the README."""

    weights: dict[str, float] = Field(default_factory=dict)  # category -> weight
    ready_threshold: float = Field(default=80.0, ge=0, le=100)
    not_ready_below: float = Field(default=50.0, ge=0, le=100)
    unknown_fraction: float = Field(default=0.5, gt=0, le=1)
    provision_seconds_per_instance: Duration = 60.0
    warm_start_seconds: Duration = 30.0  # a warm-pool instance (stopped/hibernated/running) joining its group
    scale_parallelism: int = Field(default=10, ge=1)
    manual_decision: Duration = 600.0
    data_promotion: Duration = 300.0
    stale_after: Duration = 86400.0


# An account's inventory may take at most this share of the inventory interval by default, so a slow
# or throttling cloud cannot make one cycle run into the next; never less than the floor, so a short
# interval (tests, demos) does not cut ordinary reads short.
INVENTORY_DEADLINE_FRACTION = 0.5
INVENTORY_DEADLINE_FLOOR = 60.0


_TOKEN = re.compile(r"^[\x21-\x7e]{16,4096}$")


def _status_token(value: str) -> str:
    """A bearer token a header can carry: 16 or more visible ASCII characters. The value is never
    echoed (it is a secret)."""
    if not _TOKEN.match(value):
        raise ValueError(
            "expected a bearer token of at least 16 visible ASCII characters (no spaces), "
            "e.g. from `openssl rand -hex 32`"
        )
    return value


class Daemon(_Strict):
    listen: str = "127.0.0.1:9108"
    inventory_interval: Duration = 900.0
    check_interval: Duration = 60.0
    retention: Duration = 30 * 86400.0
    vantage: str | None = None
    # When set (always through ${VAR}), the status pages need `Authorization: Bearer <token>`.
    status_token: Annotated[str, AfterValidator(_status_token)] | None = Field(default=None, repr=False)


class Probes(_Strict):
    concurrency: int = Field(default=100, ge=1, le=10000)
    per_host: int = Field(default=32, ge=1, le=1000)
    workers: int = Field(default=0, ge=0, le=64)  # probe processes for a large plan; 0: one per core
    timeout: Duration = 10.0


class Config(_Strict):
    database: str | None = None
    vantage: str | None = None
    accounts: list[Account] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    mail: Mail | None = None
    tls: Tls = Field(default_factory=Tls)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    daemon: Daemon = Field(default_factory=Daemon)
    probes: Probes = Field(default_factory=Probes)
    alerts: list[AlertDestination] = Field(default_factory=list)
    alert_policy: AlertPolicy = Field(default_factory=AlertPolicy)
    # the file this config was read from (set by failover.config.load_config); None for text/empty
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> Path | None:
        return self._source

    def resolve_path(self, value: str | os.PathLike[str]) -> Path:
        """A path from the config, relative to the config file's directory (or the working directory).

        ``failover.config`` already resolves ``ca_file`` and ``sqlite:///`` paths this way at load time.
        """
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
        return (self._source.parent if self._source is not None else Path.cwd()) / path

    def account(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def inventory_deadline(self, account: Account) -> float:
        """The account's ``inventory_deadline``, or its default share of ``daemon.inventory_interval``
        (at least ``INVENTORY_DEADLINE_FLOOR``)."""
        if account.inventory_deadline is not None:
            return account.inventory_deadline
        return max(INVENTORY_DEADLINE_FLOOR, INVENTORY_DEADLINE_FRACTION * self.daemon.inventory_interval)

    def workload(self, name: str) -> Workload:
        return next(w for w in self.workloads if w.name == name)

    def dns_accounts(self, workload: Workload) -> list[str]:
        """Where the workload's failover records are searched: ``dns.account``, else every configured
        account of the mechanism's provider (DNS often lives in a central account no site uses)."""
        dns = workload.dns
        if dns is None:
            return []
        if dns.account:
            return [dns.account]
        provider = DNS_PROVIDER.get(dns.mechanism)
        return [a.name for a in self.accounts if a.provider == provider] if provider else []

    def workload_accounts(self, workload: Workload) -> list[str]:
        """Every account whose inventory the workload's checks read: its sites' and its DNS path's."""
        metric_accounts = [workload.lag_metric_account(d) for d in workload.data]
        return list(
            dict.fromkeys(
                [*(s.account for s in workload.sites), *self.dns_accounts(workload), *(a for a in metric_accounts if a)]
            )
        )

    def lag_metric_reads(self, account_name: str) -> tuple[LagMetricRead, ...]:
        """The declared stores' lag metrics that ``account_name`` reads."""
        return tuple(
            LagMetricRead(w.lag_metric_key(d), d.lag_metric)
            for w in self.workloads
            for d in w.data
            if d.lag_metric is not None and w.lag_metric_account(d) == account_name
        )

    def cross_reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(field path, message) for every broken reference; ``failover.config`` locates them."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        for i, a in enumerate(self.accounts):
            if a.name in seen:
                problems.append((("accounts", i, "name"), f"duplicate account name {a.name!r}"))
            seen.setdefault(a.name, i)
        names: set[str] = set()
        for wi, w in enumerate(self.workloads):
            if w.name in names:
                problems.append((("workloads", wi, "name"), f"duplicate workload name {w.name!r}"))
            names.add(w.name)
            roles = [s.role for s in w.sites]
            if "primary" not in roles:
                problems.append((("workloads", wi, "sites"), "expected one site with role: primary"))
            elif roles.count("primary") > 1:
                problems.append((("workloads", wi, "sites"), "expected exactly one primary site"))
            if "secondary" not in roles:
                problems.append((("workloads", wi, "sites"), "expected at least one site with role: secondary"))
            problems += _dns_account_problems(wi, w, {a.name: a for a in self.accounts})
            problems += _data_store_problems(wi, w, {a.name: a for a in self.accounts})
            site_names: set[str] = set()
            for si, s in enumerate(w.sites):
                if s.name in site_names:
                    problems.append((("workloads", wi, "sites", si, "name"), f"duplicate site name {s.name!r}"))
                site_names.add(s.name)
                if s.account not in seen:
                    known = ", ".join(sorted(seen)) or "none defined"
                    problems.append(
                        (("workloads", wi, "sites", si, "account"), f"unknown account {s.account!r} (known: {known})")
                    )
        problems += _alert_problems(self.alerts, names)
        return problems


def _alert_problems(alerts: list[AlertDestination], workloads: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Destination names are unique; the workloads a destination names exist."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for ai, a in enumerate(alerts):
        if a.name in seen:
            problems.append((("alerts", ai, "name"), f"duplicate alert destination name {a.name!r}"))
        seen.add(a.name)
        for wi, name in enumerate(a.workloads):
            if name not in workloads:
                known = ", ".join(sorted(workloads)) or "none defined"
                problems.append((("alerts", ai, "workloads", wi), f"unknown workload {name!r} (known: {known})"))
    return problems


def _dns_account_problems(
    wi: int, w: Workload, accounts: dict[str, Account]
) -> list[tuple[tuple[str | int, ...], str]]:
    """``dns.account`` must name a configured account of the provider the mechanism reads."""
    if w.dns is None or w.dns.account is None:
        return []
    where: tuple[str | int, ...] = ("workloads", wi, "dns", "account")
    account = accounts.get(w.dns.account)
    if account is None:
        known = ", ".join(sorted(accounts)) or "none defined"
        return [(where, f"unknown account {w.dns.account!r} (known: {known})")]
    wanted = DNS_PROVIDER.get(w.dns.mechanism)
    if wanted and account.provider != wanted:
        return [
            (where, f"{w.dns.mechanism} records live in {wanted}, but account {account.name!r} is {account.provider}")
        ]
    return []


def _data_store_problems(wi: int, w: Workload, accounts: dict[str, Account]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each declared store names a site of the workload, on the provider its kind lives on; names unique."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    sites = {s.name: s for s in w.sites}
    seen: set[str] = set()
    for di, d in enumerate(w.data):
        where: tuple[str | int, ...] = ("workloads", wi, "data", di)
        if d.name in seen:
            problems.append(((*where, "name"), f"duplicate data store name {d.name!r}"))
        seen.add(d.name)
        site = sites.get(d.site) if d.site is not None else next((s for s in w.sites if s.role == "primary"), None)
        if d.site is not None and site is None:
            problems.append(((*where, "site"), f"unknown site {d.site!r} (sites: {', '.join(sites)})"))
        account = accounts.get(site.account) if site is not None else None
        wanted = STORE_PROVIDER[d.kind]
        if site is not None and account is not None and account.provider != wanted:
            message = f"a {d.kind} store lives on {wanted}, but site {site.name!r} is on {account.provider}"
            problems.append(((*where, "kind"), message))
        if d.lag_metric is not None:
            problems += _lag_metric_problems((*where, "lag_metric"), d, w, accounts)
        if d.copy_to is not None and d.copy_to not in sites and ":" in d.copy_to:
            provider = d.copy_to.split(":", 1)[0]
            if provider not in PROVIDERS:
                expected = "expected a site name, aws | gcp | azure, a region or provider:region"
                problems.append(((*where, "copy_to"), f"{expected}, got {d.copy_to!r}"))
    return problems


def _lag_metric_problems(
    where: tuple[str | int, ...], d: DataStore, w: Workload, accounts: dict[str, Account]
) -> list[tuple[tuple[str | int, ...], str]]:
    """A lag metric measures the copy at ``copy_to``, through an AWS account (CloudWatch: namespace and
    name), a GCP account (Cloud Monitoring: type) or an Azure account (Azure Monitor: resource_id and
    name, in one of the account's subscriptions), with only that reader's keys."""
    m = d.lag_metric
    assert m is not None
    if d.copy_to is None:
        return [(where, "lag_metric measures the copy at copy_to: set copy_to to where the copy lives")]
    name = w.lag_metric_account(d)
    account = accounts.get(name) if name else None
    if account is None:
        if m.account is None:
            return []  # the store's site is reported as unknown already
        known = ", ".join(sorted(accounts)) or "none defined"
        return [((*where, "account"), f"unknown account {m.account!r} (known: {known})")]
    given = m.model_fields_set
    wanted: tuple[str, ...]
    other: tuple[str, ...]
    if account.provider == "aws":
        wanted, other, reader = ("namespace", "name"), (*_MONITORING_KEYS, *_AZURE_MONITOR_KEYS), "CloudWatch"
    elif account.provider == "gcp":
        wanted, other, reader = ("type",), (*_CLOUDWATCH_KEYS, *_AZURE_MONITOR_KEYS), "Cloud Monitoring"
    elif account.provider == "azure":
        cloudwatch_only = tuple(k for k in _CLOUDWATCH_KEYS if k not in ("namespace", "name"))
        wanted, other, reader = ("resource_id", "name"), (*cloudwatch_only, *_MONITORING_KEYS), "Azure Monitor"
    else:
        return [
            (
                (*where, "account") if m.account else where,
                f"lag metrics are read from CloudWatch (aws accounts), Cloud Monitoring (gcp accounts) or "
                f"Azure Monitor (azure accounts); account {account.name!r} is {account.provider}",
            )
        ]
    article = "an" if reader[0] in "AEIOU" else "a"
    problems = [
        ((*where, k), f"{article} {reader} lag metric (account {account.name!r} is {account.provider}) needs {k}")
        for k in wanted
        if getattr(m, k) is None
    ]
    problems += [
        ((*where, k), f"{k} is not {article} {reader} setting (account {account.name!r} is {account.provider})")
        for k in other
        if k in given
    ]
    if (
        account.provider == "azure"
        and m.subscription is not None
        and m.subscription.lower() not in {s.lower() for s in account.scopes}
    ):
        problems.append(
            (
                (*where, "resource_id"),
                f"resource_id is in subscription {m.subscription!r}, which account {account.name!r} does not read "
                f"(its subscriptions: {', '.join(account.scopes)})",
            )
        )
    return problems
