"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates, scored on a few interpretable features."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from index.embedder import Embedder
from index.lexical import LexicalIndex, stem, words
from index.query import SYNONYM_CREDIT, Query, QueryAnalyzer
from index.table import PassageTable
from index.vectors import VectorStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weights:
    """Linear weights of the relevance score; fitted and documented in docs/retrieval.md."""

    cos: float = 0.60
    coverage: float = 0.30
    party: float = 0.20
    act: float = 0.10
    party_missing: float = -0.15  # a party was asked about and the passage's paragraph never names it

    def score(self, c: Candidate) -> float:
        return (
            self.cos * c.cos
            + self.coverage * c.coverage
            + self.party * c.party
            + self.act * c.act
            + (self.party_missing if c.party == 0.0 and c.asked_party else 0.0)
        )


@dataclass
class Candidate:
    row: int
    cos: float = 0.0
    bm25: float = 0.0
    coverage: float = 0.0
    party: float = 0.0
    act: float = 0.0
    asked_party: bool = False
    score: float = 0.0
    sources: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Retrieval:
    query: Query
    candidates: list[Candidate]  # best first
    missing_terms: tuple[str, ...]  # capitalised question words no indexed passage contains


TextOf = Callable[[int], str]


class Retriever:
    """Scores the union of dense and lexical candidates for one index version."""

    def __init__(
        self,
        *,
        table: PassageTable,
        lexical: LexicalIndex,
        vectors: VectorStore,
        version: str,
        embedder: Embedder,
        analyzer: QueryAnalyzer,
        text_of: TextOf,
        context_of: TextOf,
        candidates: int = 60,
        weights: Weights = Weights(),
    ):
        self.table, self.lexical, self.vectors, self.version = table, lexical, vectors, version
        self.embedder, self.analyzer = embedder, analyzer
        self.text_of, self.context_of = text_of, context_of
        self.k = candidates
        self.weights = weights

    def lexical_scores(self, query: Query, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum over query term groups of the best BM25 contribution among each group's alternatives."""
        total = np.zeros(len(self.table), dtype=np.float32)
        for group in query.groups:
            best: np.ndarray | None = None
            for alt in group.alternatives:
                s = self.lexical.scores(alt)
                if s is not None:
                    best = s if best is None else np.maximum(best, s)
            if best is not None:
                total += group.weight * best
        if mask is not None:
            total = np.where(mask, total, 0.0)
        return total

    def coverage(self, query: Query, text: str) -> float:
        """Share of the question's information (idf-weighted term groups) the passage text contains."""
        present = {stem(w) for w in words(text)}
        have = want = 0.0
        for group in query.groups:
            idf = max((self.lexical.idf(a) for a in group.alternatives), default=0.0) or 1.0
            want += group.weight * idf
            if present.intersection(group.primary or group.alternatives):
                have += group.weight * idf
            elif present.intersection(group.alternatives):
                have += group.weight * idf * SYNONYM_CREDIT
        return have / want if want else 0.0

    def missing_terms(self, question: str, query: Query | None = None) -> tuple[str, ...]:
        """Capitalised words (names) in the question, past its first word, that no passage contains.
        Tracked party aliases are left to the party check (another alias may be in the corpus)."""
        out = []
        party_spans = [m.span() for p in (query.parties if query else ()) for m in p.pattern.finditer(question.strip())]
        for m in re.finditer(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w’'-]+)", question.strip()):
            if any(s <= m.start(1) < e for s, e in party_spans):
                continue
            word = m.group(1)
            toks = words(word)
            if toks and not any(self.lexical.has(stem(t)) for t in toks) and word.lower() not in _NOT_NAMES:
                out.append(word)
        return tuple(out)

    def search(self, question: str, *, where: dict | None = None, mask: np.ndarray | None = None) -> Retrieval:
        query = self.analyzer.analyze(question)
        cands: dict[int, Candidate] = {}
        if len(self.table):
            qvec = self.embedder.encode([question])[0]
            for hit in self.vectors.query(self.version, qvec, self.k, where):
                row = int(hit.metadata.get("row", -1))
                if 0 <= row < len(self.table):
                    cands.setdefault(row, Candidate(row)).cos = hit.similarity
                    cands[row].sources.add("dense")
            lex = self.lexical_scores(query, mask)
            k = min(self.k, len(lex))
            top = np.argpartition(-lex, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
            for row in top:
                if lex[row] > 0:
                    c = cands.setdefault(int(row), Candidate(int(row)))
                    c.bm25 = float(lex[row])
                    c.sources.add("lexical")
            self._fill_cos(qvec, cands)
            for c in cands.values():
                self._features(query, c)
                c.score = self.weights.score(c)
        ranked = sorted(cands.values(), key=lambda c: (-c.score, c.row))
        return Retrieval(query, ranked, self.missing_terms(question, query))

    def _fill_cos(self, qvec: np.ndarray, cands: dict[int, Candidate]) -> None:
        need = [r for r, c in cands.items() if "dense" not in c.sources]
        vecs = self.vectors.embeddings(self.version, [self.table.passage_id(r) for r in need])
        for r in need:
            v = vecs.get(self.table.passage_id(r))
            if v is not None:
                cands[r].cos = float(np.dot(qvec, v))

    def _features(self, query: Query, c: Candidate) -> None:
        text = self.text_of(c.row)
        c.coverage = self.coverage(query, text)
        c.act = 1.0 if query.act_in(text) else 0.0
        if query.parties:
            c.asked_party = True
            c.party = party_feature(query, text, self.context_of(c.row))


# A party named right after one of these is the object of the act ("sought from Russia"), not its agent.
_OBJECT_MARKERS = frozenset("from to with against on for of at toward towards over upon".split())


def party_feature(query: Query, text: str, context: str) -> float:
    """1.0 when an asked party is the agent of an asked act (named before the act word, not as an
    object), 0.75 when it is named in the sentence, 0.5 when named in the sentences just before or
    when another party leads the sentence (it is then that party's act)."""
    mentions = [m for p in query.parties for m in p.pattern.finditer(text)]
    if not mentions:
        return 0.5 if any(p.mentioned_in(context) for p in query.parties) else 0.0
    if not query.act_stems:
        return 1.0
    first_other = min((m.start() for p in query.others if (m := p.pattern.search(text))), default=len(text))
    act_positions = [m.start() for m in re.finditer(r"\w+", text) if stem(m.group(0).lower()) in query.act_stems]
    for m in mentions:
        before = words(text[max(0, m.start() - 20) : m.start()])
        if before and before[-1] in _OBJECT_MARKERS:
            continue
        if any(pos > m.end() for pos in act_positions):
            return 1.0
    return 0.5 if first_other < min(m.start() for m in mentions) else 0.75


_NOT_NAMES = frozenset("i i'm what who when where why how which did does is are was were".split())
