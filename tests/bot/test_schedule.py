"""Digest scheduling with a controllable clock: fires once at the local time, survives restarts, catches up once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.events import Reply
from bot.schedule import DigestScheduler, last_fire, parse_time
from bot.state import BotState, Subscription
from corpus.errors import ParleyError


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make(tmp_path: Path, clock: Clock) -> tuple[DigestScheduler, list[tuple[str, datetime, datetime]], list[str]]:
    built: list[tuple[str, datetime, datetime]] = []
    posted: list[str] = []

    async def build(neg: str, start: datetime, end: datetime) -> Reply:
        built.append((neg, start, end))
        return Reply.notice(f"digest {neg} {start:%H:%M}-{end:%H:%M}")

    async def post(sub: Subscription, reply: Reply) -> None:
        posted.append(f"{sub.channel}: {reply.title}")

    state = BotState(tmp_path / "bot.sqlite3")
    return DigestScheduler(state, build, {"slack": post}, clock), built, posted


SUB = Subscription("slack", "C1", "russia-ukraine", "08:30", "Europe/Berlin", "U1")


async def test_fires_once_at_local_time_and_survives_restart(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc))  # 08:00 in Berlin
    sched, built, posted = make(tmp_path, clock)
    sched.state.subscribe(SUB)
    sched.state.mark_sent("slack", "C1", "russia-ukraine", datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc))
    assert await sched.tick() == 0  # not yet 08:30 local
    clock.now = datetime(2026, 11, 24, 7, 30, tzinfo=timezone.utc)  # 08:30 Berlin (UTC+1)
    assert await sched.tick() == 1
    assert await sched.tick() == 0  # never twice for one window
    assert built == [("russia-ukraine", datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc), clock.now)]
    # restart: a new scheduler over the same state file
    sched.state.close()
    again, built2, _ = make(tmp_path, clock)
    assert await again.tick() == 0
    clock.now += timedelta(days=1)
    assert await again.tick() == 1
    assert built2[0][1] == datetime(2026, 11, 24, 7, 30, tzinfo=timezone.utc)  # window starts where the last ended


async def test_missed_runs_caught_up_once(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc))
    sched, built, posted = make(tmp_path, clock)
    sched.state.subscribe(SUB)
    assert await sched.tick() == 1
    sched.state.close()
    clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # down for three days
    again, built2, posted2 = make(tmp_path, clock)
    assert await again.tick() == 1
    assert await again.tick() == 0
    (neg, start, end), = built2
    assert start == datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)  # one digest covers the gap
    assert end == datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc)


def test_daylight_saving_is_respected() -> None:
    summer = Subscription("slack", "C1", "n", "08:30", "Europe/Berlin", "U1")
    fire = last_fire(summer, datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    assert fire == datetime(2026, 7, 1, 6, 30, tzinfo=timezone.utc)  # UTC+2 in summer


@pytest.mark.parametrize("at, tz", [("25:00", "UTC"), ("8.30", "UTC"), ("08:30", "Mars/Olympus")])
def test_bad_times_are_clear_errors(at: str, tz: str) -> None:
    with pytest.raises(ParleyError):
        parse_time(at, tz)
