"""The article store and dedup: persistence, idempotent re-ingest, syndicated copies stored once with citations."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from corpus.dedup import Deduper
from corpus.ingest import ingest_articles, ingest_paths
from corpus.loaders import make_article
from corpus.model import Citation
from corpus.store import ArticleStore

STORY = (
    "Negotiators for the dock workers' union and the port operators met for nine hours on Monday without a deal. "
    "The union demanded a ban on automated cranes at the two largest terminals, while the operators offered a "
    "four-year job guarantee for current staff. Both sides agreed to meet again on Thursday with a federal mediator."
)


def test_persists_across_reopen(tmp_path: Path) -> None:
    art = make_article("Dock talks", STORY, source="Wire", url="https://example.org/1", published="2026-10-01T10:00:00Z")
    store = ArticleStore(tmp_path / "a.sqlite3")
    assert store.add(art) and not store.add(art)
    store.add_copy(art.id, Citation("Copy", "Paper", "https://example.org/2", None))
    store.set_meta("k", "v")
    store.close()
    again = ArticleStore(tmp_path / "a.sqlite3")
    got = again.get(art.id)
    assert got is not None and got.text == STORY and got.published == datetime(2026, 10, 1, 10, tzinfo=timezone.utc)
    assert got.ingested_at is not None and [c.source for c in got.also] == ["Paper"]
    assert again.get_meta("k") == "v" and again.count() == 1
    assert [a.id for a in again.iter_articles(batch=1)] == [art.id]


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Dock talks\n\n" + STORY)
    store = ArticleStore(tmp_path / "a.sqlite3")
    assert len(ingest_paths(store, [folder]).added) == 1
    second = ingest_paths(store, [folder])
    assert second.added == [] and [kind for _, _, kind in second.duplicates] == ["exact"]
    assert store.count() == 1


def test_syndicated_copy_stored_once_with_both_citations(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite3")
    original = make_article("Dock talks", STORY, source="Wire", url="https://wire.example/1")
    copy = make_article("Dock talks end without deal", "By Staff Reporter\n\n" + STORY + "\n\nAdditional reporting by a colleague.", source="Paper", url="https://paper.example/9")
    report = ingest_articles(store, [original, copy])
    assert [a.id for a in report.added] == [original.id]
    assert report.duplicates == [(copy.title, original.id, "near")]
    stored = store.get(original.id)
    assert stored is not None and [(c.source, c.url) for c in stored.also] == [("Paper", "https://paper.example/9")]


def test_unrelated_articles_on_the_same_talks_are_not_duplicates() -> None:
    dedup = Deduper()
    dedup.add("a", STORY)
    other = (
        "The port operators said on Tuesday that automation was essential to stay competitive. "
        "The dock workers' union called the four-year job guarantee an insult and threatened a strike "
        "at the two largest terminals if no deal is reached by Thursday."
    )
    assert dedup.check("b", other) is None
    near = dedup.check("c", STORY.replace("nine hours", "nine long hours"))
    assert near is not None and near.kind == "near" and near.of_id == "a"


def test_sources_and_freshness(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite3")
    store.add(make_article("A", "Alpha text.", source="Wire", published="2026-10-01T00:00:00Z"))
    store.add(make_article("B", "Beta text.", source="Wire", published="2026-10-03T00:00:00Z"))
    store.add(make_article("C", "Gamma text.", source="Paper"))
    assert [(s, n) for s, n, _ in store.sources()] == [("Wire", 2), ("Paper", 1)]
    assert store.newest_published() == datetime(2026, 10, 3, tzinfo=timezone.utc)
    assert store.last_ingest() is not None


def test_texts_and_the_article_cache(tmp_path: Path) -> None:
    from corpus.errors import ParleyError
    from index.articles import ArticleCache

    store = ArticleStore(tmp_path / "a.sqlite3")
    arts = [make_article(f"Dock talks {i}", f"Day {i}. " + STORY, source="Wire", url=f"https://example.org/{i}") for i in range(3)]
    for a in arts:
        store.add(a)
    ids = [a.id for a in arts]
    assert store.texts(ids + ["nope"]) == {a.id: a.text for a in arts}
    cache = ArticleCache(store, size=2)
    assert cache.texts(ids) == {a.id: a.text for a in arts}
    assert len(cache._texts) == 2  # bounded: the least recently used went
    assert cache.many(ids[:1])[ids[0]].text == arts[0].text
    with pytest.raises(ParleyError, match="parley reindex"):  # the index names an article the store lacks
        cache.texts(["nope"])
