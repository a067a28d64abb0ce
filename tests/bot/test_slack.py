"""The real slack-bolt AsyncApp, driven by signed HTTP requests and a Socket Mode websocket, against a fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import build_app
from bot.core import Bot
from tests.fakes.slack_api import FakeSlack
from tests.helpers import DEMO, build_bot

SECRET = "test-signing-secret"
SETTINGS = {"rate_limit": {"per_user": 0, "per_channel": 0}, "admins": {"slack": ["UADMIN"]}, "workers": 4}
EVIL = """---
title: Talks <!channel> update
source: Evil Wire
url: https://example.org/evil
published: 2026-11-20T10:00:00Z
---
The mediator said that <!channel> and @everyone and <@U123> should read [this](http://evil.example) before Friday's ceasefire vote.
"""


class Harness:
    def __init__(self, fake: FakeSlack, bot: Bot, url: str, app: Any):
        self.fake, self.bot, self.url, self.app = fake, bot, url, app

    async def post(self, body: str, content_type: str, ts: int | None = None, secret: str = SECRET, headers: dict[str, str] | None = None) -> tuple[int, str]:
        stamp = str(int(time.time()) if ts is None else ts)
        sig = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        hdrs = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sig, **(headers or {})}
        async with aiohttp.ClientSession() as s:
            async with s.post(self.url, data=body.encode(), headers=hdrs) as r:
                return r.status, await r.text()

    async def command(self, command: str, text: str, user: str = "U1", **kw: Any) -> tuple[int, str]:
        body = urlencode({"command": command, "text": text, "user_id": user, "channel_id": "C111", "team_id": "T1",
                          "response_url": self.fake.response_url, "trigger_id": "1.2.3", "user_name": "u", "channel_name": "general", "api_app_id": "A1", "token": "x"})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict[str, Any], event_id: str = "Ev1", **kw: Any) -> tuple[int, str]:
        body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id, "event_time": int(time.time()),
                           "event": event, "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]})
        return await self.post(body, "application/json", **kw)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "evil.md").write_text(EVIL)
    fake = FakeSlack()
    await fake.start()
    bot = build_bot(tmp_path, paths=[DEMO, tmp_path / "extra"], bot=SETTINGS)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    app = build_app(bot, client, SECRET)
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Harness(fake, bot, f"http://127.0.0.1:{port}/slack/events", app)
    await runner.cleanup()
    await fake.stop()
    bot.close()


def texts(payload: dict[str, Any]) -> list[str]:
    out = []
    for b in payload["blocks"]:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return out


async def test_slash_ask_answers_ephemerally_via_response_url(slack: Harness) -> None:
    status, body = await slack.command("/ask", "What did the Kremlin demand?")
    assert status == 200 and "Searching" in body
    (payload,) = await slack.fake.wait_for("response_url")
    assert payload["response_type"] == "ephemeral" and payload["replace_original"] is True
    lines = texts(payload)
    assert lines[0] == "Question: What did the Kremlin demand?"
    assert any(t.startswith("*1.* > The Kremlin demanded that Western sanctions") for t in lines)
    assert any("<https://example.org/demo/geneva-round-opens|Open article>" in t and "Parley Demo Wire" in t for t in lines)
    assert payload["text"].startswith("From the indexed articles")
    assert lines[-1].startswith("Searched 5 articles")


async def test_slash_ask_public_posts_in_channel(slack: Harness) -> None:
    await slack.command("/ask", "--public What did Kyiv insist on?")
    (payload,) = await slack.fake.wait_for("response_url")
    assert payload["response_type"] == "in_channel"
    assert not texts(payload)[0].startswith("Question:")


async def test_mention_answered_in_thread_with_acknowledgement(slack: Harness) -> None:
    ev = {"type": "app_mention", "user": "U1", "text": "<@UBOT> what did the Kremlin demand?", "ts": "1700000000.000100", "channel": "C111", "event_ts": "1700000000.000100"}
    status, _ = await slack.event(ev)
    assert status == 200
    (post,) = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == "C111" and post["thread_ts"] == "1700000000.000100"
    assert post["_auth"] == "Bearer xoxb-test"
    assert any("The Kremlin demanded" in t for t in texts(post))
    await slack.fake.wait_for("reactions.remove")
    assert slack.fake.calls["reactions.add"][0]["name"] == "eyes"


async def test_bad_signature_and_stale_timestamp_refused(slack: Harness) -> None:
    assert (await slack.command("/ask", "x", secret="wrong"))[0] == 401
    assert (await slack.command("/ask", "x", ts=int(time.time()) - 600))[0] == 401
    await asyncio.sleep(0.3)
    assert slack.fake.calls["response_url"] == []


async def test_retried_event_answered_once(slack: Harness) -> None:
    ev = {"type": "app_mention", "user": "U1", "text": "<@UBOT> what did Kyiv insist on?", "ts": "1700000001.000100", "channel": "C111"}
    await slack.event(ev, "Ev2")
    status, _ = await slack.event(ev, "Ev2", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    await slack.fake.wait_for("chat.postMessage")
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls["chat.postMessage"]) == 1


async def test_own_messages_ignored(slack: Harness) -> None:
    ev = {"type": "message", "channel_type": "im", "user": "UBOT", "bot_id": "BBOT", "text": "From the indexed articles", "ts": "1.2", "channel": "D1"}
    await slack.event(ev, "Ev3")
    await asyncio.sleep(0.5)
    assert slack.fake.calls["chat.postMessage"] == []


async def test_article_text_cannot_ping_or_inject_links(slack: Harness) -> None:
    await slack.command("/ask", "What did the mediator say about the ceasefire vote?")
    (payload,) = await slack.fake.wait_for("response_url")
    blob = "\n".join(texts(payload)) + payload["text"]
    assert "&lt;!channel&gt;" in blob and "&lt;@U123&gt;" in blob
    assert "<!channel>" not in blob and "<@U123>" not in blob and "<http://evil" not in blob


async def test_non_admin_reindex_refused(slack: Harness) -> None:
    await slack.command("/reindex", "", user="UNOBODY")
    (payload,) = await slack.fake.wait_for("response_url")
    assert "admins only" in texts(payload)[0]
    assert slack.bot.state.audit_log()[0]["result"] == "refused: not an admin"


async def test_fifty_concurrent_questions_each_answered_once(slack: Harness) -> None:
    qs = ["What did the Kremlin demand?", "What did Kyiv insist on?", "What did the United States propose?"]
    start = time.perf_counter()
    results = await asyncio.gather(*(slack.command("/ask", qs[i % 3], user=f"U{i}") for i in range(50)))
    assert all(status == 200 for status, _ in results)
    payloads = await slack.fake.wait_for("response_url", 50, timeout=60)
    await asyncio.sleep(0.3)
    assert len(payloads) == 50
    assert all(p["text"].startswith("From the indexed articles") for p in payloads)
    assert time.perf_counter() - start < 60


async def test_socket_mode_envelope(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    bot = build_bot(tmp_path, bot=SETTINGS)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    app = build_app(bot, client, None)
    handler = AsyncSocketModeHandler(app, "xapp-test")
    await handler.connect_async()
    try:
        await fake.send_envelope({
            "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"command": "/ask", "text": "What did the Kremlin demand?", "user_id": "U1", "channel_id": "C111",
                        "team_id": "T1", "response_url": fake.response_url, "trigger_id": "1.2.3", "api_app_id": "A1"},
        })
        (payload,) = await fake.wait_for("response_url")
        assert any("The Kremlin demanded" in t for t in texts(payload))
        assert fake.calls["apps.connections.open"][0]["_auth"] == "Bearer xapp-test"
        ack = next(a for a in fake.ws_acks if a.get("envelope_id") == "env-1")
        assert ack["payload"]["text"] == "Searching…"
    finally:
        await handler.close_async()
        await fake.stop()
        bot.close()


async def test_digest_subscription_posts_through_slack(slack: Harness) -> None:
    from datetime import datetime, timezone

    from bot.wiring import digest_scheduler

    await slack.command("/digest", "subscribe russia-ukraine 08:30 Europe/Berlin")
    (ok,) = await slack.fake.wait_for("response_url")
    assert "Subscribed" in texts(ok)[0]
    now = datetime(2026, 11, 19, 7, 30, tzinfo=timezone.utc)  # 08:30 in Berlin
    sched = digest_scheduler(slack.bot, ["slack"], clock=lambda: now)
    slack.bot.state.mark_sent("slack", "C111", "russia-ukraine", datetime(2026, 11, 15, 7, 30, tzinfo=timezone.utc))
    assert await sched.tick() == 1
    assert await sched.tick() == 0
    (post,) = await slack.fake.wait_for("chat.postMessage")
    lines = texts(post)
    assert post["channel"] == "C111"
    assert lines[0].startswith("*Russia–Ukraine peace talks: digest 15 Nov 2026")
    assert "*Russia: Demands*" in lines
    assert any("The Kremlin demanded" in t for t in lines)
    assert any("Also reported by <https://example.org/demo/harbour-times-phased-plan|Harbour Times (demo)>" in t for t in lines)
    await slack.command("/digest", "list")
    listed = (await slack.fake.wait_for("response_url", 2))[1]
    assert "russia-ukraine daily at 08:30 Europe/Berlin" in "\n".join(texts(listed))


async def test_faults_always_get_a_visible_reply(slack: Harness) -> None:
    from index.vectors import VectorStore, make_client_factory
    from tests.chroma_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    slack.bot.engine.vectors = VectorStore(make_client_factory(url, Path("/nonexistent")), url)  # type: ignore[attr-defined]
    await slack.command("/ask", "What did the Kremlin demand?")
    (payload,) = await slack.fake.wait_for("response_url")
    assert payload["replace_original"] is True  # the "Searching…" acknowledgement is resolved
    assert payload["text"].startswith("Sorry, I couldn't answer: the vector index")
    assert any(t.startswith("Reference: ") for t in texts(payload))
    ev = {"type": "app_mention", "user": "U1", "text": "<@UBOT> what did Kyiv insist on?", "ts": "1700000009.000100", "channel": "C111"}
    await slack.event(ev, "Ev9")
    (post,) = await slack.fake.wait_for("chat.postMessage")
    assert "unreachable" in post["text"]
    await slack.fake.wait_for("reactions.remove")


async def test_oversized_answer_is_split_within_limits(slack: Harness) -> None:
    from bot.adapters.slack_render import render
    from bot.events import Reply
    from index.types import Answer, Quote

    big = Quote("<!here> " + "word " * 1500, "a", "T", "S", "https://e.org/a", None, 1.0)
    payload = render(Reply(kind="answer", answer=Answer("q", (big,) * 30, False, freshness="f")))
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if b["type"] == "section")
    assert "not shown" in json.dumps(payload["blocks"][-2])
    assert "<!here>" not in json.dumps(payload)
