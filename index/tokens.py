"""Every passage's words as the features read them (`features.Sentence`), tokenised once when the index is built.

A question's features read ~300 sentences (its candidates and their neighbours); tokenising and stemming them
at query time was the largest single cost at a million passages. Stored per version folder under `tokens/`:
`vocab.json` (the stems), `ptr.npy` (row r's tokens are `ids[ptr[r]:ptr[r + 1]]`), `ids.npy` (int32 stem
numbers, in word order) and `content.npy` (whether each word counts as content: not a stopword or question
word). Append-only like the lexical index: an ingest adds rows and stems, old numbers never change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.features import Sentence, word_stems

FORMAT = 1


class SentenceTokens:
    """Row -> Sentence without tokenising: the stems of its words, and which of them are content words."""

    def __init__(self, vocab: list[str], ptr: np.ndarray, ids: np.ndarray, content: np.ndarray):
        self.vocab, self.ptr, self.ids, self.content = vocab, ptr, ids, content

    def __len__(self) -> int:
        return len(self.ptr) - 1

    @classmethod
    def build(cls, texts: Sequence[str]) -> SentenceTokens:
        return cls([], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=bool)).add(texts)

    def add(self, texts: Sequence[str]) -> SentenceTokens:
        """These rows plus `texts` as new rows at the end (a new object; this one is unchanged)."""
        vocab = list(self.vocab)
        number = {s: i for i, s in enumerate(vocab)}
        ids: list[int] = []
        keep: list[bool] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for k, text in enumerate(texts):
            stems, is_content = word_stems(text)
            for s in stems:
                i = number.get(s)
                if i is None:
                    i = number[s] = len(vocab)
                    vocab.append(s)
                ids.append(i)
            keep += is_content
            lengths[k] = len(stems)
        ptr = np.concatenate([self.ptr, self.ptr[-1] + np.cumsum(lengths)])
        return SentenceTokens(vocab, ptr, np.concatenate([self.ids, np.asarray(ids, dtype=np.int32)]),
                              np.concatenate([self.content, np.asarray(keep, dtype=bool)]))

    def sentences(self, texts: dict[int, str]) -> dict[int, Sentence]:
        """What `features.sentence(text)` returns for each row -> text, from the stored tokens (the rows' tokens
        gathered in one read)."""
        rows = np.fromiter(texts, dtype=np.int64, count=len(texts))
        start, lengths = self.ptr[rows], self.ptr[rows + 1] - self.ptr[rows]
        ends = np.cumsum(lengths)
        at = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(start - (ends - lengths), lengths)
        vocab = self.vocab
        stems, content = [vocab[i] for i in self.ids[at].tolist()], self.content[at].tolist()
        out, k = {}, 0
        for row, n in zip(rows.tolist(), lengths.tolist()):
            out[row] = Sentence.of(texts[row], stems[k : k + n], content[k : k + n])
            k += n
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ptr.npy", self.ptr, allow_pickle=False)
        np.save(folder / "ids.npy", self.ids, allow_pickle=False)
        np.save(folder / "content.npy", self.content, allow_pickle=False)
        (folder / "vocab.json").write_text(json.dumps({"format": FORMAT, "stems": self.vocab}))

    @classmethod
    def load(cls, folder: Path) -> SentenceTokens:
        """Memory-mapped; ValueError when missing or of another format (the caller rebuilds it)."""
        path = folder / "vocab.json"
        if not path.exists():
            raise ValueError(f"{folder}: no stored sentence tokens (an index from an older Parley version)")
        raw = json.loads(path.read_text())
        if raw.get("format") != FORMAT:
            raise ValueError(f"{folder}: sentence tokens in format {raw.get('format')}, not {FORMAT}")
        # plain arrays over the mapped files: slicing a np.memmap runs Python code per slice
        load = lambda name: np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))  # noqa: E731
        return cls(list(raw["stems"]), load("ptr.npy"), load("ids.npy"), load("content.npy"))
