"""Per-user and per-channel sliding-window rate limits."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable

from bot.settings import RateLimit


class RateLimiter:
    """Allows `per_user` requests per user and `per_channel` per channel in each `window` seconds."""

    def __init__(self, limits: RateLimit, clock: Callable[[], float]):
        self.limits = limits
        self.clock = clock
        self._seen: dict[tuple[str, ...], deque[float]] = defaultdict(deque)

    def check(self, platform: str, channel: str, user: str) -> float:
        """Record a request; return 0 if allowed, else the seconds to wait."""
        now = self.clock()
        keys = [(("u", platform, user), self.limits.per_user), (("c", platform, channel), self.limits.per_channel)]
        waits = []
        for key, limit in keys:
            q = self._seen[key]
            while q and q[0] <= now - self.limits.window:
                q.popleft()
            if limit and len(q) >= limit:
                waits.append(q[0] + self.limits.window - now)
        if waits:
            return max(max(waits), 1.0)
        for key, _ in keys:
            self._seen[key].append(now)
        return 0.0
