"""The Web Site Process Bus: one process lifecycle shared by every app and plugin.

This module has the public API of CherryPy's ``cherrypy.process.wspbus`` and can
stand in for it (CherryPy's own bus test-suite runs against it unchanged).  A
:class:`Bus` is a small state machine plus a topic-based publish/subscribe
messenger::

                        O
                        |
                        V
       STOPPING --> STOPPED --> EXITING -> X
          A   A         |
          |    \\___     |
          |        \\    |
          |         V   V
        STARTED <-- STARTING

Each transition method (:meth:`Bus.start`, :meth:`Bus.stop`, :meth:`Bus.exit`,
:meth:`Bus.graceful`) moves the state and publishes to the channel of the same
name; servers, PID files, signal handlers and the hub itself are listeners::

    from wsgihub.bus import Bus

    bus = Bus()
    bus.subscribe("log", lambda msg, level: print(msg))

    @bus.subscribe("start", priority=40)      # lower priorities run first
    def open_pool() -> None: ...

    bus.start()      # Bus STARTING / Bus STARTED
    bus.block()      # until someone calls bus.exit() (a signal, a thread)

Where it deliberately differs from wspbus (see ``docs/bus.md``): a failing start
listener stops the bus and re-raises the listener's own exception instead of
``os._exit(70)``; :meth:`Bus.exit` runs once; listeners of equal priority run in
subscription order; :meth:`Bus.wait` wakes on the state change; registration
and state are guarded by a lock; a forked child gets a fresh STOPPED bus and
never runs the parent's automatic exit.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import subprocess
import sys
import threading
import traceback as _traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, TypeVar

from .errors import BusError

__all__ = ["Bus", "ChannelFailures", "State", "logging_listener", "states"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The directory the process started in, captured as early as this module is
#: imported: a restart changes back to it so a relative ``sys.executable`` or
#: script path still resolves (the application may have called ``os.chdir``).
_startup_cwd: Final = os.getcwd()

#: wspbus's exit status for "internal software error" (``EX_SOFTWARE``).
EX_SOFTWARE: Final = 70

#: The priority of a listener that gives none and has no ``priority`` attribute.
DEFAULT_PRIORITY: Final = 50

#: The built-in channels every bus knows from the start.
BUILTIN_CHANNELS: Final = ("start", "stop", "exit", "graceful", "log", "main")


class ChannelFailures(Exception):
    """Raised by :meth:`Bus.publish` when listeners failed; holds every failure.

    Every listener of a channel runs even when others fail; the failures are
    collected here, in the order they happened.  Same class contract as
    wspbus's (a plain ``Exception`` subclass) so CherryPy code catches it.
    """

    delimiter = "\n"

    def __init__(self, *args: object, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exceptions: list[BaseException] = []
        #: the listener behind each failure, where known (``None`` otherwise)
        self.listeners: list[Callable[..., Any] | None] = []

    def handle_exception(self, listener: Callable[..., Any] | None = None) -> None:
        """Add the exception being handled (``sys.exc_info()``) to the failures.

        ``listener`` (a wsgihub addition) records whose failure it is.
        """
        exc = sys.exc_info()[1]
        if exc is not None:
            self._exceptions.append(exc)
            self.listeners.append(listener)

    def add(self, exc: BaseException) -> None:
        """Add one failure (``ChannelFailures`` are flattened into this one)."""
        if isinstance(exc, ChannelFailures):
            self._exceptions.extend(exc.get_instances())
            self.listeners.extend(exc.listeners)
        else:
            self._exceptions.append(exc)
            self.listeners.append(None)

    def get_instances(self) -> list[BaseException]:
        """Return a copy of the list of failures."""
        return self._exceptions[:]

    def __str__(self) -> str:
        return self.delimiter.join(repr(exc) for exc in self._exceptions)

    __repr__ = __str__

    def __bool__(self) -> bool:
        """True when at least one listener failed."""
        return bool(self._exceptions)


class State:
    """One state of the bus; compared by identity, shown as ``states.NAME``."""

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"states.{self.name}"


_AnyState = State  # the class, under a name _StateEnum.State cannot shadow


class _StateEnum:
    """The namespace of bus states (``states.STARTED`` ...), as in wspbus."""

    State = State

    STOPPED: Final = State("STOPPED")
    STARTING: Final = State("STARTING")
    STARTED: Final = State("STARTED")
    STOPPING: Final = State("STOPPING")
    EXITING: Final = State("EXITING")

    def __setattr__(self, key: str, value: object) -> None:
        # wspbus names a State after the attribute it is stored under
        if isinstance(value, State):
            value.name = key
        object.__setattr__(self, key, value)

    def __iter__(self) -> Iterator[_AnyState]:
        return iter((self.STOPPED, self.STARTING, self.STARTED, self.STOPPING, self.EXITING))

    def __repr__(self) -> str:
        return "states"


#: The five bus states: ``STOPPED``, ``STARTING``, ``STARTED``, ``STOPPING``, ``EXITING``.
states: Final = _StateEnum()


def _max_files() -> int:
    """How many file descriptors to mark close-on-exec before a restart."""
    try:
        import fcntl  # noqa: F401  (POSIX only)
    except ImportError:
        return 0
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (AttributeError, ValueError, OSError):
        return 1024


def logging_listener(logger: Any = None) -> Callable[[str, int], None]:
    """Return a ``log`` channel listener that forwards to a :mod:`logging` logger.

    The bus only *publishes* log lines; nothing is printed unless someone
    listens.  ``bus.subscribe("log", logging_listener())`` sends them to the
    ``wsgihub.bus`` logger (or the ``logger`` given).
    """
    if logger is None:
        import logging

        logger = logging.getLogger("wsgihub.bus")

    def log(msg: str, level: int = 20) -> None:
        logger.log(level, msg)

    return log


class Bus:
    """Process state machine and messenger for an HTTP site.

    All listeners of a channel are called even if some fail; each failure is
    logged (``Error in 'stop' listener ...``) and collected into the
    :class:`ChannelFailures` that :meth:`publish` raises at the end.  Only
    ``KeyboardInterrupt`` and ``SystemExit`` stop a publication half way.
    """

    states = states
    execv: bool = False
    max_cloexec_files: int = _max_files()

    def __init__(self) -> None:
        self.execv = False
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state: State = states.STOPPED
        #: channel -> its listeners (a set, as in wspbus; CherryPy plugins may
        #: ``setdefault`` a new channel here to make it known).
        self.listeners: dict[str, set[Callable[..., Any]]] = {c: set() for c in BUILTIN_CHANNELS}
        self._priorities: dict[tuple[str, Callable[..., Any]], float] = {}
        self._order: dict[tuple[str, Callable[..., Any]], int] = {}
        self._counter = itertools.count()
        self._exit_called = False
        #: the stop listeners ran since the last start: exit() need not run them again
        self._stopped = False
        self._pid = os.getpid()
        #: the start listener whose exception :meth:`start` re-raised last (a
        #: wsgihub addition: the exception itself does not say whose it is)
        self.failed_start_listener: Callable[..., Any] | None = None
        _all_buses.add(self)

    # -- state -------------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current state (one of :data:`states`); setting it wakes :meth:`wait`."""
        return self._state

    @state.setter
    def state(self, value: State) -> None:
        with self._changed:
            self._state = value
            self._changed.notify_all()

    @property
    def state_name(self) -> str:
        """The current state's name: ``"STOPPED"``, ``"STARTED"`` ..."""
        return str(self._state.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state.name}>"

    # -- listeners ---------------------------------------------------------------------
    def subscribe(
        self,
        channel: str,
        callback: Callable[..., Any] | None = None,
        priority: float | None = None,
    ) -> Any:
        """Add ``callback`` to ``channel`` (once) and return it.

        ``priority`` orders the channel's listeners, lowest first; it defaults
        to the callback's ``priority`` attribute, else 50.  Listeners of equal
        priority run in the order they were first subscribed.  Subscribing again
        only updates the priority.  Without ``callback`` this returns a
        decorator: ``@bus.subscribe("start", priority=40)``.
        """
        if callback is None:
            return functools.partial(self._subscribe_decorator, channel, priority)
        if priority is None:
            priority = getattr(callback, "priority", DEFAULT_PRIORITY)
        key = (channel, callback)
        with self._lock:
            self.listeners.setdefault(channel, set()).add(callback)
            self._priorities[key] = priority
            if key not in self._order:
                self._order[key] = next(self._counter)
        return callback

    def _subscribe_decorator(self, channel: str, priority: float | None, callback: _F) -> _F:
        self.subscribe(channel, callback, priority)
        return callback

    def unsubscribe(self, channel: str, callback: Callable[..., Any]) -> None:
        """Remove ``callback`` from ``channel`` (nothing happens if it is not there)."""
        key = (channel, callback)
        with self._lock:
            listeners = self.listeners.get(channel)
            if listeners is not None:
                listeners.discard(callback)
            self._priorities.pop(key, None)
            self._order.pop(key, None)

    def _ordered(self, channel: str) -> list[Callable[..., Any]]:
        """A snapshot of ``channel``'s listeners in calling order."""
        with self._lock:
            listeners = list(self.listeners.get(channel, ()))
            keyed = [
                (
                    self._priorities.get(
                        (channel, cb), getattr(cb, "priority", DEFAULT_PRIORITY)
                    ),
                    self._order.get((channel, cb), sys.maxsize),
                    cb,
                )
                for cb in listeners
            ]
        keyed.sort(key=lambda item: (item[0], item[1]))
        return [cb for _priority, _order, cb in keyed]

    def publish(self, channel: str | None, *args: Any, **kwargs: Any) -> list[Any]:
        """Call every listener of ``channel`` with the arguments; return their results.

        Listener errors are logged and raised together as :class:`ChannelFailures`
        after every listener ran.  ``KeyboardInterrupt`` and ``SystemExit``
        propagate at once (a ``SystemExit(0)`` after earlier failures exits 1).
        Listeners may subscribe and unsubscribe while this runs; the change
        takes effect at the next publication.
        """
        if channel is None or channel not in self.listeners:
            return []
        failures = ChannelFailures()
        output: list[Any] = []
        for listener in self._ordered(channel):
            try:
                output.append(listener(*args, **kwargs))
            except KeyboardInterrupt:
                raise
            except SystemExit as exc:
                if failures and exc.code == 0:
                    exc.code = 1
                raise
            except Exception:  # noqa: BLE001  (collected and raised below)
                failures.handle_exception(listener)
                if channel != "log":  # a failing log listener cannot log itself
                    self.log(
                        f"Error in {channel!r} listener {listener!r}", level=40, traceback=True
                    )
        if failures:
            raise failures
        return output

    def log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        """Publish ``msg`` on the ``log`` channel; append the current traceback if asked."""
        if traceback:
            msg += "\n" + "".join(_traceback.format_exception(*sys.exc_info()))
        self.publish("log", msg, level)

    # -- transitions -------------------------------------------------------------------
    def _collect(
        self, failures: ChannelFailures, func: Callable[..., Any], *args: Any, **kw: Any
    ) -> None:
        """Run ``func``; add any ``ChannelFailures`` it raises to ``failures``."""
        try:
            func(*args, **kw)
        except ChannelFailures as exc:
            failures.add(exc)

    def start(self) -> None:
        """Move to STARTING, publish ``start``, then move to STARTED.

        If a start listener fails the bus logs ``Shutting down due to error in
        start listener:``, stops (``stop`` listeners run, the bus is STOPPED and
        may be started again) and re-raises the first listener's own exception
        (the others are in the log).  wspbus would ``os._exit(70)`` instead.
        """
        _register_started(self)
        with self._lock:
            self._exit_called = False
            self._stopped = False
            self.failed_start_listener = None
            self.state = states.STARTING
        try:
            self.log("Bus STARTING")
            self.publish("start")
        except ChannelFailures as failures:
            first = failures.get_instances()[0]
            self.failed_start_listener = failures.listeners[0]
        except BaseException:  # KeyboardInterrupt, SystemExit: stop, then let it go
            self._collect(
                ChannelFailures(),
                self.log,
                "Shutting down due to error in start listener:",
                level=40,
                traceback=True,
            )
            self._stop_after_failed_start()
            raise
        else:
            with self._lock:
                if self._state is not states.STARTING:
                    # stop() or exit() ran meanwhile (a signal, another thread)
                    return
                self.state = states.STARTED
            # the bus *is* started; a broken log listener must not make it look failed
            self._collect(ChannelFailures(), self.log, "Bus STARTED")
            return
        details = "".join(_traceback.format_exception(first))
        self._collect(
            ChannelFailures(),
            self.log,
            "Shutting down due to error in start listener:\n" + details,
            level=40,
        )
        self._stop_after_failed_start()
        raise first

    def _stop_after_failed_start(self) -> None:
        try:
            self.stop()
        except ChannelFailures:
            pass  # each failure was logged by publish()

    def stop(self) -> None:
        """Move to STOPPING, publish ``stop``, then move to STOPPED.

        The bus reaches STOPPED even if stop listeners fail; their failures are
        raised afterwards as one :class:`ChannelFailures`.
        """
        failures = ChannelFailures()
        self.state = states.STOPPING
        self._collect(failures, self.log, "Bus STOPPING")
        self._collect(failures, self.publish, "stop")
        self.state = states.STOPPED
        self._stopped = True
        self._collect(failures, self.log, "Bus STOPPED")
        if failures:
            raise failures

    def exit(self) -> None:
        """Stop, move to EXITING and publish ``exit``: the process is about to end.

        Runs once: later calls (a second signal, the automatic exit at
        interpreter shutdown) return at once until the bus is started again.
        Stop and exit listener failures do not interrupt the sequence; they
        are raised afterwards as one :class:`ChannelFailures` (wspbus would
        ``os._exit(70)``).
        """
        with self._lock:
            if self._exit_called:
                return
            self._exit_called = True
        failures = ChannelFailures()
        try:
            if not self._stopped:  # stop listeners run once per start (wspbus: again)
                self._collect(failures, self.stop)
            self.state = states.EXITING
            self._collect(failures, self.log, "Bus EXITING")
            self._collect(failures, self.publish, "exit")
            # Not strictly needed, but better than "Waiting for child threads
            # to terminate..." and then nothing.
            self._collect(failures, self.log, "Bus EXITED")
        except BaseException:
            with self._lock:
                if self._state is not states.EXITING:
                    self._exit_called = False  # interrupted: allow another try
            raise
        _forget_started(self)  # nothing left for the automatic exit to do
        if failures:
            raise failures

    def _clean_exit(self) -> None:
        """Exit the bus at interpreter shutdown, warning if it was still running."""
        if self._state is states.EXITING:
            return
        if self._state is not states.STOPPED:
            warnings.warn(
                f"The main thread is exiting, but the Bus is in the {self._state!r} state; "
                "shutting it down automatically now. You must either call "
                "bus.block() after start(), or call bus.exit() before the "
                "main thread exits.",
                RuntimeWarning,
                stacklevel=2,
            )
        self.exit()

    def restart(self) -> None:
        """Exit, and have the main thread's :meth:`block` re-execute the process.

        Callable from any thread (a signal handler, an autoreload monitor): it
        only sets :attr:`execv` and exits; the main thread, waiting in
        :meth:`block`, performs the ``execv`` once every other thread ended.
        """
        self.execv = True
        self.exit()

    def graceful(self) -> None:
        """Publish ``graceful``: advise every service to reload (config, logs)."""
        self.log("Bus graceful")
        self.publish("graceful")

    # -- waiting -----------------------------------------------------------------------
    def wait(
        self,
        state: State | Iterable[State],
        interval: float = 0.1,
        channel: str | None = None,
    ) -> None:
        """Return when the bus is in ``state`` (or one of several states).

        Wakes as soon as the state changes; between changes publishes to
        ``channel`` (if given) every ``interval`` seconds, as wspbus does.
        """
        wanted = {state} if isinstance(state, State) else set(state)
        while True:
            with self._changed:
                if self._state in wanted:
                    return
                self._changed.wait(interval)
                if self._state in wanted:
                    return
            self.publish(channel)

    def block(self, interval: float = 0.1) -> None:
        """Wait for EXITING, then for every other non-daemon thread; re-exec if asked.

        Meant for the main thread.  Ctrl-C (``KeyboardInterrupt``) and
        ``SystemExit`` exit the bus (``SystemExit`` is then re-raised).  While
        waiting it publishes ``main`` every ``interval`` seconds.  After a
        :meth:`restart` it re-executes the process with the same arguments.
        """
        try:
            self.wait(states.EXITING, interval=interval, channel="main")
        except (KeyboardInterrupt, OSError):
            # time.sleep()/lock waits may raise EINTR-style OSErrors on Ctrl-C
            self.log("Keyboard Interrupt: shutting down bus")
            self.exit()
        except SystemExit:
            self.log("SystemExit raised: shutting down bus")
            self.exit()
            raise

        # Let every thread finish before the main thread runs atexit handlers
        # (or execs): required on macOS, polite everywhere.
        self.log("Waiting for child threads to terminate...")
        current = threading.current_thread()
        for thread in threading.enumerate():
            if (
                thread is not current
                and thread is not threading.main_thread()
                and not thread.daemon
            ):
                self.log(f"Waiting for thread {thread.name}.")
                thread.join()

        if self.execv:
            self._do_execv()

    def start_with_callback(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> threading.Thread:
        """Start the bus and then call ``func(*args, **kwargs)`` in a new thread.

        ``func`` runs after every start listener returned, and not at all if
        the start failed (its thread then simply ends).  Returns the thread.
        """
        call_args = args or ()
        call_kwargs = kwargs or {}
        finished = threading.Event()
        succeeded: list[bool] = []

        def callback() -> None:
            finished.wait()
            if succeeded:
                func(*call_args, **call_kwargs)

        thread = threading.Thread(target=callback)
        thread.name = "Bus Callback " + thread.name
        thread.start()
        try:
            self.start()
            succeeded.append(True)
        finally:
            finished.set()
        return thread

    # -- re-execution ------------------------------------------------------------------
    def _do_execv(self) -> None:
        """Re-execute the current process with its original arguments.

        Only the main thread may do this (some platforms, macOS notably, do not
        allow ``execv`` from other threads); :meth:`restart` arranges for it.
        """
        if threading.current_thread() is not threading.main_thread():
            raise BusError(
                "bus restart: execv must run in the main thread; call bus.block() there"
            )
        args = self._get_true_argv()
        self.log("Re-spawning " + " ".join(args))
        self._extend_pythonpath(os.environ)
        if sys.platform == "win32":
            args = [f'"{arg}"' for arg in args]
        os.chdir(_startup_cwd)
        if self.max_cloexec_files:
            self._set_cloexec()
        os.execv(sys.executable, args)

    @staticmethod
    def _get_interpreter_argv() -> list[str]:
        """The interpreter's own options (``-X``, ``-W`` ...), empty when frozen."""
        if getattr(sys, "frozen", False):
            return []
        flags: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
        return flags

    @staticmethod
    def _get_true_argv() -> list[str]:
        """The command line exactly as the interpreter received it.

        ``sys.orig_argv`` keeps ``-c`` code and ``-m`` module names, which
        wspbus has to reconstruct from the C ``argv``.
        """
        orig = list(getattr(sys, "orig_argv", []))
        if orig:
            return orig
        return [sys.executable, *Bus._get_interpreter_argv(), *sys.argv]

    @staticmethod
    def _extend_pythonpath(env: dict[str, str] | os._Environ[str]) -> None:
        """Put the current directory on ``PYTHONPATH`` if ``sys.path[0]`` was ``''``.

        Under ``python -m`` the effective path changes on re-exec; adding
        ``.`` keeps the same modules importable (idea from tornado.autoreload).
        """
        prefix = "." + os.pathsep
        existing = env.get("PYTHONPATH", "")
        if sys.path and sys.path[0] == "" and not existing.startswith(prefix):
            env["PYTHONPATH"] = prefix + existing

    def _set_cloexec(self) -> None:
        """Mark every open descriptor above stderr close-on-exec before a restart.

        Uses the list of open descriptors when the OS offers one (Linux, macOS)
        instead of probing all ``max_cloexec_files`` numbers.  Set
        ``max_cloexec_files = 0`` to disable.
        """
        import fcntl

        fds: Iterable[int]
        for fd_dir in ("/proc/self/fd", "/dev/fd"):
            try:
                fds = sorted(int(name) for name in os.listdir(fd_dir))
                break
            except (OSError, ValueError):
                continue
        else:
            fds = range(3, self.max_cloexec_files)
        for fd in fds:
            if fd < 3 or fd >= self.max_cloexec_files:
                continue
            try:
                flags = fcntl.fcntl(fd, fcntl.F_GETFD)
                fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
            except OSError:
                continue

    # -- fork --------------------------------------------------------------------------
    def _after_fork_in_child(self) -> None:
        """Give a forked child its own STOPPED bus; listeners are kept.

        The locks may have been held by a thread that does not exist in the
        child, so they are replaced, not reused.
        """
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = states.STOPPED
        self._exit_called = False
        self._stopped = False
        self.execv = False
        self._pid = os.getpid()


# -- process-wide bookkeeping -----------------------------------------------------------
#: Every bus alive in this process (for the fork handler).
_all_buses: weakref.WeakSet[Bus] = weakref.WeakSet()
#: Buses started in *this* process and not exited: the atexit handler exits them.
_started: dict[int, Bus] = {}
_started_lock = threading.Lock()
_atexit_registered = False


def _register_started(bus: Bus) -> None:
    global _atexit_registered
    with _started_lock:
        _started[id(bus)] = bus
        if not _atexit_registered:
            atexit.register(_exit_started_buses)
            _atexit_registered = True


def _forget_started(bus: Bus) -> None:
    with _started_lock:
        _started.pop(id(bus), None)


def _exit_started_buses() -> None:
    """At interpreter exit, exit every bus this process started and did not exit."""
    with _started_lock:
        buses = [bus for bus in _started.values() if bus._pid == os.getpid()]
    for bus in buses:
        try:
            bus._clean_exit()
        except Exception:  # noqa: BLE001  (report, and still exit the other buses)
            _traceback.print_exc()


def _reset_after_fork() -> None:
    global _started_lock
    _started_lock = threading.Lock()
    _started.clear()  # the parent's buses are the parent's to exit
    for bus in list(_all_buses):
        bus._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)

_default_bus: Bus | None = None


def __getattr__(name: str) -> Any:
    """``wsgihub.bus.bus``: a process-wide default bus, created on first use.

    wspbus creates ``bus = Bus()`` at import; here it only exists once someone
    asks for it (``from wsgihub.bus import bus``), so importing has no effect.
    """
    global _default_bus
    if name == "bus":
        with _started_lock:
            if _default_bus is None:
                _default_bus = Bus()
        return _default_bus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
