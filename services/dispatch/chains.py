"""The chain of whistles a matter went through (pure): a community's whistle (社区吹哨), the street's
whistle that answers it (`parent_whistle_id`), and whatever whistles answer that one in turn.

Every whistle of a chain shows the whole chain, root first, each whistle before those that answer
it (siblings in the order they were issued), so the community, the street and the departments all
see the same path community → street → departments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Link:
    whistle_id: str
    parent_whistle_id: str | None
    kind: str
    street_code: str
    community_code: str | None
    status: str
    issued_at: datetime
    units: tuple[str, ...]


def root_of(whistle_id: str, links: Iterable[Link]) -> str:
    """The first whistle of the chain `whistle_id` is in (as far as `links` reach)."""
    by_id = {link.whistle_id: link for link in links}
    current, seen = whistle_id, {whistle_id}
    while (parent := by_id[current].parent_whistle_id if current in by_id else None) in by_id:
        assert parent is not None
        if parent in seen:  # a cycle cannot be written, but a chain is never followed forever
            break
        current = parent
        seen.add(parent)
    return current


def chain(whistle_id: str, links: Sequence[Link]) -> list[Link]:
    """The chain `whistle_id` belongs to, root first, depth first; [] when it stands alone."""
    by_id = {link.whistle_id: link for link in links}
    children: dict[str, list[Link]] = defaultdict(list)
    for link in sorted(links, key=lambda k: (k.issued_at, k.whistle_id)):
        if link.parent_whistle_id is not None:
            children[link.parent_whistle_id].append(link)
    root = root_of(whistle_id, links)
    if root not in by_id or (root == whistle_id and not children.get(root)):
        return []
    ordered: list[Link] = []
    stack, seen = [by_id[root]], set()
    while stack:
        link = stack.pop()
        if link.whistle_id in seen:
            continue
        seen.add(link.whistle_id)
        ordered.append(link)
        stack.extend(reversed(children.get(link.whistle_id, [])))
    return ordered
