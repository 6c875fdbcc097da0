"""Rows as the API shows them, with other departments' notes redacted for a department."""

from __future__ import annotations

from collections.abc import Sequence

from services.dispatch.assignments import view_of
from services.dispatch.lifecycle import allowed_actions, api_name
from services.dispatch.models import Assignment, EscalationStepRow, Whistle
from services.dispatch.schemas import AssignmentOut, EscalationOut, LeaseOut, WhistleOut
from shared.access import Principal, may_read_notes
from shared.events import utcnow


def assignment_out(a: Assignment, *, notes: bool = True) -> AssignmentOut:
    holder = a.worker if a.lease_expires_at is not None and a.lease_expires_at > utcnow() else None
    return AssignmentOut(
        id=a.id,
        whistle_id=a.whistle_id,
        complaint_id=a.complaint_id,
        unit_code=a.unit_code,
        department_code=a.department_code,
        role=a.role,
        status=a.status,
        allowed_actions=[api_name(x) for x in allowed_actions(view_of(a))],
        lease=LeaseOut(worker=holder, expires_at=a.lease_expires_at)
        if holder and a.lease_expires_at
        else None,
        result=a.result,
        note=a.note if notes else None,
        report_in_note=a.report_in_note if notes else None,
        return_reason=a.return_reason,
        return_note=a.return_note if notes else None,
        queued_at=a.queued_at,
        signed_off_at=a.signed_off_at,
        reported_in_at=a.reported_in_at,
        contacted_at=a.contacted_at,
        on_site_at=a.on_site_at,
        reported_back_at=a.reported_back_at,
        returned_at=a.returned_at,
        closed_at=a.closed_at,
    )


def escalation_out(row: EscalationStepRow) -> EscalationOut:
    return EscalationOut(
        position=row.position,
        cause=row.cause,
        stage=row.stage,
        action=row.action,
        unit_code=row.unit_code,
        due_at=row.due_at,
        fired_at=row.fired_at,
        outcome=row.outcome,
        detail=row.detail,
    )


def whistle_out(
    w: Whistle, *, principal: Principal | None = None, steps: Sequence[EscalationStepRow] = ()
) -> WhistleOut:
    def notes(a: Assignment) -> bool:
        return principal is None or may_read_notes(principal, department_code=a.department_code)

    return WhistleOut(
        id=w.id,
        complaint_id=w.complaint_id,
        round=w.round,
        kind=w.kind,
        category=w.category,
        urgency=w.urgency,
        district_code=w.district_code,
        street_code=w.street_code,
        status=w.status,
        visit_required=w.visit_required,
        reasons=list(w.reasons),
        issued_at=w.issued_at,
        completed_at=w.completed_at,
        description=w.description,
        location=w.location,
        reason=w.reason,
        blown_by=w.blown_by,
        assignments=[assignment_out(a, notes=notes(a)) for a in w.assignments],
        escalations=[escalation_out(s) for s in steps if s.whistle_id == w.id],
    )
