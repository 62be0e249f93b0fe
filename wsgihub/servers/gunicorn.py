"""gunicorn: the site in N pre-forked worker processes on one host.

::

    from wsgihub.servers.gunicorn import GunicornServer

    server = GunicornServer("site.ini", mounts=["/api=api:app"], port=8080, workers=4)
    exit_code = server.run()        # returns when the master exits (SIGTERM, SIGINT: drained)

The master process never imports the site: every worker builds its own hub
(and with it its own partyline and bus) from the site's *spec* -- the
``SITE`` string and ``--mount`` specs -- so SIGHUP makes gunicorn start
fresh workers that load the code as it is now, then stop the old ones
gracefully.  In each worker the hub's bus is started once the site is
loaded (``post_worker_init``) and exited when the worker ends
(``worker_exit``).

The master has a bus of its own, :attr:`GunicornServer.bus`, which follows
the arbiter: ``when_ready`` starts it, ``on_reload`` (SIGHUP) publishes
``graceful``, ``on_exit`` exits it.  It lives on this object, not in a
gunicorn config file, because a SIGHUP re-executes config files.

:func:`probe_site` loads the site once in a throw-away forked child, so that
``wsgihub serve --workers N`` reports a bad site in one line before gunicorn
starts, and still leaves the master free of application code.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import sysconfig
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.config import make_settings
from gunicorn.errors import HaltServer

from ..bus import Bus
from ..deploy import load
from ..errors import ConfigError, WsgihubError
from .base import (
    DEFAULT_DRAIN_TIMEOUT,
    MountInfo,
    describe_mounts,
    describe_start_failure,
    exit_after_failed_start,
    format_url,
    is_start_failure_line,
    mount_warnings,
)
from .front import front

if TYPE_CHECKING:
    from gunicorn.workers.base import Worker

    from ..hub import Hub
    from ..types import WSGIApplication

__all__ = ["GunicornServer", "SiteProbe", "probe_site"]

#: Exit status of a worker whose bus failed to start (gunicorn's own code for it).
WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR


class _Arbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter with SIGINT meaning what SIGTERM means: a graceful stop.

    gunicorn treats SIGINT (Ctrl-C) as a quick shutdown that cuts in-flight
    requests; ``wsgihub serve`` promises that Ctrl-C drains like SIGTERM.
    A second SIGINT or SIGQUIT while draining still stops at once (gunicorn's
    own check in ``Arbiter.stop``).
    """

    def handle_int(self) -> None:
        """SIGINT: stop gracefully (what ``handle_term`` does)."""
        self.handle_term()


@dataclass(frozen=True)
class SiteProbe:
    """What loading the site in a throw-away child found."""

    #: The mounted apps, for ``wsgihub serve`` to list.
    mounts: list[MountInfo]
    #: Source files of the modules the site imported, outside the standard
    #: library and site-packages (what ``--reload`` watches for a master that
    #: never imports them itself).
    files: list[str] = field(default_factory=list)
    #: The :class:`~wsgihub.errors.MountWarning` messages, once each (the
    #: workers, which load the same site, keep theirs to themselves).
    warnings: list[str] = field(default_factory=list)


def probe_site(site: str | None, mounts: Sequence[str], *, debug: bool = False) -> SiteProbe:
    """Load the site in a forked child and report its mounts (or its error).

    The calling process imports nothing of the site, which is what lets a
    gunicorn master reload application code on SIGHUP.  A failure raises
    :class:`~wsgihub.errors.ConfigError` with the child's one-line message;
    with ``debug`` the child's traceback is printed to stderr first.
    """
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    imported_before = set(sys.modules)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (coverage cannot see it)
        os.close(read_fd)
        try:
            try:
                with mount_warnings() as found:
                    hub = load(site, mounts=mounts)
                payload: dict[str, Any] = {
                    "mounts": [vars(m) for m in describe_mounts(hub)],
                    "warnings": found,
                    "files": _own_files(set(sys.modules) - imported_before),
                }
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                message = (
                    str(exc) if isinstance(exc, WsgihubError) else f"{type(exc).__name__}: {exc}"
                )
                payload = {"error": message, "traceback": traceback.format_exc()}
            with os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
                json.dump(payload, pipe)
            sys.stderr.flush()
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        result = json.loads(data)
    except ValueError:
        raise ConfigError(
            f"loading {site or ', '.join(mounts)} failed: the loader process died"
        ) from None
    if "error" in result:
        if debug:
            sys.stderr.write(result["traceback"])
        raise ConfigError(result["error"])
    return SiteProbe(
        [MountInfo(**m) for m in result["mounts"]], result["files"], result["warnings"]
    )


def _own_files(module_names: set[str]) -> list[str]:
    """Source files of these modules, leaving out the standard library and site-packages."""
    installed = {
        os.path.realpath(path)
        for key, path in sysconfig.get_paths().items()
        if key in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    files: set[str] = set()
    for name in module_names:
        filename = getattr(sys.modules.get(name), "__file__", None)
        if not filename:
            continue
        real = os.path.realpath(filename)
        if real.endswith((".pyc", ".pyo")):
            real = real[:-1]
        if not any(real.startswith(prefix + os.sep) for prefix in installed):
            files.add(real)
    return sorted(files)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving a wsgihub site from its spec.

    ``site`` and ``mounts`` are what ``wsgihub serve`` takes (``site.ini``,
    ``module:hub``, ``/prefix=module:app``).  ``threads`` above 1 selects
    gunicorn's ``gthread`` worker.  ``drain_timeout`` is gunicorn's
    ``graceful_timeout``: how long stopping workers may finish their
    requests.  ``on_ready(url)`` is called in the master once it listens.
    ``options`` are more gunicorn settings (``timeout``, ``accesslog`` ...).
    ``front_options`` are what each worker wraps its hub with
    (:func:`~wsgihub.servers.front.front`; ``wsgihub serve`` passes its
    :class:`~wsgihub.serve.ServeOptions`).
    """

    def __init__(
        self,
        site: str | None,
        mounts: Sequence[str] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        workers: int = 2,
        threads: int = 1,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        pid_file: str | None = None,
        loglevel: str = "warning",
        on_ready: Callable[[str], Any] | None = None,
        options: Mapping[str, Any] | None = None,
        front_options: Any = None,
    ) -> None:
        self.site = site
        self.mounts = tuple(mounts)
        self.host = host
        self.port = port
        self.workers = workers
        self.threads = threads
        self.drain_timeout = drain_timeout
        self.pid_file = pid_file
        self.loglevel = loglevel
        self.on_ready = on_ready
        self.options = dict(options or {})
        #: What :func:`~wsgihub.servers.front.front` builds each worker's
        #: serving stack from (a :class:`wsgihub.serve.ServeOptions`).
        self.front_options = front_options
        unknown = sorted(set(self.options) - set(make_settings()))
        if unknown:
            raise ConfigError(f"unknown gunicorn setting(s): {', '.join(unknown)}")
        #: The master's own bus (the workers' hubs have theirs).
        self.bus = Bus()
        #: The hub of this worker (``None`` in the master).
        self.hub: Hub | None = None
        #: ``http://host:port`` once the master listens.
        self.url: str | None = None
        super().__init__(usage=None, prog="wsgihub serve")

    # -- gunicorn's BaseApplication ------------------------------------------------------
    def load_config(self) -> None:
        """Settings from our arguments; called again on every SIGHUP."""
        settings: dict[str, Any] = {
            "bind": [
                f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
            ],
            "workers": self.workers,
            "threads": self.threads,
            "graceful_timeout": max(1, math.ceil(self.drain_timeout)),  # whole seconds only
            "loglevel": self.loglevel,
            "pidfile": self.pid_file,
            "proc_name": "wsgihub",
            "when_ready": self._when_ready,
            "on_reload": self._on_reload,
            "on_exit": self._on_exit,
            "post_fork": self._post_fork,
            "post_worker_init": self._post_worker_init,
            "worker_exit": self._worker_exit,
            # several servers on one host must not fight over gunicornc's socket
            "control_socket_disable": True,
            # Trust no proxy's forwarded headers (X-Forwarded-Proto, a SCRIPT_NAME
            # header ...), as waitress does: gunicorn's own default trusts
            # 127.0.0.1, so any local client could set them.  Trusting a proxy is
            # opt-in: options={"forwarded_allow_ips": "10.0.0.5"}.
            "forwarded_allow_ips": "",
        }
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorns lack some (control_socket_disable)
                self.cfg.set(key, value)
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        """Build this worker's hub from the site spec (runs in the worker).

        What the worker serves is the hub wrapped in the front middlewares
        (:func:`~wsgihub.servers.front.front`), as under waitress.
        """
        with mount_warnings():  # the master reported them, from probe_site
            self.hub = load(self.site, mounts=self.mounts)
        return front(self.hub, self.front_options)

    def run(self) -> int:
        """Run the arbiter until the master exits; return its exit status."""
        arbiter = _Arbiter(self)
        try:
            arbiter.run()
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except HaltServer as exc:
            # gunicorn raises it again from inside halt() when a second worker
            # failed to boot meanwhile: its workers may not have been stopped.
            for pid in list(arbiter.WORKERS):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
            sys.stderr.write(f"wsgihub: error: gunicorn: {exc.reason}\n")
            return int(exc.exit_status)
        except RuntimeError as exc:
            sys.stderr.write(f"wsgihub: error: gunicorn: {exc}\n")
            return 1
        finally:
            self.bus.exit()  # once: on_exit may not have run
        return 0

    # -- master hooks --------------------------------------------------------------------
    def _when_ready(self, arbiter: Arbiter) -> None:
        host, port = arbiter.LISTENERS[0].getsockname()[:2]
        self.url = format_url(str(host), int(port))
        self.bus.subscribe("log", _gunicorn_logger(arbiter.log))
        self.bus.start()
        if self.on_ready is not None:
            self.on_ready(self.url)

    def _on_reload(self, arbiter: Arbiter) -> None:
        self.bus.graceful()

    def _on_exit(self, arbiter: Arbiter) -> None:
        self.bus.exit()

    # -- worker hooks --------------------------------------------------------------------
    def _post_fork(self, arbiter: Arbiter, worker: Worker) -> None:
        # A fresh process: nothing of the master's site state may leak in.
        self.hub = None
        self.callable = None

    def _post_worker_init(self, worker: Worker) -> None:
        """Start this worker's bus; a failing start listener stops the worker boot.

        SIGINT gets SIGTERM's graceful handler first: Ctrl-C in a terminal
        reaches every worker directly, and gunicorn's own handler for it
        exits at once, cutting the request in flight.
        """
        signal.signal(signal.SIGINT, worker.handle_exit)
        signal.siginterrupt(signal.SIGINT, False)  # as gunicorn does for SIGTERM
        hub = self.hub
        if hub is None:  # pragma: no cover - load() always ran before this hook
            return
        hub.bus.subscribe("log", _gunicorn_logger(worker.log, quiet_start_failures=True))
        try:
            hub.bus.start()
        except Exception as exc:  # noqa: BLE001 - reported in one line, then the boot fails
            sys.stderr.write(f"wsgihub: error: {describe_start_failure(hub.bus, exc)}\n")
            sys.stderr.flush()
            exit_after_failed_start(hub.bus)
            self.hub = None
            sys.exit(WORKER_BOOT_ERROR)

    def _worker_exit(self, arbiter: Arbiter, worker: Worker) -> None:
        hub = self.hub
        if hub is not None and worker.pid == os.getpid():
            self.hub = None
            hub.bus.exit()


def _gunicorn_logger(log: Any, quiet_start_failures: bool = False) -> Callable[..., None]:
    """A bus ``log`` listener writing to gunicorn's error log (first lines only)."""

    def listener(msg: str, level: int = 20) -> None:
        if quiet_start_failures and is_start_failure_line(msg):
            return
        first = msg.split("\n", 1)[0]
        if level >= 40:
            log.error(first)
        elif level >= 30:
            log.warning(first)
        else:
            log.info(first)

    return listener
