"""Pausing Python's cyclic garbage collector while many acyclic objects are made at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Making some 100,000 young objects without cycles (a large config's node tree and models, a
    large JSON document read back) sets off the cyclic collector again and again, each time walking
    all of them: half a 1,000-workload config's load time. Paused for the block; left off if the
    caller had it off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
