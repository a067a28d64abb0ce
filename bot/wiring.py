"""Builds the engine and the bot from settings: the one place that wires concrete clients together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from bot.core import Bot
from bot.events import Reply
from bot.schedule import DigestScheduler, Post
from bot.settings import Settings
from bot.state import BotState, Subscription
from index.embedder import Embedder
from index.engine import Engine
from index.negotiations import load_tracked

logger = logging.getLogger(__name__)


def open_engine(settings: Settings, embedder: Embedder | None = None) -> Engine:
    """The index engine over `settings.data_dir`, with the tracked negotiations loaded."""
    tracked = load_tracked(settings.negotiations_file)
    return Engine(settings.index, settings.data_dir, tracked, embedder=embedder)


def build_bot(settings: Settings, engine: Engine) -> Bot:
    """The bot core over `engine`, with its own state in <data_dir>/bot.sqlite3."""
    return Bot(engine, settings.bot, BotState(settings.data_dir / "bot.sqlite3"))


def digest_scheduler(bot: Bot, platforms: list[str], clock: Callable[[], datetime] | None = None) -> DigestScheduler:
    """Posts subscribed digests through each platform's outbox (registered when its adapter starts)."""

    async def build(negotiation: str, start: datetime, end: datetime) -> Reply:
        digest = await bot.run(bot.engine.digest, negotiation, start, end)
        return Reply(kind="digest", digest=digest)

    def poster(platform: str) -> Post:
        async def post(sub: Subscription, reply: Reply) -> None:
            outbox = bot.outboxes.get(platform)
            if outbox is None:
                raise RuntimeError(f"{platform} is not connected yet")
            await outbox.post(sub.channel, reply)

        return post

    return DigestScheduler(bot.state, build, {p: poster(p) for p in platforms}, clock or (lambda: datetime.now(timezone.utc)))
