"""deploy/observability: the alert rules parse and fire (promtool), and every metric the rules and
the dashboard name is one the code defines.

promtool comes from Debian's prometheus package, unpacked into .foro/tools by deploy/local/lib.sh
(foro_ensure_tools, which deploy/local/test.sh calls); without it the promtool tests are skipped
on a workstation and fail under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
ALERTS = OBSERVABILITY / "alerts.yml"
DASHBOARD = OBSERVABILITY / "foro-dashboard.json"

# Prometheus' own series about a scrape.
SCRAPE_METRICS = {"up"}
RUNBOOK_ANCHORS = {
    "dead-letters",
    "outbox-lag",
    "consumer-absent",
    "provider-failover",
    "error-ratio",
    "service-down",
}
_DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*\"(?P<name>[a-z_:][a-z0-9_:]*)\"", re.S
)


def code_metrics() -> set[str]:
    """Every metric the services define with prometheus_client, as exposed (a Counter `x` is
    exposed as `x_total`; a Histogram as `_bucket`, `_sum`, `_count`)."""
    names: set[str] = set()
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        for match in _DEFINITION.finditer(path.read_text(encoding="utf-8")):
            kind, name = match.group(1), match.group("name")
            if kind == "Counter" and not name.endswith("_total"):
                name += "_total"
            names.add(name)
    return names


def known_metrics() -> set[str]:
    names = code_metrics() | SCRAPE_METRICS
    return names | {f"{n}{suffix}" for n in names for suffix in ("_bucket", "_sum", "_count")}


def metrics_in(expr: str) -> set[str]:
    """The metric names an expression selects (label names and functions are not followed by
    a selector, so they do not match)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    return set(
        re.findall(
            r"\b(foro_[a-z0-9_]+|up)\b(?=\s*\{|\s*\[|\s*\)|\s*$|\s+(?:==|>|<|or|and))",
            without_strings,
        )
    )


def promtool() -> str:
    for candidate in (
        os.environ.get("FORO_PROMTOOL"),
        shutil.which("promtool"),
        str(ROOT / ".foro" / "tools" / "usr" / "bin" / "promtool"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    if os.environ.get("CI"):
        pytest.fail("promtool is missing under CI: .ci/run fetches it (deploy/local/lib.sh)")
    pytest.skip("promtool is missing: source deploy/local/lib.sh && foro_promtool")


def _run(*args: str, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_targets() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


# -- promtool -------------------------------------------------------------------------------


def test_promtool_checks_the_rules() -> None:
    result = _run(promtool(), "check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_every_alert_fires_in_promtools_unit_tests() -> None:
    result = _run(promtool(), "test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = yaml.safe_load((OBSERVABILITY / "alerts.test.yml").read_text(encoding="utf-8"))
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert fired == {rule["alert"] for rule in _rules()}


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    broken = {"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "sum(rate(foro_x[5m])"}]}]}
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert _run(promtool(), "check", "rules", str(tmp_path / "broken.yml")).returncode != 0


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """promtool parses each panel's query, as a recording rule (Grafana's variables replaced)."""
    rules = [
        {
            "record": f"dashboard:query_{index}",
            "expr": expr.replace("$__rate_interval", "5m").replace("$namespace", ".*"),
        }
        for index, (_, expr) in enumerate(_dashboard_targets())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = _run(promtool(), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# -- the files against the code -------------------------------------------------------------


def test_the_metric_parser_finds_what_it_should() -> None:
    assert metrics_in('max by (queue) (foro_dead_letter_messages{namespace=~"$x"}) > 0') == {
        "foro_dead_letter_messages"
    }
    assert metrics_in("histogram_quantile(0.95, sum by (le) (rate(foro_a_bucket[5m])))") == {
        "foro_a_bucket"
    }
    assert metrics_in('absent(up{job="expo"}) or foro_b == 0') == {"up", "foro_b"}


def test_the_code_defines_the_metrics_it_had() -> None:
    assert {
        "foro_messages_handled_total",
        "foro_message_handling_seconds",
        "foro_outbox_pending_documents",
        "foro_notification_messages_total",
        "foro_notification_attempts_total",
    } <= code_metrics()


def test_alerts_name_known_metrics_outcomes_and_runbooks() -> None:
    known = known_metrics()
    consumer = (ROOT / "shared" / "messaging" / "consumer.py").read_text(encoding="utf-8")
    outcomes = set(re.findall(r'HANDLED\.labels\(self\.queue_name, "([a-z_]+)"\)', consumer))
    assert outcomes == {"ok", "retry", "dead_lettered"}
    anchors = set()
    for rule in _rules():
        used = metrics_in(rule["expr"])
        assert used, rule["alert"]
        assert used <= known, f"{rule['alert']}: unknown metrics {used - known}"
        for outcome in re.findall(r'outcome=~?"([^"]+)"', rule["expr"]):
            assert set(outcome.split("|")) <= outcomes, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"]
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page == "docs/operations.md"
        anchors.add(anchor)
    assert anchors == RUNBOOK_ANCHORS


def test_the_dashboard_is_a_grafana_dashboard_on_known_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    known = known_metrics()
    shown: set[str] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = metrics_in(target["expr"])
            assert used and used <= known, f"{panel['title']}: {used - known}"
            shown |= used
    for needed in (
        "foro_messages_handled_total",
        "foro_message_handling_seconds_bucket",
        "foro_http_requests_total",
        "foro_http_request_duration_seconds_bucket",
        "foro_dead_letter_messages",
        "foro_queue_messages_ready",
        "foro_queue_consumers",
        "foro_outbox_lag_seconds",
        "foro_outbox_pending_documents",
        "foro_notification_messages_total",
        "foro_notification_provider_failover_active",
        "foro_intake_webhook_requests_total",
    ):
        assert needed in shown, needed
