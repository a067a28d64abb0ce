"""One renderer model: turns a Reply into plain headings, quotes and citation lines that adapters format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.events import Reply
from index.types import Quote

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


def format_date(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def quote_view(q: Quote) -> QuoteView:
    also = tuple((c.source or c.title, c.url) for c in q.also_reported_by)
    return QuoteView(q.text, q.title, q.source, format_date(q.published), q.url, also, "later report" if q.later_report else "")


def view(reply: Reply) -> View:
    """The neutral rendering of a Reply that every adapter formats for its platform."""
    if reply.kind == "error":
        footer = f"Reference: {reply.ref}" if reply.ref else ""
        return View(reply.title, lines=reply.lines, footer=footer, is_error=True, ephemeral=reply.ephemeral)
    if reply.kind == "answer" and reply.answer is not None:
        a = reply.answer
        understood: tuple[str, ...] = (f"Understood as: {reply.meta['understood']}",) if "understood" in reply.meta else ()
        if a.abstained:
            lines: tuple[str, ...] = understood + ((a.reason_text,) if a.reason_text else ())
            if a.nearest:
                lines += (CLOSEST,)
            return View(NO_ANSWER, tuple(quote_view(q) for q in a.nearest), lines, a.freshness, ephemeral=reply.ephemeral)
        return View(
            f"From the indexed articles ({len(a.quotes)} quote{'s' if len(a.quotes) != 1 else ''}):",
            tuple(quote_view(q) for q in a.quotes),
            understood,
            footer=a.freshness,
            ephemeral=reply.ephemeral,
        )
    if reply.kind == "digest" and reply.digest is not None:
        d = reply.digest
        if d.empty:
            return View(d.no_news, ephemeral=reply.ephemeral)
        sections = tuple(Section(g.heading, tuple(quote_view(q) for q in g.quotes)) for g in d.groups)
        footer = f"{d.articles} article{'s' if d.articles != 1 else ''} in this window"
        if d.left_out:
            footer += f"; {d.left_out} more quote{'s' if d.left_out != 1 else ''} left out (ask with /digest for the full list)"
        return View(d.title, sections=sections, footer=footer + ".", ephemeral=reply.ephemeral)
    return View(reply.title, lines=reply.lines, ephemeral=reply.ephemeral)
