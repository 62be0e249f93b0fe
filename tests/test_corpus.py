"""The bad-input corpus (issue 8): one table row per hostile or careless input.

Every row names its input, what must happen (exit code, exception type or
HTTP status), a pattern for the one-line message that names the culprit
(file, section, key, mount, option), and the harness checks that nothing is
left behind.  Adding a case is one line in one of the tables below:

``CLI``    ``wsgihub ARGS`` in this process through :func:`wsgihub.cli.main`
           (site files, pipeline descriptors and broken plugin distributions
           too; ``serve`` only with ``--print-config``, which checks the
           options and exits): exit code, exactly one stderr line matching
           the pattern (or none), no traceback, nothing on stdout for bad
           input, no socket, thread or child process left open.
``PROC``   ``python -m wsgihub.cli ARGS`` (or ``-m wsgihub.pipeline``) as a real
           process in its own session, for everything that might serve or
           leave processes behind (four at a time): exit code, one stderr
           line, then nothing listens on the port, no PID file, no process of
           its group lives.
``API``    a call on a hub (``Hub``, ``mount``, ``graft``, ``unmount``,
           ``url_for``, ``trusted_hosts``, ``public_url``): the exception type,
           a one-line message, and the hub's mounts and partyline unchanged
           (``exc=None``: a spelling that must be accepted, and its result).
``HTTP``   raw bytes to one real ``wsgihub serve`` (waitress) per module
           (:mod:`corpus_site` under ``tests/corpus``): the status (or a closed
           connection), a pattern for the body, never the attacker's host in
           the answer, and the server still answers afterwards; at the end it
           stops on SIGTERM with exit 0 and leaves nothing behind (and its
           access log, if any, is one well-formed line per request).  Other
           servers by ``server=``: ``"workers"`` (``serve --workers 1``,
           gunicorn), ``"ops"`` (health path, inspector, JSON access log),
           ``"proxied"`` (``--forwarded-allow-ips 127.0.0.1``), ``"flask"``,
           ``"django"`` (``tests/corpus``), ``"sample"`` (the sample site).
           ``||`` sends several requests on one connection.
``STOP``   a signal to ``wsgihub serve`` (waitress, gunicorn, ``--reload``; to the
           group or the first process) while a request is in flight, four
           rows at a time: the request answers 200, the exit code is 0,
           nothing is left behind.

Placeholders in arguments: ``{tmp}`` the row's temporary directory,
``{site}`` / ``{wsgi}`` the site file / descriptor the row wrote (``files``),
``{port}`` a free port, ``{busy}`` a port another socket listens on, ``{pid}``
a PID file path, ``{held}`` a PID file this live process holds.  Rows that
fail because of an open bug carry ``xfail="..., owner X"`` saying which
(issue 8 section, or "found by the corpus"); the xfail is strict, so the fix
must remove it.  Run ``pytest tests/test_corpus.py -rx`` to list them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import wsgihub
from wsgihub.cli import main
from wsgihub.errors import (
    ConfigError,
    DeployError,
    InviteError,
    MountError,
    NoAdapterError,
    UnknownMountError,
    UntrustedHostError,
    URLBuildError,
    WsgihubError,
)

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "corpus"
for _path in (TESTS, CORPUS):  # live_apps and corpus_site (also under --import-mode=importlib)
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import corpus_site

#: A stderr line that is a traceback, or a warning printed through ``warnings``.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \"|Warning: ", re.MULTILINE)


# =============================================================================================
# rows
# =============================================================================================
@dataclass(frozen=True)
class Row:
    """What every row has: an id that names the case, and the open bug it waits for."""

    id: str
    xfail: str | None = field(default=None, kw_only=True)
    #: a race seen failing now and then, not yet understood: xfail, not strict (it mostly passes)
    flaky: str | None = field(default=None, kw_only=True)
    #: modules the row needs (``"flask wsgihub_flask"``): skipped where one is not installed
    needs: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Command(Row):
    """A command line, its exit status and its one stderr line; ``files`` are written into the row's tmp dir."""

    args: str = ""
    exit: int = 2
    #: pattern for the one stderr line; ``None``: stderr stays empty
    message: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    #: environment variables set for the row (``WSGIHUB_PORT``...)
    env: dict[str, str] = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True)
class Cli(Command):
    """``wsgihub ARGS`` in this process."""


def Site(id: str, ini: str, exit: int = 2, message: str | None = None, *, cmd: str = "check {site}", **kw: Any) -> Cli:
    """A site file (``site.ini``, ``\\n`` for newlines) checked with ``cmd``."""
    return Cli(id, cmd, exit, message, {"site.ini": ini}, **kw)


def Wsgi(id: str, text: str, exit: int = 2, message: str | None = None, *, cmd: str = "check {wsgi}", **kw: Any) -> Cli:
    """A pipeline descriptor (``site.wsgi``) checked with ``cmd``."""
    return Cli(id, cmd, exit, message, {"site.wsgi": text}, **kw)


@dataclass(frozen=True)
class Proc(Command):
    """``python -m wsgihub.cli ARGS`` (``module`` picks another) in a process of its own."""

    module: str = "wsgihub.cli"
    #: --debug rows: a traceback is expected, and the message somewhere in it
    debug: bool = False


@dataclass(frozen=True)
class Api(Row):
    """``call(hub)`` on a corpus hub (``links`` at /links, echo ``a`` at /a) raises ``exc``."""

    call: Callable[[wsgihub.Hub], object] = lambda hub: None
    #: ``None``: the call must succeed and ``str()`` of its result match ``message``
    exc: type[BaseException] | tuple[type[BaseException], ...] | None = WsgihubError
    message: str = ""


@dataclass(frozen=True)
class Http(Row):
    """Raw request lines (``|`` between lines; ``Host: example.com`` unless given).

    ``status`` is the expected status (a set: any of them), or ``None`` when
    the server closes the connection without an answer (or the client hangs
    up first: ``hangup``).  ``body``: pattern the answer's body matches.
    """

    request: str = "GET / HTTP/1.1"
    status: int | frozenset[int] | None = 200
    body: str | None = None
    payload: bytes = b""
    #: send the head and ``payload``, then close the connection without reading
    hangup: bool = False
    #: with ``hangup``: stop in the middle of the head
    unfinished: bool = False
    server: str = "core"
    #: a line the server must print afterwards (``{id}`` is the row's id)
    after: str | None = None
    #: several requests on one connection (``||`` between them): each answer's (status, body pattern)
    chain: tuple[tuple[int, str], ...] = ()
    #: pattern the answer's head (status line and headers) matches
    head: str | None = None


def S(*codes: int) -> frozenset[int]:
    """Any of these statuses."""
    return frozenset(codes)


# ---------------------------------------------------------------------------------------------
# CLI (in process): arguments, site files, pipeline descriptors
# ---------------------------------------------------------------------------------------------
#: Found by the corpus: since fa19a1c every callable of three required arguments is taken for
#: an ASGI app; a bare ``async def app(scope, receive, send)`` that no adapter bridges is then
#: mounted as WSGI: check says "ok ... wsgi" and every request is a 500 (TypeError).
HUB = "[composite:main]\nuse = egg:wsgihub#hub\n"
A = "--mount /a=live_apps.echo:app_a"
#: A websocket handshake (to a WSGI mount it is refused before accepting: 403).
WEBSOCKET = "Connection: Upgrade, close|Upgrade: websocket|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13"
#: The granian rows (`wsgihub[granian]`).
GRANIAN = "granian a2wsgi"
#: The uvicorn rows (`wsgihub[uvicorn]`).
UVICORN = "uvicorn a2wsgi"
#: The Django rows: a project of its own (tests/corpus/corpus_django), served in its own process.
DJANGO = "django wsgihub_django"
#: What the sample-site rows need (served in a process of its own: one Django settings module).
SAMPLE = "django flask pyramid wsgihub_django wsgihub_flask wsgihub_pyramid graftsite"
ECHO = "[app:a]\nuse = call:corpus_site:echo_factory\n"
#: Found by the corpus (fixed): url_for's _scheme (and `wsgihub url --scheme`) was used verbatim, so
#: _scheme="http://evil.com/#" built "http://evil.com/#://example.com/..." past trusted_hosts.


#: A Flask app factory module (issue 8 §9: a factory is called the same way everywhere).
FLASK_FACTORY = """
import flask

def create_app():
    app = flask.Flask("corpus_ff")
    app.add_url_rule("/", "home", lambda: "home")
    return app

def broken_app():
    raise RuntimeError("no database")
"""


def plugin(module: str, source: str | None = None, *, dist: str = "corpus-plugin", name: str = "corpus") -> dict[str, str]:
    """Files of a distribution ``dist`` whose ``wsgihub`` entry point ``name`` is ``module``."""
    info = dist.replace("-", "_") + "-0.1.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n",
        f"{info}/entry_points.txt": f"[wsgihub]\n{name} = {module}\n",
    }
    if source is not None:
        files[f"{module}.py"] = source
    return files


CLI: list[Cli] = [
    # -- arguments ---------------------------------------------------------------------------
    Cli("no-site", "routes", 2, r"no site given.*SITE.*--mount"),
    Cli("check-no-site", "check", 2, r"no site given"),
    Cli("url-no-site", "url -e a:x", 2, r"no site given"),
    Cli("mount-no-equals", "routes --mount /a", 2, r"mount spec '/a'.*PREFIX=package\.module:attribute"),
    Cli("mount-no-slash", "routes --mount a=live_apps.echo:app_a", 2, r"mount spec 'a=live_apps\.echo:app_a'"),
    Cli("mount-no-colon", "routes --mount /a=live_apps.echo", 2, r"mount spec '/a=live_apps\.echo'"),
    Cli("mount-no-module", "routes --mount /a=corpus_nowhere:app", 2, r"--mount /a.*cannot import 'corpus_nowhere'"),
    Cli("mount-no-attribute", "routes --mount /a=live_apps.echo:nothing", 2, r"--mount /a.*no attribute 'nothing'"),
    Cli("mount-module-raises", "routes --mount /a=live_apps.crashing:app", 2, r"--mount /a.*ZeroDivisionError"),
    Cli("mount-not-callable", "routes --mount /a=live_apps.echo:__doc__", 2, r"(mount 'a'|--mount /a).*(not a WSGI callable|nor a WSGI application)"),
    Cli("mount-dotdot-prefix", "routes --mount /a/../b=live_apps.echo:app_a", 2, r"mount.*'\.\.'"),
    Cli("mount-non-ascii-prefix", "routes --mount /caf\u00e9=live_apps.echo:app_a", 2, r"mount.*'caf\u00e9'.*unreserved ASCII"),
    Cli("mount-query-prefix", "routes --mount /a?x=live_apps.echo:app_a", 2, r"mount.*'a\?x'"),
    Cli("mount-same-prefix", "routes --mount /a=live_apps.echo:app_a --mount /a/=live_apps.echo:app_b", 2, r"mount 'a'.*taken"),
    Cli("mount-raises-while-mounting", "routes --mount /x=corpus_site:proxy", 2, r"--mount /x.*RuntimeError.*outside of (an )?application context"),
    Cli("url-mount-raises-while-mounting", "url --mount /x=corpus_site:proxy -e x:y", 2, r"--mount /x.*RuntimeError"),
    Cli("check-mount-raises-while-mounting", "check --mount /x=corpus_site:proxy", 2, r"--mount /x.*RuntimeError"),
    Cli("mount-factory-fails", "check --mount /a=live_apps.sites:broken_site", 2, r"--mount /a.*(KeyError.*SECRET_KEY|factory)"),
    Cli("mount-factory-wants-argument", "check --mount /a=corpus_site:needs_config", 2, r"--mount /a=corpus_site:needs_config.*1 required argument.*neither a WSGI application"),
    Cli("mount-factory-returns-none", "check --mount /a=corpus_site:returns_none", 2, r"--mount /a=corpus_site:returns_none.*returned None"),
    Cli("mount-asgi-app", "check --mount /a=corpus_site:asgi_app", 2, r"--mount /a=corpus_site:asgi_app"),
    Cli("mount-old-style-class-app", "check --mount /a=corpus_site:OldStyleApp", 0, None),
    Cli("mount-app-class-is-factory", "check --mount /a=corpus_site:AppClass", 0, None),
    Cli("check-shadowed-route", "check corpus_site:shadowed", 1, None),
    Cli("flask-invited-with-trusted-hosts", "check corpus_flask:site", 0, None, needs="flask wsgihub_flask"),
    Cli("flask-factory-mounted", "check --mount /new=corpus_ff:create_app", 0, None, files={"corpus_ff.py": FLASK_FACTORY}, needs="flask wsgihub_flask"),
    Cli("flask-factory-raises", "check --mount /new=corpus_ff:broken_app", 2, r"--mount /new=corpus_ff:broken_app.*RuntimeError.*no database", files={"corpus_ff.py": FLASK_FACTORY}, needs="flask wsgihub_flask"),
    Cli("flask-factory-in-site-file", "check {site}", 0, None, files={"corpus_ff.py": FLASK_FACTORY, "site.ini": HUB + "/new = new\n[app:new]\nuse = egg:wsgihub-flask#app\napp = corpus_ff:create_app\n"}, needs="flask wsgihub_flask"),
    Cli("flask-factory-raises-in-site-file", "check {site}", 2, r"site\.ini.*\[app:new\].*no database", files={"corpus_ff.py": FLASK_FACTORY, "site.ini": HUB + "/new = new\n[app:new]\nuse = egg:wsgihub-flask#app\napp = corpus_ff:broken_app\n"}, needs="flask wsgihub_flask"),
    Cli("site-empty-string", "routes ''", 2, r"site '': expected a site file"),
    Cli("site-dash", "routes -", 2, r"site '-': expected a site file"),
    Cli("site-twice", "routes corpus_site:site corpus_site:site", 2, r"unexpected extra argument.*corpus_site:site"),
    Cli("mount-empty-spec", "routes --mount ''", 2, r"mount spec ''"),
    Cli("mount-empty-module", "routes --mount /a=:app", 2, r"--mount /a=:app.*package\.module:attribute"),
    Cli("mount-empty-attribute", "routes --mount /a=live_apps.echo:", 2, r"--mount /a=live_apps\.echo:.*package\.module:attribute"),
    Cli("mount-relative-module", "routes --mount /a=.echo:app_a", 2, r"--mount /a=\.echo:app_a"),
    Cli("mount-space-in-module", "routes --mount '/a=live_apps echo:app_a'", 2, r"--mount /a=live_apps echo:app_a"),
    Cli("mount-deep-attribute", "routes --mount /a=live_apps.echo:app_a.__call__.x", 2, r"--mount /a=live_apps\.echo:app_a\.__call__\.x.*no attribute"),
    Cli("mount-equals-form", "routes --mount=/a=live_apps.echo:app_a", 0, None),
    Cli("site-not-a-site", "routes corpus_nowhere", 2, r"site 'corpus_nowhere': expected a site file"),
    Cli("site-directory", "routes {tmp}", 2, r"site '.*': expected a site file"),
    Cli("site-no-module", "routes corpus_nowhere:hub", 2, r"site 'corpus_nowhere:hub'.*cannot import"),
    Cli("site-no-attribute", "routes corpus_site:nothing", 2, r"site 'corpus_site:nothing'.*no attribute 'nothing'"),
    Cli("site-factory-raises", "routes live_apps.sites:broken_site", 2, r"site 'live_apps\.sites:broken_site'.*KeyError.*SECRET_KEY"),
    Cli("site-not-an-app", "routes corpus_site:TRUSTED_HOSTS", 2, r"site 'corpus_site:TRUSTED_HOSTS'.*neither a Hub nor a WSGI application"),
    Cli("url-no-route", "url --mount /a=live_apps.echo:app_a", 2, r"no route given.*MOUNT:ENDPOINT"),
    Cli("url-site-but-no-route", "url corpus_site:site", 2, r"(no site given|no route given).*'corpus_site:site'"),
    Cli("url-endpoint-no-mount-part", "url corpus_site:site -e item", 2, r"endpoint 'item' names no mount"),
    Cli("url-unknown-mount", "url corpus_site:site -e link:item id=1", 2, r"no mount named 'link'.*did you mean 'links'"),
    Cli("url-unknown-endpoint", "url corpus_site:site -e links:itme id=1", 2, r"links has no endpoint 'itme'"),
    Cli("url-no-adapter", "url corpus_site:site -e a:x", 2, r"mount 'a' has no adapter"),
    Cli("url-bad-value", "url corpus_site:site -e links:item =1", 2, r"value '=1'.*NAME=VALUE"),
    Cli("url-bad-value-with-mount", "url --mount /a=live_apps.echo:app_a -e a:x oops", 2, r"'oops'.*NAME=VALUE"),
    Cli("url-external-twice", "url corpus_site:site -e links:item id=1 _external=1", 2, r"_external.*--external"),
    Cli("url-external-no-public-url", "url corpus_site:site -e links:item id=1 --external", 2, r"--external.*public_url.*\[composite:main\].*Hub\(public_url"),
    Cli("url-adapter-raises", "url corpus_site:site links:item", 1, r"^wsgihub: error: KeyError: 'id'.*--debug"),
    Cli("url-value-twice", "url corpus_site:site links:item id=1 id=2", 2, r"'id'.*(twice|more than once)"),
    Cli("url-scheme-not-a-scheme", "url corpus_site:public_site links:item id=1 --external --scheme http://evil.com/#", 2, r"scheme 'http://evil\.com/#'"),
    Cli("url-endpoint-positional", "url corpus_site:site links:item id=1", 0, None),
    Cli("url-external-public", "url corpus_site:public_site -e links:item id=1 --external", 0, None),
    Cli("unknown-command", "nosuch", 2, r"No such command 'nosuch'"),
    Cli("unknown-option", "routes --nosuch", 2, r"No such option.*--nosuch"),
    Cli("plugins-extra-argument", "plugins extra", 2, r"unexpected extra argument.*extra"),
    # -- serve options, checked before anything starts (--print-config: check, print, exit) -----------
    Cli("serve-drain-delay-negative", f"serve {A} --drain-delay -1 --print-config", 2, r"--drain-delay -1: expected 0 seconds or more"),
    Cli("serve-drain-delay-not-a-number", f"serve {A} --drain-delay abc --print-config", 2, r"--drain-delay 'abc'"),
    Cli("serve-health-path-no-slash", f"serve {A} --health-path healthz --print-config", 2, r"--health-path healthz: expected a path starting with '/'"),
    Cli("serve-health-path-empty", f"serve {A} --health-path '' --print-config", 2, r"--health-path"),
    Cli("serve-health-path-query", f"serve {A} --health-path /h?x --print-config", 2, r"--health-path /h\?x"),
    Cli("serve-inspect-no-slash", f"serve {A} --inspect inspect --print-config", 2, r"--inspect inspect: expected a path"),
    Cli("serve-inspect-ips-not-ip", f"serve {A} --inspect /i --inspect-allow-ips not-an-ip --print-config", 2, r"--inspect-allow-ips not-an-ip: 'not-an-ip' is not an IP address"),
    Cli("serve-inspect-ips-bad-prefix", f"serve {A} --inspect /i --inspect-allow-ips 10.0.0.0/33 --print-config", 2, r"'10\.0\.0\.0/33'"),
    Cli("serve-forwarded-ips-not-ip", f"serve {A} --forwarded-allow-ips proxy.local --print-config", 2, r"--forwarded-allow-ips proxy\.local"),
    Cli("serve-forwarded-ips-bad-network", f"serve {A} --forwarded-allow-ips 10.0.0.0/40 --print-config", 2, r"--forwarded-allow-ips .*'10\.0\.0\.0/40'"),
    Cli("serve-forwarded-ips-env", f"serve {A} --print-config", 2, r"WSGIHUB_FORWARDED_ALLOW_IPS=nope", env={"WSGIHUB_FORWARDED_ALLOW_IPS": "nope"}),
    Cli("serve-gunicorn-config-missing", f"serve {A} -c {{tmp}}/nosuch.conf.py --print-config", 2, r"--gunicorn-config .*nosuch\.conf\.py: no such file"),
    Cli("serve-gunicorn-config-directory", f"serve {A} -c {{tmp}} --print-config", 2, r"--gunicorn-config .*: no such file"),
    Cli("serve-access-log-no-dir", f"serve {A} --access-log {{tmp}}/no/such/access.log --print-config", 2, r"--access-log .*no/such/access\.log: directory .* does not exist"),
    Cli("serve-access-log-directory", f"serve {A} --access-log {{tmp}} --print-config", 2, r"--access-log .*: is a directory"),
    Cli("serve-log-format-xml", f"serve {A} --log-format xml --print-config", 2, r"--log-format xml: expected text or json"),
    Cli("serve-log-config-missing", f"serve {A} --log-config {{tmp}}/nosuch.json --print-config", 2, r"--log-config .*nosuch\.json: no such file"),
    Cli("serve-request-id-header-space", f"serve {A} --request-id-header 'Bad Header' --print-config", 2, r"--request-id-header Bad Header: expected a header name"),
    Cli("serve-request-id-header-colon", f"serve {A} --request-id-header X:Y --print-config", 2, r"--request-id-header X:Y"),
    Cli("serve-variables-without-site-file", f"serve {A} port=1 --print-config", 2, r"port=1: NAME=VALUE variables need a site file"),
    Cli("serve-env-port-not-a-number", f"serve {A} --print-config", 2, r"WSGIHUB_PORT=abc: expected a whole number", env={"WSGIHUB_PORT": "abc"}),
    Cli("serve-granian-workers", f"serve {A} --server granian --workers 2 --print-config", 2, r"--workers: gunicorn's option, but --server is granian"),
    Cli("serve-env-workers-zero", f"serve {A} --print-config", 2, r"WSGIHUB_WORKERS=0: expected 1 or more", env={"WSGIHUB_WORKERS": "0"}),
    Cli("serve-env-reload-maybe", f"serve {A} --print-config", 2, r"WSGIHUB_RELOAD=maybe: expected true or false", env={"WSGIHUB_RELOAD": "maybe"}),
    Cli("serve-env-overridden-by-option", f"serve {A} --port 0 --print-config", 0, None, env={"WSGIHUB_PORT": "abc"}),
    Site("serve-server-section-unknown-option", HUB + "/a = a\n" + ECHO + "[server:main]\nuse = egg:wsgihub#main\nportt = 8080\n", 2, r"site\.ini \[server:main\] portt: unknown option", cmd="serve {site} --print-config"),
    Site("serve-server-section-other-server", HUB + "/a = a\n" + ECHO + "[server:main]\nuse = egg:waitress#main\n", 2, r"site\.ini \[server:main\] use: .*egg:waitress#main", cmd="serve {site} --print-config"),
    Site("serve-server-section-bad-port", HUB + "/a = a\n" + ECHO + "[server:main]\nport = abc\n", 2, r"site\.ini \[server:main\] port: expected a whole number \(got 'abc'\)", cmd="serve {site} --print-config"),
    Site("serve-server-section-bad-workers", HUB + "/a = a\n" + ECHO + "[server:main]\nworkers = 0\n", 2, r"site\.ini \[server:main\] workers", cmd="serve {site} --print-config"),
    # -- plugins (a distribution in the row's tmp dir with a ``wsgihub`` entry point) -----------------
    Cli("plugin-module-missing", "plugins", 2, r"plugin 'corpus' \(distribution corpus-plugin 0\.1\).*'corpus_plugin_nowhere'.*failed to load", files=plugin("corpus_plugin_nowhere")),
    Cli("plugin-module-raises", "plugins", 2, r"plugin 'corpus' \(distribution corpus-plugin 0\.1\).*ZeroDivisionError", files=plugin("corpus_plugin", "RATIO = 1 / 0\n")),
    Cli("plugin-unknown-hook", "plugins", 2, r"plugin 'corpus'.*wsgihub_adaptr.*(did you mean 'wsgihub_adapter'|unknown)", files=plugin("corpus_plugin", "from wsgihub import hookimpl\n@hookimpl\ndef wsgihub_adaptr(app, layers, framework):\n    return None\n")),
    Cli("plugin-bad-signature", "plugins", 2, r"plugin 'corpus'.*wsgihub_adapter.*(application|nonsense)", files=plugin("corpus_plugin", "from wsgihub import hookimpl\n@hookimpl\ndef wsgihub_adapter(application, nonsense):\n    return None\n")),
    Cli("plugin-name-twice", "plugins", 2, r"plugin 'corpus'.*corpus-one.*corpus-two|plugin 'corpus'.*corpus-two.*corpus-one", files={**plugin("corpus_one", "", dist="corpus-one"), **plugin("corpus_two", "", dist="corpus-two")}),
    Cli("plugin-name-shadows-adapter", "plugins", 2, r"plugin 'flask'.*corpus-evil.*wsgihub-flask|plugin 'flask'.*wsgihub-flask.*corpus-evil", files=plugin("corpus_evil", "", dist="corpus-evil", name="flask"), needs="wsgihub_flask"),
    Cli("plugin-broken-while-routing", "routes --mount /a=live_apps.echo:app_a", 2, r"plugin 'corpus'.*failed to load", files=plugin("corpus_plugin_nowhere")),
    # -- site files (PasteDeploy INI) ----------------------------------------------------------
    Cli("site-file-missing", "check {tmp}/missing.ini", 2, r"site file '.*missing\.ini' does not exist"),
    Site("site-file-empty", "", 2, r"site\.ini.*(main|section)"),
    Site("site-file-no-header", "use = egg:wsgihub#hub", 2, r"site\.ini.*(section|header)"),
    Site("site-file-unknown-key", HUB + "bogus = a\n" + ECHO, 2, r"site\.ini.*unknown key 'bogus'"),
    Site("site-file-no-app-section", HUB + "/a = nosuch\n", 2, r"site\.ini.*/a = nosuch.*no section \[app:nosuch\]"),
    Site("site-file-bad-prefix", HUB + "/a/../b = a\n" + ECHO, 2, r"site\.ini.*/a/\.\./b = a.*'\.\.'"),
    Site("site-file-same-prefix", HUB + "/a = a\n/a/ = a\n" + ECHO, 2, r"site\.ini.*(mount /a/ = a|/a/).*taken"),
    Site("site-file-graft-unknown-mount", HUB + "/a = a\ngraft a2 = nomount\n" + ECHO + "[app:a2]\nuse = call:corpus_site:echo_factory\n", 2, r"site\.ini.*graft a2 = nomount.*no mount named 'nomount'"),
    Site("site-file-graft-misquoted", HUB + "/a = a\ngraft b c = a\n" + ECHO, 2, r"site\.ini.*graft b c = a"),
    Site("site-file-egg-not-installed", HUB + "/a = a\n[app:a]\nuse = egg:corpus-nosuch-dist#app\n", 2, r"site\.ini.*\[app:a\].*corpus-nosuch-dist.*not installed"),
    Site("site-file-graft-no-name", HUB + "/a = a\ngraft = a\n" + ECHO, 2, r"site\.ini.*\[composite:main\].*'graft'"),
    Site("site-file-mount-no-section", HUB + "/a =\n", 2, r"site\.ini.*/a = .*no section"),
    Site("site-file-section-mounted-twice", HUB + "/a = a\n/b = a\n" + ECHO, 2, r"site\.ini.*/b = a.*'a'.*taken"),
    Site("site-file-factory-unknown-key", HUB + "/a = a\n" + ECHO + "nmae = x\n", 2, r"site\.ini.*\[app:a\].*'nmae'"),
    Site("site-file-is-a-descriptor", "[corpus_site:echo_app]\nname = a\n", 2, r"site\.ini.*No section 'main'"),
    Cli("descriptor-is-a-site-file", "routes {tmp}/site.wsgi", 2, r"site\.wsgi:3: \[composite:main\] key '/a'", files={"site.wsgi": HUB + "/a = a\n" + ECHO}),
    Site("site-file-json-error-keeps-stdout-empty", HUB + "bogus = a\n", 2, r"unknown key 'bogus'", cmd="routes --json {site}"),
    Cli("site-file-path-with-space", "check '{tmp}/my dir/site.ini'", 0, None, files={"my dir/site.ini": HUB + "/a = a\n" + ECHO}),
    Cli("site-file-path-non-ascii", "check {tmp}/caf\u00e9/site.ini", 0, None, files={"caf\u00e9/site.ini": HUB + "/a = a\n" + ECHO}),
    Cli("site-file-path-with-percent", "check {tmp}/100%/site.ini", 0, None, files={"100%/site.ini": HUB + "/a = a\n" + ECHO}),
    Cli("descriptor-path-with-percent", "check {tmp}/100%/site.wsgi", 0, None, files={"100%/site.wsgi": "[corpus_site:echo_app]\nname = a\n"}),
    Site("site-file-no-use", "[composite:main]\n/a = a\n" + ECHO, 2, r"site\.ini.*\[composite:main\].*No loader"),
    Site("site-file-unknown-egg-entry", "[composite:main]\nuse = egg:wsgihub#nosuch\n/a = a\n" + ECHO, 2, r"site\.ini.*'nosuch' not found in egg 'wsgihub'"),
    Site("site-file-pipeline-unknown-filter", "[pipeline:main]\npipeline = nosuchfilter a\n" + ECHO, 2, r"site\.ini.*\[pipeline:main\].*'nosuchfilter'"),
    Site("site-file-interpolation-loop", HUB + "/a = a\n" + ECHO + "[DEFAULT]\nx = %(x)s\n", 2, r"site\.ini.*Recursion limit.*'x'"),
    Site("site-file-config-missing", HUB + "/a = a\n[app:a]\nuse = config:other.ini\n", 2, r"site\.ini.*\[app:a\].*other\.ini"),
    Site("site-file-config-itself", HUB + "/a = a\n[app:a]\nuse = config:site.ini\n", 2, r"site\.ini.*circular"),
    Site("site-file-call-no-module", HUB + "/a = a\n[app:a]\nuse = call:corpus_nowhere:make\n", 2, r"site\.ini.*corpus_nowhere"),
    Site("site-file-factory-raises", HUB + "/a = a\n[app:a]\nuse = call:corpus_site:failing_factory\n", 2, r"site\.ini.*RuntimeError.*the database is not there"),
    Site("site-file-factory-names-section", HUB + "/a = a\n[app:a]\nuse = call:corpus_site:failing_factory\n", 2, r"site\.ini.*\[app:a\].*the database is not there"),
    Site("site-file-bad-trusted-host", HUB + "trusted_hosts = example.com https://example.org\n/a = a\n" + ECHO, 2, r"site\.ini.*\[composite.*trusted_hosts.*'https://example\.org'"),
    Site("site-file-bad-public-url", HUB + "public_url = ftp://example.com\n/a = a\n" + ECHO, 2, r"site\.ini.*public_url 'ftp://example\.com'"),
    Site("site-file-circular", HUB + "/a = main\n", 2, r"site\.ini.*(circular|cycle|loop).*main"),
    Site("site-file-unknown-name", HUB + "/a = a\n" + ECHO, 2, r"site\.ini.*nosuch", cmd="check config:{site}#nosuch"),
    Site("site-file-bad-interpolation", HUB + "/a = %(nosuch)s\n" + ECHO, 2, r"site\.ini.*nosuch"),
    Site("site-file-duplicate-section", HUB + ECHO + ECHO, 2, r"site\.ini.*(duplicate|already exists).*a"),
    Site("site-file-pyramid-no-app", HUB + "/api = api\n[app:api]\nuse = egg:wsgihub-pyramid#app\napp = corpus_nowhere:main\n", 2, r"site\.ini.*\[app:api\].*corpus_nowhere", needs="pyramid wsgihub_pyramid"),
    # -- pipeline descriptors (.wsgi) ------------------------------------------------------------
    Cli("wsgi-missing", "check {tmp}/missing.wsgi", 2, r"pipeline descriptor '.*missing\.wsgi' does not exist"),
    Wsgi("wsgi-empty", "", 2, r"site\.wsgi: no \[factory\] section"),
    Wsgi("wsgi-bad-header", "[corpus_site:echo_factory\n", 2, r"site\.wsgi:1: bad section header"),
    Wsgi("wsgi-key-before-section", "name = a\n[corpus_site:echo_app]\n", 2, r"site\.wsgi:1: key 'name' comes before any \[factory\]"),
    Wsgi("wsgi-key-not-identifier", "[corpus_site:echo_app]\nnot-a-name = a\n", 2, r"site\.wsgi:2: \[corpus_site:echo_app\] key 'not-a-name' is not a Python identifier"),
    Wsgi("wsgi-key-twice", "[corpus_site:echo_app]\nname = a\nname = b\n", 2, r"site\.wsgi:3: .*key 'name' is given twice \(first on line 2\)"),
    Wsgi("wsgi-no-line", "[corpus_site:echo_app]\njust words\n", 2, r"site\.wsgi:2: expected 'key = value'"),
    Wsgi("wsgi-no-module", "[corpus_nowhere:make]\n", 2, r"site\.wsgi:1: \[corpus_nowhere:make\]:? cannot import 'corpus_nowhere'"),
    Wsgi("wsgi-no-attribute", "[corpus_site:echo_ap]\n", 2, r"site\.wsgi:1: .*no attribute 'echo_ap'.*did you mean 'echo_app'"),
    Wsgi("wsgi-unknown-key", "[corpus_site:echo_app]\nnmae = a\n", 2, r"site\.wsgi:2: \[corpus_site:echo_app\] key 'nmae': the factory takes no such argument.*'name'"),
    Wsgi("wsgi-factory-raises", "[corpus_site:failing_factory]\n", 2, r"site\.wsgi:1: \[corpus_site:failing_factory\]:? the factory raised RuntimeError"),
    Wsgi("wsgi-factory-returns-junk", "[corpus_site:junk_factory]\n", 2, r"site\.wsgi:1: .*returned 42, not a WSGI application"),
    Wsgi("wsgi-not-callable", "[corpus_site:TRUSTED_HOSTS]\n", 2, r"site\.wsgi:1: .*is not callable"),
    Wsgi("wsgi-middleware-takes-no-app", "[corpus_site:echo_app]\n[corpus_site:echo_app]\n", 2, r"site\.wsgi:1: .*takes no next application"),
    Wsgi("wsgi-egg-not-installed", "[egg:corpus-nosuch-dist#app]\n", 2, r"site\.wsgi:1: .*distribution 'corpus-nosuch-dist' is not installed"),
    Wsgi("wsgi-egg-no-factory", "[egg:wsgihub#nosuch]\n", 2, r"site\.wsgi:1: .*distribution 'wsgihub' has no application factory 'nosuch'"),
    Wsgi("wsgi-entry-bad", "[entry:onlygroup]\n", 2, r"site\.wsgi:1: .*expected \[entry:GROUP:NAME\]"),
    Wsgi("wsgi-entry-unknown", "[entry:paste.app_factory:corpus_nosuch]\n", 2, r"site\.wsgi:1: .*no installed entry point 'corpus_nosuch'"),
    Wsgi("wsgi-composite-entry", "[entry:paste.composite_factory:hub]\n", 2, r"site\.wsgi:1: .*composite factories need PasteDeploy"),
    Cli("wsgi-not-utf8", "check {tmp}/latin.wsgi", 2, r"pipeline descriptor '.*latin\.wsgi' cannot be read", files={"latin.wsgi": "[corpus_site:echo_app]\nname = caf\udce9\n"}),
]

# ---------------------------------------------------------------------------------------------
# PROC: real processes (serve, pipeline runner, framework projects, warnings, --debug)
# ---------------------------------------------------------------------------------------------

PROC: list[Proc] = [
    Proc("serve-port-in-use", f"serve {A} --port {{busy}} --pid-file {{pid}}", 2, r"^wsgihub: error: cannot listen on http://127\.0\.0\.1:\d+: address already in use"),
    Proc("serve-workers-port-in-use", f"serve {A} --workers 2 --port {{busy}} --pid-file {{pid}}", 2, r"cannot listen on http://127\.0\.0\.1:\d+: address already in use"),
    Proc("serve-unknown-host", f"serve {A} --host corpus.invalid --port {{port}} --pid-file {{pid}}", 2, r"cannot listen on http://corpus\.invalid:\d+: unknown host"),
    Proc("serve-foreign-address", f"serve {A} --host 192.0.2.1 --port {{port}} --pid-file {{pid}}", 2, r"cannot listen on http://192\.0\.2\.1:\d+: address not available"),
    Proc("serve-pid-dir-missing", f"serve {A} --port {{port}} --pid-file {{tmp}}/no/such/site.pid", 2, r"--pid-file .*no/such/site\.pid: directory .* does not exist"),
    Proc("serve-no-module", "serve --mount /a=corpus_nowhere:app --port {port} --pid-file {pid}", 2, r"cannot import 'corpus_nowhere'"),
    Proc("serve-workers-no-module", f"serve {A} --mount /b=corpus_nowhere:app --workers 2 --port {{port}} --pid-file {{pid}}", 2, r"cannot import 'corpus_nowhere'"),
    # --reload: an error naming no file to watch exits (a fixable one waits, as pserve does); -q hides hupper's line
    Proc("serve-reload-no-module", "serve --mount /a=corpus_nowhere:app --reload -q --port {port} --pid-file {pid}", 2, r"cannot import 'corpus_nowhere'.*\(--reload: no file to watch for a fix\)$"),
    Proc("serve-reload-workers-no-module", "serve --mount /a=corpus_nowhere:app --reload --workers 2 -q --port {port} --pid-file {pid}", 2, r"cannot import 'corpus_nowhere'.*\(--reload: no file to watch for a fix\)$"),
    Proc("serve-reload-no-site-file", "serve {tmp}/no-such-site.ini --reload -q --port {port} --pid-file {pid}", 2, r"no-such-site\.ini' does not exist \(--reload: no file to watch for a fix\)$"),
    Proc("serve-uvicorn-workers-port-in-use", f"serve {A} --server uvicorn --workers 2 --port {{busy}} --pid-file {{pid}}", 2, r"cannot listen on http://127\.0\.0\.1:\d+: address already in use", needs="uvicorn_worker a2wsgi"),
    Proc("serve-uvicorn-workers-no-module", f"serve {A} --mount /b=corpus_nowhere:app --server uvicorn --workers 2 --port {{port}} --pid-file {{pid}}", 2, r"cannot import 'corpus_nowhere'", needs="uvicorn_worker a2wsgi"),
    Proc("serve-mount-raises-while-mounting", "serve --mount /x=corpus_site:proxy --port {port} --pid-file {pid}", 2, r"--mount /x.*RuntimeError"),
    Proc("serve-start-listener-fails", "serve live_apps.sites:failing_site --port {port} --pid-file {pid}", 1, r"refuse_to_start.*the database is not there"),
    Proc("serve-bad-site-file", "serve {site} --port {port} --pid-file {pid}", 2, r"site\.ini.*unknown key 'bogus'", files={"site.ini": HUB + "bogus = a\n"}),
    Proc("serve-bad-descriptor", "serve {wsgi} --port {port} --pid-file {pid}", 2, r"site\.wsgi:2: .*key 'nmae'", files={"site.wsgi": "[corpus_site:echo_app]\nnmae = a\n"}),
    Proc("serve-gunicorn-config-syntax", f"serve {A} -c {{tmp}}/gunicorn.conf.py --port {{port}} --pid-file {{pid}}", 2, r"gunicorn\.conf\.py: SyntaxError", files={"gunicorn.conf.py": "x = (\n"}),
    Proc("serve-log-config-not-json", f"serve {A} --log-config {{tmp}}/log.json --port {{port}} --pid-file {{pid}}", 2, r"--log-config .*log\.json: not JSON", files={"log.json": "{bad json"}),
    Proc("serve-log-config-bad-ini", f"serve {A} --log-config {{tmp}}/log.ini --port {{port}} --pid-file {{pid}}", 2, r"--log-config .*log\.ini: .*formatters", files={"log.ini": "[loggers]\nkeys = nope\n"}),
    Proc("serve-log-config-bad-handler", f"serve {A} --log-config {{tmp}}/log.json --port {{port}} --pid-file {{pid}}", 2, r"--log-config .*log\.json: ValueError: Unable to configure handler 'f'", files={"log.json": '{"version": 1, "handlers": {"f": {"class": "logging.FileHandler", "filename": "/nonexistent/dir/x.log"}}, "root": {"handlers": ["f"]}}'}),
    Proc("serve-log-config-not-an-object", f"serve {A} --log-config {{tmp}}/log.json --port {{port}} --pid-file {{pid}}", 2, r"--log-config .*log\.json: expected a JSON object", files={"log.json": "[1, 2]"}),
    Proc("serve-gunicorn-config-raises", f"serve {A} -c {{tmp}}/gunicorn.conf.py --port {{port}} --pid-file {{pid}}", 2, r"gunicorn\.conf\.py: RuntimeError: boom", files={"gunicorn.conf.py": "raise RuntimeError('boom')\n"}),
    Proc("serve-gunicorn-config-bad-value", f"serve {A} -c {{tmp}}/gunicorn.conf.py --port {{port}} --pid-file {{pid}}", 2, r"gunicorn\.conf\.py: timeout = 'abc'", files={"gunicorn.conf.py": "timeout = 'abc'\n"}),
    Proc("serve-site-variable-missing", "serve {site} --port {port} --pid-file {pid}", 2, r"site\.ini.*\[app:a\].*'who'", files={"site.ini": HUB + "/a = a\n" + ECHO + "name = %(who)s\n"}),
    Proc("serve-health-path-shadows-mount", f"serve {A} --health-path /a --port {{port}} --pid-file {{pid}}", 2, r"--health-path /a.*mount 'a'"),
    Proc("serve-inspect-inside-mount", f"serve {A} --inspect /a/x --port {{port}} --pid-file {{pid}}", 2, r"--inspect /a/x.*mount 'a'"),
    Proc("serve-health-and-inspect-same-path", f"serve {A} --health-path /ops --inspect /ops --port {{port}} --pid-file {{pid}}", 2, r"--inspect /ops.*--health-path"),
    # pserve runs [server:main] use = egg:wsgihub#main: the same checks, the same one line
    Proc("pserve-unknown-option", "{site}", 2, r"site\.ini \[server:main\] portt: unknown option", module="pyramid.scripts.pserve", files={"site.ini": HUB + "/a = a\n" + ECHO + "[server:main]\nuse = egg:wsgihub#main\nportt = 8080\n"}, needs="pyramid"),
    Proc("pserve-workers-refused", "{site}", 2, r"site\.ini \[server:main\] workers: only 'wsgihub serve", module="pyramid.scripts.pserve", files={"site.ini": HUB + "/a = a\n" + ECHO + "[server:main]\nuse = egg:wsgihub#main\nworkers = 2\n"}, needs="pyramid"),
    Proc("pserve-bad-port", "{site}", 2, r"site\.ini \[server:main\] port: expected a whole number", module="pyramid.scripts.pserve", files={"site.ini": HUB + "/a = a\n" + ECHO + "[server:main]\nuse = egg:wsgihub#main\nport = abc\n"}, needs="pyramid"),
    Proc("serve-port-out-of-range", f"serve {A} --port 70000 --pid-file {{pid}}", 2, r"--port.*70000"),
    Proc("serve-port-not-a-number", f"serve {A} --port http --pid-file {{pid}}", 2, r"--port.*'http'"),
    Proc("serve-workers-zero", f"serve {A} --workers 0 --port {{port}} --pid-file {{pid}}", 2, r"--workers.*0"),
    Proc("serve-threads-zero", f"serve {A} --threads 0 --port {{port}} --pid-file {{pid}}", 2, r"--threads.*0"),
    Proc("serve-drain-timeout-negative", f"serve {A} --drain-timeout -1 --port {{port}} --pid-file {{pid}}", 2, r"--drain-timeout.*-1"),
    Proc("serve-pid-file-is-directory", f"serve {A} --port {{port}} --pid-file {{tmp}}", 2, r"--pid-file .*directory"),
    Proc("serve-pid-file-held", f"serve {A} --port {{port}} --pid-file {{held}}", 1, r"PIDFile.*held by running process"),
    Proc("serve-no-site", "serve --port {port} --pid-file {pid}", 2, r"no site given"),
    Proc("pipeline-port-out-of-range", "{wsgi} --port 70000", 2, r"--port.*70000", module="wsgihub.pipeline", files={"site.wsgi": "[corpus_site:echo_app]\n"}),
    Proc("pipeline-port-in-use", "{wsgi} --port {busy}", 2, r"127\.0\.0\.1:\d+.*(in use|address)", module="wsgihub.pipeline", files={"site.wsgi": "[corpus_site:echo_app]\n"}),
    Proc("warning-is-one-line", "routes corpus_site:shadowed", 0, r"^wsgihub: warning: .*links:go.*shadowed by mount 'go'"),
    Proc("debug-shows-traceback", "--debug routes --mount /a=corpus_nowhere:app", 1, r"cannot import 'corpus_nowhere'", debug=True),
    Proc("debug-after-serve", "serve --mount /a=corpus_nowhere:app --port {port} --debug", 1, r"cannot import 'corpus_nowhere'", debug=True),
    Proc("django-check-broken-urlconf", "check --mount /=proj.wsgi:application", 2, r"(urls|URLconf|RuntimeError).*broken urlconf", files={
        "proj/__init__.py": "",
        "proj/settings.py": "SECRET_KEY = 'x'\nROOT_URLCONF = 'proj.urls'\nALLOWED_HOSTS = ['*']\nINSTALLED_APPS = []\nDEBUG = False\n",
        "proj/urls.py": "raise RuntimeError('broken urlconf')\n",
        "proj/wsgi.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
    }, needs="django wsgihub_django"),
    # Django reads one settings module per process: its rows run in processes of their own
    Proc("site-file-django-no-settings", "check {site}", 2, r"site\.ini.*\[app:legacy\].*corpus_nosuch\.settings", files={"site.ini": HUB + "/ = legacy\n[app:legacy]\nuse = egg:wsgihub-django#app\nsettings = corpus_nosuch.settings\n"}, needs="django wsgihub_django"),
    Proc("site-file-django-unknown-option", "check {site}", 2, r"site\.ini.*\[app:legacy\].*setings", files={"site.ini": HUB + "/ = legacy\n[app:legacy]\nuse = egg:wsgihub-django#app\nsetings = proj.settings\n"}, needs="django wsgihub_django"),
    Proc("sample-check-clean", "check {sample}", 0, None, env={"GRAFTSITE_DATA": "{tmp}"}, needs=SAMPLE),
    Proc("sample-routes-clean", "routes --json {sample}", 0, None, env={"GRAFTSITE_DATA": "{tmp}"}, needs=SAMPLE),
    Proc("sample-url-external-without-public-url", "url {sample} new:whoami --external", 2, r"--external needs the site's public_url", env={"GRAFTSITE_DATA": "{tmp}"}, needs=SAMPLE),
    Proc("sample-url-unknown-endpoint", "url {sample} legacy:nosuch", 2, r"legacy:nosuch", env={"GRAFTSITE_DATA": "{tmp}"}, needs=SAMPLE),
    Proc("sample-serve-port-in-use", "serve {sample} --port {busy} --pid-file {pid}", 2, r"cannot listen on http://127\.0\.0\.1:\d+: address already in use", env={"GRAFTSITE_DATA": "{tmp}"}, needs=SAMPLE),
    Proc("flask-url-external-twice", "url --mount /shop=live_apps.flask_sites:shop -e shop:item item_id=1 _external=1", 2, r"_external", needs="flask wsgihub_flask"),
    Proc("flask-mount-current-app", "routes --mount /x=flask:current_app", 2, r"--mount /x.*(RuntimeError|application context)", needs="flask"),
]


# ---------------------------------------------------------------------------------------------
# API: Python calls on a hub
# ---------------------------------------------------------------------------------------------
def _external_from(host: str) -> Callable[[wsgihub.Hub], object]:
    """``url_for(_external=True)`` inside a request whose Host header is ``host``."""

    def call(hub: wsgihub.Hub) -> object:
        with hub.request_context("links", {"HTTP_HOST": host}):
            return hub.url_for("links:item", id=1, _external=True)

    return call


def _body_iter_raises(hub: wsgihub.Hub) -> object:
    """A grafted plain app (a cascade) answers a body whose ``__iter__`` raises: it must be closed."""
    body = corpus_site.BadBody()
    hub.graft(lambda environ, start_response: body, over="a", name="bad")
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/a/x", "SERVER_NAME": "example.com",
               "SERVER_PORT": "80", "HTTP_HOST": "example.com", "wsgi.url_scheme": "http"}
    try:
        return hub(environ, lambda status, headers, exc_info=None: None)
    finally:
        hub.unmount("bad")
        assert body.closed, "a body whose __iter__ raised was never closed (PEP 3333)"


def _trusting(trusted: list[str], host: str) -> object:
    """``url_for(_external=True)`` on a hub trusting ``trusted``, in a request for ``host``."""
    hub = corpus_site.hub(trusted_hosts=trusted)
    hub.mount("/links", corpus_site.links)
    return _external_from(host)(hub)


def _public(url: str) -> wsgihub.Hub:
    """A hub with ``public_url=url`` and the ``links`` app."""
    hub = corpus_site.hub(public_url=url)
    hub.mount("/links", corpus_site.links)
    return hub


def _hub(**options: Any) -> Callable[[wsgihub.Hub], object]:
    return lambda hub: corpus_site.hub(**options)


APP = corpus_site.echo("x")

API: list[Api] = [
    Api("trusted-hosts-bare-string", _hub(trusted_hosts="example.com"), (ConfigError, TypeError), r"trusted_hosts.*'example\.com'"),
    Api("trusted-hosts-not-strings", _hub(trusted_hosts=[1]), (ConfigError, TypeError), r"trusted_hosts"),
    Api("trusted-hosts-none", _hub(trusted_hosts=None), (ConfigError, TypeError), r"trusted_hosts.*None"),
    Api("trusted-hosts-scheme", _hub(trusted_hosts=["https://example.com"]), ConfigError, r"trusted_hosts: 'https://example\.com' is not a host name"),
    Api("trusted-hosts-glob", _hub(trusted_hosts=["*.example.com"]), ConfigError, r"trusted_hosts: '\*\.example\.com'"),
    Api("trusted-hosts-port", _hub(trusted_hosts=["example.com:8080"]), ConfigError, r"trusted_hosts: 'example\.com:8080'"),
    Api("trusted-hosts-userinfo", _hub(trusted_hosts=["example.com:@evil.com"]), ConfigError, r"trusted_hosts: 'example\.com:@evil\.com'"),
    Api("public-url-not-string", _hub(public_url=5), ConfigError, r"public_url must be a string"),
    Api("public-url-query", _hub(public_url="https://example.com/?x=1"), ConfigError, r"public_url 'https://example\.com/\?x=1'"),
    Api("public-url-user", _hub(public_url="https://user:pw@example.com/"), ConfigError, r"public_url 'https://user:pw@example\.com/'"),
    Api("public-url-port-range", _hub(public_url="https://example.com:99999/"), ConfigError, r"public_url 'https://example\.com:99999/'"),
    Api("public-url-ipv6-accepted", lambda hub: _public("https://[::1]:8443/site").url_for("links:item", id=1, _external=True), None, r"^https://\[::1\]:8443/site/links/item/1$"),
    Api("public-url-upper-case-accepted", lambda hub: _public("HTTPS://Example.COM").url_for("links:item", id=1, _external=True), None, r"^https://example\.com/links/item/1$"),
    Api("public-url-default-port-dropped", lambda hub: _public("https://example.com:443/").url_for("links:item", id=1, _external=True), None, r"^https://example\.com/links/item/1$"),
    Api("url-for-upper-case-host", _external_from("WWW.Example.ORG:8080"), None, r"^http://www\.example\.org:8080/links/item/1$"),
    Api("url-for-ipv6-host", _external_from("[::1]:8080"), None, r"^http://\[::1\]:8080/links/item/1$"),
    Api("trusted-hosts-idn-accepted", lambda hub: _trusting(["b\u00fccher.example.org"], "xn--bcher-kva.example.org"), None, r"^http://xn--bcher-kva\.example\.org/links/item/1$"),
    Api("trusted-hosts-star-still-parses", lambda hub: _trusting(["*"], "example.com:@evil.com"), UntrustedHostError, r"example\.com:@evil\.com"),
    Api("trusted-hosts-star-accepted", lambda hub: _trusting(["*"], "anything.example.net:8080"), None, r"^http://anything\.example\.net:8080/links/"),
    Api("public-url-ftp", _hub(public_url="ftp://example.com"), ConfigError, r"public_url 'ftp://example\.com'"),
    Api("public-url-no-host", _hub(public_url="https://"), ConfigError, r"public_url 'https://'"),
    Api("public-url-userinfo", _hub(public_url="https://example.com:@evil.com"), ConfigError, r"public_url 'https://example\.com:@evil\.com'"),
    Api("public-url-bad-port", _hub(public_url="https://example.com:http"), ConfigError, r"public_url 'https://example\.com:http'"),
    Api("public-url-space-in-host", _hub(public_url="https://evil.com .example.com"), ConfigError, r"public_url 'https://evil\.com \.example\.com'"),
    Api("public-url-bad-path", _hub(public_url="https://example.com/caf\u00e9"), ConfigError, r"public_url.*caf\u00e9"),
    Api("mount-prefix-not-string", lambda hub: hub.mount(None, APP), MountError, r"prefix must be a string"),  # type: ignore[arg-type]
    Api("mount-dotdot", lambda hub: hub.mount("/x/../y", APP), MountError, r"mount '/x/\.\./y'.*'\.\.'"),
    Api("mount-empty-segment", lambda hub: hub.mount("/x//y", APP), MountError, r"segment ''"),
    Api("mount-percent", lambda hub: hub.mount("/x%2Fy", APP), MountError, r"segment 'x%2Fy'"),
    Api("mount-space", lambda hub: hub.mount("/x y", APP), MountError, r"segment 'x y'"),
    Api("mount-taken-prefix", lambda hub: hub.mount("/a", APP, name="other"), MountError, r"mount 'other'.*'/a' is taken by mount 'a'"),
    Api("mount-taken-name", lambda hub: hub.mount("/other", APP, name="a"), MountError, r"mount 'a': name is taken"),
    Api("mount-colon-name", lambda hub: hub.mount("/other", APP, name="x:y"), MountError, r"mount 'x:y': invalid name"),
    Api("mount-empty-name", lambda hub: hub.mount("/other", APP, name=""), MountError, r"mount '': invalid name"),
    Api("mount-not-callable", lambda hub: hub.mount("/other", "app"), MountError, r"mount 'other'.*not a WSGI callable"),  # type: ignore[arg-type]
    Api("mount-unknown-framework", lambda hub: hub.mount("/other", APP, framework="nosuch"), MountError, r"mount 'other'.*framework 'nosuch'"),
    Api("mount-proxy-raises", lambda hub: hub.mount("/other", corpus_site.proxy), WsgihubError, r"mount 'other'.*RuntimeError"),
    Api("mount-invite-refused", lambda hub: hub.mount("/other", corpus_site.graft, invite_path="/__invite__/"), InviteError, r"mount 'other'.*invitation to '/__invite__/' answered '404 Not Found'"),
    Api("mount-invite-raises", lambda hub: hub.mount("/other", corpus_site.crash, invite_path="/__invite__/"), InviteError, r"mount 'other'.*invitation to '/__invite__/' raised RuntimeError"),
    Api("graft-unknown-over", lambda hub: hub.graft(APP, over="nosuch"), UnknownMountError, r"no mount named 'nosuch'"),
    Api("graft-over-none", lambda hub: hub.graft(APP, over=None), UnknownMountError, r"None"),  # type: ignore[arg-type]
    Api("graft-over-graft", lambda hub: hub.graft(APP, over="g"), MountError, r"cannot graft onto graft 'g'"),
    Api("graft-taken-name", lambda hub: hub.graft(APP, over="a", name="links"), MountError, r"mount 'links': name is taken"),
    Api("unmount-unknown", lambda hub: hub.unmount("nosuch"), UnknownMountError, r"no mount named 'nosuch'"),
    Api("unmount-none", lambda hub: hub.unmount(None), WsgihubError, r"None"),  # type: ignore[arg-type]
    Api("url-for-none", lambda hub: hub.url_for(None), WsgihubError, r"None"),  # type: ignore[arg-type]
    Api("url-for-no-mount-part", lambda hub: hub.url_for("links"), URLBuildError, r"endpoint 'links' names no mount"),
    Api("url-for-unknown-mount", lambda hub: hub.url_for("link:item", id=1), UnknownMountError, r"no mount named 'link'.*'links'"),
    Api("url-for-no-adapter", lambda hub: hub.url_for("a:x"), NoAdapterError, r"mount 'a' has no adapter"),
    Api("url-for-external-outside-request", lambda hub: hub.url_for("links:item", id=1, _external=True), UntrustedHostError, r"'links:item' outside a request.*public_url"),
    Api("url-for-scheme-not-a-scheme", lambda hub: corpus_site.public_site().url_for("links:item", id=1, _external=True, _scheme="http://evil.com/#"), WsgihubError, r"_scheme 'http://evil\.com/#'"),
    Api("url-for-untrusted-host", _external_from("evil.com"), UntrustedHostError, r"Host 'evil\.com' is not in trusted_hosts"),
    Api("url-for-host-userinfo", _external_from("example.com:@evil.com"), UntrustedHostError, r"example\.com:@evil\.com"),
    Api("url-for-host-suffix-slash", _external_from("evil.com/.example.org"), UntrustedHostError, r"evil\.com/\.example\.org"),
    Api("url-for-host-backslash", _external_from("evil.com\\.example.org"), UntrustedHostError, r"evil\.com"),
    Api("url-for-host-suffix-hash", _external_from("evil.com#.example.org"), UntrustedHostError, r"evil\.com#\.example\.org"),
    Api("url-for-host-ipv6-unclosed", _external_from("[::1"), UntrustedHostError, r"'\[::1'"),
    Api("url-for-host-port-twice", _external_from("example.com:80:80"), UntrustedHostError, r"example\.com:80:80"),
    Api("body-iter-raises-is-closed", lambda hub: _body_iter_raises(hub), RuntimeError, r"__iter__ raised"),
    Api("load-none", lambda hub: wsgihub.load(None), ConfigError, r"no site given"),  # type: ignore[arg-type]
    Api("load-empty", lambda hub: wsgihub.load(""), DeployError, r"site '': expected a site file"),
    Api("load-missing-file", lambda hub: wsgihub.load("config:/nonexistent/site.ini"), DeployError, r"'/nonexistent/site\.ini' does not exist"),
    Api("parse-deployment-none", lambda hub: wsgihub.deploy.parse_deployment(None), (DeployError, TypeError), r"descriptor.*None"),  # type: ignore[arg-type]
    Api("parse-deployment-directory", lambda hub: wsgihub.deploy.parse_deployment("/"), DeployError, r"pipeline descriptor '/' cannot be read"),
    Api("partyline-handler-not-callable", lambda hub: hub.partyline.connect("ping", None), TypeError, r"handler for 'ping' is not callable"),  # type: ignore[arg-type]
    Api("partyline-no-such-service", lambda hub: hub.partyline.ask_around("corpus-nosuch", None), wsgihub.NoSuchServiceName, r"'corpus-nosuch'"),
    Api("graft-app-none", lambda hub: hub.graft(None, over="a"), MountError, r"None is not a WSGI callable"),  # type: ignore[arg-type]
    Api("peg-not-a-string", lambda hub: hub.peg(5), UnknownMountError, r"no mount named 5"),  # type: ignore[arg-type]
    Api("url-for-outside-any-request", lambda hub: wsgihub.url_for("links:item", id=1), WsgihubError, r"wsgihub\.url_for\('links:item'\) called outside a request"),
    Api("send-invitation-without-path", lambda hub: hub.send_invitation("links"), InviteError, r"mount 'links' has no invite_path"),
    Api("request-context-unknown-mount", lambda hub: hub.request_context("nosuch").__enter__(), UnknownMountError, r"no mount named 'nosuch'"),
    Api("request-context-no-adapter", lambda hub: hub.request_context("a").__enter__(), NoAdapterError, r"mount 'a' has no adapter"),
    Api("routes-of-unknown-mount", lambda hub: hub.routes("nosuch"), UnknownMountError, r"no mount named 'nosuch'"),
]

# ---------------------------------------------------------------------------------------------
# HTTP: raw requests to a real `wsgihub serve corpus_site:site` (waitress)
# ---------------------------------------------------------------------------------------------
L = "GET /links/ HTTP/1.1|"
LINK = r"^http://example\.com/links/item/1$"
UNTRUSTED = r"^untrusted host$"


def echoed(app: str, script_name: str, path_info: str) -> str:
    """Body pattern of the echo apps."""
    return re.escape(f'"app": "{app}"') + r".*" + re.escape(f'"script_name": "{script_name}", "path_info": "{path_info}"')


#: A request ID the server made up (the client's was unusable).
NEW_ID = r"^x-request-id: [0-9a-f]{32}$"
#: The server closed the response body of a client that went away (PEP 3333).
CLOSED = r"^CLOSED {id}$"

HTTP: list[Http] = [
    # -- Host (issue 8 §1): trusted_hosts = example.com .example.org localhost [::1] ---------------
    Http("host-trusted", L + "Host: example.com", 200, LINK),
    Http("host-upper-case", L + "Host: EXAMPLE.COM", 200, r"^http://example\.com/links/item/1$"),
    Http("host-odd-port", L + "Host: example.com:8081", 200, r"^http://example\.com:8081/links/item/1$"),
    Http("host-default-port", L + "Host: example.com:80", 200, LINK),
    Http("host-subdomain", L + "Host: www.example.org", 200, r"^http://www\.example\.org/links/"),
    Http("host-idn-punycode", L + "Host: xn--bcher-kva.example.org", 200, r"^http://xn--bcher-kva\.example\.org/links/"),
    Http("host-idn-raw", L + "Host: b\u00fccher.example.org", 400, UNTRUSTED),
    Http("host-trailing-dot", L + "Host: example.com.", S(200, 400)),
    Http("host-ipv6-trusted", L + "Host: [::1]:8080", 200, r"^http://\[::1\]:8080/links/"),
    Http("host-ipv6-untrusted", L + "Host: [::2]", 400, UNTRUSTED),
    Http("host-ipv6-unclosed", L + "Host: [::1", 400, UNTRUSTED),
    Http("host-ipv6-junk-after", L + "Host: [::1]evil.com", 400, UNTRUSTED),
    Http("host-userinfo-empty", L + "Host: example.com:@evil.com", 400, UNTRUSTED),
    Http("host-userinfo", L + "Host: example.com:x@evil.com", 400, UNTRUSTED),
    Http("host-userinfo-localhost", L + "Host: localhost:@evil.com", 400, UNTRUSTED),
    Http("host-suffix-slash", L + "Host: evil.com/.example.org", 400, UNTRUSTED),
    Http("host-suffix-hash", L + "Host: evil.com#.example.org", 400, UNTRUSTED),
    Http("host-suffix-query", L + "Host: evil.com?.example.org", 400, UNTRUSTED),
    Http("host-suffix-backslash", L + "Host: evil.com\\.example.org", 400, UNTRUSTED),
    Http("host-suffix-pct-slash", L + "Host: evil.com%2F.example.org", 400, UNTRUSTED),
    Http("host-suffix-space", L + "Host: evil.com .example.org", 400, UNTRUSTED),
    Http("host-suffix-semicolon", L + "Host: evil.com;.example.org", 400, UNTRUSTED),
    Http("host-suffix-no-dot", L + "Host: evilexample.org", 400, UNTRUSTED),
    Http("host-port-letters", L + "Host: example.com:http", 400, UNTRUSTED),
    Http("host-port-twice", L + "Host: example.com:80:80", 400, UNTRUSTED),
    Http("host-port-negative", L + "Host: example.com:-1", 400, UNTRUSTED),
    Http("host-port-too-big", L + "Host: example.com:99999", 400, UNTRUSTED),
    Http("host-port-empty", L + "Host: example.com:", 400, UNTRUSTED),
    Http("host-port-zero", L + "Host: example.com:0", 400, UNTRUSTED),
    Http("host-double-dot", L + "Host: a..example.org", 400, UNTRUSTED),
    Http("host-leading-dot", L + "Host: .example.org", 400, UNTRUSTED),
    Http("host-pct-encoded", L + "Host: %65xample.com", 400, UNTRUSTED),
    Http("host-ipv4-untrusted", L + "Host: 127.0.0.1", 400, UNTRUSTED),
    Http("host-ipv4-mapped-ipv6", L + "Host: [::ffff:127.0.0.1]", 400, UNTRUSTED),
    Http("host-ipvfuture", L + "Host: [v1.fe]", 400, UNTRUSTED),
    Http("host-ipv6-zone-id", L + "Host: [fe80::1%25eth0]", 400, UNTRUSTED),
    Http("host-ipv6-uncompressed", L + "Host: [0:0:0:0:0:0:0:1]:8080", 200, r"^http://\[[0:]*:1\]:8080/links/item/1$"),
    Http("host-untrusted-escapes-to-hub", "GET /links/raw HTTP/1.1|Host: example.com:@evil.com", 400),
    Http("host-untrusted-escapes-to-hub-plain", "GET /links/raw HTTP/1.1|Host: evil.com", 400),
    Http("host-trusted-raw", "GET /links/raw HTTP/1.1|Host: example.com", 200, LINK),
    Http("host-empty", L + "Host: ", 400, UNTRUSTED),
    Http("host-missing-http10", "GET /links/ HTTP/1.0|X-No-Host: 1", 400, UNTRUSTED),
    Http("host-twice", L + "Host: example.com|Host: evil.com", 400, UNTRUSTED),
    Http("host-twice-same", L + "Host: example.com|Host: example.com", 400, UNTRUSTED),
    Http("host-folded", L + "Host: example.com| evil.com", 400),
    Http("host-name-mixed-case", L + "hOsT: example.com:@evil.com", 400),
    Http("host-space-before-colon", L + "Host : evil.com", 400),
    Http("host-tabs", L + "Host:\texample.com\t", 200, LINK),
    Http("host-absolute-form", "GET http://evil.com/links/ HTTP/1.1|Host: example.com", S(200, 400), r"^(http://example\.com/links/item/1|untrusted host)$"),
    Http("host-redirect-userinfo", "GET /links/go HTTP/1.1|Host: example.com:@evil.com", 400, UNTRUSTED),
    # -- one connection, several Hosts: nothing is remembered from one request to the next --------
    Http("keepalive-host-changes", L + "Host: example.com||" + L + "Host: www.example.org||" + L + "Host: evil.com", 200, chain=((200, LINK), (200, r"^http://www\.example\.org/links/item/1$"), (400, UNTRUSTED))),
    Http("keepalive-untrusted-first", L + "Host: evil.com||" + L + "Host: example.com", 400, chain=((400, UNTRUSTED), (200, LINK))),
    Http("keepalive-userinfo-then-trusted", L + "Host: example.com:@evil.com||" + L + "Host: example.com", 400, chain=((400, UNTRUSTED), (200, LINK))),
    Http("keepalive-invite-after-home", "GET /old/ HTTP/1.1||GET /old//__invite__/ HTTP/1.1", 200, chain=((200, r"^old home$"), (404, r""))),
    # -- forwarded headers: never trusted -----------------------------------------------------
    Http("fwd-x-forwarded-host", L + "X-Forwarded-Host: evil.com", 200, LINK),
    Http("fwd-forwarded-host", L + "Forwarded: host=evil.com;proto=https", 200, LINK),
    Http("fwd-x-forwarded-proto", L + "X-Forwarded-Proto: https", 200, LINK),
    Http("fwd-x-forwarded-prefix", "GET /a/x HTTP/1.1|X-Forwarded-Prefix: /evil", 200, echoed("a", "/a", "/x")),
    Http("fwd-x-script-name", "GET /a/x HTTP/1.1|X-Script-Name: /evil", 200, echoed("a", "/a", "/x")),
    Http("fwd-x-forwarded-ssl", L + "X-Forwarded-Ssl: on", 200, LINK),
    Http("fwd-script-name-header", "GET /evil/links/ HTTP/1.1|SCRIPT_NAME: /evil", 404),
    Http("fwd-script-name-header-mismatch", "GET /a/x HTTP/1.1|SCRIPT_NAME: /elsewhere", 200, echoed("a", "/a", "/x")),
    Http("fwd-x-original-url", "GET /a/x HTTP/1.1|X-Original-URL: /b/deeper/x", 200, echoed("a", "/a", "/x")),
    # -- forwarded headers from a peer not in --forwarded-allow-ips (none by default) never reach an app
    Http("fwd-removed-x-forwarded-for", "GET /env/ HTTP/1.1|X-Forwarded-For: 10.9.9.9", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"remote_addr": "127\.0\.0\.1"'),
    Http("fwd-removed-forwarded", "GET /env/ HTTP/1.1|Forwarded: for=10.9.9.9;proto=https;host=evil.com", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"scheme": "http"'),
    Http("fwd-removed-x-real-ip", "GET /env/ HTTP/1.1|X-Real-IP: 10.9.9.9", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\]'),
    Http("fwd-removed-x-forwarded-prefix", "GET /env/ HTTP/1.1|X-Forwarded-Prefix: /site", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"script_name": "/env"'),
    Http("fwd-removed-underscore-spelling", "GET /env/ HTTP/1.1|X_Forwarded_For: 10.9.9.9|X-Forwarded_Proto: https", 200, r'"remote_addr": "127\.0\.0\.1", "scheme": "http"'),
    # -- a trusted proxy (`--forwarded-allow-ips 127.0.0.1`): what it vouches for, checked like a Host
    Http("proxy-host-trusted", L + "X-Forwarded-Host: www.example.org", 200, r"^http://www\.example\.org/links/item/1$", server="proxied"),
    Http("proxy-host-untrusted", L + "X-Forwarded-Host: evil.com", 400, UNTRUSTED, server="proxied"),
    Http("proxy-host-userinfo", L + "X-Forwarded-Host: example.com:@evil.com", S(200, 400), r"^(http://example\.com/links/item/1|untrusted host)$", server="proxied"),
    Http("proxy-host-list-client-first", L + "X-Forwarded-Host: evil.com, www.example.org", S(200, 400), r"^(http://www\.example\.org/links/item/1|untrusted host)$", server="proxied"),
    Http("proxy-proto-https", L + "X-Forwarded-Proto: https", 200, r"^https://example\.com/links/item/1$", server="proxied"),
    Http("proxy-proto-javascript", L + "X-Forwarded-Proto: javascript", 200, LINK, server="proxied"),
    Http("proxy-proto-with-colon", L + "X-Forwarded-Proto: https://evil.com/#", 200, LINK, server="proxied"),
    Http("proxy-prefix", L + "X-Forwarded-Prefix: /site", 200, r"^http://example\.com/site/links/item/1$", server="proxied"),
    Http("proxy-prefix-protocol-relative", L + "X-Forwarded-Prefix: //evil.com", 200, LINK, server="proxied"),
    Http("proxy-prefix-dotdot", L + "X-Forwarded-Prefix: /../x", 200, LINK, server="proxied"),
    Http("proxy-prefix-no-slash", L + "X-Forwarded-Prefix: evil.com", 200, LINK, server="proxied"),
    Http("proxy-prefix-encoded", L + "X-Forwarded-Prefix: /caf%C3%A9", 200, LINK, server="proxied"),
    Http("proxy-prefix-backslash", L + "X-Forwarded-Prefix: /\\evil.com", 200, LINK, server="proxied"),
    Http("proxy-forwarded-unparseable", "GET /env/ HTTP/1.1|Forwarded: for=10.9.9.9;;;=;proto", 200, r'"remote_addr": "(?!10\.9\.9\.9)', server="proxied"),
    Http("proxy-forwarded-hidden", "GET /env/ HTTP/1.1|Forwarded: for=_hidden", 200, r'"remote_addr": "(?!127\.0\.0\.1)', server="proxied"),
    Http("proxy-xff-garbage", "GET /env/ HTTP/1.1|X-Forwarded-For: not-an-ip", 200, r'"remote_addr": "(?!127\.0\.0\.1)', server="proxied"),
    Http("proxy-xff-very-long", "GET /env/ HTTP/1.1|X-Forwarded-For: " + ", ".join(["10.0.0.1"] * 200), 200, server="proxied"),
    Http("proxy-inspector-spoofed-for", "GET /_inspect HTTP/1.1|X-Forwarded-For: 10.9.9.9", 200, server="proxied"),
    Http("proxy-inspector-garbage-for", "GET /_inspect HTTP/1.1|X-Forwarded-For: not-an-ip", S(403, 404), server="proxied"),
    Http("proxy-inspector-both-kinds", "GET /_inspect HTTP/1.1|X-Forwarded-For: 1.2.3.4|Forwarded: for=10.9.9.9", S(403, 404), server="proxied"),
    # -- path spellings --------------------------------------------------------------------------
    Http("path-plain", "GET /a/x HTTP/1.1", 200, echoed("a", "/a", "/x")),
    Http("path-double-slash-start", "GET //a/x HTTP/1.1", S(200, 404)),
    Http("path-double-slash-inner", "GET /b//deeper/x HTTP/1.1", 404),
    Http("path-dot-segment", "GET /./a/x HTTP/1.1", 404),
    Http("path-dotdot-escapes-nothing", "GET /a/../b/deeper/x HTTP/1.1", 200, echoed("a", "/a", "/../b/deeper/x")),
    Http("path-pct-dotdot", "GET /%2e%2e/a/x HTTP/1.1", 404),
    Http("path-pct-slash", "GET /a%2Fx HTTP/1.1", 200, echoed("a", "/a", "/x")),
    Http("path-pct-letter", "GET /%61/x HTTP/1.1", 200, echoed("a", "/a", "/x")),
    Http("path-pct-invalid", "GET /a/%zz HTTP/1.1", S(200, 400), r"%zz|Bad Request"),
    Http("path-pct-nul", "GET /a/%00 HTTP/1.1", S(200, 400, 404)),
    Http("path-not-utf8", "GET /a/%ff HTTP/1.1", 200, echoed("a", "/a", "/\\u00ff")),
    Http("path-raw-nul", "GET /a/x\x00 HTTP/1.1", S(200, 400)),
    Http("path-pct-slash-in-prefix", "GET /b%2Fdeeper/x HTTP/1.1", 200, echoed("b", "/b/deeper", "/x")),
    Http("path-half-prefix", "GET /b HTTP/1.1", 404),
    Http("path-half-prefix-slash", "GET /b/ HTTP/1.1", 404),
    Http("path-prefix-exact", "GET /b/deeper HTTP/1.1", 200, echoed("b", "/b/deeper", "")),
    Http("log-forged-newline", "GET /a/x%0A2026-01-01T00:00:00Z%20127.0.0.1%20%22GET%20/admin%22 HTTP/1.1", 200),
    Http("log-forged-crlf", "GET /a/x%0D%0Aforged HTTP/1.1", 200),
    Http("log-terminal-escape", "GET /a/%1b[2J HTTP/1.1", 200),
    Http("log-quotes", 'GET /a/%22quoted%22 HTTP/1.1|User-Agent: "}{"|Referer: "', 200),
    Http("path-upper-case-prefix", "GET /A/x HTTP/1.1", 404),
    Http("path-prefix-no-boundary", "GET /ab HTTP/1.1", 404),
    Http("path-asterisk", "GET * HTTP/1.1", S(400, 404)),
    Http("path-no-slash", "GET a HTTP/1.1", S(400, 404)),
    Http("path-long", "GET /a/" + "x" * 8000 + " HTTP/1.1", 200),
    Http("path-huge", "GET /a/" + "x" * 300_000 + " HTTP/1.1", S(400, 414, 431, None)),
    # -- invite paths (issue 8 §2): /old has invite_path /__invite__/ -------------------------------
    Http("invite-exact", "GET /old/__invite__/ HTTP/1.1", 404),
    Http("invite-no-slash", "GET /old/__invite__ HTTP/1.1", 404),
    Http("invite-double-slash", "GET /old//__invite__/ HTTP/1.1", 404),
    Http("invite-dot-segment", "GET /old/./__invite__/ HTTP/1.1", 404),
    Http("invite-dotdot", "GET /old/x/../__invite__/ HTTP/1.1", 404),
    Http("invite-pct-encoded", "GET /old/%5F%5Finvite%5F%5F/ HTTP/1.1", 404),
    Http("invite-post", "POST /old/__invite__/ HTTP/1.1|Content-Length: 0", 404),
    Http("invite-upper-case", "GET /old/__INVITE__/ HTTP/1.1", 404),
    Http("invite-head", "HEAD /old/__invite__/ HTTP/1.1", 404),
    Http("invite-query", "GET /old/__invite__/?partyline=1 HTTP/1.1", 404),
    Http("invite-trailing-double-slash", "GET /old/__invite__// HTTP/1.1", 404),
    Http("invite-pct-slash", "GET /old/__invite__%2F HTTP/1.1", 404),
    Http("invite-pct-double-slash", "GET /old/%2F__invite__/ HTTP/1.1", 404),
    Http("invite-many-slashes", "GET /old///__invite__/// HTTP/1.1", 404),
    Http("invite-dotdot-out-and-back", "GET /old/../old/__invite__/ HTTP/1.1", S(404)),
    Http("invite-flask-trailing-double-slash", "GET /old/__invite__// HTTP/1.1", S(404, 308), r"^(?!.*INVITE-VIEW-RAN)", server="flask", needs="flask"),
    Http("invite-flask-no-slash", "GET /old/__invite__ HTTP/1.1", S(404, 308), server="flask", needs="flask"),
    Http("invite-flask-pct-encoded", "GET /old/%5F%5Finvite%5F%5F/ HTTP/1.1", 404, server="flask", needs="flask"),
    Http("flask-no-such-route", "GET /old/nosuch HTTP/1.1", 404, server="flask", needs="flask wsgihub_flask"),
    Http("flask-abort-404", "GET /old/gone HTTP/1.1", 404, server="flask", needs="flask wsgihub_flask"),
    Http("flask-abort-404-twice", "GET /old/gone HTTP/1.1||GET /old/nosuch HTTP/1.1", 404, chain=((404, r""), (404, r"")), server="flask", needs="flask wsgihub_flask"),
    Http("flask-external-trusted", "GET /old/ext HTTP/1.1", 200, r"^http://example\.com/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-external-untrusted", "GET /old/ext HTTP/1.1|Host: evil.com", 400, server="flask", needs="flask wsgihub_flask"),
    Http("flask-external-userinfo", "GET /old/ext HTTP/1.1|Host: example.com:@evil.com", 400, server="flask", needs="flask wsgihub_flask"),
    # Flask's own Host check (the hub's list as TRUSTED_HOSTS) answers every spelling as the hub does
    Http("flask-host-upper-case", "GET /old/ext HTTP/1.1|Host: EXAMPLE.COM", 200, r"^http://example\.com/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-subdomain-mixed-case", "GET /old/ext HTTP/1.1|Host: Www.Example.ORG:8080", 200, r"^http://www\.example\.org:8080/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-ipv6", "GET /old/ext HTTP/1.1|Host: [::1]:8080", 200, r"^http://\[::1\]:8080/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-ipv6-uncompressed", "GET /old/ext HTTP/1.1|Host: [0:0:0:0:0:0:0:1]:8080", 200, r"^http://\[[0:]*:1\]:8080/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-ipv6-leading-zeros", "GET /old/ext HTTP/1.1|Host: [0000::0001]", 200, r"^http://\[[0:]*:[0]*1\]/old/$", server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-ipv6-untrusted", "GET /old/ext HTTP/1.1|Host: [::2]", 400, server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-ipv4-mapped", "GET /old/ext HTTP/1.1|Host: [::ffff:127.0.0.1]", 400, server="flask", needs="flask wsgihub_flask"),
    Http("flask-host-double-dot", "GET /old/ext HTTP/1.1|Host: a..example.org", 400, server="flask", needs="flask wsgihub_flask"),
    Http("django-external-trusted", "GET /dj/ext HTTP/1.1", 200, r"^http://example\.com/dj/ext$", server="django", needs=DJANGO),
    Http("django-external-untrusted", "GET /dj/ext HTTP/1.1|Host: evil.com", 400, server="django", needs=DJANGO),
    Http("django-external-userinfo", "GET /dj/ext HTTP/1.1|Host: example.com:@evil.com", 400, server="django", needs=DJANGO),
    Http("django-404", "GET /dj/gone HTTP/1.1", 404, server="django", needs=DJANGO),
    Http("django-no-such-route", "GET /dj/nosuch HTTP/1.1|Host: evil.com", 404, server="django", needs=DJANGO),
    Http("django-non-utf8-path", "GET /dj/%ff HTTP/1.1", 404, server="django", needs=DJANGO),
    Http("invite-flask-exact", "GET /old/__invite__/ HTTP/1.1", 404, server="flask", needs="flask"),
    Http("invite-flask-double-slash", "GET /old//__invite__/ HTTP/1.1", S(404, 308), r"^(?!.*INVITE-VIEW-RAN)", server="flask", needs="flask"),
    # -- the same under gunicorn (`serve --workers 1`); the corpus found gunicorn trusting forwarded
    # headers and a SCRIPT_NAME header from 127.0.0.1 (its own default), fixed in d6e2e6f -------------
    Http("workers-host-trusted", L + "Host: example.com", 200, LINK, server="workers"),
    Http("workers-host-userinfo", L + "Host: example.com:@evil.com", 400, UNTRUSTED, server="workers"),
    Http("workers-host-suffix-space", L + "Host: evil.com .example.org", 400, UNTRUSTED, server="workers"),
    Http("workers-host-twice", L + "Host: example.com|Host: evil.com", 400, server="workers"),
    Http("workers-fwd-x-forwarded-host", L + "X-Forwarded-Host: evil.com", 200, LINK, server="workers"),
    Http("workers-fwd-forwarded", L + "Forwarded: host=evil.com;proto=https", 200, LINK, server="workers"),
    Http("workers-fwd-x-forwarded-proto", L + "X-Forwarded-Proto: https", 200, LINK, server="workers"),
    Http("workers-fwd-x-forwarded-ssl", L + "X-Forwarded-Ssl: on", 200, LINK, server="workers"),
    Http("workers-fwd-script-name-header", "GET /evil/links/ HTTP/1.1|SCRIPT_NAME: /evil", 404, server="workers"),
    Http("workers-fwd-script-name-header-mismatch", "GET /a/x HTTP/1.1|SCRIPT_NAME: /elsewhere", 200, echoed("a", "/a", "/x"), server="workers"),
    Http("workers-fwd-removed-x-forwarded-for", "GET /env/ HTTP/1.1|X-Forwarded-For: 10.9.9.9|X-Real-IP: 10.9.9.9", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"remote_addr": "127\.0\.0\.1"', server="workers"),
    Http("workers-fwd-removed-forwarded", "GET /env/ HTTP/1.1|Forwarded: for=10.9.9.9;proto=https", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"scheme": "http"', server="workers"),
    Http("workers-fwd-x-script-name", "GET /a/x HTTP/1.1|X-Script-Name: /evil", 200, echoed("a", "/a", "/x"), server="workers"),
    Http("workers-invite-double-slash", "GET /old//__invite__/ HTTP/1.1", 404, server="workers"),
    Http("workers-invite-dot-segment", "GET /old/./__invite__/ HTTP/1.1", 404, server="workers"),
    Http("workers-path-double-slash-start", "GET //a/x HTTP/1.1", S(200, 404), server="workers"),
    Http("workers-path-dotdot", "GET /a/../b/deeper/x HTTP/1.1", 200, echoed("a", "/a", "/../b/deeper/x"), server="workers"),
    Http("workers-method-unknown", "FOO /a/x HTTP/1.1", 200, echoed("a", "/a", "/x"), server="workers"),
    Http("workers-body-chunk-size-junk", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 400, payload=b"zz\r\nabc\r\n0\r\n\r\n", server="workers"),
    Http("workers-disconnect-mid-body", "POST /body/ HTTP/1.1|Content-Length: 100000", None, payload=b"x" * 1000, hangup=True, server="workers"),
    # -- the sample site (trusted_hosts = 127.0.0.1 localhost): Django, Flask grafted over it, Pyramid API
    Http("sample-api-trusted", "GET /api/posts HTTP/1.1|Host: localhost", 200, r'"self": "http://localhost/api/posts/', server="sample", needs=SAMPLE),
    Http("sample-api-untrusted", "GET /api/posts HTTP/1.1|Host: evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-api-host-userinfo", "GET /api/posts HTTP/1.1|Host: localhost:@evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-api-x-forwarded-host", "GET /api/posts HTTP/1.1|Host: localhost|X-Forwarded-Host: evil.com", 200, server="sample", needs=SAMPLE),
    Http("sample-django-untrusted", "GET /blog/ HTTP/1.1|Host: evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-django-host-userinfo", "GET /blog/1/author/ HTTP/1.1|Host: localhost:@evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-flask-redirect-trusted", "GET /reports HTTP/1.1|Host: localhost", 308, server="sample", needs=SAMPLE),
    Http("sample-flask-redirect-untrusted", "GET /reports HTTP/1.1|Host: evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-flask-merge-slashes-untrusted", "GET /reports//latest HTTP/1.1|Host: evil.com", 400, server="sample", needs=SAMPLE),
    Http("sample-graft-double-slash", "GET //whoami HTTP/1.1|Host: localhost", S(302, 404), server="sample", needs=SAMPLE),
    Http("sample-graft-post-falls-through", "POST /whoami HTTP/1.1|Host: localhost|Content-Length: 0", 404, server="sample", needs=SAMPLE),
    Http("sample-login-without-csrf", "POST /accounts/login/ HTTP/1.1|Host: localhost|Content-Type: application/x-www-form-urlencoded|Content-Length: 5", 403, payload=b"a=b&c", server="sample", needs=SAMPLE),
    Http("sample-django-non-utf8-path", "GET /blog/%ff/ HTTP/1.1|Host: localhost", 404, server="sample", needs=SAMPLE),
    Http("sample-flask-non-utf8-path", "GET /users/%ff HTTP/1.1|Host: localhost", 404, server="sample", needs=SAMPLE),
    Http("sample-api-non-utf8-path", "GET /api/posts/%ff HTTP/1.1|Host: localhost", S(400, 404), server="sample", needs=SAMPLE),
    Http("sample-static-traversal", "GET /static/../../etc/passwd HTTP/1.1|Host: localhost", S(400, 404), r"^(?!root:)", server="sample", needs=SAMPLE),
    Http("sample-static-encoded-traversal", "GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1|Host: localhost", S(400, 404), r"^(?!root:)", server="sample", needs=SAMPLE),
    Http("sample-static-encoded-slash-traversal", "GET /static/..%2f..%2fsettings.py HTTP/1.1|Host: localhost", S(400, 404), r"^(?!SECRET)", server="sample", needs=SAMPLE),
    Http("sample-api-huge-id", "GET /api/posts/99999999999999999999 HTTP/1.1|Host: localhost", 404, server="sample", needs=SAMPLE),
    # -- the ops paths (`serve --health-path /healthz --inspect /_inspect --inspect-allow-ips 10.9.9.9`)
    Http("ops-health", "GET /healthz HTTP/1.1", 200, r'"status": "ok"', server="ops"),
    Http("ops-health-head", "HEAD /healthz HTTP/1.1", 200, r"^$", server="ops"),
    Http("ops-health-post", "POST /healthz HTTP/1.1|Content-Length: 0", 405, server="ops"),
    Http("ops-health-query", "GET /healthz?verbose=1 HTTP/1.1", 200, server="ops"),
    Http("ops-health-trailing-slash", "GET /healthz/ HTTP/1.1", 404, server="ops"),
    Http("ops-health-upper-case", "GET /HEALTHZ HTTP/1.1", 404, server="ops"),
    Http("ops-health-hostile-host", "GET /healthz HTTP/1.1|Host: example.com:@evil.com", 200, server="ops"),
    Http("ops-inspect-not-allowed", "GET /_inspect HTTP/1.1", S(403, 404), server="ops"),
    Http("ops-inspect-json-not-allowed", "GET /_inspect.json HTTP/1.1", S(403, 404), server="ops"),
    Http("ops-inspect-spoofed-x-forwarded-for", "GET /_inspect HTTP/1.1|X-Forwarded-For: 10.9.9.9", S(403, 404), server="ops"),
    Http("ops-inspect-spoofed-forwarded", "GET /_inspect.json HTTP/1.1|Forwarded: for=10.9.9.9", S(403, 404), server="ops"),
    Http("ops-inspect-spoofed-x-real-ip", "GET /_inspect HTTP/1.1|X-Real-IP: 10.9.9.9", S(403, 404), server="ops"),
    Http("ops-inspect-double-slash", "GET //_inspect HTTP/1.1", S(403, 404), server="ops"),
    Http("ops-inspect-trailing-slash", "GET /_inspect/ HTTP/1.1", S(403, 404), server="ops"),
    Http("reqid-kept", "GET /a/x HTTP/1.1|X-Request-ID: abc-123", 200, head=r"^x-request-id: abc-123$", server="ops"),
    Http("reqid-too-long", "GET /a/x HTTP/1.1|X-Request-ID: " + "x" * 8000, 200, head=NEW_ID, server="ops"),
    Http("reqid-tab", "GET /a/x HTTP/1.1|X-Request-ID: a\tb", 200, head=NEW_ID, server="ops"),
    Http("reqid-non-ascii", "GET /a/x HTTP/1.1|X-Request-ID: caf\u00e9", 200, head=NEW_ID, server="ops"),
    Http("reqid-json-breaking", 'GET /a/x HTTP/1.1|X-Request-ID: "}{"evil":1', 200, head=NEW_ID, server="ops"),
    Http("reqid-spaces", "GET /a/x HTTP/1.1|X-Request-ID: a b c", 200, head=NEW_ID, server="ops"),
    Http("reqid-empty", "GET /a/x HTTP/1.1|X-Request-ID: ", 200, head=NEW_ID, server="ops"),
    Http("reqid-twice", "GET /a/x HTTP/1.1|X-Request-ID: abc|X-Request-ID: def", 200, head=r"^x-request-id: (?!abc, def)[^\r\n]+$", server="ops"),
    Http("access-log-hostile-fields", 'GET /a/"x HTTP/1.1|User-Agent: "}\u00e9|Referer: a\tb', 200, server="ops"),
    Http("ops-app-still-there", "GET /a/x HTTP/1.1", 200, echoed("a", "/a", "/x"), server="ops"),
    # -- the same under uvicorn (`serve --server uvicorn`: the hub as ASGI, WSGI mounts through a2wsgi)
    Http("uvicorn-host-trusted", L + "Host: example.com", 200, LINK, server="uvicorn", needs=UVICORN),
    Http("uvicorn-host-userinfo", L + "Host: example.com:@evil.com", 400, UNTRUSTED, server="uvicorn", needs=UVICORN),
    Http("uvicorn-host-suffix-space", L + "Host: evil.com .example.org", 400, server="uvicorn", needs=UVICORN),
    Http("uvicorn-untrusted-escapes-to-hub", "GET /links/raw HTTP/1.1|Host: evil.com", 400, server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-x-forwarded-host", L + "X-Forwarded-Host: evil.com", 200, LINK, server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-x-forwarded-proto", L + "X-Forwarded-Proto: https", 200, LINK, server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-x-forwarded-for", "GET /env/ HTTP/1.1|X-Forwarded-For: 10.9.9.9", 200, r'"remote_addr": "127\.0\.0\.1"', server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-forwarded", "GET /env/ HTTP/1.1|Forwarded: for=10.9.9.9;proto=https", 200, r'"headers": \["HTTP_CONNECTION", "HTTP_HOST"\].*"remote_addr": "127\.0\.0\.1", "scheme": "http"', server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-x-forwarded-prefix", L + "X-Forwarded-Prefix: /site", 200, LINK, server="uvicorn", needs=UVICORN),
    Http("uvicorn-fwd-script-name-header", "GET /evil/links/ HTTP/1.1|SCRIPT_NAME: /evil", 404, server="uvicorn", needs=UVICORN),
    Http("uvicorn-invite-exact", "GET /old/__invite__/ HTTP/1.1", 404, server="uvicorn", needs=UVICORN),
    Http("uvicorn-invite-double-slash", "GET /old//__invite__/ HTTP/1.1", 404, server="uvicorn", needs=UVICORN),
    Http("uvicorn-invite-dot-segment", "GET /old/./__invite__/ HTTP/1.1", 404, server="uvicorn", needs=UVICORN),
    Http("uvicorn-path-dotdot", "GET /a/../b/deeper/x HTTP/1.1", 200, echoed("a", "/a", "/../b/deeper/x"), server="uvicorn", needs=UVICORN),
    Http("uvicorn-path-pct-slash", "GET /a%2Fx HTTP/1.1", 200, echoed("a", "/a", "/x"), server="uvicorn", needs=UVICORN),
    Http("uvicorn-path-not-utf8", "GET /a/%ff HTTP/1.1", 200, echoed("a", "/a", "/\\u00ff"), server="uvicorn", needs=UVICORN),
    Http("uvicorn-websocket-to-wsgi-mount", "GET /a/ HTTP/1.1|" + WEBSOCKET, 403, server="uvicorn", needs=UVICORN),
    Http("uvicorn-websocket-to-invite-path", "GET /old/__invite__/ HTTP/1.1|" + WEBSOCKET, S(403, 404), server="uvicorn", needs=UVICORN),
    Http("uvicorn-websocket-no-mount", "GET /nosuch HTTP/1.1|" + WEBSOCKET, S(403, 404), server="uvicorn", needs=UVICORN),
    Http("uvicorn-websocket-hostile-host", "GET /a/ HTTP/1.1|Host: example.com:@evil.com|" + WEBSOCKET, S(400, 403), server="uvicorn", needs=UVICORN),
    Http("uvicorn-cascade-get-falls-through", "GET /cas/x?uvicorn-get HTTP/1.1", 200, r"^base; graft ran 1x; body 0$", server="uvicorn", needs=UVICORN),
    Http("uvicorn-body-chunked", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 200, r"^read 3$", payload=b"3\r\nabc\r\n0\r\n\r\n", server="uvicorn", needs=UVICORN),
    Http("uvicorn-disconnect-mid-body", "POST /body/ HTTP/1.1|Content-Length: 100000", None, payload=b"x" * 1000, hangup=True, server="uvicorn", needs=UVICORN),
    Http("uvicorn-disconnect-mid-response", "GET /stream/?uvicorn-disconnect-mid-response HTTP/1.1", None, hangup=True, after=CLOSED, server="uvicorn", needs=UVICORN),
    # -- the same under granian (`serve --server granian`: the hub as ASGI in embedded granian)
    Http("granian-host-trusted", L + "Host: example.com", 200, LINK, server="granian", needs=GRANIAN),
    Http("granian-host-userinfo", L + "Host: example.com:@evil.com", 400, UNTRUSTED, server="granian", needs=GRANIAN),
    Http("granian-untrusted-escapes-to-hub", "GET /links/raw HTTP/1.1|Host: evil.com", 400, server="granian", needs=GRANIAN),
    Http("granian-fwd-x-forwarded-proto", L + "X-Forwarded-Proto: https", 200, LINK, server="granian", needs=GRANIAN),
    Http("granian-fwd-x-forwarded-for", "GET /env/ HTTP/1.1|X-Forwarded-For: 10.9.9.9", 200, r'"remote_addr": "127\.0\.0\.1"', server="granian", needs=GRANIAN),
    Http("granian-fwd-x-forwarded-host", L + "X-Forwarded-Host: evil.com", 200, LINK, server="granian", needs=GRANIAN),
    Http("granian-invite-double-slash", "GET /old//__invite__/ HTTP/1.1", 404, server="granian", needs=GRANIAN),
    Http("granian-invite-dot-segment", "GET /old/./__invite__/ HTTP/1.1", 404, server="granian", needs=GRANIAN),
    Http("granian-path-dotdot", "GET /a/../b/deeper/x HTTP/1.1", S(200, 404), server="granian", needs=GRANIAN),
    Http("granian-path-not-utf8", "GET /a/%ff HTTP/1.1", 200, echoed("a", "/a", "/\\u00ff"), server="granian", needs=GRANIAN),
    Http("granian-body-chunked", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 200, r"^read 3$", payload=b"3\r\nabc\r\n0\r\n\r\n", server="granian", needs=GRANIAN),
    Http("granian-body-length-not-number", "POST /body/ HTTP/1.1|Content-Length: abc", 400, server="granian", needs=GRANIAN),
    Http("granian-disconnect-mid-body", "POST /body/ HTTP/1.1|Content-Length: 100000", None, payload=b"x" * 1000, hangup=True, server="granian", needs=GRANIAN),
    Http("granian-cascade-get-falls-through", "GET /cas/x?granian-get HTTP/1.1", 200, r"^base; graft ran 1x; body 0$", server="granian", needs=GRANIAN),
    Http("granian-websocket-to-wsgi-mount", "GET /a/ HTTP/1.1|" + WEBSOCKET, S(403, 404), server="granian", needs=GRANIAN),
    # -- methods ---------------------------------------------------------------------------------
    Http("method-unknown", "FOO /a/x HTTP/1.1", 200, echoed("a", "/a", "/x")),
    Http("method-lower-case", "get /a/x HTTP/1.1", 400),
    Http("method-huge", "X" * 5000 + " /a/x HTTP/1.1", S(200, 400, 501)),
    Http("method-head", "HEAD /a/x HTTP/1.1", 200),
    Http("method-options-asterisk", "OPTIONS * HTTP/1.1", S(200, 400, 404)),
    Http("method-connect", "CONNECT example.com:443 HTTP/1.1", S(400, 404, 405, 501)),
    Http("graft-404-get-falls-through", "GET /a/maybe/1 HTTP/1.1", 200, echoed("a", "/a", "/maybe/1")),
    Http("graft-404-post-is-final", "POST /a/maybe/1 HTTP/1.1|Content-Length: 0", 404, r"^graft 404$"),
    Http("cascade-get-falls-through", "GET /cas/x?cascade-get HTTP/1.1", 200, r"^base; graft ran 1x; body 0$"),
    Http("cascade-get-big-body", "GET /cas/x?cascade-big HTTP/1.1|Content-Length: 3000000", 200, r"^base; graft ran 1x; body 3000000$", payload=b"x" * 3_000_000),
    Http("cascade-get-chunked-body", "GET /cas/x?cascade-chunked HTTP/1.1|Transfer-Encoding: chunked", 200, r"^base; graft ran 1x; body 3$", payload=b"3\r\nabc\r\n0\r\n\r\n"),
    Http("cascade-head-falls-through", "HEAD /cas/x?cascade-head HTTP/1.1", 200),
    Http("cascade-post-runs-once", "POST /cas/x?cascade-post HTTP/1.1|Content-Length: 3", S(200, 404), r"^(graft 404|base; graft ran 0x; body 3)$", payload=b"abc"),
    Http("cascade-delete-runs-once", "DELETE /cas/x?cascade-delete HTTP/1.1", S(200, 404), r"^(graft 404|base; graft ran 0x; body 0)$"),
    Http("method-graft-get", "GET /a/only-graft HTTP/1.1", 200, r"^graft$"),
    Http("method-graft-post-falls-to-base", "POST /a/only-graft HTTP/1.1|Content-Length: 0", 200, echoed("a", "/a", "/only-graft")),
    Http("method-graft-odd-falls-to-base", "PURGE /a/only-graft HTTP/1.1", 200, echoed("a", "/a", "/only-graft")),
    Http("method-non-ascii", "G\u00c9T /a/x HTTP/1.1", 400),
    Http("request-line-double-space", "GET  /a/x HTTP/1.1", 400),
    Http("request-leading-empty-lines", "\r\n\r\nGET /a/x HTTP/1.1", 200, echoed("a", "/a", "/x")),
    Http("http2-preface", "PRI * HTTP/2.0|SM|", S(400, 404, 505, None)),
    Http("tls-client-hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", S(400, None)),
    Http("workers-http2-preface", "PRI * HTTP/2.0|SM|", S(400, 404, 505, None), server="workers"),
    Http("workers-tls-client-hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", S(400, None), server="workers"),
    Http("version-unknown", "GET /a/x HTTP/9.9", S(200, 400, 505)),
    Http("version-garbage", "GET /a/x JUNK", S(400, None)),
    # -- bodies ----------------------------------------------------------------------------------
    Http("body-plain", "POST /body/ HTTP/1.1|Content-Length: 3", 200, r"^read 3$", payload=b"abc"),
    Http("body-length-not-number", "POST /body/ HTTP/1.1|Content-Length: abc", 400),
    Http("body-length-negative", "POST /body/ HTTP/1.1|Content-Length: -1", 400),
    Http("body-length-twice", "POST /body/ HTTP/1.1|Content-Length: 3|Content-Length: 4", 400, payload=b"abcd"),
    Http("body-too-large", "POST /body/ HTTP/1.1|Content-Length: 2000000000", 413),
    Http("body-chunked", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 200, r"^read 3$", payload=b"3\r\nabc\r\n0\r\n\r\n"),
    Http("body-chunk-size-junk", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 400, payload=b"zz\r\nabc\r\n0\r\n\r\n"),
    Http("body-chunked-and-length", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked|Content-Length: 3", 400, payload=b"zz\r\n"),
    Http("body-unknown-coding", "POST /body/ HTTP/1.1|Transfer-Encoding: gzip, chunked", 501),
    Http("body-header-huge", "GET /a/x HTTP/1.1|X-Big: " + "x" * 300_000, S(431, 400, None)),
    Http("body-chunk-extension", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", 200, r"^read 3$", payload=b"3;ext=1\r\nabc\r\n0\r\n\r\n"),
    Http("body-header-name-space", "GET /a/x HTTP/1.1|Bad Header: x", 400),
    Http("body-header-nul", "GET /a/x HTTP/1.1|X-Nul: a\x00b", 400),
    Http("body-header-no-colon", "GET /a/x HTTP/1.1|no colon here", 400),
    Http("disconnect-mid-body", "POST /body/ HTTP/1.1|Content-Length: 100000", None, payload=b"x" * 1000, hangup=True),
    Http("disconnect-mid-chunk", "POST /body/ HTTP/1.1|Transfer-Encoding: chunked", None, payload=b"100\r\nabc", hangup=True),
    Http("disconnect-mid-head", "GET /a/x HTTP/1.1|X-Half: ", None, hangup=True, unfinished=True),
    Http("disconnect-mid-response", "GET /stream/?disconnect-mid-response HTTP/1.1", None, hangup=True, after=CLOSED),
    Http("disconnect-mid-response-grafted", "GET /gstream/?disconnect-mid-response-grafted HTTP/1.1", None, hangup=True, after=CLOSED),
    Http("workers-disconnect-mid-response", "GET /stream/?workers-disconnect-mid-response HTTP/1.1", None, hangup=True, after=CLOSED, server="workers"),
    Http("workers-disconnect-mid-response-grafted", "GET /gstream/?workers-disconnect-mid-response-grafted HTTP/1.1", None, hangup=True, after=CLOSED, server="workers"),
]


# ---------------------------------------------------------------------------------------------
# STOP: a signal while a request is in flight (corpus_site:slow_site, /slow takes 0.5 s)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stop(Row):
    """``wsgihub serve corpus_site:slow_site ARGS``; ``signal`` to the group or the first process."""

    args: str = ""
    signal: int = signal.SIGTERM
    group: bool = False
    exit: int = 0
    #: what the PID file holds before the start (a stale or garbage one is taken over)
    pid_file: str | None = None


STOP: list[Stop] = [
    Stop("waitress-sigterm", "", signal.SIGTERM),
    Stop("waitress-sigint-group", "", signal.SIGINT, group=True),
    Stop("workers-sigterm", "--workers 2", signal.SIGTERM),
    Stop("workers-sigint-group", "--workers 2", signal.SIGINT, group=True),
    Stop("workers-sigint-master", "--workers 2", signal.SIGINT),
    Stop("reload-sigint-parent", "--reload", signal.SIGINT),
    Stop("reload-sigint-group", "--reload", signal.SIGINT, group=True),
    Stop("reload-sigterm-parent", "--reload", signal.SIGTERM),
    # two workers ending together once interleaved hupper's packets to the reloader parent
    Stop("reload-workers-sigint-group", "--reload --workers 2", signal.SIGINT, group=True),
    Stop("stale-pid-file", "", signal.SIGTERM, pid_file="999999\n"),
    Stop("garbage-pid-file", "", signal.SIGTERM, pid_file="not a pid\n"),
    Stop("empty-pid-file", "--workers 1", signal.SIGTERM, pid_file=""),
]


# =============================================================================================
# the harness
# =============================================================================================
def params(rows: Sequence[Row]) -> list[Any]:
    """``pytest.param`` per row, ids from the rows, strict xfail for open bugs."""
    ids = [row.id for row in rows]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate row ids: {duplicates}"
    out = []
    for row in rows:
        marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
        if row.flaky:
            marks.append(pytest.mark.xfail(strict=False, reason=f"flaky: {row.flaky}"))
        out.append(pytest.param(row, id=row.id, marks=marks))
    return out


def installed(row: Row) -> bool:
    """Whether every module the row needs can be imported (without importing it)."""
    for module in (row.needs or "").split():
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except ImportError:
            return False
    return True


def needs(row: Row) -> None:
    """Skip a row whose framework (or adapter) is not installed, as in the core tox env."""
    for module in (row.needs or "").split():
        pytest.importorskip(module)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Whether anything accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def own_sockets() -> set[str]:
    """This process's open sockets (``socket:[inode]``)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                found.add(target)
    return found


def own_children() -> set[int]:
    """Pids of this process's children (all threads)."""
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/children") as f:
            found.update(int(p) for p in f.read().split())
    return found


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused group id owned by someone else
        return True
    return True


def group_gone(pgid: int, timeout: float = 5.0) -> bool:
    """Whether every process of group ``pgid`` is gone within ``timeout`` seconds.

    The first process of a group can exit a moment before the last of the
    others (gunicorn's master returns once it has signalled and reaped its
    workers, a worker's own child may still be ending): a process that is
    still there after ``timeout`` was left behind.
    """
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Places(dict[str, str]):
    """The placeholders a row's text may use."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp=str(tmp), site=str(tmp / "site.ini"), wsgi=str(tmp / "site.wsgi"), pid=str(tmp / "site.pid"))

    def __missing__(self, key: str) -> str:
        if key == "port":
            self[key] = str(free_port())
        elif key == "sample":  # the sample site's site.ini (not imported: Django settings stay unset)
            spec = importlib.util.find_spec("graftsite")
            assert spec is not None and spec.origin is not None
            self[key] = str(Path(spec.origin).parent / "site.ini")
        elif key == "held":  # a PID file this (live) process holds
            held = Path(self["tmp"]) / "held.pid"
            held.write_text(f"{os.getpid()}\n")
            self[key] = str(held)
        else:
            raise KeyError(key)
        return self[key]


def expand(text: str, places: Places) -> str:
    return text.format_map(places)


def write_files(files: dict[str, str], tmp: Path) -> None:
    for name, text in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))


def check_one_line(stderr: str, message: str | None, where: str) -> None:
    """stderr is empty (``message`` None) or exactly one line matching ``message``, no traceback."""
    assert not TRACEBACK.search(stderr), f"{where}: a traceback or raw warning reached stderr:\n{stderr}"
    if message is None:
        assert stderr == "", f"{where}: expected no stderr, got:\n{stderr}"
        return
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), f"{where}: expected one stderr line, got {len(lines)}:\n{stderr}"
    assert re.search(message, lines[0]), f"{where}: {lines[0]!r} does not match {message!r}"


@pytest.fixture
def places(tmp_path: Path) -> Places:
    return Places(tmp_path)


@pytest.fixture
def clean_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``tmp_path`` on ``sys.path``; modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if module_file.startswith(str(tmp_path)) or name.startswith("corpus_nowhere"):
            del sys.modules[name]


# -- CLI ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", params(CLI))
def test_cli(row: Cli, places: Places, tmp_path: Path, capsys: pytest.CaptureFixture[str], clean_imports: None, monkeypatch: pytest.MonkeyPatch) -> None:
    needs(row)
    if row.args.startswith("serve") and "--print-config" not in row.args:
        raise AssertionError("a serve row in this process must --print-config (else it would serve here): use Proc")
    write_files(row.files, tmp_path)
    for name, value in row.env.items():
        monkeypatch.setenv(name, value)
    argv = [expand(arg, places) for arg in shlex.split(row.args)]
    sockets, threads, children = own_sockets(), threading.active_count(), own_children()
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == row.exit, f"exit {code}, expected {row.exit}\nstdout: {out}\nstderr: {err}"
    check_one_line(err, row.message, f"wsgihub {row.args}")
    if row.exit == 2:
        assert out == "", f"bad input, yet stdout got: {out!r}"  # scripts read stdout (--json)
    # nothing left behind: no socket, thread or child process, no PID file
    assert own_sockets() - sockets == set()
    assert threading.active_count() == threads
    assert own_children() - children == set()
    assert not Path(places["pid"]).exists()


# -- PROC --------------------------------------------------------------------------------------
def run_process(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 30.0) -> tuple[subprocess.Popen[str], str, str, bool]:
    """Run to the end; if it starts serving, kill its group at once (a row never wants that)."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, text=True, start_new_session=True, cwd=cwd,
    )
    served = False
    out_lines: list[str] = []
    assert proc.stdout is not None
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        for line in proc.stdout:
            out_lines.append(line)
            if line.startswith("Serving"):
                served = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                break
        assert proc.stderr is not None
        if served:
            proc.wait(10)
            err = proc.stderr.read()
        else:
            out_lines.append(proc.stdout.read())
            err = proc.stderr.read()
            proc.wait(10)
    finally:
        timer.cancel()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    return proc, "".join(out_lines), err, served


@dataclass
class Ran:
    """A PROC row's process, run to its end."""

    argv: list[str]
    proc: subprocess.Popen[str]
    out: str
    err: str
    served: bool
    places: Places


@pytest.fixture(scope="module")
def proc_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Ran]]:
    """Every selected PROC row's process, four at a time (they mostly wait on imports)."""
    rows = [
        item.callspec.params["row"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module and getattr(item, "originalname", "") == "test_proc"
    ]
    rows = [row for row in rows if installed(row)]
    with socket.socket() as busy:  # {busy}: a port another socket listens on
        busy.bind(("127.0.0.1", 0))
        busy.listen()

        def run(row: Proc) -> tuple[str, Ran]:
            tmp = tmp_path_factory.mktemp(row.id)
            places = Places(tmp)
            places["busy"] = str(busy.getsockname()[1])
            write_files(row.files, tmp)
            argv = [sys.executable, "-m", row.module, *(expand(a, places) for a in shlex.split(row.args))]
            env = dict(os.environ, **{name: expand(value, places) for name, value in row.env.items()})
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp), str(CORPUS), str(TESTS), env.get("PYTHONPATH")]))
            env.pop("WSGIHUB_SERVE_OPTIONS", None)
            if "DJANGO_SETTINGS_MODULE" not in row.env:
                env.pop("DJANGO_SETTINGS_MODULE", None)
            return row.id, Ran(argv, *run_process(argv, env, tmp), places)

        with ThreadPoolExecutor(max_workers=4) as pool:
            runs = dict(pool.map(run, rows))
    try:
        yield runs
    finally:
        for ran in runs.values():
            if group_alive(ran.proc.pid):
                os.killpg(ran.proc.pid, signal.SIGKILL)


@pytest.mark.live
@pytest.mark.parametrize("row", params(PROC))
def test_proc(row: Proc, proc_runs: dict[str, Ran]) -> None:
    needs(row)
    ran = proc_runs[row.id]
    proc, out, err, places = ran.proc, ran.out, ran.err, ran.places
    assert not ran.served, f"it served ({out.strip()!r}) where it had to refuse\nstderr: {err}"
    assert proc.returncode == row.exit, f"exit {proc.returncode}, expected {row.exit}\nstdout: {out}\nstderr: {err}"
    if row.debug:
        assert "Traceback (most recent call last)" in err, err
        assert row.message is not None and re.search(row.message, err), err
    else:
        check_one_line(err, row.message, shlex.join(ran.argv[2:]))
    # nothing left behind
    assert group_gone(proc.pid), "a process of its group is still running"
    if "port" in places:
        assert not listening(int(places["port"])), f"something still listens on {places['port']}"
    assert not Path(places["pid"]).exists(), "the PID file was left behind"
    if "held" in places:
        assert Path(places["held"]).read_text() == f"{os.getpid()}\n", "another's PID file was touched"


# -- API ---------------------------------------------------------------------------------------
def _state(hub: wsgihub.Hub) -> tuple[object, ...]:
    return (
        [(p.name, p.prefix, p.over and p.over.name) for p in hub.pegs()],
        {service: len(handlers) for service, handlers in hub.partyline.handlers.items()},
        hub.trusted_hosts,
        hub.public_url,
    )


@pytest.mark.parametrize("row", params(API))
def test_api(row: Api) -> None:
    needs(row)
    hub = corpus_site.hub(trusted_hosts=corpus_site.TRUSTED_HOSTS)
    hub.mount("/links", corpus_site.links)
    hub.mount("/a", corpus_site.echo("a"))
    hub.graft(corpus_site.graft, over="a", name="g")
    before = _state(hub)
    threads = threading.active_count()
    if row.exc is None:  # a spelling that must be accepted: the result matches the pattern
        result = str(row.call(hub))
        assert re.search(row.message, result), f"{result!r} does not match {row.message!r}"
        return
    with pytest.raises(row.exc) as info:
        row.call(hub)
    message = str(info.value)
    assert "\n" not in message, f"not one line: {message!r}"
    assert re.search(row.message, message), f"{message!r} does not match {row.message!r}"
    # a failed call leaves no trace
    assert _state(hub) == before
    assert threading.active_count() == threads


# -- a real server (HTTP and STOP rows) ---------------------------------------------------------
class Server:
    """``wsgihub serve SITE ARGS --port 0 --pid-file ...`` in its own session; output collected."""

    def __init__(self, args: Sequence[str], tmp: Path, **extra_env: str) -> None:
        self.pid_file = tmp / "serve.pid"
        env = dict(os.environ, **extra_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CORPUS), str(TESTS), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("WSGIHUB_SERVE_OPTIONS", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # each served site names its own
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wsgihub.cli", "serve", *args, "--port", "0", "--pid-file", str(self.pid_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
            start_new_session=True, cwd=tmp,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self.stderr_at_stop = 0
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.port = int(self.wait_for(r"^Serving on http://127\.0\.0\.1:(\d+)$").group(1))

    def _read(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            sink.append("")  # end of stream
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (no sleeps: woken by each new line)."""
        regex = re.compile(pattern)
        seen = 0
        with self._changed:
            while True:
                for line in self.stdout[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.stdout)
                ended = self.stdout and self.stdout[-1] == "" and self.proc.poll() is not None
                assert not ended, f"exited before {pattern!r}\nstdout: {self.stdout}\nstderr: {self.stderr}"
                assert self._changed.wait(timeout), f"no line {pattern!r} in {timeout} s: {self.stdout}\nstderr: {self.stderr}"

    def stop(self, signum: int = signal.SIGTERM, group: bool = False) -> int:
        """Send ``signum`` (to the whole group, or the first process only); the exit code."""
        self.stderr_at_stop = len(self.stderr)
        if self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        return self.proc.wait(30)

    def close(self) -> None:
        if group_alive(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        for reader in self._readers:
            reader.join(5)

    def check_nothing_left(self) -> None:
        """Exit seen: no traceback while stopping, nothing listening, no PID file, no process left.

        (Tracebacks an app's errors logged while serving are the server's business.)
        """
        shutdown = "\n".join(self.stderr[self.stderr_at_stop :])
        assert not TRACEBACK.search(shutdown), shutdown
        assert not listening(self.port), f"something still listens on {self.port}"
        assert not self.pid_file.exists(), "the PID file was left behind"
        assert group_gone(self.proc.pid), "a process of its group is still running"


def start_server(args: Sequence[str], tmp: Path, **extra_env: str) -> Iterator[Server]:
    server = Server(args, tmp, **extra_env)
    try:
        yield server
    finally:
        server.close()


def _sample_site() -> str:
    spec = importlib.util.find_spec("graftsite")  # not imported here: Django settings stay unset
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent / "site.ini")


#: The HTTP rows' servers: name -> (modules it needs, its ``wsgihub serve`` arguments and
#: environment, given its tmp dir).
SERVERS: dict[str, tuple[str, Callable[[Path], tuple[list[str], dict[str, str]]]]] = {
    "core": ("", lambda tmp: (["corpus_site:site", "--drain-timeout", "5", "--access-log", str(tmp / "access.log")], {})),
    "workers": ("gunicorn", lambda tmp: (["corpus_site:site", "--workers", "1", "--drain-timeout", "5"], {})),
    # a health path and an inspector nobody here may see, a JSON access log
    "ops": ("", lambda tmp: (["corpus_site:site", "--health-path", "/healthz", "--inspect", "/_inspect", "--inspect-allow-ips",
                              "10.9.9.9", "--access-log", str(tmp / "access.log"), "--log-format", "json"], {})),
    # behind a trusted proxy: this test, on 127.0.0.1
    "proxied": ("", lambda tmp: (["corpus_site:site", "--forwarded-allow-ips", "127.0.0.1", "--inspect", "/_inspect",
                                  "--inspect-allow-ips", "10.9.9.9"], {})),
    "uvicorn": (UVICORN, lambda tmp: (["corpus_site:site", "--server", "uvicorn"], {})),
    "granian": (GRANIAN, lambda tmp: (["corpus_site:site", "--server", "granian"], {})),
    "flask": ("flask", lambda tmp: (["corpus_flask:site"], {})),
    # a one-view Django project: every Host allowed by Django, trusted_hosts by the hub
    "django": (DJANGO, lambda tmp: (["corpus_django.site:site"], {})),
    # the sample site (Django + grafted Flask + Pyramid API), its database in the tmp dir
    "sample": (SAMPLE, lambda tmp: ([_sample_site()], {"GRAFTSITE_DATA": str(tmp)})),
}


def _can_serve(name: str) -> bool:
    return installed(Row(name, needs=SERVERS[name][0] or None))


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server | str]]:
    """Every server the selected HTTP rows need, started together (a string: why it did not start)."""
    wanted: set[str] = set()
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module or not hasattr(item, "callspec"):
            continue
        params = item.callspec.params
        if "row" in params and isinstance(params["row"], Http):
            wanted.add(params["row"].server)
        if "name" in params:
            wanted.add(params["name"])
    names = sorted(n for n in wanted if n in SERVERS and _can_serve(n))
    tmp_path_factory.getbasetemp()  # made once, before the threads below make their dirs in it

    def start(name: str) -> Server | str:
        tmp = tmp_path_factory.mktemp(f"{name}-server")
        args, env = SERVERS[name][1](tmp)
        try:
            return Server(args, tmp, **env)
        except AssertionError as exc:
            return f"server {name!r} did not start: {exc}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        started = dict(zip(names, pool.map(start, names), strict=True))
    try:
        yield started
    finally:
        for server in started.values():
            if isinstance(server, Server):
                server.close()


def server_for(name: str, servers: dict[str, Server | str]) -> Server:
    """The running server ``name`` (skipped where what it needs is not installed)."""
    if not _can_serve(name):
        pytest.skip(f"server {name!r} needs {SERVERS[name][0]}")
    server = servers[name]
    assert isinstance(server, Server), server
    return server


#: A request each server answers 200 (default: ``GET /a/``).
HEALTH = {"sample": b"GET /api/posts HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"}


def raw_request(row: Http) -> bytes:
    """The bytes of the row's request (several on one connection for ``||``)."""
    *earlier, last = row.request.split("||")
    kept = b"".join(_head(text.strip()).encode("latin-1") + b"\r\n" for text in earlier)
    head = _head(last.strip())
    if row.hangup and row.unfinished:
        return kept + head.encode("latin-1")
    if row.hangup:
        return kept + head.encode("latin-1") + b"\r\n" + row.payload
    close = "" if re.search(r"(?im)^connection:", head) else "Connection: close\r\n"
    return kept + (head + close + "\r\n").encode("latin-1") + row.payload


def _head(text: str) -> str:
    lines = text.split("|")
    if not any(line.lower().startswith("host:") for line in lines[1:]) and "HTTP/1.0" not in lines[0]:
        lines.insert(1, "Host: example.com")
    return "\r\n".join(lines) + "\r\n"


def split_answers(data: bytes) -> list[tuple[int, str]]:
    """``(status, body)`` of each answer on a kept-alive connection (all have Content-Length)."""
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        size = int(length.group(1)) if length else len(rest)
        answers.append((status_of(head + b"\r\n\r\n") or 0, rest[:size].decode("latin-1")))
        data = rest[size:]
    return answers


def exchange(port: int, data: bytes, hangup: bool = False) -> bytes | None:
    """Send ``data``; the whole answer, or ``None`` if the connection closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if hangup:
            return None
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    answer = b"".join(chunks)
    return answer or None


def body_of(answer: bytes) -> str:
    """The body of one answer (chunked transfer coding undone)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if not re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        return body.decode("latin-1")
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out.decode("latin-1")


def status_of(answer: bytes | None) -> int | None:
    if answer is None:
        return None
    match = re.match(rb"HTTP/\d\.\d (\d{3}) ", answer)
    assert match, f"not an HTTP answer: {answer[:200]!r}"
    return int(match.group(1))


@pytest.mark.live
@pytest.mark.parametrize("row", params(HTTP))
def test_http(row: Http, servers: dict[str, Server | str]) -> None:
    needs(row)
    server = server_for(row.server, servers)
    answer = exchange(server.port, raw_request(row), row.hangup)
    status = status_of(answer)
    expected = row.status if isinstance(row.status, frozenset) else {row.status}
    assert status in expected, f"status {status}, expected {sorted(expected, key=str)}: {(answer or b'')[:300]!r}"
    body = body_of(answer or b"")
    if row.chain:
        got = split_answers(answer or b"")
        assert [code for code, _ in got] == [code for code, _ in row.chain], got
        for (_, text), (_, pattern) in zip(got, row.chain, strict=True):
            assert re.search(pattern, text), f"{text!r} does not match {pattern!r}"
    if row.body is not None and answer is not None:
        assert re.search(row.body, body, re.DOTALL), f"body {body[:300]!r} does not match {row.body!r}"
    if row.head is not None:
        head = (answer or b"").partition(b"\r\n\r\n")[0].decode("latin-1")
        assert re.search(row.head, head, re.MULTILINE | re.IGNORECASE), f"head {head!r} does not match {row.head!r}"
    assert b"evil" not in (answer or b"").lower(), f"the attacker's host is in the answer: {answer!r}"
    assert "INVITE-VIEW-RAN" not in body, "an outside request ran the invite view"
    if row.after is not None:
        server.wait_for(row.after.format(id=re.escape(row.id)), timeout=20)
    # the server is still there and still answers
    assert server.proc.poll() is None, f"the server died: {server.stderr}"
    health = exchange(server.port, HEALTH.get(row.server, b"GET /a/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"))
    assert status_of(health) == 200


@pytest.mark.live
@pytest.mark.parametrize("name", ["core", "workers"])
def test_http_concurrent_hosts_do_not_mix(name: str, servers: dict[str, Server | str]) -> None:
    """Many clients at once, trusted and hostile Hosts mixed: each gets its own host's link or 400."""
    server = server_for(name, servers)
    hosts = ["example.com", "www.example.org", "evil.com", "localhost:8000", "example.com:@evil.com"] * 12

    def one(host: str) -> tuple[str, list[tuple[int, str]]]:
        data = f"GET /links/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        return host, split_answers(exchange(server.port, data) or b"")

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, hosts))
    for host, answers in results:
        expected = (400, "untrusted host") if "evil" in host else (200, f"http://{host}/links/item/1")
        assert answers == [expected], f"Host {host!r} got {answers}"


@pytest.mark.live
@pytest.mark.parametrize("name", list(SERVERS))
def test_http_servers_stop_clean_and_leave_nothing(name: str, servers: dict[str, Server | str]) -> None:
    """After the HTTP rows: SIGTERM stops each server with exit 0 and no traceback; nothing stays."""
    server = server_for(name, servers)
    assert server.pid_file.exists()
    # one request of its own, so that the access log has a line to check when this row runs alone
    exchange(server.port, HEALTH.get(name, b"GET /a/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"))
    code = server.stop()
    assert code == 0, server.stderr
    server.check_nothing_left()
    access_log = server.pid_file.parent / "access.log"
    if access_log.exists():  # every hostile request left one well-formed line (text or JSON)
        lines = access_log.read_bytes().splitlines()
        assert lines
        for line in lines:
            if line.startswith(b"{"):
                assert isinstance(json.loads(line), dict), line
            else:
                assert re.match(rb'^\d{4}-\d\d-\d\dT\S+ \S+ "', line), f"a forged or broken access-log line: {line!r}"


# -- STOP --------------------------------------------------------------------------------------
@dataclass
class Stopped:
    """What happened to one STOP row: the in-flight answer, the exit code, what was left."""

    answers: list[int | None]
    code: int | None
    stderr: list[str]
    #: why something was left behind (check_nothing_left's assertion), or None
    left: str | None
    #: the row could not even be run (the server did not start...), or None
    failed: str | None = None


def stop_one(row: Stop, tmp: Path) -> Stopped:
    """Serve, have a request in flight, send the signal, wait for the exit."""
    if row.pid_file is not None:
        (tmp / "serve.pid").write_text(row.pid_file)
    try:
        with contextlib.contextmanager(start_server)(["corpus_site:slow_site", *shlex.split(row.args)], tmp) as server:
            answers: list[int | None] = []
            request = b"GET /slow/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
            def ask() -> None:
                try:
                    answers.append(status_of(exchange(server.port, request)))
                except OSError as exc:  # shows in the row's failure instead of a silent thread
                    answers.append(None)
                    server.stderr.append(f"client: {type(exc).__name__}: {exc}")

            client = threading.Thread(target=ask, daemon=True)
            client.start()
            server.wait_for(r"^IN FLIGHT \d+$", timeout=60)
            code = server.stop(row.signal, group=row.group)
            client.join(15)
            try:
                server.check_nothing_left()
                left = None
            except AssertionError as exc:
                left = str(exc)
            return Stopped(answers, code, list(server.stderr), left)
    except (AssertionError, OSError, subprocess.TimeoutExpired) as exc:
        return Stopped([], None, [], None, f"{type(exc).__name__}: {exc}")


@pytest.fixture(scope="module")
def stop_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stopped]:
    """Every selected STOP row, four at a time (each has its own server, port and PID file)."""
    rows = [
        item.callspec.params["row"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module and getattr(item, "originalname", "") == "test_stop"
    ]
    rows = [row for row in rows if installed(row)]
    dirs = [tmp_path_factory.mktemp(r.id) for r in rows]  # here: mktemp is not thread-safe
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((r.id for r in rows), pool.map(stop_one, rows, dirs), strict=True))


@pytest.mark.live
@pytest.mark.parametrize("row", params(STOP))
def test_stop(row: Stop, stop_runs: dict[str, Stopped]) -> None:
    """The request in flight answers 200, the exit code is the row's, nothing is left behind."""
    needs(row)
    run = stop_runs[row.id]
    assert run.failed is None, run.failed
    assert run.answers == [200], f"the request in flight got {run.answers}\nstderr: {run.stderr}"
    assert run.code == row.exit, f"exit {run.code}, expected {row.exit}\nstderr: {run.stderr}"
    assert run.left is None, run.left


def test_corpus_is_big_enough() -> None:
    """Issue 8 asks for at least 80 rows across all kinds of input."""
    assert len(CLI) + len(PROC) + len(API) + len(HTTP) + len(STOP) >= 80
    assert all(len(table) >= 10 for table in (CLI, PROC, API, HTTP))
