"""Each retrieval stage on the small demo corpus against a brute-force reference, the `context` rule of
`parley eval`, and the abstention threshold stored with the index version (hash embedder, real Chroma)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from corpus.model import Article
from index.calibration import load_model
from index.embedder import HashEmbedder
from index.engine import Engine
from index.evaluate import evaluate, load_qa
from index.lexical import EMPTY, tokenize
from index.negotiations import load_tracked
from tests.helpers import build_engine, settings_for
from tests.index.test_lexical import brute_bm25

QUESTIONS = ["What did the Kremlin demand from Kyiv?", "When will the next round of talks take place?", "Who mediates the prisoner exchange?"]
K = 5


def sentence(engine: Engine, row: int) -> str:
    state = engine._state
    assert state is not None
    start, end = state.table.span(row)
    art: Article = engine._article(state.table.article_id(row))
    return art.text[start:end]


def assert_top_k(rows: set[int], score: np.ndarray, k: int) -> None:
    """`rows` are k rows with the highest `score` (any of equal scores at the cut will do)."""
    assert len(rows) == k
    rest = [score[r] for r in range(len(score)) if r not in rows]
    assert not rest or min(score[r] for r in rows) >= max(rest) - 1e-6


@pytest.mark.parametrize("question", QUESTIONS)
def test_candidates_are_the_brute_force_top_k_of_each_retriever(tmp_path: Path, question: str) -> None:
    engine = build_engine(tmp_path, index={"candidates": K, "quality_gate": []})
    state = engine._state
    assert state is not None
    n = len(state.table)
    result = engine.retriever(state).search(question)
    # dense: exact cosine of the question with every stored passage vector
    ids = [state.table.passage_id(r) for r in range(n)]
    stored = engine.vectors.embeddings(state.version, ids)
    qvec = HashEmbedder(256, "hash-256").encode([question])[0]
    cos = np.array([float(np.dot(stored[i], qvec)) for i in ids])
    dense = {c.row for c in result.candidates if "dense" in c.sources}
    assert_top_k(dense, cos, K)
    for c in result.candidates:
        assert c.cos == pytest.approx(cos[c.row], abs=1e-5)
    # lexical: BM25 written out longhand over the sentences, best alternative per query concept, weighted
    docs = [tokenize(sentence(engine, r)) or [EMPTY] for r in range(n)]
    lex = np.zeros(n)
    for group in result.query.groups:
        best = np.zeros(n)
        for alt in group.alternatives:
            if any(alt in d for d in docs):
                best = np.maximum(best, brute_bm25(docs, alt))
        lex += group.weight * best
    lexical = {c.row for c in result.candidates if "lexical" in c.sources}
    assert_top_k(lexical, lex, min(K, int((lex > 0).sum())))
    for c in result.candidates:
        assert c.lex == pytest.approx(lex[c.row], rel=1e-4, abs=1e-5)
    # fusion: the candidates are exactly the union, ranked best first by the learned score (plus bonuses)
    assert {c.row for c in result.candidates} == dense | lexical
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert np.allclose([c.learned for c in result.candidates], engine._model().score(np.stack([c.x for c in result.candidates])))


def test_eval_counts_a_quote_only_inside_the_question_context(tmp_path: Path) -> None:
    engine = build_engine(tmp_path, index={"quality_gate": []})
    question = "What did the Kremlin demand?"
    _, ranked = engine.rank(question, k=10)
    top = ranked[0]
    art = engine.store.get(top.article_id)
    assert art is not None
    paragraphs = art.text.split("\n\n")
    own = next(p for p in paragraphs if top.text in p)
    evidence = " ".join(top.text.split()[2:6])
    other = next(p for p in paragraphs if evidence not in p)
    qa = tmp_path / "qa.jsonl"
    spaced = own.replace(" ", "  \n ")  # whitespace differences do not matter
    qa.write_text("\n".join(json.dumps({"question": question, "evidence": [evidence], "context": c}) for c in (own, spaced, other)) + "\n")
    items = load_qa(qa)
    assert [i.context for i in items] == [own, spaced, other]
    rank = lambda q: engine.rank(q, k=10)  # noqa: E731
    inside = evaluate(items[:2], rank, engine.is_verbatim).as_dict()
    assert inside["R@1"] == 1.0
    outside = evaluate(items[2:], rank, engine.is_verbatim)
    assert outside.r1 == 0 and outside.misses[0]["rank"] is None  # the evidence words, but not from that paragraph


def test_abstention_threshold_is_stored_with_the_index_version(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path, index={"quality_gate": []})
    engine = build_engine(tmp_path, index={"quality_gate": []})
    state = engine._state
    assert state is not None
    fitted = load_model("hash-256")
    meta = json.loads((engine.index_dir / state.files / "meta.json").read_text())
    assert meta["abstain"] == fitted.record() and meta["abstain"]["fitted"].startswith("bench/calibrate.py")
    assert engine.threshold(state) == fitted.threshold
    assert not engine.ask("What did the Kremlin demand?").abstained
    engine.close()

    # index/calibration.json refitted since the index was built: warn, use the new fit's threshold, reindex stores it
    refit = dataclasses.replace(fitted, threshold=0.999, fitted="a refit with a stricter threshold")
    tracked = load_tracked(settings.negotiations_file)
    again = Engine(settings.index, settings.data_dir, tracked, embedder=HashEmbedder(256, "hash-256"), scoring=refit)
    assert again._state is not None and again._state.version == state.version
    with caplog.at_level(logging.WARNING, logger="index.engine"):
        assert again.threshold(again._state) == 0.999
        assert again.ask("What did the Kremlin demand?").abstained
    assert any("parley reindex" in r.getMessage() for r in caplog.records)
    again.reindex()
    assert again._state.meta["abstain"]["fitted"] == "a refit with a stricter threshold"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.engine"):
        assert again.threshold(again._state) == 0.999
    assert not caplog.records
    # an explicit setting wins over both
    pinned = Engine(settings.index.model_copy(update={"abstain_threshold": 0.1}), settings.data_dir, tracked,
                    embedder=HashEmbedder(256, "hash-256"), scoring=refit)
    assert pinned._state is not None and pinned.threshold(pinned._state) == 0.1
