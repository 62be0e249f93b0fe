"""WSGI type aliases shared by the core and the adapters (PEP 3333)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol, TypeAlias

__all__ = ["Environ", "ExcInfo", "Headers", "StartResponse", "WSGIApplication"]

Environ: TypeAlias = dict[str, Any]
Headers: TypeAlias = list[tuple[str, str]]
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


class StartResponse(Protocol):
    """The ``start_response`` callable a WSGI server hands to an application."""

    def __call__(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = ..., /
    ) -> Callable[[bytes], object]: ...


WSGIApplication: TypeAlias = Callable[[Environ, StartResponse], Iterable[bytes]]
