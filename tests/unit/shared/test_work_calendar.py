from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.work_calendar import (
    LOCAL_TZ,
    MAX_WORKING_DAYS,
    Duration,
    DurationUnit,
    WorkCalendar,
    due_at,
    local_date,
    parse_duration,
)

CST = timezone(timedelta(hours=8))
CAL = WorkCalendar()


def cst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A Beijing-time instant."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=CST)


# --- WorkCalendar -------------------------------------------------------------------------------


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_2024_is_a_holiday(day: int) -> None:
    assert not CAL.is_workday(date(2024, 10, day))


def test_make_up_saturday_after_national_day_2024_is_a_workday() -> None:
    assert date(2024, 10, 12).weekday() == 5
    assert CAL.is_workday(date(2024, 10, 12))
    # the Sunday before the holiday is also a make-up day
    assert CAL.is_workday(date(2024, 9, 29))


def test_make_up_sunday_before_spring_festival_2025_is_a_workday() -> None:
    assert date(2025, 1, 26).weekday() == 6
    assert CAL.is_workday(date(2025, 1, 26))
    assert not CAL.is_workday(date(2025, 1, 29))  # 春节


def test_ordinary_weekdays_and_weekends() -> None:
    assert CAL.is_workday(date(2024, 10, 9))  # Wednesday
    assert not CAL.is_workday(date(2024, 10, 13))  # Sunday


def test_overrides_win_over_the_package() -> None:
    cal = WorkCalendar({date(2024, 10, 1): True, date(2024, 10, 9): False, date(2024, 10, 12): False})
    assert cal.is_workday(date(2024, 10, 1))
    assert not cal.is_workday(date(2024, 10, 9))
    assert not cal.is_workday(date(2024, 10, 12))
    assert not cal.is_workday(date(2024, 10, 2))  # untouched days still follow the package


def test_with_overrides_layers_on_top() -> None:
    base = WorkCalendar({date(2024, 10, 9): False})
    layered = base.with_overrides({date(2024, 10, 9): True, date(2024, 10, 10): False})
    assert not base.is_workday(date(2024, 10, 9))
    assert layered.is_workday(date(2024, 10, 9))
    assert not layered.is_workday(date(2024, 10, 10))


def test_overrides_are_read_only_and_copied() -> None:
    source = {date(2024, 10, 9): False}
    cal = WorkCalendar(source)
    source[date(2024, 10, 9)] = True
    assert not cal.is_workday(date(2024, 10, 9))
    with pytest.raises(TypeError):
        cal.overrides[date(2024, 10, 9)] = True  # type: ignore[index]


def test_years_outside_the_package_fall_back_to_monday_to_friday() -> None:
    first, last = WorkCalendar.package_years()
    assert first <= 2024 <= last
    assert date(2099, 1, 1).weekday() == 3
    assert CAL.is_workday(date(2099, 1, 1))  # Thursday, unknown holidays → plain weekday
    assert not CAL.is_workday(date(2099, 1, 3))  # Saturday
    assert CAL.is_workday(date(1999, 12, 31))  # Friday, before the package's data
    cal = WorkCalendar({date(2099, 1, 1): False, date(2099, 1, 3): True})
    assert not cal.is_workday(date(2099, 1, 1))
    assert cal.is_workday(date(2099, 1, 3))


def test_is_workday_rejects_datetimes() -> None:
    with pytest.raises(TypeError):
        CAL.is_workday(datetime(2024, 10, 9, tzinfo=UTC))


def test_override_keys_must_be_dates() -> None:
    with pytest.raises(TypeError):
        WorkCalendar({datetime(2024, 10, 9): True})


def test_next_and_add_workdays() -> None:
    assert CAL.next_workday(date(2024, 10, 1)) == date(2024, 10, 8)
    assert CAL.next_workday(date(2024, 10, 8)) == date(2024, 10, 8)
    assert CAL.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert CAL.add_workdays(date(2024, 9, 30), 0) == date(2024, 9, 30)
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2024, 9, 30), -1)


def test_local_date_uses_beijing_time() -> None:
    assert local_date(datetime(2024, 9, 30, 16, 30, tzinfo=UTC)) == date(2024, 10, 1)
    with pytest.raises(ValueError):
        local_date(datetime(2024, 9, 30, 16, 30))


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", Duration(45, DurationUnit.SECONDS)),  # compressed time in simulations and tests
        ("30m", Duration(30, DurationUnit.MINUTES)),
        ("4h", Duration(4, DurationUnit.HOURS)),
        ("2d", Duration(2, DurationUnit.DAYS)),
        ("3wd", Duration(3, DurationUnit.WORKING_DAYS)),
        ("0h", Duration(0, DurationUnit.HOURS)),
        (" 15wd\n", Duration(15, DurationUnit.WORKING_DAYS)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    parsed = parse_duration(text)
    assert parsed == expected
    assert str(parsed) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "h",
        "3",
        "3 h",
        "3H",
        "-1d",
        "1.5h",
        "3w",
        "3wdd",
        "3ms",
        "wd3",
        "３h",
        "1h30m",
        f"{MAX_WORKING_DAYS + 1}wd",
    ],
)
def test_bad_duration_strings_raise_value_error_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


def test_a_seconds_deadline_is_plain_elapsed_time() -> None:
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # National Day: seconds ignore the calendar
    assert due_at(start, parse_duration("90s"), WorkCalendar()) == start + timedelta(seconds=90)


def test_huge_calendar_duration_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="99999999999999d"):
        parse_duration("99999999999999d")


def test_duration_is_frozen_and_validated() -> None:
    d = parse_duration("4h")
    with pytest.raises(AttributeError):
        d.amount = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        Duration(-1, DurationUnit.HOURS)
    assert Duration(2, "wd") == Duration(2, DurationUnit.WORKING_DAYS)  # type: ignore[arg-type]
    assert d.to_timedelta() == timedelta(hours=4)
    with pytest.raises(ValueError):
        parse_duration("2wd").to_timedelta()


# --- due_at -------------------------------------------------------------------------------------


def test_calendar_units_are_plain_additions_in_utc() -> None:
    start = cst(2024, 9, 30, 22, 0)
    assert due_at(start, parse_duration("90m"), CAL) == start + timedelta(minutes=90)
    assert due_at(start, parse_duration("4h"), CAL) == datetime(2024, 9, 30, 18, 0, tzinfo=UTC)
    result = due_at(start, parse_duration("2d"), CAL)
    assert result == cst(2024, 10, 2, 22, 0)  # holidays do not matter for calendar days
    assert result.tzinfo is UTC


def test_three_working_days_across_national_day_skip_the_holiday() -> None:
    result = due_at(cst(2024, 9, 30, 10, 15), parse_duration("3wd"), CAL)
    assert result == cst(2024, 10, 10, 10, 15)
    assert result.tzinfo is UTC
    assert result == datetime(2024, 10, 10, 2, 15, tzinfo=UTC)


def test_working_days_count_the_make_up_saturday() -> None:
    # Fri 11th (1), make-up Sat 12th (2), Mon 14th (3), Tue 15th (4), Wed 16th (5)
    assert due_at(cst(2024, 10, 10, 15, 0), parse_duration("5wd"), CAL) == cst(2024, 10, 16, 15, 0)


def test_start_on_a_non_working_day_counts_from_next_workday_morning() -> None:
    start = cst(2024, 10, 5, 22, 0)  # holiday Saturday
    assert due_at(start, parse_duration("0wd"), CAL) == cst(2024, 10, 8, 9, 0)
    assert due_at(start, parse_duration("1wd"), CAL) == cst(2024, 10, 9, 9, 0)


def test_zero_working_days_on_a_workday_is_the_start() -> None:
    start = cst(2024, 10, 9, 11, 22, 33, 444)
    assert due_at(start, parse_duration("0wd"), CAL) == start


def test_working_days_use_the_beijing_local_date() -> None:
    # 20:00 in New York on 30 Sep is 08:00 on 1 Oct in Beijing: a holiday.
    start = datetime(2024, 9, 30, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert due_at(start, parse_duration("1wd"), CAL) == cst(2024, 10, 9, 9, 0)
    # 23:30 UTC on Tue 8 Oct is 07:30 on Wed 9 Oct in Beijing, a workday.
    start = datetime(2024, 10, 8, 23, 30, tzinfo=UTC)
    assert due_at(start, parse_duration("1wd"), CAL) == cst(2024, 10, 10, 7, 30)


def test_overrides_apply_to_deadlines() -> None:
    cal = WorkCalendar({date(2024, 10, 9): False})
    assert due_at(cst(2024, 10, 8, 10, 0), parse_duration("1wd"), cal) == cst(2024, 10, 10, 10, 0)


def test_working_days_in_fallback_years() -> None:
    # 2099-01-02 is a Friday; the package has no data for 2099.
    assert due_at(cst(2099, 1, 2, 10, 0), parse_duration("1wd"), CAL) == cst(2099, 1, 5, 10, 0)


def test_naive_start_raises() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2024, 10, 9, 10, 0), parse_duration("1wd"), CAL)
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2024, 10, 9, 10, 0), parse_duration("1h"), CAL)


def test_local_tz_is_utc_plus_eight() -> None:
    assert datetime(2024, 10, 9, tzinfo=LOCAL_TZ).utcoffset() == timedelta(hours=8)


# --- properties ---------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2002, 1, 1),
    max_value=datetime(2029, 12, 31),
    timezones=st.sampled_from([UTC, CST, timezone(timedelta(hours=-5)), LOCAL_TZ]),
)
units = st.sampled_from(list(DurationUnit))
override_maps = st.dictionaries(
    st.dates(min_value=date(2002, 1, 1), max_value=date(2030, 12, 31)), st.booleans(), max_size=20
)


@given(start=starts, unit=units, n=st.integers(min_value=0, max_value=60), overrides=override_maps)
def test_due_at_is_never_before_start_and_monotonic_in_n(
    start: datetime, unit: DurationUnit, n: int, overrides: dict[date, bool]
) -> None:
    cal = WorkCalendar(overrides)
    here = due_at(start, Duration(n, unit), cal)
    nxt = due_at(start, Duration(n + 1, unit), cal)
    assert here.tzinfo is UTC
    assert here >= start
    assert nxt > here


@given(start=starts, n=st.integers(min_value=1, max_value=30))
def test_working_day_deadline_lands_on_a_workday(start: datetime, n: int) -> None:
    result = due_at(start, Duration(n, DurationUnit.WORKING_DAYS), CAL)
    assert CAL.is_workday(local_date(result))
