"""Candidate features for the learned relevance score: small pure functions over a question and a passage."""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import NamedTuple

import numpy as np

from index.lexical import LexicalIndex, stem, stopwords, words
from index.query import QUESTION_WORDS, SYNONYM_CREDIT, Query

# Answer-bearing evidence (extra(), below).
EXTRA = (
    "coverage_context", "rare_coverage", "bigram", "proximity", "novelty",
    "num_new", "date_new", "person_new", "place_new", "other_new", "unmatched_rare",
)
# Per-candidate feature names, in the order of the columns of matrix() and of index/calibration.json.
NAMES = (
    "para_cos", "title_cos", "lex", "para_lex", "coverage", "num_cue", "date_cue", "person_cue", "length",
    "para_cos_gap", "title_cos_gap", "lex_gap", "para_lex_gap", "coverage_gap", "lex_rank", "coverage_rank",
    "coverage_with_previous",
    *EXTRA,
    "coverage_context_gap", "bigram_gap", "proximity_gap", "rare_coverage_gap",
)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|\d{4})\b")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+")


def question_type(question: str) -> str:
    """"num", "date", "person" or "other", from the question's wording."""
    q = question.lower()
    if re.search(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (percentage|number|year)\b", q):
        return "num"
    if re.search(r"\bwhen\b|\bwhat year\b|\bwhat date\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return "person"
    return "other"


@dataclass(frozen=True)
class Coverage:
    """The question's term groups with their idf weights, computed once per question."""

    groups: tuple[tuple[float, frozenset[str], frozenset[str]], ...]  # (weight × idf, own stems, all alternatives)
    want: float

    @classmethod
    def of(cls, query: Query, lexical: LexicalIndex) -> Coverage:
        groups, want = [], 0.0
        for group in query.groups:
            idf = max((lexical.idf(a) for a in group.alternatives), default=0.0) or 1.0
            want += group.weight * idf
            groups.append((group.weight * idf, frozenset(group.primary or group.alternatives), frozenset(group.alternatives)))
        return cls(tuple(groups), want)

    def share(self, present: frozenset[str]) -> float:
        """Share of the question's idf-weighted term groups that the passage's stems contain."""
        have = 0.0
        for weight, own, alternatives in self.groups:
            if not present.isdisjoint(own):
                have += weight
            elif not present.isdisjoint(alternatives):
                have += weight * SYNONYM_CREDIT
        return have / self.want if self.want else 0.0


class Sentence(NamedTuple):
    """A passage's words as the features read them, tokenised once (a sentence recurs as a candidate and as
    its neighbours' neighbour). A named tuple: a question builds ~300 of them, and a frozen dataclass's
    constructor cost more than the rest of building one."""

    text: str
    stems: frozenset[str]  # every word's stem
    content: tuple[str, ...]  # the stems in order, without stopwords and question words
    content_set: frozenset[str]

    @classmethod
    def of(cls, text: str, stems: list[str], is_content: list[bool]) -> Sentence:
        """From `word_stems(text)`, computed now or stored with the index (index/tokens.py)."""
        content = tuple(compress(stems, is_content))
        return cls(text, frozenset(stems), content, frozenset(content))


def word_stems(text: str) -> tuple[list[str], list[bool]]:
    """Each word's stem in order, and whether the word is a content word (not a stopword or question word)."""
    ws = words(text)
    stops = _content_stops()
    return list(map(stem, ws)), [w not in stops for w in ws]


@lru_cache(maxsize=8192)
def sentence(text: str) -> Sentence:
    return Sentence.of(text, *word_stems(text))


@lru_cache(maxsize=1)
def _content_stops() -> frozenset[str]:
    return stopwords() | QUESTION_WORDS


def cues(qtype: str, text: str) -> tuple[float, float, float]:
    """Answer-type cues: a number for "how many", a date for "when", a name for "who"."""
    return (
        float(qtype == "num" and bool(_NUMBER.search(text))),
        float(qtype == "date" and bool(_DATE.search(text))),
        float(qtype == "person" and bool(_NAME.search(text))),
    )


def ranks(values: np.ndarray) -> np.ndarray:
    """Reciprocal-rank transform (1 / (60 + rank)), as in reciprocal rank fusion."""
    order = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
    return 1.0 / (60.0 + order)


def matrix(base: Sequence[Sequence[float]]) -> np.ndarray:
    """Complete the per-candidate base features (the first nine names, coverage_with_previous, then the
    extra() values) with gaps to the best candidate and ranks, in the order of NAMES."""
    x = np.asarray(base, dtype=np.float64).reshape(len(base), -1)
    basic, cov_prev, ext = x[:, :9], x[:, 9:10], x[:, 10:]
    gaps = basic[:, :5] - basic[:, :5].max(axis=0, keepdims=True)
    rr = np.stack([ranks(basic[:, 2]), ranks(basic[:, 4])], axis=1)
    pick = ext[:, [EXTRA.index(n) for n in ("coverage_context", "bigram", "proximity", "rare_coverage")]]
    return np.hstack([basic, gaps, rr, cov_prev, ext, pick - pick.max(axis=0, keepdims=True)])


# -- answer-bearing evidence ------------------------------------------------------------------------
# The answer is in the sentence but not in the question: a "how many" question wants a number the question
# does not already contain, a "who" question a name it does not contain, and so on.
_COUNT = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|\b(?:century|centuries|decade|BC|AD)\b"
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")


def answer_type(question: str) -> str:
    """"num", "date", "person", "place" or "other", from the question's wording (finer than question_type)."""
    q = question.lower()
    if re.search(r"\bhow (many|much|long|old|far|large|big|tall|high|often|fast)\b|\bwhat (percentage|percent|number|amount|proportion)\b", q):
        return "num"
    if re.search(r"\bwhen\b|\bwhat (year|years|date|century|decade|day|month|time period)\b|\bwhich (year|century|decade)\b|\bin what (year|century|decade)\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return "person"
    if re.search(r"\bwhere\b|\bwhat (country|city|state|region|place|continent|river|island|location)\b|\bin which (country|city|state|region|place)\b", q):
        return "place"
    return "other"


@dataclass(frozen=True)
class QuestionTerms:
    """What extra() needs from the question, computed once per question."""

    qtype: str
    low: str
    seq: tuple[str, ...]
    stems: frozenset[str]  # every word's stem, stopwords included
    idf: dict[str, float]
    rare: frozenset[str]  # content stems at or above the question's median idf
    bigrams: frozenset[tuple[str, str]]
    # sums and maxima of the idf above, the same for every candidate
    idf_total: float
    rare_total: float
    idf_max: float


def question_terms(question: str, lexical: LexicalIndex) -> QuestionTerms:
    seq = sentence(question).content
    idf = {s: lexical.idf(s) or 1.0 for s in set(seq)}
    median = float(np.median(list(idf.values()))) if idf else 0.0
    rare = frozenset(s for s, v in idf.items() if v >= median)
    return QuestionTerms(
        answer_type(question), question.lower(), seq, frozenset(stem(w) for w in words(question)), idf,
        rare, frozenset(zip(seq, seq[1:])),
        sum(idf.values()) or 1.0, sum(idf[s] for s in rare) or 1.0, max(idf.values(), default=1.0) or 1.0,
    )


def _names_not_in(text: str, question_stems: frozenset[str]) -> bool:
    """A capitalised word past the sentence's first that the question does not use."""
    for m in _CAPITALISED.finditer(text):
        if m.start() == 0:
            continue
        stems = _name_stems(m.group(0))
        if stems is not None and question_stems.isdisjoint(stems):
            return True
    return False


@lru_cache(maxsize=1 << 16)
def _name_stems(name: str) -> tuple[str, ...] | None:
    """The stems of a capitalised word's parts, or None when it is empty or starts with a stopword."""
    ws = words(name.replace("’", "'"))
    return tuple(stem(w) for w in ws) if ws and ws[0] not in stopwords() else None


def proximity(question: Set[str], sentence: Sequence[str]) -> float:
    """Distinct question stems in the sentence over the length of the shortest window holding them all
    (0 with fewer than two)."""
    pos = [i for i, s in enumerate(sentence) if s in question]
    need = {sentence[i] for i in pos}
    if len(pos) < 2:
        return 0.0
    best, counts, have, j = len(sentence), dict[str, int](), 0, 0
    for i in pos:
        counts[sentence[i]] = counts.get(sentence[i], 0) + 1
        have += counts[sentence[i]] == 1
        while have == len(need):
            best = min(best, i - pos[j] + 1)
            counts[sentence[pos[j]]] -= 1
            have -= counts[sentence[pos[j]]] == 0
            j += 1
    return len(need) / best


def extra(q: QuestionTerms, text: str, previous: str, following: str) -> list[float]:
    """The EXTRA features of one candidate sentence, given its neighbours in the paragraph ("" when none)."""
    return extra_of(q, sentence(text), sentence(previous), sentence(following))


def extra_of(q: QuestionTerms, s: Sentence, previous: Sentence, following: Sentence) -> list[float]:
    """extra() over sentences already tokenised."""
    text, s_seq, s_set = s.text, s.content, s.content_set
    around = s_set.union(previous.content_set, following.content_set)
    cov_context = sum(v for t, v in q.idf.items() if t in around) / q.idf_total
    rare_cov = sum(q.idf[t] for t in q.rare if t in s_set) / q.rare_total if q.idf else 0.0
    bigram = len(q.bigrams.intersection(zip(s_seq, s_seq[1:]))) / len(q.bigrams) if q.bigrams else 0.0
    novelty = (len(s_seq) - sum(map(q.stems.__contains__, s_seq))) / max(len(s_seq), 1)
    qtype = q.qtype
    # the regular expressions only for the question type that reads them
    number = qtype in ("num", "other") and any(m.group(0).lower() not in q.low for m in _COUNT.finditer(text))
    when = qtype == "date" and any(m.group(0).lower() not in q.low for m in _WHEN.finditer(text))
    name = qtype in ("person", "place", "other") and _names_not_in(text, q.stems)
    unmatched = max((v for t, v in q.idf.items() if t not in s_set), default=0.0) / q.idf_max
    return [
        cov_context, rare_cov, bigram, proximity(q.idf.keys(), s_seq), novelty,
        float(qtype == "num" and number), float(qtype == "date" and when), float(qtype == "person" and name),
        float(qtype == "place" and name), float(qtype == "other" and (name or number)), unmatched,
    ]
