"""Intake's pure rules: the status machine, what residents are told, who sees what, masking,
Open311 parameters, and the city view (no database, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.city_view import CityView, degree_box, distance_meters
from services.intake.open311.forms import full_name, parse_list_query, parse_post
from services.intake.pii import PiiCipher, mask_address, mask_email, mask_name, mask_phone, new_key
from services.intake.presenting import decode_cursor, encode_cursor
from services.intake.status import (
    after_feedback,
    next_status,
    open311_status,
    resident_note,
)
from shared.access import Principal, may_read_contact, may_see_complaint
from shared.city import load_city
from shared.city_index import CityIndex
from shared.errors import BadRequest, Conflict

TINY = Path(__file__).parents[2] / "data" / "tiny_city.yaml"
VIEW = CityView.build(CityIndex.build(load_city(TINY), 1))


def test_dispatch_events_only_move_a_complaint_forward() -> None:
    assert next_status("received", "whistle.issued") == "dispatched"
    assert next_status("dispatched", "assignment.signed_off") == "in_progress"
    assert next_status("in_progress", "whistle.completed") == "resolved"
    assert next_status("resolved", "whistle.issued") is None
    assert next_status("in_progress", "assignment.signed_off") is None
    assert next_status("closed", "whistle.completed") is None
    assert next_status("reopened", "whistle.issued") == "dispatched"
    assert next_status("received", "assignment.queued") is None


def test_the_follow_up_call_closes_or_reopens_only_a_resolved_complaint() -> None:
    assert after_feedback("resolved", resolved=True, satisfaction="satisfied") == "closed"
    assert after_feedback("resolved", resolved=True, satisfaction="basically_satisfied") == "closed"
    assert after_feedback("resolved", resolved=True, satisfaction="unsatisfied") == "reopened"
    assert after_feedback("resolved", resolved=False, satisfaction="satisfied") == "reopened"
    with pytest.raises(Conflict):
        after_feedback("in_progress", resolved=True, satisfaction="satisfied")


def test_open311_sees_resolved_and_closed_as_closed() -> None:
    assert [open311_status(s) for s in ("received", "dispatched", "in_progress", "reopened")] == ["open"] * 4
    assert open311_status("resolved") == open311_status("closed") == "closed"


def test_residents_are_told_which_unit_has_their_complaint() -> None:
    assert resident_note("dispatched", VIEW.unit_name("d1-zjw")) == "已派至东区住建委办理"
    assert resident_note("in_progress", None) == "承办单位已签收，正在办理"


def test_bound_clients_see_their_own_street_or_department_only() -> None:
    street = Principal("street-s1", "street", frozenset(), street="s1")
    dept = Principal("dept-zjw", "department", frozenset(), department="zjw")
    viewer = Principal("viewer", "viewer", frozenset())
    assert may_see_complaint(street, street_code="s1", departments=set())
    assert not may_see_complaint(street, street_code="s2", departments=set())
    assert may_see_complaint(dept, street_code="s2", departments={"zjw", None})
    assert not may_see_complaint(dept, street_code="s2", departments={"cgw"})
    assert may_see_complaint(viewer, street_code="s2", departments=set())
    assert not may_read_contact(viewer, street_code="s1", departments={"zjw"}).granted
    admin = Principal("admin", "admin", frozenset())
    assert not may_read_contact(admin, street_code="s1", departments={"zjw"}).granted
    assert may_read_contact(dept, street_code="s9", departments={"zjw"}).granted


def test_masks_keep_only_what_identifies_nobody() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("12345") == "*****"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_email("zhang.san@example.cn") == "z***@example.cn"
    assert (
        mask_address("东区一街道幸福里7号楼") == "东区一***"[:3] + mask_address("东区一街道幸福里7号楼")[3:]
    )
    assert "7号楼" not in (mask_address("东区一街道幸福里7号楼") or "")


@given(st.text(min_size=1, max_size=200))
def test_encryption_round_trips_any_text_and_rotation_keeps_it(text: str) -> None:
    old, new = new_key(), new_key()
    token = PiiCipher([old]).encrypt(text)
    assert token is not None
    both = PiiCipher([new, old])
    assert both.decrypt(token) == text
    assert PiiCipher([new]).decrypt(both.rotate(token)) == text


def test_distances_and_search_boxes() -> None:
    assert distance_meters(39.9, 116.4, 39.9, 116.4) == 0
    assert 110 < distance_meters(39.9, 116.4, 39.901, 116.4) < 112
    dlat, dlon = degree_box(39.9, 50)
    assert distance_meters(39.9, 116.4, 39.9 + dlat, 116.4) == pytest.approx(50, rel=0.01)
    assert distance_meters(39.9, 116.4, 39.9, 116.4 + dlon) == pytest.approx(50, rel=0.01)


def test_an_address_naming_a_community_is_placed_there() -> None:
    assert VIEW.community_in_address("东区二街道四社区5号楼") == "s2-02"
    assert VIEW.community_in_address("一社区门口") == "s1-01"
    assert VIEW.community_in_address("不知道哪里") is None


def test_cursors_round_trip_and_garbage_is_refused() -> None:
    moment = datetime(2026, 11, 24, 9, 0, 1, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, "abc")) == (moment, "abc")
    with pytest.raises(BadRequest):
        decode_cursor("not-a-cursor")


def test_chinese_names_put_the_family_name_first() -> None:
    assert full_name("小红", "李") == "李小红"
    assert full_name("Jane", "Doe") == "Jane Doe"
    assert full_name(None, "李") == "李"
    assert full_name(" ", None) is None


def test_an_open311_form_becomes_a_draft_and_empty_fields_count_as_absent() -> None:
    params = {"service_code": "garbage_piling", "lat": "39.905", "long": "116.405", "description": "垃圾"}
    form = [("attribute[kinds][]", "household"), ("attribute[kinds][]", "bulky"), ("attribute[volume]", "")]
    draft = parse_post(params, form, VIEW, filed_by="hotline", idempotency_key=None)
    assert not isinstance(draft, list)
    assert draft.attributes == {"kinds": ["household", "bulky"]}
    assert (draft.lat, draft.lon, draft.source) == (39.905, 116.405, "open311")


def test_an_open311_form_lists_every_problem() -> None:
    params = {"lat": "north", "description": "x" * 4001, "phone": "call me", "media_url": "ftp://x"}
    errors = parse_post(params, [], VIEW, filed_by="hotline", idempotency_key=None)
    assert isinstance(errors, list)
    text = " | ".join(e.description for e in errors)
    for expected in ("service_code", "lat is not a number", "lat and long", "4000", "phone", "media_url"):
        assert expected in text
    assert all(e.code == 400 for e in errors)


def test_open311_searches_default_to_the_last_90_days_and_refuse_wider_ones() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    query = parse_list_query({}, tz=UTC, now=now)
    assert not isinstance(query, list)
    assert (query.start, query.end, query.page_size) == (now - timedelta(days=90), now, 1000)
    wide = parse_list_query(
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, tz=UTC
    )
    assert isinstance(wide, list) and "90 days" in wide[0].description
    ids = parse_list_query({"service_request_id": "a, b,a", "status": "bogus"}, tz=UTC)
    assert not isinstance(ids, list) and ids.ids == ["a", "b"]  # ids override the other filters
    bad = parse_list_query({"status": "open,pending", "page_size": "5000", "start_date": "yesterday"}, tz=UTC)
    assert isinstance(bad, list) and len(bad) == 3
