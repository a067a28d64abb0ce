"""Near-duplicate detection across ingests, with MinHash signatures kept in the article store."""

from __future__ import annotations

from pathlib import Path

from corpus.ingest import ingest_articles
from corpus.loaders import make_article
from corpus.store import ArticleStore


def test_signatures_kept_in_the_store_find_copies_in_a_later_ingest(tmp_path: Path) -> None:
    body = " ".join(f"Sentence {i} of the wire story about the ceasefire talks in Geneva and the monitors." for i in range(12))
    store = ArticleStore(tmp_path / "a.sqlite3")
    first = ingest_articles(store, [make_article("Original", body, source="Wire A", url="https://a.example/1")])
    assert [a.title for a in first.added] == ["Original"] and len(store.signatures()) == 1
    reopened = ArticleStore(tmp_path / "a.sqlite3")  # a new process: the signature comes from the store
    copy = make_article("Copy", body + " Additional reporting by Wire B.", source="Wire B", url="https://b.example/1")
    second = ingest_articles(reopened, [copy])
    assert second.added == [] and [(t, kind) for t, _, kind in second.duplicates] == [("Copy", "near")]
    assert [c.source for c in reopened.copies(first.added[0].id)] == ["Wire B"]
