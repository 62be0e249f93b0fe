"""The four apps. Each has an ``item`` endpoint and a ``/build`` view that
builds a batch of URLs into the other apps with ``wsgihub.url_for``."""

from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xsite.settings")

import flask
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from pyramid.config import Configurator
from pyramid.response import Response
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request as WzRequest
from werkzeug.wrappers import Response as WzResponse

import wsgihub

#: mount name -> (endpoint, expected path template below the mount)
TARGETS = {
    "flask": ("item", "/items/{n}"),
    "dj": ("item", "/item/{n}/"),
    "pyr": ("item", "/items/{n}"),
    "wz": ("item", "/items/{n}"),
}


def build_batch(query: dict[str, str]) -> str:
    """Build ``count`` URLs round-robin over every mount; return them as JSON."""
    start, count = int(query.get("start", 0)), int(query.get("count", 10))
    external = query.get("external") == "1"
    out = []
    names = sorted(TARGETS)
    for i in range(start, start + count):
        mount = names[i % len(names)]
        out.append([mount, i, wsgihub.url_for(f"{mount}:item", n=i, _external=external)])
    return json.dumps(out)


# -- Flask --------------------------------------------------------------------------
flask_app = flask.Flask("xsite_flask")


@flask_app.route("/items/<int:n>")
def item(n: int) -> str:
    return f"flask item {n}"


@flask_app.route("/build")
def flask_build() -> Any:
    return flask.Response(build_batch(flask.request.args), mimetype="application/json")


# -- Django -------------------------------------------------------------------------
def django_item(request: Any, n: int) -> HttpResponse:
    return HttpResponse(f"django item {n}")


def django_build(request: Any) -> HttpResponse:
    return HttpResponse(build_batch(request.GET.dict()), content_type="application/json")


django_app = get_wsgi_application()


# -- Pyramid ------------------------------------------------------------------------
def pyramid_item(request: Any) -> Response:
    return Response(f"pyramid item {request.matchdict['n']}")


def pyramid_build(request: Any) -> Response:
    return Response(build_batch(dict(request.GET)).encode(), content_type="application/json")


def make_pyramid() -> Any:
    with Configurator() as config:
        config.add_route("item", "/items/{n}")
        config.add_view(pyramid_item, route_name="item")
        config.add_route("build", "/build")
        config.add_view(pyramid_build, route_name="build")
        return config.make_wsgi_app()


pyramid_app = make_pyramid()


# -- Werkzeug -----------------------------------------------------------------------
class WerkzeugApp:
    url_map = Map([Rule("/items/<int:n>", endpoint="item"), Rule("/build", endpoint="build")])

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = WzRequest(environ)
        endpoint, values = self.url_map.bind_to_environ(environ).match()
        if endpoint == "build":
            response = WzResponse(build_batch(request.args.to_dict()), mimetype="application/json")
        else:
            response = WzResponse(f"werkzeug item {values['n']}")
        return response(environ, start_response)


werkzeug_app = WerkzeugApp()


def make_hub(**options: Any) -> wsgihub.Hub:
    hub = wsgihub.Hub(**options)
    hub.mount("/flask", flask_app, name="flask")
    hub.mount("/dj", django_app, name="dj")
    hub.mount("/pyr", pyramid_app, name="pyr")
    hub.mount("/wz", werkzeug_app, name="wz")
    return hub
