"""Caches keyed by an object's identity, for what is built once per profile, plan or check.

Profiles, layout plans and checks are not hashable by value, and are asked for the same
derived things (compiled expressions, formula texts, plans) by every row of every file:
the cache keeps the object itself beside what was built, so an id reused by a new object
after the old one died is never mistaken for it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


def by_identity(
    cache: dict[Any, tuple[object, Any]],
    limit: int,
    key: Hashable,
    owner: object,
    build: Callable[[], T],
) -> T:
    """`build()` once per `key` while `owner` (whose id the key holds) lives; the cache is
    emptied when it passes `limit` entries."""
    hit = cache.get(key)
    if hit is not None and hit[0] is owner:
        return hit[1]
    got = build()
    if len(cache) > limit:
        cache.clear()
    cache[key] = (owner, got)
    return got
