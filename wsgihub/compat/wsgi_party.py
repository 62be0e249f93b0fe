"""A drop-in for the ``wsgi_party`` module, built on the native partyline.

::

    from wsgihub.compat import wsgi_party
    party = wsgi_party.WSGIParty(dispatcher, invites=("/__invite__/", "/new/__invite__/"))

Same classes (:class:`WSGIParty`, :class:`PartylineOperator`,
:class:`PartylineException`, :class:`HighAndDry`, :class:`NoSuchServiceName`),
same attributes (``handlers``, ``partyline_key``, ``operator_class``,
``ignore_missing_services``) and semantics: invitations are sent on
construction with the operator in ``environ["partyline"]``; ``ask_around``
skips the asking operator's own handlers and ``HighAndDry`` answers;
``NoSuchServiceName`` for a service nobody connected.  Unlike the
original it needs no Werkzeug, and a handler's own exception is raised as
:class:`~wsgihub.errors.HandlerError` (a ``PartylineException``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import HighAndDry, NoSuchServiceName, PartylineException
from ..invitation import invitation_environ
from ..partyline import Partyline
from ..partyline import PartylineOperator as _NativeOperator
from ..wsgi import consume

if TYPE_CHECKING:
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = ["HighAndDry", "NoSuchServiceName", "PartylineException", "PartylineOperator", "WSGIParty"]


class PartylineOperator(_NativeOperator):
    """Expose an API for connecting a handler to the WSGI partyline.

    One operator per invitation; handlers connected through it are never
    asked by it, so an application does not answer its own questions.
    """

    def __init__(self, partyline: Any) -> None:
        super().__init__(partyline)

    def connect(self, service_name: str, handler: Any) -> Any:
        """Connect a handler that :meth:`ask_around` calls for ``service_name``."""
        self.handlers.add(handler)
        return self.partyline.connect(service_name, handler)


class WSGIParty(Partyline):
    """Partyline middleware WSGI object."""

    #: Key in environ with reference to the partyline operator.
    partyline_key = "partyline"

    #: Class to use as the partyline operator, for connecting handlers.
    operator_class: type[Any] = PartylineOperator
    #: wsgi_party accepts any handler object at connect time.
    check_callable = False

    def __init__(
        self,
        application: WSGIApplication,
        invites: Iterable[str] = (),
        ignore_missing_services: bool = False,
    ) -> None:
        super().__init__(ignore_missing_services)
        self.application = application
        self.send_invitations(invites)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the wrapped application."""
        return self.application(environ, start_response)

    def send_invitations(self, invites: Iterable[str]) -> None:
        """Call each invite route to establish a partyline (done on init)."""
        for invite in invites:
            environ = _create_environ(invite, self.operator_class(self))
            if self.partyline_key != "partyline":  # a subclass renamed the key
                environ[self.partyline_key] = environ.pop("partyline")
            consume(self.application, environ)

    def connect(self, service_name: str, handler: Any, operator: Any = None) -> None:
        """Register a handler for a given service name."""
        super().connect(service_name, handler, operator)

    def ask_around(self, service_name: str, payload: Any, operator: Any = None) -> list[Any]:
        """Ask all handlers of ``service_name`` but ``operator``'s; return the answers."""
        return super().ask_around(service_name, payload, operator)


def _create_environ(path: str, operator: Any) -> Environ:
    """The invitation for ``path`` on localhost (what werkzeug.test.create_environ gives).

    It carries the hub's invitation marker, so a hub below lets it reach
    the invite route it keeps outside requests away from.
    """
    environ = invitation_environ(path, operator)
    environ["CONTENT_LENGTH"] = "0"
    environ["wsgi.multithread"] = False
    return environ
