"""Answer buttons and feedback: "More quotes", "Post to channel", 👍/👎 per quote, per-channel settings, and
the export of votes as an evaluation file.

Buttons carry `command args` (see `Button`), so a press is an ordinary Event for the command table: the same
handlers serve Slack block actions, Discord components and the console (`/more`, `/vote 2 down outdated`).
Answers are stored when shown (bot.state `answers`), so pages and votes refer to exactly what was shown.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from bot.commands import command
from bot.events import Button, Event, Reply
from bot.state import ChannelSettings, Vote
from bot.view import votable
from index.types import Answer

if TYPE_CHECKING:
    from bot.core import Bot

VOTE_REASONS = {
    "wrong_party": "Wrong party",
    "outdated": "Outdated",
    "not_an_answer": "Not an answer",
    "bad_link": "Bad link",
    "duplicate": "Duplicate",
}
EXPIRED = "That answer is no longer stored (answers are kept for a limited time). Please ask again."
_ID = re.compile(r"^[0-9a-f]{12}$")


def _stored(bot: Bot, event: Event, words: list[str]) -> tuple[str, Answer] | None:
    """The answer a button names by id, or (typed, without an id) the user's latest answer in this channel."""
    if words and _ID.match(words[0]):
        answer_id = words.pop(0)
        found = bot.state.answer(answer_id)
    else:
        latest = bot.state.last_answer(event.platform, event.channel, event.user)
        if latest is None:
            return None
        answer_id, found = latest
    if found is None:
        return None
    return answer_id, Answer.from_record(found[3])


def _page(words: list[str], default: int) -> int:
    return int(words[0]) if words and words[0].isdigit() else default


def _shown(bot: Bot, event: Event, default_page: int, **extra: Any) -> Reply:
    """A stored answer shown again: page PAGE of it (the text's optional number, else `default_page`)."""
    words = event.text.split()
    found = _stored(bot, event, words)
    if found is None:
        return Reply.notice(EXPIRED, ephemeral=True)
    answer_id, answer = found
    if extra.pop("echo_question", False):
        extra["meta"] = {"question": answer.question}
    feedback = bot.state.channel_settings(event.platform, event.channel).feedback
    return Reply(kind="answer", answer=answer, answer_id=answer_id, page=_page(words, default_page), top=bot.settings.top,
                 feedback=feedback, **extra)


@command("more", "Show further quotes for an answer (the More quotes button).", "more [PAGE]", slash=False)
async def more(bot: Bot, event: Event) -> Reply:
    return _shown(bot, event, 1, replace=True, ephemeral=True)


@command("post", "Post an answer only you can see to the channel (the Post to channel button).", "post [PAGE]", slash=False)
async def post(bot: Bot, event: Event) -> Reply:
    return _shown(bot, event, 0, echo_question=True)


@command("vote", "Rate a quote: vote N up|down [REASON] (the 👍/👎 buttons).", "vote N up|down [" + "|".join(VOTE_REASONS) + "]", slash=False)
async def vote(bot: Bot, event: Event) -> Reply:
    words = event.text.split()
    found = _stored(bot, event, words)
    if found is None:
        return Reply.notice(EXPIRED, ephemeral=True)
    answer_id, answer = found
    quotes = votable(answer)
    usage = f"Usage: `vote N up|down [REASON]` with N from 1 to {len(quotes)}; reasons: {', '.join(VOTE_REASONS)}."
    if len(words) < 2 or not words[0].isdigit() or not 1 <= int(words[0]) <= len(quotes) or words[1] not in {"up", "down"}:
        return Reply.notice("I couldn't read that vote.", usage, ephemeral=True)
    n, direction = int(words[0]), words[1]
    reason = words[2] if len(words) > 2 and direction == "down" else ""
    if reason and reason not in VOTE_REASONS:
        return Reply.notice(f"Unknown reason `{reason}`.", usage, ephemeral=True)
    settings = bot.state.channel_settings(event.platform, event.channel)
    q = quotes[n - 1]
    bot.state.vote(Vote(answer_id, n, _voter(event, answer_id, settings), direction, reason, answer.question, q.article_id,
                        q.start, q.end, q.text, event.platform, event.channel, bot.now().isoformat(timespec="seconds")))
    if direction == "up":
        return Reply.notice(f"Thanks! Recorded 👍 for quote {n}.", ephemeral=True)
    if reason:
        return Reply.notice(f"Thanks! Recorded 👎 for quote {n}: {VOTE_REASONS[reason].lower()}.", ephemeral=True, replace=True)
    reasons = tuple(Button(label, "vote", f"{answer_id} {n} down {key}") for key, label in VOTE_REASONS.items())
    return Reply(kind="text", title=f"Thanks! Recorded 👎 for quote {n}. What was wrong with it?", buttons=reasons, ephemeral=True)


def _voter(event: Event, answer_id: str, settings: ChannelSettings) -> str:
    """Who voted; in an anonymous channel an opaque token that only tells one voter's votes on one answer apart."""
    if not settings.anonymous:
        return event.user
    return "anon-" + hashlib.sha256(f"{event.platform}:{event.user}:{answer_id}".encode()).hexdigest()[:12]


@command("settings", "Channel settings: feedback on|off, votes named|anonymous, threads mentions|all.", "settings [KEY VALUE]", admin=True)
async def settings(bot: Bot, event: Event) -> Reply:
    words = event.text.lower().split()
    if words:
        key, value = (words + [""])[:2]
        allowed = ChannelSettings.KEYS.get(key)
        if allowed is None or value not in allowed:
            options = "; ".join(f"{k} {'|'.join(v)}" for k, v in ChannelSettings.KEYS.items())
            return Reply.notice(f"Unknown setting `{event.text.strip()}`.", f"Usage: `settings KEY VALUE` with {options}.", ephemeral=True)
        bot.state.set_channel_setting(event.platform, event.channel, key, value)
        bot.state.audit(event.platform, event.user, "settings", f"{key} {value}", "ok")
    current = bot.state.channel_settings(event.platform, event.channel)
    return Reply.notice("Settings for this channel:", *current.describe(), ephemeral=True)


def export_qa(votes: list[Vote]) -> tuple[list[dict[str, Any]], int]:
    """Votes as eval items: one per question with a 👍'd quote (evidence: quotes with more 👍 than 👎;
    negatives: quotes with more 👎, with reasons). Returns (items, questions left out for lack of a 👍)."""
    by_question: dict[str, dict[tuple[str, int, int], list[Vote]]] = {}
    for v in votes:
        by_question.setdefault(v.question, {}).setdefault((v.article_id, v.start, v.end), []).append(v)
    items: list[dict[str, Any]] = []
    skipped = 0
    for n, (question, passages) in enumerate(by_question.items(), 1):
        evidence, negatives = [], []
        for group in passages.values():
            score = sum(1 if v.vote == "up" else -1 for v in group)
            if score > 0:
                evidence.append(group[0].text)
            elif score < 0:
                reasons = sorted({v.reason for v in group if v.reason})
                negatives.append({"text": group[0].text, "article_id": group[0].article_id, "reasons": reasons})
        if not evidence:
            skipped += 1
            continue
        items.append({"id": f"feedback-{n}", "question": question, "answerable": True, "evidence": evidence, "negatives": negatives})
    return items, skipped
