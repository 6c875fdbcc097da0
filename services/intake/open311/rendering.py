"""Open311 documents rendered as JSON and XML (pure), one field list per document for both formats.

Conventions, identical in both formats:

* datetimes are ISO-8601 with a numeric UTC offset and whole seconds (``2026-11-24T21:34:07+08:00``),
  shown in their own offset unless a `tz` is passed to the renderer; naive datetimes raise ValueError;
  an `updated_datetime` (what a sync resumes from) has microseconds (``…07.120000+08:00``);
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
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import TypeAlias

from services.intake.open311.documents import (
    AttributeDef,
    CreatedRequest,
    CreatedUpdate,
    Discovery,
    Endpoint,
    Open311Error,
    Precise,
    RequestInfo,
    RequestToken,
    RequestUpdate,
    Resource,
    ServiceInfo,
    format_datetime,
    in_order,
)

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = dict[str, JsonValue]

# --- scalars --------------------------------------------------------------------------------------

Scalar: TypeAlias = str | int | float | bool | datetime | Precise | None
Fields: TypeAlias = list[tuple[str, Scalar]]

_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _keywords(keywords: Sequence[str]) -> str | None:
    cleaned = [k.strip() for k in keywords if k.strip()]
    return ",".join(cleaned) if cleaned else None


def _precise(moment: datetime | None) -> Precise | None:
    return Precise(moment) if moment is not None else None


def _json_scalar(value: Scalar, tz: tzinfo | None) -> JsonValue:
    if isinstance(value, datetime):
        return format_datetime(value, tz)
    if isinstance(value, Precise):
        return format_datetime(value.moment, tz, precise=True)
    return value


def _xml_text(value: Scalar, tz: tzinfo | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value, tz)
    if isinstance(value, Precise):
        return format_datetime(value.moment, tz, precise=True)
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
        ("updated_datetime", _precise(r.updated_datetime)),
        ("expected_datetime", r.expected_datetime),
        ("address", r.address),
        ("address_id", r.address_id),
        ("zipcode", r.zipcode),
        ("lat", r.lat),
        ("long", r.long),
        ("media_url", r.media_url),
    ]


def _update_fields(u: RequestUpdate) -> Fields:
    return [
        ("update_id", u.update_id),
        ("service_request_id", u.service_request_id),
        ("status", u.status),
        ("updated_datetime", Precise(u.updated_datetime)),
        ("description", u.description),
        ("media_url", u.media_url),
        ("external_status_code", u.external_status_code),
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
    return [
        ("changeset", d.changeset),
        ("contact", d.contact),
        ("key_service", d.key_service),
        ("jurisdiction_id", d.jurisdiction_id),
        ("sync", d.sync),
    ]


def _resource_fields(r: Resource) -> Fields:
    return [("path", r.path), ("api_key", r.api_key)]


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
    for a in in_order(attributes):
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
    for a in in_order(attributes):
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


# --- GET / POST servicerequestupdates -------------------------------------------------------------


def updates_json(updates: Iterable[RequestUpdate], *, tz: tzinfo | None = None) -> list[JsonObject]:
    """``GET servicerequestupdates.json``: a list of update objects."""
    return [_json_object(_update_fields(u), tz) for u in updates]


def updates_xml(updates: Iterable[RequestUpdate], *, tz: tzinfo | None = None) -> bytes:
    """``GET servicerequestupdates.xml``: ``<service_request_updates><request_update>…``."""
    root = ET.Element("service_request_updates")
    for u in updates:
        _xml_fields(ET.SubElement(root, "request_update"), _update_fields(u), tz)
    return _xml_bytes(root)


def created_update_json(created: CreatedUpdate) -> list[JsonObject]:
    """The ``POST servicerequestupdates.json`` answer: ``[{"update_id": …}]``."""
    return [{"update_id": created.update_id}]


def created_update_xml(created: CreatedUpdate) -> bytes:
    """The ``POST servicerequestupdates.xml`` answer: ``<service_request_updates><request_update>
    <update_id/>``."""
    root = ET.Element("service_request_updates")
    _xml_fields(ET.SubElement(root, "request_update"), [("update_id", created.update_id)], None)
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
    """``discovery.json``; each endpoint's ``formats`` is a list of MIME types, its ``resources`` a
    list of ``{"path", "methods": [...], "api_key"}``."""
    endpoints: list[JsonValue] = []
    for e in discovery.endpoints:
        obj = _json_object(_endpoint_fields(e), tz)
        obj["formats"] = list(e.formats)
        resources: list[JsonValue] = []
        for r in e.resources:
            resource = _json_object(_resource_fields(r), None)
            resource["methods"] = list(r.methods)
            resources.append(resource)
        obj["resources"] = resources
        endpoints.append(obj)
    doc = _json_object(_discovery_fields(discovery), tz)
    doc["endpoints"] = endpoints
    return doc


def discovery_xml(discovery: Discovery, *, tz: tzinfo | None = None) -> bytes:
    """``discovery.xml``: ``<discovery>`` with ``<endpoints><endpoint>…<formats><format/>`` and
    ``<resources><resource><path/><api_key/><methods><method/>``."""
    root = ET.Element("discovery")
    _xml_fields(root, _discovery_fields(discovery), tz)
    endpoints_el = ET.SubElement(root, "endpoints")
    for e in discovery.endpoints:
        endpoint_el = ET.SubElement(endpoints_el, "endpoint")
        _xml_fields(endpoint_el, _endpoint_fields(e), tz)
        formats_el = ET.SubElement(endpoint_el, "formats")
        for fmt in e.formats:
            ET.SubElement(formats_el, "format").text = _xml_text(fmt, tz)
        resources_el = ET.SubElement(endpoint_el, "resources")
        for r in e.resources:
            resource_el = ET.SubElement(resources_el, "resource")
            _xml_fields(resource_el, _resource_fields(r), None)
            methods_el = ET.SubElement(resource_el, "methods")
            for method in r.methods:
                ET.SubElement(methods_el, "method").text = method
    return _xml_bytes(root)
