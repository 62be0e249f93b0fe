"""The front layers of ``wsgihub serve`` for requests an ASGI mount serves natively.

Under ``wsgihub serve --server uvicorn|granian`` (and the uvicorn workers)
:class:`wsgihub.asgi.ASGIHub` calls ASGI mounts on the event loop, not
through the WSGI front (:func:`wsgihub.servers.front.front`); such a request
gets the same layers, with the same options and rules, from
:class:`NativeFront`, done on the ASGI scope and messages: forwarded headers
only from ``--forwarded-allow-ips``, the request ID, the access-log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from contextvars import Token
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .accesslog import AccessLog
from .logconfig import access_log_configured
from .proxy import DEFAULT_FORWARDED_ALLOW_IPS, TrustedProxies, resolve_forwarding
from .requestid import DEFAULT_HEADER as DEFAULT_REQUEST_ID_HEADER
from .requestid import ENVIRON_KEY as REQUEST_ID_KEY
from .requestid import REQUEST_ID_VAR as _request_id_var
from .requestid import VALID_ID as _VALID_ID
from .requestid import install_record_factory, new_request_id, reset_request_id
from .urls import parse_host

if TYPE_CHECKING:
    from .board import Peg
    from .types import Environ, Message, Scope, Send, StartResponse

__all__ = ["NativeFront"]

#: Request headers a proxy sets (the ``x-forwarded-`` family is matched by prefix).
_OTHER_PROXY_HEADERS = (b"forwarded", b"x-real-ip")


def _is_forwarded(name: bytes) -> bool:
    return name[:12] == b"x-forwarded-" or name in _OTHER_PROXY_HEADERS


def _no_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI app of the access log native requests use (only its ``log_request`` is called)."""
    raise RuntimeError("the native access log is not a WSGI middleware")


#: Request header names that may be a proxy's: checked exactly (:func:`_is_forwarded`) when one is there.
_PROXY_PREFIXES = (b"x-forwarded-", b"forwarded", b"x-real-ip")

#: The messages the request-ID header is added to.
_STARTS = frozenset(("http.response.start", "websocket.accept"))

#: The context variable behind :func:`wsgihub.requestid.current_request_id` (set and reset
#: directly: no Python call of its own per request); the ID pool's ``list.pop`` and refill.
_set_id = _request_id_var.set
_reset_id = _request_id_var.reset


class _IdSend:
    """The ``send`` of a native request with an ID and no access log: adds the ID header.

    The app gets the bound :meth:`forward` (a plain call returning the
    server's awaitable); ``http.response.start`` and ``websocket.accept``
    gain the header unless the app set it, every other message passes as it
    is.  :class:`_FrontSend` does the same and counts for the access log.
    """

    __slots__ = ("header", "key", "send", "token")

    send: Send
    key: bytes
    header: tuple[bytes, bytes]
    token: Token[str]

    # Made by a call of the class and its attributes set after: no Python ``__init__`` (a call
    # of the class then costs ~0.3k instructions less than ``object.__new__(cls)``).

    def forward(self, message: Message) -> Awaitable[None]:
        if message["type"] in _STARTS:
            message = _with_header(message, self.key, self.header)
        return self.send(message)


def _with_header(message: Message, key: bytes, header: tuple[bytes, bytes]) -> Message:
    """``message`` (a response start) with ``header`` added unless the app set one named ``key``.

    A copy: the app's own message and header list are left as they are (an
    app may send the same one again).  Headers given as an iterator are read once.
    """
    headers = message.get("headers") or ()
    if type(headers) is not list and type(headers) is not tuple:
        headers = list(headers)
    size = len(key)
    for name, _value in headers:
        if len(name) == size and name.lower() == key:
            return message if headers is message.get("headers") else dict(message, headers=headers)
    copy = dict(message)  # (C-level: ~0.7k instructions less than {**message, ...})
    copy["headers"] = [*headers, header]
    return copy


def end_id(request: _IdSend) -> None:
    """End a request's ID context (``"-"`` when ended in another context than it began in)."""
    try:
        _reset_id(request.token)
    except (ValueError, RuntimeError):  # (as wsgihub.requestid.reset_request_id)
        _set_id("-")


class _FrontSend:
    """The ``send`` a native app gets under the front layers: adds the ID header, counts for the log.

    A plain call returning the server's awaitable (no coroutine of its own);
    the ID header is added to ``http.response.start`` and ``websocket.accept``
    unless the app set it.  It also carries what :meth:`NativeFront.end`
    needs: the ID's context token, the status and the body bytes sent.
    """

    __slots__ = ("header", "key", "send", "sent", "started", "status", "token")

    # Made as :class:`_IdSend` is: :meth:`NativeFront.begin` sets every attribute.
    send: Send
    key: bytes | None
    header: tuple[bytes, bytes] | None
    token: Token[str] | None
    status: int | None
    sent: int
    started: float

    def __call__(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "http.response.body":
            self.sent += len(message.get("body", b""))
        elif kind == "http.response.start" or kind == "websocket.accept":
            self.status = message.get("status", 101)
            if self.key is not None:
                message = _with_header(message, self.key, self.header)  # type: ignore[arg-type]
        elif kind == "websocket.close" and self.status is None:
            self.status = 403  # refused before accepting: the server answers 403
        return self.send(message)


class NativeFront:
    """The front layers of ``wsgihub serve`` for requests the hub serves natively (ASGI mounts).

    What :func:`wsgihub.servers.front.front` does for the WSGI side, with the
    same options and rules, done on the ASGI scope and messages:

    - **forwarded headers** (``--forwarded-allow-ips``, :mod:`wsgihub.proxy`):
      from a trusted peer, ``X-Forwarded-*`` / ``Forwarded`` set the scope's
      ``client``, ``scheme``, ``server`` and ``host`` header, and an
      ``X-Forwarded-Prefix`` goes in front of ``root_path`` and ``path``;
      from any other peer every forwarded header is removed from the scope
      before the app sees it;
    - **request ID** (``--request-id-header``, :mod:`wsgihub.requestid`): kept
      from the request when well-formed, else made; in the scope as
      ``scope["wsgihub.request_id"]`` (and in the environ ``url_for`` reads), on
      every log record while the app runs, and in the response's header
      (HTTP, and the websocket handshake's ``websocket.accept``) unless the app
      set it.

    - **access log** (``--access-log``, a configured ``wsgihub.access``
      logger): the same line as a WSGI request's
      (:meth:`wsgihub.accesslog.AccessLog.log_request`: time, method, path,
      status, bytes, duration, mount, endpoint, request ID, client), written
      when the app returned (a websocket: when it closed, status 101).

    Off layers cost nothing; with the defaults (no
    proxy trusted, request IDs on) a request costs one pass over its headers,
    an ID, and a wrapper around ``send``.
    """

    __slots__ = ("first_bytes", "header", "header_bytes", "header_key", "log", "trusted", "trusting")

    def __init__(self, options: Any) -> None:
        header = getattr(options, "request_id_header", DEFAULT_REQUEST_ID_HEADER)
        #: The request-ID header (``None``: no request IDs).
        self.header: str | None = header or None
        self.header_key = self.header.lower().encode("latin-1") if self.header else None
        self.header_bytes = self.header.encode("latin-1") if self.header else b""
        #: First bytes of the request header names the front reads (the ID's, the proxies').
        self.first_bytes = frozenset(b"xf" + (self.header_key or b"")[:1])
        allow_ips = getattr(options, "forwarded_allow_ips", None) or DEFAULT_FORWARDED_ALLOW_IPS
        self.trusted = TrustedProxies(allow_ips)
        self.trusting = bool(self.trusted)
        if self.header is not None:
            install_record_factory()
        #: The access log (``--access-log``, or a configured ``wsgihub.access`` logger), else ``None``.
        self.log: AccessLog | None = None
        if getattr(options, "access_log", None) or access_log_configured():
            self.log = AccessLog(_no_app, log_format=getattr(options, "log_format", None) or "text")

    def begin(self, scope: Scope, root: str, send: Send) -> tuple[str, Send, _FrontSend | _IdSend | None]:
        """Apply the front layers to ``scope`` before the app runs: ``(root, send, request)``.

        ``root`` gains a trusted proxy's prefix; ``send`` is the one the app
        gets; :meth:`end` takes ``request`` once the app returned.  Plain
        calls, no coroutine: what every request pays.  With no access log,
        ``request`` is an :class:`_IdSend` (or ``None``) and :func:`end_id`
        ends it, the same as :meth:`end` does.
        """
        key = self.header_key
        incoming: bytes | None = None
        forwarded = False
        first = self.first_bytes
        # (a loop: cheaper than any C-level scan for a few headers; most names start with neither
        # the ID header's first letter nor x/f, and skip both checks: startswith costs ~1k instructions)
        for name, value in scope["headers"]:
            if name and name[0] in first:
                if name == key:
                    incoming = value  # the last one counts, as under WSGI
                elif name.startswith(_PROXY_PREFIXES):
                    forwarded = True
        if forwarded:
            root = self._forward(scope, root)
        log = self.log
        if key is None:
            if log is None:
                return root, send, None
            request_id = None
        else:
            request_id = None
            if incoming is not None:
                text = incoming.decode("latin-1")
                if _VALID_ID.fullmatch(text) is not None:
                    request_id = text
            if request_id is None:
                request_id = new_request_id()
            scope[REQUEST_ID_KEY] = request_id
            if log is None:
                id_send = _IdSend()
                id_send.send = send
                id_send.key = key
                id_send.header = (self.header_bytes, request_id.encode())  # (ASCII: the pattern, or hex)
                id_send.token = _set_id(request_id)
                return root, id_send.forward, id_send
        request = _FrontSend()
        request.send = send
        request.key = key
        request.status = None
        request.sent = 0
        if request_id is not None:
            request.header = (self.header_bytes, request_id.encode("latin-1"))
            request.token = _set_id(request_id)
        else:
            request.header = None
            request.token = None
        request.started = perf_counter()
        return root, request, request

    def end(self, request: _FrontSend | _IdSend | None, scope: Scope, peg: Peg) -> None:
        """The app returned: write the access-log line (if on), end the request ID's context."""
        if request is None:
            return
        if type(request) is _IdSend:
            end_id(request)
            return
        assert isinstance(request, _FrontSend)
        log = self.log
        if log is not None:
            client = scope.get("client")
            root_path = scope.get("root_path", "")
            path = scope["path"]
            host = None
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                    break
            log.log_request(
                started=request.started,
                remote_addr=str(client[0]) if client else None,
                method=scope.get("method", "GET"),
                path=path,
                status=request.status if request.status is not None else 500,
                sent=request.sent,
                request_id=scope.get(REQUEST_ID_KEY),
                peg=peg,
                script_name=root_path,
                path_info=path.removeprefix(root_path),
                host=host,
            )
        token = request.token
        if token is not None:
            reset_request_id(token)

    def _forward(self, scope: Scope, root: str) -> str:
        """Apply a trusted proxy's forwarded headers to ``scope``, or remove them; the new root."""
        headers = scope["headers"]
        client = scope.get("client")
        peer = str(client[0]) if client else None
        if not (self.trusting and self.trusted.trusts(peer)):
            scope["headers"] = [(n, v) for n, v in headers if not _is_forwarded(n)]
            return root
        environ: dict[str, Any] = {"REMOTE_ADDR": peer}
        for name, value in headers:
            if _is_forwarded(name):
                wsgi_key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
                text = value.decode("latin-1")
                environ[wsgi_key] = f"{environ[wsgi_key]},{text}" if wsgi_key in environ else text
        found = resolve_forwarding(environ, self.trusted)
        if found is None:
            scope["headers"] = [(n, v) for n, v in headers if not _is_forwarded(n)]
            return root
        # one kind of header per proxy: drop the kind that was not read (as wsgihub.proxy does)
        if "HTTP_X_FORWARDED_FOR" in environ:
            dropped: tuple[bytes, ...] = (b"forwarded",)
        elif "HTTP_FORWARDED" in environ:
            dropped = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")
        else:
            dropped = ()
        kept = [(n, v) for n, v in headers if n not in dropped]
        if found.client is not None:
            port = int(found.client_port) if found.client_port else 0
            scope["client"] = (found.client, port)
        if found.scheme is not None:
            websocket = scope["type"] == "websocket"
            scope["scheme"] = ("wss" if websocket else "https") if found.scheme == "https" else ("ws" if websocket else "http")
        if found.host is not None:
            kept = [(n, v) for n, v in kept if n != b"host"]
            kept.append((b"host", found.host.encode("latin-1")))
            parsed = parse_host(found.host)
            if parsed is not None:
                default = 443 if scope.get("scheme") in ("https", "wss") else 80
                scope["server"] = (parsed[0].strip("[]"), parsed[1] or default)
        scope["headers"] = kept
        if found.prefix is not None:
            prefix = found.prefix
            scope["path"] = prefix + scope["path"]
            raw = scope.get("raw_path")
            if raw is not None:
                scope["raw_path"] = prefix.encode("latin-1") + raw
            root = prefix + root
        return root
