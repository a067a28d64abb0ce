"""Published dates in answers: the filter a question's time frame puts on retrieval, and dated quote order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from index.table import PassageTable
from index.timeframe import TimeFrame
from index.types import Answer


def date_filter(frame: TimeFrame, table: PassageTable) -> tuple[dict[str, Any], np.ndarray]:
    """The Chroma `where` clause and the table's row mask for articles published within a bounded `frame`."""
    start = int(frame.start.timestamp()) if frame.start else None
    end = int(frame.end.timestamp()) if frame.end else None
    mask = table.time_mask(start, end)
    bounds = {**({"$gte": start} if start is not None else {}), **({"$lt": end} if end is not None else {})}
    where = {"published_ts": bounds} if len(bounds) == 1 else {"$and": [{"published_ts": {op: v}} for op, v in bounds.items()]}
    return where, mask


def mark_dates(ans: Answer, newest_first: bool) -> Answer:
    """For "latest" questions put newer quotes first; when quotes come from different dates, mark the
    newest as the later report so readers see which account is more recent."""
    quotes = list(ans.quotes)
    if newest_first:
        quotes.sort(key=lambda q: q.published.timestamp() if q.published else 0.0, reverse=True)
    dated = [q for q in quotes if q.published]
    if len({q.published.date() for q in dated if q.published}) > 1:
        newest = max(dated, key=lambda q: q.published.timestamp() if q.published else 0.0)
        quotes = [replace(q, later_report=True) if q is newest else q for q in quotes]
    return replace(ans, quotes=tuple(quotes))
