"""`parley stats --check` / `--repair`: the article store, the passage table and the Chroma collection agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

import index.build
import index.engine
from bot.cli import app
from corpus.errors import IndexUnavailable
from corpus.ingest import ingest_articles
from corpus.loaders import make_article
from index.build import IndexState, passage_text_for_embedding
from index.engine import Engine
from index.health import check, repair
from index.rowvectors import NAME, ChromaRows
from index.vectors import VectorStore, make_client_factory
from tests.chroma_server import free_port
from tests.helpers import build_engine, settings_for

HASH_CONFIG = '[index]\nmodel = "hash-256"\nquality_gate = []\n'


def test_consistent_index_passes(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    health = check(engine)
    assert health.ok and health.passages == health.vectors > 0 and health.versions == (health.version,)
    assert "consistent" in health.lines()[-1] and f"agrees with Chroma: all {health.passages} rows compared" in health.lines()[-1]


def test_every_disagreement_is_found_and_repaired_in_place(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    version = str(engine.stats()["index_version"])
    table = engine._state.table  # type: ignore[union-attr]
    lost = [table.passage_id(r) for r in (0, 5, 9)]
    engine.vectors.delete(version, lost)
    engine.vectors.add(version, ["ghost:1"], np.ones((1, 256), dtype=np.float32) / 16, [{"row": -1, "article_id": "ghost"}])
    engine.vectors.create("v1999", "hash-256", 256)  # left by a crashed build
    ingest_articles(engine.store, [make_article("Unindexed", "Negotiators met again on Friday in Vienna.", source="Wire")])
    health = check(engine)
    found = {p.code: p.count for p in health.problems}
    assert found == {"missing_vectors": 3, "stray_vectors": 1, "leftover_versions": 1, "unindexed_articles": 1}
    assert lost[0] in " ".join(health.lines())
    done = repair(engine)
    assert any("restored 3 missing vector(s) (0 embedded again, the rest copied from the index's own sentence vectors), "
               "deleted 1 stray" in d for d in done)
    assert check(engine).ok and engine.stats()["index_version"] == version  # fixed in place, no rebuild
    assert engine.ask("Where did negotiators meet on Friday?").quotes[0].text.startswith("Negotiators met again")


def test_passages_of_a_vanished_article_trigger_a_rebuild(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    old = engine.stats()["index_version"]
    gone = engine._state.table.article_ids[0]  # type: ignore[union-attr]
    with sqlite3.connect(tmp_path / "data" / "articles.sqlite3") as db:
        db.execute("DELETE FROM articles WHERE id = ?", (gone,))
    assert {p.code for p in check(engine).problems} == {"orphaned_passages"}
    assert any("rebuilt the index" in d for d in repair(engine))
    assert check(engine).ok and engine.stats()["index_version"] != old


def check_then_repair(engine: Engine, tmp_path: Path) -> tuple[Result, Result]:
    """`parley stats --check`, then `--repair`, over `engine`'s data (closed first)."""
    engine.close()
    config = tmp_path / "parley.toml"
    config.write_text(HASH_CONFIG)
    args = ["--config", str(config), "--data-dir", str(tmp_path / "data"), "stats"]
    runner = CliRunner()
    return runner.invoke(app, [*args, "--check"]), runner.invoke(app, [*args, "--repair"])


def test_cli_check_exits_1_until_repaired(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    engine.vectors.delete(str(engine.stats()["index_version"]), [engine._state.table.passage_id(0)])  # type: ignore[union-attr]
    checked, repaired = check_then_repair(engine, tmp_path)
    assert checked.exit_code == 1 and "check: missing_vectors: 1 passage(s) have no vector in Chroma" in checked.output
    assert "(live)" in checked.output
    assert repaired.exit_code == 0, repaired.output
    assert "repair: restored 1 missing vector(s)" in repaired.output and "check after repair: consistent" in repaired.output


def live(engine: Engine) -> IndexState:
    assert engine._state is not None
    return engine._state


def overwrite_file_row(engine: Engine, row: int, vector: np.ndarray) -> None:
    """Write `vector` over `row` of the live version's sentence vectors file, behind the engine's back."""
    with open(engine.index_dir / live(engine).files / NAME, "r+b") as f:
        f.seek(row * live(engine).meta["dim"] * 4)
        f.write(np.asarray(vector, dtype="<f4").tobytes())


def fresh_vector(engine: Engine, row: int) -> np.ndarray:
    """The vector the index embeds for `row`'s passage, embedded now."""
    table = live(engine).table
    art = engine.store.get(table.article_id(row))
    assert art is not None
    return engine.embedder.encode([passage_text_for_embedding(art.title, art.text[slice(*table.span(row))])])[0]


def chroma_vector(engine: Engine, row: int) -> np.ndarray:
    pid = live(engine).table.passage_id(row)
    return engine.vectors.embeddings(live(engine).version, [pid])[pid]


def other_vector(engine: Engine, row: int) -> np.ndarray:
    """A unit vector far from `row`'s: another passage's vector, sign-flipped."""
    return -live(engine).sentence_vectors.get([(row + 1) % len(live(engine).table)])[0]


@pytest.mark.parametrize("broken", ["file", "chroma", "zeroed file"])
def test_a_file_row_that_disagrees_with_chroma_is_embedded_again_into_both(tmp_path: Path, broken: str) -> None:
    engine = build_engine(tmp_path)
    row, n = 7, len(live(engine).table)
    pid = live(engine).table.passage_id(row)
    if broken == "chroma":
        meta = {"row": row, "article_id": live(engine).table.article_id(row)}
        engine.vectors.add(live(engine).version, [pid], other_vector(engine, row)[None, :], [meta])
    else:
        overwrite_file_row(engine, row, np.zeros(256) if broken == "zeroed file" else other_vector(engine, row))
    health = check(engine)
    assert [(p.code, p.count, p.examples) for p in health.problems] == [("vector_mismatch", 1, (pid,))]
    assert f"vector_mismatch: 1 passage(s) have another vector in the sentence vectors file than in Chroma (all {n} rows compared)" in health.lines()[-1]
    done = repair(engine, health)
    assert done == [f"rewrote 1 sentence vector(s) that disagreed with Chroma (embedded again; all {n} rows compared)"]
    assert check(engine).ok
    want = fresh_vector(engine, row)
    np.testing.assert_allclose(live(engine).sentence_vectors.get([row])[0], want, atol=1e-6)
    np.testing.assert_allclose(chroma_vector(engine, row), want, atol=1e-6)


def test_a_large_index_is_sampled_with_every_zero_row_and_repair_compares_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine(tmp_path)
    n = len(live(engine).table)
    monkeypatch.setattr(index.build, "COMPARE_ALL", 10)  # the demo's 23 passages count as a large index
    monkeypatch.setattr(index.build, "COMPARE_SAMPLE", 5)  # rows 0, 5, 11, 16, 22
    overwrite_file_row(engine, 3, np.zeros(256))  # off the sample, found by the scan for zero rows
    overwrite_file_row(engine, 8, other_vector(engine, 8))  # off the sample: the check cannot see it
    health = check(engine)
    assert [(p.code, p.count) for p in health.problems] == [("vector_mismatch", 1)]
    assert f"(6 of {n} rows compared: 5 evenly spaced and every all-zero row of the file, the rest unchecked; --full compares every row)" in health.lines()[-1]
    full = check(engine, full=True)
    assert [(p.code, p.count, p.examples[:2]) for p in full.problems] == [("vector_mismatch", 2, (live(engine).table.passage_id(3), live(engine).table.passage_id(8)))]
    assert f"(all {n} rows compared)" in full.lines()[-1]
    assert repair(engine, health) == [f"rewrote 2 sentence vector(s) that disagreed with Chroma (embedded again; all {n} rows compared)"]
    for row in (3, 8):
        np.testing.assert_allclose(live(engine).sentence_vectors.get([row])[0], fresh_vector(engine, row), atol=1e-6)
    monkeypatch.setattr(index.build, "COMPARE_ALL", 5000)
    assert check(engine).ok


def test_repair_uses_a_full_checks_comparison_and_compares_again_after_a_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine(tmp_path)
    overwrite_file_row(engine, 8, other_vector(engine, 8))
    calls = []
    compare = index.engine.compare_vectors
    monkeypatch.setattr(index.engine, "compare_vectors", lambda *a, **kw: calls.append(kw) or compare(*a, **kw))
    health = check(engine, full=True)
    assert repair(engine, health) == [f"rewrote 1 sentence vector(s) that disagreed with Chroma (embedded again; all {len(live(engine).table)} rows compared)"]
    assert calls == []  # the check's comparison of every row was used, not made again
    np.testing.assert_allclose(live(engine).sentence_vectors.get([8])[0], fresh_vector(engine, 8), atol=1e-6)
    monkeypatch.setattr(index.build, "COMPARE_ALL", 10)  # the demo's 23 passages count as a large index
    monkeypatch.setattr(index.build, "COMPARE_SAMPLE", 5)  # rows 0, 5, 11, 16, 22
    overwrite_file_row(engine, 3, np.zeros(256))  # found by the sample's zero-row scan
    overwrite_file_row(engine, 8, other_vector(engine, 8))  # off the sample
    assert repair(engine, check(engine)) == [f"rewrote 2 sentence vector(s) that disagreed with Chroma (embedded again; all {len(live(engine).table)} rows compared)"]
    assert calls == [{"every_row": True}]  # a sample is not enough to repair from
    overwrite_file_row(engine, 8, other_vector(engine, 8))
    health = check(engine, full=True)
    ingest_articles(engine.store, [make_article("Later", "Negotiators met again on Friday in Vienna.", source="Wire")])
    engine.index_pending()  # a new build: the full comparison above no longer describes the live state
    assert repair(engine, health) == [f"rewrote 1 sentence vector(s) that disagreed with Chroma (embedded again; all {len(live(engine).table)} rows compared)"]
    assert len(calls) == 2


def test_a_row_chroma_lacks_is_reported_once_and_written_to_both(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    pid = live(engine).table.passage_id(4)
    engine.vectors.delete(live(engine).version, [pid])
    overwrite_file_row(engine, 4, np.zeros(256))  # lost from both: only missing_vectors, not vector_mismatch too
    health = check(engine)
    assert [(p.code, p.count) for p in health.problems] == [("missing_vectors", 1)]
    repair(engine, health)
    assert check(engine).ok  # the file's row was written too, or the second check would find it zero
    np.testing.assert_allclose(live(engine).sentence_vectors.get([4])[0], fresh_vector(engine, 4), atol=1e-6)


def test_vectors_read_from_chroma_are_not_compared(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    path = engine.index_dir / live(engine).files / NAME
    engine.close()
    path.unlink()

    def down() -> None:
        raise ConnectionError("connection refused")

    settings = settings_for(tmp_path)
    offline = Engine(settings.index, settings.data_dir, engine.tracked, embedder=engine.embedder, client_factory=down)
    assert isinstance(live(offline).sentence_vectors, ChromaRows)
    offline.vectors = VectorStore(make_client_factory("", settings.data_dir))  # Chroma is back after the load
    health = check(offline)
    assert health.ok and health.compared == "" and health.lines()[-1].endswith("has exactly one vector")


def test_check_says_chroma_is_unreachable(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    engine.vectors = VectorStore(make_client_factory(url, tmp_path), url)
    with pytest.raises(IndexUnavailable, match="unreachable"):
        check(engine)


def test_cli_reports_and_repairs_a_vector_mismatch(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    n, pid = len(live(engine).table), live(engine).table.passage_id(2)
    overwrite_file_row(engine, 2, other_vector(engine, 2))
    checked, repaired = check_then_repair(engine, tmp_path)
    said = " ".join(checked.output.split())  # the console wraps at 80 columns
    assert checked.exit_code == 1 and "check: vector_mismatch: 1 passage(s) have another vector" in said
    assert f"(all {n} rows compared) (e.g. {pid})" in said
    assert repaired.exit_code == 0, repaired.output
    assert "repair: rewrote 1 sentence vector(s) that disagreed with Chroma (embedded again" in repaired.output
    after = " ".join(repaired.output.split("check after repair: ")[1].split())
    assert after == f"consistent: every stored article is indexed and every passage has exactly one vector (the sentence vectors file agrees with Chroma: all {n} rows compared)"


def test_cli_full_finds_what_the_sample_cannot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine(tmp_path)
    monkeypatch.setattr(index.build, "COMPARE_ALL", 10)  # the demo's 23 passages count as a large index
    monkeypatch.setattr(index.build, "COMPARE_SAMPLE", 5)  # rows 0, 5, 11, 16, 22
    pid = live(engine).table.passage_id(8)
    overwrite_file_row(engine, 8, other_vector(engine, 8))  # off the sample
    engine.close()
    config = tmp_path / "parley.toml"
    config.write_text(HASH_CONFIG)
    args = ["--config", str(config), "--data-dir", str(tmp_path / "data"), "stats"]
    runner = CliRunner()
    sampled = runner.invoke(app, [*args, "--check"])
    assert sampled.exit_code == 0 and "the rest unchecked; --full compares every row" in " ".join(sampled.output.split())
    full = runner.invoke(app, [*args, "--check", "--full"])
    assert full.exit_code == 1 and "vector_mismatch: 1 passage(s)" in full.output and pid in full.output
    repaired = runner.invoke(app, [*args, "--repair", "--full"])
    assert repaired.exit_code == 0 and "repair: rewrote 1 sentence vector(s)" in repaired.output
    assert "check after repair: consistent" in repaired.output
