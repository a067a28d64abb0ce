"""The core stays platform-neutral, and the Slack manifest in the docs is the one generated from the command table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.adapters.slack_manifest import BOT_EVENTS, BOT_SCOPES, NOT_SLASH, manifest
from bot.core import COMMANDS

REPO = Path(__file__).resolve().parents[2]
PLATFORM_PACKAGES = {"slack_bolt", "slack_sdk", "discord"}
ENTRY_POINTS = {"cli.py", "wiring.py", "__main__.py"}  # these may wire adapters in; nothing they import is core


def neutral_modules() -> list[Path]:
    core = [p for p in sorted((REPO / "bot").glob("*.py")) if p.name not in ENTRY_POINTS]
    return core + sorted((REPO / "index").rglob("*.py")) + sorted((REPO / "corpus").rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """Top-level package names imported anywhere in the module (including inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
            if node.module == "bot":
                found |= {f"bot.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:  # relative: `from .adapters.slack import x`
            found.add(node.module)
    return found


def test_core_index_and_corpus_never_import_a_platform_library() -> None:
    modules = neutral_modules()
    names = {p.relative_to(REPO).as_posix() for p in modules}
    assert {"bot/core.py", "bot/commands.py", "bot/events.py", "bot/view.py", "index/engine.py", "corpus/store.py"} <= names
    offenders = {
        p.relative_to(REPO).as_posix(): sorted(hits)
        for p in modules
        if (hits := {name for name in imported_packages(p) if name in PLATFORM_PACKAGES or name.startswith(("bot.adapters", "adapters"))})
    }
    assert offenders == {}


def test_the_import_check_sees_nested_and_dotted_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\ndef f():\n    from slack_sdk.web.async_client import AsyncWebClient\n    import discord.ext.commands\n")
    assert imported_packages(probe) == {"os", "slack_sdk", "discord"}


def test_docs_manifest_is_the_generated_one() -> None:
    yaml = pytest.importorskip("yaml")
    doc = (REPO / "docs" / "slack.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block is not None
    assert yaml.safe_load(block.group(1)) == manifest("https://parley.example.org/slack/events")


def test_manifest_covers_the_command_table() -> None:
    http = manifest("https://h.example/slack/events")
    commands = {c["command"] for c in http["features"]["slash_commands"]}
    assert commands == {f"/{n}" for n, c in COMMANDS.items() if n not in NOT_SLASH and c.slash} | {"/parley"}
    assert not {"/more", "/post", "/vote"} & commands  # button commands: too generic to claim as slash commands
    assert all(c["url"] == "https://h.example/slack/events" for c in http["features"]["slash_commands"])
    assert http["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert http["settings"]["event_subscriptions"] == {"request_url": "https://h.example/slack/events", "bot_events": list(BOT_EVENTS)}
    assert http["settings"]["socket_mode_enabled"] is False
    socket = manifest()
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in repr(socket["features"]["slash_commands"]) and "request_url" not in repr(socket["settings"])
    assert all(len(c["description"]) <= 2000 and len(c.get("usage_hint", "")) <= 1000 for c in http["features"]["slash_commands"])
