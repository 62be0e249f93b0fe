"""Builds wsgihub; with ``WSGIHUB_COMPILE=1``, compiles ``wsgihub/accesslines.py`` with mypyc.

Everything else is in ``pyproject.toml``.  The compiled module formats the
access log's lines in about half the CPU instructions (``docs/benchmarks.md``,
"Access log and request IDs"); its Python source is in the wheel too and is
what runs where the wheel was built without it (``WSGIHUB_COMPILE`` unset or
``0``: a wheel for any platform).  ``scripts/build-wheels.sh`` sets it when a
C compiler is found; ``build_backend/wsgihub_build.py`` then asks for mypy (mypyc)
as a build requirement.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILE = os.environ.get("WSGIHUB_COMPILE", "0")
if COMPILE not in {"0", "1"}:
    raise SystemExit(f"WSGIHUB_COMPILE={COMPILE!r}: expected 1 (compile with mypyc) or 0 (pure Python)")

ext_modules = []
# the backend runs this file for requirements (before mypy is installed), metadata and
# the sdist too: only a wheel's build compiles
if COMPILE == "1" and os.environ.get("WSGIHUB_SETUP_ONLY") != "1":
    try:
        from mypyc.build import mypycify
    except ImportError:
        raise SystemExit(
            "WSGIHUB_COMPILE=1 needs mypy (mypyc) in the build environment: build with pip's "
            "isolated build (the default), install mypy, or set WSGIHUB_COMPILE=0"
        ) from None
    # the module imports nothing of wsgihub's: the rest of the package (its parent
    # included) is not type-checked here, so its dependencies need not be installed
    ext_modules = mypycify(["--follow-imports=skip", "wsgihub/accesslines.py"], opt_level="3")

setup(ext_modules=ext_modules)
