"""Forwarded headers: the client, scheme, host and prefix a trusted proxy saw.

::

    wsgihub serve site.ini --forwarded-allow-ips 127.0.0.1,10.0.0.0/8

Behind a reverse proxy or load balancer the TCP peer of every request is
the proxy, and the request it sends names the backend, over plain HTTP.
The proxy says what the client really asked for in request headers --
``X-Forwarded-For``, ``X-Forwarded-Proto``, ``X-Forwarded-Host``,
``X-Forwarded-Prefix``, or RFC 7239's ``Forwarded`` -- and any client can
send the same headers.  :class:`ProxyHeaders` (the outermost front layer of
:func:`wsgihub.servers.front.front`) believes them only when the request's
peer (``REMOTE_ADDR`` as the server set it) is in ``--forwarded-allow-ips``
(gunicorn's option, same meaning: addresses or networks separated by
commas, ``*`` for any peer; the default ``''`` trusts no one).  From a trusted peer:

* **client address** -> ``REMOTE_ADDR`` (and ``REMOTE_PORT`` when the proxy
  gave one): the list of hops is read from the right, skipping every hop
  that is itself a trusted proxy; the first one that is not is the client
  (nginx's ``real_ip_recursive``).  ``for=unknown``, an obfuscated
  identifier (``for=_hidden``) or an entry that is not an address stop the
  walk: ``REMOTE_ADDR`` then becomes ``unknown`` or that identifier --
  never the proxy's own address, which an allow list (the inspector's)
  might trust.  The peer's address stays in ``environ["wsgihub.proxy.peer"]``
  and every value replaced in ``environ["wsgihub.proxy.orig"]``.
* **scheme** -> ``wsgi.url_scheme`` (``http`` or ``https`` only);
* **host** -> ``HTTP_HOST``, ``SERVER_NAME``, ``SERVER_PORT`` (a value
  :func:`wsgihub.urls.parse_host` accepts; absolute URLs still use it only
  when it is in the hub's ``trusted_hosts``);
* **prefix** (``X-Forwarded-Prefix``, the path the proxy stripped) is put in
  front of ``SCRIPT_NAME`` when it is a valid mount prefix (unreserved
  ASCII segments), else ignored.  This is the only way a request header
  reaches ``SCRIPT_NAME``.

Which value of a list: a proxy appends to ``X-Forwarded-For`` (or adds a
``Forwarded`` element) per hop, while ``-Proto``/``-Host``/``-Prefix`` are
set or appended.  With *n* trusted hops found while reading the client
address (the peer plus each trusted entry), the value used is the *n*-th
from the right, or the leftmost when there are fewer (so a value a client
sent in front of the proxy's own is never used).  ``Forwarded`` carries
each hop's ``proto`` and ``host`` in the element whose ``for`` is the
client.

**One kind of header per proxy.**  A proxy that writes ``X-Forwarded-*``
usually passes a ``Forwarded`` header from the client through untouched,
and the other way round.  So when a trusted peer's request has
``X-Forwarded-For`` the ``X-Forwarded-*`` headers are read and
``Forwarded`` is ignored and removed; otherwise ``Forwarded`` is read
(when present) and ``X-Forwarded-For``/``-Proto``/``-Host`` are ignored and
removed (``X-Forwarded-Prefix`` is read with either: ``Forwarded`` has no
prefix).  A proxy that writes ``Forwarded`` must remove incoming
``X-Forwarded-For`` (haproxy: ``http-request del-header X-Forwarded-For``).

**Everyone else.**  From a peer that is not trusted -- with the default,
every peer -- every forwarded header (``Forwarded``, ``X-Forwarded-*``,
``X-Real-IP``) is removed from the environ before anything else sees it, so
an app that reads them itself (Django's ``USE_X_FORWARDED_HOST`` or
``SECURE_PROXY_SSL_HEADER``, a Werkzeug ``ProxyFix``) cannot be fooled
either, under waitress and gunicorn alike (``wsgihub serve`` turns off
waitress's own, partial, clearing so that this layer alone decides).

Bounded work on hostile input: at most :data:`MAX_HOPS` entries are read
from the right of any list; a ``Forwarded`` header that does not parse
(RFC 7239 section 4: quoted strings, no repeated parameter in an element)
is ignored as a whole, with the client address ``unknown``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING

from .board import normalize_prefix
from .errors import MountError
from .urls import parse_host

if TYPE_CHECKING:
    from .types import Environ, StartResponse, WSGIApplication

__all__ = [
    "DEFAULT_FORWARDED_ALLOW_IPS",
    "MAX_HOPS",
    "ORIG_KEY",
    "Forwarding",
    "ProxyHeaders",
    "TrustedProxies",
    "is_forwarded_header",
    "parse_forwarded",
    "resolve_forwarding",
]

#: Trust no proxy unless told (gunicorn's own default trusts 127.0.0.1).
DEFAULT_FORWARDED_ALLOW_IPS = ""

#: Environ key of the values a trusted proxy's headers replaced (``{"REMOTE_ADDR": ...}``).
ORIG_KEY = "wsgihub.proxy.orig"

#: Entries read from the right of a forwarded list; the rest is never looked at.
MAX_HOPS = 32

#: What the client address becomes when a trusted proxy could not name it.
UNKNOWN = "unknown"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_XFF = "HTTP_X_FORWARDED_FOR"
_XFP = "HTTP_X_FORWARDED_PROTO"
_XFH = "HTTP_X_FORWARDED_HOST"
_XFPREFIX = "HTTP_X_FORWARDED_PREFIX"
_FORWARDED = "HTTP_FORWARDED"
#: Removed from an untrusted peer's request (the X-Forwarded-* family is matched by prefix).
_OTHER_PROXY_HEADERS = (_FORWARDED, "HTTP_X_REAL_IP")
_X_FORWARDED = "HTTP_X_FORWARDED_"
#: What the environ key of each header :class:`ProxyHeaders` removes starts with: one pass
#: over the keys in C (``str.startswith``) finds whether there is any to look at exactly.
_PROXY_PREFIXES = (_X_FORWARDED, *_OTHER_PROXY_HEADERS)
_starts_with = str.startswith


def is_forwarded_header(name: str) -> bool:
    """Whether ``name`` (a request header, ``X-Forwarded-For``) is one :class:`ProxyHeaders` removes.

    From a peer it does not trust it removes every ``X-Forwarded-*``,
    ``Forwarded`` and ``X-Real-IP`` header before the app (or a layer
    inside it) sees the request.
    """
    return _is_proxy_key("HTTP_" + name.upper().replace("-", "_"))


def _is_proxy_key(key: str) -> bool:
    """Whether the environ key ``key`` is a header :class:`ProxyHeaders` removes from an untrusted peer."""
    return key[:17] == _X_FORWARDED or key in _OTHER_PROXY_HEADERS


_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": "80", "https": "443"}

# RFC 7230 token and quoted-string, RFC 7239 forwarded-pair.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*"'
_PAIR = re.compile(rf"[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})[ \t]*")
_UNESCAPE = re.compile(r"\\(.)")
#: RFC 7239 obfnode / obfport: ``_`` then letters, digits, ``.``, ``_``, ``-``.
_OBFUSCATED = re.compile(r"_[A-Za-z0-9._-]{1,64}\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
#: Addresses, hops and hosts remembered between requests (bounded: they come from clients).
_CACHE_SIZE = 1024

#: Longest header value looked at; longer ones are read from their right end only.
_MAX_VALUE = MAX_HOPS * 256


class TrustedProxies:
    """The peers whose forwarded headers are believed: ``--forwarded-allow-ips``.

    ``"127.0.0.1, ::1, 10.0.0.0/8"`` -> addresses and networks (an address
    with host bits under its mask is refused, as gunicorn does); ``"*"``
    trusts any peer; ``""`` none.  An IPv4-mapped IPv6 peer
    (``::ffff:10.0.0.5``) is matched as its IPv4 address.  Raises
    ``ValueError`` naming the first entry that is neither.
    """

    __slots__ = ("_seen", "any", "networks", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._seen: dict[str, bool] = {}
        self.any = False
        networks: list[_Network] = []
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            if entry == "*":
                self.any = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError as exc:
                detail = f" ({exc})" if "host bits" in str(exc) else ""
                raise ValueError(f"{entry!r} is not an IP address or network{detail}") from None
        self.networks: tuple[_Network, ...] = tuple(networks)

    def __bool__(self) -> bool:
        """Whether any peer at all is trusted (the layer is on)."""
        return self.any or bool(self.networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({self.text!r})"

    def trusts(self, address: object) -> bool:
        """Whether ``address`` (a ``REMOTE_ADDR`` or a forwarded hop) is a trusted proxy.

        Answers are remembered (at most :data:`_CACHE_SIZE` addresses, then
        the memory starts afresh): peers repeat, and the check is per request.
        """
        if not isinstance(address, str):
            return False
        known = self._seen.get(address)
        if known is not None:
            return known
        ip = _ip(address)
        answer = ip is not None and (self.any or any(ip in network for network in self.networks))
        if len(self._seen) >= _CACHE_SIZE:
            self._seen.clear()
        self._seen[address] = answer
        return answer


@lru_cache(maxsize=_CACHE_SIZE)
def _ip(text: str) -> _Address | None:
    """``text`` as an address (IPv4-mapped IPv6 as IPv4), or ``None``; zone ids refused."""
    if not text or len(text) > 45 or "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True, slots=True)
class _Node:
    """One hop as a forwarded header names it (RFC 7239 section 6)."""

    #: The address (compressed), ``unknown``, or an obfuscated identifier.
    name: str
    #: Numeric port, if the proxy gave one.
    port: str | None = None
    #: Whether ``name`` is an IP address (only those can be trusted proxies).
    is_ip: bool = False


_UNKNOWN_NODE = _Node(UNKNOWN)


@lru_cache(maxsize=_CACHE_SIZE)
def _node(text: str, *, bracketed_only: bool) -> _Node:
    """Parse one hop: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]``, ``"[::1]:80"``, ``::1``, ``unknown``, ``_x``.

    ``bracketed_only``: RFC 7239 writes IPv6 in brackets; ``X-Forwarded-For``
    commonly does not.  Anything else is :data:`UNKNOWN` (never echoed).
    """
    text = text.strip()
    if text.lower() == UNKNOWN:
        return _UNKNOWN_NODE
    if _OBFUSCATED.match(text):
        return _Node(text)
    port: str | None = None
    host = text
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return _UNKNOWN_NODE
        host, after = text[1:end], text[end + 1 :]
        if after:
            if not after.startswith(":"):
                return _UNKNOWN_NODE
            port = after[1:]
        ip = _ip(host)
        if not isinstance(ip, ipaddress.IPv6Address):
            return _UNKNOWN_NODE
    else:
        if text.count(":") == 1:
            host, port = text.split(":")
            if host.lower() == UNKNOWN:
                return _UNKNOWN_NODE
            if _OBFUSCATED.match(host):
                return _Node(host)
        ip = _ip(host)
        if ip is None or (isinstance(ip, ipaddress.IPv6Address) and bracketed_only):
            return _UNKNOWN_NODE
        if isinstance(ip, ipaddress.IPv6Address) and port is not None:
            return _UNKNOWN_NODE
    if port is not None:
        if _OBFUSCATED.match(port):
            port = None
        elif not _PORT.match(port) or not 0 < int(port) <= 65535:
            return _UNKNOWN_NODE
    return _Node(ip.compressed, port, True)


def _list(value: str) -> list[str]:
    """The last :data:`MAX_HOPS` comma-separated entries of a header value, stripped."""
    if len(value) > _MAX_VALUE:
        value = value[-_MAX_VALUE:]
        value = value[value.find(",") + 1 :] if "," in value else ""
    return [entry.strip() for entry in value.rsplit(",", MAX_HOPS)[-MAX_HOPS:]]


def parse_forwarded(value: str) -> list[dict[str, str]] | None:
    """RFC 7239 ``Forwarded`` -> one dict per element (parameter names lower-cased).

    ``for=192.0.2.60;proto=http, for="[2001:db8::1]:80"`` ->
    ``[{"for": "192.0.2.60", "proto": "http"}, {"for": "[2001:db8::1]:80"}]``.
    Quoted strings are unquoted; empty elements are skipped; only the last
    :data:`MAX_HOPS` elements are kept.  ``None`` when the value does not
    parse, a parameter repeats within an element, or it is longer than
    :data:`MAX_HOPS` elements could reasonably be.
    """
    if len(value) > _MAX_VALUE:
        return None
    elements: list[dict[str, str]] = []
    element: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        while pos < end and value[pos] in " \t":
            pos += 1
        if pos >= end:
            break
        char = value[pos]
        if char in ";,":
            if char == "," and element:
                elements.append(element)
                element = {}
            pos += 1
            continue
        pair = _PAIR.match(value, pos)
        if pair is None:
            return None
        name, raw = pair.group(1).lower(), pair.group(2)
        if name in element:
            return None
        element[name] = _UNESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
        pos = pair.end()
        if pos < end and value[pos] not in ";,":
            return None
    if element:
        elements.append(element)
    return elements[-MAX_HOPS:]


@dataclass(frozen=True, slots=True)
class Forwarding:
    """What a trusted proxy's headers say about one request (``None``: not said, or not valid)."""

    #: The client address (``REMOTE_ADDR``): an address, ``unknown`` or an obfuscated identifier.
    client: str | None = None
    #: The client's port, when the proxy gave a numeric one.
    client_port: str | None = None
    #: ``http`` or ``https``.
    scheme: str | None = None
    #: ``name[:port]`` as :func:`wsgihub.urls.parse_host` accepts it.
    host: str | None = None
    #: A valid mount prefix (``/app``), never ``""``.
    prefix: str | None = None


def _walk(nodes: list[_Node], trusted: TrustedProxies) -> tuple[_Node, int]:
    """The client among ``nodes`` (read from the right past trusted proxies) and the hop count.

    The hop count is how many trusted proxies handled the request: the
    peer plus each trusted node skipped.
    """
    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if not (node.is_ip and trusted.trusts(node.name)):
            return node, len(nodes) - index
    if len(nodes) >= MAX_HOPS:  # read no further: who is beyond is not known
        return _UNKNOWN_NODE, len(nodes)
    return nodes[0], len(nodes)  # every hop a trusted proxy: the first one is the client


def _pick(value: str | None, hops: int) -> str | None:
    """The ``hops``-th value from the right of a set-or-appended header, or its leftmost."""
    if not value:
        return None
    values = _list(value)
    return values[max(0, len(values) - hops)] or None


def _scheme(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if value in _SCHEMES else None


def _host(value: str | None) -> str | None:
    if not value:
        return None
    return _valid_host(value.strip())


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_host(value: str) -> tuple[str, int | None] | None:
    """:func:`wsgihub.urls.parse_host`, remembered (a proxy sends the same few hosts)."""
    return parse_host(value)


def _valid_host(value: str) -> str | None:
    return value.lower() if _parse_host(value) is not None else None


@lru_cache(maxsize=_CACHE_SIZE)
def _prefix(value: str | None) -> str | None:
    if not value or not value.startswith("/") or "//" in value or len(value) > 1024:
        return None
    try:
        return normalize_prefix(value) or None
    except MountError:
        return None


def resolve_forwarding(environ: Environ, trusted: TrustedProxies) -> Forwarding | None:
    """What the forwarded headers of ``environ`` say, if its peer is trusted; else ``None``.

    Pure: reads ``environ`` only (:class:`ProxyHeaders` applies the result).
    """
    if not trusted.trusts(environ.get("REMOTE_ADDR")):
        return None
    xff = environ.get(_XFF)
    forwarded = environ.get(_FORWARDED)
    if xff is None and forwarded is not None:
        elements = parse_forwarded(str(forwarded))
        if elements is None:  # unreadable: no element can be told from the client's
            return Forwarding(client=UNKNOWN, prefix=_prefix(_pick(environ.get(_XFPREFIX), 1)))
        if not elements:  # only separators: nothing said (X-Forwarded-Proto/-Host stay unread)
            return Forwarding(prefix=_prefix(_pick(environ.get(_XFPREFIX), 1)))
        nodes = [
            _node(element["for"], bracketed_only=True) if "for" in element else _UNKNOWN_NODE
            for element in elements
        ]
        client, hops = _walk(nodes, trusted)
        chosen = elements[len(elements) - hops]
        return Forwarding(
            client.name,
            client.port,
            _scheme(chosen.get("proto")),
            _host(chosen.get("host")),
            _prefix(_pick(environ.get(_XFPREFIX), hops)),
        )
    hops = 1
    found: _Node | None = None
    if xff:
        entries = _list(str(xff))
        if any(entries):
            found, hops = _walk([_node(e, bracketed_only=False) for e in entries], trusted)
    return Forwarding(
        found.name if found is not None else None,
        found.port if found is not None else None,
        _scheme(_pick(environ.get(_XFP), hops)),
        _host(_pick(environ.get(_XFH), hops)),
        _prefix(_pick(environ.get(_XFPREFIX), hops)),
    )


def _any_proxy_key(environ: Environ) -> bool:
    """Whether ``environ`` may hold a header :class:`ProxyHeaders` removes (``True``: look).

    The keys are scanned in C (a Python loop over ~25 keys was ~350 bytecodes a
    request, every request); a key that is not a string (not PEP 3333's) makes it look.
    """
    try:
        return any(map(_starts_with, environ, repeat(_PROXY_PREFIXES)))
    except TypeError:
        return True


def _remember(environ: MutableMapping[str, object], orig: dict[str, object], key: str, value: str) -> None:
    """Set ``environ[key]``, keeping what was there in ``orig`` (once)."""
    if key not in orig:
        orig[key] = environ.get(key)
    environ[key] = value


class ProxyHeaders:
    """WSGI middleware: apply a trusted proxy's forwarded headers, drop anyone else's.

    ``allow_ips`` is the text of ``--forwarded-allow-ips`` (see the module
    docs); a bad entry raises ``ValueError`` naming it.  Builds nothing per
    request beyond the values it sets.
    """

    def __init__(self, app: WSGIApplication, allow_ips: str) -> None:
        self.app = app
        self.trusted = TrustedProxies(allow_ips)
        self._trusting = bool(self.trusted)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgihub.proxy.peer"] = environ.get("REMOTE_ADDR")
        forwarding = resolve_forwarding(environ, self.trusted) if self._trusting else None
        if forwarding is None:
            if _any_proxy_key(environ):
                for key in [k for k in environ if _is_proxy_key(k)]:
                    del environ[key]
            return self.app(environ, start_response)
        # one kind of header per proxy: drop the kind that was not read
        if environ.get(_XFF) is not None:
            environ.pop(_FORWARDED, None)
        elif environ.get(_FORWARDED) is not None:
            for key in (_XFF, _XFP, _XFH):
                environ.pop(key, None)
        orig: dict[str, object] = {}
        if forwarding.client is not None:
            _remember(environ, orig, "REMOTE_ADDR", forwarding.client)
            if forwarding.client_port is not None:
                _remember(environ, orig, "REMOTE_PORT", forwarding.client_port)
        scheme = forwarding.scheme
        if scheme is not None:
            _remember(environ, orig, "wsgi.url_scheme", scheme)
        if forwarding.host is not None:
            _remember(environ, orig, "HTTP_HOST", forwarding.host)
            parsed = _parse_host(forwarding.host)
            assert parsed is not None  # checked by resolve_forwarding
            name, port = parsed
            url_scheme = str(environ.get("wsgi.url_scheme", "http"))
            _remember(environ, orig, "SERVER_NAME", name)
            _remember(environ, orig, "SERVER_PORT", str(port) if port else _DEFAULT_PORTS.get(url_scheme, "80"))
        if forwarding.prefix is not None:
            _remember(environ, orig, "SCRIPT_NAME", forwarding.prefix + str(environ.get("SCRIPT_NAME", "")))
        environ[ORIG_KEY] = orig
        return self.app(environ, start_response)
