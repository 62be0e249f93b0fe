"""wsgi_party's invitation protocol, as the hub speaks it.

An app written for wsgi_party joins the partyline when it receives the
*invitation*: a GET to its invite route whose ``environ["partyline"]``
holds its operator.  ``hub.mount(prefix, app, invite_path="/__invite__/")``
sends it (:func:`send_invitation`) and keeps every outside request away from
that route (:func:`guard`).

An invitation is recognised by what no HTTP client can send: the environ
the hub builds carries an :class:`Invitation` object under
:data:`INVITATION` (a server only ever puts strings under ``HTTP_*`` keys).
Outside requests are refused (404) whenever a router could send their path
to the invite route, however it is spelled: repeated slashes
(``/old//__invite__/``, which Werkzeug merges), dot segments
(``/old/./__invite__/``, ``/old/x/../__invite__/``), a missing or doubled
trailing slash, any letter case.  Percent-escapes are decoded by the server
before ``PATH_INFO`` is filled, so ``%2F`` and ``%5F`` spellings arrive as
the characters themselves; a path that still holds escapes (a server or
middleware that left them) is compared decoded as well.

:mod:`wsgihub.compat.wsgi_party` sends its invitations with the same marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .board import not_found
from .errors import InviteError
from .wsgi import blank_environ, consume

if TYPE_CHECKING:
    from .board import Peg
    from .partyline import PartylineOperator
    from .types import Environ, StartResponse, WSGIApplication

__all__ = [
    "INVITATION",
    "Invitation",
    "guard",
    "invitation_environ",
    "is_invitation",
    "outside_path_reaches",
    "send_invitation",
]

#: The environ key of the invitation marker (its value: an :class:`Invitation`).
INVITATION = "wsgihub.invitation"
#: The environ key wsgi_party apps read their operator from.
PARTYLINE_KEY = "partyline"


@dataclass(frozen=True, slots=True)
class Invitation:
    """The marker in an invitation's environ: which mount is invited, at which path."""

    mount: str | None
    path: str


def is_invitation(environ: Mapping[str, Any]) -> bool:
    """Whether ``environ`` is an invitation the hub (or the wsgi_party compat) built."""
    return isinstance(environ.get(INVITATION), Invitation)


def invitation_environ(
    path: str, operator: PartylineOperator | Any, *, mount: str | None = None, **blank: Any
) -> Environ:
    """A GET environ for the invite route ``path`` carrying ``operator`` and the marker."""
    path, _, query = path.partition("?")
    environ = blank_environ(path, query=query, **blank)
    environ[PARTYLINE_KEY] = operator
    environ[INVITATION] = Invitation(mount, path)
    return environ


def send_invitation(peg: Peg, environ: Environ) -> None:
    """Send ``peg``'s app the invitation ``environ``; an answer outside 2xx raises.

    :class:`~wsgihub.errors.InviteError` names the mount, the path and the
    status (``(no response)`` when the app never started one) or the
    exception the app raised.
    """
    where = f"mount {peg.name!r}: invitation to {peg.invite_path!r}"
    try:
        status = consume(peg.app, environ) or "(no response)"
    except Exception as exc:
        raise InviteError(f"{where} raised {type(exc).__name__}: {exc}", peg.name) from exc
    if not status.startswith("2"):
        raise InviteError(f"{where} answered {status!r}", peg.name)


def _segments(path: str) -> list[str]:
    """Path segments as a router that merges slashes and resolves dot segments sees them."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment.casefold())
    return out


def outside_path_reaches(path: str, invite_path: str) -> bool:
    """Whether a router could send ``path`` (a ``PATH_INFO``) to the invite route.

    Compares with slashes merged, dot segments resolved, trailing slashes
    ignored and case folded, and once more percent-decoded if the path holds
    escapes: refusing a path that a strict router would not have matched
    costs nothing, letting one through would cost the site.
    """
    wanted = _segments(invite_path)
    if _segments(path) == wanted:
        return True
    return "%" in path and _segments(unquote(path)) == wanted


def _guarded(
    invite_path: str, last: str, target: WSGIApplication, environ: Environ, start_response: StartResponse
) -> Iterable[bytes]:
    path = environ.get("PATH_INFO") or "/"
    if (last in path.casefold() or "%" in path) and not is_invitation(environ) and outside_path_reaches(path, invite_path):
        return not_found(environ, start_response)
    return target(environ, start_response)


def guard(invite_path: str, target: WSGIApplication) -> WSGIApplication:
    """``target`` behind a 404 for every outside request that could reach ``invite_path``."""
    segments = _segments(invite_path)
    if not segments:
        return target  # an invite route at the app's root cannot be told apart from the site
    return partial(_guarded, invite_path, segments[-1], target)
