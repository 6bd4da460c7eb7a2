"""The pages (metadata.publishing.render) escape whatever the catalogue holds."""

from __future__ import annotations

import pytest

from metadata.publishing.render import PublishedFile, project_html, root_html_chunks
from tests.metadata.publishing.pages import anchors

pytestmark = pytest.mark.django_db


def test_pages_escape_every_attribute_and_text():
    file = PublishedFile(
        filename='evil"<b>-1.0.tar.gz',
        version="1.0",
        package_type="sdist",
        sha256="a" * 64,
        size=1,
        upload_time="",
        requires_python='<3.9,>="2"',
        yanked=True,
        yanked_reason="bad \"quote\" 'single' <b>&amp;",
        core_metadata_sha256="",
    )
    page = project_html('x"onmouseover="alert(1)<b>', [file])
    assert b"<b>" not in page and b'"onmouseover' not in page
    [(attrs, text)] = anchors(page)
    assert text == file.filename
    assert attrs["data-requires-python"] == file.requires_python
    assert attrs["data-yanked"] == file.yanked_reason
    assert attrs["href"].endswith("#sha256=" + "a" * 64)
    assert set(attrs) == {"href", "data-requires-python", "data-yanked"}

    root = b"".join(root_html_chunks([('x"onmouseover="alert(1)', "Display<b>", 1)]))
    [(attrs, text)] = anchors(root)
    assert set(attrs) == {"href"} and attrs["href"] == 'x"onmouseover="alert(1)/'
    assert text == "Display<b>"
