"""The reporter's contact, for the units handling the complaint, every read audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.context import IntakeContext
from services.intake.schemas import ContactOut
from shared.access import Decision, Principal, may_read_contact
from shared.errors import NotFound
from shared.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ContactRead:
    decision: Decision
    contact: ContactOut | None


async def handling_departments(
    session: AsyncSession, complaint_id: str, merged_into: str | None
) -> set[str | None]:
    """The departments summoned for the matter (a merged complaint's are its original's)."""
    units = await repository.handling_units(session, merged_into or complaint_id)
    return {u.department_code for u in units}


async def read_contact(
    *, session: AsyncSession, ctx: IntakeContext, complaint_id: str, principal: Principal
) -> ContactRead:
    """Decide, write the audit row (granted or not) and decrypt only when granted."""
    complaint = await repository.get(session, complaint_id)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    departments = await handling_departments(session, complaint.id, complaint.merged_into)
    decision = may_read_contact(principal, street_code=complaint.street_code, departments=departments)
    repository.add_contact_read(
        session,
        complaint_id=complaint.id,
        client_id=principal.client_id,
        client_kind=principal.kind,
        department_code=principal.department,
        street_code=principal.street,
        granted=decision.granted,
        reason=decision.reason,
        at=utcnow(),
    )
    log.info(
        "intake.contact_read",
        complaint_id=complaint.id,
        client_id=principal.client_id,
        granted=decision.granted,
    )
    if not decision.granted:
        return ContactRead(decision, None)
    decrypt = ctx.cipher.decrypt
    return ContactRead(
        decision,
        ContactOut(
            complaint_id=complaint.id,
            name=decrypt(complaint.reporter_name),
            phone=decrypt(complaint.reporter_phone),
            email=decrypt(complaint.reporter_email),
            address=decrypt(complaint.address_enc),
        ),
    )
