"""The registry's API under /v1: reads, admin writes, the routing model (snapshot, resolve, route),
and the community level (the community duty list, the structure's health)."""

from fastapi import APIRouter

from services.registry.api import community, lookup, reads, writes

router = APIRouter()
router.include_router(lookup.router)
router.include_router(reads.router)
router.include_router(writes.router)
router.include_router(community.reads)
router.include_router(community.writes)

__all__ = ["router"]
