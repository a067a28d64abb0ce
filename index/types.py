"""Small typed records passed between the index modules and out to the bot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from corpus.model import Citation


@dataclass(frozen=True)
class Passage:
    """A sentence of an article, with character offsets into `Article.text`."""

    id: str  # "<article_id>:<sentence number>"
    article_id: str
    seq: int  # sentence number within the article
    para: int  # paragraph number within the article
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Quote:
    """A verbatim span of an article with its citation, as shown to users."""

    text: str
    article_id: str
    title: str
    source: str
    url: str
    published: datetime | None
    score: float
    start: int = 0
    end: int = 0
    also_reported_by: tuple[Citation, ...] = ()
    later_report: bool = False  # marked when it disagrees with an older quote

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "score": round(self.score, 4),
            "start": self.start,
            "end": self.end,
            "later_report": self.later_report,
            "also_reported_by": [
                {
                    "source": c.source,
                    "title": c.title,
                    "url": c.url,
                    "published": c.published.isoformat() if c.published else None,
                }
                for c in self.also_reported_by
            ],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Quote:
        """The inverse of `to_json` (the score keeps its rounding)."""
        return cls(
            str(raw["text"]),
            str(raw["article_id"]),
            str(raw["title"]),
            str(raw["source"]),
            str(raw["url"]),
            _when(raw.get("published")),
            float(raw.get("score", 0.0)),
            int(raw.get("start", 0)),
            int(raw.get("end", 0)),
            tuple(Citation(str(c["title"]), str(c["source"]), str(c["url"]), _when(c.get("published"))) for c in raw.get("also_reported_by", [])),
            bool(raw.get("later_report", False)),
        )


@dataclass(frozen=True)
class Answer:
    """What the index returns for a question: quotes, or an abstention with its reason."""

    question: str
    quotes: tuple[Quote, ...]
    abstained: bool
    reason: str = ""  # machine-readable code when abstaining, e.g. "no_passage"
    reason_text: str = ""
    nearest: tuple[Quote, ...] = ()
    freshness: str = ""
    more: tuple[Quote, ...] = field(default=())  # further quotes for "More quotes"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "question": self.question,
            "abstained": self.abstained,
            "quotes": [q.to_json() for q in self.quotes],
        }
        if self.abstained:
            out["reason"] = {"code": self.reason, "text": self.reason_text}
            out["nearest"] = [q.to_json() for q in self.nearest]
        return out

    def to_record(self) -> dict[str, Any]:
        """Everything, for storing an answer (the bot pages `more` and re-posts it from this)."""
        return {
            "question": self.question,
            "abstained": self.abstained,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "freshness": self.freshness,
            "quotes": [q.to_json() for q in self.quotes],
            "nearest": [q.to_json() for q in self.nearest],
            "more": [q.to_json() for q in self.more],
        }

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> Answer:
        def quotes(key: str) -> tuple[Quote, ...]:
            return tuple(Quote.from_json(q) for q in raw.get(key, []))

        return cls(
            str(raw["question"]),
            quotes("quotes"),
            bool(raw["abstained"]),
            str(raw.get("reason", "")),
            str(raw.get("reason_text", "")),
            quotes("nearest"),
            str(raw.get("freshness", "")),
            quotes("more"),
        )


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
