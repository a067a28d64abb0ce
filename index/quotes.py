"""Quote selection: verbatim sentences with citations, deduplicated, or an abstention with its reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from corpus.model import Article, Citation
from index.lexical import words
from index.retrieve import Candidate, Retrieval
from index.table import PassageTable
from index.types import Answer, Quote

# A sentence that opens with a pronoun or connective needs the sentence before it to make sense.
_NEEDS_CONTEXT = re.compile(
    r"^[“\"‘']?(?:(?:however|meanwhile|but|and|yet|still|instead|also|so|thus|then)\W+)?"
    r"(?:it|its|this|that|these|those|they|their|them|he|his|him|she|her|such)\b",
    re.IGNORECASE,
)
_SHORT = 40  # characters; a shorter sentence is quoted with its predecessor


@dataclass(frozen=True)
class Policy:
    top: int = 3
    threshold: float = 0.5  # abstain below this P(answerable); calibrated, see docs/retrieval.md
    margin: float = 1.5  # later quotes must score within this (logit units) of the best one,
    confident: float = 2.0  # or be confident answers themselves (log-odds >= 2, about P >= 0.88)
    # "More quotes" pages through candidates within two margins of the best, and also through any candidate
    # whose score still says it answers at least as likely as not (log-odds >= 0): a negotiation question's best
    # passage can lead by more than two margins while the next ones are good answers too
    more_floor: float = 0.0
    max_per_article: int = 2
    nearest: int = 2


def quote_span(table: PassageTable, row: int, text: str) -> tuple[int, int]:
    """The span to quote for a passage row: the sentence, with its predecessor when needed for sense."""
    start, end = table.span(row)
    sentence = text[start:end]
    if _NEEDS_CONTEXT.match(sentence) or len(sentence) < _SHORT:
        prev = table.neighbour(row, -1)
        if prev is not None:
            start = table.span(prev)[0]
    return start, end


def word_key(text: str) -> frozenset[str]:
    return frozenset(words(text))


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.8


def build_quotes(
    retrieval: Retrieval,
    table: PassageTable,
    article_of: Callable[[str], Article],
    policy: Policy,
    limit: int,
    floor: float,
) -> list[Quote]:
    """Best-first quotes from candidates scoring at least `floor`; near-identical ones merged."""
    quotes: list[Quote] = []
    keys: list[frozenset[str]] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    also: list[list[Citation]] = []
    for c in retrieval.candidates:
        if c.score < floor or len(quotes) >= limit:
            break
        art = article_of(table.article_id(c.row))
        start, end = quote_span(table, c.row, art.text)
        taken = spans.setdefault(art.id, [])
        if any(s < end and start < e for s, e in taken):
            start, end = table.span(c.row)  # the sentence before is already shown: quote this one alone
        if any(s < end and start < e for s, e in taken) or len(taken) >= policy.max_per_article:
            continue
        text = art.text[start:end]
        key = word_key(text)
        dup = next((i for i, k in enumerate(keys) if near_duplicate(k, key)), None)
        if dup is not None:  # the same sentence from another outlet: cite it, don't repeat it
            if art.id != quotes[dup].article_id:
                also[dup].append(art.citation)
                also[dup].extend(art.also)
            continue
        taken.append((start, end))
        keys.append(key)
        also.append(list(art.also))
        quotes.append(_quote(art, start, end, c))
    return [_with_also(q, a) for q, a in zip(quotes, also)]


def _quote(art: Article, start: int, end: int, c: Candidate) -> Quote:
    text = art.text[start:end]
    return Quote(text, art.id, art.title, art.source, art.url, art.published, c.score, start, end)


def _with_also(q: Quote, cites: list[Citation]) -> Quote:
    seen, unique = set(), []
    for c in cites:
        k = (c.source, c.url, c.title)
        if k not in seen and (c.source, c.url) != (q.source, q.url):
            seen.add(k)
            unique.append(c)
    return Quote(q.text, q.article_id, q.title, q.source, q.url, q.published, q.score, q.start, q.end, tuple(unique))


def answer(
    retrieval: Retrieval,
    table: PassageTable,
    article_of: Callable[[str], Article],
    policy: Policy,
    party_known: bool = True,
) -> Answer:
    """Quotes when the best passage clears the calibrated threshold; otherwise an explained abstention."""
    q = retrieval.query
    best = retrieval.candidates[0].score if retrieval.candidates else 0.0
    reason = text = ""
    if not retrieval.candidates:
        reason, text = "empty_index", "No articles are indexed yet."
    elif q.parties and not party_known:
        names = ", ".join(p.name for p in q.parties)
        reason, text = "not_mentioned", f"No indexed article mentions {names}."
    elif retrieval.confidence < policy.threshold and retrieval.missing_terms:
        names = ", ".join(retrieval.missing_terms)
        reason, text = "not_mentioned", f"No indexed article mentions {names}."
    elif retrieval.confidence < policy.threshold:
        reason, text = "no_passage", "Indexed articles touch on this, but no passage states an answer."
    if reason:
        nearest = build_quotes(retrieval, table, article_of, policy, policy.nearest, float("-inf"))
        return Answer(q.text, (), True, reason, text, tuple(nearest))
    floor = min(best - policy.margin, policy.confident)
    quotes = build_quotes(retrieval, table, article_of, policy, policy.top, floor)
    floor = min(best - 2 * policy.margin, policy.more_floor)
    more = build_quotes(retrieval, table, article_of, policy, policy.top * 4, floor)[len(quotes) :]
    return Answer(q.text, tuple(quotes), False, more=tuple(more))
