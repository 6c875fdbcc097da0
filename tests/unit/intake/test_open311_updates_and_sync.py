"""Open311 as FixMyStreet-style clients run it, the pure parts: how our changes read as Open311
statuses, what a client's update status means, the update stream's documents and windows, who
reads what, and where a complaint without a point is shown."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import shapely

from services.intake.city_view import CityView
from services.intake.models import Complaint, StatusChange
from services.intake.open311.documents import CreatedUpdate, RequestUpdate
from services.intake.open311.forms import (
    MAX_PAGE_DEPTH,
    parse_list_query,
    parse_update_post,
    parse_updates_query,
)
from services.intake.open311.rendering import (
    created_update_json,
    created_update_xml,
    updates_json,
    updates_xml,
)
from services.intake.presenting import position, request_info, request_update
from services.intake.status import (
    EXTENDED_STATUS,
    STREAMED_KINDS,
    asks_for_followup,
    extended_status,
    external_status_code,
    next_status,
    normalise_client_status,
    resident_says,
)
from shared.access import Principal, open311_reads_in_full
from shared.city import load_city
from shared.city_index import CityIndex
from shared.errors import Forbidden

TINY = Path(__file__).parents[2] / "data" / "tiny_city.yaml"
VIEW = CityView.build(CityIndex.build(load_city(TINY), 1))
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

# --- our changes as Open311 statuses --------------------------------------------------------------


def test_each_resident_visible_change_has_an_extended_status_that_fixmystreet_knows() -> None:
    fixmystreet = {
        "OPEN",
        "CLOSED",
        "FIXED",
        "IN_PROGRESS",
        "ACTION_SCHEDULED",
        "INVESTIGATING",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION",
        "INTERNAL_REFERRAL",
        "REOPEN",
    }
    assert {extended_status(kind) for kind in STREAMED_KINDS} <= fixmystreet
    assert [
        extended_status(k) for k in ("dispatched", "signed_off", "reported_in", "resolved", "closed")
    ] == [
        "ACTION_SCHEDULED",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "FIXED",
        "CLOSED",
    ]
    assert (extended_status("reopened"), extended_status("merged")) == ("REOPEN", "DUPLICATE")
    assert extended_status("rerouted") == "ACTION_SCHEDULED"  # still open: the city kept the matter


def test_a_resolved_change_reads_by_the_answering_units_result() -> None:
    assert extended_status("resolved", "resolved") == "FIXED"
    assert extended_status("resolved", "partially_resolved") == "CLOSED"
    assert extended_status("resolved", "unresolvable") == "NO_FURTHER_ACTION"
    assert extended_status("resolved", "explained") == "NOT_COUNCILS_RESPONSIBILITY"
    assert external_status_code("resolved", "explained") == "resolved:explained"
    assert external_status_code("dispatched") == "dispatched"


def test_filing_and_the_residents_own_updates_are_not_in_the_stream() -> None:
    for kind in ("filed", "resident_update", "followup_requested"):
        assert kind not in STREAMED_KINDS and extended_status(kind) is None
    assert set(STREAMED_KINDS) == set(EXTENDED_STATUS)


def test_a_unit_reporting_in_moves_a_dispatched_complaint_to_in_progress_only() -> None:
    assert next_status("dispatched", "assignment.reported_in") == "in_progress"
    assert next_status("in_progress", "assignment.reported_in") is None
    assert next_status("resolved", "assignment.reported_in") is None


# --- what a client's update says ------------------------------------------------------------------


def test_client_statuses_are_read_in_any_spelling_and_unknown_ones_are_comments() -> None:
    assert normalise_client_status(" in progress ") == "IN_PROGRESS"
    assert normalise_client_status("not-councils-responsibility") == "NOT_COUNCILS_RESPONSIBILITY"
    assert normalise_client_status("") == normalise_client_status(None) == "COMMENT"
    assert [resident_says(s) for s in ("OPEN", "reopen", "FIXED", "closed")] == [
        "not_fixed",
        "not_fixed",
        "fixed",
        "fixed",
    ]
    assert resident_says("INVESTIGATING") == resident_says("whatever-they-invent") == "comment"


def test_not_fixed_asks_for_a_follow_up_only_of_a_resolved_complaint() -> None:
    assert asks_for_followup("not_fixed", "resolved")
    for status in ("received", "dispatched", "in_progress", "closed", "reopened"):
        assert not asks_for_followup("not_fixed", status)
    assert not asks_for_followup("fixed", "resolved") and not asks_for_followup("comment", "resolved")


# --- the update stream's documents ----------------------------------------------------------------


def entry(**values: object) -> StatusChange:
    defaults: dict[str, object] = dict(
        id=42,
        complaint_id="c-1",
        status="resolved",
        kind="resolved",
        result="explained",
        unit_code="d1-zjw",
        note="东区住建委已作解释说明，等待回访",
        at=NOW,
        recorded_at=NOW + timedelta(microseconds=120),
    )
    return StatusChange(**(defaults | values))


def test_an_entry_becomes_an_update_with_its_id_and_extended_or_plain_status() -> None:
    update = request_update(entry())
    assert (update.update_id, update.service_request_id, update.status) == (
        "42",
        "c-1",
        "NOT_COUNCILS_RESPONSIBILITY",
    )
    assert update.updated_datetime == NOW + timedelta(microseconds=120)  # when intake recorded it
    assert update.external_status_code == "resolved:explained" and update.media_url is None
    assert request_update(entry(), extended=False).status == "closed"
    assert (
        request_update(entry(kind="merged", status="dispatched", result=None), extended=False).status
        == "open"
    )


def test_the_update_stream_renders_as_fixmystreet_reads_it() -> None:
    updates = [
        request_update(entry()),
        request_update(entry(id=43, kind="closed", status="closed", result=None)),
    ]
    root = ET.fromstring(updates_xml(updates, tz=CST))
    assert root.tag == "service_request_updates"
    first = root.findall("request_update")[0]
    assert [c.tag for c in first] == [
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
        "external_status_code",
    ]
    assert first.findtext("updated_datetime") == "2026-12-02T17:00:00.000120+08:00"
    assert [u.findtext("status") for u in root] == ["NOT_COUNCILS_RESPONSIBILITY", "CLOSED"]
    assert updates_json(updates)[1]["update_id"] == "43"
    posted = ET.fromstring(created_update_xml(CreatedUpdate("77")))
    assert (posted.tag, posted.findtext("request_update/update_id")) == ("service_request_updates", "77")
    assert created_update_json(CreatedUpdate("77")) == [{"update_id": "77"}]
    assert isinstance(updates[0], RequestUpdate)


# --- windows a sync can follow --------------------------------------------------------------------


def test_update_windows_default_to_90_days_and_refuse_wider_or_backwards_ones() -> None:
    query = parse_updates_query({}, tz=CST, now=NOW)
    assert not isinstance(query, list)
    assert (query.start, query.end, query.extended) == (NOW - timedelta(days=90), NOW, True)
    since = parse_updates_query({"start_date": "2026-12-01T08:00:00.000120+08:00"}, tz=CST, now=NOW)
    assert not isinstance(since, list)
    assert since.start == datetime(2026, 12, 1, 0, 0, 0, 120, tzinfo=UTC)  # to the microsecond given
    assert since.end == since.start + timedelta(days=90)
    bad = parse_updates_query(
        {
            "start_date": "2026-12-02T00:00:00Z",
            "end_date": "2026-12-01T00:00:00Z",
            "extended_statuses": "maybe",
        },
        tz=CST,
    )
    assert isinstance(bad, list) and len(bad) == 2
    plain = parse_updates_query({"extended_statuses": "false", "service_request_id": "a,b"}, tz=CST, now=NOW)
    assert not isinstance(plain, list) and (plain.extended, plain.ids) == (False, ["a", "b"])


def test_page_numbers_reach_only_the_first_results_and_say_how_to_go_further() -> None:
    assert not isinstance(parse_list_query({"page": "10", "page_size": "1000"}, tz=CST, now=NOW), list)
    deep = parse_list_query({"page": "1000000", "page_size": "10"}, tz=CST, now=NOW)
    assert isinstance(deep, list) and str(MAX_PAGE_DEPTH) in deep[0].description
    assert "updated_datetime" in deep[0].description


# --- a resident's update as clients post it -------------------------------------------------------


def test_an_update_form_takes_the_fields_clients_send_and_ignores_the_rest() -> None:
    form = {
        "service_request_id": "c-1",
        "update_id": "fms-9",
        "updated_datetime": "2026-12-02T17:00:00+08:00",
        "status": "REOPEN",
        "description": "还是没修好 😞",
        "first_name": "三",
        "last_name": "张",
        "email": "zs@example.cn",
        "phone": "13800138000",
        "media_url": "https://img.example.cn/2.jpg",
        "jurisdiction_id": "tiny",
        "service_code": "garbage_piling",
        "account_id": "1234",
    }
    draft = parse_update_post(form, tz=CST)
    assert not isinstance(draft, list)
    assert (draft.client_update_id, draft.status_sent, draft.name) == ("fms-9", "REOPEN", "张三")
    assert draft.updated_datetime == NOW


def test_an_update_form_lists_every_problem() -> None:
    errors = parse_update_post(
        {"description": "x" * 4001, "email": "nope", "media_url": "ftp://x", "updated_datetime": "soon"},
        tz=CST,
    )
    assert isinstance(errors, list)
    text = " | ".join(e.description for e in errors)
    for expected in ("service_request_id", "update_id", "4000", "email", "media_url", "updated_datetime"):
        assert expected in text


# --- who reads, and what --------------------------------------------------------------------------


def test_request_reads_need_a_hotline_key_unless_the_city_opens_them() -> None:
    hotline = Principal("hotline", "hotline", frozenset())
    assert open311_reads_in_full(hotline, public_reads=False)
    assert open311_reads_in_full(hotline, public_reads=True)
    assert not open311_reads_in_full(None, public_reads=True)
    with pytest.raises(Forbidden):
        open311_reads_in_full(None, public_reads=False)
    with pytest.raises(Forbidden):
        open311_reads_in_full(Principal("dept-zjw", "department", frozenset()), public_reads=True)


def complaint(**values: object) -> Complaint:
    defaults: dict[str, object] = dict(
        id="c-1",
        status="dispatched",
        category="garbage_piling",
        description="楼下垃圾成山",
        media_urls=["https://img.example.cn/1.jpg"],
        community_code="s2-02",
        lat=39.9153,
        lon=116.4155,
        lead_unit_code="s2-enforcement",
        reporter_count=1,
        merged_into=None,
        created_at=NOW,
        updated_at=NOW,
        recorded_at=NOW,
        expected_at=None,
    )
    return Complaint(**(defaults | values))


def test_a_complaint_without_a_point_is_shown_at_its_communitys_representative_point() -> None:
    lat, lon, approximate = position(complaint(lat=None, lon=None), VIEW)
    assert approximate and lat is not None and lon is not None
    community = next(c for s in VIEW.city.districts[0].streets for c in s.communities if c.code == "s2-02")
    assert shapely.Polygon(community.polygon).contains(shapely.Point(lon, lat))
    assert position(complaint(), VIEW) == (39.9153, 116.4155, False)
    assert position(complaint(lat=None, lon=None), None) == (None, None, False)


def test_the_public_view_has_no_free_text_no_media_and_only_the_communitys_point() -> None:
    full = request_info(complaint(), VIEW)
    public = request_info(complaint(), VIEW, full=False)
    assert (full.description, full.media_url, full.lat) == (
        "楼下垃圾成山",
        "https://img.example.cn/1.jpg",
        39.9153,
    )
    assert (public.description, public.media_url) == (None, None)
    assert (public.lat, public.long) == VIEW.point_of("s2-02")
    assert public.status_notes == full.status_notes == "已派至二街道综合执法队办理"
    assert public.updated_datetime == NOW


def test_the_open311_format_and_status_modules_load_no_framework() -> None:
    pure = [
        "services.intake.status",
        "services.intake.open311.documents",
        "services.intake.open311.rendering",
        "services.intake.open311.forms",
    ]
    probe = (
        "import sys\n"
        f"for name in {pure!r}: __import__(name)\n"
        "frameworks = ('fastapi', 'starlette', 'sqlalchemy', 'aiokafka', 'httpx')\n"
        "print(sorted(m for m in frameworks if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
