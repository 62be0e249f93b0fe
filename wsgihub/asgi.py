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
  threads, streaming both ways (:class:`wsgihub.asgiwsgi.WSGIResponder`:
  a2wsgi's environ and request body, ``PATH_INFO`` from the raw path as
  PEP 3333 says, the response sent chunk by chunk as the app yields it).
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
the same options and rules (:class:`wsgihub.asgifront.NativeFront`): forwarded headers only
from ``--forwarded-allow-ips`` (removed from the scope for anyone else), the
request ID (kept when well-formed, else made; ``scope["wsgihub.request_id"]``,
log records, the response header, the websocket handshake's too), the
access-log line (same format and keys).  A request for a mount with ASGI
grafts gets them too, once, whichever app answers (:meth:`ASGIHub._fronted`:
its WSGI apps then run without the WSGI front layers).
The health and inspector paths always go to the WSGI side.  ``hub.asgi`` by
itself (``uvicorn site:hub.asgi``) has no front layers on either side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextvars import Token
from threading import get_ident
from typing import TYPE_CHECKING, Any

from . import current as _current
from . import grafts as _grafts
from .asgifront import NativeFront, _IdSend, _reset_id, _set_id
from .asgiwsgi import DEFAULT_WSGI_THREADS, Rooted, ThreadPool, WSGIResponder
from .compose import component_hook
from .requestid import ENVIRON_KEY as REQUEST_ID_KEY
from .types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .board import Peg, Pegboard
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["DEFAULT_WSGI_THREADS", "ASGIHub", "NativeFront", "ThreadPool"]

#: ``runner(scope, receive, send, root, matched)``: serve one request below a mount.
Runner = Callable[[Scope, Receive, Send, str, str], Awaitable[None]]

_PHASES = ("__before__", "__compose__", "cleanup")

#: Paths whose plan :class:`ASGIHub` remembers (then it starts afresh), as the board's own cache.
_ROUTES_CACHE_SIZE = 4096

_slot_var = _current._slot
#: The base class's own storage of ``Slot.request`` (a member descriptor), for :class:`_NativeSlot`.
_SLOT_REQUEST: Any = _current.Slot.__dict__["request"]
_MISSING: Any = object()
#: Scope key: the native front layers ran for this request (the WSGI side must not run its own).
_FRONTED = "wsgihub.asgi.fronted"
#: Scope key: the peg of the app that answered a request to a mount with grafts (the access
#: log names it); absent when the app beneath answered.
_ANSWERED = "wsgihub.asgi.answered"


class _Plan:
    """How requests for one mount (and its grafts) are served when an ASGI app is among them."""

    __slots__ = ("alone", "bridge", "claims", "native", "over", "peg", "websocket")

    def __init__(
        self,
        over: Runner,
        alone: Runner,
        claims: tuple[tuple[Any, Runner, Peg], ...],
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
        self.hub = hub
        self.wsgi: WSGIApplication = wsgi if wsgi is not None else hub
        self.threads = threads
        #: What runs WSGI apps for the WSGI side (a2wsgi is imported here: it is optional).
        self.responder = WSGIResponder(threads)
        #: The responder's bounded thread pool.
        self.pool: ThreadPool = self.responder.pool
        self._serve_wsgi = self.responder.serve
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
                await self._serve_wsgi(self.wsgi, scope, receive, send)
            else:
                await _refuse(receive, send)
            return
        app = plan.native
        if kind == "websocket":
            if plan.websocket is None:
                await _refuse(receive, send)
            elif self.front is not None:
                await self._fronted(plan, app, scope, receive, send, root, matched, rest)
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
            slot = _NativeSlot()
            slot.owner = get_ident()
            slot._made = (self.hub, scope, script_name, plan.peg, root)
            token = _slot_var.set(slot)
            try:
                await app(scope, receive, send)
            finally:
                _slot_var.reset(token)
                if request is not None:
                    if type(request) is _IdSend:  # request ID, no access log: end it here (a call less)
                        try:
                            _reset_id(request.token)
                        except (ValueError, RuntimeError):  # (as NativeFront.end)
                            _set_id("-")
                    else:
                        front.end(request, scope, plan.peg)  # type: ignore[union-attr]
            return
        if self.front is not None:
            await self._fronted(plan, None, scope, receive, send, root, matched, rest)
        elif not plan.claims:
            await plan.over(scope, receive, send, root, matched)
        else:
            await self._dispatch(plan, scope, receive, send, root, matched, rest)

    async def _fronted(
        self, plan: _Plan, app: Any, scope: Scope, receive: Receive, send: Send, root: str, matched: str, rest: str
    ) -> None:
        """Serve a request through the native front layers: a websocket, or a mount with grafts.

        What ``__call__`` does inline for an HTTP request to an ASGI mount
        without grafts.  ``app``: the mount's own ASGI app for a websocket to
        it (else the plan's websocket runner, or the graft dispatch).  Apps
        on the WSGI side of such a request run without the WSGI front layers
        (:meth:`_whole`): these ones are applied once, here.
        """
        front = self.front
        assert front is not None
        new_root, send, request = front.begin(scope, root, send)
        if new_root != root:  # a trusted proxy's prefix: the WSGI side reads root_path
            root = scope["root_path"] = new_root
        scope[_FRONTED] = True
        try:
            if app is not None:
                token = self._enter(plan, scope, root, matched)
                try:
                    await app(scope, receive, send)
                finally:
                    _slot_var.reset(token)
            elif scope["type"] == "websocket":
                assert plan.websocket is not None
                await plan.websocket(scope, receive, send, root, matched)
            elif not plan.claims:
                await plan.over(scope, receive, send, root, matched)
            else:
                await self._dispatch(plan, scope, receive, send, root, matched, rest)
        finally:
            # the log asks the answering app for the endpoint of the path below the mount's prefix
            scope["root_path"] = root + matched if root else matched
            front.end(request, scope, scope.get(_ANSWERED, plan.peg))

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
        return _slot_var.set(_native_slot(self.hub, scope, script_name, plan.peg, root))

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
        claims = tuple((_grafts._claim(g), self._runner(g), g) for g in over.grafts)
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
            token = _slot_var.set(_native_slot(hub, child, script_name, peg, root))
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
            request_id = environ["asgi.scope"].get(REQUEST_ID_KEY)
            if request_id is not None:  # the native front's ID (as the WSGI front gives it)
                environ[REQUEST_ID_KEY] = request_id
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
            await self._serve_wsgi(Rooted(app, root), child, receive, send)

        return run

    async def _whole(self, scope: Scope, receive: Receive, send: Send, root: str, matched: str) -> None:
        """The WSGI side serves the request: in its front layers, unless the native ones ran (:meth:`_fronted`)."""
        if scope.get(_FRONTED):
            await self._serve_wsgi(self._fronted_wsgi, scope, receive, send)
        else:
            await self._serve_wsgi(self.wsgi, scope, receive, send)

    def _fronted_wsgi(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """The hub without the WSGI front layers, for a request the native ones served (its ID in the environ)."""
        request_id = environ["asgi.scope"].get(REQUEST_ID_KEY)
        if request_id is not None:
            environ[REQUEST_ID_KEY] = request_id
        return self.hub(environ, start_response)

    async def serve_wsgi(self, app: WSGIApplication, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the WSGI ``app`` for an HTTP request in the pool, streaming both ways.

        See :meth:`wsgihub.asgiwsgi.WSGIResponder.serve`.
        """
        await self._serve_wsgi(app, scope, receive, send)

    # -- grafts across the line ---------------------------------------------------------------------
    async def _dispatch(
        self, plan: _Plan, scope: Scope, receive: Receive, send: Send, root: str, matched: str, rest: str
    ) -> None:
        """:func:`wsgihub.grafts.dispatch`, for a mount where an ASGI app is among the grafts."""
        path = rest or "/"
        method = scope.get("method", "GET")
        chain: list[tuple[Runner, Peg]] = []
        for claim, runner, peg in plan.claims:
            verdict = claim.test(path, method)
            if verdict:
                if claim.fall_through and method in _grafts.SAFE_METHODS:
                    chain.append((runner, peg))
                    continue
                if not chain:
                    scope[_ANSWERED] = peg
                    await runner(scope, receive, send, root, matched)
                    return
                await _cascade([*chain, (runner, peg)], scope, receive, send, root, matched)
                return
            if verdict is None:
                chain.append((runner, peg))
        if not chain:
            await plan.over(scope, receive, send, root, matched)
            return
        await _cascade([*chain, (plan.alone, plan.peg)], scope, receive, send, root, matched)

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


def _asgi_of(peg: Peg) -> Any:
    """The ASGI callable of ``peg``'s app (its adapter's ``asgi``), or ``None`` for a WSGI app."""
    return getattr(peg.adapter, "asgi", None) if peg.adapter is not None else None


class _NativeSlot(_current.Slot):
    """The request slot of a native ASGI request: its environ is made when first asked for.

    ``wsgihub.url_for``, ``find_hub`` and the adapters read the current
    request as ``(hub, environ, root)``; most requests never ask, so the
    WSGI-style environ (:func:`_environ`) is built on the first read of
    :attr:`request`, not for every request.  Made by :func:`_native_slot`
    (or written out where every request pays): a call of the class runs no
    Python ``__init__``, ~0.3k instructions less than ``object.__new__(cls)``.
    """

    __slots__ = ("_made",)

    #: What the environ is made from, until it is (then ``None``).
    _made: tuple[Any, Scope, str, Peg, str] | None

    __init__ = object.__init__  # (the C one: see the class docs)

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


def _native_slot(hub: Any, scope: Scope, script_name: str, peg: Peg, root: str) -> _NativeSlot:
    """The slot of a native request served by this thread (its environ made when first asked for)."""
    slot: _NativeSlot = _NativeSlot()
    slot.owner = get_ident()
    slot._made = (hub, scope, script_name, peg, root)
    return slot


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
    runners: list[tuple[Runner, Peg]], scope: Scope, receive: Receive, send: Send, root: str, matched: str
) -> None:
    """Run ``runners`` in order until one answers other than 404 (the last one's answer is final).

    The peg of the one that answers goes in the scope (:data:`_ANSWERED`, for the access log).
    """
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
    data = bytes(body)
    for runner, peg in runners[:-1]:
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
            scope[_ANSWERED] = peg
            return
    last, scope[_ANSWERED] = runners[-1]
    await last(scope, _replay(data, receive), send, root, matched)
