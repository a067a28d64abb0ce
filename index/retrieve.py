"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates scored by a learned model (a logistic
regression blended with boosted trees).

The model comes from index/calibration.json (fitted by bench/calibrate.py on half of a public benchmark and
checked on the other half); the negotiation features (party as agent, act words) are added on top for
questions that name a tracked party or act.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from index import features
from index.calibration import Model
from index.embedder import Embedder
from index.lexical import LexicalIndex, stem, tokenize, words
from index.query import Query, QueryAnalyzer
from index.rowvectors import Rows
from index.table import PassageTable
from index.tokens import SentenceTokens
from index.vectors import VectorStore

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    row: int
    cos: float = 0.0  # cosine of the question with "title: sentence"
    lex: float = 0.0  # BM25 over the sentence, summed over term groups
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    party: float = 0.0
    act: float = 0.0
    asked_party: bool = False
    score: float = 0.0
    learned: float = 0.0  # the learned model's score alone (what the abstention model was fitted on)
    sources: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Retrieval:
    query: Query
    candidates: list[Candidate]  # best first
    missing_terms: tuple[str, ...]  # capitalised question words no indexed passage contains
    confidence: float = 1.0  # calibrated probability that the best candidate answers the question


# Work a question's search runs beside its own thread (its embedding, a Chroma fetch). Sized for several questions
# at once (the bot's worker threads); each task is short and never waits on another task of this pool.
_background = ThreadPoolExecutor(max_workers=8, thread_name_prefix="parley-search")

TextsOf = Callable[[Iterable[int]], dict[int, str]]  # passage rows -> their sentence texts, read in one batch


def group_scores(lexical: LexicalIndex, query: Query) -> np.ndarray:
    """Sum over the query's term groups of the best BM25 contribution among each group's alternatives, per row.

    Each term's postings are added at their rows only (a dense per-term array over a million passages cost more
    than the rest of the lexical step); the float32 sums are the same as adding whole arrays, where a row a group
    misses gets + 0."""
    total = np.zeros(lexical.n_docs, dtype=np.float32)
    for group in query.groups:
        parts = [found for alt in group.alternatives if (found := lexical.postings_scores(alt)) is not None]
        if len(parts) == 1:
            rows, vals = parts[0]
            total[rows] += group.weight * vals
        elif parts:  # the best alternative per row
            best = np.zeros(lexical.n_docs, dtype=np.float32)
            for rows, vals in parts:
                best[rows] = np.maximum(best[rows], vals)
            rows = np.flatnonzero(best)
            total[rows] += group.weight * best[rows]
    return total


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Up to `k` rows with the highest positive scores, best first; ties go to the lowest row (the earliest
    indexed), so the candidates and their order do not depend on a selection algorithm's internals."""
    pos = np.flatnonzero(scores > 0)
    v = scores[pos]
    if len(pos) > k:
        cut = -np.partition(-v, k - 1)[k - 1]  # the k-th highest score
        keep = np.concatenate([np.flatnonzero(v > cut), np.flatnonzero(v == cut)[: k - int((v > cut).sum())]])
        pos, v = pos[keep], v[keep]
    return pos[np.lexsort((pos, -v))]


@dataclass(frozen=True)
class _Asked:
    """What every candidate's features read of the question, computed once per question."""

    query: Query
    qtype: str
    terms: features.QuestionTerms
    cover: features.Coverage
    lex: np.ndarray  # BM25 of every sentence
    lex_max: float
    para_lex: np.ndarray  # BM25 of every paragraph
    para_max: float

    @classmethod
    def of(cls, question: str, query: Query, lexical: LexicalIndex, lex: np.ndarray, para_lex: np.ndarray) -> _Asked:
        return cls(query, features.question_type(question), features.question_terms(question, lexical),
                   features.Coverage.of(query, lexical), lex, float(lex.max()) or 1.0, para_lex, float(para_lex.max()) or 1.0)


@dataclass(frozen=True)
class _Evidence:
    """One candidate row's features that do not read the question's vector."""

    pid: int  # its paragraph
    tail: list[float]  # the base features after para_cos and cos
    party: float
    act: float


class Retriever:
    """Scores the union of dense and lexical candidates for one index version."""

    def __init__(
        self,
        *,
        table: PassageTable,
        lexical: LexicalIndex,
        para_lexical: LexicalIndex,
        para_vectors: np.ndarray,
        sentence_vectors: Rows,
        vectors: VectorStore,
        version: str,
        embedder: Embedder,
        analyzer: QueryAnalyzer,
        texts: TextsOf,
        model: Model,
        tokens: SentenceTokens,
        candidates: int = 40,
    ):
        self.table, self.lexical, self.para_lexical, self.para_vectors = table, lexical, para_lexical, para_vectors
        self.sentence_vectors = sentence_vectors
        self.vectors, self.version, self.embedder, self.analyzer = vectors, version, embedder, analyzer
        self.texts, self.tokens = texts, tokens
        self.model = model
        self.k = candidates

    def missing_terms(self, question: str, query: Query | None = None) -> tuple[str, ...]:
        """Capitalised words (names) in the question, past its first word, that no passage contains.
        Tracked party aliases are left to the party check (another alias may be in the corpus)."""
        out = []
        q = question.strip()
        party_spans = [m.span() for p in (query.parties if query else ()) for m in p.pattern.finditer(q)]
        for m in re.finditer(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w’'-]+)", q):
            if any(s <= m.start(1) < e for s, e in party_spans):
                continue
            toks = words(m.group(1))
            if toks and not any(self.lexical.has(stem(t)) for t in toks) and m.group(1).lower() not in _NOT_NAMES:
                out.append(m.group(1))
        return tuple(out)

    def search(self, question: str, *, where: dict | None = None, mask: np.ndarray | None = None) -> Retrieval:
        """Work that waits on something else runs beside work that does not: the question's embedding (ONNX
        Runtime releases the GIL) beside BM25 over sentences and paragraphs; Chroma's nearest sentences beside the
        lexical candidates' features (a `chroma run` server answers over HTTP meanwhile; the embedded client holds
        the GIL, so there the two take turns). The lexical candidates' vectors are read from the version's own
        file, not Chroma. Every score is what the same steps in sequence would give."""
        query = self.analyzer.analyze(question)
        missing = self.missing_terms(question, query)
        n = len(self.table)
        if not n:
            return Retrieval(query, [], missing, 0.0)
        embedding = _background.submit(self.embedder.encode, [question])
        lex = group_scores(self.lexical, query)
        if mask is not None:
            lex = np.where(mask, lex, np.float32(0.0))
        lexical_rows = top_rows(lex, min(self.k, n)).tolist()
        asked = _Asked.of(question, query, self.lexical, lex, group_scores(self.para_lexical, query))
        qvec = embedding.result()[0]
        nearest = _background.submit(self.vectors.query, self.version, qvec, self.k, where)
        evidence = self._evidence(asked, lexical_rows)
        cands: dict[int, Candidate] = {}
        for hit in nearest.result():
            row = self.table.row_of(hit.id)
            if row is not None:  # a vector the table lacks (left by a crash) is skipped
                cands.setdefault(row, Candidate(row)).cos = hit.similarity
                cands[row].sources.add("dense")
        lexical_cos = (self.sentence_vectors.get(lexical_rows) @ qvec).tolist()
        for row, cos in zip(lexical_rows, lexical_cos):
            c = cands.setdefault(row, Candidate(row))
            if "dense" not in c.sources:
                c.cos = cos
            c.sources.add("lexical")
        if not cands:
            return Retrieval(query, [], missing, 0.0)
        evidence.update(self._evidence(asked, [r for r in cands if r not in evidence]))
        ranked = self._score(asked, qvec, list(cands.values()), evidence)
        confidence = self._confidence(question, query, ranked)
        return Retrieval(query, ranked, missing, confidence)

    def _evidence(self, asked: _Asked, rows: list[int]) -> dict[int, _Evidence]:
        """Each row's features that do not read the question's vector, from its sentence and its neighbours."""
        if not rows:
            return {}
        query = asked.query
        at = np.asarray(rows, dtype=np.int64)
        pids = self.table.cols["pid"][at].astype(np.int64).tolist()
        prev, nxt = self.table.neighbours(at, -1), self.table.neighbours(at, 1)
        before = self.table.neighbours(at, -2) if query.parties else prev  # party_feature's context: 2 sentences
        texts = self.texts(r for r in np.concatenate([at, prev, nxt, before]).tolist() if r >= 0)
        sent = self.tokens.sentences({r: texts[r] for r in np.concatenate([at, prev, nxt]).tolist() if r >= 0})
        sent[-1] = features.sentence("")  # no neighbour
        lex, para_lex, cover = asked.lex, asked.para_lex, asked.cover
        out = {}
        for i, row in enumerate(rows):
            own, s_prev, s_next = sent[row], sent[int(prev[i])], sent[int(nxt[i])]
            pid = pids[i]
            tail = [
                float(lex[row]) / asked.lex_max,
                float(para_lex[pid]) / asked.para_max if pid < len(para_lex) else 0.0,
                cover.share(own.stems),
                *features.cues(asked.qtype, own.text),
                min(len(own.text), 400) / 400,
                cover.share(own.stems | s_prev.stems),
                *features.extra_of(asked.terms, own, s_prev, s_next),
            ]
            party = 0.0
            if query.parties:
                context = " ".join(texts[int(r)] for r in (prev[i], before[i]) if r >= 0)
                party = party_feature(query, own.text, context)
            out[row] = _Evidence(pid, tail, party, 1.0 if query.act_in(own.text, own.stems) else 0.0)
        return out

    def _score(self, asked: _Asked, qvec: np.ndarray, cands: list[Candidate], evidence: dict[int, _Evidence]) -> list[Candidate]:
        query = asked.query
        pids = np.array([evidence[c.row].pid for c in cands], dtype=np.int64)
        known = pids < len(self.para_vectors)
        # only the candidates' paragraphs: at a million passages the whole matrix product costs more than the rest
        para_cos = np.zeros(len(cands), dtype=np.float32)
        if known.any():
            para_cos[known] = self.para_vectors[pids[known]] @ qvec
        base = []
        for i, c in enumerate(cands):
            ev = evidence[c.row]
            c.lex = float(asked.lex[c.row])
            base.append([float(para_cos[i]), c.cos, *ev.tail])
            if query.parties:
                c.asked_party, c.party = True, ev.party
            c.act = ev.act
        x = features.matrix(base)
        scores = self.model.score(x)
        # Only a negotiation question ("what did <party> <act>") gets the party and act bonuses: a general
        # question that happens to contain "American" or "state" is scored by the learned model alone.
        negotiation = bool(query.parties) and bool(query.act_stems)
        for c, xi, s in zip(cands, x, scores):
            c.x = xi
            c.learned = float(s)
            c.score = c.learned + (self.model.negotiation_bonus(c.party, c.act, True, True) if negotiation else 0.0)
        return sorted(cands, key=lambda c: (-c.score, c.row))

    def _confidence(self, question: str, query: Query, ranked: list[Candidate]) -> float:
        """P(the best candidate answers), from its absolute evidence and how much of the question the corpus knows."""
        best = max(ranked, key=lambda c: c.learned)
        toks = tokenize(question)
        oov = sum(1 for t in toks if not self.lexical.has(t)) / max(len(toks), 1)
        caps = len(self.missing_terms(question))
        z = self.model.abstain_score(
            para_cos=float(best.x[0]), title_cos=float(best.x[1]), coverage=float(best.x[4]),
            max_cos=max(c.cos for c in ranked), max_coverage=max(float(c.x[4]) for c in ranked), oov=oov, caps=caps,
        )
        return 1.0 / (1.0 + math.exp(-z))


# A party named right after one of these is the object of the act ("sought from Russia"), not its agent.
_OBJECT_MARKERS = frozenset("from to with against on for of at toward towards over upon".split())


def party_feature(query: Query, text: str, context: str) -> float:
    """How the question's parties figure in a passage: 1.0 when the question's subject party (the first it
    names) is the agent of an asked act (named before the act word, not governed by "from", "to", "against" …);
    0.75 when the subject is named as a subject without the act; 0.5 when it is only an object, when only the
    question's other parties are named, when another party leads the sentence, or when the party is named in
    the two sentences before; 0 otherwise."""
    mentions = [m for p in query.parties for m in p.pattern.finditer(text)]
    if not mentions:
        return 0.5 if any(p.mentioned_in(context) for p in query.parties) else 0.0
    subject = [m for m in query.parties[0].pattern.finditer(text)]
    if not query.act_stems:
        return 1.0 if subject else 0.75
    names = {w for p in query.parties + query.others for a in p.aliases + (p.name,) for w in words(a)}
    as_subject = [m for m in subject if not _is_object(words(text[max(0, m.start() - 80) : m.start()]), names)]
    if not as_subject:
        return 0.5
    acts = [m.start() for m in re.finditer(r"\w+", text) if stem(m.group(0).lower()) in query.act_stems]
    if any(pos > m.end() for m in as_subject for pos in acts):
        return 1.0
    first_other = min((m.start() for p in query.others if (m := p.pattern.search(text))), default=len(text))
    return 0.5 if first_other < as_subject[0].start() else 0.75


_NP_WORDS = frozenset("the a an both and or its their his her other".split())


def _is_object(before: list[str], names: set[str]) -> bool:
    """Walk back over the noun phrase (articles, "and", other party names) to the word that governs it:
    a preposition makes the party an object ("sought from both the Kremlin and the White House")."""
    for word in reversed(before):
        if word in _NP_WORDS or word in names:
            continue
        return word in _OBJECT_MARKERS
    return False


_NOT_NAMES = frozenset("i i'm what who when where why how which did does is are was were".split())
