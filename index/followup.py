"""Follow-up questions in a thread ("and Ukraine?", "what about offers?", "and before that?") rewritten
into full questions by carrying over the thread's party, act and time frame and changing only what the
follow-up names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from index.lexical import words
from index.query import QueryAnalyzer
from index.timeframe import parse_timeframe

_FOLLOW = re.compile(r"^\s*(?:and|but|also|so|what about|how about|and what about|what of|same for)\b", re.I)
_BEFORE_THAT = re.compile(r"\b(before that|earlier|previously)\b", re.I)
_AFTER_THAT = re.compile(r"\b(after that|since then|later)\b", re.I)
ACT_VERBS = {"demand": "demand", "offer": "offer", "agreement": "agree to", "statement": "say"}


@dataclass(frozen=True)
class ThreadContext:
    """What a thread last asked: the full question, its parties, acts, and the dates of its quotes."""

    question: str
    parties: tuple[str, ...]
    acts: tuple[str, ...]
    earliest: str = ""  # ISO date of the oldest quote shown
    latest: str = ""

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "parties": list(self.parties), "acts": list(self.acts), "earliest": self.earliest, "latest": self.latest}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ThreadContext:
        return cls(
            str(raw.get("question", "")),
            tuple(str(p) for p in raw.get("parties") or []),
            tuple(str(a) for a in raw.get("acts") or []),
            str(raw.get("earliest", "")),
            str(raw.get("latest", "")),
        )


def is_followup(text: str) -> bool:
    """Short questions that lean on the previous one."""
    n = len(words(text))
    return bool(_FOLLOW.match(text)) or (n <= 4 and bool(_BEFORE_THAT.search(text) or _AFTER_THAT.search(text)))


def rewrite(ctx: ThreadContext, followup: str, analyzer: QueryAnalyzer) -> str:
    """The follow-up as a full question in the thread's terms, changed only where it says so."""
    q = analyzer.analyze(followup)
    frame, _ = parse_timeframe(followup)
    parties = tuple(p.name for p in q.parties) or ctx.parties
    acts = tuple(a for a in q.acts if a in ACT_VERBS) or ctx.acts
    if not parties and not acts and not frame.bounded and not _BEFORE_THAT.search(followup) and not _AFTER_THAT.search(followup):
        return followup  # nothing to carry over
    who = " and ".join(parties) if parties else "they"
    verb = ACT_VERBS.get(acts[0], "say") if acts else "say"
    old_frame, _ = parse_timeframe(ctx.question)
    when = ""
    if frame.bounded:
        when = " " + frame.phrase
    elif _BEFORE_THAT.search(followup) and ctx.earliest:
        when = f" before {ctx.earliest}"
    elif _AFTER_THAT.search(followup) and ctx.latest:
        when = f" after {ctx.latest}"
    elif old_frame.bounded:
        when = " " + old_frame.phrase
    if not parties and not acts:
        base = re.sub(r"[?.!\s]+$", "", ctx.question)
        if old_frame.bounded:
            base = base.replace(old_frame.phrase, "").strip()
        return f"{base}{when}?"
    return f"What did {who} {verb}{when}?"
