"""`mm-mirror run -- COMMAND…` and `mm-mirror proxy`: the local failover index proxy.

`run` binds its port and starts the command first, then imports the proxy, loads the mirrorlist and
checks the first mirrors while the command starts up (an installer takes a few hundred milliseconds
before its first request, which waits in the socket's backlog until then): the proxy's start costs the
command next to nothing. If the list cannot be had at all, the command is stopped and run exits 3.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mm_mirror.errors import NO_MIRROR, ClientError, UsageError

if TYPE_CHECKING:
    from mm_mirror.proxy.server import ProxyServer


def log(message: str) -> None:
    print(f"mm-mirror: {message}", file=sys.stderr, flush=True)


@contextmanager
def running_proxy(
    args, *, origin: str, bind: str, port: int, poll_interval: float = 0.02, sock: socket.socket | None = None
) -> Iterator[ProxyServer]:
    """The proxy, serving in a thread, for the mirrorlist of args.collection (from the origin or the cache)."""
    from mm_mirror import mirrorlist
    from mm_mirror.proxy.pool import MirrorPool
    from mm_mirror.proxy.server import ProxyServer
    from mm_mirror.proxy.upstream import Connections

    cache = mirrorlist.MirrorlistCache(args.cache_dir)
    origin_timeout = max(args.timeout, 5.0)
    listing = mirrorlist.load(origin, args.collection, cache=cache, timeout=origin_timeout, log=log)
    for message in cache.log:
        log(message)
    if not listing.mirrors:
        raise ClientError(f"the mirrorlist of {args.collection!r} lists no http(s) mirror", NO_MIRROR)

    def refresh() -> mirrorlist.Mirrorlist | None:
        try:
            return mirrorlist.load(origin, args.collection, cache=cache, timeout=origin_timeout)
        except ClientError:
            return None

    pool = MirrorPool(
        listing, timeout=args.timeout, demote_seconds=args.demote_seconds, recheck_seconds=args.recheck_seconds,
        parallel=args.parallel, log=log, refresh=refresh,
    )  # fmt: skip
    connections = Connections(connect_timeout=args.timeout, read_timeout=args.read_timeout)
    try:
        server = ProxyServer((bind, port), pool=pool, collection=args.collection, connections=connections, sock=sock)
    except OSError as error:
        raise UsageError(f"cannot listen on {bind}:{port}: {error.strerror or error}") from None
    pool.warm()
    # shutdown() waits for the poll: `run` pays it once per command, so it polls often; `proxy` does not.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def child_environment(index_url: str) -> dict[str, str]:
    """pip's and uv's index variables pointed at the proxy (uv's older and newer names)."""
    env = dict(os.environ)
    env.update(PIP_INDEX_URL=index_url, UV_INDEX_URL=index_url, UV_DEFAULT_INDEX=index_url)
    no_proxy = [entry for entry in env.get("NO_PROXY", "").split(",") if entry]
    env["NO_PROXY"] = ",".join(dict.fromkeys([*no_proxy, "127.0.0.1", "localhost"]))
    return env


def proxy_run(args, *, origin: str, argv: Sequence[str]) -> int:
    """Run one command with the proxy; its exit code (128 + N when a signal N ended it)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise UsageError(f"cannot listen on 127.0.0.1: {error.strerror or error}") from None
    index_url = f"http://127.0.0.1:{sock.getsockname()[1]}/{args.collection}/simple/"
    try:
        child = subprocess.Popen(list(argv), env=child_environment(index_url))
    except OSError as error:
        sock.close()
        raise UsageError(f"cannot run {argv[0]!r}: {error.strerror or error}") from None
    # The terminal's Ctrl-C reaches the child too; we wait for its verdict rather than dying first.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with running_proxy(args, origin=origin, bind="127.0.0.1", port=0, sock=sock) as server:
            code = child.wait()
            for line in server.pool.unanswered():
                log(line)
    except ClientError:
        _stop(child)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        sock.close()
    return 128 - code if code < 0 else code


def _stop(child: subprocess.Popen) -> None:
    """The command cannot be served: stop it (politely first)."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    log("the command was stopped: it cannot be served")


def proxy_serve(args, *, origin: str) -> int:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running_proxy(args, origin=origin, bind=args.bind, port=args.port, poll_interval=0.5) as server:
        print(server.index_url, flush=True)
        log(f"serving {args.collection!r} at {server.index_url}")
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        for line in server.pool.unanswered():
            log(line)
        log("stopped; " + "; ".join(server.pool.summary()))
    return 0
