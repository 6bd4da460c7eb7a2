"""The demo network: a few local mirrors of the `full` collection on 127.0.0.1, registered, approved and probed.

`demo_network_ensure` (called by `manage.py demo`) makes the mirrors under VAR_DIR/demo-mirrors/ the way
operators make theirs, with `rsync -aH` of the published tree, and spoils some on purpose:

    alpha, zeta  current copies (refreshed on every run)
    beta         copied once, before the origin published one more revision: a revision behind
    gamma        current, with its newest file overwritten: corrupt
    delta        current, without its newest file: incomplete (an rsync cut short)
    epsilon      a repomd.json the origin never published: broken

`python -m mirrors.probing.demo serve` serves them, one port each from DEMO_MIRRORS_PORT (8101); the
devserver (`make run`) starts it. This module imports Django only inside functions, so that the server
runs without settings. Everything here is idempotent.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MIRRORS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
LATE_PACKAGE = ("mm-demo-late", "0.1.0")  # published after beta's copy, so beta is a revision behind
SITE_NAME = "Demo mirrors"
COLLECTION = "full"


@dataclass(frozen=True)
class DemoMirror:
    name: str
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def host_name(self) -> str:
        return f"{self.name}.mirrors.example"


def mirrors_root(var_dir: Path) -> Path:
    return Path(var_dir) / "demo-mirrors"


def demo_mirrors(var_dir: Path, *, base_port: int | None = None) -> list[DemoMirror]:
    base = base_port or int(os.environ.get("DEMO_MIRRORS_PORT", "8101"))
    root = mirrors_root(var_dir)
    return [DemoMirror(name, base + index, root / name) for index, name in enumerate(MIRRORS)]


# ---- serving (no Django) ------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(mirrors: list[DemoMirror]) -> Iterator[list[DemoMirror]]:
    """Serve each mirror's directory on its port for the length of the block; the ones whose port is taken
    (the devserver serves them already) are left out of the answer."""
    servers, started = [], []
    for mirror in mirrors:
        mirror.directory.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(mirror.directory))
        try:
            server = ThreadingHTTPServer(("127.0.0.1", mirror.port), handler)
        except OSError:
            continue
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        servers.append(server)
        started.append(mirror)
    try:
        yield started
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def serve_forever(var_dir: Path) -> int:
    """The devserver's child: serve every demo mirror until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with serving(demo_mirrors(var_dir)) as started:
        for mirror in started:
            print(f"demo mirror {mirror.name}: {mirror.url}", flush=True)
        while not stop.wait(1):
            pass
    return 0


# ---- making, registering and probing (Django) ---------------------------------------------------------


def _rsync_copy(source: Path, target: Path) -> None:
    """An operator's copy: data first, repomd.json last, deletions at the end."""
    target.mkdir(parents=True, exist_ok=True)
    base = ["rsync", "-aH", "--delay-updates"]
    subprocess.run([*base, "--exclude=repodata/repomd.json", f"{source}/", f"{target}/"], check=True, timeout=300)
    subprocess.run([*base, "--delete-after", f"{source}/", f"{target}/"], check=True, timeout=300)


def _newest_file(tree: Path) -> Path | None:
    """The file a probe samples first: the newest of the tree's primary data."""
    from mirrors.probing.engine.sampling import SamplePlanner

    repomd = json.loads((tree / "repodata" / "repomd.json").read_bytes())
    planner = SamplePlanner(tree.parent, max_bytes=1 << 62, seed=0)
    found = planner.candidates(tree.name, repomd, lambda location, max_bytes: None)
    return tree / found.newest[0].location if found.newest else None


def _publish_late_revision(upstream_name: str, log: Callable[[str], None]) -> None:
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from metadata.services import collections_publish_all
    from sync.models import Upstream
    from sync.sample_packages import DEMO_PACKAGES, SamplePackage, write_static_index
    from sync.services import upstream_sync

    upstream = Upstream.objects.get(name=upstream_name)
    root = Path(url2pathname(urlsplit(upstream.url).path)).parent
    late = SamplePackage(*LATE_PACKAGE, summary="Published after the lagging demo mirror copied the tree")
    write_static_index(root, [*DEMO_PACKAGES, late])
    upstream_sync(upstream=upstream, publish=False)
    for revision in collections_publish_all():
        log(f"published {revision.collection.slug} revision {revision.number} (the demo mirror beta lacks it)")


def _make_trees(mirrors: dict[str, DemoMirror], pub: Path, upstream_name: str, log: Callable[[str], None]) -> None:
    beta = mirrors["beta"].directory
    if not (beta / "repodata" / "repomd.json").exists():
        _rsync_copy(pub, beta)
        log(f"copied {pub.name} to the demo mirror beta")
        _publish_late_revision(upstream_name, log)
    for name in ("alpha", "zeta", "gamma", "delta", "epsilon"):
        _rsync_copy(pub, mirrors[name].directory)
    newest = _newest_file(mirrors["gamma"].directory)
    if newest is not None:
        size = newest.stat().st_size
        newest.unlink()  # a hard link shared with the origin must not be written through
        newest.write_bytes((b"this is not the file you are looking for\n" * (size // 40 + 1))[:size])
    newest = _newest_file(mirrors["delta"].directory)
    if newest is not None:
        newest.unlink()
    repomd = mirrors["epsilon"].directory / "repodata" / "repomd.json"
    repomd.unlink()
    repomd.write_text('{"version": 1, "collection": "full", "revision": 999999}\n')


# A client on this machine finds this mirror in the mirrorlist's netblock tier, the others in the world tier.
LOCAL_NETBLOCK_MIRROR = "alpha"


def _register(mirrors: list[DemoMirror], log: Callable[[str], None]) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from metadata.models import Collection
    from mirrors.models import Host, HostState, HostURL, Netblock, Site, URLScheme

    owner = get_user_model().objects.filter(username="operator").first() or get_user_model().objects.first()
    site, _ = Site.objects.get_or_create(
        name=SITE_NAME, defaults={"owner": owner, "contact_email": "mirrors@mirrors.example"}
    )
    collection = Collection.objects.get(slug=COLLECTION)
    names = []
    for mirror in mirrors:
        host, created = Host.objects.get_or_create(
            name=mirror.host_name,
            defaults={
                "site": site,
                "country": "DE",
                "continent": "EU",
                "bandwidth_mbps": 1000,
                "state": HostState.APPROVED,
                "state_reason": "demo network",
                "state_changed_at": timezone.now(),
                "verification_token": f"demo-{mirror.name}",
                "verified_at": timezone.now(),
            },
        )
        HostURL.objects.update_or_create(
            host=host, collection=collection, scheme=URLScheme.HTTP, defaults={"url": mirror.url}
        )
        if mirror.name == LOCAL_NETBLOCK_MIRROR:
            Netblock.objects.get_or_create(host=host, cidr="127.0.0.0/8")
        if created:
            log(f"registered and approved the demo mirror {host.name} at {mirror.url}")
        names.append(host.name)
    return names


def demo_network_ensure(log: Callable[[str], None], *, var_dir: Path, mirror_root: Path, upstream_name: str) -> None:
    """Make, register, approve and probe the demo mirrors (after the demo upstream is published)."""
    from dataclasses import replace

    from mirrors.models import HostURL
    from mirrors.probing.services import probe_limits, probes_run

    if shutil.which("rsync") is None:
        log("rsync is not installed: no demo mirrors")
        return
    pub = Path(mirror_root) / "pub" / COLLECTION
    if not (pub / "repodata" / "repomd.json").exists():
        log(f"{COLLECTION} is not published yet: no demo mirrors")
        return
    mirrors = demo_mirrors(var_dir)
    _make_trees({mirror.name: mirror for mirror in mirrors}, pub, upstream_name, log)
    names = _register(mirrors, log)
    limits = replace(probe_limits(), allow_private=True)  # the demo's mirrors are on 127.0.0.1
    with serving(mirrors):
        for name in names:
            probes_run(host_name=name, limits=limits)
            for url in HostURL.objects.filter(host__name=name):
                reason = f" ({url.probe_reason})" if url.probe_reason else ""
                log(f"probed {url.url}: {url.probe_state}{reason}")


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: python -m mirrors.probing.demo serve")
    sys.exit(serve_forever(Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parents[2] / "var"))))
