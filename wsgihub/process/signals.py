"""Turn process signals into bus transitions.

=========  =====================================================================
SIGTERM    ``bus.exit()``
SIGINT     ``bus.exit()`` (Ctrl-C)
SIGHUP     ``bus.graceful()`` while attached to a terminal, else ``bus.restart()``
SIGUSR1    ``bus.graceful()`` (as in CherryPy)
=========  =====================================================================

Each caught signal is also published on a channel of its name (``"SIGTERM"``
...), where the handler above is the subscribed listener, so anyone may add
their own::

    from wsgihub.bus import Bus
    from wsgihub.process import SignalHandler

    bus = Bus()
    handler = SignalHandler(bus)
    handler.subscribe()          # installs the handlers (main thread only)
    bus.start()
    bus.block()                  # SIGTERM -> exit -> block() returns

A signal that is *ignored* when :meth:`SignalHandler.subscribe` runs stays
ignored: ``nohup`` and hupper's workers ignore SIGHUP, a shell's background
jobs ignore SIGINT, and they mean it.  :meth:`SignalHandler.unsubscribe` puts
the previous handlers back.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SignalHandler", "arrival", "attached_to_terminal", "signals_arrived"]

#: How many signals :class:`SignalHandler` has caught in this process (counted as they arrive).
_arrived = 0
#: The arrival number of the signal whose listeners run in this thread.
_publishing = threading.local()


def signals_arrived() -> int:
    """How many signals a :class:`SignalHandler` has caught so far in this process."""
    return _arrived


def arrival() -> int | None:
    """The arrival number of the signal whose listeners the calling thread runs (``None``: none).

    Each caught signal is published from a thread of its own, so two
    signals that arrive together (Ctrl-C's SIGINT to the process group and
    the ``--reload`` parent's SIGTERM) may be published in either order; a
    listener that must know which came first compares this with
    :func:`signals_arrived` read earlier (see
    :class:`wsgihub.health.DrainDelay`).
    """
    return getattr(_publishing, "arrival", None)

_Handler = Callable[[int, FrameType | None], Any] | int | _signal.Handlers | None


def attached_to_terminal() -> bool:
    """True when standard input is a terminal (an interactive session)."""
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):  # no stdin, closed, or replaced
        return False


class SignalHandler:
    """Install signal handlers that publish to the bus (CherryPy's interface).

    ``handlers`` maps signal names to the listener subscribed on the channel of
    that name; change it before :meth:`subscribe`.  Signals the platform does
    not have are skipped.
    """

    #: signal number -> name, for every ``SIG*`` the platform defines
    signals: ClassVar[dict[int, str]] = {
        int(value): name
        for name, value in vars(_signal).items()
        if name.startswith("SIG") and not name.startswith("SIG_") and isinstance(value, int)
    }

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.handlers: dict[str, Callable[[], Any]] = {
            "SIGTERM": bus.exit,
            "SIGINT": bus.exit,
            "SIGHUP": self.handle_SIGHUP,
            "SIGUSR1": bus.graceful,
        }
        self._previous_handlers: dict[int, _Handler] = {}
        self._listeners: dict[str, Callable[[], Any]] = {}

    def subscribe(self) -> None:
        """Install a handler for every signal in :attr:`handlers`.

        Python only allows this in the main thread; elsewhere nothing is
        installed and a warning is logged.
        """
        if threading.current_thread() is not threading.main_thread():
            self.bus.log("Signal handlers not installed: not in the main thread.", level=30)
            return
        for name, listener in self.handlers.items():
            try:
                self.set_handler(name, listener)
            except ValueError:  # not on this platform
                pass

    def unsubscribe(self) -> None:
        """Restore the handlers found by :meth:`subscribe`; drop our listeners."""
        for signum, previous in list(self._previous_handlers.items()):
            name = self.signals.get(signum, str(signum))
            if previous is None:  # installed from C: the best guess is the default
                self.bus.log(f"Restoring {name} handler to SIG_DFL.")
                previous = _signal.SIG_DFL
            else:
                self.bus.log(f"Restoring {name} handler {previous!r}.")
            try:
                _signal.signal(signum, previous)
            except ValueError:
                self.bus.log(
                    f"Unable to restore {name} handler {previous!r}.", level=40, traceback=True
                )
            else:
                del self._previous_handlers[signum]
        for name, listener in self._listeners.items():
            self.bus.unsubscribe(name, listener)
        self._listeners.clear()

    def set_handler(self, signal: str | int, listener: Callable[[], Any] | None = None) -> None:
        """Handle ``signal`` (a name or number); subscribe ``listener`` on its channel.

        Raises ``ValueError`` for a signal this platform does not have.  A
        signal that is currently ignored (``SIG_IGN``) is left alone.
        """
        signum = getattr(_signal, signal, None) if isinstance(signal, str) else signal
        if signum not in self.signals:
            raise ValueError(f"No such signal: {signal!r}")
        name = self.signals[signum]  # the channel: one name per number, aliases folded
        current = _signal.getsignal(signum)
        if current == _signal.SIG_IGN and signum not in self._previous_handlers:
            self.bus.log(f"Leaving {name} ignored, as it was when we started.")
            return
        previous = _signal.signal(signum, self._handle_signal)
        self._previous_handlers.setdefault(signum, previous)
        if listener is not None:
            self.bus.log(f"Listening for {name}.")
            self.bus.subscribe(name, listener)
            self._listeners[name] = listener

    def _handle_signal(self, signum: int, frame: FrameType | None = None) -> None:
        """The Python-level signal handler: publish on the signal's channel.

        The listeners run in a thread of their own, not inside the handler:
        a handler interrupts the main thread anywhere, and listeners that
        print or take locks the main thread holds (a buffered stdout, a
        logging handler) would fail with "reentrant call" or deadlock.  The
        thread is not a daemon, so the process waits for it to finish.
        """
        name = self.signals.get(signum, str(signum))
        global _arrived
        _arrived += 1  # the main thread runs the handlers one at a time: the arrival order
        threading.Thread(
            target=self._publish, args=(name, _arrived), name=f"bus-signal-{name}"
        ).start()

    def _publish(self, name: str, arrival: int) -> None:
        self.bus.log(f"Caught signal {name}.")
        _publishing.arrival = arrival
        self.bus.publish(name)

    def handle_SIGHUP(self) -> None:
        """Reload in place on a terminal; re-execute the process when detached."""
        if attached_to_terminal():
            self.bus.log("SIGHUP caught while attached to a terminal: graceful.")
            self.bus.graceful()
        else:
            self.bus.log("SIGHUP caught while detached from a terminal: restarting.")
            self.bus.restart()
