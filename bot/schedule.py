"""Daily digest scheduling: APScheduler's cron trigger does the time-zone maths; an injected clock drives it.

Why not APScheduler's own job store and executor: digests must survive restarts, never post a window
twice and catch up a missed run exactly once. The subscriptions and the windows sent already live in
BotState, so the scheduler only has to ask "what was the latest fire time at or before now, and was
it sent?" on each tick; that makes it testable with a controllable clock and no sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.events import Reply
from bot.state import BotState, Subscription
from corpus.errors import ParleyError

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Build = Callable[[str, datetime, datetime], Awaitable[Reply]]  # (negotiation, start, end) -> digest reply
Post = Callable[[Subscription, Reply], Awaitable[None]]


def parse_time(at: str, tz: str) -> tuple[int, int, ZoneInfo]:
    """Validate "HH:MM" and an IANA time zone name, with messages a user can act on."""
    try:
        hour, minute = (int(x) for x in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise ParleyError(f"`{at}` is not a time of day; use HH:MM, e.g. 08:30") from None
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParleyError(f"`{tz}` is not a time zone; use a name like Europe/London or UTC") from None
    return hour, minute, zone


def last_fire(sub: Subscription, now: datetime) -> datetime:
    """The latest scheduled time at or before `now` (in UTC)."""
    hour, minute, zone = parse_time(sub.at, sub.tz)
    trigger = CronTrigger(hour=hour, minute=minute, timezone=zone)
    fire = trigger.get_next_fire_time(None, now - timedelta(days=2))
    last = fire
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert last is not None
    return last.astimezone(timezone.utc)


class DigestScheduler:
    """Posts each subscription's digest once per daily window; a window missed while down is caught up once."""

    def __init__(self, state: BotState, build: Build, posters: dict[str, Post], clock: Clock):
        self.state = state
        self.build = build
        self.posters = posters
        self.clock = clock

    async def tick(self) -> int:
        """Send every digest that is due now and not yet sent; returns how many were sent."""
        now = self.clock()
        sent = 0
        for sub in self.state.subscriptions():
            poster = self.posters.get(sub.platform)
            if poster is None:
                continue
            end = last_fire(sub, now)
            previous = self.state.last_sent(sub.platform, sub.channel, sub.negotiation)
            if previous is not None and previous >= end:
                continue
            start = previous if previous is not None else end - timedelta(days=1)
            if not self.state.mark_sent(sub.platform, sub.channel, sub.negotiation, end):
                continue  # another tick got there first
            try:
                reply = await self.build(sub.negotiation, start, end)
                await poster(sub, reply)
                sent += 1
            except Exception:  # noqa: BLE001  one failing channel must not stop the others
                logger.exception("digest for %s in %s/%s failed", sub.negotiation, sub.platform, sub.channel)
        return sent

    def seconds_to_next(self) -> float:
        """Seconds until the next fire time of any subscription (at most a minute, to pick up new ones)."""
        now = self.clock()
        nxt = 60.0
        for sub in self.state.subscriptions():
            hour, minute, zone = parse_time(sub.at, sub.tz)
            fire = CronTrigger(hour=hour, minute=minute, timezone=zone).get_next_fire_time(None, now)
            if fire is not None:
                nxt = min(nxt, max(0.5, (fire - now).total_seconds()))
        return nxt

    async def run(self) -> None:
        """Tick until cancelled: at start (catching up missed runs), then at each fire time."""
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001
                logger.exception("digest tick failed")
            await asyncio.sleep(self.seconds_to_next())
