"""The neutral core over a real engine: commands, limits, permissions, never-silent errors, reindex while answering."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.adapters.console import ConsoleOutbox, render, translate
from bot.events import Event, Reply
from tests.chroma_server import free_port
from tests.helpers import SHARED, build_bot

UNLIMITED = {"rate_limit": {"per_user": 0, "per_channel": 0}}


def ask(text: str, user: str = "U1", command: str = "ask", platform: str = "console") -> Event:
    return Event(platform, "C1", user, text, command=command)


async def test_question_gets_quotes_and_help_lists_commands(tmp_path: Path) -> None:
    bot = build_bot(tmp_path)
    reply = await bot.handle(ask("What did the Kremlin demand?"))
    assert reply is not None and reply.kind == "answer" and reply.answer and reply.answer.quotes
    text = render(reply)
    assert "“The Kremlin demanded" in text and "https://example.org/demo/geneva-round-opens" in text
    help_reply = await bot.handle(ask("", command="help"))
    assert help_reply is not None
    for name in ("ask", "help", "status", "digest", "reindex", "ingest", "sources"):
        assert any(line.startswith(f"`{name}") for line in help_reply.lines)


async def test_unknown_command_and_long_message_are_clear(tmp_path: Path) -> None:
    bot = build_bot(tmp_path)
    unknown = await bot.handle(ask("", command="frobnicate"))
    assert unknown is not None and "Unknown command `frobnicate`" in unknown.title
    long = await bot.handle(ask("why " * 400))
    assert long is not None and "too long" in long.title and "500" in long.title


async def test_rate_limit_is_friendly(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot={"rate_limit": {"per_user": 2, "per_channel": 0, "window": 60}})
    for _ in range(2):
        r = await bot.handle(ask("What did Kyiv insist on?"))
        assert r is not None and r.kind == "answer"
    limited = await bot.handle(ask("What did Kyiv insist on?"))
    assert limited is not None and "try again in" in limited.title
    other_user = await bot.handle(ask("What did Kyiv insist on?", user="U2"))
    assert other_user is not None and other_user.kind == "answer"


async def test_non_admin_refused_and_audited(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot={"admins": {"slack": ["UADMIN"]}})
    refused = await bot.handle(ask("", user="UNOBODY", command="reindex", platform="slack"))
    assert refused is not None and "admins only" in refused.title
    (entry,) = bot.state.audit_log()
    assert (entry["user"], entry["action"], entry["result"]) == ("UNOBODY", "reindex", "refused: not an admin")


async def test_chroma_down_gives_visible_error_with_reference(tmp_path: Path) -> None:
    bot = build_bot(tmp_path)
    # point the same engine at a Chroma server that is not running
    from index.vectors import VectorStore, make_client_factory

    url = f"http://127.0.0.1:{free_port()}"
    bot.engine.vectors = VectorStore(make_client_factory(url, tmp_path), url)  # type: ignore[attr-defined]
    reply = await bot.handle(ask("What did Russia demand?"))
    assert reply is not None and reply.kind == "error" and reply.ref
    assert "unreachable" in reply.title


async def test_timeout_is_answered(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot={"answer_timeout": 0.0001})
    reply = await bot.handle(ask("What did Russia demand?"))
    assert reply is not None and reply.kind == "error" and "too long" in reply.title


async def test_questions_answered_during_reindex(tmp_path: Path) -> None:
    corpus = SHARED / "eval" / "squad-a" / "corpus"
    bot = build_bot(tmp_path, paths=[Path(__file__).resolve().parents[2] / "corpus" / "demo", corpus], bot={**UNLIMITED, "workers": 4})
    out = io.StringIO()
    bot.outboxes["console"] = ConsoleOutbox(out)
    started = await bot.handle(ask("", user="console", command="reindex"))
    assert started is not None and "Reindex started" in started.title
    again = await bot.handle(ask("", user="console", command="reindex"))
    assert again is not None and "already running" in again.title
    status = await bot.handle(ask("status", user="console", command="reindex"))
    assert status is not None and "Reindex running" in status.title
    questions = [ask(q, user=f"U{i}") for i, q in enumerate(["What did the Kremlin demand?", "What did Kyiv insist on?"] * 10)]
    replies = await asyncio.gather(*(bot.handle(e) for e in questions))
    assert all(r is not None and r.kind == "answer" and r.answer and r.answer.quotes for r in replies)
    job = bot.jobs.current
    assert job is not None and job.running, "the reindex finished before the questions: make the corpus larger"
    assert job.task is not None
    await job.task
    await asyncio.sleep(0)
    assert job.error == "" and job.result == bot.engine.stats()["index_version"]
    assert "Reindex finished" in out.getvalue()
    actions = [(e["action"], e["result"].split(":")[0]) for e in bot.state.audit_log()]
    assert ("reindex", "ok") in actions and ("reindex", "started") in actions


def test_console_translate() -> None:
    assert translate("  ") is None
    assert translate("/digest subscribe x 08:00") == Event("console", "console", "console", "subscribe x 08:00", command="digest")
    assert translate("what now?") == Event("console", "console", "console", "what now?")
    assert "Error: boom" in render(Reply.error("boom", "abc123")) and "abc123" in render(Reply.error("boom", "abc123"))


async def test_thread_followups_survive_restart(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=UNLIMITED)
    first = Event("slack", "C1", "U1", "What did the Kremlin demand?", thread="T1")
    r1 = await bot.handle(first)
    assert r1 is not None and r1.answer and r1.answer.quotes
    bot.state.close()
    # a new bot over the same data dir: the thread context is read from SQLite
    again = build_bot(tmp_path, paths=[], bot=UNLIMITED)
    r2 = await again.handle(Event("slack", "C1", "U1", "and Ukraine?", thread="T1"))
    assert r2 is not None and r2.meta["understood"] == "What did Ukraine demand?"
    assert r2.answer and any("Kyiv insisted" in q.text for q in r2.answer.quotes)
    r3 = await again.handle(Event("slack", "C1", "U1", "what about offers?", thread="T1"))
    assert r3 is not None and r3.meta["understood"] == "What did Ukraine offer?"
    other = await again.handle(Event("slack", "C1", "U1", "and Ukraine?", thread="T2"))
    assert other is not None and "understood" not in other.meta  # another thread has no context
