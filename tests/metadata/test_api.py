"""The PyPI-like JSON API of a collection (/pub/<slug>/pypi/<project>/json): fields, serial header, stand-ins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metadata.services import collection_publish
from sync.models import File
from sync.sample_packages import SamplePackage
from tests.metadata.conftest import make_collection

pytestmark = pytest.mark.django_db


def test_project_json_has_what_bandersnatch_reads(client, base_catalogue, full_collection, mirror_root):
    base_catalogue.add(SamplePackage("greeter", "0.4.0"), yanked=True, yanked_reason="broken")
    File.objects.filter(filename="greeter-0.3.0.tar.gz").update(
        upload_time=None, stored_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    collection_publish(collection=full_collection)
    response = client.get("/pub/full/pypi/Greeter/json")
    assert response.status_code == 200
    body = response.json()
    root = (mirror_root / "pub/full/simple/index.json").read_bytes()
    import json

    index_serial = json.loads(root)["meta"]["_last-serial"]
    assert int(response["X-PyPI-Last-Serial"]) == index_serial >= body["last_serial"]
    assert body["info"]["name"] == "greeter"
    assert body["info"]["version"] == "0.3.0"  # the newest installable one
    assert sorted(body["releases"]) == ["0.3.0", "0.4.0"]
    files = {f["filename"]: f for files in body["releases"].values() for f in files}
    sdist = files["greeter-0.3.0.tar.gz"]
    assert sdist["upload_time_iso_8601"] == "2025-01-02T03:04:05.000000Z"  # the stand-in: first stored
    assert sdist["upload_time"] == "2025-01-02T03:04:05"
    assert sdist["url"].startswith("/packages/") and (mirror_root / "pub/full" / sdist["url"][1:]).is_file()
    assert sdist["packagetype"] == "sdist" and sdist["requires_python"] == ">=3.8"
    assert len(sdist["digests"]["sha256"]) == 64 and sdist["size"] > 0
    yanked = files["greeter-0.4.0-py3-none-any.whl"]
    assert yanked["yanked"] is True and yanked["yanked_reason"] == "broken"
    assert {f["filename"] for f in body["urls"]} == {"greeter-0.3.0.tar.gz", "greeter-0.3.0-py3-none-any.whl"}
    assert all(f["upload_time_iso_8601"] for f in files.values())


def test_project_json_404s_with_a_message(client, base_catalogue, full_collection):
    collection_publish(collection=full_collection)
    for path in ("/pub/full/pypi/nope/json", "/pub/missing/pypi/greeter/json"):
        response = client.get(path)
        assert response.status_code == 404
        assert "message" in response.json()
    make_collection("secret", public=False)
    assert client.get("/pub/secret/pypi/greeter/json").status_code == 404
    assert client.post("/pub/full/pypi/greeter/json").status_code == 405
