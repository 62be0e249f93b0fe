"""The apps ``benchmarks/http.py`` serves: one Flask app alone, and a three-framework hub.

* ``flask_app`` answers ``/hello`` (the route every measurement hits).
* ``django_app`` is a one-view Django project configured in this module with
  ``settings.configure()`` (no settings file), mounted at the root.
* ``pyramid_app`` is a one-route Pyramid app, mounted at ``/api``.
* ``make_hub()`` mounts all three: Django at ``/``, Flask at ``/new``, Pyramid at ``/api``;
  the measured URL is ``/new/hello``, the same Flask route behind the hub.
"""

from __future__ import annotations

import django
import flask
from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from pyramid.config import Configurator
from pyramid.response import Response

import wsgihub

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

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()

from django.core.wsgi import get_wsgi_application

django_app = get_wsgi_application()


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
