"""Stored articles for the index: a bounded LRU over the article store that reads the articles a question lacks in
one query, and passage texts sliced from them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np

from corpus.errors import ParleyError
from corpus.model import Article
from corpus.store import ArticleStore
from index.table import PassageTable

V = TypeVar("V")


class ArticleCache:
    """Articles by id, the `size` most recently used kept in memory. Call it for one article; `many` reads all
    the ones it lacks in one query. `texts` does the same for article texts alone (what a question's hundred-odd
    candidate sentences need: reading only the text column is about twice as fast as whole articles), kept in
    their own LRU of the same size."""

    def __init__(self, store: ArticleStore, size: int = 16384):
        self.store, self.size = store, size
        self._cache: OrderedDict[str, Article] = OrderedDict()
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, article_id: str) -> Article:
        return self.many([article_id])[article_id]

    def many(self, article_ids: Iterable[str]) -> dict[str, Article]:
        """Every named article; ParleyError when the store lacks one (the index names an article it lacks)."""
        return self._read(self._cache, article_ids, self.store.get_many)

    def texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Every named article's text; ParleyError as `many`."""
        return self._read(self._texts, article_ids, self.store.texts)

    def _read(self, cache: OrderedDict[str, V], article_ids: Iterable[str], load: Callable[[list[str]], dict[str, V]]) -> dict[str, V]:
        out: dict[str, V] = {}
        missing: list[str] = []
        with self._lock:
            for a in dict.fromkeys(article_ids):
                found = cache.get(a)
                if found is None:
                    missing.append(a)
                else:
                    cache.move_to_end(a)
                    out[a] = found
        if not missing:
            return out
        loaded = load(missing)
        lacking = [a for a in missing if a not in loaded]
        if lacking:  # `parley stats` reports it
            raise ParleyError(f"article {lacking[0]} is in the index but not in the article store; run `parley reindex`")
        with self._lock:
            for a in missing:
                out[a] = cache[a] = loaded[a]
            while len(cache) > self.size:
                cache.popitem(last=False)
        return out

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._texts.clear()


def passage_texts(table: PassageTable, articles: ArticleCache, rows: Iterable[int]) -> dict[int, str]:
    """The sentence text of each passage row, their articles read in one batch."""
    wanted = np.unique(np.fromiter(rows, dtype=np.int64))
    ids = [table.article_ids[a] for a in table.cols["art"][wanted].tolist()]
    arts = articles.texts(ids)
    starts, ends = table.cols["start"][wanted].tolist(), table.cols["end"][wanted].tolist()
    return {row: arts[a][s:e] for row, a, s, e in zip(wanted.tolist(), ids, starts, ends)}
