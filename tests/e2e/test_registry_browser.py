"""The registry in a real Chromium: sign up, register, prove control, moderation, the public page, isolation.

Each page visited is saved under var/screenshots/<test>/ (and the dashboard and status page at 400 px too).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.net import guard
from metadata.models import Collection
from mirrors.models import Host
from tests.fake_http import serve

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def fill(browser, values: dict[str, str]) -> None:
    for field_id, value in values.items():
        element = browser.find_element(By.ID, field_id)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def press(browser, label: str) -> None:
    """Click the button with this text and wait for the next page."""
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, f"//main//button[normalize-space()='{label}']").click()
    WebDriverWait(browser, 15).until(lambda driver: old != driver.find_element(By.TAG_NAME, "html"))


def messages(browser) -> str:
    return " ".join(element.text for element in browser.find_elements(By.CSS_SELECTOR, ".messages .message"))


def log_in(browser, base: str, username: str, password: str) -> None:
    browser.get(f"{base}/accounts/login/")
    fill(browser, {"id_username": username, "id_password": password})
    press(browser, "Log in")


def log_out(browser) -> None:
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "nav .account button").click()
    WebDriverWait(browser, 15).until(lambda driver: old != driver.find_element(By.TAG_NAME, "html"))


@pytest.fixture
def names_on_loopback(monkeypatch, settings):
    """The mirror's name resolves to 127.0.0.1, where the test's own web server runs."""
    settings.PROBE_ALLOW_PRIVATE = True
    monkeypatch.setattr(guard, "resolve", lambda host, port, family=0: ["127.0.0.1"])


def test_an_operator_registers_a_mirror_and_an_admin_approves_it(
    browser, live_server, screenshot, names_on_loopback, settings
):
    base = live_server.url
    users = get_user_model().objects
    users.create_superuser("moderator", "moderator@example.org", "moderator-pass-1234")
    users.create_user("stranger", "stranger@example.org", "stranger-pass-1234")
    # Transactional tests before this one may have flushed the migration's collection.
    Collection.objects.get_or_create(slug="full", defaults={"title": "Full"})

    # Sign up, confirm by the emailed link, log in.
    browser.get(base + "/")
    browser.find_element(By.LINK_TEXT, "Sign up").click()
    assert heading(browser) == "Sign up"
    fill(browser, {"id_username": "alice", "id_email": "alice@example.org", "id_password1": "a-long-pass-phrase",
                   "id_password2": "a-long-pass-phrase"})  # fmt: skip
    screenshot("signup")
    press(browser, "Sign up")
    assert heading(browser) == "Check your email"
    screenshot("signup-sent")
    [confirmation] = mail.outbox
    link = re.search(r"https?://\S+/accounts/confirm/\S+", confirmation.body).group(0)
    browser.get(link)
    assert "/accounts/login/" in browser.current_url and "Your address is confirmed" in messages(browser)
    screenshot("confirmed-login")
    fill(browser, {"id_username": "alice", "id_password": "a-long-pass-phrase"})
    press(browser, "Log in")
    assert heading(browser) == "My sites" and "Register a site" in browser.page_source
    screenshot("dashboard-empty")

    # A site, a host, a URL and a netblock.
    browser.find_element(By.LINK_TEXT, "Register a site").click()
    fill(browser, {"id_name": "Alice Mirrors", "id_contact_email": "noc@alice.example"})
    screenshot("site-form")
    press(browser, "Register the site")
    assert heading(browser) == "Alice Mirrors"
    screenshot("site")
    browser.find_element(By.LINK_TEXT, "Add a host").click()
    fill(browser, {"id_name": "192.0.2.1", "id_country": "DE", "id_bandwidth_mbps": "1000"})
    press(browser, "Register the host")
    assert "is an IP address" in browser.find_element(By.CSS_SELECTOR, ".field-error").text
    screenshot("host-form-error")
    fill(browser, {"id_name": "mirror.example.org"})
    press(browser, "Register the host")
    assert heading(browser).startswith("mirror.example.org")
    host = Host.objects.get(name="mirror.example.org")
    assert host.state == "pending" and host.continent == "EU"

    with serve() as server:
        fill(browser, {"id_collection": "full", "id_url": f"http://mirror.example.org:{server.port}/pypi/full"})
        press(browser, "Add the URL")
        assert "URL added." in messages(browser)
        fill(browser, {"id_cidr": "192.0.2.1/24"})
        press(browser, "Add the netblock")
        assert "the network is 192.0.2.0/24" in browser.page_source
        screenshot("netblock-error")
        browser.find_element(By.LINK_TEXT, "mirror.example.org").click()
        fill(browser, {"id_cidr": "192.0.2.0/24"})
        press(browser, "Add the netblock")
        assert "Netblock added." in messages(browser)

        press(browser, "Check now")
        assert "not found (HTTP 404)" in messages(browser)
        screenshot("verify-not-found")
        token = browser.find_element(By.CSS_SELECTOR, "[data-testid=verification-token]").text
        server.routes[f"/pypi/full/.well-known/mirrormanager-{host.pk}.txt"] = token.encode() + b"\n"
        press(browser, "Check now")
        assert "Control shown" in messages(browser)
        assert "Waiting for a project admin" in browser.find_element(By.CSS_SELECTOR, "[data-testid=next-step]").text
        screenshot("verified")
    browser.find_element(By.LINK_TEXT, "My sites").click()
    assert "Waiting for a project admin to review it" in browser.page_source
    screenshot("dashboard")
    screenshot("dashboard-narrow", width=400)
    log_out(browser)

    # The admin approves it with a reason; the operator is told.
    log_in(browser, base, "moderator", "moderator-pass-1234")
    browser.find_element(By.LINK_TEXT, "Moderation").click()
    assert "mirror.example.org" in browser.page_source and "shown" in browser.page_source
    screenshot("moderation-queue")
    browser.find_element(By.LINK_TEXT, "Review mirror.example.org with its history").click()
    screenshot("moderation-review")
    fill(browser, {f"approve-reason-{host.pk}": "Welcome to the network"})
    press(browser, "Approve mirror.example.org")
    assert "Approved mirror.example.org" in messages(browser)
    screenshot("moderation-approved")
    assert Host.objects.get(pk=host.pk).state == "approved"
    decision = mail.outbox[-1]
    assert "alice@example.org" in decision.to and "Reason: Welcome to the network" in decision.body

    # The public page lists it.
    browser.find_element(By.LINK_TEXT, "Mirror status").click()
    table = browser.find_element(By.CSS_SELECTOR, "[data-testid=mirror-table]").text
    assert "mirror.example.org" in table and "Germany" in table and "Not probed yet" in table
    screenshot("status")
    screenshot("status-narrow", width=400)
    browser.get(base + "/mirrors/?country=FR")
    assert "No public mirror matches these filters" in browser.page_source
    log_out(browser)

    # A second operator sees none of it.
    log_in(browser, base, "stranger", "stranger-pass-1234")
    assert heading(browser) == "My sites" and "Alice Mirrors" not in browser.page_source
    browser.get(f"{base}/my/hosts/{host.pk}/")
    assert "mirror.example.org" not in browser.page_source and token not in browser.page_source
    screenshot("stranger-404")


def test_api_docs_list_the_endpoints(browser, live_server, screenshot):
    browser.get(live_server.url + "/api/docs/")
    WebDriverWait(browser, 20).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {
        element.text.replace("\u200b", "")
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    for path in ["/api/v1/hosts/{id}/verify/", "/api/v1/moderation/hosts/{id}/approve/", "/api/v1/mirrors/"]:
        assert path in paths
    screenshot("api-docs")
