"""The sync's HTTP connections under the request-forgery guard, and an overall deadline per request.

Every connection resolves its host once, checks every address with core.net.guard.address_allowed and
connects to a checked one (no second lookup that DNS rebinding could answer differently). Private,
loopback and link-local addresses are refused, except the upstream's own host and port (an upstream on
127.0.0.1 serves its files there) or when the admin allows them (SYNC_ALLOW_PRIVATE). The refusal is
made before any connection and says the same for every port: it tells nothing of what is open inside.

Redirects go through the same connections, so each hop is checked like the first.

A read timeout bounds each socket read, not a request: a server that drips its headers a byte a
second never trips it. The Watchdog shuts down the socket of a request that passes its deadline,
headers and body alike.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from core.net.errors import FetchFailed
from core.net.guard import address_allowed, resolve

REFUSED = "refused: the address is private, loopback or link-local (see SYNC_ALLOW_PRIVATE)"


class AddressRefused(Exception):
    """A connection the guard does not allow (deterministic: not retried)."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which private addresses one client may reach: (host, port) pairs of the upstream, or all."""

    allow_private: bool = False
    endpoints: frozenset[tuple[str, int]] = frozenset()

    def allows(self, host: str, port: int, address: str) -> bool:
        if address_allowed(address, allow_private=self.allow_private):
            return True
        # Never the unspecified or a multicast address, even for the upstream itself.
        return (host.lower().strip("[]"), port) in self.endpoints and address_allowed(address, allow_private=True)


class Watchdog:
    """Shuts down the sockets of requests that pass their deadline (one thread per client, while busy)."""

    POLL_SECONDS = 0.1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, socket.socket | None]] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count(1)
        self._local = threading.local()
        self._thread: threading.Thread | None = None

    @contextmanager
    def request(self, deadline: float) -> Iterator[RequestWatch]:
        """One request of this thread, to be done by `deadline` (a time.monotonic() instant)."""
        watch = RequestWatch(next(self._tokens), deadline, self)
        with self._lock:
            self._armed[watch.token] = (deadline, None)
            self._start()
        self._local.watch = watch
        try:
            yield watch
        finally:
            self._local.watch = None
            with self._lock:
                self._armed.pop(watch.token, None)
                watch.fired = watch.fired or watch.token in self._fired
                self._fired.discard(watch.token)

    def attach(self, sock: socket.socket | None) -> None:
        """The socket the current thread's request is using (called as the request's headers are awaited)."""
        watch = getattr(self._local, "watch", None)
        if watch is None or sock is None:
            return
        with self._lock:
            if watch.token in self._armed:
                self._armed[watch.token] = (watch.deadline, sock)
        if time.monotonic() > watch.deadline:
            self._kill(watch.token, sock)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sync-deadline", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.POLL_SECONDS)
            now = time.monotonic()
            with self._lock:
                if not self._armed:
                    self._thread = None
                    return
                late = [(token, sock) for token, (deadline, sock) in self._armed.items() if now > deadline]
            for token, sock in late:
                self._kill(token, sock)

    def _kill(self, token: int, sock: socket.socket | None) -> None:
        with self._lock:
            if token not in self._armed:
                return
            self._fired.add(token)
            self._armed[token] = (float("inf"), sock)  # once is enough
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class RequestWatch:
    token: int
    deadline: float
    watchdog: Watchdog = field(repr=False)
    fired: bool = False

    def expired(self) -> bool:
        return self.fired or time.monotonic() > self.deadline


def _guarded_connect(conn: HTTPConnection, policy: AddressPolicy) -> socket.socket:
    host = conn._dns_host  # noqa: SLF001 - urllib3's own name for the host to resolve
    try:
        addresses = resolve(host, conn.port)
    except FetchFailed as error:
        raise NewConnectionError(conn, f"Failed to resolve: {error}") from error
    if not all(policy.allows(host, conn.port, address) for address in addresses):
        raise AddressRefused(REFUSED)
    last: OSError | None = None
    timeout_error: ConnectTimeoutError | None = None
    for address in addresses:
        try:
            return urllib3_connection.create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as error:
            last = error
            timeout_error = ConnectTimeoutError(conn, f"Connection to {host} timed out")
        except OSError as error:
            last, timeout_error = error, None
    if timeout_error is not None:
        raise timeout_error from last
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}") from last


def guarded_pool_manager(policy: AddressPolicy, watchdog: Watchdog, **options: object) -> urllib3.PoolManager:
    """A PoolManager whose every connection is checked by `policy` and watched by `watchdog`."""

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_connect(self, policy)

        def getresponse(self):  # type: ignore[no-untyped-def]
            watchdog.attach(self.sock)
            return super().getresponse()

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_connect(self, policy)

        def getresponse(self):  # type: ignore[no-untyped-def]
            watchdog.attach(self.sock)
            return super().getresponse()

    class GuardedHTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    manager = urllib3.PoolManager(**options)  # type: ignore[arg-type]
    manager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
    return manager
