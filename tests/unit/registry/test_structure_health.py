"""The structure's health: the reform's size standards as bands (policy, not constants)."""

from __future__ import annotations

import pytest

from services.registry.city_validation import validate_city
from services.registry.structure_health import health, outside, ring_area_km2, worker_band
from shared.city import Band, CityData, Community, StructurePolicy
from tests.community_city import COURTYARD, community_city

POLICY = StructurePolicy(core_districts=["d1"])


def create_city(*, households: int = 2_000, residents: int = 6_000, workers: int = 15) -> CityData:
    """The tiny community city with s1-01's measures set (and every other community healthy)."""
    city = community_city()
    districts = []
    for district in city.districts:
        streets = []
        for street in district.streets:
            communities = [
                c.model_copy(
                    update={"households": households, "residents": residents, "social_workers": workers}
                    if c.code == "s1-01"
                    else {"households": 1_000, "residents": 2_500, "social_workers": 9}
                )
                for c in street.communities
            ]
            streets.append(street.model_copy(update={"communities": communities}))
        districts.append(district.model_copy(update={"streets": streets}))
    return city.model_copy(update={"districts": districts})


def community_findings(
    city: CityData, policy: StructurePolicy = StructurePolicy()
) -> list[tuple[str, str, str]]:
    return [(f.code, f.measure, f.flag) for f in health(city, policy) if f.level == "community"]


def test_a_community_of_the_standard_size_is_healthy() -> None:
    assert community_findings(create_city()) == []


def test_a_community_over_3000_households_or_9000_residents_is_over_the_band() -> None:
    assert community_findings(create_city(households=3_600, residents=9_900, workers=27)) == [
        ("s1-01", "households", "over"),
        ("s1-01", "residents", "over"),
    ]


def test_over_5000_households_is_a_super_community_to_split() -> None:
    (finding,) = [
        f
        for f in health(create_city(households=6_000, workers=45), StructurePolicy())
        if f.measure == "households"
    ]
    assert (finding.flag, finding.band.max, finding.off_by) == ("super_community", 5_000, 0.2)
    assert "split" in finding.standard


def test_social_workers_at_least_nine_and_one_per_110_to_150_households() -> None:
    assert worker_band(600, StructurePolicy()) == Band(min=9, max=9)
    assert worker_band(2_000, StructurePolicy()) == Band(min=14, max=18)
    assert community_findings(create_city(workers=8)) == [("s1-01", "social_workers", "under")]
    assert community_findings(create_city(workers=25)) == [("s1-01", "social_workers", "over")]


def test_a_street_in_a_core_district_needs_50000_to_100000_residents_and_2_km2() -> None:
    streets = [(f.code, f.measure, f.flag) for f in health(create_city(), POLICY) if f.level == "street"]
    assert streets == [  # residents 5,000 and 8,500; each street two communities of ~0.95 km²
        ("s2", "residents", "under"),
        ("s1", "residents", "under"),
        ("s2", "area_km2", "under"),  # a little further north: a little smaller
        ("s1", "area_km2", "under"),
    ]


def test_a_street_elsewhere_may_have_up_to_150000_residents() -> None:
    assert [f for f in health(create_city(), StructurePolicy()) if f.level == "street"] == []
    tight = StructurePolicy(street_residents=Band(max=5_000))
    (finding,) = [f for f in health(create_city(), tight) if f.level == "street"]
    assert (finding.code, finding.value, finding.flag) == ("s1", 8_500, "over")


def test_findings_come_furthest_out_first() -> None:
    found = health(create_city(households=3_300, residents=9_000, workers=10), POLICY)
    assert [f.off_by for f in found] == sorted((f.off_by for f in found), reverse=True)


def test_a_measure_not_recorded_is_not_judged() -> None:
    city = create_city()
    unrecorded = city.model_copy(
        update={
            "districts": [
                d.model_copy(
                    update={
                        "streets": [
                            s.model_copy(
                                update={
                                    "communities": [
                                        c.model_copy(update={"residents": None, "social_workers": None})
                                        for c in s.communities
                                    ]
                                }
                            )
                            for s in d.streets
                        ]
                    }
                )
                for d in city.districts
            ]
        }
    )
    assert [f.measure for f in health(unrecorded, POLICY)] == ["area_km2", "area_km2"]


@pytest.mark.parametrize(
    ("value", "band", "expected"),
    [
        (120, Band(max=100), ("over", 0.2)),
        (40, Band(min=50), ("under", 0.2)),
        (75, Band(min=50, max=100), None),
    ],
)
def test_how_far_outside_a_band(value: float, band: Band, expected: tuple[str, float] | None) -> None:
    assert outside(value, band) == expected


def test_a_community_polygon_of_0_01_degrees_near_beijing_is_about_a_square_kilometre() -> None:
    ring = [(116.40, 39.90), (116.41, 39.90), (116.41, 39.91), (116.40, 39.91), (116.40, 39.90)]
    assert ring_area_km2(ring) == pytest.approx(0.95, abs=0.01)


def test_sub_areas_lie_inside_their_community() -> None:
    assert validate_city(community_city()) == []
    outside_ring = [(116.5, 39.9), (116.51, 39.9), (116.51, 39.91), (116.5, 39.91), (116.5, 39.9)]
    city = community_city()
    bad = city.model_copy(
        update={
            "districts": [
                d.model_copy(
                    update={
                        "streets": [
                            s.model_copy(
                                update={
                                    "communities": [
                                        _moved_sub_area(c, outside_ring) if c.code == "s1-01" else c
                                        for c in s.communities
                                    ]
                                }
                            )
                            for s in d.streets
                        ]
                    }
                )
                for d in city.districts
            ]
        }
    )
    problems = validate_city(bad)
    assert [p.path for p in problems] == ["districts[0].streets[0].communities[0].sub_areas[1].polygon"]
    assert "not inside community 's1-01'" in problems[0].message
    assert COURTYARD  # the courtyard of the tiny city is inside s1-01


def _moved_sub_area(community: Community, ring: list[tuple[float, float]]) -> Community:
    first, second = community.sub_areas
    return community.model_copy(update={"sub_areas": [first, second.model_copy(update={"polygon": ring})]})
