"""Fetching an article page or an RSS/Atom feed by URL (for the admin `ingest URL` command)."""

from __future__ import annotations

import urllib.error
import urllib.request

from corpus.errors import LoadError
from corpus.loaders import LoadResult, article_from_html, articles_from_feed

MAX_BYTES = 10 * 1024 * 1024
USER_AGENT = "ParleyBot/0.1 (+https://github.com/parley-bot)"
_FEED_TYPES = ("rss", "atom", "xml")


def fetch(url: str, timeout: float = 20.0) -> tuple[bytes, str]:
    """The body and content type at `url`, with errors a user can act on."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            ctype = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise LoadError(f"the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LoadError(f"could not reach the URL ({reason})") from None
    if len(body) > MAX_BYTES:
        raise LoadError(f"the page is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not body.strip():
        raise LoadError("the page is empty")
    return body, ctype.lower()


def fetch_articles(url: str, timeout: float = 20.0) -> LoadResult:
    """An article page via trafilatura, or every entry of a feed via feedparser."""
    body, ctype = fetch(url, timeout)
    head = body[:512].lstrip().lower()
    is_feed = any(t in ctype for t in _FEED_TYPES) or head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head
    if is_feed:
        return articles_from_feed(body, url=url)
    try:
        html = body.decode("utf-8")
    except UnicodeDecodeError:
        html = body.decode("latin-1")
    return LoadResult([article_from_html(html, url=url)])
