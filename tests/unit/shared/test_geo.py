from __future__ import annotations

from shared.geo import Locator
from tests.conftest import tiny_city


def test_point_resolves_to_its_community_street_and_district() -> None:
    place = Locator(tiny_city()).locate(116.415, 39.915)
    assert place is not None
    assert (place.community_code, place.street_code, place.district_code) == ("s2-02", "s2", "d1")


def test_point_outside_every_community_is_none() -> None:
    assert Locator(tiny_city()).locate(117.0, 40.5) is None


def test_community_code_lookup() -> None:
    locator = Locator(tiny_city())
    place = locator.by_code("s1-02")
    assert place is not None and place.street_code == "s1"
    assert locator.by_code("zz") is None
