"""Pure Discord translation: messages and interactions to Events, Replies to embeds within Discord's limits."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.events import Button, Event, Reply
from bot.view import QuoteView, View, view

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
EMBEDS_LIMIT = 10
CONTENT_LIMIT = 2000
CUSTOM_ID_LIMIT = 100
COMPONENTS_LIMIT = 25  # buttons per message (5 rows of 5)
BUTTON_PREFIX = "parley:"
COLOR = 0x3B6EA5
ERROR_COLOR = 0xC0392B


def inert(text: str) -> str:
    """Article or user text shown literally: no Markdown, links or mentions (AllowedMentions.none() as well)."""
    return escape_mentions(escape_markdown(text)).replace("](", "]\u200b(")


def safe_url(url: str) -> str:
    """A URL that cannot break out of a Markdown link."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def translate_message(content: str, *, author_id: int, channel_id: int, bot_user_id: int, is_bot: bool,
                      mentioned: bool, is_dm: bool, message_id: int, roles: tuple[int, ...] = (),
                      reply_to: int | None = None, in_thread: bool = False) -> Event | None:
    """A mention or DM as an ask Event with the bot's mention stripped; the bot's own and bots' messages are None.

    The conversation ("thread" of the Event) is the Discord thread when the message is in one, else the message
    it replies to (a reply to Parley's answer continues that answer's question), else the message itself. A
    message in a Discord thread, or a reply (with the reply ping turned off), that does not mention Parley is an
    unaddressed Event: the core answers it only in a conversation Parley answered in, where the channel's
    `threads` setting is "all". Any other message that does not mention Parley is None."""
    if is_bot or author_id == bot_user_id or not (mentioned or is_dm or in_thread or reply_to):
        return None
    thread = str(channel_id) if in_thread else str(reply_to or message_id)
    for form in (f"<@{bot_user_id}>", f"<@!{bot_user_id}>"):
        content = content.replace(form, " ")
    text = " ".join(content.split())
    return Event("discord", str(channel_id), str(author_id), text, thread=thread, roles=tuple(str(r) for r in roles),
                 addressed=mentioned or is_dm)


def translate_interaction(command: str, text: str, *, user_id: int, channel_id: int, roles: tuple[int, ...] = ()) -> Event:
    return Event("discord", str(channel_id), str(user_id), text.strip(), command=command, roles=tuple(str(r) for r in roles))


def translate_button(custom_id: str, *, user_id: int, channel_id: int, roles: tuple[int, ...] = ()) -> Event | None:
    """A press of one of our buttons (custom_id `parley:command args`) as an Event; anything else None."""
    if not custom_id.startswith(BUTTON_PREFIX):
        return None
    name, args = Button.parse(custom_id[len(BUTTON_PREFIX) :])
    return translate_interaction(name, args, user_id=user_id, channel_id=channel_id, roles=roles) if name else None


class ParleyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.compile(re.escape(BUTTON_PREFIX) + r".+")):
    """A persistent button whose custom_id carries the command to run, so presses work after a restart
    (registered with `Client.add_dynamic_items`). A press calls the client's `press(interaction, custom_id)`."""

    def __init__(self, label: str, custom_id: str, primary: bool = False) -> None:
        style = discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label[:80], custom_id=custom_id[:CUSTOM_ID_LIMIT], style=style))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /) -> ParleyButton:
        return cls(getattr(item, "label", None) or "", match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.client.press(interaction, self.item.custom_id or "")


def components(buttons: list[Button]) -> discord.ui.View | None:
    """Buttons as a persistent view (no timeout), at most Discord's 25; None when there are none."""
    if not buttons:
        return None
    v = discord.ui.View(timeout=None)
    for b in buttons[:COMPONENTS_LIMIT]:
        v.add_item(ParleyButton(b.label, BUTTON_PREFIX + b.payload, b.primary))
    return v


def quote_block(q: QuoteView, n: int) -> str:
    cite = " · ".join(inert(part) for part in (q.title, q.source, q.date) if part)
    if q.url:
        cite += f" · [Open article]({safe_url(q.url)})"
    if q.note:
        cite += f" · *{inert(q.note)}*"
    # the number on its own line: Discord renders "> " as a block quote only at the start of a line
    lines = [f"**{n}.**", *("> " + line for line in inert(q.text).split("\n")), f"— {cite}"]
    if q.also:
        lines.append("Also reported by " + ", ".join(f"[{inert(name)}]({safe_url(url)})" if url else inert(name) for name, url in q.also))
    return "\n".join(lines)


def _blocks(v: View, question: str = "") -> list[str]:
    blocks = []
    lines = ([f"Question: {question}"] if question else []) + list(v.lines)
    if lines:
        blocks.append("\n".join(inert(line) for line in lines))
    for n, q in enumerate(v.quotes, v.first):
        blocks.append(quote_block(q, n))
    for section in v.sections:
        blocks.append(f"__**{inert(section.heading)}**__")
        blocks += [quote_block(q, n) for n, q in enumerate(section.quotes, 1)]
    return blocks


def render(reply: Reply, question: str = "", share: bool = False) -> dict[str, Any]:
    """Keyword arguments for `send`/`followup.send`: embeds within every Discord limit, no mentions allowed,
    and a `view` of buttons when the reply has any (👍/👎 labelled with the quote's number).

    Args:
        question: echoed above an answer only the asker sees ("" for none).
        share: the answer is visible only to the asker; add a "Post to channel" button.
    """
    v = view(reply, share=share)
    title = (("⚠️ " if v.is_error else "") + v.heading)[:TITLE_LIMIT]
    footer = v.footer[:FOOTER_LIMIT]
    embeds: list[discord.Embed] = []
    current: list[str] = []
    budget = TOTAL_LIMIT - len(title) - len(footer) - 80  # room for the "not shown" note
    left_out = 0
    blocks = _blocks(v, question)
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
    out: dict[str, Any] = {"embeds": embeds, "allowed_mentions": discord.AllowedMentions.none()}
    numbered = [Button(f"{b.label} {n}", b.command, b.args) for n, q in enumerate(v.quotes, v.first) for b in q.buttons]
    if buttons := components(numbered + list(v.buttons)):
        out["view"] = buttons
    return out
