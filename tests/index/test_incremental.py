"""Ingest grows the live index in place: the same table, BM25 scores and paragraph vectors as building it at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from index.engine import Engine
from tests.helpers import DEMO, build_engine


def demo_in_two_parts(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for i, f in enumerate(sorted(DEMO.glob("*.md"))):
        shutil.copy(f, (first if i < 2 else second) / f.name)
    return first, second


def state(engine: Engine):  # type: ignore[no-untyped-def]
    assert engine._state is not None
    return engine._state


def test_second_ingest_extends_the_index_like_a_single_build(tmp_path: Path) -> None:
    first, second = demo_in_two_parts(tmp_path)
    grown = build_engine(tmp_path / "grown", paths=[first])
    before = state(grown)
    grown.ingest([second])
    after = state(grown)
    assert after.version == before.version and len(after.lexical.segments) == 2  # a segment added, nothing rebuilt
    once = build_engine(tmp_path / "once", paths=[first, second])
    a, b = after, state(once)
    assert [a.table.passage_id(r) for r in range(len(a.table))] == [b.table.passage_id(r) for r in range(len(b.table))]
    for col in ("art", "seq", "para", "start", "end", "pid", "pub"):
        assert np.array_equal(a.table.cols[col], b.table.cols[col]), col
    for token in ("sanction", "kremlin", "prison", "beef", "ceasefir"):
        assert np.allclose(a.lexical.scores(token), b.lexical.scores(token), atol=1e-6), token  # type: ignore[arg-type]
        assert np.allclose(a.para_lexical.scores(token), b.para_lexical.scores(token), atol=1e-6), token  # type: ignore[arg-type]
    assert np.allclose(a.para_vectors, b.para_vectors)
    assert grown.ask("What did Brazil demand?").quotes[0].text == once.ask("What did Brazil demand?").quotes[0].text
    reopened = Engine(grown.settings, tmp_path / "grown" / "data", grown.tracked, embedder=grown.embedder)
    assert len(state(reopened).lexical.segments) == 2 and state(reopened).lexical.n_docs == len(a.table)


def test_an_index_from_an_older_version_gets_its_lexical_index_rebuilt(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    folder = engine.index_dir / state(engine).files / "lexical"
    expected = state(engine).lexical.scores("kremlin")
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / "params.index.json").write_text("{}")  # what bm25s left there before
    reopened = Engine(engine.settings, tmp_path / "data", engine.tracked, embedder=engine.embedder)
    assert np.allclose(state(reopened).lexical.scores("kremlin"), expected)  # type: ignore[arg-type]
    assert (folder / "index.json").exists()

