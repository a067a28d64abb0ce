"""Index versions: embed passages into a version's collection, write its files, and read or flip the live pointer."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from corpus.errors import IndexUnavailable, ParleyError
from corpus.model import Article
from corpus.store import ArticleStore
from index.calibration import Model
from index.embedder import Embedder
from index.lexical import LexicalIndex
from index.rowvectors import READ_BATCH, ChromaRows, Rows, RowVectors, Writer, open_rows
from index.table import PassageTable
from index.tokens import SentenceTokens
from index.types import Passage
from index.vectors import VectorStore

logger = logging.getLogger(__name__)

LIVE_KEY = "index.live"
Progress = Callable[[int, int], None]  # (done, total) passages
ArticleLookup = Callable[[str], Article]  # article id -> stored article (raises if the store lacks it)


class Cancelled(ParleyError):
    """A reindex was cancelled; the live index is unchanged."""


@dataclass(frozen=True)
class IndexState:
    """An immutable snapshot of the live index; readers keep using theirs while a new one is built."""

    version: str  # Chroma collection parley-<version>
    files: str  # folder under <data>/index
    table: PassageTable
    lexical: LexicalIndex
    meta: dict[str, Any]
    para_lexical: LexicalIndex
    para_vectors: np.ndarray  # one embedding per paragraph (row = PassageTable pid)
    tokens: SentenceTokens  # each passage's words as the features read them
    sentence_vectors: Rows  # each passage's vector, as Chroma holds it (index/rowvectors.py)


def new_version() -> str:
    return datetime.now(timezone.utc).strftime("v%Y%m%d%H%M%S%f")


def passage_text_for_embedding(title: str, sentence: str) -> str:
    """Sentences are embedded with their article's title, so a sentence is scored in its context."""
    return f"{title}: {sentence}" if title else sentence


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class KnownVectors:
    """The live version's vectors by the exact text each embeds, so a reindex with the same embedder (equal
    fingerprint) embeds only texts the live version lacks: sentences are read back from its sentence vectors
    file (from its collection while that file is not yet written), paragraphs from its paragraphs.npy. Keys are
    16-byte hashes of the texts (a million rows take ~100 MB)."""

    def __init__(self, live: IndexState, articles: Mapping[str, Article]):
        self._rows, self._paragraphs = live.sentence_vectors, live.para_vectors
        table = live.table
        ids, arts = table.cols["art"].tolist(), table.article_ids
        starts, ends = table.cols["start"].tolist(), table.cols["end"].tolist()
        self.sentences: dict[bytes, int] = {}
        for row, (a, s, e) in enumerate(zip(ids, starts, ends)):
            art = articles.get(arts[a])
            if art is not None:
                self.sentences[_key(passage_text_for_embedding(art.title, art.text[s:e]))] = row
        self.paragraphs = {_key(articles[a].text[s:e]): k for k, (a, s, e) in enumerate(table.paragraph_spans()) if a in articles}

    def sentence_vectors(self, texts: list[str]) -> dict[int, np.ndarray]:
        """Index in `texts` -> vector, for the texts the live version holds a vector of (a row of zeros is one it
        lacks: its file was written from a collection that had lost it)."""
        wanted = {i: row for i, t in enumerate(texts) if (row := self.sentences.get(_key(t))) is not None}
        rows = sorted(set(wanted.values()))
        try:
            found = dict(zip(rows, self._rows.get(rows)))
        except IndexUnavailable:
            raise
        except Exception as exc:  # the live vectors are gone or damaged: embed everything instead
            logger.warning("reindex: cannot read the live version's vectors (%s); embedding all sentences", exc)
            self.sentences.clear()
            return {}
        return {i: found[row] for i, row in wanted.items() if found[row].any()}

    def paragraph_vectors(self, texts: list[str]) -> dict[int, np.ndarray]:
        return {i: self._paragraphs[k] for i, t in enumerate(texts) if (k := self.paragraphs.get(_key(t))) is not None}


def encode_once(embedder: Embedder, texts: list[str], known: Callable[[list[str]], dict[int, np.ndarray]] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for `texts`: those `known` returns are reused, each other distinct text is embedded once (a
    repeated boilerplate line costs one encoding). Returns (vectors, number of texts embedded)."""
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    have = known(texts) if known is not None and texts else {}
    for i, vec in have.items():
        out[i] = vec
    todo: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if i not in have:
            todo.setdefault(text, []).append(i)
    if todo:
        for vec, rows in zip(embedder.encode(list(todo)), todo.values()):
            out[rows] = vec
    return out, len(todo)


def vector_metadata(p: Passage, row: int, art: Article) -> dict[str, Any]:
    """The Chroma metadata of a passage's vector: its table row, article, date and negotiations."""
    meta: dict[str, Any] = {"row": row, "article_id": p.article_id}
    if art.published:
        meta["published_ts"] = int(art.published.timestamp())
    for neg in art.negotiations:
        meta[f"neg:{neg}"] = True
    return meta


def embed_into(
    vectors: VectorStore,
    embedder: Embedder,
    version: str,
    passages: list[Passage],
    first_row: int,
    articles: dict[str, Article],
    *,
    batch_size: int,
    progress: Progress | None,
    cancel: threading.Event | None = None,
    known: KnownVectors | None = None,
    sink: Callable[[np.ndarray], None] | None = None,
) -> int:
    """Embed `passages` (table rows from `first_row` on) into collection `version`, in batches.

    Args:
        articles: the passages' articles by id (for titles and metadata).
        batch_size: the embedder's batch size (`index.batch_size`); a Chroma batch is 32 of them, at least 256.
        cancel: checked between batches; when set, Cancelled is raised.
        known: vectors to reuse instead of embedding (a reindex with the live version's embedder).
        sink: given each batch's vectors in passage order (the version's sentence vectors file).

    Returns:
        how many texts were embedded (the rest were repeats or reused).
    """
    batch = max(batch_size * 32, 256)
    embedded = 0
    for i in range(0, len(passages), batch):
        if cancel is not None and cancel.is_set():
            raise Cancelled("the reindex was cancelled; the live index is unchanged")
        chunk = passages[i : i + batch]
        texts = [passage_text_for_embedding(articles[p.article_id].title, p.text) for p in chunk]
        vecs, n = encode_once(embedder, texts, known.sentence_vectors if known else None)
        embedded += n
        metas = [vector_metadata(p, first_row + i + j, articles[p.article_id]) for j, p in enumerate(chunk)]
        vectors.add(version, [p.id for p in chunk], vecs, metas)
        if sink is not None:
            sink(vecs)
        if progress:
            progress(min(i + batch, len(passages)), len(passages))
    if progress and not passages:
        progress(0, 0)
    return embedded


def embedding_inputs(state: IndexState, rows: list[int], articles: Mapping[str, Article]) -> tuple[list[str], list[dict[str, Any]]]:
    """The text each of `rows` embeds and its vector's Chroma metadata (`articles`: theirs, by id)."""
    table = state.table
    texts, metas = [], []
    for r in rows:
        art = articles[table.article_id(r)]
        start, end = table.span(r)
        passage = Passage(table.passage_id(r), art.id, int(table.cols["seq"][r]), int(table.cols["para"][r]), start, end, art.text[start:end])
        texts.append(passage_text_for_embedding(art.title, passage.text))
        metas.append(vector_metadata(passage, r, art))
    return texts, metas


def resync(vectors: VectorStore, store: ArticleStore, state: IndexState, encode: Callable[[list[str]], np.ndarray]) -> tuple[int, int, int]:
    """Make `state`'s collection hold exactly one vector per passage: put back missing ones, delete strays. A
    missing vector is copied from the version's own sentence vectors file; only one the file lacks too (a row
    of zeros, written for a vector Chroma had already lost when the file was made from it) is embedded again,
    and written into the file's row as well.

    Args:
        encode: embeds passage texts (only called for vectors the file lacks, so a model loads only then).

    Returns:
        (added, deleted, of the added how many were embedded)."""
    table = state.table
    have = vectors.ids(state.version)
    rows = {table.passage_id(r): r for r in range(len(table))}
    stray = sorted(have - rows.keys())
    if stray:
        vectors.delete(state.version, stray)
    missing = [rows[pid] for pid in sorted(rows.keys() - have)]
    return len(missing), len(stray), put_back(vectors, store, state, missing, encode, from_file=True)


def put_back(vectors: VectorStore, store: ArticleStore, state: IndexState, rows: list[int],
             encode: Callable[[list[str]], np.ndarray], *, from_file: bool) -> int:
    """Write the vectors of `rows` into `state`'s collection and its sentence vectors file. With `from_file` a row's
    vector is copied from the file and only one the file lacks (a row of zeros, or the file is Chroma itself) is
    embedded again; without, every row is embedded again (its two copies disagreed, so neither is trusted).
    Returns how many were embedded."""
    table = state.table
    arts = store.get_many(sorted({table.article_id(r) for r in rows}))
    embedded = 0
    for i in range(0, len(rows), 256):
        chunk = rows[i : i + 256]
        texts, metas = embedding_inputs(state, chunk, arts)
        vecs = state.sentence_vectors.get(chunk) if from_file else np.zeros((len(chunk), state.sentence_vectors.dim), dtype=np.float32)
        lacking = np.flatnonzero(~vecs.any(axis=1))
        if len(lacking):
            vecs[lacking] = encode([texts[k] for k in lacking])
            state.sentence_vectors.put([chunk[k] for k in lacking], vecs[lacking])
            embedded += len(lacking)
        vectors.add(state.version, [table.passage_id(r) for r in chunk], vecs, metas)
    return embedded


# How `parley stats --check` compares a version's sentence vectors file with its collection
COMPARE_ALL = 5000  # a table of at most this many rows has every row compared
COMPARE_SAMPLE = 2000  # a larger one this many evenly spaced rows, and every all-zero row of the file
AGREE = 0.999  # the least cosine between a row's two vectors that counts as the same vector


@dataclass(frozen=True)
class Agreement:
    """What `compare_vectors` found: the rows whose vector in the file is not the one Chroma holds."""

    disagree: list[int]
    compared: int  # rows looked at (those Chroma has no vector of are not counted as disagreeing)
    rows: int  # the table's
    sampled: bool
    files: str  # the state's (each build of a version has its own), so a repair can tell the comparison is current

    def describe(self) -> str:
        if not self.sampled:
            return f"all {self.rows:,} rows compared"
        return (f"{self.compared:,} of {self.rows:,} rows compared: {COMPARE_SAMPLE:,} evenly spaced and every "
                f"all-zero row of the file, the rest unchecked; --full compares every row")


def compare_vectors(vectors: VectorStore, state: IndexState, every_row: bool = False) -> Agreement | None:
    """Compare the vectors of `state`'s sentence vectors file with its collection's under each row's passage id:
    every row of a table of at most COMPARE_ALL rows (or with `every_row`), else a sample (COMPARE_SAMPLE evenly
    spaced rows and every row of zeros, found by streaming the file). A row disagrees when the cosine is below
    AGREE, which a row of zeros is whenever Chroma has the vector. None when the version has no file (its rows
    are read from Chroma: nothing to compare)."""
    file = state.sentence_vectors
    if not isinstance(file, RowVectors):
        return None
    n = len(state.table)
    sampled = n > COMPARE_ALL and not every_row
    rows = np.union1d(np.linspace(0, n - 1, COMPARE_SAMPLE).astype(np.int64), file.zero_rows()) if sampled else np.arange(n)
    disagree: list[int] = []
    for start in range(0, len(rows), READ_BATCH):
        chunk = rows[start : start + READ_BATCH].tolist()
        ids = [state.table.passage_id(r) for r in chunk]
        theirs = vectors.embeddings(state.version, ids)
        have = [k for k, pid in enumerate(ids) if pid in theirs]  # the others are missing_vectors
        if not have:
            continue
        ours = file.get([chunk[k] for k in have]).astype(np.float64)
        chroma = np.stack([theirs[ids[k]] for k in have]).astype(np.float64)
        norms = np.linalg.norm(ours, axis=1) * np.linalg.norm(chroma, axis=1)
        cosine = (ours * chroma).sum(axis=1) / np.where(norms > 0, norms, 1.0)
        same = (cosine >= AGREE) | (ours == chroma).all(axis=1)  # not `cosine < AGREE`: a NaN row disagrees
        disagree += [chunk[have[k]] for k in np.flatnonzero(~same)]
    return Agreement(disagree, len(rows), n, sampled, state.files)


def build(
    index_dir: Path,
    version: str,
    passages: list[Passage],
    *,
    store: ArticleStore,
    article: ArticleLookup,
    embedder: Embedder,
    model: Model,
    new_vectors: Writer,
    reuse: IndexState | None = None,
    known: KnownVectors | None = None,
) -> IndexState:
    """Write the table, lexical indexes and paragraph vectors to a fresh folder under `index_dir` (not yet live).

    With `reuse` (the live state) `passages` are new rows appended to it: its table is extended, its
    lexical indexes get a segment, its paragraph vectors are kept; nothing already indexed is re-read.
    `model` is the scoring model whose abstention record is kept in meta.json; `new_vectors` holds the sentence
    vectors of `passages` in order (embed_into's sink); `known` has paragraph vectors to reuse (a reindex with the
    live version's embedder)."""
    if new_vectors.rows != len(passages):
        raise ParleyError(f"{new_vectors.rows} sentence vectors for {len(passages)} passages; the build is incomplete")
    files = f"{version}.{int(time.time() * 1000)}"
    folder = index_dir / files
    published: dict[str, int] = {}
    for art in store.get_many(sorted({p.article_id for p in passages})).values():
        when = art.published or art.ingested_at
        published[art.id] = int(when.timestamp()) if when else 0
    texts = [p.text for p in passages]
    if reuse is None:
        table, lexical, first_para = PassageTable.build(passages, published), LexicalIndex.build(texts), 0
        tokens = SentenceTokens.build(texts)
    else:
        table, lexical, first_para = reuse.table.extend(passages, published), reuse.lexical.add(texts), reuse.table.n_paragraphs
        tokens = reuse.tokens.add(texts)
    para_texts = [article(a).text[s:e] for a, s, e in table.paragraph_spans(first_para)]
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    # Each paragraph is embedded as one text. The normalised mean of its sentences' vectors (a quarter less
    # ingest time) was tried: it kept R@3 on squad-a but lowered the paragraph cosine of short news paragraphs
    # enough that 2 of the seeds' 10 answerable questions were refused (docs/retrieval.md).
    new = encode_once(embedder, para_texts, known.paragraph_vectors if known else None)[0] if para_texts else empty
    if reuse is None:
        para_lexical, para_vectors = LexicalIndex.build(para_texts), new
    else:
        para_lexical, para_vectors = reuse.para_lexical.add(para_texts), np.vstack([reuse.para_vectors, new]).astype(np.float32)
    table.save(folder)
    sentence_vectors = new_vectors.finish(folder, reuse.sentence_vectors if reuse is not None else None)
    lexical.save(folder / "lexical")
    para_lexical.save(folder / "lexical_para")
    np.save(folder / "paragraphs.npy", para_vectors, allow_pickle=False)
    tokens.save(folder / "tokens")
    meta = {
        "version": version,
        "model": embedder.name,
        "fingerprint": embedder.fingerprint,
        "dim": embedder.dim,
        "passages": len(table),
        "paragraphs": table.n_paragraphs,
        "articles": len(table.article_ids),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "abstain": model.record(),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return IndexState(version, files, table, lexical, meta, para_lexical, para_vectors, tokens, sentence_vectors)


def switch(store: ArticleStore, index_dir: Path, old: IndexState | None, new: IndexState) -> IndexState:
    """Make `new` live: flip the pointer (read by `load_live`) in one write, then drop `old`'s folder.

    Returns `new`, for the caller to hold as its live state."""
    store.set_meta(LIVE_KEY, json.dumps({"version": new.version, "files": new.files}))
    if old is not None and old.files != new.files:
        shutil.rmtree(index_dir / old.files, ignore_errors=True)
    return new


def drop_leftovers(vectors: VectorStore, index_dir: Path, live: IndexState | None) -> list[str]:
    """Drop the collections and folders `live` does not name (left by a crash mid-build); says what went."""
    removed = []
    for version in vectors.versions():
        if live is None or version != live.version:
            vectors.drop(version)
            removed.append(f"collection {version}")
    if index_dir.exists():
        for folder in index_dir.iterdir():
            if folder.is_file():  # a sentence vectors file an interrupted ingest was writing
                folder.unlink(missing_ok=True)
                removed.append(f"file {folder.name}")
            elif live is None or folder.name != live.files:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"folder {folder.name}")
    return removed


def load_live(store: ArticleStore, index_dir: Path, article: ArticleLookup, vectors: VectorStore) -> IndexState | None:
    """The state the live pointer names, loaded from its folder under `index_dir` (None when nothing is live).
    `vectors` supplies a sentence vectors file an older index lacks (index/rowvectors.py)."""
    raw = store.get_meta(LIVE_KEY)
    if not raw:
        return None
    live = json.loads(raw)
    folder = index_dir / live["files"]
    meta = json.loads((folder / "meta.json").read_text())
    table = PassageTable.load(folder)
    dim = int(meta["dim"])

    def sentences() -> list[str]:
        return [article(table.article_id(r)).text[slice(*table.span(r))] for r in range(len(table))]

    def paras() -> list[str]:
        return [article(a).text[s:e] for a, s, e in table.paragraph_spans()]

    return IndexState(
        live["version"],
        live["files"],
        table,
        load_or_rebuild(folder / "lexical", LexicalIndex.load, LexicalIndex.build, sentences),
        meta,
        load_or_rebuild(folder / "lexical_para", LexicalIndex.load, LexicalIndex.build, paras),
        np.load(folder / "paragraphs.npy", mmap_mode="r", allow_pickle=False),  # paged in as questions touch it
        load_or_rebuild(folder / "tokens", SentenceTokens.load, SentenceTokens.build, sentences),
        open_rows(folder, len(table), dim, ChromaRows(lambda ids: vectors.embeddings(live["version"], ids), table.passage_id, len(table), dim)),
    )


class _Stored(Protocol):
    def save(self, folder: Path) -> None: ...


S = TypeVar("S", bound=_Stored)


def load_or_rebuild(folder: Path, load: Callable[[Path], S], build: Callable[[list[str]], S], texts: Callable[[], list[str]]) -> S:
    """Load a version's lexical index or sentence tokens; one that is missing or in an older format (a version
    built by an earlier Parley) is built from the passages once and saved in place."""
    try:
        return load(folder)
    except ValueError as exc:
        logger.warning("%s; building it from the article store once", exc)
        made = build(texts())
        shutil.rmtree(folder, ignore_errors=True)
        made.save(folder)
        return made
