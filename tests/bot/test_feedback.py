"""Answer buttons through the neutral core: More quotes, Post to channel, votes, channel settings, export to eval."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.adapters.console import render, translate
from bot.cli import app
from bot.core import Bot
from bot.events import Button, Event, Reply
from bot.feedback import export_qa
from bot.view import view, votable
from index.evaluate import load_qa
from tests.helpers import build_bot

SETTINGS = {"rate_limit": {"per_user": 0, "per_channel": 0}, "admins": {"console": ["admin"]}}


def event(text: str, command: str = "ask", user: str = "U1", channel: str = "C1") -> Event:
    return Event("console", channel, user, text, command=command)


async def press(bot: Bot, button: Button, user: str = "U1", channel: str = "C1") -> Reply:
    reply = await bot.handle(event(button.args, button.command, user, channel))
    assert reply is not None
    return reply


async def asked(bot: Bot, question: str = "What did the Kremlin demand?", channel: str = "C1") -> Reply:
    reply = await bot.handle(event(question, channel=channel))
    assert reply is not None and reply.kind == "answer" and reply.answer is not None and reply.answer_id
    return reply


def buttons(reply: Reply, share: bool = False) -> dict[str, Button]:
    v = view(reply, share=share)
    named = {b.label: b for b in v.buttons}
    named.update({f"{b.label}{n}": b for n, q in enumerate(v.quotes, v.first) for b in q.buttons})
    return named


async def test_more_quotes_pages_the_stored_answer_in_place(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot={**SETTINGS, "top": 1})
    first = await asked(bot, "What did Moscow and Kyiv demand at the talks?")
    assert first.answer is not None
    total = len(first.answer.quotes) + len(first.answer.more)
    assert total >= 2, "the demo corpus has more than one demand"
    seen = [q.text for q in first.answer.quotes]
    reply, page = first, 0
    while "More quotes" in buttons(reply):
        reply = await press(bot, buttons(reply)["More quotes"])
        page += 1
        assert reply.replace and reply.page == page
        v = view(reply)
        assert v.first == len(seen) + 1 and v.heading.startswith(f"More from the indexed articles (quotes {v.first}–")
        seen += [q.text for q in v.quotes]
    assert len(seen) == total and len(set(seen)) == total
    assert "quote" in render(reply) and f"{total}. " in render(reply)


async def test_post_to_channel_reposts_the_same_answer_publicly(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    reply = await asked(bot)
    assert "Post to channel" not in buttons(reply) and "Post to channel" in buttons(reply, share=True)
    posted = await press(bot, buttons(reply, share=True)["Post to channel"])
    assert posted.kind == "answer" and not posted.ephemeral and not posted.replace
    assert posted.answer is not None and reply.answer is not None and posted.answer.to_record() == reply.answer.to_record()
    assert view(posted).lines[0] == "Question: What did the Kremlin demand?"


async def test_votes_are_stored_with_question_passage_reason_platform_and_time(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    reply = await asked(bot)
    assert reply.answer is not None
    up = await press(bot, buttons(reply)["👍1"])
    assert up.title == "Thanks! Recorded 👍 for quote 1." and up.ephemeral
    down = await press(bot, buttons(reply)["👎1"], user="U2")
    reasons = {b.label: b for b in down.buttons}
    assert list(reasons) == ["Wrong party", "Outdated", "Not an answer", "Bad link", "Duplicate"]
    why = await press(bot, reasons["Outdated"], user="U2")
    assert why.replace and "outdated" in why.title
    votes = {v.voter: v for v in bot.state.votes()}
    q = reply.answer.quotes[0]
    assert votes["U1"].vote == "up" and votes["U2"].vote == "down" and votes["U2"].reason == "outdated"
    for v in votes.values():
        assert (v.question, v.text, v.article_id, v.platform, v.channel) == (reply.answer.question, q.text, q.article_id, "console", "C1")
        assert v.at.startswith("20")
    again = await press(bot, buttons(reply)["👎1"])  # a voter changes their mind: one vote per voter and quote
    assert again.kind == "text" and {v.voter: v.vote for v in bot.state.votes()} == {"U1": "down", "U2": "down"}


async def test_bad_votes_and_expired_answers_get_clear_messages(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    expired = await bot.handle(event("0123456789ab 1 up", "vote"))
    assert expired is not None and "no longer stored" in expired.title
    await asked(bot)
    for text in ("9 up", "1 sideways", "1 down because", "x"):
        reply = await bot.handle(event(text, "vote"))
        assert reply is not None and reply.kind == "text" and ("couldn't read" in reply.title or "Unknown reason" in reply.title), text
    typed = await bot.handle(event("1 down duplicate", "vote"))  # typed, without an id: the user's latest answer
    assert typed is not None and "duplicate" in typed.title
    assert [(v.vote, v.reason) for v in bot.state.votes()] == [("down", "duplicate")]


async def test_channel_settings_hide_buttons_and_make_votes_anonymous(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    refused = await bot.handle(event("feedback off", "settings"))
    assert refused is not None and "admins only" in refused.title
    bad = await bot.handle(event("feedback maybe", "settings", user="admin"))
    assert bad is not None and "Unknown setting" in bad.title
    done = await bot.handle(event("feedback off", "settings", user="admin"))
    assert done is not None and "feedback: off (👍/👎 under each quote)" in done.lines
    hidden = await asked(bot)
    assert not any(k.startswith(("👍", "👎")) for k in buttons(hidden))
    elsewhere = await asked(bot, channel="C2")
    assert "👍1" in buttons(elsewhere)
    await bot.handle(event("votes anonymous", "settings", user="admin", channel="C2"))
    await press(bot, buttons(elsewhere)["👍1"], channel="C2")
    (vote,) = bot.state.votes()
    assert vote.voter.startswith("anon-") and "U1" not in vote.voter


async def test_console_shows_buttons_as_commands(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot={**SETTINGS, "top": 1})
    reply = await asked(bot, "What did Moscow and Kyiv demand at the talks?")
    text = render(reply)
    assert "Rate a quote: /vote N up|down [reason]" in text
    more_line = next(line for line in text.splitlines() if line.startswith("[More quotes] /more "))
    more = translate(more_line.split(" ", 2)[2])
    assert more is not None and more.command == "more"
    page = await bot.handle(more)
    assert page is not None and page.page == 1


async def test_exported_votes_are_a_qa_file_that_parley_eval_runs(tmp_path: Path) -> None:
    bot = build_bot(tmp_path, bot=SETTINGS)
    reply = await asked(bot)
    assert reply.answer is not None
    await press(bot, buttons(reply)["👍1"])
    other = await asked(bot, "Who is mediating the talks?")
    assert other.answer is not None and votable(other.answer)
    await bot.handle(event("1 down not_an_answer", "vote"))  # only a 👎: nothing to score it against
    items, skipped = export_qa(bot.state.votes())
    assert skipped == 1 and len(items) == 1
    assert items[0]["question"] == "What did the Kremlin demand?" and items[0]["evidence"] == [reply.answer.quotes[0].text]
    data_dir = tmp_path / "data"
    qa = tmp_path / "feedback.jsonl"
    config = ["--data-dir", str(data_dir)]
    exported = CliRunner().invoke(app, [*config, "feedback", "export", "--out", str(qa)])
    assert exported.exit_code == 0, exported.output
    assert [item.question for item in load_qa(qa)] == ["What did the Kremlin demand?"]
    bot.close()
    bot.engine.close()  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, [*config, "eval", str(qa), "--json"], env={"PARLEY_CONFIG": str(_hash_config(tmp_path))})
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{") :])
    assert metrics["answerable"] == 1 and metrics["R@1"] == 1.0 and metrics["verbatim"] == 1.0


def _hash_config(tmp_path: Path) -> Path:
    """A config naming the test embedder, so `parley eval` reads the index the test bot built."""
    path = tmp_path / "parley.toml"
    path.write_text(f'negotiations_file = "{Path(__file__).resolve().parents[2] / "config" / "negotiations.toml"}"\n[index]\nmodel = "hash-256"\n')
    return path
