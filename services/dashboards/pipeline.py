"""Pipeline health: requests, events in and out, the outbox, consumer lag, background tasks, DLQs."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from services.dashboards.panels import Layout, Query, board, series


def pipeline() -> Dashboard:
    lay = Layout()
    panels = [
        series(lay, "Requests per second by service",
               Query("sum by (service) (rate(whistle_http_requests_total[1m]))", "{{service}}"), unit="reqps"),
        series(lay, "p99 latency by route", Query(
            "histogram_quantile(0.99, sum by (le, service, route) (rate(whistle_http_request_duration_seconds_bucket[5m])))",
            "{{service}} {{route}}"), unit="s"),
        series(lay, "HTTP errors (5xx) ratio", Query("whistle:http_error_ratio5m", "{{service}}"), unit="percentunit"),
        series(lay, "Events published per second",
               Query("sum by (service, topic) (rate(whistle_events_published_total[1m]))", "{{service}} → {{topic}}")),
        series(lay, "Events consumed per second by outcome",
               Query("sum by (service, outcome) (rate(whistle_events_consumed_total[1m]))", "{{service}} {{outcome}}")),
        series(lay, "Outbox backlog and oldest unsent",
               Query("max by (service) (whistle_outbox_backlog)", "{{service}} unsent"),
               Query("max by (service) (whistle_outbox_oldest_unsent_age_seconds)", "{{service}} oldest (s)")),
        series(lay, "Consumer lag (messages not yet handled)",
               Query("sum by (service, group, topic) (whistle_consumer_lag) or on() vector(0)", "{{group}} {{topic}}")),
        series(lay, "Event lag p95 (occurred → handled)", Query(
            "histogram_quantile(0.95, sum by (le, service) (rate(whistle_event_lag_seconds_bucket[5m])))",
            "{{service}}"), unit="s"),
        series(lay, "Background tasks up", Query("min by (service, task) (whistle_task_up)", "{{service}} {{task}}")),
        series(lay, "Paused partitions and retries",
               Query("sum by (service, group) (whistle_consumer_paused_partitions) or on() vector(0)",
                     "{{group}} paused"),
               Query("sum by (service, kind) (rate(whistle_consumer_retries_total[5m])) or on() vector(0)",
                     "{{service}} {{kind}} retries/s")),
        series(lay, "Dead-lettered and set-aside messages",
               Query("sum by (service, topic, reason) (increase(whistle_events_dead_lettered_total[5m])) or on() vector(0)",
                     "{{service}} {{topic}} {{reason}}"),
               Query("max by (service) (whistle_outbox_set_aside_rows)", "{{service}} set aside")),
    ]  # fmt: skip
    return board(
        "whistle-pipeline",
        "Whistle — pipeline health",
        "Is every service up, keeping up, and losing nothing?",
        panels,
    )
