"""Reading PEP 503 HTML and PEP 691 JSON pages."""

from __future__ import annotations

import json

import pytest

from sync.engine.index import IndexFormatError, parse_project, parse_root

BASE = "http://upstream.example/simple/demo/"
HTTP = ("http", "https")


def test_html_keeps_every_data_attribute():
    body = (
        b"<html><body>"
        b'<a href="../../f/demo-1.0-py3-none-any.whl#sha256=' + b"AB" * 32 + b'" '
        b'data-requires-python="&gt;=3.8" data-yanked="bad" data-core-metadata="sha256=' + b"cd" * 32 + b'" '
        b'data-gpg-sig="false" data-custom="x">demo-1.0-py3-none-any.whl</a>'
        b'<a href="../../f/demo-1.1.tar.gz" data-dist-info-metadata="true">demo-1.1.tar.gz</a>'
        b'<a href="../../f/demo-1.2.tar.gz" data-yanked>demo-1.2.tar.gz</a>'
        b"</body></html>"
    )
    listing = parse_project(body, content_type="text/html", base_url=BASE, allowed_schemes=HTTP)
    wheel, sdist, yanked = listing.files
    assert wheel.url == "http://upstream.example/f/demo-1.0-py3-none-any.whl"
    assert wheel.sha256 == "ab" * 32
    assert wheel.requires_python == ">=3.8"
    assert (wheel.yanked, wheel.yanked_reason) == (True, "bad")
    assert wheel.core_metadata_sha256 == "cd" * 32
    assert wheel.attributes["data-gpg-sig"] == "false" and wheel.attributes["data-custom"] == "x"
    assert sdist.core_metadata_sha256 == "-" and not sdist.yanked
    assert (yanked.yanked, yanked.yanked_reason) == (True, "")
    assert listing.refused == []


def test_json_page():
    body = json.dumps(
        {
            "meta": {"api-version": "1.1", "_last-serial": 7},
            "name": "demo",
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "https://files.upstream.example/demo-1.0-py3-none-any.whl",
                    "hashes": {"sha256": "ef" * 32},
                    "requires-python": ">=3.9",
                    "yanked": "reason",
                    "core-metadata": {"sha256": "12" * 32},
                    "size": 123,
                    "upload-time": "2024-01-02T03:04:05Z",
                    "provenance": None,
                },
                {"filename": "demo-1.1.tar.gz", "url": "demo-1.1.tar.gz", "hashes": {}, "dist-info-metadata": True},
            ],
        }
    ).encode()
    listing = parse_project(
        body, content_type="application/vnd.pypi.simple.v1+json", base_url=BASE, allowed_schemes=HTTP
    )
    wheel, sdist = listing.files
    assert listing.serial == 7
    assert (wheel.size, wheel.upload_time.year, wheel.yanked_reason) == (123, 2024, "reason")
    assert wheel.core_metadata_sha256 == "12" * 32 and "provenance" in wheel.attributes
    assert sdist.url == BASE + "demo-1.1.tar.gz" and sdist.core_metadata_sha256 == "-" and sdist.sha256 == ""


def test_unsafe_links_are_refused():
    body = json.dumps(
        {
            "meta": {"api-version": "1.0"},
            "files": [
                {"filename": "../demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}},
                {"filename": "demo-1.0.tar.gz", "url": "file:///etc/passwd", "hashes": {}},
                {"filename": "demo-1.1.tar.gz", "url": "demo-1.1.tar.gz", "hashes": {"sha256": "nothex"}},
            ],
        }
    ).encode()
    listing = parse_project(body, content_type="application/json", base_url=BASE, allowed_schemes=HTTP)
    assert listing.files == []
    assert len(listing.refused) == 3


def test_root_pages_and_their_links():
    html = b'<a href="/simple/demo/">Demo</a><a href="http://evil.example/simple/x/">x</a><a href="../../etc/">etc</a>'
    listing = parse_root(html, content_type="text/html", base_url="http://upstream.example/simple/")
    assert list(listing.projects) == ["demo"]
    assert listing.projects["demo"].url == "http://upstream.example/simple/demo/"
    assert {name for name, _reason in listing.refused} == {"x", "etc"}
    body = json.dumps({"meta": {"api-version": "1.1", "_last-serial": 9}, "projects": [{"name": "A_b"}]}).encode()
    listing = parse_root(body, content_type="application/vnd.pypi.simple.v1+json", base_url="http://u.example/s/")
    assert listing.serial == 9 and listing.projects["a-b"].url == "http://u.example/s/a-b/"


def test_unsupported_json_is_an_error():
    with pytest.raises(IndexFormatError):
        parse_root(b'{"meta": {"api-version": "2.0"}, "projects": []}', content_type="application/json", base_url=BASE)
    with pytest.raises(IndexFormatError):
        parse_project(b"{not json", content_type="application/json", base_url=BASE, allowed_schemes=HTTP)


def test_root_names_must_be_valid_and_base_href_cannot_leave_the_root():
    html = (
        b'<base href="http://evil.example/simple/">'
        b'<a href="demo/">demo</a><a href="a%2Bb/">a+b</a><a href="x/">x"onmouseover=alert(1)</a>'
    )
    listing = parse_root(html, content_type="text/html", base_url="http://upstream.example/simple/")
    assert listing.projects == {}
    reasons = dict(listing.refused)
    assert "leaves the upstream's root" in reasons["demo"]
    assert "not a valid name" in reasons["a+b"] and "not a valid name" in reasons['x"onmouseover=alert(1)']
    long_name = "a" * 201
    body = json.dumps({"meta": {"api-version": "1.0"}, "projects": [{"name": long_name}, {"name": "ok"}]}).encode()
    listing = parse_root(body, content_type="application/json", base_url="http://u.example/s/")
    assert list(listing.projects) == ["ok"] and "longer than 200" in dict(listing.refused)[long_name]


def test_json_project_page_with_an_unsafe_name_is_an_error():
    body = json.dumps({"meta": {"api-version": "1.0"}, "name": "<b>x</b>", "files": []}).encode()
    with pytest.raises(IndexFormatError, match="not a valid name"):
        parse_project(body, content_type="application/json", base_url=BASE, allowed_schemes=HTTP)


def test_length_limits_match_the_catalogue_columns():
    from sync.engine import index
    from sync.engine.names import MAX_PROJECT_NAME_LENGTH
    from sync.models import File, Project

    assert index.MAX_URL_LENGTH == File._meta.get_field("url").max_length == Project._meta.get_field("url").max_length
    assert index.MAX_VERSION_LENGTH == File._meta.get_field("version").max_length
    assert index.MAX_REQUIRES_PYTHON_LENGTH == File._meta.get_field("requires_python").max_length
    assert MAX_PROJECT_NAME_LENGTH == Project._meta.get_field("name").max_length


JSON = "application/vnd.pypi.simple.v1+json"


def _json_page(files, **top) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": files, **top}).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"meta": {"api-version": "1.0"}, "files": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deep"),
        (b'{"meta": "1.0", "name": "demo", "files": []}', "'meta' is not an object"),
        (b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "demo-1.0.tar.gz", "size": NaN}]}', "NaN"),
        (b'{"meta": {"api-version": "1.0"}, "files": [], "x": Infinity}', "Infinity"),
        (b'{"meta": {"api-version": "1.0"}, "files": [], "x": -Infinity}', "Infinity"),
        (b"\xff\xfe{}", "invalid JSON"),
    ],
)
def test_hostile_json_is_an_index_format_error(body, reason):
    with pytest.raises(IndexFormatError, match=reason):
        parse_project(body, content_type=JSON, base_url=BASE, allowed_schemes=HTTP)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("requires-python", ">=3.8\x00", "NUL or an invalid character in its requires-python"),
        ("yanked", "bad\x00reason", "NUL or an invalid character in its yanked reason"),
        ("url", "demo-1.0.tar.gz?\x00", "NUL or an invalid character in its URL"),
        ("requires-python", ">=3.8\ud800", "NUL or an invalid character in its requires-python"),
    ],
)
def test_unstorable_text_refuses_its_file_only(field, value, reason):
    good = {"filename": "demo-1.1.tar.gz", "url": "demo-1.1.tar.gz", "hashes": {}}
    bad = {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}, field: value}
    listing = parse_project(_json_page([bad, good]), content_type=JSON, base_url=BASE, allowed_schemes=HTTP)
    assert [file.filename for file in listing.files] == ["demo-1.1.tar.gz"]
    assert listing.refused == [("demo-1.0.tar.gz", "a " + reason)]


def test_unknown_json_keys_are_not_stored_and_known_ones_are_bounded():
    entry = {
        "filename": "demo-1.0.tar.gz",
        "url": "demo-1.0.tar.gz",
        "hashes": {},
        "huge-unknown": "x" * (1024 * 1024),
        "nested": {"a": [1, 2, 3]},
        "gpg-sig": False,
        "provenance": "p" * 5000,  # too long: dropped
        "yanked": "r" * 5000,
    }
    [file] = parse_project(_json_page([entry]), content_type=JSON, base_url=BASE, allowed_schemes=HTTP).files
    assert file.attributes == {"gpg-sig": False}
    assert len(file.yanked_reason) == 1000


def test_html_attributes_are_bounded_in_number_and_length():
    attrs = " ".join(f'data-a{index}="v"' for index in range(40)) + ' data-long="' + "x" * 5000 + '"'
    body = f'<a href="demo-1.0.tar.gz" {attrs}>demo-1.0.tar.gz</a>'.encode()
    [file] = parse_project(body, content_type="text/html", base_url=BASE, allowed_schemes=HTTP).files
    assert len(file.attributes) == 16 and "data-long" not in file.attributes


def test_a_page_with_more_links_than_allowed_is_refused_as_a_whole():
    html = b'<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>\n' * 101
    with pytest.raises(IndexFormatError, match="more than 100 links"):
        parse_project(html, content_type="text/html", base_url=BASE, allowed_schemes=HTTP, max_links=100)
    files = [{"filename": f"demo-1.{index}.tar.gz", "url": "x", "hashes": {}} for index in range(101)]
    with pytest.raises(IndexFormatError, match="more than 100"):
        parse_project(_json_page(files), content_type=JSON, base_url=BASE, allowed_schemes=HTTP, max_links=100)
    # Many tiny JSON values are counted before they are built.
    values = b'{"meta": {}, "files": [], "x": [' + b"1," * 100_000 + b"1]}"
    with pytest.raises(IndexFormatError, match="JSON values"):
        parse_project(values, content_type=JSON, base_url=BASE, allowed_schemes=HTTP, max_links=100)
    assert len(parse_project(html[: -50], content_type="text/html", base_url=BASE, allowed_schemes=HTTP,
                             max_links=100).files) == 1  # fmt: skip


def test_a_root_name_or_link_with_nul_is_refused_alone():
    body = json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": "ok"}, {"name": "b\x00d"}]}).encode()
    listing = parse_root(body, content_type=JSON, base_url="http://upstream.example/simple/")
    assert list(listing.projects) == ["ok"]
    assert listing.refused[0][1].startswith("a NUL")
    body = json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": "ok"}, {"name": "foo\n"}]}).encode()
    listing = parse_root(body, content_type=JSON, base_url="http://upstream.example/simple/")
    assert list(listing.projects) == ["ok"] and "not a valid name" in listing.refused[0][1]
