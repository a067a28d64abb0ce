"""Duplicate detection: exact (same content id) and near-duplicate (syndicated copies) via MinHash LSH."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 5  # words per shingle: long enough that articles on the same story do not collide
THRESHOLD = 0.7  # estimated Jaccard similarity of shingle sets for "the same article"
PERM = 128
SCHEME = "affine32"  # datasketch's hashing scheme; kept signatures are only comparable within one scheme
_WORD = re.compile(r"\w+")
_DTYPE = MinHash(num_perm=1, seed=7, scheme=SCHEME).hashvalues.dtype  # of the signature bytes kept in the store


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
    m = MinHash(num_perm=PERM, seed=7, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingles(text)])  # numpy over all shingles at once
    return m


class Deduper:
    """Remembers articles by id and MinHash; `check` says whether a text duplicates one of them."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERM)
        self._hashes: dict[str, MinHash] = {}
        self._last: tuple[str, MinHash] | None = None  # the MinHash `check` computed, reused by `add`

    def add(self, article_id: str, text: str = "", signature: bytes | None = None) -> bytes:
        """Remember an article (by its text, or by a signature from `add` kept in the store); returns the signature."""
        if article_id in self._hashes:
            return bytes(self._hashes[article_id].hashvalues.tobytes())
        if signature is not None:
            m = MinHash(num_perm=PERM, seed=7, hashvalues=np.frombuffer(signature, dtype=_DTYPE).copy(), scheme=SCHEME)
        else:
            m = self._last[1] if self._last is not None and self._last[0] == text else minhash(text)
        self._hashes[article_id] = m
        self._lsh.insert(article_id, m)
        return bytes(m.hashvalues.tobytes())

    def check(self, article_id: str, text: str) -> Duplicate | None:
        if article_id in self._hashes:
            return Duplicate("exact", article_id, 1.0)
        m = minhash(text)
        self._last = (text, m)
        best: Duplicate | None = None
        for other in self._lsh.query(m):
            sim = float(m.jaccard(self._hashes[other]))
            if sim >= THRESHOLD and (best is None or sim > best.similarity):
                best = Duplicate("near", other, sim)
        return best
