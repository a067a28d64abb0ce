"""The lexical index: BM25 over stemmed tokens, in append-only segments, saved as inspectable JSON and arrays.

An ingest adds a segment for its new passages instead of rebuilding the index; scores use corpus-wide
statistics (document frequency, average length) summed over the segments at query time, so a passage scores
the same whichever segment holds it. This is why the index keeps term frequencies (a scipy sparse matrix per
segment) rather than bm25s' precomputed scores, which bake one corpus's idf into every entry and can only grow
by a full rebuild. The scoring is bm25s' default (Lucene) BM25, checked against a longhand reference in the
tests. Adjacent small segments are merged (no re-tokenising) so a query never visits more than MAX_SEGMENTS.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import Stemmer

logger = logging.getLogger(__name__)

PATTERN = r"(?u)\b\w+\b"
# Bytes of per-term scores each LexicalIndex keeps for terms asked again (see LexicalIndex.postings_scores)
TERM_CACHE_BYTES = 64 << 20
TOKENIZER: dict[str, object] = {"pattern": PATTERN, "lower": True, "stemmer": "english", "stopwords": "bm25s-en"}
K1, B = 1.2, 0.75
EMPTY = "\u2205"  # the one token of a passage with no content words, so every passage has a length
MAX_SEGMENTS = 8
FORMAT = "parley-bm25-segments/1"
_WORD = re.compile(PATTERN)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (apostrophe endings like 's dropped), before stopwords and stemming."""
    return [w for w in _WORD.findall(text.lower().replace("’", "'")) if w != "s"]


@lru_cache(maxsize=1 << 17)
def stem(word: str) -> str:
    """Snowball English stem (memoised: feature code stems the same words for every candidate)."""
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[str]:
    """Content tokens: stopwords removed, Snowball-stemmed. Queries and documents share this."""
    stops = stopwords()
    return [stem(w) for w in words(text) if w not in stops]


class Segment:
    """Term frequencies of consecutive passages: a docs × terms sparse matrix (CSC: one column per term)."""

    def __init__(self, terms: list[str], tf: sp.csc_matrix, doc_len: np.ndarray):
        self.terms = terms
        self.vocab = {t: i for i, t in enumerate(terms)}
        self.tf = tf
        self.doc_len = doc_len
        self.saved: Path | None = None  # the folder this segment's files are in, so a later save can link them

    def __len__(self) -> int:
        return int(self.doc_len.shape[0])

    @classmethod
    def build(cls, texts: Sequence[str]) -> Segment:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        data: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int32)
        for i, text in enumerate(texts):
            toks = tokenize(text) or [EMPTY]
            lengths[i] = len(toks)
            for tok, n in Counter(toks).items():
                rows.append(i)
                cols.append(vocab.setdefault(tok, len(vocab)))
                data.append(n)
        tf = sp.csc_matrix((np.asarray(data, dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
        return cls(list(vocab), tf, lengths)

    def df(self, token: str) -> int:
        col = self.vocab.get(token)
        return 0 if col is None else int(self.tf.indptr[col + 1] - self.tf.indptr[col])

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, term frequencies) of the passages containing `token`."""
        col = self.vocab.get(token)
        if col is None:
            return None
        lo, hi = self.tf.indptr[col], self.tf.indptr[col + 1]
        return self.tf.indices[lo:hi], self.tf.data[lo:hi]

    @staticmethod
    def merge(a: Segment, b: Segment) -> Segment:
        """One segment holding a's passages then b's; b's terms are mapped into a's vocabulary."""
        terms = list(a.terms)
        vocab = dict(a.vocab)
        remap = np.empty(len(b.terms), dtype=np.int64)
        for j, term in enumerate(b.terms):
            col = vocab.get(term)
            if col is None:
                col = vocab[term] = len(terms)
                terms.append(term)
            remap[j] = col
        ca, cb = a.tf.tocoo(), b.tf.tocoo()
        rows = np.concatenate([ca.row, cb.row + len(a)])
        cols = np.concatenate([ca.col, remap[cb.col]])
        data = np.concatenate([ca.data, cb.data]).astype(np.float32)
        tf = sp.csc_matrix((data, (rows, cols)), shape=(len(a) + len(b), len(terms)))
        return Segment(terms, tf, np.concatenate([a.doc_len, b.doc_len]))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = ("terms.json", "tf.npz", "doc_len.npy")
        if self.saved is not None and all((self.saved / n).exists() for n in names):
            for n in names:  # unchanged since it was saved: link the files instead of writing them again
                try:
                    os.link(self.saved / n, folder / n)
                except OSError:
                    shutil.copy2(self.saved / n, folder / n)
        else:
            (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False))
            sp.save_npz(folder / "tf.npz", self.tf)
            np.save(folder / "doc_len.npy", self.doc_len, allow_pickle=False)
        self.saved = folder

    @classmethod
    def load(cls, folder: Path) -> Segment:
        seg = cls(json.loads((folder / "terms.json").read_text()), sp.csc_matrix(sp.load_npz(folder / "tf.npz")),
                  np.load(folder / "doc_len.npy", allow_pickle=False))
        seg.saved = folder
        return seg


class LexicalIndex:
    """BM25 over passages; row i is passage row i of the PassageTable. Immutable: `add` returns a new index
    that shares the old segments, so readers of the old one are never disturbed."""

    def __init__(self, segments: Sequence[Segment]):
        self.segments = tuple(segments)
        self.n_docs = sum(len(s) for s in self.segments)
        self._avgdl = float(sum(int(s.doc_len.sum()) for s in self.segments)) / self.n_docs if self.n_docs else 1.0
        self._offsets = np.cumsum([0] + [len(s) for s in self.segments])
        self._idf: dict[str, float] = {}  # memo: the index never changes (add returns a new one)
        self._norms: dict[int, np.ndarray] = {}  # per segment, BM25's length normalisation of every passage
        self._terms: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # LRU of postings_scores
        self._terms_bytes = 0
        self._terms_lock = threading.Lock()

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        return cls([Segment.build(texts)] if texts else [])

    def add(self, texts: Sequence[str]) -> LexicalIndex:
        """This index plus `texts` as new rows at the end (a new segment; small neighbours merged)."""
        if not texts:
            return self
        segments = [*self.segments, Segment.build(texts)]
        while len(segments) > MAX_SEGMENTS:  # merge the adjacent pair with the fewest passages
            i = min(range(len(segments) - 1), key=lambda j: len(segments[j]) + len(segments[j + 1]))
            segments[i : i + 2] = [Segment.merge(segments[i], segments[i + 1])]
        return LexicalIndex(segments)

    def has(self, token: str) -> bool:
        return any(token in s.vocab for s in self.segments)

    def df(self, token: str) -> int:
        return sum(s.df(token) for s in self.segments)

    def idf(self, token: str) -> float:
        """BM25 (Lucene) idf of a stemmed token over the whole corpus (0 when the corpus never uses it)."""
        idf = self._idf.get(token)
        if idf is None:
            df = self.df(token)
            idf = self._idf[token] = float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))) if df else 0.0
        return idf

    def scores(self, token: str) -> np.ndarray | None:
        """BM25 contribution of one token to every passage, or None if the token is unknown."""
        found = self.postings_scores(token)
        if found is None:
            return None
        out = np.zeros(self.n_docs, dtype=np.float32)
        out[found[0]] = found[1]
        return out

    def postings_scores(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, float32 BM25 contributions) of the passages containing `token`, or None if the token is
        unknown: `scores` without the zeros (a common word touches a few percent of a million).

        The arrays of recently asked terms are kept (read-only), up to TERM_CACHE_BYTES: a team asks about the
        same parties and talks again and again, and at a million passages a common term's scores cost more to
        compute than to add up. The index never changes (`add` returns a new one), so a kept entry is never stale."""
        with self._terms_lock:
            kept = self._terms.get(token)
            if kept is not None:
                self._terms.move_to_end(token)
                return kept
        found = self._postings_scores(token)
        if found is not None:
            size = found[0].nbytes + found[1].nbytes
            if size <= TERM_CACHE_BYTES // 16:  # no single term crowds out the rest
                for a in found:
                    a.flags.writeable = False
                with self._terms_lock:
                    if token not in self._terms:
                        self._terms[token] = found
                        self._terms_bytes += size
                    while self._terms_bytes > TERM_CACHE_BYTES:
                        _, (rows, vals) = self._terms.popitem(last=False)
                        self._terms_bytes -= rows.nbytes + vals.nbytes
        return found

    def _postings_scores(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        idf = self.idf(token)
        if not idf:
            return None
        rows_out, vals_out = [], []
        for i, (seg, offset) in enumerate(zip(self.segments, self._offsets)):
            found = seg.postings(token)
            if found is None:
                continue
            rows, tf = found
            norm = self._norms.get(i)
            if norm is None:  # computed once per segment instead of per query term (same values)
                norm = self._norms[i] = K1 * (1 - B + B * seg.doc_len / self._avgdl)
            rows_out.append(offset + rows.astype(np.int64))
            vals_out.append((idf * tf / (tf + norm[rows])).astype(np.float32))
        return (np.concatenate(rows_out), np.concatenate(vals_out)) if rows_out else None

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = [f"segment-{i:03d}" for i in range(len(self.segments))]
        for seg, name in zip(self.segments, names):
            seg.save(folder / name)
        manifest = {"format": FORMAT, "tokenizer": TOKENIZER, "k1": K1, "b": B, "n_docs": self.n_docs, "segments": names}
        (folder / "index.json").write_text(json.dumps(manifest, indent=2))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        path = folder / "index.json"
        if not path.exists():
            raise ValueError(f"{folder}: a lexical index of an older Parley version; run `parley reindex`")
        manifest = json.loads(path.read_text())
        if manifest.get("tokenizer") != TOKENIZER or (manifest.get("k1"), manifest.get("b")) != (K1, B):
            raise ValueError(f"{folder}: built with {manifest.get('tokenizer')}, k1/b {manifest.get('k1')}/{manifest.get('b')}; reindex")
        return cls([Segment.load(folder / name) for name in manifest["segments"]])
