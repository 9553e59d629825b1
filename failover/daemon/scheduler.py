"""When each job runs: pure schedule arithmetic, and the APScheduler 3 triggers built from it.

- check (probes, checks, scoring): one job per workload every ``check_interval`` (the workload's own
  or ``daemon.check_interval``), at a fixed offset within the interval derived from the workload's
  name, so workloads spread across the interval and keep their phase across restarts.
- inventory every ``daemon.inventory_interval`` and retention daily: the next run is due one interval
  after the last one recorded in the store (now if never, or overdue), so a restart continues the
  schedule instead of starting over.
- weekly mail: a cron trigger in ``mail.schedule.timezone``; a run missed while the daemon was down
  is made up on start (or on taking over mail leadership) while still within ``mail.schedule.grace``
  and in the same ISO week.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from failover.errors import ConfigError
from failover.mail.digest import iso_week, schedule_zone
from failover.schema import Config, MailSchedule, Workload

__all__ = [
    "ANCHOR",
    "DAYS",
    "RETENTION_EVERY",
    "check_interval",
    "check_slots",
    "last_occurrence",
    "mail_trigger",
    "missed_mail",
    "next_due",
    "phased_trigger",
    "validate",
    "workload_offset",
]

ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)  # every interval schedule is phased from this instant
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RETENTION_EVERY = 86400.0
MIN_INTERVAL = 1.0


def check_interval(config: Config, workload: Workload) -> float:
    return workload.check_interval if workload.check_interval is not None else config.daemon.check_interval


def validate(config: Config) -> None:
    """ConfigError for settings the daemon cannot schedule (the schema alone allows them)."""
    problems: list[str] = []
    d = config.daemon
    for field, value in (("inventory_interval", d.inventory_interval), ("check_interval", d.check_interval)):
        if value < MIN_INTERVAL:
            problems.append(f"daemon.{field}: expected at least 1s, got {value:g}s")
    if d.retention <= 0:
        problems.append("daemon.retention: expected a positive duration like 30d")
    for i, w in enumerate(config.workloads):
        if w.check_interval is not None and w.check_interval < MIN_INTERVAL:
            problems.append(f"workloads[{i}].check_interval ({w.name}): expected at least 1s")
    if not config.workloads:
        problems.append("workloads: none defined, so the daemon would have nothing to check")
    if config.mail is not None:
        from failover.mail.send import preflight

        schedule_zone(config.mail.schedule.timezone)  # raises its own located ConfigError
        # Mail that cannot work (credentials unset, sent in clear, an unreadable CA) fails now, not
        # silently on the day the weekly email is due.
        ca_file = config.mail.smtp.ca_file or config.tls.ca_file
        preflight(config.mail.smtp, ca_file=str(config.resolve_path(ca_file)) if ca_file else None)
    if problems:
        raise ConfigError("the daemon cannot run with this config", problems)


def workload_offset(name: str, interval: float) -> float:
    """Seconds into each interval at which this workload is checked: stable per name, spread evenly."""
    fraction = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") / 2**64
    return fraction * interval


def check_slots(config: Config) -> list[tuple[float, float, list[str]]]:
    """(interval, offset, workload names) per check job.

    Workloads sharing an interval are spread over it by a stable hash of their name. With at most one
    workload per second of interval each gets its own job at its own offset; beyond that, workloads
    falling in the same one-second slot share a job (one probe batch, one run), so thousands of
    workloads cost about ``interval`` jobs rather than thousands.
    """
    by_interval: dict[float, list[str]] = defaultdict(list)
    for w in config.workloads:
        by_interval[check_interval(config, w)].append(w.name)
    out: list[tuple[float, float, list[str]]] = []
    for interval, names in sorted(by_interval.items()):
        slots = max(1, min(len(names), int(interval)))
        if slots == len(names):
            out += [(interval, workload_offset(n, interval), [n]) for n in sorted(names)]
            continue
        groups: dict[int, list[str]] = defaultdict(list)
        for name in names:
            groups[int(workload_offset(name, interval) / interval * slots)].append(name)
        out += [(interval, slot * interval / slots, sorted(members)) for slot, members in sorted(groups.items())]
    return out


def phased_trigger(interval: float, offset: float) -> IntervalTrigger:
    """Every ``interval`` seconds at ``offset`` into it, counted from a fixed instant (stable across restarts)."""
    return IntervalTrigger(seconds=interval, start_date=ANCHOR + timedelta(seconds=offset), timezone=UTC)


def next_due(last: datetime | None, interval: float, now: datetime) -> datetime:
    """One interval after ``last``, or ``now`` if there was no last run or it is overdue."""
    if last is None:
        return now
    due = last + timedelta(seconds=interval)
    return due if due > now else now


def _hm(schedule: MailSchedule) -> tuple[int, int]:
    hh, mm = schedule.time.split(":")
    return int(hh), int(mm)


def mail_trigger(schedule: MailSchedule) -> CronTrigger:
    hour, minute = _hm(schedule)
    return CronTrigger(day_of_week=schedule.day, hour=hour, minute=minute, timezone=ZoneInfo(schedule.timezone))


def last_occurrence(schedule: MailSchedule, now: datetime, tz: tzinfo | None = None) -> datetime:
    """The latest scheduled send time at or before ``now`` (aware, in the schedule's zone)."""
    zone = tz or schedule_zone(schedule.timezone)
    local = now.astimezone(zone)
    hour, minute = _hm(schedule)
    back = (local.weekday() - DAYS.index(schedule.day)) % 7
    day = local.date() - timedelta(days=back)
    at = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if at > local:
        at = datetime.combine(day - timedelta(days=7), time(hour, minute), tzinfo=zone)
    return at


def missed_mail(schedule: MailSchedule, now: datetime) -> datetime | None:
    """The scheduled time of a weekly email that is still due now, or None.

    Due: the last scheduled time is at most ``grace`` ago and falls in the same ISO week (in the
    schedule's zone) as ``now``. An email from a week that is over is not sent late: it would be
    labelled with the new week and take that week's place.
    """
    zone = schedule_zone(schedule.timezone)
    at = last_occurrence(schedule, now, zone)
    if (now - at).total_seconds() > schedule.grace:
        return None
    if iso_week(at, zone) != iso_week(now, zone):
        return None
    return at
