"""50 concurrent questions through Slack's HTTP endpoint (the real AsyncApp, a local fake Slack), answer latency.

    python bench/slack_load.py [--n 50] [--out bench/results.md]

Each `/ask` is a signed slash command; latency runs from sending it to the answer arriving at its response_url.
Uses the real model over the demo corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.signature import SignatureVerifier  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bench.results import write_section  # noqa: E402
from bot.adapters.slack import build_app  # noqa: E402
from bot.settings import BotSettings, load_settings  # noqa: E402
from bot.wiring import build_bot, open_engine  # noqa: E402
from index.embedder import set_threads  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
QUESTIONS = ["What did the Kremlin demand?", "What did Kyiv insist on?", "What did the United States propose?", "How many prisoners will be exchanged?"]


async def run(n: int) -> tuple[list[float], int]:
    fake = FakeSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(REPO / "config" / "parley.toml", Path(tmp))
        bot_settings = BotSettings.model_validate({**settings.bot.model_dump(), "rate_limit": {"per_user": 0, "per_channel": 0}})
        settings = settings.model_copy(update={"bot": bot_settings})
        engine = open_engine(settings)
        engine.ingest([REPO / "corpus" / "demo"])
        set_threads(settings.index.threads or 1)  # as `parley serve` does
        engine.ask("warm up")
        bot = build_bot(settings, engine)
        app = build_app(bot, AsyncWebClient(token="xoxb-bench", base_url=fake.base_url), SECRET)
        runner = web.AppRunner(app.web_app(path="/slack/events"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"  # type: ignore[union-attr]
        sent: dict[str, float] = {}

        async def ask(i: int, session: aiohttp.ClientSession) -> None:
            body = urlencode({"command": "/ask", "text": QUESTIONS[i % len(QUESTIONS)], "user_id": f"U{i}", "channel_id": "C1",
                              "team_id": "T1", "response_url": f"{fake.response_url}/{i}", "trigger_id": str(i)})
            ts = str(int(time.time()))
            signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or ""
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": signature}
            sent[str(i)] = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as r:
                assert r.status == 200

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(ask(i, session) for i in range(n)))
        answers = await fake.wait_for("response_url", n, timeout=300)
        arrived = fake.arrivals
        latencies = [(arrived[k] - sent[k]) * 1000 for k in sent if k in arrived]
        await runner.cleanup()
        await fake.stop()
        bot.close()
        engine.close()
        return latencies, len(answers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    args = ap.parse_args()
    lat, answered = asyncio.run(run(args.n))
    lat.sort()
    section = (f"## Slack endpoint under load\n\n`python bench/slack_load.py --n {args.n}`: {args.n} concurrent signed `/ask` requests, "
               f"real model, demo corpus. Answered: {answered} (each once).\n\n| p50 ms | p95 ms | max ms |\n|---|---|---|\n"
               f"| {statistics.median(lat):.0f} | {lat[int(0.95 * (len(lat) - 1))]:.0f} | {lat[-1]:.0f} |\n")
    write_section(args.out, "## Slack endpoint under load", section)
    print(section)


if __name__ == "__main__":
    main()
