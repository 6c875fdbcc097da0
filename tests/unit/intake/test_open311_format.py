from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.open311.attribute_values import validate_attribute_values
from services.intake.open311.documents import (
    SPECIFICATION_URL,
    AttributeDef,
    CreatedRequest,
    Discovery,
    Endpoint,
    Open311Error,
    RequestInfo,
    RequestToken,
    ServiceInfo,
    format_datetime,
    parse_datetime,
)
from services.intake.open311.forms import clean_params, parse_attributes
from services.intake.open311.rendering import (
    XML_DECLARATION,
    created_json,
    created_xml,
    discovery_json,
    discovery_xml,
    errors_json,
    errors_xml,
    requests_json,
    requests_xml,
    service_definition_json,
    service_definition_xml,
    services_json,
    services_xml,
    tokens_json,
    tokens_xml,
)

CST = timezone(timedelta(hours=8))
WHEN = datetime(2026, 11, 24, 21, 34, 7, 123456, tzinfo=CST)

POTHOLE = ServiceInfo(
    code="SZ-001",
    name="道路坑洼",
    description="路面坑洼、破损 🚧",
    metadata=True,
    type="realtime",
    keywords=["道路", "坑洼", " ", "pothole"],
    group="市政设施",
)
NOISE = ServiceInfo(code="SZ-002", name="夜间施工噪音", description=None, metadata=False, type="batch")

ATTRS = [
    AttributeDef(
        variable=True,
        code="SIDES",
        datatype="multivaluelist",
        required=True,
        datatype_description=None,
        order=3,
        description="哪一侧？",
        values=[("N", "北侧"), ("S", "南侧"), ("E", "东侧")],
    ),
    AttributeDef(
        variable=True,
        code="SIZE",
        datatype="singlevaluelist",
        required=True,
        datatype_description="选一个",
        order=1,
        description="坑有多大？",
        values=[("small", "小"), ("large", "大")],
    ),
    AttributeDef(
        variable=True, code="DEPTH", datatype="number", required=False, order=2, description="深度（厘米）"
    ),
    AttributeDef(
        variable=True, code="SEEN", datatype="datetime", required=False, order=4, description="发现时间"
    ),
    AttributeDef(
        variable=True, code="NOTE", datatype="string", required=True, order=5, description="补充说明"
    ),
    AttributeDef(
        variable=False, code="INFO", datatype="text", required=False, order=0, description="请注意安全"
    ),
]

REQUEST = RequestInfo(
    service_request_id="WH-20261124-0001",
    status="open",
    status_notes=None,
    service_name="道路坑洼",
    service_code="SZ-001",
    description="东城区 王府井大街 有个大坑 😡",
    agency_responsible="东城区城管委",
    service_notice=None,
    requested_datetime=WHEN,
    updated_datetime=datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
    expected_datetime=None,
    address="北京市东城区王府井大街 1 号",
    address_id=None,
    zipcode="100006",
    lat=39.9139,
    long=116.4103,
    media_url=None,
)


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(XML_DECLARATION)
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(xml)


def children(el: ET.Element) -> list[str]:
    return [c.tag for c in el]


def json_round_trip(value: object) -> object:
    for ensure_ascii in (True, False):
        text = json.dumps(value, ensure_ascii=ensure_ascii)
        assert json.loads(text) == value
    return json.loads(json.dumps(value, ensure_ascii=False).encode("utf-8"))


# --- formatting basics ----------------------------------------------------------------------------


def test_format_datetime_uses_offset_and_whole_seconds() -> None:
    assert format_datetime(WHEN) == "2026-11-24T21:34:07+08:00"
    assert format_datetime(datetime(2026, 11, 24, 13, 34, 7, tzinfo=UTC), CST) == "2026-11-24T21:34:07+08:00"
    assert format_datetime(datetime(2026, 11, 24, 13, 34, 7, tzinfo=UTC)) == "2026-11-24T13:34:07+00:00"
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 11, 24, 21, 34, 7))


def test_parse_datetime() -> None:
    assert parse_datetime("2026-11-24T21:34:07+08:00") == WHEN.replace(microsecond=0)
    assert parse_datetime("2026-11-24T13:34:07Z") == WHEN.replace(microsecond=0)
    assert parse_datetime("2026-11-24T21:34:07", assume_tz=CST) == WHEN.replace(microsecond=0)
    with pytest.raises(ValueError, match="no time zone"):
        parse_datetime("2026-11-24T21:34:07")
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_datetime("yesterday")


# --- GET services ---------------------------------------------------------------------------------


def test_services_xml_round_trip() -> None:
    root = parse(services_xml([POTHOLE, NOISE]))
    assert root.tag == "services"
    assert children(root) == ["service", "service"]
    first, second = root
    assert children(first) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert first.findtext("service_code") == "SZ-001"
    assert first.findtext("service_name") == "道路坑洼"
    assert first.findtext("description") == "路面坑洼、破损 🚧"
    assert first.findtext("metadata") == "true"
    assert first.findtext("type") == "realtime"
    assert first.findtext("keywords") == "道路,坑洼,pothole"
    assert first.findtext("group") == "市政设施"
    assert second.findtext("metadata") == "false"
    assert second.findtext("type") == "batch"
    # None fields are present but empty
    for tag in ("description", "keywords", "group"):
        el = second.find(tag)
        assert el is not None
        assert el.text is None
        assert len(el) == 0


def test_services_json() -> None:
    doc = services_json([POTHOLE, NOISE])
    assert doc == [
        {
            "service_code": "SZ-001",
            "service_name": "道路坑洼",
            "description": "路面坑洼、破损 🚧",
            "metadata": True,
            "type": "realtime",
            "keywords": "道路,坑洼,pothole",
            "group": "市政设施",
        },
        {
            "service_code": "SZ-002",
            "service_name": "夜间施工噪音",
            "description": None,
            "metadata": False,
            "type": "batch",
            "keywords": None,
            "group": None,
        },
    ]
    assert json_round_trip(doc) == doc


def test_empty_service_list() -> None:
    assert services_json([]) == []
    root = parse(services_xml([]))
    assert root.tag == "services"
    assert len(root) == 0


# --- GET services/{code} --------------------------------------------------------------------------


def test_service_definition_xml_round_trip() -> None:
    root = parse(service_definition_xml("SZ-001", ATTRS))
    assert root.tag == "service_definition"
    assert children(root) == ["service_code", "attributes"]
    assert root.findtext("service_code") == "SZ-001"
    attrs = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == ["INFO", "SIZE", "DEPTH", "SIDES", "SEEN", "NOTE"]
    size = attrs[1]
    assert children(size) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert size.findtext("variable") == "true"
    assert size.findtext("datatype") == "singlevaluelist"
    assert size.findtext("required") == "true"
    assert size.findtext("datatype_description") == "选一个"
    assert size.findtext("order") == "1"
    assert size.findtext("description") == "坑有多大？"
    assert [(v.findtext("key"), v.findtext("name")) for v in size.findall("values/value")] == [
        ("small", "小"),
        ("large", "大"),
    ]
    info = attrs[0]
    assert info.findtext("variable") == "false"
    assert info.findtext("required") == "false"
    values = info.find("values")
    assert values is not None and len(values) == 0
    datatype_description = info.find("datatype_description")
    assert datatype_description is not None and datatype_description.text is None


def test_service_definition_json() -> None:
    doc = service_definition_json("SZ-001", ATTRS)
    assert doc["service_code"] == "SZ-001"
    attributes = doc["attributes"]
    assert isinstance(attributes, list)
    assert [a["code"] for a in attributes if isinstance(a, dict)] == [
        "INFO",
        "SIZE",
        "DEPTH",
        "SIDES",
        "SEEN",
        "NOTE",
    ]
    assert attributes[3] == {
        "variable": True,
        "code": "SIDES",
        "datatype": "multivaluelist",
        "required": True,
        "datatype_description": None,
        "order": 3,
        "description": "哪一侧？",
        "values": [{"key": "N", "name": "北侧"}, {"key": "S", "name": "南侧"}, {"key": "E", "name": "东侧"}],
    }
    assert json_round_trip(doc) == doc


# --- GET requests ---------------------------------------------------------------------------------

REQUEST_TAGS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def test_requests_xml_round_trip() -> None:
    root = parse(requests_xml([REQUEST]))
    assert root.tag == "service_requests"
    (req,) = root.findall("request")
    assert children(req) == REQUEST_TAGS
    assert req.findtext("service_request_id") == "WH-20261124-0001"
    assert req.findtext("status") == "open"
    assert req.findtext("description") == "东城区 王府井大街 有个大坑 😡"
    assert req.findtext("requested_datetime") == "2026-11-24T21:34:07+08:00"
    assert req.findtext("updated_datetime") == "2026-11-24T14:00:00.000000+00:00"  # a sync point: exact
    assert req.findtext("lat") == "39.9139"
    assert req.findtext("long") == "116.4103"
    for tag in ("status_notes", "service_notice", "expected_datetime", "address_id", "media_url"):
        el = req.find(tag)
        assert el is not None and el.text is None, tag


def test_requests_xml_in_a_chosen_zone() -> None:
    req = parse(requests_xml([REQUEST], tz=CST))[0]
    assert req.findtext("updated_datetime") == "2026-11-24T22:00:00.000000+08:00"


def test_requests_json() -> None:
    (doc,) = requests_json([REQUEST])
    assert list(doc) == REQUEST_TAGS
    assert doc["requested_datetime"] == "2026-11-24T21:34:07+08:00"
    assert doc["expected_datetime"] is None
    assert doc["lat"] == 39.9139
    assert doc["description"] == "东城区 王府井大街 有个大坑 😡"
    assert requests_json([REQUEST], tz=CST)[0]["updated_datetime"] == "2026-11-24T22:00:00.000000+08:00"
    assert json_round_trip([doc]) == [doc]


def test_naive_request_datetime_is_rejected() -> None:
    naive = RequestInfo("1", "closed", requested_datetime=datetime(2026, 11, 24, 21, 34, 7))
    with pytest.raises(ValueError, match="naive"):
        requests_xml([naive])
    with pytest.raises(ValueError, match="naive"):
        requests_json([naive])


def test_xml_escapes_markup_and_drops_illegal_characters() -> None:
    nasty = RequestInfo("2", "open", description="a < b & c > d \"q\" 'q'\x00\x07\x1f\ufffe end\ttab\r\n]]>")
    req = parse(requests_xml([nasty]))[0]
    assert req.findtext("description") == "a < b & c > d \"q\" 'q' end\ttab\r\n]]>"
    # JSON keeps every character
    assert requests_json([nasty])[0]["description"] == nasty.description


# --- POST requests / tokens -----------------------------------------------------------------------


def test_created_xml_and_json() -> None:
    created = CreatedRequest(service_request_id="WH-1", token=None, service_notice="预计 3 个工作日内处理")
    root = parse(created_xml([created]))
    assert root.tag == "service_requests"
    (req,) = root.findall("request")
    assert children(req) == ["service_request_id", "token", "service_notice", "account_id"]
    assert req.findtext("service_request_id") == "WH-1"
    assert req.findtext("service_notice") == "预计 3 个工作日内处理"
    token, account = req.find("token"), req.find("account_id")
    assert token is not None and token.text is None
    assert account is not None and account.text is None
    assert created_json([created]) == [
        {
            "service_request_id": "WH-1",
            "token": None,
            "service_notice": "预计 3 个工作日内处理",
            "account_id": None,
        }
    ]


def test_tokens_xml_and_json() -> None:
    tokens = [RequestToken("tok-1", "WH-1"), RequestToken("tok-2")]
    root = parse(tokens_xml(tokens))
    assert root.tag == "service_requests"
    assert [children(r) for r in root] == [["service_request_id", "token"]] * 2
    assert [(r.findtext("service_request_id"), r.findtext("token")) for r in root] == [
        ("WH-1", "tok-1"),
        ("", "tok-2"),
    ]
    assert tokens_json(tokens) == [
        {"service_request_id": "WH-1", "token": "tok-1"},
        {"service_request_id": None, "token": "tok-2"},
    ]


# --- errors ---------------------------------------------------------------------------------------


def test_errors_xml_and_json() -> None:
    errs = [Open311Error(400, "attribute[SIZE] is required"), Open311Error(403, "api_key 无效")]
    root = parse(errors_xml(errs))
    assert root.tag == "errors"
    assert [children(e) for e in root] == [["code", "description"]] * 2
    assert [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")] == [
        ("400", "attribute[SIZE] is required"),
        ("403", "api_key 无效"),
    ]
    assert errors_json(errs) == [
        {"code": 400, "description": "attribute[SIZE] is required"},
        {"code": 403, "description": "api_key 无效"},
    ]


# --- discovery ------------------------------------------------------------------------------------

DISCOVERY = Discovery(
    changeset=datetime(2026, 11, 1, 8, 0, tzinfo=CST),
    contact="拨打 12345 或发邮件 open311@example.gov.cn",
    key_service="https://example.gov.cn/open311/keys",
    endpoints=[
        Endpoint(
            specification=SPECIFICATION_URL,
            url="https://example.gov.cn/open311/v2",
            changeset=datetime(2026, 11, 20, 9, 30, tzinfo=CST),
            type="production",
            formats=["text/xml", "application/json"],
        ),
        Endpoint(
            specification=SPECIFICATION_URL,
            url="https://test.example.gov.cn/open311/v2",
            changeset=datetime(2026, 11, 21, 9, 30, tzinfo=CST),
            type="test",
            formats=["application/json"],
        ),
    ],
)


def test_discovery_xml_round_trip() -> None:
    root = parse(discovery_xml(DISCOVERY))
    assert root.tag == "discovery"
    assert children(root) == ["changeset", "contact", "key_service", "jurisdiction_id", "sync", "endpoints"]
    assert root.findtext("changeset") == "2026-11-01T08:00:00+08:00"
    assert root.findtext("contact") == "拨打 12345 或发邮件 open311@example.gov.cn"
    endpoints = root.findall("endpoints/endpoint")
    assert len(endpoints) == 2
    assert children(endpoints[0]) == ["specification", "url", "changeset", "type", "formats", "resources"]
    assert endpoints[0].findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoints[0].findtext("type") == "production"
    assert [f.text for f in endpoints[0].findall("formats/format")] == ["text/xml", "application/json"]
    assert [f.text for f in endpoints[1].findall("formats/format")] == ["application/json"]


def test_discovery_json() -> None:
    doc = discovery_json(DISCOVERY, tz=UTC)
    assert doc["changeset"] == "2026-11-01T00:00:00+00:00"
    assert doc["key_service"] == "https://example.gov.cn/open311/keys"
    endpoints = doc["endpoints"]
    assert isinstance(endpoints, list)
    assert endpoints[1] == {
        "specification": SPECIFICATION_URL,
        "url": "https://test.example.gov.cn/open311/v2",
        "changeset": "2026-11-21T01:30:00+00:00",
        "type": "test",
        "formats": ["application/json"],
        "resources": [],
    }
    assert json_round_trip(doc) == doc


# --- unicode property -----------------------------------------------------------------------------

XML_SAFE_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_characters="\ufffe\uffff",
        min_codepoint=0x20,
    )
    | st.sampled_from(["\t", "\n", "\r", "中", "国", "🚧", "😡", "&", "<", "]", ">"]),
    min_size=1,
)


@given(text=XML_SAFE_TEXT)
def test_any_text_survives_xml_and_json(text: str) -> None:
    req = RequestInfo("x", "open", description=text, address=text)
    parsed = parse(requests_xml([req]))[0]
    assert parsed.findtext("description") == text
    assert parsed.findtext("address") == text
    assert json_round_trip(requests_json([req]))[0]["description"] == text  # type: ignore[index]


# --- form input -----------------------------------------------------------------------------------


def test_parse_attributes_multivaluelist_from_repeated_brackets() -> None:
    form = [
        ("service_code", "SZ-001"),
        ("attribute[SIDES][]", "N"),
        ("attribute[SIZE]", "large"),
        ("attribute[SIDES][]", "E"),
        ("attribute[NOTE]", "靠近地铁口 🚇"),
        ("attribute[ONE][]", "only"),
        ("attribute[REPEAT]", "a"),
        ("attribute[REPEAT]", "b"),
        ("attribute[EMPTY]", ""),
        ("attribute[BLANKS][]", "  "),
        ("attribute[SIDES][]", ""),
        ("attribute[]", "nameless"),
        ("attribute[A][B]", "nested"),
        ("attributes[X]", "typo"),
        ("lat", "39.9"),
    ]
    assert parse_attributes(form) == {
        "SIDES": ["N", "E"],
        "SIZE": "large",
        "NOTE": "靠近地铁口 🚇",
        "ONE": ["only"],
        "REPEAT": ["a", "b"],
    }


def test_clean_params_drops_empty_values() -> None:
    params = {
        "service_code": "SZ-001",
        "lat": "",
        "long": "   ",
        "address_string": "王府井大街",
        "email": None,
        "description": " 有坑 ",
    }
    assert clean_params(params) == {
        "service_code": "SZ-001",
        "address_string": "王府井大街",
        "description": " 有坑 ",
    }
    pairs = [("status", "open"), ("status", ""), ("service_code", "a"), ("service_code", "b")]
    assert clean_params(pairs) == {"status": "open", "service_code": "b"}
    assert clean_params({}) == {}


# --- validation -----------------------------------------------------------------------------------


def test_valid_attributes_pass() -> None:
    values = {
        "SIDES": ["N", "E"],
        "SIZE": "large",
        "DEPTH": "12.5",
        "SEEN": "2026-11-24T21:34:07+08:00",
        "NOTE": "靠近地铁口",
    }
    assert validate_attribute_values(ATTRS, values) == []
    assert (
        validate_attribute_values(ATTRS, {**values, "SIDES": "S", "DEPTH": "-3e2", "SEEN": "2026-11-24"})
        == []
    )


def test_every_validation_error_is_reported_at_once() -> None:
    values: dict[str, str | list[str]] = {
        "SIDES": ["N", "W", "UP"],  # two bad keys
        "SIZE": ["small", "large"],  # several values for a single-valued list
        "DEPTH": "十厘米",  # not a number
        "SEEN": "昨天晚上",  # not a datetime
        # NOTE missing although required
        "INFO": "something",  # informational attribute
        "COLOUR": "red",  # unknown attribute
    }
    errors = validate_attribute_values(ATTRS, values)
    assert all(isinstance(e, Open311Error) and e.code == 400 for e in errors)
    descriptions = [e.description for e in errors]
    assert len(descriptions) == 8, descriptions
    assert descriptions[0].startswith("attribute[SIZE] takes a single value")
    assert descriptions[1].startswith("attribute[DEPTH] must be a number")
    assert "'W'" in descriptions[2] and descriptions[2].startswith("attribute[SIDES]")
    assert "'UP'" in descriptions[3] and descriptions[3].startswith("attribute[SIDES]")
    assert descriptions[4].startswith("attribute[SEEN] must be an ISO-8601 datetime")
    assert descriptions[5] == "attribute[NOTE] is required (补充说明)"
    assert descriptions[6] == "attribute[INFO] is informational and takes no value"
    assert descriptions[7] == "attribute[COLOUR] is not defined for this service"


def test_missing_required_attributes_and_single_value_choices() -> None:
    errors = validate_attribute_values(ATTRS, {"SIZE": "huge", "SIDES": [], "NOTE": "  "})
    assert [e.description for e in errors] == [
        "attribute[SIZE] has no choice 'huge'; allowed keys: small, large",
        "attribute[SIDES] is required (哪一侧？)",
        "attribute[NOTE] is required (补充说明)",
    ]


def test_unknown_attributes_can_be_allowed() -> None:
    values = {"SIDES": "N", "SIZE": "small", "NOTE": "x", "COLOUR": "red", "INFO": "y"}
    assert validate_attribute_values(ATTRS, values, allow_unknown=True) == []
    assert len(validate_attribute_values(ATTRS, values)) == 2


@pytest.mark.parametrize("number", ["0", "12", "-3.5", "+4", ".5", "5.", "1e3", "2.5E-2", " 7 "])
def test_numbers_accepted(number: str) -> None:
    defs = [AttributeDef(True, "N", "number", True)]
    assert validate_attribute_values(defs, {"N": number}) == []


@pytest.mark.parametrize("number", ["nan", "inf", "1_000", "0x10", "1,5", "--1", "e3", "１２"])
def test_numbers_rejected(number: str) -> None:
    defs = [AttributeDef(True, "N", "number", True)]
    assert len(validate_attribute_values(defs, {"N": number})) == 1


def test_form_to_validation_pipeline() -> None:
    form = [("attribute[SIDES][]", "N"), ("attribute[SIDES][]", "S"), ("attribute[SIZE]", "small")]
    form += [("attribute[NOTE]", "有积水"), ("attribute[DEPTH]", "")]
    assert validate_attribute_values(ATTRS, parse_attributes(form)) == []
