"""The one state machine of dispatch: an assignment's life and its whistle's (pure). Every status
string lives here.

An assignment (one unit summoned by a whistle):

    queued ──sign_off──▶ signed_off ──report_in──▶ reported_in ──report_back──▶ reported_back
       │                   │    └───────────report_back────────────────────────▲
       │                   │                   └─report_in (the other kind: contacted / on_site)
       └──────return───────┴────────return─────────┴──▶ returned
    any open status ──close──▶ not_needed   (the answering unit reported back first)
    any open status ──withdraw──▶ withdrawn (the complaint was reopened: a new round handles it)

Two worker actions leave the status as it is: `extension` (asking for more time, once the order is
signed off) and `release` (giving a claimed order back to the department's queue). The district
backstop may not return an order: it is where returned orders end.

A whistle is `open` until its answering unit (a role in `shared.routing.ANSWERING_ROLES`: the lead,
the street's own unit or the backstop; co-departments only help) reports back — `completed` — or
until the complaint is reopened and a new round supersedes it — `superseded`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.routing import ANSWERING_ROLES, BACKSTOP

QUEUED = "queued"
SIGNED_OFF = "signed_off"
REPORTED_IN = "reported_in"
REPORTED_BACK = "reported_back"
RETURNED = "returned"
NOT_NEEDED = "not_needed"
WITHDRAWN = "withdrawn"

OPEN: tuple[str, ...] = (QUEUED, SIGNED_OFF, REPORTED_IN)
"""The statuses of an assignment that still has work in it (and may be claimed)."""
ENDED: tuple[str, ...] = (REPORTED_BACK, RETURNED, NOT_NEEDED, WITHDRAWN)

WHISTLE_OPEN = "open"
WHISTLE_COMPLETED = "completed"
WHISTLE_SUPERSEDED = "superseded"

CONTACTED, ON_SITE = "contacted", "on_site"
REPORT_IN_KINDS = (CONTACTED, ON_SITE)

# action → (statuses it may start from, the status it leads to; None: the status stays)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "sign_off": (frozenset({QUEUED}), SIGNED_OFF),
    "report_in": (frozenset({SIGNED_OFF, REPORTED_IN}), REPORTED_IN),
    "report_back": (frozenset({SIGNED_OFF, REPORTED_IN}), REPORTED_BACK),
    "return": (frozenset(OPEN), RETURNED),
    "extension": (frozenset({SIGNED_OFF, REPORTED_IN}), None),
    "release": (frozenset(OPEN), None),
    "close": (frozenset(OPEN), NOT_NEEDED),
    "withdraw": (frozenset(OPEN), WITHDRAWN),
}
WORKER_ACTIONS = ("sign_off", "report_in", "report_back", "return", "extension", "release")
"""What a unit does with an assignment (`POST /v1/assignments/{id}/<action>`, dashed)."""
FORBIDDEN_FOR_ROLE: dict[str, frozenset[str]] = {"return": frozenset({BACKSTOP})}


def api_name(action: str) -> str:
    """`sign_off` → `sign-off`: how the API spells an action."""
    return action.replace("_", "-")


@dataclass(frozen=True)
class AssignmentView:
    """What the state machine needs to know of an assignment."""

    role: str
    status: str
    reported_in: frozenset[str] = frozenset()
    """The report-in kinds given so far (contacted, on_site)."""


class InvalidTransition(Exception):
    """An action the assignment's status (or role) does not allow: a 409 naming both."""

    def __init__(self, action: str, view: AssignmentView, why: str = "") -> None:
        self.action = action
        self.status = view.status
        self.allowed = allowed_actions(view)
        allowed = ", ".join(api_name(a) for a in self.allowed) or "none"
        super().__init__(
            why or f"cannot {api_name(action)} an assignment that is {view.status} (allowed now: {allowed})"
        )


def allowed_actions(view: AssignmentView) -> tuple[str, ...]:
    """The worker actions the assignment accepts now."""
    return tuple(a for a in WORKER_ACTIONS if _refusal(view, a) is None)


def _refusal(view: AssignmentView, action: str, kind: str | None = None) -> str | None:
    sources, _ = TRANSITIONS[action]
    if view.status not in sources:
        return ""
    if view.role in FORBIDDEN_FOR_ROLE.get(action, frozenset()):
        return f"the {view.role} may not {api_name(action)} an order: returned orders end with it"
    if action == "report_in":
        if kind is None:
            return None if set(REPORT_IN_KINDS) - view.reported_in else ""
        if kind in view.reported_in:
            return f"this assignment already reported in {kind}"
    return None


def transition(view: AssignmentView, action: str, *, kind: str | None = None) -> str:
    """The status after `action` (the same status for actions that keep it); InvalidTransition if
    the assignment does not allow it. `kind` is the report-in kind."""
    why = _refusal(view, action, kind)
    if why is not None:
        raise InvalidTransition(action, view, why)
    target = TRANSITIONS[action][1]
    return view.status if target is None else target


def ends_lease(action: str) -> bool:
    """Whether an accepted action ends the worker's lease (the order left the queue, or was given back)."""
    return action == "release" or TRANSITIONS[action][1] in ENDED


def is_open(status: str) -> bool:
    return status in OPEN


def answers(role: str) -> bool:
    """Whether this role's report-back answers the complaint."""
    return role in ANSWERING_ROLES


def whistle_answered(assignments: Iterable[AssignmentView]) -> bool:
    """The whistle is complete once its answering unit has reported back."""
    return any(answers(a.role) and a.status == REPORTED_BACK for a in assignments)
