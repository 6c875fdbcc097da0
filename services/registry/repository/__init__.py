"""All SQL of the registry: the whole city in (`city_rows`) and out (`city_reads`), snapshot versions
and the write lock (`versions`), and the checks the write path needs (`guards`). Callers use the
names re-exported here."""

from __future__ import annotations

from services.registry.repository.city_reads import (
    category_model,
    in_force_at,
    load_city,
    load_policy_history,
    load_rules,
    not_ended_by,
    policies_at,
    policy_version,
    rule_model,
)
from services.registry.repository.city_rows import bbox, category_row, replace_city, rule_row
from services.registry.repository.guards import community_polygons, neighbours, orphans, sub_areas_taken
from services.registry.repository.versions import (
    bump_version,
    current_version,
    is_seeded,
    lock_for_write,
    version_created_at,
)

__all__ = [
    "bbox",
    "bump_version",
    "category_model",
    "category_row",
    "community_polygons",
    "current_version",
    "in_force_at",
    "is_seeded",
    "load_city",
    "load_policy_history",
    "load_rules",
    "lock_for_write",
    "neighbours",
    "not_ended_by",
    "orphans",
    "policies_at",
    "policy_version",
    "replace_city",
    "rule_model",
    "rule_row",
    "sub_areas_taken",
    "version_created_at",
]
