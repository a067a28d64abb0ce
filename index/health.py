"""Index health: does the live index agree with the article store and with its Chroma collection, and does its
sentence vectors file (index/rowvectors.py) hold the vectors Chroma holds?

`check` lists every disagreement with a count and an example. The file is compared with Chroma on every row up
to 5,000 passages, on a sample beyond (2,000 evenly spaced rows and every all-zero row); the report says which.
`repair` fixes what can be fixed in place (missing vectors put back, stray vectors deleted, every row of the file
compared and each passage whose two vectors disagree embedded again into both, unindexed articles indexed,
leftover versions dropped) and rebuilds when passages name articles the store no longer has. Used by
`parley stats --check` / `--repair`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.build import Agreement, compare_vectors

if TYPE_CHECKING:
    from index.engine import Engine


@dataclass(frozen=True)
class Problem:
    code: str  # unindexed_articles, orphaned_passages, missing_vectors, stray_vectors, vector_mismatch, leftover_versions
    count: int
    text: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Health:
    version: str
    articles: int
    passages: int
    vectors: int
    versions: tuple[str, ...]
    problems: tuple[Problem, ...] = field(default=())
    agreement: Agreement | None = None  # the sentence vectors file against Chroma (None: not compared)

    @property
    def compared(self) -> str:
        """Which rows of the sentence vectors file were compared with Chroma ("" if it was not)."""
        return self.agreement.describe() if self.agreement is not None else ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        head = (f"live version {self.version}: {self.articles} articles stored, {self.passages} passages, "
                f"{self.vectors} vectors; collections: {', '.join(self.versions) or 'none'}")
        if self.ok:
            file = f" (the sentence vectors file agrees with Chroma: {self.compared})" if self.compared else ""
            return [head, f"consistent: every stored article is indexed and every passage has exactly one vector{file}"]
        return [head] + [f"{p.code}: {p.text}" + (f" (e.g. {', '.join(p.examples)})" if p.examples else "") for p in self.problems]


def check(engine: Engine, full: bool = False) -> Health:
    """Compare the article store, the live passage table, the live Chroma collection and its sentence vectors file
    (on a sample of rows beyond 5,000 passages, unless `full`: every row, 79 s at a million passages)."""
    state = engine._state
    stored = set(engine.store.ids())
    versions = tuple(engine.vectors.versions())
    if state is None:
        problems = [Problem("unindexed_articles", len(stored), "stored articles with no index yet (run `parley reindex`)")] if stored else []
        return Health("none", len(stored), 0, 0, versions, tuple(problems))
    table = state.table
    indexed = set(table.article_ids)
    passage_ids = {table.passage_id(r) for r in range(len(table))}
    vector_ids = engine.vectors.ids(state.version)
    problems = []
    if unindexed := sorted(stored - indexed):
        problems.append(Problem("unindexed_articles", len(unindexed), f"{len(unindexed)} stored article(s) are not in the index", tuple(unindexed[:3])))
    if orphaned := sorted(indexed - stored):
        rows = sum(len(table.rows_of_article(a)) for a in orphaned)
        problems.append(Problem("orphaned_passages", rows, f"{rows} passage(s) of {len(orphaned)} article(s) the store no longer has", tuple(orphaned[:3])))
    if missing := sorted(passage_ids - vector_ids):
        problems.append(Problem("missing_vectors", len(missing), f"{len(missing)} passage(s) have no vector in Chroma", tuple(missing[:3])))
    if stray := sorted(vector_ids - passage_ids):
        problems.append(Problem("stray_vectors", len(stray), f"{len(stray)} vector(s) belong to no passage", tuple(stray[:3])))
    agreement = compare_vectors(engine.vectors, state, every_row=full)
    if agreement is not None and (wrong := agreement.disagree):
        problems.append(Problem("vector_mismatch", len(wrong), f"{len(wrong)} passage(s) have another vector in the sentence vectors "
                                f"file than in Chroma ({agreement.describe()})", tuple(table.passage_id(r) for r in wrong[:3])))
    if leftovers := [v for v in versions if v != state.version]:
        problems.append(Problem("leftover_versions", len(leftovers), f"{len(leftovers)} collection(s) of unfinished or old builds", tuple(leftovers[:3])))
    return Health(state.version, len(stored), len(table), len(vector_ids), versions, tuple(problems), agreement)


def repair(engine: Engine, health: Health | None = None) -> list[str]:
    """Fix what `check` found (`health`, checked now if not given); returns what was done. A rebuild keeps
    the live index until the new one is ready."""
    health = health or check(engine)
    done: list[str] = []
    codes = {p.code for p in health.problems}
    if "leftover_versions" in codes:
        done += [f"dropped {what}" for what in engine.cleanup()]
    if "orphaned_passages" in codes or engine._state is None and "unindexed_articles" in codes:
        version = engine.reindex(force=True)
        return done + [f"rebuilt the index as version {version}"]
    if "missing_vectors" in codes or "stray_vectors" in codes:
        fixed = engine.resync_vectors()
        done.append(f"restored {fixed[0]} missing vector(s) ({fixed[2]} embedded again, the rest copied from the "
                    f"index's own sentence vectors), deleted {fixed[1]} stray vector(s)")
    if "vector_mismatch" in codes:
        rewritten, compared = engine.rewrite_vectors(health.agreement)
        done.append(f"rewrote {rewritten} sentence vector(s) that disagreed with Chroma (embedded again; "
                    f"all {compared:,} rows compared)")
    if "unindexed_articles" in codes:
        done.append(f"indexed {engine.index_pending()} passage(s) of unindexed articles")
    return done
