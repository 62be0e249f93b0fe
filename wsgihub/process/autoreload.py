"""Restart the site in a fresh process when its code changes (development).

Two halves, both built on `hupper <https://docs.pylonsproject.org/projects/hupper/>`_:

* :func:`run_with_reloader` turns the current process into a small *parent*
  that runs ``worker_path`` (a dotted path to a function) in a child process,
  watches files, and on a change stops that child (SIGTERM, which a
  :class:`~wsgihub.process.SignalHandler` turns into ``bus.exit()``) and starts
  a new one.  Every module the child imports from outside the standard library
  and site-packages is watched automatically.
* :class:`Autoreloader` is the bus plugin for the child: on ``start`` it tells
  the parent to also watch the files of the modules it was given (the modules
  of the mounted apps, which may live in site-packages) and any extra files
  (settings, templates).

::

    # mysite.py
    from wsgihub.process import Autoreloader, SignalHandler, run_with_reloader

    def serve() -> None:                       # runs in the child
        hub = build_hub()
        SignalHandler(hub.bus).subscribe()
        Autoreloader(hub.bus, modules=["legacy.settings"]).subscribe()
        hub.start()
        hub.bus.block()

    if __name__ == "__main__":
        run_with_reloader("mysite.serve", extra_files=["site.ini"])

Unlike CherryPy's Autoreloader, nothing re-executes itself: the parent never
imports the application, so a syntax error in the child only waits for the
next change.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import hupper
from hupper.logger import DefaultLogger
from hupper.polling import PollingFileMonitor
from hupper.reloader import ControlSignal, Reloader, WorkerResult, find_default_monitor_factory
from hupper.worker import WatchSysModules, get_system_paths

from .plugins import SimplePlugin

if TYPE_CHECKING:
    from hupper.interfaces import IReloaderProxy

    from ..bus import Bus

__all__ = [
    "NOTHING_TO_WATCH",
    "Autoreloader",
    "culprit_files",
    "module_files",
    "resolve",
    "run_with_reloader",
    "watch_for_a_fix",
]


def resolve(path: str) -> Callable[..., Any]:
    """Import ``"package.module.function"`` or ``"package.module:function"``."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"not a dotted path to a function: {path!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{path!r} is not callable")
    return target  # type: ignore[no-any-return]


def module_files(modules: Iterable[str | ModuleType]) -> list[str]:
    """The files behind ``modules`` (names or module objects), for watching.

    A plain module gives its source file; a package gives every ``.py`` file
    below its directory.  Names not imported (yet) and modules without files
    (built-ins, namespace packages) give nothing.
    """
    files: list[str] = []
    for module in modules:
        mod = sys.modules.get(module) if isinstance(module, str) else module
        filename = getattr(mod, "__file__", None)
        if not filename:
            continue
        filename = os.path.abspath(filename)
        if filename.endswith((".pyc", ".pyo")):
            filename = filename[:-1]
        if os.path.basename(filename).startswith("__init__."):
            pattern = os.path.join(os.path.dirname(filename), "**", "*.py")
            files.extend(sorted(glob.glob(pattern, recursive=True)))
        else:
            files.append(filename)
    return files


def run_with_reloader(
    worker_path: str,
    *,
    extra_files: Iterable[str | os.PathLike[str]] = (),
    interval: float = 1,
    shutdown_interval: float = 5,
    verbose: int = 1,
) -> IReloaderProxy:
    """Run ``worker_path`` in a child process and restart it when files change.

    In the parent this never returns: it runs until SIGINT/SIGTERM, stops the
    child with SIGTERM (both signals: the child drains) and exits with the
    child's exit code (0 for a child that SIGTERM ended before it had a
    handler for it: stopped while the parent was replacing it).  Called
    again *inside* the child (the pattern where ``worker_path`` is the
    function calling this), it returns hupper's reloader proxy at once, so
    one entry point serves both.

    ``extra_files`` are watched as well (globs allowed); ``interval`` is the
    polling period and the minimum time between restarts, in seconds;
    ``shutdown_interval`` how long a child may take to exit after SIGTERM
    before it is killed (hupper's own default, ``interval``, is too short for
    a server finishing its requests); ``verbose`` is hupper's 0 (quiet) to 2
    (debug).
    """
    files = [os.path.abspath(os.fspath(f)) for f in extra_files]
    if hupper.is_active():
        reloader = hupper.get_reloader()
        if files:
            reloader.watch_files(files)
        return reloader
    if interval <= 0:
        raise ValueError("interval must be greater than 0 (it throttles restarts)")
    logger = DefaultLogger(verbose)
    monitor_factory = find_default_monitor_factory(logger)
    if monitor_factory is PollingFileMonitor:
        monitor_factory = _PollingMonitor
    _Reloader(
        worker_path=f"{__name__}._worker_main",
        worker_kwargs={"worker_path": worker_path, "extra_files": files},
        reload_interval=interval,
        shutdown_interval=shutdown_interval,
        monitor_factory=monitor_factory,
        logger=logger,
    ).run()
    raise SystemExit(0)  # pragma: no cover - Reloader.run() exits itself


class _StopsAtOnce:
    """A hupper polling thread whose :meth:`stop` wakes it at once.

    hupper's pollers (the parent's file monitor, the child's ``sys.modules``
    poller) sleep their whole interval (1 s) between passes, and the
    process's end joins them: every stop (and every restart of a reloader
    child) waited up to a second after the site had stopped.  Here the
    pause is an :class:`threading.Event` that :meth:`stop` sets, which is
    also the loop's only flag (hupper's ``enabled`` / ``stopped`` are read
    by nothing but the loops this replaces).  A subclass says what one pass
    does (:meth:`_pass`) and lists this class before hupper's.
    """

    poll_interval: float

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._wake = threading.Event()

    def _pass(self) -> None:
        """One scan or poll."""
        raise NotImplementedError

    def run(self) -> None:
        """Make a pass every ``poll_interval`` seconds until stopped."""
        while not self._wake.is_set():
            self._pass()
            self._wake.wait(self.poll_interval)

    def stop(self) -> None:
        """Stop now (not after the current interval)."""
        self._wake.set()


class _PollingMonitor(_StopsAtOnce, PollingFileMonitor):  # type: ignore[misc]
    """hupper's polling file monitor (its default), with two changes.

    * :meth:`stop` wakes it at once (:class:`_StopsAtOnce`): the parent's exit
      joins it, so every stop of ``--reload`` took up to ``interval`` (1 s)
      more after the child had exited.
    * A file is compared with the time the child that asked for it started
      (:meth:`child_started`), not with the mtime the first scan finds: a file
      the child read and that changed before that scan (up to ``interval``
      later; a fix written just after an error) was never seen to change.  A
      file changed between the child's start and its import costs one restart more.
    """

    def __init__(self, callback: Callable[[str], Any], interval: float = 1, **kw: Any) -> None:
        super().__init__(callback, interval, **kw)
        self._since = time.time()
        #: the files not scanned yet, with the start of the child that asked for them
        self._new: dict[str, float] = {}

    def child_started(self) -> None:
        """A new child starts now: the files it asks for are compared with this time."""
        self._since = time.time()

    def add_path(self, path: str) -> None:
        """Watch ``path`` (from now, or since the current child started if it is new)."""
        with self.lock:
            if path not in self.paths:
                self.paths.add(path)
                self._new.setdefault(path, self._since)

    def check_reload(self, paths: list[str]) -> None:
        """hupper's scan, with each new file's first mtime taken as its child's start."""
        with self.lock:
            new, self._new = self._new, {}
        for path, since in new.items():
            self.mtimes.setdefault(path, since)
        super().check_reload(paths)

    def _pass(self) -> None:
        """Scan the files once."""
        with self.lock:
            paths = list(self.paths)
        self.check_reload(paths)


class _Reloader(Reloader):  # type: ignore[misc]
    """hupper's reloader parent, with SIGINT handled as SIGTERM: stop the child gracefully.

    hupper assumes a SIGINT came from a terminal's Ctrl-C, which the child
    receives too, so it only waits ``shutdown_interval`` and then kills the
    child (exit status 247, PID file left behind).  A supervisor signals the
    parent alone; SIGTERM to the child is what drains it (its
    :class:`~wsgihub.process.SignalHandler` exits the bus on either signal,
    so a child that gets both after Ctrl-C exits once).
    """

    _signals: ClassVar[dict[str, bytes]] = {**Reloader._signals, "SIGINT": ControlSignal.SIGTERM}

    def _run_worker(self) -> tuple[str, int | None]:
        """One child's run; a child exiting with :data:`NOTHING_TO_WATCH` ends the parent (2).

        A stop that ends a child by the SIGTERM itself ends the parent with 0,
        not with hupper's ``sys.exit(-15)`` (exit status 241): that child had
        no handler for it yet.  A stop signal that comes while the parent
        replaces a child waits in hupper's control pipe and is sent to the
        next child as soon as it is started, long before it sets its handlers
        (and one that comes as a child starts finds it so too).  That child
        had nothing to drain: the stop asked for is done.

        (hupper's own, private, method: were it renamed, this would never be
        called and such a child would only wait for a change, as before.)
        """
        monitor = getattr(self.monitor, "monitor", None)
        if isinstance(monitor, _PollingMonitor):
            monitor.child_started()
        result, code = super()._run_worker()
        if result == WorkerResult.WAIT and code == NOTHING_TO_WATCH:
            return WorkerResult.EXIT, 2
        if result == WorkerResult.EXIT and code == -signal.SIGTERM:
            return WorkerResult.EXIT, 0
        return result, code

    def _wait_for_changes(self) -> tuple[str, int | None]:
        """After a failed child: wait for a change, counting one seen while it exited.

        hupper forgets the changes seen so far as it starts to wait (its
        ``_run_worker`` clears them, as it does for a new child), so a fix
        saved while the failed child was still exiting was seen ("changed;
        reloading") and then waited for again.  Here they are kept for the wait.
        """
        proxy = self.monitor
        proxy.clear_changes = _keep_changes  # (an attribute of this instance, for the wait only)
        try:
            if proxy.is_changed:
                return WorkerResult.RELOAD, None
            return super()._wait_for_changes()  # type: ignore[no-any-return]
        finally:
            del proxy.clear_changes


def _keep_changes() -> None:
    """Stands in for the file monitor's ``clear_changes`` while the parent waits for a change."""


#: The exit code of a reloader child whose error no file change can fix (no file of the
#: site's to watch): the parent exits with 2 instead of waiting for a change
#: (sysexits' EX_CONFIG, which no child exits with otherwise).
NOTHING_TO_WATCH = 78


def _worker_main(worker_path: str, extra_files: list[str]) -> None:
    """Child entry point: watch the extra files, then run the real worker."""
    child = os.getpid()
    poller = _take_over_the_poller()
    _keep_forks_away_from_the_parent()
    if extra_files:
        hupper.get_reloader().watch_files(extra_files)
    try:
        resolve(worker_path)()
    finally:
        if poller is not None and os.getpid() == child:  # (a gunicorn worker unwinds this too)
            poller.stop()
            poller.join()


class _Poller(_StopsAtOnce, WatchSysModules):  # type: ignore[misc]
    """hupper's poller of ``sys.modules``, but :meth:`stop` wakes it at once (:class:`_StopsAtOnce`)."""

    def __init__(self, callback: Callable[[list[str]], Any], *, shares: WatchSysModules) -> None:
        super().__init__(callback)
        # one record of the paths sent, under one lock, with the poller it replaces
        # (hupper's still polls once more, from its ``finally``, at the child's end)
        self.paths = shares.paths
        self.lock = shares.lock
        self.poll_interval = shares.poll_interval

    def _pass(self) -> None:
        """Send the paths of modules imported since the last pass."""
        self.update_paths()


def _take_over_the_poller() -> _Poller | None:
    """In the reloader child: stop hupper's poller thread and start a :class:`_Poller` instead.

    hupper's thread ends after its current interval, within a second of the
    child's start; hupper's own ``finally`` joins it at the end (no wait by
    then unless the child ended within that second: a site that failed to
    load, which then waits for a change anyway).  ``None`` where there is no
    such thread (hupper changed).
    """
    global _poller
    theirs = next((t for t in threading.enumerate() if isinstance(t, WatchSysModules)), None)
    if theirs is None or not hupper.is_active():
        return None
    theirs.stop()
    ours = _Poller(hupper.get_reloader().watch_files, shares=theirs)
    ours.daemon = True
    ours.start()
    _poller = (theirs, ours)
    return ours


class _NoParent:
    """Stands in for hupper's pipe to the reloader parent in a forked process: sends nothing."""

    def send(self, value: object) -> int:
        return 0


#: hupper's module poller thread of this reloader child and the one that replaced it,
#: sharing a lock (see _take_over_the_poller, _forget_the_parent)
_poller: tuple[WatchSysModules, ...] = ()


def _keep_forks_away_from_the_parent() -> None:
    """In the reloader child: no process forked from it may talk to the reloader parent.

    hupper gives the child one pipe to the parent, and a module poller
    thread that sends what the child imported.  A forked process (a gunicorn
    worker) inherits both, and a gunicorn worker ends by unwinding the
    child's whole stack, where hupper's ``finally`` sends the worker's
    imported modules on that pipe.  Each packet is two writes (length, then
    pickle), so two workers ending together (Ctrl-C) interleaved their
    packets and the parent's reader thread died on "invalid load key",
    printing a traceback.  The child's own packets are serialised by a lock,
    so only the forks need silencing: :func:`_forget_the_parent` runs in
    every fork.  The pipe's ends are also made non-inheritable, so an exec'd
    program gets none of them.
    """
    global _poller
    if not _poller:
        _poller = tuple(t for t in threading.enumerate() if isinstance(t, WatchSysModules))
    pipe = getattr(hupper.get_reloader(), "pipe", None)
    for fd in (getattr(pipe, "r_fd", -1), getattr(pipe, "w_fd", -1)):
        if isinstance(fd, int) and fd >= 0:
            with contextlib.suppress(OSError):
                os.set_inheritable(fd, False)
    os.register_at_fork(after_in_child=_forget_the_parent)


def _forget_the_parent() -> None:
    """In a process forked from the reloader child: close hupper's pipe, send nothing more.

    The pipe's two ends are closed (so the parent also sees the child's end
    close when the child itself dies, not when its last worker does) and
    replaced by a sink; the pollers (threads of the child, not running here)
    get a fresh lock, as the fork may have copied it held.
    """
    if not hupper.is_active():
        return
    proxy = hupper.get_reloader()
    pipe = getattr(proxy, "pipe", None)
    proxy.pipe = _NoParent()
    for name in ("r_fd", "w_fd"):
        fd = getattr(pipe, name, -1)
        if isinstance(fd, int) and fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
            setattr(pipe, name, -1)
    lock = threading.Lock()
    for poller in _poller:
        poller.lock = lock


#: wsgihub's own package: its files are machinery, never where a site's error is fixed
_OWN_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def culprit_files(exc: BaseException) -> list[str]:
    """The files an error points at, where a fix would be made: to watch for one.

    Every exception of the chain (``__cause__``, ``__context__``) gives the
    files of its traceback's frames and, for a ``SyntaxError``, the file
    that does not compile (no frame of its own), and any ``files`` it
    carries (an error reported from another process, as gunicorn's site
    probe does).  Files of the standard library, site-packages and wsgihub
    itself are left out, as are names that are not files.
    """
    system = [os.path.realpath(p) for p in get_system_paths()] + [_OWN_PACKAGE]
    found: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = [frame.filename for frame in traceback.extract_tb(current.__traceback__)]
        if isinstance(current, SyntaxError) and current.filename:
            names.append(current.filename)
        names.extend(getattr(current, "files", None) or ())
        for name in names:
            path = os.path.realpath(name)
            if (
                os.path.isfile(path)
                and not any(path.startswith(prefix + os.sep) for prefix in system)
                and path not in found
            ):
                found.append(path)
        current = current.__cause__ or current.__context__
    return found


def watch_for_a_fix(exc: BaseException) -> bool:
    """In a reloader child whose site failed: have the parent watch the error's files.

    Returns whether there was any (see :func:`culprit_files`).  The error is
    reported in one line, so hupper never sees its traceback (from which it
    would take the files itself): without this, fixing the module that did
    not import did not restart the child.
    """
    files = culprit_files(exc)
    if files and hupper.is_active():
        hupper.get_reloader().watch_files(files)
    return bool(files)


class Autoreloader(SimplePlugin):
    """Child-side plugin: have the reloader parent watch the apps' modules.

    ``modules`` are module names or objects (the modules of the mounted
    apps), ``files`` extra paths or globs.  More can be added with
    :meth:`watch` at any time.  Outside a reloader child (no
    :func:`run_with_reloader` parent) it only logs that nothing is watched.
    """

    def __init__(
        self,
        bus: Bus,
        modules: Iterable[str | ModuleType] = (),
        files: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        super().__init__(bus)
        self.modules: list[str | ModuleType] = list(modules)
        self.files: list[str] = [os.path.abspath(os.fspath(f)) for f in files]
        self._started = False

    def watch(
        self,
        *,
        modules: Iterable[str | ModuleType] = (),
        files: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        """Watch more modules and files (sent to the parent now if already started)."""
        new_modules = list(modules)
        new_files = [os.path.abspath(os.fspath(f)) for f in files]
        self.modules.extend(new_modules)
        self.files.extend(new_files)
        if self._started:
            self._send(module_files(new_modules) + new_files)

    def watched_files(self) -> list[str]:
        """Every file this plugin asks the parent to watch."""
        return module_files(self.modules) + self.files

    def start(self) -> None:
        """Send the files to the reloader parent."""
        self._started = True
        if not hupper.is_active():
            self.bus.log(
                "Autoreloader: not running under a reloader (see run_with_reloader); "
                "no files watched.",
                level=30,
            )
            return
        files = self.watched_files()
        self._send(files)
        self.bus.log(f"Autoreloader: watching {len(files)} files.")

    start.priority = 70  # type: ignore[attr-defined]

    def stop(self) -> None:
        self._started = False

    def _send(self, files: list[str]) -> None:
        if files and hupper.is_active():
            hupper.get_reloader().watch_files(files)
