"""Requests to mirrors: kept-alive connections per handler thread, with a connect and a read time-out."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from mm_mirror import USER_AGENT

# A kept-alive connection the mirror closed in the meantime fails like this on reuse: retried once.
STALE_CONNECTION = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    http.client.CannotSendRequest,
)


class MirrorFailure(Exception):
    """This attempt failed because of the mirror: demote it and try the next one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    base_path: str  # the mirror's tree path, ending with /

    @classmethod
    def of(cls, base_url: str) -> Target:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(
            parts.scheme, parts.hostname or "", port, parts.path if parts.path.endswith("/") else parts.path + "/"
        )


class Connections:
    """One kept-alive connection per mirror for each handler thread (each serves one installer connection)."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.local = threading.local()
        self.context = ssl.create_default_context()

    def _open(self, target: Target) -> http.client.HTTPConnection:
        if target.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                target.host, target.port, timeout=self.connect_timeout, context=self.context
            )
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=self.connect_timeout)
        try:
            conn.connect()
        except ConnectionRefusedError:
            raise MirrorFailure("connection refused") from None
        except (socket.timeout, TimeoutError):
            raise MirrorFailure("connect time-out") from None
        except ssl.SSLError as error:
            raise MirrorFailure(f"TLS error ({error.reason or error})") from None
        except OSError as error:
            raise MirrorFailure(f"cannot connect ({error.strerror or error})") from None
        conn.sock.settimeout(self.read_timeout)
        return conn

    def request(
        self, target: Target, method: str, path: str, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send one request; (connection, response with headers read). MirrorFailure when the mirror fails."""
        pool = self.local.__dict__.setdefault("conns", {})
        reused = pool.pop(target, None)
        for conn in ([reused] if reused else []) + [None]:
            fresh = conn is None
            if fresh:
                conn = self._open(target)
            try:
                conn.request(method, path, headers={"User-Agent": USER_AGENT, **headers})
                return conn, conn.getresponse()
            except STALE_CONNECTION as error:
                conn.close()
                if fresh:
                    raise MirrorFailure(f"connection closed ({type(error).__name__})") from None
            except (socket.timeout, TimeoutError):
                conn.close()
                raise MirrorFailure("read time-out") from None
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                raise MirrorFailure(f"{type(error).__name__}: {error}") from None
        raise AssertionError("unreachable")

    def release(self, target: Target, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        """Keep the connection for the next request of this thread if the mirror allows it."""
        if response.will_close or not response.isclosed():
            conn.close()
            return
        pool = self.local.__dict__.setdefault("conns", {})
        old = pool.pop(target, None)
        if old is not None:
            old.close()
        pool[target] = conn

    def close_all(self) -> None:
        for conn in self.local.__dict__.pop("conns", {}).values():
            conn.close()
