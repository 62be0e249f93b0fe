"""``/ext``: an absolute URL built through the hub; ``/gone``: Django's own 404."""

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

import wsgihub


def ext(request: HttpRequest) -> HttpResponse:
    """An untrusted Host must give 400 (as Django's DisallowedHost does), not 500."""
    return HttpResponse(wsgihub.url_for("dj:ext", _external=True))


def gone(request: HttpRequest) -> HttpResponse:
    raise Http404("gone")


urlpatterns = [path("ext", ext, name="ext"), path("gone", gone, name="gone")]
