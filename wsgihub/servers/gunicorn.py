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
import importlib
import json
import math
import os
import runpy
import shlex
import signal
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.config import make_settings
from gunicorn.errors import HaltServer

from ..bus import Bus
from ..deploy import load
from ..errors import ConfigError, WsgihubError
from ..health import announce_drain
from ..logconfig import flush_access_log
from ..process.autoreload import culprit_files
from .base import (
    DEFAULT_DRAIN_TIMEOUT,
    MountInfo,
    describe_mounts,
    describe_start_failure,
    exit_after_failed_start,
    format_url,
    freeze_startup_objects,
    is_start_failure_line,
    mount_warnings,
)
from .front import front_stack
from .gunicorn_front import WORKER_CLASS, FrontSyncWorker, in_worker_stack, unsupported

if TYPE_CHECKING:
    from gunicorn.workers.base import Worker

    from ..hub import Hub
    from ..types import WSGIApplication
    from .front import FrontStack

__all__ = ["GunicornServer", "SiteProbe", "probe_site"]

#: Exit status of a worker whose bus failed to start (gunicorn's own code for it).
WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR


class _Arbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter with SIGINT meaning what SIGTERM means: a graceful stop.

    gunicorn treats SIGINT (Ctrl-C) as a quick shutdown that cuts in-flight
    requests; ``wsgihub serve`` promises that Ctrl-C drains like SIGTERM.
    A second SIGINT or SIGQUIT while draining still stops at once (gunicorn's
    own check in ``Arbiter.stop``): "second" is counted in SIGINTs, so the
    first SIGINT is queued as SIGTERM (:meth:`signal`).  One Ctrl-C under
    ``--reload`` brings the master the group's SIGINT and the reloader
    parent's SIGTERM, and on a loaded machine the SIGTERM can be taken first:
    the SIGINT then found the stop under way and quit the workers at once
    (drain delay skipped, connections reset).
    """

    _interrupted = False

    def signal(self, sig: int, frame: Any) -> None:
        """gunicorn's handler (queue the signal); the first SIGINT is queued as SIGTERM."""
        if sig == signal.SIGINT and not self._interrupted:
            self._interrupted = True
            sig = signal.SIGTERM
        super().signal(sig, frame)

    def handle_int(self) -> None:
        """SIGINT: stop gracefully (what ``handle_term`` does)."""
        self.handle_term()

    def spawn_worker(self) -> int:
        """Fork a worker with the stop signals blocked until it has handlers of its own.

        From the fork until gunicorn's worker sets its handlers, the new
        process still runs the master's, which only queue the signal in the
        master's state the fork copied: a SIGTERM from the master's stop (or a
        Ctrl-C) in that window was lost, and the worker served on until the
        graceful timeout killed it (its bus never stopped; seen as a 10 s stop
        under ``--reload --workers 2``).  Blocked, the signal waits in the new
        worker, which unblocks it once its handlers are set
        (:meth:`GunicornServer._post_worker_init`).  A fork's pending signals are
        the child's own, so the master gets its signals as soon as the fork returns.
        """
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        master = os.getpid()
        try:
            return int(super().spawn_worker())
        finally:
            if os.getpid() == master:  # (the worker ends inside spawn_worker, with sys.exit)
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)


#: The signals that stop a gunicorn worker (SIGTERM gracefully, SIGINT as wsgihub makes it,
#: SIGQUIT at once): blocked from the fork until the worker's own handlers are set.
_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})


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


def probe_site(
    site: str | None,
    mounts: Sequence[str],
    *,
    debug: bool = False,
    variables: Mapping[str, str] | None = None,
    check: Callable[[Hub], None] | None = None,
) -> SiteProbe:
    """Load the site in a forked child and report its mounts (or its error).

    The calling process imports nothing of the site, which is what lets a
    gunicorn master reload application code on SIGHUP.  A failure raises
    :class:`~wsgihub.errors.ConfigError` with the child's one-line message;
    with ``debug`` the child's traceback is printed to stderr first.
    ``variables`` fill the site file's ``%(NAME)s`` (PasteDeploy's global_conf).
    ``check(hub)`` runs in the child on the loaded hub; its error is the probe's.
    """
    extra = {"global_conf": dict(variables)} if variables else {}
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
                    hub = load(site, mounts=mounts, **extra)
                if check is not None:
                    check(hub)
                payload: dict[str, Any] = {
                    "mounts": [vars(m) for m in describe_mounts(hub)],
                    "warnings": found,
                    "files": _own_files(set(sys.modules) - imported_before),
                }
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                message = (
                    str(exc) if isinstance(exc, WsgihubError) else f"{type(exc).__name__}: {exc}"
                )
                payload = {
                    "error": message,
                    "traceback": traceback.format_exc(),
                    "files": culprit_files(exc),  # what --reload watches for a fix
                }
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
        error = ConfigError(result["error"])
        error.files = result.get("files", [])  # type: ignore[attr-defined]
        raise error
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
    :class:`~wsgihub.serve.ServeOptions`).  ``variables`` fill the site
    file's ``%(NAME)s``.  ``drain_delay``: seconds a worker keeps accepting
    after SIGTERM while its health path answers 503 (see
    :mod:`wsgihub.health`).

    ``config_file`` is gunicorn's own config file (``-c``; a path or
    ``python:module``) and ``GUNICORN_CMD_ARGS`` is read as gunicorn reads
    it; both are applied over wsgihub's settings except the gunicorn
    settings named in ``explicit`` (``bind``, ``workers`` ... that the user
    gave wsgihub; default: all of wsgihub's), and gunicorn hooks they
    define run after wsgihub's own.
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
        variables: Mapping[str, str] | None = None,
        drain_delay: float = 0.0,
        config_file: str | None = None,
        explicit: Collection[str] | None = None,
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
        self.variables = dict(variables or {})
        self.drain_delay = drain_delay
        self.config_file = config_file
        self.explicit = set(explicit) if explicit is not None else None
        unknown = sorted(set(self.options) - set(make_settings()))
        if unknown:
            raise ConfigError(f"unknown gunicorn setting(s): {', '.join(unknown)}")
        #: The warnings printed already (each once, also over SIGHUPs).
        self._warned: set[str] = set()
        #: The master's own bus (the workers' hubs have theirs).
        self.bus = Bus()
        #: The hub of this worker (``None`` in the master).
        self.hub: Hub | None = None
        #: The stack whose request-ID and access-log work this worker does itself
        #: (:class:`~wsgihub.servers.gunicorn_front.FrontSyncWorker`); ``None``: the layers do it.
        self.front_stack: FrontStack | None = None
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
            # whole seconds only; a worker first keeps accepting for the drain delay
            "graceful_timeout": max(1, math.ceil(self.drain_timeout + self.drain_delay)),
            "loglevel": self.loglevel,
            "pidfile": self.pid_file,
            "proc_name": "wsgihub",
            # several servers on one host must not fight over gunicornc's socket
            "control_socket_disable": True,
            # Trust no proxy unless told (--forwarded-allow-ips, passed on so gunicorn
            # and wsgihub agree): gunicorn's own default trusts 127.0.0.1, so any
            # local client could set X-Forwarded-Proto or a SCRIPT_NAME header.
            # What a trusted proxy says is applied by the front layer
            # (wsgihub.proxy), the same as under waitress: gunicorn's own scheme
            # headers (X-Forwarded-Ssl ...) and SCRIPT_NAME/PATH_INFO headers are
            # off, so SCRIPT_NAME never comes from a request header.
            "forwarded_allow_ips": getattr(self.front_options, "forwarded_allow_ips", "") or "",
            "secure_scheme_headers": {},
            "forwarder_headers": "",
        }
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorns lack some (control_socket_disable)
                self.cfg.set(key, value)
        for hook in _HOOKS:  # a SIGHUP runs this again: start from gunicorn's own no-ops
            self.cfg.set(hook, self.cfg.settings[hook].default)
        # gunicorn's sync worker doing the request-ID and access-log work itself
        # (gunicorn_front; it serves the layers where it cannot): a default, which a
        # worker_class in gunicorn's own files or in the options replaces
        self.cfg.set("worker_class", WORKER_CLASS)
        self._load_gunicorn_sources()
        for key, value in settings.items():  # what the user gave wsgihub wins over gunicorn's files
            if (self.explicit is None or key in self.explicit) and key in self.cfg.settings:
                self.cfg.set(key, value)
        for key, value in self.options.items():  # and settings given in Python win over everything
            self.cfg.set(key, value)
        if self.cfg.worker_class_str == WORKER_CLASS:
            if self.cfg.threads > 1:
                self.cfg.set("worker_class", "sync")  # gunicorn's gthread worker, as for sync
            elif (reason := unsupported()) is not None:
                self.bus.log(f"gunicorn's workers serve the request-ID/access-log layers (not their own): {reason}")
        if "accesslog" not in self.options:
            # One access log, one format under waitress and gunicorn: wsgihub's
            # (--access-log), never gunicorn's own from its config file or
            # GUNICORN_CMD_ARGS as well.
            self.cfg.set("accesslog", None)
        for hook, arity in _HOOKS.items():
            theirs = self.cfg.settings[hook].get()
            ours = getattr(self, "_" + hook)
            default = self.cfg.settings[hook].default
            self.cfg.set(hook, ours if theirs is default else _chain(ours, theirs, arity))

    def do_load_config(self) -> None:
        """gunicorn's own, but a bad setting raises :class:`ConfigError` (one line, exit 2).

        gunicorn prints ``Error: ...`` after a blank line and exits 1 instead.
        """
        self.load_default_config()
        self.load_config()

    def _load_gunicorn_sources(self) -> None:
        """gunicorn's config file, then ``GUNICORN_CMD_ARGS``, as gunicorn itself orders them."""
        env_text = os.environ.get("GUNICORN_CMD_ARGS", "")
        env_args: dict[str, Any] = {}
        if env_text.strip():
            env_args = self._parse_cmd_args(env_text)
        location = self.config_file or env_args.pop("config", None)
        env_args.pop("config", None)
        if location:
            self._load_config_file(location)
        for key, value in env_args.items():
            self.cfg.set(key, value)
            reason = self._dropped(key)
            if reason:
                self._warn(f"GUNICORN_CMD_ARGS: {self.cfg.settings[key].cli[-1]} {reason}")

    def _parse_cmd_args(self, text: str) -> dict[str, Any]:
        """``GUNICORN_CMD_ARGS`` as gunicorn's own parser reads it; one line if it cannot."""
        where = f"GUNICORN_CMD_ARGS={text}"
        parser = self.cfg.parser()
        parser.exit_on_error = False
        try:
            args, extra = parser.parse_known_args(shlex.split(text))
        except Exception as exc:  # noqa: BLE001 - argparse and shlex errors alike
            raise ConfigError(f"{where}: {' '.join(str(exc).split())}") from None
        extra += list(getattr(args, "args", None) or [])
        if extra:
            raise ConfigError(f"{where}: gunicorn does not know {' '.join(extra)}")
        return {k.lower(): v for k, v in vars(args).items() if v is not None and k != "args"}

    def _load_config_file(self, location: str) -> None:
        """Apply a gunicorn config file (``path``, ``file:path`` or ``python:module``).

        Names gunicorn does not know are ignored, as gunicorn does; a file
        that fails or a bad value is one line naming the file.
        """
        try:
            if location.startswith("python:"):
                values = vars(importlib.import_module(location.removeprefix("python:")))
            else:
                values = runpy.run_path(location.removeprefix("file:"))
        except Exception as exc:  # noqa: BLE001 - the user's file failed: one line
            first = " ".join(str(exc).split())
            raise ConfigError(f"{location}: {type(exc).__name__}: {first}") from None
        dropped: list[str] = []
        for key, value in values.items():
            if key not in self.cfg.settings:
                if _looks_like_a_setting(key, value):
                    dropped.append(f"{key} is not a gunicorn setting (ignored)")
                continue
            try:
                self.cfg.set(key.lower(), value)
            except Exception as exc:  # noqa: BLE001 - gunicorn's validators raise several kinds
                first = " ".join(str(exc).split())
                raise ConfigError(f"{location}: {key} = {value!r}: {first}") from None
            reason = self._dropped(key)
            if reason:
                dropped.append(f"{key} {reason}")
        for message in dropped:  # only once the whole file applied: a bad value is the one line
            self._warn(f"{location}: {message}")

    def _dropped(self, key: str) -> str | None:
        """Why a setting from gunicorn's config file or ``GUNICORN_CMD_ARGS`` has no effect, if so."""
        if key in _ACCESS_LOG_SETTINGS and "accesslog" not in self.options:
            return "is ignored: wsgihub writes the access log (--access-log FILE, --log-format text|json)"
        if key == "wsgi_app":
            return "is ignored: wsgihub serves the site it is given (SITE, --mount)"
        if key in self.options:
            return "is overridden by the options given in Python"
        if key in _WSGIHUB_SETTINGS and (self.explicit is None or key in self.explicit):
            return f"is overridden by wsgihub's {_WSGIHUB_SETTINGS[key]}"
        return None

    def _warn(self, message: str) -> None:
        """``wsgihub: warning: message`` on stderr, once (a SIGHUP reads the sources again)."""
        if message in self._warned:
            return
        self._warned.add(message)
        sys.stderr.write(f"wsgihub: warning: {message}\n")
        sys.stderr.flush()

    def load(self) -> WSGIApplication:
        """Build this worker's hub from the site spec (runs in the worker).

        What the worker serves is the hub wrapped in the front middlewares
        (:func:`~wsgihub.servers.front.front`), as under waitress.
        """
        extra = {"global_conf": self.variables} if self.variables else {}
        with mount_warnings():  # the master reported them, from probe_site
            self.hub = load(self.site, mounts=self.mounts, **extra)
        stack = front_stack(self.hub, self.front_options)
        if self.cfg.worker_class is FrontSyncWorker and in_worker_stack(stack):
            # the worker does the request-ID and access-log work (gunicorn_front)
            self.front_stack = stack
            return stack.inner  # type: ignore[return-value]  # not None: in_worker_stack
        self.front_stack = None
        return stack.app

    def run(self) -> int:
        """Run the arbiter until the master exits; return its exit status.

        A worker returns from here too: gunicorn ends it with ``sys.exit``,
        which unwinds the stack it inherited from the master.
        """
        arbiter = _Arbiter(self)
        master = os.getpid()
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
            if os.getpid() == master:  # not the master's bus again in each worker (its listeners)
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

        A worker with ``starts_bus`` (uvicorn's,
        :mod:`wsgihub.servers.uvicorn_workers`) gets the log listener only:
        it starts the bus on its event loop and handles the signals itself.

        The stop signals, blocked since the fork (see :meth:`_Arbiter.spawn_worker`),
        are unblocked at the end: one that came meanwhile reaches this
        worker's handlers now.
        """
        try:
            self._start_worker_bus(worker)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def _start_worker_bus(self, worker: Worker) -> None:
        """The body of :meth:`_post_worker_init`, run with the stop signals still blocked."""
        hub = self.hub
        if hub is None:  # pragma: no cover - load() always ran before this hook
            return
        hub.bus.subscribe("log", _gunicorn_logger(worker.log, quiet_start_failures=True))
        if getattr(worker, "starts_bus", False):
            return
        signal.signal(signal.SIGINT, worker.handle_exit)
        signal.siginterrupt(signal.SIGINT, False)  # as gunicorn does for SIGTERM
        try:
            hub.bus.start()
        except Exception as exc:  # noqa: BLE001 - reported in one line, then the boot fails
            sys.stderr.write(f"wsgihub: error: {describe_start_failure(hub.bus, exc)}\n")
            sys.stderr.flush()
            exit_after_failed_start(hub.bus)
            self.hub = None
            sys.exit(WORKER_BOOT_ERROR)
        freeze_startup_objects()
        _drain_first(worker, hub.bus, self.drain_delay)

    def _worker_exit(self, arbiter: Arbiter, worker: Worker) -> None:
        hub = self.hub
        if hub is not None and worker.pid == os.getpid():
            self.hub = None
            hub.bus.exit()
            flush_access_log()  # the lines this worker still queues (see flush_access_log)


#: The gunicorn settings wsgihub sets itself, and the option that sets each: where
#: that option is given (or always, for a GunicornServer made without ``explicit``)
#: a value from gunicorn's config file or GUNICORN_CMD_ARGS is overridden.
_WSGIHUB_SETTINGS = {
    "bind": "--host/--port",
    "workers": "--workers",
    "threads": "--threads",
    "graceful_timeout": "--drain-timeout/--drain-delay",
    "pidfile": "--pid-file",
    "loglevel": "-q/-v",
    "forwarded_allow_ips": "--forwarded-allow-ips",
    "proc_name": "process name",
    "control_socket_disable": "control socket setting",
    "secure_scheme_headers": "--forwarded-allow-ips (proxy headers)",
    "forwarder_headers": "--forwarded-allow-ips (proxy headers)",
}

#: gunicorn's own access log: never on under wsgihub (one format under both servers).
_ACCESS_LOG_SETTINGS = ("accesslog", "access_log_format")


def _looks_like_a_setting(name: str, value: Any) -> bool:
    """Whether a name a gunicorn config file defines was meant as a setting (a typo, say).

    A config file is Python: its imports, helper functions, classes and
    ``_private`` names are not settings and are left alone, as gunicorn does.
    """
    if name.startswith("_") or not name.islower() or not name.isidentifier():
        return False
    return not (callable(value) or isinstance(value, type) or type(value).__name__ == "module")


#: The gunicorn hooks wsgihub sets, and how many arguments each takes.
_HOOKS = {
    "when_ready": 1,
    "on_reload": 1,
    "on_exit": 1,
    "post_fork": 2,
    "post_worker_init": 1,
    "worker_exit": 2,
}


def _chain(ours: Callable[..., Any], theirs: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """A gunicorn hook running wsgihub's, then the one of the user's gunicorn config."""
    if arity == 1:

        def hook1(first: Any) -> None:
            ours(first)
            theirs(first)

        return hook1

    def hook2(first: Any, second: Any) -> None:
        ours(first, second)
        theirs(first, second)

    return hook2


def _drain_first(worker: Worker, bus: Bus, delay: float) -> None:
    """SIGTERM/SIGINT in a worker: announce the drain on its bus, then gunicorn's graceful exit.

    The worker's bus stays STARTED until the worker ends, so the health path
    learns of the shutdown from the ``drain`` channel: from the signal on it
    answers 503 while the worker keeps accepting for ``delay`` seconds; then
    the worker takes gunicorn's graceful exit (stops accepting, lets the
    requests in flight finish).

    During the delay a SIGTERM does not end it: one stop brings a worker two
    signals, as Ctrl-C reaches every process of the group and the master then
    sends each worker SIGTERM (systemd's default ``KillMode`` sends SIGTERM to
    every process too, and the master its own again).  A SIGINT during the
    delay (Ctrl-C again) ends it at once; SIGQUIT is gunicorn's quick exit.
    """
    fired: list[int] = []
    delay_over = threading.Event()

    def announce() -> None:
        announce_drain(bus)
        if delay > 0:
            bus.log(f"Draining: health answers 503; still accepting for {delay:g} s (drain delay).")

    def end_delay() -> None:
        delay_over.set()
        os.kill(os.getpid(), signal.SIGTERM)

    def cut_short() -> None:
        bus.log("Drain delay cut short by a second signal.")

    def handler(signum: int, frame: Any) -> None:
        # the bus's listeners log: not inside a signal handler, in a thread
        if not fired:
            fired.append(signum)
            threading.Thread(target=announce, name="wsgihub-drain", daemon=True).start()
            if delay > 0:
                timer = threading.Timer(delay, end_delay)
                timer.daemon = True
                timer.start()
                return
        elif delay > 0 and not delay_over.is_set():
            if signum != signal.SIGINT:
                return  # the master's SIGTERM after a signal to the group: the delay holds
            delay_over.set()
            threading.Thread(target=cut_short, name="wsgihub-drain", daemon=True).start()
        worker.handle_exit(signum, frame)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
        signal.siginterrupt(signum, False)


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
