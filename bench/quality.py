"""Retrieval quality in one run: naive baselines and Parley on squad-a and the seeds dev set.

    python bench/quality.py [--limit N] [--out bench/results.md]

Baselines (no abstention): BM25 (bm25s, English stemmer) over pysbd sentences; dense all-MiniLM-L6-v2 (fp32)
over the same sentences (exact cosine); reciprocal-rank fusion of the two (k = 60). Parley runs its whole pipeline
(`Engine.rank`: Chroma, BM25, features, learned score, abstention) with the configured backend (fp32 `onnx`
by default: the torch model's vectors to 1e-4), and again with the `int8` backend and its own fit, so int8's
cost in quality is measured in the same run. Hit rule: `index.evaluate.hits`.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bm25s  # noqa: E402
import Stemmer  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from corpus.loaders import load_paths  # noqa: E402
from index.embedder import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import QAItem, Report, evaluate, hits, load_qa, merged  # noqa: E402
from index.negotiations import load_tracked  # noqa: E402
from bench.results import write_section  # noqa: E402
from index.passages import split_passages  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SETS = {
    "squad-a": (SHARED / "eval" / "squad-a" / "squad-qa.jsonl", SHARED / "eval" / "squad-a" / "corpus"),
    "seeds": (SHARED / "eval" / "seeds-qa.jsonl", SHARED / "seeds"),
}


def baselines(items: list[QAItem], corpus: Path, embedder) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    sents = [p.text for a in load_paths([corpus]).articles for p in split_passages(a)]
    stemmer = Stemmer.Stemmer("english")
    bm = bm25s.BM25()
    bm.index(bm25s.tokenize(sents, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    vecs = embedder.encode(sents)
    qv = embedder.encode([i.question for i in items])
    out: dict[str, dict[str, float]] = {}
    ranked: dict[str, list[list[int]]] = {"BM25": [], "dense": [], "RRF": []}
    for n, item in enumerate(items):
        toks = bm25s.tokenize([item.question], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, _ = bm.retrieve(toks, k=min(100, len(sents)), show_progress=False)
        lex = [int(d) for d in docs[0]]
        dense = list(np.argsort(-(vecs @ qv[n]))[:100])
        fused: dict[int, float] = {}
        for lst in (lex, dense):
            for r, d in enumerate(lst):
                fused[int(d)] = fused.get(int(d), 0.0) + 1.0 / (60 + r + 1)
        ranked["BM25"].append(lex[:10])
        ranked["dense"].append([int(d) for d in dense[:10]])
        ranked["RRF"].append(sorted(fused, key=lambda d: -fused[d])[:10])
    for name, lists in ranked.items():
        r1 = r3 = r5 = mrr = 0.0
        answerable = [(i, lst) for i, lst in zip(items, lists) if i.answerable]
        for item, lst in answerable:
            first = next((k for k, d in enumerate(lst) if hits(item, sents[d])), None)
            if first is not None:
                r1 += first < 1
                r3 += first < 3
                r5 += first < 5
                mrr += 1 / (first + 1)
        n_a = max(len(answerable), 1)
        out[name] = {"R@1": r1 / n_a, "R@3": r3 / n_a, "R@5": r5 / n_a, "MRR@10": mrr / n_a, "abstention (unanswerable)": 0.0, "false abstention": 0.0}
    return out


def parley(items: list[QAItem], corpus: Path, embedder, tmp: Path) -> tuple[dict[str, float], dict[str, float], list[float]]:  # type: ignore[no-untyped-def]
    """Parley on all questions, and on the odd-numbered ones alone (bench/calibrate.py fits on the even ones)."""
    settings = load_settings(REPO / "config" / "parley.toml", tmp)
    engine = Engine(settings.index, tmp, load_tracked(settings.negotiations_file), embedder=embedder)
    engine.ingest([corpus])
    even, odd = (evaluate(items[k::2], lambda q: engine.rank(q, k=10), engine.is_verbatim) for k in (0, 1))
    report: Report = merged(even, odd)
    latencies = []
    for item in items[:200]:
        t = time.perf_counter()
        engine.ask(item.question)
        latencies.append((time.perf_counter() - t) * 1000)
    engine.close()
    return report.as_dict(), odd.as_dict(), latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="first N questions of each set (0 = all)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    args = ap.parse_args()
    index = load_settings(REPO / "config" / "parley.toml").index
    embedder = load_embedder(index.model, index.batch_size, index.backend)
    plain = embedder if index.backend == "onnx" else load_embedder(index.model, index.batch_size, "onnx")
    other = "int8" if index.backend != "int8" else "onnx"
    alt = plain if other == "onnx" else load_embedder(index.model, index.batch_size, other)
    rows = []
    for name, (qa, corpus) in SETS.items():
        items = load_qa(qa)[: args.limit or None]
        base = baselines(items, corpus, plain)
        with tempfile.TemporaryDirectory() as tmp:
            mine, odd, lat = parley(items, corpus, embedder, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            alt_m = parley(items, corpus, alt, Path(tmp))[0]
        checks = [("Parley, odd half", odd)] if name == "squad-a" else []
        for system, m in [*base.items(), (f"Parley ({index.backend})", mine), *checks, (f"Parley ({other})", alt_m)]:
            rows.append((name, system, m, lat if system == f"Parley ({index.backend})" else []))
        print(json.dumps({name: {"Parley": mine, **base}}, indent=1), file=sys.stderr)
    lines = ["## Retrieval quality", "", f"`python bench/quality.py{' --limit ' + str(args.limit) if args.limit else ''}` on {platform.machine()}, "
             f"{platform.processor() or 'CPU'}, Python {platform.python_version()}, 2 cores, no GPU. Baselines never abstain. "
             "Parley's scorer and abstention threshold are fitted on squad-a's even-numbered questions (bench/calibrate.py); "
             "\"Parley, odd half\" is the same run on the odd-numbered questions only, which the fit never saw "
             "(they ask about the same articles; docs/retrieval.md gives the held-out-article check).", "",
             "| set | system | R@1 | R@3 | R@5 | MRR@10 | abstained (unanswerable) | false abstention | verbatim | warm ask p50 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, system, m, lat in rows:
        p50 = f"{statistics.median(lat):.0f}" if lat else ""
        verb = f"{m['verbatim']:.3f}" if "verbatim" in m else ""
        lines.append(f"| {name} | {system} | {m['R@1']:.3f} | {m['R@3']:.3f} | {m['R@5']:.3f} | {m['MRR@10']:.3f} | "
                     f"{m['abstention (unanswerable)']:.3f} | {m['false abstention']:.3f} | {verb} | {p50} |")
    section = "\n".join(lines) + "\n"
    write_section(args.out, "## Retrieval quality", section)
    print(section)


if __name__ == "__main__":
    main()
