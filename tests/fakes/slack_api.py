"""A local fake of the Slack Web API, response_url and the Socket Mode websocket (aiohttp, loopback only)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web


class FakeSlack:
    """Records every Web API call and response_url POST with its JSON payload; answers like Slack would."""

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ws_acks: list[dict[str, Any]] = []
        self.responded: list[str] = []  # the path of each response_url POST, in order
        self._ws: web.WebSocketResponse | None = None
        self._ws_ready = asyncio.Event()
        self._ts = 1000
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.arrivals: dict[str, float] = {}  # last path segment of a response_url -> when its answer arrived
        self.fail_next: dict[str, int] = {}  # method -> HTTP status to answer once (e.g. 429)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def response_url(self) -> str:
        return self.response_url_for("123")

    def response_url_for(self, key: str) -> str:
        """A distinct response_url per request, so a test can tell whose answer arrived."""
        return f"http://127.0.0.1:{self.port}/respond/T1/{key}/abc"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond/{rest:.*}", self._respond)
        app.router.add_get("/link", self._link)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        if request.content_type == "application/json":
            payload = json.loads(raw or b"{}")
        else:
            payload = dict(parse_qsl(raw.decode()))
        payload.update(request.query)  # some methods send their arguments as query parameters
        payload["_auth"] = request.headers.get("Authorization", "")
        self.calls[method].append(payload)
        status = self.fail_next.pop(method, 0)
        if status == 429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "parley"})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})
        if method in {"chat.postMessage", "chat.update"}:
            self._ts += 1
            return web.json_response({"ok": True, "channel": payload.get("channel"), "ts": f"{self._ts}.000100"})
        return web.json_response({"ok": True})

    async def _respond(self, request: web.Request) -> web.Response:
        self.responded.append(request.path)
        payload = await request.json()
        self.arrivals[request.path.rsplit("/", 1)[-1]] = time.perf_counter()
        self.calls["response_url"].append(payload)
        return web.Response(text="ok")

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        self._ws_ready.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.ws_acks.append(json.loads(msg.data))
        return ws

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        await asyncio.wait_for(self._ws_ready.wait(), 10)
        assert self._ws is not None
        await self._ws.send_json(envelope)

    async def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls[method]) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} {method} call(s), got {len(self.calls[method])}: {dict(self.calls)}")
            await asyncio.sleep(0.02)
        return self.calls[method]
