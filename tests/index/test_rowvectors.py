"""Each version keeps its passages' sentence vectors in its own file (index/rowvectors.py): the vectors Chroma
holds, grown in place by an ingest without disturbing the live version, written from Chroma for an older index."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bot.wiring import open_engine
from index.engine import Engine
from index.rowvectors import NAME, ChromaRows, RowVectors, Writer
from tests.helpers import settings_for
from tests.index.test_incremental import demo_in_two_parts, state


def chroma_vectors(engine: Engine) -> np.ndarray:
    live = state(engine)
    ids = [live.table.passage_id(r) for r in range(len(live.table))]
    found = engine.vectors.embeddings(live.version, ids)
    return np.stack([found[i] for i in ids])


def file_of(engine: Engine) -> Path:
    return engine.index_dir / state(engine).files / NAME


def assert_matches_chroma(engine: Engine) -> None:
    live = state(engine)
    got = live.sentence_vectors.get(range(len(live.table)))
    assert got.shape == (len(live.table), live.meta["dim"])
    np.testing.assert_allclose(got, chroma_vectors(engine), atol=1e-6)


def test_ingests_grow_the_file_and_leave_the_previous_rows_alone(tmp_path: Path) -> None:
    first, second = demo_in_two_parts(tmp_path)
    engine = open_engine(settings_for(tmp_path / "data"))
    engine.ingest([first])
    before = state(engine)
    old_rows = before.sentence_vectors.get(range(len(before.table)))
    assert_matches_chroma(engine)

    engine.ingest([second])
    after = state(engine)
    assert len(after.table) > len(before.table) and after.files != before.files
    assert_matches_chroma(engine)
    # the replaced state (a question may still hold it) reads the same rows as before
    assert np.array_equal(before.sentence_vectors.get(range(len(before.table))), old_rows)
    assert os.path.getsize(file_of(engine)) == len(after.table) * after.meta["dim"] * 4
    assert file_of(engine).stat().st_mode & 0o777 == (engine.index_dir / after.files / "meta.json").stat().st_mode & 0o777


def test_rows_left_by_an_interrupted_build_are_cut_off(tmp_path: Path) -> None:
    first, second = demo_in_two_parts(tmp_path)
    engine = open_engine(settings_for(tmp_path / "data"))
    engine.ingest([first])
    with open(file_of(engine), "ab") as f:  # what a build that died after appending leaves in the shared file
        f.write(np.full((3, state(engine).meta["dim"]), 7.0, dtype="<f4").tobytes())
    engine.ingest([second])
    assert_matches_chroma(engine)
    assert os.path.getsize(file_of(engine)) == len(state(engine).table) * state(engine).meta["dim"] * 4


def test_writer_links_the_previous_file_and_appends(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    w = Writer(tmp_path, 4)
    w(np.arange(8, dtype=np.float32).reshape(2, 4))
    previous = w.finish(old, None)
    with open(previous.path, "ab") as f:
        f.write(b"\0" * 16)  # a stray row past the previous version's two
    new = tmp_path / "new"
    new.mkdir()
    w = Writer(tmp_path, 4)
    w(np.full((1, 4), 9.0, dtype=np.float32))
    grown = w.finish(new, previous)
    assert os.path.samefile(previous.path, grown.path)  # linked, not copied
    assert np.array_equal(grown.get([0, 1, 2]), [[0, 1, 2, 3], [4, 5, 6, 7], [9, 9, 9, 9]])
    assert np.array_equal(previous.get([1]), [[4, 5, 6, 7]])
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(IndexError):
        previous.get([2])
    with pytest.raises(ValueError):
        RowVectors(grown.path, 4, 4)  # a file short of its rows is refused (and rewritten at load)


def test_an_older_index_gets_its_file_from_chroma_at_load(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    engine = open_engine(settings)
    engine.ingest([demo_in_two_parts(tmp_path)[0]])
    answer = engine.ask("What did the Kremlin demand?").to_json()
    path = file_of(engine)
    engine.close()
    path.unlink()  # as an index built before the file existed

    again = open_engine(settings)
    assert isinstance(state(again).sentence_vectors, RowVectors) and path.exists()
    assert_matches_chroma(again)
    assert again.ask("What did the Kremlin demand?").to_json() == answer


def test_an_older_index_loads_while_chroma_is_unreachable(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    engine = open_engine(settings)
    engine.ingest([demo_in_two_parts(tmp_path)[0]])
    path = file_of(engine)
    engine.close()
    path.unlink()

    def down() -> None:
        raise ConnectionError("connection refused")

    offline = Engine(settings.index, settings.data_dir, engine.tracked, embedder=engine.embedder, client_factory=down)
    assert isinstance(state(offline).sentence_vectors, ChromaRows) and not path.exists()
    offline.close()
    assert isinstance(state(open_engine(settings)).sentence_vectors, RowVectors)  # written once Chroma answers


def test_repair_copies_lost_vectors_from_the_file_and_embeds_only_what_it_lacks(tmp_path: Path) -> None:
    engine = open_engine(settings_for(tmp_path / "data"))
    engine.ingest([demo_in_two_parts(tmp_path)[0]])
    live = state(engine)
    want = chroma_vectors(engine)
    engine.vectors.delete(live.version, [live.table.passage_id(r) for r in (0, 3, 4)])
    with open(file_of(engine), "r+b") as f:  # row 4 as a file made from a Chroma that had already lost it
        f.seek(4 * live.meta["dim"] * 4)
        f.write(np.zeros(live.meta["dim"], dtype="<f4").tobytes())
    embedded: list[str] = []
    encode = engine.embedder.encode
    engine.embedder.encode = lambda texts: embedded.extend(texts) or encode(texts)  # type: ignore[method-assign]
    assert engine.resync_vectors() == (3, 0, 1)
    art = engine.store.get(live.table.article_id(4))
    assert art is not None and embedded == [f"{art.title}: {art.text[slice(*live.table.span(4))]}"]
    np.testing.assert_allclose(chroma_vectors(engine), want, atol=1e-6)
    assert_matches_chroma(engine)  # the embedded vector is in the file's zero row too


def test_put_rewrites_whole_rows_in_place_and_zero_rows_streams_the_file(tmp_path: Path) -> None:
    w = Writer(tmp_path, 4)
    w(np.arange(1, 29, dtype=np.float32).reshape(7, 4))
    rows = w.finish(tmp_path, None)
    rows.put([1, 5], np.zeros((2, 4), dtype=np.float32))
    rows.put([6], np.full((1, 4), 2.0))  # float64 given, float32 written
    assert np.array_equal(rows.get([0, 1, 5, 6]), [[1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 0, 0], [2, 2, 2, 2]])
    assert os.path.getsize(rows.path) == 7 * 16
    for chunk_bytes in (1, 16, 40, 1 << 24):  # a row at a time, chunks that end mid-table, all at once
        assert rows.zero_rows(chunk_bytes).tolist() == [1, 5]
    with pytest.raises(IndexError):
        rows.put([7], np.zeros((1, 4)))
    with pytest.raises(ValueError):
        rows.put([0, 1], np.zeros((1, 4)))
