"""Two daemons sharing one Postgres database (subprocesses, a fresh database): exactly one sends each
owner's weekly email, both score their own vantage's checks, and one killed with SIGKILL leaves the
other checking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from failover.sandbox.aws import AwsSandbox, seed_auto_scaling_group, seed_instances
from failover.store import Store
from failover.store import tables as t
from tests.fixtures.daemon import DaemonProcess, due_schedule, shop_config, wait_for, write_config
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.store import PostgresServer

pytestmark = pytest.mark.postgres

PASSWORD = "hunter2-not-for-logs"
OWNERS = ("alice@example.com", "bob@example.com")


def scoring_runs(store: Store, since: datetime) -> list[dict[str, Any]]:
    r = t.runs
    query = select(r).where(r.c.kind == "check", r.c.started_at >= since).order_by(r.c.id)
    with store.engine.connect() as conn:
        return [dict(x._mapping) for x in conn.execute(query)]


def test_two_daemons_send_each_weekly_email_once_score_their_vantages_and_a_survivor_goes_on_after_kill_9(
    pg_server: PostgresServer,
    aws_sandbox: AwsSandbox,
    smtp_server: SmtpServer,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
) -> None:
    tags = {"app": "shop"}
    seed_instances(aws_sandbox, "us-east-1", count=1, instance_type="m5.large", tags=tags)
    seed_auto_scaling_group(aws_sandbox, "us-west-2", "web-dr", desired=1, instance_type="m5.large", tags=tags)
    plain = make_url(pg_server.create_database())
    url = plain.set(password=PASSWORD).render_as_string(hide_password=False)  # trust auth ignores it
    in_file = f"postgresql+psycopg://{plain.username}:${{TEST_PG_PASSWORD}}@{plain.host}:{plain.port}/{plain.database}"
    mail = {
        "from": "failover@example.com",
        "smtp": smtp_server.smtp().model_dump(exclude_none=True),
        "schedule": due_schedule(datetime.now(UTC)),
    }
    daemons: dict[str, DaemonProcess] = {}
    for vantage in ("east-probe", "west-probe"):
        data = shop_config(
            database=in_file,
            aws=aws_sandbox.account("aws-local", ["us-east-1", "us-west-2"]),
            vantage=vantage,
            check_interval="2s",
            owners=OWNERS,
            mail=mail,
        )
        config = write_config(tmp_path / f"{vantage}.yaml", data)
        daemons[vantage] = daemon_factory(config, env={"TEST_PG_PASSWORD": PASSWORD})

    # Exactly one email per owner, all sent by one daemon (the mail leader), none twice.
    alive = lambda: all(d.running() for d in daemons.values())  # noqa: E731
    wait_for(lambda: alive() and len(smtp_server.received) >= len(OWNERS), 40, "the weekly emails")
    marks = {v: len(d.events("check.finished")) for v, d in daemons.items()}
    wait_for(  # both daemons keep running a few more cycles: still no second copy
        lambda: all(len(d.events("check.finished")) >= marks[v] + 2 for v, d in daemons.items()),
        20,
        "two more check cycles on each daemon",
    )
    recipients = sorted(r for m in smtp_server.received for r in m.rcpt_tos)
    assert recipients == list(OWNERS)
    store = Store.open(url, upgrade=False)
    try:
        with store.engine.connect() as conn:
            senders = {row.vantage for row in conn.execute(select(t.mail_deliveries))}
            # Inventory is one queue job per account and interval, whichever daemon takes it.
            inventories = conn.execute(
                sql(
                    "SELECT queueing_lock, count(*) FROM procrastinate_jobs "
                    "WHERE task_name = 'failover.inventory' AND status = 'succeeded' GROUP BY queueing_lock"
                )
            ).all()
        assert len(senders) == 1 and senders <= set(daemons)
        assert inventories and all(n == 1 for _, n in inventories), inventories

        # No scoring leader on Postgres: each vantage's check jobs go through the work queue and
        # score where they run, so both daemons score (with every vantage's newest observations).
        for v, d in daemons.items():
            assert d.healthz()[1]["leader"]["scoring"] is True
            assert d.sample("failover_leader", job="scoring") == 1.0
            assert any(e["scored"] for e in d.events("check.finished")), v
            assert d.sample("failover_workload_readiness", workload="shop") is not None

        # SIGKILL one: the other keeps checking and scoring, and closes the dead one's runs.
        victim, survivor = daemons
        killed_at = datetime.now(UTC)
        daemons[victim].kill()  # no goodbye: Postgres frees its locks when the session ends
        wait_for(
            lambda: sum(r["vantage"] == survivor for r in scoring_runs(store, killed_at)) >= 2,
            15,
            f"{survivor} to keep scoring",
        )
    finally:
        store.close()

    code, _ = daemons[survivor].terminate()
    assert code == 0
    for d in daemons.values():
        text = d.log_path.read_text()
        assert PASSWORD not in text
        assert "postgresql+psycopg://postgres:***@" in text  # the URL is shown, its password hidden
