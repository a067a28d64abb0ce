"""The Slack transport: slack-bolt's AsyncApp over HTTP (Events API, slash commands) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_render import ACTION_PREFIX, is_public, render, translate, translate_action
from bot.commands import COMMANDS
from bot.core import Bot
from bot.events import Reply

logger = logging.getLogger(__name__)
ACK_REACTION = "eyes"


class SlackOutbox:
    """Posts and edits messages outside a request (reindex progress, scheduled digests)."""

    def __init__(self, client: AsyncWebClient):
        self.client = client

    async def post(self, channel: str, reply: Reply, thread: str | None = None) -> str:
        resp = await self.client.chat_postMessage(channel=channel, thread_ts=thread, **render(reply))
        return str(resp["ts"])

    async def edit(self, channel: str, ref: str, reply: Reply) -> None:
        await self.client.chat_update(channel=channel, ts=ref, **render(reply))


def is_retry(headers: dict[str, Any]) -> bool:
    """Whether Slack is redelivering: X-Slack-Retry-Num >= 1 over HTTP, or a Socket Mode envelope's
    `retry_attempt` >= 1, which bolt mirrors into the same header. First Socket Mode deliveries carry 0."""
    value = headers.get("x-slack-retry-num")
    first = value[0] if isinstance(value, (list, tuple)) and value else value
    try:
        return int(str(first)) > 0
    except ValueError:
        return False


async def _ignore_retries(req: AsyncBoltRequest, resp: BoltResponse, next: Any) -> BoltResponse | None:
    """Slack resends events it thinks were not acknowledged; the first delivery is already being answered."""
    if is_retry(req.headers):
        logger.info("ignoring Slack retry %s (%s)", req.headers.get("x-slack-retry-num"), req.headers.get("x-slack-retry-reason"))
        return BoltResponse(status=200, body="")
    return await next()  # type: ignore[no-any-return]


def build_app(bot: Bot, client: AsyncWebClient, signing_secret: str | None, *, process_before_response: bool = False) -> AsyncApp:
    """The bolt app with every command of the command table as a slash command, plus mentions and DMs.

    Args:
        bot: the neutral core that answers.
        client: the Web API client (injected; tests point it at a fake). A rate-limit retry handler is added.
        signing_secret: verifies HTTP requests; None only for Socket Mode, where the app token authenticates.
        process_before_response: finish the answer before the HTTP response (FaaS, deterministic tests).
    """
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        request_verification_enabled=signing_secret is not None,
    )
    app.middleware(_ignore_retries)
    bot.outboxes["slack"] = SlackOutbox(client)

    async def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        event = translate(body)
        if event is None:
            await ack()
            return
        public = is_public(body)
        await ack(text="Searching…" if event.command == "ask" else "Working on it…", response_type="ephemeral")
        reply = await bot.handle(event)
        if reply is None:
            return
        in_channel = public and not reply.ephemeral
        private_answer = event.command == "ask" and not in_channel
        payload = render(reply, question=event.text if private_answer else "", share=private_answer and bool(reply.answer_id))
        await respond(**payload, response_type="in_channel" if in_channel else "ephemeral", replace_original=True)

    for name in [*(n for n, c in COMMANDS.items() if c.slash), "parley"]:
        app.command(f"/{name}")(on_command)

    async def on_action(ack: Any, body: dict[str, Any], respond: Any) -> None:
        """A Parley button: more (page in place), post (to the channel), vote (ephemeral thanks)."""
        await ack()
        event = translate_action(body)
        if event is None:
            return
        reply = await bot.handle(event) or Reply.error("Sorry, I could not do that.", "none")
        ephemeral_original = bool((body.get("container") or {}).get("is_ephemeral"))
        if event.command == "post" and reply.kind == "answer":
            await respond(**render(reply), response_type="in_channel", replace_original=False)
            if ephemeral_original:
                await respond(delete_original=True)
        elif reply.replace:
            share = ephemeral_original and reply.kind == "answer"
            await respond(**render(reply, share=share), replace_original=True)
        else:
            await respond(**render(reply), response_type="ephemeral", replace_original=False)

    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(on_action)

    async def on_message_event(body: dict[str, Any], client: AsyncWebClient) -> None:
        event = translate(body)
        if event is None or not bot.accepts(event):
            return
        ts = body["event"].get("ts")
        reacted = False
        try:
            await client.reactions_add(channel=event.channel, timestamp=ts, name=ACK_REACTION)
            reacted = True
        except Exception:  # noqa: BLE001  the acknowledgement is a courtesy; the answer still comes
            logger.warning("could not add the acknowledgement reaction", exc_info=True)
        try:
            reply = await bot.handle(event)
            if reply is None:
                reply = Reply.error("Sorry, I could not answer that.", "none")
            await client.chat_postMessage(channel=event.channel, thread_ts=event.thread, **render(reply))
        finally:
            if reacted:
                try:
                    await client.reactions_remove(channel=event.channel, timestamp=ts, name=ACK_REACTION)
                except Exception:  # noqa: BLE001
                    logger.warning("could not remove the acknowledgement reaction", exc_info=True)

    app.event("app_mention")(on_message_event)
    app.event("message")(on_message_event)
    return app


async def serve(
    bot: Bot,
    *,
    bot_token: str,
    signing_secret: str | None = None,
    app_token: str | None = None,
    port: int = 3000,
    host: str = "0.0.0.0",
    base_url: str | None = None,
) -> None:
    """Socket Mode when an app-level token (xapp-) is given, else HTTP on `host:port` at /slack/events."""
    client = AsyncWebClient(token=bot_token, base_url=base_url) if base_url else AsyncWebClient(token=bot_token)
    if app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        app = build_app(bot, client, None)
        handler = AsyncSocketModeHandler(app, app_token)
        await handler.connect_async()
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
        return
    if not signing_secret:
        from corpus.errors import ConfigError

        raise ConfigError("Slack HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
    from aiohttp import web

    app = build_app(bot, client, signing_secret)
    runner = web.AppRunner(app.web_app(path="/slack/events", port=port))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    logger.info("Slack events, commands and interactivity on http://%s:%d/slack/events", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


