"""FastAPI grafted over a real Django site: djgraft/djgraft_check.py, in a pytest process of its own.

Django allows one settings module per process, and the other suites of a
process may run another project: the check runs apart, and its output is
shown when it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("django")
pytest.importorskip("wsgihub_django")

CHECK = Path(__file__).resolve().parent / "djgraft" / "djgraft_check.py"


def test_fastapi_grafted_over_django() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(CHECK), "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
