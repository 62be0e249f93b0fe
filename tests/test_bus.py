"""The process bus: states, channels, priorities, failures, waiting, threads, fork."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wsgihub.bus
from wsgihub.bus import Bus, ChannelFailures, State, logging_listener, states

ROOT = Path(__file__).resolve().parents[1]


class LogLines(list[str]):
    """Every message the bus logs, in order."""


@pytest.fixture
def bus() -> Iterator[Bus]:
    bus = Bus()
    yield bus
    with contextlib.suppress(ChannelFailures):  # tests may leave broken listeners behind
        bus.exit()


@pytest.fixture
def log(bus: Bus) -> LogLines:
    lines = LogLines()
    bus.subscribe("log", lambda msg, level=20: lines.append(msg))
    return lines


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that must import wsgihub from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_script(tmp_path: Path, source: str, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=python_env(),
        check=False,
    )


# -- states ----------------------------------------------------------------------------
def test_states_are_named_singletons_shown_like_wspbus() -> None:
    bus = Bus()
    assert bus.state is states.STOPPED
    assert bus.states is states
    assert [s.name for s in states] == ["STOPPED", "STARTING", "STARTED", "STOPPING", "EXITING"]
    assert repr(states.STARTED) == "states.STARTED"
    assert bus.state_name == "STOPPED"
    assert repr(bus) == "<Bus STOPPED>"
    assert isinstance(states.EXITING, State)


def test_each_transition_publishes_its_channel_in_its_state(bus: Bus, log: LogLines) -> None:
    seen: list[tuple[str, str]] = []
    for channel in ("start", "stop", "exit", "graceful"):
        bus.subscribe(channel, lambda c=channel: seen.append((c, bus.state_name)))

    bus.start()
    assert bus.state is states.STARTED
    bus.graceful()
    bus.stop()
    assert bus.state is states.STOPPED
    bus.exit()
    assert bus.state is states.EXITING

    assert seen == [
        ("start", "STARTING"),
        ("graceful", "STARTED"),
        ("stop", "STOPPING"),  # once: exit() after stop() does not stop again
        ("exit", "EXITING"),
    ]
    assert log == [
        "Bus STARTING",
        "Bus STARTED",
        "Bus graceful",
        "Bus STOPPING",
        "Bus STOPPED",
        "Bus EXITING",
        "Bus EXITED",
    ]


# -- channels and priorities ----------------------------------------------------------
class Listener:
    """A callable whose hash is chosen so that a set would reverse insertion order."""

    def __init__(self, index: int, calls: list[int]) -> None:
        self.index = index
        self.calls = calls

    def __hash__(self) -> int:
        return 1000 - self.index

    def __call__(self) -> None:
        self.calls.append(self.index)


def test_lower_priority_first_and_equal_priorities_in_subscription_order(bus: Bus) -> None:
    calls: list[int] = []
    listeners = [Listener(i, calls) for i in range(40)]
    for listener in listeners:
        bus.subscribe("custom", listener)  # all priority 50
    bus.subscribe("custom", Listener(100, calls), priority=10)
    bus.subscribe("custom", Listener(200, calls), priority=90)

    bus.publish("custom")

    assert calls == [100, *range(40), 200]


def test_priority_comes_from_the_callback_attribute_unless_given(bus: Bus) -> None:
    calls: list[str] = []

    def late() -> None:
        calls.append("late")

    late.priority = 80  # type: ignore[attr-defined]

    def early() -> None:
        calls.append("early")

    early.priority = 80  # type: ignore[attr-defined]

    bus.subscribe("start", late)
    bus.subscribe("start", early, priority=5)
    bus.subscribe("start", lambda: calls.append("default"))
    bus.publish("start")
    assert calls == ["early", "default", "late"]


def test_subscribe_as_a_decorator_returns_the_function(bus: Bus) -> None:
    calls: list[str] = []

    @bus.subscribe("ping", priority=1)
    def first(arg: str) -> str:
        calls.append("first " + arg)
        return "one"

    @bus.subscribe("ping")
    def second(arg: str) -> str:
        calls.append("second " + arg)
        return "two"

    assert callable(first) and first.__name__ == "first"
    assert bus.publish("ping", "x") == ["one", "two"]
    assert calls == ["first x", "second x"]


def test_subscribing_twice_calls_once_and_updates_the_priority(bus: Bus) -> None:
    calls: list[str] = []

    def a() -> None:
        calls.append("a")

    def b() -> None:
        calls.append("b")

    bus.subscribe("custom", a, priority=10)
    bus.subscribe("custom", b, priority=20)
    bus.subscribe("custom", a, priority=30)
    bus.publish("custom")
    assert calls == ["b", "a"]


def test_unsubscribe_removes_and_tolerates_unknown(bus: Bus) -> None:
    calls: list[str] = []

    def a() -> None:
        calls.append("a")

    bus.subscribe("custom", a)
    bus.unsubscribe("custom", a)
    bus.unsubscribe("custom", a)
    bus.unsubscribe("never", a)
    bus.publish("custom")
    assert calls == []
    assert a not in bus.listeners["custom"]


def test_publish_passes_arguments_and_returns_results(bus: Bus) -> None:
    bus.subscribe("add", lambda x, y=0: x + y, priority=1)
    bus.subscribe("add", lambda x, y=0: x * y, priority=2)
    assert bus.publish("add", 3, y=4) == [7, 12]
    assert bus.publish("nobody-listens") == []
    assert bus.publish(None) == []


def test_builtin_channels_are_known_before_any_subscription() -> None:
    assert set(Bus().listeners) == {"start", "stop", "exit", "graceful", "log", "main"}


# -- failures --------------------------------------------------------------------------
def test_failing_listeners_are_collected_and_the_others_still_run(
    bus: Bus, log: LogLines
) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise ValueError("broken")

    def also_broken() -> None:
        raise KeyError("also")

    bus.subscribe("custom", broken, priority=1)
    bus.subscribe("custom", lambda: calls.append("ok"), priority=2)
    bus.subscribe("custom", also_broken, priority=3)

    with pytest.raises(ChannelFailures) as info:
        bus.publish("custom")

    failures = info.value
    assert calls == ["ok"]
    assert [type(e) for e in failures.get_instances()] == [ValueError, KeyError]
    assert bool(failures) is True
    assert str(failures) == "ValueError('broken')\nKeyError('also')"
    assert repr(failures) == str(failures)
    errors = [line for line in log if line.startswith("Error in 'custom' listener")]
    assert len(errors) == 2
    assert "Traceback" in errors[0] and "ValueError: broken" in errors[0]


def test_channel_failures_keeps_wspbus_contract() -> None:
    assert issubclass(ChannelFailures, Exception)
    empty = ChannelFailures()
    assert not empty and empty.get_instances() == []
    try:
        raise RuntimeError("x")
    except RuntimeError:
        empty.handle_exception()
    assert empty and isinstance(empty.get_instances()[0], RuntimeError)
    copy = empty.get_instances()
    copy.clear()
    assert empty.get_instances()  # a copy was returned


def test_keyboard_interrupt_stops_publishing_at_once(bus: Bus) -> None:
    calls: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    bus.subscribe("custom", interrupt, priority=1)
    bus.subscribe("custom", lambda: calls.append("after"), priority=2)
    with pytest.raises(KeyboardInterrupt):
        bus.publish("custom")
    assert calls == []


def test_system_exit_zero_after_failures_becomes_one(bus: Bus) -> None:
    def broken() -> None:
        raise ValueError

    bus.subscribe("custom", broken, priority=1)
    bus.subscribe("custom", lambda: sys.exit(0), priority=2)
    with pytest.raises(SystemExit) as info:
        bus.publish("custom")
    assert info.value.code == 1


def test_failing_start_listener_stops_the_bus_and_reraises_the_original(
    bus: Bus, log: LogLines
) -> None:
    calls: list[str] = []
    error = OSError(98, "Address already in use")

    def bind() -> None:
        raise error

    bus.subscribe("start", bind, priority=10)
    bus.subscribe("start", lambda: calls.append("later start listener"), priority=20)
    bus.subscribe("stop", lambda: calls.append("stop"))
    bus.subscribe("exit", lambda: calls.append("exit"))

    with pytest.raises(OSError) as info:
        bus.start()

    assert info.value is error  # the listener's own exception, not a wrapper
    assert bus.state is states.STOPPED
    assert calls == ["later start listener", "stop"]
    assert "Bus STARTED" not in log
    shutdown = [line for line in log if line.startswith("Shutting down due to error in start")]
    assert len(shutdown) == 1 and "Address already in use" in shutdown[0]
    assert log[-2:] == ["Bus STOPPING", "Bus STOPPED"]

    # the process is still here and the bus can be started once the cause is fixed
    bus.unsubscribe("start", bind)
    bus.start()
    assert bus.state is states.STARTED


def test_interrupted_start_stops_then_propagates(bus: Bus) -> None:
    calls: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    bus.subscribe("start", interrupt)
    bus.subscribe("stop", lambda: calls.append("stop"))
    with pytest.raises(KeyboardInterrupt):
        bus.start()
    assert bus.state is states.STOPPED
    assert calls == ["stop"]


def test_exit_during_start_is_not_overwritten_by_started(bus: Bus, log: LogLines) -> None:
    bus.subscribe("start", bus.exit)  # like SIGTERM arriving while starting
    bus.start()
    assert bus.state is states.EXITING
    assert "Bus STARTED" not in log


def test_a_broken_log_listener_cannot_leave_the_bus_half_way(bus: Bus) -> None:
    def broken_log(msg: str, level: int) -> None:
        raise ValueError("log broken")

    bus.subscribe("log", broken_log)
    with pytest.raises(ValueError, match="log broken"):
        bus.start()  # "Bus STARTING" cannot be logged: a failed start, cleaned up
    assert bus.state is states.STOPPED
    with pytest.raises(ChannelFailures):
        bus.exit()
    assert bus.state is states.EXITING


def test_stop_reaches_stopped_even_if_a_listener_fails(bus: Bus, log: LogLines) -> None:
    def broken() -> None:
        raise RuntimeError("stop failed")

    bus.subscribe("stop", broken)
    with pytest.raises(ChannelFailures):
        bus.stop()
    assert bus.state is states.STOPPED
    assert log[-1] == "Bus STOPPED"


def test_exit_runs_once(bus: Bus, log: LogLines) -> None:
    calls: list[str] = []
    bus.subscribe("stop", lambda: calls.append("stop"))
    bus.subscribe("exit", lambda: calls.append("exit"))
    bus.start()
    bus.exit()
    bus.exit()
    bus.restart()  # also an exit: nothing more happens
    assert calls == ["stop", "exit"]
    assert log.count("Bus EXITED") == 1

    bus.start()  # a new life: exit works again
    bus.exit()
    assert calls == ["stop", "exit", "stop", "exit"]


def test_exit_completes_despite_failures_and_reports_them_all(bus: Bus, log: LogLines) -> None:
    calls: list[str] = []

    def broken_stop() -> None:
        raise RuntimeError("stop")

    def broken_exit() -> None:
        raise RuntimeError("exit")

    bus.subscribe("stop", broken_stop)
    bus.subscribe("exit", broken_exit, priority=1)
    bus.subscribe("exit", lambda: calls.append("exit"), priority=2)
    with pytest.raises(ChannelFailures) as info:
        bus.exit()
    assert [str(e) for e in info.value.get_instances()] == ["stop", "exit"]
    assert calls == ["exit"]
    assert bus.state is states.EXITING
    assert log[-1] == "Bus EXITED"


def test_concurrent_exits_run_the_exit_listeners_once(bus: Bus) -> None:
    calls: list[str] = []
    overlapped: list[bool] = []
    gate = threading.Barrier(8)
    returned = threading.Semaphore(0)

    def held_exit() -> None:
        calls.append("exit")
        # Stay in the exit listener until the seven other exit() calls came back.
        overlapped.append(all(returned.acquire(timeout=10) for _ in range(7)))

    bus.subscribe("exit", held_exit)

    def exit_now() -> None:
        gate.wait()
        bus.exit()
        returned.release()

    threads = [threading.Thread(target=exit_now) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["exit"]
    assert overlapped == [True]  # they returned while the one exit was still running


# -- waiting ---------------------------------------------------------------------------
def test_wait_wakes_on_the_state_change_not_the_interval(bus: Bus) -> None:
    # Time is the subject: the state changes 50 ms into a wait whose interval is 30 s.
    timer = threading.Timer(0.05, bus.start)
    began = time.monotonic()
    timer.start()
    bus.wait(states.STARTED, interval=30)
    elapsed = time.monotonic() - began
    timer.join()
    assert bus.state is states.STARTED
    assert elapsed < 10  # a polling wait would sleep the whole 30 s interval


def test_wait_accepts_several_states_and_returns_at_once_if_there(bus: Bus) -> None:
    bus.wait([states.STOPPED, states.EXITING], interval=30)
    # As above: EXITING comes 50 ms into a 30 s interval (a late timer only makes it easier).
    timer = threading.Timer(0.05, bus.exit)
    timer.start()
    bus.wait((states.STARTED, states.EXITING), interval=30)
    timer.join()
    assert bus.state is states.EXITING


def test_wait_publishes_the_channel_every_interval(bus: Bus) -> None:
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(time.monotonic())
        if len(ticks) == 3:
            bus.start()  # from inside the wait: it returns after this publication

    bus.subscribe("main", tick)
    bus.wait(states.STARTED, interval=0.02, channel="main")
    assert len(ticks) == 3
    # Time is the subject here: one publication per interval, not a busy loop.
    assert all(later - earlier >= 0.015 for earlier, later in itertools.pairwise(ticks))


def test_block_returns_when_another_thread_exits_and_joins_threads(
    bus: Bus, log: LogLines
) -> None:
    finished: list[str] = []
    joining = threading.Event()

    def worker() -> None:
        # Still running when block() says it waits for this thread, and only then ends.
        joining.wait(10)
        finished.append("worker")

    def on_log(msg: str, level: int = 20) -> None:
        if msg == "Waiting for thread slow-worker.":
            joining.set()

    bus.subscribe("log", on_log)
    bus.start()
    helper = threading.Thread(target=worker, name="slow-worker")
    helper.start()
    threading.Thread(target=bus.exit, name="exiter").start()

    bus.block(interval=30)

    assert bus.state is states.EXITING
    assert joining.is_set() and finished == ["worker"]  # block() waited for the thread
    assert not helper.is_alive()
    waiting = log.index("Waiting for child threads to terminate...")
    assert "Waiting for thread slow-worker." in log[waiting + 1 :]
    # The exiting thread may still log its last lines while block() joins the threads.
    exiter_lines = {"Bus EXITING", "Bus EXITED"}
    assert exiter_lines <= set(log)
    assert all(
        line.startswith("Waiting for thread ") or line in exiter_lines
        for line in log[waiting + 1 :]
    )


def test_block_turns_keyboard_interrupt_into_exit(bus: Bus, log: LogLines) -> None:
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    bus.subscribe("main", ctrl_c)
    bus.start()
    bus.block(interval=0.01)
    assert bus.state is states.EXITING
    assert "Keyboard Interrupt: shutting down bus" in log


def test_block_exits_and_reraises_system_exit(bus: Bus, log: LogLines) -> None:
    bus.subscribe("main", lambda: sys.exit(3))
    bus.start()
    with pytest.raises(SystemExit):
        bus.block(interval=0.01)
    assert bus.state is states.EXITING
    assert "SystemExit raised: shutting down bus" in log


def test_start_with_callback_runs_after_the_start_listeners(bus: Bus) -> None:
    events: list[Any] = []
    bus.subscribe("start", lambda: events.append("start listener"))
    thread = bus.start_with_callback(lambda *a, **kw: events.append((a, kw)), (1, 2), {"k": 3})
    thread.join(5)
    assert not thread.is_alive()
    assert thread.name.startswith("Bus Callback ")
    assert events == ["start listener", ((1, 2), {"k": 3})]


def test_start_with_callback_skips_the_callback_when_start_fails(bus: Bus) -> None:
    events: list[str] = []

    def broken() -> None:
        raise RuntimeError("no")

    bus.subscribe("start", broken)
    with pytest.raises(RuntimeError):
        bus.start_with_callback(lambda: events.append("called"))
    callbacks = [t for t in threading.enumerate() if t.name.startswith("Bus Callback")]
    for t in callbacks:
        t.join(5)
        assert not t.is_alive()  # not left waiting for a STARTED that never comes
    assert events == []


# -- threads ---------------------------------------------------------------------------
def test_subscribe_and_publish_from_many_threads(bus: Bus) -> None:
    calls: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    per_thread = 200
    gate = threading.Barrier(9)

    def subscriber(n: int) -> None:
        gate.wait()
        for i in range(per_thread):
            bus.subscribe("busy", lambda n=n, i=i: calls.append((n, i)))

    def publisher() -> None:
        gate.wait()
        try:
            for _ in range(300):
                bus.publish("busy")
        except Exception as exc:  # noqa: BLE001  (e.g. Set changed size during iteration)
            errors.append(exc)

    threads = [threading.Thread(target=subscriber, args=(n,)) for n in range(8)]
    threads.append(threading.Thread(target=publisher))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    calls.clear()
    bus.publish("busy")
    assert len(calls) == 8 * per_thread
    for n in range(8):  # each thread's listeners run in the order it subscribed them
        assert [i for m, i in calls if m == n] == list(range(per_thread))


# -- restart ---------------------------------------------------------------------------
def test_restart_from_another_thread_only_flags_and_exits(bus: Bus) -> None:
    bus.start()
    thread = threading.Thread(target=bus.restart)
    thread.start()
    thread.join()
    assert bus.execv is True
    assert bus.state is states.EXITING


@pytest.mark.live
@pytest.mark.parametrize("how", ["script", "-c"])
def test_restart_reexecutes_the_process_from_the_main_thread(tmp_path: Path, how: str) -> None:
    source = """
        import os, sys, threading
        from wsgihub.bus import Bus

        if os.environ.get("BUS_RUN") == "2":
            print("second run", sys.argv[1:], threading.current_thread().name, flush=True)
            sys.exit(0)
        os.environ["BUS_RUN"] = "2"
        bus = Bus()
        # one os.write per line: print() from two threads can interleave pieces
        bus.subscribe("log", lambda msg, level: os.write(1, f"LOG {msg}\\n".encode()))
        bus.start()
        threading.Thread(target=bus.restart, name="restarter").start()
        bus.block()
        print("not reached", flush=True)
    """
    if how == "script":
        result = run_script(tmp_path, source, "--flag", "x")
        expected = "second run ['--flag', 'x'] MainThread"
    else:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(source), "--flag"],
            capture_output=True, text=True, timeout=20, cwd=tmp_path, env=python_env(),
            check=False,
        )
        expected = "second run ['--flag'] MainThread"
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert expected in lines
    assert "not reached" not in lines
    assert any(line.startswith("LOG Re-spawning ") for line in lines)
    assert lines.index("LOG Bus EXITED") < lines.index(expected)


# -- fork ------------------------------------------------------------------------------
@pytest.mark.live
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_fresh_stopped_bus(bus: Bus) -> None:
    read_end, write_end = os.pipe()

    def report_exit() -> None:
        os.write(write_end, f"exit in {os.getpid()}\n".encode())

    bus.subscribe("exit", report_exit)
    bus.start()
    holder_ready, release_holder = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # a thread owns the bus lock at the moment of fork
        with bus._lock:
            holder_ready.set()
            release_holder.wait()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holder_ready.wait()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, never return into pytest
        code = 1
        try:
            os.close(read_end)
            report = [f"state {bus.state_name}"]
            bus.start()  # would deadlock on the inherited, held lock
            report.append(f"restarted {bus.state_name}")
            bus.exit()
            os.write(write_end, ("\n".join(report) + "\n").encode())
            code = 0
        finally:
            os._exit(code)
    release_holder.set()
    holder.join()
    bus.unsubscribe("exit", report_exit)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        report = pipe.read().splitlines()
    assert os.waitstatus_to_exitcode(status) == 0
    assert report == [f"exit in {pid}", "state STOPPED", "restarted STARTED"]
    assert bus.state is states.STARTED  # the parent's bus is untouched


@pytest.mark.live
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_never_runs_the_parents_automatic_exit(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import os, sys
        from wsgihub.bus import Bus

        bus = Bus()
        bus.subscribe("exit", lambda: print("exit listener ran in", os.getpid(), flush=True))
        bus.start()
        pid = os.fork()
        if pid == 0:
            print("child", os.getpid(), "sees", bus.state_name, flush=True)
            sys.exit(0)  # a normal shutdown: atexit handlers run in the child
        os.waitpid(pid, 0)
        print("parent", os.getpid(), flush=True)
        # the parent leaves without bus.exit(): the automatic exit does it
        """,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    parent = next(line.split()[1] for line in lines if line.startswith("parent "))
    assert [line for line in lines if line.startswith("exit listener")] == [
        f"exit listener ran in {parent}"
    ]
    assert any(line.startswith("child ") and line.endswith("sees STOPPED") for line in lines)
    assert "shutting it down automatically now" in result.stderr  # wspbus's warning


# -- log -------------------------------------------------------------------------------
def test_log_publishes_message_and_level_with_optional_traceback(bus: Bus) -> None:
    got: list[tuple[str, int]] = []
    bus.subscribe("log", lambda msg, level: got.append((msg, level)))
    bus.log("hello")
    bus.log("warn", level=30)
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError:
        bus.log("lost", traceback=True)
    assert got[:2] == [("hello", 20), ("warn", 30)]
    msg, level = got[2]
    assert msg.startswith("lost\nTraceback") and "KeyError: 'missing'" in msg
    assert level == 20


def test_logging_listener_forwards_to_the_logging_module(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    bus.subscribe("log", logging_listener())
    with caplog.at_level("INFO", logger="wsgihub.bus"):
        bus.start()
        bus.log("careful", level=30)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "Bus STARTING"),
        ("INFO", "Bus STARTED"),
        ("WARNING", "careful"),
    ]


def test_module_offers_a_lazily_created_default_bus() -> None:
    first = wsgihub.bus.bus
    assert isinstance(first, Bus)
    assert wsgihub.bus.bus is first
    with pytest.raises(AttributeError):
        wsgihub.bus.no_such_thing  # noqa: B018


def test_stop_listeners_run_once_between_start_and_exit() -> None:
    """wspbus runs them again on exit(); a stopped bus only publishes exit."""
    from wsgihub.bus import Bus

    bus = Bus()
    ran: list[str] = []
    bus.subscribe("stop", lambda: ran.append("stop"))
    bus.subscribe("exit", lambda: ran.append("exit"))
    bus.start()
    bus.stop()
    bus.exit()
    assert ran == ["stop", "exit"]

    def refuse() -> None:
        raise RuntimeError("no")

    failing = Bus()
    failing.subscribe("start", refuse)
    failing.subscribe("stop", lambda: ran.append("stop after failed start"))
    with pytest.raises(RuntimeError):
        failing.start()
    failing.exit()
    assert ran.count("stop after failed start") == 1
