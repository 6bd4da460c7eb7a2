"""The page shell in a real headless Chromium: navigation, log in as the demo operator, log out."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mirrormanager.demo import demo_accounts_ensure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def nav_labels(browser) -> list[str]:
    return [link.text for link in browser.find_elements(By.CSS_SELECTOR, "nav.site-nav ul a")]


def log_in(browser, live_server, username: str, password: str) -> None:
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    # Wait for the answer to the post: the signed-in shell, or the form again with its error.
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "[data-testid=signed-in-as], [role=alert]")
    )


def test_anonymous_visitor_sees_public_navigation(browser, live_server):
    browser.get(live_server.url + "/")
    assert browser.title == "Home · mirrormanager"
    assert nav_labels(browser) == ["Mirror status", "Collections", "API docs"]
    assert browser.find_element(By.LINK_TEXT, "Log in").is_displayed()
    stylesheet = browser.execute_script(
        "return getComputedStyle(document.querySelector('.site-header')).borderBottomStyle"
    )
    assert stylesheet == "solid", "the vendored stylesheet did not load"


def test_demo_operator_logs_in_and_sees_the_shell(browser, live_server, tmp_path):
    passwords = demo_accounts_ensure()
    log_in(browser, live_server, "operator", passwords["operator"])
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=signed-in-as]").text == "Signed in as operator"
    assert nav_labels(browser) == ["Mirror status", "Collections", "My sites", "API docs"]
    browser.find_element(By.LINK_TEXT, "My sites").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "My sites"
    current = browser.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]")
    assert current.text == "My sites"
    browser.save_screenshot(str(tmp_path / "my-sites.png"))

    browser.find_element(By.CSS_SELECTOR, "nav .account button").click()
    WebDriverWait(browser, 15).until(lambda driver: driver.find_elements(By.LINK_TEXT, "Log in"))
    browser.get(f"{live_server.url}/my/sites/")
    assert "/accounts/login/" in browser.current_url


def test_wrong_password_is_refused_with_a_message(browser, live_server):
    demo_accounts_ensure()
    log_in(browser, live_server, "operator", "not-the-password")
    assert "enter a correct username and password" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=signed-in-as]")


def test_admin_sees_moderation(browser, live_server):
    passwords = demo_accounts_ensure()
    log_in(browser, live_server, "admin", passwords["admin"])
    assert nav_labels(browser) == ["Mirror status", "Collections", "My sites", "Moderation", "Admin", "API docs"]
    browser.find_element(By.LINK_TEXT, "Moderation").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Moderation"


def test_operator_cannot_open_moderation(browser, live_server):
    passwords = demo_accounts_ensure()
    log_in(browser, live_server, "operator", passwords["operator"])
    browser.get(f"{live_server.url}/moderation/")
    assert browser.current_url.endswith("/moderation/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
