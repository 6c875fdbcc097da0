"""A deterministic full-size synthetic city for benchmarks.

`generate_city("beijing")` builds a city the size of Beijing: 16 districts, 343 streets (the real
number of streets, townships and areas per district), 7,000 communities and about 1,500 agencies.
Geography is synthetic: the districts are laid out as a 4×4 grid over the Beijing area (roughly
where they are on the map), each district's streets as a grid inside it and each street's
communities as a grid of slightly irregular quadrilaterals inside the street, so no two community
polygons overlap. Each community's households, residents and social workers follow
`community_measures`: most near the 2,000-household standard, a few super-communities, a few
understaffed committees, so `GET /v1/structure/health` has something to say.

Everything else comes from the demo city (`data/demo_city/`): its categories, duty list, rules,
policies and calendar as they are; its street units and departments as templates (each street gets
the demo street's units, each district an agency per department named like the demo's). The demo's
streets keep their codes and names as the first streets of 东城区 and 西城区, so the demo's
district- and street-narrowed rules and clients stay meaningful.

    python -m services.registry.city_generator [scale] [seed] > city.yaml
"""

from __future__ import annotations

import functools
import math
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from services.registry.city_data import DEMO_CITY
from shared.city import CityData, Department, Point, Street, load_city

Box = tuple[float, float, float, float]
"""(lon_min, lat_min, lon_max, lat_max)."""

COORD_DIGITS = 6


class DistrictSpec(NamedTuple):
    code: str
    prefix: str  # what its agencies' and new streets' codes start with
    name: str
    streets: int
    rural_share: float  # the share of its streets that are townships or areas


# The 16 districts with their real number of streets, townships and areas (343 in all).
BEIJING_DISTRICTS: list[DistrictSpec] = [
    DistrictSpec("dongcheng", "dc", "东城区", 17, 0.0),
    DistrictSpec("xicheng", "xc", "西城区", 15, 0.0),
    DistrictSpec("chaoyang", "cy", "朝阳区", 43, 0.45),
    DistrictSpec("haidian", "hd", "海淀区", 29, 0.25),
    DistrictSpec("fengtai", "ft", "丰台区", 26, 0.3),
    DistrictSpec("shijingshan", "sjs", "石景山区", 9, 0.0),
    DistrictSpec("mentougou", "mtg", "门头沟区", 13, 0.7),
    DistrictSpec("fangshan", "fs", "房山区", 28, 0.7),
    DistrictSpec("tongzhou", "tz", "通州区", 22, 0.6),
    DistrictSpec("shunyi", "sy", "顺义区", 25, 0.7),
    DistrictSpec("changping", "cp", "昌平区", 22, 0.6),
    DistrictSpec("daxing", "dx", "大兴区", 22, 0.6),
    DistrictSpec("huairou", "hr", "怀柔区", 16, 0.8),
    DistrictSpec("pinggu", "pg", "平谷区", 18, 0.8),
    DistrictSpec("miyun", "my", "密云区", 20, 0.8),
    DistrictSpec("yanqing", "yq", "延庆区", 18, 0.8),
]


@dataclass(frozen=True)
class Scale:
    districts: int
    communities: int


SCALES: dict[str, Scale] = {
    "beijing": Scale(districts=16, communities=7000),
    "small": Scale(districts=2, communities=650),
}

# Field stations that some departments run below district level: department kind → (name suffix,
# streets per station). Each station serves a run of neighbouring streets of its district.
STATIONS: dict[str, tuple[str, int]] = {
    "public_security": ("派出所", 1),
    "market_regulation": ("市场监管所", 1),
    "power": ("供电所", 2),
    "heating": ("供热站", 2),
    "gas": ("燃气服务站", 3),
    "water_supply": ("供水服务站", 3),
}

# The area the district grid is laid over.
CITY_BOX: Box = (115.90, 39.60, 117.10, 40.60)
# Where each district sits in a 4×4 grid over CITY_BOX, rows from the south, roughly as on the map.
DISTRICT_LAYOUT: list[list[str]] = [
    ["fangshan", "fengtai", "daxing", "tongzhou"],
    ["shijingshan", "xicheng", "dongcheng", "chaoyang"],
    ["mentougou", "haidian", "shunyi", "pinggu"],
    ["yanqing", "changping", "huairou", "miyun"],
]

_NAME_CHARS = "东西南北安和平兴华光明新长永宁福德泰康青山河湖桥园林庄营台口门里金银花松柏桃李杨柳龙凤天坛马驹"
_PLACE_SUFFIXES = ["东里", "西里", "南里", "北里", "家园", "花园", "新村", "苑", "北街", "南街", "胡同", "路"]


def grid_rings(
    box: Box, count: int, rng: random.Random | None, *, jitter: float = 0.15, digits: int = COORD_DIGITS
) -> list[list[Point]]:
    """`count` non-overlapping quadrilaterals tiling (part of) `box`, row by row from the south-west.

    The box is cut into a grid of about square shape; with `rng`, the grid's inner vertices are
    moved by up to `jitter` of a cell's width/height (keep it below 0.25 so every cell stays convex).
    Neighbouring cells share their vertices exactly, so they touch along edges and never overlap; the
    box's outline stays straight, so rings in different boxes do not overlap either. Rings are closed
    and counter-clockwise.
    """
    if count <= 0:
        return []
    lon0, lat0, lon1, lat1 = box
    width, height = lon1 - lon0, lat1 - lat0
    cols = max(1, round(math.sqrt(count * width / height)))
    rows = math.ceil(count / cols)
    dx, dy = width / cols, height / rows
    vertices: list[list[Point]] = []
    for r in range(rows + 1):
        row: list[Point] = []
        for c in range(cols + 1):
            lon, lat = lon0 + c * dx, lat0 + r * dy
            if rng is not None and 0 < r < rows and 0 < c < cols:
                lon += rng.uniform(-jitter, jitter) * dx
                lat += rng.uniform(-jitter, jitter) * dy
            row.append((round(lon, digits), round(lat, digits)))
        vertices.append(row)
    rings: list[list[Point]] = []
    for i in range(count):
        r, c = divmod(i, cols)
        sw, se, ne, nw = vertices[r][c], vertices[r][c + 1], vertices[r + 1][c + 1], vertices[r + 1][c]
        rings.append([sw, se, ne, nw, sw])
    return rings


def _split_box(box: Box, count: int) -> list[Box]:
    """`count` boxes cut from `box` in a regular grid (row by row from the south-west)."""
    return [(sw[0], sw[1], ne[0], ne[1]) for sw, _, ne, _, _ in grid_rings(box, count, None)]


@functools.cache
def _demo_data() -> CityData:
    return load_city(DEMO_CITY)


def _unique_stems(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    stems: list[str] = []
    while len(stems) < count:
        stem = rng.choice(_NAME_CHARS) + rng.choice(_NAME_CHARS)
        if stem[0] != stem[1] and stem not in taken:
            taken.add(stem)
            stems.append(stem)
    return stems


def _community_names(rng: random.Random, stem: str, count: int, *, village: bool) -> list[str]:
    """`count` distinct community names: the first after the street, the rest from the name pool."""
    tail = "村" if village else "社区"
    names = [f"{stem}{rng.choice(_PLACE_SUFFIXES)}{tail}"]
    while len(names) < count:
        name = f"{rng.choice(_NAME_CHARS)}{rng.choice(_NAME_CHARS)}{rng.choice(_PLACE_SUFFIXES)}{tail}"
        if name not in names and name[0] != name[1]:
            names.append(name)
    return names


def _community_counts(rng: random.Random, streets: int, total: int) -> list[int]:
    """`total` communities over `streets` streets, each getting between 60% and 140% of the mean."""
    mean = total / streets
    low, high = max(1, int(mean * 0.6)), max(1, math.ceil(mean * 1.4))
    counts = [total // streets + (1 if i < total % streets else 0) for i in range(streets)]
    for _ in range(streets * 4):  # move communities between random streets, keeping the total
        a, b = rng.randrange(streets), rng.randrange(streets)
        step = rng.randint(1, 4)
        if a != b and counts[a] - step >= low and counts[b] + step <= high:
            counts[a] -= step
            counts[b] += step
    return counts


def _street_kind(rng: random.Random, rural_share: float) -> tuple[str, str]:
    if rng.random() >= rural_share:
        return "street", "街道"
    return ("township", "镇") if rng.random() < 0.8 else ("area", "地区")


def short_district_name(name: str) -> str:
    """东城区 → 东城."""
    return name[:-1] if name.endswith("区") else name


@dataclass(frozen=True)
class _District:
    """A generated district: its row of BEIJING_DISTRICTS and its streets (as city data)."""

    spec: DistrictSpec
    streets: list[dict[str, Any]]

    @property
    def street_codes(self) -> list[str]:
        return [s["code"] for s in self.streets]

    def as_data(self) -> dict[str, Any]:
        code, name = self.spec.code, self.spec.name
        backstop = {"code": f"{code}-backstop", "name": f"{name}接诉即办兜底专班"}
        return {"code": code, "name": name, "streets": self.streets, "backstop": backstop}


@dataclass
class _Geography:
    """The districts, streets and communities of one city, drawn from one random source in order."""

    rng: random.Random
    counts: Iterator[int]
    """How many communities each street gets, street by street."""
    taken_stems: set[str]
    units: list[tuple[str, str, str]]
    """The demo street's units as (code suffix, name suffix, kind)."""

    def district(self, spec: DistrictSpec, box: Box, known: list[Street]) -> _District:
        """`spec`'s streets laid out over `box`; the `known` (demo) streets first, as they are."""
        stems = iter(_unique_stems(self.rng, spec.streets - len(known), self.taken_stems))
        streets: list[dict[str, Any]] = []
        for i, street_box in enumerate(_split_box(box, spec.streets)):
            if i < len(known):
                demo = known[i]
                streets.append(self.street(demo.code, demo.name, demo.kind, demo.name[:2], street_box))
                continue
            kind, suffix = _street_kind(self.rng, spec.rural_share)
            stem = next(stems)
            streets.append(
                self.street(f"{spec.prefix}-s{i + 1:02d}", f"{stem}{suffix}", kind, stem, street_box)
            )
        return _District(spec, streets)

    def street(self, code: str, name: str, kind: str, stem: str, box: Box) -> dict[str, Any]:
        count = next(self.counts)
        rings = grid_rings(box, count, self.rng, jitter=0.15)
        names = _community_names(self.rng, stem, count, village=kind == "township")
        communities = [
            {
                "code": f"{code}-{j:02d}",
                "name": community,
                **community_measures(random.Random(self.rng.randrange(300, 6000, 10) * 7919 + j)),
                "polygon": ring,
            }
            for j, (community, ring) in enumerate(zip(names, rings, strict=True), start=1)
        ]
        units = [
            {"code": f"{code}-{slug}", "name": f"{name}{unit}", "kind": unit_kind}
            for slug, unit, unit_kind in self.units
        ]
        return {"code": code, "name": name, "kind": kind, "units": units, "communities": communities}


SUPER_COMMUNITY_SHARE = 0.02
UNDERSTAFFED_SHARE = 0.05


def community_measures(rng: random.Random) -> dict[str, int]:
    """Households, residents and social workers of one community, spread as Beijing's are: most
    near 2,000 households, a few super-communities over 5,000, a few committees understaffed."""
    if rng.random() < SUPER_COMMUNITY_SHARE:
        households = rng.randrange(5_100, 9_000, 10)
    else:
        households = round(min(4_800.0, max(400.0, rng.gauss(2_200, 750))) / 10) * 10
    residents = round(households * rng.uniform(2.4, 3.1) / 10) * 10
    workers = max(9, round(households / rng.uniform(112, 148)))
    if rng.random() < UNDERSTAFFED_SHARE:
        workers = max(2, int(workers * rng.uniform(0.4, 0.8)))
    return {"households": households, "residents": residents, "social_workers": workers}


def generate_city(scale: str = "beijing", seed: int = 0) -> CityData:
    """A deterministic synthetic city of the given scale (`beijing` or `small`)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    demo = _demo_data()
    districts = _districts(random.Random(f"whistle-city-{scale}-{seed}"), demo, SCALES[scale])
    departments = _departments(demo, districts)
    return CityData.model_validate(
        {
            "version": 1,
            "city": demo.city.model_dump(),
            "districts": [d.as_data() for d in districts],
            "departments": departments,
            "categories": [c.model_dump() for c in demo.categories],
            "duty_list": [b.model_dump() for b in demo.duty_list],
            "community_duty_list": [b.model_dump() for b in demo.community_duty_list],
            "rules": _rules(demo, districts),
            "policies": demo.policies.model_dump(),
            "policy_history": [v.model_dump() for v in demo.policy_history],
            "calendar": [o.model_dump() for o in demo.calendar],
            "clients": _clients(departments, districts, demo),
        }
    )


def _districts(rng: random.Random, demo: CityData, size: Scale) -> list[_District]:
    """The first `size.districts` districts of Beijing, each in its cell of DISTRICT_LAYOUT."""
    chosen = BEIJING_DISTRICTS[: size.districts]
    counts = _community_counts(rng, sum(spec.streets for spec in chosen), size.communities)
    layout = [code for row in DISTRICT_LAYOUT for code in row]
    boxes = dict(zip(layout, _split_box(CITY_BOX, len(layout)), strict=True))
    demo_streets = {d.code: d.streets for d in demo.districts}
    template = demo.districts[0].streets[0]
    geography = _Geography(
        rng=rng,
        counts=iter(counts),
        taken_stems={s.name[:2] for streets in demo_streets.values() for s in streets},
        units=[
            (u.code.removeprefix(f"{template.code}-"), u.name.removeprefix(template.name), u.kind)
            for u in template.units
        ],
    )
    return [
        geography.district(spec, boxes[spec.code], demo_streets.get(spec.code, [])[: spec.streets])
        for spec in chosen
    ]


def _departments(demo: CityData, districts: list[_District]) -> list[dict[str, Any]]:
    """The demo's departments, each with a branch per district serving all its streets, plus field
    stations (police stations, supply stations …) serving runs of neighbouring streets."""
    demo_district_names = {d.code: d.name for d in demo.districts}
    out: list[dict[str, Any]] = []
    for dept in demo.departments:
        agencies: list[dict[str, Any]] = []
        for district in districts:
            spec = district.spec
            branch = {
                "code": f"{spec.prefix}-{dept.code}",
                "name": _agency_name(dept, demo_district_names, spec.name),
                "district": spec.code,
                "serves": district.street_codes,
            }
            agencies += [branch, *_stations(dept, district)]
        out.append({**dept.model_dump(exclude={"agencies"}, exclude_none=True), "agencies": agencies})
    return out


def _stations(dept: Department, district: _District) -> list[dict[str, Any]]:
    """The department's field stations in the district (STATIONS; none for most kinds)."""
    if dept.kind not in STATIONS:
        return []
    suffix, per = STATIONS[dept.kind]
    spec, streets = district.spec, district.streets
    runs = [streets[k : k + per] for k in range(0, len(streets), per)]
    return [
        {
            "code": f"{spec.prefix}-{dept.code}-{i:02d}",
            "name": f"{short_district_name(spec.name)}{_street_stem(run[0]['name'])}{suffix}",
            "district": spec.code,
            "serves": [s["code"] for s in run],
        }
        for i, run in enumerate(runs, start=1)
    ]


def _street_stem(name: str) -> str:
    """安定门街道 → 安定门."""
    return name.removesuffix("街道").removesuffix("地区").removesuffix("镇")


def _agency_name(dept: Department, demo_district_names: dict[str, str], district_name: str) -> str:
    """The department's agency for `district_name`, named like its first demo agency: that agency's
    district name (东城区) and its short form (东城) become this district's."""
    if not dept.agencies:
        return f"{district_name}{dept.name}"
    template = dept.agencies[0]
    full = demo_district_names[template.district]
    names = {full: district_name, short_district_name(full): short_district_name(district_name)}
    pattern = "|".join(re.escape(n) for n in names)
    return re.sub(pattern, lambda m: names[m.group()], template.name)


def _rules(demo: CityData, districts: list[_District]) -> list[dict[str, Any]]:
    """The demo's rules, but for those narrowed to a district or street the city does not have."""
    district_codes = {d.spec.code for d in districts}
    street_codes = {code for d in districts for code in d.street_codes}
    return [
        r.model_dump(exclude_defaults=True)
        for r in demo.rules
        if (r.district is None or r.district in district_codes)
        and (r.street is None or r.street in street_codes)
    ]


def _clients(
    departments: list[dict[str, Any]], districts: list[_District], demo: CityData
) -> list[dict[str, Any]]:
    """One demo client per role, department, street and district command centre, and the demo's
    community clients for the communities that keep their codes, each with the secret
    `demo-<id>-secret` (not one per generated community: seeding hashes every secret)."""
    clients: list[dict[str, Any]] = [
        {"client_id": kind, "kind": kind} for kind in ("hotline", "admin", "viewer")
    ]
    clients += [
        {"client_id": f"dept-{d['code']}", "kind": "department", "department": d["code"]} for d in departments
    ]
    clients += [
        {"client_id": f"street-{code}", "kind": "street", "street": code}
        for d in districts
        for code in d.street_codes
    ]
    clients += [
        {"client_id": f"district-{d.spec.code}", "kind": "district", "district": d.spec.code}
        for d in districts
    ]
    generated = {c["code"] for d in districts for s in d.streets for c in s["communities"]}
    clients += [
        {"client_id": c.client_id, "kind": "community", "community": c.community}
        for c in demo.clients
        if c.kind == "community" and c.community in generated
    ]
    return [{**c, "secret": f"demo-{c['client_id']}-secret"} for c in clients]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    scale = args[0] if args else "beijing"
    seed = int(args[1]) if len(args) > 1 else 0
    city = generate_city(scale, seed).model_dump(mode="json", exclude_defaults=True)
    yaml.safe_dump(city, sys.stdout, allow_unicode=True, sort_keys=False, default_flow_style=None, width=200)


if __name__ == "__main__":
    main()
