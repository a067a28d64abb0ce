"""`parley serve console` through the real CLI in a subprocess: it answers, and leaves at end of input or /quit
(the digest scheduler beside it must not keep the process running)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stdin", ["/help\n", "/help\n/quit\nnever read\n"])
def test_serve_console_answers_and_leaves_at_end_of_input(tmp_path: Path, stdin: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "--data-dir", str(tmp_path), "serve", "auto"],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=REPO, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Serving on console." in done.stdout and "I only quote the indexed articles verbatim" in done.stdout  # /help answered
