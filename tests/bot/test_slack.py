"""The real slack-bolt AsyncApp, driven by signed HTTP requests and a Socket Mode websocket, against a fake Slack."""

from __future__ import annotations

import asyncio
import json
import re
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

from bot.adapters.slack import build_app, serve
from bot.core import Bot
from corpus.errors import ConfigError
from tests.chroma_server import free_port
from tests.fakes.slack_api import FakeSlack
from tests.helpers import DEMO, FAULTS, build_bot, inject_fault

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"

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


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def mrkdwn(kind: str, text: str) -> dict[str, Any]:
    if kind == "section":
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


KREMLIN_TEXT = "The Kremlin demanded that Western sanctions on Russian banks be lifted before any ceasefire along the front line takes effect."
MOSCOW_TEXT = "Moscow wants any freeze to recognise its control of occupied territory, a condition Kyiv has repeatedly ruled out."
KREMLIN_ANSWER = [
    mrkdwn("section", "*From the indexed articles (1 quote):*"),
    mrkdwn("section", f"*1.*\n> {KREMLIN_TEXT}"),
    mrkdwn("context", "Geneva round opens with Moscow pressing for sanctions relief · Parley Demo Wire · 16 Nov 2026 · "
                      "<https://example.org/demo/geneva-round-opens|Open article>"),
]
KREMLIN_FALLBACK = (f"From the indexed articles (1 quote): “{KREMLIN_TEXT}” "
                    "(Geneva round opens with Moscow pressing for sanctions relief · Parley Demo Wire · 16 Nov 2026)")
ACK = {"text": "Searching…", "response_type": "ephemeral"}  # the 3-second acknowledgement, replaced by the answer
FRESHNESS = re.compile(r"Searched [45] articles; newest published (20|19) Nov 2026; last ingest \d{1,2} \w{3} \d{4} \d\d:\d\d UTC\.")


def pop_tail(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """Drop the buttons (returned as (label, value) pairs) and the freshness footer, which names the ingest
    time of this run (its shape is checked), so the rest can be compared exactly."""
    buttons = [(e["text"]["text"], e["value"]) for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    payload["blocks"] = [b for b in payload["blocks"] if b["type"] != "actions"]
    footer = payload["blocks"].pop()
    assert footer["type"] == "context" and FRESHNESS.fullmatch(footer["elements"][0]["text"]), footer
    return buttons


class Harness:
    def __init__(self, fake: FakeSlack, bot: Bot, url: str, app: Any):
        self.fake, self.bot, self.url, self.app = fake, bot, url, app

    async def post(self, body: str, content_type: str, ts: int | None = None, secret: str = SECRET, headers: dict[str, str] | None = None) -> tuple[int, str]:
        stamp = str(int(time.time()) if ts is None else ts)
        sig = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
        hdrs = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sig, **(headers or {})}
        async with aiohttp.ClientSession() as s:
            async with s.post(self.url, data=body.encode(), headers=hdrs) as r:
                return r.status, await r.text()

    async def command(self, command: str, text: str, user: str = "U1", response_url: str = "", **kw: Any) -> tuple[int, str]:
        body = urlencode({"command": command, "text": text, "user_id": user, "channel_id": "C111", "team_id": "T1",
                          "response_url": response_url or self.fake.response_url, "trigger_id": "1.2.3", "user_name": "u", "channel_name": "general", "api_app_id": "A1", "token": "x"})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict[str, Any], event_id: str = "Ev1", **kw: Any) -> tuple[int, str]:
        body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id, "event_time": int(time.time()),
                           "event": event, "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]})
        return await self.post(body, "application/json", **kw)

    async def body(self, body: dict[str, Any], **kw: Any) -> tuple[int, str]:
        return await self.post(json.dumps(body), "application/json", **kw)


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
    assert (status, json.loads(body)) == (200, ACK)
    (payload,) = await slack.fake.wait_for("response_url")
    pop_tail(payload)
    assert payload == {
        "text": KREMLIN_FALLBACK,
        "blocks": [mrkdwn("context", "Question: What did the Kremlin demand?"), *KREMLIN_ANSWER],
        "response_type": "ephemeral",
        "replace_original": True,
    }
    assert slack.fake.calls["chat.postMessage"] == []


async def test_slash_ask_public_posts_in_channel(slack: Harness) -> None:
    await slack.command("/ask", "--public What did the Kremlin demand?")
    (payload,) = await slack.fake.wait_for("response_url")
    pop_tail(payload)
    assert payload == {"text": KREMLIN_FALLBACK, "blocks": KREMLIN_ANSWER, "response_type": "in_channel", "replace_original": True}


async def test_parley_command_runs_help_and_status(slack: Harness) -> None:
    await slack.command("/parley", "help")
    (help_,) = await slack.fake.wait_for("response_url")
    assert help_["response_type"] == "ephemeral"
    assert texts(help_)[0] == "*Parley answers questions from the indexed news articles.*"
    assert "`ask QUESTION`: Ask a question" in texts(help_)[1] and "`digest [NEGOTIATION]" in texts(help_)[1]
    await slack.command("/parley", "status --public")
    status = (await slack.fake.wait_for("response_url", 2))[1]
    assert texts(status)[0] == "*Parley status*" and status["response_type"] == "ephemeral"  # status is never posted


async def test_mention_answered_in_thread_with_acknowledgement(slack: Harness) -> None:
    status, _ = await slack.body(fixture("app_mention"))
    assert status == 200
    (post,) = await slack.fake.wait_for("chat.postMessage")
    pop_tail(post)
    assert post == {
        "channel": "C111",
        "thread_ts": "1763290000.000100",
        "text": KREMLIN_FALLBACK,
        "blocks": KREMLIN_ANSWER,
        "team_id": "T1",  # bolt adds the workspace for org-wide installs
        "_auth": "Bearer xoxb-test",
    }
    (removed,) = await slack.fake.wait_for("reactions.remove")
    added = slack.fake.calls["reactions.add"]
    assert [(a["name"], a["channel"], a["timestamp"]) for a in added] == [("eyes", "C111", "1763290000.000100")]
    assert (removed["name"], removed["timestamp"]) == ("eyes", "1763290000.000100")


async def test_direct_message_answered_in_its_thread(slack: Harness) -> None:
    await slack.body(fixture("message_im"))
    (post,) = await slack.fake.wait_for("chat.postMessage")
    assert (post["channel"], post["thread_ts"]) == ("D1", "1763290300.000400")
    assert post["text"].startswith("From the indexed articles")


async def test_rate_limited_post_is_retried_once(slack: Harness) -> None:
    slack.fake.fail_next["chat.postMessage"] = 429
    await slack.body(fixture("app_mention"))
    first, second = await slack.fake.wait_for("chat.postMessage", 2)
    assert first == second  # the same message, sent again after Retry-After
    await slack.fake.wait_for("reactions.remove")
    await asyncio.sleep(0.3)
    assert len(slack.fake.calls["chat.postMessage"]) == 2


async def test_bad_signature_and_stale_timestamp_refused(slack: Harness) -> None:
    assert await slack.command("/ask", "x", secret="wrong") == (401, '{"error": "invalid request"}')
    assert (await slack.command("/ask", "x", ts=int(time.time()) - 600))[0] == 401
    assert (await slack.body(fixture("app_mention"), secret="wrong"))[0] == 401
    await asyncio.sleep(0.3)
    assert dict(slack.fake.calls) == {}  # no listener ran: not even bolt's lazy auth.test


async def test_retried_event_answered_once(slack: Harness) -> None:
    await slack.body(fixture("app_mention"))
    status, body = await slack.body(fixture("app_mention"), headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert (status, body) == (200, "")
    await slack.fake.wait_for("chat.postMessage")
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls["chat.postMessage"]) == 1
    assert len(slack.fake.calls["reactions.add"]) == 1


async def test_retry_of_an_unanswered_event_is_still_ignored(slack: Harness) -> None:
    """Slack only retries what it thinks failed; answering a retry risks a double answer, so none is sent."""
    await slack.body(fixture("app_mention"), headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    await asyncio.sleep(0.5)
    assert slack.fake.calls["chat.postMessage"] == [] and slack.fake.calls["reactions.add"] == []


@pytest.mark.parametrize("name", ["message_im_bot_message", "message_im_own_user", "message_im_changed", "message_channels"])
async def test_own_bot_edited_and_channel_messages_ignored(slack: Harness, name: str) -> None:
    status, _ = await slack.body(fixture(name))
    assert status == 200
    await asyncio.sleep(0.5)
    assert slack.fake.calls["chat.postMessage"] == [] and slack.fake.calls["reactions.add"] == []


async def test_article_text_cannot_ping_or_inject_links(slack: Harness) -> None:
    await slack.command("/ask", "What did the mediator say about the ceasefire vote?")
    (payload,) = await slack.fake.wait_for("response_url")
    quote = "*1.*\n> The mediator said that &lt;!channel&gt; and @everyone and &lt;@U123&gt; should read [this](http://evil.example) before Friday's ceasefire vote."
    assert texts(payload)[2] == quote
    assert texts(payload)[3] == "Talks &lt;!channel&gt; update · Evil Wire · 20 Nov 2026 · <https://example.org/evil|Open article>"
    blob = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in blob and "<@U123>" not in blob and "<http://evil" not in blob


async def test_non_admin_reindex_refused(slack: Harness) -> None:
    await slack.command("/reindex", "", user="UNOBODY")
    (payload,) = await slack.fake.wait_for("response_url")
    assert "admins only" in texts(payload)[0]
    assert slack.bot.state.audit_log()[0]["result"] == "refused: not an admin"


async def test_fifty_concurrent_questions_each_answered_once(slack: Harness) -> None:
    qs = ["What did the Kremlin demand?", "What did Kyiv insist on?", "What did the United States propose?"]
    start = time.perf_counter()
    results = await asyncio.gather(*(
        slack.command("/ask", qs[i % 3], user=f"U{i}", response_url=slack.fake.response_url_for(str(i))) for i in range(50)
    ))
    assert all(status == 200 and json.loads(body) == ACK for status, body in results)
    payloads = await slack.fake.wait_for("response_url", 50, timeout=60)
    await asyncio.sleep(0.3)
    assert len(payloads) == 50
    assert sorted(slack.fake.responded) == sorted(f"/respond/T1/{i}/abc" for i in range(50))  # each exactly once
    for path, payload in zip(slack.fake.responded, payloads):
        i = int(path.split("/")[3])
        assert texts(payload)[0] == f"Question: {qs[i % 3]}"
        assert payload["text"].startswith("From the indexed articles")
    assert time.perf_counter() - start < 60


async def test_socket_mode_envelopes(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    bot = build_bot(tmp_path, bot=SETTINGS)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    app = build_app(bot, client, None)
    handler = AsyncSocketModeHandler(app, "xapp-test")
    await handler.connect_async()
    try:
        assert fake.calls["apps.connections.open"][0]["_auth"] == "Bearer xapp-test"
        command = fixture("socket_mode_slash_commands")
        command["payload"]["response_url"] = fake.response_url
        await fake.send_envelope(command)
        (payload,) = await fake.wait_for("response_url")
        first = texts(payload)[:3]
        assert first[0] == "Question: What did Russia demand?" and first[2] == f"*1.*\n> {KREMLIN_TEXT}"
        assert re.fullmatch(r"\*From the indexed articles \((1 quote|\d quotes)\):\*", first[1])
        ack = next(a for a in fake.ws_acks if a.get("envelope_id") == command["envelope_id"])
        assert ack == {"envelope_id": command["envelope_id"], "payload": ACK}

        mention = fixture("socket_mode_events_api")  # first delivery: retry_attempt 0
        await fake.send_envelope(mention)
        (post,) = await fake.wait_for("chat.postMessage")
        pop_tail(post)
        assert (post["channel"], post["thread_ts"], post["blocks"]) == ("C111", "1763290000.000100", KREMLIN_ANSWER)
        retry = {**mention, "envelope_id": "retry-1", "retry_attempt": 1, "retry_reason": "timeout"}
        await fake.send_envelope(retry)
        for _ in range(200):
            if any(a.get("envelope_id") == "retry-1" for a in fake.ws_acks):
                break
            await asyncio.sleep(0.02)
        assert {"envelope_id": "retry-1"} in fake.ws_acks  # acknowledged, so Slack stops retrying ...
        await asyncio.sleep(0.5)
        assert len(fake.calls["chat.postMessage"]) == 1  # ... and not answered twice
    finally:
        await handler.close_async()
        await fake.stop()
        bot.close()


async def wait_listening(url: str) -> None:
    for _ in range(250):
        try:
            async with aiohttp.ClientSession() as s, s.get(url) as r:
                if r.status < 500:
                    return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.02)
    raise AssertionError(f"nothing listening on {url}")


async def test_serve_http_mode_until_cancelled(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    bot = build_bot(tmp_path, bot=SETTINGS)
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    task = asyncio.create_task(serve(bot, bot_token="xoxb-test", signing_secret=SECRET, port=port, host="127.0.0.1", base_url=fake.base_url))
    try:
        await wait_listening(url)
        harness = Harness(fake, bot, url, None)
        status, body = await harness.command("/ask", "What did the Kremlin demand?")
        assert (status, json.loads(body)) == (200, ACK)
        (payload,) = await fake.wait_for("response_url")
        assert texts(payload)[2] == f"*1.*\n> {KREMLIN_TEXT}"
        assert (await harness.command("/ask", "x", secret="wrong"))[0] == 401
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await fake.stop()
        bot.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as s, s.get(url):
            pass


async def test_serve_socket_mode_until_cancelled(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    bot = build_bot(tmp_path, bot=SETTINGS)
    task = asyncio.create_task(serve(bot, bot_token="xoxb-test", app_token="xapp-test", base_url=fake.base_url))
    try:
        await fake.send_envelope(fixture("socket_mode_events_api"))
        (post,) = await fake.wait_for("chat.postMessage")
        assert post["_auth"] == "Bearer xoxb-test" and post["thread_ts"] == "1763290000.000100"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await fake.stop()
        bot.close()


async def test_serve_http_mode_needs_a_signing_secret(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    try:
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            await serve(bot, bot_token="xoxb-test", port=free_port(), host="127.0.0.1")
    finally:
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


async def press(slack: Harness, value: str, ephemeral: bool = True, user: str = "U1") -> tuple[int, str]:
    """A signed block_actions request for the button whose value is `value`, as Slack sends it."""
    payload = {
        "type": "block_actions", "user": {"id": user, "username": "u", "team_id": "T1"}, "api_app_id": "A1", "token": "x",
        "container": {"type": "message", "message_ts": "1763290000.000200", "channel_id": "C111", "is_ephemeral": ephemeral},
        "trigger_id": "1.2.3", "team": {"id": "T1", "domain": "t"}, "channel": {"id": "C111", "name": "general"},
        "response_url": slack.fake.response_url_for("action"),
        "actions": [{"action_id": "parley-0", "block_id": "b1", "value": value, "type": "button", "action_ts": "1763290001.0"}],
    }
    return await slack.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


async def test_more_quotes_post_to_channel_and_votes_round_trip(slack: Harness) -> None:
    await slack.command("/ask", "What did Moscow and Kyiv demand at the talks?")
    (answer,) = await slack.fake.wait_for("response_url")
    buttons = dict(pop_tail(answer))
    assert {"👍", "👎", "More quotes", "Post to channel"} <= set(buttons)
    assert answer["response_type"] == "ephemeral"
    n_quotes = sum(1 for t in texts(answer) if re.match(r"\*\d+\.\*", t))

    assert (await press(slack, buttons["More quotes"]))[0] == 200
    page = (await slack.fake.wait_for("response_url", 2))[1]
    assert page["replace_original"] is True and "response_type" not in page  # paged in place, still only for the asker
    assert texts(page)[0].startswith(f"*More from the indexed articles (quotes {n_quotes + 1}–")
    assert any(t.startswith(f"*{n_quotes + 1}.*\n> ") for t in texts(page))

    await press(slack, buttons["Post to channel"])
    posted, deleted = (await slack.fake.wait_for("response_url", 4))[2:4]
    assert posted["response_type"] == "in_channel" and posted["replace_original"] is False
    assert "Question: What did Moscow and Kyiv demand at the talks?" in texts(posted)
    assert "Post to channel" not in dict(pop_tail(posted))
    assert deleted["delete_original"] is True  # the ephemeral copy goes away

    await press(slack, buttons["👍"], ephemeral=False, user="U7")
    thanks = (await slack.fake.wait_for("response_url", 5))[4]
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert texts(thanks) == ["*Thanks! Recorded 👍 for quote 1.*"]

    await press(slack, buttons["👎"], ephemeral=False, user="U8")
    prompt = (await slack.fake.wait_for("response_url", 6))[5]
    reasons = {e["text"]["text"]: e["value"] for b in prompt["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert list(reasons) == ["Wrong party", "Outdated", "Not an answer", "Bad link", "Duplicate"]
    await press(slack, reasons["Not an answer"], user="U8")
    chosen = (await slack.fake.wait_for("response_url", 7))[6]
    assert chosen["replace_original"] is True and "not an answer" in texts(chosen)[0]
    votes = {v.voter: (v.vote, v.reason, v.platform, v.channel, v.quote) for v in slack.bot.state.votes()}
    assert votes == {"U7": ("up", "", "slack", "C111", 1), "U8": ("down", "not_an_answer", "slack", "C111", 1)}


async def test_thread_replies_answered_only_where_the_channel_asks_for_it(slack: Harness) -> None:
    await slack.body(fixture("app_mention"))
    await slack.fake.wait_for("chat.postMessage")
    reply = {"type": "message", "channel_type": "channel", "user": "U1", "text": "and Ukraine?", "channel": "C111",
             "ts": "1763290100.000100", "thread_ts": "1763290000.000100"}
    await slack.event(reply, "Ev20")
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls["chat.postMessage"]) == 1 and len(slack.fake.calls["reactions.add"]) == 1  # left alone
    slack.bot.state.set_channel_setting("slack", "C111", "threads", "all")
    await slack.event({**reply, "ts": "1763290200.000100"}, "Ev21")
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert posts[1]["thread_ts"] == "1763290000.000100" and "Understood as:" in "\n".join(texts(posts[1]))
    elsewhere = {**reply, "ts": "1763290300.000100", "thread_ts": "1763299999.000100"}  # a thread Parley never answered
    await slack.event(elsewhere, "Ev22")
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls["chat.postMessage"]) == 2


@pytest.mark.parametrize("fault", FAULTS)
async def test_every_fault_ends_in_a_visible_reply_and_a_resolved_acknowledgement(slack: Harness, fault: str, tmp_path: Path) -> None:
    question, expected = inject_fault(slack.bot, fault, tmp_path)
    status, body = await slack.command("/ask", question)
    assert (status, json.loads(body)) == (200, ACK)  # "Searching…" at once
    (payload,) = await slack.fake.wait_for("response_url")
    assert payload["replace_original"] is True  # the acknowledgement is replaced by the reply
    assert expected in "\n".join(texts(payload)) and len(payload["blocks"]) <= 50
    assert all(len(t) <= 3000 for t in texts(payload))
    ev = {"type": "app_mention", "user": "U1", "text": f"<@UBOT> {question}", "ts": "1700000010.000100", "channel": "C111"}
    await slack.event(ev, f"Ev-{fault}")
    (post,) = await slack.fake.wait_for("chat.postMessage")
    assert expected in "\n".join(texts(post)) and post["thread_ts"] == "1700000010.000100"
    (removed,) = await slack.fake.wait_for("reactions.remove")  # the 👀 acknowledgement is taken back
    assert removed["name"] == "eyes"
    if fault != "oversized":
        assert any(t.startswith("Reference: ") for t in texts(post))  # the same reference is in the log
