"""Intake's own metrics. Labels are codes and outcomes, never residents' data."""

from __future__ import annotations

from prometheus_client import Counter

COMPLAINTS_FILED = Counter(
    "whistle_intake_complaints_total",
    "Complaints filed, by front door and outcome (created, repeated, merged)",
    ["api", "category", "outcome"],
)
COMPLAINTS_REFUSED = Counter(
    "whistle_intake_complaints_refused_total",
    "Filings refused, by front door and HTTP status",
    ["api", "status"],
)
FOLLOW_UPS = Counter(
    "whistle_intake_follow_ups_total", "Follow-up call results recorded", ["satisfaction", "outcome"]
)
CONTACT_READS = Counter(
    "whistle_intake_contact_reads_total",
    "Reads of a reporter's contact (audited)",
    ["client_kind", "granted"],
)
