"""The shipped Grafana dashboard: every metric it queries is one the daemon exports, every metric the
daemon exports is on it, every expression is valid PromQL (promtool parses it), and the status panel's
encoding gives the value its mappings name, evaluated by promtool on input series."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.fixtures.prometheus import assert_only_exported, exported_series_names, metric_names, promtool_path

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "failover-dashboard.json"
# What Grafana puts in place of the dashboard's variables when it sends a query.
VARIABLES = {"$__rate_interval": "5m", "$job": "failover", "$workload": ".+"}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def panel_exprs() -> list[str]:
    return [t["expr"] for p in panels() for t in p["targets"]]


def variable_queries() -> list[str]:
    out = []
    for var in dashboard()["templating"]["list"]:
        if var["type"] == "query":
            q = var["query"]
            out.append(q["query"] if isinstance(q, dict) else q)
    return out


def as_promql(expr: str) -> str:
    """The query Grafana sends: variables substituted, ``label_values(sel, label)`` reduced to ``sel``."""
    expr = re.sub(r"^label_values\((.*),\s*\w+\s*\)$", r"\1", expr.strip())
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    return expr


def test_dashboard_is_importable_json_with_a_stable_uid_and_a_query_on_every_panel() -> None:
    d = dashboard()
    assert d["uid"] == "failover-readiness" and d["title"]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert {v["name"] for v in d["templating"]["list"]} == {"datasource", "job", "workload"}
    for p in panels():
        assert p["targets"], p["title"]
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        assert all(t["expr"].strip() for t in p["targets"]), p["title"]


def test_every_metric_the_dashboard_queries_is_one_the_daemon_exports() -> None:
    assert_only_exported(str(DASHBOARD.relative_to(REPO)), panel_exprs() + variable_queries())


def test_every_metric_the_daemon_exports_is_on_the_dashboard() -> None:
    queried = set().union(*(metric_names(e) for e in panel_exprs()))
    families = {re.sub(r"_(total|created|bucket|sum|count)$", "", n) for n in exported_series_names()}
    missing = sorted(f for f in families if not any(q == f or q.startswith(f + "_") for q in queried))
    assert not missing, f"exported but not on the dashboard: {missing}"


def test_every_dashboard_expression_is_valid_promql(tmp_path: Path) -> None:
    exprs = [as_promql(e) for e in panel_exprs() + variable_queries()]
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [{"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]}
        ]
    }
    path = tmp_path / "dashboard-exprs.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    result = subprocess.run(
        [promtool_path(), "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_status_panel_shows_each_workloads_current_status_by_its_mapping(tmp_path: Path) -> None:
    [status] = [p for p in panels() if p["title"] == "Status"]
    mapping = {int(k): v["text"] for k, v in status["fieldConfig"]["defaults"]["mappings"][0]["options"].items()}
    current = {"shop": "NOT_READY", "cart": "READY", "api": "UNKNOWN", "search": "AT_RISK"}
    series = [
        {
            "series": f'failover_workload_status{{job="failover",instance="{inst}",workload="{w}",status="{s}"}}',
            "values": "1x5" if s == now else "0x5",
        }
        for w, now in current.items()
        for s in ("READY", "AT_RISK", "NOT_READY", "UNKNOWN")
        for inst in ("a:9108", "b:9108")  # two daemons export the same workload: still one value each
    ]
    expected = [
        {"labels": f'{{workload="{w}"}}', "value": next(k for k, v in mapping.items() if v == now)}
        for w, now in current.items()
    ]
    test = {
        "rule_files": [],
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {"expr": as_promql(status["targets"][0]["expr"]), "eval_time": "4m", "exp_samples": expected}
                ],
            }
        ],
    }
    path = tmp_path / "status.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(
        [promtool_path(), "test", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(mapping.values()) == ["AT_RISK", "NOT_READY", "READY", "UNKNOWN"]
