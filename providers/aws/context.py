"""State shared by the service readers during one inventory call (clients, worker pool, caches)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from failover.errors import ProviderError
from failover.model import Capacity, Provider, Resource, ScopeError
from failover.schema import Account
from providers.aws.session import Clients, classify, error_code, guarded
from providers.base import NO_DEADLINE, Deadline, Prior, error_kind, one_line

T = TypeVar("T")
R = TypeVar("R")

GLOBAL = ""  # Resource.region for global services (Route 53, S3 listing): matches any site region
TYPES_PER_CALL = 100  # DescribeInstanceTypes accepts at most 100 names


@dataclass
class Ctx:
    account: Account
    clients: Clients
    pool: ThreadPoolExecutor  # bounded pool for per-item calls (one per instance, target group, bucket…)
    page_size: int | None = None
    prior: Prior | None = None  # the account's previous inventory (what may be carried over from it)
    deadline: Deadline = NO_DEADLINE  # the account's inventory deadline (per-item reads stop waiting at it)
    account_id: str = ""
    problems: list[ScopeError] = field(default_factory=list)
    _types: dict[tuple[str, str], tuple[float | None, int | None]] = field(default_factory=dict)
    _types_lock: threading.Lock = field(default_factory=threading.Lock)

    def resource(self, **kw: Any) -> Resource:
        return Resource(provider=Provider.AWS, account=self.account.name, **kw)

    def incomplete(self, scope: str, err: BaseException, detail: str = "") -> None:
        """Record a part of a scope that could not be read (the rest of the scope still counts)."""
        reason = one_line(err) if not detail else f"{detail}: {one_line(err)}"
        self.problems.append(ScopeError(scope=scope, error=error_kind(err), reason=reason))

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R | ProviderError]]:
        """``fn`` over ``items`` on the bounded pool; SDK failures come back as values, bugs propagate."""
        items = list(items)

        def one(item: T) -> R | ProviderError:
            try:
                return guarded(lambda: fn(item))
            except ProviderError as err:
                return err

        return list(zip(items, self.pool.map(one, items), strict=True))

    def instance_types(self, region: str, names: Iterable[str]) -> dict[str, tuple[float | None, int | None]]:
        """vCPU and memory (MiB) per instance type, cached per region for this call; unknown types are absent."""
        wanted = sorted({n for n in names if n})
        with self._types_lock:
            missing = [n for n in wanted if (region, n) not in self._types]
        if missing:
            found = self._describe_types(region, missing)
            with self._types_lock:
                self._types.update({(region, n): spec for n, spec in found.items()})
        with self._types_lock:
            return {n: self._types[(region, n)] for n in wanted if (region, n) in self._types}

    def _describe_types(self, region: str, names: list[str]) -> dict[str, tuple[float | None, int | None]]:
        ec2 = self.clients("ec2", region)
        out: dict[str, tuple[float | None, int | None]] = {}

        def read(batch: list[str]) -> None:
            for t in ec2.describe_instance_types(InstanceTypes=batch).get("InstanceTypes", []):
                vcpu = t.get("VCpuInfo", {}).get("DefaultVCpus")
                mem = t.get("MemoryInfo", {}).get("SizeInMiB")
                out[t["InstanceType"]] = (float(vcpu) if vcpu is not None else None, mem)

        for i in range(0, len(names), TYPES_PER_CALL):
            batch = names[i : i + TYPES_PER_CALL]
            try:
                guarded(lambda b=batch: read(b))  # type: ignore[misc]
            except ProviderError as err:
                if error_code(err.__cause__ or err) != "InvalidInstanceType":
                    self.incomplete(f"{region}/ec2/instance-types", err, "vCPU/memory unknown")
                    continue
                for name in batch:  # one bad name fails the batch: ask for the rest one by one
                    try:
                        guarded(lambda n=name: read([n]))  # type: ignore[misc]
                    except ProviderError as one_err:
                        if error_code(one_err.__cause__ or one_err) != "InvalidInstanceType":
                            self.incomplete(f"{region}/ec2/instance-types", one_err, f"{name} unknown")
        return out


def capacity_of(spec: tuple[float | None, int | None] | None, **extra: Any) -> Capacity:
    if spec is None:
        return Capacity(**extra)
    return Capacity(vcpu=spec[0], memory_mib=spec[1], **extra)


def tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """AWS ``[{"Key": k, "Value": v}]`` (any key casing) as one dict."""
    out: dict[str, str] = {}
    for t in tags or []:
        key = t.get("Key", t.get("key"))
        if key is not None:
            out[str(key)] = str(t.get("Value", t.get("value", "")))
    return out


def iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


__all__ = ["GLOBAL", "Ctx", "capacity_of", "classify", "iso", "tag_dict"]
