"""The Hub: a pegboard whose apps know each other.

::

    import wsgihub
    hub = wsgihub.Hub(trusted_hosts=["example.com"])
    hub.mount("/", legacy_django_app, name="legacy")
    hub.mount("/new", flask_app)                       # name "new"
    hub.graft(reports_app, over="legacy")              # same URL space, route-aware
    hub.url_for("new:user", uid=5)                     # '/new/users/5'
    application = hub                                  # any WSGI server

On top of the board the hub adds: an adapter per mount (found by the
``wsgihub_adapter`` hook), a partyline every mount joins when it is hung,
URL building across apps, route listing, the framework's request context
on demand, grafts, wsgi_party invitations, checks that warn about
surprises, and a process bus whose transitions reach every plugin and peg.

This module wires those together; each concern lives in its own module:
dispatch and pegs in :mod:`wsgihub.board`, phases and composition in
:mod:`wsgihub.compose`, grafts in :mod:`wsgihub.grafts`, origins, host trust
and URL building in :mod:`wsgihub.urls`, the wsgi_party invitation in
:mod:`wsgihub.invitation`, the current request in :mod:`wsgihub.current`,
checks in :mod:`wsgihub.checks`.
"""

from __future__ import annotations

import importlib.util
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from . import adapter as _adapter
from . import checks as _checks
from . import current as _current
from . import grafts as _grafts
from .board import Peg, PegboardApplication, default_name, normalize_prefix
from .current import current_hub, url_for  # the current-request API, importable from here as before
from .errors import (
    ConfigError,
    InviteError,
    MountError,
    MountWarning,
    NoAdapterError,
    UntrustedHostError,
    WsgihubError,
)
from .invitation import guard, invitation_environ, send_invitation
from .partyline import Partyline
from .plugins import Plugins, make_plugins
from .urls import (
    HostTrust,
    Origin,
    build_url,
    parse_public_url,
    refuse_untrusted_host,
    request_host,
    request_origin,
)
from .wsgi import blank_environ

if TYPE_CHECKING:
    from .asgi import ASGIHub
    from .bus import Bus
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["Hub", "Route", "current_hub", "url_for"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Route:
    """One route of the site, as ``wsgihub routes`` lists it.

    ``rule`` is the full external rule (mount prefix applied); ``endpoint``
    is the framework's endpoint name, to be written ``mount:endpoint``;
    ``methods`` is ``None`` where the framework does not restrict methods;
    ``grafted`` marks the routes of a grafted app.
    """

    mount: str
    endpoint: str | None
    rule: str
    methods: frozenset[str] | None
    framework: str | None
    grafted: bool = False

    @property
    def name(self) -> str:
        """``mount:endpoint``, the name ``url_for`` takes (``mount`` alone if none)."""
        return f"{self.mount}:{self.endpoint}" if self.endpoint is not None else self.mount


class Hub(PegboardApplication):
    """A WSGI application that runs many apps as one site.

    ``trusted_hosts``: a list of Host values absolute URLs may use (``example.com``,
    ``.example.com`` for it and its subdomains, ``[::1]``, ``*`` for any host that
    parses; a bare string is refused).  ``public_url``: the site's canonical
    ``scheme://host[:port][/path]``, used for absolute URLs outside requests or
    from untrusted hosts, and as a trusted host itself.  Both are parsed strictly
    (:mod:`wsgihub.urls`; docs/security.md).
    ``plugins``: a :class:`~wsgihub.plugins.Plugins` manager (default:
    :func:`~wsgihub.plugins.make_plugins`).
    """

    def __init__(
        self,
        *,
        trusted_hosts: Iterable[str] = (),
        public_url: str | None = None,
        plugins: Plugins | None = None,
        ignore_missing_services: bool = False,
        name: str = "wsgihub",
        silence: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.name = name
        #: Finding ids (``W010``...) that :meth:`findings`, :meth:`check` and the
        #: warnings at mount time leave out (the site file's ``silence`` key).
        self.silence: frozenset[str] = _silence(silence)
        self.plugins = plugins if plugins is not None else make_plugins()
        #: The parsed ``public_url`` (``None`` if not set): where absolute URLs
        #: point outside requests and for requests from untrusted hosts.
        self.public_origin: Origin | None = parse_public_url(public_url) if public_url else None
        self.public_url = public_url
        #: The one place that decides which Host values absolute URLs may use.
        self.hosts = HostTrust(trusted_hosts, self.public_origin)
        self.trusted_hosts: tuple[str, ...] = self.hosts.trusted
        hook = self.plugins.hook
        self.partyline = Partyline(
            ignore_missing_services,
            on_connect=hook.wsgihub_connect,
            on_ask=hook.wsgihub_ask_around,
            # most of an ask's cost is a hook call nobody implements: skip it then
            ask_observed=partial(self.plugins.has_observers, "wsgihub_ask_around"),
        )
        self._bus: Bus | None = None

    # -- WSGI -------------------------------------------------------------------
    def _handle(self, peg: Peg, environ: Environ, start_response: StartResponse, root: str) -> Iterable[bytes]:
        """Run a request the board resolved, recording it for ``wsgihub.url_for`` and ``find_hub``."""
        environ["wsgihub.hub"] = self
        slot = _current.slot()
        outer = slot.request
        slot.request = (self, environ, root)
        try:
            return peg.handler(environ, start_response)
        except UntrustedHostError as error:  # the client's Host, not the site, is at fault
            return refuse_untrusted_host(environ, start_response, error)
        finally:
            slot.request = outer

    # -- mounting -------------------------------------------------------------------
    def mount(  # type: ignore[override]
        self,
        prefix: str,
        app: WSGIApplication,
        name: str | None = None,
        *,
        framework: str | None = None,
        invite_path: str | None = None,
    ) -> Peg:
        """Hang ``app`` at ``prefix`` and invite it to the partyline; return its peg.

        ``name`` defaults from the prefix (``/new`` -> ``new``, ``/`` ->
        ``root``).  ``framework`` forces an adapter for apps it cannot see
        through.  ``invite_path`` sends the app a wsgi_party invitation
        request there (and answers 404 to outside requests for it).  A
        dispatcher (``DispatcherMiddleware``...) is read as more mounts.
        """
        if framework is None:
            mount = name if name is not None else default_name(normalize_prefix(prefix, name))
            expanded = self._inspect(mount, app, lambda: self.plugins.submounts(app, self._layers(app)))
            if expanded is not None:
                return self._mount_tree(prefix, name, *expanded)
        return super().mount(prefix, app, name, framework=framework, invite_path=invite_path)

    def _mount_tree(
        self, prefix: str, name: str | None, root_app: WSGIApplication, subs: Any
    ) -> Peg:
        base = normalize_prefix(prefix, name)
        peg = self.mount(base, root_app, name)
        done = [peg]
        try:
            for sub, app in subs.items():
                full = base + normalize_prefix(sub, name)
                sub_name = f"{peg.name}.{default_name(normalize_prefix(sub))}"
                done.append(self.mount(full, app, sub_name))
        except BaseException:
            for mounted in reversed(done):
                self.unmount(mounted)
            raise
        return peg

    def graft(  # type: ignore[override]
        self,
        app: WSGIApplication,
        over: str | Peg,
        name: str | None = None,
        *,
        framework: str | None = None,
        only: Iterable[str] | str | None = None,
        exclude: Iterable[str] | str | None = None,
        fall_through: bool = True,
    ) -> Peg:
        """Put ``app`` into the URL space of the mount ``over``.

        A request whose path and method match a route of ``app`` goes to it;
        every other request goes to the app beneath.  With ``fall_through``
        (the default) a 404 from ``app`` to a GET or HEAD request falls
        through to the app beneath; any other request runs in one app only.
        ``only`` / ``exclude`` (endpoint names or fnmatch globs, ``blog.*``)
        restrict the routes the graft takes: the others go beneath.  When
        the hub cannot read ``app``'s routes, ``app`` is tried first for GET
        and HEAD and a 404 from it falls through (a cascade); other methods
        go beneath.  See :mod:`wsgihub.grafts`.
        """
        return super().graft(
            app, over, name, framework=framework, only=only, exclude=exclude, fall_through=fall_through
        )

    def _layers(self, app: object) -> tuple[object, ...]:
        return _adapter.layers(app, self.plugins.hook.wsgihub_unwrap)

    @staticmethod
    def _inspect(mount: str, app: object, look: Callable[[], _T]) -> _T:
        """Run ``look`` (reading ``app``'s layers, finding its adapter) with errors named.

        An app whose attributes raise (``flask.current_app`` outside an app
        context, a broken proxy) gets one line naming the mount instead of
        a traceback from inside the detection; wsgihub's own errors pass as they are.
        """
        try:
            return look()
        except WsgihubError:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise MountError(
                f"mount {mount!r}: looking into {type(app).__name__} raised {type(exc).__name__}: {first}", mount
            ) from exc

    def _attach(self, peg: Peg, **options: Any) -> None:
        framework: str | None = options.pop("framework", None)
        invite_path: str | None = options.pop("invite_path", None)
        if peg.over is not None:
            peg.sharing = _grafts.sharing(
                peg.name, options.pop("only", None), options.pop("exclude", None), options.pop("fall_through", True)
            )
        super()._attach(peg, **options)
        adapter = self._inspect(
            peg.name, peg.app, lambda: self.plugins.adapter(peg.app, self._layers(peg.app), framework)
        )
        if adapter is None and framework is not None:
            raise MountError(f"mount {peg.name!r}: no installed adapter handles framework {framework!r}", peg.name)
        if adapter is None and _is_async_callable(peg.app):
            raise MountError(_bare_asgi_message(peg.name, peg.app), peg.name)
        peg.adapter = adapter
        peg.framework = adapter.framework if adapter is not None else None
        if adapter is not None and adapter.wsgi is not peg.app:
            peg.app = adapter.wsgi  # an app that is not WSGI (ASGI) is served through its adapter's bridge
        if invite_path is not None:
            if not isinstance(invite_path, str) or not invite_path.strip("/."):
                raise MountError(f"mount {peg.name!r}: invite_path {invite_path!r} must name a route below the mount", peg.name)
            peg.invite_path = invite_path if invite_path.startswith("/") else "/" + invite_path
        peg.operator = self.partyline.operator(peg.name)
        try:
            if adapter is not None:
                adapter.peg = peg  # the adapter knows its mount before mounted() runs
                adapter.mounted(self, peg)
            self.plugins.invite(self, peg, peg.operator)
            if peg.invite_path is not None:
                self.send_invitation(peg)
        except BaseException:
            self._detach(peg)
            raise
        for problem in self._problems_of(peg):
            warnings.warn(problem, MountWarning, stacklevel=4)

    def _detach(self, peg: Peg) -> None:
        operator = peg.operator
        if operator is not None:
            for service, handlers in list(self.partyline.handlers.items()):
                for handler in handlers:
                    if handler in operator.handlers:
                        self.partyline.disconnect(service, handler)
            operator.handlers.clear()
        if peg.adapter is not None:
            peg.adapter.unmounted(self, peg)

    def _target(self, peg: Peg) -> WSGIApplication:
        target = super()._target(peg)
        if peg.invite_path is not None:
            target = guard(peg.invite_path, target)
        return target

    # -- wsgi_party invitations --------------------------------------------------------
    def send_invitation(self, peg: Peg | str) -> None:
        """Send ``peg``'s app a wsgi_party invitation request at its ``invite_path``.

        The request carries the app's partyline operator in
        ``environ["partyline"]``; an answer outside 2xx raises
        :class:`~wsgihub.errors.InviteError` naming the mount.
        """
        peg = peg if isinstance(peg, Peg) else self.peg(peg)
        if peg.invite_path is None or peg.operator is None:
            raise InviteError(f"mount {peg.name!r} has no invite_path", peg.name)
        like = self._blank_environ(peg, "/")
        host = like["HTTP_HOST"]
        if self.public_origin is None and not self.host_is_trusted(host):
            # a host the hub trusts, so the adapters' checks by the hub's trust let it through
            # (wsgihub.urls.HostCheck in front of Flask and Werkzeug mounts, Pyramid's guard)
            own = (h.lstrip(".") for h in self.trusted_hosts if h != "*" and not h.startswith("["))
            host = next(own, host)
        environ = invitation_environ(
            peg.invite_path,
            peg.operator,
            mount=peg.name,
            scheme=like["wsgi.url_scheme"],
            host=host,
            script_name=like["SCRIPT_NAME"],
        )
        send_invitation(peg, environ)

    # -- URLs ---------------------------------------------------------------------------
    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _external: bool = False,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        **values: Any,
    ) -> str:
        """The URL of ``mount:endpoint`` with ``values``, mount prefix applied.

        Relative (``/new/users/5``) by default; ``_external=True`` adds the
        scheme and a trusted host (the request's, or ``public_url``'s).
        ``_anchor`` appends a fragment, ``_method`` picks among routes by
        method, ``_scheme`` forces the scheme of an absolute URL.  Values
        the route does not take become query arguments where the framework
        does that.
        """
        return build_url(
            self, endpoint, values, external=_external, anchor=_anchor, method=_method, scheme=_scheme
        )

    def origin(self, environ: Environ | None = None) -> Origin:
        """Scheme, host and root for absolute URLs in ``environ`` (default: the current request).

        The request's own when its Host is trusted (``trusted_hosts`` or
        ``public_url``'s host), else :attr:`public_origin`; raises
        :class:`~wsgihub.errors.UntrustedHostError` when neither applies.
        Adapters use it instead of re-parsing ``public_url``.
        """
        return request_origin(self, environ)

    def host_is_trusted(self, host: str | None) -> bool:
        """Whether an absolute URL may use this ``Host`` header value (see :mod:`wsgihub.urls`)."""
        return self.hosts.allows(host)

    # -- routes -----------------------------------------------------------------------
    def routes(self, mount: str | None = None) -> list[Route]:
        """Every route of the site (or of one mount), mount prefixes applied.

        A mount without an adapter is listed as one catch-all route; asking
        for such a mount by name raises :class:`~wsgihub.errors.NoAdapterError`.
        """
        pegs = [self.peg(mount)] if mount is not None else self.pegs()
        out: list[Route] = []
        for peg in pegs:
            if peg.adapter is None:
                if mount is not None:
                    raise NoAdapterError(f"mount {peg.name!r} has no adapter: its routes cannot be read", peg.name)
                out.append(Route(peg.name, None, (peg.prefix or "") + "/<path:rest>", None, None, peg.over is not None))
                continue
            for r in peg.adapter.routes():
                rule = r.rule if r.rule.startswith("/") else "/" + r.rule
                out.append(Route(peg.name, r.endpoint, peg.prefix + rule, r.methods, peg.framework, peg.over is not None))
        return out

    # -- running code in an app ------------------------------------------------------------
    @contextmanager
    def request_context(self, mount: str, environ: Environ | None = None, path: str = "/") -> Iterator[Any]:
        """Run code inside ``mount``'s framework request context.

        ``environ`` (default: a blank GET for ``path``, on the current
        request's host or ``public_url``; a partial one is completed from
        that) is copied and given the mount's ``SCRIPT_NAME``; the framework's own helpers (``flask.session``,
        ``request.user``, Pyramid's ``request``) work inside the block, and
        ``wsgihub.url_for`` finds this hub.  Enters as the framework's
        request object.
        """
        peg = self.peg(mount)
        if peg.adapter is None:
            raise NoAdapterError(f"mount {peg.name!r} has no adapter: no request context to enter", peg.name)
        current = _current.get()
        root = current[2] if current is not None and current[0] is self else (self.public_origin.root if self.public_origin else "")
        env = self._blank_environ(peg, path, current[1] if current is not None else None)
        if environ is not None:
            env.update(environ)  # a partial environ ({"HTTP_COOKIE": ...}) is completed
            env["SCRIPT_NAME"] = root + peg.prefix
            if environ.get("pegboard.peg") is not peg:
                env["PATH_INFO"] = path
        env["pegboard.board"] = env["wsgihub.hub"] = self
        env["pegboard.peg"] = peg
        slot = _current.slot()
        outer = slot.request
        slot.request = (self, env, root)
        try:
            with peg.adapter.request_context(env) as request:
                yield request
        finally:
            slot.request = outer

    def _blank_environ(self, peg: Peg, path: str, like: Environ | None = None) -> Environ:
        """A minimal GET environ for ``path`` below ``peg`` (host from ``like`` or public_url)."""
        if like is not None:
            scheme = like.get("wsgi.url_scheme", "http")
            host = request_host(like)
            current = _current.get()
            root = current[2] if current is not None else ""
        elif self.public_origin is not None:
            scheme, host, root = self.public_origin.scheme, self.public_origin.host, self.public_origin.root
        else:
            scheme, host, root = "http", "localhost", ""
        return blank_environ(path, scheme=scheme, host=host, script_name=root + peg.prefix)

    # -- checks ----------------------------------------------------------------------
    def findings(self) -> list[_checks.Finding]:
        """Every finding of the site (:class:`wsgihub.checks.Finding`), silenced ids left out.

        Shadowed routes, cookie collisions, adapters' own findings, and each
        route a graft takes (``wsgihub check --json`` prints these).
        """
        return [f for f in _checks.site_findings(self) if f.id not in self.silence]

    def check(self) -> list[str]:
        """The messages of :meth:`findings` at warning level or above (one line each)."""
        return [f.message for f in self.findings() if _checks.level_at_least(f.level, "warning")]

    def graft_report(self, graft: str | None = None) -> list[_grafts.GraftReport]:
        """The migration report: for each graft (or the one named), what it takes, adds and leaves."""
        pegs = [self.peg(graft)] if graft is not None else [p for p in self.pegs() if p.over is not None]
        return [_grafts.report(peg) for peg in pegs]

    def _problems_of(self, peg: Peg) -> list[str]:
        """Problems that involve ``peg`` (the hub warns about them when it is mounted)."""
        return [f.message for f in _checks.mount_findings(self, peg) if f.id not in self.silence]

    # -- ASGI ------------------------------------------------------------------------------
    @property
    def asgi(self) -> ASGIHub:
        """The hub as an ASGI application (:class:`wsgihub.asgi.ASGIHub`): ``uvicorn site:hub.asgi``.

        ASGI mounts are called natively (HTTP, websockets, lifespan), WSGI
        mounts run in a bounded thread pool; made on first use (needs a2wsgi).
        """
        found: ASGIHub | None = self.__dict__.get("_asgi")
        if found is None:
            from .asgi import ASGIHub  # a2wsgi is optional: only an ASGI-served hub needs it

            found = self.__dict__["_asgi"] = ASGIHub(self)
        return found

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def bus(self) -> Bus:
        """The hub's process bus (created on first use).

        Its start, stop, graceful and exit transitions reach every plugin's lifecycle hook and
        set up / tear down every peg.
        """
        if self._bus is None:
            from .bus import Bus

            bus = Bus()
            bus.subscribe("start", self._on_start, priority=40)
            bus.subscribe("stop", self._on_stop, priority=60)
            bus.subscribe("graceful", partial(self.plugins.lifecycle, "graceful", self))
            bus.subscribe("exit", partial(self.plugins.lifecycle, "exit", self))
            self._bus = bus
        return self._bus

    def _on_start(self) -> None:
        self.setup()
        for peg in self.walk_pegs():
            if peg.adapter is not None:
                peg.adapter.start()
        self.plugins.lifecycle("start", self)

    def _on_stop(self) -> None:
        try:
            self.plugins.lifecycle("stop", self)
        finally:
            for peg in self.walk_pegs():
                if peg.adapter is not None:
                    peg.adapter.stop()
            self.teardown()

    def start(self) -> None:
        """Start the bus: set up every peg (parents first), call ``wsgihub_start``."""
        self.bus.start()

    def stop(self) -> None:
        """Stop the bus: call ``wsgihub_stop``, tear every peg down."""
        self.bus.stop()

    @contextmanager
    def running(self) -> Iterator[Hub]:
        """``with hub.running():`` start, and stop however the block ends."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def __repr__(self) -> str:
        return f"<Hub {self.name!r} mounts={list(self._pegs)}>"


def _silence(ids: Iterable[str]) -> frozenset[str]:
    """Finding ids to silence: a list, or a string of ids split at white space or commas."""
    if isinstance(ids, str):
        ids = ids.replace(",", " ").split()
    try:
        found = frozenset(str(i).strip().upper() for i in ids)
    except TypeError:
        raise ConfigError(f"silence: expected finding ids such as W010, not {ids!r}") from None
    return frozenset(i for i in found if i)


def _is_async_callable(app: object) -> bool:
    """Whether calling ``app`` gives a coroutine (``async def``): ASGI, never WSGI."""
    if inspect.iscoroutinefunction(app):
        return True
    call = None if inspect.isroutine(app) or isinstance(app, type) else inspect.getattr_static(type(app), "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


def _bare_asgi_message(name: str, app: object) -> str:
    """Why an ASGI app no adapter took is refused, and what to do (one line).

    Served as WSGI it would answer every request 500; a Starlette or FastAPI
    app is bridged by its adapter, a bare ``async def app(scope, receive,
    send)`` has none.
    """
    what = f"mount {name!r}: {getattr(app, '__qualname__', type(app).__name__)!r} is an ASGI application (async), not WSGI"
    if importlib.util.find_spec("wsgihub_starlette") is None:
        return f"{what}: install wsgihub-starlette and mount it as wsgihub_starlette.Bridge(app)"
    return f"{what}, and no adapter takes it: mount wsgihub_starlette.Bridge(app) instead"
