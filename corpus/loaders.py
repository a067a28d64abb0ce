"""Loaders: .txt, .md (front matter), .html (trafilatura), RSS/Atom (feedparser) and .jsonl into Articles."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import frontmatter
import trafilatura
import yaml
from dateparser import parse as parse_date_text

from corpus.errors import LoadError
from corpus.model import Article, content_id
from corpus.normalize import normalize_text, normalize_title

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".feed"}
JSONL_SUFFIXES = {".jsonl"}
SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES | JSONL_SUFFIXES
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO 8601, RFC 822 or a date object; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif hasattr(value, "year") and hasattr(value, "month"):
        dt = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)  # RFC 822, as in RSS
            except (TypeError, ValueError, IndexError):
                parsed = parse_date_text(text, languages=["en"], settings={"RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "UTC"})
                if parsed is None:
                    raise LoadError(f"`{text}` is not a date") from None
                dt = parsed
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def make_article(
    title: str, text: str, *, source: str = "", url: str = "", published: Any = None, negotiations: Iterable[str] = ()
) -> Article:
    """An Article from raw fields: text normalised, id from the normalised text; empty text is an error."""
    body = normalize_text(text)
    if not body:
        raise LoadError("no article text")
    heading = normalize_title(title) or body.split("\n", 1)[0][:120]
    tags = tuple(sorted({str(n).strip() for n in negotiations if str(n).strip()}))
    return Article(content_id(body), heading, body, source.strip(), url.strip(), parse_date(published), tags)


def read_text(path: Path) -> str:
    """File text as UTF-8, with clear errors for empty, binary and wrongly encoded files."""
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise LoadError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise LoadError(f"{path}: the file is empty")
    if b"\x00" in data:
        raise LoadError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not valid UTF-8 (byte {exc.start})") from None


def load_txt(path: Path) -> list[Article]:
    """First non-empty line is the title; the rest is the body."""
    lines = read_text(path).strip().split("\n", 1)
    if len(lines) < 2 or not lines[1].strip():
        raise LoadError(f"{path}: needs a title line and a body")
    return [make_article(lines[0], lines[1], source=path.name)]


def load_markdown(path: Path) -> list[Article]:
    """Front matter (title, source, url, published/date, negotiations/tags) and a Markdown body."""
    raw = read_text(path)
    try:
        post = frontmatter.loads(raw)
    except (yaml.YAMLError, ValueError) as exc:
        raise LoadError(f"{path}: malformed front matter ({exc})") from None
    meta, body = post.metadata, post.content
    title = str(meta.get("title", ""))
    if not title:
        first, _, rest = body.strip().partition("\n")
        title, body = first.lstrip("# ").strip(), rest
    try:
        return [
            make_article(
                title,
                body,
                source=str(meta.get("source", "")),
                url=str(meta.get("url", "")),
                published=meta.get("published", meta.get("date")),
                negotiations=_as_list(meta.get("negotiations", meta.get("tags", []))),
            )
        ]
    except LoadError as exc:
        raise LoadError(f"{path}: {exc}") from None


def article_from_html(html: str, url: str = "", where: str = "") -> Article:
    """The main text and metadata of an article page, extracted with trafilatura."""
    doc = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False, favor_precision=True)
    if doc is None:
        raise LoadError(f"{where or url or 'page'}: no article text found in the HTML")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = data.get("text") or ""
    if not text.strip():
        raise LoadError(f"{where or url or 'page'}: no article text found in the HTML")
    try:
        return make_article(
            data.get("title") or "",
            text,
            source=data.get("sitename") or data.get("hostname") or "",
            url=data.get("url") or url,
            published=data.get("date"),
        )
    except LoadError as exc:
        raise LoadError(f"{where or url}: {exc}") from None


def load_html(path: Path) -> list[Article]:
    return [article_from_html(read_text(path), where=str(path))]


def articles_from_feed(data: bytes | str, url: str = "", where: str = "") -> LoadResult:
    """Each entry of an RSS or Atom feed as an article (its content or summary HTML turned into text)."""
    feed = feedparser.parse(data)
    label = where or url or "feed"
    entries = [e for e in feed.entries if e.get("title") or e.get("summary") or e.get("content")]
    if feed.bozo and not entries:
        raise LoadError(f"{label}: not a valid RSS/Atom feed ({feed.get('bozo_exception', 'parse error')})")
    if not entries:
        raise LoadError(f"{label}: the feed has no entries")
    source = feed.feed.get("title", "") if hasattr(feed, "feed") else ""
    result = LoadResult()
    for n, entry in enumerate(entries, 1):
        html = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary", "")
        text = _html_to_text(html or "")
        published = entry.get("published") or entry.get("updated")
        try:
            result.articles.append(
                make_article(entry.get("title", ""), text, source=source, url=entry.get("link", ""), published=published)
            )
        except LoadError as exc:
            result.rejected.append((f"{label} entry {n}", str(exc)))
    return result


def _html_to_text(html: str) -> str:
    if "<" not in html:
        return html
    text = trafilatura.extract(f"<html><body><article>{html}</article></body></html>", favor_recall=True)
    return text or ""


def load_feed(path: Path) -> LoadResult:
    return articles_from_feed(read_text(path), where=str(path))


def load_jsonl(path: Path) -> LoadResult:
    """One JSON object per line: title, text (required), source, url, published, negotiations."""
    result = LoadResult()
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict) or not str(raw.get("text", "")).strip():
                raise LoadError("needs a JSON object with a non-empty `text`")
            result.articles.append(
                make_article(
                    str(raw.get("title", "")),
                    str(raw["text"]),
                    source=str(raw.get("source", "")),
                    url=str(raw.get("url", "")),
                    published=raw.get("published"),
                    negotiations=_as_list(raw.get("negotiations", [])),
                )
            )
        except (json.JSONDecodeError, LoadError) as exc:
            result.rejected.append((f"{path}:{n}", str(exc)))
    if not result.articles and not result.rejected:
        raise LoadError(f"{path}: no articles")
    return result


def load_file(path: Path) -> LoadResult:
    """Load one file by its suffix; a file that cannot be read raises LoadError."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return LoadResult(load_txt(path))
    if suffix in MARKDOWN_SUFFIXES:
        return LoadResult(load_markdown(path))
    if suffix in HTML_SUFFIXES:
        return LoadResult(load_html(path))
    if suffix in FEED_SUFFIXES:
        return load_feed(path)
    if suffix in JSONL_SUFFIXES:
        return load_jsonl(path)
    raise LoadError(f"{path}: unsupported file type {suffix or '(none)'}; use " + " ".join(sorted(SUFFIXES)))


def iter_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths (folders walked in name order, hidden files skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts) and child.suffix.lower() in SUFFIXES:
                    yield child
        else:
            yield path


def load_paths(paths: Iterable[Path]) -> LoadResult:
    """Load every file; a bad file is reported in `rejected` and never stops the others."""
    result = LoadResult()
    for path in iter_paths(paths):
        try:
            got = load_file(path)
        except LoadError as exc:
            result.rejected.append((str(path), str(exc)))
        except OSError as exc:
            result.rejected.append((str(path), f"cannot read: {exc.strerror or exc}"))
        else:
            result.articles.extend(got.articles)
            result.rejected.extend(got.rejected)
    return result


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]
