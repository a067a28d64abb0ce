"""The platform-neutral async core: takes an Event, returns a Reply, never leaves a user in silence."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from bot import commands as _commands  # noqa: F401  (fills COMMANDS)
from bot.commands import COMMANDS
from bot.events import Event, Reply
from bot.ratelimit import RateLimiter
from bot.settings import BotSettings
from index.types import Answer

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Engine(Protocol):
    """What the core needs from the index (index.engine.Engine provides it)."""

    def ask(self, question: str, *, top: int = 3) -> Answer: ...

    def stats(self) -> dict[str, object]: ...


class Bot:
    """Dispatches Events to commands; retrieval runs in worker threads off the event loop."""

    def __init__(self, engine: Engine, settings: BotSettings, clock: Callable[[], float] = time.monotonic):
        self.engine = engine
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit, clock)
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="parley-index")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking index work in the worker pool, bounded by the answer timeout."""
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.wait_for(loop.run_in_executor(self._pool, call), self.settings.answer_timeout)

    def is_admin(self, event: Event) -> bool:
        admins = self.settings.admins.for_platform(event.platform)
        return event.user in admins or any(role in admins for role in event.roles)

    async def handle(self, event: Event) -> Reply | None:
        """Answer one event. Every failure becomes a visible error Reply with a log reference."""
        cmd = COMMANDS.get(event.command)
        if cmd is None:
            known = ", ".join(sorted(COMMANDS))
            return Reply.notice(f"Unknown command `{event.command}`.", f"Known commands: {known}.", ephemeral=True)
        if len(event.text) > self.settings.max_question_chars:
            return Reply.notice(
                f"That message is too long ({len(event.text)} characters; the limit is "
                f"{self.settings.max_question_chars}). Please ask a shorter question.",
                ephemeral=True,
            )
        if cmd.admin and not self.is_admin(event):
            return Reply.notice(f"Sorry, `{cmd.name}` is for admins only.", ephemeral=True)
        wait = self.limiter.check(event.platform, event.channel, event.user)
        if wait > 0:
            return Reply.notice(f"You're asking faster than I can keep up; please try again in {wait:.0f} s.", ephemeral=True)
        try:
            return await cmd.handler(self, event)
        except asyncio.TimeoutError:
            ref = _ref()
            logger.error("ref=%s timeout answering %r", ref, event)
            return Reply.error("Sorry, that took too long to answer. Please try again.", ref)
        except Exception as exc:  # noqa: BLE001  a user never gets silence
            ref = _ref()
            logger.exception("ref=%s failed handling %r", ref, event)
            return Reply.error(_plain_error(exc), ref)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _ref() -> str:
    return secrets.token_hex(3)


def _plain_error(exc: Exception) -> str:
    from corpus.errors import ParleyError

    if isinstance(exc, ParleyError):
        return f"Sorry, I couldn't answer: {exc}"
    return "Sorry, something went wrong while answering."
