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
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Any

from ..errors import ServeError

if TYPE_CHECKING:
    from .gunicorn import GunicornServer
    from .waitress import WaitressServer

__all__ = ["WaitressServer", "GunicornServer", "bind_socket", "format_url", "check_address"]


def format_url(host: str, port: int | str, scheme: str = "http") -> str:
    """``http://127.0.0.1:8080``; IPv6 hosts get brackets (``http://[::1]:8080``)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound (not yet listening) to ``host:port``; port 0 picks a free one.

    Binding first is how ``wsgihub serve`` finds out that the address is
    unusable *before* anything else starts, and it keeps the port picked for
    ``0``.  The socket does not accept connections until a server calls
    ``listen()`` on it.  Raises :class:`~wsgihub.errors.ServeError` with one
    line naming the address.
    """
    where = format_url(host, port)
    try:
        infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {where}: unknown host {host!r} ({exc.strerror})") from None
    family, socktype, proto, _canon, sockaddr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "address already in use (is another server running there?)"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            reason = "address not available on this machine"
        else:
            reason = exc.strerror or str(exc)
        raise ServeError(f"cannot listen on {where}: {reason}") from None
    return sock


def check_address(host: str, port: int) -> int:
    """Check that ``host:port`` can be listened on; return the port (a free one for 0).

    For servers that bind their own sockets (gunicorn): the socket is closed
    again, so another process could in theory take the port in between.
    """
    sock = bind_socket(host, port)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def __getattr__(name: str) -> Any:
    """Import a server's module only when it is asked for (gunicorn is optional)."""
    if name == "WaitressServer":
        from .waitress import WaitressServer

        return WaitressServer
    if name == "GunicornServer":
        from .gunicorn import GunicornServer

        return GunicornServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
