"""Dispatch's own metrics. Labels are kinds, stages, reasons and department codes, never a unit's
own code nor a complaint's (the `department` label of a street's own units is `street`, of a
district backstop `backstop`: see `shared.metrics_cache.department_label`).

Counted where the thing happens: whistles issued by kind and district, claims, sign-off latency,
returns, re-routes, escalations and refused push-downs, and the dispatch latency from a complaint's
receipt to its whistle's assignments queued. Read from the tables by a background job (one query
per refresh for every department, never on a scrape): open assignments per department and status,
and the age of the oldest one nobody holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, get_args

from prometheus_client import Counter, Histogram

from services.dispatch.lifecycle import OPEN, QUEUED
from services.dispatch.repository.gauges import QueueRow, open_work
from shared.events import ReturnReason, WhistleKind, utcnow
from shared.metrics_cache import (
    CachedGauges,
    MetricsJob,
    Sample,
    department_label,
    department_labels,
    refreshing,
)

if TYPE_CHECKING:
    from shared.runtime import Runtime
    from shared.snapshot_cache import SnapshotCache

WHISTLE_KINDS: tuple[str, ...] = get_args(WhistleKind)
RETURN_REASONS: tuple[str, ...] = get_args(ReturnReason)
ESCALATION_ACTIONS = ("remind", "district", "backstop_joins")
STAGES = ("sign_off", "contact", "report_in", "resolve")
REFUSALS = ("pushdown", "community_pushdown", "street_whistle")
REROUTE_TARGETS = ("unit", "backstop")

WHISTLES_ISSUED = Counter(
    "whistle_dispatch_whistles_issued_total", "Whistles issued, by kind and district", ["kind", "district"]
)
DISPATCH_LATENCY = Histogram(
    "whistle_dispatch_latency_seconds",
    "From a complaint received (or reopened) to its whistle's assignments queued",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
CLAIMED = Counter(
    "whistle_dispatch_claimed_assignments_total", "Assignments handed to workers by claims", ["department"]
)
SIGN_OFF_LATENCY = Histogram(
    "whistle_dispatch_sign_off_latency_seconds",
    "From an assignment queued to its unit signing it off",
    ["department"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 86400),
)
RETURNS = Counter(
    "whistle_dispatch_returns_total",
    "Orders returned by the unit summoned, by reason",
    ["department", "reason"],
)
REROUTES = Counter(
    "whistle_dispatch_reroutes_total",
    "Returned orders re-routed, to another unit or the backstop",
    ["target"],
)
ESCALATIONS = Counter(
    "whistle_dispatch_escalations_total", "Escalation steps fired, by action and stage", ["action", "stage"]
)
REFUSED = Counter(
    "whistle_dispatch_refused_pushdowns_total",
    "Push-downs refused: off the street (or community) duty list, or a street whistling its own work",
    ["kind"],
)

QUEUE_GAUGES = CachedGauges(
    {
        "whistle_dispatch_open_assignments": (
            "Open assignments (queue depth), by department and status",
            ("department", "status"),
        ),
        "whistle_dispatch_oldest_unclaimed_age_seconds": (
            "Age of the oldest queued assignment nobody holds, by department (0 when none waits)",
            ("department",),
        ),
    }
)

for _kind in REFUSALS:
    REFUSED.labels(_kind)
for _target in REROUTE_TARGETS:
    REROUTES.labels(_target)
for _action in ESCALATION_ACTIONS:
    for _stage in STAGES:
        ESCALATIONS.labels(_action, _stage)
for _kind in WHISTLE_KINDS:
    DISPATCH_LATENCY.labels(_kind)


def queue_samples(
    rows: Iterable[QueueRow], departments: Sequence[str], *, now: datetime
) -> tuple[list[Sample], list[Sample]]:
    """Open assignments per (department, status) and the oldest unclaimed age per department, with
    a zero for every known department and open status that has none (pure)."""
    counts = {(d, s): 0.0 for d in departments for s in OPEN}
    oldest: dict[str, float] = {d: 0.0 for d in departments}
    for row in rows:
        department = department_label(row.department_code, row.role)
        counts[(department, row.status)] = counts.get((department, row.status), 0.0) + row.count
        if row.oldest_unclaimed is not None and row.status == QUEUED:
            age = max(0.0, (now - row.oldest_unclaimed).total_seconds())
            oldest[department] = max(oldest.get(department, 0.0), age)
    return (
        [((d, s), n) for (d, s), n in sorted(counts.items())],
        [((d,), age) for d, age in sorted(oldest.items())],
    )


def initialise_for_city(departments: Sequence[str], districts: Iterable[str]) -> None:
    for department in departments:
        CLAIMED.labels(department)
        SIGN_OFF_LATENCY.labels(department)
        for reason in RETURN_REASONS:
            RETURNS.labels(department, reason)
    for district in districts:
        for kind in WHISTLE_KINDS:
            WHISTLES_ISSUED.labels(kind, district)


def queue_job(cache: SnapshotCache, *, every: float = 5.0) -> MetricsJob:
    """The background job reading the queues into the gauges (and the city's label sets)."""
    seen = {"version": -1}

    async def refresh(runtime: Runtime) -> None:
        index = cache.index
        departments = department_labels(index.departments if index is not None else ())
        if index is not None and index.version != seen["version"]:
            initialise_for_city(departments, index.district_streets)
            seen["version"] = index.version
        now = utcnow()
        async with runtime.sessions() as session, session.begin():
            rows = await open_work(session, now=now)
        depth, oldest = queue_samples(rows, departments, now=now)
        QUEUE_GAUGES.replace("whistle_dispatch_open_assignments", depth)
        QUEUE_GAUGES.replace("whistle_dispatch_oldest_unclaimed_age_seconds", oldest)

    return refreshing("metrics-queues", refresh, every=every)


def note_issued(kind: str, district: str) -> None:
    WHISTLES_ISSUED.labels(kind, district).inc()


def note_dispatched(kind: str, received_at: datetime) -> None:
    DISPATCH_LATENCY.labels(kind).observe(max(0.0, (utcnow() - received_at).total_seconds()))


def note_signed_off(department_code: str | None, role: str, *, queued_at: datetime, at: datetime) -> None:
    SIGN_OFF_LATENCY.labels(department_label(department_code, role)).observe(
        max(0.0, (at - queued_at).total_seconds())
    )


def note_returned(department_code: str | None, role: str, reason: str) -> None:
    RETURNS.labels(department_label(department_code, role), reason).inc()
