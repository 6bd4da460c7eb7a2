"""The WSGI fast path answers anonymous requests exactly as the DRF view does, and passes the rest on."""

import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler

from mirrors.mirrorlist.wsgi import MirrorlistFastPath

pytestmark = pytest.mark.django_db
NS = {"ml": "urn:ietf:params:xml:ns:metalink"}


class Recorder:
    """A WSGI app behind the fast path that records whether it was reached."""

    def __init__(self):
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


def _call(app, path="/api/v1/mirrorlist/full/", params=None, peer="192.0.2.7", host="127.0.0.1:8000", **extra):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": urlencode(params or {}), "REMOTE_ADDR": peer,
        "HTTP_HOST": host, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1", **extra,
    }  # fmt: skip
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def apps():
    recorder = Recorder()
    return MirrorlistFastPath(recorder), recorder


@pytest.mark.parametrize(
    "params",
    [{"seed": "4"}, {"seed": "4", "format": "txt"}, {"seed": "9", "country": "JP", "protocol": "https"},
     {"format": "bogus"}, {"country": "ZZ"}],
)  # fmt: skip
def test_same_answers_as_django(apps, network, geo_dbs, params):
    fast, recorder = apps
    fast_answer = _call(fast, params=params)
    assert recorder.calls == 0
    slow_answer = _call(recorder, params=params)
    assert fast_answer[0] == slow_answer[0] and fast_answer[2] == slow_answer[2]
    for header in ("Content-Type", "Cache-Control", "X-Content-Type-Options"):
        assert fast_answer[1][header] == slow_answer[1][header]


def test_unknown_collection_and_other_paths(apps, network):
    fast, recorder = apps
    status, _headers, body = _call(fast, path="/api/v1/mirrorlist/nope/")
    assert status == 404 and json.loads(body)["detail"] == "no collection 'nope'" and recorder.calls == 0
    assert _call(fast, path="/healthz")[0] in (200, 503) and recorder.calls == 1


def test_admin_parameters_and_bad_hosts_go_to_django(apps, network):
    fast, recorder = apps
    status, _headers, body = _call(fast, params={"ip": "10.0.0.1"})
    assert (status, recorder.calls) == (403, 1) and b"admins only" in body
    status, _headers, _body = _call(fast, host="evil.example")
    assert (status, recorder.calls) == (400, 2)  # Django refuses a host outside ALLOWED_HOSTS


def test_metalink_against_rfc5854(apps, network, geo_dbs, mirror_root):
    fast, _recorder = apps
    status, headers, body = _call(fast, params={"format": "metalink"})
    assert status == 200 and headers["Content-Type"] == "application/metalink4+xml"
    root = ET.fromstring(body)
    assert root.tag == "{urn:ietf:params:xml:ns:metalink}metalink"
    file = root.find("ml:file", NS)
    assert file.get("name") == "repomd.json"
    hashes = file.findall("ml:hash", NS)
    assert len(hashes) == 1 and hashes[0].get("type") == "sha-256" and len(hashes[0].text) == 64
    urls = file.findall("ml:url", NS)
    assert [int(u.get("priority")) for u in urls] == list(range(1, len(urls) + 1))
    assert all(u.text.endswith("/repodata/repomd.json") for u in urls)
    alternates = file.findall("{urn:x-mirrormanager:metalink:1}alternates/{urn:x-mirrormanager:metalink:1}alternate")
    assert [a.get("revision") for a in alternates] == ["1"]
