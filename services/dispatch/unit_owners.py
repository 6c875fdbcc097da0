"""Whose unit is it: which department or street a client must belong to in order to act for it."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Principal
from shared.city import CityData
from shared.errors import Forbidden

READ_EVERYTHING = frozenset({"admin", "viewer"})


@dataclass(frozen=True)
class Owner:
    department_code: str | None = None
    street_code: str | None = None


def unit_owners(city: CityData) -> dict[str, Owner]:
    owners: dict[str, Owner] = {}
    for district in city.districts:
        for street in district.streets:
            for unit in street.units:
                owners[unit.code] = Owner(street_code=street.code)
    for department in city.departments:
        for agency in department.agencies:
            owners[agency.code] = Owner(department_code=department.code)
    return owners


def may_act_for_unit(principal: Principal, owner: Owner | None) -> bool:
    if principal.is_admin:
        return True
    if owner is None:
        return False
    return (owner.department_code is not None and principal.department == owner.department_code) or (
        owner.street_code is not None and principal.street == owner.street_code
    )


def check_may_read_department(principal: Principal, department_code: str) -> None:
    if principal.kind not in READ_EVERYTHING and principal.department != department_code:
        raise Forbidden(f"this client may not read the queue of department {department_code}")


def check_may_read_unit(principal: Principal, unit_code: str, owner: Owner | None) -> None:
    if principal.kind not in READ_EVERYTHING and not may_act_for_unit(principal, owner):
        raise Forbidden(f"this client may not read the queue of {unit_code}")
