"""Every loader, and bad input: a clear error naming the file, and nothing already stored is lost."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from corpus.errors import LoadError
from corpus.ingest import ingest_paths
from corpus.loaders import article_from_html, articles_from_feed, load_file, load_paths
from corpus.normalize import normalize_text
from corpus.store import ArticleStore

BODY = "Negotiators met in Vienna on Tuesday.\n\nThe union demanded a 6% raise, and management offered 3%."

HTML = """<!doctype html><html><head><title>Wage talks stall | Example News</title>
<meta property="og:site_name" content="Example News"><meta name="date" content="2026-10-02T09:00:00Z"></head>
<body><nav>Home | World | Sport</nav><article><h1>Wage talks stall</h1>
<p>Negotiators met in Vienna on Tuesday, but the two sides remained far apart after six hours of talks.</p>
<p>The union demanded a 6% raise for all members, while management offered 3% spread over two years.</p>
<p>A spokesperson for the mediator said another round was planned for next week in the same building.</p>
</article><footer>© Example News</footer></body></html>"""

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Example Wire</title><link>https://example.org</link>
<item><title>Union rejects offer</title><link>https://example.org/a</link><pubDate>Tue, 06 Oct 2026 08:00:00 +0200</pubDate>
<description>&lt;p&gt;The union rejected the 3% offer on Monday and called for a strike vote.&lt;/p&gt;</description></item>
<item><title>Mediator named</title><link>https://example.org/b</link><pubDate>Wed, 07 Oct 2026 10:00:00 GMT</pubDate>
<description>A retired judge will chair the next round of wage talks.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title>
<entry><title>Talks resume</title><link href="https://example.org/c"/><updated>2026-10-08T12:00:00Z</updated>
<content type="html">&lt;p&gt;Talks resumed on Thursday with both sides promising flexibility.&lt;/p&gt;</content></entry></feed>"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_txt_first_line_is_title(tmp_path: Path) -> None:
    (art,) = load_file(write(tmp_path, "a.txt", "Wage talks stall\n\n" + BODY)).articles
    assert art.title == "Wage talks stall"
    assert art.text == BODY and art.source == "a.txt"


def test_markdown_front_matter(tmp_path: Path) -> None:
    md = f"---\ntitle: Wage talks stall\nsource: Example News\nurl: https://example.org/x\npublished: 2026-10-02T09:00:00+02:00\nnegotiations: [wage-talks]\n---\n{BODY}\n"
    (art,) = load_file(write(tmp_path, "a.md", md)).articles
    assert (art.title, art.source, art.url) == ("Wage talks stall", "Example News", "https://example.org/x")
    assert art.published == datetime(2026, 10, 2, 7, 0, tzinfo=timezone.utc)
    assert art.negotiations == ("wage-talks",)


def test_markdown_without_front_matter_uses_heading(tmp_path: Path) -> None:
    (art,) = load_file(write(tmp_path, "a.md", "# Wage talks stall\n\n" + BODY)).articles
    assert art.title == "Wage talks stall" and art.text == BODY


def test_html_main_text_without_boilerplate(tmp_path: Path) -> None:
    (art,) = load_file(write(tmp_path, "a.html", HTML)).articles
    assert "The union demanded a 6% raise" in art.text
    assert "Home | World" not in art.text and "©" not in art.text
    assert art.title.startswith("Wage talks stall")
    assert art.published is not None and art.published.year == 2026


def test_rss_and_atom_entries(tmp_path: Path) -> None:
    rss = load_file(write(tmp_path, "feed.rss", RSS))
    assert [a.title for a in rss.articles] == ["Union rejects offer", "Mediator named"]
    first = rss.articles[0]
    assert first.source == "Example Wire" and first.url == "https://example.org/a"
    assert first.published == datetime(2026, 10, 6, 6, 0, tzinfo=timezone.utc)
    assert "<p>" not in first.text and "strike vote" in first.text
    (entry,) = articles_from_feed(ATOM).articles
    assert entry.title == "Talks resume" and entry.published == datetime(2026, 10, 8, 12, 0, tzinfo=timezone.utc)


def test_jsonl_bad_line_reported_others_loaded(tmp_path: Path) -> None:
    lines = [
        '{"title": "One", "text": "First article text.", "source": "w", "published": "2026-10-01"}',
        "{not json",
        '{"title": "No text"}',
        '{"title": "Two", "text": "Second article text.", "negotiations": ["wage-talks"]}',
    ]
    res = load_file(write(tmp_path, "a.jsonl", "\n".join(lines)))
    assert [a.title for a in res.articles] == ["One", "Two"]
    assert [where.rsplit(":", 1)[1] for where, _ in res.rejected] == ["2", "3"]
    assert res.articles[0].published == datetime(2026, 10, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("latin1.txt", "Title\n\nCaf\u00e9 talks".encode("latin-1"), "UTF-8"),
        ("nothing.html", b"<html><body><div></div></body></html>", "no article text"),
        ("broken.xml", b"<rss><channel><item><title>x</titl", "feed"),
        ("notes.pdf", b"%PDF-1.4", "unsupported"),
        ("title-only.txt", b"Just a title\n", "body"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(LoadError, match=message) as info:
        load_file(path)
    assert name in str(info.value) or message in ("no article text", "feed")


def test_bad_files_do_not_lose_stored_articles(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite3")
    good = write(tmp_path, "good.txt", "Wage talks stall\n\n" + BODY)
    assert len(ingest_paths(store, [good]).added) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, "empty.txt", b"")
    write(bad, "binary.txt", b"\x00\x01\x02")
    write(bad, "broken.xml", b"<rss><chan")
    report = ingest_paths(store, [bad])
    assert report.added == [] and len(report.rejected) == 3
    assert store.count() == 1 and store.get(next(iter(store.ids()))).text == BODY  # type: ignore[union-attr]


def test_folder_walk_skips_hidden_and_unknown(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "A\n\nBody a.")
    write(tmp_path, ".hidden.txt", "H\n\nHidden.")
    write(tmp_path, "notes.docx", b"PK")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.md", "# B\n\nBody b.")
    res = load_paths([tmp_path])
    assert sorted(a.title for a in res.articles) == ["A", "B"] and res.rejected == []


def test_normalisation_keeps_original_characters() -> None:
    raw = "  “Relief  must come first,”\u00a0he said\u200b –\tKyiv’s reply.\r\n\r\n\r\nNext\u00adpara. "
    assert normalize_text(raw) == "“Relief must come first,” he said – Kyiv’s reply.\n\nNextpara."


def test_article_from_html_rejects_empty_page() -> None:
    with pytest.raises(LoadError, match="no article text"):
        article_from_html("<html><body><script>x()</script></body></html>", url="https://example.org/e")
