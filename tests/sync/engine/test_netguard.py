"""The sync's client under the request-forgery guard and the per-request deadline (sync.engine.netguard)."""

from __future__ import annotations

import socket

import pytest

from sync.engine.http import Client, FetchError, Limits
from sync.engine.netguard import REFUSED, AddressPolicy
from tests.sync.hostile import Answer, HostileUpstream, body_drip, header_drip, redirect

LIMITS = Limits(connect_timeout=2, read_timeout=0.5, retries=0, request_deadline=1.5)


@pytest.fixture
def upstream():
    server = HostileUpstream()
    yield server
    server.close()


@pytest.fixture
def elsewhere():
    """Another service on this machine, on another port: what a forged request would reach."""
    server = HostileUpstream()
    server.routes["/secret"] = Answer(b"internal data")
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_for(upstream: HostileUpstream, **policy) -> Client:
    return Client(LIMITS, policy=AddressPolicy(endpoints=frozenset({("127.0.0.1", upstream.port)}), **policy))


def fetch(client: Client, url: str) -> bytes:
    with client.open_body(url) as body:
        buffer = memoryview(bytearray(1024))
        count = body.readinto(buffer)
        return bytes(buffer[:count])


def test_the_upstreams_own_host_and_port_are_allowed(upstream):
    upstream.routes["/files/a"] = Answer(b"payload")
    with client_for(upstream) as client:
        assert fetch(client, f"{upstream.base}/files/a") == b"payload"


def test_other_local_ports_are_refused_alike_open_or_closed(upstream, elsewhere):
    with client_for(upstream) as client:
        reasons = []
        for url in (f"{elsewhere.base}/secret", f"http://127.0.0.1:{closed_port()}/secret"):
            with pytest.raises(FetchError) as caught:
                fetch(client, url)
            assert not caught.value.retryable
            reasons.append(str(caught.value).split(": ", 1)[1])
    # One message whatever is listening there: the refusal tells nothing of what is open inside.
    assert reasons == [REFUSED, REFUSED]
    assert "Connection refused" not in REFUSED
    assert elsewhere.hits["/secret"] == 0


def test_a_redirect_to_another_local_port_is_refused(upstream, elsewhere):
    upstream.routes["/files/a"] = redirect(f"{elsewhere.base}/secret")
    with client_for(upstream) as client, pytest.raises(FetchError, match="refused: the address is private"):
        fetch(client, f"{upstream.base}/files/a")
    assert elsewhere.hits["/secret"] == 0


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "[::1]", "0.0.0.0"])
def test_private_link_local_and_unspecified_addresses_are_refused(upstream, address):
    with client_for(upstream) as client, pytest.raises(FetchError, match="refused: the address is private"):
        client.get_page(f"http://{address}:{upstream.port}/simple/")


def test_the_admin_may_allow_private_addresses(upstream, elsewhere):
    with client_for(upstream, allow_private=True) as client:
        assert fetch(client, f"{elsewhere.base}/secret") == b"internal data"


def test_dripping_headers_are_cut_at_the_request_deadline(upstream):
    upstream.routes["/simple/"] = header_drip(upstream)
    with client_for(upstream) as client, pytest.raises(FetchError, match="deadline") as caught:
        client.get_page(upstream.url)
    assert not caught.value.retryable


def test_a_dripping_page_body_is_cut_at_the_request_deadline(upstream):
    upstream.routes["/simple/"] = body_drip(upstream)
    with client_for(upstream) as client, pytest.raises(FetchError, match="deadline"):
        client.get_page(upstream.url)
    upstream.routes["/files/a"] = header_drip(upstream)
    with client_for(upstream) as client, pytest.raises(FetchError, match="deadline"):
        fetch(client, f"{upstream.base}/files/a")


def test_file_urls_resolve_symlinks_and_stay_in_their_tree(tmp_path):
    tree = tmp_path / "tree"
    (tree / "simple").mkdir(parents=True)
    (tree / "files").mkdir()
    (tree / "files" / "ok.tar.gz").write_bytes(b"inside")
    outside = tmp_path / "outside.tar.gz"
    outside.write_bytes(b"outside")
    (tree / "files" / "out.tar.gz").symlink_to(outside)
    (tree / "files" / "root").symlink_to("/")
    (tree / "simple" / "proj").symlink_to(tmp_path)  # a project folder that is a link out
    with Client(LIMITS, local_roots=(tree,)) as client:
        assert fetch(client, (tree / "files" / "ok.tar.gz").as_uri()) == b"inside"
        for url in (
            (tree / "files" / "out.tar.gz").as_uri(),
            (tree / "files" / "root").as_uri() + "/etc/passwd",
            (tree / "simple" / "proj").as_uri() + "/",
        ):
            with pytest.raises(FetchError, match="outside the upstream's directory"):
                if url.endswith("/"):
                    client.get_page(url)
                else:
                    fetch(client, url)
