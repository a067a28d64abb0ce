"""Dates in questions ("this week", "since March", "in 2024", "as of 1 August", "latest") as published-date filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dateparser.date import DateDataParser

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}|\d{{4}}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_RELATIVE = re.compile(r"\b(this|last|past|previous)\s+(week|month|year)\b", re.I)
_PAST_N = re.compile(r"\b(?:in\s+)?the\s+(?:past|last)\s+(\d{1,3})\s+(day|week|month)s?\b", re.I)
_DAYWORD = re.compile(r"\b(today|yesterday)\b", re.I)
_BETWEEN = re.compile(rf"\bbetween\s+({_DATE})\s+and\s+({_DATE})\b", re.I)
_SINCE = re.compile(rf"\b(since|after|from)\s+({_DATE})\b", re.I)
_UNTIL = re.compile(rf"\b(as of|by|until|till|up to|before|prior to)\s+({_DATE})\b", re.I)
_IN = re.compile(rf"\b(in|during|on|throughout)\s+({_DATE})\b", re.I)
_LATEST = re.compile(r"\b(latest|most recent|newest|recently|lately|current|now)\b", re.I)


@dataclass(frozen=True)
class TimeFrame:
    """A half-open published-date range [start, end); None ends are open. `latest` ranks newer first."""

    start: datetime | None = None
    end: datetime | None = None
    latest: bool = False
    phrase: str = ""
    absolute: bool = False  # "in 2024", "on 18 March", "between …": may name when events happened, not publication

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def describe(self) -> str:
        if self.start and self.end:
            return f"between {self.start:%-d %b %Y} and {(self.end - timedelta(seconds=1)):%-d %b %Y}"
        if self.start:
            return f"since {self.start:%-d %b %Y}"
        if self.end:
            return f"before {self.end:%-d %b %Y}"
        return "any time"


def _period(text: str, ref: datetime) -> tuple[datetime, datetime] | None:
    """The whole day, month or year a date phrase names, in UTC."""
    settings = {"RELATIVE_BASE": ref.replace(tzinfo=None), "PREFER_DATES_FROM": "past", "PREFER_DAY_OF_MONTH": "first", "TIMEZONE": "UTC"}
    data = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    if data.date_obj is None:
        return None
    d = data.date_obj.replace(tzinfo=timezone.utc)
    if data.period == "year" or re.fullmatch(r"\d{4}", text.strip()):
        start = datetime(d.year, 1, 1, tzinfo=timezone.utc)
        return start, datetime(d.year + 1, 1, 1, tzinfo=timezone.utc)
    if data.period == "month":
        start = datetime(d.year, d.month, 1, tzinfo=timezone.utc)
        nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=timezone.utc)
        return start, nxt
    start = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def _relative(which: str, unit: str, ref: datetime) -> tuple[datetime, datetime]:
    day = datetime(ref.year, ref.month, ref.day, tzinfo=timezone.utc)
    if unit == "week":
        start = day - timedelta(days=day.weekday())
        length = timedelta(days=7)
        if which != "this":
            start -= length
        return start, start + length
    if unit == "month":
        start = day.replace(day=1)
        if which != "this":
            start = (start - timedelta(days=1)).replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt
    year = ref.year if which == "this" else ref.year - 1
    return datetime(year, 1, 1, tzinfo=timezone.utc), datetime(year + 1, 1, 1, tzinfo=timezone.utc)


def parse_timeframe(question: str, now: datetime | None = None) -> tuple[TimeFrame, str]:
    """The time frame a question names, and the question with that phrase removed."""
    ref = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    latest = bool(_LATEST.search(question))
    rest = question
    frame: TimeFrame | None = None
    if m := _BETWEEN.search(question):
        first, second = m.group(1), m.group(2)
        year = re.search(r"\d{4}", second)
        if year and not re.search(r"\d{4}", first):
            first = f"{first} {year.group(0)}"  # "between 1 March and 15 April 2025"
        a, b = _period(first, ref), _period(second, ref)
        if a and b:
            frame = TimeFrame(a[0], b[1], latest, m.group(0), absolute=True)
    elif m := _PAST_N.search(question):
        n, unit = int(m.group(1)), m.group(2).lower()
        days = n * {"day": 1, "week": 7, "month": 30}[unit]
        frame = TimeFrame(ref - timedelta(days=days), None, latest, m.group(0))
    elif m := _RELATIVE.search(question):
        start, end = _relative(m.group(1).lower(), m.group(2).lower(), ref)
        frame = TimeFrame(start, end if m.group(1).lower() != "this" else None, latest, m.group(0))
    elif m := _DAYWORD.search(question):
        day = datetime(ref.year, ref.month, ref.day, tzinfo=timezone.utc)
        if m.group(1).lower() == "yesterday":
            day -= timedelta(days=1)
        frame = TimeFrame(day, day + timedelta(days=1), latest, m.group(0))
    elif m := _SINCE.search(question):
        p = _period(m.group(2), ref)
        if p:
            frame = TimeFrame(p[1] if m.group(1).lower() == "after" else p[0], None, latest, m.group(0))
    elif m := _UNTIL.search(question):
        p = _period(m.group(2), ref)
        if p:
            before = m.group(1).lower() in {"before", "prior to"}
            frame = TimeFrame(None, p[0] if before else p[1], latest, m.group(0))
    elif m := _IN.search(question):
        p = _period(m.group(2), ref)
        if p:
            frame = TimeFrame(p[0], p[1], latest, m.group(0), absolute=True)
    if frame is None:
        return TimeFrame(latest=latest), question
    rest = (question[: question.find(frame.phrase)] + question[question.find(frame.phrase) + len(frame.phrase) :]).strip()
    return frame, re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", rest))

