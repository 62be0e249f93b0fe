"""Fixtures for the sample site's tests.

Django allows one settings module per process, so every in-process test
shares one hub loaded from ``site.ini`` (the legacy project's settings,
``graftsite.legacy.settings``) and the live tests run the site in a
subprocess.  The database goes to a fresh temporary ``GRAFTSITE_DATA``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

SETTINGS_MODULE = "graftsite.legacy.settings"

# Before anything imports the settings module (which picks the data dir at import).
_DATA = tempfile.mkdtemp(prefix="graftsite-test-", dir=os.environ.get("WSGIHUB_TEST_TMP") or None)
os.environ["GRAFTSITE_DATA"] = _DATA


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DATA, ignore_errors=True)


def _other_django_project() -> str | None:
    """The settings module of another Django project this process already runs, if any."""
    from wsgihub_django.project import other_project

    return other_project(SETTINGS_MODULE)


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
    """A webtest client for the site (fresh cookies for each test).

    ``Host: localhost``, as a browser sends it (webtest's default is ``localhost:80``).
    """
    from webtest import TestApp

    return TestApp(hub, extra_environ={"HTTP_HOST": "localhost"})
