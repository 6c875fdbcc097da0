"""Streets: complaints per street, each street's whistle-rate health against the policy's band, and
the evaluations streets gave the agencies that served them."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from services.dashboards.panels import Layout, Query, board, listing, series, single, variable

D = 'district=~"$district"'
RATE = f"max by (district, street, period) (whistle_sla_street_whistles_per_10k_households{{{D}}})"
BAND = 'max(whistle_sla_whistle_rate_band{{bound="{}"}})'


def streets() -> Dashboard:
    lay = Layout()
    panels = [
        single(lay, "Streets above the whistle-rate band",
               Query(f"count({RATE} > scalar({BAND.format('high')})) or on() vector(0)")),
        single(lay, "Streets below the whistle-rate band",
               Query(f"count({RATE} < scalar({BAND.format('low')})) or on() vector(0)")),
        single(lay, "Evaluations given this period",
               Query(f"sum(max by (street) (whistle_sla_street_evaluations{{{D}}}))")),
        single(lay, "Healthy band (whistles per 10,000 households)",
               Query("max by (bound) (whistle_sla_whistle_rate_band)", "{{bound}}")),
        series(lay, "Complaints per hour, busiest 10 streets", Query(
            f"topk(10, sum by (district, street) (increase(whistle_intake_street_complaints_received_total{{{D}}}[1h])))",
            "{{district}} {{street}}")),
        series(lay, "Streets' own whistles per hour by district", Query(
            f'sum by (district) (increase(whistle_dispatch_whistles_issued_total{{kind="street_whistle", {D}}}[1h]))',
            "{{district}}")),
        listing(lay, "Complaints per street (24 h)", Query(
            f"sum by (district, street) (increase(whistle_intake_street_complaints_received_total{{{D}}}[24h]))",
            "complaints"), w=8),
        listing(lay, "Whistle-rate health, current period",
                Query(f"max by (district, street, period) (whistle_sla_street_whistles{{{D}}})", "whistles"),
                Query(RATE, "per 10k households"), w=8),
        listing(lay, "Evaluations given, current period", Query(
            f"max by (district, street, period) (whistle_sla_street_evaluations{{{D}}})", "evaluations"), w=8),
    ]  # fmt: skip
    return board(
        "whistle-streets",
        "Whistle — streets",
        "Where complaints come from, whether each street whistles in a healthy measure, and its evaluations.",
        panels,
        [
            variable(
                "district",
                "District",
                "label_values(whistle_intake_street_complaints_received_total, district)",
            )
        ],
    )
