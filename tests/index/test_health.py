"""`parley stats --check` / `--repair`: the article store, the passage table and the Chroma collection agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from bot.cli import app
from corpus.ingest import ingest_articles
from corpus.loaders import make_article
from index.health import check, repair
from tests.helpers import build_engine

HASH_CONFIG = '[index]\nmodel = "hash-256"\nquality_gate = []\n'


def test_consistent_index_passes(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    health = check(engine)
    assert health.ok and health.passages == health.vectors > 0 and health.versions == (health.version,)
    assert "consistent" in health.lines()[-1]


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


def test_cli_check_exits_1_until_repaired(tmp_path: Path) -> None:
    engine = build_engine(tmp_path)
    engine.vectors.delete(str(engine.stats()["index_version"]), [engine._state.table.passage_id(0)])  # type: ignore[union-attr]
    engine.close()
    config = tmp_path / "parley.toml"
    config.write_text(HASH_CONFIG)
    args = ["--config", str(config), "--data-dir", str(tmp_path / "data"), "stats"]
    runner = CliRunner()
    checked = runner.invoke(app, [*args, "--check"])
    assert checked.exit_code == 1 and "check: missing_vectors: 1 passage(s) have no vector in Chroma" in checked.output
    assert "(live)" in checked.output
    repaired = runner.invoke(app, [*args, "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "repair: restored 1 missing vector(s)" in repaired.output and "check after repair: consistent" in repaired.output
