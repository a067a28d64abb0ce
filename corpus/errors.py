"""Parley's error hierarchy: one base so the bot can show any of them in plain words."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class ParleyError(Exception):
    """Base of every error Parley raises on purpose; its message is shown to users."""


class ConfigError(ParleyError):
    """A config file is missing, malformed, or has a wrong key or value."""


class LoadError(ParleyError):
    """An input file or page could not be turned into an article."""


class IndexUnavailable(ParleyError):
    """The vector index (e.g. a Chroma server) cannot be reached."""


class IndexMismatch(ParleyError):
    """The index was built with another embedding model or dimension; a reindex is needed."""


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed file is a ConfigError naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
