"""Pure Slack inbound translation against recorded-style payloads in tests/fixtures/slack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import is_retry
from bot.adapters.slack_render import is_public, translate
from bot.core import COMMANDS
from bot.events import Event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def test_mention_becomes_a_question_answered_in_its_thread() -> None:
    assert translate(fixture("app_mention")) == Event("slack", "C111", "U1", "what did the Kremlin demand?", "ask", thread="1763290000.000100")


def test_mention_inside_a_thread_keeps_the_thread_and_strips_a_labelled_mention() -> None:
    event = translate(fixture("app_mention_in_thread"))
    assert event == Event("slack", "C111", "U1", "and Ukraine?", "ask", thread="1763290000.000100")


def test_mention_help_runs_the_help_command() -> None:
    event = translate(fixture("app_mention_help"))
    assert event is not None and (event.command, event.text) == ("help", "")


def test_mention_slash_word_runs_that_command() -> None:
    body = fixture("app_mention")
    body["event"]["text"] = "<@UBOT> /digest russia-ukraine"
    event = translate(body)
    assert event is not None and (event.command, event.text) == ("digest", "russia-ukraine")


def test_direct_message_is_a_question() -> None:
    assert translate(fixture("message_im")) == Event("slack", "D1", "U1", "What did Kyiv insist on?", "ask", thread="1763290300.000400")


@pytest.mark.parametrize("name", ["message_im_bot_message", "message_im_own_user", "message_im_changed", "message_channels"])
def test_own_bot_edited_and_channel_messages_are_dropped(name: str) -> None:
    assert translate(fixture(name)) is None


def test_other_payloads_are_dropped() -> None:
    assert translate({"type": "url_verification", "challenge": "x"}) is None
    assert translate({"type": "event_callback", "event": {"type": "reaction_added", "user": "U1"}}) is None
    assert translate({"type": "block_actions", "actions": []}) is None


def test_slash_ask_is_ephemeral_by_default() -> None:
    body = fixture("slash_ask")
    assert translate(body) == Event("slack", "C111", "U1", "What did Russia demand?", "ask")
    assert not is_public(body)


def test_slash_ask_public_flag_is_removed_from_the_question() -> None:
    body = fixture("slash_ask_public")
    assert translate(body) == Event("slack", "C111", "U1", "What did Russia demand?", "ask")
    assert is_public(body)


def test_public_flag_must_be_a_whole_word() -> None:
    body = {**fixture("slash_ask"), "text": "--publication dates of the talks?"}
    event = translate(body)
    assert event is not None and event.text == "--publication dates of the talks?" and not is_public(body)


def test_parley_first_word_picks_the_command() -> None:
    assert translate(fixture("slash_parley_help")) == Event("slack", "C111", "U1", "", "help")
    assert translate(fixture("slash_parley_empty")) == Event("slack", "C111", "U1", "", "help")
    body = fixture("slash_parley_public_digest")
    assert translate(body) == Event("slack", "C111", "U1", "russia-ukraine", "digest")
    assert is_public(body)


def test_every_command_table_entry_is_its_own_slash_command() -> None:
    for name in COMMANDS:
        event = translate({**fixture("slash_ask"), "command": f"/{name}", "text": "x y"})
        assert event is not None and (event.command, event.text) == (name, "x y")
    digest = translate(fixture("slash_digest"))
    assert digest is not None and (digest.command, digest.text) == ("digest", "subscribe russia-ukraine 08:30 Europe/Berlin")


def test_socket_mode_envelope_payload_translates_like_http() -> None:
    assert translate(fixture("socket_mode_events_api")["payload"]) == translate(fixture("app_mention"))
    assert translate(fixture("socket_mode_slash_commands")["payload"]) == translate(fixture("slash_ask"))


def test_retry_header_values() -> None:
    assert is_retry({"x-slack-retry-num": ["1"]}) and is_retry({"x-slack-retry-num": "2"})
    assert not is_retry({}) and not is_retry({"x-slack-retry-num": ["0"]})  # Socket Mode first deliveries carry 0
    assert not is_retry({"x-slack-retry-num": ["junk"]})


def test_admin_command_translates_without_deciding_who_may_run_it() -> None:
    # the core refuses non-admins (and audits it); the adapter only names the command
    assert translate(fixture("slash_reindex")) == Event("slack", "C111", "U1", "", "reindex")
