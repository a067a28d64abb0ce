"""Query understanding: which parties and negotiation acts a question asks about, and its content terms."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.lexical import stem, stopwords, words
from index.negotiations import Party, Tracked

# Words that shape a question but carry no content to match in a passage.
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how did does do done has have had is are was were will would "
    "can could should shall may might must say said tell told about anything something any happen happened "
    "think thinks".split()
)
SYNONYM_CREDIT = 0.7
# Stems of act words that also frame questions ("what did X say") rather than ask for that act.
_FRAMING_ACTS: set[str] = set()


@dataclass(frozen=True)
class TermGroup:
    """A query concept: alternatives (stems) any one of which matches; weight scales its BM25 share."""

    label: str
    alternatives: tuple[str, ...]
    weight: float = 1.0
    primary: frozenset[str] = frozenset()  # the question's own stems; other alternatives earn SYNONYM_CREDIT


@dataclass(frozen=True)
class Query:
    text: str
    parties: tuple[Party, ...]
    acts: tuple[str, ...]
    groups: tuple[TermGroup, ...]
    act_stems: frozenset[str] = field(default=frozenset())
    others: tuple[Party, ...] = ()  # tracked parties the question does not ask about

    def act_in(self, text: str, stems: frozenset[str] | None = None) -> bool:
        """The passage uses one of the asked acts' words (a quotation counts as a statement); `stems`, when
        given, are the stems of the text's words."""
        if "statement" in self.acts and any(ch in text for ch in "“\"”"):
            return True
        if stems is None:
            stems = frozenset(stem(w) for w in words(text))
        return not self.act_stems.isdisjoint(stems)


class QueryAnalyzer:
    """Maps questions onto tracked parties (any alias) and acts (any act word), from the negotiations file."""

    def __init__(self, tracked: Tracked):
        self.tracked = tracked
        self.parties = tuple(tracked.parties().values())
        self.act_stems = {act: frozenset(stem(w) for w in ws if " " not in w) for act, ws in tracked.acts.items()}

    def analyze(self, question: str) -> Query:
        stops = stopwords() | QUESTION_WORDS
        # in question order: the first party named is the one asked about as the agent ("did the US agree to Russia's …")
        found = [(m.start(), i, p) for i, p in enumerate(self.parties) if (m := p.pattern.search(question))]
        parties = tuple(p for _, _, p in sorted(found, key=lambda t: (t[0], t[1])))
        # stems covered by a party alias are matched through the party group, not as loose terms
        party_stems: set[str] = set()
        groups: list[TermGroup] = []
        for p in parties:
            alts = {stem(w) for a in p.aliases + (p.name,) if " " not in a for w in words(a)}
            party_stems |= {stem(w) for m in p.pattern.finditer(question) for w in words(m.group(0))}
            groups.append(TermGroup(p.name, tuple(sorted(alts)), 1.0))
        all_stems = {stem(w) for w in words(question)}
        q_stems = [stem(w) for w in words(question) if w not in stops]
        acts = tuple(
            act for act, stems in self.act_stems.items() if act not in _FRAMING_ACTS and stems & all_stems
        )
        act_stems = frozenset().union(*(self.act_stems[a] for a in acts)) if acts else frozenset()
        for act in acts:
            own = frozenset(self.act_stems[act] & all_stems)
            groups.append(TermGroup(act, tuple(sorted(self.act_stems[act])), 1.0, own))
        seen = set(party_stems) | set().union(*(g.alternatives for g in groups)) if groups else set(party_stems)
        for s in q_stems:
            if s not in seen:
                seen.add(s)
                groups.append(TermGroup(s, (s,), 1.0))
        others = tuple(p for p in self.parties if p not in parties)
        return Query(question, parties, acts, tuple(groups), act_stems, others)
