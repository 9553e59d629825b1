"""The what-if matrix stored with each score (``failover.whatif.stored``), on a real store (SQLite and
Postgres): the cycle's stored matrix equals what ``what_if`` computes live from the store for the same
evidence and ``now``, and a reader computes it live whenever the stored one is missing, belongs to
another score, or no longer holds (a stale score, stale evidence): an old "yes" never reads as current."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from failover.cli import cli
from failover.model import Inventory, Observation
from failover.runner import CycleSteps, Inventories, judge, used_accounts
from failover.schema import Config
from failover.store import Store
from failover.store.urls import ENV_VAR
from failover.whatif import ALL_PROVIDERS, load_evidence, what_if
from failover.whatif.stored import stored_matrix
from tests.factories import config_data, ready_inventory, ready_observations, restamped

DAY = timedelta(days=1)  # scoring.stale_after's default


def estate_config() -> Config:
    """The ready estate plus a second workload on the same sites and no observations of its own."""
    data = config_data()
    second = copy.deepcopy(data["workloads"][0])
    second["name"] = "billing"
    data["workloads"].append(second)
    return Config.model_validate(data)


def scored(
    store: Store, config: Config, now: datetime, *, inventory_at: datetime | None = None
) -> tuple[list[Inventory], list[Observation]]:
    """One cycle's judgement through ``runner.judge`` on the ready evidence (probed a minute before
    ``now``, inventoried then or at ``inventory_at``), stored as the cycle stores it."""
    invs, seen = restamped(now - timedelta(minutes=1), ready_inventory(), ready_observations())
    if inventory_at is not None:
        invs = [replace(i, started_at=inventory_at, finished_at=inventory_at) for i in invs]
    with store.recorded_run("check", vantage="test") as run:
        store.save_inventory(run.id, invs)
        store.save_observations(run.id, seen)
        judge(config, store, run, list(config.workloads), invs, seen, vantage="test", now=now, steps=CycleSteps())
    return invs, seen


def live(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    return [r.to_dict() for r in what_if(config, load_evidence(config, store, now=now), ALL_PROVIDERS)]


def read(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    return [r.to_dict() for r in stored_matrix(config, store, now=now)]


def stored_results(store: Store) -> list[dict[str, Any]]:
    return [r for _, doc in store.latest_whatif().values() for r in doc["results"]]


def tampered(store: Store, config: Config) -> None:
    """Rewrite the stored matrices so every answer reads "no": a reader that uses them shows it."""
    for name, (_, doc) in store.latest_whatif().items():
        doc = {**doc, "results": [{**r, "survives": "no"} for r in doc["results"]]}
        [score] = store.latest_scores(name)
        with store.recorded_run("check", vantage="test") as run:
            store.save_scores(run.id, [score], {name: doc})


def test_the_cycles_stored_matrix_equals_the_live_one_for_the_same_evidence(store: Store) -> None:
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now)
    expected = live(config, store, now)
    assert [r["workload"] for r in expected] == ["checkout"] * 3 + ["billing"] * 3
    assert {r["survives"] for r in expected} >= {"yes", "no", "unknown"}  # every answer is exercised
    by_workload = {r["workload"] for r in stored_results(store)}
    assert by_workload == {"checkout", "billing"}
    assert sorted(stored_results(store), key=json.dumps) == sorted(expected, key=json.dumps)
    assert read(config, store, now) == expected
    assert read(config, store, now + timedelta(minutes=5)) == expected  # still fresh: the stored one


def test_a_valid_stored_matrix_is_what_the_reader_shows(store: Store) -> None:
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now)
    tampered(store, config)
    assert {r["survives"] for r in read(config, store, now)} == {"no"}


def test_a_score_without_a_matrix_reads_it_live(store: Store) -> None:
    """A row from before migration 0008, or a score written by an older version."""
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now)
    with store.recorded_run("check", vantage="test") as run:
        store.save_scores(run.id, store.latest_scores())
    assert all(doc is None for _, doc in store.latest_whatif().values())
    assert read(config, store, now) == live(config, store, now)


def test_a_matrix_older_than_its_score_reads_it_live(store: Store) -> None:
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now)
    tampered(store, config)
    newer = [replace(s, computed_at=now + timedelta(seconds=30)) for s in store.latest_scores()]
    docs = {name: doc for name, (_, doc) in store.latest_whatif().items()}
    with store.recorded_run("check", vantage="test") as run:
        store.save_scores(run.id, newer, docs)  # the newer score kept the older matrix
    later = now + timedelta(minutes=1)
    assert read(config, store, later) == live(config, store, later)
    assert "yes" in {r["survives"] for r in read(config, store, later)}


def test_a_stale_score_reads_unknown_as_today_never_the_old_yes(store: Store) -> None:
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now)
    assert "yes" in {r["survives"] for r in stored_results(store)}
    later = now + DAY + timedelta(seconds=1)
    shown = read(config, store, later)
    assert shown == live(config, store, later)
    assert "yes" not in {r["survives"] for r in shown}


def test_evidence_turning_stale_before_the_score_does_reads_it_live(store: Store) -> None:
    """The inventory was nearly a day old when scored: the matrix holds only until it turns stale."""
    config, now = estate_config(), datetime.now(UTC)
    scored(store, config, now, inventory_at=now - DAY + timedelta(minutes=10))
    tampered(store, config)  # every stored answer "no": what a reader shows while it uses them
    assert {r["survives"] for r in read(config, store, now + timedelta(minutes=5))} == {"no"}
    later = now + timedelta(minutes=20)  # the score is fresh, its inventory is not
    shown = read(config, store, later)
    assert shown == live(config, store, later)
    assert {r["survives"] for r in shown} != {"no"}


def test_score_json_carries_the_stored_matrix(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    config = estate_config()
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(estate_config_document(tmp_path)))
    now = datetime.now(UTC)
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        scored(store, config, now)
        tampered(store, config)
    result = CliRunner().invoke(cli, ["score", "-c", str(path), "--format", "json"])
    assert "Traceback" not in result.output, result.output
    rows = json.loads(result.stdout)
    assert {w["survives"] for row in rows for w in row["whatif"]} == {"no"}


def estate_config_document(tmp_path: Path) -> dict[str, Any]:
    data = config_data()
    second = copy.deepcopy(data["workloads"][0])
    second["name"] = "billing"
    data["workloads"].append(second)
    return {**data, "database": str(tmp_path / "f.db")}


def test_jobs_of_a_few_workloads_share_one_inventory_without_each_domain(store: Store) -> None:
    """The daemon's check jobs judge a slot each over its cached inventory: the inventory without
    each domain is built once per snapshot, and each slot's stored matrix is the live one."""
    config, now = estate_config(), datetime.now(UTC)
    invs, seen = restamped(now - timedelta(minutes=1), ready_inventory(), ready_observations())
    cached = Inventories.of(invs)
    built = []
    for name in ("checkout", "billing"):
        slot = [w for w in config.workloads if w.name == name]
        with store.recorded_run("check", vantage="test") as run:
            store.save_inventory(run.id, invs)
            store.save_observations(run.id, seen)
            mine = cached.only(used_accounts(config, slot))
            judge(config, store, run, slot, mine, seen, vantage="test", now=now, steps=CycleSteps())
        built.append(next(iter(cached.worlds.values()))[1])
    assert built[0] is built[1]
    assert read(config, store, now) == live(config, store, now)
    assert all(doc is not None for _, doc in store.latest_whatif().values())
