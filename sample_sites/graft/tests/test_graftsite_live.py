"""The sample site under a real server, driven by a real headless browser.

``python -m graftsite.run --port 0`` (what ``scripts/sample.sh`` runs: it
calls ``wsgihub serve site.ini``) is started in a subprocess, with its own
database; the port is read from its ``Serving on http://127.0.0.1:PORT``
line.  The browser test uses Debian's chromium and chromedriver through
selenium (never Selenium Manager, which would download a browser: both paths
are given).  ``scripts/test.sh`` installs the two packages when it can (root
and apt-get); where either program is missing, or their versions disagree,
the test is skipped with a reason that says what to install, printed in the
run's summary, and ``scripts/test.sh`` prints a notice before the run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.live

INSTALL = (
    "apt-get install chromium chromium-driver (scripts/test.sh does it when run as root "
    "where apt-get is)"
)
SERVING = re.compile(r"Serving on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 30.0


class Server:
    """The site in a subprocess; its output is drained by a thread and kept."""

    def __init__(self, data_dir: Path) -> None:
        env = dict(os.environ, GRAFTSITE_DATA=str(data_dir), PYTHONUNBUFFERED="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graftsite.run", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                self.stop()
                raise AssertionError(
                    f"no 'Serving on' line in {START_TIMEOUT}s:\n{''.join(self.output)}"
                ) from None
            if line is None:
                self.stop()
                raise AssertionError(
                    f"the server exited ({self.proc.returncode}):\n{''.join(self.output)}"
                )
            match = SERVING.search(line)
            if match:
                return match.group(1)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._drainer.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def fetch(self, path: str) -> tuple[int, str, str]:
        """GET ``path``: (status, content type, text); a failure shows the server's output."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as res:
                return res.status, res.headers.get_content_type(), res.read().decode()
        except urllib.error.URLError as exc:
            time.sleep(0.2)  # let the server's log of it arrive
            raise AssertionError(
                f"GET {path}: {exc}\nserver output:\n{''.join(self.output)}"
            ) from exc

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Add the server's output to any failure inside the block."""
        try:
            yield
        except Exception as exc:
            time.sleep(0.2)
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\nserver output:\n{''.join(self.output)}"
            ) from exc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("graftsite-live-data"))
    try:
        yield srv
    finally:
        srv.stop()


def test_run_prints_what_it_does(server: Server) -> None:
    head = "".join(server.output)
    assert "graftsite: the wsgihub sample site" in head
    assert "wsgihub serve" in head and "site.ini" in head
    assert "demo / demo" in head


def test_live_pages_from_every_app(server: Server) -> None:
    status, kind, home = server.fetch("/")
    assert (status, kind) == (200, "text/html")
    assert '<meta name="generator" content="django">' in home
    status, kind, reports = server.fetch("/reports/")
    assert '<meta name="generator" content="flask">' in reports
    status, kind, api = server.fetch("/api/")
    assert kind == "application/json"
    # Absolute URLs use the request's host: 127.0.0.1 is in trusted_hosts.
    assert json.loads(api)["links"]["reports"] == server.url + "/reports/"
    # The FastAPI service, its lifespan run by the hub's bus when the server started.
    status, kind, v2 = server.fetch("/v2/")
    assert (status, kind) == (200, "application/json")
    assert json.loads(v2)["name"] == "graftsite v2"
    status, kind, post = server.fetch("/v2/posts/1")
    links = json.loads(post)["links"]
    assert links["html"] == server.url + "/blog/1/" and links["api"] == server.url + "/api/posts/1"
    assert links["author"].startswith(server.url + "/users/")


def _program(*names: str) -> str | None:
    """The first of ``names`` on PATH (or in /usr/bin, where Debian puts them), else ``None``."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    return None


def _major_version(program: str) -> str | None:
    """The major version ``program --version`` prints (``Chromium 156.0...`` -> ``156``)."""
    try:
        out = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\b(\d+)\.\d+\.\d+", out)
    return match.group(1) if match else None


def browser_programs() -> tuple[str, str]:
    """Chromium and a chromedriver of the same major version, or a skip that says what is wrong.

    The reason starts with ``browser test not run`` so it stands out in the
    run's summary (``-ra``); selenium itself is a test dependency that tox
    installs, so its absence is an error, not a skip.
    """
    chromium = _program("chromium", "chromium-browser")
    chromedriver = _program("chromedriver")
    missing = [n for n, p in (("chromium", chromium), ("chromedriver", chromedriver)) if not p]
    if chromium is None or chromedriver is None:
        pytest.skip(f"browser test not run: {' and '.join(missing)} not found; {INSTALL}")
    browser_version, driver_version = _major_version(chromium), _major_version(chromedriver)
    if browser_version is None or browser_version != driver_version:
        pytest.skip(
            f"browser test not run: {chromium} is version {browser_version} but {chromedriver} "
            f"is version {driver_version}; install the pair from one place: {INSTALL}"
        )
    return chromium, chromedriver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, chromedriver = browser_programs()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # a missing test dependency is an error, not a skip
        raise AssertionError(
            f"selenium is needed for the browser test: pip install selenium ({exc})"
        ) from exc

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def test_browser_logs_in_on_django_and_flask_knows_the_user(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    with server.explained():
        wait = WebDriverWait(browser, 15)

        def served_by() -> str:
            return browser.find_element(By.CSS_SELECTOR, 'meta[name="generator"]').get_attribute(
                "content"
            )

        browser.get(server.url + "/")
        assert served_by() == "django"

        # Log in through Django's own form (CSRF cookie and token as a person's browser sends them).
        browser.find_element(By.ID, "login").click()
        wait.until(ec.presence_of_element_located((By.ID, "login-form")))
        browser.find_element(By.ID, "id_username").send_keys("demo")
        browser.find_element(By.ID, "id_password").send_keys("demo")
        browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()

        # Django's LOGIN_REDIRECT_URL view redirects into Flask: /accounts/profile/ -> /whoami.
        wait.until(ec.url_to_be(server.url + "/whoami"))
        assert served_by() == "flask"
        assert browser.find_element(By.ID, "user-name").text == "Dana Demo"

        # The Flask page's header shows the Django login too (hub_user).
        assert browser.find_element(By.ID, "whoami").text == "Dana Demo"

        # Back to the Django home page through a Flask link, then into Flask through a Django link.
        browser.find_element(By.LINK_TEXT, "graftsite").click()
        wait.until(ec.url_to_be(server.url + "/"))
        assert served_by() == "django"
        assert browser.find_element(By.ID, "whoami").text == "Dana Demo"
        browser.find_element(By.ID, "whoami-link").click()
        wait.until(ec.url_to_be(server.url + "/whoami"))
        assert served_by() == "flask"
        name = browser.find_element(By.ID, "user-name")
        assert name.text == "Dana Demo"
        # The Flask page uses the Django side's stylesheet (legacy_static(), i.e. hub_url("legacy:django.contrib.staticfiles", path=...)).
        header = browser.find_element(By.CSS_SELECTOR, "header.flask")
        assert header.value_of_css_property("background-color") == "rgba(42, 77, 122, 1)"

        # The demo user opens the admin, with its stylesheets.
        browser.get(server.url + "/admin/")
        wait.until(ec.title_contains("Site administration"))
        header = browser.find_element(By.ID, "header")  # coloured by the admin's base.css
        assert header.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
        browser.back()
        wait.until(ec.url_to_be(server.url + "/whoami"))

        shot = tmp_path / "whoami.png"
        assert browser.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 1000
        # Keep a copy where a person can look at it when asked to.
        keep = os.environ.get("GRAFTSITE_SCREENSHOT")
        if keep:
            Path(keep).write_bytes(data)


def test_stops_cleanly_on_sigterm(server: Server) -> None:
    assert server.stop() == 0, "".join(server.output)
