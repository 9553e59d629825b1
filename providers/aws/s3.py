"""S3 buckets (one global listing): region, versioning, replication rules and tags per bucket.

S3 has no bulk read of bucket settings: each is one call per bucket (location, versioning, replication,
tagging). What cannot change or rarely does is not read every time: a bucket's region never changes
(ListBuckets usually names it; otherwise it is carried over from the previous inventory for the same
bucket, same creation date), and versioning and replication are carried over from the previous
inventory like EC2 termination protection (``providers.aws.ec2.reusable``: while younger than the
prior's ``reuse_for_s``, spread per bucket, with the time they were read kept in
``settings_read_at``). Tags are read every time: sites select buckets by them.
"""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, utcnow
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.ec2 import young_enough
from providers.aws.session import error_code, guarded, paginate

SCOPE = "global/s3"
# Normal answers, not failures: the bucket simply has none of these configured.
NOT_CONFIGURED = frozenset({"ReplicationConfigurationNotFoundError", "NoSuchTagSet", "NoSuchTagSetError"})


def bucket_region(location: str | None) -> str:
    """GetBucketLocation's legacy answers: empty means us-east-1, ``EU`` means eu-west-1."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def read_buckets(ctx: Ctx) -> list[Resource]:
    home = ctx.account.regions[0]
    listing = ctx.clients("s3", home)
    # No page size here: ListBuckets already returns up to 10,000 per page, and the paginator still
    # follows ContinuationToken beyond that (moto truncates at max-buckets without a token).
    buckets = list(paginate(listing, "list_buckets", "Buckets[]"))
    previous = {r.native_id: r for r in ctx.prior.resources(Kind.STORAGE_BUCKET).values()} if ctx.prior else {}
    reuse_for, now = (ctx.prior.reuse_for_s if ctx.prior else 0.0), utcnow()

    def details(bucket: dict[str, Any]) -> dict[str, Any]:
        name = bucket["Name"]
        out: dict[str, Any] = {}
        before = previous.get(name)
        same = before is not None and before.attrs.get("created") == iso(bucket.get("CreationDate"))
        region = bucket.get("BucketRegion") or (before.region if before is not None and same else None)
        if not region:
            try:
                answer = guarded(lambda: listing.get_bucket_location(Bucket=name))
                region = bucket_region(answer.get("LocationConstraint"))
            except ProviderError as err:
                out["location"] = err
        client = ctx.clients("s3", region or home)
        out["region"] = region
        calls: tuple[tuple[str, Any], ...] = (("tagging", lambda: client.get_bucket_tagging(Bucket=name)),)
        if same and before is not None and (kept := carried(name, before, reuse_for, now)) is not None:
            out["carried"] = kept
        else:
            out["settings_read_at"] = now.isoformat()
            calls += (
                ("versioning", lambda: client.get_bucket_versioning(Bucket=name)),
                ("replication", lambda: client.get_bucket_replication(Bucket=name)),
            )
        for key, call in calls:
            try:
                out[key] = guarded(call)
            except ProviderError as err:
                out[key] = None if error_code(err.__cause__ or err) in NOT_CONFIGURED else err
        return out

    results = ctx.each(details, buckets)
    failures = [
        (b["Name"], k, v)
        for b, d in results
        if isinstance(d, dict)
        for k, v in d.items()
        if isinstance(v, ProviderError)
    ]
    failures += [(b["Name"], "bucket", d) for b, d in results if isinstance(d, ProviderError)]
    if failures:
        name, what, err = failures[0]
        ctx.incomplete(f"{SCOPE}/bucket-config", err, f"{len(failures)} bucket settings unknown (first: {name} {what})")
    regions = {b["Name"]: d.get("region") for b, d in results if isinstance(d, dict)}
    return [normalize_bucket(ctx, b, d if isinstance(d, dict) else {"bucket": d}, regions) for b, d in results]


def carried(name: str, previous: Resource, reuse_for_s: float, now: Any) -> dict[str, Any] | None:
    """The previous inventory's versioning and replication of this bucket, when both were read and are
    young enough to stand in for a new reading (``young_enough``)."""
    attrs = previous.attrs
    if attrs.get("versioning") is None or attrs.get("replication") is None:
        return None
    if not young_enough(name, attrs.get("settings_read_at"), reuse_for_s, now):
        return None
    return {k: attrs.get(k) for k in ("versioning", "mfa_delete", "replication", "settings_read_at")}


def _with_regions(replication: dict[str, Any], regions: dict[str, str | None]) -> dict[str, Any]:
    """A carried replication config with each destination's region as this inventory knows it."""
    rules = [
        {**r, "destination_region": regions.get(r.get("destination_bucket") or "", r.get("destination_region"))}
        for r in replication.get("rules") or []
    ]
    return {**replication, "rules": rules}


def _dest_bucket(arn: str) -> str:
    return arn.split(":::", 1)[-1] if arn.startswith("arn:") else arn


def rule_scope(rule: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Which objects a replication rule copies: a key prefix ("" = any key) and tags every object must
    carry ({} = any). Read from ``Filter`` (``Prefix``, one ``Tag``, or ``And`` of a prefix and tags) or,
    in a V1 rule without a filter, the rule's own ``Prefix``. Priority and DeleteMarkerReplication do not
    change which objects get a copy, so they are not part of the scope."""
    flt = rule.get("Filter")
    if flt is None:
        return str(rule.get("Prefix") or ""), {}
    if "And" in flt:
        both = flt["And"] or {}
        return str(both.get("Prefix") or ""), tag_dict(both.get("Tags"))
    if "Tag" in flt:
        return "", tag_dict([flt["Tag"]])
    return str(flt.get("Prefix") or ""), {}


def normalize_bucket(ctx: Ctx, b: dict[str, Any], d: dict[str, Any], regions: dict[str, str | None]) -> Resource:
    notes = [f"{k} unknown: {v}" for k, v in d.items() if isinstance(v, ProviderError)]
    versioning = d.get("versioning")
    replication = d.get("replication")
    tagging = d.get("tagging")
    attrs: dict[str, Any] = {
        "store_kind": "s3",
        "created": iso(b.get("CreationDate")),
        "versioning": (
            None
            if isinstance(versioning, ProviderError) or versioning is None
            else versioning.get("Status", "Disabled")
        ),
        "mfa_delete": None if not isinstance(versioning, dict) else versioning.get("MFADelete"),
    }
    if isinstance(replication, ProviderError) or "replication" not in d:
        attrs["replication"] = None  # unknown
    elif replication is None:
        attrs["replication"] = {"role": None, "rules": []}  # read, and none configured
    else:
        cfg = replication.get("ReplicationConfiguration", {})
        rules = []
        for r in cfg.get("Rules", []):
            dest = r.get("Destination", {})
            bucket = _dest_bucket(dest.get("Bucket", ""))
            prefix, tags = rule_scope(r)
            rules.append(
                {
                    "id": r.get("ID"),
                    "status": r.get("Status"),
                    "priority": r.get("Priority"),
                    "prefix": prefix,
                    "tags": tags,
                    "destination_bucket": bucket,
                    "destination_region": regions.get(bucket),
                    "destination_account": dest.get("Account"),
                    "storage_class": dest.get("StorageClass"),
                    "replication_time_control": (dest.get("ReplicationTime") or {}).get("Status"),
                }
            )
        attrs["replication"] = {"role": cfg.get("Role"), "rules": rules}
    tags = {} if not isinstance(tagging, dict) else tag_dict(tagging.get("TagSet"))
    if "carried" in d:  # read by an earlier inventory (its time kept), young enough to stand in
        attrs |= d["carried"]
        attrs["replication"] = _with_regions(attrs["replication"], regions)
    else:
        attrs["settings_read_at"] = d.get("settings_read_at")
    if notes:
        attrs["notes"] = notes
    region = d.get("region") or ""
    return ctx.resource(
        region=region,
        kind=Kind.STORAGE_BUCKET,
        native_type="s3:bucket",
        native_id=b["Name"],
        name=b["Name"],
        tags=tags,
        attrs=attrs,
    )
