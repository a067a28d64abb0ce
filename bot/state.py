"""The bot's own SQLite state: digest subscriptions and what was sent, thread context, answers shown (for
"More quotes", "Post to channel" and votes), per-quote votes, per-channel settings, and the audit log."""

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
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, platform TEXT NOT NULL, channel TEXT NOT NULL, user TEXT NOT NULL,
    question TEXT NOT NULL, record TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL, quote INTEGER NOT NULL, voter TEXT NOT NULL, vote TEXT NOT NULL, reason TEXT NOT NULL,
    question TEXT NOT NULL, article_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    platform TEXT NOT NULL, channel TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (answer_id, quote, voter)
);
CREATE TABLE IF NOT EXISTS channel_settings (
    platform TEXT NOT NULL, channel TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (platform, channel, key)
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


@dataclass(frozen=True)
class Vote:
    answer_id: str
    quote: int  # 1-based number of the quote in the stored answer (quotes, then "more")
    voter: str  # user id, or an opaque per-answer token when the channel makes votes anonymous
    vote: str  # "up" or "down"
    reason: str  # for "down": one of VOTE_REASONS, or "" until the voter picks one
    question: str
    article_id: str
    start: int
    end: int
    text: str
    platform: str
    channel: str
    at: str


@dataclass(frozen=True)
class ChannelSettings:
    """Per-channel choices, set with the `settings` command."""

    feedback: bool = True  # show 👍/👎 under each quote
    anonymous: bool = False  # store votes without who voted
    threads: str = "mentions"  # "mentions": only answer replies addressed to Parley; "all": every reply in its threads

    KEYS = {"feedback": ("on", "off"), "votes": ("named", "anonymous"), "threads": ("mentions", "all")}

    def describe(self) -> list[str]:
        return [
            f"feedback: {'on' if self.feedback else 'off'} (👍/👎 under each quote)",
            f"votes: {'anonymous' if self.anonymous else 'named'}",
            f"threads: {self.threads} (which replies in Parley's threads are answered)",
        ]


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

    # answers shown, for paging, re-posting and votes
    def save_answer(self, answer_id: str, platform: str, channel: str, user: str, question: str, record: dict[str, Any], now: float) -> None:
        self._exec(
            "INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?)",
            (answer_id, platform, channel, user, question, json.dumps(record), now),
        )

    def answer(self, answer_id: str) -> tuple[str, str, str, dict[str, Any]] | None:
        """(platform, channel, user, record) of a stored answer, or None."""
        rows = self._exec("SELECT platform, channel, user, record FROM answers WHERE id=?", (answer_id,))
        if not rows:
            return None
        platform, channel, user, record = rows[0]
        return platform, channel, user, dict(json.loads(record))

    def last_answer(self, platform: str, channel: str, user: str) -> tuple[str, tuple[str, str, str, dict[str, Any]]] | None:
        """The newest stored answer to `user` in `channel` (for typed `more`, `post` and `vote`)."""
        rows = self._exec(
            "SELECT id FROM answers WHERE platform=? AND channel=? AND user=? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (platform, channel, user),
        )
        found = self.answer(rows[0][0]) if rows else None
        return (rows[0][0], found) if found else None

    def prune_answers(self, older_than: float) -> int:
        """Forget answers (not votes) created before `older_than`; their buttons then say the answer expired."""
        with self._lock:
            return self._db.execute("DELETE FROM answers WHERE created_at < ?", (older_than,)).rowcount

    # votes
    def vote(self, v: Vote) -> None:
        """Record or change one voter's vote on one quote."""
        self._exec("INSERT OR REPLACE INTO votes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", tuple(v.__dict__.values()))

    def votes(self) -> list[Vote]:
        rows = self._exec("SELECT * FROM votes ORDER BY at, answer_id, quote")
        return [Vote(*r) for r in rows]

    # per-channel settings
    def channel_settings(self, platform: str, channel: str) -> ChannelSettings:
        rows = dict(self._exec("SELECT key, value FROM channel_settings WHERE platform=? AND channel=?", (platform, channel)))
        return ChannelSettings(
            feedback=rows.get("feedback", "on") == "on",
            anonymous=rows.get("votes", "named") == "anonymous",
            threads=rows.get("threads", "mentions"),
        )

    def set_channel_setting(self, platform: str, channel: str, key: str, value: str) -> None:
        if value not in ChannelSettings.KEYS.get(key, ()):
            raise ValueError(f"{key}={value}")
        self._exec("INSERT OR REPLACE INTO channel_settings VALUES (?,?,?,?)", (platform, channel, key, value))

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
