"""A reindex with the live version's embedder reads its vectors back instead of embedding them again; repeated
texts are embedded once; another embedder (fingerprint) embeds everything."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.wiring import open_engine
from index.embedder import HashEmbedder
from tests.helpers import DEMO, settings_for


class Counting(HashEmbedder):
    """The hash embedder, counting the texts it is asked to embed."""

    def __init__(self, fingerprint: str = "hash-256"):
        super().__init__(256, "hash-256")
        self.fingerprint = fingerprint
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().encode(texts)


def ingested_demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(the counting embedder, an engine that ingested the demo corpus with it, its live state)"""
    emb = Counting()
    engine = open_engine(settings_for(tmp_path), embedder=emb)
    engine.ingest([DEMO])
    assert engine._state is not None
    return emb, engine, engine._state


def all_vectors(engine) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    state = engine._state
    ids = [state.table.passage_id(r) for r in range(len(state.table))]
    return engine.vectors.embeddings(state.version, ids)


def texts_of(engine, paragraphs: bool = True) -> set[str]:  # type: ignore[no-untyped-def]
    """Every text the live version embeds: each sentence with its title, and each paragraph."""
    state = engine._state
    arts = engine.store.get_many(list(state.table.article_ids))
    out = set()
    for r in range(len(state.table)):
        art = arts[state.table.article_id(r)]
        start, end = state.table.span(r)
        out.add(f"{art.title}: {art.text[start:end]}")
    return out | {arts[a].text[s:e] for a, s, e in state.table.paragraph_spans()} if paragraphs else out


def test_reindex_with_the_same_embedder_reuses_every_vector(tmp_path: Path) -> None:
    emb, engine, state = ingested_demo(tmp_path)
    assert state.meta["fingerprint"] == "hash-256"
    before, paragraphs = all_vectors(engine), state.para_vectors.copy()
    answer = engine.ask("What did the Kremlin demand?").to_json()
    emb.texts.clear()

    engine.reindex()
    new = engine._state
    assert new is not None and new.version != state.version
    assert emb.texts and not set(emb.texts) & texts_of(engine)  # only the quality gate's questions, no passage
    after = all_vectors(engine)
    assert after.keys() == before.keys() and len(after) == len(new.table)
    assert max(float(np.abs(after[k] - before[k]).max()) for k in before) < 1e-6
    assert np.array_equal(new.para_vectors, paragraphs)
    assert engine.ask("What did the Kremlin demand?").to_json() == answer


def test_reindex_with_another_fingerprint_embeds_everything(tmp_path: Path) -> None:
    engine = open_engine(settings_for(tmp_path), embedder=Counting("hash-256 v1"))
    engine.ingest([DEMO])
    state = engine._state
    assert state is not None
    engine.close()

    emb = Counting("hash-256 v2")  # same name and size, other vectors (say, the model's files were updated)
    engine = open_engine(settings_for(tmp_path), embedder=emb)
    engine.reindex()
    new = engine._state
    assert new is not None and new.meta["fingerprint"] == "hash-256 v2"
    assert set(emb.texts) >= texts_of(engine)  # every sentence and paragraph embedded again


def test_repeated_sentences_are_embedded_once(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    line = "Reporting by the negotiations desk; editing by the night editor."
    for n in range(3):
        (folder / f"a{n}.md").write_text(f"---\ntitle: Talks\nsource: Wire\nurl: https://example.org/{n}\n---\n"
                                         f"Delegation {n} asked for a ceasefire on day {n}.\n\n{line}\n")
    emb = Counting()
    engine = open_engine(settings_for(tmp_path), embedder=emb)
    engine.ingest([folder])
    state = engine._state
    assert state is not None and len(state.table) == 6
    assert emb.texts.count(f"Talks: {line}") == 1 and emb.texts.count(line) == 1  # sentence, paragraph
    vecs = all_vectors(engine)
    same = [vecs[f"{a}:1"] for a in state.table.article_ids]  # the line is each article's second sentence
    assert all(np.array_equal(v, same[0]) for v in same)


def test_reindex_after_the_live_collection_vanished_reads_the_vectors_file(tmp_path: Path) -> None:
    emb, engine, state = ingested_demo(tmp_path)
    before = all_vectors(engine)
    engine.vectors.drop(state.version)
    emb.texts.clear()

    engine.reindex()
    new = engine._state
    assert new is not None and engine.vectors.count(new.version) == len(new.table)
    assert not set(emb.texts) & texts_of(engine)  # nothing embedded again: the index folder kept every vector
    after = all_vectors(engine)
    assert max(float(np.abs(after[k] - before[k]).max()) for k in before) < 1e-6
    assert engine.ask("What did the Kremlin demand?").quotes


def test_reindex_embeds_what_the_vectors_file_lacks(tmp_path: Path) -> None:
    emb, engine, state = ingested_demo(tmp_path)
    path = engine.index_dir / state.files / "sentence_vectors.f32"
    with open(path, "r+b") as f:  # row 2 lacking, as in a file written from a collection that had lost it
        f.seek(2 * state.meta["dim"] * 4)
        f.write(bytes(state.meta["dim"] * 4))
    emb.texts.clear()

    engine.reindex()
    art = engine.store.get(state.table.article_id(2))
    assert art is not None
    assert [t for t in emb.texts if t in texts_of(engine)] == [f"{art.title}: {art.text[slice(*state.table.span(2))]}"]
