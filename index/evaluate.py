"""Evaluation of answers against a QA file: recall at k, MRR, abstention and the verbatim rate."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import LoadError
from index.types import Answer, Quote

_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    context: str = ""


def load_qa(path: Path) -> list[QAItem]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                QAItem(
                    str(raw.get("id", n)),
                    str(raw["question"]),
                    bool(raw.get("answerable", bool(raw.get("evidence")))),
                    tuple(raw.get("evidence", [])),
                    str(raw.get("context", "") or ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise LoadError(f"{path}:{n}: not a QA item ({exc})") from None
    return items


def hits(item: QAItem, quote_text: str) -> bool:
    """A quote hits when it contains an evidence string and, if the item has a context, lies inside it."""
    text = norm(quote_text)
    if item.context and text not in norm(item.context):
        return False
    return any(norm(e) and norm(e) in text for e in item.evidence)


@dataclass
class Report:
    n_answerable: int = 0
    n_unanswerable: int = 0
    r1: int = 0
    r3: int = 0
    r5: int = 0
    rr10: float = 0.0
    answered_r1: int = 0  # R@1 counting an abstention as a miss
    abstained_unanswerable: int = 0
    abstained_answerable: int = 0
    quotes: int = 0
    verbatim: int = 0
    seconds: float = 0.0
    misses: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, float]:
        a, u = max(self.n_answerable, 1), max(self.n_unanswerable, 1)
        n = self.n_answerable + self.n_unanswerable
        return {
            "answerable": self.n_answerable,
            "unanswerable": self.n_unanswerable,
            "R@1": self.r1 / a,
            "R@3": self.r3 / a,
            "R@5": self.r5 / a,
            "MRR@10": self.rr10 / a,
            "answered R@1": self.answered_r1 / a,
            "abstention (unanswerable)": self.abstained_unanswerable / u if self.n_unanswerable else 0.0,
            "false abstention": self.abstained_answerable / a,
            "verbatim": self.verbatim / self.quotes if self.quotes else 1.0,
            "questions/s": n / self.seconds if self.seconds else 0.0,
        }


def merged(*reports: Report) -> Report:
    """One report over the questions of several (counts and times add up)."""
    out = Report()
    for rep in reports:
        for name in ("n_answerable", "n_unanswerable", "r1", "r3", "r5", "rr10", "answered_r1", "abstained_unanswerable",
                     "abstained_answerable", "quotes", "verbatim", "seconds"):
            setattr(out, name, getattr(out, name) + getattr(rep, name))
        out.misses.extend(rep.misses)
    return out


Ranker = Callable[[str], tuple[Answer, list[Quote]]]
IsVerbatim = Callable[[Quote], bool]


def evaluate(items: Iterable[QAItem], rank: Ranker, is_verbatim: IsVerbatim) -> Report:
    """Run each question through `rank` (answer plus the top-10 ranked quotes) and score it."""
    rep = Report()
    start = time.perf_counter()
    for item in items:
        ans, ranked = rank(item.question)
        for q in list(ans.quotes) + ranked:
            rep.quotes += 1
            rep.verbatim += is_verbatim(q)
        if not item.answerable:
            rep.n_unanswerable += 1
            rep.abstained_unanswerable += ans.abstained
            continue
        rep.n_answerable += 1
        rep.abstained_answerable += ans.abstained
        first = next((i for i, q in enumerate(ranked[:10]) if hits(item, q.text)), None)
        if first is not None:
            rep.r1 += first < 1
            rep.r3 += first < 3
            rep.r5 += first < 5
            rep.rr10 += 1.0 / (first + 1)
        if not ans.abstained and ans.quotes and hits(item, ans.quotes[0].text):
            rep.answered_r1 += 1
        if first != 0:
            rep.misses.append({"id": item.id, "question": item.question, "rank": first, "top": ranked[0].text if ranked else ""})
    rep.seconds = time.perf_counter() - start
    return rep
