"""Extension requests: the request's rules, the deadline they move, who decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.extensions import Extension, check_request, current_deadline, moved
from shared.access import Principal, may_decide_extension
from shared.city import SlaPolicy
from shared.errors import Unprocessable
from shared.work_calendar import WorkCalendar

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Beijing
DEADLINE = NOW + timedelta(days=7)
CALENDAR = WorkCalendar()


def problems(**kwargs: object) -> set[str]:
    values: dict[str, object] = {
        "working_days": None,
        "until": None,
        "reason": "材料待补",
        "now": NOW,
        "deadline": DEADLINE,
    }
    values.update(kwargs)
    with pytest.raises(Unprocessable) as refused:
        check_request(**values)  # type: ignore[arg-type]
    assert refused.value.errors is not None
    return {e["field"] for e in refused.value.errors}


def test_working_days_or_until_is_taken_with_a_reason() -> None:
    assert check_request(working_days=3, until=None, reason="x", now=NOW, deadline=DEADLINE) == Extension(
        3, None
    )
    later = DEADLINE + timedelta(days=1)
    assert (
        check_request(working_days=None, until=later, reason="x", now=NOW, deadline=DEADLINE).until == later
    )


def test_both_or_neither_and_a_missing_reason_are_all_reported_at_once() -> None:
    assert problems(working_days=2, until=DEADLINE + timedelta(days=1), reason=" ") == {"body", "body.reason"}
    assert problems() == {"body"}


def test_until_must_move_the_deadline_later_and_lie_ahead() -> None:
    assert problems(until=DEADLINE - timedelta(hours=1)) == {"body.until"}
    assert problems(until=NOW - timedelta(hours=1)) == {"body.until"}


def test_working_days_are_bounded() -> None:
    assert problems(working_days=0) == {"body.working_days"}
    assert problems(working_days=31) == {"body.working_days"}


def test_working_days_skip_the_weekend_and_until_never_moves_a_deadline_earlier() -> None:
    friday = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert moved(friday, Extension(working_days=1), CALENDAR) == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert moved(friday, Extension(until=friday - timedelta(days=1)), CALENDAR) == friday


def test_the_known_deadline_is_the_policy_resolve_moved_by_what_was_approved() -> None:
    policy = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")
    assert current_deadline(queued_at=NOW, policy=policy, calendar=CALENDAR, approved=[]) == NOW + timedelta(
        days=7
    )
    approved = [Extension(until=NOW + timedelta(days=9)), Extension(working_days=1)]
    assert current_deadline(queued_at=NOW, policy=policy, calendar=CALENDAR, approved=approved) == datetime(
        2026, 12, 14, 2, 0, tzinfo=UTC
    )


def client(kind: str, **binding: str) -> Principal:
    scopes = {"district": {"extensions:approve"}, "street": {"queue:write"}}.get(kind, set())
    return Principal(client_id=f"{kind}-x", kind=kind, scopes=frozenset(scopes), **binding)  # type: ignore[arg-type]


def test_the_handling_street_or_the_district_decides_and_nobody_else() -> None:
    where = {"street_code": "s1", "district_code": "d1", "street_unit": False}
    assert may_decide_extension(client("district", district="d1"), **where).granted  # type: ignore[arg-type]
    assert may_decide_extension(client("street", street="s1"), **where).granted  # type: ignore[arg-type]
    assert not may_decide_extension(client("street", street="s2"), **where).granted  # type: ignore[arg-type]
    assert not may_decide_extension(client("district", district="d2"), **where).granted  # type: ignore[arg-type]
    assert not may_decide_extension(client("department", department="zjw"), **where).granted  # type: ignore[arg-type]


def test_a_street_does_not_approve_its_own_units_request() -> None:
    own = {"street_code": "s1", "district_code": "d1", "street_unit": True}
    assert not may_decide_extension(client("street", street="s1"), **own).granted  # type: ignore[arg-type]
    assert may_decide_extension(client("district", district="d1"), **own).granted  # type: ignore[arg-type]
