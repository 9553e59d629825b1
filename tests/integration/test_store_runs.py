"""The one run lifecycle (``Store.recorded_run``) and its status words, on SQLite and Postgres; and
that every way of running a cycle records the same evidence with the same status."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from failover.daemon.jobs import Cancelled
from failover.errors import StoreError
from failover.model import Inventory, ScopeError
from failover.runner import run_cycle
from failover.schema import Config
from failover.store import RunCancelled, RunStatus, Store
from failover.store import tables as t
from tests.fixtures.daemon import daemon_jobs


def gap() -> ScopeError:
    return ScopeError("us-west-2", "access_denied", "AccessDenied: not authorized")


def test_a_run_on_whole_evidence_ends_ok_with_its_stats(store: Store) -> None:
    with store.recorded_run("inventory", vantage="eu-1", config_digest="abc") as run:
        assert store.unfinished_runs() == [run.id]
        run.rests_on([Inventory("a", "aws")])
        run.stats = {"accounts": 1}
    done = store.run(run.id)
    assert done is not None and store.unfinished_runs() == []
    assert (done["status"], done["stats"], done["vantage"], done["config_digest"]) == (
        "ok",
        {"accounts": 1},
        "eu-1",
        "abc",
    )


def test_a_run_on_an_inventory_with_unread_scopes_ends_incomplete(store: Store) -> None:
    with store.recorded_run("check") as run:
        run.rests_on([Inventory("a", "aws"), Inventory("b", "aws", incomplete=[gap()])])
        run.rests_on([Inventory("a", "aws")])  # later whole evidence does not make it whole
    assert store.run(run.id)["status"] == RunStatus.INCOMPLETE  # type: ignore[index]


def test_a_run_that_raises_ends_error_with_the_reason_and_the_error_goes_on(store: Store) -> None:
    with pytest.raises(KeyError), store.recorded_run("check") as run:
        raise KeyError("a bug")
    done = store.run(run.id)
    assert done is not None and (done["status"], done["error"]) == ("error", "KeyError: 'a bug'")
    assert done["finished_at"] is not None and store.unfinished_runs() == []


def test_a_run_stopped_on_purpose_ends_cancelled_with_the_message(store: Store) -> None:
    with pytest.raises(Cancelled), store.recorded_run("probe") as run:
        raise Cancelled
    done = store.run(run.id)
    assert done is not None and (done["status"], done["error"]) == ("cancelled", "the daemon stopped during the run")
    assert issubclass(Cancelled, RunCancelled)


def _lose(store: Store, run_id: int) -> None:
    """The run's row goes (as if another process pruned it), so recording its end fails for real."""
    with store.engine.begin() as conn:
        conn.execute(delete(t.runs).where(t.runs.c.id == run_id))


def test_an_end_that_cannot_be_recorded_is_the_error_unless_someone_listens(store: Store) -> None:
    with pytest.raises(StoreError, match="no such run"), store.recorded_run("check") as run:
        _lose(store, run.id)
        raise KeyError("a bug")
    heard: list[tuple[int, RunStatus, str]] = []
    with (
        pytest.raises(KeyError),
        store.recorded_run("check", on_unrecorded=lambda i, s, e: heard.append((i, s, str(e)))) as run,
    ):
        _lose(store, run.id)
        raise KeyError("a bug")
    assert [(i, s) for i, s, _ in heard] == [(run.id, RunStatus.ERROR)] and "no such run" in heard[0][2]


def test_the_schedule_continues_from_runs_that_finished_whole_or_incomplete(store: Store) -> None:
    assert store.last_run_started("inventory") is None
    for status in ("error", "cancelled", "abandoned"):
        store.finish_run(store.start_run("inventory"), status)
    store.start_run("inventory")  # still running
    assert store.last_run_started("inventory") is None
    with store.recorded_run("inventory") as run:
        run.rests_on([Inventory("a", "aws", incomplete=[gap()])])
    started = store.run(run.id)["started_at"]  # type: ignore[index]
    assert store.last_run_started("inventory") == started and started.tzinfo is not None
    assert store.last_run_started("retention") is None


# -- every way of running a cycle ---------------------------------------------------------------


def offline_config() -> Config:
    """One workload on account ``a`` with no endpoints or DNS: a cycle on stored inventory probes nothing."""
    sel = {"tags": {"app": "x"}}
    return Config.model_validate(
        {
            "accounts": [{"name": "a", "provider": "aws", "regions": ["us-east-1"]}],
            "workloads": [
                {
                    "name": "shop",
                    "owners": ["o@example.com"],
                    "sites": [
                        {"name": "p", "role": "primary", "account": "a", "select": sel},
                        {"name": "s", "role": "secondary", "account": "a", "select": sel},
                    ],
                }
            ],
        }
    )


def test_the_same_incomplete_inventory_ends_incomplete_in_the_cli_cycle_and_the_daemons_check(store: Store) -> None:
    config = offline_config()
    with store.recorded_run("inventory") as taken:
        inventories = [Inventory("a", "aws", incomplete=[gap()])]
        store.save_inventory(taken.id, inventories)
        taken.rests_on(inventories)
    cli = run_cycle(config, store, inventory=False)
    daemon_jobs(config, store).check(["shop"])
    runs = [store.run(i) for i in range(cli.run_id, cli.run_id + 2)]
    assert store.run(taken.id)["status"] == "incomplete"  # type: ignore[index]
    assert [(r["kind"], r["status"]) for r in runs if r] == [("check", "incomplete"), ("check", "incomplete")]
    assert runs[1]["stats"] == cli.stats  # type: ignore[index]
    assert [s.workload for s in store.latest_scores()] == ["shop"]
