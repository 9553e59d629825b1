"""The status pages from the store: one read of what the pages need (``read_snapshot``), then pure
page builders over it. The daemon renders a page per request through ``LivePages``; ``failover
report --html`` renders every page once through ``write_site``.

Which workloads: the configured ones (a configured workload without a score yet shows as UNKNOWN),
or, with no workloads in the config, every workload the store holds a score for (as ``failover score``
does).

What-if results (``failover whatif``'s own ``WhatIf``) come from the ``whatif`` callable
each entry point is given; without one the what-if section is left out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from failover.mail.digest import check_titles, doc_link
from failover.model import Finding, RtoVerdict, Score, utcnow
from failover.printable import escape_json_controls
from failover.schema import Config
from failover.statuspage.model import (
    TREND_DAYS,
    FindingRow,
    IndexPage,
    Links,
    WhatIf,
    WhatIfMatrix,
    WorkloadPage,
    WorkloadSummary,
    daily_series,
    file_stems,
    rank_findings,
    rank_workloads,
    served_links,
    static_links,
)
from failover.statuspage.render import render_index, render_workload

if TYPE_CHECKING:
    from failover.store import Store

__all__ = [
    "DEFAULT_DOCS_URL",
    "LivePages",
    "Snapshot",
    "WhatIfSource",
    "docs_url_of",
    "read_snapshot",
    "stored_whatif",
    "write_site",
]

DEFAULT_DOCS_URL = "https://github.com/failover-dev/failover/blob/main/docs/checks.md"
WhatIfSource = Callable[[], Sequence[WhatIf]]


def stored_whatif(config: Config, store: Store) -> list[WhatIf]:
    """The what-if matrix (each workload with aws, gcp and azure down) from the stored evidence, what
    ``failover whatif --all-providers`` answers; with nothing stored yet every answer is unknown. As
    stored with the scores while that still holds, else computed live (``failover.whatif.stored``)."""
    from failover.whatif.stored import stored_matrix

    return stored_matrix(config, store)


def docs_url_of(config: Config) -> str:
    """Where check ids link: ``mail.docs_url`` when a mail section sets it, else the repository's
    docs/checks.md (its anchors are the check ids with ``.`` as ``-``)."""
    return str(config.mail.docs_url) if config.mail else DEFAULT_DOCS_URL


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the pages show, as read from the store at ``now``."""

    now: datetime
    names: list[str]
    scores: dict[str, Score]
    findings: dict[str, list[Finding]]
    trends: dict[str, list[float | None]]


Daily = dict[str, list[tuple[date, float]]]


def trend_since(now: datetime) -> datetime:
    """The start (UTC midnight) of the first of the ``TREND_DAYS`` days ending with ``now``'s."""
    return datetime.combine(now.date() - timedelta(days=TREND_DAYS - 1), datetime.min.time(), tzinfo=now.tzinfo)


def read_snapshot(
    config: Config,
    store: Store,
    now: datetime | None = None,
    workload: str | None = None,
    daily: Daily | None = None,
    with_findings: bool = True,
) -> Snapshot:
    """Latest scores, latest findings (unless ``with_findings`` is False: the index shows none) and
    (unless ``daily`` is given) 30 days of daily readiness, for every workload or just ``workload``."""
    now = now or utcnow()
    scores = {s.workload: s for s in store.latest_scores(workload)}
    findings: dict[str, list[Finding]] = {}
    for f in store.latest_findings(workload) if with_findings else ():
        findings.setdefault(f.workload, []).append(f)
    if daily is None:
        daily = store.daily_readiness(trend_since(now), workload)
    configured = [w.name for w in config.workloads]
    names = configured or sorted(scores)
    if workload is not None:
        names = [n for n in names if n == workload]
    trends = {n: daily_series(daily.get(n, []), now.date()) for n in names}
    return Snapshot(now=now, names=names, scores=scores, findings=findings, trends=trends)


def _with_target(score: Score | None, config: Config, name: str) -> Score | None:
    """A score stored without an RTO target is judged against the workload's configured one."""
    if score is None or score.rto_target_s is not None:
        return score
    target = next((w.targets.rto for w in config.workloads if w.name == name), None)
    if target is None:
        return score
    verdict = RtoVerdict.of(score.rto_estimate_s, score.rto_lower_bound_s, target)
    return replace(score, rto_target_s=target, rto_verdict=verdict)


def _summary(snap: Snapshot, name: str, config: Config, href: str) -> WorkloadSummary:
    score = _with_target(snap.scores.get(name), config, name)
    stale = score is not None and (snap.now - score.computed_at).total_seconds() > config.scoring.stale_after
    return WorkloadSummary(name=name, score=score, trend=snap.trends.get(name, []), stale=stale, href=href)


def index_page(snap: Snapshot, config: Config, links: Links, whatif: Sequence[WhatIf] = ()) -> IndexPage:
    summaries = [_summary(snap, n, config, links.workload(n)) for n in snap.names]
    known = set(snap.names)
    return IndexPage(
        generated_at=snap.now,
        workloads=rank_workloads(summaries),
        whatif=WhatIfMatrix.of(r for r in whatif if r.workload in known),
        docs_url=docs_url_of(config),
        ready_threshold=config.scoring.ready_threshold,
    )


def _evidence_json(evidence: Mapping[str, object]) -> str:
    """Evidence as indented JSON: exact values, control and bidi characters as ``\\u`` escapes."""
    return escape_json_controls(json.dumps(evidence, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def workload_page(
    snap: Snapshot,
    config: Config,
    name: str,
    index_href: str,
    whatif: Sequence[WhatIf] = (),
    titles: Mapping[str, str] | None = None,
) -> WorkloadPage:
    docs = docs_url_of(config)
    titles = check_titles() if titles is None else titles
    rows = [
        FindingRow(
            finding=f,
            title=titles.get(f.check, ""),
            doc_url=doc_link(docs, f.check),
            evidence_json=_evidence_json(f.evidence) if f.evidence else "",
        )
        for f in snap.findings.get(name, [])
    ]
    return WorkloadPage(
        generated_at=snap.now,
        summary=_summary(snap, name, config, ""),
        findings=rank_findings(rows),
        whatif=[r for r in whatif if r.workload == name],
        index_href=index_href,
        docs_url=docs,
        ready_threshold=config.scoring.ready_threshold,
    )


class LivePages:
    """The daemon's pages, rendered per request from the shared store. At most ``concurrency``
    renders run at once (each holds one database connection), so a burst of page views cannot take
    the connections the jobs need. The index's trends and the what-if rows are read again at most
    every ``ttl`` seconds; a workload's own page reads its trend fresh (one index range)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        whatif: WhatIfSource | None = None,
        concurrency: int = 2,
        ttl: float = 60.0,
    ) -> None:
        self.config = config
        self.store = store
        self._whatif = whatif
        self._slots = threading.BoundedSemaphore(concurrency)
        self._ttl = ttl
        self._whatif_cache: tuple[float, Sequence[WhatIf]] | None = None
        self._daily_cache: tuple[float, date, Daily] | None = None
        self._lock = threading.Lock()

    def _daily(self, now: datetime) -> Daily:
        """Every workload's daily readiness, read again once ``ttl`` seconds old or on a new day: the
        one read that grows with history, and a sparkline a minute behind says the same."""
        cached = self._daily_cache
        if cached is None or time.monotonic() - cached[0] > self._ttl or cached[1] != now.date():
            cached = (time.monotonic(), now.date(), self.store.daily_readiness(trend_since(now)))
            self._daily_cache = cached
        return cached[2]

    def _rows(self) -> Sequence[WhatIf]:
        if self._whatif is None:
            return ()
        with self._lock:
            cached = self._whatif_cache
            if cached is None or time.monotonic() - cached[0] > self._ttl:
                cached = (time.monotonic(), tuple(self._whatif()))
                self._whatif_cache = cached
            return cached[1]

    def index(self) -> str:
        with self._slots:
            now = utcnow()
            snap = read_snapshot(self.config, self.store, now, daily=self._daily(now), with_findings=False)
            return render_index(index_page(snap, self.config, served_links(snap.names), self._rows()))

    def workload(self, name: str) -> str | None:
        """The page of ``name``, or None when the status page does not list that workload."""
        with self._slots:
            snap = read_snapshot(self.config, self.store, workload=name)
            if name not in snap.names:
                return None
            return render_workload(workload_page(snap, self.config, name, "../", self._rows()))


def write_site(
    config: Config, store: Store, directory: Path, *, whatif: Sequence[WhatIf] = (), now: datetime | None = None
) -> list[Path]:
    """Every page as static files: ``index.html`` and ``workloads/<stem>.html`` (relative links, so
    the folder can be copied anywhere). Returns the files written, index first."""
    snap = read_snapshot(config, store, now)
    stems = file_stems(snap.names)
    titles = check_titles()
    pages = directory / "workloads"
    pages.mkdir(parents=True, exist_ok=True)
    index = directory / "index.html"
    index.write_text(render_index(index_page(snap, config, static_links(stems), whatif)), encoding="utf-8")
    written = [index]
    for name in snap.names:
        path = pages / f"{stems[name]}.html"
        page = workload_page(snap, config, name, "../index.html", whatif, titles)
        path.write_text(render_workload(page), encoding="utf-8")
        written.append(path)
    return written
