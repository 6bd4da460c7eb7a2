"""The request-forgery guard, against servers on 127.0.0.1 only (other addresses are resolved by fakes and refused)."""

from __future__ import annotations

import hashlib
import socket
import time

import pytest

from core.net.guard import FetchFailed, FetchRefused, address_allowed, guarded_fetch, guarded_sha256
from tests.fake_http import (
    Hang,
    Redirect,
    Reset,
    Status,
    Truncated,
    pretend_public_loopback,
    self_signed_context,
    serve,
)

LIMITS = {"connect_timeout": 2.0, "read_timeout": 1.0, "max_bytes": 1024}


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("192.0.2.10", False),  # documentation
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # link-local, cloud metadata
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("2001:4860:4860::8888", True),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:0808:0808::", True),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", True),
        ("64:ff9b:1::1", False),
        ("not-an-address", False),
    ],
)
def test_address_allowed(address, allowed):
    assert address_allowed(address, allow_private=False) is allowed


def test_allow_private_opens_loopback_but_never_unspecified_or_multicast():
    assert address_allowed("127.0.0.1", allow_private=True)
    assert address_allowed("10.0.0.1", allow_private=True)
    assert not address_allowed("0.0.0.0", allow_private=True)
    assert not address_allowed("224.0.0.1", allow_private=True)


def test_loopback_is_fetched_only_with_allow_private():
    with serve({"/a": b"hello"}) as server:
        with pytest.raises(FetchRefused, match="private or special address"):
            guarded_fetch(server.url("/a"), allow_private=False, **LIMITS)
        assert server.requests == []
        fetched = guarded_fetch(server.url("/a"), allow_private=True, **LIMITS)
    assert (fetched.status, fetched.body, fetched.peer_address) == (200, b"hello", "127.0.0.1")
    assert fetched.url == server.url("/a")


def test_non_2xx_is_returned_not_raised():
    with serve({"/gone": Status(410, b"gone")}) as server:
        fetched = guarded_fetch(server.url("/gone"), allow_private=True, **LIMITS)
    assert (fetched.status, fetched.body) == (410, b"gone")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://mirror.example.org/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@mirror.example.org/", "user name or password"),
        ("http:///nohost", "no host name"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_bad_urls_are_refused(url, message):
    with pytest.raises(FetchRefused, match=message) as caught:
        guarded_fetch(url, allow_private=True, **LIMITS)
    assert str(caught.value) == caught.value.reason


def test_redirects_are_followed_up_to_the_limit():
    with serve() as server:
        server.routes.update(
            {"/1": Redirect("/2"), "/2": Redirect(server.url("/3"), 301), "/3": b"end", "/loop": Redirect("/loop")}
        )
        fetched = guarded_fetch(server.url("/1"), allow_private=True, **LIMITS)
        assert (fetched.url, fetched.body) == (server.url("/3"), b"end")
        with pytest.raises(FetchRefused, match="more than 3 redirects"):
            guarded_fetch(server.url("/loop"), allow_private=True, **LIMITS)
        assert server.requests.count("/loop") == 4


@pytest.fixture
def public_loopback(monkeypatch):
    return pretend_public_loopback(monkeypatch)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://inside.example.org/x",  # a public name that resolves to a private address
    ],
)
def test_a_redirect_to_a_private_address_is_refused(public_loopback, target):
    with serve() as server:
        server.routes["/start"] = Redirect(target)
        start = f"http://mirror.example.org:{server.port}/start"
        with pytest.raises(FetchRefused, match="private or special address"):
            guarded_fetch(start, allow_private=False, **LIMITS)
        assert server.requests == ["/start"]


def test_a_name_is_resolved_once_and_the_checked_address_is_used(public_loopback):
    answers, lookups = public_loopback
    seen_hosts: list[str] = []

    def record_host(handler):
        seen_hosts.append(handler.headers["Host"])
        answers["mirror.example.org"] = ["10.0.0.9"]  # rebinding after the check must not matter
        handler._send(200, b"ok")

    with serve({"/r": record_host}) as server:
        fetched = guarded_fetch(f"http://mirror.example.org:{server.port}/r", allow_private=False, **LIMITS)
    assert fetched.body == b"ok" and fetched.peer_address == "127.0.0.1"
    assert seen_hosts == [f"mirror.example.org:{server.port}"]
    assert lookups == ["mirror.example.org"]


def test_every_address_of_a_name_is_checked(public_loopback):
    answers, _ = public_loopback
    answers["mirror.example.org"] = ["127.0.0.1", "192.168.0.7"]
    with pytest.raises(FetchRefused, match="192.168.0.7"):
        guarded_fetch("http://mirror.example.org/", allow_private=False, **LIMITS)


def test_an_oversized_body_is_refused_declared_or_streamed():
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(4):
            handler.wfile.write(b"200\r\n" + b"x" * 512 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    with serve({"/big": b"x" * 2048, "/chunked": chunked}) as server:
        with pytest.raises(FetchRefused, match="2048 bytes, more than the 1024"):
            guarded_fetch(server.url("/big"), allow_private=True, **LIMITS)
        with pytest.raises(FetchRefused, match="more than the 1024 bytes"):
            guarded_fetch(server.url("/chunked"), allow_private=True, **LIMITS)


def test_a_hanging_server_times_out():
    with serve({"/hang": Hang()}) as server:
        with pytest.raises(FetchFailed, match="no answer from 127.0.0.1 within 0.5 s"):
            guarded_fetch(server.url("/hang"), allow_private=True, **{**LIMITS, "read_timeout": 0.5})


def test_the_overall_deadline_stops_a_slow_drip():
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):
            if handler.server_stopping.wait(0.1):
                return
            handler.wfile.write(b"x")
            handler.wfile.flush()

    with serve() as server:

        def route(handler):
            handler.server_stopping = server.stopping
            drip(handler)

        server.routes["/drip"] = route
        started = time.monotonic()
        with pytest.raises(FetchFailed, match="overall time limit|no answer"):
            guarded_fetch(
                server.url("/drip"), allow_private=True, **{**LIMITS, "read_timeout": 5}, deadline=started + 0.6
            )


def test_a_reset_connection_fails():
    with serve({"/reset": Reset()}) as server:
        with pytest.raises(FetchFailed, match="reset"):
            guarded_fetch(server.url("/reset"), allow_private=True, **LIMITS)


def test_a_truncated_body_fails():
    with serve({"/short": Truncated(b"abc", 100)}) as server:
        with pytest.raises(FetchFailed, match="truncated"):
            guarded_fetch(server.url("/short"), allow_private=True, **LIMITS)


def test_a_refused_connection_fails():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchFailed, match="connection refused by 127.0.0.1"):
        guarded_fetch(f"http://127.0.0.1:{port}/", allow_private=True, **LIMITS)


def test_a_dns_failure_fails(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(FetchFailed, match="could not resolve mirror.example.org"):
        guarded_fetch("http://mirror.example.org/", allow_private=True, **LIMITS)


def test_a_self_signed_certificate_fails_and_works_once_trusted(tmp_path, public_loopback):
    context, cert = self_signed_context(tmp_path)
    with serve({"/repodata/repomd.json": b"{}"}, tls=context) as server:
        url = f"https://mirror.example.org:{server.port}/repodata/repomd.json"
        with pytest.raises(FetchFailed, match="TLS error"):
            guarded_fetch(url, allow_private=False, **LIMITS)
        # The name is checked against the certificate even though the connection goes to the IP.
        fetched = guarded_fetch(url, allow_private=False, ca_certs=str(cert), **LIMITS)
        assert fetched.body == b"{}"
        answers, _ = public_loopback
        answers["other.example.org"] = ["127.0.0.1"]
        with pytest.raises(FetchFailed, match="TLS error.*other.example.org"):
            guarded_fetch(url.replace("mirror.", "other."), allow_private=False, ca_certs=str(cert), **LIMITS)


def test_family_restricts_the_addresses():
    with serve({"/": b"v4"}) as server:
        assert guarded_fetch(server.url("/"), allow_private=True, family=4, **LIMITS).body == b"v4"
        with pytest.raises(FetchFailed, match="not an IPv6 address"):
            guarded_fetch(server.url("/"), allow_private=True, family=6, **LIMITS)


def test_sha256_streams_under_its_cap():
    body = b"wheel-bytes" * 50
    with serve({"/f.whl": body, "/missing.whl": Status(404)}) as server:
        hashed = guarded_sha256(server.url("/f.whl"), allow_private=True, **LIMITS)
        assert (hashed.status, hashed.sha256, hashed.size) == (200, hashlib.sha256(body).hexdigest(), len(body))
        missing = guarded_sha256(server.url("/missing.whl"), allow_private=True, **LIMITS)
        assert (missing.status, missing.sha256) == (404, "")
        with pytest.raises(FetchRefused):
            guarded_sha256(server.url("/f.whl"), allow_private=True, **{**LIMITS, "max_bytes": 100})
