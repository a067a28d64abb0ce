"""Stored sentence tokens give exactly what tokenising at query time gives, grow with an ingest, and are rebuilt
for an index that lacks them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.wiring import open_engine
from corpus.loaders import load_paths
from index import features
from index.embedder import HashEmbedder
from index.passages import split_passages
from index.tokens import SentenceTokens
from tests.helpers import DEMO, settings_for

ODD = ["", "  ", "Russia’s envoy didn't say; the U.S.-led talks (round 3) ended.", "Who, what, when? 42 %!",
       "Die Gespräche in Genf — überraschend — endeten früh.", "s s s 's"]


def demo_texts() -> list[str]:
    return [p.text for a in load_paths([DEMO]).articles for p in split_passages(a)] + ODD


def test_stored_tokens_equal_tokenising_at_query_time(tmp_path: Path) -> None:
    texts = demo_texts()
    tokens = SentenceTokens.build(texts)
    assert len(tokens) == len(texts)
    want = {r: features.sentence(t) for r, t in enumerate(texts)}
    assert tokens.sentences(dict(enumerate(texts))) == want
    tokens.save(tmp_path / "tokens")
    again = SentenceTokens.load(tmp_path / "tokens")
    assert again.sentences(dict(enumerate(texts))) == want
    some = {r: texts[r] for r in [len(texts) - 1, 0, 3, 2]}  # any order, rows read in one gather
    assert again.sentences(some) == {r: want[r] for r in some}
    assert again.sentences({5: texts[5]}) == {5: want[5]}
    assert again.sentences({}) == {}


def test_adding_rows_equals_building_them_at_once() -> None:
    texts = demo_texts()
    half = len(texts) // 2
    first = SentenceTokens.build(texts[:half])
    grown = first.add(texts[half:])
    whole = SentenceTokens.build(texts)
    assert grown.vocab[: len(first.vocab)] == first.vocab and len(first) == half  # old numbers kept, old object unchanged
    assert grown.sentences(dict(enumerate(texts))) == whole.sentences(dict(enumerate(texts)))


def test_missing_or_other_format_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no stored sentence tokens"):
        SentenceTokens.load(tmp_path)
    SentenceTokens.build(["One sentence."]).save(tmp_path)
    (tmp_path / "vocab.json").write_text('{"format": 0, "stems": []}')
    with pytest.raises(ValueError, match="format 0"):
        SentenceTokens.load(tmp_path)


def test_an_index_without_tokens_gets_them_once_and_answers_the_same(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path)
    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    engine.ingest([DEMO])
    state = engine._state
    assert state is not None
    folder = engine.index_dir / state.files / "tokens"
    assert (folder / "ids.npy").exists() and len(state.tokens) == len(state.table)
    before = engine.ask("What did the Kremlin demand?").to_json()
    engine.close()
    shutil.rmtree(folder)  # as an index built by an earlier Parley

    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    assert "building it from the article store once" in caplog.text and (folder / "ids.npy").exists()
    assert engine.ask("What did the Kremlin demand?").to_json() == before
