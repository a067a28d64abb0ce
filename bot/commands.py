"""The one command table that every adapter registers (slash commands, app commands, console)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import Event, Reply
from index.followup import ThreadContext, is_followup, rewrite

if TYPE_CHECKING:
    from bot.core import Bot

Handler = Callable[["Bot", Event], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    usage: str
    handler: Handler
    admin: bool = False
    slash: bool = True  # registered as its own slash / app command; False: buttons, `/parley NAME` and the console


COMMANDS: dict[str, Command] = {}


def command(name: str, summary: str, usage: str = "", admin: bool = False, slash: bool = True) -> Callable[[Handler], Handler]:
    """Register a handler in COMMANDS under `name`."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(name, summary, usage or name, fn, admin, slash)
        return fn

    return register


@command("ask", "Ask a question; the answer quotes the articles verbatim, with citations.", "ask QUESTION")
async def ask(bot: Bot, event: Event) -> Reply:
    question = event.text.strip()
    if not question:
        return Reply.notice("Ask me a question, for example: what did Russia demand?", ephemeral=True)
    meta: dict[str, str] = {}
    if event.thread:
        raw = bot.state.thread(event.platform, event.channel, event.thread, time.time(), bot.settings.thread_ttl)
        if raw is not None and is_followup(question):
            question = rewrite(ThreadContext.from_json(raw), question, bot.engine.analyzer)
            meta["understood"] = question
    answer = await bot.run(bot.engine.ask, question, top=bot.settings.top)
    reply = bot.answer_reply(event, answer, meta)
    if event.thread:
        q = bot.engine.analyzer.analyze(question)
        dates = sorted(x.published.date().isoformat() for x in answer.quotes if x.published)
        ctx = ThreadContext(question, tuple(p.name for p in q.parties), q.acts, dates[0] if dates else "", dates[-1] if dates else "")
        bot.state.save_thread(event.platform, event.channel, event.thread, ctx.to_json(), time.time())
    return reply


@command("help", "Show what Parley can do.", "help")
async def help_(bot: Bot, event: Event) -> Reply:
    lines = [f"`{c.usage}`: {c.summary}" + (" (admins only)" if c.admin else "") for c in COMMANDS.values()]
    lines.append("Mention me or send me a direct message to ask a question.")
    lines.append("I only quote the indexed articles verbatim; I never write answers of my own.")
    return Reply.notice("Parley answers questions from the indexed news articles.", *lines, ephemeral=True)


@command("status", "Articles, passages, index version and last ingest.", "status")
async def status(bot: Bot, event: Event) -> Reply:
    stats = await bot.run(bot.engine.stats)
    lines = [f"{key.replace('_', ' ')}: {value}" for key, value in stats.items()]
    return Reply.notice("Parley status", *lines, ephemeral=True)
