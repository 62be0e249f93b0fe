"""The hub's trusted hosts, given to Flask as ``TRUSTED_HOSTS``.

Flask builds absolute URLs from the request's ``Host`` header: its slash
redirects (``RequestRedirect``: ``/reports`` -> ``Location:
http://<Host>/reports/``) and ``url_for(..., _external=True)`` inside a
view.  The hub never sees those URLs, so an attacker's ``Host: evil.com``
would come back in a ``Location`` header (cache poisoning, password-reset
links).  Flask 3.1 checks the Host itself when ``TRUSTED_HOSTS`` is set:
an untrusted one is answered ``400 Bad Request`` before any view runs, as
Django answers ``DisallowedHost``.

So when the hub has ``trusted_hosts`` or a ``public_url``, mounting a Flask
app whose ``TRUSTED_HOSTS`` is unset sets it to the hub's list (entries as
the hub writes them: ``example.com``, ``.example.org`` for the domain and
its subdomains, ``public_url``'s host); unmounting sets it back.  Nothing
is set when the app set its own list, when the hub trusts ``*`` or nothing
at all, or with Flask before 3.1 (no such setting).  Flask's own 400 page
says ``Host 'evil.com' is not trusted``; unless the app has a handler for
400, the answer is the hub's instead (``Bad Request: untrusted Host``, the
Host only in the ``wsgihub.security`` log), so no answer echoes it.

Flask asks the hub: each entry is an :class:`_Entry`, a plain string to read
that answers Werkzeug's comparison with the hub's own check
(:meth:`wsgihub.urls.HostTrust.allows`).  Werkzeug compares the text as
written: an IPv6 literal spelled otherwise (``[0:0::1]``, ``[0:0:0:0:0:0:0:1]``,
upper-case hex), an upper-case name or one trailing dot got 400 from Flask
although the hub trusts them, and ``a..example.org`` (an empty label, which
the hub refuses) passed a ``.example.org`` entry.  (Werkzeug also cut every
entry at its first ``:`` to drop a port, so ``[::1]`` was ``[``.)  What
Werkzeug's own pattern refuses before it compares (``_`` in a name) stays
refused.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any, Self, SupportsIndex

from flask import Flask
from werkzeug.exceptions import SecurityError

if TYPE_CHECKING:
    from wsgihub import Hub
    from wsgihub.urls import HostTrust

__all__ = ["for_code", "hub_hosts", "release", "trust"]

KEY = "TRUSTED_HOSTS"

_log = logging.getLogger("wsgihub.security")
_BODY = "Bad Request: untrusted Host\n"

#: The list each app got from a hub, and how many mounts share it.
_given: weakref.WeakKeyDictionary[Flask, tuple[list[str], int]] = weakref.WeakKeyDictionary()


class _Entry(str):
    """One ``TRUSTED_HOSTS`` entry the hub gave: the name to read, the hub's check to Werkzeug.

    Werkzeug's ``host_is_trusted`` takes, for each entry, ``entry[1:]`` when it
    starts with a dot, then ``.partition(":")[0].encode("idna").decode("ascii")``,
    and compares the result with the Host's name (``==``, and ``endswith`` for
    a dot entry).  A slice of an entry is an entry, and its ``partition(":")``
    gives a :class:`_HubCheck`, which that chain leaves as it is: every
    comparison is the hub's.
    """

    _trust: HostTrust

    def __new__(cls, name: str, trust: HostTrust) -> Self:
        entry = super().__new__(cls, name)
        entry._trust = trust
        return entry

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        part = super().__getitem__(key)
        return _Entry(part, self._trust) if isinstance(key, slice) else part

    def partition(self, sep: str, /) -> tuple[Any, str, str]:
        if sep == ":":
            return (_HubCheck(self._trust), "", "")
        return super().partition(sep)

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str(self),))  # a copy (deepcopy, pickle) is the plain name


class _HubCheck:
    """What Werkzeug compares a Host's name with, for an :class:`_Entry`: the hub's decision."""

    __slots__ = ("_trust",)

    def __init__(self, trust: HostTrust) -> None:
        self._trust = trust

    def encode(self, *args: object) -> _HubCheck:
        return self

    def decode(self, *args: object) -> _HubCheck:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self._trust.allows(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __format__(self, spec: str) -> str:
        return "\x00"  # Werkzeug's suffix test (``endswith(f".{entry}")``): never true, the hub decided


def hub_hosts(hub: Hub) -> list[str] | None:
    """The hub's trusted hosts as Flask's ``TRUSTED_HOSTS`` (``None``: the hub restricts nothing)."""
    hosts = getattr(hub, "hosts", None)
    if hosts is None or hosts.wildcard:
        return None
    names = list(dict.fromkeys([*hosts.trusted, *sorted(hosts.exact)]))
    return [_Entry(name, hosts) for name in names] or None


def trust(app: Flask, hub: Hub) -> bool:
    """Set ``app.config["TRUSTED_HOSTS"]`` to the hub's hosts unless the app set it; whether it did."""
    if KEY not in Flask.default_config:  # Flask < 3.1 has no such check
        return False
    config: dict[str, Any] = app.config
    given = _given.get(app)
    if given is not None and config.get(KEY) is given[0]:
        _given[app] = (given[0], given[1] + 1)  # the same app on another mount
        return True
    if config.get(KEY) is not None:
        return False  # the app's own choice
    names = hub_hosts(hub)
    if names is None:
        return False
    config[KEY] = names
    _given[app] = (names, 1)
    _answer_untrusted(app)
    return True


def _refuse(error: SecurityError) -> tuple[str, int, dict[str, str]]:
    """The hub's 400 for an untrusted Host: the body does not echo it, the log has it."""
    from flask import request

    _log.warning("400 for %s %s: %s", request.method, request.path, error.description)
    return _BODY, 400, {"Content-Type": "text/plain; charset=utf-8"}


def _answer_untrusted(app: Flask) -> None:
    """Answer Flask's SecurityError with :func:`_refuse`, unless the app handles 400 itself.

    Set in ``error_handler_spec`` as ``register_error_handler`` would, which
    refuses once the app has served a request (mounting may come later).
    """
    # error_handler_spec is Flask's defaultdict of defaultdicts: a plain {} put in its place
    # makes every later error lookup (abort(404)) raise KeyError, so index, never setdefault.
    app_handlers = app.error_handler_spec[None]
    if app_handlers.get(400):
        return
    app_handlers[400][SecurityError] = _refuse


def _forget_untrusted(app: Flask) -> None:
    handlers = app.error_handler_spec.get(None, {}).get(400, {})
    if handlers.get(SecurityError) is _refuse:
        del handlers[SecurityError]


def release(app: Flask) -> None:
    """Undo :func:`trust` for one mount (the last one sets ``TRUSTED_HOSTS`` back to ``None``)."""
    given = _given.get(app)
    if given is None:
        return
    names, count = given
    if count > 1:
        _given[app] = (names, count - 1)
        return
    del _given[app]
    if app.config.get(KEY) is names:
        app.config[KEY] = None
    _forget_untrusted(app)


def for_code(ctx: Any) -> None:
    """Let a request context entered by code (``hub.request_context``) build URLs whatever its Host.

    ``TRUSTED_HOSTS`` is about clients.  A context the hub enters for code
    gets ``public_url``'s host, the current request's (already accepted),
    or ``localhost``; Flask would refuse the last one and leave the context
    without a URL adapter (``flask.url_for`` failing).  Bind it as Flask
    would without the check.
    """
    request = ctx.request
    if ctx.url_adapter is not None or not isinstance(request.routing_exception, SecurityError):
        return
    app = ctx.app
    request.trusted_hosts = None
    request.routing_exception = None
    server_name = None if app.url_map.host_matching else app.config["SERVER_NAME"]
    subdomain = None if app.url_map.host_matching or app.subdomain_matching else app.url_map.default_subdomain or ""
    ctx.url_adapter = app.url_map.bind_to_environ(request.environ, server_name=server_name, subdomain=subdomain)
