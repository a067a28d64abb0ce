"""Extractive daily digests: what each party demanded, offered, agreed and said, quoted and cited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from corpus.model import Article, Citation
from index.lexical import stem, words
from index.negotiations import Negotiation, Party
from index.passages import split_passages
from index.quotes import near_duplicate, word_key
from index.types import Quote

ACT_ORDER = ("demand", "offer", "agreement", "statement")
ACT_HEADINGS = {"demand": "Demands", "offer": "Offers and concessions", "agreement": "Agreements", "statement": "Statements"}
_QUOTE_MARKS = re.compile(r"[“”\"]")
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class DigestGroup:
    party: str
    act: str
    quotes: tuple[Quote, ...]

    @property
    def heading(self) -> str:
        return f"{self.party}: {ACT_HEADINGS.get(self.act, self.act.title())}"


@dataclass(frozen=True)
class Digest:
    negotiation_id: str
    negotiation: str
    start: datetime
    end: datetime
    groups: tuple[DigestGroup, ...]
    articles: int
    left_out: int = 0  # quotes beyond the per-group limit

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def title(self) -> str:
        return f"{self.negotiation}: digest {self.start:%-d %b %Y %H:%M} – {self.end:%-d %b %Y %H:%M} UTC"

    @property
    def no_news(self) -> str:
        return f"No new coverage of {self.negotiation} since {self.start:%-d %b %Y %H:%M} UTC."

    def to_json(self) -> dict[str, object]:
        return {
            "negotiation": self.negotiation_id,
            "name": self.negotiation,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "articles": self.articles,
            "left_out": self.left_out,
            "groups": [{"party": g.party, "act": g.act, "quotes": [q.to_json() for q in g.quotes]} for g in self.groups],
        }


@dataclass
class _Pick:
    quote: Quote
    party: str
    act: str
    score: float
    also: list[Citation] = field(default_factory=list)


def when(article: Article) -> datetime | None:
    """The time an article counts at: published, or ingested when the date is unknown."""
    return article.published or article.ingested_at


def classify(text: str, parties: Iterable[Party], act_stems: dict[str, frozenset[str]]) -> tuple[Party, str] | None:
    """The party a sentence is about (first named) and the first act whose words it uses."""
    named = [(m.start(), p) for p in parties if (m := p.pattern.search(text))]
    if not named:
        return None
    party = min(named, key=lambda x: x[0])[1]
    stems = {stem(w) for w in words(text)}
    for act in ACT_ORDER:
        if stems & act_stems.get(act, frozenset()):
            return party, act
    if _QUOTE_MARKS.search(text):
        return party, "statement"
    return None


def build_digest(
    negotiation: Negotiation,
    articles: Iterable[Article],
    acts: dict[str, tuple[str, ...]],
    start: datetime,
    end: datetime,
    per_group: int = 3,
) -> Digest:
    """The most informative sentences of the window's articles, grouped by party and act."""
    act_stems = {a: frozenset(stem(w) for w in ws if " " not in w) for a, ws in acts.items()}
    in_window = [a for a in articles if negotiation.id in a.negotiations and (t := when(a)) and start <= t < end]
    picks: list[_Pick] = []
    keys: list[frozenset[str]] = []
    for art in sorted(in_window, key=lambda a: (when(a), a.id)):
        for p in split_passages(art):
            found = classify(p.text, negotiation.parties, act_stems)
            if found is None:
                continue
            party, act = found
            key = word_key(p.text)
            dup = next((i for i, k in enumerate(keys) if near_duplicate(k, key)), None)
            if dup is not None:
                if picks[dup].quote.article_id != art.id:
                    picks[dup].also.append(art.citation)
                continue
            score = 1.0 + 0.5 * bool(_QUOTE_MARKS.search(p.text)) + 0.5 * bool(_NUMBER.search(p.text))
            quote = Quote(p.text, art.id, art.title, art.source, art.url, art.published, score, p.start, p.end, art.also)
            picks.append(_Pick(quote, party.name, act, score))
            keys.append(key)
    groups, left_out = [], 0
    for party in negotiation.parties:
        for act in ACT_ORDER:
            mine = sorted((p for p in picks if p.party == party.name and p.act == act), key=lambda p: -p.score)
            if not mine:
                continue
            left_out += max(0, len(mine) - per_group)
            quotes = tuple(_with_also(p) for p in mine[:per_group])
            groups.append(DigestGroup(party.name, act, quotes))
    return Digest(negotiation.id, negotiation.name, start, end, tuple(groups), len(in_window), left_out)


def _with_also(p: _Pick) -> Quote:
    q = p.quote
    also = tuple(dict.fromkeys(q.also_reported_by + tuple(p.also)))
    return Quote(q.text, q.article_id, q.title, q.source, q.url, q.published, q.score, q.start, q.end, also)


def default_window(now: datetime, hours: int = 24) -> tuple[datetime, datetime]:
    return now - timedelta(hours=hours), now
