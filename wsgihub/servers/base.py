"""What both servers share: addresses, the mount list, start-failure reports, warnings.

:mod:`wsgihub.servers` re-exports every name here; the server modules import
them from this module so that they never import their package's ``__init__``
(which imports them lazily).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import inspect
import socket
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import MountWarning, ServeError

if TYPE_CHECKING:
    from ..bus import Bus
    from ..hub import Hub

__all__ = [
    "DEFAULT_DRAIN_TIMEOUT",
    "DEFAULT_THREADS",
    "MountInfo",
    "bind_socket",
    "check_address",
    "copy_differs",
    "describe_mounts",
    "describe_start_failure",
    "exit_after_failed_start",
    "format_url",
    "freeze_startup_objects",
    "is_start_failure_line",
    "listener_name",
    "mount_warnings",
    "source_fingerprint",
]

#: Seconds a stopping server lets in-flight requests finish before cutting them
#: (waitress and gunicorn alike; ``wsgihub serve --drain-timeout``).
DEFAULT_DRAIN_TIMEOUT = 10.0

#: Worker threads per process when none are asked for: waitress's own default.
#: (gunicorn's sync worker, one thread, is chosen by ``threads=1``.)
DEFAULT_THREADS = 4


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
        infos = socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ServeError(
            f"cannot listen on {where}: unknown host {host!r} ({exc.strerror})"
        ) from None
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


def socket_to_serve(given: socket.socket | None, host: str, port: int) -> socket.socket:
    """The socket a server's ``start`` listens on: ``given`` while it is still open, else a new one.

    ``given`` is the socket ``wsgihub serve`` bound ahead (:func:`bind_socket`);
    once a stop closed it, a restart of the bus binds ``host:port`` again.  For
    the server modules (waitress, uvicorn); not re-exported by the package.
    """
    if given is not None and given.fileno() != -1:
        return given
    return bind_socket(host, port)


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


@dataclass(frozen=True)
class MountInfo:
    """One mounted app, as ``wsgihub serve`` lists it."""

    name: str
    framework: str
    prefix: str


def describe_mounts(hub: Hub) -> list[MountInfo]:
    """Name, framework and prefix (or ``graft over NAME``) of every mount."""
    return [
        MountInfo(
            peg.name,
            peg.framework or "wsgi",
            f"graft over {peg.over.name}" if peg.over is not None else (peg.prefix or "/"),
        )
        for peg in hub.pegs()
    ]


def listener_name(listener: object) -> str:
    """``package.module.function`` or ``package.module.Class.method`` for a listener."""
    func = getattr(listener, "__func__", listener)
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if module and qualname:
        return f"{module}.{qualname}"
    return repr(listener)


@contextlib.contextmanager
def mount_warnings() -> Iterator[list[str]]:
    """Collect :class:`~wsgihub.errors.MountWarning` messages instead of showing them.

    ``warnings`` would print each as two lines pointing into wsgihub's own
    source; a command prints the collected messages once each as
    ``wsgihub: warning: ...``.  The list is filled (in order, without
    repeats) when the block ends; other warnings are shown as usual.
    """
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MountWarning)
        try:
            yield found
        finally:
            others = []
            for warning in caught:
                if issubclass(warning.category, MountWarning):
                    message = str(warning.message)
                    if message not in found:
                        found.append(message)
                else:
                    others.append(warning)
    for warning in others:
        warnings.warn_explicit(
            warning.message, warning.category, warning.filename, warning.lineno
        )


#: The bus's log lines that :func:`describe_start_failure` replaces.
_START_FAILURE_LINES = ("Error in 'start' listener ", "Shutting down due to error in start listener")


def is_start_failure_line(msg: str) -> bool:
    """Whether a bus log line is part of a start failure (the one-line report replaces it)."""
    return msg.startswith(_START_FAILURE_LINES)


def describe_start_failure(bus: Bus, exc: BaseException) -> str:
    """``start listener pkg.mod.func failed: RuntimeError: ...`` (one line).

    The bus re-raises the failing listener's own exception, which does not
    say whose it is; :attr:`Bus.failed_start_listener` does.
    """
    listener = bus.failed_start_listener
    name = f"start listener {listener_name(listener)}" if listener is not None else "a start listener"
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return f"{name} failed: {detail}"


def exit_after_failed_start(bus: Bus) -> None:
    """Exit a bus whose start failed: ``exit`` listeners run.

    ``Bus.start`` already ran the stop listeners when a start listener
    failed, and ``Bus.exit`` does not run them again on a stopped bus.
    """
    with contextlib.suppress(Exception):  # each failure was logged on the bus
        bus.exit()


def freeze_startup_objects() -> None:
    """Leave what the site made while loading and starting out of garbage collection.

    Called once the bus started, in every serving process (one-process
    servers, each gunicorn worker).  The objects Django, Flask and Pyramid
    make at import and while the site loads live as long as the process; left
    to the collector, every full pass walked all of them (about 79,000 objects
    with the three frameworks: 44 ms of CPU, 60-170 ms of wall time under load,
    every few seconds, every request in the process waiting behind it).
    ``gc.collect()`` first, so garbage made while loading is not kept.
    """
    gc.collect()
    gc.freeze()


#: :func:`source_fingerprint`'s answers, by function (a patched method is a new function: read again).
_FINGERPRINTS: dict[object, str | None] = {}


def source_fingerprint(function: object) -> str | None:
    """sha256 (hex) of ``function``'s source as :func:`inspect.getsource` gives it (``None``: no source).

    What a server front that copies a server's method checks the installed
    server against (:func:`copy_differs`).  Read once per process for each
    function: gunicorn's master checks before it forks, and its workers
    inherit the answer instead of reading the source again.
    """
    try:
        return _FINGERPRINTS[function]
    except KeyError:
        pass
    except TypeError:  # unhashable: nothing inspect can give the source of
        return None
    try:
        source = inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        fingerprint = None
    else:
        fingerprint = hashlib.sha256(source.encode("utf-8")).hexdigest()
    _FINGERPRINTS[function] = fingerprint
    return fingerprint


def copy_differs(label: str, function: object, written_from: Mapping[str, str], server: str) -> str | None:
    """Why the installed ``function`` is not the one a copy of it was written from (``None``: it is).

    ``written_from`` maps the sha256 of each release's source
    (:func:`source_fingerprint`) to the release; ``label`` names the
    installed function (``waitress 3.0.3's WSGITask.execute``) and
    ``server`` the project in the reason's last words.  Used by
    :mod:`wsgihub.servers.waitress_front` and :mod:`wsgihub.servers.gunicorn_front`,
    which serve the layers instead when the source differs.
    """
    fingerprint = source_fingerprint(function)
    if fingerprint in written_from:
        return None
    found = "has no readable source" if fingerprint is None else f"differs (sha256 {fingerprint[:12]})"
    return (
        f"{label} {found} from the one wsgihub's copy was written from "
        f"({server} {', '.join(written_from.values())})"
    )
