"""The staff page that explains a mirrorlist answer, in a real headless Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.services import mirrorlist_build
from tests.e2e.test_browser_shell import log_in
from tests.factories import CollectionFactory, HostFactory, HostURLFactory, NetblockFactory, RevisionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_asks_which_mirrors_a_client_gets(browser, live_server, screenshot, django_user_model, settings):
    settings.MIRRORLIST_POLL = False
    settings.ORIGIN_BASE_URL = "https://origin.example/"
    runtime.reset()
    RevisionFactory(collection=CollectionFactory(slug="full"), number=1)  # a flushed database has none
    near = HostFactory(approved=True, name="campus.mirror.example.org", private=True)
    HostURLFactory(host=near, current=True)
    NetblockFactory(host=near, cidr="198.51.100.0/24")
    HostURLFactory(host=HostFactory(approved=True, name="public.mirror.example.org"), current=True)
    HostURLFactory(host=HostFactory(name="pending.mirror.example.org"), current=True)
    mirrorlist_build()
    django_user_model.objects.create_superuser("root", "root@example.org", "root-pass-1234")
    log_in(browser, live_server, "root", "root-pass-1234")
    browser.get(f"{live_server.url}/moderation/mirrorlist/")
    screenshot("empty-form")
    browser.find_element(By.ID, "id_ip").send_keys("not-an-address")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-form] button").click()
    assert "Not an IPv4 or IPv6 address." in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    screenshot("bad-address")
    field = browser.find_element(By.ID, "id_ip")
    field.clear()
    field.send_keys("198.51.100.20")
    Select(browser.find_element(By.ID, "id_collection")).select_by_value("full")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-form] button").click()
    listed = browser.find_element(By.CSS_SELECTOR, "[data-testid=listed]").text
    assert listed.index("campus.mirror.example.org") < listed.index("public.mirror.example.org")
    assert "netblock 198.51.100.0/24" in listed
    excluded = browser.find_element(By.CSS_SELECTOR, "[data-testid=excluded]").text
    assert "pending.mirror.example.org" in excluded and "host pending" in excluded
    screenshot("explained")
    runtime.reset()
