"""Pure Slack rendering: Block Kit payloads are escaped, cited, and within Slack's limits."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from bot.adapters.slack_render import BLOCK_LIMIT, SECTION_LIMIT, escape, link, render
from bot.events import Reply
from corpus.model import Citation
from index.digest import Digest, DigestGroup
from index.types import Answer, Quote

WHEN = datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
KREMLIN = Quote(
    "The Kremlin demanded that Western sanctions on Russian banks be lifted before any ceasefire takes effect.",
    "a1", "Geneva round opens", "Parley Demo Wire", "https://example.org/demo/geneva", WHEN, 0.9,
    also_reported_by=(Citation("Geneva copy", "Harbour Times", "https://example.org/ht/geneva", WHEN),),
)
EVIL = Quote(
    "Tom & Jerry said <!channel> <!here> <@U123> read <https://evil.example|click> and [x](http://evil) @everyone",
    "a2", "Talks <!here> update", "Evil <@U9> Wire", "https://example.org/a?x=1&y=<2>|label", WHEN, 0.8,
)


def answer(*quotes: Quote, freshness: str = "Searched 5 articles.") -> Reply:
    return Reply(kind="answer", answer=Answer("q", quotes, False, freshness=freshness))


def texts(payload: dict[str, Any]) -> list[str]:
    out = []
    for b in payload["blocks"]:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        else:
            out += [e["text"] for e in b["elements"]]
    return out


def sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def test_answer_blocks_exactly() -> None:
    assert render(answer(KREMLIN), question="What did Russia demand?") == {
        "text": "From the indexed articles (1 quote): “The Kremlin demanded that Western sanctions on Russian banks be "
        "lifted before any ceasefire takes effect.” (Geneva round opens · Parley Demo Wire · 16 Nov 2026)",
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Question: What did Russia demand?"}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*From the indexed articles (1 quote):*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*1.*\n> " + KREMLIN.text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text":
                "Geneva round opens · Parley Demo Wire · 16 Nov 2026 · <https://example.org/demo/geneva|Open article>"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text":
                "Also reported by <https://example.org/ht/geneva|Harbour Times>"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Searched 5 articles."}]},
        ],
    }


def test_escape_order_and_links() -> None:
    assert escape("a & <b> &lt;") == "a &amp; &lt;b&gt; &amp;lt;"
    assert link("https://e.org/a b|c>d", "A & B") == "<https://e.org/a%20b%7Cc%3Ed|A &amp; B>"
    assert link("javascript:alert(1)", "x") == "" and link("", "x") == ""


def test_article_text_title_source_and_url_are_inert() -> None:
    payload = render(answer(EVIL), question="<!channel> what now?")
    blob = json.dumps(payload, ensure_ascii=False)
    for live in ("<!channel>", "<!here>", "<@U123>", "<@U9>", "<https://evil", "|label"):
        assert live not in blob, live
    quote = sections(payload)[1]
    assert quote == (
        "*1.*\n> Tom &amp; Jerry said &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; read "
        "&lt;https://evil.example|click&gt; and [x](http://evil) @everyone"
    )
    cite = texts(payload)[3]
    assert cite == "Talks &lt;!here&gt; update · Evil &lt;@U9&gt; Wire · 16 Nov 2026 · <https://example.org/a?x=1&amp;y=%3C2%3E%7Clabel|Open article>"
    assert texts(payload)[0] == "Question: &lt;!channel&gt; what now?"
    assert "&lt;!channel&gt;" in payload["text"] and "<" not in payload["text"]


def test_long_quote_is_split_into_block_quote_sections() -> None:
    words = " ".join(f"w{i}" for i in range(2000))  # about 10,000 characters
    payload = render(answer(Quote(words, "a", "T", "S", "https://e.org/a", None, 1.0)))
    parts = sections(payload)[1:]
    assert len(parts) == 4 and all(len(p) <= SECTION_LIMIT for p in parts)
    assert parts[0].startswith("*1.*\n> w0 w1")
    assert all(line.startswith("> ") for p in parts for line in p.split("\n") if line != "*1.*")
    assert " ".join(line[2:] for p in parts for line in p.split("\n")[(1 if p is parts[0] else 0):]) == words


def test_escaping_happens_before_measuring_and_never_splits_an_entity() -> None:
    payload = render(answer(Quote("&" * 2990 + " <!channel>", "a", "T", "S", "", None, 1.0)))
    parts = sections(payload)[1:]
    assert all(len(p) <= SECTION_LIMIT for p in parts) and len(parts) == 6  # 2990 × "&amp;" is 14,950 characters
    body = "".join(line[2:] for p in parts for line in p.split("\n") if line.startswith("> "))
    assert re.fullmatch(r"(&amp;)+ ?&lt;!channel&gt;", body), body[-40:]


def test_fifty_block_limit_with_a_count_of_what_was_left_out() -> None:
    quotes = tuple(Quote(f"Quote number {i}.", f"a{i}", f"T{i}", "S", f"https://e.org/{i}", WHEN, 1.0) for i in range(40))
    payload = render(answer(*quotes))
    blocks = payload["blocks"]
    assert len(blocks) <= BLOCK_LIMIT
    shown = sum(1 for t in sections(payload) if t.startswith("*") and "\n> Quote number" in t)
    assert shown == 23  # heading + 23 × (quote, citation) + "not shown" + footer = 49; a 24th pair would make 51
    assert texts(payload)[-2] == f"{40 - shown} more quotes not shown (Slack's message size limit)."
    assert texts(payload)[-1] == "Searched 5 articles."


def test_every_kind_of_reply_has_a_fallback_text() -> None:
    digest = Digest("ru-ua", "Russia–Ukraine", WHEN, WHEN, (DigestGroup("Russia", "demand", (KREMLIN, EVIL)),), 2)
    replies = [
        Reply.notice("Parley status", "articles: 5"),
        Reply.error("Sorry, I couldn't answer: the vector index is unreachable.", "ab12cd"),
        Reply(kind="answer", answer=Answer("q", (), True, reason_text="Nothing matched.", nearest=(KREMLIN,))),
        Reply(kind="digest", digest=digest),
        Reply.notice(""),
    ]
    for reply in replies:
        payload = render(reply)
        assert isinstance(payload["text"], str) and payload["text"].strip(), reply
        assert 0 < len(payload["blocks"]) <= BLOCK_LIMIT
    error = render(replies[1])
    assert texts(error) == ["⚠️ *Sorry, I couldn't answer: the vector index is unreachable.*", "Reference: ab12cd"]
    digest_texts = texts(render(replies[3]))
    assert "*Russia: Demands*" in digest_texts and "<!channel>" not in json.dumps(digest_texts)


def test_long_notice_lines_are_split() -> None:
    payload = render(Reply.notice("Sources", *(f"source {i}: " + "x" * 90 for i in range(100))))
    parts = sections(payload)
    assert len(parts) == 5 and all(len(p) <= SECTION_LIMIT for p in parts)
    assert sum(p.count("source ") for p in parts) == 100


def test_many_syndicated_copies_keep_the_context_line_whole() -> None:
    also = tuple(Citation(f"T{i}", f"Outlet {i} " + "n" * 400, f"https://e.org/{i}", WHEN) for i in range(30))
    payload = render(answer(Quote("Q.", "a", "T", "S", "https://e.org/a", WHEN, 1.0, also_reported_by=also)))
    line = texts(payload)[3]
    assert line.startswith("Also reported by <https://e.org/0|Outlet 0 nnn") and line.endswith(" and 20 more")
    assert len(line) <= SECTION_LIMIT and line.count("<") == line.count(">") == 10
