"""The hub as an ASGI application: ``hub.asgi``.

::

    uvicorn site:hub.asgi                    # any ASGI server
    wsgihub serve site.ini --server uvicorn  # the same, driven by the bus

:class:`ASGIHub` serves the hub's site to an ASGI server.  Every request is
dispatched by the board as under a WSGI server (:meth:`~wsgihub.board.Pegboard.resolve`
on the path below the server's ``root_path``; the matched prefix joins
``root_path`` as it joins ``SCRIPT_NAME``), then:

- **ASGI mounts are called natively** on the server's event loop: HTTP,
  websockets, and their lifespan.  A mount is ASGI when its adapter has an
  ``asgi`` callable (the Starlette adapter sets it for a Starlette or FastAPI
  app mounted as it is).  The app's scope gets ``root_path`` = what is in
  front of the hub + the mount's prefix (``path`` stays the full path, as the
  ASGI spec says), ``scope["state"]`` the state its lifespan yielded plus
  ``hub_url`` (``hub.url_for``), and the hub's current request is set in the
  app's task, so ``wsgihub.url_for``, ``find_hub`` and the Starlette
  adapter's ``HubURL`` work in its endpoints (sync ones in a worker thread
  included).  For an ASGI mount without grafts (the common case) this is
  all the hub adds: the server's scope is updated in place (it is made for
  this one request, and its ``state`` is a copy per request, as the ASGI spec
  says), and the WSGI-style environ ``url_for`` reads is made only if
  something asks for it (``python -m benchmarks.bench_asgi`` measures it).
- **Everything else runs as WSGI** in one bounded pool of ``threads``
  threads, streaming both ways: the environ and request body are a2wsgi's
  (the body is read from ``receive()`` as the app reads ``wsgi.input``), and
  ``PATH_INFO`` is made from the server's ``raw_path`` when it has one (the
  percent-decoded bytes as latin-1, PEP 3333: ``/a/%ff`` is ``/a/\\xff`` as
  under waitress, not the U+FFFD of the server's UTF-8 ``path``), and
  the response crosses to the loop in batches (:meth:`ASGIHub.serve_wsgi`):
  each chunk the app yields is sent at once, at most 10 batches queued.
  What runs there is the hub itself (or the front layers around it that
  ``wsgihub serve`` builds), so dispatch, grafts, phases, invitations,
  ``url_for`` and the partyline are exactly those of a WSGI server.
  A websocket request for a WSGI mount (or no mount) is refused cleanly:
  ``websocket.close`` before accepting, which the server answers 403.
- **Grafts across the line** (a FastAPI app grafted over a Django site, or a
  Flask app over a FastAPI one) are dispatched here with the graft's own
  router (:mod:`wsgihub.grafts`: the same claims, scoping and gate); a GET or
  HEAD the graft answers 404 falls through to the app beneath, whichever
  side each is on.  For such a fall-through the request body, if any, is
  read into memory first (GET and HEAD rarely have one).  A websocket goes to
  the first ASGI app among the grafts and the mount beneath.
- A mount whose lineage has pegboard-aware components (phase hooks) or an
  ``invite_path`` runs on the WSGI side even when it is ASGI (through its
  adapter's bridge), so those behave as under a WSGI server.

**Lifespan and the bus.**  ``lifespan.startup`` gives every ASGI mount's
bridge the server's event loop (its lifespan then runs there, once, with the
state it yields reaching every request) and starts the hub's bus if nobody
else did: ``uvicorn site:hub.asgi`` starts the site on startup and stops it
on ``lifespan.shutdown``.  Under ``wsgihub serve --server uvicorn`` the bus
drives the server instead (:mod:`wsgihub.servers.uvicorn`) and the lifespan
messages only answer.

**Front layers.**  Under ``wsgihub serve`` (``options=``) a request an ASGI
mount serves natively gets what the front layers give WSGI requests, with
the same options and rules (:class:`NativeFront`): forwarded headers only
from ``--forwarded-allow-ips`` (removed from the scope for anyone else), the
request ID (kept when well-formed, else made; ``scope["wsgihub.request_id"]``,
log records, the response header, the websocket handshake's too), the
access-log line (same format and keys).  Not yet: the front layers of a
request served by a graft across the line (those run the apps beneath the
front).
The health and inspector paths always go to the WSGI side.  ``hub.asgi`` by
itself (``uvicorn site:hub.asgi``) has no front layers on either side.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import Executor, Future
from contextvars import Token
from threading import get_ident
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from . import current as _current
from . import grafts as _grafts
from .accesslog import AccessLog
from .compose import component_hook
from .logconfig import access_log_configured
from .proxy import DEFAULT_FORWARDED_ALLOW_IPS, TrustedProxies, resolve_forwarding
from .requestid import DEFAULT_HEADER as DEFAULT_REQUEST_ID_HEADER
from .requestid import ENVIRON_KEY as REQUEST_ID_KEY
from .requestid import (
    install_record_factory,
    is_valid_request_id,
    new_request_id,
    reset_request_id,
    set_request_id,
)
from .urls import parse_host

if TYPE_CHECKING:
    from .board import Peg, Pegboard
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["DEFAULT_WSGI_THREADS", "ASGIHub", "NativeFront", "ThreadPool"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: ``runner(scope, receive, send, root, matched)``: serve one request below a mount.
Runner = Callable[[Scope, Receive, Send, str, str], Awaitable[None]]

#: Threads running WSGI mounts when none are asked for.
DEFAULT_WSGI_THREADS = 8

#: Batches of a WSGI response that may wait unsent before the app's thread waits.
_SEND_QUEUE = 10

_PHASES = ("__before__", "__compose__", "cleanup")

#: Paths whose plan :class:`ASGIHub` remembers (then it starts afresh), as the board's own cache.
_ROUTES_CACHE_SIZE = 4096

_slot_var = _current._slot
#: The base class's own storage of ``Slot.request`` (a member descriptor), for :class:`_NativeSlot`.
_SLOT_REQUEST: Any = _current.Slot.__dict__["request"]
_MISSING: Any = object()


class _Plan:
    """How requests for one mount (and its grafts) are served when an ASGI app is among them."""

    __slots__ = ("alone", "bridge", "claims", "native", "over", "peg", "websocket")

    def __init__(
        self,
        over: Runner,
        alone: Runner,
        claims: tuple[tuple[Any, Runner], ...],
        websocket: Runner | None,
        peg: Peg,
    ) -> None:
        #: The app beneath when no graft takes the request; ``alone``: in a fall-through.
        self.over, self.alone = over, alone
        self.claims = claims
        self.websocket = websocket
        self.peg = peg
        #: An ASGI app beneath and no graft: ``__call__`` calls it itself (the common case, inline).
        self.native: Any = _asgi_of(peg) if not claims else None
        #: The bridge whose lifespan state the app's requests get (``None``: no lifespan of its own).
        self.bridge: Any = getattr(peg.adapter, "bridge", None)


class ASGIHub:
    """The hub ``hub`` as an ASGI 3 application (see the module docs).

    ``wsgi``: the WSGI application serving the WSGI side (default: the hub;
    ``wsgihub serve`` passes the hub inside its front layers).  ``threads``:
    the size of the WSGI side's thread pool.  ``front_paths``: paths that
    always go to the WSGI side (the health and inspector paths).
    ``options``: the serve options (:class:`wsgihub.serve.ServeOptions`, or
    anything with the same attributes) whose front layers requests served
    natively get as well (:class:`NativeFront`); ``None``: none.
    """

    def __init__(
        self,
        hub: Pegboard,
        wsgi: WSGIApplication | None = None,
        *,
        threads: int = DEFAULT_WSGI_THREADS,
        front_paths: Iterable[str] = (),
        options: Any = None,
    ) -> None:
        # a2wsgi is optional (the 'uvicorn' extra; the Starlette adapter needs it too): only
        # the hub served by an ASGI server runs WSGI apps from an event loop.
        from a2wsgi.wsgi import Body, build_environ

        self.hub = hub
        self.wsgi: WSGIApplication = wsgi if wsgi is not None else hub
        self.threads = threads
        #: The bounded pool running WSGI apps (daemon threads: a request still running
        #: after the server's drain timeout does not keep the process alive).
        self.pool = ThreadPool(threads)
        # (typed Any: a2wsgi's TypedDict scopes are stricter than the plain mappings here)
        self._body: Any = Body
        self._build_environ: Any = build_environ
        self.front_paths = frozenset(front_paths)
        self._plans: dict[Peg, _Plan | None] = {}
        #: path below root_path -> (plan, matched prefix, rest), for the board's current mounts
        self._routes: dict[str, tuple[_Plan | None, str, str]] = {}
        self._plans_for: object = None
        self._url_for: Any = getattr(hub, "url_for", None)
        #: The front layers native requests get (``None``: none; ``wsgihub serve`` passes its options).
        self.front: NativeFront | None = NativeFront(options) if options is not None else None
        self._started_bus = False
        #: The event loop the server runs us on (set at lifespan startup or by :meth:`bind`).
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection (``http``, ``websocket``) or the ``lifespan``."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :]
        if self.hub._cache is not self._plans_for:  # the board starts a new one whenever its mounts change
            self._plans, self._routes, self._plans_for = {}, {}, self.hub._cache
        route = self._routes.get(path)
        if route is None:
            route = self._route(path)
        plan, matched, rest = route
        if plan is None:
            if kind == "http":
                await self.serve_wsgi(self.wsgi, scope, receive, send)
            else:
                await _refuse(receive, send)
            return
        app = plan.native
        if kind == "websocket":
            if plan.websocket is None:
                await _refuse(receive, send)
            elif app is not None and self.front is not None:
                await self._front_native(plan, app, scope, receive, send, root, matched)
            else:
                await plan.websocket(scope, receive, send, root, matched)
            return
        if app is not None:
            # An ASGI mount, no graft (the common case): served here, without a runner's
            # coroutine, a copy of the scope or a call that is not needed (what _enter does,
            # inline: in a server every Python call a request makes costs several times
            # what it does in a loop).
            front = self.front
            request = None
            if front is not None:
                root, send, request = front.begin(scope, root, send)
            script_name = root + matched if root else matched
            scope["root_path"] = script_name
            state = scope.get("state")
            if state is None:
                state = scope["state"] = {}
            bridge = plan.bridge
            if bridge is not None:
                own = bridge.state
                if own:
                    state.update(own)  # what the mount's own lifespan yielded
            state["hub_url"] = self._url_for
            slot = _new_slot(_NativeSlot)
            slot.owner = get_ident()
            slot._made = (self.hub, scope, script_name, plan.peg, root)
            token = _slot_var.set(slot)
            try:
                await app(scope, receive, send)
            finally:
                _slot_var.reset(token)
                if request is not None:
                    front.end(request, scope, plan.peg)  # type: ignore[union-attr]
            return
        if not plan.claims:
            await plan.over(scope, receive, send, root, matched)
            return
        await self._dispatch(plan, scope, receive, send, root, matched, rest)

    async def _front_native(
        self, plan: _Plan, app: Any, scope: Scope, receive: Receive, send: Send, root: str, matched: str
    ) -> None:
        """Serve a native websocket through the front layers (what ``__call__`` does for HTTP)."""
        front = self.front
        assert front is not None
        root, send, request = front.begin(scope, root, send)
        token = self._enter(plan, scope, root, matched)
        try:
            await app(scope, receive, send)
        finally:
            _slot_var.reset(token)
            front.end(request, scope, plan.peg)

    def _enter(self, plan: _Plan, scope: Scope, root: str, matched: str) -> Token[Any]:
        """Give ``scope`` the mount's root_path and state and make it this task's current request.

        The scope is updated in place: the server made it for this request,
        and its ``state`` is a copy per request (the ASGI spec's lifespan
        state).  Returns the token that ends the request (``_slot_var.reset``).
        """
        script_name = root + matched if root else matched
        scope["root_path"] = script_name
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        bridge = plan.bridge
        if bridge is not None:
            own = bridge.state
            if own:
                state.update(own)  # what the mount's own lifespan yielded
        state["hub_url"] = self._url_for
        # A slot of this task's own: tasks copied from one context never share a request.
        return _slot_var.set(_NativeSlot(self.hub, scope, script_name, plan.peg, root))

    def _route(self, path: str) -> tuple[_Plan | None, str, str]:
        """``(plan, matched prefix, rest)`` for ``path`` below the server's root_path (remembered)."""
        peg, matched, rest = self.hub.resolve(path)
        plan = None
        if peg is not None and path not in self.front_paths:
            plan = self._plans.get(peg, _MISSING)
            if plan is _MISSING:
                plan = self._plans[peg] = self._plan(peg)
        routes = self._routes
        if len(routes) >= _ROUTES_CACHE_SIZE:
            routes.clear()
        found = routes[path] = (plan, matched, rest)
        return found

    # -- planning a mount -------------------------------------------------------------------------
    def _plan(self, over: Peg) -> _Plan | None:
        """The plan for requests resolved to ``over``; ``None``: the WSGI side serves them all."""
        members = [over, *over.grafts]
        if not any(_asgi_of(p) is not None for p in members):
            return None
        if any(p.invite_path is not None for p in members):
            return None
        for p in [*over.lineage(), *over.grafts]:
            if any(component_hook(p.app, phase) is not None for phase in _PHASES):
                return None
        alone = self._runner(over)
        # A WSGI app beneath, no graft taking the request: the WSGI hub itself (front layers, as under WSGI).
        over_runner = alone if _asgi_of(over) is not None else self._whole
        claims = tuple((_grafts._claim(g), self._runner(g)) for g in over.grafts)
        websocket = next(
            (self._native(p) for p in [*over.grafts, over] if _asgi_of(p) is not None), None
        )
        return _Plan(over_runner, alone, claims, websocket, over)

    def _runner(self, peg: Peg) -> Runner:
        return self._native(peg) if _asgi_of(peg) is not None else self._wsgi_peg(peg)

    def _native(self, peg: Peg) -> Runner:
        """Call ``peg``'s ASGI app on this loop, with the mount's root_path, state and request."""
        app = _asgi_of(peg)
        assert app is not None
        hub = self.hub
        bridge = getattr(peg.adapter, "bridge", None)
        url_for = getattr(hub, "url_for", None)

        async def run(scope: Scope, receive: Receive, send: Send, root: str, matched: str) -> None:
            child = dict(scope)
            script_name = root + matched
            child["root_path"] = script_name
            state = dict(scope.get("state") or ())
            own = getattr(bridge, "state", None)
            if own:
                state.update(own)  # what the mount's own lifespan yielded
            if url_for is not None:
                state["hub_url"] = url_for
            child["state"] = state
            # A slot of this task's own: tasks copied from one context never share a request.
            token = _slot_var.set(_NativeSlot(hub, child, script_name, peg, root))
            try:
                await app(child, receive, send)
            finally:
                _slot_var.reset(token)

        return run

    def _wsgi_peg(self, peg: Peg) -> Runner:
        """Run ``peg``'s WSGI app alone in the thread pool (a graft or the app beneath in a cascade)."""
        hub = self.hub

        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            environ["pegboard.board"] = environ["wsgihub.hub"] = hub
            environ["pegboard.peg"] = peg
            slot = _current.slot()
            outer = slot.request
            slot.request = (hub, environ, environ.pop("wsgihub.asgi.root", ""))  # type: ignore[assignment]
            try:
                return peg.app(environ, start_response)
            finally:
                slot.request = outer

        async def run(scope: Scope, receive: Receive, send: Send, root: str, matched: str) -> None:
            child = dict(scope)
            child["root_path"] = root + matched
            await self.serve_wsgi(_Rooted(app, root), child, receive, send)

        return run

    async def _whole(self, scope: Scope, receive: Receive, send: Send, root: str, matched: str) -> None:
        await self.serve_wsgi(self.wsgi, scope, receive, send)

    async def serve_wsgi(self, app: WSGIApplication, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the WSGI ``app`` for an HTTP request in the pool, streaming both ways.

        The environ is a2wsgi's (``SCRIPT_NAME`` from ``root_path``, the body
        read from ``receive()`` as the app reads ``wsgi.input``).  The response
        crosses from the app's thread to the loop in batches, one wake-up per
        batch: a list or tuple body goes in one batch with the status; any
        other body one chunk at a time as the app yields it, the thread waiting
        when :data:`_SEND_QUEUE` batches are not sent yet (a slow client slows
        the app instead of filling memory).
        """
        loop = asyncio.get_running_loop()
        environ = self._build_environ(scope, self._body(loop, _coroutine(receive)))
        raw = scope.get("raw_path")
        if raw and (b"%" in raw or not raw.isascii()):
            # PEP 3333: PATH_INFO is the latin-1 decoding of the bytes sent, not of the
            # server's UTF-8 decoding of them (a2wsgi's: /a/%ff would be /a/\ufffd).
            _path_info(environ, raw)
        response = _Response(loop)
        context = contextvars.copy_context()
        done = loop.run_in_executor(self.pool, context.run, response.run, app, environ)
        try:
            while True:
                batch = await response.queue.get()
                if batch is None:
                    break
                for message in batch:
                    await send(message)
                response.room.release()
        except BaseException:
            response.abandon()
            raise
        await done

    # -- grafts across the line ---------------------------------------------------------------------
    async def _dispatch(
        self, plan: _Plan, scope: Scope, receive: Receive, send: Send, root: str, matched: str, rest: str
    ) -> None:
        """:func:`wsgihub.grafts.dispatch`, for a mount where an ASGI app is among the grafts."""
        path = rest or "/"
        method = scope.get("method", "GET")
        chain: list[Runner] = []
        for claim, runner in plan.claims:
            verdict = claim.test(path, method)
            if verdict:
                if claim.fall_through and method in _grafts.SAFE_METHODS:
                    chain.append(runner)
                    continue
                if not chain:
                    await runner(scope, receive, send, root, matched)
                    return
                await _cascade([*chain, runner], scope, receive, send, root, matched)
                return
            if verdict is None:
                chain.append(runner)
        if not chain:
            await plan.over(scope, receive, send, root, matched)
            return
        await _cascade([*chain, plan.alone], scope, receive, send, root, matched)

    # -- lifespan and the bus ---------------------------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run every ASGI mount's bridge (its lifespan, any request it serves) on ``loop``.

        Called at lifespan startup with the server's loop; ``wsgihub serve``
        calls it before the bus starts, since the bus runs the lifespans.
        A bridge that already runs on a loop of its own keeps it.
        """
        self.loop = loop
        for peg in self.hub.pegs():
            use_loop = getattr(getattr(peg.adapter, "bridge", None), "use_loop", None)
            if callable(use_loop):
                use_loop(loop)

    async def startup(self) -> None:
        """Lifespan startup: bind the loop; start the bus unless someone else drives it."""
        self.bind(asyncio.get_running_loop())
        bus = getattr(self.hub, "bus", None)
        if bus is not None and bus.state_name == "STOPPED":
            # In a thread: start listeners block, and the mounts' lifespans need this loop free.
            await asyncio.to_thread(bus.start)
            self._started_bus = True

    async def shutdown(self) -> None:
        """Lifespan shutdown: stop the bus if the lifespan started it."""
        if self._started_bus:
            self._started_bus = False
            bus = getattr(self.hub, "bus", None)
            if bus is not None:
                await asyncio.to_thread(bus.stop)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            phase = str(message.get("type", "")).removeprefix("lifespan.")
            if phase not in ("startup", "shutdown"):
                continue
            try:
                await (self.startup() if phase == "startup" else self.shutdown())
            except Exception as exc:  # noqa: BLE001 - reported to the server in one line
                detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
                await send({"type": f"lifespan.{phase}.failed", "message": detail})
                return
            await send({"type": f"lifespan.{phase}.complete"})
            if phase == "shutdown":
                return

    def __repr__(self) -> str:
        return f"<ASGIHub {self.hub!r}>"


#: Request headers a proxy sets (the ``x-forwarded-`` family is matched by prefix).
_OTHER_PROXY_HEADERS = (b"forwarded", b"x-real-ip")


def _is_forwarded(name: bytes) -> bool:
    return name[:12] == b"x-forwarded-" or name in _OTHER_PROXY_HEADERS


def _no_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI app of the access log native requests use (only its ``log_request`` is called)."""
    raise RuntimeError("the native access log is not a WSGI middleware")


_new_slot: Any = object.__new__
_new_send: Any = object.__new__

#: Request header names that may be a proxy's: checked exactly (:func:`_is_forwarded`) when one is there.
_PROXY_PREFIXES = (b"x-forwarded-", b"forwarded", b"x-real-ip")


class _FrontSend:
    """The ``send`` a native app gets under the front layers: adds the ID header, counts for the log.

    A plain call returning the server's awaitable (no coroutine of its own);
    the ID header is added to ``http.response.start`` and ``websocket.accept``
    unless the app set it.  It also carries what :meth:`NativeFront.end`
    needs: the ID's context token, the status and the body bytes sent.
    """

    __slots__ = ("header", "key", "send", "sent", "started", "status", "token")

    def __init__(self, send: Send, key: bytes | None, header: tuple[bytes, bytes] | None) -> None:
        self.send, self.key, self.header = send, key, header
        self.token: Token[str] | None = None
        self.status: int | None = None
        self.sent = 0
        self.started = 0.0

    def __call__(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "http.response.body":
            self.sent += len(message.get("body", b""))
        elif kind == "http.response.start" or kind == "websocket.accept":
            self.status = message.get("status", 101)
            key = self.key
            if key is not None:
                headers = message.get("headers") or ()
                size = len(key)
                for name, _value in headers:
                    if len(name) == size and name.lower() == key:
                        break
                else:
                    message = {**message, "headers": [*headers, self.header]}
        elif kind == "websocket.close" and self.status is None:
            self.status = 403  # refused before accepting: the server answers 403
        return self.send(message)


class NativeFront:
    """The front layers of ``wsgihub serve`` for requests the hub serves natively (ASGI mounts).

    What :func:`wsgihub.servers.front.front` does for the WSGI side, with the
    same options and rules, done on the ASGI scope and messages:

    - **forwarded headers** (``--forwarded-allow-ips``, :mod:`wsgihub.proxy`):
      from a trusted peer, ``X-Forwarded-*`` / ``Forwarded`` set the scope's
      ``client``, ``scheme``, ``server`` and ``host`` header, and an
      ``X-Forwarded-Prefix`` goes in front of ``root_path`` and ``path``;
      from any other peer every forwarded header is removed from the scope
      before the app sees it;
    - **request ID** (``--request-id-header``, :mod:`wsgihub.requestid`): kept
      from the request when well-formed, else made; in the scope as
      ``scope["wsgihub.request_id"]`` (and in the environ ``url_for`` reads), on
      every log record while the app runs, and in the response's header
      (HTTP, and the websocket handshake's ``websocket.accept``) unless the app
      set it.

    - **access log** (``--access-log``, a configured ``wsgihub.access``
      logger): the same line as a WSGI request's
      (:meth:`wsgihub.accesslog.AccessLog.log_request`: time, method, path,
      status, bytes, duration, mount, endpoint, request ID, client), written
      when the app returned (a websocket: when it closed, status 101).

    Off layers cost nothing; with the defaults (no
    proxy trusted, request IDs on) a request costs one pass over its headers,
    an ID, and a wrapper around ``send``.
    """

    __slots__ = ("header", "header_bytes", "header_key", "log", "trusted", "trusting")

    def __init__(self, options: Any) -> None:
        header = getattr(options, "request_id_header", DEFAULT_REQUEST_ID_HEADER)
        #: The request-ID header (``None``: no request IDs).
        self.header: str | None = header or None
        self.header_key = self.header.lower().encode("latin-1") if self.header else None
        self.header_bytes = self.header.encode("latin-1") if self.header else b""
        allow_ips = getattr(options, "forwarded_allow_ips", None) or DEFAULT_FORWARDED_ALLOW_IPS
        self.trusted = TrustedProxies(allow_ips)
        self.trusting = bool(self.trusted)
        if self.header is not None:
            install_record_factory()
        #: The access log (``--access-log``, or a configured ``wsgihub.access`` logger), else ``None``.
        self.log: AccessLog | None = None
        if getattr(options, "access_log", None) or access_log_configured():
            self.log = AccessLog(_no_app, log_format=getattr(options, "log_format", None) or "text")

    def begin(self, scope: Scope, root: str, send: Send) -> tuple[str, Send, _FrontSend | None]:
        """Apply the front layers to ``scope`` before the app runs: ``(root, send, request)``.

        ``root`` gains a trusted proxy's prefix; ``send`` is the one the app
        gets; :meth:`end` takes ``request`` once the app returned.  Plain
        calls, no coroutine: what every request pays.
        """
        key = self.header_key
        incoming: bytes | None = None
        forwarded = False
        for name, value in scope["headers"]:
            if name == key:
                incoming = value
            elif name.startswith(_PROXY_PREFIXES):
                forwarded = True
        if forwarded:
            root = self._forward(scope, root)
        if key is None and self.log is None:
            return root, send, None
        request = _new_send(_FrontSend)  # (no __init__ call: see __call__)
        request.send = send
        request.key = key
        request.status = None
        request.sent = 0
        if key is not None:
            request_id = incoming.decode("latin-1") if incoming is not None else None
            if request_id is None or not is_valid_request_id(request_id):
                request_id = new_request_id()
            scope[REQUEST_ID_KEY] = request_id
            request.header = (self.header_bytes, request_id.encode("latin-1"))
            request.token = set_request_id(request_id)
        else:
            request.token = None
        request.started = perf_counter() if self.log is not None else 0.0
        return root, request, request

    def end(self, request: _FrontSend | None, scope: Scope, peg: Peg) -> None:
        """The app returned: write the access-log line (if on), end the request ID's context."""
        if request is None:
            return
        log = self.log
        if log is not None:
            client = scope.get("client")
            root_path = scope.get("root_path", "")
            path = scope["path"]
            host = None
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                    break
            log.log_request(
                started=request.started,
                remote_addr=str(client[0]) if client else None,
                method=scope.get("method", "GET"),
                path=path,
                status=request.status if request.status is not None else 500,
                sent=request.sent,
                request_id=scope.get(REQUEST_ID_KEY),
                peg=peg,
                script_name=root_path,
                path_info=path.removeprefix(root_path),
                host=host,
            )
        token = request.token
        if token is not None:
            try:
                reset_request_id(token)
            except ValueError:  # (reset in another context than it was set in)
                set_request_id("-")

    def _forward(self, scope: Scope, root: str) -> str:
        """Apply a trusted proxy's forwarded headers to ``scope``, or remove them; the new root."""
        headers = scope["headers"]
        client = scope.get("client")
        peer = str(client[0]) if client else None
        if not (self.trusting and self.trusted.trusts(peer)):
            scope["headers"] = [(n, v) for n, v in headers if not _is_forwarded(n)]
            return root
        environ: dict[str, Any] = {"REMOTE_ADDR": peer}
        for name, value in headers:
            if _is_forwarded(name):
                wsgi_key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
                text = value.decode("latin-1")
                environ[wsgi_key] = f"{environ[wsgi_key]},{text}" if wsgi_key in environ else text
        found = resolve_forwarding(environ, self.trusted)
        if found is None:
            scope["headers"] = [(n, v) for n, v in headers if not _is_forwarded(n)]
            return root
        # one kind of header per proxy: drop the kind that was not read (as wsgihub.proxy does)
        if "HTTP_X_FORWARDED_FOR" in environ:
            dropped: tuple[bytes, ...] = (b"forwarded",)
        elif "HTTP_FORWARDED" in environ:
            dropped = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")
        else:
            dropped = ()
        kept = [(n, v) for n, v in headers if n not in dropped]
        if found.client is not None:
            port = int(found.client_port) if found.client_port else 0
            scope["client"] = (found.client, port)
        if found.scheme is not None:
            websocket = scope["type"] == "websocket"
            scope["scheme"] = ("wss" if websocket else "https") if found.scheme == "https" else ("ws" if websocket else "http")
        if found.host is not None:
            kept = [(n, v) for n, v in kept if n != b"host"]
            kept.append((b"host", found.host.encode("latin-1")))
            parsed = parse_host(found.host)
            if parsed is not None:
                default = 443 if scope.get("scheme") in ("https", "wss") else 80
                scope["server"] = (parsed[0].strip("[]"), parsed[1] or default)
        scope["headers"] = kept
        if found.prefix is not None:
            prefix = found.prefix
            scope["path"] = prefix + scope["path"]
            raw = scope.get("raw_path")
            if raw is not None:
                scope["raw_path"] = prefix.encode("latin-1") + raw
            root = prefix + root
        return root


class _ClientGone(Exception):
    """The server stopped taking the response (disconnect, cancelled task): the app's iteration ends."""


class _Response:
    """A WSGI response made in a pool thread and sent by the event loop (see :meth:`ASGIHub.serve_wsgi`)."""

    __slots__ = ("gone", "loop", "queue", "room", "started", "status")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[list[Message] | None] = asyncio.Queue()
        self.room = threading.Semaphore(_SEND_QUEUE)
        self.gone = False
        self.started = False
        self.status: Message | None = None

    # -- in the app's thread ------------------------------------------------------------------
    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [(n.strip().encode("latin-1").lower(), v.strip().encode("latin-1")) for n, v in headers],
        }
        return self.write

    def write(self, data: bytes) -> None:
        self._put([{"type": "http.response.body", "body": data, "more_body": True}])

    def _put(self, batch: list[Message]) -> None:
        if not self.started:
            if self.status is None:
                raise RuntimeError("the WSGI app sent a body before calling start_response")
            self.started = True
            batch.insert(0, self.status)
        self.room.acquire()
        if self.gone:
            raise _ClientGone
        self.loop.call_soon_threadsafe(self.queue.put_nowait, batch)

    def run(self, app: WSGIApplication, environ: Environ) -> None:
        try:
            body = app(environ, self.start_response)
            try:
                if isinstance(body, (list, tuple)):  # the whole body is there: one batch
                    chunks = [c for c in body if c]
                    batch: list[Message] = [
                        {"type": "http.response.body", "body": c, "more_body": True} for c in chunks[:-1]
                    ]
                    batch.append({"type": "http.response.body", "body": chunks[-1] if chunks else b"", "more_body": False})
                    self._put(batch)
                else:
                    for chunk in body:
                        if chunk:
                            self._put([{"type": "http.response.body", "body": chunk, "more_body": True}])
                    self._put([{"type": "http.response.body", "body": b"", "more_body": False}])
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except _ClientGone:
            pass
        finally:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, None)

    # -- on the loop ----------------------------------------------------------------------------
    def abandon(self) -> None:
        """The response will not be sent on: let the app's thread end at its next chunk."""
        self.gone = True
        for _ in range(_SEND_QUEUE + 1):
            self.room.release()


class ThreadPool(Executor):
    """At most ``size`` daemon threads running submitted calls in order (made as needed).

    :class:`concurrent.futures.ThreadPoolExecutor` joins its threads at
    interpreter exit, so one WSGI request stuck past the drain timeout would
    keep a stopped server's process alive; these threads end with the process.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a thread pool needs at least one thread, not {size}")
        self.size = size
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in a pool thread; its :class:`~concurrent.futures.Future`."""
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        future: Future[Any] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a thread pool that was shut down")
            self._work.put((future, fn, args))
            if self._idle == 0 and len(self._threads) < self.size:
                thread = threading.Thread(target=self._run, name=f"wsgihub-wsgi-{len(self._threads) + 1}", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1 if self._idle else 0
        return future

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del item, future, fn, args
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the threads end once the queued work is done (``wait``: join them)."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()


def _asgi_of(peg: Peg) -> Any:
    """The ASGI callable of ``peg``'s app (its adapter's ``asgi``), or ``None`` for a WSGI app."""
    return getattr(peg.adapter, "asgi", None) if peg.adapter is not None else None


class _Rooted:
    """A WSGI app that is told the ``SCRIPT_NAME`` in front of the hub (for the request slot)."""

    __slots__ = ("app", "root")

    def __init__(self, app: WSGIApplication, root: str) -> None:
        self.app, self.root = app, root

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgihub.asgi.root"] = self.root
        return self.app(environ, start_response)


class _NativeSlot(_current.Slot):
    """The request slot of a native ASGI request: its environ is made when first asked for.

    ``wsgihub.url_for``, ``find_hub`` and the adapters read the current
    request as ``(hub, environ, root)``; most requests never ask, so the
    WSGI-style environ (:func:`_environ`) is built on the first read of
    :attr:`request`, not for every request.
    """

    __slots__ = ("_made",)

    def __init__(self, hub: Any, scope: Scope, script_name: str, peg: Peg, root: str) -> None:
        self.owner = get_ident()
        #: What the environ is made from, until it is (then ``None``).
        self._made: tuple[Any, Scope, str, Peg, str] | None = (hub, scope, script_name, peg, root)

    @property
    def request(self) -> _current.Request | None:
        """``(hub, environ, root)`` of the request (the environ made now if not yet)."""
        made = self._made
        if made is not None:
            hub, scope, script_name, peg, root = made
            _SLOT_REQUEST.__set__(self, (hub, _environ(scope, script_name, hub, peg), root))
            self._made = None
        return _SLOT_REQUEST.__get__(self, _NativeSlot)  # type: ignore[no-any-return]

    @request.setter
    def request(self, value: _current.Request | None) -> None:
        self._made = None
        _SLOT_REQUEST.__set__(self, value)


def _environ(scope: Scope, script_name: str, hub: Any, peg: Peg) -> Environ:
    """The WSGI-style view of an ASGI request that ``url_for`` and ``find_hub`` read."""
    host = None
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value.decode("latin-1")
            break
    server = scope.get("server") or ("localhost", 80)
    environ: Environ = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        "SCRIPT_NAME": script_name,
        "PATH_INFO": scope["path"].removeprefix(script_name),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "wsgi.url_scheme": "https" if scope.get("scheme") in ("https", "wss") else "http",
        "wsgihub.hub": hub,
        "pegboard.board": hub,
        "pegboard.peg": peg,
        "asgi.scope": scope,
    }
    if host is not None:
        environ["HTTP_HOST"] = host
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
    request_id = scope.get(REQUEST_ID_KEY)
    if request_id is not None:
        environ[REQUEST_ID_KEY] = request_id
    return environ


def _path_info(environ: Environ, raw_path: bytes) -> None:
    """Set ``PATH_INFO`` from the request's raw path: percent-decoded bytes, latin-1 (PEP 3333).

    ``raw_path`` is the path as sent (the query string not included, the
    server's ``root_path`` in front when it has one, as uvicorn does);
    ``SCRIPT_NAME`` (from ``root_path``) is cut from its front when it is there.
    """
    path = unquote_to_bytes(raw_path.partition(b"?")[0]).decode("latin-1")
    script_name = environ.get("SCRIPT_NAME", "")
    if script_name and path.startswith(script_name) and path[len(script_name) : len(script_name) + 1] in ("", "/"):
        path = path[len(script_name) :]
    environ["PATH_INFO"] = path


def _coroutine(receive: Receive) -> Receive:
    """``receive`` as a coroutine function (a2wsgi's body reader needs one; granian's is a Rust awaitable)."""

    async def coroutine() -> Message:
        return await receive()

    return coroutine


async def _refuse(receive: Receive, send: Send) -> None:
    """Refuse a websocket before accepting it (the server answers ``403``)."""
    message = await receive()
    if message.get("type") == "websocket.connect":
        await send({"type": "websocket.close", "code": 1000})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` once, then what the client sends (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _cascade(
    runners: list[Runner], scope: Scope, receive: Receive, send: Send, root: str, matched: str
) -> None:
    """Run ``runners`` in order until one answers other than 404 (the last one's answer is final)."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
    data = bytes(body)
    for runner in runners[:-1]:
        fell = False
        started = False

        async def sink(message: Message) -> None:
            nonlocal fell, started
            if not started and message["type"] == "http.response.start":
                started = True
                fell = message.get("status") == 404
                if fell:
                    return
            if not fell:
                await send(message)

        await runner(scope, _replay(data, receive), sink, root, matched)
        if not fell:
            return
    await runners[-1](scope, _replay(data, receive), send, root, matched)
