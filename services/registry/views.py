"""How registry rows are shown: GeoJSON geometry, calendar days, and the output schemas (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import shapely
from chinese_calendar import get_holiday_detail
from shapely.geometry import mapping

from services.registry import models as m
from services.registry.schemas import (
    CalendarDay,
    CommunityDetail,
    CommunityOut,
    PolicyOut,
    RuleOut,
    StreetDetail,
    StreetOut,
)
from shared.work_calendar import WorkCalendar


def polygon_geojson(ring: Sequence[Sequence[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def street_geometry(
    stored: Sequence[Sequence[float]] | None, communities: Sequence[Sequence[Sequence[float]]]
) -> dict[str, Any] | None:
    """The stored boundary, or the union of the communities' polygons (Polygon or MultiPolygon)."""
    if stored:
        return polygon_geojson(stored)
    if not communities:
        return None
    union = shapely.union_all([shapely.Polygon(ring) for ring in communities])
    return dict(mapping(union))


def street_out(row: m.Street) -> StreetOut:
    return StreetOut.model_validate({**_columns(row), "boundary": "stored" if row.polygon else "communities"})


def street_detail(row: m.Street, communities: Sequence[Sequence[Sequence[float]]]) -> StreetDetail:
    return StreetDetail.model_validate(
        {
            **street_out(row).model_dump(),
            "geometry": street_geometry(row.polygon, communities),
        }
    )


def community_out(row: m.Community, district_code: str) -> CommunityOut:
    return CommunityOut.model_validate(
        {
            **_columns(row),
            "district_code": district_code,
            "bbox": (row.min_lon, row.min_lat, row.max_lon, row.max_lat),
        }
    )


def community_detail(row: m.Community, district_code: str) -> CommunityDetail:
    return CommunityDetail.model_validate(
        {**community_out(row, district_code).model_dump(), "geometry": polygon_geojson(row.polygon)}
    )


def _in_force(start: datetime | None, end: datetime | None, now: datetime) -> bool:
    return (start is None or start <= now) and (end is None or now < end)


def rule_out(row: m.Rule, now: datetime) -> RuleOut:
    return RuleOut.model_validate(
        {**_columns(row), "in_force": _in_force(row.effective_from, row.effective_to, now)}
    )


def policy_out(row: m.Policy, now: datetime) -> PolicyOut:
    return PolicyOut.model_validate(
        {**_columns(row), "in_force": _in_force(row.effective_from, row.effective_to, now)}
    )


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def calendar_days(start: date, end: date, overrides: Mapping[date, tuple[bool, str]]) -> list[CalendarDay]:
    """Each day from `start` to `end` (inclusive): working or not, who decided, and its name."""
    official = WorkCalendar()
    low, high = WorkCalendar.package_years()
    days: list[CalendarDay] = []
    day = start
    while day <= end:
        if day in overrides:
            workday, name = overrides[day]
            days.append(CalendarDay(date=day, workday=workday, source="override", name=name))
        elif low <= day.year <= high:
            _, holiday = get_holiday_detail(day)
            days.append(
                CalendarDay(date=day, workday=official.is_workday(day), source="official", name=holiday or "")
            )
        else:
            days.append(CalendarDay(date=day, workday=day.weekday() < 5, source="weekday"))
        day += timedelta(days=1)
    return days
