"""The core imports no web framework, and PasteDeploy only when a site file is loaded.

Checked in a fresh interpreter, so nothing another test imported counts:
first plain ``import wsgihub``, then every module of the package (walked
with :mod:`pkgutil`: cli, bus, process, servers, serve, pipeline, ...).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest

#: Web frameworks (and their request/response toolkits) the core must not import.
FRAMEWORKS = ("flask", "django", "pyramid", "werkzeug", "cherrypy", "bottle", "falcon", "webob", "zope", "starlette", "fastapi")

#: Imported only lazily, when a PasteDeploy site file is actually loaded.  (Not
#: ``paste`` itself: PasteDeploy's ``*-nspkg.pth`` creates that namespace at startup.)
LAZY = ("paste.deploy",)


def matching(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]

SCRIPT = r"""
import importlib, json, pkgutil, sys

forbidden = sys.argv[1].split(",")
extra = [m for m in sys.argv[2].split(",") if m]

def loaded():
    return sorted(
        name for name in sys.modules
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )

import wsgihub
after_init = loaded()
imported, failed = ["wsgihub"], []
for info in pkgutil.walk_packages(wsgihub.__path__, "wsgihub."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue  # importing it would run the CLI
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
    else:
        imported.append(info.name)
for name in extra:
    importlib.import_module(name)
print(json.dumps({"after_init": after_init, "after_all": loaded(), "imported": imported, "failed": failed}))
"""


def survey(forbidden: tuple[str, ...], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Import wsgihub and all its modules in a fresh interpreter; report what came along."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(forbidden), ",".join(extra)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return survey(FRAMEWORKS + LAZY)


#: Server modules that need their optional extra (``wsgihub[uvicorn]``...): where the
#: extra is not installed, importing them fails with exactly that missing module.
OPTIONAL = {
    "wsgihub.servers.gunicorn": "gunicorn",
    "wsgihub.servers.gunicorn_front": "gunicorn",
    "wsgihub.servers.uvicorn": "uvicorn",
    "wsgihub.servers.uvicorn_workers": "uvicorn_worker",
    "wsgihub.servers.granian": "granian",
}


def test_every_module_was_imported(report: dict[str, Any]) -> None:
    unexplained = []
    for failure in report["failed"]:
        module, _, error = failure.partition(": ")
        extra = OPTIONAL.get(module)
        missing = extra is not None and importlib.util.find_spec(extra) is None
        if not (missing and error == f"ModuleNotFoundError: No module named '{extra}'"):
            unexplained.append(failure)
    assert unexplained == []
    expected = {"wsgihub.cli", "wsgihub.hub", "wsgihub.plugins", "wsgihub.deploy", "wsgihub.pipeline", "wsgihub.bus"}
    assert expected <= set(report["imported"])


def test_plain_import_pulls_in_no_framework_and_no_pastedeploy(report: dict[str, Any]) -> None:
    assert report["after_init"] == []  # frameworks and paste.deploy alike


def test_no_module_of_the_package_imports_a_framework(report: dict[str, Any]) -> None:
    assert matching(report["after_all"], FRAMEWORKS) == []


def test_pastedeploy_is_imported_only_when_a_site_file_is_loaded(report: dict[str, Any]) -> None:
    assert matching(report["after_all"], LAZY) == []


def test_the_check_sees_real_imports() -> None:
    """The survey is not vacuous: what is imported is reported, paste.deploy included."""
    found = survey(("wsgiref", "xml.dom", *LAZY), extra=("wsgiref.simple_server", "paste.deploy.loadwsgi"))
    assert found["after_init"] == []
    assert "wsgiref.simple_server" in matching(found["after_all"], ("wsgiref",))
    assert "paste.deploy" in matching(found["after_all"], LAZY)
    assert matching(found["after_all"], ("xml.dom",)) == []
