"""``wsgihub serve`` as a library: the option table, :func:`run`, the reloader.

::

    wsgihub serve site.ini --port 8080                       # waitress, 4 threads
    wsgihub serve --mount /=legacy.wsgi:application --mount /new=newsite:app
    wsgihub serve site.ini --workers 4 --drain-timeout 30    # gunicorn, 4 processes
    wsgihub serve site.ini --reload                          # restart on code changes

    from wsgihub.serve import run
    run("site.ini", port=0, drain_timeout=5)                 # the same, from Python

It prints the mounted apps and ``Serving on http://HOST:PORT`` (one line,
flushed, also with ``--port 0``, which picks a free port), and stops cleanly
on Ctrl-C (SIGINT) and SIGTERM: no new connections, in-flight requests
finish (up to ``--drain-timeout``), then the bus's stop and exit listeners
run and the exit code is 0.  Bad input -- an option out of range, a mount
spec, an app that cannot be imported, an address in use -- is one line on
stderr and exit code 2, checked before anything starts.  A start listener
that raises is one line naming it and exit code 1, after the stop listeners
ran.

**The option table.**  Every serve option is declared once, as a field of
:class:`ServeOptions` whose metadata is a :class:`ServeOption` (help, how to
read it from text, its check and the one-line complaint), as waitress's
``Adjustments._params`` does.  From that one table come: the click options
of ``wsgihub serve`` (:mod:`wsgihub.cli` walks :func:`serve_options`), the
keyword arguments of :func:`run` and their validation
(:meth:`ServeOptions.validate`), and the hand-off from the ``--reload``
parent to its child (:meth:`ServeOptions.to_json` / :meth:`~ServeOptions.from_json`).
Environment variables and site-file keys (``WSGIHUB_PORT``,
``[server:main] port = ...``) are to come from the same table: for each
option of :func:`serve_options`, read the text with
:meth:`ServeOption.parse` and pass the values to :class:`ServeOptions` in
:func:`run` (command-line values, which click hands over only when given,
win over them).

This module never imports click or :mod:`wsgihub.cli`; it sits on
:mod:`wsgihub.servers`, which sits on the bus and :mod:`wsgihub.deploy`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import IO, TYPE_CHECKING, Any, NoReturn

import hupper

from .accesslog import LOG_FORMATS
from .asgiwsgi import ASGI_SWITCH_INTERVAL
from .deploy import load, parse_mount_spec
from .errors import ConfigError, WsgihubError
from .health import DrainDelay
from .hub import Hub
from .inspector import DEFAULT_ALLOW_IPS, parse_allow_ips
from .logconfig import configure_logging, flush_access_log
from .process import Autoreloader, PIDFile, SignalHandler, run_with_reloader
from .process.autoreload import NOTHING_TO_WATCH, watch_for_a_fix
from .proxy import TrustedProxies
from .requestid import DEFAULT_HEADER as DEFAULT_REQUEST_ID_HEADER
from .servers import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_THREADS,
    MountInfo,
    bind_socket,
    check_address,
    describe_mounts,
    describe_start_failure,
    exit_after_failed_start,
    freeze_startup_objects,
    is_start_failure_line,
    mount_warnings,
)
from .servers.front import check_front_paths, front, front_paths, front_stack
from .servers.waitress import WaitressServer
from .tracing import MISSING as OTEL_MISSING

if TYPE_CHECKING:
    import socket

    from .bus import Bus
    from .servers.loop import LoopServer

__all__ = [
    "ServeOption",
    "ServeOptions",
    "describe_config",
    "options_markdown",
    "resolve_options",
    "run",
    "serve_options",
    "server_factory",
    "server_section",
]

#: Environment variable carrying the options from the reloader parent to its child.
_RELOAD_ENV = "WSGIHUB_SERVE_OPTIONS"

#: Every option's environment variable is this and its name in upper case (``WSGIHUB_PORT``).
_ENV_PREFIX = "WSGIHUB_"

#: The site file's section holding serve options (``[server:main]``, as pserve reads).
SERVER_SECTION = "server:main"

#: What ``use =`` in ``[server:main]`` may say (or be absent).
_SERVER_USE = "egg:wsgihub#main"

#: ``verbosity`` -> logging level, for wsgihub's, waitress's and gunicorn's logs alike.
_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}

#: Extra seconds the reloader parent gives a child beyond its drain timeout
#: before it kills it (the bus's stop and exit listeners run after the drain).
_RELOAD_GRACE = 5.0


# -- the option table -------------------------------------------------------------------------
def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


def _at_least(low: float, unit: str = "") -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"expected {low:g}{unit} or more"

    return check


def _port(value: Any) -> str | None:
    return None if 0 <= value <= 65535 else "expected 0..65535 (0 picks a free port)"


def _verbosity(value: Any) -> str | None:
    return None if 0 <= value <= 3 else "expected 0 (errors only) .. 3 (debug)"


def _host(value: Any) -> str | None:
    return None if value.strip() else "expected a host name or address (0.0.0.0 for every interface)"


def _pid_file(value: Any) -> str | None:
    if os.path.isdir(value):
        return "is a directory; give the path of a file in it"
    directory = os.path.dirname(os.path.abspath(value))
    return None if os.path.isdir(directory) else f"directory {directory} does not exist"


def _url_path(value: Any) -> str | None:
    if not value.startswith("/") or any(c in value for c in " \t?#") or "//" in value:
        return "expected a path starting with '/' (no spaces, query or fragment), e.g. /healthz"
    return None


def _parses(parse: Callable[[Any], object], expected: str) -> Callable[[Any], str | None]:
    """A validator refusing what ``parse`` refuses: its ValueError's text, then ``(expected)``.

    One shape for the options whose value the serving code parses again later
    (the validator and the server then agree on what is valid).
    """

    def check(value: Any) -> str | None:
        try:
            parse(value)
        except ValueError as exc:
            return f"{exc} ({expected})"
        return None

    return check


_allow_ips = _parses(parse_allow_ips, "expected addresses or networks separated by commas, or *")
_forwarded_ips = _parses(TrustedProxies, "expected proxy addresses or networks separated by commas, or *")


def _config_file(value: Any) -> str | None:
    if value.startswith("python:"):
        return None
    path = value.removeprefix("file:")
    return None if os.path.isfile(path) else "no such file (a gunicorn config file, e.g. gunicorn.conf.py)"


def _log_target(value: Any) -> str | None:
    if value == "-":
        return None
    if os.path.isdir(value):
        return "is a directory; give the path of a file in it (or - for stdout)"
    directory = os.path.dirname(os.path.abspath(value))
    return None if os.path.isdir(directory) else f"directory {directory} does not exist"


def _log_format(value: Any) -> str | None:
    return None if value in LOG_FORMATS else f"expected {' or '.join(LOG_FORMATS)}"


def _existing_file(value: Any) -> str | None:
    return None if os.path.isfile(value) else "no such file (a dictConfig .json or a fileConfig .ini)"


def _otel(value: Any) -> str | None:
    if not value:
        return None
    try:  # a missing parent package raises instead of answering None
        found = importlib.util.find_spec("opentelemetry.instrumentation.wsgi") is not None
    except ImportError:
        found = False
    return None if found else f"needs OpenTelemetry: {OTEL_MISSING.split(': ', 1)[1]}"


#: What ``--server`` accepts.
SERVERS = ("waitress", "gunicorn", "uvicorn", "granian")


def _server_name(value: Any) -> str | None:
    return None if value in SERVERS else f"expected {', '.join(SERVERS[:-1])} or {SERVERS[-1]}"


def _header_name(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", value):
        return None
    return "expected a header name such as X-Request-ID (letters, digits, '-'), or '' for none"


_KIND_NAMES: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
}


@dataclass(frozen=True)
class ServeOption:
    """One row of the option table: the metadata of a :class:`ServeOptions` field.

    ``kind`` is the value's type (``int``, ``float``, ``str``, ``bool``);
    ``check(value)`` returns ``None`` or what is wrong, which becomes the
    one-line error ``--NAME VALUE: <complaint>``.  ``cli`` is ``False`` for
    options the command line spells its own way (``-v``/``-q``, ``--debug``).
    :attr:`name` and :attr:`default` are filled in from the field.
    """

    kind: type
    help: str
    check: Callable[[Any], str | None] | None = None
    metavar: str | None = None
    cli: bool = True
    #: A one-letter spelling as well (``-c`` for ``--gunicorn-config``).
    short: str | None = None
    name: str = ""
    default: Any = None

    @property
    def env_var(self) -> str:
        """The option's environment variable: ``WSGIHUB_DRAIN_TIMEOUT``."""
        return _ENV_PREFIX + self.name.upper()

    @property
    def site_key(self) -> str:
        """The option's key in the site file's ``[server:main]``: its table name, ``drain_timeout``."""
        return self.name

    def read(self, text: str, where: str, shown: str = "") -> Any:
        """The checked value of ``text`` from the environment or the site file.

        ``where`` names the source as the one-line error begins
        (``WSGIHUB_PORT=abc``, ``site.ini [server:main] port``); ``shown``
        follows the complaint (`` (got 'abc')``).  Raises
        :class:`~wsgihub.errors.ConfigError`.
        """
        try:
            value = _parse_bool(text) if self.kind is bool else self.kind(text.strip() if self.kind is not str else text)
        except ValueError:
            raise ConfigError(f"{where}: expected {self._kind_name}{shown}") from None
        problem = self.check(value) if self.check is not None else None
        if problem is not None:
            raise ConfigError(f"{where}: {problem}{shown}")
        return value

    @property
    def flag(self) -> str:
        """The option's command-line spelling: ``--drain-timeout``."""
        return "--" + self.name.replace("_", "-")

    def _named(self, shown: str) -> str:
        """``--port 70000`` in messages; ``verbosity=7`` for an option the CLI spells otherwise."""
        return f"{self.flag} {shown}" if self.cli else f"{self.name}={shown}"

    def parse(self, text: str) -> Any:
        """The value of ``text`` (a command-line argument, later an environment variable).

        Raises :class:`~wsgihub.errors.ConfigError`: ``--port 'x': expected a whole number``.
        """
        try:
            if self.kind is bool:
                return _parse_bool(text)
            return self.kind(text.strip() if self.kind is not str else text)
        except ValueError:
            raise ConfigError(f"{self._named(repr(text))}: expected {self._kind_name}") from None

    def complaint(self, value: Any) -> str | None:
        """The one-line error for ``value``, or ``None`` if it is fine."""
        if value is None and self.default is None:
            return None
        kinds: tuple[type, ...] = (int, float) if self.kind is float else (self.kind,)
        if not isinstance(value, kinds) or (self.kind is not bool and isinstance(value, bool)):
            return f"{self._named(repr(value))}: expected {self._kind_name}"
        problem = self.check(value) if self.check is not None else None
        if problem is None:
            return None
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{self._named(shown)}: {problem}"

    @property
    def _kind_name(self) -> str:
        return _KIND_NAMES.get(self.kind, self.kind.__name__)


def _option(default: Any, kind: type, help: str, **more: Any) -> Any:
    """A :class:`ServeOptions` field that is a row of the option table."""
    return field(default=default, metadata={"serve": ServeOption(kind, help, **more)})


@dataclass
class ServeOptions:
    """Every option of ``wsgihub serve``; the fields after ``mounts`` are the option table.

    ``workers`` ``None`` means waitress in this process; a number means
    gunicorn with that many worker processes (uvicorn's workers with
    ``server="uvicorn"``).  ``threads`` ``None`` means
    waitress's default, or gunicorn's single-threaded sync worker.
    ``verbosity``: 0 errors only (``-q``), 1 warnings (default), 2 the bus's
    and servers' info lines (``-v``), 3 debug (``-vv``).
    """

    site: str | None = None
    mounts: Sequence[str] = field(default_factory=tuple)
    #: ``NAME=VALUE`` variables for the site file's ``%(NAME)s`` (PasteDeploy's global_conf).
    variables: Mapping[str, str] = field(default_factory=dict)
    #: Where each option came from (:func:`resolve_options`); empty when built directly.
    sources: Mapping[str, str] = field(default_factory=dict)
    host: str = _option("127.0.0.1", str, "Address to listen on.", check=_host)
    port: int = _option(
        8080, int, "Port to listen on; 0 picks a free one (printed).", check=_port
    )
    server: str | None = _option(
        None,
        str,
        "waitress (default: one process, threads), gunicorn (N processes; what --workers N picks), "
        "uvicorn or granian (the hub as ASGI: ASGI mounts native, WSGI mounts in --threads threads; "
        "uvicorn with --workers N: N uvicorn worker processes under gunicorn's master).",
        check=_server_name,
        metavar="NAME",
    )
    workers: int | None = _option(
        None,
        int,
        "Run N worker processes under gunicorn's master instead of one process "
        "(gunicorn's workers; uvicorn's with --server uvicorn).",
        check=_at_least(1),
        metavar="N",
    )
    threads: int | None = _option(
        None,
        int,
        f"Threads per process (waitress: {DEFAULT_THREADS}; gunicorn: 1; "
        f"uvicorn, granian: {DEFAULT_THREADS}, for WSGI mounts).",
        check=_at_least(1),
        metavar="N",
    )
    switch_interval: float | None = _option(
        None,
        float,
        "Seconds a thread running Python code may keep the GIL while another waits "
        f"(sys.setswitchinterval, in every serving process; uvicorn, granian: {ASGI_SWITCH_INTERVAL:g}, "
        "so that the event loop is not kept waiting by the WSGI threads; else Python's 0.005).",
        check=_at_least(1e-6, " seconds"),
        metavar="SECONDS",
    )
    reload: bool = _option(False, bool, "Restart when a mounted app's code changes.")
    drain_timeout: float = _option(
        DEFAULT_DRAIN_TIMEOUT,
        float,
        "Seconds in-flight requests may take to finish on shutdown.",
        check=_at_least(0, " seconds"),
        metavar="SECONDS",
    )
    drain_delay: float = _option(
        0.0,
        float,
        "Seconds the health path answers 503 on shutdown while still accepting, "
        "before the drain (for load balancers).",
        check=_at_least(0, " seconds"),
        metavar="SECONDS",
    )
    pid_file: str | None = _option(
        None, str, "Write the process id to this file while serving.", check=_pid_file, metavar="PATH"
    )
    health_path: str | None = _option(
        None,
        str,
        "Answer this path with the process's health (200 started, 503 starting/draining/stopping), "
        "calling no app.",
        check=_url_path,
        metavar="PATH",
    )
    inspect: str | None = _option(
        None,
        str,
        "Serve the inspector page at PATH (HTML) and PATH.json to --inspect-allow-ips only.",
        check=_url_path,
        metavar="PATH",
    )
    inspect_allow_ips: str = _option(
        DEFAULT_ALLOW_IPS,
        str,
        "Client addresses or networks the inspector answers (comma-separated; * for any).",
        check=_allow_ips,
        metavar="IPS",
    )
    forwarded_allow_ips: str | None = _option(
        None,
        str,
        "Proxies whose X-Forwarded-*/Forwarded headers set the client address, scheme, host "
        "and prefix (comma-separated addresses or networks; * for any; default none).",
        check=_forwarded_ips,
        metavar="IPS",
    )
    gunicorn_config: str | None = _option(
        None,
        str,
        "gunicorn's own config file, for the settings wsgihub leaves to gunicorn; implies gunicorn.",
        check=_config_file,
        metavar="FILE",
        short="-c",
    )
    print_config: bool = _option(
        False, bool, "Print every option, its value and where it came from, then exit."
    )
    access_log: str | None = _option(
        None,
        str,
        "Write one access-log line per request to FILE (- for stdout).",
        check=_log_target,
        metavar="FILE",
    )
    log_format: str = _option(
        "text", str, "Access-log lines as text or json.", check=_log_format, metavar="text|json"
    )
    log_config: str | None = _option(
        None,
        str,
        "Configure logging from FILE: a dictConfig .json or a fileConfig .ini "
        "(instead of the site file's [loggers] sections).",
        check=_existing_file,
        metavar="FILE",
    )
    request_id_header: str = _option(
        DEFAULT_REQUEST_ID_HEADER,
        str,
        "Header carrying the request ID in and out ('' turns request IDs off).",
        check=_header_name,
        metavar="NAME",
    )
    otel: bool = _option(
        False,
        bool,
        "Trace each request with OpenTelemetry, one span named mount:endpoint "
        "(needs wsgihub[otel]).",
        check=_otel,
    )
    verbosity: int = _option(1, int, "0 errors only, 1 warnings, 2 info, 3 debug.", check=_verbosity, cli=False)
    debug: bool = _option(False, bool, "Show tracebacks for errors.", cli=False)

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad option (one line)."""
        if self.site is None and not self.mounts:
            raise ConfigError(
                "no site given: pass SITE (site.ini, site.wsgi, module:hub) or --mount PREFIX=module:app"
            )
        for spec in self.mounts:
            parse_mount_spec(spec)
        for option in serve_options():
            problem = option.complaint(getattr(self, option.name))
            if problem is not None:
                raise ConfigError(problem)
        if self.server in ("waitress", "granian"):
            for name, value in (("--workers", self.workers), ("--gunicorn-config", self.gunicorn_config)):
                if value is not None:
                    raise ConfigError(
                        f"{name}: gunicorn's option, but --server is {self.server} (one process); "
                        "leave it out or use --server gunicorn or uvicorn"
                    )

    def to_json(self) -> str:
        """Every field as JSON (the ``--reload`` parent hands its options to the child so)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["mounts"] = list(self.mounts)
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        """The options :meth:`to_json` wrote (validated again by :func:`run`)."""
        values = json.loads(text)
        known = {f.name for f in fields(cls)}
        options = cls(**{k: v for k, v in values.items() if k in known})
        options.mounts = tuple(options.mounts)
        return options


def serve_options() -> list[ServeOption]:
    """The option table: one :class:`ServeOption` per option, in declaration order."""
    table = []
    for f in fields(ServeOptions):
        option = f.metadata.get("serve")
        if isinstance(option, ServeOption):
            default = f.default if f.default is not MISSING else None
            table.append(replace(option, name=f.name, default=default))
    return table


# -- where options come from -------------------------------------------------------------------
#: The source of an option given on the command line or as a keyword of :func:`run`.
FROM_COMMAND_LINE = "command line"
#: The source of an option left at its default.
FROM_DEFAULT = "default"


def server_section(
    site: str | None, variables: Mapping[str, str] | None = None
) -> dict[str, tuple[str | ConfigError, str]]:
    """The serve options of the site file's ``[server:main]``: ``{name: (text, where)}``.

    ``where`` is how errors name the key (``site.ini [server:main] port``);
    ``text`` is a :class:`~wsgihub.errors.ConfigError` instead where the
    value cannot be interpolated (raised only if the value is used: an
    option given elsewhere does not need it).
    Keys are the option table's names (``drain_timeout``; ``drain-timeout``
    is read as the same); ``use`` may be ``egg:wsgihub#main`` or absent.
    ``%(NAME)s`` is interpolated as PasteDeploy does, from ``[DEFAULT]``,
    ``here``, ``__file__`` and ``variables``.  A site that is not a
    PasteDeploy file, or a file without the section, gives ``{}``.
    Unknown keys, another ``use`` and interpolation errors raise
    :class:`~wsgihub.errors.ConfigError` naming the file, section and key.
    """
    filename = _site_file(site)
    if filename is None or filename.endswith(".wsgi"):
        return {}
    # PasteDeploy is imported here, not at the top: only site files need it.
    from paste.deploy.loadwsgi import ConfigLoader

    try:
        loader = ConfigLoader(os.path.abspath(filename))
    except Exception:  # noqa: BLE001 - the site loader reports a broken file in one line
        return {}
    parser = loader.parser
    if not parser.has_section(SERVER_SECTION):
        return {}
    if variables:
        loader.update_defaults(dict(variables), overwrite=False)  # as pserve's global_conf
    defaults = parser.defaults()
    known = {option.site_key: option for option in serve_options()}
    found: dict[str, tuple[str | ConfigError, str]] = {}
    for key in parser.options(SERVER_SECTION):
        if key in defaults:  # [DEFAULT] and here/__file__ (PasteDeploy skips them too)
            continue
        where = f"{filename} [{SERVER_SECTION}] {key}"
        name = key.replace("-", "_")
        try:
            text = parser.get(SERVER_SECTION, key)
        except Exception as exc:  # noqa: BLE001 - configparser's messages span lines
            if key == "use" or name not in known:
                raise ConfigError(f"{where}: {_interpolation_problem(exc)}") from None
            found[name] = (ConfigError(f"{where}: {_interpolation_problem(exc)}"), where)
            continue
        if key == "use":
            if text.strip() != _SERVER_USE:
                raise ConfigError(
                    f"{where}: wsgihub serve reads this section itself: use = {_SERVER_USE} "
                    f"or no 'use' (got {text.strip()!r})"
                )
            continue
        if name not in known:
            raise ConfigError(f"{where}: unknown option (options: {', '.join(known)})")
        if text.strip():
            found[name] = (text, where)
    return found


def _interpolation_problem(exc: Exception) -> str:
    missing = getattr(exc, "reference", None)
    if missing is not None:
        return f"%({missing})s is not defined (give it as {missing}=VALUE after the site, or in [DEFAULT])"
    first = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {first}"


def resolve_options(
    site: str | None = None,
    mounts: Sequence[str] = (),
    given: Mapping[str, Any] | None = None,
    *,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ServeOptions, dict[str, str]]:
    """The options and where each came from: command line > environment > site file > default.

    ``given`` are the options set on the command line (or as keywords of
    :func:`run`); ``environ`` (default :data:`os.environ`) gives
    ``WSGIHUB_<NAME>`` variables (an empty one counts as unset);
    ``[server:main]`` of the site file gives the rest.  The sources are
    ``"command line"``, ``"WSGIHUB_PORT"``, ``"site.ini [server:main]"`` or
    ``"default"``.  A bad value is one :class:`~wsgihub.errors.ConfigError`
    line naming its source.
    """
    given = dict(given or {})
    env = os.environ if environ is None else environ
    from_site = server_section(site, variables)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in serve_options():
        name = option.name
        text = env.get(option.env_var, "")
        if name in given:
            values[name], sources[name] = given[name], FROM_COMMAND_LINE
        elif text.strip():
            values[name] = option.read(text, f"{option.env_var}={text}")
            sources[name] = option.env_var
        elif name in from_site:
            raw, where = from_site[name]
            if isinstance(raw, ConfigError):
                raise raw
            values[name] = option.read(raw, where, f" (got {raw.strip()!r})")
            sources[name] = where.rsplit(" ", 1)[0]
        else:
            sources[name] = FROM_DEFAULT
    options = ServeOptions(site=site, mounts=tuple(mounts), variables=dict(variables or {}), **values)
    options.validate()
    return options, sources


def describe_config(options: ServeOptions, sources: Mapping[str, str]) -> str:
    """``--print-config``: one line per option -- name, value, source -- in table order."""
    rows = [("OPTION", "VALUE", "SOURCE")]
    for option in serve_options():
        value = getattr(options, option.name)
        shown = "-" if value is None else (f"{value:g}" if isinstance(value, float) else str(value).lower() if isinstance(value, bool) else str(value))
        rows.append((option.name, shown, sources.get(option.name, FROM_DEFAULT)))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{a.ljust(widths[0])}  {b.ljust(widths[1])}  {c}" for a, b, c in rows]
    lines.append("precedence: command line > WSGIHUB_* environment > site file [server:main] > default")
    if options.variables:
        shown_vars = " ".join(f"{k}={v}" for k, v in options.variables.items())
        lines.append(f"site file variables: {shown_vars}")
    return "\n".join(lines)


def options_markdown() -> str:
    """The option table as the Markdown table docs/cli.md shows (a test keeps them equal)."""
    lines = [
        "| option | environment variable | `[server:main]` key | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for option in serve_options():
        flag = f"`{option.flag}`" if option.cli else f"`{option.name}` (see below)"
        if option.short:
            flag = f"`{option.short}`, {flag}"
        default = option.default
        shown = "-" if default is None else (f"{default:g}" if isinstance(default, float) else str(default).lower() if isinstance(default, bool) else str(default))
        meaning = option.help.replace("|", "\\|")
        lines.append(f"| {flag} | `{option.env_var}` | `{option.site_key}` | `{shown}` | {meaning} |")
    return "\n".join(lines)


# -- run ----------------------------------------------------------------------------------------
def run(
    site: str | None = None,
    mounts: Sequence[str] = (),
    *,
    out: IO[str] | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> int:
    """Serve until the bus exits; return the exit code (0 after a clean shutdown).

    ``options`` are the fields of the option table (:func:`serve_options`):
    ``host``, ``port``, ``workers``, ``threads``, ``reload``,
    ``drain_timeout``, ``health_path`` ...; left out, each comes from its
    ``WSGIHUB_<NAME>`` variable in ``environ`` (default: the process
    environment), else from the site file's ``[server:main]``, else its one
    default (:func:`resolve_options`).  ``variables`` are ``NAME=VALUE``
    values for the site file's ``%(NAME)s`` (pserve's ``name=value``).
    Raises :class:`~wsgihub.errors.WsgihubError` (one line) for bad input
    before anything starts, ``TypeError`` for an unknown keyword.  Blocks
    the calling thread, which must be the main thread (signal handlers).
    ``out`` receives the mount list and the ``Serving on`` line (default:
    stdout), or with ``print_config`` the options and their sources.
    """
    known = {option.name for option in serve_options()}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"run() got an unexpected keyword argument {unknown[0]!r} "
            f"(options: {', '.join(sorted(known))})"
        )
    if variables and _site_file(site) is None:
        shown = " ".join(f"{k}={v}" for k, v in variables.items())
        raise ConfigError(f"{shown}: NAME=VALUE variables need a site file (site.ini) to fill in")
    settings, sources = resolve_options(site, mounts, options, variables=variables, environ=environ)
    settings.sources = sources
    output = out if out is not None else sys.stdout
    if settings.print_config:
        _echo(describe_config(settings, sources), output)
        return 0
    _configure_logging(settings)
    _set_switch_interval(settings)
    if settings.reload and not _in_reloader_child():
        return _run_reloader(settings)
    if settings.server == "uvicorn" and (settings.workers is not None or settings.gunicorn_config is not None):
        return _run_gunicorn(settings, output)  # gunicorn's master, uvicorn's workers
    if settings.server in ("uvicorn", "granian"):
        return _run_asgi(settings, output)
    if settings.server == "gunicorn" or (
        settings.server is None and (settings.workers is not None or settings.gunicorn_config is not None)
    ):
        return _run_gunicorn(settings, output)
    return _run_waitress(settings, output)


def _set_switch_interval(options: ServeOptions) -> None:
    """``--switch-interval``, or under uvicorn and granian the hub's default for them.

    Set before any server starts: gunicorn's workers are forked with it.
    There, the event loop needs the GIL for every read and write while up to
    ``--threads`` WSGI threads run Python code; with Python's 5 ms a thread
    keeps it that long each time the loop asks (docs/benchmarks.md, the p99
    of the hub under uvicorn workers).
    """
    interval = options.switch_interval
    if interval is None and options.server in ("uvicorn", "granian"):
        interval = ASGI_SWITCH_INTERVAL
    if interval is not None:
        sys.setswitchinterval(interval)


def _load(options: ServeOptions) -> Hub:
    """The hub, with each MountWarning printed once as ``wsgihub: warning: ...``."""
    extra = {"global_conf": dict(options.variables)} if options.variables else {}
    with mount_warnings() as found:
        hub = load(options.site, mounts=options.mounts, **extra)
    for message in found:
        _warn(message)
    return hub


# -- waitress ----------------------------------------------------------------------------
def _run_waitress(options: ServeOptions, out: IO[str], loaded: Hub | None = None) -> int:
    """One process: hub.bus gets SignalHandler, PIDFile, waitress; start; block.

    ``loaded`` is a hub someone else loaded already (pserve, see :func:`server_factory`).
    """
    sock = bind_socket(options.host, options.port)  # address in use: nothing started yet
    hub = _load_onto_bus(options, sock, out, loaded)
    bus = hub.bus
    server = WaitressServer(
        bus,
        front_stack(hub, options),  # waitress's own task does the request-ID/access-log layer's work
        options.host,
        options.port,
        threads=options.threads or DEFAULT_THREADS,
        drain_timeout=options.drain_timeout,
        sock=sock,
        # forwarded headers are the front layer's (wsgihub.proxy), as under gunicorn
        options={"clear_untrusted_proxy_headers": False},
    )
    return _serve_until_exit(bus, server, options, out)


def _load_onto_bus(options: ServeOptions, sock: socket.socket, out: IO[str], loaded: Hub | None = None) -> Hub:
    """Load the hub (``loaded`` if given) and subscribe what one serving process runs with.

    The same for waitress, uvicorn and granian: the log listener, the mount
    list, SignalHandler, PIDFile, DrainDelay (health says 503 before the
    server stops accepting) and, in a reloader child, the site watcher.
    ``sock`` (bound ahead) is closed when loading fails.
    """
    try:
        hub = loaded if loaded is not None else _load(options)
        check_front_paths(hub, options)
    except BaseException:
        sock.close()
        raise
    bus = hub.bus
    bus.subscribe("log", _bus_log_listener(options))
    bus.subscribe("exit", flush_access_log, priority=90)  # after the servers stopped: no line comes later
    _print_mounts(describe_mounts(hub), options, out)

    SignalHandler(bus).subscribe()
    if options.pid_file is not None:
        PIDFile(bus, options.pid_file).subscribe()
    DrainDelay(bus, options.drain_delay).subscribe()
    if _in_reloader_child():
        _watch_site(bus, hub, options)
    return hub


def _serve_until_exit(bus: Bus, server: WaitressServer | LoopServer, options: ServeOptions, out: IO[str]) -> int:
    """Subscribe ``server``, start the bus and block until it exits (waitress, uvicorn, granian alike).

    A failed start is one line (the traceback with ``--debug``) and exit status 1.
    """
    server.subscribe()
    try:
        bus.start()
    except Exception as exc:
        # The bus already stopped again: the stop listeners ran.
        exit_after_failed_start(bus)
        if options.debug:
            raise
        _error(describe_start_failure(bus, exc))
        return 1
    freeze_startup_objects()
    _echo(f"Serving on {server.url}", out)
    bus.block()
    return 0


# -- uvicorn, granian ------------------------------------------------------------------------
def _run_asgi(options: ServeOptions, out: IO[str]) -> int:
    """One process: the hub as ASGI (hub.asgi, front layers on its WSGI side) under uvicorn or granian.

    The bus drives it as it drives waitress: SignalHandler (not the server's
    own handlers), PID file, drain delay, a drained stop.
    """
    kind = options.server
    try:  # uvicorn / granian and a2wsgi are optional dependencies (the 'uvicorn' / 'granian' extras)
        from .asgi import ASGIHub

        if kind == "granian":
            from .servers.granian import GranianServer
        else:
            from .servers.uvicorn import UvicornServer
    except ImportError as exc:
        raise ConfigError(
            f"--server {kind} needs {kind} and a2wsgi: pip install {kind} a2wsgi ({exc})"
        ) from None
    sock = bind_socket(options.host, options.port)  # address in use: nothing started yet
    if kind == "granian":  # granian binds its own socket: keep the port picked for 0
        options.port = int(sock.getsockname()[1])
        sock.close()
    hub = _load_onto_bus(options, sock, out)
    bus = hub.bus
    app = ASGIHub(
        hub,
        front(hub, options),
        threads=options.threads or DEFAULT_THREADS,
        front_paths=front_paths(options),
        options=options,
    )
    server: UvicornServer | GranianServer
    if kind == "granian":
        server = GranianServer(bus, app, options.host, options.port, drain_timeout=options.drain_timeout)
    else:
        server = UvicornServer(
            bus, app, options.host, options.port, drain_timeout=options.drain_timeout, sock=sock
        )
    return _serve_until_exit(bus, server, options, out)


def _site_file(site: str | None) -> str | None:
    """The file behind ``site`` (``config:site.ini#main`` -> ``site.ini``), if it names one."""
    if site is None:
        return None
    filename = site.removeprefix("config:").split("#", 1)[0]
    return filename if os.path.isfile(filename) else None


def _watch_site(bus: Bus, hub: Hub, options: ServeOptions) -> None:
    """In a reloader child: have the parent watch the site file and the apps' modules.

    The parent watches every module the child imported from outside the
    standard library and site-packages by itself; this adds the modules the
    mounted apps come from wherever they live (an app installed in
    site-packages while being worked on) and the site file.
    """
    modules: list[str] = []
    for peg in hub.pegs():
        import_name = getattr(peg.app, "import_name", None)  # Flask names its module
        if isinstance(import_name, str):
            modules.append(import_name)
        elif callable(peg.app) and hasattr(peg.app, "__code__"):  # a plain function
            modules.append(peg.app.__module__)
    site_file = _site_file(options.site)
    files = [site_file] if site_file is not None else []
    Autoreloader(bus, modules=list(dict.fromkeys(modules)), files=files).subscribe()


# -- gunicorn ------------------------------------------------------------------------------
def _run_gunicorn(options: ServeOptions, out: IO[str]) -> int:
    """N worker processes; the master checks the site in a throw-away child first.

    ``--server uvicorn``: the workers are uvicorn's, serving the hub as ASGI
    (:mod:`wsgihub.servers.uvicorn_workers`).
    """
    try:  # gunicorn is an optional dependency (the 'gunicorn' extra)
        from .servers.gunicorn import GunicornServer, probe_site
    except ImportError as exc:
        raise ConfigError(
            f"--workers needs gunicorn: pip install gunicorn ({exc})"
        ) from None
    gunicorn_options: dict[str, Any] = {}
    if options.server == "uvicorn":
        try:  # uvicorn, uvicorn-worker and a2wsgi: the 'uvicorn' extra
            from .servers.uvicorn_workers import WORKER_CLASS
        except ImportError as exc:
            raise ConfigError(
                f"--server uvicorn --workers needs uvicorn, uvicorn-worker and a2wsgi: "
                f"pip install uvicorn uvicorn-worker a2wsgi ({exc})"
            ) from None
        gunicorn_options["worker_class"] = WORKER_CLASS

    explicit = {
        setting
        for name, settings in _GUNICORN_SETTINGS.items()
        if options.sources.get(name, FROM_COMMAND_LINE) != FROM_DEFAULT
        for setting in settings
    }
    port = options.port
    gunicorn_sources = options.gunicorn_config or os.environ.get("GUNICORN_CMD_ARGS", "").strip()
    if not gunicorn_sources or "bind" in explicit:
        # (gunicorn's config file or GUNICORN_CMD_ARGS may bind elsewhere; gunicorn checks that itself)
        port = check_address(options.host, options.port)
    server = GunicornServer(
        options.site,
        options.mounts,
        host=options.host,
        port=port,
        workers=options.workers or 1,
        threads=options.threads or 1,
        drain_timeout=options.drain_timeout,
        pid_file=options.pid_file,
        loglevel=logging.getLevelName(_level(options)).lower(),
        on_ready=lambda url: _echo(f"Serving on {url}", out),
        front_options=options,
        variables=options.variables,
        drain_delay=options.drain_delay,
        config_file=options.gunicorn_config,
        explicit=explicit,
        options=gunicorn_options,
    )  # reads gunicorn's config file and GUNICORN_CMD_ARGS: their errors come first
    probe = probe_site(
        options.site,
        options.mounts,
        debug=options.debug,
        variables=options.variables,
        check=lambda hub: check_front_paths(hub, options),
    )
    for message in probe.warnings:
        _warn(message)
    _print_mounts(probe.mounts, options, out)
    if _in_reloader_child():
        # The master never imports the apps, so the reloader cannot see them by itself.
        hupper.get_reloader().watch_files(probe.files)
    return server.run()


#: The gunicorn settings each serve option sets: where it is given (not left at its
#: default) it wins over gunicorn's config file and ``GUNICORN_CMD_ARGS``.
_GUNICORN_SETTINGS: dict[str, tuple[str, ...]] = {
    "host": ("bind",),
    "port": ("bind",),
    "workers": ("workers",),
    "threads": ("threads",),
    "drain_timeout": ("graceful_timeout",),
    "drain_delay": ("graceful_timeout",),
    "pid_file": ("pidfile",),
    "forwarded_allow_ips": ("forwarded_allow_ips",),
    "verbosity": ("loglevel",),
}


# -- pserve ----------------------------------------------------------------------------------
#: Options only ``wsgihub serve`` itself can honour (pserve loaded the site in its own process).
_NOT_UNDER_PSERVE = ("workers", "gunicorn_config", "reload", "print_config", "server")


def server_factory(global_conf: Mapping[str, str], **local_conf: str) -> Callable[[Any], None]:
    """PasteDeploy server factory ``egg:wsgihub#main``: ``pserve site.ini`` serves as wsgihub does.

    The same ``[server:main]`` that ``wsgihub serve`` reads works under
    pserve: its keys are the option table's names, read and checked the
    same way, and the site pserve loaded is served under waitress on the
    hub's bus (drain, health path, inspector, access log).  pserve has
    loaded the site in its own process, so ``workers``, ``gunicorn_config``,
    ``server`` and ``reload`` (pserve has its own ``--reload``) are refused: run
    ``wsgihub serve`` for those.  The section is checked here, when pserve
    loads the server, before it loads the apps; a bad key or value is one
    line on stderr naming the file, section and key, and exit code 2 (a
    traceback with ``debug = true``), as under ``wsgihub serve``.
    """
    source = global_conf.get("__file__", "site file")
    debug = _parse_debug(local_conf.get("debug", ""))
    try:
        options = _pserve_options(source, local_conf)
    except WsgihubError as exc:
        _exit_bad_input(exc, debug)

    def serve(wsgi_app: Any) -> None:
        try:
            if isinstance(wsgi_app, Hub):
                hub = wsgi_app
            else:
                hub = Hub()
                hub.mount("/", wsgi_app, name="root")
            _configure_logging(options)
            _set_switch_interval(options)
            code = _run_waitress(options, sys.stdout, loaded=hub)
        except WsgihubError as exc:
            _exit_bad_input(exc, options.debug)
        if code:
            raise SystemExit(code)

    return serve


def _pserve_options(source: str, local_conf: Mapping[str, str]) -> ServeOptions:
    """The options of ``[server:main]`` as pserve hands them over (checked, one-line errors)."""
    known = {option.site_key: option for option in serve_options()}
    values: dict[str, Any] = {}
    for key, text in local_conf.items():
        name = key.replace("-", "_")
        where = f"{source} [{SERVER_SECTION}] {key}"
        if name not in known:
            raise ConfigError(f"{where}: unknown option (options: {', '.join(known)})")
        if name in _NOT_UNDER_PSERVE:
            raise ConfigError(f"{where}: only 'wsgihub serve {source}' can do this, not pserve")
        if text.strip():
            values[name] = known[name].read(text, where, f" (got {text.strip()!r})")
    options = ServeOptions(site=source, **values)
    options.sources = {name: f"{source} [{SERVER_SECTION}]" for name in values}
    options.validate()
    return options


def _parse_debug(text: str) -> bool:
    try:
        return _parse_bool(text)
    except ValueError:
        return False


def _exit_bad_input(exc: WsgihubError, debug: bool) -> NoReturn:
    """One ``wsgihub: error:`` line and exit code 2, as the CLI does (``debug``: the traceback)."""
    if debug:
        raise exc
    _error(" ".join(str(exc).split()))
    raise SystemExit(2)


# -- --reload --------------------------------------------------------------------------------
def _in_reloader_child() -> bool:
    return bool(hupper.is_active())


def _run_reloader(options: ServeOptions) -> int:
    """Become the reloader parent: a child serves, and is replaced when code changes.

    The parent checks the address and fixes the port (``0`` -> a free one)
    so every child listens on the same one; it never imports the site.  A
    child being replaced or stopped gets its drain delay and drain timeout
    (plus the time its stop and exit listeners take) before the parent kills it.
    """
    options.port = check_address(options.host, options.port)
    options.sources = {**options.sources, "port": FROM_COMMAND_LINE}  # every child listens there
    os.environ[_RELOAD_ENV] = options.to_json()
    site_file = _site_file(options.site)
    run_with_reloader(
        f"{__name__}._reload_child",
        extra_files=[site_file] if site_file is not None else [],
        shutdown_interval=options.drain_delay + options.drain_timeout + _RELOAD_GRACE,
        verbose=min(options.verbosity, 2),
    )
    return 0  # pragma: no cover - run_with_reloader() exits in the parent


def _reload_child() -> None:
    """Entry point of a reloader child: serve with the parent's options."""
    options = ServeOptions.from_json(os.environ[_RELOAD_ENV])
    # What the parent resolved from its command line; the environment and the
    # site file are read again here (same environment, same file).
    values = {
        option.name: getattr(options, option.name)
        for option in serve_options()
        if options.sources.get(option.name, FROM_COMMAND_LINE) == FROM_COMMAND_LINE
    }
    try:
        code = run(options.site, options.mounts, variables=options.variables or None, **values)
    except WsgihubError as exc:
        if options.debug:
            raise  # hupper watches the traceback's files
        # The parent waits for a change to the site file, a module the error points at or
        # one the child imported (as pserve --reload does); if the error names no file of
        # the site's there is nothing a change could fix: the parent exits too.
        if watch_for_a_fix(exc) or _site_file(options.site) is not None:
            _error(str(exc))
            code = 2
        else:
            _error(f"{exc} (--reload: no file to watch for a fix)")
            code = NOTHING_TO_WATCH  # the parent exits 2
    raise SystemExit(code)


# -- output ----------------------------------------------------------------------------------
def _echo(line: str, out: IO[str]) -> None:
    out.write(line + "\n")
    out.flush()


def _error(line: str) -> None:
    sys.stderr.write(f"wsgihub: error: {line}\n")
    sys.stderr.flush()


def _warn(line: str) -> None:
    sys.stderr.write(f"wsgihub: warning: {line}\n")
    sys.stderr.flush()


def _print_mounts(mounts: Sequence[MountInfo], options: ServeOptions, out: IO[str]) -> None:
    if options.verbosity < 1:
        return
    rows = [(m.name, m.framework, m.prefix) for m in mounts]
    widths = [max([len(r[i]) for r in rows] + [0]) for i in range(3)]
    out.write("Mounted apps:\n")
    for row in rows:
        out.write("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    out.flush()


def _level(options: ServeOptions) -> int:
    """The logging level for ``verbosity`` (one map for wsgihub, waitress and gunicorn)."""
    return _LEVELS[min(max(options.verbosity, 0), 3)]


def _configure_logging(options: ServeOptions) -> None:
    """Logging from --log-config, else the site file's [loggers], else stderr at our level.

    See :mod:`wsgihub.logconfig`; ``--access-log`` adds the access log's handler.
    """
    configure_logging(
        level=_level(options),
        site_file=_site_file(options.site),
        log_config=options.log_config,
        access_log=options.access_log,
        variables=getattr(options, "variables", None),
        # "Task queue depth is N" on every busy moment is noise at the default level.
        quiet_loggers={"waitress.queue": logging.ERROR} if options.verbosity < 2 else None,
    )


def _bus_log_listener(options: ServeOptions) -> Callable[..., None]:
    """The bus's ``log`` channel, to the ``wsgihub.bus`` logger.

    Below ``-v`` only the first line of a message is shown (no tracebacks),
    and the start-failure lines are left to the one-line report of :func:`run`.
    """
    logger = logging.getLogger("wsgihub.bus")
    full = options.debug or options.verbosity >= 2

    def listener(msg: str, level: int = logging.INFO) -> None:
        if not full and is_start_failure_line(msg):
            return
        logger.log(level, msg if full else msg.split("\n", 1)[0])

    return listener
