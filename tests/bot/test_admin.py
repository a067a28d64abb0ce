"""Admin ingestion from chat: /ingest URL against a local HTTP server (page, feed, bad input), /sources, audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.events import Event
from tests.chroma_server import free_port
from tests.helpers import build_bot

PAGE = """<!doctype html><html><head><title>Port talks resume | Harbour Times</title>
<meta property="og:site_name" content="Harbour Times"><meta name="date" content="2026-11-21T08:00:00Z"></head>
<body><nav>Home | Ports</nav><article><h1>Port talks resume</h1>
<p>Dock workers and port operators returned to the table on Saturday after a week-long pause in the talks.</p>
<p>The union demanded a ban on automated cranes, while the operators offered a four-year job guarantee.</p>
<p>The federal mediator said both sides had agreed to keep talking through the weekend.</p></article></body></html>"""
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Dock Wire</title>
<item><title>Strike vote called</title><link>https://example.org/strike</link><pubDate>Sat, 21 Nov 2026 09:00:00 GMT</pubDate>
<description>The union called a strike vote for Monday after the operators rejected the crane ban.</description></item>
</channel></rss>"""
ADMIN = {"admins": {"console": ["root"]}, "rate_limit": {"per_user": 0, "per_channel": 0}}


@pytest.fixture
async def site() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/page", lambda r: web.Response(text=PAGE, content_type="text/html"))
    app.router.add_get("/feed", lambda r: web.Response(text=FEED, content_type="application/rss+xml"))
    app.router.add_get("/empty", lambda r: web.Response(text="<html><body><script>1</script></body></html>", content_type="text/html"))
    app.router.add_get("/broken-feed", lambda r: web.Response(text="<?xml version='1.0'?><rss><chan", content_type="application/rss+xml"))
    app.router.add_get("/missing", lambda r: web.Response(status=404))
    runner = web.AppRunner(app)
    await runner.setup()
    s = web.TCPSite(runner, "127.0.0.1", 0)
    await s.start()
    yield f"http://127.0.0.1:{s._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


def admin(command: str, text: str, user: str = "root") -> Event:
    return Event("console", "console", user, text, command=command)


async def test_ingest_page_and_feed(tmp_path: Path, site: str) -> None:
    bot = build_bot(tmp_path, bot=ADMIN)
    r = await bot.handle(admin("ingest", f"{site}/page"))
    assert r is not None and "1 added" in r.title
    assert "Added: Port talks resume" in r.lines[0]
    ans = await bot.handle(admin("ask", "What did the union demand?"))
    assert ans is not None and ans.answer and any("automated cranes" in q.text for q in ans.answer.quotes)
    feed = await bot.handle(admin("ingest", f"{site}/feed"))
    assert feed is not None and "1 added" in feed.title
    sources = await bot.handle(admin("sources", ""))
    assert sources is not None and any(line.startswith("Dock Wire: 1 article") for line in sources.lines)
    again = await bot.handle(admin("ingest", f"{site}/page"))
    assert again is not None and "0 added, 1 duplicate" in again.title


@pytest.mark.parametrize("path, message", [("/empty", "no article text"), ("/broken-feed", "not a valid RSS/Atom feed"), ("/missing", "404")])
async def test_bad_urls_are_clear_and_change_nothing(tmp_path: Path, site: str, path: str, message: str) -> None:
    bot = build_bot(tmp_path, bot=ADMIN)
    before = bot.engine.stats()
    r = await bot.handle(admin("ingest", f"{site}{path}"))
    assert r is not None and message in r.title and "Nothing stored was changed" in r.title
    assert bot.engine.stats() == before
    assert bot.state.audit_log()[0]["result"].startswith("failed:")


async def test_unreachable_and_non_http(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=ADMIN)
    r = await bot.handle(admin("ingest", f"http://127.0.0.1:{free_port()}/x"))
    assert r is not None and "could not reach" in r.title
    r = await bot.handle(admin("ingest", "file:///etc/passwd"))
    assert r is not None and "http(s) URL" in r.title


async def test_audit_log_records_each_action(tmp_path: Path, site: str) -> None:
    bot = build_bot(tmp_path, bot=ADMIN)
    await bot.handle(admin("ingest", f"{site}/page"))
    await bot.handle(admin("sources", ""))
    await bot.handle(admin("ingest", f"{site}/page", user="mallory"))
    log = bot.state.audit_log()
    assert [(e["user"], e["action"], e["result"].split(":")[0].split(",")[0]) for e in log] == [
        ("mallory", "ingest", "refused"), ("root", "sources", "3 sources"), ("root", "ingest", "1 added")
    ]
    assert all(e["at"] for e in log)
