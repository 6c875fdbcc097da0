"""What each kind of API client may do (pure)."""

from __future__ import annotations

SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    "hotline": frozenset({"complaints:write", "complaints:read", "registry:read", "sla:read"}),
    "department": frozenset(
        {"complaints:read", "contact:read", "queue:read", "queue:write", "registry:read", "sla:read"}
    ),
    "street": frozenset(
        {
            "complaints:read",
            "contact:read",
            "queue:read",
            "queue:write",
            "whistle:blow",
            "evaluate",
            "registry:read",
            "sla:read",
        }
    ),
    "viewer": frozenset({"complaints:read", "registry:read", "sla:read", "queue:read"}),
    "admin": frozenset(
        {
            "complaints:read",
            "queue:read",
            "queue:write",
            "registry:read",
            "registry:write",
            "clients:read",
            "sla:read",
        }
    ),
}


def scopes_for(kind: str, requested: str | None = None) -> frozenset[str]:
    """The scopes a client of this kind gets; a request may narrow them, never widen them."""
    allowed = SCOPES_BY_KIND.get(kind, frozenset())
    if not requested:
        return allowed
    return allowed & frozenset(requested.split())
