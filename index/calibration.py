"""The calibrated abstention threshold per embedding model, as fitted by bench/calibrate.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FALLBACK = 0.45


def default_threshold(model: str) -> dict[str, Any]:
    """The threshold record for `model`: value, how it was fitted; a warning if none was fitted for it."""
    table = json.loads(CALIBRATION_FILE.read_text()) if CALIBRATION_FILE.exists() else {}
    record = table.get(model)
    if record is None:
        logger.warning("no calibrated abstention threshold for model %r; using %.2f", model, FALLBACK)
        return {"threshold": FALLBACK, "fitted": "not calibrated for this model (fallback)"}
    return dict(record)
