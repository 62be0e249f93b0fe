"""Fixtures for the sample site's tests.

Django allows one settings module per process, so every in-process test
shares one hub loaded from ``site.ini`` (the legacy project's settings,
``graftsite.legacy.settings``) and the live tests run the site in a
subprocess.  The database goes to a fresh temporary ``GRAFTSITE_DATA``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

SETTINGS_MODULE = "graftsite.legacy.settings"

# Before anything imports the settings module (which picks the data dir at import).
_DATA = tempfile.mkdtemp(prefix="graftsite-test-", dir=os.environ.get("WSGIHUB_TEST_TMP") or None)
os.environ["GRAFTSITE_DATA"] = _DATA


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DATA, ignore_errors=True)


def _other_django_project() -> str | None:
    """The settings module of another Django project this process already runs, if any."""
    import sys

    configured = os.environ.get("DJANGO_SETTINGS_MODULE")
    if configured and configured != SETTINGS_MODULE:
        return configured
    conf = sys.modules.get("django.conf")
    if conf is not None and conf.settings.configured:
        module = getattr(conf.settings, "SETTINGS_MODULE", None)
        if module != SETTINGS_MODULE:
            return module or "settings.configure()"
    return None


@pytest.fixture(scope="session")
def site_ini() -> Path:
    from graftsite import SITE_INI

    return SITE_INI


@pytest.fixture(scope="session")
def hub(site_ini: Path) -> Any:
    """The sample site, loaded from ``site.ini`` as ``wsgihub serve`` loads it."""
    other = _other_django_project()
    if other is not None:
        pytest.skip(
            f"this process already runs Django project {other!r} and Django allows one settings "
            "module per process: run the sample site's tests in their own pytest process "
            "(pytest sample_sites/graft/tests)"
        )
    import wsgihub

    return wsgihub.load(f"config:{site_ini}")


@pytest.fixture
def app(hub: Any) -> Any:
    """A webtest client for the site (fresh cookies for each test)."""
    from webtest import TestApp

    return TestApp(hub)


class Links(HTMLParser):
    """The ``href``/``src`` of a page's links, stylesheets and scripts, and its ``generator``."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.generator: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("name") == "generator":
            self.generator = a.get("content")
        for name in ("href", "src"):
            value = a.get(name)
            if value and tag in ("a", "link", "script", "img"):
                self.links.append(value)


def page_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def generator(response: Any) -> str | None:
    """Which framework rendered an HTML page (each side stamps ``<meta name=generator>``)."""
    return page_links(response.text).generator


def json_links(data: Any) -> Iterator[str]:
    """Every URL-looking string in a JSON document."""
    if isinstance(data, dict):
        for value in data.values():
            yield from json_links(value)
    elif isinstance(data, list):
        for value in data:
            yield from json_links(value)
    elif isinstance(data, str) and re.match(r"^(/|https?://)", data):
        yield data


def internal_path(url: str, base: str, host: str = "localhost") -> str | None:
    """``url`` (relative to ``base``) as a path+query if it points into the site, else ``None``."""
    if url.startswith(("mailto:", "javascript:", "#")):
        return None
    parts = urlsplit(urljoin("http://" + host + base, url))
    if parts.scheme not in ("http", "https") or parts.hostname not in ("localhost", "127.0.0.1"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
