"""Once in a real browser: the grafted pair (``graft flaskr = cms``) in headless Chromium.

Debian's ``chromium`` and ``chromedriver`` through selenium, as the sample
site's browser test uses them (``scripts/test.sh`` installs them where it
can); where either is missing, or their versions differ, the test is skipped
with a reason that starts ``browser test not run`` (shown by ``-ra``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN
from thirdparty_helpers import Served

pytestmark = pytest.mark.live

INSTALL = "apt-get install chromium chromium-driver (scripts/test.sh does it as root)"

#: Every resource the page loaded, with the status the browser got (Chromium >= 109).
RESOURCES = """
return performance.getEntriesByType('resource').map(
    e => [e.name, e.responseStatus === undefined ? -1 : e.responseStatus]);
"""


def _program(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    return None


def _major(program: str) -> str | None:
    try:
        out = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\b(\d+)\.\d+\.\d+", out)
    return match.group(1) if match else None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, chromedriver = _program("chromium", "chromium-browser"), _program("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(f"browser test not run: chromium or chromedriver not found; {INSTALL}")
    if _major(chromium) is None or _major(chromium) != _major(chromedriver):
        pytest.skip(f"browser test not run: {chromium} and {chromedriver} differ; {INSTALL}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def loaded_ok(browser: Any, base: str) -> list[str]:
    """The site's resources the current page loaded; fails naming any that was not a 200."""
    entries = browser.execute_script(RESOURCES)
    local = [(name, status) for name, status in entries if name.startswith(base)]
    bad = [(name, status) for name, status in local if status not in (200, -1)]
    assert not bad, f"{browser.current_url}: resources not answered 200: {bad}"
    return [name for name, _ in local]


def keep(name: str, browser: Any) -> None:
    """A screenshot; kept in ``$THIRDPARTY_SCREENSHOTS`` when set, for a person to look at."""
    shot = browser.get_screenshot_as_png()
    assert shot.startswith(b"\x89PNG")
    folder = os.environ.get("THIRDPARTY_SCREENSHOTS")
    if folder:
        Path(folder, name).write_bytes(shot)


def test_browser_uses_both_apps_of_the_graft(grafted: Served, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    base = grafted.url
    with grafted.explained():
        # The Wagtail admin, through its own login form (CSRF cookie and token).
        browser.get(base + "/admin/login/")
        loaded = loaded_ok(browser, base)
        assert any("/static/wagtailadmin/css/" in name for name in loaded), loaded
        browser.find_element(By.ID, "id_username").send_keys(ADMIN[0])
        browser.find_element(By.ID, "id_password").send_keys(ADMIN[1])
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(ec.url_to_be(base + "/admin/"))
        loaded = loaded_ok(browser, base)
        assert any(name.endswith(".js") or ".js?" in name for name in loaded), loaded
        keep("wagtail-admin.png", browser)
        # Wagtail's stylesheet applied: its sidebar is laid out, not a bare list.
        sidebar = wait.until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, "[data-side-panel], .sidebar, #wagtail-sidebar")
            )
        )
        assert sidebar.value_of_css_property("display") != "inline"

        # flaskr, grafted at the root: register, log in, see the name in its header.
        name = f"b{uuid.uuid4().hex[:8]}"
        # each form's POST is waited for (flaskr redirects to its login page, then to its index):
        # loading the next page while the first POST is in flight would cancel it
        for page, then in (("/auth/register", "/auth/login"), ("/auth/login", "/")):
            browser.get(base + page)
            browser.find_element(By.NAME, "username").send_keys(name)
            browser.find_element(By.NAME, "password").send_keys("pw")
            browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
            wait.until(ec.url_to_be(base + then))
        assert browser.find_element(By.CSS_SELECTOR, "nav span").text == name
        assert base + "/static/style.css" in loaded_ok(browser, base)
        keep("flaskr.png", browser)
