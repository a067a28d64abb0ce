"""The console transport: lines typed at a prompt become Events; Replies are printed as plain text."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from typing import TextIO

from bot.core import Bot
from bot.events import Event, Reply
from bot.view import QuoteView, View, view

PROMPT = "parley> "
WIDTH = 100


def translate(line: str, user: str = "console") -> Event | None:
    """A question, or `/command args` (e.g. `/help`, `/status`); blank lines are ignored."""
    line = line.strip()
    if not line:
        return None
    if line.startswith("/"):
        name, _, rest = line[1:].partition(" ")
        return Event("console", "console", user, rest.strip(), command=name.lower() or "help")
    return Event("console", "console", user, line)


def render(reply: Reply) -> str:
    """Plain text: heading, each quote in quotation marks with an indented citation, then the footer."""
    v: View = view(reply)
    out = [("Error: " if v.is_error else "") + v.heading]
    out += [f"  {line}" for line in v.lines]
    out += _quotes(v.quotes, v.first)
    for section in v.sections:
        out += ["", section.heading]
        out += _quotes(section.quotes)
    if v.footer:
        out += ["", v.footer]
    if any(q.buttons for q in v.quotes):
        out.append("Rate a quote: /vote N up|down [reason]")
    out += [f"[{b.label}] /{b.payload}" for b in v.buttons]  # buttons become commands to type
    return "\n".join(out)


class ConsoleOutbox:
    """Posts (progress, digests) are printed; an edit prints the new text as a fresh line."""

    def __init__(self, stdout: TextIO):
        self.stdout = stdout
        self.count = 0

    async def post(self, channel: str, reply: Reply, thread: str | None = None) -> str:
        self.stdout.write(render(reply) + "\n")
        self.stdout.flush()
        self.count += 1
        return str(self.count)

    async def edit(self, channel: str, ref: str, reply: Reply) -> None:
        await self.post(channel, reply)


def _quotes(quotes: tuple[QuoteView, ...], first: int = 1) -> list[str]:
    out: list[str] = []
    for n, q in enumerate(quotes, first):
        out.append("")
        text = q.text if q.text[:1] in "“\"‘" else f"“{q.text}”"
        out.append(textwrap.fill(text, WIDTH, initial_indent=f"{n}. ", subsequent_indent="   "))
        out.append(f"   — {q.citation}" + (f" ({q.note})" if q.note else ""))
        if q.url:
            out.append(f"     {q.url}")
        if q.also:
            out.append("     also reported by " + ", ".join(name + (f" <{url}>" if url else "") for name, url in q.also))
    return out


async def serve(bot: Bot, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Read questions until EOF or `/quit`; each is answered by the same core as the chat adapters."""
    bot.outboxes["console"] = ConsoleOutbox(stdout)
    loop = asyncio.get_running_loop()
    stdout.write("Parley console. Ask a question, or type /help. /quit or Ctrl-D leaves.\n")
    while True:
        stdout.write(PROMPT)
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in {"/quit", "/exit"}:
            stdout.write("\n")
            return
        event = translate(line)
        if event is None:
            continue
        reply = await bot.handle(event)
        if reply is not None:
            stdout.write(render(reply) + "\n\n")
