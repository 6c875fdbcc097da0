"""Who may read and act on what: the one place every service asks (pure; no web framework, no JWT).

A `Principal` is a verified caller (`shared.auth` makes one from a token). Client kinds:

    hotline     files complaints and follow-up results; reads complaints
    department  bound to a department: its agencies' queues and the complaints it was summoned for
    street      bound to a street: its own units' queues, its street's complaints, its own whistles
    district    the district command centre, bound to a district: approves extensions, receives
                escalations, sees its district's whistles
    viewer      reads everything (no writes)
    admin       reads everything, writes the registry, acts for every unit

Scopes (what a token carries; a client may ask for fewer, never more):

    complaints:write   file complaints and follow-up results (hotline)
    complaints:read    read complaints, timelines (no PII)
    contact:read       read a reporter's contact, audited (department and street clients, bound)
    queue:read         read a department's or unit's queue (bound)
    queue:write        sign off, report in/back, return, ask for extension (bound)
    whistle:blow       blow a whistle by hand (street clients, bound)
    evaluate           evaluate a dispatched agency (street clients, bound)
    extensions:approve approve or reject a unit's request for more time (district clients, bound;
                       street clients approve their own street's through queue:write)
    sla:read           read clocks, scores and rankings
    registry:read      read the city model
    registry:write     create, update and retire registry entities (admin)
    clients:read       list API clients (admin)
    audit:read         read a service's audit log (admin)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from shared.errors import Forbidden

ALL_SCOPES = frozenset(
    {
        "complaints:write",
        "complaints:read",
        "contact:read",
        "queue:read",
        "queue:write",
        "whistle:blow",
        "evaluate",
        "sla:read",
        "registry:read",
        "registry:write",
        "clients:read",
        "extensions:approve",
        "audit:read",
    }
)

SCOPES_BY_KIND: Mapping[str, frozenset[str]] = {
    "hotline": frozenset({"complaints:write", "complaints:read", "registry:read", "sla:read"}),
    "department": frozenset(
        {"complaints:read", "contact:read", "queue:read", "queue:write", "registry:read", "sla:read"}
    ),
    "street": frozenset(
        {
            "complaints:read",
            "contact:read",
            "queue:read",
            "queue:write",
            "whistle:blow",
            "evaluate",
            "registry:read",
            "sla:read",
        }
    ),
    "district": frozenset(
        {"complaints:read", "queue:read", "queue:write", "extensions:approve", "registry:read", "sla:read"}
    ),
    "viewer": frozenset({"complaints:read", "registry:read", "sla:read", "queue:read"}),
    "admin": frozenset(
        {
            "complaints:read",
            "queue:read",
            "queue:write",
            "registry:read",
            "registry:write",
            "clients:read",
            "sla:read",
            "audit:read",
        }
    ),
}
READ_EVERYTHING = frozenset({"admin", "viewer"})


def scopes_for(kind: str, requested: str | None = None) -> frozenset[str]:
    """The scopes a client of this kind gets; a request may narrow them, never widen them."""
    allowed = SCOPES_BY_KIND.get(kind, frozenset())
    if not requested:
        return allowed
    return allowed & frozenset(requested.split())


@dataclass(frozen=True)
class Principal:
    client_id: str
    kind: str
    scopes: frozenset[str]
    department: str | None = None
    street: str | None = None
    district: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def reads_everything(self) -> bool:
        return self.kind in READ_EVERYTHING

    def may_act_for_department(self, code: str | None) -> bool:
        return self.is_admin or (code is not None and self.department == code)

    def may_act_for_street(self, code: str | None) -> bool:
        return self.is_admin or (code is not None and self.street == code)


@dataclass(frozen=True)
class Owner:
    """Whose a unit is: a department's agency, or a street's own unit."""

    department_code: str | None = None
    street_code: str | None = None


def may_act_for_unit(principal: Principal, owner: Owner | None) -> bool:
    if principal.is_admin:
        return True
    if owner is None:
        return False
    return principal.may_act_for_department(owner.department_code) or principal.may_act_for_street(
        owner.street_code
    )


def check_may_read_department(principal: Principal, department_code: str) -> None:
    if not principal.reads_everything and principal.department != department_code:
        raise Forbidden(f"this client may not read the queue of department {department_code}")


def check_may_read_unit(principal: Principal, unit_code: str, owner: Owner | None) -> None:
    if not principal.reads_everything and not may_act_for_unit(principal, owner):
        raise Forbidden(f"this client may not read the queue of {unit_code}")


# --- complaints -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str


def may_see_complaint(principal: Principal, *, street_code: str, departments: Collection[str | None]) -> bool:
    """Complaints without contact data: bound clients see their own street's or department's."""
    if principal.kind == "street":
        return principal.street == street_code
    if principal.kind == "department":
        return principal.department is not None and principal.department in departments
    return True


def may_read_contact(
    principal: Principal, *, street_code: str, departments: Collection[str | None]
) -> Decision:
    """Only a street or department client handling the complaint reads who filed it."""
    if principal.kind == "street" and principal.street is not None:
        if principal.street == street_code:
            return Decision(True, f"street {street_code} handles this complaint")
        return Decision(False, f"street {principal.street} does not handle this complaint")
    if principal.kind == "department" and principal.department is not None:
        if principal.department in departments:
            return Decision(True, f"department {principal.department} was summoned for this complaint")
        return Decision(False, f"department {principal.department} was not summoned for this complaint")
    return Decision(False, f"a {principal.kind or 'unbound'} client does not handle complaints")
