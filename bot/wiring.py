"""Builds the engine and the bot from settings: the one place that wires concrete clients together."""

from __future__ import annotations

import logging

from bot.core import Bot
from bot.settings import Settings
from bot.state import BotState
from index.embedder import Embedder
from index.engine import Engine
from index.negotiations import load_tracked

logger = logging.getLogger(__name__)


def open_engine(settings: Settings, embedder: Embedder | None = None) -> Engine:
    """The index engine over `settings.data_dir`, with the tracked negotiations loaded."""
    tracked = load_tracked(settings.negotiations_file)
    return Engine(settings.index, settings.data_dir, tracked, embedder=embedder)


def build_bot(settings: Settings, engine: Engine) -> Bot:
    """The bot core over `engine`, with its own state in <data_dir>/bot.sqlite3."""
    return Bot(engine, settings.bot, BotState(settings.data_dir / "bot.sqlite3"))
