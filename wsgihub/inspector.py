"""The inspector page: what this process serves, for the people running it.

::

    wsgihub serve site.ini --inspect /_hub                          # local clients only
    wsgihub serve site.ini --inspect /_hub --inspect-allow-ips 10.0.0.0/8,127.0.0.1

    http://127.0.0.1:8080/_hub        an HTML page
    http://127.0.0.1:8080/_hub.json   the same as JSON (:func:`inspect_hub`)

It shows the mounts (prefix, framework, adapter, the mount a graft lies
over and the routes of that mount each graft takes), the findings of the
site's checks, the route table, the partyline services and who answers
them, the plugins and the versions of Python, wsgihub, the frameworks and
the plugins' distributions, and the bus state.

It is **off by default** and answered only to clients whose address
(``REMOTE_ADDR``, after the forwarded-header layer decided whom to trust)
is in ``--inspect-allow-ips`` (default ``127.0.0.1,::1``; addresses or
networks, ``*`` for anyone); everyone else gets a plain 404, as if the
path did not exist, and no app is called.  It **never shows settings**:
nothing of an app's configuration, environment or ``peg.context`` is read,
only names, prefixes, rules, versions and the checks' messages; every
value is HTML-escaped, and the page sends no script and forbids any
(``Content-Security-Policy: default-src 'none'``).

Plain string templates, no template engine; the core imports no framework.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["DEFAULT_ALLOW_IPS", "Inspector", "inspect_hub", "inspector_paths", "parse_allow_ips", "render_html"]

#: Who may see the inspector unless told otherwise: this host only.
DEFAULT_ALLOW_IPS = "127.0.0.1,::1"

#: Distributions whose versions are shown when installed (besides the plugins').
_KNOWN_DISTRIBUTIONS = (
    "wsgihub",
    "django",
    "flask",
    "werkzeug",
    "pyramid",
    "waitress",
    "gunicorn",
    "pastedeploy",
    "pluggy",
)

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]


def parse_allow_ips(text: str) -> tuple[_Network, ...] | None:
    """``"127.0.0.1,::1,10.0.0.0/8"`` -> networks; ``"*"`` -> ``None`` (anyone).

    Raises ``ValueError`` naming the entry that is neither an address nor a network.
    """
    entries = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    if "*" in entries:
        return None
    networks: list[_Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def _allowed(address: str | None, networks: Sequence[_Network] | None) -> bool:
    if networks is None:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


# -- the report ---------------------------------------------------------------------------------
def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _routes_of(peg: Peg) -> list[Any]:
    if peg.adapter is None:
        return []
    try:
        return list(peg.adapter.routes())
    except Exception:  # noqa: BLE001 - a broken adapter must not break the page
        return []


def _graft_takes(hub: Hub) -> dict[str, list[str]]:
    """Per graft, the routes of the mount beneath it takes, in full or in part (the migration report)."""
    return {r.graft: [t.message for t in [*r.takes, *r.partial]] for r in hub.graft_report()}


def _findings(hub: Hub) -> list[dict[str, Any]]:
    """The checks' findings (``wsgihub check --json``'s rows): id, level, message, mounts."""
    return [finding.as_dict() for finding in hub.findings()]


def _services(hub: Hub) -> list[dict[str, Any]]:
    owners: dict[int, str] = {}
    for peg in hub.pegs():
        if peg.operator is not None:
            for handler in list(peg.operator.handlers):
                owners[id(handler)] = peg.name
    rows = []
    for service, handlers in sorted(hub.partyline.handlers.items()):
        rows.append(
            {"service": service, "answered_by": [owners.get(id(h), "(a plugin)") for h in handlers]}
        )
    return rows


def inspect_hub(hub: Hub) -> dict[str, Any]:
    """Everything the inspector shows, as JSON-ready data (no settings, no secrets)."""
    pegs = hub.pegs()
    takes = _graft_takes(hub)
    mounts = []
    for peg in pegs:
        adapter = peg.adapter
        mounts.append(
            {
                "name": peg.name,
                "prefix": peg.prefix or "/",
                "framework": peg.framework or "wsgi",
                "adapter": f"{type(adapter).__module__}.{type(adapter).__qualname__}" if adapter else None,
                "over": peg.over.name if peg.over is not None else None,
                "grafts": [g.name for g in getattr(peg, "grafts", ())],
                "takes": takes.get(peg.name, []),
                "routes": len(_routes_of(peg)),
            }
        )
    routes = [
        {
            "name": r.name,
            "methods": sorted(r.methods) if r.methods is not None else None,
            "rule": r.rule,
            "framework": r.framework or "wsgi",
            "grafted": r.grafted,
        }
        for r in hub.routes()
    ]
    plugins = [info.as_dict() for info in hub.plugins.info()]
    versions: dict[str, str] = {"python": platform.python_version()}
    names = [*_KNOWN_DISTRIBUTIONS, *(p["distribution"] for p in plugins if p["distribution"])]
    for name in dict.fromkeys(n.lower() for n in names):
        version = _version(name)
        if version is not None:
            versions[name] = version
    return {
        "state": hub.bus.state_name,
        "pid": os.getpid(),
        "mounts": mounts,
        "findings": _findings(hub),
        "routes": routes,
        "services": _services(hub),
        "plugins": plugins,
        "versions": versions,
    }


# -- HTML (plain string templates) ------------------------------------------------------------
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsgihub inspector</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
code {{ font-size: 13px; }}
.empty {{ color: #777; }}
</style>
</head>
<body>
<h1>wsgihub inspector</h1>
<p>Process {pid}, bus <strong id="state">{state}</strong>; <a href="{json_href}">JSON</a>.</p>
{sections}
</body>
</html>
"""


def _e(value: Any) -> str:
    """Escape anything for HTML text and attributes."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_e(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else ""
    return html.escape(str(value), quote=True)


def _table(table_id: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>\n" for row in rows)
    if not body:
        body = f'<tr><td class="empty" colspan="{len(headers)}">none</td></tr>\n'
    return (
        f'<h2>{_e(title)}</h2>\n<table id="{_e(table_id)}">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>\n"
    )


def render_html(report: dict[str, Any], json_href: str) -> str:
    """The inspector page for :func:`inspect_hub`'s ``report`` (every value escaped)."""
    sections = [
        _table(
            "mounts",
            "Mounts",
            ("name", "prefix", "framework", "adapter", "graft over", "grafts", "takes", "routes"),
            (
                (m["name"], m["prefix"], m["framework"], m["adapter"], m["over"], m["grafts"], m["takes"], m["routes"])
                for m in report["mounts"]
            ),
        ),
        _table(
            "findings",
            "Findings",
            ("id", "level", "message", "mounts"),
            ((f.get("id"), f.get("level"), f.get("message"), f.get("mounts")) for f in report["findings"]),
        ),
        _table(
            "routes",
            "Routes",
            ("name", "methods", "rule", "framework", "grafted"),
            ((r["name"], r["methods"] or "*", r["rule"], r["framework"], r["grafted"]) for r in report["routes"]),
        ),
        _table(
            "services",
            "Partyline services",
            ("service", "answered by"),
            ((s["service"], s["answered_by"]) for s in report["services"]),
        ),
        _table(
            "plugins",
            "Plugins",
            ("name", "distribution", "version", "built-in", "hooks"),
            ((p["name"], p["distribution"], p["version"], p["builtin"], p["hooks"]) for p in report["plugins"]),
        ),
        _table("versions", "Versions", ("name", "version"), sorted(report["versions"].items())),
    ]
    return _PAGE.format(
        pid=_e(report["pid"]), state=_e(report["state"]), json_href=_e(json_href), sections="".join(sections)
    )


# -- the middleware ---------------------------------------------------------------------------
def inspector_paths(path: str) -> tuple[str, str]:
    """``(page, data)``: where ``--inspect PATH`` answers HTML and JSON (``/_hub/`` -> ``/_hub``, ``/_hub.json``)."""
    page = path.rstrip("/") or "/"
    return page, (page + ".json" if page != "/" else "/.json")


class Inspector:
    """WSGI middleware: the inspector page at ``path`` (HTML) and ``path.json``.

    ``allow_ips`` is the text of ``--inspect-allow-ips``; clients outside
    it get a plain 404 and no app is called.  Other paths go to ``app``.
    """

    def __init__(self, app: WSGIApplication, hub: Hub, path: str, allow_ips: str = DEFAULT_ALLOW_IPS) -> None:
        self.app = app
        self.hub = hub
        self.path, self.json_path = inspector_paths(path)
        try:
            self.networks = parse_allow_ips(allow_ips)
        except ValueError as exc:
            raise ConfigError(f"--inspect-allow-ips {allow_ips}: {exc}") from None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path != self.path and path != self.json_path:
            return self.app(environ, start_response)
        if not _allowed(environ.get("REMOTE_ADDR"), self.networks):
            return _plain(start_response, "404 Not Found", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"Method Not Allowed\n", [("Allow", "GET, HEAD")])
        report = inspect_hub(self.hub)
        if path == self.json_path:
            body = json.dumps(report, indent=2).encode()
            content_type = "application/json"
        else:
            href = environ.get("SCRIPT_NAME", "") + self.json_path
            body = render_html(report, href).encode()
            content_type = "text/html; charset=utf-8"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            *_SECURITY_HEADERS,
        ]
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [body]


def _plain(
    start_response: StartResponse, status: str, body: bytes, extra: Sequence[tuple[str, str]] = ()
) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra, *_SECURITY_HEADERS],
    )
    return [body]
