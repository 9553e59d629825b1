"""EC2 instances: describe (paginated) → instance types → termination protection → Resource.

EC2 reports ``DisableApiTermination`` only through ``DescribeInstanceAttribute``, one instance per call
(≈ 2,000 calls for 1,000 workloads of two instances; there is no filter or bulk form). It rarely
changes, so an instance's reading is carried over from the account's previous inventory (``Ctx.prior``)
and read again only once it is older than the prior's ``reuse_for_s`` (spread over the second half of
that window per instance, so an estate's refreshes do not all land in one cycle). Every reading keeps
when it was made (``deletion_protection_read_at``): the check counts one older than
``scoring.stale_after`` as unknown.

The reads a page of instances needs start on the account's bounded pool as soon as that page arrives,
while the next page is fetched. They are bounded by the account's ``inventory_deadline``: readings not
back shortly before it are unknown (a located ``deadline`` scope, never "unprotected"), and the
instances listed are kept; the next inventory carries over what was read and reads the rest.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from failover.errors import DeadlineExceeded, ProviderError
from failover.model import Kind, Resource, utcnow
from providers.aws.context import Ctx, capacity_of, iso, tag_dict
from providers.aws.session import guarded, paginate_pages

# (protected?, when it was read: ISO 8601) or the error that kept it unread
Protection = tuple[bool, str] | ProviderError
# How long before the account's deadline the per-instance reads stop being waited for (at most this
# share of the deadline): the instances listed are normalized and handed back before the deadline.
DEADLINE_MARGIN_S = 1.0
DEADLINE_MARGIN_SHARE = 0.1
# DescribeInstances' largest page (AWS recommends paging it): without a page size it answers the whole
# region at once, and no protection read could start before the last instance is listed.
PAGE_SIZE = 1000


def read_instances(ctx: Ctx, region: str) -> list[Resource]:
    ec2 = ctx.clients("ec2", region)
    reads = ProtectionReads(ctx, region)
    raw: list[dict[str, Any]] = []
    pages = ctx.page_size or PAGE_SIZE
    try:
        for page in paginate_pages(ec2, "describe_instances", "Reservations[].Instances[]", page_size=pages):
            # terminated instances linger in listings for an hour; they are not capacity, and not ours to judge
            live = [i for i in page if i.get("State", {}).get("Name") != "terminated"]
            reads.start(i["InstanceId"] for i in live)
            raw += live
    except BaseException:
        reads.cancel()
        raise
    types = ctx.instance_types(region, (i.get("InstanceType", "") for i in raw))
    protection = reads.results()
    return [
        normalize_instance(ctx, region, i, types.get(i.get("InstanceType", "")), protection[i["InstanceId"]])
        for i in raw
    ]


def reusable(instance_id: str, previous: Resource | None, reuse_for_s: float, now: datetime) -> tuple[bool, str] | None:
    """The previous inventory's reading of this instance's protection, if it may stand in for a new one:
    read (not unknown) and young enough (``young_enough``)."""
    if previous is None:
        return None
    value, read_at = previous.attrs.get("deletion_protection"), previous.attrs.get("deletion_protection_read_at")
    if not isinstance(value, bool) or not isinstance(read_at, str):
        return None
    return (value, read_at) if young_enough(instance_id, read_at, reuse_for_s, now) else None


def young_enough(key: str, read_at: Any, reuse_for_s: float, now: datetime) -> bool:
    """Whether a reading made at ``read_at`` (ISO 8601) may be carried over: younger than this key's share
    of ``reuse_for_s``, between half and all of it, so an estate's readings are not all refreshed in the
    same cycle."""
    if reuse_for_s <= 0 or not isinstance(read_at, str):
        return False
    try:
        age = (now - datetime.fromisoformat(read_at)).total_seconds()
    except (ValueError, TypeError):
        return False
    share = 0.5 + 0.5 * (zlib.crc32(key.encode()) / 0xFFFFFFFF)
    return 0 <= age < reuse_for_s * share


class ProtectionReads:
    """``DisableApiTermination`` per instance of one region: carried over from the previous inventory
    while young enough, otherwise read (one call per instance) on the account's bounded pool, started
    page by page (``start``) and collected once the listing is done (``results``).

    At most ``max_concurrency`` of these reads wait in or occupy the shared pool at a time (each one
    done hands its place to the next): the other services' per-item reads, queued on the same pool,
    are served alongside them instead of behind thousands of them."""

    def __init__(self, ctx: Ctx, region: str) -> None:
        self.ctx, self.region = ctx, region
        self.ec2 = ctx.clients("ec2", region)
        self.now = utcnow()
        self.previous = ctx.prior.resources(Kind.COMPUTE_INSTANCE) if ctx.prior else {}
        self.reuse_for = ctx.prior.reuse_for_s if ctx.prior else 0.0
        self.kept: dict[str, Protection] = {}
        self.wanted: set[str] = set()
        self.read: dict[str, Protection] = {}
        self._todo: deque[str] = deque()
        self._running = 0
        self._stopped = False
        self._bug: BaseException | None = None
        self._changed = threading.Condition()

    def start(self, ids: Iterable[str]) -> None:
        for instance_id in ids:
            kept = reusable(instance_id, self.previous.get((self.region, instance_id)), self.reuse_for, self.now)
            if kept is not None:
                self.kept[instance_id] = kept
            elif instance_id not in self.wanted:
                self.wanted.add(instance_id)
                self._todo.append(instance_id)
        self._fill()

    def _fill(self) -> None:
        with self._changed:
            while self._todo and not self._stopped and self._running < self.ctx.account.max_concurrency:
                instance_id = self._todo.popleft()
                try:
                    self.ctx.pool.submit(self._run, instance_id)
                except RuntimeError:  # the pool was shut down (the account's deadline passed)
                    self._stopped = True
                    return
                self._running += 1

    def _run(self, instance_id: str) -> None:
        value: Protection | BaseException
        try:
            value = self._read(instance_id)
        except BaseException as bug:  # not an SDK failure: handed to ``results`` to raise
            value = bug
        with self._changed:
            if isinstance(value, ProviderError) or not isinstance(value, BaseException):
                self.read[instance_id] = value
            else:
                self._bug = value
                self.read[instance_id] = DeadlineExceeded("not read")
            self._running -= 1
            self._changed.notify_all()
        self._fill()

    def _read(self, instance_id: str) -> Protection:
        def call() -> tuple[bool, str]:
            answer = self.ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
            return bool(answer["DisableApiTermination"]["Value"]), utcnow().isoformat()

        try:
            return guarded(call)
        except ProviderError as err:
            return err

    def cancel(self) -> None:
        with self._changed:
            self._stopped = True
            self._todo.clear()

    def results(self) -> dict[str, Protection]:
        """Every instance's reading; those not back before the deadline (less a margin) are unknown, and
        each kind of failure is one located incomplete scope with the count."""
        deadline = self.ctx.deadline
        if deadline.seconds is not None and deadline.at is not None:
            until: float | None = deadline.at - min(DEADLINE_MARGIN_S, DEADLINE_MARGIN_SHARE * deadline.seconds)
        else:
            until = None
        with self._changed:
            while len(self.read) < len(self.wanted):
                left = None if until is None else until - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._changed.wait(left)
            self._stopped = True  # the ones not started stay unread; those running end on their own timeouts
            read = dict(self.read)
        if self._bug is not None:
            raise self._bug
        late = DeadlineExceeded(f"not read within {deadline.describe()} (inventory_deadline)")
        results = {**self.kept, **{i: read.get(i, late) for i in self.wanted}}
        failed: dict[str, list[ProviderError]] = {}
        for value in results.values():
            if isinstance(value, ProviderError):
                failed.setdefault(type(value).__name__, []).append(value)
        for errors in failed.values():
            self.ctx.incomplete(
                f"{self.region}/ec2/instance-attributes",
                errors[0],
                f"deletion protection unknown for {len(errors)} of {len(results)} instances",
            )
        return results


def normalize_instance(
    ctx: Ctx,
    region: str,
    i: dict[str, Any],
    spec: tuple[float | None, int | None] | None,
    protection: Protection,
) -> Resource:
    tags = tag_dict(i.get("Tags"))
    notes: list[str] = []
    if isinstance(protection, ProviderError):
        notes.append(f"deletion protection unknown: {protection}")
    if spec is None:
        notes.append(f"vCPU/memory unknown for instance type {i.get('InstanceType')!r}")
    attrs: dict[str, Any] = {
        "image": i.get("ImageId"),
        "deletion_protection": None if isinstance(protection, ProviderError) else protection[0],
        "deletion_protection_read_at": None if isinstance(protection, ProviderError) else protection[1],
        "private_ip": i.get("PrivateIpAddress"),
        "public_ip": i.get("PublicIpAddress"),
        "private_dns": i.get("PrivateDnsName") or None,
        "public_dns": i.get("PublicDnsName") or None,
        "ipv6": [a["Ipv6Address"] for n in i.get("NetworkInterfaces", []) for a in n.get("Ipv6Addresses", [])],
        "subnet_id": i.get("SubnetId"),
        "vpc_id": i.get("VpcId"),
        "architecture": i.get("Architecture"),
        "platform": i.get("PlatformDetails") or i.get("Platform"),
        "lifecycle": i.get("InstanceLifecycle", "on-demand"),
        "launch_time": iso(i.get("LaunchTime")),
        "autoscaling_group": tags.get("aws:autoscaling:groupName"),
        "state_reason": (i.get("StateReason") or {}).get("Message"),
    }
    if notes:
        attrs["notes"] = notes
    return ctx.resource(
        region=region,
        zone=i.get("Placement", {}).get("AvailabilityZone", ""),
        kind=Kind.COMPUTE_INSTANCE,
        native_type=i.get("InstanceType", ""),
        native_id=i["InstanceId"],
        name=tags.get("Name") or i["InstanceId"],
        state=i.get("State", {}).get("Name", ""),
        capacity=capacity_of(spec),
        tags=tags,
        attrs=attrs,
    )
