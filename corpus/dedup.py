"""Duplicate detection: exact (same content id) and near-duplicate (syndicated copies) via MinHash LSH."""

from __future__ import annotations

import re
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

SHINGLE = 5  # words per shingle: long enough that articles on the same story do not collide
THRESHOLD = 0.7  # estimated Jaccard similarity of shingle sets for "the same article"
PERM = 128
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Duplicate:
    kind: str  # "exact" or "near"
    of_id: str
    similarity: float


def shingles(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def minhash(text: str) -> MinHash:
    m = MinHash(num_perm=PERM, seed=7)
    for s in shingles(text):
        m.update(s.encode("utf-8"))
    return m


class Deduper:
    """Remembers articles by id and MinHash; `check` says whether a text duplicates one of them."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERM)
        self._hashes: dict[str, MinHash] = {}

    def add(self, article_id: str, text: str) -> None:
        if article_id in self._hashes:
            return
        m = minhash(text)
        self._hashes[article_id] = m
        self._lsh.insert(article_id, m)

    def check(self, article_id: str, text: str) -> Duplicate | None:
        if article_id in self._hashes:
            return Duplicate("exact", article_id, 1.0)
        m = minhash(text)
        best: Duplicate | None = None
        for other in self._lsh.query(m):
            sim = float(m.jaccard(self._hashes[other]))
            if sim >= THRESHOLD and (best is None or sim > best.similarity):
                best = Duplicate("near", other, sim)
        return best
