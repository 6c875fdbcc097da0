"""The gauges read from the services' tables: every known department and stage shows a zero, work
of street units and backstops is labelled by kind, never by unit; and every metric a panel or rule
names is one the services export (or a recording rule)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import yaml
from prometheus_client import REGISTRY

import services.dispatch.metrics as dispatch_metrics
import services.intake.metrics as intake_metrics
import services.sla.metrics as sla_metrics
import shared.metrics as shared_metrics
from services.dashboards import DASHBOARDS, render
from services.dispatch.repository.gauges import QueueRow
from services.local_stack import RULES
from services.sla.rankings import Standing
from services.sla.repository.gauges import RunningClocks
from services.sla.scoring import RateView, Scored
from shared.metrics_cache import department_label, department_labels

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MODULES = (dispatch_metrics, intake_metrics, sla_metrics, shared_metrics)


def test_work_without_a_department_is_labelled_street_or_backstop() -> None:
    assert department_label("zjw", "lead") == "zjw"
    assert department_label(None, "street") == "street"
    assert department_label(None, "backstop") == "backstop"
    assert department_labels(["zjw", "cgw"]) == ["cgw", "zjw", "street", "backstop"]


def test_a_quiet_queue_shows_zero_for_every_department_and_open_status() -> None:
    depth, oldest = dispatch_metrics.queue_samples([], ["cgw", "street"], now=NOW)
    assert {labels for labels, _ in depth} == {
        (d, s) for d in ("cgw", "street") for s in ("queued", "signed_off", "reported_in")
    }
    assert all(value == 0 for _, value in depth) and oldest == [(("cgw",), 0.0), (("street",), 0.0)]


def test_queue_depth_and_the_oldest_unclaimed_order_per_department() -> None:
    rows = [
        QueueRow("zjw", "lead", "queued", 3, NOW - timedelta(minutes=5)),
        QueueRow("zjw", "co", "queued", 1, NOW - timedelta(minutes=9)),
        QueueRow("zjw", "lead", "signed_off", 2, None),
        QueueRow(None, "backstop", "queued", 1, NOW - timedelta(seconds=30)),
    ]
    depth, oldest = dispatch_metrics.queue_samples(rows, ["zjw", "street", "backstop"], now=NOW)
    assert dict(depth)[("zjw", "queued")] == 4 and dict(depth)[("zjw", "signed_off")] == 2
    assert dict(oldest) == {("zjw",): 540.0, ("street",): 0.0, ("backstop",): 30.0}


def test_running_and_overdue_clocks_per_stage_and_department() -> None:
    rows = [RunningClocks("sign_off", "zjw", "lead", 4, 1), RunningClocks("resolve", None, "street", 2, 0)]
    running, overdue = sla_metrics.clock_samples(rows, ["zjw", "street"])
    assert dict(running)[("sign_off", "zjw")] == 4 and dict(overdue)[("sign_off", "zjw")] == 1
    assert dict(running)[("resolve", "street")] == 2 and dict(running)[("contact", "zjw")] == 0
    assert len(running) == 4 * 2


def test_rates_show_where_they_have_cases_and_samples_always() -> None:
    rates = {"response": RateView(10, 0.9, 0.6, 0.98), "resolution": RateView(0, None, None, None)}
    standing = Standing(Scored("zjw", 10, 81.0, 70.0, 90.0, True, rates), 1, 1)
    out = sla_metrics.standing_samples([standing], ["zjw", "cgw"], "2026-12")
    assert out["rate"] == [(("zjw", "response", "2026-12"), 0.9)]
    assert (("cgw", "response", "2026-12"), 0.0) in out["samples"] and len(out["samples"]) == 2 * 4
    assert out["score"] == [(("zjw", "2026-12"), 81.0)] and out["rank"] == [(("zjw", "2026-12"), 1.0)]


def _exported() -> set[str]:
    names: set[str] = set()
    for collector in list(REGISTRY._collector_to_names):  # every registered collector's families
        for family in collector.describe() if hasattr(collector, "describe") else collector.collect():
            names.add(family.name)
    return names


def test_every_metric_a_panel_or_rule_names_is_exported_or_recorded() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {r["record"] for g in rules for r in g["rules"] if "record" in r}
    exprs = [t["expr"] for name in DASHBOARDS for p in render(name)["panels"] for t in p["targets"]]
    exprs += [r["expr"] for g in rules for r in g["rules"]]
    exported = _exported()
    for expr in exprs:
        for metric in re.findall(r"\bwhistle[_:][a-z0-9_:]+", expr):
            base = re.sub(r"_(bucket|count|sum|total)$", "", metric)
            assert metric in recorded or base in exported, (
                f"{metric} (in {expr}) is neither exported nor recorded"
            )
