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


FAULTS = ("index_error", "chroma_down", "timeout", "oversized")


def inject_fault(bot: Bot, fault: str, tmp_path: Path) -> tuple[str, str]:
    """Break a real bot's surroundings as production can: the index's collection vanishes (index error), the
    Chroma server is down, retrieval exceeds the answer timeout, or the answer is too big for any message.
    Returns (question to ask, text the visible reply must contain)."""
    from index.vectors import VectorStore, make_client_factory
    from tests.chroma_server import free_port

    engine = bot.engine
    if fault == "index_error":
        engine.vectors.drop(str(engine.stats()["index_version"]))  # type: ignore[attr-defined]
        return "What did the Kremlin demand?", "Sorry"
    if fault == "chroma_down":
        url = f"http://127.0.0.1:{free_port()}"
        engine.vectors = VectorStore(make_client_factory(url, tmp_path), url)  # type: ignore[attr-defined]
        return "What did the Kremlin demand?", "unreachable"
    if fault == "timeout":
        bot.settings = bot.settings.model_copy(update={"answer_timeout": 0.0001})
        return "What did the Kremlin demand?", "took too long"
    if fault == "oversized":
        folder = tmp_path / "huge"
        folder.mkdir(exist_ok=True)
        clause = "the zebrafish delegation demanded quotas on kelp and on every other harvest along the coast"
        (folder / "huge.md").write_text("---\ntitle: Zebrafish talks\nsource: Long Wire\nurl: https://example.org/huge\n---\n"
                                        + ", and ".join([clause] * 120) + ".\n")
        engine.ingest([folder])  # type: ignore[attr-defined]
        return "What did the zebrafish delegation demand?", "zebrafish delegation demanded"
    raise ValueError(fault)
