"""Candidate features for the learned relevance score: small pure functions over a question and a passage."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.lexical import LexicalIndex, stem, words
from index.query import SYNONYM_CREDIT, Query

# Per-candidate feature names, in the order of the weight vector in index/calibration.json.
NAMES = (
    "para_cos", "title_cos", "lex", "para_lex", "coverage", "num_cue", "date_cue", "person_cue", "length",
    "para_cos_gap", "title_cos_gap", "lex_gap", "para_lex_gap", "coverage_gap", "lex_rank", "coverage_rank",
    "coverage_with_previous",
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


def coverage(query: Query, present: set[str], lexical: LexicalIndex) -> float:
    """Share of the question's idf-weighted term groups that the passage's stems contain."""
    have = want = 0.0
    for group in query.groups:
        idf = max((lexical.idf(a) for a in group.alternatives), default=0.0) or 1.0
        want += group.weight * idf
        if present.intersection(group.primary or group.alternatives):
            have += group.weight * idf
        elif present.intersection(group.alternatives):
            have += group.weight * idf * SYNONYM_CREDIT
    return have / want if want else 0.0


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


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
    """Complete the per-candidate base features (first nine names) with gaps to the best candidate and ranks."""
    x = np.asarray(base, dtype=np.float64).reshape(len(base), -1)
    basic, cov_prev = x[:, :9], x[:, 9:10]
    gaps = basic[:, :5] - basic[:, :5].max(axis=0, keepdims=True)
    rr = np.stack([ranks(basic[:, 2]), ranks(basic[:, 4])], axis=1)
    return np.hstack([basic, gaps, rr, cov_prev])
