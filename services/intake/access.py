"""Who may see what (pure): a street client sees its own street's complaints, a department client
those its department was summoned for; a reporter's contact only to those handling the matter."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from shared.auth import Principal


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str


def may_see(principal: Principal, *, street_code: str, departments: Collection[str | None]) -> bool:
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
