"""Time phrases in questions become published-date ranges, against a fixed reference time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from index.timeframe import parse_timeframe

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)  # a Tuesday


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "question, start, end, rest",
    [
        ("What did Russia demand this week?", utc(2026, 11, 23), None, "What did Russia demand?"),
        ("What did Russia demand last week?", utc(2026, 11, 16), utc(2026, 11, 23), "What did Russia demand?"),
        ("What has Ukraine offered since March?", utc(2026, 3, 1), None, "What has Ukraine offered?"),
        ("What did Putin say in 2024?", utc(2024, 1, 1), utc(2025, 1, 1), "What did Putin say?"),
        ("What had the US agreed as of 1 August?", None, utc(2026, 8, 2), "What had the US agreed?"),
        ("What was agreed before 18 March 2025?", None, utc(2025, 3, 18), "What was agreed?"),
        ("What happened between 1 March and 15 April 2025?", utc(2025, 3, 1), utc(2025, 4, 16), "What happened?"),
        ("What did Kyiv propose last month?", utc(2026, 10, 1), utc(2026, 11, 1), "What did Kyiv propose?"),
        ("What did they say yesterday?", utc(2026, 11, 23), utc(2026, 11, 24), "What did they say?"),
    ],
)
def test_time_phrases(question: str, start: datetime | None, end: datetime | None, rest: str) -> None:
    frame, stripped = parse_timeframe(question, NOW)
    assert (frame.start, frame.end) == (start, end)
    assert stripped == rest


def test_latest_ranks_newer_first_without_bounds() -> None:
    frame, rest = parse_timeframe("What is the latest on the prisoner exchange?", NOW)
    assert frame.latest and not frame.bounded
    assert rest == "What is the latest on the prisoner exchange?"


def test_no_time_phrase() -> None:
    frame, rest = parse_timeframe("What did Russia demand?", NOW)
    assert not frame.bounded and not frame.latest and rest == "What did Russia demand?"
