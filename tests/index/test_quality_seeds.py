"""The real all-MiniLM-L6-v2 model on the development question set over the two seed articles (`parley eval`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.helpers import SHARED

SEEDS = SHARED / "seeds"
QA = SHARED / "eval" / "seeds-qa.jsonl"


@pytest.mark.model
@pytest.mark.skipif(not QA.exists(), reason="needs ../shared/eval (present beside the checkout in CI)")
def test_seeds_dev_set_meets_the_foundation_targets() -> None:
    result = CliRunner().invoke(app, ["eval", str(QA), "--corpus", str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert metrics["R@1"] >= 0.9
    assert metrics["R@3"] == 1.0
    assert metrics["abstention (unanswerable)"] == 1.0
    assert metrics["false abstention"] == 0.0
    assert metrics["verbatim"] == 1.0
