"""An untrusted Host in an absolute URL built in a Django view: 400 (``DisallowedHost``), not 500.

Automatic at mount (through the handler's ``_exception_middleware``), or
through the public middleware API (``UntrustedHostMiddleware`` in
``MIDDLEWARE``); a handler without that list gets a one-line MountWarning
saying to add the middleware.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path
from djsite_testing import make_hub
from webtest import TestApp
from wsgihub_django.hosts import MIDDLEWARE_PATH

import wsgihub
from wsgihub import MountWarning


def ext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(wsgihub.url_for("h:ext", _external=True))


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("not a Host problem")


urlpatterns = [path("ext", ext, name="ext"), path("boom", boom, name="boom")]


class LaterHandler(WSGIHandler):  # type: ignore[misc]
    """A handler keeping its exception steps under another name (as a later Django might)."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._steps = self.__dict__.pop("_exception_middleware")

    def process_exception_by_middleware(self, exception: Exception, request: Any) -> Any:
        for step in self._steps:
            response = step(request, exception)
            if response:
                return response
        return None


@pytest.fixture
def this_urlconf() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"]):
        yield


def _served(handler: WSGIHandler) -> tuple[TestApp, list[str]]:
    hub = make_hub(trusted_hosts=["example.com"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hub.mount("/h", handler, name="h")
    found = [str(w.message) for w in caught if issubclass(w.category, MountWarning)]
    return TestApp(hub), found


def _status(app: TestApp, url: str, host: str) -> int:
    return int(app.get(url, headers={"Host": host}, expect_errors=True).status_int)


@pytest.mark.usefixtures("this_urlconf")
def test_mounting_answers_400_to_an_untrusted_host() -> None:
    app, found = _served(WSGIHandler())
    assert found == []
    assert app.get("/h/ext", headers={"Host": "example.com"}).text == "http://example.com/h/ext"
    assert _status(app, "/h/ext", "evil.com") == 400
    assert _status(app, "/h/ext", "example.com:@evil.com") == 400
    assert _status(app, "/h/boom", "example.com") == 500  # other errors are left to Django


@pytest.mark.usefixtures("this_urlconf")
def test_a_handler_without_the_private_list_warns_in_one_line() -> None:
    app, found = _served(LaterHandler())
    assert len(found) == 1 and "\n" not in found[0]
    assert found[0].startswith("mount 'h': an untrusted Host in an absolute URL built in a view is answered 500")
    assert found[0].endswith(f"add {MIDDLEWARE_PATH!r} to MIDDLEWARE")
    assert _status(app, "/h/ext", "evil.com") == 500  # what the warning says


@pytest.mark.usefixtures("this_urlconf")
def test_the_public_middleware_answers_400_without_the_private_list() -> None:
    with override_settings(MIDDLEWARE=[MIDDLEWARE_PATH]):
        app, found = _served(LaterHandler())
        assert found == []
        assert _status(app, "/h/ext", "evil.com") == 400
        assert _status(app, "/h/boom", "example.com") == 500
        assert app.get("/h/ext", headers={"Host": "example.com"}).text == "http://example.com/h/ext"
