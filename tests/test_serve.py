"""``wsgihub serve``: options, one-line errors, drained shutdown, failing starts, --reload.

The live tests run the real command in a subprocess on loopback (port 0),
send it real signals and kill its process group at the end whatever happens.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from wsgihub.bus import Bus
from wsgihub.errors import ConfigError, ServeError
from wsgihub.serve import ServeOptions, run, serve_options
from wsgihub.servers.waitress import WaitressServer

# the live apps live next to this file (also under pytest --import-mode=importlib)
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess, run_serve
from live_apps.echo import ARRIVED

# -- options ----------------------------------------------------------------------------------


def test_options_need_a_site() -> None:
    with pytest.raises(ConfigError, match="no site given"):
        ServeOptions().validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mounts": ("/x",)}, "mount spec '/x'"),
        ({"mounts": ("x=mod:app",)}, "mount spec 'x=mod:app'"),
        ({"port": 70000}, "--port 70000"),
        ({"workers": 0}, "--workers 0"),
        ({"threads": 0}, "--threads 0"),
        ({"drain_timeout": -1.0}, "--drain-timeout -1: expected 0 seconds or more"),
        ({"verbosity": 7}, "verbosity=7: expected 0 (errors only) .. 3 (debug)"),
        ({"host": " "}, "--host  : expected a host name"),
        ({"pid_file": "/no/such/dir/site.pid"}, "--pid-file /no/such/dir/site.pid"),
        ({"pid_file": "/"}, "--pid-file /: is a directory"),
    ],
)
def test_options_name_the_bad_one(changes: dict[str, object], message: str) -> None:
    options = ServeOptions(mounts=("/a=live_apps.echo:app_a",))
    for key, value in changes.items():
        setattr(options, key, value)
    with pytest.raises(ConfigError) as info:
        options.validate()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_option_table_makes_the_cli_options() -> None:
    """Each table row is one click option of ``wsgihub serve`` (flag, help, metavar), no more."""
    from wsgihub.cli import cli

    command = cli.commands["serve"]
    flags = {opt: param for param in command.params for opt in param.opts}
    table = serve_options()
    names = [o.name for o in table]
    core = ["host", "port", "workers", "threads", "reload", "drain_timeout", "pid_file", "verbosity", "debug"]
    assert [n for n in names if n in core] == core  # more rows come from issue 11 (test_config.py)
    for option in table:
        if not option.cli:
            continue
        param = flags[option.flag]
        assert param.name == option.name and param.default is None  # the default lives in the table
        assert param.help is not None and param.help.startswith(option.help)
    own = {"--mount", "--debug", "-v", "--verbose", "-q", "--quiet"}
    shorts = {o.short for o in table if o.cli and o.short}
    assert {f for f in flags if f.startswith("-")} == {o.flag for o in table if o.cli} | shorts | own


def test_one_default_per_option() -> None:
    from wsgihub.servers import DEFAULT_DRAIN_TIMEOUT, DEFAULT_THREADS
    from wsgihub.servers.gunicorn import GunicornServer

    defaults = {o.name: o.default for o in serve_options()}
    assert defaults["drain_timeout"] == DEFAULT_DRAIN_TIMEOUT == ServeOptions().drain_timeout
    assert GunicornServer(None, ["/a=x:app"]).drain_timeout == DEFAULT_DRAIN_TIMEOUT
    assert WaitressServer(Bus(), lambda e, s: []).drain_timeout == DEFAULT_DRAIN_TIMEOUT
    assert WaitressServer(Bus(), lambda e, s: []).threads == DEFAULT_THREADS
    assert "waitress: 4" in next(o.help for o in serve_options() if o.name == "threads")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "x"], "--port 'x': expected a whole number"),
        (["--port", "70000"], "--port 70000: expected 0..65535 (0 picks a free port)"),
        (["--drain-timeout", "-1"], "--drain-timeout -1: expected 0 seconds or more"),
        (["--workers", "0"], "--workers 0: expected 1 or more"),
        (["--threads", "many"], "--threads 'many': expected a whole number"),
    ],
)
def test_cli_and_run_give_the_same_one_line_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wsgihub.cli import main

    assert main(["serve", "--mount", "/a=live_apps.never_imported:app", *argv]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"wsgihub: error: {message}\n")
    option = next(o for o in serve_options() if o.flag == argv[0])
    with pytest.raises(ConfigError) as info:
        value = option.parse(argv[1])
        run(mounts=["/a=live_apps.never_imported:app"], out=io.StringIO(), **{option.name: value})
    assert str(info.value) == message
    assert "live_apps.never_imported" not in sys.modules


def test_run_takes_the_table_as_keywords() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        run(mounts=["/a=live_apps.echo:app_a"], colour="red")
    with pytest.raises(ConfigError, match="--port '80': expected a whole number"):
        run(mounts=["/a=live_apps.echo:app_a"], port="80")
    with pytest.raises(ConfigError, match="--reload 1: expected true or false"):
        run(mounts=["/a=live_apps.echo:app_a"], reload=1)


def test_reload_hand_off_carries_every_option() -> None:
    options = ServeOptions(
        site="site.ini",
        mounts=("/a=m:app",),
        host="::1",
        port=0,
        workers=2,
        threads=3,
        reload=True,
        drain_timeout=2.5,
        pid_file="x.pid",
        verbosity=2,
        debug=True,
    )
    assert ServeOptions.from_json(options.to_json()) == options
    assert ServeOptions.from_json(ServeOptions().to_json()) == ServeOptions()


def test_run_refuses_an_address_in_use_before_loading_anything() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = io.StringIO()
        with pytest.raises(
            ServeError, match=f"cannot listen on http://127.0.0.1:{port}: address already in use"
        ):
            run(mounts=["/a=live_apps.never_imported:app"], port=port, out=out)
    assert out.getvalue() == ""


def test_run_wraps_a_crashing_app_module_in_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        run(mounts=["/a=live_apps.crashing:app"], port=0, out=io.StringIO())
    assert "ZeroDivisionError" in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_run_wraps_a_failing_site_factory_in_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        run("live_apps.sites:broken_site", port=0, out=io.StringIO())
    assert "live_apps.sites:broken_site" in str(info.value)
    assert "KeyError: 'SECRET_KEY'" in str(info.value)
    assert "\n" not in str(info.value)


# -- CLI errors ----------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.live
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--mount", "/a"],
            "wsgihub: error: mount spec '/a': expected PREFIX=package.module:attribute",
        ),
        (["--mount", "/a=live_apps.nowhere:app"], "cannot import 'live_apps.nowhere'"),
        (["--mount", "/a=live_apps.echo:nothing"], "has no attribute 'nothing'"),
        (["--mount", "/a=live_apps.crashing:app"], "ZeroDivisionError"),
        (["live_apps/missing.ini"], "does not exist"),
        (
            [
                "--mount",
                "/a=live_apps.echo:app_a",
                "--workers",
                "2",
                "--mount",
                "/b=live_apps.nowhere:app",
            ],
            "cannot import 'live_apps.nowhere'",
        ),
    ],
    ids=[
        "bad-spec",
        "no-module",
        "no-attribute",
        "module-raises",
        "no-site-file",
        "gunicorn-no-module",
    ],
)
def test_cli_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_serve([*args, "--port", "0"])
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("wsgihub: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "Serving on" not in result.stdout


@pytest.mark.live
def test_cli_port_in_use(busy_port: int) -> None:
    result = run_serve(["--mount", "/a=live_apps.echo:app_a", "--port", str(busy_port)])
    assert result.returncode == 2
    assert result.stderr == (
        f"wsgihub: error: cannot listen on http://127.0.0.1:{busy_port}: "
        "address already in use (is another server running there?)\n"
    )
    assert result.stdout == ""


@pytest.mark.live
def test_cli_port_in_use_with_workers(busy_port: int) -> None:
    result = run_serve(
        ["--mount", "/a=live_apps.echo:app_a", "--workers", "2", "--port", str(busy_port)]
    )
    assert result.returncode == 2
    assert "address already in use" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.live
def test_cli_debug_shows_the_traceback() -> None:
    result = run_serve(["--mount", "/a=live_apps.nowhere:app", "--port", "0", "--debug"])
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "cannot import 'live_apps.nowhere'" in result.stderr


# -- a drained shutdown -----------------------------------------------------------------------------


def _clients(url: str, count: int) -> tuple[list[threading.Thread], list[int | str]]:
    """``count`` threads GETting ``url`` at once; their statuses (or errors) land in the list."""
    results: list[int | str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            status: int | str = requests.get(url, timeout=20).status_code
        except requests.RequestException as exc:  # pragma: no cover - reported by the assert
            status = repr(exc)
        with lock:
            results.append(status)

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


@pytest.mark.live
def test_sigterm_drains_in_flight_requests_and_exits_0() -> None:
    """20 requests of ~1 s are in flight at SIGTERM: all answer 200, new connections are refused."""
    with ServeProcess(
        ["live_apps.sites:slow_site", "--port", "0", "--threads", "25", "--drain-timeout", "8", "-v"]
    ) as served:
        url = served.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert requests.get(url + "/a/", timeout=5).json()["script_name"] == "/a"

        clients, results = _clients(url + "/slow/?seconds=1.2", 20)
        served.wait_for_lines(ARRIVED, 20)  # every request is received and sleeping
        sent = time.monotonic()
        served.signal(signal.SIGTERM)

        served.wait_for_line("Stopped accepting on .*; 20 connection", stderr=True)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=2).close()
        assert results == []  # refused while all twenty are still running

        code = served.wait(timeout=10)
        elapsed = time.monotonic() - sent
        for thread in clients:
            thread.join(10)
        assert results == [200] * 20
        assert code == 0, served.stderr
        assert elapsed < 8
        assert served.stdout.count("MARKER stop listener ran") == 1
        assert served.stdout.count("MARKER exit listener ran") == 1
        # (waitress's own notice that a request waited for a thread, under a loaded machine, is not a fault)
        queue_notice = "WARNING [waitress.queue] Task queue depth is"
        assert [line for line in served.stderr if not line.startswith(("INFO ", queue_notice))] == []


@pytest.mark.live
def test_drain_timeout_bounds_the_shutdown() -> None:
    with ServeProcess(
        ["live_apps.sites:slow_site", "--port", "0", "--drain-timeout", "0.5"]
    ) as served:
        url = served.url()
        clients, results = _clients(url + "/slow/?seconds=5", 1)
        served.wait_for_line(ARRIVED)
        sent = time.monotonic()
        served.signal(signal.SIGTERM)
        assert served.wait(timeout=10) == 0
        assert time.monotonic() - sent < 3
        clients[0].join(10)
        assert len(results) == 1 and results[0] != 200  # the request was cut at the deadline
        assert any("Drain timeout: cut 1 connection" in line for line in served.stderr)


@pytest.mark.live
@pytest.mark.parametrize("to_group", [False, True], ids=["master", "group"])
def test_gunicorn_sigint_drains_like_sigterm(to_group: bool) -> None:
    """Ctrl-C (SIGINT to the group) or SIGINT to the master: in-flight requests finish (issue 8 §3)."""
    with ServeProcess(
        [
            "live_apps.sites:slow_site",
            "--workers", "2", "--port", "0", "--drain-timeout", "8",
        ]  # gunicorn's sync workers: a quick shutdown would cut the requests
    ) as served:
        url = served.url()
        clients, results = _clients(url + "/slow/?seconds=1.5", 2)
        served.wait_for_lines(ARRIVED, 2)  # both are in flight
        if to_group:
            served.signal_group(signal.SIGINT)
        else:
            served.signal(signal.SIGINT)
        code = served.wait(timeout=20)
        for thread in clients:
            thread.join(10)
        assert results == [200] * 2, served.stderr
        assert code == 0, served.stderr
        assert served.stdout.count("MARKER stop listener ran") == 2  # each worker's bus stopped
        assert served.stdout.count("MARKER exit listener ran") == 2


#: A gunicorn config file whose post_fork hook holds each new worker in the window between
#: the fork and its own signal handlers until a signal reaches it: pending (blocked) or
#: handled by the master's handlers the fork copied (queued in the copy of the master's queue).
_HELD_AT_FORK = """\
import os, signal, time

def post_fork(server, worker):
    queued = server.SIG_QUEUE.qsize()
    print(f"MARKER forked {os.getpid()}", flush=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if signal.SIGTERM in signal.sigpending() or server.SIG_QUEUE.qsize() > queued:
            return
        time.sleep(0.01)
"""


@pytest.mark.live
def test_gunicorn_stop_reaches_a_worker_signalled_while_forked(tmp_path: Path) -> None:
    """SIGTERM to the master while a worker is between its fork and its own handlers.

    The worker still booted, served on and was killed at the graceful timeout
    (--drain-timeout, 8 s here) with its bus never stopped: gunicorn's handlers copied
    by the fork took the master's SIGTERM.  Now it gets it once its handlers are set.
    """
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(_HELD_AT_FORK)
    args = ["live_apps.sites:slow_site", "-c", str(conf), "--workers", "1", "--port", "0"]
    with ServeProcess([*args, "--drain-timeout", "8"]) as served:
        served.url()
        served.wait_for_line("MARKER forked")
        sent = time.monotonic()
        served.signal(signal.SIGTERM)
        code = served.wait(timeout=20)
        took = time.monotonic() - sent
        assert code == 0, served.stderr
        assert took < 5, took  # not the graceful timeout
        assert served.stdout.count("MARKER stop listener ran") == 1, served.stderr  # the worker's bus


@pytest.mark.live
@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "group"])
@pytest.mark.parametrize("server", [[], ["--workers", "2"]], ids=["waitress", "gunicorn"])
def test_reload_parent_sigint_stops_the_child_gracefully(
    tmp_path: Path, to_group: bool, server: list[str]
) -> None:
    """SIGINT to the --reload parent only (a supervisor) or to the group (Ctrl-C).

    The child drains, the exit code is 0 and the PID file is gone (issue 8 §4).

    The stop takes the 1 s request plus about 0.4 s of CPU (up to four processes
    ending): 1.5-2.3 s on an idle machine, up to 6 s seen at load 20 on two cores.
    The faults this guards against wait out gunicorn's graceful timeout (the drain
    timeout: 30 s here) or the reloader's shutdown interval (drain timeout + 5 s),
    so the bound sits between, far from both.
    """
    pid_file = tmp_path / "site.pid"
    args = ["live_apps.sites:slow_site", "--port", "0", "--reload", "--pid-file", str(pid_file)]
    args += ["--drain-timeout", "30"]
    with ServeProcess([*args, *server]) as served:
        url = served.url()
        child = int(pid_file.read_text())
        assert child != served.pid  # the child serves and holds the PID file
        clients, results = _clients(url + "/slow/?seconds=1", 1)
        served.wait_for_line(ARRIVED)
        sent = time.monotonic()
        if to_group:
            served.signal_group(signal.SIGINT)
        else:
            served.signal(signal.SIGINT)
        code = served.wait(timeout=60)
        took = time.monotonic() - sent
        for thread in clients:
            thread.join(10)
        assert (code, results) == (0, [200]), served.stderr
        assert not pid_file.exists()
        assert took < 15, took  # no waiting out a timeout (see above), no SIGKILL
        assert not any("forcefully killing" in line for line in served.stderr)
        # one bus per process serving the site (a gunicorn worker still booting has none yet)
        stops = served.stdout.count("MARKER stop listener ran")
        assert stops == 1 if not server else 1 <= stops <= 2
        assert served.stdout.count("MARKER exit listener ran") == stops


def _pipes(pid: int) -> set[str]:
    """The pipes process ``pid`` holds an end of (``pipe:[inode]``, both ends alike)."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("pipe:"):
                found.add(target)
    return found


@pytest.mark.live
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")
def test_reload_gunicorn_workers_hold_no_pipe_to_the_reloader(tmp_path: Path) -> None:
    """--reload --workers 2: the workers (forks of the reloader child) hold no end of hupper's
    pipes to the reloader parent, so they cannot write to it.

    They did, at their exit (hupper's ``finally`` in the stack a gunicorn worker
    unwinds): two workers ending together on Ctrl-C interleaved their packets and
    the parent's reader thread died on "invalid load key", printing a traceback.
    """
    pid_file = tmp_path / "site.pid"
    args = ["live_apps.sites:slow_site", "--port", "0", "--reload", "--workers", "2", "-v"]
    with ServeProcess([*args, "--pid-file", str(pid_file)]) as served:
        served.url()
        booted = r"Booting worker with pid: (\d+)"
        workers = {int(served.wait_for_line(booted, stderr=True).group(1)) for _ in range(2)}
        master = int(pid_file.read_text())
        # the parent's pipes but this test's ends of the output pipes every process shares
        to_the_parent = _pipes(served.pid) - _pipes(os.getpid())
        assert to_the_parent & _pipes(master), "the reloader child holds its ends"
        for worker in workers:
            assert not to_the_parent & _pipes(worker), f"worker {worker} holds a pipe to the reloader"
        served.signal_group(signal.SIGINT)
        assert served.wait(timeout=30) == 0, served.stderr
        assert not any("Traceback" in line or "load key" in line for line in served.stderr), served.stderr


def _wait_for_serving_pids(url: str, count: int, timeout: float = 20.0) -> set[int]:
    """Ask ``url/a/`` (which answers its pid) until ``count`` processes have answered."""
    pids: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(pids) < count:
        assert time.monotonic() < deadline, f"only {pids} answered within {timeout} s"
        pids.add(requests.get(url + "/a/", headers={"Connection": "close"}, timeout=5).json()["pid"])
    return pids


@pytest.mark.live
@pytest.mark.parametrize(
    ("server", "workers"),
    [(["--workers", "2"], 2), (["--reload"], 0), (["--reload", "--workers", "2"], 2)],
    ids=["gunicorn", "reload", "reload-gunicorn"],
)
def test_ctrl_c_keeps_the_drain_delay(server: list[str], workers: int) -> None:
    """Ctrl-C (SIGINT to the group): health answers 503 while the server still accepts for
    the whole --drain-delay, then the drain; exit 0.

    One Ctrl-C brings each worker (each reloader child) two signals: the group's SIGINT,
    then its parent's SIGTERM (gunicorn's master, the reloader); the second one used to
    end the delay at once.
    """
    delay = 3.0
    args = ["live_apps.sites:slow_site", "--port", "0", "--health-path", "/healthz", "-v"]
    with ServeProcess([*args, "--drain-delay", str(delay), "--drain-timeout", "8", *server]) as served:
        url = served.url()
        _wait_for_serving_pids(url, max(workers, 1))  # every worker past its boot
        sent = time.monotonic()
        served.signal_group(signal.SIGINT)
        for _ in range(max(workers, 1)):
            served.wait_for_line("Draining: health answers 503", stderr=True)
        _assert_the_drain_delay_held(served, url, sent, delay, ("cut short", "forcefully"))
        # one bus exit per process: a gunicorn worker ran the master's bus exit too, at its end
        exits = [line.split("]")[1] for line in served.stderr if line.endswith("] [INFO] Bus EXITED")]
        assert len(exits) == len(set(exits)) == (workers + 1 if workers else 0), served.stderr


def _assert_the_drain_delay_held(
    served: ServeProcess, url: str, sent: float, delay: float, never: tuple[str, ...]
) -> None:
    """During the delay: health 503 and requests served on new connections; then exit 0, no
    earlier than ``delay`` after the signal was ``sent``, with no stderr line holding any of ``never``."""
    assert requests.get(url + "/healthz", timeout=5).status_code == 503  # a new connection
    assert requests.get(url + "/a/", timeout=5).status_code == 200
    code = served.wait(timeout=30)
    took = time.monotonic() - sent
    assert code == 0, served.stderr
    assert took >= delay, f"stopped after {took:.2f} s, before the {delay} s drain delay"
    assert not any(word in line for line in served.stderr for word in never), served.stderr


@pytest.mark.live
def test_reload_gunicorn_ctrl_c_keeps_the_drain_delay_whichever_signal_the_master_takes_first() -> None:
    """One Ctrl-C under ``--reload --workers 2`` brings gunicorn's master the group's SIGINT and the
    reloader parent's SIGTERM, in either order on a loaded machine.  SIGTERM first, then SIGINT, is
    still one stop: the drain delay holds (gunicorn takes a SIGINT during a stop as Ctrl-C again and
    quits the workers at once: connections reset, seen as a flaky reload-gunicorn row above).

    The order is made here: the workers and the reloader parent get their SIGINT, the parent
    sends the master SIGTERM, and once the master handles it the master gets its SIGINT.
    """
    delay = 3.0
    args = ["live_apps.sites:slow_site", "--port", "0", "--health-path", "/healthz", "-v"]
    with ServeProcess([*args, "--drain-delay", str(delay), "--drain-timeout", "8", "--reload", "--workers", "2"]) as served:
        url = served.url()
        master = int(served.wait_for_line(r"\[(\d+)\] \[INFO\] Listening at", stderr=True).group(1))
        workers = _wait_for_serving_pids(url, 2)
        sent = time.monotonic()
        for worker in workers:
            os.kill(worker, signal.SIGINT)
        for _ in workers:
            served.wait_for_line("Draining: health answers 503", stderr=True)
        served.signal(signal.SIGINT)  # the reloader parent: SIGTERM to the master
        served.wait_for_line("Handling signal: term", stderr=True)
        os.kill(master, signal.SIGINT)  # (a quick shutdown would show below: early exit, its line)
        _assert_the_drain_delay_held(served, url, sent, delay, ("Quick shutdown", "cut short"))


# -- start failures --------------------------------------------------------------------------------------


@pytest.mark.live
def test_a_failing_start_listener_is_named_in_one_line() -> None:
    with ServeProcess(["live_apps.sites:failing_site", "--port", "0"]) as served:
        code = served.wait(timeout=15)
        assert code == 1
        assert served.stderr == [
            (
                "wsgihub: error: start listener live_apps.sites.refuse_to_start failed: "
                "RuntimeError: the database is not there"
            )
        ]
        assert served.stdout.count("MARKER stop listener ran") == 1
        assert served.stdout.count("MARKER exit listener ran") == 1
        assert not any(line.startswith("Serving on") for line in served.stdout)


@pytest.mark.live
def test_a_held_pid_file_stops_the_start(tmp_path: Path) -> None:
    pid_file = tmp_path / "site.pid"
    pid_file.write_text(f"{os.getpid()}\n")  # this live process holds it
    with ServeProcess(
        ["--mount", "/a=live_apps.echo:app_a", "--port", "0", "--pid-file", str(pid_file)]
    ) as served:
        assert served.wait(timeout=15) == 1
        assert len(served.stderr) == 1
        assert "PIDFile.start failed" in served.stderr[0]
        assert f"held by running process {os.getpid()}" in served.stderr[0]
    assert pid_file.read_text() == f"{os.getpid()}\n"


@pytest.mark.live
def test_pid_file_lives_as_long_as_the_server(tmp_path: Path) -> None:
    pid_file = tmp_path / "site.pid"
    with ServeProcess(
        ["--mount", "/a=live_apps.echo:app_a", "--port", "0", "--pid-file", str(pid_file)]
    ) as served:
        served.url()
        assert pid_file.read_text().strip() == str(served.pid)
        served.signal(signal.SIGINT)
        assert served.wait(timeout=10) == 0
    assert not pid_file.exists()


@pytest.mark.live
def test_mounts_are_listed_before_serving() -> None:
    with ServeProcess(["live_apps.sites:two_apps", "--port", "0"]) as served:
        url = served.url()
        assert served.stdout[:3] == [
            "Mounted apps:",
            "  a         wsgi  /a",
            "  b.deeper  wsgi  /b/deeper",
        ]
        assert requests.get(url + "/b/deeper/x", timeout=5).json() == {
            "app": "b",
            "pid": served.pid,
            "script_name": "/b/deeper",
            "path_info": "/x",
        }
        served.signal(signal.SIGTERM)
        assert served.wait() == 0


# -- --reload ------------------------------------------------------------------------------------------------

_RELOADABLE = textwrap.dedent(
    """
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"VERSION"]
    """
)


@pytest.mark.live
@pytest.mark.parametrize("server", [[], ["--workers", "2"]], ids=["waitress", "gunicorn"])
def test_reload_serves_the_new_code_after_a_change(tmp_path: Path, server: list[str]) -> None:
    module = tmp_path / "reloadable_app.py"
    module.write_text(_RELOADABLE.replace("VERSION", "one"))
    args = ["--mount", "/r=reloadable_app:app", "--port", "0", "--reload", *server]
    with ServeProcess(args, pythonpath=[tmp_path]) as served:
        url = served.url()
        assert requests.get(url + "/r/", timeout=5).text == "one"
        # one write, at once: the reloader may not have polled the file yet (it
        # compares a new file with the child's start, not with its first poll)
        module.write_text(_RELOADABLE.replace("VERSION", "two"))
        served.wait_for_line("reloadable_app.py changed; reloading", stderr=True)
        assert served.url(timeout=20) == url  # the new child says so, on the same port
        assert requests.get(url + "/r/", timeout=5).text == "two"
        served.signal(signal.SIGTERM)
        served.wait(timeout=15)


_BROKEN = "def app(environ, start_response):\n    return [b'never closed'\n"


def _fix_and_stop(served: ServeProcess, module: Path) -> None:
    """Write the fixed app into ``module``, once (the reloader sees one write, see the test
    above): a new child serves it; then SIGTERM, exit 0."""
    module.write_text(_RELOADABLE.replace("VERSION", "fixed"))
    url = served.url(timeout=20)
    assert requests.get(url + "/r/", timeout=5).text == "fixed"
    served.signal(signal.SIGTERM)
    assert served.wait(timeout=15) == 0, served.stderr


@pytest.mark.live
@pytest.mark.parametrize("server", [[], ["--workers", "2"]], ids=["waitress", "gunicorn"])
def test_reload_waits_for_a_fix_of_the_module_that_failed(tmp_path: Path, server: list[str]) -> None:
    """--reload and a module that does not compile: one error line, then it waits for a change
    (as pserve does); fixing that module starts the site.

    The error is reported in one line, so hupper never saw its traceback: the module
    was not watched and the fix went unseen.
    """
    module = tmp_path / "broken_app.py"
    module.write_text(_BROKEN)
    args = ["--mount", "/r=broken_app:app", "--port", "0", "--reload", *server]
    with ServeProcess(args, pythonpath=[tmp_path]) as served:
        served.wait_for_line("^Waiting for a file to change before reload.$")
        errors = [line for line in served.stderr if line.startswith("wsgihub: error:")]
        assert len(errors) == 1, served.stderr
        assert "--mount /r=broken_app:app" in errors[0] and "SyntaxError" in errors[0]
        assert not any("Traceback" in line for line in served.stderr)
        _fix_and_stop(served, module)


#: A module that fails to import and, as the failed reloader child exits, waits until
#: its own file changes: the fix lands while the child is still exiting.
_FAILS_UNTIL_FIXED_AT_EXIT = textwrap.dedent(
    """
    import atexit, time

    _seen = open(__file__).read()

    def _wait_for_the_fix():
        print("MARKER failed child exiting", flush=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and open(__file__).read() == _seen:
            time.sleep(0.01)

    atexit.register(_wait_for_the_fix)
    raise RuntimeError("not yet")
    """
)


@pytest.mark.live
def test_reload_sees_a_fix_made_while_the_failed_child_exits(tmp_path: Path) -> None:
    """--reload: the module is fixed while the child that failed on it is still exiting.

    hupper missed that change: the parent took the file's mtime when it first
    polled it (already the fixed one, if the fix came first), or saw the change
    and then dropped it as it started to wait for a change.  One write is enough.
    """
    module = tmp_path / "failing_app.py"
    module.write_text(_FAILS_UNTIL_FIXED_AT_EXIT)
    with ServeProcess(["--mount", "/r=failing_app:app", "--port", "0", "--reload"], pythonpath=[tmp_path]) as served:
        served.wait_for_line("^MARKER failed child exiting$")
        _fix_and_stop(served, module)
    assert any("failing_app.py changed; reloading" in line for line in served.stderr), served.stderr


#: An app whose process, as it exits, prints a marker and then waits until the test opens
#: the FIFO ``HOLD`` for writing and closes it: the process ends when the test says so.
_HELD_AT_EXIT = textwrap.dedent(
    """
    import atexit

    def _hold():
        print("MARKER child exiting", flush=True)
        with open(HOLD) as fifo:
            fifo.read()

    atexit.register(_hold)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"held"]
    """
)


@pytest.mark.live
@pytest.mark.parametrize("server", [[], ["--workers", "1"]], ids=["waitress", "gunicorn"])
def test_reload_stopped_while_it_restarts_the_child_exits_0(tmp_path: Path, server: list[str]) -> None:
    """--reload: SIGTERM to the parent while it replaces the child stops it, exit 0.

    The parent forwarded the stop to the next child as soon as it started it,
    before that child had handlers of its own: the child died of the SIGTERM and
    the parent exited with hupper's ``sys.exit(-15)``, status 241.  Here the
    old child (a gunicorn master's worker) holds its exit until the SIGTERM is
    sent, so it is always pending when the new child starts (one gunicorn worker:
    the one that holds).
    """
    hold = tmp_path / "hold.fifo"
    os.mkfifo(hold)
    module = tmp_path / "held_app.py"
    module.write_text(_HELD_AT_EXIT.replace("HOLD", repr(str(hold))))
    args = ["--mount", "/r=held_app:app", "--port", "0", "--reload", *server]
    with ServeProcess(args, pythonpath=[tmp_path]) as served:
        url = served.url()
        assert requests.get(url + "/r/", timeout=5).text == "held"
        module.write_text(_RELOADABLE.replace("VERSION", "new"))  # a change: the parent restarts
        served.wait_for_line("^MARKER child exiting$", timeout=20)
        served.signal(signal.SIGTERM)  # the parent queues it until the old child has ended
        with open(hold, "w"):
            pass  # now it may end
        assert served.wait(timeout=20) == 0, served.stderr


@pytest.mark.live
@pytest.mark.parametrize(
    "args",
    [["--mount", "/a=no_such_module_anywhere:app"], ["no-such-site.ini"]],
    ids=["module-missing", "site-file-missing"],
)
@pytest.mark.parametrize("server", [[], ["--workers", "2"]], ids=["waitress", "gunicorn"])
def test_reload_exits_2_when_no_file_could_be_watched(args: list[str], server: list[str]) -> None:
    """--reload and an error naming no file of the site's (a module or a site file that
    does not exist): nothing to wait for, so one error line and exit 2."""
    result = run_serve([*args, "--port", "0", "--reload", *server], timeout=30)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Starting monitor for PID")]
    assert len(lines) == 1, result.stderr  # (hupper's own line above left aside)
    assert lines[0].startswith("wsgihub: error: ") and lines[0].endswith("(--reload: no file to watch for a fix)")
    assert "Waiting for a file to change" not in result.stdout
