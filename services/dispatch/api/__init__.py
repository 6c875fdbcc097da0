"""Dispatch's `/v1` API: whistles, queues and claims, what units do with assignments, extensions.
The refused attempts (403) are written to dispatch's audit log, read at `GET /v1/audit` (admins)."""

from __future__ import annotations

from fastapi import APIRouter

from services.dispatch.api import assignments, communities, extensions, queues, whistles

ROUTERS: list[APIRouter] = [
    whistles.router,
    communities.router,
    queues.router,
    assignments.router,
    extensions.router,
]

__all__ = ["ROUTERS"]
