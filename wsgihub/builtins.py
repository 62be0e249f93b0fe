"""Built-in behaviour, registered as a plugin like any other.

- Every mounted app with an adapter answers the partyline ``url``
  service (the wsgi_party convention): ask with ``"mount:endpoint"`` or
  ``{"endpoint": "mount:endpoint" or "endpoint", "values": {...},
  "external": bool}``; an app answers for its own endpoints and raises
  :class:`~wsgihub.HighAndDry` for the others.
- wsgihub's own :class:`~wsgihub.compat.werkzeug.DispatcherMiddleware` is
  read as more mounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import HighAndDry, URLBuildError
from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub
    from .partyline import PartylineOperator
    from .types import WSGIApplication


def url_handler(hub: Hub, peg: Peg) -> Any:
    """The ``url`` service handler that answers for ``peg``'s endpoints."""

    def answer_url(payload: Any) -> str:
        if isinstance(payload, str):
            endpoint, values, external = payload, {}, False
        elif isinstance(payload, Mapping):
            endpoint = payload.get("endpoint", "")
            values = dict(payload.get("values") or {})
            external = bool(payload.get("external", False))
        else:
            raise HighAndDry()
        mount, sep, inner = endpoint.partition(":")
        if sep and mount != peg.name:
            raise HighAndDry()
        try:
            return hub.url_for(f"{peg.name}:{inner if sep else endpoint}", _external=external, **values)
        except URLBuildError:
            raise HighAndDry() from None

    answer_url.__qualname__ = f"url_handler[{peg.name}]"
    return answer_url


@hookimpl(trylast=True)
def wsgihub_invite(hub: Hub, peg: Peg, operator: PartylineOperator) -> None:
    if peg.adapter is not None:
        operator.connect("url", url_handler(hub, peg))


@hookimpl
def wsgihub_submounts(
    app: WSGIApplication, layers: Sequence[object]
) -> tuple[WSGIApplication, Mapping[str, WSGIApplication]] | None:
    from .compat.werkzeug import DispatcherMiddleware

    if isinstance(app, DispatcherMiddleware):
        return app.app, app.mounts
    return None
