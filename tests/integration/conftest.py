"""Cross-framework tests: need Flask, Django, Pyramid, Werkzeug, Bottle, requests and all four adapters.

They run in the integration tox envs; the core env (no framework installed)
leaves the directory out with ``--ignore=tests/integration``.  Anywhere else
a missing dependency is an error that names it: each test module here fails
to collect with the list of what is missing, so the suite can never vanish
without a word.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

NEEDED = (
    "flask",
    "django",
    "pyramid",
    "werkzeug",
    "requests",
    "wsgihub_flask",
    "wsgihub_django",
    "wsgihub_pyramid",
    "wsgihub_werkzeug",
    "bottle",
)
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]

sys.path.insert(0, str(Path(__file__).parent))


class MissingDependencies(pytest.File):
    """A test module that cannot run here: collecting it fails and says why."""

    def collect(self) -> list[pytest.Item]:
        raise pytest.Collector.CollectError(
            f"tests/integration needs {', '.join(MISSING)} (not installed): run it in its "
            "tox env (`bash scripts/test.sh -e integration-py311`), or leave it out with "
            "--ignore=tests/integration"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.File | None:
    """Stand a failing collector in for each test module while a dependency is missing."""
    if MISSING:
        return MissingDependencies.from_parent(parent, path=module_path)
    return None
