"""Query latency, memory and disk at 100k to 1M passages, with vectors derived from real embeddings.

    python bench/scale.py --passages 1000000 [--data /tmp/parley-scale] [--server] [--out bench/results.md]

Embedding a million sentences on two CPU cores takes hours, so (as the scale issue allows) passage vectors are
derived from real ones: a few thousand real sentences from ../shared are embedded with all-MiniLM-L6-v2 once, and
each generated passage gets a normalised mix of two of those vectors chosen by a hash of its text. Questions are
embedded by the real model, so query latency includes real query embedding. The text is real sentences from
../shared with words swapped between sentences, so BM25 sees a realistic, growing vocabulary.

Phases (each reusable with --data): `build` ingests through the real Engine (store, dedup, passages, Chroma,
BM25, paragraph vectors) and reports passages/s; `query` opens the index in a fresh process, times 200 warm
`Engine.ask` calls (p50/p95, embedded and with --server against `chroma run --path` over the same files) and, in
the same process, a naive baseline (embed the question, take Chroma's 3 nearest sentences), then the same 200
questions with 4 in flight on worker threads (as the bot runs them): questions per second and how many cores the
asking process kept busy. It reports that process's peak RSS and the data dir's size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import write_section  # noqa: E402
from bench.speed import du, latency, timed  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from corpus.ingest import ingest_articles  # noqa: E402
from corpus.loaders import load_paths, make_article  # noqa: E402
from index.embedder import Embedder, load_embedder, set_threads  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import load_qa  # noqa: E402
from index.negotiations import load_tracked  # noqa: E402
from index.passages import split_passages  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BASE = 2000  # real sentences embedded for deriving vectors
PER_ARTICLE = 20  # sentences per generated article (4 paragraphs of 5)
CONCURRENT = 4  # questions in flight for the throughput column


class DerivedEmbedder:
    """Real model for single texts (questions); for batches (passages, paragraphs) a deterministic mix of two
    real embeddings picked by a hash of the text. Named like the real model so the real calibration applies."""

    def __init__(self, real: Embedder, base: np.ndarray):
        self.real, self.base = real, base
        self.name, self.dim = real.name, real.dim
        self.fingerprint = f"derived:{real.fingerprint}"

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1:
            return self.real.encode(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        n = len(self.base)
        for i, t in enumerate(texts):
            h = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = self.base[h % n] + 0.5 * self.base[(h >> 20) % n]
            out[i] = v / np.linalg.norm(v)
        return out


def real_sentences() -> list[str]:
    arts = load_paths([SHARED / "eval" / "squad-a" / "corpus", SHARED / "seeds"]).articles
    return [p.text for a in arts for p in split_passages(a) if 40 <= len(p.text) <= 300]


def articles(sents: list[str], n_passages: int, seed: int = 7):
    """Generated articles: real sentences with about one word in eight swapped for a word of another sentence."""
    rng = random.Random(seed)
    vocab = sorted({w for s in sents for w in s.split() if w.isalpha() and len(w) > 3})
    for a in range(0, n_passages // PER_ARTICLE):
        paras = []
        for _ in range(PER_ARTICLE // 5):
            out = []
            for _ in range(5):
                words = rng.choice(sents).split()
                for _ in range(max(1, len(words) // 8)):
                    words[rng.randrange(len(words))] = rng.choice(vocab)
                out.append(" ".join(words).rstrip(".") + ".")
            paras.append(" ".join(out))
        yield make_article(f"Generated report {a}", "\n\n".join(paras), source=f"Wire {a % 50}", url=f"https://example.org/gen/{a}")


def open_engine(data: Path, embedder, server: str = "") -> Engine:
    settings = load_settings(REPO / "config" / "parley.toml", data)
    index = settings.index.model_copy(update={"chroma_url": server, "quality_gate": ()})
    return Engine(index, data, load_tracked(settings.negotiations_file), embedder=embedder)


def configured_embedder() -> Embedder:
    """The embedder config/parley.toml names (model and backend), as the bot would load it."""
    settings = load_settings(REPO / "config" / "parley.toml")
    return load_embedder(settings.index.model, settings.index.batch_size, settings.index.backend)


def build(args: argparse.Namespace) -> dict[str, float]:
    real = configured_embedder()
    sents = real_sentences()
    base = real.encode(sents[:BASE])
    engine = open_engine(args.data, DerivedEmbedder(real, base))
    t = time.perf_counter()
    done = 0
    batch: list = []
    for art in articles(sents, args.passages):
        batch.append(art)
        if len(batch) == args.batch_articles:
            ingest_articles(engine.store, batch)
            done += len(batch)
            batch = []
    if batch:
        ingest_articles(engine.store, batch)
    stored = time.perf_counter() - t
    engine._tag(engine.store.iter_articles())
    n = engine.index_pending(progress=lambda d, total: print(f"\r  indexed {d}/{total}", end="", file=sys.stderr, flush=True))
    total = time.perf_counter() - t
    print(file=sys.stderr)
    return {"passages": n, "store_s": stored, "total_s": total, "passages_per_s": n / total}


def query(args: argparse.Namespace) -> dict[str, float]:
    set_threads(1)  # as the bot serves (bot/wiring.py)
    real = configured_embedder()
    engine = open_engine(args.data, DerivedEmbedder(real, np.zeros((1, real.dim), dtype=np.float32)), args.server_url)
    questions = [i.question for i in load_qa(SHARED / "eval" / "squad-a" / "squad-qa.jsonl")[:200]]
    for q in questions[:5]:
        engine.ask(q)
    p50, p95 = latency(engine, questions)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the naive baseline in the same process: embed the question, take Chroma's 3 nearest sentences
    version = engine._state.version  # type: ignore[union-attr]
    naive_p50, naive_p95 = timed(lambda q: engine.vectors.query(version, real.encode([q])[0], 3, None), questions)
    return {"p50": p50, "p95": p95, "rss_mb": rss, "passages": len(engine._state.table),  # type: ignore[union-attr]
            "naive_p50": naive_p50, "naive_p95": naive_p95, **in_flight(engine.ask, questions, CONCURRENT)}


def in_flight(ask: Callable[[str], object], questions: list[str], n: int) -> dict[str, float]:
    """Questions per second with `n` asked at once on worker threads (the bot's asyncio.to_thread), and the
    cores this process kept busy meanwhile (CPU seconds over wall seconds)."""
    before, t = os.times(), time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(ask, questions))
    wall, after = time.perf_counter() - t, os.times()
    cpu = after.user - before.user + after.system - before.system
    return {"qps": len(questions) / wall, "cores": cpu / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=Path("/tmp/parley-scale"))
    ap.add_argument("--phase", choices=["all", "build", "query"], default="all")
    ap.add_argument("--server", action="store_true", help="also time queries against `chroma run` over the same files")
    ap.add_argument("--server-url", default="", help=argparse.SUPPRESS)
    ap.add_argument("--batch-articles", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    args = ap.parse_args()
    if args.phase == "build":
        print(json.dumps(build(args)))
        return
    if args.phase == "query":
        print(json.dumps(query(args)))
        return
    data = args.data / str(args.passages)
    me = [sys.executable, __file__, "--passages", str(args.passages), "--data", str(data)]
    record = data / "build.json"  # the build's numbers, kept with the data so a later query-only run still reports them
    if not (data / "articles.sqlite3").exists():
        out = subprocess.run([*me, "--phase", "build"], check=True, capture_output=True, text=True).stdout
        record.write_text(out.splitlines()[-1])
    built = json.loads(record.read_text()) if record.exists() else None
    rows = [("embedded", json.loads(subprocess.run([*me, "--phase", "query"], check=True, capture_output=True, text=True).stdout.splitlines()[-1]))]
    if args.server:
        from tests.chroma_server import running_chroma

        with running_chroma(data / "chroma") as server:
            served = subprocess.run([*me, "--phase", "query", "--server-url", server.url], check=True, capture_output=True, text=True).stdout
            rows.append(("chroma run", json.loads(served.splitlines()[-1])))
    size = du(data)
    heading = f"## Scale: {args.passages:,} passages"
    lines = [heading, "",
             f"`python bench/scale.py --passages {args.passages}{' --server' if args.server else ''}` on {platform.machine()}, 2 cores; "
             "vectors derived from real all-MiniLM-L6-v2 embeddings, questions embedded by the real model.", ""]
    if built:
        lines.append(f"Build through the Engine: {built['passages']:,} passages in {built['total_s']:.0f} s "
                     f"({built['passages_per_s']:.0f} passages/s with derived vectors; store and dedup {built['store_s']:.0f} s).")
        lines.append("")
    lines += ["Naive baseline, same process: embed the question and take Chroma's 3 nearest sentences (no BM25, features,",
              "quotes or abstention).", "",
              f"| mode | ask p50 ms | ask p95 ms | naive p50 / p95 ms | p50 ratio to naive | questions/s, {CONCURRENT} in flight | cores busy (asking process) | peak RSS of the asking process MB | data dir MB |",
              "|---|---|---|---|---|---|---|---|---|"]
    for mode, r in rows:
        lines.append(f"| {mode} | {r['p50']:.0f} | {r['p95']:.0f} | {r['naive_p50']:.0f} / {r['naive_p95']:.0f} | "
                     f"{r['p50'] / r['naive_p50']:.1f}× | {r['qps']:.1f} | {r['cores']:.2f} | {r['rss_mb']:.0f} | {size:.0f} |")
    section = "\n".join(lines) + "\n"
    write_section(args.out, heading, section)
    print(section)


if __name__ == "__main__":
    main()
