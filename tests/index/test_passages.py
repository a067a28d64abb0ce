"""Sentence passages: offsets are exact, and the splitter handles abbreviations, initials and quotes."""

from __future__ import annotations

import pytest

from corpus.model import Article, content_id
from index.passages import paragraphs, split_passages


def article(text: str) -> Article:
    return Article(content_id(text), "t", text)


def sentences(text: str) -> list[str]:
    return [p.text for p in split_passages(article(text))]


def test_offsets_are_verbatim_slices() -> None:
    text = "First line here.\n\nSecond para. It has two sentences.\nA third paragraph."
    art = article(text)
    for p in split_passages(art):
        assert art.text[p.start : p.end] == p.text
    assert [p.para for p in split_passages(art)] == [0, 1, 1, 2]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Prof. Ivanova spoke first. Then the talks began.", ["Prof. Ivanova spoke first.", "Then the talks began."]),
        ("J. R. Smith met U.S. officials on Monday. They agreed.", ["J. R. Smith met U.S. officials on Monday.", "They agreed."]),
        ("“We will not give up,” he said. The room fell silent.", ["“We will not give up,” he said.", "The room fell silent."]),
        ("Talks resumed at 9 a.m. on Friday in Geneva. Delegates arrived early.", ["Talks resumed at 9 a.m. on Friday in Geneva.", "Delegates arrived early."]),
        ("He told <!channel> to read it. Then he left.", ["He told <!channel> to read it.", "Then he left."]),
    ],
)
def test_splitter_edge_cases(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_curly_quotes_kept_verbatim() -> None:
    text = "The envoy said: “Relief must come first.” Kyiv’s reply was short."
    got = sentences(text)
    assert "“Relief must come first.”" in " ".join(got)
    assert all(s in text for s in got)


def test_paragraph_breaks_end_sentences() -> None:
    text = "A heading without a full stop\n\nThe body starts here. It continues."
    assert sentences(text)[0] == "A heading without a full stop"
    assert paragraphs(text) == [(0, 29), (31, len(text))]


def test_empty_article_has_no_passages() -> None:
    assert split_passages(article("   \n\n  ")) == []
