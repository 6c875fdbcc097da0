"""Open311 GeoReport v2 documents: rendering to JSON / XML and parsing of form input.

Pure functions over the plain dataclasses defined here; see http://wiki.open311.org/GeoReport_v2.

Rendering conventions, identical in both formats:

* datetimes are ISO-8601 with a numeric UTC offset and whole seconds (``2026-11-24T21:34:07+08:00``),
  shown in their own offset unless a `tz` is passed to the renderer; naive datetimes raise ValueError;
* a field that is None is ``null`` in JSON and an empty element (``<address />``) in XML;
* `keywords` is one comma-separated string (``"垃圾, 噪音"``), as the spec shows it; no keywords is None;
* booleans are JSON ``true``/``false`` and the text ``true``/``false`` in XML;
* XML is UTF-8 with the declaration ``<?xml version="1.0" encoding="utf-8"?>``. Characters XML 1.0
  cannot carry (most C0 control characters, lone surrogates, U+FFFE/U+FFFF) are dropped from XML
  text, and carriage returns are written as ``&#13;`` so they survive parsing; JSON keeps every
  character.

Every document has a ``*_json`` function returning a JSON-ready value (dicts, lists, str, int, float,
bool, None) and a ``*_xml`` function returning the XML bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal, TypeAlias

__all__ = [
    "DATATYPES",
    "JSON_CONTENT_TYPE",
    "LIST_DATATYPES",
    "SPECIFICATION_URL",
    "XML_CONTENT_TYPE",
    "XML_DECLARATION",
    "AttributeDef",
    "CreatedRequest",
    "Datatype",
    "Discovery",
    "Endpoint",
    "JsonValue",
    "Open311Error",
    "RequestInfo",
    "RequestStatus",
    "RequestToken",
    "ServiceInfo",
    "ServiceType",
    "clean_params",
    "created_json",
    "created_xml",
    "discovery_json",
    "discovery_xml",
    "errors_json",
    "errors_xml",
    "format_datetime",
    "parse_attributes",
    "parse_datetime",
    "requests_json",
    "requests_xml",
    "service_definition_json",
    "service_definition_xml",
    "services_json",
    "services_xml",
    "tokens_json",
    "tokens_xml",
    "validate_attribute_values",
]

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = dict[str, JsonValue]

ServiceType = Literal["realtime", "batch", "blackbox"]
RequestStatus = Literal["open", "closed"]
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]

DATATYPES: frozenset[str] = frozenset(
    {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
)
LIST_DATATYPES: frozenset[str] = frozenset({"singlevaluelist", "multivaluelist"})

# --- input records --------------------------------------------------------------------------------


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
class Endpoint:
    """One endpoint listed by service discovery."""

    specification: str
    url: str
    changeset: datetime
    type: str
    formats: Sequence[str] = ("text/xml", "application/json")


@dataclass(frozen=True, slots=True)
class Discovery:
    """The service discovery document."""

    changeset: datetime
    contact: str
    key_service: str | None
    endpoints: Sequence[Endpoint]


@dataclass(frozen=True, slots=True)
class Open311Error:
    """One entry of an ``<errors>`` document; `code` is the HTTP status it belongs to."""

    code: int
    description: str


# --- scalars --------------------------------------------------------------------------------------

Scalar: TypeAlias = str | int | float | bool | datetime | None
Fields: TypeAlias = list[tuple[str, Scalar]]

_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def format_datetime(moment: datetime, tz: tzinfo | None = None) -> str:
    """ISO-8601 with seconds and a numeric offset, e.g. ``2026-11-24T21:34:07+08:00``.

    Rendered in `moment`'s own offset, or converted to `tz` when given. Naive datetimes raise
    ValueError; sub-second precision is dropped.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} cannot be rendered for Open311")
    if tz is not None:
        moment = moment.astimezone(tz)
    return moment.isoformat(timespec="seconds")


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


def _keywords(keywords: Sequence[str]) -> str | None:
    cleaned = [k.strip() for k in keywords if k.strip()]
    return ", ".join(cleaned) if cleaned else None


def _json_scalar(value: Scalar, tz: tzinfo | None) -> JsonValue:
    if isinstance(value, datetime):
        return format_datetime(value, tz)
    return value


def _xml_text(value: Scalar, tz: tzinfo | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value, tz)
    if isinstance(value, int | float):
        return repr(value)
    return _XML_ILLEGAL.sub("", value)


def _json_object(fields: Fields, tz: tzinfo | None) -> JsonObject:
    return {name: _json_scalar(value, tz) for name, value in fields}


def _xml_fields(parent: ET.Element, fields: Fields, tz: tzinfo | None) -> None:
    for name, value in fields:
        ET.SubElement(parent, name).text = _xml_text(value, tz)


def _xml_bytes(root: ET.Element) -> bytes:
    # Only element text can hold a carriage return here; escape it so parsers do not fold \r\n to \n.
    body = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return XML_DECLARATION + body.encode("utf-8")


# --- field lists (one source for both formats) ----------------------------------------------------


def _service_fields(s: ServiceInfo) -> Fields:
    return [
        ("service_code", s.code),
        ("service_name", s.name),
        ("description", s.description),
        ("metadata", s.metadata),
        ("type", s.type),
        ("keywords", _keywords(s.keywords)),
        ("group", s.group),
    ]


def _attribute_fields(a: AttributeDef) -> Fields:
    return [
        ("variable", a.variable),
        ("code", a.code),
        ("datatype", a.datatype),
        ("required", a.required),
        ("datatype_description", a.datatype_description),
        ("order", a.order),
        ("description", a.description),
    ]


def _request_fields(r: RequestInfo) -> Fields:
    return [
        ("service_request_id", r.service_request_id),
        ("status", r.status),
        ("status_notes", r.status_notes),
        ("service_name", r.service_name),
        ("service_code", r.service_code),
        ("description", r.description),
        ("agency_responsible", r.agency_responsible),
        ("service_notice", r.service_notice),
        ("requested_datetime", r.requested_datetime),
        ("updated_datetime", r.updated_datetime),
        ("expected_datetime", r.expected_datetime),
        ("address", r.address),
        ("address_id", r.address_id),
        ("zipcode", r.zipcode),
        ("lat", r.lat),
        ("long", r.long),
        ("media_url", r.media_url),
    ]


def _created_fields(c: CreatedRequest) -> Fields:
    return [
        ("service_request_id", c.service_request_id),
        ("token", c.token),
        ("service_notice", c.service_notice),
        ("account_id", c.account_id),
    ]


def _token_fields(t: RequestToken) -> Fields:
    return [("service_request_id", t.service_request_id), ("token", t.token)]


def _error_fields(e: Open311Error) -> Fields:
    return [("code", e.code), ("description", e.description)]


def _endpoint_fields(e: Endpoint) -> Fields:
    return [("specification", e.specification), ("url", e.url), ("changeset", e.changeset), ("type", e.type)]


def _discovery_fields(d: Discovery) -> Fields:
    return [("changeset", d.changeset), ("contact", d.contact), ("key_service", d.key_service)]


def _sorted_attributes(attributes: Iterable[AttributeDef]) -> list[AttributeDef]:
    return sorted(attributes, key=lambda a: a.order)


# --- GET services ---------------------------------------------------------------------------------


def services_json(services: Iterable[ServiceInfo]) -> list[JsonObject]:
    """``GET services.json``: a list of service objects."""
    return [_json_object(_service_fields(s), None) for s in services]


def services_xml(services: Iterable[ServiceInfo]) -> bytes:
    """``GET services.xml``: ``<services><service>…</service></services>``."""
    root = ET.Element("services")
    for s in services:
        _xml_fields(ET.SubElement(root, "service"), _service_fields(s), None)
    return _xml_bytes(root)


# --- GET services/{service_code} ------------------------------------------------------------------


def service_definition_json(service_code: str, attributes: Iterable[AttributeDef]) -> JsonObject:
    """``GET services/{code}.json``: ``{"service_code", "attributes": [...]}``, attributes by `order`.

    Every attribute carries ``values`` (an empty list when it has no choices).
    """
    rendered: list[JsonValue] = []
    for a in _sorted_attributes(attributes):
        obj = _json_object(_attribute_fields(a), None)
        obj["values"] = [{"key": key, "name": name} for key, name in a.values]
        rendered.append(obj)
    return {"service_code": service_code, "attributes": rendered}


def service_definition_xml(service_code: str, attributes: Iterable[AttributeDef]) -> bytes:
    """``GET services/{code}.xml``: ``<service_definition>`` with ``<attributes><attribute>…``.

    Each ``<attribute>`` ends with ``<values>`` holding ``<value><key/><name/></value>`` entries
    (empty when it has no choices).
    """
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = _xml_text(service_code, None)
    attrs_el = ET.SubElement(root, "attributes")
    for a in _sorted_attributes(attributes):
        attr_el = ET.SubElement(attrs_el, "attribute")
        _xml_fields(attr_el, _attribute_fields(a), None)
        values_el = ET.SubElement(attr_el, "values")
        for key, name in a.values:
            _xml_fields(ET.SubElement(values_el, "value"), [("key", key), ("name", name)], None)
    return _xml_bytes(root)


# --- GET requests / GET requests/{id} -------------------------------------------------------------


def requests_json(requests: Iterable[RequestInfo], *, tz: tzinfo | None = None) -> list[JsonObject]:
    """``GET requests.json`` (and ``requests/{id}.json``, a list of one)."""
    return [_json_object(_request_fields(r), tz) for r in requests]


def requests_xml(requests: Iterable[RequestInfo], *, tz: tzinfo | None = None) -> bytes:
    """``GET requests.xml``: ``<service_requests><request>…</request></service_requests>``."""
    root = ET.Element("service_requests")
    for r in requests:
        _xml_fields(ET.SubElement(root, "request"), _request_fields(r), tz)
    return _xml_bytes(root)


# --- POST requests --------------------------------------------------------------------------------


def created_json(created: Iterable[CreatedRequest]) -> list[JsonObject]:
    """The ``POST requests.json`` answer: a list of one object."""
    return [_json_object(_created_fields(c), None) for c in created]


def created_xml(created: Iterable[CreatedRequest]) -> bytes:
    """The ``POST requests.xml`` answer.

    ``<service_requests><request><service_request_id/><token/><service_notice/><account_id/>``.
    """
    root = ET.Element("service_requests")
    for c in created:
        _xml_fields(ET.SubElement(root, "request"), _created_fields(c), None)
    return _xml_bytes(root)


# --- GET tokens/{token} ---------------------------------------------------------------------------


def tokens_json(tokens: Iterable[RequestToken]) -> list[JsonObject]:
    """``GET tokens/{token}.json``: ``[{"service_request_id", "token"}]``."""
    return [_json_object(_token_fields(t), None) for t in tokens]


def tokens_xml(tokens: Iterable[RequestToken]) -> bytes:
    """``GET tokens/{token}.xml``: ``<service_requests><request><service_request_id/><token/>``."""
    root = ET.Element("service_requests")
    for t in tokens:
        _xml_fields(ET.SubElement(root, "request"), _token_fields(t), None)
    return _xml_bytes(root)


# --- errors ---------------------------------------------------------------------------------------


def errors_json(errors: Iterable[Open311Error]) -> list[JsonObject]:
    """An error answer: ``[{"code": 400, "description": "…"}]``."""
    return [_json_object(_error_fields(e), None) for e in errors]


def errors_xml(errors: Iterable[Open311Error]) -> bytes:
    """An error answer: ``<errors><error><code/><description/></error></errors>``."""
    root = ET.Element("errors")
    for e in errors:
        _xml_fields(ET.SubElement(root, "error"), _error_fields(e), None)
    return _xml_bytes(root)


# --- discovery ------------------------------------------------------------------------------------


def discovery_json(discovery: Discovery, *, tz: tzinfo | None = None) -> JsonObject:
    """``discovery.json``; each endpoint's ``formats`` is a list of MIME types."""
    endpoints: list[JsonValue] = []
    for e in discovery.endpoints:
        obj = _json_object(_endpoint_fields(e), tz)
        obj["formats"] = list(e.formats)
        endpoints.append(obj)
    doc = _json_object(_discovery_fields(discovery), tz)
    doc["endpoints"] = endpoints
    return doc


def discovery_xml(discovery: Discovery, *, tz: tzinfo | None = None) -> bytes:
    """``discovery.xml``: ``<discovery>`` with ``<endpoints><endpoint>…<formats><format/>``."""
    root = ET.Element("discovery")
    _xml_fields(root, _discovery_fields(discovery), tz)
    endpoints_el = ET.SubElement(root, "endpoints")
    for e in discovery.endpoints:
        endpoint_el = ET.SubElement(endpoints_el, "endpoint")
        _xml_fields(endpoint_el, _endpoint_fields(e), tz)
        formats_el = ET.SubElement(endpoint_el, "formats")
        for fmt in e.formats:
            ET.SubElement(formats_el, "format").text = _xml_text(fmt, tz)
    return _xml_bytes(root)


# --- form input -----------------------------------------------------------------------------------

_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")


def _is_empty(value: str | None) -> bool:
    return value is None or not value.strip()


def clean_params(
    params: Mapping[str, str | None] | Iterable[tuple[str, str | None]],
) -> dict[str, str]:
    """Request parameters with empty ones treated as absent.

    A value that is None, empty or only whitespace is dropped; other values are kept unchanged.
    Given pairs with a repeated name, the last non-empty value wins. ``attribute[…]`` fields pass
    through untouched; read them with `parse_attributes`.
    """
    pairs = params.items() if isinstance(params, Mapping) else params
    return {name: value for name, value in pairs if value is not None and not _is_empty(value)}


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
        if _is_empty(value):
            continue
        found.setdefault(code, []).append(value)
    return {
        code: values if code in as_list or len(values) > 1 else values[0] for code, values in found.items()
    }


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _present(value: str | Sequence[str] | None) -> list[str]:
    """The non-empty values of one attribute, as a list."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [v for v in items if not _is_empty(v)]


def validate_attribute_values(
    defs: Iterable[AttributeDef],
    values: Mapping[str, str | Sequence[str]],
    *,
    allow_unknown: bool = False,
) -> list[Open311Error]:
    """Every problem with submitted attribute values, one `Open311Error` (code 400) each.

    Checked per attribute, in `order`: a required input attribute is present; only a
    ``multivaluelist`` takes several values; ``singlevaluelist`` / ``multivaluelist`` values are
    among the allowed keys (one error per bad key); ``number`` values are decimal numbers
    (``12``, ``-3.5``, ``1e3``); ``datetime`` values are ISO-8601 (an offset is optional here).
    Then, unless `allow_unknown`, each submitted code the definition does not know, and each value
    given to an informational (``variable`` false) attribute, is an error too. An empty list means
    the values are acceptable.
    """
    errors: list[Open311Error] = []

    def fail(code: str, problem: str) -> None:
        errors.append(Open311Error(400, f"attribute[{code}] {problem}"))

    known: dict[str, AttributeDef] = {}
    for d in _sorted_attributes(defs):
        known[d.code] = d
        if not d.variable:
            continue
        given = _present(values.get(d.code))
        if not given:
            if d.required:
                detail = f" ({d.description})" if d.description else ""
                fail(d.code, f"is required{detail}")
            continue
        if len(given) > 1 and d.datatype != "multivaluelist":
            fail(d.code, f"takes a single value, got {len(given)}")
            continue
        if d.datatype in LIST_DATATYPES:
            allowed = [key for key, _ in d.values]
            for v in given:
                if v not in allowed:
                    fail(d.code, f"has no choice {v!r}; allowed keys: {', '.join(allowed) or '(none)'}")
        elif d.datatype == "number":
            if not _NUMBER.fullmatch(given[0].strip()):
                fail(d.code, f"must be a number, got {given[0]!r}")
        elif d.datatype == "datetime":
            try:
                parse_datetime(given[0], assume_tz=UTC)
            except ValueError:
                fail(
                    d.code,
                    f"must be an ISO-8601 datetime such as 2026-11-24T21:34:07+08:00, got {given[0]!r}",
                )

    if not allow_unknown:
        for code, value in values.items():
            if not _present(value):
                continue
            definition = known.get(code)
            if definition is None:
                fail(code, "is not defined for this service")
            elif not definition.variable:
                fail(code, "is informational and takes no value")
    return errors
