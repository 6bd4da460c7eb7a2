"""A bounded thread-pool map: results as they complete, with a hook while waiting (progress ticks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WAIT_SECONDS = 0.2  # how often on_wait runs while nothing completes


def bounded_map(
    pool: Executor,
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    window: int,
    on_wait: Callable[[], None] | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> Iterator[R]:
    """pool.map with at most `window` items in flight (memory stays bounded for millions of items),
    yielding results as they complete; on_wait runs at least every WAIT_SECONDS.

    When the consumer stops early (an error, Ctrl-C), on_interrupt runs (e.g. to tell workers to stop
    at their next chunk) and the futures not yet started are cancelled.
    """
    iterator = iter(items)
    running: set[Future[R]] = set()
    try:
        while True:
            while len(running) < window:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                running.add(pool.submit(func, item))
            if not running:
                return
            done, running = wait(running, timeout=WAIT_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
            if on_wait is not None:
                on_wait()
    finally:
        if running:
            if on_interrupt is not None:
                on_interrupt()
            for future in running:
                future.cancel()
