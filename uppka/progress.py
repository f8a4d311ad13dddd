"""How far long work has come, told to whoever listens (a background job's record), without
the work knowing about jobs.

Work that can take long says which stage it is at (``stage("check", total=rows)``) and counts
what it has done (``step()``, or ``counted(rows)`` around a loop). Outside a job nobody
listens and these cost a context-variable read. ``listening(report)`` makes ``report(stage,
done, total)`` hear them in the block, at most every ``every`` seconds (and at each new stage).
"""

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class _Listener:
    report: Callable[[str, int, int | None], None]
    every: float
    stage: str = ""
    done: int = 0
    total: int | None = None
    last: float = 0.0

    def tell(self, force=False):
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            self.report(self.stage, self.done, self.total)


_listener: ContextVar[_Listener | None] = ContextVar("uppka_progress", default=None)


@contextmanager
def listening(report: Callable[[str, int, int | None], None], *, every: float = 1.0):
    token = _listener.set(_Listener(report, every))
    try:
        yield
    finally:
        _listener.reset(token)


def stage(name: str, *, total: int | None = None) -> None:
    """A new stage begins (its count starts at 0); ``total`` if known."""
    listener = _listener.get()
    if listener is not None:
        listener.stage, listener.done, listener.total = name, 0, total
        listener.tell(force=True)


def step(count: int = 1) -> None:
    listener = _listener.get()
    if listener is not None:
        listener.done += count
        listener.tell()


def counted(items: Iterable) -> Iterator:
    """``items``, counting each one as a step of the stage at hand."""
    listener = _listener.get()
    if listener is None:
        yield from items
        return
    for item in items:
        yield item
        listener.done += 1
        if listener.done % 64 == 0:  # the clock is read now and then, not on every row
            listener.tell()
    listener.tell(force=True)


def report(stage_name: str, done: int, total: int | None = None) -> None:
    """All at once, for work that counts by itself (the import's reader and checker take a
    ``progress(stage, done, total)`` callable: this is it)."""
    listener = _listener.get()
    if listener is not None:
        new_stage = listener.stage != stage_name
        listener.stage, listener.done, listener.total = stage_name, done, total
        listener.tell(force=new_stage)
