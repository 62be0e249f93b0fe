"""A real server on loopback for a test: waitress on ``127.0.0.1``, port 0.

::

    from wsgihub.testing import serving

    with serving(hub) as server:            # listening when the block starts
        result = server.get("/new/users/5")
        assert result.code == 200
    # stopped and drained here

The server is wsgihub's own :class:`~wsgihub.servers.waitress.WaitressServer`
on a process bus, so a test runs the code production runs.  Starting the
bus returns once the socket listens (the start listener binds before it
returns), so nothing sleeps or polls to wait for the server.  A
:class:`~wsgihub.Hub` is served on its own bus (its start and stop reach
every adapter and plugin); any other WSGI app on a bus of its own.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .client import Result

if TYPE_CHECKING:
    from ..bus import Bus
    from ..servers.waitress import WaitressServer
    from ..types import WSGIApplication

__all__ = ["LiveServer", "serving"]


@dataclass
class LiveServer:
    """A running server: ``url`` is ``http://127.0.0.1:PORT``."""

    url: str
    host: str
    port: int
    bus: Bus
    server: WaitressServer

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Result:
        """Send one HTTP/1.1 request on a fresh connection; the whole answer, whatever its status.

        Redirects are not followed (a test wants to see them).
        """
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=dict(headers or {}))
            response = connection.getresponse()
            data = response.read()
            status = f"{response.status} {response.reason}"
            return Result(status, list(response.getheaders()), data)
        finally:
            connection.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Result:
        """``request("GET", path)``."""
        return self.request("GET", path, headers=headers)


@contextmanager
def serving(
    app: WSGIApplication, *, threads: int = 2, drain_timeout: float = 5.0, host: str = "127.0.0.1"
) -> Iterator[LiveServer]:
    """Serve ``app`` with waitress on ``host``, a free port, for the ``with`` block.

    A :class:`~wsgihub.Hub` is served on ``hub.bus`` (stopped, not exited,
    afterwards, so the hub stays usable); another app on a new
    :class:`~wsgihub.bus.Bus`, exited afterwards.  In-flight requests are
    drained (up to ``drain_timeout`` seconds) before the block's exit returns.
    """
    # Imported here: waitress and the bus are needed only by tests that serve.
    from ..bus import Bus
    from ..hub import Hub
    from ..servers.waitress import WaitressServer

    own_bus = not isinstance(app, Hub)
    bus = app.bus if isinstance(app, Hub) else Bus()
    server = WaitressServer(bus, app, host, 0, threads=threads, drain_timeout=drain_timeout)
    server.subscribe()
    try:
        bus.start()  # returns once the socket listens
        assert server.bound is not None
        bound_host, port = server.bound
        yield LiveServer(server.url, bound_host, port, bus, server)
    finally:
        try:
            if own_bus:
                bus.exit()
            else:
                bus.stop()
        finally:
            server.unsubscribe()
