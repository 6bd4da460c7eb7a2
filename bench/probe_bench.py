"""Benchmark of a probe run: 1,000 simulated mirror URLs on 127.0.0.1, against the floor of one read timeout.

    .venv/bin/python bench/probe_bench.py [--urls 1000] [--read-timeout 10] [--revisions 10]

A temporary SQLite database and MIRROR_ROOT hold an origin with N revisions of `full` (synthetic trees,
each revision adds a package). One aiohttp server in its own process plays every mirror, each under its
own path prefix, and each registered as its own approved host (so the per-host limit applies per mirror):
10 % hang on repomd.json (never answer), 5 % serve corrupt package files, the rest are current or behind
by 1 to 5 revisions. The run is the real `probes_run` with the project's settings (PROBE_WORKERS,
PROBE_PER_HOST, PROBE_SAMPLE_FILES...), except PROBE_READ_TIMEOUT (--read-timeout) and
PROBE_ALLOW_PRIVATE (on: everything is on 127.0.0.1).

Measures, in the same run: the baseline, one probe of one hanging mirror (the floor: a hanging mirror
costs at least a read timeout), and the whole run; checks that every URL was classified as planned;
reports the peak RSS of this process (the server is another process). Prints run / read timeout.
Targets: the run within read timeout + 30 s, peak memory under 300 MB, every URL right.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANG, CORRUPT = "hang", "corrupt"


def plan_mirrors(count: int, revisions: int, seed: int = 7) -> list[tuple[str, int]]:
    """(kind, revision) per mirror: kind is hang, corrupt, or ok; revision is the one it serves."""
    rng = random.Random(seed)
    kinds = [HANG] * (count // 10) + [CORRUPT] * (count // 20)
    kinds += ["ok"] * (count - len(kinds))
    rng.shuffle(kinds)
    plan = []
    for kind in kinds:
        behind = rng.choice([0, 0, 0, 1, 2, 3, 5]) if kind == "ok" else 0
        plan.append((kind, revisions - behind))
    return plan


def serve(port: int, trees: dict[int, dict[str, bytes]], plan: list[tuple[str, int]], ready) -> None:
    """The mirrors' server (its own process): /m<index>/<path of the tree>."""
    import logging

    from aiohttp import web

    logging.disable(logging.CRITICAL)  # cancelled hangs at shutdown are expected

    async def handle(request: web.Request) -> web.StreamResponse:
        prefix, _, path = request.match_info["tail"].partition("/")
        try:
            kind, revision = plan[int(prefix[1:])]
        except (ValueError, IndexError):
            raise web.HTTPNotFound() from None
        if kind == HANG and path == "repodata/repomd.json":
            await asyncio.sleep(3600)
        body = trees[revision].get(path)
        if body is None:
            raise web.HTTPNotFound()
        if kind == CORRUPT and path.startswith("packages/"):
            body = bytes(reversed(body))
        return web.Response(body=body, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, handle_signals=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(work: Path, read_timeout: int) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["MIRROR_ROOT"] = str(work / "mirror")
    os.environ["VAR_DIR"] = str(work / "var")
    os.environ["PROBE_READ_TIMEOUT"] = str(read_timeout)
    os.environ["PROBE_ALLOW_PRIVATE"] = "1"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:  # a throwaway database: speed over durability
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")


def register(history, plan: list[tuple[str, int]], port: int) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from metadata.models import Collection, Revision
    from mirrors.models import Host, HostState, HostURL, Site

    collection = Collection.objects.get(slug="full")
    history.write_origin(Path(settings.MIRROR_ROOT) / "pub")
    Revision.objects.bulk_create(
        [
            Revision(collection=collection, number=r.number, repomd_sha256=r.sha256, timestamp=r.timestamp)
            for r in history.revisions
        ]
    )
    owner = get_user_model().objects.create_user("bench", "bench@example.org", "bench-pass-1234")
    site = Site.objects.create(name="bench", owner=owner, contact_email="bench@example.org")
    now = timezone.now()
    hosts = Host.objects.bulk_create(
        [
            Host(site=site, name=f"m{index}.mirror.example.org", country="DE", continent="EU", state=HostState.APPROVED,
                 verification_token=f"token-{index}", verified_at=now)
            for index in range(len(plan))
        ]
    )  # fmt: skip
    HostURL.objects.bulk_create(
        [
            HostURL(host=host, collection=collection, scheme="http", url=f"http://127.0.0.1:{port}/m{index}/")
            for index, host in enumerate(hosts)
        ]
    )


def check(plan: list[tuple[str, int]], revisions: int) -> list[str]:
    from mirrors.models import HostURL, ProbeState

    wrong = []
    for url in HostURL.objects.all():
        index = int(url.url.rstrip("/").rsplit("/m", 1)[1])
        kind, revision = plan[index]
        if kind == HANG:
            ok = url.probe_state == ProbeState.BROKEN and "no answer" in url.probe_reason
        elif kind == CORRUPT:
            ok = url.probe_state == ProbeState.CORRUPT
        elif revision == revisions:
            ok = url.probe_state == ProbeState.CURRENT
        else:
            ok = url.probe_state == ProbeState.BEHIND and url.probe_revisions_behind == revisions - revision
        if not ok:
            wrong.append(f"{url.url}: planned {kind} r{revision}, got {url.probe_state} {url.probe_reason}")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--read-timeout", type=int, default=10)
    parser.add_argument("--revisions", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="probe-bench-") as temp:
        work = Path(temp)
        setup_django(work, args.read_timeout)
        from django.conf import settings

        from mirrors.probing.engine.probe import Prober
        from mirrors.probing.engine.sampling import SamplePlanner
        from mirrors.probing.engine.types import ProbeTarget
        from mirrors.probing.selectors import revision_book
        from mirrors.probing.services import probe_limits, probes_run
        from tests.mirrors.probing.trees import make_history

        history = make_history("full", args.revisions)
        trees = {revision.number: revision.files for revision in history.revisions}
        plan = plan_mirrors(args.urls, args.revisions)
        port = free_port()
        ready = multiprocessing.get_context("spawn").Event()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(port, trees, plan, ready), daemon=True
        )
        server.start()
        ready.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        try:
            register(history, plan, port)
            # Baseline: one probe of one hanging mirror, the floor of any run that meets one.
            from metadata.models import Collection

            limits = probe_limits()
            hanging = plan.index(next(item for item in plan if item[0] == HANG))
            prober = Prober(limits=limits, planner=SamplePlanner(None, max_bytes=limits.sample_max_bytes))
            started = time.monotonic()
            prober.probe(
                ProbeTarget(f"http://127.0.0.1:{port}/m{hanging}/", "full"),
                revision_book(Collection.objects.get(slug="full")),
            )
            floor = time.monotonic() - started

            started = time.monotonic()
            summary = probes_run(seed=1)
            elapsed = time.monotonic() - started
            wrong = check(plan, args.revisions)
        finally:
            server.terminate()
            server.join(10)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.counts.items()))
        print(
            f"URLs: {args.urls} ({sum(k == HANG for k, _ in plan)} hang, {sum(k == CORRUPT for k, _ in plan)} corrupt)"
        )
        print(f"settings: workers {settings.PROBE_WORKERS}, per host {settings.PROBE_PER_HOST}, "
              f"samples {settings.PROBE_SAMPLE_FILES}, read timeout {settings.PROBE_READ_TIMEOUT} s")  # fmt: skip
        print(f"classified: {counts}; void: {summary.run.void}")
        print(f"misclassified: {len(wrong)}")
        for line in wrong[:10]:
            print(f"  {line}")
        print(f"baseline (one hanging probe): {floor:.2f} s")
        in_time = elapsed <= args.read_timeout + 30
        print(f"probe run: {elapsed:.2f} s; target <= {args.read_timeout + 30} s: {'met' if in_time else 'MISSED'}")
        small = peak_mb < 300
        print(
            f"peak memory (ru_maxrss, this process): {peak_mb:.0f} MB; target < 300 MB: {'met' if small else 'MISSED'}"
        )
        print(f"ratio run / read timeout: {elapsed / args.read_timeout:.2f}")
        print(f"ratio run / baseline: {elapsed / floor:.2f}")
        return 0 if not wrong and in_time and small else 1


if __name__ == "__main__":
    sys.exit(main())
