"""The registry's API under /v1: reads, admin writes, and the routing model (snapshot, resolve, route)."""

from fastapi import APIRouter

from services.registry.api import lookup, reads, writes

router = APIRouter()
router.include_router(lookup.router)
router.include_router(reads.router)
router.include_router(writes.router)

__all__ = ["router"]
