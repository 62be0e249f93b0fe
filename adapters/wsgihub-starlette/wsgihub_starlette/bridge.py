"""An ASGI app as a WSGI app: a2wsgi's bridge, plus the lifespan and the hub's request.

:class:`Bridge` is what the hub serves for a mounted Starlette or FastAPI app
under any WSGI server (waitress, gunicorn).  Each request runs through
:class:`a2wsgi.ASGIMiddleware`'s responder, which streams both ways: the
request body goes to the app 64 KiB at a time as it reads ``receive()``,
and each ``http.response.body`` message the app sends is one chunk of the
WSGI response, handed to the server as soon as it is sent.  Nothing buffers
a whole body.

What the bridge adds to a2wsgi:

- **lifespan**: :meth:`Bridge.start` runs the app's lifespan (``lifespan.startup``)
  on the bridge's event loop and waits for it; :meth:`Bridge.stop` sends
  ``lifespan.shutdown`` and waits for the lifespan to end.  The adapter calls
  them from the hub's bus (start and stop), counted: an app mounted at two
  prefixes (or on two hubs) has one bridge and runs its lifespan once.
  The state a lifespan yields reaches every request (``request.state``), as
  ASGI servers do it (a shallow copy per request);
- **the hub's request**: the app's code runs on the bridge's event-loop
  thread, not the server's thread, so the bridge carries the hub's current
  request into the app's task: :func:`wsgihub.find_hub` and
  :func:`wsgihub.url_for` work in endpoints and dependencies, sync ones (run
  in a worker thread) included;
- one bridge per ASGI app (:func:`bridge_for`), and a loop started on first use.

``scope["root_path"]`` is the mount's ``SCRIPT_NAME`` and ``scope["path"]``
the full path (a2wsgi follows the ASGI spec), so Starlette's own
``request.url_for`` builds URLs with the mount prefix; the WSGI environ the
hub passed on is ``scope["wsgi_environ"]``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable, Iterable, MutableMapping
from functools import partial
from typing import Any

from a2wsgi.asgi import ASGIResponder

from wsgihub import current as _current
from wsgihub.errors import UntrustedHostError, WsgihubError
from wsgihub.urls import request_host

__all__ = ["HUB_URL_STATE", "LIFESPAN_TIMEOUT", "Bridge", "LifespanError", "bridge_for"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[..., Any]

#: The name of ``hub.url_for`` in every request's ``scope["state"]`` (``request.state.hub_url``).
HUB_URL_STATE = "hub_url"

#: Seconds :meth:`Bridge.start` / :meth:`Bridge.stop` wait for the app's lifespan.
LIFESPAN_TIMEOUT = 60.0

_bridges: weakref.WeakValueDictionary[tuple[int, int], Bridge] = weakref.WeakValueDictionary()
_bridges_lock = threading.Lock()


class LifespanError(WsgihubError):
    """The app's lifespan startup or shutdown failed (its message names the app)."""


def bridge_for(app: ASGIApp, loop: asyncio.AbstractEventLoop | None = None) -> Bridge:
    """The one :class:`Bridge` serving the ASGI ``app`` (made on first use).

    A bridge passed in is returned as it is.  Mounting one app at two
    prefixes gives both the same bridge: one event loop, one lifespan.
    ``loop``: the event loop another bridge (``a2wsgi.ASGIMiddleware``)
    runs the app on, so that the lifespan runs there too.
    """
    if isinstance(app, Bridge):
        return app
    key = (id(app), id(loop) if loop is not None else 0)
    with _bridges_lock:
        found = _bridges.get(key)
        if found is None or found.app is not app:
            found = Bridge(app, loop=loop)
            _bridges[key] = found
        return found


class Bridge:
    """A WSGI application serving the ASGI application ``app`` (see the module docs).

    ``wait_time``: after the response ends, how long a request's thread
    waits for the app's task (background tasks) before cancelling it
    (``None``: until it ends), as in :class:`a2wsgi.ASGIMiddleware`.
    ``loop``: an event loop running in another thread to use instead of
    starting one.
    """

    def __init__(
        self, app: ASGIApp, *, wait_time: float | None = None, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        #: The ASGI application (``app``: the hub's layer walk sees through the bridge).
        self.app = app
        self.wait_time = wait_time
        self._loop = loop
        #: The process that started ``_loop``'s thread (``None``: the loop came from elsewhere).
        self._own_pid: int | None = None
        self._lock = threading.Lock()
        self._starts = 0
        self._lifespan: _Lifespan | None = None
        #: The state the lifespan yielded (copied into every request's scope).
        self.state: dict[str, Any] = {}
        self.name = getattr(app, "title", None) or type(app).__name__

    # -- the event loop ------------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the app runs on (started in a daemon thread on first use)."""
        loop = self._loop
        if loop is None or (self._own_pid is not None and self._own_pid != os.getpid()):
            with self._lock:
                loop = self._loop
                if loop is None or (self._own_pid is not None and self._own_pid != os.getpid()):
                    # none yet, or ours was made before a fork (gunicorn --preload): its thread
                    # is not in this process, so this process gets a loop and lifespan of its own
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name=f"wsgihub-asgi-{self.name}", daemon=True
                    )
                    thread.start()
                    if self._own_pid is not None:
                        self._starts, self._lifespan = 0, None
                        self.state.clear()
                    self._loop, self._own_pid = loop, os.getpid()
        return loop

    def use_loop(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Run the app (its lifespan, any request through the bridge) on ``loop``, an ASGI server's.

        ``hub.asgi`` (:mod:`wsgihub.asgi`) calls it with the server's loop so the
        lifespan runs where the app's native requests run.  Only a bridge
        that has no loop yet takes it; returns whether the bridge runs on ``loop``.
        """
        with self._lock:
            if self._loop is None:
                self._loop = loop
            return self._loop is loop

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Serve one request through a2wsgi's responder (streaming both ways).

        On a hub that restricts hosts (``trusted_hosts`` or ``public_url``,
        not ``*``), a request whose ``Host`` the hub does not trust raises
        :class:`~wsgihub.errors.UntrustedHostError` before the app runs (the
        hub answers 400 without echoing it): Starlette builds absolute URLs
        from the Host header (``request.url_for``, its trailing-slash
        redirects), as Flask and Werkzeug do (their adapters put them behind
        :class:`wsgihub.urls.HostCheck`).
        """
        request = _current.get()
        if request is not None:
            hosts = request[0].hosts
            if hosts.restricts:
                host = request_host(environ)
                if not hosts.allows(host):
                    raise UntrustedHostError(f"Host {host!r} is not trusted by the hub (a Starlette/FastAPI mount)")
        serve = partial(self._serve, request)
        responder = ASGIResponder(serve, self.loop, self.wait_time)
        return responder(environ, start_response)  # type: ignore[arg-type]

    async def _serve(self, request: _current.Request | None, scope: Scope, receive: Any, send: Any) -> None:
        """The app's task: the hub's request made current here, the lifespan's state copied in."""
        state = dict(self.state)  # a shallow copy per request, as ASGI servers give it
        if request is not None:
            # A task of its own context: this slot is the task's (and its children's) alone.
            _current.slot().request = request
            state[HUB_URL_STATE] = request[0].url_for
        if state:
            scope["state"] = state
        await self.app(scope, receive, send)

    # -- lifespan ------------------------------------------------------------------------
    def start(self) -> None:
        """Run the app's lifespan startup (the first of several starts only).

        Raises :class:`LifespanError` if the app reports ``lifespan.startup.failed``
        or does not answer within :data:`LIFESPAN_TIMEOUT` seconds.  An app
        that does not speak the lifespan protocol (raises at once) is served
        without one, as ASGI servers do.
        """
        with self._lock:
            self._starts += 1
            if self._starts > 1:
                return
        try:
            lifespan = _Lifespan(self.app, self.state)
            self._call(lifespan.startup(), "startup")
        except BaseException:
            with self._lock:
                self._starts -= 1
            raise
        self._lifespan = lifespan

    def stop(self) -> None:
        """Run the app's lifespan shutdown when the last start is stopped."""
        with self._lock:
            if self._starts == 0:
                return
            self._starts -= 1
            if self._starts > 0:
                return
            lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            try:
                self._call(lifespan.shutdown(), "shutdown")
            finally:
                self.state.clear()

    @property
    def started(self) -> bool:
        """Whether the lifespan startup ran and no shutdown followed."""
        return self._lifespan is not None

    def _call(self, coro: Any, phase: str) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            failure = future.result(LIFESPAN_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise LifespanError(
                f"{self.name}: lifespan {phase} did not finish within {LIFESPAN_TIMEOUT:g} seconds"
            ) from None
        if failure is not None:
            raise LifespanError(f"{self.name}: lifespan {phase} failed: {failure}")

    def __repr__(self) -> str:
        return f"<Bridge {self.app!r}>"


class _Lifespan:
    """One run of an app's lifespan protocol, on the bridge's loop."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.task: asyncio.Task[None] | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] | None = None
        self.outbox: asyncio.Queue[dict[str, Any]] | None = None
        self.supported = True

    async def _run(self) -> None:
        assert self.inbox is not None and self.outbox is not None
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except BaseException as exc:  # noqa: BLE001  (reported through the outbox)
            await self.outbox.put({"type": "wsgihub.lifespan.error", "error": exc})
        else:
            await self.outbox.put({"type": "wsgihub.lifespan.ended"})

    async def _exchange(self, phase: str) -> str | None:
        """Send ``lifespan.PHASE`` and wait for the answer; a failure's message, or ``None``."""
        assert self.inbox is not None and self.outbox is not None
        await self.inbox.put({"type": f"lifespan.{phase}"})
        answer = await self.outbox.get()
        kind = answer["type"]
        if kind == f"lifespan.{phase}.complete":
            return None
        if kind == f"lifespan.{phase}.failed":
            # Starlette sends the whole traceback: its last line names the error
            lines = [line for line in str(answer.get("message") or "").splitlines() if line.strip()]
            return lines[-1].strip() if lines else "(no message)"
        if kind == "wsgihub.lifespan.error":
            if phase == "startup":
                # ASGI: an app that raises before startup does not support lifespan.
                self.supported = False
                return None
            error = answer["error"]
            return f"{type(error).__name__}: {error}"
        if kind == "wsgihub.lifespan.ended" and phase == "shutdown":
            return None
        return f"unexpected message {kind!r}"

    async def startup(self) -> str | None:
        self.inbox, self.outbox = asyncio.Queue(), asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())
        return await self._exchange("startup")

    async def shutdown(self) -> str | None:
        if not self.supported or self.task is None or self.task.done():
            return None
        failure = await self._exchange("shutdown")
        await asyncio.wait({self.task})
        return failure
