"""Rate limits counted inside a view, for one piece of work rather than a whole route (the
routes themselves use Flask-Limiter's decorators, e.g. sign-in).

The counts live in the storage of the same Flask-Limiter extension — Redis when ``REDIS_URL`` is
set, else memory — with its strategy (the moving window), and ``limiter.reset()`` clears them.
When the storage cannot be reached they are counted in this process's memory, as the extension
does for routes: a Redis outage never fails the request nor lifts the limit.
"""

from __future__ import annotations

import logging

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.core.extensions import limiter

log = logging.getLogger(__name__)

_fallback = MovingWindowRateLimiter(MemoryStorage())


def hit(limit: str, scope: str, key: str, *, cost: int = 1) -> bool:
    """Count ``cost`` units of ``scope`` for ``key`` (e.g. a user id) against ``limit``
    (Flask-Limiter syntax, ``"120 per hour"``). False, and nothing counted, when they would go
    past it."""
    item: RateLimitItem = parse(limit)
    try:
        return bool(limiter.limiter.hit(item, scope, key, cost=cost))
    except Exception:  # the storage (Redis) is unreachable: count here instead
        log.warning("rate limit storage unreachable: %s counted in memory", scope)
        return bool(_fallback.hit(item, scope, key, cost=cost))
