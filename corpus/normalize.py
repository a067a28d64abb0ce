"""Unicode normalisation and whitespace clean-up that keeps the original characters (curly quotes stay curly)."""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{2,}")


def normalize_text(text: str) -> str:
    """NFC; CR/CRLF to LF; control and zero-width characters dropped; runs of spaces folded; lines trimmed;
    paragraphs separated by exactly one blank line. Lines inside a paragraph are kept as they are."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _BLANKS.sub("\n\n", text).strip()


def normalize_title(title: str) -> str:
    """A title on one line, normalised like body text."""
    return " ".join(normalize_text(title).split())
