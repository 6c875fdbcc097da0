"""Who may read and act on what: the one place every service asks (pure; no web framework, no JWT).

A `Principal` is a verified caller (`shared.auth` makes one from a token). Client kinds:

    hotline     files complaints and follow-up results; reads complaints
    department  bound to a department: its agencies' queues and the complaints it was summoned for
    street      bound to a street: its own units' queues, its street's complaints, its own whistles
    district    the district command centre, bound to a district: approves extensions, receives
                escalations, sees its district's whistles
    community   a community committee (社区居委会), bound to a community: blows the community's
                whistle (社区吹哨), works its committee's queue, sees its community's whistles
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
    "community": frozenset({"complaints:read", "queue:read", "queue:write", "whistle:blow", "registry:read"}),
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
    community: str | None = None

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

    def may_act_for_community(self, code: str | None) -> bool:
        return self.is_admin or (code is not None and self.kind == "community" and self.community == code)


@dataclass(frozen=True)
class Owner:
    """Whose a unit is: a department's agency, a street's own unit, or a community's committee."""

    department_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None


def may_act_for_unit(principal: Principal, owner: Owner | None) -> bool:
    if principal.is_admin:
        return True
    if owner is None:
        return False
    return (
        principal.may_act_for_department(owner.department_code)
        or principal.may_act_for_street(owner.street_code)
        or principal.may_act_for_community(owner.community_code)
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


def may_see_complaint(
    principal: Principal,
    *,
    street_code: str,
    departments: Collection[str | None],
    community_code: str | None = None,
) -> bool:
    """Complaints without contact data: bound clients see their own street's, department's or
    community's."""
    if principal.kind == "community":
        return community_code is not None and principal.community == community_code
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


# --- intake ---


def open311_reads_in_full(principal: Principal | None, *, public_reads: bool) -> bool:
    """Who reads Open311 requests and their updates (`GET requests`, `requests/{id}`,
    `servicerequestupdates`): a hotline client's api_key reads everything (True); without a key,
    only a city that turned public reads on answers, with the public view (False: no free text, no
    media, every position at the community's representative point). Discovery, services and
    `tokens/{token}` need no key at all."""
    if principal is not None:
        if principal.kind != "hotline":
            raise Forbidden("this api_key does not belong to a hotline client")
        return True
    if public_reads:
        return False
    raise Forbidden("api_key is required to read service requests here")


# --- sla ---


def may_see_clock(
    principal: Principal, *, department_code: str | None, street_code: str, district_code: str, stage: str
) -> bool:
    """A clock of a complaint: a department sees its own units' clocks, a street its street's, a
    district its district's, admin and viewer all; the hotline the resolve deadline it tells the
    resident."""
    if principal.reads_everything:
        return True
    if principal.kind == "department":
        return principal.department is not None and principal.department == department_code
    if principal.kind == "street":
        return principal.street is not None and principal.street == street_code
    if principal.kind == "district":
        return principal.district is not None and principal.district == district_code
    if principal.kind == "hotline":
        return stage == "resolve"
    return False


@dataclass(frozen=True)
class SlaScope:
    """Which evaluations a client reads: None everywhere means all of them."""

    department: str | None = None
    street: str | None = None
    district: str | None = None


def evaluations_scope(principal: Principal) -> SlaScope:
    """Departments read their own agencies' evaluations, streets their own, a district all of its."""
    if principal.reads_everything:
        return SlaScope()
    if principal.kind == "department" and principal.department:
        return SlaScope(department=principal.department)
    if principal.kind == "street" and principal.street:
        return SlaScope(street=principal.street)
    if principal.kind == "district" and principal.district:
        return SlaScope(district=principal.district)
    raise Forbidden(f"a {principal.kind or 'unbound'} client does not read evaluations")


def check_within_scope(
    scope: SlaScope, *, street: str | None, street_district: str | None, department: str | None
) -> None:
    """An explicit filter must stay inside the client's scope (asking for another's is refused)."""
    if scope.street is not None and street is not None and street != scope.street:
        raise Forbidden(f"this client reads the evaluations of street {scope.street} only")
    if scope.district is not None and street is not None and street_district != scope.district:
        raise Forbidden(f"street {street} is not in district {scope.district}")
    if scope.department is not None and department is not None and department != scope.department:
        raise Forbidden(f"this client reads the evaluations of department {scope.department}'s agencies only")


def check_may_evaluate(principal: Principal, *, unit_code: str, serves: Collection[str]) -> None:
    """考核评价权: a street evaluates the agencies that serve it, and only those."""
    if principal.kind != "street" or principal.street is None:
        raise Forbidden("only a street's client evaluates agencies")
    if principal.street not in serves:
        raise Forbidden(f"{unit_code} does not serve street {principal.street}")


def check_may_read_scorecard(
    principal: Principal,
    *,
    unit_code: str,
    department_code: str | None,
    street_code: str | None,
    districts: Collection[str],
) -> None:
    """A scorecard names complaints: a department reads its own and its agencies', a street its own,
    a district those of its units (agencies, streets, backstop), admin and viewer all."""
    if principal.reads_everything:
        return
    if principal.kind == "department" and principal.department and principal.department == department_code:
        return
    if principal.kind == "street" and principal.street and principal.street == street_code:
        return
    if principal.kind == "district" and principal.district and principal.district in districts:
        return
    raise Forbidden(f"this client may not read the scorecard of {unit_code}")


def check_may_close_period(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an admin closes an assessment period")


# --- dispatch ---


def may_act_for_assignment(principal: Principal, owner: Owner | None, *, backstop_of: str | None) -> bool:
    """Who acts on an assignment: the department of the agency it is for, the street of its unit,
    the district command centre for its district's backstop (`backstop_of`: the district whose
    backstop the unit is), and admins."""
    if may_act_for_unit(principal, owner):
        return True
    return principal.kind == "district" and backstop_of is not None and principal.district == backstop_of


def check_may_claim(principal: Principal, department_code: str) -> None:
    """A department's queue is claimed by that department's workers (and admins)."""
    if not principal.may_act_for_department(department_code):
        raise Forbidden(f"this client may not claim from the queue of department {department_code}")


def check_may_read_unit_queue(
    principal: Principal, unit_code: str, owner: Owner | None, *, backstop_of: str | None
) -> None:
    if not principal.reads_everything and not may_act_for_assignment(
        principal, owner, backstop_of=backstop_of
    ):
        raise Forbidden(f"this client may not read the queue of {unit_code}")


def may_read_whistles(
    principal: Principal, *, street_code: str, district_code: str, departments: Collection[str | None]
) -> bool:
    """A complaint's whistles: a department summoned for it, its street, its district, admin/viewer."""
    if principal.reads_everything:
        return True
    if principal.kind == "department":
        return principal.department is not None and principal.department in departments
    if principal.kind == "street":
        return principal.street is not None and principal.street == street_code
    if principal.kind == "district":
        return principal.district is not None and principal.district == district_code
    return False


def may_read_notes(principal: Principal, *, department_code: str | None) -> bool:
    """A department reads its own units' notes on a whistle; other departments' are redacted for it."""
    return principal.kind != "department" or (
        department_code is not None and principal.department == department_code
    )


def check_may_read_street(principal: Principal, street_code: str, *, district_code: str | None) -> None:
    """A street's whistles: that street, its district's command centre, admin/viewer."""
    if principal.reads_everything or (principal.kind == "street" and principal.street == street_code):
        return
    if principal.kind == "district" and district_code is not None and principal.district == district_code:
        return
    raise Forbidden(f"this client may not read the whistles of street {street_code}")


def check_may_read_district(principal: Principal, district_code: str) -> None:
    if principal.reads_everything or (principal.kind == "district" and principal.district == district_code):
        return
    raise Forbidden(f"this client may not read the whistles and escalations of district {district_code}")


def check_may_blow_whistle(principal: Principal, street_code: str) -> None:
    """A street blows its own whistles (吹哨) only."""
    if not (principal.is_admin or (principal.kind == "street" and principal.street == street_code)):
        raise Forbidden(f"this client may not blow a whistle for street {street_code}")


def may_decide_extension(
    principal: Principal, *, street_code: str, district_code: str, street_unit: bool
) -> Decision:
    """Who approves or rejects a request for more time: the handling street (`queue:write`), unless
    the request is its own unit's, or the district command centre (`extensions:approve`)."""
    if principal.is_admin:
        return Decision(True, "admin")
    if principal.kind == "district" and principal.district == district_code:
        if "extensions:approve" in principal.scopes:
            return Decision(True, f"district {district_code} approves its district's extensions")
        return Decision(False, "this client lacks the scope extensions:approve")
    if principal.kind == "street" and principal.street == street_code:
        if street_unit:
            return Decision(False, f"street {street_code} does not decide its own unit's request")
        if "queue:write" in principal.scopes:
            return Decision(True, f"street {street_code} handles this complaint")
        return Decision(False, "this client lacks the scope queue:write")
    return Decision(False, f"a {principal.kind or 'unbound'} client does not decide this request")


def check_may_list_extensions(
    principal: Principal, *, street_code: str | None, district_code: str | None
) -> None:
    """Requests for more time are listed for their approvers: the street's, the district's."""
    if principal.reads_everything:
        return
    if principal.kind == "street" and street_code is not None and principal.street == street_code:
        return
    if principal.kind == "district" and district_code is not None and principal.district == district_code:
        return
    raise Forbidden("this client may not list these extension requests")


# --- community ---


def check_may_blow_community_whistle(principal: Principal, community_code: str) -> None:
    """A community committee blows its own community's whistle (社区吹哨) only."""
    if not (principal.is_admin or principal.may_act_for_community(community_code)):
        raise Forbidden(f"this client may not blow a whistle for community {community_code}")


def check_may_read_community(principal: Principal, community_code: str, *, street_code: str | None) -> None:
    """A community's whistles: its committee, its street, admin/viewer."""
    if principal.reads_everything or principal.may_act_for_community(community_code):
        return
    if principal.kind == "street" and street_code is not None and principal.street == street_code:
        return
    raise Forbidden(f"this client may not read the whistles of community {community_code}")


def may_read_community_whistles(principal: Principal, *, community_codes: Collection[str | None]) -> bool:
    """A complaint's whistles for a community client: only when they are all its community's."""
    return (
        principal.kind == "community"
        and principal.community is not None
        and bool(community_codes)
        and all(code == principal.community for code in community_codes)
    )
