"""A reindex killed with SIGKILL leaves the live index answering; the next start cleans up and a new reindex completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.wiring import open_engine
from bot.settings import load_settings
from index.embedder import HashEmbedder
from tests.helpers import DEMO, REPO, SHARED

SQUAD = SHARED / "eval" / "squad-a" / "corpus"


def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "parley.toml"
    cfg.write_text(f'negotiations_file = "{REPO / "config" / "negotiations.toml"}"\n[index]\nmodel = "hash-256"\n')
    return cfg


def parley(cfg: Path, data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(cfg), "--data-dir", str(data), "-v", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.skipif(not SQUAD.exists(), reason="needs ../shared/eval/squad-a as a corpus large enough to interrupt")
def test_sigkill_mid_reindex_keeps_live_index(tmp_path: Path) -> None:
    cfg, data = config(tmp_path), tmp_path / "data"
    assert parley(cfg, data, "ingest", str(DEMO), str(SQUAD)).wait(timeout=300) == 0
    settings = load_settings(cfg, data)
    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    before = engine.ask("What did the Kremlin demand?").to_json()
    live = engine.stats()["index_version"]
    engine.close()

    proc = parley(cfg, data, "reindex")
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the new version is being built
        if "reindex: building version" in line:
            break
    time.sleep(1.0)
    assert proc.poll() is None, "reindex finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    assert engine.stats()["index_version"] == live
    assert engine.ask("What did the Kremlin demand?").to_json() == before
    removed = engine.cleanup()
    assert any(r.startswith("collection ") for r in removed)
    assert any(r.startswith("file .sentence-vectors-") for r in removed)  # the new version's vectors being written
    assert not list(engine.index_dir.glob("*.part"))
    assert engine.vectors.versions() == [live]
    new = engine.reindex()
    assert new != live and engine.vectors.versions() == [new]
    assert [q.text for q in engine.ask("What did the Kremlin demand?").quotes] == [q["text"] for q in before["quotes"]]  # type: ignore[index]
