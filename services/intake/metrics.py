"""Intake's own metrics. Labels are codes, groups and outcomes, never residents' data.

Per complaint nothing: a complaint is counted by its channel, category group and district, and once
more by its street (343 streets at Beijing scale, one series each), never by its id. The label sets
of the city's districts, streets and category groups are initialised as soon as the registry's city
is known (`initialise_for_city`), so a quiet city shows zeros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter

from services.intake.status import STATUSES
from shared.city_index import CityIndex
from shared.metrics_cache import MetricsJob, refreshing

if TYPE_CHECKING:
    from services.intake.filing import Filed
    from shared.runtime import Runtime
    from shared.snapshot_cache import SnapshotCache

CHANNELS = ("v1", "open311")
SATISFACTIONS = ("satisfied", "basically_satisfied", "unsatisfied")
FOLLOW_UP_OUTCOMES = ("closed", "reopened")
MERGE_ACTIONS = ("merged", "unmerged")

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
RECEIVED = Counter(
    "whistle_intake_complaints_received_total",
    "Complaints received (new or merged into an open one), by channel, category group and district",
    ["channel", "category_group", "district"],
)
RECEIVED_BY_STREET = Counter(
    "whistle_intake_street_complaints_received_total",
    "Complaints received, by the street they are about",
    ["district", "street"],
)
STATUS_CHANGES = Counter(
    "whistle_intake_status_changes_total",
    "Complaints moved to a resident-facing status (received on filing)",
    ["status"],
)
MERGES = Counter(
    "whistle_intake_merges_total", "Complaints merged into an open one, or taken out of a merge", ["action"]
)

for _status in STATUSES:
    STATUS_CHANGES.labels(_status)
for _action in MERGE_ACTIONS:
    MERGES.labels(_action)
for _satisfaction in SATISFACTIONS:
    for _outcome in FOLLOW_UP_OUTCOMES:
        FOLLOW_UPS.labels(_satisfaction, _outcome)


def category_group(index: CityIndex | None, category: str) -> str:
    found = index.categories.get(category) if index is not None else None
    return (found.group or "other") if found is not None else "other"


def note_received(channel: str, filed: Filed, index: CityIndex | None) -> None:
    """A filing answered: counted once unless it repeated one filed before."""
    if not filed.created:
        return
    complaint = filed.complaint
    group = category_group(index, complaint.category)
    RECEIVED.labels(channel, group, complaint.district_code).inc()
    RECEIVED_BY_STREET.labels(complaint.district_code, complaint.street_code).inc()
    STATUS_CHANGES.labels("received").inc()
    if complaint.merged_into:
        MERGES.labels("merged").inc()


def note_follow_up(satisfaction: str, status: str) -> None:
    FOLLOW_UPS.labels(satisfaction, status).inc()
    STATUS_CHANGES.labels(status).inc()


def initialise_for_city(index: CityIndex) -> None:
    """Every district's, street's and category group's label sets, at zero."""
    groups = {category_group(index, code) for code in index.categories}
    for district, streets in index.district_streets.items():
        for channel in CHANNELS:
            for group in groups:
                RECEIVED.labels(channel, group, district)
        for street in streets:
            RECEIVED_BY_STREET.labels(district, street)


def label_sets_job(cache: SnapshotCache, *, every: float = 2.0) -> MetricsJob:
    """The background job initialising the label sets of the city the cache holds (again when the
    registry's city changes); a look every `every` seconds costs a version comparison."""
    seen = {"version": -1}

    async def refresh(_runtime: Runtime) -> None:
        index = cache.index
        if index is not None and index.version != seen["version"]:
            initialise_for_city(index)
            seen["version"] = index.version

    return refreshing("metrics-labels", refresh, every=every)
