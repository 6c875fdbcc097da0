"""The tiny test city with the community level: a community duty list, a category on it handed to
the community's committee by a rule, residents and social workers, a sub-area, community clients."""

from __future__ import annotations

from typing import Any

from shared.city import Category, CityData, Client, DutyBlock, DutyItem, Rule, SubArea, load_city
from tests.conftest import TINY_CITY

# s1-01 spans [116.40, 116.41] × [39.90, 39.91].
COURTYARD = [(116.401, 39.901), (116.403, 39.901), (116.403, 39.903), (116.401, 39.903), (116.401, 39.901)]
MEASURES = {
    "s1-01": {"residents": 2_600, "social_workers": 9},
    "s1-02": {"residents": 2_000, "social_workers": 3},  # understaffed: at least 9
    "s2-01": {"residents": 3_300, "social_workers": 10},
    "s2-02": {"residents": 1_400, "social_workers": 9},
}
COMMUNITY_CLIENTS = ("s1-01", "s1-02", "s2-01")


def community_city(*, clients: set[str] | None = None, **changes: Any) -> CityData:
    """The tiny city with the community level (`clients`: keep only these client ids)."""
    city = load_city(TINY_CITY)
    districts = []
    for district in city.districts:
        streets = []
        for street in district.streets:
            communities = [
                c.model_copy(
                    update={
                        **MEASURES[c.code],
                        "sub_areas": [
                            SubArea(code="s1-01-g1", name="一社区第一居民小组"),
                            SubArea(
                                code="s1-01-b1", name="一社区1号院", kind="building_unit", polygon=COURTYARD
                            ),
                        ]
                        if c.code == "s1-01"
                        else [],
                    }
                )
                for c in street.communities
            ]
            streets.append(street.model_copy(update={"communities": communities}))
        districts.append(district.model_copy(update={"streets": streets}))
    every = [
        *city.clients,
        *(
            Client(
                client_id=f"community-{code}",
                kind="community",
                secret=f"demo-community-{code}-secret",
                community=code,
            )
            for code in COMMUNITY_CLIENTS
        ),
    ]
    return city.model_copy(
        update={
            "districts": districts,
            "categories": [
                *city.categories,
                Category(
                    code="neighbor_dispute", name="邻里纠纷", name_en="Neighbour disputes", group="社区"
                ),
            ],
            "community_duty_list": [
                DutyBlock(
                    code="self-governance",
                    name="居民自治",
                    items=[
                        DutyItem(code="cw-01", name="调解居民纠纷", categories=["neighbor_dispute"]),
                        DutyItem(code="cw-02", name="组织居民会议", categories=[]),
                    ],
                )
            ],
            "rules": [*city.rules, Rule(category="neighbor_dispute", community_committee=True)],
            "clients": [c for c in every if clients is None or c.client_id in clients],
            **changes,
        }
    )
