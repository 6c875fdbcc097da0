"""A deterministic full-size synthetic city for benchmarks.

`generate_city("beijing")` builds a city the size of Beijing: 16 districts, 343 streets (the real
number of streets, townships and areas per district), 7,000 communities and about 1,500 agencies.
Geography is synthetic: the districts are laid out as a 4×4 grid over the Beijing area (roughly
where they are on the map), each district's streets as a grid inside it and each street's
communities as a grid of slightly irregular quadrilaterals inside the street, so no two community
polygons overlap.

Categories, the street duty list, routing rules and policies are those of the demo city
(`data/demo_city.yaml`); the demo's streets keep their codes and names as the first streets of 东城区
and 西城区, so the demo's district- and street-narrowed rules and clients stay meaningful.

    python -m services.registry.city_generator [scale] [seed] > city.yaml
"""

from __future__ import annotations

import functools
import math
import random
import sys
from dataclasses import dataclass
from typing import Any

from services.registry.city_data import DEMO_CITY
from services.registry.demo_city_build import (
    COORD_DIGITS,
    DEPARTMENTS,
    Box,
    dump_city_yaml,
    grid_rings,
    short_district_name,
    street_units,
)
from shared.city import CityData, load_city

# The 16 districts with their real number of streets, townships and areas (343 in all).
# (code, agency prefix, name, streets, share of streets that are townships/areas)
BEIJING_DISTRICTS: list[tuple[str, str, str, int, float]] = [
    ("dongcheng", "dc", "东城区", 17, 0.0),
    ("xicheng", "xc", "西城区", 15, 0.0),
    ("chaoyang", "cy", "朝阳区", 43, 0.45),
    ("haidian", "hd", "海淀区", 29, 0.25),
    ("fengtai", "ft", "丰台区", 26, 0.3),
    ("shijingshan", "sjs", "石景山区", 9, 0.0),
    ("mentougou", "mtg", "门头沟区", 13, 0.7),
    ("fangshan", "fs", "房山区", 28, 0.7),
    ("tongzhou", "tz", "通州区", 22, 0.6),
    ("shunyi", "sy", "顺义区", 25, 0.7),
    ("changping", "cp", "昌平区", 22, 0.6),
    ("daxing", "dx", "大兴区", 22, 0.6),
    ("huairou", "hr", "怀柔区", 16, 0.8),
    ("pinggu", "pg", "平谷区", 18, 0.8),
    ("miyun", "my", "密云区", 20, 0.8),
    ("yanqing", "yq", "延庆区", 18, 0.8),
]


@dataclass(frozen=True)
class Scale:
    districts: int
    communities: int


SCALES: dict[str, Scale] = {
    "beijing": Scale(districts=16, communities=7000),
    "small": Scale(districts=2, communities=650),
}

# Field stations that some departments run below district level: (department kind, name suffix,
# streets per station). Each station serves a run of neighbouring streets of its district.
STATIONS: list[tuple[str, str, int]] = [
    ("public_security", "派出所", 1),
    ("market_regulation", "市场监管所", 1),
    ("power", "供电所", 2),
    ("heating", "供热站", 2),
    ("gas", "燃气服务站", 3),
    ("water_supply", "供水服务站", 3),
]

# The area the district grid is laid over (lon_min, lat_min, lon_max, lat_max).
CITY_BOX: Box = (115.90, 39.60, 117.10, 40.60)
# Where each district sits in a 4×4 grid over CITY_BOX, rows from the south, roughly as on the map.
DISTRICT_LAYOUT: list[list[str]] = [
    ["fangshan", "fengtai", "daxing", "tongzhou"],
    ["shijingshan", "xicheng", "dongcheng", "chaoyang"],
    ["mentougou", "haidian", "shunyi", "pinggu"],
    ["yanqing", "changping", "huairou", "miyun"],
]

_NAME_CHARS = "东西南北安和平兴华光明新长永宁福德泰康青山河湖桥园林庄营台口门里金银花松柏桃李杨柳龙凤天坛马驹"
_COMMUNITY_SUFFIXES = [
    "东里",
    "西里",
    "南里",
    "北里",
    "家园",
    "花园",
    "新村",
    "苑",
    "北街",
    "南街",
    "胡同",
    "路",
]


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
    names = [f"{stem}{rng.choice(_COMMUNITY_SUFFIXES)}{tail}"]
    while len(names) < count:
        name = f"{rng.choice(_NAME_CHARS)}{rng.choice(_NAME_CHARS)}{rng.choice(_COMMUNITY_SUFFIXES)}{tail}"
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


def _split_box(box: Box, count: int) -> list[Box]:
    """`count` boxes cut from `box` in a grid (row by row from the south-west)."""
    lon0, lat0, lon1, lat1 = box
    cols = max(1, round(math.sqrt(count * (lon1 - lon0) / (lat1 - lat0))))
    rows = math.ceil(count / cols)
    dx, dy = (lon1 - lon0) / cols, (lat1 - lat0) / rows
    boxes: list[Box] = []
    for i in range(count):
        r, c = divmod(i, cols)
        boxes.append(
            (
                round(lon0 + c * dx, COORD_DIGITS),
                round(lat0 + r * dy, COORD_DIGITS),
                round(lon0 + (c + 1) * dx, COORD_DIGITS),
                round(lat0 + (r + 1) * dy, COORD_DIGITS),
            )
        )
    return boxes


def _street_kind(rng: random.Random, rural_share: float) -> tuple[str, str]:
    if rng.random() >= rural_share:
        return "street", "街道"
    return ("township", "镇") if rng.random() < 0.8 else ("area", "地区")


def generate_city(scale: str = "beijing", seed: int = 0) -> CityData:
    """A deterministic synthetic city of the given scale (`beijing` or `small`)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    size = SCALES[scale]
    rng = random.Random(f"whistle-city-{scale}-{seed}")
    demo = _demo_data()
    demo_streets = {d.code: d.streets for d in demo.districts}
    chosen = BEIJING_DISTRICTS[: size.districts]

    street_total = sum(n for _, _, _, n, _ in chosen)
    counts = iter(_community_counts(rng, street_total, size.communities))
    cells = _split_box(CITY_BOX, len(DISTRICT_LAYOUT) * len(DISTRICT_LAYOUT[0]))
    district_box = {code: cells[i] for i, code in enumerate(c for row in DISTRICT_LAYOUT for c in row)}
    taken_stems = {s.name[:2] for streets in demo_streets.values() for s in streets}

    districts: list[dict[str, Any]] = []
    district_streets: list[tuple[str, str, str, list[str]]] = []
    for dcode, prefix, dname, n_streets, rural_share in chosen:
        dbox = district_box[dcode]
        known = list(demo_streets.get(dcode, []))[:n_streets]
        stems = _unique_stems(rng, n_streets - len(known), taken_stems)
        streets: list[dict[str, Any]] = []
        for i, sbox in enumerate(_split_box(dbox, n_streets)):
            skind: str
            if i < len(known):
                scode, sname, skind = known[i].code, known[i].name, known[i].kind
                stem = sname[:2]
            else:
                skind, suffix = _street_kind(rng, rural_share)
                stem = stems[i - len(known)]
                scode, sname = f"{prefix}-s{i + 1:02d}", f"{stem}{suffix}"
            n = next(counts)
            rings = grid_rings(sbox, n, rng, jitter=0.15)
            names = _community_names(rng, stem, n, village=skind == "township")
            communities = [
                {
                    "code": f"{scode}-{j:02d}",
                    "name": name,
                    "households": rng.randrange(300, 6000, 10),
                    "polygon": ring,
                }
                for j, (name, ring) in enumerate(zip(names, rings, strict=True), start=1)
            ]
            streets.append(
                {
                    "code": scode,
                    "name": sname,
                    "kind": skind,
                    "units": street_units(scode, sname),
                    "communities": communities,
                }
            )
        districts.append(
            {
                "code": dcode,
                "name": dname,
                "streets": streets,
                "backstop": {"code": f"{dcode}-backstop", "name": f"{dname}接诉即办兜底专班"},
            }
        )
        district_streets.append((dcode, prefix, dname, [s["code"] for s in streets]))

    departments = _departments(
        demo, district_streets, {s["code"]: s["name"] for d in districts for s in d["streets"]}
    )
    all_streets = {s["code"] for d in districts for s in d["streets"]}
    district_codes = {d["code"] for d in districts}
    rules = [
        r.model_dump(exclude_defaults=True)
        for r in demo.rules
        if (r.district is None or r.district in district_codes)
        and (r.street is None or r.street in all_streets)
    ]
    clients = [
        {"client_id": cid, "kind": kind, "secret": f"demo-{cid}-secret"}
        for cid, kind in (("hotline", "hotline"), ("admin", "admin"), ("viewer", "viewer"))
    ]
    clients += [
        {
            "client_id": f"dept-{d['code']}",
            "kind": "department",
            "secret": f"demo-dept-{d['code']}-secret",
            "department": d["code"],
        }
        for d in departments
    ]
    clients += [
        {
            "client_id": f"street-{code}",
            "kind": "street",
            "secret": f"demo-street-{code}-secret",
            "street": code,
        }
        for _, _, _, codes in district_streets
        for code in codes
    ]
    return CityData.model_validate(
        {
            "version": 1,
            "city": demo.city.model_dump(),
            "districts": districts,
            "departments": departments,
            "categories": [c.model_dump() for c in demo.categories],
            "duty_list": [b.model_dump() for b in demo.duty_list],
            "rules": rules,
            "policies": demo.policies.model_dump(),
            "clients": clients,
        }
    )


def _departments(
    demo: CityData, district_streets: list[tuple[str, str, str, list[str]]], street_names: dict[str, str]
) -> list[dict[str, Any]]:
    """The demo's departments, each with a branch per district serving all its streets, plus field
    stations (police stations, supply stations …) serving runs of neighbouring streets."""
    templates = {code: template for code, *_, template in DEPARTMENTS}
    stations = {kind: (suffix, per) for kind, suffix, per in STATIONS}
    out: list[dict[str, Any]] = []
    for dept in demo.departments:
        template = templates.get(dept.code, "{d}" + dept.name)
        agencies: list[dict[str, Any]] = []
        for dcode, prefix, dname, streets in district_streets:
            agencies.append(
                {
                    "code": f"{prefix}-{dept.code}",
                    "name": template.format(d=dname, s=short_district_name(dname)),
                    "district": dcode,
                    "serves": list(streets),
                }
            )
            if dept.kind in stations:
                suffix, per = stations[dept.kind]
                for k in range(0, len(streets), per):
                    run = streets[k : k + per]
                    stem = street_names[run[0]].removesuffix("街道").removesuffix("地区").removesuffix("镇")
                    agencies.append(
                        {
                            "code": f"{prefix}-{dept.code}-{k // per + 1:02d}",
                            "name": f"{short_district_name(dname)}{stem}{suffix}",
                            "district": dcode,
                            "serves": run,
                        }
                    )
        data = dept.model_dump(exclude={"agencies"}, exclude_none=True)
        data["agencies"] = agencies
        out.append(data)
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    scale = args[0] if args else "beijing"
    seed = int(args[1]) if len(args) > 1 else 0
    city = generate_city(scale, seed)
    sys.stdout.write(dump_city_yaml(city.model_dump(exclude_defaults=True)))


if __name__ == "__main__":
    main()
