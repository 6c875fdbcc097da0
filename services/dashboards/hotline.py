"""Hotline response: how many complaints come in and from where, how far they have got, how fast
they are dispatched and signed off, and how many come back after the follow-up call."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from services.dashboards.panels import Layout, Query, board, listing, series, single, variable

D = 'district=~"$district"'


def hotline() -> Dashboard:
    lay = Layout()
    panels = [
        single(lay, "Received in the last 24 h",
               Query(f"sum(increase(whistle_intake_complaints_received_total{{{D}}}[24h]))")),
        single(lay, "Received per hour now",
               Query(f"sum(rate(whistle_intake_complaints_received_total{{{D}}}[5m])) * 3600"), unit="short"),
        single(lay, "Reopened share of follow-ups (1 h)", Query("whistle:reopened_share1h"), unit="percentunit"),
        single(lay, "Dispatch p95 (received → queued)", Query("whistle:dispatch_latency_seconds:p95_5m"), unit="s"),
        series(lay, "Complaints per hour by category group", Query(
            f"sum by (category_group) (increase(whistle_intake_complaints_received_total{{{D}}}[1h]))",
            "{{category_group}}")),
        series(lay, "Complaints per hour by channel and district", Query(
            f"sum by (channel, district) (increase(whistle_intake_complaints_received_total{{{D}}}[1h]))",
            "{{channel}} {{district}}")),
        listing(lay, "Status funnel (moves in the last 24 h)",
                Query("sum by (status) (increase(whistle_intake_status_changes_total[24h]))"), w=8, h=8),
        series(lay, "Dispatch latency (received → queued)",
               Query("histogram_quantile(0.5, sum by (le) (rate(whistle_dispatch_latency_seconds_bucket[5m])))", "p50"),
               Query("whistle:dispatch_latency_seconds:p95_5m", "p95"),
               Query("histogram_quantile(0.99, sum by (le) (rate(whistle_dispatch_latency_seconds_bucket[5m])))", "p99"),
               unit="s", w=8),
        series(lay, "Sign-off latency (queued → signed off)",
               Query("histogram_quantile(0.5, sum by (le) (rate(whistle_dispatch_sign_off_latency_seconds_bucket[1h])))",
                     "p50"),
               Query("histogram_quantile(0.9, sum by (le) (rate(whistle_dispatch_sign_off_latency_seconds_bucket[1h])))",
                     "p90"),
               unit="s", w=8),
        series(lay, "Whistles issued per hour by kind", Query(
            f"sum by (kind) (increase(whistle_dispatch_whistles_issued_total{{{D}}}[1h]))", "{{kind}}")),
        series(lay, "Follow-up calls per hour by result",
               Query("sum by (satisfaction, outcome) (increase(whistle_intake_follow_ups_total[1h]))",
                     "{{satisfaction}} → {{outcome}}")),
        series(lay, "Merged duplicates per hour",
               Query("sum by (action) (increase(whistle_intake_merges_total[1h]))", "{{action}}")),
        series(lay, "Filings refused per hour",
               Query("sum by (api, status) (increase(whistle_intake_complaints_refused_total[1h])) or on() vector(0)",
                     "{{api}} {{status}}")),
    ]  # fmt: skip
    return board(
        "whistle-hotline",
        "Whistle — hotline response",
        "How many complaints come in, how far they get, how fast they are dispatched and signed off.",
        panels,
        [
            variable(
                "district", "District", "label_values(whistle_intake_complaints_received_total, district)"
            )
        ],
    )
