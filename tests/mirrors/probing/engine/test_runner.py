"""The runner's limits: never more than per_host probes of one host, never more than workers in all."""

from __future__ import annotations

import threading
import time
from collections import Counter

from mirrors.probing.engine.runner import Job, run_jobs


def test_per_host_and_worker_limits_hold_and_every_job_runs():
    lock = threading.Lock()
    active: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    total_peak = [0]

    def work(item):
        host, _ = item
        with lock:
            active[host] += 1
            peak[host] = max(peak[host], active[host])
            total_peak[0] = max(total_peak[0], sum(active.values()))
        time.sleep(0.02)
        with lock:
            active[host] -= 1
        return item

    jobs = [Job(host, (host, n)) for host in ("big", "small", "other") for n in range(12 if host == "big" else 3)]
    results = []
    count = run_jobs(
        jobs, work=work, on_result=lambda item, result: results.append(result), on_error=None, workers=4, per_host=2
    )
    assert count == len(jobs) == len(results)
    assert sorted(results) == sorted(job.item for job in jobs)
    assert max(peak.values()) == 2 and total_peak[0] <= 4


def test_a_crashing_probe_becomes_an_error_result():
    def work(item):
        if item == 2:
            raise RuntimeError("boom")
        return "fine"

    results = {}
    run_jobs(
        [Job("h", n) for n in range(4)],
        work=work,
        on_result=results.__setitem__,
        on_error=lambda item, error: f"crashed: {error}",
        workers=2,
        per_host=1,
    )
    assert results == {0: "fine", 1: "fine", 2: "crashed: boom", 3: "fine"}
