"""Bus plugins: SimplePlugin, signals, PID file, background tasks, autoreload."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from wsgihub.bus import Bus, ChannelFailures, states
from wsgihub.errors import BusError
from wsgihub.process import (
    Autoreloader,
    BackgroundTask,
    Monitor,
    PIDFile,
    SignalHandler,
    SimplePlugin,
)
from wsgihub.process.autoreload import culprit_files, module_files, resolve
from wsgihub.process.pidfile import pid_alive, read_pid

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bus() -> Iterator[Bus]:
    bus = Bus()
    yield bus
    with contextlib.suppress(ChannelFailures):
        bus.exit()


@pytest.fixture
def log(bus: Bus) -> list[str]:
    lines: list[str] = []
    bus.subscribe("log", lambda msg, level=20: lines.append(msg))
    return lines


def python_env(*paths: Path, **extra: str) -> dict[str, str]:
    """Environment for a child Python importing wsgihub from this checkout."""
    env = dict(os.environ)
    parts = [*map(str, paths), str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    env.update(extra)
    return env


class Lines:
    """Read a child's stdout line by line in a thread; wait for lines with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        """The next line that matches ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching line within {timeout}s; saw {self.seen!r}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended; saw {self.seen!r}")
            self.seen.append(line)
            if predicate(line):
                return line

    def has_said(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        """A line that matches ``predicate``: one already read, else the next one."""
        for line in self.seen:
            if predicate(line):
                return line
        return self.wait_for(predicate, timeout)


@contextlib.contextmanager
def child(args: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    """A child process in its own session; it and its children are killed at the end."""
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, text=True, start_new_session=True, **kwargs
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # grandchildren (reloader workers)
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout:
            proc.stdout.close()


# -- SimplePlugin ----------------------------------------------------------------------
class CherryPyStylePlugin(SimplePlugin):
    """Written exactly as a CherryPy SimplePlugin subclass would be."""

    def __init__(self, bus: Bus) -> None:
        SimplePlugin.__init__(self, bus)
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    start.priority = 70  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.calls.append("stop")

    def graceful(self) -> None:
        self.calls.append("graceful")

    def exit(self) -> None:
        self.calls.append("exit")

    def acquire_thread(self) -> None:
        self.calls.append("acquire_thread")

    not_a_channel = "ignored"


def test_simple_plugin_subscribes_methods_named_after_channels(bus: Bus) -> None:
    plugin = CherryPyStylePlugin(bus)
    early: list[str] = []
    bus.subscribe("start", lambda: early.append(f"early sees {plugin.calls}"), priority=60)
    plugin.subscribe()

    bus.start()
    bus.graceful()
    bus.publish("acquire_thread")  # unknown channel when subscribe() ran: not subscribed
    bus.exit()

    assert plugin.calls == ["start", "graceful", "stop", "exit"]
    assert early == ["early sees []"]  # start.priority = 70 ran it after priority 60


def test_simple_plugin_custom_channel_and_unsubscribe(bus: Bus) -> None:
    bus.listeners.setdefault("acquire_thread", set())  # how CherryPy's ThreadManager does it
    plugin = CherryPyStylePlugin(bus)
    plugin.subscribe()
    bus.publish("acquire_thread")
    plugin.unsubscribe()
    bus.publish("acquire_thread")
    bus.start()
    assert plugin.calls == ["acquire_thread"]
    assert all(not listeners for listeners in bus.listeners.values())


# -- SignalHandler ---------------------------------------------------------------------
SIGNAL_SCRIPT = """
import os
from wsgihub.bus import Bus
from wsgihub.process import SignalHandler

bus = Bus()
# one os.write per line, so lines from different threads never interleave
bus.subscribe("log", lambda msg, level: os.write(1, f"LOG {msg.splitlines()[0]}\\n".encode()))
bus.subscribe("stop", lambda: os.write(1, b"stop listener ran\\n"))
bus.subscribe("exit", lambda: os.write(1, b"exit listener ran\\n"))
bus.subscribe("graceful", lambda: os.write(1, b"graceful listener ran\\n"))
SignalHandler(bus).subscribe()
bus.start()
print("READY", flush=True)
bus.block()
print("block returned", flush=True)
"""


@pytest.mark.live
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_exit_the_bus_cleanly(tmp_path: Path, signum: int) -> None:
    with child(
        [sys.executable, "-c", SIGNAL_SCRIPT], env=python_env(), cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        lines = Lines(proc.stdout)
        lines.wait_for(lambda line: line == "READY")
        os.kill(proc.pid, signum)
        assert proc.wait(15) == 0
        lines.wait_for(lambda line: line == "block returned")
    name = signal.Signals(signum).name
    seen = lines.seen
    assert f"LOG Caught signal {name}." in seen
    assert seen.index("stop listener ran") < seen.index("exit listener ran")
    assert seen.index("LOG Bus EXITED") < seen.index("block returned")


@pytest.mark.live
def test_sighup_detached_from_a_terminal_restarts_the_process(tmp_path: Path) -> None:
    script = "import os\nprint('RUN', os.environ.get('RUNS', '1'), flush=True)\n"
    script += "os.environ['RUNS'] = '2'\n" + SIGNAL_SCRIPT
    with child(
        [sys.executable, "-c", script], env=python_env(), cwd=tmp_path, stdin=subprocess.DEVNULL
    ) as proc:
        assert proc.stdout is not None
        lines = Lines(proc.stdout)
        lines.wait_for(lambda line: line == "READY")
        os.kill(proc.pid, signal.SIGHUP)
        lines.wait_for(lambda line: line == "RUN 2")  # same pid, re-executed
        lines.wait_for(lambda line: line == "READY")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    assert "LOG SIGHUP caught while detached from a terminal: restarting." in lines.seen
    assert any(line.startswith("LOG Re-spawning ") for line in lines.seen)


@pytest.mark.live
def test_sighup_on_a_terminal_is_graceful(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        with child(
            [sys.executable, "-c", SIGNAL_SCRIPT], env=python_env(), cwd=tmp_path, stdin=terminal
        ) as proc:
            assert proc.stdout is not None
            lines = Lines(proc.stdout)
            lines.wait_for(lambda line: line == "READY")
            os.kill(proc.pid, signal.SIGHUP)
            lines.wait_for(lambda line: line == "graceful listener ran")
            assert proc.poll() is None  # still running
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(15) == 0
    finally:
        os.close(controller)
        os.close(terminal)
    assert "LOG SIGHUP caught while attached to a terminal: graceful." in lines.seen
    assert not any(line.startswith("LOG Re-spawning") for line in lines.seen)


def test_signal_handler_handles_real_signals_and_restores_previous_handlers(
    bus: Bus, log: list[str]
) -> None:
    names = ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1")
    before = {name: signal.getsignal(getattr(signal, name)) for name in names}
    graceful: list[str] = []
    bus.subscribe("graceful", lambda: graceful.append("graceful"))
    handler = SignalHandler(bus)
    handler.subscribe()
    try:
        for name in names:
            assert signal.getsignal(getattr(signal, name)) == handler._handle_signal
        signal.raise_signal(signal.SIGUSR1)  # a real signal to this process
        assert graceful == ["graceful"]
        assert "Caught signal SIGUSR1." in log
        assert bus.state is states.STOPPED  # graceful is not a transition
    finally:
        handler.unsubscribe()
    assert {name: signal.getsignal(getattr(signal, name)) for name in names} == before
    assert not bus.listeners.get("SIGTERM")


def test_signal_handler_leaves_ignored_signals_ignored(bus: Bus, log: list[str]) -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # like nohup / hupper workers
    handler = SignalHandler(bus)
    try:
        handler.subscribe()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert "Leaving SIGHUP ignored, as it was when we started." in log
    finally:
        handler.unsubscribe()
        signal.signal(signal.SIGHUP, previous)


def test_signal_handler_installs_nothing_outside_the_main_thread(
    bus: Bus, log: list[str]
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    handler = SignalHandler(bus)
    thread = threading.Thread(target=handler.subscribe)
    thread.start()
    thread.join()
    assert signal.getsignal(signal.SIGTERM) == before
    assert log == ["Signal handlers not installed: not in the main thread."]


def test_set_handler_rejects_unknown_signals(bus: Bus) -> None:
    handler = SignalHandler(bus)
    with pytest.raises(ValueError, match="No such signal: 'SIGNOPE'"):
        handler.set_handler("SIGNOPE")


# -- PIDFile ---------------------------------------------------------------------------
def test_pid_file_written_on_start_and_removed_on_exit(
    bus: Bus, log: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "site.pid"
    PIDFile(bus, path).subscribe()
    bus.start()
    assert path.read_text() == f"{os.getpid()}\n"
    bus.stop()
    bus.start()  # a second start in the same process keeps the file
    assert f"PID {os.getpid()!r} already written to {str(path)!r}." in log
    bus.exit()
    assert not path.exists()
    assert f"PID file removed: {str(path)!r}." in log
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary files left


@pytest.mark.live
def test_pid_file_held_by_a_live_process_refuses_to_start(bus: Bus, tmp_path: Path) -> None:
    path = tmp_path / "site.pid"
    calls: list[str] = []
    bus.subscribe("stop", lambda: calls.append("stop"))
    PIDFile(bus, path).subscribe()
    with child([sys.executable, "-c", "import signal; signal.pause()"]) as other:
        path.write_text(f"{other.pid}\n")
        with pytest.raises(BusError) as info:
            bus.start()
        message = str(info.value)
        assert str(path) in message and str(other.pid) in message
        assert "\n" not in message
        assert bus.state is states.STOPPED and calls == ["stop"]
        assert read_pid(path) == other.pid  # untouched
        bus.exit()
        assert read_pid(path) == other.pid  # not ours: not removed


@pytest.mark.live
@pytest.mark.parametrize("content", ["dead-pid", "garbage", "empty"])
def test_stale_pid_file_is_replaced(
    bus: Bus, log: list[str], tmp_path: Path, content: str
) -> None:
    path = tmp_path / "site.pid"
    if content == "dead-pid":
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
        dead = int(gone.stdout)
        assert not pid_alive(dead)
        path.write_text(f"{dead}\n")
    else:
        path.write_text("not a pid\n" if content == "garbage" else "")
    PIDFile(bus, path).subscribe()
    bus.start()
    assert read_pid(path) == os.getpid()
    assert any(line.startswith(f"Replacing stale PID file {str(path)!r}") for line in log)


def test_pid_alive_knows_this_process_and_rejects_nonsense() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(0) and not pid_alive(-5)


# -- BackgroundTask / Monitor ----------------------------------------------------------
def test_monitor_runs_while_started_and_stops_on_stop(bus: Bus, log: list[str]) -> None:
    ticks: list[float] = []
    third_tick = threading.Event()

    def tick() -> None:
        ticks.append(time.monotonic())
        if len(ticks) == 3:
            third_tick.set()

    monitor = Monitor(bus, tick, frequency=0.02, name="ticker")
    monitor.subscribe()
    assert ticks == []  # nothing before start

    bus.start()
    thread = monitor.thread
    assert thread is not None and thread.daemon and thread.name == "ticker"
    assert third_tick.wait(10), f"{len(ticks)} ticks in 10 s at 0.02 s"

    bus.stop()
    # stop() joined the only thread that calls tick(): nothing can add a call after this.
    assert monitor.thread is None and not thread.is_alive()
    count = len(ticks)
    assert len(ticks) == count  # no call after stop
    assert "Started monitor thread 'ticker'." in log and "Stopped thread 'ticker'." in log


def test_monitor_graceful_replaces_the_thread(bus: Bus) -> None:
    monitor = Monitor(bus, lambda: None, frequency=0.05)
    monitor.subscribe()
    bus.start()
    first = monitor.thread
    bus.graceful()
    assert monitor.thread is not None and monitor.thread is not first
    assert first is not None and not first.is_alive()


def test_monitor_with_zero_frequency_starts_no_thread(bus: Bus) -> None:
    monitor = Monitor(bus, lambda: None, frequency=0)
    monitor.subscribe()
    bus.start()
    assert monitor.thread is None


def test_background_task_reports_an_error_once_and_ends(bus: Bus, log: list[str]) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("task failed")

    task = BackgroundTask(0.01, broken, bus=bus)
    task.start()
    task.join(5)
    assert not task.is_alive() and not task.running
    assert calls == [1]
    errors = [line for line in log if line.startswith("Error in background task thread")]
    assert len(errors) == 1 and "RuntimeError: task failed" in errors[0]


def test_background_task_cancel_is_immediate() -> None:
    calls: list[int] = []
    task = BackgroundTask(30, lambda: calls.append(1))
    task.start()
    assert task.running
    began = time.monotonic()
    task.cancel()
    task.join(10)
    assert not task.is_alive()
    assert time.monotonic() - began < 5  # CherryPy's would sleep out the 30 s interval
    assert calls == []


# -- autoreload ------------------------------------------------------------------------
def test_module_files_and_resolve(tmp_path: Path) -> None:
    import wsgihub.process as package
    from wsgihub.process import tasks

    assert module_files([tasks]) == [tasks.__file__]
    files = module_files(["wsgihub.process", "not.imported.anywhere"])
    assert package.__file__ in files and tasks.__file__ in files
    assert resolve("wsgihub.process.autoreload:module_files") is module_files
    assert resolve("wsgihub.process.autoreload.module_files") is module_files
    with pytest.raises(ValueError, match="not a dotted path"):
        resolve("module_files")


def test_autoreloader_outside_a_reloader_only_logs(bus: Bus, log: list[str]) -> None:
    Autoreloader(bus, modules=["wsgihub.bus"]).subscribe()
    bus.start()
    assert any(line.startswith("Autoreloader: not running under a reloader") for line in log)


WORKER = """
import os
import helper
from wsgihub.bus import Bus
from wsgihub.process import Autoreloader, SignalHandler


def main():
    bus = Bus()
    SignalHandler(bus).subscribe()
    Autoreloader(bus, modules=["helper"], files=["data.cfg"]).subscribe()
    bus.subscribe("exit", lambda: print("child exit", os.getpid(), flush=True))
    bus.start()
    print("child started", os.getpid(), helper.VALUE, flush=True)
    bus.block()
"""


# hupper's polling monitor, in the reloader parent (HUPPER_DEFAULT_MONITOR names it), saying
# on stdout when it has first recorded a file's mtime: a change before that would be taken
# for the file's first state and never reload.  The test waits for this line, not a time.
RECORDING_MONITOR = """
import os
from hupper.polling import PollingFileMonitor


class RecordingMonitor(PollingFileMonitor):
    def check_reload(self, paths):
        new = [path for path in paths if path not in self.mtimes]
        super().check_reload(paths)
        for path in new:
            os.write(1, f"monitor recorded {os.path.basename(path)}\\n".encode())
"""


def touch(path: Path, content: str, step: int) -> None:
    """Rewrite ``path`` and move its mtime clearly forward (pollers compare mtimes)."""
    path.write_text(content)
    stamp = time.time() + 100 * step
    os.utime(path, (stamp, stamp))


@pytest.mark.live
def test_reloader_parent_restarts_a_fresh_child_when_a_watched_file_changes(
    tmp_path: Path,
) -> None:
    (tmp_path / "worker.py").write_text(textwrap.dedent(WORKER))
    (tmp_path / "helper.py").write_text("VALUE = 'one'\n")
    (tmp_path / "data.cfg").write_text("a\n")
    (tmp_path / "watched.txt").write_text("a\n")
    (tmp_path / "recording_monitor.py").write_text(textwrap.dedent(RECORDING_MONITOR))
    parent_code = (
        "from wsgihub.process import run_with_reloader\n"
        "run_with_reloader('worker.main', extra_files=['watched.txt'], interval=0.2, verbose=0)\n"
    )
    env = python_env(tmp_path, HUPPER_DEFAULT_MONITOR="recording_monitor.RecordingMonitor")
    with child(
        [sys.executable, "-c", parent_code], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL
    ) as parent:
        assert parent.stdout is not None
        lines = Lines(parent.stdout)

        def started() -> tuple[int, str]:
            line = lines.wait_for(lambda text: text.startswith("child started"))
            _, _, pid, value = line.split()
            return int(pid), value

        pids: list[int] = []
        for step, (changed, content) in enumerate(
            [
                ("watched.txt", "b\n"),          # run_with_reloader(extra_files=...)
                ("data.cfg", "b\n"),             # Autoreloader(files=...)
                ("helper.py", "VALUE = 'two'\n"),  # modules=... (hupper finds it too)
            ],
            start=1,
        ):
            pid, _value = started()
            assert pid != parent.pid and pid not in pids
            pids.append(pid)
            # The parent's monitor knows the file's current mtime (now or at an earlier step:
            # it keeps them across children), so the change below is seen as one.
            lines.has_said(lambda text, name=changed: text == f"monitor recorded {name}")
            touch(tmp_path / changed, content, step)
            lines.wait_for(lambda text, pid=pid: text == f"child exit {pid}")  # via SIGTERM
        pid, value = started()
        assert pid not in pids
        assert value == "two"  # the fresh child imported the new code

        os.kill(parent.pid, signal.SIGTERM)
        assert parent.wait(15) == 0
        last = f"child exit {pid}"
        lines.wait_for(lambda text: text == last)


def test_culprit_files_are_the_users_files_an_error_points_at(tmp_path: Path) -> None:
    """What --reload watches for a fix: a module that does not compile (no frame of its own),
    a module whose import raised, through the whole chain; not the standard library,
    site-packages or wsgihub's own files."""
    (tmp_path / "r_not_compiling.py").write_text("def broken(:\n")
    (tmp_path / "r_raising.py").write_text("import r_helper\n")
    (tmp_path / "r_helper.py").write_text("raise RuntimeError('no database')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        found = []
        for name in ("r_not_compiling", "r_raising"):
            try:
                try:
                    __import__(name)
                except Exception as exc:
                    raise BusError(f"importing {name!r} failed") from exc  # one line, as wsgihub reports
            except BusError as exc:
                found.append(culprit_files(exc))
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("r_not_compiling", "r_raising", "r_helper"):
            sys.modules.pop(name, None)
    real, here = tmp_path.resolve(), str(Path(__file__).resolve())  # (this test's frame is a user's file too)
    assert found == [
        [here, str(real / "r_not_compiling.py")],
        [here, str(real / "r_raising.py"), str(real / "r_helper.py")],
    ]
    try:
        json.loads("{")
    except ValueError as exc:
        assert culprit_files(exc) == [here]  # json's own files are left out
