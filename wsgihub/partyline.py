"""The partyline: apps in one process ask each other questions.

Any participant may :meth:`~PartylineOperator.connect` a handler to a
*service*; anyone may :meth:`~Partyline.ask_around` a service and gets the
answers of every **other** participant's handlers, in connection order::

    line = Partyline()
    legacy = line.operator("legacy")
    new = line.operator("new")
    legacy.connect("ping", lambda payload: "legacy says " + payload)
    new.connect("ping", lambda payload: "new says " + payload)
    new.ask_around("ping", "hi")          # ['legacy says hi']
    line.ask_around("ping", "hi")         # both answers: nobody is asking

A handler raises :class:`~wsgihub.HighAndDry` to mean "not me".  Asking for
a service nobody connected raises :class:`~wsgihub.NoSuchServiceName`
unless the partyline ignores missing services.  A handler's own exception
is raised as :class:`~wsgihub.errors.HandlerError` naming the participant
and the service, with the original chained.

Thread safety: connecting replaces a service's handler list (copy on
write, under a lock); asking reads whatever list is current without
locking, so askers never wait for connectors.

The semantics are those of ``wsgi_party`` (see
:mod:`wsgihub.compat.wsgi_party`, a drop-in built on this module).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .errors import HandlerError, HighAndDry, NoSuchServiceName

__all__ = ["Handler", "Partyline", "PartylineOperator"]

Handler = Callable[[Any], Any]


class PartylineOperator:
    """One participant's handle on the partyline.

    Handlers connected through an operator are skipped when the same
    operator asks around, so an app never answers its own question.
    ``handlers`` is the set of handlers it connected (as in wsgi_party).
    """

    def __init__(self, partyline: Any, name: str | None = None) -> None:
        self.partyline = partyline
        self.name = name
        self.handlers: set[Any] = set()

    def connect(self, service_name: str, handler: Handler) -> Any:
        """Connect ``handler`` to ``service_name`` on behalf of this participant."""
        self.handlers.add(handler)
        return self.partyline.connect(service_name, handler, operator=self)

    def disconnect(self, service_name: str, handler: Handler) -> None:
        """Take ``handler`` off ``service_name``."""
        self.partyline.disconnect(service_name, handler)
        if not any(handler in hs for hs in self.partyline.handlers.values()):
            self.handlers.discard(handler)

    def ask_around(self, service_name: str, payload: Any) -> list[Any]:
        """Ask every *other* participant; return their answers in order."""
        answers: list[Any] = self.partyline.ask_around(service_name, payload, operator=self)
        return answers

    def __repr__(self) -> str:
        return f"<PartylineOperator {self.name!r}>"


class Partyline:
    """Services, their handlers, and the participants who connected them.

    ``on_connect`` and ``on_ask`` (optional, called with keyword arguments)
    are told about every connect and every ask, and ``on_ask`` may add
    answers: the hub passes its plugin manager's ``wsgihub_connect`` /
    ``wsgihub_ask_around`` hooks.  ``ask_observed()``, if given, says whether
    ``on_ask`` has anyone to tell right now; while it is false an ask skips
    the call (the hub asks :meth:`Plugins.has_observers`).
    """

    operator_class: type[PartylineOperator] = PartylineOperator
    #: Refuse handlers that are not callable when they connect (not when asked).
    check_callable = True

    def __init__(
        self,
        ignore_missing_services: bool = False,
        *,
        on_connect: Callable[..., Any] | None = None,
        on_ask: Callable[..., Any] | None = None,
        ask_observed: Callable[[], bool] | None = None,
    ) -> None:
        #: service name -> handlers in connection order (lists are replaced, never mutated)
        self.handlers: dict[str, list[Handler]] = {}
        self.ignore_missing_services = ignore_missing_services
        self._owners: dict[tuple[str, int], PartylineOperator] = {}
        self._lock = threading.Lock()
        self._on_connect = on_connect
        self._on_ask = on_ask
        self._ask_observed = ask_observed

    def operator(self, name: str | None = None) -> PartylineOperator:
        """A new participant named ``name``."""
        return self.operator_class(self, name)

    def connect(
        self, service_name: str, handler: Handler, operator: PartylineOperator | None = None
    ) -> None:
        """Connect ``handler`` to ``service_name`` (for ``operator``, if given)."""
        if self.check_callable and not callable(handler):
            raise TypeError(f"partyline handler for {service_name!r} is not callable: {handler!r}")
        with self._lock:
            self.handlers[service_name] = [*self.handlers.get(service_name, ()), handler]
            if operator is not None:
                self._owners[service_name, id(handler)] = operator
        if self._on_connect is not None:
            self._on_connect(
                partyline=self,
                service=service_name,
                handler=handler,
                participant=getattr(operator, "name", None),
            )

    def disconnect(self, service_name: str, handler: Handler) -> None:
        """Take ``handler`` off ``service_name``; a no-op if it is not there."""
        with self._lock:
            current = self.handlers.get(service_name)
            if not current or handler not in current:
                return
            remaining = [h for h in current if h is not handler and h != handler]
            if remaining:
                self.handlers[service_name] = remaining
            else:
                del self.handlers[service_name]
            self._owners.pop((service_name, id(handler)), None)

    def services(self) -> list[str]:
        """The names of the services somebody connected to."""
        return list(self.handlers)

    def ask_around(
        self, service_name: str, payload: Any, operator: Any = None
    ) -> list[Any]:
        """Ask every handler of ``service_name`` not connected by ``operator``."""
        on_ask = self._on_ask
        if on_ask is not None and self._ask_observed is not None and not self._ask_observed():
            on_ask = None
        try:
            service_handlers = self.handlers[service_name]
        except KeyError:
            if not self.ignore_missing_services and on_ask is None:
                raise NoSuchServiceName(
                    f"No handler is registered for {service_name!r}."
                ) from None
            service_handlers = []
        own = operator.handlers if operator is not None else ()
        answers: list[Any] = []
        for handler in service_handlers:
            if own and handler in own:
                continue
            try:
                answers.append(handler(payload))
            except HighAndDry:
                continue
            except Exception as exc:
                raise self._handler_error(service_name, handler, exc) from exc
        if on_ask is not None:
            extra = on_ask(
                partyline=self,
                service=service_name,
                payload=payload,
                asker=getattr(operator, "name", None),
            )
            for result in extra:
                if result is not None:
                    answers.extend(result)
            if (
                not service_handlers
                and not answers
                and not self.ignore_missing_services
                and service_name not in self.handlers
            ):
                raise NoSuchServiceName(f"No handler is registered for {service_name!r}.")
        return answers

    def _handler_error(self, service: str, handler: Handler, exc: Exception) -> HandlerError:
        owner = self._owners.get((service, id(handler)))
        who = getattr(owner, "name", None)
        label = repr(who) if who else "an anonymous participant"
        return HandlerError(
            f"partyline handler {getattr(handler, '__qualname__', handler)!r} of {label} "
            f"failed on service {service!r}: {type(exc).__name__}: {exc}",
            who,
            service,
        )
