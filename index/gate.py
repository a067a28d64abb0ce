"""The reindex quality gate: compare a new index version with the live one on QA files before switching."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import ParleyError
from index.evaluate import IsVerbatim, QAItem, Ranker, evaluate, load_qa

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateRow:
    """One QA file's metrics on the new version and on the live one (None when nothing was live)."""

    name: str
    new: dict[str, float]
    live: dict[str, float] | None

    def passed(self, tolerance: float) -> bool:
        worse = self.live is not None and self.new["R@3"] < self.live["R@3"] - tolerance - 1e-9
        return not worse and self.new["verbatim"] >= 1.0

    def line(self) -> str:
        new, live = self.new, self.live
        if live is None:
            return f"{self.name}: R@3 {new['R@3']:.2f}, verbatim {new['verbatim']:.2f} (no live index to compare)"
        return (
            f"{self.name}: R@3 {live['R@3']:.2f} live → {new['R@3']:.2f} new ({new['R@3'] - live['R@3']:+.2f}), "
            f"MRR@10 {live['MRR@10']:.2f} → {new['MRR@10']:.2f}, verbatim {live['verbatim']:.2f} → {new['verbatim']:.2f}"
        )


@dataclass(frozen=True)
class GateReport:
    """The quality gate's comparison of a new index version with the live one."""

    rows: tuple[GateRow, ...]
    tolerance: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.passed(self.tolerance) for r in self.rows)

    def lines(self) -> list[str]:
        return [r.line() + ("" if r.passed(self.tolerance) else "  ✗") for r in self.rows]


class QualityGateRefused(ParleyError):
    """The new version scored worse than the live one on the quality gate; the live index is unchanged."""

    def __init__(self, report: GateReport):
        self.report = report
        super().__init__(
            "the new index scores worse than the live one on the quality gate, so the live index is unchanged "
            "(an admin can switch anyway with `reindex force`):\n" + "\n".join(report.lines())
        )


def gate_row(name: str, items: Sequence[QAItem], new: Ranker, live: Ranker | None, is_verbatim: IsVerbatim) -> GateRow:
    """Evaluate `items` with the new version's ranking and, if there is one, the live version's.

    Args:
        name: what the row is called in the report (the QA file's name).
        items: the QA file's questions.
        new: ranks a question on the version being built.
        live: ranks a question on the live version, or None when nothing is live.
        is_verbatim: whether a quote is verbatim in its stored article.
    """
    scored = evaluate(items, new, is_verbatim).as_dict()
    was = None
    if live is not None:
        try:
            was = evaluate(items, live, is_verbatim).as_dict()
        except ParleyError as exc:  # e.g. the live index names articles the store lost: nothing to compare
            logger.warning("quality gate: the live index could not be evaluated: %s", exc)
    return GateRow(name, scored, was)


def compare(
    qa_files: Sequence[Path], new: Ranker, live: Ranker | None, is_verbatim: IsVerbatim, tolerance: float
) -> GateReport:
    """One row per QA file (`index.quality_gate`), compared within `tolerance` (`index.quality_gate_tolerance`)."""
    rows = [gate_row(path.name, load_qa(path), new, live, is_verbatim) for path in qa_files]
    return GateReport(tuple(rows), tolerance)
