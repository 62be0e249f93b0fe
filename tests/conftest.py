"""Fixtures for the core tests (helpers live in wsgi_helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from wsgihub.plugins import make_plugins


@pytest.fixture
def plugins() -> Any:
    """A plugin manager with the built-ins only (installed adapters left out)."""
    return make_plugins(autoload=False)
