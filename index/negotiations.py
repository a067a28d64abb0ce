"""Tracked negotiations from config/negotiations.toml: parties with aliases, keywords, and act words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from corpus.errors import ConfigError, read_toml


def _alias_pattern(aliases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alias matcher; all-caps aliases (US, EU) match case-sensitively so "us" is not the US."""
    parts = []
    for alias in sorted(aliases, key=len, reverse=True):
        body = re.escape(alias).replace(r"\ ", r"\s+")
        body = body.replace("'", "['’]")
        parts.append(body if alias.isupper() else f"(?i:{body})")
    return re.compile(r"(?<![\w.])(?:" + "|".join(parts) + r")(?:['’]s)?(?!\w)")


@dataclass(frozen=True)
class Party:
    name: str
    aliases: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return _alias_pattern(self.aliases + (self.name,))

    def mentioned_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class Negotiation:
    id: str
    name: str
    keywords: tuple[str, ...]
    parties: tuple[Party, ...]
    feeds: tuple[str, ...] = ()

    @cached_property
    def keyword_pattern(self) -> re.Pattern[str]:
        return _alias_pattern(self.keywords)

    def covers(self, text: str, min_hits: int = 2) -> bool:
        """An article covers the negotiation when it names a keyword and a party, or two parties."""
        parties = sum(1 for p in self.parties if p.mentioned_in(text))
        keyword = self.keyword_pattern.search(text) is not None if self.keywords else False
        return parties >= min_hits or (parties >= 1 and keyword)


@dataclass(frozen=True)
class Tracked:
    negotiations: tuple[Negotiation, ...]
    acts: dict[str, tuple[str, ...]]

    def parties(self) -> dict[str, Party]:
        """Every party by name; a party in several negotiations gets the union of its aliases."""
        merged: dict[str, set[str]] = {}
        for neg in self.negotiations:
            for p in neg.parties:
                merged.setdefault(p.name, set()).update(p.aliases)
        return {name: Party(name, tuple(sorted(aliases))) for name, aliases in merged.items()}

    def get(self, key: str) -> Negotiation | None:
        key = key.strip().lower()
        for neg in self.negotiations:
            if key in (neg.id.lower(), neg.name.lower()):
                return neg
        return None

    def tag(self, text: str) -> tuple[str, ...]:
        return tuple(n.id for n in self.negotiations if n.covers(text))


def load_tracked(path: Path) -> Tracked:
    """Read and validate the negotiations file; errors name the file and the entry."""
    raw = read_toml(path, "negotiations file")
    negs = []
    for i, item in enumerate(raw.get("negotiation", [])):
        where = f"{path}: negotiation #{i + 1}"
        if not isinstance(item, dict) or "id" not in item or "name" not in item:
            raise ConfigError(f"{where}: needs `id` and `name`")
        parties = []
        for j, p in enumerate(item.get("party", [])):
            if "name" not in p:
                raise ConfigError(f"{where}, party #{j + 1}: needs `name`")
            aliases = p.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
                raise ConfigError(f"{where}, party {p['name']!r}: `aliases` must be a list of non-empty strings")
            parties.append(Party(str(p["name"]), tuple(aliases)))
        negs.append(
            Negotiation(
                str(item["id"]),
                str(item["name"]),
                tuple(item.get("keywords", [])),
                tuple(parties),
                tuple(item.get("feeds", [])),
            )
        )
    acts = raw.get("acts", {})
    if not isinstance(acts, dict) or not all(isinstance(v, list) for v in acts.values()):
        raise ConfigError(f"{path}: [acts] must map each act to a list of words")
    return Tracked(tuple(negs), {k: tuple(v) for k, v in acts.items()})
