"""Claims with leases: the queue contract department worker apps know from SQS-style queues (pure).

A worker claims assignments from its department's queue for `lease_seconds` (a visibility
timeout): while the lease runs, no other worker of the department is offered them. Every action
the holder takes renews the lease (sign-off, report-in, an extension request) or ends it
(report-back, return, release); an expired lease is offered again, oldest work first. An
assignment stays in the queue until it leaves the open statuses, so an order signed off by a
worker whose lease then ran out goes back to the department's other workers.

Who may act: while a lease runs, only its holder (another worker, or a caller naming no worker, is
told who holds it: 409). Nobody holding it, any caller may act; a caller naming a worker then
takes the lease, one naming none leaves the assignment unleased (apps that do not use claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.dispatch.lifecycle import ends_lease

MAX_CLAIM = 50
MAX_WAIT_SECONDS = 30
MIN_LEASE_SECONDS, MAX_LEASE_SECONDS = 5, 3600
DEFAULT_LEASE_SECONDS = 300
WORKER_NAME_MAX = 100


@dataclass(frozen=True)
class Lease:
    worker: str | None = None
    expires_at: datetime | None = None
    seconds: int | None = None
    """The length of the claim that made it: what an action renews it by."""

    def held_at(self, now: datetime) -> bool:
        return self.worker is not None and self.expires_at is not None and self.expires_at > now

    def holder_at(self, now: datetime) -> str | None:
        return self.worker if self.held_at(now) else None


NO_LEASE = Lease()


class HeldByAnother(Exception):
    """The assignment is leased to another worker: a 409 naming the holder."""

    def __init__(self, holder: str, expires_at: datetime) -> None:
        self.holder = holder
        self.expires_at = expires_at
        super().__init__(f"this assignment is claimed by worker {holder!r} until {expires_at.isoformat()}")


def lease_after(action: str, lease: Lease, *, worker: str | None, now: datetime) -> Lease:
    """The lease once `worker` (None: a caller naming none) has taken `action`; HeldByAnother when
    the lease runs for someone else."""
    holder = lease.holder_at(now)
    if holder is not None and holder != worker:
        assert lease.expires_at is not None
        raise HeldByAnother(holder, lease.expires_at)
    if ends_lease(action) or worker is None:
        return NO_LEASE
    seconds = lease.seconds or DEFAULT_LEASE_SECONDS
    return Lease(worker, now + timedelta(seconds=seconds), seconds)


def claimed(worker: str, *, now: datetime, lease_seconds: int) -> Lease:
    """The lease a claim gives."""
    return Lease(worker, now + timedelta(seconds=lease_seconds), lease_seconds)


def wait_for(*, remaining: float, next_expiry: datetime | None, now: datetime) -> float:
    """How long a long-polling claim sleeps before looking again: until the wait is over or the
    department's next lease expires (that order is then offered again), whichever comes first; a
    commit that queues or releases work wakes it earlier."""
    if next_expiry is None:
        return max(0.0, remaining)
    return max(0.0, min(remaining, (next_expiry - now).total_seconds()))
