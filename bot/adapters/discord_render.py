"""Pure Discord translation: messages and interactions to Events, Replies to embeds within Discord's limits."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.events import Event, Reply
from bot.view import QuoteView, View, view

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
EMBEDS_LIMIT = 10
CONTENT_LIMIT = 2000
COLOR = 0x3B6EA5
ERROR_COLOR = 0xC0392B


def inert(text: str) -> str:
    """Article or user text shown literally: no Markdown, links or mentions (AllowedMentions.none() as well)."""
    return escape_mentions(escape_markdown(text)).replace("](", "]\u200b(")


def safe_url(url: str) -> str:
    """A URL that cannot break out of a Markdown link."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def translate_message(content: str, *, author_id: int, channel_id: int, bot_user_id: int, is_bot: bool,
                      mentioned: bool, is_dm: bool, message_id: int, roles: tuple[int, ...] = ()) -> Event | None:
    """A mention or DM as an ask Event with the bot's mention stripped; the bot's own and bots' messages are None."""
    if is_bot or author_id == bot_user_id or not (mentioned or is_dm):
        return None
    for form in (f"<@{bot_user_id}>", f"<@!{bot_user_id}>"):
        content = content.replace(form, " ")
    text = " ".join(content.split())
    return Event("discord", str(channel_id), str(author_id), text, thread=str(message_id), roles=tuple(str(r) for r in roles))


def translate_interaction(command: str, text: str, *, user_id: int, channel_id: int, roles: tuple[int, ...] = ()) -> Event:
    return Event("discord", str(channel_id), str(user_id), text.strip(), command=command, roles=tuple(str(r) for r in roles))


def quote_block(q: QuoteView, n: int) -> str:
    cite = " · ".join(inert(part) for part in (q.title, q.source, q.date) if part)
    if q.url:
        cite += f" · [Open article]({safe_url(q.url)})"
    if q.note:
        cite += f" · *{inert(q.note)}*"
    lines = [f"**{n}.** " + "\n".join("> " + line for line in inert(q.text).split("\n")), f"— {cite}"]
    if q.also:
        lines.append("Also reported by " + ", ".join(f"[{inert(name)}]({safe_url(url)})" if url else inert(name) for name, url in q.also))
    return "\n".join(lines)


def _blocks(v: View) -> list[str]:
    blocks = []
    if v.lines:
        blocks.append("\n".join(inert(line) for line in v.lines))
    for n, q in enumerate(v.quotes, 1):
        blocks.append(quote_block(q, n))
    for section in v.sections:
        blocks.append(f"__**{inert(section.heading)}**__")
        blocks += [quote_block(q, n) for n, q in enumerate(section.quotes, 1)]
    return blocks


def render(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for `send`/`followup.send`: embeds within every Discord limit, no mentions allowed."""
    v = view(reply)
    title = (("⚠️ " if v.is_error else "") + v.heading)[:TITLE_LIMIT]
    footer = v.footer[:FOOTER_LIMIT]
    embeds: list[discord.Embed] = []
    current: list[str] = []
    budget = TOTAL_LIMIT - len(title) - len(footer) - 80  # room for the "not shown" note
    left_out = 0
    blocks = _blocks(v)
    for i, block in enumerate(blocks):
        block = block[:DESCRIPTION_LIMIT]
        size = len(block) + 2
        if size > budget or (len(embeds) == EMBEDS_LIMIT - 1 and len("\n\n".join(current)) + size > DESCRIPTION_LIMIT):
            left_out = sum(1 for b in blocks[i:] if b.startswith("**"))
            break
        if len("\n\n".join(current + [block])) > DESCRIPTION_LIMIT:
            embeds.append(discord.Embed(description="\n\n".join(current), color=COLOR))
            current = []
        current.append(block)
        budget -= size
    if left_out:
        current.append(f"*{left_out} more quote{'s' if left_out != 1 else ''} not shown (Discord's message size limit).*")
    if current or not embeds:
        embeds.append(discord.Embed(description="\n\n".join(current) or None, color=COLOR))
    embeds[0].title = title
    embeds[0].color = ERROR_COLOR if v.is_error else COLOR
    if footer:
        embeds[-1].set_footer(text=footer)
    return {"embeds": embeds, "allowed_mentions": discord.AllowedMentions.none()}
