"""Prometheus metrics shared by every service. Labels hold codes and names of things, never PII."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "whistle_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "whistle_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "whistle_events_published_total", "Events published by the outbox relay", ["service", "topic"]
)
EVENTS_CONSUMED = Counter(
    "whistle_events_consumed_total", "Events consumed, by outcome", ["service", "topic", "type", "outcome"]
)
EVENT_HANDLE_SECONDS = Histogram(
    "whistle_event_handle_duration_seconds", "Time to handle one event", ["service", "type"]
)
DEAD_LETTERED = Counter(
    "whistle_events_dead_lettered_total", "Messages sent to a DLQ", ["service", "topic", "reason"]
)
OUTBOX_BACKLOG = Gauge("whistle_outbox_backlog", "Unsent outbox rows", ["service"])
OUTBOX_PUBLISH_FAILURES = Counter(
    "whistle_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"]
)
EVENT_LAG_SECONDS = Histogram(
    "whistle_event_lag_seconds",
    "From an event's occurred_at to its handling",
    ["service", "type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

# --- the delivery engine -------------------------------------------------------------------------
TASK_UP = Gauge("whistle_task_up", "1 while a background task runs, 0 while it is down", ["service", "task"])
TASK_RESTARTS = Counter(
    "whistle_task_restarts_total", "Background tasks restarted after failing", ["service", "task"]
)
CONSUMER_LAG = Gauge(
    "whistle_consumer_lag",
    "Messages in a partition not yet handled by the group",
    ["service", "group", "topic", "partition"],
)
CONSUMER_SINCE_HANDLED = Gauge(
    "whistle_consumer_seconds_since_last_handle",
    "Seconds since the group last handled a batch successfully",
    ["service", "group"],
)
CONSUMER_PAUSED = Gauge(
    "whistle_consumer_paused_partitions",
    "Partitions paused while a transient fault is retried",
    ["service", "group"],
)
CONSUMER_RETRIES = Counter(
    "whistle_consumer_retries_total",
    "Batches or messages retried, by kind of error",
    ["service", "group", "kind"],
)
CONSUMER_BATCH_SIZE = Histogram(
    "whistle_consumer_batch_messages",
    "Messages handled in one transaction",
    ["service", "group"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
COMMITS_SKIPPED = Counter(
    "whistle_consumer_commits_skipped_total",
    "Offset commits not made (partition revoked, stale, or lower than committed)",
    ["service", "group", "reason"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "whistle_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", ["service"]
)
OUTBOX_SET_ASIDE = Gauge(
    "whistle_outbox_set_aside_rows", "Outbox rows set aside because they can never be published", ["service"]
)
OUTBOX_SET_ASIDE_TOTAL = Counter(
    "whistle_outbox_set_aside", "Outbox rows set aside, by reason", ["service", "reason"]
)
PRUNED = Counter("whistle_rows_pruned_total", "Old outbox and inbox rows deleted", ["service", "table"])
