"""The site the bad-input corpus (``tests/test_corpus.py``) serves and calls.

No web framework: a tiny table-routed "framework" (:class:`TableApp`) and
its adapter plugin (:data:`plugin`) give the hub something to build URLs
with, so the hostile-Host rows run in the core environment too.  The site
(:func:`site`) mounts:

``/links``      TableApp; ``GET /links/`` answers the absolute URL the hub
                builds for ``links:item`` (400 ``untrusted host`` when the
                hub refuses the Host), ``/links/go`` redirects to it,
                ``/links/raw`` lets the hub's UntrustedHostError escape
``/a``          echo app (``SCRIPT_NAME`` / ``PATH_INFO`` as JSON), with a
                graft over it that takes ``GET /a/only-graft`` and answers
                404 to ``GET|POST /a/maybe/<x>``
``/b/deeper``   echo app
``/old``        an app with a wsgi_party invite route at ``/__invite__/``
                that, like Werkzeug, collapses ``//`` and resolves dot
                segments before routing
``/body``       reads the request body and answers its length
``/stream``     streams 256 MB and prints ``CLOSED <query>`` when closed; under
                ``/gstream`` the same app is grafted (a cascade primes it)
``/env``        answers what the app sees: client address, scheme, Host, root, header keys
``/cas``        an app with a graft the hub cannot read (a cascade): the graft
                counts its calls and answers 404, the app beneath tells how
                often the graft ran for the same query string
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import urlencode

from wsgihub import Adapter, AppRoute, Hub, hookimpl
from wsgihub.errors import UnknownEndpointError, UntrustedHostError

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

TRUSTED_HOSTS = ("example.com", ".example.org", "localhost", "[::1]")


def _answer(start_response: StartResponse, status: str, body: bytes, *headers: tuple[str, str]) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


class TableApp:
    """A WSGI app whose routes are a table ``endpoint -> (rule, methods)``."""

    def __init__(self, name: str, table: Mapping[str, tuple[str, frozenset[str]]],
                 view: Callable[[str, Environ, StartResponse], Iterable[bytes]]) -> None:
        self.name = name
        self.table = dict(table)
        self.view = view

    def match(self, path: str, method: str) -> str | None:
        for endpoint, (rule, methods) in self.table.items():
            pattern = "^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule) + "$"
            if re.match(pattern, path or "/") and method in methods:
                return endpoint
        return None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        endpoint = self.match(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET"))
        if endpoint is None:
            return _answer(start_response, "404 Not Found", b"not found")
        return self.view(endpoint, environ, start_response)


class TableAdapter(Adapter):
    """The corpus framework's adapter: routes, URL building, matching for grafts."""

    framework = "table"
    app: TableApp

    def routes(self) -> list[AppRoute]:
        return [AppRoute(e, rule, methods) for e, (rule, methods) in self.app.table.items()]

    def build(self, endpoint: str, values: Mapping[str, Any], *, script_name: str, scheme: str,
              host: str | None, method: str | None = None) -> str:
        if endpoint not in self.app.table:
            raise UnknownEndpointError(f"{self.app.name} has no endpoint {endpoint!r}", endpoint)
        rest = dict(values)
        path = re.sub(r"<(\w+)>", lambda m: str(rest.pop(m.group(1))), self.app.table[endpoint][0])
        url = script_name + path + ("?" + urlencode(rest) if rest else "")
        return f"{scheme}://{host}{url}" if host else url

    def match(self, path_info: str, method: str) -> bool:
        return self.app.match(path_info, method) is not None

    def request_context(self, environ: Environ) -> AbstractContextManager[object]:
        return nullcontext()


class _Plugin:
    """The adapter plugin, registered on the corpus hubs by hand (no entry point)."""

    @hookimpl
    def wsgihub_adapter(self, app: object, layers: Iterable[object], framework: str | None) -> Adapter | None:
        if framework not in (None, "table"):
            return None
        for layer in layers:
            if isinstance(layer, TableApp):
                return TableAdapter(layer, app)  # type: ignore[arg-type]
        return None


plugin = _Plugin()

GET = frozenset({"GET", "HEAD"})


def _links_view(endpoint: str, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    hub: Hub = environ["wsgihub.hub"]
    if endpoint == "raw":  # leaves UntrustedHostError to the hub
        url = hub.url_for("links:item", id=1, _external=True)
        return _answer(start_response, "200 OK", url.encode("latin-1"))
    try:
        url = hub.url_for("links:item", id=1, _external=True)
    except UntrustedHostError:
        return _answer(start_response, "400 Bad Request", b"untrusted host")
    if endpoint == "go":
        return _answer(start_response, "302 Found", url.encode("latin-1"), ("Location", url))
    return _answer(start_response, "200 OK", url.encode("latin-1"))


links = TableApp(
    "links",
    {"index": ("/", GET), "go": ("/go", GET), "raw": ("/raw", GET), "item": ("/item/<id>", GET)},
    _links_view,
)

def _graft_view(endpoint: str, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    if endpoint == "maybe":  # the route matches, the object is not there
        return _answer(start_response, "404 Not Found", b"graft 404")
    return _answer(start_response, "200 OK", b"graft")


graft = TableApp(
    "graft",
    {"only": ("/only-graft", GET), "maybe": ("/maybe/<x>", GET | {"POST"})},
    _graft_view,
)


def echo(name: str) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """A plain WSGI app that answers where the request landed, as JSON."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = json.dumps(
            {
                "app": name,
                "method": environ.get("REQUEST_METHOD"),
                "script_name": environ.get("SCRIPT_NAME", ""),
                "path_info": environ.get("PATH_INFO", ""),
            }
        ).encode()
        return _answer(start_response, "200 OK", body)

    return app


def env(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """What an app sees of the request: client address, scheme, host, root and headers."""
    body = json.dumps(
        {
            "remote_addr": environ.get("REMOTE_ADDR"),
            "scheme": environ.get("wsgi.url_scheme"),
            "host": environ.get("HTTP_HOST"),
            "script_name": environ.get("SCRIPT_NAME"),
            "headers": sorted(k for k in environ if k.startswith("HTTP_")),
        },
        sort_keys=True,
    ).encode()
    return _answer(start_response, "200 OK", body)


def old(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """An app with a wsgi_party invite route; routes like Werkzeug (``//`` collapsed)."""
    raw = environ.get("PATH_INFO") or "/"
    path = posixpath.normpath(re.sub("/{2,}", "/", raw))
    if raw.endswith("/") and path != "/":
        path += "/"
    if path == "/__invite__/":
        if "partyline" in environ:
            return _answer(start_response, "200 OK", b"joined")
        return _answer(start_response, "200 OK", b"INVITE-VIEW-RAN")
    if path == "/":
        return _answer(start_response, "200 OK", b"old home")
    return _answer(start_response, "404 Not Found", b"not found")


def body(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Read the whole request body; answer its length."""
    stream = environ["wsgi.input"]
    data = stream.read()
    return _answer(start_response, "200 OK", f"read {len(data)}".encode())


def hub(**options: Any) -> Hub:
    """An empty hub that knows the corpus framework."""
    new = Hub(**options)
    new.plugins.register(plugin, "corpus-table")
    return new


def site() -> Hub:
    """The site ``wsgihub serve corpus_site:site`` runs for the HTTP rows."""
    new = hub(trusted_hosts=TRUSTED_HOSTS)
    new.mount("/links", links)
    new.mount("/a", echo("a"))
    new.graft(graft, over="a", name="g")
    new.mount("/b/deeper", echo("b"))
    new.mount("/old", old, invite_path="/__invite__/")
    new.mount("/body", body)
    new.mount("/stream", stream)
    new.mount("/gstream", echo("gstream"))
    new.graft(stream, over="gstream", name="gstream.stream")  # no adapter: a cascade primes it
    new.mount("/env", env)
    new.mount("/cas", counting_base)
    new.graft(unreadable_graft, over="cas", name="cas.graft")
    return new


def public_site() -> Hub:
    """Like :func:`site` but with a public_url (for ``wsgihub url --external``)."""
    new = hub(public_url="https://example.com/site")
    new.mount("/links", links)
    return new


# -- factories and objects the bad-input rows name ------------------------------------------
def echo_factory(global_conf: Mapping[str, str], name: str = "a") -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """PasteDeploy ``call:`` factory: an echo app."""
    return echo(name)


def echo_app(*, name: str = "a") -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """Pipeline-descriptor factory: an echo app (keyword arguments only)."""
    return echo(name)


def failing_factory(*args: object, **kwargs: object) -> object:
    """A factory whose resource is missing."""
    raise RuntimeError("the database is not there")


def junk_factory(*args: object, **kwargs: object) -> object:
    """A factory that returns something that is not an app."""
    return 42


class _Proxy:
    """Like ``flask.current_app`` outside an app context: every attribute raises."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError("Working outside of application context.")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("Working outside of application context.")


proxy = _Proxy()


def shadowed() -> Hub:
    """A site whose ``/go`` mount shadows the route ``links:go`` (a MountWarning)."""
    new = hub()
    new.mount("/", links, name="links")
    new.mount("/go", echo("go"))
    return new


def crash(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """An app that raises on every request."""
    raise RuntimeError("crash")


class BadBody:
    """A response body whose ``__iter__`` raises; records whether it was closed (PEP 3333)."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        raise RuntimeError("the body's __iter__ raised")

    def close(self) -> None:
        self.closed = True


def slow(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Print ``IN FLIGHT`` (flushed, so a test sees the request arrive), sleep 0.5 s, answer 200."""
    sys.stdout.write(f"IN FLIGHT {os.getpid()}\n")
    sys.stdout.flush()
    time.sleep(0.5)
    return _answer(start_response, "200 OK", b"slept")


def slow_site() -> Hub:
    """``/slow`` (a request in flight for 0.5 s) and ``/a`` (echo)."""
    new = hub()
    new.mount("/slow", slow)
    new.mount("/a", echo("a"))
    return new


class _Stream:
    """A long response body that says when the server closed it (``CLOSED <token>``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(4096):  # 256 MB at most: far more than any server buffers
            yield chunk

    def close(self) -> None:
        sys.stdout.write(f"CLOSED {self.token}\n")
        sys.stdout.flush()


def stream(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Stream until the client goes away; the query string is the token printed on close."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return _Stream(environ.get("QUERY_STRING") or "-")


# -- things given where an app (or an app factory) belongs -------------------------------------
def needs_config(config: object) -> object:
    """A factory that wants an argument: neither an app nor a no-argument factory."""
    raise AssertionError("never called")


def returns_none() -> None:
    """A factory that forgot its ``return``."""


async def asgi_app(scope: object, receive: object, send: object) -> None:
    """An ASGI application, where a WSGI one belongs."""


class OldStyleApp:
    """A class as the WSGI app (PEP 3333 allows it): calling it is the request."""

    def __init__(self, environ: Environ, start_response: StartResponse) -> None:
        start_response("200 OK", [("Content-Type", "text/plain")])

    def __iter__(self) -> Iterator[bytes]:
        return iter([b"old style"])


class AppClass:
    """A class whose instances are WSGI apps: the class is the factory."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return _answer(start_response, "200 OK", b"instance")


# -- a graft the hub cannot read (a cascade), and the app beneath it ------------------------
_graft_runs: dict[str, int] = {}


def unreadable_graft(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """A plain app grafted over ``/cas``: it counts its calls (per query string) and answers 404."""
    token = environ.get("QUERY_STRING", "")
    _graft_runs[token] = _graft_runs.get(token, 0) + 1
    environ["wsgi.input"].read()  # consumes the body: the app beneath must still get all of it
    return _answer(start_response, "404 Not Found", b"graft 404")


def counting_base(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The app beneath: how often the graft ran for this request's query string, the body size it read."""
    runs = _graft_runs.get(environ.get("QUERY_STRING", ""), 0)
    size = len(environ["wsgi.input"].read())
    return _answer(start_response, "200 OK", f"base; graft ran {runs}x; body {size}".encode())
