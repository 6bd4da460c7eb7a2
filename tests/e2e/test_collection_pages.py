"""What a new operator and a new admin meet, in a real headless Chromium, at 1280 px and 400 px.

The collection list and page (size, files, "just now", the rsync URL and copy commands, the repomd.json
sha256; nothing wider than the window at 400 px), the site's 404 and 403 pages and its log-in for staff
pages, and the admin (branding, filters as form fields, "sync now" and "publish now").
"""

from __future__ import annotations

import pytest
from django.test import override_settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.text import human_bytes
from metadata.models import Collection
from metadata.services import collection_publish
from mirrormanager.demo import demo_accounts_ensure
from tests.e2e.test_browser_shell import log_in
from tests.factories import BASE_PACKAGES, Catalogue, CollectionFactory, UpstreamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FITS = "return document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def published():
    """Two published collections over a real stored catalogue (the flushed database has no "full" row)."""
    Catalogue(UpstreamFactory(name="main")).add_all(BASE_PACKAGES)
    full, _ = Collection.objects.get_or_create(
        slug="full", defaults={"title": "Full mirror", "description": "Every project and file the origin holds."}
    )
    wheels = CollectionFactory(
        slug="wheels-only", title="Wheels only", description="Wheels for any platform.", package_types=["bdist_wheel"]
    )
    return {collection.slug: collection_publish(collection=collection) for collection in (full, wheels)}


def at_width(browser, width: int) -> None:
    browser.set_window_size(width, 900)


@override_settings(ORIGIN_RSYNC_BASE="rsync://origin.example/pub/", ORIGIN_BASE_URL="https://origin.example/")
def test_collection_list_and_page_at_1280_and_400(browser, live_server, screenshot, published):
    browser.get(f"{live_server.url}/collections/")
    row = browser.find_element(By.XPATH, "//tr[td/a[text()='Full mirror']]").text
    assert human_bytes(published["full"].bytes) in row and "just now" in row and "0 minutes" not in row
    screenshot("list-1280")
    at_width(browser, 400)
    assert browser.execute_script(FITS), "the collection list scrolls sideways at 400 px"
    screenshot("list-400", width=400)

    browser.get(f"{live_server.url}/collections/full/")
    revision = published["full"]
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=rsync-url]").text == "rsync://origin.example/pub/full/"
    command = browser.find_element(By.CSS_SELECTOR, "[data-testid=mm-mirror-command]").text
    assert command == "mm-mirror sync rsync://origin.example/pub/full/ /srv/mirror/full --delete"
    assert revision.repomd_sha256 in browser.find_element(By.CSS_SELECTOR, "[data-testid=sha256-command]").text
    description = Collection.objects.get(slug="full").description
    assert description and browser.page_source.count(description) == 1
    screenshot("full-1280")
    at_width(browser, 400)
    assert browser.execute_script(FITS), "the collection page scrolls sideways at 400 px (the sha256?)"
    sha = browser.find_element(By.CSS_SELECTOR, "[data-testid=repomd-sha256]")
    assert browser.execute_script("return arguments[0].getBoundingClientRect().right <= window.innerWidth", sha)
    screenshot("full-400", width=400)


def test_404_and_403_pages_and_the_login_for_staff_pages(browser, live_server, screenshot):
    browser.get(f"{live_server.url}/pub/full/simple/no-such-project/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert "/mirror" not in browser.page_source.replace("/mirror-status", "").replace("/mirrors/", "")
    screenshot("404")
    at_width(browser, 400)
    assert browser.execute_script(FITS)
    screenshot("404-400", width=400)

    browser.get(f"{live_server.url}/moderation/")
    assert "/accounts/login/?next=/moderation/" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Log in"
    screenshot("login-for-moderation")

    passwords = demo_accounts_ensure()
    log_in(browser, live_server, "operator", passwords["operator"])
    for path in ("/moderation/", "/admin/"):
        browser.get(f"{live_server.url}{path}")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed", path
    assert "this page is for project admins" in browser.find_element(By.TAG_NAME, "main").text
    screenshot("403")


def test_admin_branding_filter_fields_and_actions(browser, live_server, screenshot, published):
    passwords = demo_accounts_ensure()
    browser.get(f"{live_server.url}/admin/")
    assert "/accounts/login/?next=/admin/" in browser.current_url  # the site's log-in, not the admin's
    log_in(browser, live_server, "admin", passwords["admin"])
    browser.get(f"{live_server.url}/admin/")
    assert browser.find_element(By.CSS_SELECTOR, "#site-name").text == "mirrormanager administration"
    assert "Django administration" not in browser.page_source
    screenshot("admin-index")

    wheels = Collection.objects.get(slug="wheels-only")
    browser.get(f"{live_server.url}/admin/metadata/collection/{wheels.pk}/change/")
    assert browser.find_element(By.CSS_SELECTOR, "textarea[name=include_projects]")
    ticked = browser.find_element(By.CSS_SELECTOR, "input[type=checkbox][name=package_types][value=bdist_wheel]")
    assert ticked.is_selected()
    screenshot("collection-filters")

    browser.get(f"{live_server.url}/admin/metadata/collection/")
    browser.find_element(By.CSS_SELECTOR, "#action-toggle").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("publish_now")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    WebDriverWait(browser, 15).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "ul.messagelist li"))
    assert "Publish of full, wheels-only queued" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    screenshot("publish-now")

    browser.get(f"{live_server.url}/admin/sync/upstream/")
    browser.find_element(By.CSS_SELECTOR, "#action-toggle").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("sync_now")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    WebDriverWait(browser, 15).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "ul.messagelist li"))
    assert "Sync of main queued (task " in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    screenshot("sync-now")

    browser.get(f"{live_server.url}/admin/sync/file/")
    assert "icon-no.svg" not in browser.page_source
    screenshot("files-yanked-column")
