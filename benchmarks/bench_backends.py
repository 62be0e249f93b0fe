"""One app per process, for the proxy setup of ``benchmarks/http.py`` (nginx in front).

Each factory imports only its own framework, so a backend process holds what
it would hold in a real split deployment (``bench_apps`` imports all three).
Served with ``waitress-serve --call`` or gunicorn's ``module:factory()``.
"""

from __future__ import annotations

from typing import Any

BODY = "Hello, World!"


def django() -> Any:
    """A one-view Django project (settings in code, URL conf here), ``/hello/``."""
    from django.http import HttpResponse
    from django.urls import path

    from . import minimal_django

    def hello(request: object) -> HttpResponse:
        return HttpResponse(BODY)

    global urlpatterns
    urlpatterns = [path("hello/", hello, name="hello")]
    return minimal_django.configure(__name__)


urlpatterns: list[Any] = []


def flask() -> Any:
    """A one-route Flask app, ``/hello`` (nginx strips ``/new``)."""
    import flask as _flask

    app = _flask.Flask("bench_flask")

    @app.route("/hello")
    def hello() -> str:
        return BODY

    return app


def pyramid() -> Any:
    """A one-route Pyramid app, ``/hello`` (nginx strips ``/api``)."""
    from pyramid.config import Configurator
    from pyramid.response import Response

    def hello(request: object) -> Response:
        return Response(BODY)

    with Configurator() as config:
        config.add_route("hello", "/hello")
        config.add_view(hello, route_name="hello")
        return config.make_wsgi_app()


#: Threads a2wsgi runs the WSGI app in, per ASGI backend (the hub's --threads in the same run).
ASGI_THREADS = 8


def asgi(name: str, threads: int = ASGI_THREADS) -> Any:
    """App ``name`` (``django``, ``flask``, ``pyramid``) as ASGI, for a uvicorn backend.

    The like-for-like peer of the hub under uvicorn: a2wsgi's
    ``WSGIMiddleware`` runs the WSGI app in a pool of ``threads`` threads, as
    ``hub.asgi`` runs its WSGI mounts (with a2wsgi's environ too).  Served as
    gunicorn's ``benchmarks.bench_backends:asgi('flask')`` with
    ``-k uvicorn_worker.UvicornWorker``.
    """
    from a2wsgi import WSGIMiddleware

    factories = {"django": django, "flask": flask, "pyramid": pyramid}
    return WSGIMiddleware(factories[name](), workers=threads)
