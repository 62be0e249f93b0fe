"""Helpers for the core tests: call a WSGI app the way a server would.

They live in the testing kit (:mod:`wsgihub.testing.client`) so that
adapter authors get the same ones; this module keeps the tests' imports.
"""

from __future__ import annotations

from wsgihub.testing.client import Result, call, echo_app, make_environ

__all__ = ["Result", "call", "echo_app", "make_environ"]
