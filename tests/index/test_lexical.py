"""The BM25 index: tokenisation, save/load round trip, and scores against a brute-force reference."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from index.lexical import LexicalIndex, tokenize
from index.table import PassageTable
from index.types import Passage

DOCS = [
    "Moscow demanded sanctions relief before a ceasefire.",
    "Kyiv insisted on international monitors.",
    "The two delegations agreed to exchange prisoners.",
    "Sanctions were not discussed on the first day.",
]


def brute_bm25(docs: list[list[str]], term: str, k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Lucene-style BM25 (bm25s' default) written out longhand."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = sum(1 for d in docs if term in d)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    out = []
    for d in docs:
        tf = d.count(term)
        out.append(idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl)) if tf else 0.0)
    return out


def test_tokenize_stems_and_drops_stopwords() -> None:
    assert tokenize("The Kremlin demanded sanctions") == ["kremlin", "demand", "sanction"]
    assert tokenize("Kyiv’s reply") == ["kyiv", "repli"]


@pytest.mark.parametrize("term", ["sanction", "demand", "kyiv"])
def test_scores_match_reference(term: str) -> None:
    ix = LexicalIndex.build(DOCS)
    expected = brute_bm25([tokenize(d) for d in DOCS], term)
    assert np.allclose(ix.scores(term), expected, atol=1e-5)


def test_unknown_token_has_no_scores() -> None:
    ix = LexicalIndex.build(DOCS)
    assert ix.scores("beijing") is None
    assert ix.idf("beijing") == 0.0 and ix.idf("sanction") > 0


def test_save_load_round_trip(tmp_path: Path) -> None:
    ix = LexicalIndex.build(DOCS)
    ix.save(tmp_path / "lex")
    again = LexicalIndex.load(tmp_path / "lex")
    for term in ("sanction", "prison", "monitor"):
        assert np.array_equal(ix.scores(term), again.scores(term))
    manifest = json.loads((tmp_path / "lex" / "index.json").read_text())
    assert manifest["tokenizer"]["stemmer"] == "english" and manifest["n_docs"] == len(DOCS)


MORE = [
    "Moscow offered to pause strikes on ports.",
    "Monitors from the OSCE arrived in Kyiv.",
    "",
    "Sanctions relief remains the main demand of Moscow; sanctions first, said Moscow.",
]


def test_growing_in_segments_scores_like_one_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.lexical as lexical

    monkeypatch.setattr(lexical, "MAX_SEGMENTS", 3)  # force merges
    grown = LexicalIndex.build(DOCS[:2])
    for text in DOCS[2:] + MORE:
        grown = grown.add([text])
    assert len(grown.segments) <= 3
    whole = LexicalIndex.build(DOCS + MORE)
    docs = [tokenize(d) or ["\u2205"] for d in DOCS + MORE]
    for term in ("sanction", "moscow", "monitor", "kyiv", "paus"):
        assert np.allclose(grown.scores(term), whole.scores(term), atol=1e-6)
        assert np.allclose(grown.scores(term), brute_bm25(docs, term), atol=1e-5)
        assert grown.idf(term) == pytest.approx(whole.idf(term))
    grown.save(tmp_path / "v1")
    bigger = grown.add(["Moscow and Kyiv agreed on a prisoner exchange."])
    bigger.save(tmp_path / "v2")  # unchanged segments are linked, not written again
    first = tmp_path / "v1" / "segment-000" / "tf.npz"
    assert (tmp_path / "v2" / "segment-000" / "tf.npz").stat().st_ino == first.stat().st_ino
    again = LexicalIndex.load(tmp_path / "v2")
    assert again.n_docs == len(DOCS) + len(MORE) + 1
    assert np.allclose(again.scores("moscow"), LexicalIndex.build(DOCS + MORE + ["Moscow and Kyiv agreed on a prisoner exchange."]).scores("moscow"))


def test_passage_table_round_trip(tmp_path: Path) -> None:
    ps = [Passage(f"a:{i}", "a", i, i // 2, i * 10, i * 10 + 5, "x") for i in range(4)]
    ps.append(Passage("b:0", "b", 0, 0, 0, 3, "y"))
    table = PassageTable.build(ps)
    table.save(tmp_path)
    again = PassageTable.load(tmp_path)
    assert [again.passage_id(r) for r in range(5)] == ["a:0", "a:1", "a:2", "a:3", "b:0"]
    assert again.span(2) == (20, 25)
    assert again.neighbour(1, -1) == 0 and again.neighbour(2, -1) is None  # paragraph boundary
    assert again.neighbour(4, -1) is None  # article boundary
    assert again.neighbours(np.arange(5), -1).tolist() == [-1, 0, -1, 2, -1]
    assert again.neighbours(np.arange(5), 1).tolist() == [1, -1, 3, -1, -1]
    assert again.row_of("b:0") == 4 and again.row_of("a:3") == 3
    assert again.row_of("a:4") is None and again.row_of("c:0") is None and again.row_of("a") is None


def test_asked_terms_are_kept_read_only_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import index.lexical

    ix = LexicalIndex.build(DOCS + MORE)
    first = ix.postings_scores("sanction")
    assert first is not None and ix.postings_scores("sanction") is first  # kept: the same arrays again
    with pytest.raises(ValueError):  # callers cannot change what later questions read
        first[1][0] = 99.0
    docs = [" ".join(f"envoy{j}" for j in range(i, i + 3)) for i in range(60)]  # 62 terms, in up to 3 passages each
    terms = sorted({t for d in docs for t in tokenize(d)})
    want = {t: LexicalIndex.build(docs).scores(t) for t in terms}
    largest = max(sum(a.nbytes for a in LexicalIndex.build(docs).postings_scores(t) or ()) for t in terms)
    monkeypatch.setattr(index.lexical, "TERM_CACHE_BYTES", 16 * largest)  # every term may be kept, 16 at the least
    small = LexicalIndex.build(docs)
    for _ in range(2):
        for t in terms:
            assert np.array_equal(small.scores(t), want[t]), t
    assert len(terms) > len(small._terms) >= 16  # the least recently asked went
    assert small._terms_bytes == sum(r.nbytes + v.nbytes for r, v in small._terms.values()) <= 16 * largest
