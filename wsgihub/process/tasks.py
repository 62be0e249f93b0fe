"""Run a callable every N seconds in a daemon thread while the bus is started.

::

    from wsgihub.process import Monitor

    Monitor(bus, purge_expired_sessions, frequency=60).subscribe()
    bus.start()   # the thread starts
    bus.stop()    # the thread stops (and is joined)

:class:`BackgroundTask` is the thread itself (usable without a bus);
:class:`Monitor` is the bus plugin that starts it on ``start``, stops it on
``stop`` and restarts it on ``graceful``.  Same names and arguments as
CherryPy's, but cancelling takes effect at once instead of after the current
sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .plugins import SimplePlugin

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["BackgroundTask", "Monitor"]


class BackgroundTask(threading.Thread):
    """A daemon thread calling ``function(*args, **kwargs)`` every ``interval`` seconds.

    The first call happens one interval after :meth:`start`.  If the function
    raises, the error is logged on ``bus`` (when given) and the task ends:
    one report instead of one per interval.
    """

    def __init__(
        self,
        interval: float,
        function: Callable[..., Any],
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        bus: Bus | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.function = function
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.bus = bus
        self._cancelled = threading.Event()

    @property
    def running(self) -> bool:
        """True from the start of the thread until it is cancelled or ends."""
        return self.is_alive() and not self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop after the current call (if any); no further calls happen."""
        self._cancelled.set()

    def run(self) -> None:
        while not self._cancelled.wait(self.interval):
            try:
                self.function(*self.args, **self.kwargs)
            except Exception:  # noqa: BLE001  (reported once, then the task ends)
                if self.bus is not None:
                    self.bus.log(
                        f"Error in background task thread function {self.function!r}.",
                        level=40,
                        traceback=True,
                    )
                return


class Monitor(SimplePlugin):
    """Bus plugin running ``callback`` every ``frequency`` seconds while started.

    A ``frequency`` of 0 (or less) disables it.  :meth:`stop` waits up to
    ``join_timeout`` seconds for a call in progress to finish.
    """

    join_timeout: float = 10.0

    def __init__(
        self,
        bus: Bus,
        callback: Callable[[], Any],
        frequency: float = 60,
        name: str | None = None,
    ) -> None:
        super().__init__(bus)
        self.callback = callback
        self.frequency = frequency
        self.name = name
        self.thread: BackgroundTask | None = None

    @property
    def thread_name(self) -> str:
        return self.name or type(self).__name__

    def start(self) -> None:
        """Start the background thread (once; a thread lost in a fork is replaced)."""
        if self.frequency <= 0:
            return
        if self.thread is not None and self.thread.is_alive():
            self.bus.log(f"Monitor thread {self.thread_name!r} already started.")
            return
        self.thread = BackgroundTask(self.frequency, self.callback, bus=self.bus)
        self.thread.name = self.thread_name
        self.thread.start()
        self.bus.log(f"Started monitor thread {self.thread_name!r}.")

    start.priority = 70  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Cancel the thread and wait for it (unless called from that thread)."""
        thread, self.thread = self.thread, None
        if thread is None:
            self.bus.log(f"No thread running for {self.thread_name}.")
            return
        thread.cancel()
        if thread is not threading.current_thread():
            thread.join(self.join_timeout)
            if thread.is_alive():
                self.bus.log(
                    f"Thread {thread.name!r} is still in a call; it will end after it.",
                    level=30,
                )
                return
        self.bus.log(f"Stopped thread {thread.name!r}.")

    def graceful(self) -> None:
        """Restart the thread."""
        self.stop()
        self.start()
