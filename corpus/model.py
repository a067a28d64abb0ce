"""The article record that every other part of Parley reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


def content_id(text: str) -> str:
    """Stable article id: a content hash of the normalised text (16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Citation:
    """Where one copy of an article was published (syndicated copies keep their own)."""

    title: str
    source: str
    url: str
    published: datetime | None


@dataclass(frozen=True)
class Article:
    """One ingested news article.

    `text` is the normalised body, the string every quote must be a substring of.
    `published` and `ingested_at` are timezone-aware when set.
    """

    id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: datetime | None = None
    negotiations: tuple[str, ...] = ()
    ingested_at: datetime | None = None
    also: tuple[Citation, ...] = field(default=())

    @property
    def citation(self) -> Citation:
        return Citation(self.title, self.source, self.url, self.published)
