"""Background admin jobs (reindex) with progress: one job at a time, cancellable, status on request."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate and self.total else None

    def line(self) -> str:
        eta = f", about {self.eta:.0f} s left" if self.eta is not None else ""
        return f"{self.percent:.0f}% ({self.done}/{self.total} passages, {self.rate:.0f} passages/s{eta})"


@dataclass
class Job:
    name: str
    user: str
    progress: Progress = field(default_factory=Progress)
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[str] | None = None
    result: str = ""
    error: str = ""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class Jobs:
    """Runs at most one admin job; the blocking work runs in a thread so questions keep being answered."""

    def __init__(self) -> None:
        self.current: Job | None = None

    def start(
        self,
        name: str,
        user: str,
        work: Callable[[Callable[[int, int], None], threading.Event], str],
        on_done: Callable[[Job], Awaitable[None]] | None = None,
    ) -> Job | None:
        """Start `work(progress, cancel)` unless a job is running (then None)."""
        if self.current is not None and self.current.running:
            return None
        job = Job(name, user)

        async def runner() -> str:
            try:
                job.result = await asyncio.to_thread(work, job.progress.update, job.cancel)
            except Exception as exc:  # noqa: BLE001  reported to the admin, never raised into the loop
                logger.exception("%s failed", name)
                job.error = str(exc) or type(exc).__name__
            if on_done is not None:
                await on_done(job)
            return job.result

        job.task = asyncio.create_task(runner(), name=f"parley-{name}")
        self.current = job
        return job
