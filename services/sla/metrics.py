"""SLA's own metrics. Labels are stages, kinds, levels, periods, department and street codes, never
residents' data nor a complaint's id.

Counted where the thing happens: warnings and breaches fired, by stage and department. Read by a
background job from SLA's own tallies (one round of queries per refresh for every unit, never on a
scrape): running clocks and those past their deadline, each department's rates, score and rank in
the current period, the ranking published when the latest period closed, and per street the
whistle-rate health and the evaluations it gave. Every known department, stage and street shows a
zero rather than nothing; a rate shows only where it has cases (its `_samples` gauge says how many).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

from services.sla.clocks import STAGES
from services.sla.periods import period_of
from services.sla.rankings import Standing
from services.sla.repository import gauges, measures
from services.sla.repository import periods as period_rows
from services.sla.standings import board
from services.sla.whistle_rates import whistle_rate
from shared.city_index import CityIndex
from shared.events import utcnow
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

TIMERS_FIRED = Counter(
    "whistle_sla_timers_fired_total",
    "Clock warnings and breaches fired, by kind and stage",
    ["kind", "stage"],
)
FIRE_LATENESS = Histogram(
    "whistle_sla_timer_lateness_seconds",
    "From a warning's or breach's due instant to its firing",
    ["kind"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 60),
)
SCORES_PUBLISHED = Counter(
    "whistle_sla_scores_published_total", "score.published events written when a period closed", ["level"]
)
WARNINGS = Counter(
    "whistle_sla_warnings_total", "Clock warnings fired, by stage and department", ["stage", "department"]
)
BREACHES = Counter(
    "whistle_sla_breaches_total", "Clock breaches fired, by stage and department", ["stage", "department"]
)

SHOWN_RATES = ("response", "resolution", "satisfaction", "on_time")
"""The three rates of Beijing's regulation, and the on-time rate of resolution."""

_D, _P = ("department",), ("period",)
_STREET = ("district", "street", "period")
GAUGES = CachedGauges(
    {
        "whistle_sla_running_clocks": ("Running clocks, by stage and department", ("stage", "department")),
        "whistle_sla_overdue_clocks": (
            "Running clocks past their deadline (the stage is still not done), by stage and department",
            ("stage", "department"),
        ),
        "whistle_sla_rate_ratio": (
            "A department's rate in the current period, 0-1 (only where it has cases)",
            ("department", "rate", "period"),
        ),
        "whistle_sla_rate_samples": (
            "Cases a department's rate in the current period counts",
            ("department", "rate", "period"),
        ),
        "whistle_sla_score": ("A department's score in the current period, 0-100", _D + _P),
        "whistle_sla_rank": ("A department's rank in the current period (eligible departments)", _D + _P),
        "whistle_sla_published_score": (
            "A department's score as published for the latest closed period",
            _D + _P,
        ),
        "whistle_sla_published_rank": (
            "A department's rank as published for the latest closed period",
            _D + _P,
        ),
        "whistle_sla_street_whistles": ("Whistles a street blew itself in the current period", _STREET),
        "whistle_sla_street_whistles_per_10k_households": (
            "A street's own whistles in the current period per 10,000 households",
            _STREET,
        ),
        "whistle_sla_whistle_rate_band": (
            "The policy's healthy band of whistles per 10,000 households",
            ("bound",),
        ),
        "whistle_sla_street_evaluations": ("Evaluations a street gave in the current period", _STREET),
    }
)


def clock_samples(
    rows: Iterable[gauges.RunningClocks], departments: Sequence[str]
) -> tuple[list[Sample], list[Sample]]:
    """Running and overdue clocks per (stage, department), zero where none (pure)."""
    running = {(s, d): 0.0 for s in STAGES for d in departments}
    overdue = dict(running)
    for row in rows:
        key = (row.stage, department_label(row.department_code, row.role))
        running[key] = running.get(key, 0.0) + row.running
        overdue[key] = overdue.get(key, 0.0) + row.overdue
    return sorted(running.items()), sorted(overdue.items())


def standing_samples(
    standings: Iterable[Standing], departments: Iterable[str], period: str
) -> dict[str, list[Sample]]:
    """Rates (where they have cases), their samples (zero for every department), score and rank (pure)."""
    by_unit = {s.unit.unit_code: s for s in standings}
    out: dict[str, list[Sample]] = {n: [] for n in ("rate", "samples", "score", "rank")}
    for department in departments:
        standing = by_unit.get(department)
        for rate in SHOWN_RATES:
            view = standing.unit.rates.get(rate) if standing else None
            out["samples"].append(((department, rate, period), float(view.n if view else 0)))
            if view is not None and view.n and view.rate is not None:
                out["rate"].append(((department, rate, period), view.rate))
        if standing is not None and standing.unit.score is not None:
            out["score"].append(((department, period), standing.unit.score))
        if standing is not None and standing.rank is not None:
            out["rank"].append(((department, period), float(standing.rank)))
    return out


def street_samples(
    index: CityIndex, whistles: Mapping[str, int], evaluations: Mapping[str, int], period: str
) -> dict[str, list[Sample]]:
    """Per street: whistles blown, per 10,000 households (where it has households), evaluations given."""
    policy = index.city.policies_at().scoring
    out: dict[str, list[Sample]] = {"whistles": [], "rate": [], "evaluations": []}
    for street_code, street in sorted(index.streets.items()):
        labels = (index.street_district[street_code], street_code, period)
        health = whistle_rate(
            street_code,
            whistles=whistles.get(street_code, 0),
            households=sum(c.households for c in street.communities),
            policy=policy,
        )
        out["whistles"].append((labels, float(health.whistles)))
        if health.per_10k is not None:
            out["rate"].append((labels, health.per_10k))
        out["evaluations"].append((labels, float(evaluations.get(street_code, 0))))
    return out


def initialise_for_city(departments: Sequence[str]) -> None:
    for stage in STAGES:
        for department in departments:
            WARNINGS.labels(stage, department)
            BREACHES.labels(stage, department)


def count_fired(kind: str, stage: str, department_code: str | None, role: str) -> None:
    counter = WARNINGS if kind == "warning" else BREACHES
    counter.labels(stage, department_label(department_code, role)).inc()


def tallies_job(cache: SnapshotCache, *, every: float = 10.0) -> MetricsJob:
    """The background job reading SLA's tallies and standings into the gauges."""
    seen = {"version": -1}

    async def refresh(runtime: Runtime) -> None:
        index = cache.index
        if index is None:
            return
        closed: str | None
        departments = department_labels(index.departments)
        if index.version != seen["version"]:
            initialise_for_city(departments)
            seen["version"] = index.version
        now = utcnow()
        period = period_of(now)
        label = str(period)
        async with runtime.sessions() as session, session.begin():
            clocks = await gauges.running_clocks(session, now=now)
            standings = (
                await board(session, span=period.span(), level="department", city=index.city)
            ).standings
            whistles = await measures.whistle_counts(session, period.span())
            evaluations = await gauges.evaluations_by_street(session, label)
            closed = await gauges.latest_closed_period(session)
            published = await period_rows.published(session, closed, "department") if closed else []
        running, overdue = clock_samples(clocks, departments)
        GAUGES.replace("whistle_sla_running_clocks", running)
        GAUGES.replace("whistle_sla_overdue_clocks", overdue)
        current = standing_samples(standings, index.departments, label)
        GAUGES.replace("whistle_sla_rate_ratio", current["rate"])
        GAUGES.replace("whistle_sla_rate_samples", current["samples"])
        GAUGES.replace("whistle_sla_score", current["score"])
        GAUGES.replace("whistle_sla_rank", current["rank"])
        GAUGES.replace(
            "whistle_sla_published_score",
            [
                ((r["unit_code"], str(closed)), float(r["score"]))
                for r in published
                if r.get("score") is not None
            ],
        )
        GAUGES.replace(
            "whistle_sla_published_rank",
            [
                ((r["unit_code"], str(closed)), float(r["rank"]))
                for r in published
                if r.get("rank") is not None
            ],
        )
        streets = street_samples(index, whistles, evaluations, label)
        GAUGES.replace("whistle_sla_street_whistles", streets["whistles"])
        GAUGES.replace("whistle_sla_street_whistles_per_10k_households", streets["rate"])
        GAUGES.replace("whistle_sla_street_evaluations", streets["evaluations"])
        policy = index.city.policies_at(now).scoring
        GAUGES.replace(
            "whistle_sla_whistle_rate_band",
            [(("low",), policy.whistle_rate_low), (("high",), policy.whistle_rate_high)],
        )

    return refreshing("metrics-tallies", refresh, every=every)
