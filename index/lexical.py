"""The lexical index: BM25 (bm25s) over stemmed sentence tokens, saved as inspectable JSON and arrays."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

logger = logging.getLogger(__name__)

PATTERN = r"(?u)\b\w+\b"
TOKENIZER: dict[str, object] = {"pattern": PATTERN, "lower": True, "stemmer": "english", "stopwords": "bm25s-en"}
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


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[str]:
    """Content tokens: stopwords removed, Snowball-stemmed. Queries and documents share this."""
    stops = stopwords()
    return [stem(w) for w in words(text) if w not in stops]


class LexicalIndex:
    """BM25 over a list of passages; rows are passage rows in the PassageTable."""

    def __init__(self, retriever: bm25s.BM25, n_docs: int):
        self.retriever = retriever
        self.n_docs = n_docs
        self.vocab: dict[str, int] = retriever.vocab_dict or {}

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus_tokens = [tokenize(t) or ["\u2205"] for t in texts]
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, len(texts))

    def has(self, token: str) -> bool:
        return token in self.vocab

    def idf(self, token: str) -> float:
        """BM25-style idf of a stemmed token (0 when the corpus never uses it)."""
        if token not in self.vocab:
            return 0.0
        df = self._df()[self.vocab[token]]
        return float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def _df(self) -> np.ndarray:
        if not hasattr(self, "_df_cache"):
            indptr = np.asarray(self.retriever.scores["indptr"])
            self._df_cache = np.diff(indptr)
        return self._df_cache

    def scores(self, token: str) -> np.ndarray | None:
        """BM25 contribution of one token to every passage, or None if the token is unknown."""
        if token not in self.vocab:
            return None
        return np.asarray(self.retriever.get_scores([token]), dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        (folder / "tokenizer.json").write_text(json.dumps({**TOKENIZER, "n_docs": self.n_docs}, indent=2))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        saved = json.loads((folder / "tokenizer.json").read_text())
        if {k: saved.get(k) for k in TOKENIZER} != TOKENIZER:
            raise ValueError(f"{folder}: built with tokenizer {saved}, this version uses {TOKENIZER}; reindex")
        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(retriever, int(saved["n_docs"]))
