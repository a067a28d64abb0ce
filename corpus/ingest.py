"""Ingestion: load, drop duplicates (keeping syndicated copies' citations), and store."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.dedup import Deduper
from corpus.loaders import LoadResult, load_paths
from corpus.model import Article
from corpus.store import ArticleStore

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: list[Article] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (title, of article id, "exact"|"near")
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


def deduper_for(store: ArticleStore) -> Deduper:
    """A Deduper that knows every stored article, from the signatures kept in the store (computed once)."""
    dedup = Deduper()
    signatures = store.signatures()
    for article_id, signature in signatures.items():
        dedup.add(article_id, signature=signature)
    if len(signatures) < store.count():  # articles stored before signatures were kept
        for art in store.iter_articles():
            if art.id not in signatures:
                store.set_signature(art.id, dedup.add(art.id, art.text))
    return dedup


def ingest_articles(store: ArticleStore, loaded: LoadResult | Iterable[Article], deduper: Deduper | None = None, what: str = "") -> IngestReport:
    """Store each new article; a duplicate is not stored again, but another outlet's copy keeps its citation."""
    result = loaded if isinstance(loaded, LoadResult) else LoadResult(list(loaded))
    dedup = deduper or deduper_for(store)
    report = IngestReport(rejected=list(result.rejected))
    for art in result.articles:
        dup = dedup.check(art.id, art.text)
        if dup is not None:
            original = store.get(dup.of_id)
            if original is not None and (art.source, art.url) != (original.source, original.url):
                store.add_copy(dup.of_id, art.citation)
            report.duplicates.append((art.title, dup.of_id, dup.kind))
            continue
        if store.add(art):
            store.set_signature(art.id, dedup.add(art.id, art.text))
            stored = store.get(art.id)
            report.added.append(stored or art)
    store.log_ingest(what, len(report.added), len(report.duplicates), len(report.rejected))
    return report


def ingest_paths(store: ArticleStore, paths: list[Path], deduper: Deduper | None = None) -> IngestReport:
    """Load files and folders and ingest them; bad files are reported, never stop the others."""
    return ingest_articles(store, load_paths(paths), deduper, ", ".join(map(str, paths)))
