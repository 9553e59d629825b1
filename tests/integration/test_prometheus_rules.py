"""The shipped Prometheus alerting rules, through promtool itself: ``check rules``, the unit tests in
deploy/prometheus/failover-rules.test.yml (every rule firing and not firing), a broken copy of the rules
failing those tests, every queried metric being one the daemon exports, and the real daemon's
/metrics passing ``promtool check metrics``.

promtool comes from Debian's ``prometheus`` package (scripts/test.sh installs it); without it these
tests skip, except under CI where they fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.daemon import DaemonProcess, RestartableAws, shop_config, write_config
from tests.fixtures.prometheus import (
    assert_only_exported,
    exported_series_names,
    metric_names,
    promtool_path,
)

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "failover-rules.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "failover-rules.test.yml"
README = REPO / "README.md"


@pytest.fixture(scope="session")
def promtool() -> Callable[..., subprocess.CompletedProcess[str]]:
    path = promtool_path()

    def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [path, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd, check=False
        )

    return run


# -- which metric names the daemon exports and which an expression queries ---------------------------


def test_metric_name_extractor_sees_through_matchers_grouping_and_functions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (exported_job, le) (rate(failover_cycle_duration_seconds_bucket{job=~"$job"}'
        '[$__rate_interval]))) > on (workload) group_left (status) max_over_time(failover_findings{status="fail"}[1h]'
        " offset 1h) and time() - failover_workload_score_timestamp_seconds > 9e2"
    )
    assert metric_names(expr) == {
        "failover_cycle_duration_seconds_bucket",
        "failover_findings",
        "failover_workload_score_timestamp_seconds",
    }
    assert metric_names('label_values(failover_workload_readiness{job=~"$job"}, workload)') == {
        "failover_workload_readiness"
    }
    assert "failover_nonexistent" in metric_names("absent(failover_nonexistent)")


# -- the rules ---------------------------------------------------------------------------------------


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def github_anchors(markdown: str) -> set[str]:
    anchors = set()
    for line in markdown.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            title = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            anchors.add(title.replace(" ", "-"))
    return anchors


def test_rules_file_passes_promtool_check_rules(promtool: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_every_rule_fires_and_stays_quiet_as_its_unit_tests_expect(
    promtool: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

    fires: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = {r["alert"] for r in rules()}
    assert alerts - fires == set(), "rules without a firing test"
    assert alerts - quiet == set(), "rules without a not-firing test"


def test_the_unit_tests_catch_a_rule_that_changed(
    promtool: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """NOT_READY alerting after 30 minutes instead of 15 must fail the shipped unit tests."""
    text = RULES.read_text()
    rule = 'expr: max by (job, workload) (failover_workload_status{status="NOT_READY"}) == 1\n        for: 15m'
    assert rule in text
    (tmp_path / "failover-rules.yml").write_text(text.replace(rule, rule.replace("15m", "30m")))
    shutil.copy(RULE_TESTS, tmp_path / "failover-rules.test.yml")
    result = promtool("test", "rules", "failover-rules.test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "alertname: FailoverWorkloadNotReady, time: 16m" in result.stdout + result.stderr


def test_every_metric_the_rules_query_is_one_the_daemon_exports() -> None:
    assert_only_exported(str(RULES.relative_to(REPO)), (r["expr"] for r in rules()))


def test_a_query_for_a_metric_the_daemon_lacks_is_caught() -> None:
    with pytest.raises(AssertionError, match="failover_workload_readyness"):
        assert_only_exported("rules", ["failover_workload_readyness < 50"])


def test_every_alert_has_a_severity_summary_description_and_a_runbook_section_in_the_readme() -> None:
    anchors = github_anchors(README.read_text())
    for rule in rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert path == "README.md" and anchor == name.lower(), name
        assert anchor in anchors, f"README has no section #{anchor} for {name}"


# -- the real daemon's /metrics ----------------------------------------------------------------------


def test_the_running_daemons_metrics_pass_promtool_check_metrics(
    promtool: Callable[..., subprocess.CompletedProcess[str]],
    restartable_aws: RestartableAws,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
) -> None:
    config = write_config(
        tmp_path / "failover.yaml",
        shop_config(
            database=f"sqlite:///{tmp_path / 'failover.db'}",
            aws=restartable_aws.account("aws-local", ["us-east-1", "us-west-2"]),
        ),
    )
    d = daemon_factory(config)
    d.wait_event("daemon.started")
    d.wait_event("check.finished", timeout=30, where=lambda e: bool(e.get("scores")))
    status, body = d.get("/metrics")
    assert status == 200
    text = body.decode()
    assert 'failover_workload_readiness{workload="shop"}' in text

    result = promtool("check", "metrics", stdin=text)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    served = {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert served <= exported_series_names(), served - exported_series_names()
