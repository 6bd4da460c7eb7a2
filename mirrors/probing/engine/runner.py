"""Many probes at once: a thread pool with a limit per host, results handed back on the calling thread.

Probes are network-bound (hashing releases the GIL), so threads suit them; the caller's thread alone
touches the database (on_result), which keeps SQLite and connection handling simple. At most `workers`
probes are in flight, and at most `per_host` of one host, taken round-robin over hosts so that one big
host does not starve the rest. Memory: the job list and the in-flight probes' outcomes, nothing more.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True)
class Job(Generic[J]):
    host: Hashable
    item: J


class _Scheduler(Generic[J]):
    def __init__(self, jobs: Iterable[Job[J]], per_host: int) -> None:
        self.per_host = per_host
        self.pending: dict[Hashable, deque[Job[J]]] = {}
        for job in jobs:
            self.pending.setdefault(job.host, deque()).append(job)
        self.order: deque[Hashable] = deque(self.pending)
        self.active: Counter[Hashable] = Counter()

    def take(self) -> Job[J] | None:
        """The next job of a host below its limit, round-robin; None when none can start now."""
        for _ in range(len(self.order)):
            host = self.order[0]
            self.order.rotate(-1)
            if self.active[host] < self.per_host:
                queue = self.pending[host]
                job = queue.popleft()
                if not queue:
                    self.order.remove(host)
                    del self.pending[host]
                self.active[host] += 1
                return job
        return None

    def done(self, job: Job[J]) -> None:
        self.active[job.host] -= 1

    @property
    def empty(self) -> bool:
        return not self.order


def run_jobs(
    jobs: Iterable[Job[J]],
    *,
    work: Callable[[J], R],
    on_result: Callable[[J, R], None],
    on_error: Callable[[J, BaseException], R],
    workers: int,
    per_host: int,
) -> int:
    """Run work(item) for every job under the limits; on_result is called here, in completion order."""
    scheduler = _Scheduler(jobs, per_host)
    running: dict[Future, Job[J]] = {}
    count = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        while running or not scheduler.empty:
            while len(running) < workers and (job := scheduler.take()) is not None:
                running[pool.submit(work, job.item)] = job
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                scheduler.done(job)
                try:
                    result = future.result()
                except Exception as error:  # a bug in one probe must not stop the run
                    log.exception("probe of %r crashed", job.item)
                    result = on_error(job.item, error)
                on_result(job.item, result)
                count += 1
    return count
