"""Detection: a Django WSGIHandler is recognised, also behind middleware, and forcing works."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from djsite_testing import make_hub, run_python

import wsgihub
from wsgihub.plugins import make_plugins


class Middleware:
    """A typical middleware class keeping the app in ``.app``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        environ["HTTP_X_WRAPPED"] = "yes"
        return self.app(environ, start_response)


def decorated(app: Any) -> Any:
    @functools.wraps(app)
    def wrapper(environ: Any, start_response: Any) -> Any:
        return app(environ, start_response)

    wrapper.__wrapped__ = app
    return wrapper


def partial_app(app: Any) -> Any:
    def call(inner: Any, environ: Any, start_response: Any) -> Any:
        return inner(environ, start_response)

    return functools.partial(call, app)


def _opaque(app: Any) -> Any:
    def hidden(environ: Any, start_response: Any) -> Any:
        return app(environ, start_response)

    return hidden


def test_plain_handler_is_detected(django_app: Any) -> None:
    hub = make_hub()
    peg = hub.mount("/legacy", django_app, name="legacy")
    assert peg.framework == "django"
    assert peg.adapter is not None and peg.adapter.app is django_app
    assert hub.url_for("legacy:blog:detail", pk=3) == "/legacy/blog/3/"


@pytest.mark.parametrize(
    "wrap", [Middleware, decorated, partial_app, lambda a: Middleware(decorated(a))]
)
def test_detected_behind_middleware(django_app: Any, wrap: Any) -> None:
    from webtest import TestApp

    hub = make_hub()
    peg = hub.mount("/legacy", wrap(django_app), name="legacy")
    assert peg.framework == "django"
    assert peg.adapter is not None and peg.adapter.app is django_app
    assert hub.url_for("legacy:home") == "/legacy/"
    assert TestApp(hub).get("/legacy/blog/4/").text == "post 4"


def test_opaque_wrapper_needs_forcing(django_app: Any) -> None:
    hub = make_hub()
    assert hub.mount("/plain", _opaque(django_app), name="plain").adapter is None
    with pytest.warns(wsgihub.MountWarning, match=r"answered 500, not 400: Django's handler is hidden behind function"):
        peg = hub.mount("/legacy", _opaque(django_app), name="legacy", framework="django")
    assert peg.framework == "django"
    assert hub.url_for("legacy:blog:detail", pk=1) == "/legacy/blog/1/"


def test_forcing_another_framework_is_not_ours(django_app: Any) -> None:
    hub = make_hub()
    with pytest.raises(wsgihub.MountError, match="no installed adapter handles framework 'flask'"):
        hub.mount("/legacy", django_app, name="legacy", framework="flask")
    assert "legacy" not in hub


def test_entry_point_is_autoloaded(django_app: Any) -> None:
    plugins = make_plugins(autoload=True, block=_other_plugins())
    names = {info.name for info in plugins.info()}
    assert "django" in names
    hub = wsgihub.Hub(plugins=plugins)
    assert hub.mount("/legacy", django_app, name="legacy").framework == "django"


def _other_plugins() -> list[str]:
    from importlib.metadata import entry_points

    return [ep.name for ep in entry_points(group="wsgihub") if ep.name != "django"]


def test_plugin_does_not_import_django() -> None:
    result = run_python(
        """
        import sys
        import wsgihub, wsgihub_django, wsgihub_django.plugin
        from wsgihub.plugins import make_plugins
        hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_django.plugin]))
        hub.mount("/x", lambda environ, start_response: [], name="x")
        print("django" in sys.modules, hub.peg("x").adapter)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "None"]
