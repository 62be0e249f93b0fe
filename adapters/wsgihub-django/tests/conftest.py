"""Django is configured once per test process, with the djsite_legacy project.

Tests that need a second settings module, or Django without
``wsgihub_django`` installed, run in a subprocess (``run_python``).

Django allows one settings module per process.  When this directory is
collected in a process that already runs another Django project (the
integration envs run every suite in one pytest process), the in-process
tests cannot run here: only ``test_django_own_process.py`` is collected,
and it runs this whole directory in a pytest process of its own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

SETTINGS_MODULE = "djsite_legacy.settings"
OWN_PROCESS_TEST = "test_django_own_process.py"


def _other_django_project() -> str | None:
    """The settings module of another Django project this process runs (or is about to)."""
    from wsgihub_django.project import other_project

    return other_project(SETTINGS_MODULE)


_mode: str | None = None  # "here" or "own-process", decided when collection reaches this folder
_DB_DIR: str | None = None


def _decide() -> str:
    """Configure Django for these tests, unless the process runs another project already.

    Decided at collection, not at conftest import: pytest imports the
    conftests of every command-line folder first, and configuring Django
    then would take the process from the other suites' projects.
    """
    global _mode, _DB_DIR
    if _mode is None:
        if _other_django_project() is not None:
            _mode = "own-process"
        else:
            _mode = "here"
            _DB_DIR = tempfile.mkdtemp(
                prefix="wsgihub-django-tests-", dir=os.environ.get("WSGIHUB_TEST_TMP") or None
            )
            os.environ["DJSITE_DB"] = os.path.join(_DB_DIR, "db.sqlite3")
            os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
            import django
            from django.core.management import call_command

            django.setup()
            call_command("migrate", verbosity=0, interactive=False)
    return _mode


def pytest_ignore_collect(collection_path: Path, config: Any) -> bool | None:
    if collection_path.parent != HERE or not collection_path.name.startswith("test_"):
        return None
    own_process = _decide() == "own-process"
    return (collection_path.name == OWN_PROCESS_TEST) != own_process


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _DB_DIR is None:
        return
    import shutil

    from django.db import connections

    connections.close_all()
    shutil.rmtree(_DB_DIR, ignore_errors=True)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """In these tests an unexpected MountWarning is an error (expected ones use pytest.warns)."""
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.filterwarnings("error::wsgihub.errors.MountWarning"))


@pytest.fixture(scope="session")
def django_app() -> Any:
    """The project's WSGIHandler (one for the whole session, as in production)."""
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@pytest.fixture
def hub(django_app: Any) -> Iterator[Any]:
    """The project at / (root), /legacy and /legacy2; the Flask app at /new."""
    from djsite_flask_new import create_app
    from djsite_testing import make_hub

    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/", django_app, name="root")
    hub.mount("/legacy", django_app, name="legacy")
    hub.mount("/legacy2", django_app, name="legacy2")
    hub.mount("/new", create_app(), name="new")
    yield hub
    for peg in list(hub.pegs()):
        hub.unmount(peg)
