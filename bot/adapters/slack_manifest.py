"""The Slack app manifest, generated from the command table: `python -m bot.adapters.slack_manifest [URL]`."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from bot import admin as _admin, commands as _commands, digests as _digests, feedback as _feedback  # noqa: F401  (fill COMMANDS)
from bot.commands import COMMANDS

BOT_SCOPES = ("app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history", "im:read",
              "im:write", "reactions:write")
# message.channels/groups: replies in Parley's threads, answered only where `/parley settings threads all` is set
BOT_EVENTS = ("app_mention", "message.channels", "message.groups", "message.im")
# Reachable as `/parley NAME` only: Slack has a built-in /status, and a bare /help is too generic to claim
# in a shared workspace. The app still answers them if a workspace adds them by hand.
NOT_SLASH = frozenset({"help", "status"})
PUBLIC_HINT = frozenset({"ask", "digest"})  # commands whose answer is worth posting with --public


def _usage_hint(name: str, usage: str) -> str:
    hint = re.sub(rf"(^|\| ){re.escape(name)}( |$)", r"\1", usage).strip()
    return (f"[--public] {hint}" if name in PUBLIC_HINT else hint).strip()


def slash_commands(request_url: str | None) -> list[dict[str, Any]]:
    """One manifest entry per command-table entry (except NOT_SLASH) plus `/parley`."""
    entries: list[dict[str, Any]] = []
    for cmd in COMMANDS.values():
        if cmd.name in NOT_SLASH or not cmd.slash:
            continue
        entry: dict[str, Any] = {"command": f"/{cmd.name}", "description": ("(admins) " if cmd.admin else "") + cmd.summary}
        if hint := _usage_hint(cmd.name, cmd.usage):
            entry["usage_hint"] = hint
        entries.append(entry)
    entries.append({
        "command": "/parley",
        "description": "Any Parley command: " + " | ".join(COMMANDS) + " (no word: help)",
        "usage_hint": "COMMAND [ARGUMENTS]",
    })
    if request_url:
        for entry in entries:
            entry["url"] = request_url
    return entries


def manifest(request_url: str | None = None) -> dict[str, Any]:
    """The whole app manifest: HTTP mode with `request_url` (".../slack/events"), Socket Mode without."""
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        events = {"request_url": request_url, **events}
        interactivity["request_url"] = request_url
    return {
        "display_information": {
            "name": "Parley",
            "description": "Quoted, cited answers about tracked negotiations from your news articles",
        },
        "features": {
            "bot_user": {"display_name": "Parley", "always_online": True},
            "slash_commands": slash_commands(request_url),
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Print the manifest as JSON (Slack accepts JSON or YAML manifests)."""
    args = sys.argv[1:] if argv is None else argv
    print(json.dumps(manifest(args[0] if args else None), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
