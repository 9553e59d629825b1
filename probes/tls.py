"""TLS evidence: trust contexts, the peer's chain, and the verdict on it (pure, tested on data).

The verdict always comes with details, even when verification fails: the HTTP probe then makes a second,
non-verifying handshake just to read the chain. Full chains come from ``get_verified_chain`` /
``get_unverified_chain`` (public on Python 3.13+, private ``_sslobj`` methods on 3.10-3.12); where neither
exists only the leaf is seen, so the earliest expiry is the leaf's.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from failover.errors import ProbeError
from failover.model import ObsStatus, utcnow

__all__ = [
    "CertInfo",
    "TlsVerdict",
    "assess",
    "client_context",
    "covers",
    "describe_certificate",
    "describe_chain",
    "peer_chain",
]

# OpenSSL X509_V_ERR codes we phrase ourselves.
_SELF_SIGNED = {18, 19}  # depth-zero self-signed, self-signed in chain


@lru_cache(maxsize=64)
def client_context(ca_files: tuple[str, ...] = (), verify: bool = True) -> ssl.SSLContext:
    """A client context trusting the system store plus ``ca_files``; cached (loading the store is slow)."""
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.create_default_context()
    # Match names against subjectAltName only, as browsers and Go clients do (RFC 6125 and the CA/B
    # baseline requirements): a certificate that carries its name only in the CN is refused.
    ctx.hostname_checks_common_name = False
    for path in ca_files:
        try:
            ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as err:
            raise ProbeError(f"cannot load CA file {path}: {err}") from None
    return ctx


@dataclass(frozen=True, slots=True)
class CertInfo:
    subject: str  # CN, else O, else the whole RFC 4514 name
    issuer: str
    not_after: datetime
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    self_issued: bool = False

    @property
    def names(self) -> list[str]:
        return [*self.dns_names, *self.ip_addresses]


def _name_text(name: x509.Name) -> str:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        attrs = name.get_attributes_for_oid(oid)
        if attrs:
            value = attrs[0].value
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return name.rfc4514_string()


def describe_chain(ders: list[bytes]) -> list[CertInfo]:
    """Parse DER certificates (leaf first); unparsable ones are skipped. Each certificate is parsed once
    per process (``describe_certificate``'s cache): a cycle sees the same few chains thousands of times."""
    return [info for info in map(describe_certificate, ders) if info is not None]


# Bounded: a probe of a hostile or misconfigured host can present a new certificate every time.
CHAIN_CACHE_SIZE = 4096


@lru_cache(maxsize=CHAIN_CACHE_SIZE)
def describe_certificate(der: bytes) -> CertInfo | None:
    """One DER certificate as ``CertInfo`` (None when it does not parse), cached by its bytes."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        assert isinstance(san, x509.SubjectAlternativeName)
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    except ValueError:  # malformed extension: report the certificate without names
        pass
    return CertInfo(
        subject=_name_text(cert.subject),
        issuer=_name_text(cert.issuer),
        not_after=cert.not_valid_after_utc,
        dns_names=dns,
        ip_addresses=ips,
        self_issued=cert.subject == cert.issuer,
    )


def peer_chain(ssl_object: Any, verified: bool) -> list[bytes]:
    """DER certificates the peer presented (leaf first), as much of the chain as this Python exposes."""
    getter = "get_verified_chain" if verified else "get_unverified_chain"
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        fn = getattr(owner, getter, None)
        if fn is None:
            continue
        try:
            chain = fn() or []
        except (ssl.SSLError, ValueError):
            break
        ders = [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
        if ders:
            return ders
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _norm(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def covers(name: str, dns_names: tuple[str, ...] | list[str], ip_addresses: tuple[str, ...] | list[str] = ()) -> bool:
    """RFC 6125 matching as browsers do it: a wildcard only as the whole leftmost label, one label deep."""
    try:
        ip = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return any(ipaddress.ip_address(a) == ip for a in ip_addresses)
    host = _norm(name)
    for pattern in dns_names:
        pat = _norm(pattern)
        if pat == host:
            return True
        if pat.startswith("*.") and "." in host:
            _, rest = host.split(".", 1)
            if rest == pat[2:] and pat.count(".") >= 2:
                return True
    return False


@dataclass(frozen=True, slots=True)
class TlsVerdict:
    status: ObsStatus
    reason: str  # empty when OK
    data: dict[str, Any] = field(default_factory=dict)


def _days(n: float) -> str:
    d = round(abs(n))
    return "less than a day" if d == 0 else f"{d} day" if d == 1 else f"{d} days"


def assess(
    name: str,
    chain: list[CertInfo],
    *,
    verified: bool,
    error: str | None = None,
    verify_code: int | None = None,
    protocol: str | None = None,
    warn_days: int = 30,
    fail_days: int = 14,
    now: datetime | None = None,
) -> TlsVerdict:
    """The verdict on a handshake for ``name``: verification, name coverage, earliest expiry in the chain."""
    now = now or utcnow()
    leaf = chain[0] if chain else None
    covers_name = True if verified else bool(leaf and covers(name, leaf.dns_names, leaf.ip_addresses))
    earliest = min(chain, key=lambda c: c.not_after) if chain else None
    days_left = (earliest.not_after - now).total_seconds() / 86400 if earliest else None
    data: dict[str, Any] = {
        "verified": verified,
        "error": error,
        "covers_name": covers_name,
        "names": leaf.names if leaf else [],
        "not_after": leaf.not_after.isoformat() if leaf else None,
        "days_left": round(days_left, 2) if days_left is not None else None,
        "earliest_expiry_subject": earliest.subject if earliest else None,
        "earliest_expiry": earliest.not_after.isoformat() if earliest else None,
        "protocol": protocol,
        "issuer": leaf.issuer if leaf else None,
        "subject": leaf.subject if leaf else None,
        "chain_length": len(chain),
    }
    if earliest is not None and days_left is not None and days_left < 0:
        reason = f"certificate for {name} expired {_days(days_left)} ago (CN={earliest.subject})"
        return TlsVerdict(ObsStatus.FAILED, reason, data)
    if leaf is not None and not leaf.names:
        # Even where a verifier accepted it (the CN fallback): browsers and Go clients refuse it.
        data["covers_name"] = False
        reason = (
            f"certificate for {name} has no subjectAltName (only CN={leaf.subject}): "
            "browsers and Go clients ignore the CN and refuse it"
        )
        return TlsVerdict(ObsStatus.FAILED, reason, data)
    if not verified:
        if leaf is None:
            return TlsVerdict(ObsStatus.FAILED, f"TLS handshake for {name} failed: {error}", data)
        if not covers_name:
            sans = ", ".join(leaf.names) or f"none; CN={leaf.subject}"
            return TlsVerdict(ObsStatus.FAILED, f"certificate does not cover {name} (SANs: {sans})", data)
        if verify_code in _SELF_SIGNED or (leaf.self_issued and len(chain) == 1):
            return TlsVerdict(ObsStatus.FAILED, f"certificate for {name} is self-signed (CN={leaf.subject})", data)
        detail = error or "verification failed"
        return TlsVerdict(
            ObsStatus.FAILED, f"certificate for {name} is not trusted: {detail} (issuer: {leaf.issuer})", data
        )
    if earliest is not None and days_left is not None:
        if days_left < fail_days:
            reason = f"certificate for {name} expires in {_days(days_left)} (CN={earliest.subject})"
            return TlsVerdict(ObsStatus.FAILED, reason, data)
        if days_left < warn_days:
            reason = f"certificate for {name} expires in {_days(days_left)} (CN={earliest.subject})"
            return TlsVerdict(ObsStatus.WARN, reason, data)
    return TlsVerdict(ObsStatus.OK, "", data)
