"""Open311 GeoReport v2 documents as data: the records each endpoint answers with, the spec's value
types, and its datetime form (see http://wiki.open311.org/GeoReport_v2).

Plain frozen dataclasses, no behaviour beyond ordering; `rendering.py` turns them into JSON and
XML, `forms.py` reads what clients post.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
# The service request updates (`servicerequestupdates`) are one of the extensions in the wild.
EXTENSIONS_URL = "http://wiki.open311.org/GeoReport_v2/Extensions"

ServiceType = Literal["realtime", "batch", "blackbox"]
RequestStatus = Literal["open", "closed"]
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]

DATATYPES: frozenset[str] = frozenset(
    {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
)
LIST_DATATYPES: frozenset[str] = frozenset({"singlevaluelist", "multivaluelist"})


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One entry of ``GET services``."""

    code: str
    name: str
    description: str | None = None
    metadata: bool = False
    type: ServiceType = "realtime"
    keywords: Sequence[str] = ()
    group: str | None = None


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """One attribute of a service definition (``GET services/{service_code}``).

    `variable` False marks an informational attribute that takes no input. `values` holds the
    ``(key, name)`` choices of a ``singlevaluelist`` / ``multivaluelist``.
    """

    variable: bool
    code: str
    datatype: Datatype
    required: bool
    datatype_description: str | None = None
    order: int = 0
    description: str = ""
    values: Sequence[tuple[str, str]] = ()


def in_order(attributes: Iterable[AttributeDef]) -> list[AttributeDef]:
    """Attributes by their `order`, as a service definition lists (and checks) them."""
    return sorted(attributes, key=lambda a: a.order)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """One service request as ``GET requests`` shows it."""

    service_request_id: str
    status: RequestStatus
    status_notes: str | None = None
    service_name: str | None = None
    service_code: str | None = None
    description: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    requested_datetime: datetime | None = None
    updated_datetime: datetime | None = None
    expected_datetime: datetime | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None


@dataclass(frozen=True, slots=True)
class RequestUpdate:
    """One entry of ``GET servicerequestupdates``: a resident-visible change to a request.

    `status` is ``open``/``closed``, or an extended status (``FIXED``, ``IN_PROGRESS`` …) when the
    client reads extended statuses; `external_status_code` is our own name of the change.
    """

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime
    description: str | None = None
    media_url: str | None = None
    external_status_code: str | None = None


@dataclass(frozen=True, slots=True)
class CreatedUpdate:
    """The answer to ``POST servicerequestupdates``: the id of the update as stored here."""

    update_id: str


@dataclass(frozen=True, slots=True)
class CreatedRequest:
    """The answer to ``POST requests``: an id, or a token to look the id up later."""

    service_request_id: str | None = None
    token: str | None = None
    service_notice: str | None = None
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class RequestToken:
    """The answer to ``GET tokens/{token}``: the id the token became, None while still pending."""

    token: str
    service_request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of an endpoint (``requests``, ``servicerequestupdates`` …), as discovery lists
    it: its methods and whether it needs an ``api_key`` (``required``, ``optional`` or ``none``)."""

    path: str
    methods: Sequence[str]
    api_key: str = "none"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint listed by service discovery; `resources` lists what it serves (an extension of
    the spec's document), each in every one of `formats` (``.xml``, ``.json``)."""

    specification: str
    url: str
    changeset: datetime
    type: str
    formats: Sequence[str] = ("text/xml", "application/json")
    resources: Sequence[Resource] = ()


@dataclass(frozen=True, slots=True)
class Discovery:
    """The service discovery document; `jurisdiction_id` and `sync` (how a client follows searches
    and updates without gaps) extend the spec's fields."""

    changeset: datetime
    contact: str
    key_service: str | None
    endpoints: Sequence[Endpoint]
    jurisdiction_id: str | None = None
    sync: str | None = None


@dataclass(frozen=True, slots=True)
class Open311Error:
    """One entry of an ``<errors>`` document; `code` is the HTTP status it belongs to."""

    code: int
    description: str


# --- values as the spec writes them ---------------------------------------------------------------


def is_blank(value: str | None) -> bool:
    """Open311 clients send empty fields for what they leave out: such a value counts as absent."""
    return value is None or not value.strip()


@dataclass(frozen=True, slots=True)
class Precise:
    """A datetime rendered to the microsecond: an `updated_datetime` a sync resumes from must be
    exact, or a busy second could be read again and again (or skipped)."""

    moment: datetime


def format_datetime(moment: datetime, tz: tzinfo | None = None, *, precise: bool = False) -> str:
    """ISO-8601 with seconds and a numeric offset, e.g. ``2026-11-24T21:34:07+08:00``.

    Rendered in `moment`'s own offset, or converted to `tz` when given. Naive datetimes raise
    ValueError; sub-second precision is dropped unless `precise` (then always six digits:
    ``2026-11-24T21:34:07.120000+08:00``, W3C-DTF's decimal fraction of a second).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} cannot be rendered for Open311")
    if tz is not None:
        moment = moment.astimezone(tz)
    return moment.isoformat(timespec="microseconds" if precise else "seconds")


def parse_datetime(text: str, *, assume_tz: tzinfo | None = None) -> datetime:
    """Read an ISO-8601 / W3C datetime such as ``2026-11-24T21:34:07+08:00`` or ``…Z``.

    A value without an offset gets `assume_tz`; without `assume_tz` it raises ValueError, as does
    anything unparseable.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not an ISO-8601 datetime: {text!r}") from exc
    if parsed.tzinfo is None:
        if assume_tz is None:
            raise ValueError(f"datetime {text!r} has no time zone offset")
        parsed = parsed.replace(tzinfo=assume_tz)
    return parsed
