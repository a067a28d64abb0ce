"""Each passage's sentence vector in table-row order, kept beside the version's other files, so the cosine of a
lexical candidate (one BM25 found and Chroma's nearest sentences did not) is read here instead of fetched from
Chroma: that `get` held the interpreter lock for ~4 ms per question with the embedded client and decoded JSON
from `chroma run`. Chroma keeps its own copy for the nearest-neighbour search.

`sentence_vectors.f32` holds raw little-endian float32, row r at byte r × dim × 4 (dim is in meta.json).
Append-only, like the lexical index: an ingest hard-links the live version's file into the new folder, cuts
whatever lies past the live rows (left by an interrupted build) and appends the new rows. The live version only
ever reads its own rows, so it is undisturbed. Only a repair (`parley stats --repair`) writes rows in place: the
vectors of passages it embedded again. Reads use pread: the vectors stay in the page cache, not in the
process's memory (1.5 GB of file at a million passages).

An index built before this file existed gets it written from Chroma's copy when it is loaded; while Chroma is
unreachable, its rows are read from Chroma as before (`ChromaRows`) until a later load or ingest writes the file.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.errors import IndexUnavailable

logger = logging.getLogger(__name__)

NAME = "sentence_vectors.f32"
DTYPE = np.dtype("<f4")
READ_BATCH = 5000  # rows per Chroma request when writing the file from Chroma's copy


class Rows(Protocol):
    """The vectors of table rows 0 .. rows - 1."""

    rows: int
    dim: int

    def get(self, rows: Sequence[int]) -> np.ndarray: ...

    def put(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        """Make `rows` read as `vectors` (a repair: vectors embedded again)."""

    def place(self, dest: Path) -> None:
        """Put these rows at the start of file `dest`, which does not exist yet."""


class RowVectors:
    """The first `rows` vectors of a file (it may hold more: rows an interrupted build appended), read with pread."""

    def __init__(self, path: Path, rows: int, dim: int):
        self.path, self.rows, self.dim = path, rows, dim
        self.row_bytes = dim * DTYPE.itemsize
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        if size < rows * self.row_bytes:
            os.close(fd)
            raise ValueError(f"{path}: {size} bytes, short of {rows} vectors of {dim} dimensions")
        self._fd = fd

    def __del__(self) -> None:
        if (fd := getattr(self, "_fd", None)) is not None:
            os.close(fd)

    def _offset(self, row: int) -> int:
        if not 0 <= row < self.rows:
            raise IndexError(f"row {row} is not among the {self.rows} rows of {self.path}")
        return row * self.row_bytes

    def get(self, rows: Sequence[int]) -> np.ndarray:
        out = np.empty((len(rows), self.dim), dtype=DTYPE)
        for i, row in enumerate(rows):
            raw = os.pread(self._fd, self.row_bytes, self._offset(row))  # (os.preadv is not on macOS)
            if len(raw) != self.row_bytes:
                raise ValueError(f"{self.path}: short read at row {row}")
            out[i] = np.frombuffer(raw, dtype=DTYPE)
        return out

    def put(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        """Overwrite whole rows in place (pwrite at each row's offset). Versions an ingest built on this file share
        it by hard link and hold the same passages in these rows, so they read the repaired vectors too."""
        data = np.ascontiguousarray(vectors, dtype=DTYPE)
        if data.shape != (len(rows), self.dim):
            raise ValueError(f"vectors of shape {vectors.shape} for {len(rows)} rows of {self.dim} dimensions")
        fd = os.open(self.path, os.O_WRONLY)
        try:
            for row, vec in zip(rows, data):
                if os.pwrite(fd, vec.tobytes(), self._offset(row)) != self.row_bytes:
                    raise OSError(f"{self.path}: short write at row {row}")
        finally:
            os.close(fd)

    def zero_rows(self, chunk_bytes: int = 1 << 24) -> np.ndarray:
        """The rows that are all zeros (vectors the file lacks), found by reading the file in chunks of about
        `chunk_bytes`."""
        step = max(1, chunk_bytes // self.row_bytes)
        found = [np.empty(0, dtype=np.int64)]
        for start in range(0, self.rows, step):
            n = min(step, self.rows - start)
            raw = os.pread(self._fd, n * self.row_bytes, start * self.row_bytes)
            if len(raw) != n * self.row_bytes:
                raise ValueError(f"{self.path}: short read at row {start}")
            block = np.frombuffer(raw, dtype=DTYPE).reshape(n, self.dim)
            found.append(start + np.flatnonzero(~block.any(axis=1)))
        return np.concatenate(found)

    def place(self, dest: Path) -> None:
        try:
            os.link(self.path, dest)
        except OSError:  # a file system without hard links
            shutil.copyfile(self.path, dest)


class ChromaRows:
    """The same rows read from Chroma's copy (an index built before the file existed, while Chroma was unreachable
    at load); a vector Chroma lacks reads as zeros, a cosine of 0 as before (`parley stats` reports it)."""

    def __init__(self, fetch: Callable[[list[str]], dict[str, np.ndarray]], passage_id: Callable[[int], str], rows: int, dim: int):
        self._fetch, self._id, self.rows, self.dim = fetch, passage_id, rows, dim

    def get(self, rows: Sequence[int]) -> np.ndarray:
        ids = [self._id(r) for r in rows]
        found = self._fetch(ids) if ids else {}
        out = np.zeros((len(ids), self.dim), dtype=DTYPE)
        for i, pid in enumerate(ids):
            if (vec := found.get(pid)) is not None:
                out[i] = vec
        return out

    def put(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        """Nothing to write: these rows are Chroma's, and the caller puts the vectors there."""

    def place(self, dest: Path) -> None:
        with open(dest, "wb") as f:
            for start in range(0, self.rows, READ_BATCH):
                f.write(self.get(range(start, min(start + READ_BATCH, self.rows))).tobytes())


class Writer:
    """New rows' vectors, appended to a temporary file in `directory` as they are embedded (a reindex of a million
    would not fit well in memory); `finish` puts them after the previous version's rows in a version folder."""

    def __init__(self, directory: Path, dim: int):
        directory.mkdir(parents=True, exist_ok=True)
        self.tmp = directory / f".sentence-vectors-{uuid.uuid4().hex}.part"
        self._file = open(self.tmp, "xb")  # not mkstemp: its mode 0600 would stay on the version's file
        self.dim, self.rows = dim, 0

    def __call__(self, vectors: np.ndarray) -> None:
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape}, not (n, {self.dim})")
        self._file.write(np.ascontiguousarray(vectors, dtype=DTYPE).tobytes())
        self.rows += len(vectors)

    def finish(self, folder: Path, previous: Rows | None) -> RowVectors:
        """`folder`'s file: `previous`'s rows (a hard link to its file where it has one), then the new rows."""
        self._file.close()
        dest = folder / NAME
        try:
            if previous is None:
                os.replace(self.tmp, dest)
                return RowVectors(dest, self.rows, self.dim)
            previous.place(dest)
            with open(dest, "r+b") as out, open(self.tmp, "rb") as new:
                out.truncate(previous.rows * self.dim * DTYPE.itemsize)
                out.seek(0, os.SEEK_END)
                shutil.copyfileobj(new, out, 1 << 22)
            return RowVectors(dest, previous.rows + self.rows, self.dim)
        finally:
            self.discard()

    def discard(self) -> None:
        self._file.close()
        self.tmp.unlink(missing_ok=True)


def open_rows(folder: Path, rows: int, dim: int, chroma: ChromaRows) -> Rows:
    """A loaded version's vectors: its file, else (an index from an earlier Parley, or a damaged file) the file
    written now from Chroma's copy, else, when Chroma cannot be read either, Chroma's copy itself."""
    try:
        return RowVectors(folder / NAME, rows, dim)
    except (FileNotFoundError, ValueError):
        pass
    logger.warning("%s: no sentence vectors file of %d rows (an index from an earlier Parley, or damaged); writing "
                   "it from Chroma's copy once", folder, rows)
    (folder / NAME).unlink(missing_ok=True)
    try:
        return Writer(folder, dim).finish(folder, chroma)
    except IndexUnavailable as exc:
        logger.warning("%s; lexical candidates' vectors are read from Chroma until the file is written", exc)
        (folder / NAME).unlink(missing_ok=True)
        return chroma
