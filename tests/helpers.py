"""Builders for tests: a real Engine and Bot over a temporary data dir, with the deterministic hash embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import Bot
from bot.settings import BotSettings, Settings, load_settings
from bot.wiring import build_bot as wire_bot, open_engine
from index.embedder import HashEmbedder
from index.engine import Engine

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpus" / "demo"
SHARED = REPO.parent / "shared"


def settings_for(tmp_path: Path, *, index: dict[str, Any] | None = None, bot: dict[str, Any] | None = None) -> Settings:
    base = load_settings(REPO / "config" / "parley.toml", tmp_path / "data")
    idx = base.index.model_copy(update={"model": "hash-256", **(index or {})})
    bot_settings = BotSettings.model_validate({**base.bot.model_dump(), **(bot or {})})
    return base.model_copy(update={"index": idx, "bot": bot_settings})


def build_engine(tmp_path: Path, paths: list[Path] | None = None, **kw: Any) -> Engine:
    """An Engine with the hash embedder and an embedded Chroma, with `paths` (default: the demo corpus) ingested."""
    settings = settings_for(tmp_path, **kw)
    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    engine.ingest(paths if paths is not None else [DEMO])
    return engine


def build_bot(tmp_path: Path, paths: list[Path] | None = None, **kw: Any) -> Bot:
    """A real Bot over a real Engine (see build_engine). `bot={...}` overrides bot settings,
    e.g. bot={"rate_limit": {"per_user": 0, "per_channel": 0}, "admins": {"slack": ["UADMIN"]}}."""
    settings = settings_for(tmp_path, **kw)
    engine = open_engine(settings, embedder=HashEmbedder(256, "hash-256"))
    engine.ingest(paths if paths is not None else [DEMO])
    return wire_bot(settings, engine)
