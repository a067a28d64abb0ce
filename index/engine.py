"""The index facade the bot and CLI use: ingest, ask, stats and reindex over versioned index files.

Building and publishing versions is in index.build, the reindex quality gate in index.gate."""

from __future__ import annotations

import gc
import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from corpus.errors import ParleyError
from corpus.ingest import IngestReport, ingest_articles, ingest_paths
from corpus.model import Article
from corpus.store import ArticleStore
from index.build import (
    Agreement,
    Cancelled,
    IndexState,
    KnownVectors,
    Progress,
    build,
    compare_vectors,
    drop_leftovers,
    embed_into,
    load_live,
    new_version,
    put_back,
    resync,
    switch,
)
from index.articles import ArticleCache, passage_texts
from index.calibration import Model, load_model
from index.dates import date_filter, mark_dates
from index.digest import Digest, build_digest
from index.embedder import Embedder, load_embedder
from index.gate import GateReport, QualityGateRefused, compare
from index.lexical import LexicalIndex, tokenize
from index.negotiations import Party, Tracked
from index.passages import split_passages
from index.query import QueryAnalyzer
from index.quotes import Policy, answer, build_quotes
from index.retrieve import Retriever
from index.rowvectors import Writer
from index.settings import IndexSettings
from index.timeframe import parse_timeframe
from index.types import Answer, Passage, Quote
from index.vectors import VectorStore, make_client_factory

logger = logging.getLogger(__name__)


# From this many passages on, a loaded index's Python objects are frozen out of the garbage collector's scans
SETTLE_AT = 50_000


def settle_heap(state: IndexState | None) -> None:
    """Freeze what is alive now (the loaded index above all) into the garbage collector's permanent generation.

    A large index holds millions of long-lived objects (passage ids, the lexical and token vocabularies); each full
    collection walked them all: at a million passages 3 full collections fell within 200 questions, up to 220 ms
    each. Frozen, they are skipped. Each call first unfreezes and collects, so a state replaced by an ingest or
    reindex is freed as before (once per switch, beside the much longer embedding). Small indexes are left alone."""
    if state is None or len(state.table) < SETTLE_AT:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Engine:
    def __init__(
        self,
        settings: IndexSettings,
        data_dir: Path,
        tracked: Tracked,
        *,
        embedder: Embedder | None = None,
        client_factory: Callable[[], Any] | None = None,
        scoring: Model | None = None,
    ):
        self.settings = settings
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.tracked = tracked
        self.analyzer = QueryAnalyzer(tracked)
        self.store = ArticleStore(data_dir / "articles.sqlite3")
        where = settings.chroma_url or f"embedded at {data_dir / 'chroma'}"
        factory = client_factory or make_client_factory(
            settings.chroma_url, data_dir, settings.chroma_auth_header, settings.chroma_auth_env
        )
        self.vectors = VectorStore(factory, where)
        self._embedder = embedder
        self._scoring: Model | None = scoring
        self._stale_warned: set[str] = set()  # index versions already warned about a refitted scorer
        self._write = threading.Lock()
        self._article = ArticleCache(self.store)
        self._state = load_live(self.store, self.index_dir, self._article, self.vectors)
        settle_heap(self._state)
        self.last_gate: GateReport | None = None  # the quality gate's comparison from the last reindex

    # -- set-up -------------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.batch_size, self.settings.backend)
        return self._embedder

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def cleanup(self) -> list[str]:
        """Drop index versions and folders the live pointer does not name (left by a crash mid-build)."""
        state = self._state
        with self._write:
            return drop_leftovers(self.vectors, self.index_dir, state)

    # -- writing ------------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Store new articles (dedup'd), tag them, and add their passages to the live index."""
        report = ingest_paths(self.store, list(paths))
        self._tag(report.added)
        self.index_pending(progress)
        return report

    def ingest_url(self, url: str, timeout: float = 20.0) -> IngestReport:
        """Fetch an article page or an RSS/Atom feed and ingest what it holds."""
        from corpus.fetch import fetch_articles

        report = ingest_articles(self.store, fetch_articles(url, timeout))
        self._tag(report.added)
        self.index_pending()
        return report

    def _tag(self, articles: Iterable[Article]) -> None:
        for art in articles:
            if not art.negotiations:
                self.store.set_tags(art.id, self.tracked.tag(f"{art.title}\n{art.text}"))

    def index_pending(self, progress: Progress | None = None) -> int:
        """Index every stored article the live index lacks (also picks up work a crash interrupted)."""
        with self._write:
            state = self._state
            have = set(state.table.article_ids) if state else set()
            todo = [i for i in self.store.ids_in_order() if i not in have]  # ids only: nothing indexed is re-read
            found = self.store.get_many(todo)
            pending = [found[i] for i in todo if i in found]
            if not pending:
                return 0
            if state is None:
                version = new_version()
                self.vectors.create(version, self.embedder.name, self.embedder.dim)
            else:
                version = state.version
                self.vectors.check_model(version, self.embedder.name, self.embedder.dim)
            new = [p for a in pending for p in split_passages(a)]
            first_row = len(state.table) if state else 0
            sink = Writer(self.index_dir, self.embedder.dim)
            try:
                embed_into(
                    self.vectors, self.embedder, version, new, first_row, {a.id: a for a in pending},
                    batch_size=self.settings.batch_size, progress=progress, sink=sink,
                )
                built = self._build(version, new, sink, reuse=state)
            finally:
                sink.discard()
            self._switch(built)
            self._article.cache_clear()
            return len(new)

    def reindex(self, progress: Progress | None = None, cancel: threading.Event | None = None, force: bool = False) -> str:
        """Rebuild everything from the article store into a new version, then switch to it atomically.

        With QA files in `index.quality_gate`, the new version is evaluated against the live one first; if
        R@3 drops (beyond `index.quality_gate_tolerance`) or a quote is not verbatim, the new version is
        dropped and QualityGateRefused says why, unless `force`. `last_gate` keeps the comparison."""
        with self._write:
            articles = list(self.store.iter_articles())
            if not articles:
                raise ParleyError("no articles are stored, so there is nothing to reindex; ingest some first")
            for art in articles:
                self.store.set_tags(art.id, self.tracked.tag(f"{art.title}\n{art.text}"))
            articles = list(self.store.iter_articles())
            by_id = {a.id: a for a in articles}
            old = self._state
            known = None  # vectors the live version embedded with this same embedder are read back, not re-embedded
            if old is not None and (old.meta.get("fingerprint"), old.meta.get("dim")) == (self.embedder.fingerprint, self.embedder.dim):
                known = KnownVectors(old, by_id)
            version = new_version()
            self.vectors.create(version, self.embedder.name, self.embedder.dim)
            logger.info("reindex: building version %s from %d articles", version, len(articles))
            sink = Writer(self.index_dir, self.embedder.dim)
            try:
                passages = [p for a in articles for p in split_passages(a)]
                embedded = embed_into(
                    self.vectors, self.embedder, version, passages, 0, by_id,
                    batch_size=self.settings.batch_size, progress=progress, cancel=cancel, known=known, sink=sink,
                )
                logger.info("reindex: %d of %d sentences embedded, the rest reused or repeated", embedded, len(passages))
                candidate = self._build(version, passages, sink, known=known)
            except BaseException:
                self.vectors.drop(version)
                raise
            finally:
                sink.discard()
            try:
                self.last_gate = self.gate(candidate, old) if self.settings.quality_gate else None
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the reindex was cancelled; the live index is unchanged")
                if self.last_gate is not None and not self.last_gate.passed and not force:
                    raise QualityGateRefused(self.last_gate)
            except BaseException:
                self.vectors.drop(version)
                shutil.rmtree(self.index_dir / candidate.files, ignore_errors=True)
                raise
            self._switch(candidate)
            self._article.cache_clear()
            if old is not None and old.version != version:
                self.vectors.drop(old.version)
            return version

    @property
    def gate_lines(self) -> list[str]:
        """The last reindex's quality-gate comparison, one line per QA file (empty without a gate)."""
        return self.last_gate.lines() if self.last_gate else []

    def gate(self, candidate: IndexState, live: IndexState | None) -> GateReport:
        """Evaluate the QA files of `index.quality_gate` on `candidate` and on `live` (if any) and compare."""
        if live is not None and live.version not in self.vectors.versions():
            # the live collection is gone (the reason to reindex): nothing to compare with, the checks still run
            logger.warning("quality gate: the live version %s has no collection; checking the new version alone", live.version)
            live = None
        live_embedder = self.embedder
        if live is not None and live.meta.get("model") != self.embedder.name:  # the reindex changes the model
            live_embedder = load_embedder(str(live.meta["model"]), self.settings.batch_size, self.settings.backend)
        return compare(
            self.settings.quality_gate,
            lambda q: self.rank(q, k=10, state=candidate),
            None if live is None else lambda q: self.rank(q, k=10, state=live, embedder=live_embedder),
            self.is_verbatim,
            self.settings.quality_gate_tolerance,
        )

    def resync_vectors(self) -> tuple[int, int, int]:
        """Make the live collection hold exactly one vector per passage: put back missing ones (from the index's
        own sentence vectors file, embedding only what it lacks), delete strays. Returns (added, deleted, embedded)."""
        with self._write:
            state = self._state
            if state is None:
                return 0, 0, 0
            return resync(self.vectors, self.store, state, lambda texts: self.embedder.encode(texts))

    def rewrite_vectors(self, found: Agreement | None = None) -> tuple[int, int]:
        """Compare every row of the live version's sentence vectors file with its collection and embed again each
        passage whose two vectors disagree, writing the vector into both. `found` is a comparison already made
        (`parley stats --check --full`): used when it covered every row of the live state, instead of comparing
        again. Returns (rewritten, rows compared); (0, 0) when the version has no file (its rows are read from
        Chroma)."""
        with self._write:
            state = self._state
            if state is not None and (found is None or found.sampled or found.files != state.files):
                found = compare_vectors(self.vectors, state, every_row=True)
            if state is None or found is None:
                return 0, 0
            encode = lambda texts: self.embedder.encode(texts)  # noqa: E731
            return put_back(self.vectors, self.store, state, found.disagree, encode, from_file=False), found.compared

    def _build(self, version: str, passages: list[Passage], new_vectors: Writer, reuse: IndexState | None = None,
               known: KnownVectors | None = None) -> IndexState:
        """A new state's files, not yet live (see index.build.build)."""
        return build(
            self.index_dir, version, passages, store=self.store, article=self._article,
            embedder=self.embedder, model=self._model(), new_vectors=new_vectors, reuse=reuse, known=known,
        )

    def _switch(self, state: IndexState) -> None:
        """Make `state` live: flip the pointer in one write, then drop the previous state's folder."""
        self._state = switch(self.store, self.index_dir, self._state, state)
        settle_heap(self._state)

    # -- reading ------------------------------------------------------------------------------------
    def retriever(self, state: IndexState, embedder: Embedder | None = None) -> Retriever:
        """Retrieval over `state`; `embedder` (default: the configured one) must be the model it was built with."""
        embedder = embedder or self.embedder
        return Retriever(
            table=state.table,
            lexical=state.lexical,
            para_lexical=state.para_lexical,
            para_vectors=state.para_vectors,
            sentence_vectors=state.sentence_vectors,
            vectors=self.vectors,
            version=state.version,
            embedder=embedder,
            analyzer=self.analyzer,
            texts=lambda rows: passage_texts(state.table, self._article, rows),
            tokens=state.tokens,
            model=self._model() if embedder is self.embedder else load_model(embedder.name),
            candidates=self.settings.candidates,
        )

    def _model(self) -> Model:
        if self._scoring is None:
            self._scoring = load_model(self.embedder.name)
        return self._scoring

    def threshold(self, state: IndexState) -> float:
        """The abstention threshold: `index.abstain_threshold` if set, else the one stored with the index version.
        When index/calibration.json has since been refitted for the same embedding model, the stored threshold
        belongs to another scorer: the current fit's threshold is used and a warning says to reindex."""
        if self.settings.abstain_threshold is not None:
            return self.settings.abstain_threshold
        stored = state.meta["abstain"]
        current = self._model()
        if stored.get("model") == current.name:
            if stored.get("fitted") != current.fitted:
                if state.version not in self._stale_warned:
                    self._stale_warned.add(state.version)
                    logger.warning("index version %s was built with the scorer fitted as %r; index/calibration.json now "
                                   "holds %r: using its threshold %.3f (run `parley reindex` to store it with the index)",
                                   state.version, stored.get("fitted"), current.fitted, current.threshold)
                return current.threshold
        return float(stored["threshold"])

    def ask(self, question: str, *, top: int | None = None, now: datetime | None = None) -> Answer:
        """Quoted, cited passages answering `question`, or an explained abstention."""
        return self.rank(question, top=top, k=0, now=now)[0]

    def rank(
        self,
        question: str,
        *,
        top: int | None = None,
        k: int = 10,
        now: datetime | None = None,
        state: IndexState | None = None,
        embedder: Embedder | None = None,
    ) -> tuple[Answer, list[Quote]]:
        """The answer plus the `k` best quotes regardless of abstention (for evaluation), from `state`
        (default: the live index; the quality gate passes a version being built, or the live one with the
        embedder it was built with when a reindex changes the model).

        Dates in the question ("this week", "since March", "latest") filter or order by published date."""
        state = state or self._state
        if state is None or not len(state.table):
            empty = Answer(question, (), True, "empty_index", "No articles are indexed yet; an admin can add some with `parley ingest`.")
            return _with_freshness(empty, self.freshness()), []
        embedder = embedder or self.embedder
        self.vectors.check_model(state.version, embedder.name, embedder.dim)
        frame, rest = parse_timeframe(question, now)
        where, mask = None, None
        if frame.bounded:
            where, mask = date_filter(frame, state.table)
            if frame.absolute and not self._dates_publication(question, mask):
                frame, rest, where, mask = replace(frame, start=None, end=None), question, None, None
        retrieval = self.retriever(state, embedder).search(rest if frame.bounded else question, where=where, mask=mask)
        known = all(_party_in_corpus(p, state.lexical) for p in retrieval.query.parties)
        policy = Policy(top=top or self.settings.top, threshold=self.threshold(state))
        if frame.bounded and mask is not None and not mask.any():
            # nothing in range: the closest passages from any date, labelled as such, show what there is
            anytime = self.retriever(state, embedder).search(rest)
            nearest = build_quotes(anytime, state.table, self._article, policy, policy.nearest, float("-inf"))
            text = f"No indexed article was published {frame.describe()}; the closest passages are from other dates."
            ans = Answer(question, (), True, "no_time", text, tuple(nearest))
            return _with_freshness(ans, self.freshness()), []
        ans = answer(retrieval, state.table, self._article, policy, party_known=known)
        if frame.bounded and ans.abstained and ans.reason in {"no_passage", "empty_index"}:
            ans = replace(ans, reason="no_time", reason_text=f"Nothing published {frame.describe()} answers this.")
        ans = mark_dates(ans, newest_first=frame.latest)
        ranked = build_quotes(retrieval, state.table, self._article, replace(policy, max_per_article=k), k, float("-inf")) if k else []
        return _with_freshness(ans, self.freshness()), ranked

    def _dates_publication(self, question: str, published_then: np.ndarray) -> bool:
        """Whether an absolute date in the question ("in 2024", "in March") means when articles were published.
        A news question about a tracked party's act ("What did Russia demand in 2024?") reads it so, even when
        nothing was published then (the answer says so). "What happened in 1517?" or "Who was announced as
        the contractor in November 1962?" ask when something happened: a date with only a party or only an act
        word counts as a publication date only when articles were published in that time (`published_then`, the
        passage rows whose article was)."""
        q = self.analyzer.analyze(question)
        if q.parties and q.acts:
            return True
        return bool(q.parties or q.acts) and bool(published_then.any())

    def is_verbatim(self, quote: Quote) -> bool:
        art = self.store.get(quote.article_id)
        return art is not None and art.text[quote.start : quote.end] == quote.text

    def freshness(self) -> str:
        n = self.store.count()
        newest = self.store.newest_published()
        last = self.store.last_ingest()
        parts = [f"Searched {n} article{'s' if n != 1 else ''}"]
        if newest:
            parts.append(f"newest published {newest:%-d %b %Y}")
        if last:
            parts.append(f"last ingest {last:%-d %b %Y %H:%M} UTC")
        return "; ".join(parts) + "."

    def stats(self) -> dict[str, object]:
        state = self._state
        last = self.store.last_ingest()
        out: dict[str, object] = {
            "articles": self.store.count(),
            "passages": len(state.table) if state else 0,
            "index_version": state.version if state else "none",
            "model": state.meta.get("model") if state else self.settings.model,
            "last_ingest": f"{last:%Y-%m-%d %H:%M} UTC" if last else "never",
            "vector_store": self.vectors.where,
        }
        try:
            out["collections"] = ", ".join(
                f"{v}: {self.vectors.count(v)} vectors" + (" (live)" if state and v == state.version else " (not live)")
                for v in self.vectors.versions()
            ) or "none"
        except ParleyError as exc:
            out["collections"] = f"unavailable ({exc})"
        return out

    def digest(self, negotiation: str, start: datetime, end: datetime) -> Digest:
        neg = self.tracked.get(negotiation)
        if neg is None:
            raise ParleyError(f"`{negotiation}` is not a tracked negotiation")
        return build_digest(neg, self.store.iter_articles(), self.tracked.acts, start, end)

    def sources(self) -> list[tuple[str, int, str]]:
        return [(src, n, f"{last:%Y-%m-%d %H:%M} UTC" if last else "never") for src, n, last in self.store.sources()]

    def close(self) -> None:
        self.store.close()


def _party_in_corpus(party: Party, lexical: LexicalIndex) -> bool:
    """Some alias of the party is in the corpus vocabulary (every word of a multi-word alias)."""
    for alias in party.aliases + (party.name,):
        toks = tokenize(alias)
        if toks and all(lexical.has(t) for t in toks):
            return True
    return False


def _with_freshness(ans: Answer, line: str) -> Answer:
    return replace(ans, freshness=line)
