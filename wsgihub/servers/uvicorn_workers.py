"""uvicorn in gunicorn's workers: ``wsgihub serve --server uvicorn --workers N``.

::

    wsgihub serve site.ini --server uvicorn --workers 2

gunicorn's master (:class:`~wsgihub.servers.gunicorn.GunicornServer`: the
site probed in a throw-away child, ``Serving on``, SIGHUP starts fresh
workers, SIGTERM drains them) with :class:`HubWorker` as its worker class:
uvicorn's own gunicorn worker (the ``uvicorn-worker`` distribution, the
successor of the deprecated ``uvicorn.workers``) serving ``hub.asgi``
(:class:`~wsgihub.asgi.ASGIHub`: ASGI mounts native on the worker's event
loop, WSGI mounts in a pool of ``--threads`` threads, the front layers on
the WSGI side, as under ``--server uvicorn`` in one process).

What each worker does differently from gunicorn's sync workers, and why:

- **The bus starts on the worker's event loop.**  The hub's start runs the
  ASGI mounts' lifespans, which must run on the loop their requests will
  run on; that loop only exists once the worker runs.  So
  ``post_worker_init`` leaves the bus alone for this worker (it sees
  :attr:`HubWorker.starts_bus`), and the worker binds the mounts to its loop,
  then starts the bus in a thread (start listeners block; the lifespans need
  the loop free) before uvicorn accepts.  A failing start listener is one
  line on stderr and gunicorn's worker boot error, as for sync workers.
- **SIGTERM (and SIGINT) drain.**  uvicorn's own handlers would re-raise
  the signal after the drain with its default action, killing the worker
  before gunicorn's ``worker_exit``; here the first signal announces the
  drain on the bus (the health path answers 503), keeps accepting for
  ``--drain-delay`` seconds, then has uvicorn stop accepting and let the
  requests in flight finish for up to ``--drain-timeout`` seconds.  Then the bus stops (the ASGI lifespans' shutdown,
  on the loop) and exits, and the worker ends normally.  A second SIGTERM
  (a stop that signals the whole process group, then the master's own) does
  not cut the drain; SIGINT again (Ctrl-C twice) or SIGQUIT stops at once.

This module is imported only for that server (uvicorn, uvicorn-worker and
gunicorn are optional: the ``uvicorn`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

# uvicorn-worker first: without the 'uvicorn' extra, importing this module fails naming it
from uvicorn_worker import UvicornWorker  # isort: skip

import a2wsgi  # noqa: F401 - ASGIHub needs it: missing, the master says so before any worker starts
from gunicorn.arbiter import Arbiter
from uvicorn.server import Server

from ..asgi import ASGIHub
from ..health import announce_drain
from .base import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_THREADS,
    describe_start_failure,
    exit_after_failed_start,
)
from .front import front_paths

if TYPE_CHECKING:
    from ..bus import Bus
    from ..hub import Hub

__all__ = ["WORKER_CLASS", "HubWorker"]

#: What ``wsgihub serve`` sets gunicorn's ``worker_class`` to for ``--server uvicorn``.
WORKER_CLASS = f"{__name__}.HubWorker"


class HubWorker(UvicornWorker):  # type: ignore[misc]
    """A gunicorn worker serving the site's hub as ASGI with uvicorn (see the module docs).

    The worker's application (``self.app``) is a
    :class:`~wsgihub.servers.gunicorn.GunicornServer`: its ``load()`` built
    this worker's hub inside the front layers; the worker serves that as
    ``hub.asgi`` with ``--threads`` threads (default: as under ``--server uvicorn`` in one process) for WSGI mounts.
    """

    #: Tells ``GunicornServer``'s ``post_worker_init`` that this worker starts
    #: and stops its hub's bus itself, on its event loop.
    starts_bus = True

    #: gunicorn's ``load_wsgi`` sets it to the front layers; then it is the :class:`ASGIHub`.
    wsgi: Any

    # uvicorn's http and loop: httptools and uvloop when installed ('auto');
    # lifespan off: the bus runs the ASGI mounts' lifespans, as in one process.
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "auto",
        "http": "auto",
        "lifespan": "off",
        "access_log": False,
        "server_header": False,
        # forwarded headers are the front layer's (wsgihub.proxy, --forwarded-allow-ips)
        "proxy_headers": False,
    }

    #: A stop signal that came while the worker was still booting (loading the site,
    #: starting the bus): the worker then stops as soon as it has started.
    _early_signal: int | None = None
    #: The server, once made: from then on a signal goes to it.
    _server: _DrainingServer | None = None

    def init_signals(self) -> None:
        """uvicorn-worker's, with SIGTERM/SIGINT/SIGQUIT remembered until uvicorn's serve takes them.

        (uvicorn-worker leaves them at their default action until then: a stop
        that came while the site loads or the bus starts killed the worker
        without its bus's stop.)
        """
        super().init_signals()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(signum, self._remember_signal)
            signal.siginterrupt(signum, False)

    def _remember_signal(self, signum: int, frame: Any) -> None:
        if self._server is not None:
            self._server.on_signal(signum, frame)
        elif self._early_signal is None:
            self._early_signal = signum

    def load_wsgi(self) -> None:
        """The hub in its front layers (gunicorn's load), served as ``hub.asgi``."""
        super().load_wsgi()
        wrapped: Any = self.wsgi  # the hub in its front layers (a WSGI application)
        hub: Hub | None = getattr(self.app, "hub", None)
        if hub is None:  # pragma: no cover - GunicornServer.load() always sets it
            raise RuntimeError("the uvicorn worker serves a wsgihub GunicornServer only")
        options = getattr(self.app, "front_options", None)
        threads = getattr(options, "threads", None) or DEFAULT_THREADS
        self.wsgi = ASGIHub(hub, wrapped, threads=threads, front_paths=front_paths(options))
        self.config.timeout_graceful_shutdown = getattr(self.app, "drain_timeout", DEFAULT_DRAIN_TIMEOUT)

    async def _serve(self) -> None:
        app: ASGIHub = self.wsgi
        bus = app.hub.bus  # type: ignore[attr-defined]
        app.bind(asyncio.get_running_loop())
        try:
            # in a thread: start listeners block, and the lifespans need this loop free
            await asyncio.to_thread(bus.start)
        except Exception as exc:  # noqa: BLE001 - one line, then gunicorn's worker boot error
            sys.stderr.write(f"wsgihub: error: {describe_start_failure(bus, exc)}\n")
            sys.stderr.flush()
            await asyncio.to_thread(exit_after_failed_start, bus)
            self.app.hub = None  # worker_exit: nothing left to exit
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        self.config.app = app
        server = _DrainingServer(self.config, bus, getattr(self.app, "drain_delay", 0.0))
        self._server = server
        if self._early_signal is not None:  # stopped while booting: start, then drain at once
            server.on_signal(self._early_signal, None)
        try:
            await server.serve(sockets=self.sockets)
        finally:
            # drained (or cut short): the apps' teardown and lifespan shutdown run on this loop
            await asyncio.to_thread(_stop_and_exit, bus)
            self.app.hub = None
        if not server.started:  # pragma: no cover - uvicorn could not serve the sockets
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def _stop_and_exit(bus: Bus) -> None:
    with contextlib.suppress(Exception):  # each failure was logged on the bus
        bus.exit()


class _DrainingServer(Server):  # type: ignore[misc,unused-ignore]  # (Any where uvicorn is not installed: lint env)
    """uvicorn's server with wsgihub's drain on SIGTERM/SIGINT (see the module docs)."""

    def __init__(self, config: Any, bus: Bus, delay: float) -> None:
        super().__init__(config)
        self.bus = bus
        self.delay = delay
        self._draining = False
        self._cut = threading.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """SIGTERM and SIGINT drain, SIGQUIT stops at once; nothing is re-raised afterwards.

        (uvicorn's own handlers re-raise the signal after the drain, which
        would end the worker before gunicorn's ``worker_exit``.)
        """
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
        original = {signum: signal.signal(signum, self.on_signal) for signum in handled}
        for signum in handled:
            signal.siginterrupt(signum, False)
        try:
            yield
        finally:
            for signum, handler in original.items():
                signal.signal(signum, handler)

    def on_signal(self, signum: int, frame: Any) -> None:
        """SIGTERM/SIGINT: drain (once); SIGINT again or SIGQUIT: stop at once."""
        if signum == signal.SIGQUIT or (self._draining and signum == signal.SIGINT):
            # gunicorn's quick exit, or Ctrl-C again: stop at once
            self.should_exit = self.force_exit = True
            self._cut.set()
            return
        if self._draining:
            # SIGTERM again: one stop brings two (Ctrl-C or systemd signal the whole
            # group, then the master sends each worker SIGTERM); the drain goes on
            return
        self._draining = True
        # the bus's listeners log: not inside a signal handler
        threading.Thread(target=self._drain, name="wsgihub-drain", daemon=True).start()

    def _drain(self) -> None:
        announce_drain(self.bus)
        if self.delay > 0:
            self.bus.log(
                f"Draining: health answers 503; still accepting for {self.delay:g} s (drain delay)."
            )
            self._cut.wait(self.delay)
        self.should_exit = True
