"""Hubs with bus listeners, served by the live tests as ``live_apps.sites:NAME``.

Each listener prints a marker line (flushed) so a test can see, from the
outside, that it ran and how often.
"""

from __future__ import annotations

import sys

import wsgihub

from .echo import app_a, app_b, slow


def _marker(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def on_stop() -> None:
    _marker("MARKER stop listener ran")


def on_exit() -> None:
    _marker("MARKER exit listener ran")


def refuse_to_start() -> None:
    raise RuntimeError("the database is not there")


def _hub() -> wsgihub.Hub:
    hub = wsgihub.Hub()
    hub.bus.subscribe("stop", on_stop)
    hub.bus.subscribe("exit", on_exit)
    return hub


def slow_site() -> wsgihub.Hub:
    """``/slow?seconds=N`` sleeps; ``/a`` echoes."""
    hub = _hub()
    hub.mount("/slow", slow)
    hub.mount("/a", app_a)
    return hub


def failing_site() -> wsgihub.Hub:
    """A start listener raises: the serve must stop and say which one."""
    hub = _hub()
    hub.mount("/a", app_a)
    hub.bus.subscribe("start", refuse_to_start)
    return hub


def two_apps() -> wsgihub.Hub:
    """``/a`` and ``/b/deeper`` echo SCRIPT_NAME and PATH_INFO."""
    hub = _hub()
    hub.mount("/a", app_a)
    hub.mount("/b/deeper", app_b)
    return hub


def broken_site() -> wsgihub.Hub:
    """A site factory that fails with an exception wsgihub does not know."""
    raise KeyError("SECRET_KEY")
