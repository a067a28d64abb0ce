"""The SQLite article store: the system of record; every index can be rebuilt from it."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from corpus.model import Article, Citation

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, source TEXT NOT NULL, url TEXT NOT NULL,
    published TEXT, published_ts INTEGER, negotiations TEXT NOT NULL, ingested_at TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS copies (
    article_id TEXT NOT NULL REFERENCES articles(id), title TEXT NOT NULL, source TEXT NOT NULL,
    url TEXT NOT NULL, published TEXT, UNIQUE (article_id, source, url, title)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ingest_log (
    at TEXT NOT NULL, what TEXT NOT NULL, added INTEGER NOT NULL, duplicates INTEGER NOT NULL, rejected INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signatures (article_id TEXT PRIMARY KEY, minhash BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS articles_seq ON articles(seq);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_ts);
CREATE INDEX IF NOT EXISTS articles_ingested ON articles(ingested_at);
"""
_COLS = "id, title, text, source, url, published, negotiations, ingested_at"


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class ArticleStore:
    """Articles, syndicated copies' citations, small metadata and the ingest log, in one SQLite file (WAL)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _q(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def add(self, article: Article) -> bool:
        """Store an article once; False if an article with that id is already stored."""
        ingested = article.ingested_at or datetime.now(timezone.utc)
        ts = int(article.published.timestamp()) if article.published else None
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO articles VALUES (?,?,?,?,?,?,?,?,?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM articles))",
                (article.id, article.title, article.text, article.source, article.url, _iso(article.published), ts,
                 json.dumps(list(article.negotiations)), ingested.isoformat()),
            )
            return cur.rowcount > 0

    def add_copy(self, article_id: str, citation: Citation) -> bool:
        """Keep the citation of a syndicated copy of `article_id` (its text is not stored twice)."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO copies VALUES (?,?,?,?,?)",
                (article_id, citation.title, citation.source, citation.url, _iso(citation.published)),
            )
            return cur.rowcount > 0

    def copies(self, article_id: str) -> list[Citation]:
        return self.copies_of([article_id]).get(article_id, [])

    def copies_of(self, article_ids: list[str]) -> dict[str, list[Citation]]:
        """The syndicated copies' citations of each article that has any (one query for up to 500 ids)."""
        out: dict[str, list[Citation]] = {}
        for i in range(0, len(article_ids), 500):
            chunk = article_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT article_id, title, source, url, published FROM copies WHERE article_id IN ({marks}) ORDER BY rowid"
            for a, t, s, u, p in self._q(sql, tuple(chunk)):
                out.setdefault(a, []).append(Citation(t, s, u, _dt(p)))
        return out

    def _article(self, row: tuple[Any, ...], copies: list[Citation]) -> Article:
        id_, title, text, source, url, published, negs, ingested = row
        return Article(id_, title, text, source, url, _dt(published), tuple(json.loads(negs)), _dt(ingested), tuple(copies))

    def get(self, article_id: str) -> Article | None:
        rows = self._q(f"SELECT {_COLS} FROM articles WHERE id=?", (article_id,))
        return self._article(rows[0], self.copies(article_id)) if rows else None

    def get_many(self, ids: list[str]) -> dict[str, Article]:
        out: dict[str, Article] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._q(f"SELECT {_COLS} FROM articles WHERE id IN ({marks})", tuple(chunk))
            copies = self.copies_of([r[0] for r in rows])
            for row in rows:
                art = self._article(row, copies.get(row[0], []))
                out[art.id] = art
        return out

    def texts(self, ids: list[str]) -> dict[str, str]:
        """The text of each stored article named (no Article objects, no citations: a question's candidate
        sentences need only this)."""
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            out.update(self._q(f"SELECT id, text FROM articles WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk)))
        return out

    def iter_articles(self, batch: int = 500) -> Iterator[Article]:
        """Every article in ingest order, read in batches so a large store is never held in memory."""
        last = 0
        while True:
            rows = self._q(f"SELECT {_COLS}, seq FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", (last, batch))
            if not rows:
                return
            copies = self.copies_of([r[0] for r in rows])
            for row in rows:
                yield self._article(row[:-1], copies.get(row[0], []))
            last = rows[-1][-1]

    def set_signature(self, article_id: str, signature: bytes) -> None:
        """Keep an article's MinHash signature, so the next ingest's duplicate check need not recompute it."""
        self._q("INSERT OR REPLACE INTO signatures VALUES (?, ?)", (article_id, signature))

    def signatures(self) -> dict[str, bytes]:
        return {r[0]: bytes(r[1]) for r in self._q("SELECT s.article_id, s.minhash FROM signatures s JOIN articles a ON a.id = s.article_id")}

    def ids_in_order(self) -> list[str]:
        """Every article id in ingest order (without reading the texts)."""
        return [r[0] for r in self._q("SELECT id FROM articles ORDER BY seq")]

    def ids(self) -> set[str]:
        return {r[0] for r in self._q("SELECT id FROM articles")}

    def count(self) -> int:
        return int(self._q("SELECT COUNT(*) FROM articles")[0][0])

    def set_tags(self, article_id: str, negotiations: tuple[str, ...]) -> None:
        self._q("UPDATE articles SET negotiations=? WHERE id=?", (json.dumps(sorted(set(negotiations))), article_id))

    def get_meta(self, key: str) -> str | None:
        rows = self._q("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._q("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def log_ingest(self, what: str, added: int, duplicates: int, rejected: int) -> None:
        self._q("INSERT INTO ingest_log VALUES (?,?,?,?,?)", (datetime.now(timezone.utc).isoformat(), what, added, duplicates, rejected))

    def last_ingest(self) -> datetime | None:
        rows = self._q("SELECT MAX(ingested_at) FROM articles")
        return _dt(rows[0][0]) if rows and rows[0][0] else None

    def newest_published(self) -> datetime | None:
        rows = self._q("SELECT published FROM articles WHERE published_ts = (SELECT MAX(published_ts) FROM articles)")
        return _dt(rows[0][0]) if rows and rows[0][0] else None

    def sources(self) -> list[tuple[str, int, datetime | None]]:
        rows = self._q("SELECT source, COUNT(*), MAX(ingested_at) FROM articles GROUP BY source ORDER BY COUNT(*) DESC, source")
        return [(s, int(n), _dt(last)) for s, n, last in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
