"""A complaint as filed through either front door (`/v1` JSON or an Open311 form), and the checks
it must pass before anything is stored; a resident's update as an Open311 client sends it (pure: no
database, no broker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from services.intake.city_view import CityView, attribute_defs
from services.intake.open311.attribute_values import validate_attribute_values
from services.intake.schemas import MAX_DESCRIPTION
from shared.geo import Locator, Place


@dataclass(frozen=True)
class Draft:
    source: str
    category: str
    description: str
    source_ref: str | None = None
    idempotency_key: str | None = None
    filed_by: str | None = None
    urgency: str | None = None
    lat: float | None = None
    lon: float | None = None
    community_code: str | None = None
    sub_area_code: str | None = None
    address: str | None = None
    attributes: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    media_urls: Sequence[str] = ()
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def content(self) -> bytes:
        """What was filed, canonically: its keyed fingerprint (`PiiCipher.fingerprint`) tells a
        repeat from a different complaint."""
        content = {
            "category": self.category,
            "description": self.description,
            "urgency": self.urgency,
            "lat": self.lat,
            "lon": self.lon,
            "community_code": self.community_code,
            "address": self.address,
            "attributes": {k: v if isinstance(v, str) else list(v) for k, v in self.attributes.items()},
            "media_urls": list(self.media_urls),
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
        }
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class UpdateDraft:
    """A resident's update of a request (`POST servicerequestupdates`), checked for form."""

    service_request_id: str
    client_update_id: str
    status_sent: str
    description: str = ""
    media_url: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    updated_datetime: datetime | None = None


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def as_error(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class Checked:
    """A draft that passed: where it is and how urgent."""

    place: Place
    urgency: str


def check(draft: Draft, view: CityView, locator: Locator) -> Checked | list[FieldProblem]:
    """Every problem at once, or the place and urgency of an acceptable draft."""
    problems: list[FieldProblem] = []
    category = view.categories.get(draft.category)
    if category is None:
        problems.append(FieldProblem("category", f"{draft.category!r} is not a category of this city"))
    else:
        problems += [
            FieldProblem("attributes", e.description)
            for e in validate_attribute_values(attribute_defs(category), draft.attributes)
        ]
    if len(draft.description) > MAX_DESCRIPTION:
        problems.append(FieldProblem("description", f"at most {MAX_DESCRIPTION} characters"))
    place = _place(draft, locator, problems)
    if draft.sub_area_code is not None and view.index.sub_areas.get(draft.sub_area_code) != (
        place.community_code if place else draft.community_code
    ):
        problems.append(
            FieldProblem(
                "location.sub_area_code", f"{draft.sub_area_code!r} is not a sub-area of the community"
            )
        )
    if problems or place is None or category is None:
        return problems
    return Checked(place=place, urgency=draft.urgency or category.urgency)


def _place(draft: Draft, locator: Locator, problems: list[FieldProblem]) -> Place | None:
    by_code = by_point = None
    if draft.community_code is not None:
        by_code = locator.by_code(draft.community_code)
        if by_code is None:
            problems.append(
                FieldProblem("location.community_code", f"{draft.community_code!r} is not a community here")
            )
    if draft.lat is not None and draft.lon is not None:
        by_point = locator.locate(draft.lon, draft.lat)
        if by_point is None:
            problems.append(FieldProblem("location", "the point is outside the city's communities"))
    if by_code is None and by_point is None and draft.community_code is None and draft.lat is None:
        problems.append(FieldProblem("location", "give a point (lat and lon) or a community code"))
    return by_point or by_code
