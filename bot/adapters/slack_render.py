"""Pure Slack translation: request bodies to Events, Replies to Block Kit payloads (escaped, within limits)."""

from __future__ import annotations

import re
from typing import Any

from bot.commands import COMMANDS
from bot.events import Event, Reply
from bot.view import QuoteView, View, view

SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
FALLBACK_LIMIT = 3000
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
PUBLIC_FLAG = "--public"


def escape(text: str) -> str:
    """Slack's three control characters, in this order; after it `<!channel>` or `<@U1>` is inert text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def translate_command(body: dict[str, Any]) -> tuple[Event, bool] | None:
    """A slash command as an Event, plus whether the answer should be posted to the channel.

    `/parley WORD rest` runs command WORD (default help); `/NAME rest` runs NAME. `--public` posts in channel.
    """
    slash = str(body.get("command", "")).lstrip("/").lower()
    text = str(body.get("text", "")).strip()
    public = False
    if text.startswith(PUBLIC_FLAG):
        public, text = True, text[len(PUBLIC_FLAG) :].strip()
    if slash == "parley":
        word, _, text = text.partition(" ")
        slash, text = (word.lower() or "help"), text.strip()
    if not slash:
        return None
    return Event("slack", str(body.get("channel_id", "")), str(body.get("user_id", "")), text, command=slash), public


def translate_event(event: dict[str, Any]) -> Event | None:
    """An app_mention or a direct message as an ask Event (the bot's mention stripped); anything else None."""
    if event.get("bot_id") or event.get("subtype"):
        return None  # the bot's own or another bot's messages, edits, joins
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") != "im":
        return None
    if kind not in {"app_mention", "message"}:
        return None
    text = _MENTION.sub("", str(event.get("text", ""))).strip()
    thread = event.get("thread_ts") or event.get("ts")
    command = "ask"
    first = text.split(" ", 1)[0].lower().lstrip("/")
    if first in COMMANDS and first != "ask" and (text.startswith("/") or first in {"help", "status"}):
        command, text = first, text.split(" ", 1)[1] if " " in text else ""
    return Event("slack", str(event.get("channel", "")), str(event.get("user", "")), text, command=command, thread=thread)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _chunks(text: str, size: int) -> list[str]:
    """Split on line or word boundaries into pieces of at most `size` characters."""
    out: list[str] = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else size
        out.append(text[:cut])
        text = text[cut:].lstrip()
    if text:
        out.append(text)
    return out


def quote_blocks(q: QuoteView, n: int) -> list[dict[str, Any]]:
    """One quote as block quote section(s) and a context line with title, source, date and link."""
    quoted = "\n".join("> " + line for line in escape(q.text).split("\n"))
    blocks = [_section(chunk) for chunk in _chunks(f"*{n}.* {quoted}", SECTION_LIMIT)]
    cite = " · ".join(escape(part) for part in (q.title, q.source, q.date) if part)
    if q.url:
        cite += f" · <{escape(q.url)}|Open article>"
    if q.note:
        cite += f" · _{escape(q.note)}_"
    blocks.append(_context(cite))
    if q.also:
        also = ", ".join(f"<{escape(url)}|{escape(name)}>" if url else escape(name) for name, url in q.also)
        blocks.append(_context(f"Also reported by {also}"))
    return blocks


def render(reply: Reply, question: str = "") -> dict[str, Any]:
    """Block Kit blocks plus the fallback `text`; all article and user text escaped."""
    v: View = view(reply)
    head = ("⚠️ " if v.is_error else "") + f"*{escape(v.heading)}*"
    blocks: list[dict[str, Any]] = []
    if question:
        blocks.append(_context(f"Question: {escape(question)}"))
    blocks += [_section(chunk) for chunk in _chunks(head, SECTION_LIMIT)]
    if v.lines:
        blocks += [_section(chunk) for chunk in _chunks("\n".join(escape(line) for line in v.lines), SECTION_LIMIT)]
    groups: list[tuple[str, tuple[QuoteView, ...]]] = [("", v.quotes)] + [(s.heading, s.quotes) for s in v.sections]
    tail = [_context(escape(v.footer))] if v.footer else []
    shown = total = 0
    for heading, quotes in groups:
        if heading:
            heading_block = [_section(f"*{escape(heading)}*")]
            if len(blocks) + len(heading_block) + len(tail) + 1 <= BLOCK_LIMIT:
                blocks += heading_block
        for n, q in enumerate(quotes, 1):
            total += 1
            qb = quote_blocks(q, n)
            if len(blocks) + len(qb) + len(tail) + 1 <= BLOCK_LIMIT:
                blocks += qb
                shown += 1
    if shown < total:
        left = total - shown
        tail.insert(0, _context(f"{left} more quote{'s' if left != 1 else ''} not shown (Slack's message size limit)."))
    blocks += tail
    fallback = escape(v.heading)
    if v.quotes:
        fallback += " " + escape(f"“{v.quotes[0].text}” ({v.quotes[0].citation})")
    return {"text": fallback[:FALLBACK_LIMIT], "blocks": blocks[:BLOCK_LIMIT]}
