"""SLA's own metrics. Labels are stages, kinds and levels, never residents' data."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
