"""The base class of bus plugins: methods named after channels become listeners.

Same pattern as CherryPy's ``cherrypy.process.plugins.SimplePlugin``, so a
plugin written for CherryPy works on a :class:`wsgihub.bus.Bus` by changing its
base class (and a real CherryPy ``SimplePlugin`` works on our bus unchanged)::

    from wsgihub.process import SimplePlugin

    class Pool(SimplePlugin):
        def start(self) -> None:
            self.conn = connect()
        start.priority = 40          # before the servers (lower runs first)

        def stop(self) -> None:
            self.conn.close()

    Pool(bus).subscribe()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SimplePlugin"]


class SimplePlugin:
    """Subscribe every method whose name is a channel the bus knows.

    ``subscribe()`` looks at the bus's channels at that moment (the built-in
    ``start``, ``stop``, ``exit``, ``graceful``, ``log``, ``main`` and any
    channel already subscribed to), so a plugin listening on a custom channel
    is subscribed after that channel exists, e.g. after
    ``bus.listeners.setdefault("my_channel", set())``.  A method's
    ``priority`` attribute sets its priority.
    """

    bus: Bus
    """The bus this plugin is (or will be) subscribed to."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def _channel_methods(self) -> list[tuple[str, Callable[..., Any]]]:
        found: list[tuple[str, Callable[..., Any]]] = []
        for channel in list(self.bus.listeners):
            method = getattr(self, channel, None)
            if method is not None and callable(method):
                found.append((channel, method))
        return found

    def subscribe(self) -> None:
        """Subscribe ``self.start``, ``self.stop``, ... to their channels."""
        for channel, method in self._channel_methods():
            self.bus.subscribe(channel, method)

    def unsubscribe(self) -> None:
        """Unsubscribe every method :meth:`subscribe` subscribed."""
        for channel, method in self._channel_methods():
            self.bus.unsubscribe(channel, method)
