"""Sentence passages with character offsets, from pysbd's rule-based sentence splitter."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from corpus.model import Article
from index.types import Passage

_PARA = re.compile(r"\n\s*\n|\n")
# Splits pysbd leaves joined when a paragraph has no blank line between sentences and
# a closing quote is followed by a capital: “... president!” Trump wrote.
_MIN_CHARS = 2
# pysbd compiles hundreds of regexes per call, some built from the text, more than Python's regex cache keeps
# (512): each call recompiled its fixed patterns, two thirds of the splitting time. The cache size is a module
# global that re reads on every compile; a larger one keeps them (same sentences, splitting ~2x faster).
if getattr(re, "_MAXCACHE", 0) < 4096:
    re._MAXCACHE = 4096  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _pieces(text: str) -> list[str]:
    """pysbd's sentences of one paragraph: its Processor, which `Segmenter.segment` runs and then searches the
    text for each sentence with a newly compiled regex (whatever `char_span` says). That search was half of
    the splitting time; split_sentences finds each piece after the previous one instead (same spans on the
    seeds, squad-a, the demo corpus and the test fixtures). A Processor is made per call, so threads may share
    the segmenter."""
    return _segmenter().processor(text).process() if text else []


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty paragraph (lines are paragraphs in normalised text)."""
    spans, pos = [], 0
    for m in _PARA.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_sentences(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of one paragraph, trimmed of surrounding space."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in _pieces(text):
        core = piece.strip()
        start = text.find(core, pos) if core else -1
        if start < 0:  # empty, or not the paragraph's own text (never seen with clean=False): nothing to quote
            continue
        end = pos = start + len(core)
        if spans and spans[-1][1] == start and not text[start - 1].isspace():
            # a boundary with no space after it ("<!channel>", "Yahoo!Inc") is not a sentence end
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return [(base + s, base + e) for s, e in spans if e - s >= _MIN_CHARS]


def split_passages(article: Article) -> list[Passage]:
    """Every sentence of the article body as a Passage; `text` is `article.text[start:end]`."""
    passages: list[Passage] = []
    for para_no, (p_start, p_end) in enumerate(paragraphs(article.text)):
        for start, end in split_sentences(article.text[p_start:p_end], p_start):
            seq = len(passages)
            passages.append(
                Passage(f"{article.id}:{seq}", article.id, seq, para_no, start, end, article.text[start:end])
            )
    return passages
