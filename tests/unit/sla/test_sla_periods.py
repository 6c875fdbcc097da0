"""Periods are months in Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.sla.periods import Period, close_due, date_span, has_begun, parse_period, period_of


def test_a_period_is_written_year_dash_month() -> None:
    assert parse_period("2026-11") == Period(2026, 11)
    assert str(Period(2026, 1)) == "2026-01"
    for bad in ("2026-13", "2026-1", "11-2026", "2026-11-01", "", "0000-01", "9999-12", "1969-12"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_a_period_runs_from_midnight_on_the_first_in_beijing() -> None:
    span = parse_period("2026-12").span()
    assert span.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert period_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == Period(2026, 12)
    assert period_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == Period(2026, 11)


def test_periods_follow_each_other_across_the_year() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)


def test_a_custom_range_includes_its_last_day_and_knows_its_months() -> None:
    span = date_span(date(2026, 11, 20), date(2026, 12, 5))
    assert span.end == datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    assert [str(p) for p in span.periods()] == ["2026-11", "2026-12"]
    with pytest.raises(ValueError):
        date_span(date(2026, 12, 5), date(2026, 11, 20))


def test_last_month_closes_from_the_configured_day_of_the_next() -> None:
    november = Period(2026, 11)
    assert not close_due(november, datetime(2026, 12, 4, 15, 59, tzinfo=UTC), day=5)
    assert close_due(november, datetime(2026, 12, 4, 16, 0, tzinfo=UTC), day=5)


def test_a_period_in_the_future_has_not_begun() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert has_begun(Period(2026, 12), now) and not has_begun(Period(2027, 1), now)
