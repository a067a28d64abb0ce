"""`parley ask --json` over the two real seed articles explains each kind of abstention (real model, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.helpers import SHARED

SEEDS = SHARED / "seeds"


@pytest.mark.model
def test_ask_json_explains_abstentions(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    ingested = runner.invoke(app, [*data, "ingest", str(SEEDS)])
    assert ingested.exit_code == 0, ingested.output
    questions = {
        "What did China demand?": "not_mentioned",  # a party no article mentions
        "What did Russia demand in 2019?": "no_time",  # limited to a year before the articles were published
        "How much money will the reconstruction of Ukraine cost?": "no_passage",  # touched on, not answered
    }
    result = runner.invoke(app, [*data, "ask", "--json", "-"], input="\n".join(questions) + "\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [a["question"] for a in answers] == list(questions)
    stored = {p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    for a in answers:
        code = questions[a["question"]]
        assert a["abstained"] is True and a["quotes"] == [], a
        assert a["reason"]["code"] == code and a["reason"]["text"], a
        assert 1 <= len(a["nearest"]) <= 2, a
        for q in a["nearest"]:
            assert set(q) >= {"text", "title", "source", "url", "published", "also_reported_by"}
            assert any(q["text"] in text for text in stored)  # verbatim from a stored article
    assert "China" in answers[0]["reason"]["text"] and "2019" in answers[1]["reason"]["text"]
