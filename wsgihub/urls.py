"""Origins, host trust and URL building: where the hub's absolute URLs point.

An absolute URL the hub builds (``hub.url_for(..., _external=True)``, a
framework's redirect through an adapter) names a scheme, a host and the
path the site is served under.  The Host comes from the client, so it is
used only when it is *trusted*::

    Hub(trusted_hosts=["example.com", ".example.org"], public_url="https://example.com/site")

* ``example.com`` trusts that host exactly (any port);
  ``.example.org`` trusts it and every subdomain; ``*`` trusts any host
  that parses (do that only behind a proxy that checks Host itself).
* ``public_url`` is the site's canonical origin: used outside requests and
  for requests from untrusted hosts, and its host is trusted too.

A Host value is parsed as RFC 3986 (section 3.2.2) and RFC 9110 (section 7.2)
define it, restricted to what DNS and IP literals can spell: a host name
(RFC 952/1123) of letters, digits and ``-`` in dot-separated labels (one
trailing dot allowed), an IPv4 address, or a bracketed IPv6 address, then
an optional ``:port`` of 1-5 digits up to 65535.  Anything else
(userinfo, ``/``, ``?``, ``#``, ``\\``, spaces, percent-escapes, sub-delims,
``_``, non-ASCII, zone ids, empty labels) is untrusted, whatever the list says:
the check fails closed.  ``_`` is refused as Werkzeug and Django refuse
it (RFC 3986 allows it in a reg-name, but no host name has it): a Host the
hub trusted and a mounted framework refused would be answered differently
on different mounts.  ``public_url`` and the ``trusted_hosts`` entries go
through the same parser.  Internationalised names in ``trusted_hosts`` are
converted to their ASCII (``xn--``) form, the only form a Host header carries.

No forwarded header (``Forwarded``, ``X-Forwarded-*``) is read here:
behind a proxy listed in ``--forwarded-allow-ips`` the serving stack's
outermost layer (:mod:`wsgihub.proxy`) has already put the public scheme,
Host and outer prefix into ``wsgi.url_scheme``, ``HTTP_HOST`` and
``SCRIPT_NAME``, and the Host is still checked here like any other.
``SCRIPT_NAME`` comes from the server and the mounts (and that layer's
validated prefix), never from any other header.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .board import normalize_prefix
from .current import get as _current_request
from .errors import (
    ConfigError,
    NoAdapterError,
    UnknownMountError,
    UntrustedHostError,
    URLBuildError,
    closest,
)

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub
    from .types import Environ, StartResponse

_log = logging.getLogger("wsgihub.security")

__all__ = [
    "REFUSAL_BODY",
    "HostCheck",
    "HostTrust",
    "Origin",
    "build_url",
    "log_refused_host",
    "parse_host",
    "parse_public_url",
    "refuse_host",
    "refuse_untrusted_host",
    "request_host",
    "request_origin",
]

#: Characters Flask and Werkzeug leave unquoted in an anchor.
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"

#: A host name (RFC 1123: letters, digits, ``-``; no ``_``, as Werkzeug and Django read
#: Host), or an IPv4 address, in dot-separated labels; one trailing dot allowed.
_REG_NAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?\Z")
#: Why a name with ``_`` is refused, for the one-line configuration errors.
_UNDERSCORE = "'_' is not allowed in a host name (RFC 1123; Werkzeug and Django refuse such a Host too)"
_PORT = re.compile(r"[0-9]{1,5}\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where absolute URLs point: ``scheme://host`` plus the site's ``root`` path.

    ``host`` is ``name[:port]`` as URLs carry it (lower case, the scheme's
    default port left out); ``root`` is the path in front of the hub (the
    outer ``SCRIPT_NAME``, ``""`` at the server's root), never ending in ``/``.
    """

    scheme: str
    host: str
    root: str = ""

    @property
    def url(self) -> str:
        """``scheme://host/root`` (no trailing slash)."""
        return f"{self.scheme}://{self.host}{self.root}"

    def __str__(self) -> str:
        return self.url


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``"Example.COM:8080"`` -> ``("example.com", 8080)``; ``None`` if not a valid host.

    The name is lower-cased and loses one trailing dot; an IPv6 literal
    keeps its brackets in compressed form (``"[::1]"``).  Returns ``None``
    for anything RFC 3986/9110 do not allow, or that DNS cannot spell
    (see the module docs): callers treat that as untrusted.
    """
    if not isinstance(value, str) or not value or not value.isascii():
        return None
    value = value.lower()
    port: str | None = None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        literal, after = value[1:end], value[end + 1 :]
        if after:
            if not after.startswith(":"):
                return None
            port = after[1:]
        if "%" in literal:  # a zone id (RFC 6874) names an interface of *this* machine
            return None
        try:
            name = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError:
            return None
    else:
        name, colon, rest = value.partition(":")
        if colon:
            port = rest
        if not _REG_NAME.match(name):
            return None
        name = name.removesuffix(".")
    if port is None:
        return name, None
    if not _PORT.match(port) or not 0 < int(port) <= 65535:
        return None
    return name, int(port)


def _format_host(name: str, port: int | None, scheme: str) -> str:
    """``name[:port]``, leaving out the scheme's default port as browsers do."""
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return name
    return f"{name}:{port}"


def parse_public_url(url: str) -> Origin:
    """``"https://Example.com/site/"`` -> ``Origin("https", "example.com", "/site")``.

    Refuses (:class:`~wsgihub.errors.ConfigError`) anything but an
    ``http``/``https`` URL whose host parses as :func:`parse_host` requires,
    without userinfo, query or fragment, with a path of unreserved segments.
    """
    if not isinstance(url, str):
        raise ConfigError(f"public_url must be a string like 'https://example.com[/path]', not {type(url).__name__}")
    shape = "must look like 'https://example.com[:port][/path]'"
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ConfigError(f"public_url {url!r} {shape}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"public_url {url!r} {shape}")
    if "@" in parts.netloc or parts.query or parts.fragment or url.strip().endswith(("?", "#")):
        raise ConfigError(f"public_url {url!r} {shape} (no user, query or fragment)")
    host = parse_host(parts.netloc)
    if host is None:
        why = _UNDERSCORE if "_" in parts.netloc else "is not a valid host[:port]"
        raise ConfigError(f"public_url {url!r} {shape}: {parts.netloc!r}: {why}")
    root = parts.path.rstrip("/")
    if root:
        root = normalize_prefix(root, "public_url")
    return Origin(parts.scheme, _format_host(*host, parts.scheme), root)


def _trusted_entry(entry: object) -> str:
    """One ``trusted_hosts`` entry, checked and normalised (``*``, ``.domain``, ``host``)."""
    if not isinstance(entry, str):
        raise ConfigError(f"trusted_hosts: entry {entry!r} is not a string")
    text = entry.strip().lower()
    if text == "*":
        return text
    dot = text.startswith(".")
    name = text[1:] if dot else text
    if name and not name.isascii() and not name.startswith("["):
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise ConfigError(f"trusted_hosts: {entry!r} is not a valid host name") from None
    parsed = parse_host(name)
    if parsed is None and "_" in name:
        raise ConfigError(f"trusted_hosts: {entry!r} is not a host name: {_UNDERSCORE}")
    if parsed is None or parsed[1] is not None or (dot and name.startswith("[")):
        raise ConfigError(
            f"trusted_hosts: {entry!r} is not a host name; write 'example.com', "
            "'.example.com' (and its subdomains), '[::1]' or '*' (no port, scheme or path)"
        )
    return ("." if dot else "") + parsed[0]


class HostTrust:
    """Which Host values absolute URLs may use; the one place that decides.

    ``trusted``: ``trusted_hosts`` entries (``example.com``, ``.example.com``,
    ``[::1]``, ``*``); ``public``: the parsed ``public_url``, whose host is
    trusted too.  A bare string is refused: ``"example.com"`` would be
    eleven one-letter hosts.
    """

    __slots__ = ("exact", "public", "suffixes", "trusted", "wildcard")

    def __init__(self, trusted: Iterable[str], public: Origin | None = None) -> None:
        if isinstance(trusted, (str, bytes)):
            raise ConfigError(
                f"trusted_hosts must be a list of host names, not the string {trusted!r}: "
                f"write trusted_hosts=[{trusted!r}]"
            )
        if not isinstance(trusted, Iterable):
            raise ConfigError(f"trusted_hosts must be a list of host names, not {trusted!r}")
        entries = [_trusted_entry(e) for e in trusted if not (isinstance(e, str) and not e.strip())]
        self.trusted: tuple[str, ...] = tuple(dict.fromkeys(entries))
        self.public = public
        self.wildcard = "*" in self.trusted
        self.exact = frozenset(e for e in self.trusted if not e.startswith(".") and e != "*")
        self.suffixes = tuple(e for e in self.trusted if e.startswith("."))
        if public is not None:
            parsed = parse_host(public.host)
            if parsed is not None:
                self.exact |= {parsed[0]}

    @property
    def restricts(self) -> bool:
        """Whether some Host is refused: there are entries or a ``public_url``, and no ``*``."""
        return not self.wildcard and (bool(self.trusted) or self.public is not None)

    def allows(self, host: object) -> bool:
        """Whether an absolute URL may use this ``Host`` value (fails closed)."""
        if not isinstance(host, str):
            return False
        parsed = parse_host(host)
        if parsed is None:
            return False
        name = parsed[0]
        if self.wildcard or name in self.exact:
            return True
        return any(name == s[1:] or name.endswith(s) for s in self.suffixes) and not name.startswith("[")


def request_host(environ: Mapping[str, Any]) -> str:
    """The host the client asked for: ``Host``, else ``SERVER_NAME[:SERVER_PORT]`` (PEP 3333)."""
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name = str(environ.get("SERVER_NAME", ""))
    port = str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return name if not port or port == default else f"{name}:{port}"


def request_origin(hub: Hub, environ: Environ | None, *, purpose: str = "an absolute URL") -> Origin:
    """The origin absolute URLs use for ``environ`` (or the current request).

    The request's scheme, Host and root when the Host is trusted; else
    ``public_url``; else :class:`~wsgihub.errors.UntrustedHostError`.
    """
    root = ""
    if environ is None:
        current = _current_request()
        if current is not None and current[0] is hub:
            environ, root = current[1], current[2]
    elif environ.get("wsgihub.hub") is hub:
        root = request_root(hub, environ)
    if environ is not None:
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = request_host(environ)
        parsed = parse_host(host) if hub.hosts.allows(host) else None
        if parsed is not None:
            return Origin(scheme, _format_host(*parsed, scheme), root)
        if hub.public_origin is not None:
            return hub.public_origin
        raise UntrustedHostError(
            f"cannot build {purpose}: Host {host!r} is not in trusted_hosts "
            f"{list(hub.trusted_hosts)} (set trusted_hosts or public_url)"
        )
    if hub.public_origin is not None:
        return hub.public_origin
    raise UntrustedHostError(f"cannot build {purpose} outside a request: set the hub's public_url")


def request_root(hub: Hub, environ: Environ) -> str:
    """The path in front of ``hub`` for one of its requests (the outer ``SCRIPT_NAME``)."""
    current = _current_request()
    if current is not None and current[0] is hub and current[1] is environ:
        return current[2]
    script_name = str(environ.get("SCRIPT_NAME", ""))
    peg: Peg | None = environ.get("pegboard.peg")
    if peg is not None and peg.board is hub and peg.prefix and script_name.endswith(peg.prefix):
        return script_name[: -len(peg.prefix)]
    return script_name


def build_url(
    hub: Hub,
    endpoint: str,
    values: dict[str, Any],
    *,
    external: bool,
    anchor: str | None,
    method: str | None,
    scheme: str | None,
) -> str:
    """What :meth:`wsgihub.Hub.url_for` does (see there)."""
    if not isinstance(endpoint, str):
        raise URLBuildError(f"url_for: endpoint must be a 'mount:endpoint' string, not {endpoint!r}", None)
    mount, sep, inner = endpoint.partition(":")
    pegs = hub.pegs_by_name
    if not sep or not inner:
        raise URLBuildError(
            f"endpoint {endpoint!r} names no mount: write 'mount:endpoint' "
            f"(mounts: {', '.join(sorted(pegs)) or 'none'})",
            endpoint,
        )
    peg = pegs.get(mount)
    if peg is None:
        raise UnknownMountError(f"cannot build {endpoint!r}: no mount named {mount!r}{closest(mount, pegs)}", endpoint)
    adapter = peg.adapter
    if adapter is None:
        raise NoAdapterError(
            f"cannot build {endpoint!r}: mount {mount!r} has no adapter "
            "(a plain WSGI app; install its framework's wsgihub plugin or pass framework=)",
            mount,
        )
    if scheme is not None:
        scheme = _checked_scheme(scheme, endpoint)
    current = _current_request()
    host = None
    if external:
        origin = request_origin(hub, None, purpose=f"absolute URL for {endpoint!r}")
        root, url_scheme, host = origin.root, scheme or origin.scheme, origin.host
    elif current is not None and current[0] is hub:
        root, url_scheme = current[2], str(current[1].get("wsgi.url_scheme", "http"))
    elif hub.public_origin is not None:
        root, url_scheme = hub.public_origin.root, hub.public_origin.scheme
    else:
        root, url_scheme = "", "http"
    try:
        url = adapter.build(inner, values, script_name=root + peg.prefix, scheme=url_scheme, host=host, method=method)
    except URLBuildError as exc:
        named = _named(exc, mount, endpoint)
        if named is exc:
            raise
        raise named from exc
    if anchor:
        url += "#" + quote(anchor, safe=_ANCHOR_SAFE)
    return url


#: RFC 3986's ``scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )``.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def _checked_scheme(scheme: object, endpoint: str) -> str:
    """``_scheme`` in lower case if it is ``http`` or ``https``; else :class:`URLBuildError`.

    A value that is not a scheme at all (``'http://evil.com/#'``) would put
    whatever it holds in front of the host of an absolute URL; any other
    scheme names no URL this site answers.
    """
    if not isinstance(scheme, str) or not _SCHEME.fullmatch(scheme):
        raise URLBuildError(
            f"cannot build {endpoint!r}: _scheme {scheme!r} is not a scheme "
            "(RFC 3986: a letter, then letters, digits, '+', '-', '.'); give 'http' or 'https'",
            endpoint,
        )
    lowered = scheme.lower()
    if lowered not in ("http", "https"):
        raise URLBuildError(
            f"cannot build {endpoint!r}: _scheme {scheme!r}: absolute URLs here are 'http' or 'https'", endpoint
        )
    return lowered


def _named(exc: URLBuildError, mount: str, endpoint: str) -> URLBuildError:
    """``exc`` with its message prefixed ``cannot build 'mount:endpoint': `` unless it has that."""
    message = str(exc)
    if message.startswith(f"cannot build '{mount}:"):
        return exc
    named = type(exc).__new__(type(exc))
    named.__dict__.update(exc.__dict__)
    named.args = (f"cannot build {endpoint!r}: {message}", *exc.args[1:])
    if getattr(named, "endpoint", None) is None:
        named.endpoint = endpoint
    return named


#: What a refused Host is answered (the Host is never echoed).
#: The body of every 400 for an untrusted Host (it never echoes the Host).
REFUSAL_BODY = "Bad Request: untrusted Host\n"
_REFUSAL = REFUSAL_BODY.encode()
_REFUSAL_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_REFUSAL)))]


def refuse_host(environ: Environ, start_response: StartResponse, host: str) -> list[bytes]:
    """Answer ``400 Bad Request`` for a request from an untrusted ``host`` (see :class:`HostCheck`).

    The body does not echo the Host; the ``wsgihub.security`` logger gets one line with it.
    """
    log_refused_host(environ, host)
    start_response("400 Bad Request", list(_REFUSAL_HEADERS))
    return [_REFUSAL]


def log_refused_host(environ: Environ, host: str, where: str = "") -> None:
    """The ``wsgihub.security`` line for a request answered 400 for its untrusted ``host``.

    ``where`` says where the Host was refused, in parentheses after the
    line (``"set inside the app"``).  Every refusal of a Host logs this one
    line: the answer's body never echoes the Host.
    """
    _log.warning(
        "400 for %s %s: Host %r is not trusted" + (f" ({where})" if where else ""),
        environ.get("REQUEST_METHOD", "GET"),
        environ.get("PATH_INFO", ""),
        host,
    )


#: ``refuse(environ, start_response, host)``: the answer to a request from an untrusted Host.
Refusal = Callable[["Environ", "StartResponse", str], Iterable[bytes]]


class HostCheck:
    """WSGI middleware: a request whose Host the hub does not trust is answered 400 before ``app``.

    For adapters of frameworks that use the request's Host on their own --
    redirects (``Location: http://<Host>/x/``) and absolute URLs that never go
    through the hub -- and check nothing, or check as text (Werkzeug, Flask):
    in front of such a mount, :meth:`HostTrust.allows` decides, so every
    mount answers a Host alike.  ``refuse`` makes the answer
    (:func:`refuse_host` unless given: the app never runs).  The Host is
    ``HTTP_HOST``, else ``SERVER_NAME[:SERVER_PORT]`` (:func:`request_host`).

    Put it in front with :meth:`guard`, which leaves the app as it is when
    the hub restricts nothing.  Every attribute it does not have is the
    app's (``import_name``, phase hooks), so it is seen through like the
    app; ``app`` is the wrapped callable.
    """

    __slots__ = ("app", "refuse", "trust")

    def __init__(self, app: Any, trust: HostTrust, refuse: Refusal | None = None) -> None:
        self.app = app
        self.trust = trust
        self.refuse: Refusal = refuse if refuse is not None else refuse_host

    @classmethod
    def guard(cls, app: Any, trust: HostTrust, refuse: Refusal | None = None) -> Any:
        """``app`` behind a check by ``trust``; ``app`` itself when ``trust`` refuses no Host
        or ``app`` already is a check by it (one mounted again)."""
        if not trust.restricts or (isinstance(app, cls) and app.trust is trust):
            return app
        return cls(app, trust, refuse)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or request_host(environ)
        if self.trust.allows(host):
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        return self.refuse(environ, start_response, host)

    def __getattr__(self, name: str) -> Any:
        if name in HostCheck.__slots__:  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.app, name)

    def __repr__(self) -> str:
        return f"<HostCheck {self.trust.trusted!r} in front of {self.app!r}>"


def refuse_untrusted_host(environ: Environ, start_response: StartResponse, error: UntrustedHostError) -> list[bytes]:
    """Answer ``400 Bad Request`` for a request whose app needed an untrusted Host.

    The hub calls this when :class:`~wsgihub.errors.UntrustedHostError`
    escapes from an app (an absolute URL for a Host that is not trusted and no
    ``public_url``): the client sent the bad Host, so it gets a client error,
    as Django answers ``DisallowedHost``, not a 500.  The body does not echo
    the Host; the ``wsgihub.security`` logger gets one line with it.
    """
    _log.warning("400 for %s %s: %s", environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), error)
    start_response(
        "400 Bad Request",
        list(_REFUSAL_HEADERS),
        (type(error), error, error.__traceback__),  # lets a server that already sent headers re-raise
    )
    return [_REFUSAL]
