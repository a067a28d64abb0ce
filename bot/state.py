"""The bot's own SQLite state: digest subscriptions and what was sent, thread context, and the audit log."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    platform TEXT NOT NULL, channel TEXT NOT NULL, negotiation TEXT NOT NULL,
    at TEXT NOT NULL, tz TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (platform, channel, negotiation)
);
CREATE TABLE IF NOT EXISTS digests_sent (
    platform TEXT NOT NULL, channel TEXT NOT NULL, negotiation TEXT NOT NULL,
    window_end TEXT NOT NULL, sent_at TEXT NOT NULL,
    PRIMARY KEY (platform, channel, negotiation, window_end)
);
CREATE TABLE IF NOT EXISTS threads (
    platform TEXT NOT NULL, channel TEXT NOT NULL, thread TEXT NOT NULL,
    context TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (platform, channel, thread)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, platform TEXT NOT NULL,
    user TEXT NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL, result TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Subscription:
    platform: str
    channel: str
    negotiation: str
    at: str  # HH:MM local time
    tz: str  # IANA name, e.g. Europe/Berlin
    created_by: str


class BotState:
    """Thread-safe access to data/bot.sqlite3; every write is one transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)

    def _exec(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # subscriptions
    def subscribe(self, sub: Subscription) -> None:
        self._exec(
            "INSERT OR REPLACE INTO subscriptions VALUES (?,?,?,?,?,?,?)",
            (sub.platform, sub.channel, sub.negotiation, sub.at, sub.tz, sub.created_by, _now()),
        )

    def unsubscribe(self, platform: str, channel: str, negotiation: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM subscriptions WHERE platform=? AND channel=? AND negotiation=?", (platform, channel, negotiation)
            )
            return cur.rowcount > 0

    def subscriptions(self, platform: str | None = None, channel: str | None = None) -> list[Subscription]:
        rows = self._exec(
            "SELECT platform, channel, negotiation, at, tz, created_by FROM subscriptions "
            "WHERE (? IS NULL OR platform=?) AND (? IS NULL OR channel=?) ORDER BY platform, channel, negotiation",
            (platform, platform, channel, channel),
        )
        return [Subscription(*r) for r in rows]

    # digests sent: a window is posted at most once per channel
    def mark_sent(self, platform: str, channel: str, negotiation: str, window_end: datetime) -> bool:
        """Record a digest as sent; False if that window was already sent (then don't send it again)."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO digests_sent VALUES (?,?,?,?,?)",
                (platform, channel, negotiation, window_end.isoformat(), _now()),
            )
            return cur.rowcount > 0

    def last_sent(self, platform: str, channel: str, negotiation: str) -> datetime | None:
        rows = self._exec(
            "SELECT MAX(window_end) FROM digests_sent WHERE platform=? AND channel=? AND negotiation=?",
            (platform, channel, negotiation),
        )
        return datetime.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    # thread context for follow-ups
    def save_thread(self, platform: str, channel: str, thread: str, context: dict[str, Any], now: float) -> None:
        self._exec(
            "INSERT OR REPLACE INTO threads VALUES (?,?,?,?,?)", (platform, channel, thread, json.dumps(context), now)
        )

    def thread(self, platform: str, channel: str, thread: str, now: float, ttl: float) -> dict[str, Any] | None:
        rows = self._exec(
            "SELECT context, updated_at FROM threads WHERE platform=? AND channel=? AND thread=?", (platform, channel, thread)
        )
        if not rows or now - rows[0][1] > ttl:
            return None
        return dict(json.loads(rows[0][0]))

    # audit log
    def audit(self, platform: str, user: str, action: str, args: str, result: str) -> None:
        self._exec(
            "INSERT INTO audit (at, platform, user, action, args, result) VALUES (?,?,?,?,?,?)",
            (_now(), platform, user, action, args, result),
        )

    def audit_log(self, limit: int = 50) -> list[dict[str, str]]:
        rows = self._exec("SELECT at, platform, user, action, args, result FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        keys = ("at", "platform", "user", "action", "args", "result")
        return [dict(zip(keys, r)) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
