"""Prometheus metrics on the daemon's own registry (never the global one).

Job metrics (durations, failures, last success, leadership) are ordinary prometheus-client objects
updated as jobs finish. Workload metrics (readiness, status, risk, RTO, findings) are rendered at
scrape time from a snapshot of each workload's latest score and findings, so a check that disappears
or a status that changes never leaves a stale series behind; ``workload_families`` is the pure part.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from failover.model import Finding, FindingStatus, Inventory, Observation, Score, Status

__all__ = ["JOBS", "DaemonMetrics", "WorkloadState", "workload_families"]

JOBS = ("inventory", "check", "mail", "retention")
SINGLETONS = ("inventory", "scoring", "mail", "retention")
# The statuses ``failover_findings`` has a series for: a passing or skipped check is a count in
# ``failover_workload_findings``, not a series of its own (at 1,000 workloads a zero for every workload x
# check x status made /metrics 5 MB).
NOT_PASSING = frozenset({FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN})
CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
QUEUE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class WorkloadState:
    score: Score | None = None
    findings: Sequence[Finding] = field(default_factory=tuple)


def workload_families(states: Mapping[str, WorkloadState]) -> list[Metric]:
    """Pure: the per-workload metric families for these states (workloads sorted by name)."""
    readiness = GaugeMetricFamily(
        "failover_workload_readiness", "Readiness score 0-100 of the latest scoring.", labels=["workload"]
    )
    status = GaugeMetricFamily(
        "failover_workload_status",
        "1 for the workload's current status (READY, AT_RISK, NOT_READY, UNKNOWN), 0 for the others; "
        "UNKNOWN while it has no score.",
        labels=["workload", "status"],
    )
    risk = GaugeMetricFamily(
        "failover_workload_single_provider_risk",
        "Fraction 0-1 of the workload that fails if this provider fails.",
        labels=["workload", "provider"],
    )
    rto = GaugeMetricFamily(
        "failover_workload_rto_estimate_seconds",
        "Estimated recovery time if the primary failed now.",
        labels=["workload"],
    )
    target = GaugeMetricFamily(
        "failover_workload_rto_target_seconds", "The workload's RTO target.", labels=["workload"]
    )
    scored = GaugeMetricFamily(
        "failover_workload_score_timestamp_seconds",
        "When the latest score was computed (Unix time).",
        labels=["workload"],
    )
    findings = GaugeMetricFamily(
        "failover_findings",
        "Findings of the latest scoring that are not passing (warn, fail, unknown), by check and status; "
        "no series for a check with none.",
        labels=["workload", "check", "status"],
    )
    by_status = GaugeMetricFamily(
        "failover_workload_findings",
        "Findings of the latest scoring by status (pass, warn, fail, unknown, skip); no series for a count of 0.",
        labels=["workload", "status"],
    )
    for name in sorted(states):
        state = states[name]
        s = state.score
        current = s.status if s is not None else Status.UNKNOWN
        for st in Status:
            status.add_metric([name, st.value], 1.0 if st == current else 0.0)
        if s is not None:
            readiness.add_metric([name], s.readiness)
            for provider, value in sorted(s.single_provider_risk.items()):
                risk.add_metric([name, provider], value)
            if s.rto_estimate_s is not None:
                rto.add_metric([name], s.rto_estimate_s)
            if s.rto_target_s is not None:
                target.add_metric([name], s.rto_target_s)
            scored.add_metric([name], s.computed_at.timestamp())
        totals: Tally[FindingStatus] = Tally()
        risky: Tally[tuple[str, FindingStatus]] = Tally()
        for f in state.findings:
            fs = FindingStatus(f.status)
            totals[fs] += 1
            if fs in NOT_PASSING:
                risky[(f.check, fs)] += 1
        for fs in FindingStatus:
            if totals[fs]:
                by_status.add_metric([name, fs.value], float(totals[fs]))
        for (check, fs), n in sorted(risky.items()):
            findings.add_metric([name, check, fs.value], float(n))
    return [readiness, status, risk, rto, target, scored, findings, by_status]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample_lines(family: Metric) -> list[str]:
    """The family's samples as exposition lines (the same in the Prometheus and OpenMetrics text
    formats for gauges: labels sorted, values as Go prints them)."""
    out = []
    for sample in family.samples:
        labels = ",".join(f'{k}="{_label(v)}"' for k, v in sorted(sample.labels.items()))
        out.append(f"{sample.name}{{{labels}}} {floatToGoString(sample.value)}\n")
    return out


class _Workloads(Collector):
    """The workload families, each workload's lines rendered once when its state is set: a scrape
    joins strings instead of formatting every sample (1,000 workloads are ~13,000 series, whose
    formatting took 0.2-0.7 s per scrape)."""

    def __init__(self) -> None:
        self._states: dict[str, WorkloadState] = {}
        self._lines: dict[str, list[list[str]]] = {}  # workload -> per family, its lines
        self._text: str | None = None
        self._lock = threading.Lock()
        self._heads = [f"# HELP {f.name} {f.documentation}\n# TYPE {f.name} {f.type}\n" for f in workload_families({})]

    def set(self, workload: str, state: WorkloadState) -> None:
        lines = [_sample_lines(f) for f in workload_families({workload: state})]
        with self._lock:
            self._states[workload] = state
            self._lines[workload] = lines
            self._text = None

    def text(self) -> str:
        """The workload families in the text exposition format."""
        with self._lock:
            if self._text is None:
                names = sorted(self._lines)
                self._text = "".join(
                    head + "".join(line for name in names for line in self._lines[name][i])
                    for i, head in enumerate(self._heads)
                )
            return self._text

    def get(self, workload: str) -> WorkloadState | None:
        with self._lock:
            return self._states.get(workload)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            states = dict(self._states)
        yield from workload_families(states)


class DaemonMetrics:
    def __init__(self, *, version: str, vantage: str) -> None:
        # ``registry`` has every metric; /metrics renders ``_base`` (all but the workload families)
        # and appends the workload families' pre-rendered text (``exposition``).
        self._base = CollectorRegistry(auto_describe=True)
        r = self._base
        self.build = Info("failover_build", "The daemon's version and vantage point.", registry=r)
        self.build.info({"version": version, "vantage": vantage})
        self.cycle_duration = Histogram(
            "failover_cycle_duration_seconds", "Wall time of one job run.", ["job"], buckets=CYCLE_BUCKETS, registry=r
        )
        self.probe_duration = Histogram(
            "failover_probe_duration_seconds",
            "Latency of probes that got an answer, by probe kind.",
            ["probe"],
            buckets=PROBE_BUCKETS,
            registry=r,
        )
        self.last_success = Gauge(
            "failover_last_success_timestamp_seconds", "When the job last finished without error.", ["job"], registry=r
        )
        self.failures = Counter("failover_job_failures", "Job runs that failed.", ["job"], registry=r)
        self.skipped = Counter(
            "failover_job_skipped",
            "Runs not started: overrun (the previous run still going), missed, or not_leader.",
            ["job", "reason"],
            registry=r,
        )
        self.leader = Gauge(
            "failover_leader", "1 if this daemon runs the singleton job (holds its lock).", ["job"], registry=r
        )
        self.resources = Gauge(
            "failover_inventory_resources", "Resources in the latest inventory.", ["account"], registry=r
        )
        self.incomplete = Gauge(
            "failover_inventory_incomplete_scopes",
            "Scopes the latest inventory could not read (0 = complete).",
            ["account"],
            registry=r,
        )
        self.alert_deliveries = Counter(
            "failover_alert_deliveries",
            "Alerts by destination and outcome: delivered, failed (after its retries), duplicate (another "
            "daemon claimed it), dropped (the destination's queue was full), error (the database or a bug).",
            ["destination", "outcome"],
            registry=r,
        )
        self.alert_failing = Gauge(
            "failover_alert_consecutive_failures",
            "Alerts to this destination that failed in a row since its last delivery (0 = healthy).",
            ["destination"],
            registry=r,
        )
        # The work queue (Postgres: daemons sharing one database share the work; see daemon/queue.py).
        self.queue_jobs = Gauge(
            "failover_queue_jobs",
            "Jobs waiting (todo) or running (doing) in the shared work queue, by queue; read from the database.",
            ["queue", "status"],
            registry=r,
        )
        self.queue_latency = Histogram(
            "failover_queue_latency_seconds",
            "From the tick a job was due to its start on this daemon, by task.",
            ["task"],
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.queue_jobs_run = Counter(
            "failover_queue_jobs_run",
            "Queue jobs this daemon ran, by task and outcome: ok, failed, cancelled (the daemon stopped), "
            "duplicate (its tick had already run elsewhere).",
            ["task", "outcome"],
            registry=r,
        )
        self.queue_share = Gauge(
            "failover_queue_share",
            "This daemon's fraction 0-1 of the queue jobs all daemons finished in the last five minutes, by task.",
            ["task"],
            registry=r,
        )
        self.queue_defers = Counter(
            "failover_queue_defers",
            "Ticks this daemon handed to the queue: deferred, already_enqueued (another daemon's defer of the "
            "same tick was first: normal), error.",
            ["task", "outcome"],
            registry=r,
        )
        self.queue_stalled = Counter(
            "failover_queue_stalled_jobs",
            "Jobs of dead daemons (worker heartbeat stopped) this daemon put back: retried, or superseded "
            "(the same tick was queued again meanwhile).",
            ["outcome"],
            registry=r,
        )
        self.registry = CollectorRegistry(auto_describe=True)
        for collector in (
            self.build,
            self.cycle_duration,
            self.probe_duration,
            self.last_success,
            self.failures,
            self.skipped,
            self.leader,
            self.resources,
            self.incomplete,
            self.alert_deliveries,
            self.alert_failing,
            self.queue_jobs,
            self.queue_latency,
            self.queue_jobs_run,
            self.queue_share,
            self.queue_defers,
            self.queue_stalled,
        ):
            self.registry.register(collector)
        self.workloads = _Workloads()
        self.registry.register(self.workloads)
        for job in JOBS:
            self.cycle_duration.labels(job)
            self.failures.labels(job)
        for name in SINGLETONS:
            self.leader.labels(name).set(0)

    def alert_destinations(self, names: Iterable[str]) -> None:
        """Every destination's series exists from the start (0), so a rule can watch it."""
        for name in names:
            for outcome in ("delivered", "failed"):
                self.alert_deliveries.labels(name, outcome)
            self.alert_failing.labels(name).set(0)

    def queue_depth(self, depth: Mapping[tuple[str, str], int]) -> None:
        """Set the queue gauges to the counts just read; a queue no longer seen drops out."""
        self.queue_jobs.clear()
        for (queue, status), n in sorted(depth.items()):
            self.queue_jobs.labels(queue, status).set(n)

    def alert_outcome(self, destination: str, outcome: str) -> None:
        self.alert_deliveries.labels(destination, outcome).inc()

    def alert_failures(self, destination: str, consecutive: int) -> None:
        self.alert_failing.labels(destination).set(consecutive)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """(body, content type) for /metrics in the format the scraper accepts: what ``registry``
        exports, with the workload families from their pre-rendered lines."""
        encoder, content_type = choose_encoder(accept)
        base = encoder(self._base).decode()
        eof = "# EOF\n"
        body = base.removesuffix(eof) + self.workloads.text() + (eof if base.endswith(eof) else "")
        return body.encode(), content_type

    def job_finished(self, job: str, seconds: float, *, ok: bool, at: float) -> None:
        self.cycle_duration.labels(job).observe(seconds)
        if ok:
            self.last_success.labels(job).set(at)
        else:
            self.failures.labels(job).inc()

    def observations(self, observations: Iterable[Observation]) -> None:
        for o in observations:
            if o.latency_ms is not None:
                self.probe_duration.labels(o.probe).observe(o.latency_ms / 1000.0)

    def inventories(self, inventories: Iterable[Inventory]) -> None:
        for inv in inventories:
            self.resources.labels(inv.account).set(len(inv.resources))
            self.incomplete.labels(inv.account).set(len(inv.incomplete))

    def workload(self, name: str, score: Score | None, findings: Sequence[Finding]) -> None:
        self.workloads.set(name, WorkloadState(score, tuple(findings)))
