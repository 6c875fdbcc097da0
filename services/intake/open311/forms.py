"""Reading what Open311 clients send (pure): empty parameters dropped, ``attribute[…]`` fields, a
`POST requests` form into a draft, a `GET requests` or `GET servicerequestupdates` query into a
search over a window of recorded changes, a `POST servicerequestupdates` form into an update. Each
reader returns every problem at once as Open311 errors.

Windows: `start_date` and `end_date` (inclusive) select by when a change was recorded (a
request's and an update's `updated_datetime`); without either, the last 90 days; at most 90 days
apart. Results come oldest first, at most 1,000: a client resumes from the last item's
`updated_datetime` (as its next `start_date`) and skips the ids it already has."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from services.intake.city_view import CityView
from services.intake.drafts import Draft, UpdateDraft
from services.intake.open311.documents import Open311Error, is_blank, parse_datetime
from services.intake.schemas import MAX_DESCRIPTION

# --- parameters and attribute fields --------------------------------------------------------------

_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")


def clean_params(
    params: Mapping[str, str | None] | Iterable[tuple[str, str | None]],
) -> dict[str, str]:
    """Request parameters with empty ones treated as absent.

    A value that is None, empty or only whitespace is dropped; other values are kept unchanged.
    Given pairs with a repeated name, the last non-empty value wins. ``attribute[…]`` fields pass
    through untouched; read them with `parse_attributes`.
    """
    pairs = params.items() if isinstance(params, Mapping) else params
    return {name: value for name, value in pairs if value is not None and not is_blank(value)}


def parse_attributes(form: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """The ``attribute[CODE]`` fields of a ``POST requests`` form, keyed by CODE.

    * ``attribute[CODE]=v`` once gives ``"v"``;
    * ``attribute[CODE][]=v`` (any number of times) gives a list, in form order — the spec's way of
      sending a ``multivaluelist``;
    * ``attribute[CODE]`` repeated without ``[]`` also gives a list (which validation then rejects
      for single-valued attributes rather than silently keeping one value);
    * empty or whitespace-only values are treated as absent; a code left with no values is omitted;
    * other fields (and malformed ``attribute`` names) are ignored.
    """
    found: dict[str, list[str]] = {}
    as_list: set[str] = set()
    for name, value in form:
        match = _ATTRIBUTE_KEY.fullmatch(name)
        if match is None:
            continue
        code = match.group(1)
        if match.group(2):
            as_list.add(code)
        if is_blank(value):
            continue
        found.setdefault(code, []).append(value)
    return {
        code: values if code in as_list or len(values) > 1 else values[0] for code, values in found.items()
    }


# --- POST requests: a form into a draft ----------------------------------------------------------

OPEN311_SOURCE = "open311"
_PHONE = re.compile(r"^\+?[0-9][0-9 \-()]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")

Complain = Callable[[str], None]


def full_name(first: str | None, last: str | None) -> str | None:
    """Chinese names are family name first, without a space; others `first last`."""
    parts = [p.strip() for p in (first, last) if p and p.strip()]
    if not parts:
        return None
    if first and last and (_CJK.search(first) or _CJK.search(last)):
        return last.strip() + first.strip()
    return " ".join(parts)


def parse_post(
    params: Mapping[str, str],
    form: Sequence[tuple[str, str]],
    view: CityView,
    *,
    filed_by: str,
    idempotency_key: str | None,
) -> Draft | list[Open311Error]:
    errors: list[Open311Error] = []

    def bad(description: str) -> None:
        errors.append(Open311Error(400, description))

    service_code = params.get("service_code")
    if service_code is None:
        bad("service_code is required")
    lat, lon, community = _place(params, view, bad)
    description = params.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        bad(f"description is longer than {MAX_DESCRIPTION} characters ({len(description)})")
    _check_reporter(params, bad)
    media_url = _check_media_url(params, bad)
    if errors or service_code is None:
        return errors
    return Draft(
        source=OPEN311_SOURCE,
        idempotency_key=idempotency_key,
        filed_by=filed_by,
        category=service_code,
        description=description,
        lat=lat,
        lon=lon,
        community_code=community,
        address=params.get("address_string"),
        attributes=parse_attributes(form),
        media_urls=[media_url] if media_url else [],
        name=full_name(params.get("first_name"), params.get("last_name")),
        phone=params.get("phone"),
        email=params.get("email"),
    )


def _place(
    params: Mapping[str, str], view: CityView, bad: Complain
) -> tuple[float | None, float | None, str | None]:
    """The point (both coordinates or neither) and the community code given or named in the address."""
    lat = _number(params, "lat", -90, 90, bad)
    lon = _number(params, "long", -180, 180, bad)
    if ("lat" in params) != ("long" in params):
        bad("lat and long go together: give both")
    if lat is None or lon is None:
        lat = lon = None
    address = params.get("address_string")
    community = params.get("address_id")
    if community is None and lat is None and address is not None:
        community = view.community_in_address(address)
        if community is None:
            bad(
                "address_string names no community of this city: add lat and long, "
                "or address_id (a community code)"
            )
    if not {"lat", "long", "address_string", "address_id"} & params.keys():
        bad("a location is required: lat and long, address_string or address_id")
    return lat, lon, community


def _check_media_url(params: Mapping[str, str], bad: Complain) -> str | None:
    media_url = params.get("media_url")
    if media_url is not None and (len(media_url) > 2000 or not _URL.fullmatch(media_url)):
        bad("media_url is not an http(s) URL")
        return None
    return media_url


def _check_reporter(params: Mapping[str, str], bad: Complain) -> None:
    phone, email = params.get("phone"), params.get("email")
    if phone is not None and not _PHONE.fullmatch(phone):
        bad("phone is not a telephone number")
    if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        bad("email is not an email address")
    for name in ("first_name", "last_name"):
        if len(params.get(name, "")) > 50:
            bad(f"{name} is longer than 50 characters")


def _number(params: Mapping[str, str], name: str, low: float, high: float, bad: Complain) -> float | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        bad(f"{name} is not a number: {text!r}")
        return None
    if not math.isfinite(value) or not low <= value <= high:
        bad(f"{name} must be between {low:g} and {high:g}")
        return None
    return value


# --- GET requests, GET servicerequestupdates: a query into a search over a window -----------------

MAX_RESULTS = 1000
MAX_RANGE = timedelta(days=90)
# `page` reaches no deeper than this many results: beyond, a client follows `updated_datetime`.
MAX_PAGE_DEPTH = 10_000


@dataclass(frozen=True)
class ListQuery:
    ids: list[str]
    service_codes: list[str]
    start: datetime | None
    end: datetime | None
    statuses: list[str]
    page: int
    page_size: int


@dataclass(frozen=True)
class UpdatesQuery:
    start: datetime
    end: datetime
    ids: list[str]
    extended: bool


def _csv(text: str | None) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))


def parse_window(
    params: Mapping[str, str], *, tz: tzinfo, now: datetime | None, errors: list[Open311Error]
) -> tuple[datetime, datetime]:
    """`start_date` and `end_date`, defaulted to a 90-day span (ending now when neither is given)."""
    start = _date(params, "start_date", tz, errors)
    end = _date(params, "end_date", tz, errors)
    moment = now or datetime.now(tz)
    if start is None and end is None:
        end = moment
    if start is None:
        assert end is not None
        start = end - MAX_RANGE
    if end is None:
        end = start + MAX_RANGE
    if end < start:
        errors.append(Open311Error(400, "end_date is before start_date"))
    elif end - start > MAX_RANGE:
        errors.append(Open311Error(400, "start_date and end_date may be at most 90 days apart"))
    return start, end


def parse_list_query(
    params: Mapping[str, str], *, tz: tzinfo, now: datetime | None = None
) -> ListQuery | list[Open311Error]:
    """`service_request_id` overrides every other filter; otherwise a window (see the module)."""
    errors: list[Open311Error] = []
    ids = _csv(params.get("service_request_id"))
    if len(ids) > MAX_RESULTS:
        errors.append(Open311Error(400, f"at most {MAX_RESULTS} service_request_id values"))
    page_size = _int(params, "page_size", MAX_RESULTS, 1, MAX_RESULTS, errors)
    page = _int(params, "page", 1, 1, 1_000_000, errors)
    if page * page_size > MAX_PAGE_DEPTH:
        errors.append(
            Open311Error(
                400,
                f"page reaches the first {MAX_PAGE_DEPTH} results at most: to read further, "
                "resume from the last item's updated_datetime (as start_date)",
            )
        )
    if ids:
        return errors or ListQuery(ids, [], None, None, [], 1, MAX_RESULTS)
    statuses = _csv(params.get("status"))
    for s in statuses:
        if s not in ("open", "closed"):
            errors.append(Open311Error(400, f"status {s!r} is not open or closed"))
    start, end = parse_window(params, tz=tz, now=now, errors=errors)
    if errors:
        return errors
    return ListQuery([], _csv(params.get("service_code")), start, end, statuses, page, page_size)


def parse_updates_query(
    params: Mapping[str, str], *, tz: tzinfo, now: datetime | None = None
) -> UpdatesQuery | list[Open311Error]:
    """A window of updates (see the module), optionally of some requests (`service_request_id`);
    `extended_statuses=false` asks for plain open/closed statuses."""
    errors: list[Open311Error] = []
    start, end = parse_window(params, tz=tz, now=now, errors=errors)
    ids = _csv(params.get("service_request_id"))
    if len(ids) > MAX_RESULTS:
        errors.append(Open311Error(400, f"at most {MAX_RESULTS} service_request_id values"))
    extended = params.get("extended_statuses", "true").strip().lower()
    if extended not in ("true", "false"):
        errors.append(Open311Error(400, "extended_statuses is true or false"))
    return errors or UpdatesQuery(start, end, ids, extended == "true")


# --- POST servicerequestupdates: a form into an update -----------------------------------------------

MAX_UPDATE_ID = 128


def parse_update_post(params: Mapping[str, str], *, tz: tzinfo) -> UpdateDraft | list[Open311Error]:
    """The fields such clients send; any further ones (`jurisdiction_id`, `service_code`,
    `account_id` …) are accepted and ignored, and so is any `status` (status.py says what it means)."""
    errors: list[Open311Error] = []

    def bad(description: str) -> None:
        errors.append(Open311Error(400, description))

    request_id, update_id = params.get("service_request_id"), params.get("update_id")
    if request_id is None:
        bad("service_request_id is required")
    if update_id is None:
        bad("update_id is required")
    elif len(update_id) > MAX_UPDATE_ID:
        bad(f"update_id is longer than {MAX_UPDATE_ID} characters")
    status = params.get("status", "")
    if len(status) > 64:
        bad("status is longer than 64 characters")
    description = params.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        bad(f"description is longer than {MAX_DESCRIPTION} characters ({len(description)})")
    _check_reporter(params, bad)
    media_url = _check_media_url(params, bad)
    updated = _date(params, "updated_datetime", tz, errors)
    if errors or request_id is None or update_id is None:
        return errors
    return UpdateDraft(
        service_request_id=request_id,
        client_update_id=update_id,
        status_sent=status,
        description=description,
        media_url=media_url,
        name=full_name(params.get("first_name"), params.get("last_name")),
        email=params.get("email"),
        phone=params.get("phone"),
        updated_datetime=updated,
    )


def _int(
    params: Mapping[str, str], name: str, default: int, low: int, high: int, errors: list[Open311Error]
) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        errors.append(Open311Error(400, f"{name} is not a whole number: {text!r}"))
        return default
    if not low <= value <= high:
        errors.append(Open311Error(400, f"{name} must be between {low} and {high}"))
        return default
    return value


def _date(params: Mapping[str, str], name: str, tz: tzinfo, errors: list[Open311Error]) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return parse_datetime(text.replace("Z", "+00:00") if text.endswith("Z") else text, assume_tz=tz)
    except ValueError:
        errors.append(
            Open311Error(400, f"{name} is not a W3C datetime such as 2026-01-01T00:00:00Z: {text!r}")
        )
        return None
