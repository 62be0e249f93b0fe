"""WSGI type aliases shared by the core and the adapters (PEP 3333), and the few ASGI ones the hub uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from types import TracebackType
from typing import Any, Protocol, TypeAlias

__all__ = [
    "Environ",
    "ExcInfo",
    "Headers",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "StartResponse",
    "WSGIApplication",
]

Environ: TypeAlias = dict[str, Any]
Headers: TypeAlias = list[tuple[str, str]]
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


class StartResponse(Protocol):
    """The ``start_response`` callable a WSGI server hands to an application."""

    def __call__(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = ..., /
    ) -> Callable[[bytes], object]: ...


WSGIApplication: TypeAlias = Callable[[Environ, StartResponse], Iterable[bytes]]

#: An ASGI connection scope (mutable: the hub updates the server's own scope in place).
Scope: TypeAlias = MutableMapping[str, Any]
#: An ASGI event (``receive()``'s result, ``send()``'s argument).
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
