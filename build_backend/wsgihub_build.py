"""setuptools' build backend, asking for mypy (mypyc) when ``WSGIHUB_COMPILE=1`` (see ``setup.py``).

A build without it needs setuptools only, as before; mypy is the version the
``lint`` env pins, so the module compiled is type-checked as the lint env checks it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # the backend's every hook, as setuptools has them

#: What compiling adds to the build requirements.
COMPILE_REQUIRES = ["mypy==2.4.1"]


def _requires(setuptools_requires: Callable[[dict[str, Any] | None], list[str]], config_settings: dict[str, Any] | None) -> list[str]:
    """``setuptools_requires``' answer (setup.py run without compiling: mypy is not there yet), and mypy when compiling."""
    before = os.environ.get("WSGIHUB_BUILD_REQUIRES")
    os.environ["WSGIHUB_BUILD_REQUIRES"] = "1"
    try:
        requires = setuptools_requires(config_settings)
    finally:
        if before is None:
            del os.environ["WSGIHUB_BUILD_REQUIRES"]
        else:
            os.environ["WSGIHUB_BUILD_REQUIRES"] = before
    return [*requires, *(COMPILE_REQUIRES if os.environ.get("WSGIHUB_COMPILE") == "1" else [])]


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements, and mypy when compiling."""
    return _requires(_setuptools.get_requires_for_build_wheel, config_settings)


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements, and mypy when compiling (an editable install compiles too)."""
    return _requires(_setuptools.get_requires_for_build_editable, config_settings)
