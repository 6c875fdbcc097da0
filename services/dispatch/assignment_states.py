"""An assignment's life: queued → signed_off → reported_in → reported_back (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.routing import ANSWERING_ROLES

OPEN = ("queued", "signed_off", "reported_in")

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "sign_off": (frozenset({"queued"}), "signed_off"),
    "report_in": (frozenset({"signed_off"}), "reported_in"),
    "report_back": (frozenset({"signed_off", "reported_in"}), "reported_back"),
}

# The roles whose report-back answers the complaint (co-departments only assist).


class InvalidTransition(Exception):
    def __init__(self, action: str, status: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(
            f"cannot {action.replace('_', ' ')} an assignment that is {status} (allowed from: {allowed})"
        )


def transition(status: str, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise InvalidTransition(action, status)
    return target


@dataclass(frozen=True)
class AssignmentView:
    role: str
    status: str


def whistle_answered(assignments: Iterable[AssignmentView]) -> bool:
    """The whistle is complete once the answering unit has reported back."""
    return any(a.role in ANSWERING_ROLES and a.status == "reported_back" for a in assignments)
