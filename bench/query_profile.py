"""Warm `Engine.ask` latency on an existing data dir, with a cProfile top list and an exact before/after check.

    python bench/query_profile.py /tmp/parley-scale/100000 [-n 200] [--profile 30] [--dump out.pkl]
    python bench/query_profile.py DATA --dump after.pkl --compare before.pkl
    python bench/query_profile.py DATA --code /tmp/parley-base --dump before.pkl   # another checkout's code
    python bench/query_profile.py DATA --server    # through `chroma run` (started and stopped here)

The data dir is one bench/scale.py built (opened read-only in spirit: nothing is ingested or reindexed). Wall-clock
p50/p95 are printed with the process's CPU time per question (all threads), which a busy machine disturbs less.
Questions are the first `-n` of squad-a's QA file, after `--warmup` others that load the model and warm caches. With
`--embed cached` the questions are embedded before timing, so the numbers leave out the model (otherwise the
configured backend, as the bot loads it). `--dump` pickles, per question, every ranked candidate's (row, score,
learned, features) and the Answer; `--compare` checks a dump against an earlier one: same candidates in the same
order, scores and features within 1e-9 (`--tolerance`), identical quotes and abstentions.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import math
import pickle
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

QA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "squad-a" / "squad-qa.jsonl"
TOLERANCE = 1e-9


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="a data dir built by bench/scale.py")
    ap.add_argument("-n", type=int, default=200, help="timed questions (default 200)")
    ap.add_argument("--warmup", type=int, default=5, help="questions asked before timing (not among the timed ones)")
    ap.add_argument("--qa", type=Path, default=QA)
    ap.add_argument("--embed", choices=["live", "cached"], default="live", help="embed questions while timing, or before")
    ap.add_argument("--cold-articles", action="store_true",
                    help="empty the engine's article cache before each question (untimed), as a million passages' "
                         "83k articles mostly miss it")
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="print cProfile's top K functions by own time")
    ap.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative, ...)")
    ap.add_argument("--dump", type=Path, help="pickle each question's ranked candidates and answer here")
    ap.add_argument("--compare", type=Path, help="check the answers against this earlier --dump")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE,
                    help="largest difference in a score or feature --compare accepts (default %(default)g; 1e-6 when a "
                         "change reads a cosine's vector from another copy: Chroma returns it renormalised)")
    ap.add_argument("--code", type=Path, help="import Parley from this checkout instead of this one")
    ap.add_argument("--server", action="store_true", help="ask through `chroma run` over the data dir's Chroma files")
    return ap.parse_args()


class CachedEmbedder:
    """The real model, with the timed questions embedded up front (batches still go to the wrapped embedder)."""

    def __init__(self, inner: Any, questions: list[str]):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fingerprint = getattr(inner, "fingerprint", inner.name)  # --code may be a checkout from before fingerprints
        self.cache = {q: inner.encode([q])[0] for q in questions}

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1 and texts[0] in self.cache:
            return self.cache[texts[0]][None, :]
        return np.asarray(self.inner.encode(texts))


def record(retrieval: Any, answer: Any) -> dict[str, Any]:
    """What must not change: the ranked candidates and the answer (quotes, scores, abstention)."""
    return {
        "candidates": [(c.row, c.score, c.learned, np.asarray(c.x, dtype=np.float64).tolist()) for c in retrieval.candidates],
        "dense": sorted(c.row for c in retrieval.candidates if "dense" in c.sources),
        "confidence": retrieval.confidence,
        "missing": retrieval.missing_terms,
        "answer": answer,
    }


def differences(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], tol: float = TOLERANCE) -> tuple[list[str], list[str]]:
    """Human-readable differences between two dumps (none when identical within `tol`), and the questions
    left out because Chroma returned other nearest sentences.

    An embedded Chroma replays the records its HNSW files lack (the last write batch) into the graph each time
    a process opens the collection, so the approximate nearest neighbours at the margin can differ from one
    process to the next with the same code and data; such questions cannot be compared."""
    out, skipped = [], []
    for q in sorted(before.keys() | after.keys()):
        a, b = before.get(q), after.get(q)
        if a is None or b is None:
            out.append(f"{q!r}: only in one dump")
            continue
        if a["dense"] != b["dense"]:
            skipped.append(q)
            continue
        if [c[0] for c in a["candidates"]] != [c[0] for c in b["candidates"]]:
            out.append(f"{q!r}: candidate rows or order differ")
        else:
            for ca, cb in zip(a["candidates"], b["candidates"]):
                nums = [(ca[1], cb[1]), (ca[2], cb[2]), *zip(ca[3], cb[3])]
                if len(ca[3]) != len(cb[3]) or any(not math.isclose(x, y, rel_tol=0, abs_tol=tol) for x, y in nums):
                    out.append(f"{q!r}: row {ca[0]} scores or features differ")
                    break
        if not math.isclose(a["confidence"], b["confidence"], rel_tol=0, abs_tol=tol) or a["missing"] != b["missing"]:
            out.append(f"{q!r}: confidence or missing terms differ")
        if not same_answer(a["answer"], b["answer"], tol):
            out.append(f"{q!r}: answers differ")
    return out, skipped


def same_answer(a: Any, b: Any, tol: float = TOLERANCE) -> bool:
    def key(ans: Any) -> tuple[Any, ...]:
        quotes = [(q.text, q.article_id, q.start, q.end, q.also_reported_by, q.later_report, q.published) for q in ans.quotes + ans.nearest + ans.more]
        return (ans.abstained, ans.reason, ans.reason_text, len(ans.quotes), len(ans.nearest), len(ans.more), quotes)

    scores = [(x.score, y.score) for x, y in zip(a.quotes + a.nearest + a.more, b.quotes + b.nearest + b.more)]
    return key(a) == key(b) and all(math.isclose(x, y, rel_tol=0, abs_tol=tol) for x, y in scores)


def main() -> None:
    args = parse()
    root = (args.code or Path(__file__).resolve().parents[1]).resolve()
    sys.path.insert(0, str(root))
    from bench.scale import DerivedEmbedder, open_engine
    from index.embedder import SentenceTransformerEmbedder, set_threads
    from index.evaluate import load_qa

    print(f"code: {root}", file=sys.stderr)
    set_threads(1)  # as the bot serves
    items = load_qa(args.qa)
    warm = [i.question for i in items[args.n : args.n + args.warmup]]
    questions = [i.question for i in items[: args.n]]
    try:  # the embedder config/parley.toml names, as the bot loads it
        from bench.scale import configured_embedder

        real: Any = configured_embedder()
    except ImportError:  # --code: a checkout from before index.backend
        real = SentenceTransformerEmbedder()
    if args.embed == "cached":
        real = CachedEmbedder(real, warm + questions)
    with contextlib.ExitStack() as stack:
        url = ""
        if args.server:
            from tests.chroma_server import running_chroma

            url = stack.enter_context(running_chroma(args.data / "chroma")).url
        engine = open_engine(args.data, DerivedEmbedder(real, np.zeros((1, real.dim), dtype=np.float32)), url)
        run(args, engine, warm, questions)


def run(args: argparse.Namespace, engine: Any, warm: list[str], questions: list[str]) -> None:
    from index.retrieve import Retriever

    # keep the Retrieval behind each answer (a bench-only wrapper: Engine.ask returns only the Answer)
    seen: list[Any] = []
    search = Retriever.search

    def recording(self: Any, *a: Any, **kw: Any) -> Any:
        seen.append(search(self, *a, **kw))
        return seen[-1]

    Retriever.search = recording  # type: ignore[method-assign]
    for q in warm:
        engine.ask(q)
    prof = cProfile.Profile() if args.profile else None
    times, cpu, dump = [], [], {}
    for q in questions:
        seen.clear()
        if args.cold_articles:
            engine._article.cache_clear()
        if prof:
            prof.enable()
        t, c = time.perf_counter(), time.process_time()
        ans = engine.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        if prof:
            prof.disable()
        dump[q] = record(seen[0], ans)
    arr = np.asarray(times)
    print(f"{len(times)} questions, {len(engine._state.table) if engine._state else 0} passages, embed={args.embed}{', cold articles' if args.cold_articles else ''}: "
          f"p50 {np.percentile(arr, 50):.1f} ms, p95 {np.percentile(arr, 95):.1f} ms, mean {arr.mean():.1f} ms; "
          f"CPU (all threads) p50 {np.median(cpu):.1f} ms, mean {np.mean(cpu):.1f} ms")
    if prof:
        stats = pstats.Stats(prof)
        stats.sort_stats(args.sort).print_stats(args.profile)
    if args.dump:
        args.dump.write_bytes(pickle.dumps(dump))
    if args.compare:
        diffs, skipped = differences(pickle.loads(args.compare.read_bytes()), dump, args.tolerance)
        print(f"{len(dump) - len(skipped)} questions compared with {args.compare}: "
              f"{'identical' if not diffs else f'{len(diffs)} differences'}; {len(skipped)} skipped (Chroma returned "
              f"other nearest sentences: {[q[:40] for q in skipped]})")
        for d in diffs[:20]:
            print("  ", d)
        if diffs:
            sys.exit(1)


if __name__ == "__main__":
    main()
