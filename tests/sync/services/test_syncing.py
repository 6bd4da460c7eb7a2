"""The sync against a fake upstream: normal runs, every injected fault, and the second run after it."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sync.blobstore import blob_path, store_lock
from sync.models import File, Project, StoreRun
from sync.sample_packages import SamplePackage, build_package, write_static_index
from sync.services import catalogue_next_serial, upstream_add, upstream_sync
from sync.tasks import sync_all_task
from tests.sync.conftest import FakeFile, assert_store_sound, store_files

pytestmark = pytest.mark.django_db

HELLO = SamplePackage("mm-hello", "1.0.0", requires_python=">=3.8")
HELLO_SDIST = SamplePackage("mm-hello", "1.0.0", kind="sdist")
OTHER = SamplePackage("mm-other", "2.0.0")


def failed_names(run: StoreRun) -> set[str]:
    return {failure["filename"] for failure in run.failures}


def test_html_upstream_full_sync_then_no_change(fake_upstream, upstream_row, mirror_root):
    fake_upstream.mode = "html"
    wheel = fake_upstream.add(HELLO, core_metadata="sha256=" + "ab" * 32)
    fake_upstream.add(HELLO_SDIST)
    fake_upstream.add(OTHER, yanked="broken build")

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.OK, run.failures
    assert (run.files_new, run.files_downloaded, run.files_failed) == (3, 3, 0)
    row = File.objects.get(filename=HELLO.filename)
    assert row.state == File.State.STORED
    assert row.sha256 == row.upstream_sha256 == wheel.sha256()
    assert row.size == len(wheel.data)
    assert row.version == "1.0.0" and row.package_type == "bdist_wheel"
    assert row.url == f"{fake_upstream.url.removesuffix('simple/')}files/{HELLO.filename}"
    assert row.requires_python == ">=3.8"
    assert row.core_metadata_sha256 == "ab" * 32
    assert row.attributes["data-requires-python"] == ">=3.8"
    assert blob_path(row.sha256).read_bytes() == wheel.data
    assert File.objects.get(filename=HELLO_SDIST.filename).package_type == "sdist"
    other = File.objects.get(filename=OTHER.filename)
    assert other.yanked and other.yanked_reason == "broken build"
    assert Project.objects.filter(change_serial__gt=0).count() == 2
    assert_store_sound(mirror_root)

    serials = dict(Project.objects.values_list("normalized_name", "change_serial"))
    fake_upstream.hits.clear()
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK
    assert (again.files_new, again.files_downloaded, again.projects_changed) == (0, 0, 0)
    # One conditional request per project page, nothing else.
    assert sum(count for path, count in fake_upstream.hits.items() if path.startswith("/files/")) == 0
    assert dict(Project.objects.values_list("normalized_name", "change_serial")) == serials
    assert any(key.startswith("304 ") for key in fake_upstream.statuses)


def test_json_only_upstream_with_serials_costs_one_request(fake_upstream, upstream_row, mirror_root):
    fake_upstream.mode = "json"
    fake_upstream.serials = True
    fake_upstream.add(HELLO, core_metadata="true", yanked="")
    fake_upstream.add(OTHER)

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.OK, run.failures
    row = File.objects.get(filename=HELLO.filename)
    assert row.core_metadata_sha256 == "-"
    assert row.yanked and row.yanked_reason == ""
    assert row.upload_time is not None and row.upload_time.year == 2024
    assert_store_sound(mirror_root)

    fake_upstream.hits.clear()
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK
    assert sum(fake_upstream.hits.values()) == 1  # the root page: its serial did not move


def test_file_upstream_on_disk(tmp_path, mirror_root):
    built = write_static_index(tmp_path / "upstream", [HELLO, HELLO_SDIST, OTHER])
    upstream = upstream_add(name="local", url=(tmp_path / "upstream" / "simple").as_uri())
    run = upstream_sync(upstream=upstream)
    assert run.outcome == StoreRun.Outcome.OK, run.failures
    for filename, data in built.items():
        row = File.objects.get(filename=filename)
        assert blob_path(row.sha256).read_bytes() == data
    assert upstream_sync(upstream=upstream).files_downloaded == 0
    assert_store_sound(mirror_root)


def test_wrong_hash_is_refused_then_fixed(fake_upstream, upstream_row, mirror_root):
    bad = fake_upstream.add(HELLO, listed_sha256="0" * 64)
    fake_upstream.add(OTHER)

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {HELLO.filename}
    assert "sha256 mismatch" in run.failures[0]["reason"]
    row = File.objects.get(filename=HELLO.filename)
    assert row.state == File.State.FAILED and "sha256 mismatch" in row.failure_reason
    assert not any(path.name == bad.sha256() for path in store_files(mirror_root))
    assert_store_sound(mirror_root)

    bad.listed_sha256 = ""  # the upstream fixes its index
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.get(filename=HELLO.filename).state == File.State.STORED
    assert_store_sound(mirror_root)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("truncate", "truncated"), ("reset", ""), ("drip", "timed out"), ("404", "HTTP 404")],
)
def test_body_faults_fail_the_file_and_a_second_run_completes(fault, reason, fake_upstream, upstream_row, mirror_root):
    victim = fake_upstream.add(HELLO, always=fault)
    fake_upstream.add(OTHER)

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {HELLO.filename}
    assert reason.lower() in run.failures[0]["reason"].lower()
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED
    assert File.objects.get(filename=HELLO.filename).state == File.State.FAILED
    get_hits = fake_upstream.hits[victim.path]
    assert get_hits == (1 if fault == "404" else 3)  # 404 is final; the rest were retried twice
    assert_store_sound(mirror_root)

    victim.always = ""
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert again.files_downloaded == 1
    assert File.objects.get(filename=HELLO.filename).state == File.State.STORED
    assert_store_sound(mirror_root)


def test_500_then_success_is_retried_within_the_run(fake_upstream, upstream_row, mirror_root):
    victim = fake_upstream.add(HELLO, faults=["500", "503"])
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.OK, run.failures
    row = File.objects.get(filename=HELLO.filename)
    assert row.state == File.State.STORED and row.attempts == 3
    assert fake_upstream.hits[victim.path] == 3
    assert_store_sound(mirror_root)


def test_missing_hashes_accept_good_archives_and_refuse_corrupt_ones(fake_upstream, upstream_row, mirror_root):
    good_wheel = fake_upstream.add(HELLO, listed_sha256=None)
    good_sdist = fake_upstream.add(HELLO_SDIST, listed_sha256=None)
    corrupt = fake_upstream.add(OTHER, listed_sha256=None)
    data = bytearray(corrupt.data)
    with zipfile.ZipFile(io.BytesIO(corrupt.data)) as archive:
        info = archive.infolist()[0]
    data[info.header_offset + 30 + len(info.filename) + 2] ^= 0xFF  # inside the first member's data
    corrupt.data = bytes(data)
    bz2_sdist = fake_upstream.add(SamplePackage("mm-bz", "1.0"), listed_sha256=None)
    bz2_sdist.filename = "mm_bz-1.0.tar.bz2"
    truncated_tgz = fake_upstream.add(SamplePackage("mm-tgz", "1.0", kind="sdist"), listed_sha256=None)
    truncated_tgz.data = truncated_tgz.data[: len(truncated_tgz.data) // 2]

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {OTHER.filename, "mm_bz-1.0.tar.bz2", truncated_tgz.filename}
    for fake in (good_wheel, good_sdist):
        row = File.objects.get(filename=fake.filename)
        assert row.state == File.State.STORED and row.upstream_sha256 == "" and row.sha256 == fake.sha256()
    assert "does not read through" in File.objects.get(filename=OTHER.filename).failure_reason
    assert_store_sound(mirror_root)

    # The upstream fixes its files: the second run completes.
    corrupt.data = build_package(OTHER)
    bz2_sdist.filename = SamplePackage("mm-bz", "1.0").filename
    truncated_tgz.data = build_package(SamplePackage("mm-tgz", "1.0", kind="sdist"))
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert not File.objects.exclude(state=File.State.STORED).exists()
    assert File.objects.get(filename=OTHER.filename).sha256 == corrupt.sha256()
    assert_store_sound(mirror_root)


def test_unsafe_names_are_refused_before_the_disk(fake_upstream, upstream_row, mirror_root, tmp_path):
    fake_upstream.add(OTHER)
    data = build_package(HELLO)
    fake_upstream.extra_pages["/simple/mm-evil/"] = (
        b"<html><body>"
        b'<a href="../../files/x.whl">../x.whl</a>'
        b'<a href="../../files/a%2Fb.whl">a/b.whl</a>'
        b'<a href="../../files/..%2F..%2Fevil-1.0-py3-none-any.whl">..%2F..%2Fevil-1.0-py3-none-any.whl</a>'
        b'<a href="../../files/not-a-package.txt">not-a-package.txt</a>'
        b"</body></html>"
    )
    fake_upstream.projects["mm-evil"] = []  # listed on the root page; its page is the crafted one
    assert data  # the server never serves these names

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    refused = {failure["filename"] for failure in run.failures if failure["project"] == "mm-evil"}
    assert refused == {"../x.whl", "a/b.whl", "..%2F..%2Fevil-1.0-py3-none-any.whl", "not-a-package.txt"}
    assert all(failure["reason"].startswith("refused") for failure in run.failures)
    assert not File.objects.filter(project__normalized_name="mm-evil").exists()
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED
    assert not (tmp_path / "evil-1.0-py3-none-any.whl").exists()
    assert_store_sound(mirror_root)

    # The upstream fixes its page: the second run completes.
    del fake_upstream.extra_pages["/simple/mm-evil/"]
    fake_upstream.add(SamplePackage("mm-evil", "1.0"))
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.filter(project__normalized_name="mm-evil", state=File.State.STORED).count() == 1
    assert_store_sound(mirror_root)


def test_oversized_index_page_fails_that_project_only(fake_upstream, upstream_row, settings, mirror_root):
    settings.SYNC_MAX_INDEX_BYTES = 2048
    fake_upstream.add(OTHER)
    fake_upstream.extra_pages["/simple/mm-huge/"] = b"<html>" + b"x" * 5000 + b"</html>"
    fake_upstream.projects["mm-huge"] = []

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert run.projects_failed == 1
    assert "exceeds the cap" in run.failures[0]["reason"]
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED

    del fake_upstream.extra_pages["/simple/mm-huge/"]
    fake_upstream.add(SamplePackage("mm-huge", "1.0"))
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.filter(project__normalized_name="mm-huge", state=File.State.STORED).count() == 1


def test_oversized_root_page_fails_the_run(fake_upstream, upstream_row, settings):
    settings.SYNC_MAX_INDEX_BYTES = 1024
    for number in range(60):
        fake_upstream.projects[f"mm-project-{number:03d}"] = []
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.FAILED
    assert "exceeds the cap" in run.message
    assert not Project.objects.exists()

    settings.SYNC_MAX_INDEX_BYTES = 64 * 1024  # the page fits again
    fake_upstream.add(OTHER)
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert Project.objects.count() == 61
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED


def test_unreachable_upstream_fails_the_run(db):
    upstream = upstream_add(name="gone", url="http://127.0.0.1:9/simple/")
    run = upstream_sync(upstream=upstream)
    assert run.outcome == StoreRun.Outcome.FAILED
    assert "root page" in run.message


def test_deletions_upstream_reach_the_catalogue(fake_upstream, upstream_row, mirror_root):
    fake_upstream.add(HELLO)
    fake_upstream.add(HELLO_SDIST)
    fake_upstream.add(OTHER)
    upstream_sync(upstream=upstream_row)
    before = dict(Project.objects.values_list("normalized_name", "change_serial"))

    fake_upstream.projects["mm-hello"] = [f for f in fake_upstream.projects["mm-hello"] if f.filename.endswith(".whl")]
    del fake_upstream.projects["mm-other"]
    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.OK
    assert (run.files_removed, run.projects_removed) == (2, 1)
    assert list(File.objects.values_list("filename", flat=True)) == [HELLO.filename]
    other = Project.objects.get(normalized_name="mm-other")
    assert other.removed and not other.files.exists()
    after = dict(Project.objects.values_list("normalized_name", "change_serial"))
    assert after["mm-other"] > before["mm-other"] and after["mm-hello"] > before["mm-hello"]

    fake_upstream.add(OTHER)  # it comes back
    upstream_sync(upstream=upstream_row)
    assert not Project.objects.get(normalized_name="mm-other").removed
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED


def test_yank_and_new_content_bump_the_change_serial(fake_upstream, upstream_row, mirror_root):
    wheel = fake_upstream.add(HELLO)
    upstream_sync(upstream=upstream_row)
    serial = Project.objects.get().change_serial

    wheel.yanked = "security"
    run = upstream_sync(upstream=upstream_row)
    row = File.objects.get()
    assert run.files_updated == 1 and row.yanked and row.yanked_reason == "security"
    assert Project.objects.get().change_serial > serial

    wheel.data = build_package(SamplePackage("mm-hello", "1.0.0", summary="rebuilt"))
    run = upstream_sync(upstream=upstream_row)
    row = File.objects.get()
    assert run.files_updated == 1 and run.files_downloaded == 1
    assert row.sha256 == wheel.sha256() and row.state == File.State.STORED
    assert_store_sound(mirror_root)


def test_upstream_filters_limit_the_projects(fake_upstream, db):
    fake_upstream.add(HELLO)
    fake_upstream.add(OTHER)
    upstream = upstream_add(name="filtered", url=fake_upstream.url, filters={"exclude_projects": ["mm-oth*"]})
    run = upstream_sync(upstream=upstream)
    assert run.outcome == StoreRun.Outcome.OK
    assert list(Project.objects.values_list("normalized_name", flat=True)) == ["mm-hello"]


def test_catalogue_serial_is_monotonic(db):
    first = catalogue_next_serial()
    assert catalogue_next_serial() == first + 1


def test_sync_command_exit_codes_and_summary(fake_upstream, upstream_row):
    fake_upstream.add(OTHER)
    out = io.StringIO()
    call_command("sync", stdout=out)
    text = out.getvalue()
    assert "ok" in text and "1 new" in text and "MB/s" in text

    fake_upstream.add(HELLO, always="404")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"fake partial \(1 files failed\)"):
        call_command("sync", "--upstream", "fake", stdout=out)
    # The summary names the file and why, once; the error only counts.
    assert "failed" in out.getvalue() and out.getvalue().count(f"{HELLO.filename}: HTTP 404") == 1

    with pytest.raises(CommandError, match="no upstream named"):
        call_command("sync", "--upstream", "nope")


def test_file_over_the_size_cap_is_refused_without_retry(fake_upstream, upstream_row, settings, mirror_root):
    settings.SYNC_MAX_FILE_BYTES = 2048
    big = fake_upstream.add(SamplePackage("mm-big", "1.0", payload_bytes=10_000))
    fake_upstream.add(SamplePackage("mm-small", "1.0"))
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {big.filename}
    assert "size cap" in run.failures[0]["reason"]
    assert fake_upstream.hits[big.path] == 1
    assert_store_sound(mirror_root)


@pytest.mark.parametrize("mode", ["json", "html"])
def test_unsafe_project_names_fail_only_themselves(mode, fake_upstream, upstream_row, mirror_root):
    fake_upstream.mode = mode
    fake_upstream.add(OTHER)
    bad_names = ['x"onmouseover=alert(1)', "a+b", "a/b"]
    for name in bad_names:
        fake_upstream.projects[name] = []

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert run.projects_failed == len(bad_names)
    refused = {failure["project"]: failure["reason"] for failure in run.failures}
    assert set(refused) == set(bad_names)
    assert all("project name" in reason for reason in refused.values())
    assert list(Project.objects.values_list("name", flat=True)) == ["mm-other"]
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED
    assert_store_sound(mirror_root)

    for name in bad_names:
        del fake_upstream.projects[name]
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK


def test_over_long_fields_fail_only_their_project_or_file(fake_upstream, upstream_row, mirror_root):
    """PostgreSQL refuses values longer than the column (SQLite stores them): refused while parsing."""
    fake_upstream.mode = "json"
    fake_upstream.etag_padding = "e" * 600  # longer than Project.etag: dropped, not fatal
    fake_upstream.add(OTHER)
    long_name = "mm-" + "a" * 207
    fake_upstream.projects[long_name] = []
    long_python = fake_upstream.add(SamplePackage("mm-python", "1.0"), requires_python=">=3.8," + "!=3.9.1," * 80)
    wheel = build_package(SamplePackage("mm-version", "1.0"))
    long_version = FakeFile(f"mm_version-1{'.0' * 60}-py3-none-any.whl", wheel)
    fake_upstream.projects["mm-version"] = [long_version]

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL, run.message
    reasons = {failure["filename"] or failure["project"]: failure["reason"] for failure in run.failures}
    assert set(reasons) == {long_name, long_python.filename, long_version.filename}
    assert "longer than 200" in reasons[long_name]
    assert "requires-python" in reasons[long_python.filename]
    assert "version" in reasons[long_version.filename]
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED
    assert not Project.objects.filter(normalized_name__startswith="mm-aaa").exists()
    assert set(Project.objects.values_list("etag", flat=True)) == {""}
    assert_store_sound(mirror_root)

    del fake_upstream.projects[long_name]
    long_python.requires_python = ">=3.8"
    long_version.filename = "mm_version-1.0-py3-none-any.whl"
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.filter(state=File.State.STORED).count() == 3
    assert_store_sound(mirror_root)


def test_a_trickle_below_the_minimum_rate_fails_and_is_retried_next_run(
    fake_upstream, upstream_row, settings, mirror_root
):
    settings.SYNC_MIN_RATE_BYTES = 1000  # the trickle sends 160 B/s, each read well within 0.5 s
    settings.SYNC_RETRIES = 0
    victim = fake_upstream.add(SamplePackage("mm-slow", "1.0", payload_bytes=4096), always="trickle")
    fake_upstream.add(OTHER)

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {victim.filename}
    assert "too slow" in run.failures[0]["reason"]
    assert File.objects.get(filename=victim.filename).state == File.State.FAILED
    assert_store_sound(mirror_root)

    victim.always = ""
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.get(filename=victim.filename).state == File.State.STORED


def test_mass_removal_is_refused_unless_allowed(fake_upstream, upstream_row, mirror_root):
    for number in range(25):
        fake_upstream.projects[f"mm-project-{number:02d}"] = []
    fake_upstream.add(OTHER)
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK

    for number in range(20):  # a truncated but valid root page
        del fake_upstream.projects[f"mm-project-{number:02d}"]
    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert run.projects_removed == 0
    assert "SYNC_MAX_REMOVE_FRACTION" in run.failures[0]["reason"]
    assert "--allow-mass-removal" in run.message
    assert not Project.objects.filter(removed=True).exists()
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED

    out = io.StringIO()
    call_command("sync", "--allow-mass-removal", stdout=out)
    assert Project.objects.filter(removed=True).count() == 20
    assert StoreRun.objects.order_by("-id").first().outcome == StoreRun.Outcome.OK


def test_304_to_an_unconditional_request_fails_that_project(fake_upstream, upstream_row, mirror_root):
    fake_upstream.add(OTHER)
    fake_upstream.add(HELLO)
    fake_upstream.page_status["/simple/mm-hello/"] = 304

    run = upstream_sync(upstream=upstream_row)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert [failure["project"] for failure in run.failures] == ["mm-hello"]
    assert "304" in run.failures[0]["reason"]
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED

    del fake_upstream.page_status["/simple/mm-hello/"]
    again = upstream_sync(upstream=upstream_row)
    assert again.outcome == StoreRun.Outcome.OK, again.failures
    assert File.objects.get(filename=HELLO.filename).state == File.State.STORED


def test_304_to_an_unconditional_root_request_fails_the_run(fake_upstream, upstream_row):
    fake_upstream.add(OTHER)
    fake_upstream.page_status["/simple/"] = 304
    run = upstream_sync(upstream=upstream_row)
    assert run.outcome == StoreRun.Outcome.FAILED
    assert "304" in run.message


def test_file_upstream_links_cannot_leave_its_tree(tmp_path, mirror_root):
    write_static_index(tmp_path / "upstream", [OTHER])
    secret = build_package(SamplePackage("mm-secret", "1.0", kind="sdist"))
    outside = tmp_path / "outside" / "mm_secret-1.0.tar.gz"
    outside.parent.mkdir()
    outside.write_bytes(secret)
    page = tmp_path / "upstream" / "simple" / "mm-other" / "index.html"
    digest = hashlib.sha256(secret).hexdigest()
    page.write_text(
        page.read_text().replace(
            "</body>", f'<a href="%2e%2e/%2e%2e/%2e%2e/outside/mm_secret-1.0.tar.gz#sha256={digest}">x</a></body>'
        )
    )
    upstream = upstream_add(name="local", url=(tmp_path / "upstream" / "simple").as_uri())

    run = upstream_sync(upstream=upstream)

    assert run.outcome == StoreRun.Outcome.PARTIAL
    assert failed_names(run) == {"mm_secret-1.0.tar.gz"}
    assert "outside" in run.failures[0]["reason"]
    assert not blob_path(digest).exists()
    assert File.objects.get(filename=OTHER.filename).state == File.State.STORED
    assert_store_sound(mirror_root)


def test_sync_while_the_store_is_busy_is_skipped_not_failed(fake_upstream, upstream_row):
    fake_upstream.add(OTHER)
    with store_lock():
        out = io.StringIO()
        call_command("sync", stdout=out)  # exits 0
        assert "another sync" in out.getvalue()
        assert sync_all_task() == {"skipped": "another sync, verify --repair or collect is using the store"}
    assert not StoreRun.objects.exists()
    assert upstream_sync(upstream=upstream_row).outcome == StoreRun.Outcome.OK
