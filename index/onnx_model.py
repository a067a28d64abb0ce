"""A sentence-transformers model as one ONNX graph (transformer, mean pooling, L2 normalisation), optionally int8.

The graph is exported once from the model's own weights with torch, checked against the torch model, quantised
if asked (ONNX Runtime dynamic quantisation, int8 weights per output channel) and cached under
`cache_dir()/onnx/<fingerprint>/`; every later load reads the cached file and needs neither torch nor the
export. The fingerprint covers the model files' bytes, this module's format number and the torch and ONNX Runtime
versions, so a changed model or toolchain exports again. sentence-transformers' own ONNX backend needs `optimum`,
which does not install beside transformers 5; this is the same export done directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from corpus.errors import ConfigError

logger = logging.getLogger(__name__)

FORMAT = 1  # bump when the exported graph changes
PROBES = [
    "Moscow wants any freeze to recognise its control of occupied territory.",
    "The union said the offer fell short.",
    "Talks resumed in Geneva on Tuesday after a two-week pause, officials from both delegations said.",
]
MIN_COSINE = 0.9999  # the fp32 export must reproduce torch's vectors; int8 is checked by the quality benchmarks


def cache_dir() -> Path:
    """Where exported models are kept: $PARLEY_CACHE_DIR, else $XDG_CACHE_HOME/parley, else ~/.cache/parley."""
    if os.environ.get("PARLEY_CACHE_DIR"):
        return Path(os.environ["PARLEY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parley"


def layout(model_dir: Path) -> tuple[Path, int]:
    """The transformer's folder and max sequence length; refuses models that are not mean-pooled sentence-transformers."""
    modules = json.loads((model_dir / "modules.json").read_text()) if (model_dir / "modules.json").exists() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise ConfigError(f"{model_dir}: the ONNX backend runs Transformer + mean Pooling (+ Normalize) models; "
                          f"this one has {kinds or 'no modules.json'}; set index.backend = \"torch\"")
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError(f"{model_dir}: the ONNX backend supports mean pooling only (this model uses {sorted(modes)}); "
                          "set index.backend = \"torch\"")
    transformer = model_dir / modules[0].get("path", "")
    config = transformer / "sentence_bert_config.json"
    if not config.exists():
        config = model_dir / "sentence_bert_config.json"
    max_len = int(json.loads(config.read_text()).get("max_seq_length", 512)) if config.exists() else 512
    return transformer, max_len


def fingerprint(model_dir: Path) -> str:
    h = hashlib.sha256(f"format {FORMAT}".encode())
    for name in ("torch", "onnxruntime"):
        try:
            h.update(f"{name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(name.encode())
    for f in sorted(p for p in model_dir.rglob("*") if p.is_file() and p.suffix != ".md"):
        h.update(str(f.relative_to(model_dir)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def ensure(model_dir: Path, int8: bool) -> Path:
    """The cached ONNX file for `model_dir` (exported, checked and quantised first if missing)."""
    folder = cache_dir() / "onnx" / fingerprint(model_dir)
    fp32, q8 = folder / "model.onnx", folder / "model.int8.onnx"
    want = q8 if int8 else fp32
    if want.exists():
        return want
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not fp32.exists():
            logger.info("exporting %s to ONNX (once; cached in %s)", model_dir, folder)
            _atomic(fp32, lambda tmp: export(model_dir, tmp))
        if int8 and not q8.exists():
            logger.info("quantising %s to int8", fp32)
            _atomic(q8, lambda tmp: quantize(fp32, tmp))
    except OSError as exc:
        raise ConfigError(f"cannot write the model's ONNX export to {folder} ({exc.strerror or exc}); set "
                          "PARLEY_CACHE_DIR to a writable folder, or index.backend = \"torch\"") from exc
    return want


def _atomic(dest: Path, write) -> None:  # type: ignore[no-untyped-def]
    """Write through a temporary file in the same folder, so a concurrent or interrupted export leaves no half file."""
    fd, name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def export(model_dir: Path, out: Path) -> None:
    """Export transformer + mean pooling + normalisation with torch, then check it against the torch model."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    transformer, max_len = layout(model_dir)
    tok = AutoTokenizer.from_pretrained(str(transformer))
    model = AutoModel.from_pretrained(str(transformer), attn_implementation="eager").eval()
    sample = tok(PROBES[:2], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            kw = dict(zip(names, inputs))
            hidden = self.model(**kw).last_hidden_state
            mask = kw["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    pooled = Pooled().eval()
    dynamic = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python-side shape checks, harmless for this graph
        torch.onnx.export(pooled, tuple(sample[n] for n in names), str(out), input_names=names,
                          output_names=["embedding"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
        probe = tok(PROBES, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        want = pooled(*(probe[n] for n in names)).numpy()
    got = Session(out).run({n: probe[n].numpy() for n in names})
    cos = float((got * want).sum(1).min())
    if cos < MIN_COSINE:
        raise ConfigError(f"the ONNX export of {model_dir} does not reproduce the model (cosine {cos:.5f}); "
                          "set index.backend = \"torch\"")


def quantize(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation, weights per output channel (per-tensor scales moved MiniLM's vectors 4x further)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


class Session:
    """An ONNX Runtime session on one thread; callers run several at once for parallelism (run is thread-safe)."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self._session.get_inputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        out = self._session.run(None, {n: feeds[n].astype(np.int64, copy=False) for n in self.inputs})[0]
        return np.asarray(out, dtype=np.float32)
