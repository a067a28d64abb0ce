"""The `parley` command line: ingest, ask, eval, digest, feedback, stats, reindex and serve."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from collections.abc import Coroutine
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.adapters import console as console_adapter
from bot.events import Reply
from bot.settings import Settings, load_settings
from bot.core import Bot
from bot.wiring import build_bot, digest_scheduler, open_engine
from corpus.errors import ParleyError
from index.embedder import set_threads

app = typer.Typer(
    help="Parley: quoted, cited answers about tracked negotiations from your news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
logger = logging.getLogger("parley")


class _State:
    settings: Settings


state = _State()


@app.callback()
def main_options(
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", envvar="PARLEY_DATA_DIR", help="Where articles and indexes live [default: ./data].")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="PARLEY_CONFIG", help="Settings file [default: config/parley.toml].")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details to stderr.")] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    state.settings = load_settings(config, data_dir)
    set_threads(state.settings.index.threads)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.completed}/{task.total} passages"), TimeRemainingColumn(), console=err, transient=False)


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt .md .html .xml/.rss/.atom feeds .jsonl")]) -> None:
    """Add articles: stored once (duplicates reported), split into sentences, embedded and indexed."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise ParleyError("no such file or folder: " + ", ".join(map(str, missing)))
    engine = open_engine(state.settings)
    with _progress() as bar:
        task = bar.add_task("Indexing", total=None)
        report = engine.ingest(paths, progress=lambda done, total: bar.update(task, completed=done, total=total))
    out.print(f"Added {len(report.added)} article(s), {len(report.duplicates)} duplicate(s), {len(report.rejected)} rejected.")
    for title, of_id, kind in report.duplicates:
        out.print(f"  duplicate ({kind} of {of_id}): {title}", markup=False)
    for path, reason in report.rejected:
        out.print(f"  rejected {path}: {reason}", markup=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read one question per line from standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, max=20, help="Quotes per answer.")] = 3,
) -> None:
    """Answer with verbatim quotes and citations, or say plainly that the articles hold no answer."""
    engine = open_engine(state.settings)
    questions = (line.strip() for line in sys.stdin) if question == "-" else iter([question])
    for q in questions:
        if not q:
            continue
        answer = engine.ask(q, top=top)
        if as_json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            sys.stdout.write(console_adapter.render(Reply(kind="answer", answer=answer)) + "\n\n")


@app.command("eval")
def eval_(
    qa_file: Annotated[Path, typer.Argument(help="QA file (JSONL): question, answerable, evidence[, context].")],
    corpus: Annotated[Optional[Path], typer.Option("--corpus", help="Folder of articles to ingest into a temporary data dir [default: the live index in --data-dir].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    misses: Annotated[int, typer.Option("--misses", help="Show this many questions whose best quote missed.")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="Evaluate only the first N questions (0 = all).")] = 0,
) -> None:
    """Score retrieval on a QA file: R@1, R@3, R@5, MRR@10, abstention, false abstention, verbatim rate."""
    from index.evaluate import evaluate, load_qa

    items = load_qa(qa_file)[: limit or None]
    if corpus is None:
        engine = open_engine(state.settings)
        report = evaluate(items, lambda q: engine.rank(q, k=10), engine.is_verbatim)
        engine.close()
    else:
        with tempfile.TemporaryDirectory(prefix="parley-eval-") as tmp:
            settings = state.settings.model_copy(update={"data_dir": Path(tmp), "index": state.settings.index.model_copy(update={"chroma_url": ""})})
            engine = open_engine(settings)
            with _progress() as bar:
                task = bar.add_task("Indexing", total=None)
                engine.ingest([corpus], progress=lambda d, t: bar.update(task, completed=d, total=t))
            report = evaluate(items, lambda q: engine.rank(q, k=10), engine.is_verbatim)
            engine.close()
    metrics = report.as_dict()
    if as_json:
        sys.stdout.write(json.dumps(metrics, indent=2) + "\n")
    else:
        table = Table("metric", "value", title=f"{qa_file.name} over {corpus or 'the live index'}")
        for key, value in metrics.items():
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
        out.print(table)
    for miss in report.misses[:misses]:
        out.print(f"- {miss['id']} {miss['question']} (rank {miss['rank']}): {str(miss['top'])[:160]}", markup=False)


@app.command()
def digest(
    negotiation: Annotated[str, typer.Argument(help="A tracked negotiation id or name from config/negotiations.toml.")],
    since: Annotated[str, typer.Option("--since", help='Start of the window: a date or phrase, e.g. "2025-03-18", "3 days ago".')] = "24 hours ago",
    as_json: Annotated[bool, typer.Option("--json", help="Print the digest as JSON.")] = False,
) -> None:
    """What each party demanded, offered, agreed and said in a time window, quoted and cited."""
    from datetime import datetime, timezone

    from bot.view import view
    from corpus.loaders import parse_date

    start = parse_date(since)
    if start is None:
        raise ParleyError(f"--since {since!r} is not a date")
    engine = open_engine(state.settings)
    neg = engine.tracked.get(negotiation)
    if neg is None:
        known = ", ".join(n.id for n in engine.tracked.negotiations)
        raise ParleyError(f"{negotiation!r} is not a tracked negotiation; tracked: {known}")
    result = engine.digest(neg.id, start, datetime.now(timezone.utc))
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(console_adapter.render(Reply(kind="digest", digest=result)) + "\n")


feedback_app = typer.Typer(help="Votes users gave on quotes (👍/👎 buttons, /vote).", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    output: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the QA file here [default: standard output].")] = None,
) -> None:
    """Write the votes as a QA file for `parley eval`: per question, 👍'd quotes as evidence, 👎'd ones as negatives."""
    from bot.feedback import export_qa
    from bot.state import BotState

    votes = BotState(state.settings.data_dir / "bot.sqlite3").votes()
    items, skipped = export_qa(votes)
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    err.print(f"{len(items)} question(s) from {len(votes)} vote(s); {skipped} question(s) with no 👍 quote left out.", markup=False)


@app.command()
def stats(
    check: Annotated[bool, typer.Option("--check", help="Also check that the article store, the passage table, Chroma and the index's sentence vectors file agree (the file's vectors against Chroma's on every row up to 5,000 passages, else on 2,000 evenly spaced rows and every all-zero row; the output says which). Exits 1 if not.")] = False,
    full: Annotated[bool, typer.Option("--full", help="With --check or --repair: compare every row of the sentence vectors file with Chroma, not a sample (79 s at a million passages).")] = False,
    repair: Annotated[bool, typer.Option("--repair", help="Fix what --check finds (put missing vectors back from the index's own copy, delete strays, and when a file vector disagrees with Chroma's compare every row and embed again each passage whose two vectors disagree, index unindexed articles, rebuild if passages lost their article).")] = False,
) -> None:
    """Articles, passages, index version, model, last ingest and vectors per collection; --check / --repair."""
    from index.health import check as check_health, repair as repair_health

    engine = open_engine(state.settings)
    for key, value in engine.stats().items():
        out.print(f"{key.replace('_', ' ')}: {value}", markup=False)
    if not (check or repair):
        return
    health = check_health(engine, full)
    for line in health.lines():
        out.print(f"check: {line}", markup=False)
    if repair and not health.ok:
        for line in repair_health(engine, health):
            out.print(f"repair: {line}", markup=False)
        health = check_health(engine, full)
        out.print(f"check after repair: {health.lines()[-1]}", markup=False)
    if not health.ok:
        raise typer.Exit(1)


@app.command()
def reindex(
    force: Annotated[bool, typer.Option("--force", help="Switch even if the quality gate (index.quality_gate) finds the new version worse.")] = False,
) -> None:
    """Rebuild the index from the article store into a new version and switch to it atomically
    (after the quality gate, when QA files are configured). With the same model and backend, the live
    version's vectors of unchanged text are read back instead of embedded again."""
    engine = open_engine(state.settings)
    with _progress() as bar:
        task = bar.add_task("Reindexing", total=None)
        version = engine.reindex(progress=lambda d, t: bar.update(task, completed=d, total=t), force=force)
    for line in engine.gate_lines:
        out.print(f"quality gate: {line}", markup=False)
    out.print(f"Now serving index version {version}.")


@app.command()
def serve(
    platform: Annotated[str, typer.Argument(help="console, slack, discord, or auto (slack/discord when their tokens are set, else console).")] = "auto",
) -> None:
    """Run the bot. Tokens come from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, DISCORD_TOKEN."""
    set_threads(state.settings.index.threads or 1)  # questions run in parallel on bot.workers, one core each
    engine = open_engine(state.settings)
    removed = engine.cleanup()
    if removed:
        logger.warning("removed partial index versions left by an interrupted build: %s", ", ".join(removed))
    bot = build_bot(state.settings, engine)
    if platform == "auto":
        platforms = [p for p, var in (("slack", "SLACK_BOT_TOKEN"), ("discord", "DISCORD_TOKEN")) if os.environ.get(var)] or ["console"]
    else:
        platforms = [platform]
    unknown = set(platforms) - {"console", "slack", "discord"}
    if unknown:
        raise ParleyError(f"unknown platform {', '.join(unknown)}; choose console, slack, discord or auto")
    try:
        asyncio.run(_serve(bot, platforms))
    except KeyboardInterrupt:
        pass
    finally:
        bot.close()
        engine.close()


async def _serve(bot: Bot, platforms: list[str]) -> None:
    tasks: list[Coroutine[Any, Any, None]] = []
    for platform in platforms:
        if platform == "console":
            tasks.append(console_adapter.serve(bot))
        elif platform == "slack":
            import bot.adapters.slack as slack_adapter

            tasks.append(
                slack_adapter.serve(
                    bot,
                    bot_token=_env("SLACK_BOT_TOKEN"),
                    signing_secret=os.environ.get("SLACK_SIGNING_SECRET"),
                    app_token=os.environ.get("SLACK_APP_TOKEN"),
                    port=int(os.environ.get("PORT", "3000")),
                )
            )
        else:
            import bot.adapters.discord as discord_adapter

            guild = os.environ.get("DISCORD_GUILD_ID")
            tasks.append(discord_adapter.serve(bot, token=_env("DISCORD_TOKEN"), guild_id=int(guild) if guild else None))
    tasks.append(digest_scheduler(bot, [p for p in platforms if p != "console"]).run())
    out.print(f"Serving on {', '.join(platforms)}.", markup=False)
    # until the first task ends: the console's at EOF or /quit (the chat adapters and the digest scheduler run
    # until cancelled, so gathering them kept `parley serve console` running after Ctrl-D); an error propagates
    running = [asyncio.ensure_future(t) for t in tasks]
    done, pending = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ParleyError(f"environment variable {name} is not set")
    return value


def main() -> None:
    """Entry point: Parley's own errors become one clear line and exit code 2, not a traceback."""
    try:
        app()
    except ParleyError as exc:
        err.print(f"parley: {exc}", markup=False)
        sys.exit(2)
