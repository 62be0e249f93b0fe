"""setuptools' build backend, compiling only when it builds a wheel (``WSGIHUB_COMPILE=1``, see ``setup.py``).

With ``WSGIHUB_COMPILE=1`` a wheel's build requirements add mypy (mypyc), the
version the ``lint`` env pins, so the module compiled is type-checked as the
lint env checks it.  Every other hook runs ``setup.py`` to learn something --
requirements, metadata -- or to make the sdist: there it compiles nothing
(``WSGIHUB_SETUP_ONLY``), which would be mypyc run for nothing, or fail before
mypy is installed.  Without ``WSGIHUB_COMPILE`` it is setuptools' backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # the backend's every hook, as setuptools has them

#: What compiling adds to a wheel's build requirements.
COMPILE_REQUIRES = ["mypy==2.4.1"]

#: Set while ``setup.py`` runs for a hook that builds no wheel: it then compiles nothing.
SETUP_ONLY = "WSGIHUB_SETUP_ONLY"


@contextmanager
def _setup_only() -> Iterator[None]:
    before = os.environ.get(SETUP_ONLY)
    os.environ[SETUP_ONLY] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[SETUP_ONLY]
        else:
            os.environ[SETUP_ONLY] = before


def _requires(hook: Callable[[dict[str, Any] | None], list[str]], config_settings: dict[str, Any] | None) -> list[str]:
    """``hook``'s requirements (``setup.py`` run without compiling), and mypy when compiling."""
    with _setup_only():
        requires = hook(config_settings)
    return [*requires, *(COMPILE_REQUIRES if os.environ.get("WSGIHUB_COMPILE") == "1" else [])]


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements, and mypy when compiling."""
    return _requires(_setuptools.get_requires_for_build_wheel, config_settings)


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements, and mypy when compiling (an editable install compiles too)."""
    return _requires(_setuptools.get_requires_for_build_editable, config_settings)


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    """setuptools' requirements: an sdist holds the source, compiled by whoever builds its wheel."""
    with _setup_only():
        return list(_setuptools.get_requires_for_build_sdist(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """setuptools' metadata, without compiling (the wheel's build compiles)."""
    with _setup_only():
        return str(_setuptools.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """setuptools' metadata, without compiling (the editable build compiles)."""
    with _setup_only():
        return str(_setuptools.prepare_metadata_for_build_editable(metadata_directory, config_settings))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """setuptools' sdist, without compiling (it holds the source)."""
    with _setup_only():
        return str(_setuptools.build_sdist(sdist_directory, config_settings))
