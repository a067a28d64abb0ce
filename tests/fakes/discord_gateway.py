"""A local fake of Discord's gateway (websocket) and REST API for the real discord.py client (loopback only)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any

import yarl
from aiohttp import WSMsgType, web

BOT_ID = 900000000000000001
APP_ID = 900000000000000002
GUILD_ID = 900000000000000003
CHANNEL_ID = 900000000000000004
ADMIN_ROLE = 900000000000000005
USER = {"id": "900000000000000010", "username": "alice", "discriminator": "0", "global_name": "Alice", "avatar": None, "bot": False}
BOT_USER = {"id": str(BOT_ID), "username": "parley", "discriminator": "0", "global_name": None, "avatar": None, "bot": True}


def _json(obj: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only for exactly "application/json" (aiohttp's json_response adds a charset)
    return web.Response(body=json.dumps(obj).encode(), status=status, content_type="application/json")


class FakeDiscord:
    def __init__(self, heartbeat_interval_ms: int = 45000) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.heartbeats: list[float] = []
        self.identify: dict[str, Any] | None = None
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._ids = 950000000000000000
        self.ready = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    def next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def patch_library(self) -> tuple[Any, Any]:
        """Point discord.py at this fake (class attributes, so restore them with `restore`)."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        old = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = f"http://127.0.0.1:{self.port}/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{self.port}/gateway")
        return old

    @staticmethod
    def restore(old: tuple[Any, Any]) -> None:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # -- REST --------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"]
        raw = await request.read()
        body: Any = {}
        if raw and request.content_type == "application/json":
            body = json.loads(raw)
        elif raw and request.content_type.startswith("multipart"):
            body = {"_multipart": raw.decode(errors="replace")}
        key = f"{request.method} /{tail}"
        self.requests[key].append(body if isinstance(body, dict) else {"_list": body})
        if tail == "users/@me":
            return _json(BOT_USER)
        if tail == "oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "Parley", "icon": None, "description": "", "bot_public": True,
                          "bot_require_code_grant": False, "verify_key": "00", "owner": USER, "flags": 0})
        if tail.startswith("applications/") and tail.endswith("/commands") and request.method == "PUT":
            cmds = body if isinstance(body, list) else []
            return _json([{**c, "id": self.next_id(), "application_id": str(APP_ID), "version": "1", "type": c.get("type", 1)} for c in cmds])
        if tail.startswith("channels/") and tail.endswith("/messages") and request.method == "POST":
            created = self._message(body, tail.split("/")[1])
            body["_id"] = created["id"]  # so a test can reply to the message the bot sent
            return _json(created)
        if tail.startswith("interactions/") and "/callback" in tail:
            iid = tail.split("/")[1]
            return _json({"interaction": {"id": iid, "type": 2, "response_message_loading": body.get("type") == 5,
                                          "response_message_ephemeral": bool(body.get("data", {}).get("flags", 0) & 64)},
                          "resource": {"type": body.get("type", 5)}})
        if tail.startswith("webhooks/"):
            return _json(self._message(body, str(CHANNEL_ID), webhook=True))
        if request.method in {"PUT", "DELETE"} and "/reactions/" in tail:
            return web.Response(status=204)
        if tail.startswith("channels/") and "/messages/" in tail and request.method == "PATCH":
            return _json(self._message(body, tail.split("/")[1]))
        return _json({})

    def _message(self, body: dict[str, Any], channel_id: str, webhook: bool = False) -> dict[str, Any]:
        return {"id": self.next_id(), "channel_id": channel_id, "guild_id": str(GUILD_ID), "author": BOT_USER,
                "content": body.get("content") or "", "timestamp": "2026-11-24T12:00:00+00:00", "edited_timestamp": None,
                "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": body.get("embeds", []), "pinned": False, "type": 0, "flags": body.get("flags", 0),
                **({"webhook_id": str(APP_ID)} if webhook else {})}

    # -- gateway -----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:
                self.heartbeats.append(time.monotonic())
                await ws.send_str(json.dumps({"op": 11}))
            elif data["op"] == 2:
                self.identify = data["d"]
                await self.dispatch("READY", {
                    "v": 10, "user": BOT_USER, "guilds": [{"id": str(GUILD_ID), "unavailable": True}], "session_id": "sess",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway", "application": {"id": str(APP_ID), "flags": 0},
                    "private_channels": [], "relationships": [], "presences": [], "shard": [0, 1],
                })
                await self.dispatch("GUILD_CREATE", self.guild())
                self.ready.set()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    def guild(self) -> dict[str, Any]:
        return {
            "id": str(GUILD_ID), "name": "Negotiations", "icon": None, "owner_id": USER["id"], "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "nsfw_level": 0, "premium_tier": 0, "system_channel_flags": 0, "preferred_locale": "en-US", "features": [],
            "emojis": [], "stickers": [], "threads": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "large": False, "unavailable": False, "member_count": 2,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "roles": [
                {"id": str(GUILD_ID), "name": "@everyone", "permissions": "1071698660929", "position": 0, "color": 0,
                 "hoist": False, "managed": False, "mentionable": False, "flags": 0},
                {"id": str(ADMIN_ROLE), "name": "parley-admins", "permissions": "1071698660929", "position": 1, "color": 0,
                 "hoist": False, "managed": False, "mentionable": False, "flags": 0},
            ],
            "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "talks", "position": 0, "permission_overwrites": [],
                          "guild_id": str(GUILD_ID), "nsfw": False, "parent_id": None}],
            "members": [self.member(BOT_USER), self.member(USER)],
        }

    @staticmethod
    def member(user: dict[str, Any], roles: tuple[int, ...] = ()) -> dict[str, Any]:
        return {"user": user, "roles": [str(r) for r in roles], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False,
                "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False}

    async def message(self, content: str, *, author: dict[str, Any] = USER, mention_bot: bool = True, reply_to: str | None = None) -> str:
        mid = self.next_id()
        reference = {"message_reference": {"type": 0, "message_id": reply_to, "channel_id": str(CHANNEL_ID), "guild_id": str(GUILD_ID)}} if reply_to else {}
        await self.dispatch("MESSAGE_CREATE", {
            "id": mid, "channel_id": str(CHANNEL_ID), "guild_id": str(GUILD_ID), "author": author,
            "member": {k: v for k, v in self.member(author).items() if k != "user"},
            "content": content, "timestamp": "2026-11-24T12:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [BOT_USER] if mention_bot else [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 19 if reply_to else 0, "flags": 0, **reference,
        })
        return mid

    async def interaction(self, name: str, options: dict[str, str], *, user: dict[str, Any] = USER, roles: tuple[int, ...] = ()) -> tuple[str, str]:
        iid, token = self.next_id(), f"tok-{self._ids}"
        await self.dispatch("INTERACTION_CREATE", {
            "id": iid, "application_id": str(APP_ID), "type": 2, "token": token, "version": 1,
            "data": {"id": self.next_id(), "name": name, "type": 1,
                     "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]},
            "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "name": "talks", "guild_id": str(GUILD_ID), "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": {**self.member(user, roles), "permissions": "1071698660929"},
            "app_permissions": "1071698660929", "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0, "attachment_size_limit": 8388608,
        })
        return iid, token

    async def component(self, custom_id: str, *, ephemeral: bool = False, user: dict[str, Any] = USER) -> tuple[str, str]:
        """A press of a message button with `custom_id` (interaction type 3) on a message of the bot's."""
        iid, token = self.next_id(), f"tok-{self._ids}"
        message = self._message({"flags": 64 if ephemeral else 0}, str(CHANNEL_ID))
        message["components"] = [{"type": 1, "id": 1, "components": [{"type": 2, "id": 2, "style": 2, "label": "button", "custom_id": custom_id}]}]
        await self.dispatch("INTERACTION_CREATE", {
            "id": iid, "application_id": str(APP_ID), "type": 3, "token": token, "version": 1,
            "data": {"custom_id": custom_id, "component_type": 2}, "message": message,
            "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "name": "talks", "guild_id": str(GUILD_ID), "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": {**self.member(user), "permissions": "1071698660929"},
            "app_permissions": "1071698660929", "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0, "attachment_size_limit": 8388608,
        })
        return iid, token

    async def wait_for(self, key: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            hits = [b for k, bs in self.requests.items() if k.startswith(key) for b in bs]
            if len(hits) >= count:
                return hits
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} request(s) to {key}; got {sorted(self.requests)}")
            await asyncio.sleep(0.02)
