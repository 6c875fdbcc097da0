"""Each check of `city_validation` against a small, deliberately broken city."""

from __future__ import annotations

from typing import Any

from services.registry.city_validation import (
    Problem,
    ValidationIndex,
    validate_city,
    validate_community_polygon,
    validate_polygon,
    validate_rule,
)
from shared.city import (
    Agency,
    Attribute,
    AttributeValue,
    Backstop,
    Category,
    CityData,
    CityInfo,
    Client,
    Community,
    Department,
    District,
    DutyBlock,
    DutyItem,
    Point,
    Policies,
    Rule,
    ScoringPolicy,
    SlaPolicy,
    Street,
    StreetUnit,
)
from tests.builders import square

# --- builders ----------------------------------------------------------------------------------------


def create_community(
    code: str = "s1-01", *, name: str = "一号社区", households: int = 1000, polygon: list[Point] | None = None
) -> Community:
    return Community(code=code, name=name, households=households, polygon=polygon or square(116.40, 39.90))


def create_units(
    street: str, kinds: tuple[str, ...] = ("office", "enforcement_team", "centre")
) -> list[StreetUnit]:
    return [StreetUnit(code=f"{street}-{kind}", name=f"{street} {kind}", kind=kind) for kind in kinds]


def create_street(
    code: str = "s1",
    *,
    name: str = "一号街道",
    units: list[StreetUnit] | None = None,
    communities: list[Community] | None = None,
    origin: tuple[float, float] = (116.40, 39.90),
) -> Street:
    if communities is None:
        lon, lat = origin
        communities = [
            create_community(f"{code}-01", polygon=square(lon, lat)),
            create_community(f"{code}-02", polygon=square(lon + 0.01, lat)),  # touches the first
        ]
    return Street(
        code=code, name=name, units=create_units(code) if units is None else units, communities=communities
    )


def create_district(
    code: str = "d1", *, streets: list[Street] | None = None, backstop: str | None = None
) -> District:
    return District(
        code=code,
        name=f"{code}区",
        streets=[create_street()] if streets is None else streets,
        backstop=Backstop(code=backstop or f"{code}-backstop", name="兜底专班"),
    )


def create_department(
    code: str = "cgw",
    *,
    kind: str = "city_management",
    parent: str | None = None,
    district: str = "d1",
    serves: list[str] | None = None,
    agencies: list[Agency] | None = None,
) -> Department:
    if agencies is None:
        agencies = [
            Agency(
                code=f"{district}-{code}", name=f"{code} agency", district=district, serves=serves or ["s1"]
            )
        ]
    return Department(code=code, name=f"{code} 部门", kind=kind, parent=parent, agencies=agencies)


def create_category(code: str = "garbage_piling", **kw: Any) -> Category:
    return Category(code=code, name=kw.pop("name", code), **kw)


def create_duty_list(categories: list[str] | None = None) -> list[DutyBlock]:
    items = [DutyItem(code="cm-01", name="街巷环境卫生", categories=categories or ["garbage_piling"])]
    return [DutyBlock(code="city_management", name="城市管理", items=items)]


def create_policies(
    *, sla: dict[str, SlaPolicy] | None = None, scoring: dict[str, float] | None = None
) -> Policies:
    normal = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")
    weights: dict[str, Any] = {
        "response": 0.2,
        "resolution": 0.3,
        "satisfaction": 0.3,
        "on_time": 0.1,
        "street_evaluation": 0.1,
    }
    weights.update(scoring or {})
    return Policies(
        sla=sla if sla is not None else dict.fromkeys(("emergency", "urgent", "normal", "complex"), normal),
        scoring=ScoringPolicy(**weights),
    )


def create_city(
    *,
    districts: list[District] | None = None,
    departments: list[Department] | None = None,
    categories: list[Category] | None = None,
    duty_list: list[DutyBlock] | None = None,
    rules: list[Rule] | None = None,
    policies: Policies | None = None,
    clients: list[Client] | None = None,
) -> CityData:
    """A valid one-district, one-street city; override a part to break it."""
    return CityData(
        city=CityInfo(code="testcity", name="测试市"),
        districts=[create_district()] if districts is None else districts,
        departments=[create_department(), create_department("zjw", kind="housing")]
        if departments is None
        else departments,
        categories=[create_category("garbage_piling"), create_category("heating", urgency="urgent")]
        if categories is None
        else categories,
        duty_list=create_duty_list() if duty_list is None else duty_list,
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="city_management", co=["housing"]),
        ]
        if rules is None
        else rules,
        policies=policies or create_policies(),
        clients=[
            Client(client_id="hotline", kind="hotline", secret="s"),
            Client(client_id="dept-cgw", kind="department", secret="s", department="cgw"),
            Client(client_id="street-s1", kind="street", secret="s", street="s1"),
        ]
        if clients is None
        else clients,
    )


def paths(problems: list[Problem]) -> list[str]:
    return [p.path for p in problems]


# --- the baseline --------------------------------------------------------------------------------


def test_baseline_city_is_valid() -> None:
    assert validate_city(create_city()) == []


# --- codes ---------------------------------------------------------------------------------------


def test_duplicate_street_codes_are_reported() -> None:
    city = create_city(
        districts=[
            create_district(streets=[create_street("s1"), create_street("s1", origin=(116.50, 39.90))])
        ]
    )
    problems = validate_city(city)
    dup = [p for p in problems if "duplicate street code" in p.message]
    assert paths(dup) == ["districts[0].streets[1].code"]
    assert "'s1'" in dup[0].message and "districts[0].streets[0].code" in dup[0].message


def test_duplicate_codes_are_checked_within_a_kind_only() -> None:
    # A department and a category may share a code; two categories may not.
    city = create_city(
        categories=[
            create_category("garbage_piling"),
            create_category("heating"),
            create_category("cgw"),
            create_category("heating", name="又一个"),
        ],
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="city_management"),
            Rule(category="cgw", lead="city_management"),
        ],
    )
    problems = validate_city(city)
    assert problems == [
        Problem("categories[3].code", "duplicate category code 'heating' (first used at categories[1].code)")
    ]


def test_duplicate_client_ids_and_agency_codes_are_reported() -> None:
    city = create_city(
        departments=[
            create_department(),
            create_department(
                "zjw",
                kind="housing",
                agencies=[Agency(code="d1-cgw", name="x", district="d1", serves=["s1"])],
            ),
        ],
        clients=[
            Client(client_id="hotline", kind="hotline", secret="a"),
            Client(client_id="hotline", kind="hotline", secret="b"),
        ],
    )
    assert paths(validate_city(city)) == ["departments[1].agencies[0].code", "clients[1].client_id"]


# --- polygons ------------------------------------------------------------------------------------


def test_unclosed_ring_is_reported() -> None:
    ring = square(116.40, 39.90)[:-1]
    city = create_city(
        districts=[create_district(streets=[create_street(communities=[create_community(polygon=ring)])])]
    )
    problems = validate_city(city)
    assert paths(problems) == ["districts[0].streets[0].communities[0].polygon"]
    assert "not closed" in problems[0].message


def test_self_intersecting_polygon_is_reported() -> None:
    bowtie: list[Point] = [
        (116.40, 39.90),
        (116.41, 39.91),
        (116.41, 39.90),
        (116.40, 39.91),
        (116.40, 39.90),
    ]
    city = create_city(
        districts=[create_district(streets=[create_street(communities=[create_community(polygon=bowtie)])])]
    )
    problems = validate_city(city)
    assert paths(problems) == ["districts[0].streets[0].communities[0].polygon"]
    assert "not valid" in problems[0].message and "Self-intersection" in problems[0].message


def test_degenerate_and_out_of_range_polygons_are_reported() -> None:
    collinear: list[Point] = [(116.40, 39.90), (116.41, 39.90), (116.42, 39.90), (116.40, 39.90)]
    assert [p.message.split(":")[0] for p in validate_polygon(collinear)] == ["polygon is not valid"]
    two_points: list[Point] = [(116.40, 39.90), (116.41, 39.90), (116.41, 39.90), (116.40, 39.90)]
    assert [p.message for p in validate_polygon(two_points)] == ["polygon needs at least 3 distinct points"]
    nan: list[Point] = [(116.40, 39.90), (116.41, 39.90), (116.41, float("nan")), (116.40, 39.90)]
    assert [p.message for p in validate_polygon(nan, path="x")] == [
        "polygon has a coordinate that is not a finite number"
    ]
    assert [p.message for p in validate_polygon(square(200.0, 39.9))] == [
        "polygon point [200.0, 39.9] is outside WGS84 lon/lat range"
    ]
    assert validate_polygon(square(116.4, 39.9)) == []


def test_overlapping_communities_are_reported() -> None:
    a = create_community("s1-01", polygon=square(116.400, 39.900))
    b = create_community("s1-02", polygon=square(116.405, 39.905))  # half inside a
    city = create_city(districts=[create_district(streets=[create_street(communities=[a, b])])])
    problems = validate_city(city)
    assert problems == [
        Problem(
            "districts[0].streets[0].communities[1].polygon",
            "community 's1-02' overlaps community 's1-01' (districts[0].streets[0].communities[0].polygon)",
        )
    ]


def test_communities_of_different_streets_must_not_overlap_either() -> None:
    inner = create_community("s2-01", polygon=square(116.402, 39.902, size=0.002))  # inside s1-01
    city = create_city(
        districts=[
            create_district(streets=[create_street("s1"), create_street("s2", communities=[inner])]),
        ],
        departments=[
            create_department(serves=["s1", "s2"]),
            create_department("zjw", kind="housing", serves=["s1", "s2"]),
        ],
    )
    problems = validate_city(city)
    assert [p.message for p in problems] == [
        "community 's2-01' overlaps community 's1-01' (districts[0].streets[0].communities[0].polygon)"
    ]


def test_communities_touching_at_edges_and_corners_are_accepted() -> None:
    cells = [
        create_community("s1-01", polygon=square(116.40, 39.90)),
        create_community("s1-02", polygon=square(116.41, 39.90)),
        create_community("s1-03", polygon=square(116.41, 39.91)),  # touches s1-01 at a corner only
    ]
    city = create_city(districts=[create_district(streets=[create_street(communities=cells)])])
    assert validate_city(city) == []


def test_new_polygon_is_checked_against_existing_communities() -> None:
    index = ValidationIndex.build(create_city())
    assert validate_community_polygon(square(116.42, 39.90), index) == []  # next to s1-02
    overlapping = validate_community_polygon(square(116.405, 39.90), index, path="body.polygon")
    assert [p.message for p in overlapping] == [
        "polygon overlaps community 's1-01' (districts[0].streets[0].communities[0].polygon)",
        "polygon overlaps community 's1-02' (districts[0].streets[0].communities[1].polygon)",
    ]
    assert paths(overlapping) == ["body.polygon", "body.polygon"]
    # Re-shaping a community may overlap its own old shape.
    assert validate_community_polygon(square(116.401, 39.901, 0.008), index, code="s1-01") == []


# --- references ----------------------------------------------------------------------------------


def test_unknown_agency_district_and_served_street_are_reported() -> None:
    city = create_city(
        departments=[
            create_department(
                agencies=[Agency(code="x-cgw", name="x", district="nowhere", serves=["s1", "s9"])]
            ),
            create_department("zjw", kind="housing"),
        ],
    )
    problems = validate_city(city)
    assert problems == [
        Problem("departments[0].agencies[0].district", "agency 'x-cgw' names unknown district 'nowhere'"),
        Problem("departments[0].agencies[0].serves[1]", "agency 'x-cgw' serves unknown street 's9'"),
    ]


def test_district_agency_serving_another_district_is_reported() -> None:
    city = create_city(
        districts=[
            create_district("d1"),
            create_district("d2", streets=[create_street("s2", origin=(116.5, 39.9))]),
        ],
        departments=[
            create_department(serves=["s1", "s2"]),
            create_department(
                "zjw",
                kind="housing",
                agencies=[
                    Agency(code="d1-zjw", name="x", district="d1", serves=["s1"]),
                    Agency(code="d2-zjw", name="x", district="d2", serves=["s2"]),
                ],
            ),
        ],
    )
    problems = validate_city(city)
    assert paths(problems) == ["departments[0].agencies[0].serves[1]"]
    assert "'s2' of district 'd2'" in problems[0].message


def test_unknown_rule_references_are_reported() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="city_management"),
            Rule(category="no_such", lead="city_management"),
            Rule(category="heating", district="d9", lead="city_management"),
            Rule(category="heating", street="s9", lead="city_management"),
        ]
    )
    problems = validate_city(city)
    assert problems == [
        Problem("rules[2].category", "rule names unknown category 'no_such'"),
        Problem("rules[3].district", "rule names unknown district 'd9'"),
        Problem("rules[4].street", "rule names unknown street 's9'"),
    ]


def test_rule_street_outside_its_district_is_reported() -> None:
    city = create_city(
        districts=[
            create_district("d1"),
            create_district("d2", streets=[create_street("s2", origin=(116.5, 39.9))]),
        ],
        departments=[
            create_department(
                agencies=[
                    Agency(code="d1-cgw", name="x", district="d1", serves=["s1"]),
                    Agency(code="d2-cgw", name="x", district="d2", serves=["s2"]),
                ]
            ),
            create_department(
                "zjw",
                kind="housing",
                agencies=[
                    Agency(code="d1-zjw", name="x", district="d1", serves=["s1"]),
                    Agency(code="d2-zjw", name="x", district="d2", serves=["s2"]),
                ],
            ),
        ],
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="city_management"),
            Rule(category="heating", district="d1", street="s2", lead="housing"),
        ],
    )
    assert validate_city(city) == [Problem("rules[2].street", "street 's2' is in district 'd2', not 'd1'")]


def test_unknown_duty_item_category_is_reported() -> None:
    city = create_city(duty_list=create_duty_list(["garbage_piling", "shared_bike"]))
    assert validate_city(city) == [
        Problem(
            "duty_list[0].items[0].categories[1]", "duty item 'cm-01' lists unknown category 'shared_bike'"
        )
    ]


def test_lead_and_co_kinds_no_department_has_are_reported() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="heating", co=["housing", "gas"]),
        ]
    )
    assert validate_city(city) == [
        Problem("rules[1].lead", "no department has kind 'heating'"),
        Problem("rules[1].co[1]", "no department has kind 'gas'"),
    ]


def test_unknown_client_department_and_street_are_reported() -> None:
    city = create_city(
        clients=[
            Client(client_id="dept-x", kind="department", secret="s", department="x"),
            Client(client_id="street-x", kind="street", secret="s", street="sx"),
            Client(client_id="dept-none", kind="department", secret="s"),
        ]
    )
    assert validate_city(city) == [
        Problem("clients[0].department", "client 'dept-x' names unknown department 'x'"),
        Problem("clients[1].street", "client 'street-x' names unknown street 'sx'"),
        Problem("clients[2].department", "department client 'dept-none' names no department"),
    ]


def test_unknown_department_parent_is_reported() -> None:
    city = create_city(
        departments=[create_department(parent="ghost"), create_department("zjw", kind="housing")]
    )
    assert validate_city(city) == [
        Problem("departments[0].parent", "department 'cgw' has unknown parent 'ghost'")
    ]


def test_department_parent_cycle_is_reported_once() -> None:
    city = create_city(
        departments=[
            create_department("cgw", parent="zjw"),
            create_department("zjw", kind="housing", parent="cgzf"),
            create_department("cgzf", kind="enforcement", parent="cgw"),
            create_department("swj", kind="water", parent="cgw"),  # hangs off the cycle, not part of it
        ]
    )
    assert validate_city(city) == [
        Problem("departments[0].parent", "department parents form a cycle: cgw → zjw → cgzf → cgw")
    ]


def test_department_that_is_its_own_parent_is_a_cycle() -> None:
    city = create_city(
        departments=[create_department(parent="cgw"), create_department("zjw", kind="housing")]
    )
    assert validate_city(city) == [
        Problem("departments[0].parent", "department parents form a cycle: cgw → cgw")
    ]


# --- rules ---------------------------------------------------------------------------------------


def test_rule_sending_off_list_category_to_street_is_refused() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", street_unit_kind="office"),
        ]
    )
    problems = validate_city(city)
    assert paths(problems) == ["rules[1].street_unit_kind"]
    assert "'heating'" in problems[0].message
    assert "not on the street duty list" in problems[0].message


def test_rule_sending_duty_list_category_to_street_is_accepted() -> None:
    index = ValidationIndex.build(create_city())
    assert validate_rule(Rule(category="garbage_piling", street_unit_kind="office"), index) == []


def test_rule_to_a_street_unit_kind_the_street_lacks_is_reported() -> None:
    street = create_street(units=create_units("s1", kinds=("office", "centre")))
    city = create_city(districts=[create_district(streets=[street])])
    assert validate_city(city) == [
        Problem("rules[0].street_unit_kind", "street 's1' has no enforcement_team unit for 'garbage_piling'")
    ]


def test_department_rule_leaving_a_street_without_lead_agency_is_reported() -> None:
    city = create_city(
        districts=[
            create_district(
                streets=[create_street("s1"), create_street("s2", name="二号街道", origin=(116.5, 39.9))]
            )
        ],
        departments=[
            create_department(serves=["s1"]),  # s2 has no city_management agency
            create_department("zjw", kind="housing", serves=["s1", "s2"]),
        ],
    )
    problems = validate_city(city)
    assert paths(problems) == ["rules[1].lead"]
    assert "'s2'" in problems[0].message and "二号街道" in problems[0].message
    assert "'city_management'" in problems[0].message


def test_department_rule_leaving_a_street_without_co_agency_is_reported() -> None:
    city = create_city(
        districts=[create_district(streets=[create_street("s1"), create_street("s2", origin=(116.5, 39.9))])],
        departments=[
            create_department(serves=["s1", "s2"]),
            create_department("zjw", kind="housing", serves=["s2"]),
        ],
    )
    problems = validate_city(city)
    assert problems == [
        Problem("rules[1].co[0]", "no agency of kind 'housing' serves street 's1' (一号街道) for 'heating'")
    ]


def test_narrowed_rule_only_needs_coverage_in_its_scope() -> None:
    districts = [
        create_district("d1"),
        create_district("d2", streets=[create_street("s2", origin=(116.5, 39.9))]),
    ]
    departments = [
        create_department(
            agencies=[
                Agency(code="d1-cgw", name="x", district="d1", serves=["s1"]),
                Agency(code="d2-cgw", name="x", district="d2", serves=["s2"]),
            ]
        ),
        create_department(
            "zjw",
            kind="housing",
            agencies=[
                Agency(code="d1-zjw", name="x", district="d1", serves=["s1"]),
                Agency(code="d2-zjw", name="x", district="d2", serves=["s2"]),
            ],
        ),
        create_department("gaj", kind="public_security", district="d2", serves=["s2"]),
    ]
    in_d2 = Rule(category="heating", district="d2", lead="public_security")
    in_city = Rule(category="heating", lead="public_security")
    index = ValidationIndex.build(create_city(districts=districts, departments=departments))
    assert validate_rule(in_d2, index) == []
    assert validate_rule(Rule(category="heating", street="s2", lead="public_security"), index) == []
    assert validate_rule(in_city, index) == [
        Problem(
            "rule.lead", "no agency of kind 'public_security' serves street 's1' (一号街道) for 'heating'"
        )
    ]


def test_rule_with_both_street_unit_and_lead_is_refused() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team", lead="city_management"),
            Rule(category="heating", lead="city_management"),
        ]
    )
    problems = validate_city(city)
    assert paths(problems) == ["rules[0]"]
    assert "both" in problems[0].message


def test_rule_with_neither_street_unit_nor_lead_is_refused() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", co=["housing"]),
            Rule(category="heating", lead="city_management"),
        ]
    )
    problems = validate_city(city)
    assert paths(problems) == ["rules[0]"]
    assert "neither" in problems[0].message


def test_duplicate_rule_for_the_same_scope_is_reported() -> None:
    city = create_city(
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", lead="city_management"),
            Rule(category="heating", lead="housing"),
            Rule(category="heating", district="d1", lead="housing"),  # a narrower scope is fine
        ]
    )
    problems = validate_city(city)
    assert paths(problems) == ["rules[2]"]
    assert "rules[1]" in problems[0].message


# --- policies ------------------------------------------------------------------------------------


def test_scoring_weights_must_sum_to_one() -> None:
    problems = validate_city(create_city(policies=create_policies(scoring={"response": 0.3})))
    assert paths(problems) == ["policies.scoring"]
    assert "sum to 1.1" in problems[0].message


def test_scoring_weights_within_tolerance_are_accepted() -> None:
    assert validate_city(create_city(policies=create_policies(scoring={"response": 0.2 + 5e-7}))) == []
    assert validate_city(create_city(policies=create_policies(scoring={"response": 0.2 + 5e-6}))) != []


def test_missing_sla_urgency_is_reported() -> None:
    normal = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")
    city = create_city(policies=create_policies(sla={"normal": normal, "urgent": normal, "complex": normal}))
    assert validate_city(city) == [Problem("policies.sla", "SLA policy for urgency 'emergency' is missing")]


# --- categories ----------------------------------------------------------------------------------


def test_list_attribute_without_values_is_reported() -> None:
    attrs = [
        Attribute(code="volume", datatype="singlevaluelist"),
        Attribute(code="size", datatype="number", values=[AttributeValue(key="a", name="A")]),
        Attribute(
            code="kinds",
            datatype="multivaluelist",
            values=[
                AttributeValue(key="a", name="A"),
                AttributeValue(key="a", name="B"),
            ],
        ),
    ]
    city = create_city(
        categories=[create_category("garbage_piling", attributes=attrs), create_category("heating")]
    )
    assert paths(validate_city(city)) == [
        "categories[0].attributes[0].values",
        "categories[0].attributes[1].values",
        "categories[0].attributes[2].values[1].key",
    ]


# --- all at once ---------------------------------------------------------------------------------


def test_all_problems_are_reported_at_once() -> None:
    bowtie: list[Point] = [
        (116.40, 39.90),
        (116.41, 39.91),
        (116.41, 39.90),
        (116.40, 39.91),
        (116.40, 39.90),
    ]
    city = create_city(
        districts=[create_district(streets=[create_street(communities=[create_community(polygon=bowtie)])])],
        departments=[create_department(parent="ghost"), create_department("zjw", kind="housing")],
        rules=[
            Rule(category="garbage_piling", street_unit_kind="enforcement_team"),
            Rule(category="heating", street_unit_kind="office"),
        ],
        policies=create_policies(scoring={"on_time": 0.0}),
    )
    assert paths(validate_city(city)) == [
        "districts[0].streets[0].communities[0].polygon",
        "departments[0].parent",
        "rules[1].street_unit_kind",
        "policies.scoring",
    ]
