"""What a Cloud DNS routing policy does with a workload's public name, as facts for the mechanism checks.

Pure: from the record sets and routing views the GCP reader produced (``dns.record`` with
``routing_policy``, ``routing`` with the same ``self_link``), and the addresses of the primary and
secondary sites (``failover.checks.dns.site_addresses``), it says which policy serves the name, which
answers take traffic in normal operation and whether each is health-checked, which answers point at the
secondary, the trickle ratio, the detection time and the TTL. Judging them (pass/warn/fail) is the
mechanism registry's job.

Normal operation, as Cloud DNS documents each policy: ``primaryBackup`` answers its primary targets, and
its backup geo targets only with the trickle ratio; ``wrr`` answers every item with a weight above zero
(a zero-weight item is a standby); ``geo`` answers every region's item to the users nearest it. Plain
``rrdatas`` in an item are answered whatever their health, so they count as unchecked answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from failover.attrs import RoutingTarget, attrs_of
from failover.equivalence import is_ip, normalize_name
from failover.model import Kind, Resource

__all__ = ["NATIVE_POLICY", "NATIVE_RRSET", "CloudDnsPath", "PathTarget", "cloud_dns_path"]

NATIVE_RRSET = "dns.googleapis.com/ResourceRecordSet"  # providers/gcp/clouddns.py's native types
NATIVE_POLICY = "dns.googleapis.com/RRSetRoutingPolicy"
_ANSWER_TYPES = ("A", "AAAA", "CNAME")  # the types that send users somewhere, in the order judged


@dataclass(frozen=True)
class PathTarget:
    """One answer the policy can give (a ``RoutingTarget``), placed against the two sites."""

    name: str
    addresses: list[str]
    serving: bool  # takes traffic in normal operation
    health_checked: bool | None
    to_primary: bool
    to_secondary: bool
    names: list[str]  # DNS names among its addresses that match neither site literally (resolve to tell)
    weight: float | None
    priority: int | None
    region: str | None
    detection_s: float | None


@dataclass(frozen=True)
class CloudDnsPath:
    """Facts about how Cloud DNS answers the public name. ``found`` is False when no record set for the
    name was inventoried (``reason`` says why, with the inventory gaps that could hide it)."""

    name: str
    found: bool
    reason: str
    mechanism: str | None = None  # cloud-dns-failover | cloud-dns-weighted | cloud-dns-geo; None: no policy
    policy: str | None = None  # primaryBackup | wrr | geo
    record: str | None = None  # native id of the record set judged
    record_type: str | None = None
    ttl: int | None = None
    private: bool | None = None  # the record's zone is private (VPC-only answers)
    targets: list[PathTarget] = field(default_factory=list)
    all_serving_health_checked: bool | None = None  # every answer taking traffic normally is health-checked
    unchecked_serving: list[str] = field(default_factory=list)  # answers taking traffic with no health check
    secondary_answers: list[str] = field(default_factory=list)  # answers taking traffic or failover to the secondary
    secondary_standby: list[str] = field(default_factory=list)  # of those, the ones idle in normal operation
    trickle_ratio: float | None = None
    fencing: bool | None = None  # geo enableFencing (or the backup geo's): no failover across regions
    detection_s: float | None = None  # slowest health check governing the answers that serve the primary
    detection_unknown: list[str] = field(default_factory=list)  # why detection is unknown ("name: why")
    fallback: str | None = None
    notes: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # other record sets for the name, not judged


def _serving(policy: str | None, priority: int | None, weight: float | None, trickle: float) -> bool:
    if policy == "primaryBackup":
        return priority == 0 or trickle > 0
    if policy == "wrr":
        return (weight or 0.0) > 0
    return True  # geo: each region's item serves the users nearest it


def _pick(records: list[Resource]) -> tuple[Resource, list[str]]:
    """The record set judged: public before private, a routing policy before a plain set, A, AAAA, CNAME."""

    def rank(r: Resource) -> tuple[bool, bool, int]:
        a = attrs_of(r, Kind.DNS_RECORD)
        rtype = str(a["type"] or "")
        order = _ANSWER_TYPES.index(rtype) if rtype in _ANSWER_TYPES else len(_ANSWER_TYPES)
        return bool(a["private"]), not a["routing_policy"], order

    ranked = sorted(records, key=rank)
    return ranked[0], [r.native_id for r in ranked[1:]]


def cloud_dns_path(
    name: str,
    resources: Iterable[Resource],
    *,
    primary: set[str],
    secondary: set[str],
    gaps: Sequence[str] = (),
) -> CloudDnsPath:
    """The Cloud DNS facts for public ``name``. ``resources`` may hold anything (only Cloud DNS record
    sets for the name and their routing views are read); ``primary`` / ``secondary`` are the sites'
    addresses and names; ``gaps`` are the inventory's unread scopes that could hide the record."""
    want = normalize_name(name)
    pool = list(resources)
    records = [
        r
        for r in pool
        if r.kind == Kind.DNS_RECORD
        and r.native_type == NATIVE_RRSET
        and normalize_name(r.name) == want
        and str(attrs_of(r, Kind.DNS_RECORD)["type"] or "") in _ANSWER_TYPES
    ]
    if not records:
        why = f"no Cloud DNS record set for {want} was inventoried"
        if gaps:
            why += "; not read: " + ", ".join(gaps)
        return CloudDnsPath(name=want, found=False, reason=why)
    record, others = _pick(records)
    ra = attrs_of(record, Kind.DNS_RECORD)
    base = CloudDnsPath(
        name=want,
        found=True,
        reason="",
        record=record.native_id,
        record_type=ra["type"],
        ttl=ra["ttl"],
        private=ra["private"],
        others=others,
        notes=["the record's zone is private: only VPC clients get these answers"] if ra["private"] else [],
    )
    rp = ra["routing_policy"]
    if not rp:
        values = ", ".join(ra["values"] or []) or "nothing"
        return replace(
            base,
            reason=f"{want} {ra['type']} is a plain record set ({values}): no routing policy, answers never change",
            all_serving_health_checked=False,
            unchecked_serving=[want],
        )
    view = next(
        (
            r
            for r in pool
            if r.kind == Kind.ROUTING
            and r.native_type == NATIVE_POLICY
            and attrs_of(r, Kind.ROUTING)["self_link"] == ra["self_link"]
        ),
        None,
    )
    if view is None:
        return replace(base, found=False, reason=f"{want} has a routing policy but no routing view was inventoried")
    va = attrs_of(view, Kind.ROUTING)
    policy = va["policy"]
    trickle = float(va["trickle_ratio"] or 0.0)
    primary_set = {normalize_name(a) for a in primary}
    secondary_set = {normalize_name(a) for a in secondary}
    targets = [_place(t, policy, trickle, primary_set, secondary_set) for t in va["targets"] or []]
    view_notes = [str(n) for n in va["notes"] or []]
    serving = [t for t in targets if t.serving]
    unchecked = [t.name for t in serving if t.health_checked is not True]
    governing = [t for t in serving if t.health_checked and t.to_primary] or [t for t in serving if t.health_checked]
    unknown = [
        next((n for n in view_notes if n.startswith(t.name + ":")), f"{t.name}: no detection time reported")
        for t in governing
        if t.detection_s is None
    ]
    detection = None if unknown or not governing else max(float(t.detection_s or 0.0) for t in governing)
    to_secondary = [t for t in targets if t.to_secondary]
    fencing = rp.get("fencing") if policy in ("geo", "primaryBackup") else None
    notes = list(base.notes)
    if fencing and policy == "geo":
        notes.append("geo fencing: users of a region whose targets all fail are not sent to another region")
    if policy == "wrr" and any(not t.serving for t in to_secondary):
        notes.append(
            "a zero-weight item is a standby: Cloud DNS picks another item by weight when one fails, "
            "so a weight of 0 may never be answered"
        )
    notes += [n for n in view_notes if n not in unknown]
    return replace(
        base,
        reason=(
            f"{want} {ra['type']} uses Cloud DNS {policy} ({va['mechanism']}): {len(serving)} of {len(targets)} "
            f"answers serve normally, {len(unchecked)} without a health check; "
            f"{len(to_secondary)} point at the secondary"
        ),
        mechanism=va["mechanism"],
        policy=policy,
        targets=targets,
        all_serving_health_checked=not unchecked if serving else None,
        unchecked_serving=unchecked,
        secondary_answers=[t.name for t in to_secondary],
        secondary_standby=[t.name for t in to_secondary if not t.serving],
        trickle_ratio=va["trickle_ratio"],
        fencing=fencing,
        detection_s=detection,
        detection_unknown=unknown,
        fallback=va["fallback"],
        notes=notes,
    )


def _place(t: RoutingTarget, policy: str | None, trickle: float, primary: set[str], secondary: set[str]) -> PathTarget:
    addresses = [normalize_name(str(a)) for a in t.get("addresses") or []]
    return PathTarget(
        name=str(t.get("name") or "?"),
        addresses=addresses,
        serving=_serving(policy, t.get("priority"), t.get("weight"), trickle),
        health_checked=t.get("health_checked"),
        to_primary=bool(set(addresses) & primary),
        to_secondary=bool(set(addresses) & secondary),
        names=[a for a in addresses if not is_ip(a) and a not in primary | secondary],
        weight=t.get("weight"),
        priority=t.get("priority"),
        region=t.get("region"),
        detection_s=t.get("detection_s"),
    )
