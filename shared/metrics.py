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
