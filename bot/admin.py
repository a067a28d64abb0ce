"""Admin commands: reindex (background, with progress), ingest a URL, list sources. Every action is audited."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.commands import command
from bot.events import Event, Reply
from bot.jobs import Job
from corpus.errors import ParleyError

if TYPE_CHECKING:
    from bot.core import Bot

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 5.0  # seconds between edits of the progress message


@command(
    "reindex",
    "Rebuild the index from the article store while questions keep being answered; with QA files configured, "
    "switch only if it scores no worse (force: switch anyway).",
    "reindex [status|cancel|force]",
    admin=True,
)
async def reindex(bot: Bot, event: Event) -> Reply:
    arg = event.text.strip().lower()
    job = bot.jobs.current
    if arg == "status":
        if job is not None and job.running:
            return Reply.notice(f"Reindex running (started by {job.user}): {job.progress.line()}", ephemeral=True)
        last = f" The last one: {job.error or job.result}." if job is not None else ""
        return Reply.notice("No reindex is running." + last, ephemeral=True)
    if arg == "cancel":
        if job is None or not job.running:
            return Reply.notice("No reindex is running.", ephemeral=True)
        job.cancel.set()
        bot.state.audit(event.platform, event.user, "reindex cancel", "", "requested")
        return Reply.notice("Cancelling the reindex; the live index stays as it is.")
    if arg not in {"", "force"}:
        return Reply.notice(f"Unknown option `{arg}`. Usage: `reindex [status|cancel|force]`.", ephemeral=True)
    force = arg == "force"

    outbox = bot.outboxes.get(event.platform)
    message: dict[str, str] = {}

    async def report(job: Job, final: bool = False) -> None:
        if outbox is None:
            return
        reply = final_reply(job) if final else Reply.notice(f"Reindexing: {job.progress.line()}")
        try:
            if "ref" in message:
                await outbox.edit(event.channel, message["ref"], reply)
            else:
                message["ref"] = await outbox.post(event.channel, reply, event.thread)
        except Exception:  # noqa: BLE001  progress is best effort; the job goes on
            logger.exception("could not post reindex progress")

    def final_reply(job: Job) -> Reply:
        if job.error:
            first, *rest = job.error.split("\n")
            return Reply.notice(f"Reindex failed: {first}" + ("" if rest else ". The live index is unchanged."), *rest)
        gate = ("Quality gate" + (" (forced)" if force else "") + ":", *bot.engine.gate_lines) if bot.engine.gate_lines else ()
        return Reply.notice(f"Reindex finished: now serving version {job.result} ({job.progress.done} passages).", *gate)

    async def done(job: Job) -> None:
        result = f"failed: {job.error}" if job.error else f"ok: {job.result}"
        bot.state.audit(event.platform, event.user, "reindex force" if force else "reindex", "", result)
        await report(job, final=True)
        channel = bot.settings.admin_channel.for_platform(event.platform)
        if outbox is not None and channel and channel != event.channel and (bot.engine.gate_lines or job.error):
            try:
                await outbox.post(channel, final_reply(job))
            except Exception:  # noqa: BLE001  the asker has the result already
                logger.exception("could not post the reindex result to the admin channel")

    started = bot.jobs.start("reindex", event.user, lambda progress, cancel: bot.engine.reindex(progress, cancel, force), done)
    if started is None:
        running = bot.jobs.current
        line = running.progress.line() if running else ""
        return Reply.notice(f"A reindex is already running: {line}", ephemeral=True)
    bot.state.audit(event.platform, event.user, "reindex", "", "started")

    async def progress_loop(job: Job) -> None:
        while job.running:
            await report(job)
            await asyncio.sleep(PROGRESS_EVERY)

    asyncio.create_task(progress_loop(started))
    return Reply.notice("Reindex started. Questions are still answered from the live index meanwhile; `reindex status` shows progress.")


@command("ingest", "Add an article page or an RSS/Atom feed by URL.", "ingest URL", admin=True)
async def ingest(bot: Bot, event: Event) -> Reply:
    url = event.text.strip().strip("<>").split("|")[0]
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        return Reply.notice("Give an http(s) URL of an article page or a feed: `ingest URL`.", ephemeral=True)
    try:
        report = await bot.run(bot.engine.ingest_url, url)
    except ParleyError as exc:
        bot.state.audit(event.platform, event.user, "ingest", url, f"failed: {exc}")
        return Reply.notice(f"Could not ingest {url}: {exc}. Nothing stored was changed.")
    result = f"{len(report.added)} added, {len(report.duplicates)} duplicate(s), {len(report.rejected)} rejected"
    bot.state.audit(event.platform, event.user, "ingest", url, result)
    lines = [f"Added: {a.title}" for a in report.added[:10]]
    lines += [f"Duplicate ({kind}): {title}" for title, _, kind in report.duplicates[:10]]
    lines += [f"Rejected: {reason}" for _, reason in report.rejected[:10]]
    return Reply.notice(f"Ingested {url}: {result}.", *lines)


@command("sources", "Articles per source and when each was last ingested.", "sources", admin=True)
async def sources(bot: Bot, event: Event) -> Reply:
    rows = await bot.run(bot.engine.sources)
    bot.state.audit(event.platform, event.user, "sources", "", f"{len(rows)} sources")
    if not rows:
        return Reply.notice("No articles are stored yet.", ephemeral=True)
    return Reply.notice("Sources:", *(f"{src or '(no source)'}: {n} article(s), last ingested {last}" for src, n, last in rows), ephemeral=True)
