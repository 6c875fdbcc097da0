"""The units SLA scores, as the city knows them (pure): what level a code is at, whose it is, which
districts it works in and which streets an agency serves."""

from __future__ import annotations

from dataclasses import dataclass

from services.sla.tallies import Level
from shared.city_index import CityIndex


@dataclass(frozen=True)
class UnitInfo:
    code: str
    level: Level
    department_code: str | None = None
    street_code: str | None = None
    districts: frozenset[str] = frozenset()
    serves: frozenset[str] = frozenset()
    """The streets an agency serves (the streets that may evaluate it)."""


class Directory:
    """Every scored unit of one city version, looked up by code."""

    def __init__(self, index: CityIndex) -> None:
        self.index = index
        self.units: dict[str, UnitInfo] = {}
        for district, backstop in index.backstops.items():
            self.units[backstop] = UnitInfo(backstop, "agency", districts=frozenset({district}))
        for street, district in index.street_district.items():
            self.units[street] = UnitInfo(
                street, "street", street_code=street, districts=frozenset({district})
            )
        for department in index.city.departments:
            districts = frozenset(a.district for a in department.agencies)
            serves = frozenset(s for a in department.agencies for s in a.serves)
            self.units[department.code] = UnitInfo(
                department.code, "department", department.code, districts=districts, serves=serves
            )
            for agency in department.agencies:
                self.units.setdefault(
                    agency.code,
                    UnitInfo(
                        agency.code,
                        "agency",
                        department.code,
                        districts=frozenset({agency.district}),
                        serves=frozenset(agency.serves),
                    ),
                )

    def get(self, code: str) -> UnitInfo | None:
        return self.units.get(code)

    def is_agency(self, code: str) -> bool:
        """A department's dispatched agency (what streets evaluate)."""
        unit = self.units.get(code)
        return unit is not None and unit.level == "agency" and unit.department_code is not None


_last: Directory | None = None


def directory(index: CityIndex) -> Directory:
    """The directory of this city version (built once per version)."""
    global _last
    found = _last
    if found is None or found.index is not index:
        found = _last = Directory(index)
    return found
