"""Site services that hang on the process bus.

* :class:`SimplePlugin` - base class: methods named after channels are listeners.
* :class:`SignalHandler` - SIGTERM/SIGINT exit, SIGHUP graceful or restart.
* :class:`PIDFile` - write the pid on start, refuse a live duplicate, remove on exit.
* :class:`BackgroundTask`, :class:`Monitor` - a callable every N seconds while started.
* :func:`run_with_reloader`, :class:`Autoreloader` - restart a fresh child
  process when code changes (hupper).

Every plugin takes the bus first, as in CherryPy: ``PIDFile(bus, path).subscribe()``.
"""

from __future__ import annotations

from .autoreload import Autoreloader, run_with_reloader
from .pidfile import PIDFile
from .plugins import SimplePlugin
from .signals import SignalHandler
from .tasks import BackgroundTask, Monitor

__all__ = [
    "Autoreloader",
    "BackgroundTask",
    "Monitor",
    "PIDFile",
    "SignalHandler",
    "SimplePlugin",
    "run_with_reloader",
]
