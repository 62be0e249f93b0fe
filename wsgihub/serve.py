"""``wsgihub serve``: run a site under waitress (threads) or gunicorn (``--workers N``).

::

    wsgihub serve site.ini --port 8080                       # waitress, 4 threads
    wsgihub serve --mount /=legacy.wsgi:application --mount /new=newsite:app
    wsgihub serve site.ini --workers 4 --drain-timeout 30    # gunicorn, 4 processes
    wsgihub serve site.ini --reload                          # restart on code changes

It prints the mounted apps and ``Serving on http://HOST:PORT`` (one line,
flushed, also with ``--port 0``, which picks a free port), and stops cleanly
on Ctrl-C and SIGTERM: no new connections, in-flight requests finish (up to
``--drain-timeout``), then the bus's stop and exit listeners run and the
exit code is 0.  Bad input -- a mount spec, an app that cannot be imported,
an address in use -- is one line on stderr and exit code 2, checked before
anything starts.  A start listener that raises is one line naming it and
exit code 1, after the stop listeners ran.

:func:`run` is the whole command as a function, for tests and scripts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING

from .errors import ConfigError
from .servers import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_THREADS,
    MountInfo,
    bind_socket,
    check_address,
    describe_mounts,
    describe_start_failure,
    exit_after_failed_start,
    is_start_failure_line,
    load_hub,
)

if TYPE_CHECKING:
    from .bus import Bus
    from .hub import Hub

__all__ = ["ServeOptions", "run"]

#: Environment variable carrying the options from the reloader parent to its child.
_RELOAD_ENV = "WSGIHUB_SERVE_OPTIONS"


_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}


@dataclass
class ServeOptions:
    """Every option of ``wsgihub serve``, checked together by :meth:`validate`.

    ``workers`` ``None`` means waitress in this process; a number means
    gunicorn with that many worker processes.  ``threads`` ``None`` means
    waitress's 4, or gunicorn's single-threaded sync worker.
    ``verbosity``: 0 errors only (``-q``), 1 warnings (default), 2 the bus's
    and servers' info lines (``-v``), 3 debug (``-vv``).
    """

    site: str | None = None
    mounts: Sequence[str] = field(default_factory=tuple)
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int | None = None
    threads: int | None = None
    reload: bool = False
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    pid_file: str | None = None
    verbosity: int = 1
    debug: bool = False

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad option."""
        from .deploy import parse_mount_spec

        if self.site is None and not self.mounts:
            raise ConfigError(
                "no site given: pass SITE (site.ini, module:hub) or --mount PREFIX=module:app"
            )
        for spec in self.mounts:
            parse_mount_spec(spec)
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port}: expected 0..65535 (0 picks a free port)")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers {self.workers}: expected at least 1")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"--threads {self.threads}: expected at least 1")
        if self.drain_timeout < 0:
            raise ConfigError(f"--drain-timeout {self.drain_timeout:g}: expected 0 or more seconds")
        if self.pid_file is not None:
            directory = os.path.dirname(os.path.abspath(self.pid_file))
            if not os.path.isdir(directory):
                raise ConfigError(
                    f"--pid-file {self.pid_file}: directory {directory} does not exist"
                )


def run(
    site: str | None = None,
    mounts: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int | None = None,
    threads: int | None = None,
    reload: bool = False,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    pid_file: str | None = None,
    verbosity: int = 1,
    debug: bool = False,
    out: IO[str] | None = None,
) -> int:
    """Serve until the bus exits; return the exit code (0 after a clean shutdown).

    Raises :class:`~wsgihub.errors.WsgihubError` (one line) for bad input
    before anything starts.  Blocks the calling thread, which must be the
    main thread (signal handlers).  ``out`` receives the mount list and the
    ``Serving on`` line (default: stdout).
    """
    options = ServeOptions(
        site=site,
        mounts=tuple(mounts),
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        reload=reload,
        drain_timeout=drain_timeout,
        pid_file=pid_file,
        verbosity=verbosity,
        debug=debug,
    )
    options.validate()
    _configure_logging(options)
    output = out if out is not None else sys.stdout
    if options.reload and not _in_reloader_child():
        return _run_reloader(options)
    if options.workers is not None:
        return _run_gunicorn(options, output)
    return _run_waitress(options, output)


# -- waitress ----------------------------------------------------------------------------
def _run_waitress(options: ServeOptions, out: IO[str]) -> int:
    """One process: hub.bus gets SignalHandler, PIDFile, waitress; start; block."""
    from .process import PIDFile, SignalHandler
    from .servers.waitress import WaitressServer

    sock = bind_socket(options.host, options.port)  # address in use: nothing started yet
    try:
        hub = load_hub(options.site, options.mounts)
    except BaseException:
        sock.close()
        raise
    bus = hub.bus
    bus.subscribe("log", _bus_log_listener(options))
    _print_mounts(describe_mounts(hub), options, out)

    SignalHandler(bus).subscribe()
    if options.pid_file is not None:
        PIDFile(bus, options.pid_file).subscribe()
    if _in_reloader_child():
        _watch_site(bus, hub, options)
    server = WaitressServer(
        bus,
        hub,
        options.host,
        options.port,
        threads=options.threads or DEFAULT_THREADS,
        drain_timeout=options.drain_timeout,
        sock=sock,
    )
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
    _echo(f"Serving on {server.url}", out)
    bus.block()
    return 0


def _watch_site(bus: Bus, hub: Hub, options: ServeOptions) -> None:
    """In a reloader child: have the parent watch the site file and the apps' modules."""
    from .process import Autoreloader

    modules: list[str] = []
    files: list[str] = []
    specs = [spec.partition("=")[2] for spec in options.mounts]
    if options.site is not None:
        filename = options.site.removeprefix("config:").split("#", 1)[0]
        if filename.endswith((".ini", ".cfg", ".wsgi")):
            files.append(filename)
        else:
            specs.append(options.site)
    modules.extend(spec.partition(":")[0].strip() for spec in specs)
    for peg in hub.pegs():
        import_name = getattr(peg.app, "import_name", None)  # Flask names its module
        if isinstance(import_name, str):
            modules.append(import_name)
        elif callable(peg.app) and hasattr(peg.app, "__code__"):
            modules.append(peg.app.__module__)
    Autoreloader(bus, modules=list(dict.fromkeys(modules)), files=files).subscribe()


# -- gunicorn ------------------------------------------------------------------------------
def _run_gunicorn(options: ServeOptions, out: IO[str]) -> int:
    """N worker processes; the master checks the site in a throw-away child first."""
    try:
        from .servers.gunicorn import GunicornServer, probe_site
    except ImportError as exc:
        raise ConfigError(
            f"--workers needs gunicorn: pip install 'wsgihub[gunicorn]' ({exc})"
        ) from None

    port = check_address(options.host, options.port)
    probe = probe_site(options.site, options.mounts, debug=options.debug)
    _print_mounts(probe.mounts, options, out)
    if _in_reloader_child():
        # The master never imports the apps, so the reloader cannot see them by itself.
        import hupper

        hupper.get_reloader().watch_files(probe.files)
    loglevel = {0: "error", 1: "warning", 2: "info"}.get(options.verbosity, "debug")
    server = GunicornServer(
        options.site,
        options.mounts,
        host=options.host,
        port=port,
        workers=options.workers or 1,
        threads=options.threads or 1,
        drain_timeout=options.drain_timeout,
        pid_file=options.pid_file,
        loglevel=loglevel,
        on_ready=lambda url: _echo(f"Serving on {url}", out),
    )
    return server.run()


# -- --reload --------------------------------------------------------------------------------
def _in_reloader_child() -> bool:
    import hupper

    return bool(hupper.is_active())


def _run_reloader(options: ServeOptions) -> int:
    """Become the reloader parent: a child serves, and is replaced when code changes.

    The parent checks the address and fixes the port (``0`` -> a free one)
    so every child listens on the same one; it never imports the site.
    """
    from .process import run_with_reloader

    options.port = check_address(options.host, options.port)
    os.environ[_RELOAD_ENV] = json.dumps({**asdict(options), "mounts": list(options.mounts)})
    extra = []
    if options.site is not None:
        filename = options.site.removeprefix("config:").split("#", 1)[0]
        if os.path.exists(filename):
            extra.append(filename)
    run_with_reloader(
        f"{__name__}._reload_child",
        extra_files=extra,
        verbose=min(options.verbosity, 2),
    )
    return 0  # pragma: no cover - run_with_reloader() exits in the parent


def _reload_child() -> None:
    """Entry point of a reloader child: serve with the parent's options."""
    from .errors import WsgihubError

    options = json.loads(os.environ[_RELOAD_ENV])
    try:
        code = run(
            options.pop("site"),
            options.pop("mounts"),
            **options,
        )
    except WsgihubError as exc:
        if options.get("debug"):
            raise
        _error(str(exc))
        code = 2
    raise SystemExit(code)


# -- output ----------------------------------------------------------------------------------
def _echo(line: str, out: IO[str]) -> None:
    out.write(line + "\n")
    out.flush()


def _error(line: str) -> None:
    sys.stderr.write(f"wsgihub: error: {line}\n")
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


def _configure_logging(options: ServeOptions) -> None:
    """Send the servers' logging (waitress, gunicorn, the apps) to stderr at our level."""
    level = _LEVELS.get(options.verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s [%(name)s] %(message)s"
    )
    logging.getLogger("waitress").setLevel(level)
    if options.verbosity < 2:
        # "Task queue depth is N" on every busy moment is noise at the default level.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)


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
