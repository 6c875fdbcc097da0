"""Re-routing a returned order: the rules of `returns` applied to a whistle and announced."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import metrics, returns
from services.dispatch.announcements import queued, ref
from services.dispatch.lifecycle import QUEUED, is_open
from services.dispatch.models import Assignment, Whistle
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.repository import signals
from services.dispatch.repository import whistles as whistle_rows
from shared.city_index import CityIndex
from shared.events import AssignmentRerouted, utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.routing import BACKSTOP, Target, route

log = get_logger(__name__)


async def reroute(
    session: AsyncSession,
    *,
    whistle: Whistle,
    returned: Assignment,
    returned_units: Sequence[str],
    index: CityIndex,
    outbox: Outbox,
) -> Assignment | None:
    """Send a returned order on: to the next unit the rules name with every returning unit excluded,
    or to the district backstop once the complaint's returns reach the bounce limit in force when
    the whistle was issued. Returns the assignment that now has the order (None: not replaced)."""
    decision = route(
        index, category=whistle.category, street_code=whistle.street_code, exclude=frozenset(returned_units)
    )
    siblings = await whistle_rows.assignments_of(session, whistle.id, lock=True)
    plan = returns.where_next(
        returned=Target(returned.unit_code, returned.department_code, returned.role),
        decision=decision,
        backstop=Target(index.backstops[whistle.district_code], None, BACKSTOP),
        returns=len(returned_units),
        bounce_limit=index.city.policies_at(whistle.issued_at).dispatch.bounce_limit,
        on_whistle={s.unit_code for s in siblings},
        department_kinds={code: d.kind for code, d in index.departments.items()},
    )
    if plan is None:
        log.info("dispatch.return_not_replaced", whistle_id=whistle.id, unit=returned.unit_code)
        return None
    now = utcnow()
    if plan.existing:
        target = next(s for s in siblings if s.unit_code == plan.target.unit_code)
        if not is_open(target.status):
            log.warning("dispatch.reroute_nowhere", whistle_id=whistle.id, unit=target.unit_code)
            return None
        target.role = plan.target.role  # the backstop already helping now answers
    else:
        target = Assignment(
            id=str(uuid.uuid4()),
            whistle_id=whistle.id,
            complaint_id=whistle.complaint_id,
            unit_code=plan.target.unit_code,
            department_code=plan.target.department_code,
            role=plan.target.role,
            position=max(s.position for s in siblings) + 1,
            status=QUEUED,
            queued_at=now,
        )
        assignment_rows.add(session, target)
        await session.flush()
    whistle.reasons = [*whistle.reasons, f"re-routed from {returned.unit_code}: {plan.reason}"]
    rerouted = AssignmentRerouted(
        whistle_id=whistle.id,
        complaint_id=whistle.complaint_id,
        from_assignment_id=returned.id,
        from_unit_code=returned.unit_code,
        to=ref(target),
        reason=plan.reason,
        to_backstop=plan.to_backstop,
        at=now,
    )
    await outbox.add(session, rerouted, correlation_id=whistle.complaint_id)
    if not plan.existing:
        await outbox.add(session, queued(target, whistle), correlation_id=whistle.complaint_id)
        await signals.work_queued(session, [target.department_code])
    metrics.REROUTES.labels("backstop" if plan.to_backstop else "unit").inc()
    log.info(
        "dispatch.assignment_rerouted",
        whistle_id=whistle.id,
        from_unit=returned.unit_code,
        to_unit=target.unit_code,
        to_backstop=plan.to_backstop,
    )
    return target
