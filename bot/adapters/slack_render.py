"""Pure Slack translation: request bodies to Events, Replies to Block Kit payloads (escaped, within limits)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote as percent_encode

from bot.commands import COMMANDS
from bot.events import Button, Event, Reply
from bot.view import QuoteView, View, view

SECTION_LIMIT = 3000  # characters of a section's (and a context element's) mrkdwn text
BLOCK_LIMIT = 50  # blocks per message
FALLBACK_LIMIT = 3000  # our own cap on the top-level `text` (Slack cuts at 40,000)
CITE_PART_LIMIT = 300  # a title or source longer than this is clipped in the citation line
ALSO_LIMIT = 10  # outlets named in "Also reported by", each clipped to ALSO_NAME_LIMIT, so the line stays whole
ALSO_NAME_LIMIT = 200
PUBLIC_FLAG = "--public"
ACTION_PREFIX = "parley-"  # action_id of every Parley button: parley-<n>; its value is the Button payload
BUTTON_TEXT_LIMIT = 75
BUTTONS_PER_BLOCK = 25
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")  # a cut must not split "&amp;", "&lt;" or "&gt;"
_URL_SAFE = ":/?#[]@!$&'*+,;=%-._~"  # everything else (| < > spaces quotes) is percent-encoded


def escape(text: str) -> str:
    """Slack's three control characters, in this order; after it `<!channel>` or `<@U1>` is inert text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A Slack link built by us from a stored URL; not http(s) gives no link, and `|`/`>` cannot break out."""
    if not url.lower().startswith(("https://", "http://")):
        return ""
    return f"<{escape(percent_encode(url, safe=_URL_SAFE))}|{escape(label)}>"


# ---------------------------------------------------------------------------------------------- inbound


def translate(body: dict[str, Any]) -> Event | None:
    """A slash command, app_mention or direct-message request body as an Event; anything else None.

    Slash commands: `/parley WORD rest` runs command WORD (default help), `/NAME rest` runs NAME, and a
    leading `--public` (see `is_public`) is removed from the text. Mentions and DMs ask a question unless
    they start with `help`, `status` or `/NAME`. The bot's own and other bots' messages, edits and other
    message subtypes, and channel messages that are not mentions are None.
    """
    if "command" in body:
        return _translate_command(body)
    event = body.get("event")
    if body.get("type") == "event_callback" and isinstance(event, dict):
        return _translate_event(event, _bot_user(body))
    return None


def is_public(body: dict[str, Any]) -> bool:
    """Whether a slash command asked for its answer to be posted to the channel (`/ask --public ...`)."""
    return PUBLIC_FLAG in _command_words(body)[1]


def _command_words(body: dict[str, Any]) -> tuple[str, set[str], str]:
    """The command name, the flags found, and the remaining text of a slash command body."""
    slash = str(body.get("command", "")).lstrip("/").lower()
    text = str(body.get("text", "")).strip()
    flags: set[str] = set()

    def take_flag(rest: str) -> str:
        if rest == PUBLIC_FLAG or rest.startswith(PUBLIC_FLAG + " "):
            flags.add(PUBLIC_FLAG)
            return rest[len(PUBLIC_FLAG) :].strip()
        return rest

    text = take_flag(text)
    if slash == "parley":
        word, _, text = text.partition(" ")
        slash, text = (word.lower().lstrip("/") or "help"), take_flag(text.strip())
    return slash, flags, text


def _translate_command(body: dict[str, Any]) -> Event | None:
    slash, _, text = _command_words(body)
    if not slash:
        return None
    return Event("slack", str(body.get("channel_id", "")), str(body.get("user_id", "")), text, command=slash)


def _bot_user(body: dict[str, Any]) -> str:
    for auth in body.get("authorizations") or ():
        if isinstance(auth, dict) and auth.get("is_bot") and auth.get("user_id"):
            return str(auth["user_id"])
    return ""


def _translate_event(event: dict[str, Any], bot_user: str) -> Event | None:
    if event.get("bot_id") or event.get("subtype") or (bot_user and event.get("user") == bot_user):
        return None  # the bot's own or another bot's messages, edits, joins
    kind = event.get("type")
    addressed = True
    if kind == "message" and event.get("channel_type") != "im":
        mentioned = bool(bot_user) and f"<@{bot_user}" in str(event.get("text", ""))
        if mentioned or not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"):
            return None  # mentions arrive as app_mention too; other channel messages are not for Parley
        addressed = False  # a reply in a thread: answered only where the channel's `threads` setting is "all"
    if kind not in {"app_mention", "message"} or not event.get("user"):
        return None
    text = _MENTION.sub(" ", str(event.get("text", ""))).strip()
    thread = event.get("thread_ts") or event.get("ts")
    command = "ask"
    first, _, rest = text.partition(" ")
    name = first.lower().lstrip("/")
    if name in COMMANDS and name != "ask" and (first.startswith("/") or name in {"help", "status"}):
        command, text = name, rest.strip()
    return Event("slack", str(event.get("channel", "")), str(event["user"]), text, command=command, thread=thread, addressed=addressed)


# --------------------------------------------------------------------------------------------- outbound


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}]}


def _safe_cut(text: str, cut: int) -> int:
    """Move a cut back so it does not split an escape entity."""
    tail = _ENTITY_TAIL.search(text[max(0, cut - 4) : cut])
    return cut - len(tail.group()) if tail and cut - len(tail.group()) > 0 else cut


def _clip(text: str, size: int) -> str:
    """Escaped text shortened to `size` characters with an ellipsis, never inside an entity."""
    if len(text) <= size:
        return text
    return text[: _safe_cut(text, size - 1)] + "…"


def _chunks(text: str, size: int) -> list[str]:
    """Split escaped text on line or word boundaries into pieces of at most `size` characters."""
    out: list[str] = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else _safe_cut(text, size)
        out.append(text[:cut])
        text = text[cut:].lstrip()
    if text:
        out.append(text)
    return out


def _pack(lines: list[str], size: int) -> list[str]:
    """Join lines (each at most `size`) into as few texts of at most `size` characters as possible."""
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) + 1 + len(line) <= size:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def quote_blocks(q: QuoteView, n: int) -> list[dict[str, Any]]:
    """One quote: its number, the verbatim text as a block quote (every line starts with `> `, also in
    continuation sections), then a context line with title · source · date · link."""
    width = SECTION_LIMIT - len(f"*{n}.*\n> ")  # the first piece shares its section with the number
    quoted = [f"> {piece}" for line in escape(q.text).split("\n") for piece in _chunks(line, width) or [""]]
    blocks = [_section(text) for text in _pack([f"*{n}.*", *quoted], SECTION_LIMIT)]
    parts = [_clip(escape(part), CITE_PART_LIMIT) for part in (q.title, q.source, q.date) if part]
    if q.url and (open_link := link(q.url, "Open article")):
        parts.append(open_link)
    if q.note:
        parts.append(f"_{escape(q.note)}_")
    if parts:
        blocks.append(_context(" · ".join(parts)))
    if q.also:
        shown = [(_clip(name, ALSO_NAME_LIMIT), url) for name, url in q.also[:ALSO_LIMIT]]
        names = [link(url, name) or escape(name) for name, url in shown]
        more = f" and {len(q.also) - ALSO_LIMIT} more" if len(q.also) > ALSO_LIMIT else ""
        blocks.append(_context("Also reported by " + ", ".join(names) + more))
    return blocks


def actions_block(buttons: tuple[Button, ...], first_id: int) -> dict[str, Any]:
    """Buttons as one Block Kit actions block; each value is `command args` for `translate_action`."""
    elements = []
    for i, b in enumerate(buttons[:BUTTONS_PER_BLOCK]):
        element: dict[str, Any] = {
            "type": "button",
            "action_id": f"{ACTION_PREFIX}{first_id + i}",
            "text": {"type": "plain_text", "text": b.label[:BUTTON_TEXT_LIMIT], "emoji": True},
            "value": b.payload[:2000],
        }
        if b.primary:
            element["style"] = "primary"
        elements.append(element)
    return {"type": "actions", "elements": elements}


def translate_action(body: dict[str, Any]) -> Event | None:
    """A block_actions request for one of our buttons as an Event (the button's command and args)."""
    actions = body.get("actions") or []
    if body.get("type") != "block_actions" or not actions or not str(actions[0].get("action_id", "")).startswith(ACTION_PREFIX):
        return None
    name, args = Button.parse(str(actions[0].get("value", "")))
    if name not in COMMANDS:
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    user = (body.get("user") or {}).get("id", "")
    thread = (body.get("message") or {}).get("thread_ts")
    return Event("slack", str(channel), str(user), args, command=name, thread=thread)


def render(reply: Reply, question: str = "", share: bool = False) -> dict[str, Any]:
    """Block Kit `blocks` plus the plain `text` fallback; all article and user text escaped.

    Args:
        reply: what the core returned.
        question: echoed above an ephemeral answer so the asker sees what was answered ("" for none).
        share: the answer is visible only to the asker; add a "Post to channel" button.
    """
    v: View = view(reply, share=share)
    blocks: list[dict[str, Any]] = []
    if question:
        blocks.append(_context(f"Question: {escape(question)}"))
    if v.heading:
        blocks += [_section(chunk) for chunk in _chunks(("⚠️ " if v.is_error else "") + f"*{escape(v.heading)}*", SECTION_LIMIT)]
    if v.lines:
        lines = [piece for line in v.lines for piece in _chunks(escape(line), SECTION_LIMIT)]
        blocks += [_section(text) for text in _pack(lines, SECTION_LIMIT)]
    groups: list[tuple[str, tuple[QuoteView, ...]]] = [("", v.quotes)] + [(s.heading, s.quotes) for s in v.sections]
    tail = [_context(escape(v.footer))] if v.footer else []
    if v.buttons:
        tail.append(actions_block(v.buttons, 0))
    shown = total = 0
    for heading, quotes in groups:
        if heading and len(blocks) + 1 + len(tail) + 1 <= BLOCK_LIMIT:
            blocks.append(_section(_clip(f"*{escape(heading)}*", SECTION_LIMIT)))
        for n, q in enumerate(quotes, v.first if not heading else 1):
            total += 1
            qb = quote_blocks(q, n)
            if q.buttons:
                qb.append(actions_block(q.buttons, 100 + 10 * n))
            if len(blocks) + len(qb) + len(tail) + 1 <= BLOCK_LIMIT:  # +1 keeps room for the "not shown" line
                blocks += qb
                shown += 1
    if shown < total:
        left = total - shown
        tail.insert(0, _context(f"{left} more quote{'s' if left != 1 else ''} not shown (Slack's message size limit)."))
    blocks += tail
    fallback = escape(v.heading or next(iter(v.lines), "") or "Parley")
    if v.quotes:
        fallback += " " + escape(f"“{v.quotes[0].text}” ({v.quotes[0].citation})")
    fallback = _clip(fallback, FALLBACK_LIMIT)
    return {"text": fallback, "blocks": blocks[:BLOCK_LIMIT] or [_section(fallback)]}
