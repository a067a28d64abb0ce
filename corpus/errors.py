"""Parley's error hierarchy: one base so the bot can show any of them in plain words."""

from __future__ import annotations


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
