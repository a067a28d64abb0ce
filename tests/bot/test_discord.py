"""The real discord.py client against a local fake gateway and REST API: READY, /ask, mentions, limits, mentions inert."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import ParleyClient
from bot.adapters.discord_render import render
from bot.core import Bot
from bot.events import Reply
from index.types import Answer, Quote
from tests.fakes.discord_gateway import ADMIN_ROLE, APP_ID, BOT_USER, CHANNEL_ID, GUILD_ID, USER, FakeDiscord
from tests.helpers import DEMO, FAULTS, build_bot, inject_fault

SETTINGS = {"rate_limit": {"per_user": 0, "per_channel": 0}, "admins": {"discord": [str(ADMIN_ROLE)]}, "workers": 4}
EVIL = """---
title: Talks @everyone update
source: Evil Wire
url: https://example.org/evil
published: 2026-11-20T10:00:00Z
---
The mediator said that @everyone and <@123> should read [this](http://evil.example) before Friday's ceasefire vote.
"""


class Harness:
    def __init__(self, fake: FakeDiscord, bot: Bot, client: ParleyClient):
        self.fake, self.bot, self.client = fake, bot, client


async def start(tmp_path: Path, heartbeat_ms: int = 45000) -> tuple[FakeDiscord, Bot, ParleyClient, Any, asyncio.Task[None]]:
    (tmp_path / "extra").mkdir(exist_ok=True)
    (tmp_path / "extra" / "evil.md").write_text(EVIL)
    fake = FakeDiscord(heartbeat_ms)
    await fake.start()
    old = fake.patch_library()
    bot = build_bot(tmp_path, paths=[DEMO, tmp_path / "extra"], bot=SETTINGS)
    client = ParleyClient(bot, guild_id=GUILD_ID, guild_ready_timeout=0.1)
    task = asyncio.create_task(client.start("test-token"))
    await asyncio.wait_for(client.wait_until_ready(), 15)
    return fake, bot, client, old, task


@pytest.fixture
async def discord_env(tmp_path: Path) -> AsyncIterator[Harness]:
    fake, bot, client, old, task = await start(tmp_path)
    yield Harness(fake, bot, client)
    await client.close()
    task.cancel()
    await fake.stop()
    FakeDiscord.restore(old)
    bot.close()


def description(payload: dict[str, Any]) -> str:
    return "\n".join(e.get("description") or "" for e in payload.get("embeds", []))


async def test_ready_and_commands_synced(discord_env: Harness) -> None:
    assert discord_env.fake.identify is not None
    assert discord_env.fake.identify["intents"] & (1 << 15)  # MESSAGE_CONTENT
    (synced,) = await discord_env.fake.wait_for(f"PUT /applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    names = sorted(c["name"] for c in synced["_list"]) if "_list" in synced else []
    assert {"ask", "help", "status", "digest", "reindex", "ingest", "sources"} <= set(names)


async def test_ask_interaction_defers_then_follows_up(discord_env: Harness) -> None:
    iid, token = await discord_env.fake.interaction("ask", {"question": "What did the Kremlin demand?"})
    (callback,) = await discord_env.fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert callback["type"] == 5
    (follow,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert follow["allowed_mentions"] == {"parse": []}
    assert "> The Kremlin demanded that Western sanctions" in description(follow)
    assert "[Open article](https://example.org/demo/geneva-round-opens)" in description(follow)
    assert follow["embeds"][0]["title"].startswith("From the indexed articles")
    assert follow["embeds"][-1]["footer"]["text"].startswith("Searched 5 articles")


async def test_mention_gets_a_reply_without_pings(discord_env: Harness) -> None:
    mid = await discord_env.fake.message(f"<@{BOT_USER['id']}> what did Kyiv insist on?")
    posts = await discord_env.fake.wait_for("POST /channels/")
    reply = posts[0]
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert str(reply["message_reference"]["message_id"]) == mid
    assert "Kyiv insisted" in description(reply)
    await discord_env.fake.wait_for("DELETE /channels/")  # the 👀 acknowledgement is removed


async def test_own_messages_ignored(discord_env: Harness) -> None:
    await discord_env.fake.message("From the indexed articles", author=BOT_USER, mention_bot=False)
    await discord_env.fake.message(f"<@{BOT_USER['id']}> hello from a bot", author={**USER, "id": "42", "bot": True})
    await asyncio.sleep(0.5)
    assert not [k for k in discord_env.fake.requests if k.startswith("POST /channels/")]


async def test_article_text_inert(discord_env: Harness) -> None:
    iid, token = await discord_env.fake.interaction("ask", {"question": "What did the mediator say about the ceasefire vote?"})
    (follow,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    text = description(follow) + follow["embeds"][0]["title"]
    assert "@\u200beveryone" in text and "@everyone" not in text.replace("@\u200beveryone", "")
    assert "](http://evil" not in text
    assert follow["allowed_mentions"] == {"parse": []}


async def test_admin_command_refused_for_non_admin_and_allowed_by_role(discord_env: Harness) -> None:
    iid, token = await discord_env.fake.interaction("sources", {})
    (follow,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert "admins only" in follow["embeds"][0]["title"] and follow["flags"] & 64
    iid, token = await discord_env.fake.interaction("sources", {}, roles=(ADMIN_ROLE,))
    (follow,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert "Parley Demo Wire" in description(follow)


async def test_heartbeat_keeps_schedule_while_answering(tmp_path: Path) -> None:
    fake, bot, client, old, task = await start(tmp_path, heartbeat_ms=200)
    try:
        await asyncio.sleep(0.5)
        tokens = [(await fake.interaction("ask", {"question": q}))[1] for q in ["What did the Kremlin demand?", "What did Kyiv insist on?"] * 10]
        for token in tokens:
            await fake.wait_for(f"POST /webhooks/{APP_ID}/{token}", timeout=60)
        await asyncio.sleep(0.5)
        beats = fake.heartbeats
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        assert len(beats) >= 5 and max(gaps) < 0.2 * 3, gaps
    finally:
        await client.close()
        task.cancel()
        await fake.stop()
        FakeDiscord.restore(old)
        bot.close()


def test_render_respects_limits() -> None:
    q = Quote("x" * 3000, "a", "T" * 300, "S", "https://e.org/a", None, 1.0)
    kw = render(Reply(kind="answer", answer=Answer("q", (q,) * 10, False, freshness="f" * 3000)))
    embeds = [e.to_dict() for e in kw["embeds"]]
    assert len(embeds) <= 10
    assert all(len(e.get("description") or "") <= 4096 for e in embeds)
    assert sum(len(e) for e in kw["embeds"]) <= 6000
    assert len(embeds[0]["title"]) <= 256
    assert "not shown" in embeds[-1]["description"]
    assert kw["allowed_mentions"].to_dict() == {"parse": []}


async def test_digest_subscription_posts_through_discord(discord_env: Harness) -> None:
    from datetime import datetime, timezone

    from bot.wiring import digest_scheduler
    from tests.fakes.discord_gateway import CHANNEL_ID

    iid, token = await discord_env.fake.interaction("digest", {"text": "subscribe russia-ukraine 09:00 UTC"})
    (ok,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert ok["embeds"][0]["title"].startswith("Subscribed")
    sched = digest_scheduler(discord_env.bot, ["discord"], clock=lambda: datetime(2026, 11, 19, 9, 0, tzinfo=timezone.utc))
    assert await sched.tick() == 1
    (post,) = await discord_env.fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages")
    assert post["allowed_mentions"] == {"parse": []}
    assert post["embeds"][0]["title"].startswith("Russia–Ukraine peace talks: digest 18 Nov 2026 09:00")
    assert "__**Russia: Demands**__" in description(post)


async def test_chroma_down_gets_visible_followup(discord_env: Harness) -> None:
    from index.vectors import VectorStore, make_client_factory
    from tests.chroma_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    discord_env.bot.engine.vectors = VectorStore(make_client_factory(url, Path("/nonexistent")), url)  # type: ignore[attr-defined]
    iid, token = await discord_env.fake.interaction("ask", {"question": "What did the Kremlin demand?"})
    (follow,) = await discord_env.fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert "unreachable" in follow["embeds"][0]["title"]
    assert follow["embeds"][-1]["footer"]["text"].startswith("Reference: ")


def custom_ids(payload: dict[str, Any]) -> dict[str, str]:
    """Button label -> custom_id of a message payload's components."""
    return {c["label"]: c["custom_id"] for row in payload.get("components", []) for c in row["components"]}


async def test_buttons_more_post_and_votes_round_trip(discord_env: Harness) -> None:
    fake = discord_env.fake
    iid, token = await fake.interaction("ask", {"question": "What did Moscow and Kyiv demand at the talks?"})
    (callback,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert callback["type"] == 5 and callback["data"]["flags"] & 64  # /ask answers only the asker unless public
    (follow,) = await fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")
    assert follow["flags"] & 64 and description(follow).startswith("Question: What did Moscow and Kyiv demand at the talks?")
    ids = custom_ids(follow)
    assert {"👍 1", "👎 1", "More quotes", "Post to channel"} <= set(ids) and all(len(i) <= 100 for i in ids.values())
    n_quotes = len(re.findall(r"^\*\*\d+\.\*\*$", description(follow), re.M))

    iid, token = await fake.component(ids["More quotes"], ephemeral=True)
    (page,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert page["type"] == 7  # the message is updated in place
    assert page["data"]["embeds"][0]["title"].startswith(f"More from the indexed articles (quotes {n_quotes + 1}–")
    assert page["data"]["allowed_mentions"] == {"parse": []}

    iid, token = await fake.component(ids["Post to channel"], ephemeral=True)
    (posted,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert posted["type"] == 4 and not posted["data"].get("flags", 0) & 64
    assert "Question: What did Moscow and Kyiv demand at the talks?" in posted["data"]["embeds"][0]["description"]
    assert "Post to channel" not in custom_ids(posted["data"])

    iid, token = await fake.component(ids["👍 1"])
    (up,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert up["type"] == 4 and up["data"]["flags"] & 64 and up["data"]["embeds"][0]["title"] == "Thanks! Recorded 👍 for quote 1."
    other = {**USER, "id": "900000000000000011", "username": "bob"}
    iid, token = await fake.component(ids["👎 1"], user=other)
    (down,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    reasons = custom_ids(down["data"])
    assert list(reasons) == ["Wrong party", "Outdated", "Not an answer", "Bad link", "Duplicate"]
    iid, token = await fake.component(reasons["Wrong party"], ephemeral=True, user=other)
    (chosen,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert chosen["type"] == 7 and "wrong party" in chosen["data"]["embeds"][0]["title"]
    votes = {v.voter: (v.vote, v.reason, v.platform, v.quote) for v in discord_env.bot.state.votes()}
    assert votes == {USER["id"]: ("up", "", "discord", 1), other["id"]: ("down", "wrong_party", "discord", 1)}


@pytest.mark.parametrize("fault", FAULTS)
async def test_every_fault_ends_in_a_visible_reply_and_a_resolved_acknowledgement(discord_env: Harness, fault: str, tmp_path: Path) -> None:
    fake = discord_env.fake
    question, expected = inject_fault(discord_env.bot, fault, tmp_path)
    iid, token = await fake.interaction("ask", {"question": question})
    (callback,) = await fake.wait_for(f"POST /interactions/{iid}/{token}/callback")
    assert callback["type"] == 5  # "Parley is thinking…" at once
    (follow,) = await fake.wait_for(f"POST /webhooks/{APP_ID}/{token}")  # the thinking state is resolved by the follow-up
    text = follow["embeds"][0]["title"] + "\n" + description(follow)
    assert expected in text and follow["allowed_mentions"] == {"parse": []}
    assert len(follow["embeds"]) <= 10 and sum(len(e.get("description") or "") + len(e.get("title") or "") for e in follow["embeds"]) <= 6000
    assert all(len(e.get("description") or "") <= 4096 for e in follow["embeds"])
    mid = await fake.message(f"<@{BOT_USER['id']}> {question}")
    (reply,) = await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages")
    assert expected in reply["embeds"][0]["title"] + "\n" + description(reply)
    await fake.wait_for(f"DELETE /channels/{CHANNEL_ID}/messages/{mid}/reactions/")  # 👀 removed


async def test_a_reply_to_an_answer_is_a_follow_up(discord_env: Harness) -> None:
    fake = discord_env.fake
    await fake.message(f"<@{BOT_USER['id']}> What did the Kremlin demand?")
    (first,) = await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages")
    answer_id = first["_id"]
    await fake.message(f"<@{BOT_USER['id']}> and Ukraine?", reply_to=answer_id)  # Discord's reply to Parley's answer
    second = (await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages", 2))[1]
    assert "Understood as:" in description(second) and "Ukraine" in description(second)
    await fake.message(f"<@{BOT_USER['id']}> and Ukraine?")  # not a reply: a question of its own
    third = (await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages", 3))[2]
    assert "Understood as:" not in description(third)


async def test_a_reply_without_the_ping_is_answered_only_with_threads_all(discord_env: Harness) -> None:
    fake = discord_env.fake
    await fake.message(f"<@{BOT_USER['id']}> What did the Kremlin demand?")
    (first,) = await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages")
    other = await fake.message("an unrelated remark", mention_bot=False)
    await fake.message("and Ukraine?", mention_bot=False, reply_to=first["_id"])  # reply ping turned off
    await asyncio.sleep(0.5)
    posted = lambda: [b for k, bs in fake.requests.items() if k.startswith(f"POST /channels/{CHANNEL_ID}/messages") for b in bs]  # noqa: E731
    assert len(posted()) == 1  # default: left alone
    discord_env.bot.state.set_channel_setting("discord", str(CHANNEL_ID), "threads", "all")
    await fake.message("and Ukraine?", mention_bot=False, reply_to=other)  # a reply to someone else: still not ours
    await fake.message("and Ukraine?", mention_bot=False, reply_to=first["_id"])
    second = (await fake.wait_for(f"POST /channels/{CHANNEL_ID}/messages", 2))[1]
    assert "Understood as:" in description(second) and "Ukraine" in description(second)
    await asyncio.sleep(0.5)
    assert len(posted()) == 2


def test_messages_in_a_discord_thread_belong_to_that_thread() -> None:
    from bot.adapters.discord_render import translate_message

    common = dict(author_id=1, channel_id=77, bot_user_id=9, is_bot=False, is_dm=False, message_id=5)
    asked = translate_message("<@9> What did Kyiv insist on?", mentioned=True, in_thread=True, **common)  # type: ignore[arg-type]
    aside = translate_message("and Russia?", mentioned=False, in_thread=True, **common)  # type: ignore[arg-type]
    assert asked is not None and asked.thread == "77" and asked.addressed and asked.text == "What did Kyiv insist on?"
    assert aside is not None and aside.thread == "77" and not aside.addressed  # answered only with `settings threads all`
    assert translate_message("and Russia?", mentioned=False, in_thread=False, **common) is None  # type: ignore[arg-type]
