"""Digest content on a dated fixture corpus: grouping by party and act, windows, syndicated copies merged."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from corpus.model import Article, content_id
from index.digest import build_digest
from index.negotiations import load_tracked

TRACKED = load_tracked(Path(__file__).resolve().parents[2] / "config" / "negotiations.toml")
NEG = TRACKED.get("russia-ukraine")
assert NEG is not None


def art(title: str, text: str, source: str, when: datetime) -> Article:
    return Article(content_id(text + source), title, text, source, f"https://example.org/{source}", when, ("russia-ukraine",))


MON = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
TUE = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SYNDICATED = "The Kremlin demanded that sanctions be lifted first. Kyiv offered a prisoner exchange of 200 soldiers."
CORPUS = [
    art("Talks resume", SYNDICATED, "wire-a", TUE),
    art("Talks resume (copy)", SYNDICATED + " Reporting by staff.", "paper-b", TUE),
    art("Old news", "Moscow insisted on neutrality for Ukraine.", "wire-a", MON),
    art("Agreement", "Both sides agreed to a 30-day truce, Ukraine said. “We will keep our word,” Zelensky said.", "wire-c", TUE),
]


def test_groups_by_party_and_act_within_window() -> None:
    d = build_digest(NEG, CORPUS, TRACKED.acts, datetime(2026, 11, 24, tzinfo=timezone.utc), datetime(2026, 11, 25, tzinfo=timezone.utc))
    heads = [(g.party, g.act) for g in d.groups]
    assert ("Russia", "demand") in heads
    assert ("Ukraine", "offer") in heads
    assert ("Ukraine", "agreement") in heads
    texts = [q.text for g in d.groups for q in g.quotes]
    assert "Moscow insisted on neutrality for Ukraine." not in texts  # Monday is outside the window
    assert d.articles == 3


def test_syndicated_copy_shown_once_with_both_citations() -> None:
    d = build_digest(NEG, CORPUS, TRACKED.acts, datetime(2026, 11, 24, tzinfo=timezone.utc), datetime(2026, 11, 25, tzinfo=timezone.utc))
    demands = next(g for g in d.groups if (g.party, g.act) == ("Russia", "demand"))
    assert len(demands.quotes) == 1
    q = demands.quotes[0]
    assert len(q.also_reported_by) == 1
    assert {q.source, q.also_reported_by[0].source} == {"wire-a", "paper-b"}


def test_quotes_are_verbatim() -> None:
    d = build_digest(NEG, CORPUS, TRACKED.acts, datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 30, tzinfo=timezone.utc))
    by_id = {a.id: a for a in CORPUS}
    for g in d.groups:
        for q in g.quotes:
            assert by_id[q.article_id].text[q.start : q.end] == q.text


def test_time_zone_boundary_excludes_articles_before_start() -> None:
    # 10:00 UTC Tuesday is 11:00 in Berlin: a window starting at noon Berlin time excludes it
    start = datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)
    d = build_digest(NEG, CORPUS, TRACKED.acts, start, datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert d.empty
    assert d.no_news.startswith("No new coverage of Russia–Ukraine peace talks since 24 Nov 2026 11:00")
