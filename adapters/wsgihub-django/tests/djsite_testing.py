"""Helpers shared by the wsgihub-django tests (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import wsgihub_django.plugin
from djsite_flask_new import FlaskStandInPlugin

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import console_script

HERE = Path(__file__).resolve().parent


def make_hub(**options: Any) -> wsgihub.Hub:
    """A hub with exactly the Django plugin and the Flask stand-in (no autoload)."""
    plugins = make_plugins(autoload=False, plugins=[wsgihub_django.plugin, FlaskStandInPlugin()])
    return wsgihub.Hub(plugins=plugins, **options)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that can import the test projects."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJSITE_DB")
    }
    environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), environ.get("PYTHONPATH", "")])
    )
    environ["WSGIHUB_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
        cwd=str(HERE),
    )


def wsgihub_script() -> list[str]:
    """The installed ``wsgihub`` console script; the test is skipped where there is none.

    The script, not ``python -m wsgihub.cli``: its ``sys.path[0]`` is its own
    directory, not the cwd, so a project in the cwd is found only because the
    loader puts the cwd on ``sys.path`` (what these tests check).
    """
    script = console_script()
    if script is None:  # pragma: no cover - the core is installed with its script
        pytest.skip("the wsgihub console script is not installed")
    return script
