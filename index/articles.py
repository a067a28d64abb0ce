"""Stored articles for the index: a bounded LRU over the article store that reads the articles a question lacks in
one query, and passage texts sliced from them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from corpus.errors import ParleyError
from corpus.model import Article
from corpus.store import ArticleStore
from index.table import PassageTable


class ArticleCache:
    """Articles by id, the `size` most recently used kept in memory. Call it for one article; `many` reads all
    the ones it lacks in one query, which is what a question's hundred-odd candidate sentences need."""

    def __init__(self, store: ArticleStore, size: int = 16384):
        self.store, self.size = store, size
        self._cache: OrderedDict[str, Article] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, article_id: str) -> Article:
        return self.many([article_id])[article_id]

    def many(self, article_ids: Iterable[str]) -> dict[str, Article]:
        """Every named article; ParleyError when the store lacks one (the index names an article it lacks)."""
        out: dict[str, Article] = {}
        missing: list[str] = []
        with self._lock:
            for a in dict.fromkeys(article_ids):
                art = self._cache.get(a)
                if art is None:
                    missing.append(a)
                else:
                    self._cache.move_to_end(a)
                    out[a] = art
        if not missing:
            return out
        found = self.store.get_many(missing)
        lacking = [a for a in missing if a not in found]
        if lacking:  # `parley stats` reports it
            raise ParleyError(f"article {lacking[0]} is in the index but not in the article store; run `parley reindex`")
        with self._lock:
            for a in missing:
                out[a] = self._cache[a] = found[a]
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return out

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()


def passage_texts(table: PassageTable, articles: ArticleCache, rows: Iterable[int]) -> dict[int, str]:
    """The sentence text of each passage row, their articles read in one batch."""
    wanted = np.unique(np.fromiter(rows, dtype=np.int64))
    ids = [table.article_ids[a] for a in table.cols["art"][wanted].tolist()]
    arts = articles.many(ids)
    starts, ends = table.cols["start"][wanted].tolist(), table.cols["end"][wanted].tolist()
    return {row: arts[a].text[s:e] for row, a, s, e in zip(wanted.tolist(), ids, starts, ends)}
