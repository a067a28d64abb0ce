"""The neutral Event that adapters build and the Reply that the core returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.digest import Digest
from index.types import Answer


@dataclass(frozen=True)
class Event:
    """One user request, whatever platform delivered it.

    `command` is the command name ("ask" for mentions, DMs and console lines);
    `text` is the command's argument text (the question for "ask").
    """

    platform: str
    channel: str
    user: str
    text: str
    command: str = "ask"
    thread: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What the core returns; adapters render it and never add content of their own.

    kind: "answer" (see `answer`), "digest" (see `digest`), "text" (a notice or help: `title` and
    `lines`), or "error" (a visible failure with a short `ref` that is also in the log).
    """

    kind: str
    answer: Answer | None = None
    digest: Digest | None = None
    title: str = ""
    lines: tuple[str, ...] = ()
    ephemeral: bool = False
    ref: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def notice(cls, title: str, *lines: str, ephemeral: bool = False) -> Reply:
        return cls(kind="text", title=title, lines=tuple(lines), ephemeral=ephemeral)

    @classmethod
    def error(cls, message: str, ref: str) -> Reply:
        return cls(kind="error", title=message, ref=ref, ephemeral=False)
