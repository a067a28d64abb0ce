"""The settings schema: config/parley.toml read once with tomllib into frozen, validated models."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpus.errors import ConfigError, read_toml
from index.settings import IndexSettings

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateLimit(_Frozen):
    window: float = Field(60.0, gt=0, description="Window length in seconds.")
    per_user: int = Field(10, ge=0, description="Requests per user per window (0 = unlimited).")
    per_channel: int = Field(30, ge=0, description="Requests per channel per window (0 = unlimited).")


class Admins(_Frozen):
    slack: tuple[str, ...] = Field((), description="Slack user IDs allowed to run admin commands.")
    discord: tuple[str, ...] = Field((), description="Discord user or role IDs allowed to run admin commands.")
    console: tuple[str, ...] = Field(("console",), description="Console users (the local user is 'console').")

    def for_platform(self, platform: str) -> tuple[str, ...]:
        return tuple(getattr(self, platform, ()))


class AdminChannels(_Frozen):
    slack: str = Field("", description="Slack channel ID where reindex quality-gate results are posted.")
    discord: str = Field("", description="Discord channel ID where reindex quality-gate results are posted.")
    console: str = Field("", description="Console channel name (the console prints every post).")

    def for_platform(self, platform: str) -> str:
        return str(getattr(self, platform, ""))


class BotSettings(_Frozen):
    max_question_chars: int = Field(500, ge=10, description="Longer questions are refused with a clear message.")
    answer_timeout: float = Field(30.0, gt=0, description="Seconds before a question is answered with a timeout error.")
    workers: int = Field(2, ge=1, le=32, description="Threads running retrieval off the event loop.")
    top: int = Field(3, ge=1, le=20, description="Quotes per answer in chat.")
    thread_ttl: float = Field(86400.0, gt=0, description="Seconds a thread's context is kept for follow-up questions.")
    answer_ttl: float = Field(30 * 86400.0, gt=0, description="Seconds an answer is kept for its buttons (More quotes, Post to channel, votes).")
    rate_limit: RateLimit = RateLimit()
    admins: Admins = Admins()
    admin_channel: AdminChannels = AdminChannels()


class Settings(_Frozen):
    data_dir: Path = Field(Path("data"), description="Where articles, indexes and state live.")
    negotiations_file: Path = Field(CONFIG_DIR / "negotiations.toml", description="Tracked negotiations.")
    index: IndexSettings = IndexSettings()
    bot: BotSettings = BotSettings()


def load_settings(path: Path | None = None, data_dir: Path | None = None) -> Settings:
    """Read settings from `path` (default config/parley.toml); errors name the key and the file."""
    path = path or Path(os.environ.get("PARLEY_CONFIG", CONFIG_DIR / "parley.toml"))
    raw = read_toml(path, "config file")
    env_dir = os.environ.get("PARLEY_DATA_DIR")
    if data_dir is not None:
        raw["data_dir"] = str(data_dir)
    elif env_dir:
        raw["data_dir"] = env_dir
    if "negotiations_file" in raw and not Path(raw["negotiations_file"]).is_absolute():
        raw["negotiations_file"] = str(path.parent / raw["negotiations_file"])
    index = raw.get("index")
    if isinstance(index, dict) and isinstance(index.get("quality_gate"), list):
        index["quality_gate"] = [str(path.parent / str(f)) if not Path(str(f)).is_absolute() else str(f) for f in index["quality_gate"]]
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
