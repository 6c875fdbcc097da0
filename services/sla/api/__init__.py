"""SLA's API under `/v1`: `clocks`, `evaluations`, `scores` (scores, rankings, scorecards,
whistle rates) and `periods`; the audit log (`GET /v1/audit`) comes with the service app."""

from __future__ import annotations

from fastapi import APIRouter

from services.sla.api import clocks, evaluations, periods, scores

ROUTERS: list[APIRouter] = [clocks.router, evaluations.router, scores.router, periods.router]

__all__ = ["ROUTERS"]
