"""Departments: each department's queue and its oldest waiting order, the deadlines it breaches by
stage, its rates of the current period and where it ranks."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from services.dashboards.panels import Layout, Query, board, listing, series, variable

DEP = 'department=~"$department"'


def departments() -> Dashboard:
    lay = Layout()
    panels = [
        series(lay, "Queue depth by department",
               Query(f"sum by (department) (whistle:open_assignments{{{DEP}}})", "{{department}}")),
        series(lay, "Oldest order nobody holds", Query(
            f"whistle:oldest_unclaimed_age_seconds{{{DEP}}}", "{{department}}"), unit="s"),
        series(lay, "Open orders by status",
               Query(f"sum by (status) (whistle:open_assignments{{{DEP}}})", "{{status}}"), w=8),
        series(lay, "Breaches by stage (15 min)",
               Query(f"sum by (stage) (whistle:breaches:increase15m{{{DEP}}})", "{{stage}}"), w=8),
        series(lay, "Breaches by department (15 min)",
               Query(f"sum by (department) (whistle:breaches:increase15m{{{DEP}}})", "{{department}}"), w=8),
        series(lay, "Running clocks past their deadline, by stage",
               Query(f"sum by (stage) (max by (stage, department) (whistle_sla_overdue_clocks{{{DEP}}}))",
                     "{{stage}} overdue"),
               Query(f"sum by (stage) (max by (stage, department) (whistle_sla_running_clocks{{{DEP}}}))",
                     "{{stage}} running")),
        series(lay, "Warnings by stage (15 min)", Query(
            f"sum by (stage) (increase(whistle_sla_warnings_total{{{DEP}}}[15m]))", "{{stage}}")),
        series(lay, "Response, resolution, satisfaction and on-time rates (current period)",
               Query(f"whistle:rate_ratio{{{DEP}}}", "{{department}} {{rate}} ({{period}})"),
               unit="percentunit", w=24),
        listing(lay, "Standings, current period",
                Query(f"max by (department, period) (whistle_sla_rank{{{DEP}}})", "rank"),
                Query(f"max by (department, period) (whistle_sla_score{{{DEP}}})", "score"),
                Query(f'max by (department, period) (whistle:rate_ratio{{rate="response", {DEP}}})', "response"),
                Query(f'max by (department, period) (whistle:rate_ratio{{rate="resolution", {DEP}}})', "resolution"),
                Query(f'max by (department, period) (whistle:rate_ratio{{rate="satisfaction", {DEP}}})',
                      "satisfaction"),
                Query(f'max by (department, period) (whistle_sla_rate_samples{{rate="response", {DEP}}})', "cases"),
                w=16),
        listing(lay, "Ranking published for the latest closed period",
                Query(f"max by (department, period) (whistle_sla_published_rank{{{DEP}}}) or on() vector(0)", "rank"),
                Query(f"max by (department, period) (whistle_sla_published_score{{{DEP}}}) or on() vector(0)",
                      "score"),
                w=8),
        series(lay, "Claims, returns and re-routes per hour",
               Query(f"sum by (department) (increase(whistle_dispatch_claimed_assignments_total{{{DEP}}}[1h]))",
                     "{{department}} claimed"),
               Query(f"sum by (department, reason) (increase(whistle_dispatch_returns_total{{{DEP}}}[1h]))",
                     "{{department}} returned: {{reason}}"),
               Query("sum by (target) (increase(whistle_dispatch_reroutes_total[1h]))", "re-routed to {{target}}")),
        series(lay, "Escalations and refused push-downs per hour",
               Query("sum by (action) (increase(whistle_dispatch_escalations_total[1h]))", "escalation: {{action}}"),
               Query("sum by (kind) (increase(whistle_dispatch_refused_pushdowns_total[1h]))", "refused: {{kind}}")),
    ]  # fmt: skip
    return board(
        "whistle-departments",
        "Whistle — departments",
        "Queues, deadlines breached, the three rates and the ranking, per department.",
        panels,
        [variable("department", "Department", "label_values(whistle_dispatch_open_assignments, department)")],
    )
