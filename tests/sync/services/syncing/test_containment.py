"""A hostile upstream on 127.0.0.1: every bad page or file fails alone, with its reason; the rest of the
run is stored, recorded and published; the command exits non-zero; the next run completes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from metadata.models import Collection
from metadata.services import collection_publish
from sync.engine import index
from sync.models import File, Project, StoreRun
from sync.sample_packages import SamplePackage, build_package
from sync.services import upstream_add, upstream_sync
from tests.sync.conftest import assert_store_sound
from tests.sync.hostile import (
    JSON_TYPE,
    Answer,
    HostileUpstream,
    header_drip,
    redirect,
    tar_bytes,
    tar_header_bomb,
    zip_damage,
)

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = SamplePackage("mm-good", "1.0")
GOOD_SDIST = SamplePackage("mm-good", "1.0", kind="sdist")


@pytest.fixture
def hostile():
    server = HostileUpstream()
    yield server
    server.close()


@pytest.fixture
def elsewhere():
    server = HostileUpstream()
    server.routes["/secret.tar.gz"] = Answer(build_package(SamplePackage("mm-secret", "1.0", kind="sdist")))
    yield server
    server.close()


def reasons(run: StoreRun) -> dict[str, str]:
    """{filename or project: reason} of the run's failures."""
    return {failure["filename"] or failure["project"]: failure["reason"] for failure in run.failures}


def meta_page(name: str, raw_files: str) -> bytes:
    return f'{{"meta": {{"api-version": "1.1"}}, "name": "{name}", "files": {raw_files}}}'.encode()


def build_hostile(hostile: HostileUpstream, elsewhere: HostileUpstream) -> dict[str, str]:
    """Every hostile page and file of issue 15 beside one good project; returns {item: expected reason}."""
    wheel, sdist = build_package(GOOD), build_package(GOOD_SDIST)
    good_wheel = hostile.file(GOOD.filename, wheel, **{"huge-unknown": "x" * 200_000, "gpg-sig": False})
    good_sdist = hostile.file(GOOD_SDIST.filename, sdist, listed_hash=False)
    hostile.project("mm-good", [good_wheel, good_sdist])

    hostile.project("mm-deep", body=b'{"meta": {}, "files": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    hostile.project("mm-meta", body=b'{"meta": "1.0", "name": "mm-meta", "files": []}')
    hostile.project("mm-nan", body=meta_page("mm-nan", '[{"filename": "mm_nan-1.0.tar.gz", "url": "x", "size": NaN}]'))
    nul = SamplePackage("mm-nul", "1.0")
    nul_entry = hostile.file(nul.filename, build_package(nul), **{"requires-python": ">=3.8\x00"})
    hostile.project("mm-nul", [nul_entry])

    zlib_wheel = SamplePackage("mm-zlib", "1.0")
    damaged = zip_damage(build_package(zlib_wheel), ".dist-info/METADATA", "deflate")
    hostile.project("mm-zlib", [hostile.file(zlib_wheel.filename, damaged, listed_hash=False)])
    xz = bytearray(tar_bytes({"mm_xz-1.0/PKG-INFO": b"Name: mm-xz\n" * 400}, compress="xz"))
    xz[len(xz) // 2] ^= 0xFF
    hostile.project("mm-xz", [hostile.file("mm_xz-1.0.tar.xz", bytes(xz), listed_hash=False)])
    hostile.project("mm-bomb", [hostile.file("mm_bomb-1.0.tar.gz", tar_header_bomb(300_000), listed_hash=False)])

    # A wheel listed with its hash (so the sync's archive check is skipped) whose METADATA is damaged.
    meta_wheel = SamplePackage("mm-badmeta", "1.0")
    encrypted = zip_damage(build_package(meta_wheel), ".dist-info/METADATA", "encrypted")
    hostile.project("mm-badmeta", [hostile.file(meta_wheel.filename, encrypted)])

    long_name = "é" * 120 + "-1.0-py3-none-any.whl"
    hostile.project("mm-long", [{"filename": long_name, "url": f"{hostile.base}/files/long", "hashes": {}}])
    secret = {"filename": "mm_ssrf-1.0.tar.gz", "url": f"{elsewhere.base}/secret.tar.gz", "hashes": {}}
    hostile.project("mm-ssrf", [secret])
    hostile.routes["/files/mm_redirect-1.0.tar.gz"] = redirect(f"{elsewhere.base}/secret.tar.gz")
    moved = {"filename": "mm_redirect-1.0.tar.gz", "url": f"{hostile.base}/files/mm_redirect-1.0.tar.gz"}
    hostile.project("mm-redirect", [moved])
    many = [{"filename": f"mm_many-1.{n}.tar.gz", "url": "x", "hashes": {}} for n in range(250)]
    hostile.project("mm-many", many)
    hostile.project("mm-drip")
    hostile.routes["/simple/mm-drip/"] = header_drip(hostile)
    # Names the root lists that are no names.
    root = json.loads(hostile.routes["/simple/"].body)
    root["projects"] += [{"name": "foo\n"}, {"name": "b\x00d"}]
    hostile.routes["/simple/"] = Answer(json.dumps(root).encode(), JSON_TYPE)
    return {
        "mm-deep": "nested too deep",
        "mm-meta": "'meta' is not an object",
        "mm-nan": "NaN is not JSON",
        nul.filename: "NUL or an invalid character in its requires-python",
        zlib_wheel.filename: "does not read through",
        "mm_xz-1.0.tar.xz": "LZMAError",
        "mm_bomb-1.0.tar.gz": "more than 100000 members",
        long_name: "longer than 255 bytes",
        "mm_ssrf-1.0.tar.gz": "refused: the address is private",
        "mm_redirect-1.0.tar.gz": "refused: the address is private",
        "mm-many": "more than 200 files on the page",
        "mm-drip": "deadline",
        "foo\n": "not a valid name",
        "b\\x00d": "a NUL",
    }


def test_a_hostile_upstream_fails_item_by_item_and_the_rest_is_stored_and_published(
    hostile, elsewhere, mirror_root, settings
):
    settings.SYNC_MAX_LINKS_PER_PAGE = 200
    settings.SYNC_REQUEST_DEADLINE = 2
    expected = build_hostile(hostile, elsewhere)
    upstream = upstream_add(name="hostile", url=hostile.url)

    run = upstream_sync(upstream=upstream, publish=False)

    assert run.outcome == StoreRun.Outcome.PARTIAL, run.message
    assert "internal error" not in run.message
    got = reasons(run)
    for item, reason in expected.items():
        assert reason in got.get(item, ""), (item, got.get(item))
    # The good project, the file that only carries a huge unknown key, and the damaged-METADATA wheel.
    stored = set(File.objects.filter(state=File.State.STORED).values_list("filename", flat=True))
    assert stored == {GOOD.filename, GOOD_SDIST.filename, "mm_badmeta-1.0-py3-none-any.whl"}
    assert File.objects.get(filename=GOOD.filename).attributes == {"gpg-sig": False}
    assert hostile.hits["/files/mm_bomb-1.0.tar.gz"] == 1  # a refused bomb is not retried
    assert elsewhere.hits["/secret.tar.gz"] == 0  # nothing reached the other service
    names = set(Project.objects.values_list("name", flat=True))  # (PostgreSQL cannot even be asked for NUL)
    assert "foo\n" not in names and not any("\x00" in name for name in names)
    assert_store_sound(mirror_root)

    # Publication: the good files are published; the damaged wheel without its .metadata; nothing fails.
    revision = collection_publish(collection=Collection.objects.get(slug="full"))
    assert revision is not None
    tree = mirror_root / "pub" / "full"
    good_page = json.loads((tree / "simple" / "mm-good" / "index.json").read_bytes())
    assert {entry["filename"] for entry in good_page["files"]} == {GOOD.filename, GOOD_SDIST.filename}
    [badmeta] = json.loads((tree / "simple" / "mm-badmeta" / "index.json").read_bytes())["files"]
    assert badmeta["core-metadata"] is False
    assert not (tree / "simple" / "foo\n").exists()

    # The command: the same run again exits non-zero, names what failed, and stores nothing wrong.
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sync", stdout=out)
    assert "mm_bomb-1.0.tar.gz" in out.getvalue() and "internal error" not in out.getvalue()
    again = StoreRun.objects.order_by("-pk").first()
    assert again.outcome == StoreRun.Outcome.PARTIAL
    assert reasons(again).keys() >= {"mm-deep", "mm-meta", "mm-nan", "mm_bomb-1.0.tar.gz", "mm_ssrf-1.0.tar.gz"}

    # The upstream is fixed: the next run completes.
    hostile.routes.clear()
    hostile.projects = []
    hostile.project("mm-good", [hostile.file(GOOD.filename, build_package(GOOD))])
    fixed = upstream_sync(upstream=upstream, publish=False, allow_mass_removal=True)
    assert fixed.outcome == StoreRun.Outcome.OK, fixed.failures


def test_a_batch_the_database_refuses_fails_only_its_project(hostile, mirror_root, monkeypatch):
    """NaN reaching a JSON column (were the parser to let it through): SQLite's JSON check and PostgreSQL's
    jsonb both refuse it; the batch is written again project by project, and only that project fails."""
    monkeypatch.setattr(index, "_refuse_constant", float)  # NaN parses again…
    monkeypatch.setattr(index, "_attributes", lambda source, keys: {"x": source.get("x")})  # …and is kept
    good = SamplePackage("mm-good", "1.0")
    entry = hostile.file(good.filename, build_package(good))
    hostile.project("mm-good", [entry])
    bad = SamplePackage("mm-bad", "1.0")
    hostile.routes[f"/files/{bad.filename}"] = Answer(build_package(bad))
    raw = f'[{{"filename": "{bad.filename}", "url": "{hostile.base}/files/{bad.filename}", "x": NaN}}]'
    hostile.project("mm-bad", body=meta_page("mm-bad", raw))
    upstream = upstream_add(name="hostile", url=hostile.url)

    run = upstream_sync(upstream=upstream, publish=False)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert "the catalogue refused its listing" in reasons(run)["mm-bad"]
    assert File.objects.get(filename=good.filename).state == File.State.STORED
    assert not Project.objects.filter(normalized_name="mm-bad").exists()
    assert run.projects_failed == 1
