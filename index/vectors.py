"""The Chroma vector store: versioned collections of sentence vectors, embedded or on a server."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from corpus.errors import IndexMismatch, IndexUnavailable

logger = logging.getLogger(__name__)

PREFIX = "parley-"
ADD_BATCH = 300  # fits local Chroma (5461) and Chroma Cloud's 300-record write limit


@dataclass(frozen=True)
class VectorHit:
    id: str
    similarity: float  # cosine similarity, 1 - distance


def make_client_factory(chroma_url: str, data_dir: Path, auth_header: str = "", auth_env: str = "") -> Callable[[], Any]:
    """A function that builds the Chroma client the settings name (called lazily, again after failures)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not chroma_url:
        path = data_dir / "chroma"
        return lambda: chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    url = urlparse(chroma_url)
    headers = {}
    if auth_header:
        headers[auth_header] = os.environ.get(auth_env, "")
    port = url.port or (443 if url.scheme == "https" else 8000)
    return lambda: chromadb.HttpClient(
        host=url.hostname or "127.0.0.1", port=port, ssl=url.scheme == "https", headers=headers, settings=chroma_settings
    )


class VectorStore:
    """Versioned collections `parley-<version>` (cosine space, no Chroma embedding function)."""

    def __init__(self, client_factory: Callable[[], Any], where: str = "embedded"):
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.RLock()
        self._collections: dict[str, Any] = {}
        self.where = where

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except (IndexMismatch, KeyError):
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                with self._lock:  # rebuild the client next time, so a restarted server is picked up
                    self._client = None
                    self._collections.clear()
                raise IndexUnavailable(f"the vector index ({self.where}) is unreachable while trying to {action}") from exc
            raise

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                with self._guard("connect"):
                    self._client = self._factory()
            return self._client

    def collection(self, version: str) -> Any:
        col = self._collections.get(version)
        if col is None:
            with self._guard("open the index"):
                col = self.client().get_collection(PREFIX + version, embedding_function=None)
            self._collections[version] = col
        return col

    def create(self, version: str, model: str, dim: int) -> None:
        with self._guard("create a collection"):
            self.client().create_collection(
                PREFIX + version,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"model": model, "dim": dim},
            )

    def check_model(self, version: str, model: str, dim: int) -> None:
        """Refuse to mix vectors of another model or dimension with a clear message."""
        meta = self.collection(version).metadata or {}
        if meta.get("model") != model or int(meta.get("dim", dim)) != dim:
            raise IndexMismatch(
                f"the index was built with model {meta.get('model')!r} ({meta.get('dim')} dimensions) but the "
                f"config names {model!r} ({dim} dimensions); run `parley reindex` to rebuild it"
            )

    def add(self, version: str, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> None:
        col = self.collection(version)
        with self._guard("add vectors"):
            for i in range(0, len(ids), ADD_BATCH):
                col.upsert(
                    ids=list(ids[i : i + ADD_BATCH]),
                    embeddings=vectors[i : i + ADD_BATCH],
                    metadatas=list(metadatas[i : i + ADD_BATCH]),
                )

    def query(self, version: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[VectorHit]:
        col = self.collection(version)
        # ids and distances only: fetching the metadata too takes several times as long (rows come from the ids)
        with self._guard("search"):
            res = col.query(query_embeddings=vector.reshape(1, -1), n_results=n, where=where, include=["distances"])
        return [VectorHit(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def embeddings(self, version: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        col = self.collection(version)
        with self._guard("read vectors"):
            res = col.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(res["ids"], res["embeddings"])}

    def ids(self, version: str, page: int = 100_000) -> set[str]:
        """Every vector id of a version (read in pages, for the consistency check). Chroma pages by offset, and
        each page costs about as much as skipping the rows before it: at a million vectors, pages of 10,000 took
        138 s, pages of 100,000 took 23 s (bench/results.md)."""
        col = self.collection(version)
        out: set[str] = set()
        with self._guard("list vectors"):
            while True:
                got = col.get(include=[], limit=page, offset=len(out))["ids"]
                out.update(got)
                if len(got) < page:
                    return out

    def delete(self, version: str, ids: Sequence[str]) -> None:
        col = self.collection(version)
        with self._guard("delete vectors"):
            for i in range(0, len(ids), ADD_BATCH):
                col.delete(ids=list(ids[i : i + ADD_BATCH]))

    def count(self, version: str) -> int:
        with self._guard("count"):
            return int(self.collection(version).count())

    def versions(self) -> list[str]:
        with self._guard("list collections"):
            names = [c if isinstance(c, str) else c.name for c in self.client().list_collections()]
        return sorted(n[len(PREFIX) :] for n in names if n.startswith(PREFIX))

    def drop(self, version: str) -> None:
        self._collections.pop(version, None)
        with self._guard("drop a collection"):
            try:
                self.client().delete_collection(PREFIX + version)
            except Exception as exc:  # already gone is fine
                if "does not exist" not in str(exc).lower() and "not found" not in str(exc).lower():
                    raise

    def heartbeat(self) -> bool:
        try:
            with self._guard("check the server"):
                self.client().heartbeat()
            return True
        except IndexUnavailable:
            return False


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    text = str(exc).lower()
    return bool(
        names & {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ConnectionError", "ReadError"}
        or "could not connect" in text
        or "connection refused" in text
    )


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
