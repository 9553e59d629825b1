"""``failover whatif``: if a provider (or one of its regions) went down now, which workloads keep
serving, how soon, and what breaks; computed from stored evidence through the same checks.

The library surface (the CLI, the weekly email, the score JSON and the status page call it):

- ``what_if(config, evidence, downs, workloads=None) -> list[WhatIf]``: pure;
- ``load_evidence(config, store, workloads=None, now=None) -> StoredEvidence``: the stored evidence;
- ``matrix(config, store, workloads=None) -> list[WhatIf]``: each workload with each of aws, gcp
  and azure down, from the store;
- ``parse_domain(text, config, inventories) -> Domain`` and ``Domain(provider, region=None)``;
- ``summary(results, domain) -> str``: "If AWS went down now: 3 of 5 workloads would be serving within
  target".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from failover.lazy import lazy_attributes
from failover.whatif.domain import Domain, known_regions, parse_domain, valid_providers
from failover.whatif.result import Survival, WhatIf, WhatIfReason

if TYPE_CHECKING:
    from datetime import datetime

    from failover.schema import Config, Workload
    from failover.store import Store
    from failover.whatif.evaluate import StoredEvidence, what_if
    from failover.whatif.facts import FACTS, PlaneFacts, facts_of

# Imported on first use: the evaluation imports every check, which a reader of the stored matrix
# (``failover score``) does not need.
__getattr__ = lazy_attributes(
    __name__,
    {
        "StoredEvidence": "evaluate",
        "what_if": "evaluate",
        "FACTS": "facts",
        "PlaneFacts": "facts",
        "facts_of": "facts",
    },
)


__all__ = [
    "ALL_PROVIDERS",
    "FACTS",
    "Domain",
    "PlaneFacts",
    "StoredEvidence",
    "Survival",
    "WhatIf",
    "WhatIfReason",
    "facts_of",
    "known_regions",
    "load_evidence",
    "matrix",
    "parse_domain",
    "summary",
    "valid_providers",
    "what_if",
]

# ``--all-providers``: the three clouds, one at a time.
ALL_PROVIDERS = (Domain("aws"), Domain("gcp"), Domain("azure"))
_NAMES = {"aws": "AWS", "gcp": "GCP", "azure": "Azure", "cloudflare": "Cloudflare"}


def load_evidence(
    config: Config, store: Store, workloads: Sequence[Workload] | None = None, now: datetime | None = None
) -> StoredEvidence:
    """The newest stored evidence of the workloads (all configured by default), judged at ``now``."""
    from failover.whatif.load import load_evidence as load

    return load(config, store, workloads, now)


def matrix(config: Config, store: Store, workloads: Sequence[Workload] | None = None) -> list[WhatIf]:
    """Each workload (all configured by default) with each of aws, gcp and azure down."""
    from failover.whatif.evaluate import what_if

    return what_if(config, load_evidence(config, store, workloads), ALL_PROVIDERS, workloads)


def summary(results: Sequence[WhatIf], domain: Domain) -> str:
    """One sentence for the domain: how many of its workloads would be serving within target."""
    mine = [r for r in results if r.down == domain]
    ok = sum(1 for r in mine if r.within_target)
    name = _NAMES.get(domain.provider, domain.provider)
    where = name if domain.region is None else f"{name} {domain.region}"
    noun = "workload" if len(mine) == 1 else "workloads"
    return f"If {where} went down now: {ok} of {len(mine)} {noun} would be serving within target"
