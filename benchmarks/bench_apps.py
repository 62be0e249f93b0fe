"""The apps ``benchmarks/http.py`` serves: one Flask app alone, and a three-framework hub.

* ``flask_app`` answers ``/hello`` (the route every measurement hits).
* ``django_app`` is a one-view Django project whose URL conf is this module
  (settings in code: :mod:`benchmarks.minimal_django`), mounted at the root.
* ``pyramid_app`` is a one-route Pyramid app, mounted at ``/api``.
* ``make_hub()`` mounts all three: Django at ``/``, Flask at ``/new``, Pyramid at ``/api``;
  the measured URL is ``/new/hello``, the same Flask route behind the hub.
"""

from __future__ import annotations

import flask
from django.http import HttpResponse
from django.urls import path
from pyramid.config import Configurator
from pyramid.response import Response

import wsgihub

from . import minimal_django

BODY = "Hello, World!"

# -- Flask --------------------------------------------------------------------------------
flask_app = flask.Flask("bench_flask")


@flask_app.route("/hello")
def hello() -> str:
    return BODY


# -- Django (settings in this module) ---------------------------------------------------------
def django_hello(request: object) -> HttpResponse:
    return HttpResponse(BODY)


urlpatterns = [path("hello/", django_hello, name="hello")]

django_app = minimal_django.configure(__name__)


# -- Pyramid ----------------------------------------------------------------------------------------
def _pyramid_hello(request: object) -> Response:
    return Response(BODY)


with Configurator() as _config:
    _config.add_route("hello", "/hello")
    _config.add_view(_pyramid_hello, route_name="hello")
    pyramid_app = _config.make_wsgi_app()


# -- the hub ------------------------------------------------------------------------------------------
def make_hub() -> wsgihub.Hub:
    """Django at ``/``, Flask at ``/new``, Pyramid at ``/api``."""
    hub = wsgihub.Hub()
    hub.mount("/", django_app, name="legacy")
    hub.mount("/new", flask_app, name="new")
    hub.mount("/api", pyramid_app, name="api")
    return hub
