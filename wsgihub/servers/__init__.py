"""The servers that run a site: waitress (embedded default) and gunicorn (pre-fork).

Both hang on the process bus (:mod:`wsgihub.bus`) so that starting, stopping
and draining are bus transitions like any other::

    from wsgihub.servers import WaitressServer, bind_socket

    hub = wsgihub.load("config:site.ini")
    sock = bind_socket("127.0.0.1", 0)             # ServeError if the port is taken
    server = WaitressServer(hub.bus, hub, sock=sock, threads=8, drain_timeout=10)
    server.subscribe()
    hub.bus.start()                                # server.url -> 'http://127.0.0.1:41235'
    hub.bus.block()                                # SIGTERM -> exit -> drained stop

:class:`~wsgihub.servers.gunicorn.GunicornServer` runs the same site in N
worker processes, each building its own hub from the site's spec.  Any other
WSGI server takes the hub itself as its application (see
``docs/deployment.md``).

Layering: this package sits above the bus and the site loader
(:mod:`wsgihub.deploy`) and below :mod:`wsgihub.serve`; it imports neither
``serve`` nor ``cli``.  The helpers both servers share live in
:mod:`wsgihub.servers.base`, so the server modules never import this
package's ``__init__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_THREADS,
    MountInfo,
    bind_socket,
    check_address,
    describe_mounts,
    describe_start_failure,
    exit_after_failed_start,
    format_url,
    freeze_startup_objects,
    is_start_failure_line,
    listener_name,
    mount_warnings,
)

if TYPE_CHECKING:
    from .gunicorn import GunicornServer
    from .waitress import WaitressServer

__all__ = [
    "DEFAULT_DRAIN_TIMEOUT",
    "DEFAULT_THREADS",
    "GunicornServer",
    "MountInfo",
    "WaitressServer",
    "bind_socket",
    "check_address",
    "describe_mounts",
    "describe_start_failure",
    "exit_after_failed_start",
    "format_url",
    "freeze_startup_objects",
    "is_start_failure_line",
    "listener_name",
    "mount_warnings",
]


def __getattr__(name: str) -> Any:
    """Import a server's module only when it is asked for (gunicorn is optional)."""
    if name == "WaitressServer":
        from .waitress import WaitressServer

        return WaitressServer
    if name == "GunicornServer":
        from .gunicorn import GunicornServer

        return GunicornServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
