"""The hub, the way a Werkzeug application sees things.

A Werkzeug app builds its own request objects, so the hub comes to it as
a request class and, for apps that keep a Jinja environment on
``app.jinja_env`` (the Werkzeug tutorial's pattern), a template global::

    from werkzeug.wrappers import Request
    from wsgihub_werkzeug.native import HubRequestMixin

    class MyRequest(HubRequestMixin, Request):
        pass

    request = MyRequest(environ)
    request.hub_url("new:user", uid=5)          # '/new/users/5'

    # in a template rendered by app.jinja_env, once the app is mounted:
    # <a href="{{ hub_url('legacy:blog:detail', pk=3) }}">

``hub_url`` builds with the hub serving the current request, and outside
requests with the hub the app was mounted on.  The Flask adapter uses the
same template global.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from werkzeug.wrappers import Request

import wsgihub

if TYPE_CHECKING:
    from wsgihub import Hub
    from wsgihub.types import Environ

__all__ = ["TEMPLATE_GLOBAL", "HubRequest", "HubRequestMixin", "conceal", "expose", "jinja_globals", "make_hub_url"]

#: The name of the template global that builds URLs through the hub.
TEMPLATE_GLOBAL: Final = "hub_url"

HubURL = Callable[..., str]


class HubRequestMixin:
    """Adds ``hub`` and ``hub_url()`` to a Werkzeug request class."""

    environ: Environ

    @property
    def hub(self) -> Hub | None:
        """The hub that routed this request, else the one serving the current request, else ``None``."""
        return wsgihub.find_hub(self.environ)

    def hub_url(self, endpoint: str, /, **values: Any) -> str:
        """``hub.url_for(endpoint, **values)`` on the hub that routed this request."""
        hub = self.hub
        if hub is None:
            raise wsgihub.WsgihubError(f"hub_url({endpoint!r}): this request did not come through a wsgihub hub")
        return hub.url_for(endpoint, **values)


class HubRequest(HubRequestMixin, Request):
    """A Werkzeug ``Request`` with ``hub`` and ``hub_url()``."""


def make_hub_url(hub: Hub) -> HubURL:
    """A ``hub_url(endpoint, **values)`` function for templates.

    Uses the hub serving the current request, else ``hub`` (the one the
    app was mounted on), so it also works in templates rendered outside
    requests (emails, CLI).
    """

    def hub_url(endpoint: str, /, **values: Any) -> str:
        return (wsgihub.find_hub() or hub).url_for(endpoint, **values)

    hub_url.__qualname__ = f"hub_url[{hub.name}]"
    return hub_url


def jinja_globals(app: object) -> MutableMapping[str, Any] | None:
    """The globals of ``app.jinja_env`` when it is a Jinja environment, else ``None``."""
    jinja2 = sys.modules.get("jinja2")
    env = getattr(app, "jinja_env", None) if jinja2 is not None else None
    if env is None or not isinstance(env, jinja2.Environment):  # type: ignore[union-attr]
        return None
    globals_: MutableMapping[str, Any] = env.globals
    return globals_


def expose(globals_: MutableMapping[str, Any] | None, function: HubURL) -> None:
    """Put ``function`` into ``globals_`` as :data:`TEMPLATE_GLOBAL`."""
    if globals_ is not None:
        globals_[TEMPLATE_GLOBAL] = function


def conceal(globals_: MutableMapping[str, Any] | None, function: HubURL | None) -> None:
    """Remove :data:`TEMPLATE_GLOBAL` if it is still ``function`` (a later mount may own it)."""
    if globals_ is not None and function is not None and globals_.get(TEMPLATE_GLOBAL) is function:
        del globals_[TEMPLATE_GLOBAL]
