"""Fixtures for real browsers and real clients."""

from __future__ import annotations

import pytest


@pytest.fixture
def browser(chromium_paths, tmp_path):
    """A headless Chromium driven by Debian's chromedriver, with no network beyond this machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """Save what the browser shows as var/screenshots/<test>/<NN>-<name>.png (ignored by git); returns the path.

    The saved pictures are what users see: look at them after a run.
    """
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "var" / "screenshots" / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(name: str, *, width: int | None = None) -> Path:
        if width is not None:
            browser.set_window_size(width, 900)
        height = browser.execute_script("return Math.min(document.documentElement.scrollHeight, 6000)")
        browser.set_window_size(width or browser.get_window_size()["width"], max(int(height), 600))
        path = folder / f"{next(counter):02d}-{name}.png"
        browser.save_screenshot(str(path))
        browser.set_window_size(1280, 900)
        return path

    return take
