"""The inspector page (issue 11 §4): opt-in, trusted clients only, no settings, escaped, in a browser.

The live tests serve a real site -- a Django project with a Flask app
grafted over it, each with its own SECRET_KEY (Django's in its settings
module, Flask's in the site file) -- with ``wsgihub serve --inspect``, in a
subprocess (Django allows one settings module per process), and read the
page with HTTP and in headless Chromium (Debian's chromium and
chromedriver through selenium, as the sample site's browser test does;
skipped, loudly, when they are missing).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import wsgihub
from wsgihub.inspector import Inspector, inspect_hub, parse_allow_ips, render_html
from wsgihub.testing.client import call

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

DJANGO_SECRET = "django-secret-8c1f0e5b-never-shown"
FLASK_SECRET = "flask-secret-3d9a77c2-never-shown"
DB_PASSWORD = "db-password-5e2b-never-shown"
#: A Flask endpoint name that is HTML (endpoint names are free text).
HOSTILE_ENDPOINT = '<script>alert("x")</script>&<b>'

PROJECT = {
    "insp_legacy_settings.py": f"""
        SECRET_KEY = {DJANGO_SECRET!r}
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
        INSTALLED_APPS = []
        MIDDLEWARE = []
        ROOT_URLCONF = "insp_legacy_urls"
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:",
                                  "PASSWORD": {DB_PASSWORD!r}}}}}
        USE_TZ = True
    """,
    "insp_legacy_urls.py": """
        from django.http import HttpResponse
        from django.urls import path

        def home(request):
            return HttpResponse("legacy home")

        def about(request):
            return HttpResponse("legacy about")

        urlpatterns = [path("", home, name="home"), path("about/", about, name="about")]
    """,
    "insp_new.py": f"""
        import flask

        app = flask.Flask("insp_new")

        @app.route("/about/")
        def about():
            return "new about"

        app.add_url_rule("/hostile/", endpoint={HOSTILE_ENDPOINT!r}, view_func=lambda: "hostile")
    """,
    "site.ini": f"""
        [composite:main]
        use = egg:wsgihub#hub
        trusted_hosts = 127.0.0.1
        / = legacy
        graft new = legacy

        [app:legacy]
        use = egg:wsgihub-django#app
        settings = insp_legacy_settings

        [app:new]
        use = egg:wsgihub-flask#app
        app = insp_new:app
        SECRET_KEY = {FLASK_SECRET}

        [server:main]
        inspect = /_hub
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The Django + Flask site in ``tmp_path`` (skipped where the adapters are not installed: the core env)."""
    for distribution in ("wsgihub_django", "wsgihub_flask"):
        if importlib.util.find_spec(distribution) is None:
            pytest.skip(f"needs {distribution} (the integration envs run this)")
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


@pytest.fixture
def served(project: Path) -> Iterator[tuple[ServeProcess, str]]:
    with ServeProcess([str(project / "site.ini"), "--port", "0"], pythonpath=[project]) as process:
        yield process, process.url(timeout=30)


def _no_secrets(text: str) -> None:
    for secret in (DJANGO_SECRET, FLASK_SECRET, DB_PASSWORD):
        assert secret not in text


# -- in process ---------------------------------------------------------------------------------
def test_allow_ips_take_addresses_networks_and_star() -> None:
    assert parse_allow_ips("*") is None
    networks = parse_allow_ips("127.0.0.1, ::1,10.0.0.0/8")
    assert networks is not None and [str(n) for n in networks] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    with pytest.raises(ValueError, match="'localhost' is not an IP address or network"):
        parse_allow_ips("localhost")


@pytest.mark.parametrize(
    ("allow", "client", "code"),
    [
        ("127.0.0.1,::1", "127.0.0.1", 200),
        ("127.0.0.1,::1", "::1", 200),
        ("127.0.0.1,::1", "::ffff:127.0.0.1", 200),  # IPv4-mapped
        ("127.0.0.1,::1", "10.1.2.3", 404),
        ("127.0.0.1,::1", "", 404),
        ("127.0.0.1,::1", "not an address", 404),
        ("10.0.0.0/8", "10.1.2.3", 200),
        ("10.0.0.0/8", "127.0.0.1", 404),
        ("*", "203.0.113.9", 200),
    ],
)
def test_only_trusted_clients_see_it_and_no_app_is_called(allow: str, client: str, code: int) -> None:
    called: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"the app"]

    hub = wsgihub.Hub()
    hub.mount("/", app, name="legacy")
    inspector = Inspector(hub, hub, "/_hub", allow)
    for path in ("/_hub", "/_hub.json"):
        result = call(inspector, path, REMOTE_ADDR=client)
        assert result.code == code
        if code == 404:
            assert result.body == b"Not Found\n"
    assert called == []
    assert call(inspector, "/other").body == b"the app"


def test_page_escapes_every_value() -> None:
    report = {
        "state": "STARTED",
        "pid": 1,
        "mounts": [
            {"name": "<i>m</i>", "prefix": "/", "framework": "wsgi", "adapter": None, "over": None,
             "grafts": [], "takes": ['x "takes" <y>'], "routes": 0}
        ],
        "findings": [{"id": "W001", "level": "warning", "message": "<script>bad()</script>", "mounts": ["<m>"]}],
        "routes": [{"name": HOSTILE_ENDPOINT, "methods": None, "rule": "/<path:p>", "framework": "wsgi", "grafted": False}],
        "services": [{"service": "url", "answered_by": ["<m>"]}],
        "plugins": [],
        "versions": {"python": "3"},
    }
    page = render_html(report, '/_hub.json?"x"')
    assert "<script>" not in page and "<i>" not in page and "<y>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in page
    assert 'href="/_hub.json?&quot;x&quot;"' in page


def test_report_of_a_plain_hub() -> None:
    hub = wsgihub.Hub()
    hub.mount("/", lambda e, s: [], name="legacy")
    report = inspect_hub(hub)
    assert [m["name"] for m in report["mounts"]] == ["legacy"]
    assert report["state"] == "STOPPED"
    assert report["versions"]["wsgihub"] and report["versions"]["python"]
    json.dumps(report)  # JSON-ready


# -- live ---------------------------------------------------------------------------------------
@pytest.mark.live
def test_inspector_shows_mounts_grafts_routes_plugins_and_no_secret(served: tuple[ServeProcess, str]) -> None:
    _process, url = served
    response = requests.get(url + "/_hub.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    _no_secrets(response.text)
    report = response.json()
    mounts = {m["name"]: m for m in report["mounts"]}
    assert mounts["legacy"]["framework"] == "django" and mounts["legacy"]["grafts"] == ["new"]
    assert mounts["new"]["framework"] == "flask" and mounts["new"]["over"] == "legacy"
    assert any("legacy:about" in taken for taken in mounts["new"]["takes"]), mounts["new"]
    names = {r["name"] for r in report["routes"]}
    assert {"legacy:home", "legacy:about", "new:about", f"new:{HOSTILE_ENDPOINT}"} <= names
    assert {"url"} <= {s["service"] for s in report["services"]}
    assert {"django", "flask", "wsgihub"} <= set(report["versions"])
    assert any(p["distribution"] == "wsgihub-flask" for p in report["plugins"])

    page = requests.get(url + "/_hub", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["Cache-Control"] == "no-store"
    _no_secrets(page.text)
    assert HOSTILE_ENDPOINT not in page.text
    assert "new:&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in page.text

    # the apps still answer their own paths
    assert requests.get(url + "/about/", timeout=10).text == "new about"
    assert requests.get(url + "/", timeout=10).text == "legacy home"


@pytest.mark.live
def test_inspector_is_off_by_default_and_404_to_untrusted_clients(project: Path) -> None:
    site = project / "site.ini"
    site.write_text(site.read_text().replace("inspect = /_hub", ""), encoding="utf-8")
    with ServeProcess([str(site), "--port", "0"], pythonpath=[project]) as process:
        url = process.url(timeout=30)
        assert requests.get(url + "/_hub.json", timeout=10).status_code == 404  # Django's own 404
    with ServeProcess(
        [str(site), "--port", "0", "--inspect", "/_hub", "--inspect-allow-ips", "10.0.0.0/8"],
        pythonpath=[project],
    ) as process:
        url = process.url(timeout=30)
        for path in ("/_hub", "/_hub.json"):
            response = requests.get(url + path, timeout=10)
            assert (response.status_code, response.text) == (404, "Not Found\n")
        # a forwarded header from a client no one trusts changes nothing
        spoofed = {"X-Forwarded-For": "10.1.2.3", "Forwarded": "for=10.1.2.3"}
        response = requests.get(url + "/_hub.json", headers=spoofed, timeout=10)
        assert (response.status_code, response.text) == (404, "Not Found\n")


# -- the browser --------------------------------------------------------------------------------
INSTALL = "apt-get install chromium chromium-driver (and pip install selenium)"


def _program(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def _major_version(program: str) -> str | None:
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
    """Headless Chromium; a loud skip when Debian's chromium/chromedriver pair is not there."""
    chromium, chromedriver = _program("chromium", "chromium-browser"), _program("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(f"browser test not run: chromium or chromedriver not found; {INSTALL}")
    if _major_version(chromium) != _major_version(chromedriver):
        pytest.skip(f"browser test not run: {chromium} and {chromedriver} differ in version; {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # a test dependency: its absence is an error
        raise AssertionError(f"selenium is needed for the browser test: pip install selenium ({exc})") from exc
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
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.live
def test_inspector_page_renders_in_a_real_browser(served: tuple[ServeProcess, str], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _process, url = served
    report = requests.get(url + "/_hub.json", timeout=10).json()
    browser.get(url + "/_hub")
    assert browser.title == "wsgihub inspector"
    assert browser.find_element(By.ID, "state").text == "STARTED"

    rows = browser.find_elements(By.CSS_SELECTOR, "#routes tbody tr")
    assert len(rows) == len(report["routes"])
    names = [row.find_elements(By.TAG_NAME, "td")[0].text for row in rows]
    assert f"new:{HOSTILE_ENDPOINT}" in names  # shown as text, not run
    mounts = browser.find_elements(By.CSS_SELECTOR, "#mounts tbody tr")
    assert [row.find_elements(By.TAG_NAME, "td")[0].text for row in mounts] == [m["name"] for m in report["mounts"]]
    assert browser.find_elements(By.TAG_NAME, "script") == []
    _no_secrets(browser.page_source)

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    # the JSON link leads to the same data
    browser.find_element(By.LINK_TEXT, "JSON").click()
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text)["mounts"] == report["mounts"]
