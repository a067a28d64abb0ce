"""The passage table of one index version: compact arrays of offsets, saved as .npy files plus JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.types import Passage

_COLS = ("art", "seq", "para", "start", "end")
_OPTIONAL = ("pub", "pid")  # published time of the article (epoch s, 0 = unknown); paragraph number


class PassageTable:
    """Row i of every array describes passage i; rows are shared by Chroma metadata and the BM25 index."""

    def __init__(self, article_ids: list[str], cols: dict[str, np.ndarray]):
        self.article_ids = article_ids
        self.cols = cols
        self._art_row = {a: i for i, a in enumerate(article_ids)}
        self._first_rows: np.ndarray | None = None  # made on first use by row_of

    @classmethod
    def build(cls, passages: Iterable[Passage], published: dict[str, int] | None = None) -> PassageTable:
        article_ids: list[str] = []
        index: dict[str, int] = {}
        data: dict[str, list[int]] = {c: [] for c in _COLS}
        for p in passages:
            if p.article_id not in index:
                index[p.article_id] = len(article_ids)
                article_ids.append(p.article_id)
            for col, value in zip(_COLS, (index[p.article_id], p.seq, p.para, p.start, p.end)):
                data[col].append(value)
        cols: dict[str, np.ndarray] = {c: np.asarray(v, dtype=np.int32) for c, v in data.items()}
        cols["pid"] = _paragraph_ids(cols["art"], cols["para"])
        pub = published or {}
        cols["pub"] = np.asarray([pub.get(a, 0) for a in article_ids], dtype=np.int64)[cols["art"]] if len(cols["art"]) else np.zeros(0, dtype=np.int64)
        return cls(article_ids, cols)

    def extend(self, passages: Iterable[Passage], published: dict[str, int] | None = None) -> PassageTable:
        """A new table: these rows, then `passages` (of articles not in this table) as rows after them."""
        more = PassageTable.build(passages, published)
        cols = {c: np.concatenate([self.cols[c], more.cols[c] + (len(self.article_ids) if c == "art" else 0)]) for c in _COLS}
        cols["art"] = cols["art"].astype(np.int32)
        cols["pid"] = _paragraph_ids(cols["art"], cols["para"])
        cols["pub"] = np.concatenate([self.cols["pub"], more.cols["pub"]]).astype(np.int64)
        return PassageTable(self.article_ids + more.article_ids, cols)

    def __len__(self) -> int:
        return int(self.cols["art"].shape[0])

    def article_id(self, row: int) -> str:
        return self.article_ids[int(self.cols["art"][row])]

    def passage_id(self, row: int) -> str:
        return f"{self.article_id(row)}:{int(self.cols['seq'][row])}"

    def row_of(self, passage_id: str) -> int | None:
        """The row of passage id "<article id>:<seq>" (None when the table lacks it); no id map is kept, which
        at a million passages would cost more memory than the table."""
        article_id, _, seq = passage_id.rpartition(":")
        art = self._art_row.get(article_id)
        if art is None or not seq.isdigit():
            return None
        lo, hi = self._article_rows(art)
        n = int(seq)
        if lo + n < hi and self.cols["seq"][lo + n] == n and self.cols["art"][lo + n] == art:  # seq counts from 0
            return lo + n
        found = np.flatnonzero((self.cols["seq"][lo:hi] == n) & (self.cols["art"][lo:hi] == art))
        return lo + int(found[0]) if len(found) else None

    def _article_rows(self, art: int) -> tuple[int, int]:
        """Bounds of the rows of article number `art`: its own rows when the table is grouped by article, as build
        and extend make it (whole articles appended in order), else every row."""
        if self._first_rows is None:
            col = self.cols["art"]
            grouped = len(col) < 2 or bool((col[1:] >= col[:-1]).all())
            self._first_rows = np.searchsorted(col, np.arange(len(self.article_ids) + 1)) if grouped else np.zeros(0, dtype=np.int64)
        if not len(self._first_rows):
            return 0, len(self)
        return int(self._first_rows[art]), int(self._first_rows[art + 1])

    def span(self, row: int) -> tuple[int, int]:
        return int(self.cols["start"][row]), int(self.cols["end"][row])

    def neighbour(self, row: int, step: int) -> int | None:
        """The row of the previous (-1) or next (+1) sentence in the same paragraph, if any."""
        other = int(self.neighbours(np.array([row]), step)[0])
        return other if other >= 0 else None

    def neighbours(self, rows: np.ndarray, step: int) -> np.ndarray:
        """`neighbour` for many rows at once: the row `step` sentences away in the same paragraph, else -1."""
        other = rows + step
        inside = (other >= 0) & (other < len(self))
        near = np.where(inside, other, rows)
        same = inside & (self.cols["art"][near] == self.cols["art"][rows]) & (self.cols["para"][near] == self.cols["para"][rows])
        return np.where(same, other, -1)

    def rows_of_article(self, article_id: str) -> np.ndarray:
        idx = self._art_row.get(article_id)
        if idx is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.cols["art"] == idx)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for col, arr in self.cols.items():
            np.save(folder / f"passages.{col}.npy", arr, allow_pickle=False)
        (folder / "articles.json").write_text(json.dumps(self.article_ids))

    @classmethod
    def load(cls, folder: Path) -> PassageTable:
        article_ids = json.loads((folder / "articles.json").read_text())
        cols = {c: np.load(folder / f"passages.{c}.npy", allow_pickle=False) for c in _COLS}
        for c in _OPTIONAL:
            path = folder / f"passages.{c}.npy"
            cols[c] = np.load(path, allow_pickle=False) if path.exists() else np.zeros(len(cols["art"]), dtype=np.int64)
        if not (folder / "passages.pid.npy").exists():
            cols["pid"] = _paragraph_ids(cols["art"], cols["para"])
        return cls(article_ids, cols)

    @property
    def n_paragraphs(self) -> int:
        return int(self.cols["pid"][-1]) + 1 if len(self) else 0

    def paragraph_span(self, pid: int) -> tuple[str, int, int]:
        """(article id, start, end) of a paragraph, from its first and last sentence."""
        rows = np.flatnonzero(self.cols["pid"] == pid)
        return self.article_id(int(rows[0])), int(self.cols["start"][rows[0]]), int(self.cols["end"][rows[-1]])

    def paragraph_spans(self, first: int = 0) -> list[tuple[str, int, int]]:
        """(article id, start, end) of every paragraph from number `first` on, in order (one pass over those rows)."""
        out: list[tuple[str, int, int]] = []
        pid, start, end, art = self.cols["pid"], self.cols["start"], self.cols["end"], self.cols["art"]
        begin = int(np.searchsorted(pid, first)) if first else 0
        for row in range(begin, len(self)):
            if row == begin or pid[row] != pid[row - 1]:
                out.append((self.article_ids[int(art[row])], int(start[row]), int(end[row])))
            else:
                out[-1] = (out[-1][0], out[-1][1], int(end[row]))
        return out

    def time_mask(self, start: int | None, end: int | None) -> np.ndarray:
        """Rows whose article was published in [start, end) (epoch seconds; None = open)."""
        pub = self.cols["pub"]
        mask = pub > 0
        if start is not None:
            mask &= pub >= start
        if end is not None:
            mask &= pub < end
        return mask


def _paragraph_ids(art: np.ndarray, para: np.ndarray) -> np.ndarray:
    """A running paragraph number: it goes up whenever the article or the paragraph changes."""
    if not len(art):
        return np.zeros(0, dtype=np.int32)
    change = np.ones(len(art), dtype=bool)
    change[1:] = (art[1:] != art[:-1]) | (para[1:] != para[:-1])
    return (np.cumsum(change) - 1).astype(np.int32)
