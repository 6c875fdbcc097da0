"""The full-size synthetic city used by benchmarks."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
import shapely

from services.registry.city_data import DEMO_CITY
from services.registry.city_generator import generate_city, grid_rings
from services.registry.city_validation import validate_city
from shared.city import CityData, load_city


@pytest.fixture(scope="module")
def beijing() -> CityData:
    return generate_city("beijing", seed=0)


def test_generated_city_has_beijing_sizes(beijing: CityData) -> None:
    assert len(beijing.districts) == 16
    assert len({d.code for d in beijing.districts}) == 16
    streets = [s for d in beijing.districts for s in d.streets]
    assert len(streets) == 343
    communities = sum(len(s.communities) for s in streets)
    assert 6500 <= communities <= 7500
    agencies = sum(len(dept.agencies) for dept in beijing.departments)
    assert 1300 <= agencies <= 1700
    # the three roles, every department, every street and every district, the demo's communities
    demo_communities = sum(1 for c in load_city(DEMO_CITY).clients if c.kind == "community")
    assert len(beijing.clients) == 3 + len(beijing.departments) + 343 + 16 + demo_communities
    assert Counter(u.kind for u in streets[100].units) == {"office": 6, "enforcement_team": 1, "centre": 3}


def test_generated_city_validates_clean_and_fast(beijing: CityData) -> None:
    started = time.perf_counter()
    problems = validate_city(beijing)
    elapsed = time.perf_counter() - started
    assert problems == []
    assert elapsed < 10, f"validating the full city took {elapsed:.1f}s"


def test_generation_is_quick_and_deterministic(beijing: CityData) -> None:
    started = time.perf_counter()
    again = generate_city("beijing", seed=0)
    assert time.perf_counter() - started < 10
    assert again == beijing
    assert generate_city("beijing", seed=1) != beijing


def test_generated_city_reuses_the_demo_content(beijing: CityData) -> None:
    demo = load_city(DEMO_CITY)
    assert beijing.categories == demo.categories
    assert beijing.duty_list == demo.duty_list
    assert beijing.rules == demo.rules
    assert beijing.policies == demo.policies
    demo_streets = [(s.code, s.name) for d in demo.districts for s in d.streets]
    big_streets = {(s.code, s.name) for d in beijing.districts for s in d.streets}
    assert set(demo_streets) <= big_streets


def test_every_department_serves_every_street(beijing: CityData) -> None:
    streets = {s.code for d in beijing.districts for s in d.streets}
    for dept in beijing.departments:
        assert {s for a in dept.agencies for s in a.serves} == streets, dept.code


def test_small_scale_and_unknown_scale() -> None:
    small = generate_city("small")
    assert [d.code for d in small.districts] == ["dongcheng", "xicheng"]
    assert validate_city(small) == []
    with pytest.raises(ValueError, match="unknown scale"):
        generate_city("atlantis")


def test_grid_rings_tile_without_overlap() -> None:
    rings = grid_rings((116.0, 39.0, 116.1, 39.05), 11, random.Random(3), jitter=0.2)
    polygons = [shapely.Polygon(r) for r in rings]
    assert len(rings) == 11
    assert all(r[0] == r[-1] and p.is_valid and p.area > 0 for r, p in zip(rings, polygons, strict=True))
    for i, a in enumerate(polygons):
        for b in polygons[i + 1 :]:
            assert not a.relate_pattern(b, "T********")
    union = shapely.union_all(polygons)
    minx, miny, maxx, maxy = union.bounds
    assert (minx, miny) == (116.0, 39.0) and maxx == pytest.approx(116.1) and maxy <= 39.05 + 1e-9


def test_generated_communities_spread_as_the_health_report_expects(beijing: CityData) -> None:
    """A few super-communities, a few understaffed committees, most near the standard."""
    from services.registry.structure_health import health

    findings = health(beijing, beijing.policies.structure)
    communities = sum(len(s.communities) for d in beijing.districts for s in d.streets)
    splits = sum(1 for f in findings if f.flag == "super_community")
    understaffed = sum(1 for f in findings if f.measure == "social_workers" and f.flag == "under")
    assert 0.005 * communities < splits < 0.05 * communities
    assert 0.01 * communities < understaffed < 0.1 * communities
