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
    addressed: bool = True  # False for a thread reply that does not mention Parley (see ChannelSettings.threads)


@dataclass(frozen=True)
class Button:
    """A button that runs a command of the table when pressed: `command` with `args` as its text."""

    label: str
    command: str
    args: str = ""
    primary: bool = False

    @property
    def payload(self) -> str:
        """`command args`, what adapters put in a button's value / custom_id (see `Button.parse`)."""
        return f"{self.command} {self.args}".strip()

    @staticmethod
    def parse(payload: str) -> tuple[str, str]:
        command, _, args = payload.strip().partition(" ")
        return command, args.strip()


@dataclass(frozen=True)
class Reply:
    """What the core returns; adapters render it and never add content of their own.

    kind: "answer" (see `answer`), "digest" (see `digest`), "text" (a notice or help: `title` and
    `lines`), or "error" (a visible failure with a short `ref` that is also in the log).

    An answer stored for its buttons has `answer_id`; `page` > 0 shows the stored answer's further quotes
    (`page` × top onwards, "More quotes"); `feedback` shows 👍/👎 under each quote; `buttons` are extra
    actions (e.g. a 👎's reasons). `replace` asks the adapter to update the message a button was pressed
    on instead of posting a new one.
    """

    kind: str
    answer: Answer | None = None
    digest: Digest | None = None
    title: str = ""
    lines: tuple[str, ...] = ()
    ephemeral: bool = False
    ref: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    answer_id: str = ""
    page: int = 0
    top: int = 3
    feedback: bool = False
    buttons: tuple[Button, ...] = ()
    replace: bool = False

    @classmethod
    def notice(cls, title: str, *lines: str, ephemeral: bool = False, replace: bool = False) -> Reply:
        return cls(kind="text", title=title, lines=tuple(lines), ephemeral=ephemeral, replace=replace)

    @classmethod
    def error(cls, message: str, ref: str) -> Reply:
        return cls(kind="error", title=message, ref=ref, ephemeral=False)
