"""The platform-neutral async core: takes an Event, returns a Reply, never leaves a user in silence."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from bot import admin as _admin, commands as _commands, digests as _digests, feedback as _feedback  # noqa: F401  (fill COMMANDS)
from bot.commands import COMMANDS
from bot.events import Event, Reply
from bot.jobs import Jobs
from bot.ratelimit import RateLimiter
from bot.settings import BotSettings
from bot.state import BotState
from bot.view import votable
from corpus.ingest import IngestReport
from index.digest import Digest
from index.negotiations import Tracked
from index.query import QueryAnalyzer
from index.types import Answer

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Engine(Protocol):
    """What the core needs from the index (index.engine.Engine provides it)."""

    tracked: Tracked
    analyzer: QueryAnalyzer

    def ask(self, question: str, *, top: int | None = None) -> Answer: ...

    def stats(self) -> dict[str, object]: ...

    def digest(self, negotiation: str, start: datetime, end: datetime) -> Digest: ...

    def reindex(self, progress: Callable[[int, int], None] | None = None, cancel: Any = None, force: bool = False) -> str: ...

    @property
    def gate_lines(self) -> list[str]: ...

    def ingest_url(self, url: str) -> IngestReport: ...

    def sources(self) -> list[tuple[str, int, str]]: ...


class Outbox(Protocol):
    """How the core posts and edits messages on a platform outside a request (progress, digests)."""

    async def post(self, channel: str, reply: Reply, thread: str | None = None) -> str: ...

    async def edit(self, channel: str, ref: str, reply: Reply) -> None: ...


class Bot:
    """Dispatches Events to commands; retrieval runs in worker threads off the event loop."""

    def __init__(
        self,
        engine: Engine,
        settings: BotSettings,
        state: BotState,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.engine = engine
        self.settings = settings
        self.state = state
        self.now = now
        self.limiter = RateLimiter(settings.rate_limit, clock)
        self.jobs = Jobs()
        self.outboxes: dict[str, Outbox] = {}
        self._pruned = 0.0
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="parley-index")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking index work in the worker pool, bounded by the answer timeout."""
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.wait_for(loop.run_in_executor(self._pool, call), self.settings.answer_timeout)

    def is_admin(self, event: Event) -> bool:
        admins = self.settings.admins.for_platform(event.platform)
        return event.user in admins or any(role in admins for role in event.roles)

    def continue_thread(self, event: Event, key: str) -> None:
        """Let conversation `key` (e.g. the id of the message that answered) share `event`'s thread context."""
        if event.thread is None:
            return
        ctx = self.state.thread(event.platform, event.channel, event.thread, time.time(), self.settings.thread_ttl)
        if ctx is not None:
            self.state.save_thread(event.platform, event.channel, key, ctx, time.time())

    def accepts(self, event: Event) -> bool:
        """Whether to answer at all: a thread reply not addressed to Parley only in a thread Parley answered,
        in a channel whose `threads` setting is "all"."""
        if event.addressed:
            return True
        if event.thread is None or self.state.channel_settings(event.platform, event.channel).threads != "all":
            return False
        return self.state.thread(event.platform, event.channel, event.thread, time.time(), self.settings.thread_ttl) is not None

    async def handle(self, event: Event) -> Reply | None:
        """Answer one event. Every failure becomes a visible error Reply with a log reference."""
        if not self.accepts(event):
            return None
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
            self.state.audit(event.platform, event.user, cmd.name, event.text, "refused: not an admin")
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

    def answer_reply(self, event: Event, answer: Answer, meta: dict[str, str] | None = None) -> Reply:
        """An answer Reply, stored so its buttons (more, post, votes) can refer to it later."""
        answer_id = secrets.token_hex(6)
        now = time.time()
        self.state.save_answer(answer_id, event.platform, event.channel, event.user, answer.question, answer.to_record(), now)
        if now - self._pruned > 3600:
            self._pruned = now
            self.state.prune_answers(now - self.settings.answer_ttl)
        feedback = self.state.channel_settings(event.platform, event.channel).feedback and bool(votable(answer))
        return Reply(kind="answer", answer=answer, meta=meta or {}, answer_id=answer_id, top=self.settings.top, feedback=feedback)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _ref() -> str:
    return secrets.token_hex(3)


def _plain_error(exc: Exception) -> str:
    from corpus.errors import ParleyError

    if isinstance(exc, ParleyError):
        return f"Sorry, I couldn't answer: {exc}"
    return "Sorry, something went wrong while answering."
