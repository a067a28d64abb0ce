"""One renderer model: turns a Reply into plain headings, quotes and citation lines that adapters format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.events import Button, Reply
from index.types import Answer, Quote

NO_ANSWER = "No answer in the indexed articles."
CLOSEST = "Closest passages, not an answer:"


@dataclass(frozen=True)
class QuoteView:
    """A quote as shown: the verbatim text and its citation parts (all plain, unescaped text)."""

    text: str
    title: str
    source: str
    date: str
    url: str
    also: tuple[tuple[str, str], ...] = ()  # (source or title, url) of other outlets
    note: str = ""  # e.g. "later report"
    buttons: tuple[Button, ...] = ()  # 👍/👎 for this quote

    @property
    def citation(self) -> str:
        """Title, source and date joined for a one-line context (the link is rendered separately)."""
        return " · ".join(part for part in (self.title, self.source, self.date) if part)


@dataclass(frozen=True)
class Section:
    """A titled group of quotes (a digest's "Russia: Demands"); adapters render it like the main quotes."""

    heading: str
    quotes: tuple[QuoteView, ...]


@dataclass(frozen=True)
class View:
    heading: str
    quotes: tuple[QuoteView, ...] = ()
    lines: tuple[str, ...] = ()
    footer: str = ""
    is_error: bool = False
    ephemeral: bool = False
    sections: tuple[Section, ...] = ()  # after `quotes`; used by digests
    buttons: tuple[Button, ...] = ()  # "More quotes", "Post to channel", a 👎's reasons
    first: int = 1  # number of the first quote (a "More quotes" page continues the numbering)


def format_date(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def quote_view(q: Quote, buttons: tuple[Button, ...] = ()) -> QuoteView:
    also = tuple((c.source or c.title, c.url) for c in q.also_reported_by)
    return QuoteView(q.text, q.title, q.source, format_date(q.published), q.url, also, "later report" if q.later_report else "", buttons)


def votable(a: Answer) -> tuple[Quote, ...]:
    """The quotes of a stored answer that buttons number 1, 2, …: its quotes and further ones, or, when
    it abstained, the closest passages (a 👍 there says the passage did answer)."""
    return a.nearest if a.abstained else a.quotes + a.more


def page_of(a: Answer, page: int, top: int) -> tuple[int, tuple[Quote, ...]]:
    """(number of the first quote, quotes) on a page: page 0 is the answer itself, then `top` at a time."""
    if a.abstained or page <= 0:
        return 1, (a.nearest if a.abstained else a.quotes)
    start = len(a.quotes) + (page - 1) * top
    return start + 1, a.more[start - len(a.quotes) : start - len(a.quotes) + top]


def _vote_buttons(reply: Reply, n: int) -> tuple[Button, ...]:
    if not (reply.feedback and reply.answer_id):
        return ()
    return (Button("👍", "vote", f"{reply.answer_id} {n} up"), Button("👎", "vote", f"{reply.answer_id} {n} down"))


def _answer_buttons(reply: Reply, a: Answer, first: int, shown: int, share: bool) -> tuple[Button, ...]:
    if not reply.answer_id:
        return reply.buttons
    out: list[Button] = []
    if not a.abstained and first - 1 + shown < len(a.quotes) + len(a.more):
        out.append(Button("More quotes", "more", f"{reply.answer_id} {reply.page + 1}"))
    if share:
        out.append(Button("Post to channel", "post", f"{reply.answer_id} {reply.page}", primary=True))
    return tuple(out) + reply.buttons


def view(reply: Reply, share: bool = False) -> View:
    """The neutral rendering of a Reply that every adapter formats for its platform.

    `share` adds a "Post to channel" button (the adapter knows when the answer is visible only to the asker)."""
    if reply.kind == "error":
        footer = f"Reference: {reply.ref}" if reply.ref else ""
        return View(reply.title, lines=reply.lines, footer=footer, is_error=True, ephemeral=reply.ephemeral)
    if reply.kind == "answer" and reply.answer is not None:
        a = reply.answer
        understood: tuple[str, ...] = tuple(
            f"{label}: {reply.meta[key]}" for key, label in (("question", "Question"), ("understood", "Understood as")) if key in reply.meta
        )
        first, shown = page_of(a, reply.page, reply.top)
        quotes = tuple(quote_view(q, _vote_buttons(reply, first + i)) for i, q in enumerate(shown))
        buttons = _answer_buttons(reply, a, first, len(shown), share)
        if a.abstained:
            lines: tuple[str, ...] = understood + ((a.reason_text,) if a.reason_text else ())
            if a.nearest:
                lines += (CLOSEST,)
            return View(NO_ANSWER, quotes, lines, a.freshness, ephemeral=reply.ephemeral, buttons=buttons)
        if reply.page > 0:
            total = len(a.quotes) + len(a.more)
            heading = f"More from the indexed articles (quotes {first}–{first + len(shown) - 1} of {total}):"
            if not shown:
                heading = "No more quotes for this question."
        else:
            heading = f"From the indexed articles ({len(a.quotes)} quote{'s' if len(a.quotes) != 1 else ''}):"
        return View(heading, quotes, understood, footer=a.freshness, ephemeral=reply.ephemeral, buttons=buttons, first=first)
    if reply.kind == "digest" and reply.digest is not None:
        d = reply.digest
        if d.empty:
            return View(d.no_news, ephemeral=reply.ephemeral)
        sections = tuple(Section(g.heading, tuple(quote_view(q) for q in g.quotes)) for g in d.groups)
        footer = f"{d.articles} article{'s' if d.articles != 1 else ''} in this window"
        if d.left_out:
            footer += f"; {d.left_out} more quote{'s' if d.left_out != 1 else ''} left out (ask with /digest for the full list)"
        return View(d.title, sections=sections, footer=footer + ".", ephemeral=reply.ephemeral)
    return View(reply.title, lines=reply.lines, ephemeral=reply.ephemeral, buttons=reply.buttons)
