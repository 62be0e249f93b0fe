"""Django is configured once per test process, with the djsite_legacy project.

Tests that need a second settings module, or Django without
``wsgihub_django`` installed, run in a subprocess (see ``run_python``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

_DB_DIR = tempfile.mkdtemp(prefix="wsgihub-django-tests-")
os.environ["DJSITE_DB"] = os.path.join(_DB_DIR, "db.sqlite3")
os.environ["DJANGO_SETTINGS_MODULE"] = "djsite_legacy.settings"

import django  # noqa: E402

django.setup()

import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

import wsgihub  # noqa: E402
from djsite_flask_new import create_app  # noqa: E402
from djsite_testing import make_hub  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    import shutil

    from django.db import connections

    connections.close_all()
    shutil.rmtree(_DB_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def django_app() -> Any:
    """The project's WSGIHandler (one for the whole session, as in production)."""
    return get_wsgi_application()


@pytest.fixture
def hub(django_app: Any) -> Iterator[wsgihub.Hub]:
    """legacy at /legacy, the same project again at / (root) and /legacy2, Flask at /new."""
    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/", django_app, name="root")
    hub.mount("/legacy", django_app, name="legacy")
    hub.mount("/legacy2", django_app, name="legacy2")
    hub.mount("/new", create_app(), name="new")
    yield hub
    for peg in list(hub.pegs()):
        hub.unmount(peg)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """In these tests an unexpected MountWarning is an error (expected ones use pytest.warns)."""
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.filterwarnings("error::wsgihub.errors.MountWarning"))
