"""The `digest` command: a digest now, and per-channel daily subscriptions."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.commands import command
from bot.events import Event, Reply
from bot.schedule import parse_time
from bot.state import Subscription
from corpus.errors import ParleyError

if TYPE_CHECKING:
    from bot.core import Bot

USAGE = "digest [NEGOTIATION] | digest subscribe NEGOTIATION HH:MM [TIMEZONE] | digest unsubscribe NEGOTIATION | digest list"


def _negotiation(bot: Bot, name: str) -> str:
    tracked = bot.engine.tracked
    if not name:
        if len(tracked.negotiations) == 1:
            return tracked.negotiations[0].id
        raise ParleyError("name a negotiation: " + ", ".join(f"`{n.id}`" for n in tracked.negotiations))
    neg = tracked.get(name)
    if neg is None:
        known = ", ".join(f"`{n.id}`" for n in tracked.negotiations) or "none"
        raise ParleyError(f"`{name}` is not a tracked negotiation; tracked: {known}")
    return neg.id


async def digest_reply(bot: Bot, negotiation: str, hours: float = 24.0) -> Reply:
    end = bot.now()
    digest = await bot.run(bot.engine.digest, negotiation, end - timedelta(hours=hours), end)
    return Reply(kind="digest", digest=digest)


@command("digest", "A digest of what each party demanded, offered, agreed and said; daily subscriptions.", USAGE)
async def digest(bot: Bot, event: Event) -> Reply:
    words = event.text.split()
    sub = words[0].lower() if words else ""
    try:
        if sub == "list":
            subs = bot.state.subscriptions(event.platform, event.channel)
            if not subs:
                return Reply.notice("This channel has no digest subscriptions.", f"Subscribe with `{USAGE.split(' | ')[1]}`.", ephemeral=True)
            return Reply.notice("Digest subscriptions in this channel:", *(f"{s.negotiation} daily at {s.at} {s.tz}" for s in subs), ephemeral=True)
        if sub == "subscribe":
            if len(words) < 3:
                raise ParleyError(f"usage: `{USAGE.split(' | ')[1]}`")
            neg = _negotiation(bot, words[1])
            tz = words[3] if len(words) > 3 else "UTC"
            parse_time(words[2], tz)
            bot.state.subscribe(Subscription(event.platform, event.channel, neg, words[2], tz, event.user))
            return Reply.notice(f"Subscribed: a digest of {neg} will be posted here daily at {words[2]} {tz}.")
        if sub == "unsubscribe":
            if len(words) < 2:
                raise ParleyError(f"usage: `{USAGE.split(' | ')[2]}`")
            neg = _negotiation(bot, words[1])
            if bot.state.unsubscribe(event.platform, event.channel, neg):
                return Reply.notice(f"Unsubscribed this channel from the {neg} digest.")
            return Reply.notice(f"This channel was not subscribed to {neg}.", ephemeral=True)
        return await digest_reply(bot, _negotiation(bot, event.text.strip()))
    except ParleyError as exc:
        return Reply.notice(str(exc), ephemeral=True)
