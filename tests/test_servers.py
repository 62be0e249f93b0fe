"""The servers: waitress on the bus (drain), gunicorn workers (SIGHUP reload), helpers.

waitress runs in this process on loopback port 0 with a real bus; gunicorn
runs as ``wsgihub serve --workers 2`` in a subprocess that gets real signals.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub.bus import Bus, states
from wsgihub.errors import ConfigError, ServeError
from wsgihub.servers import (
    MountInfo,
    bind_socket,
    check_address,
    describe_start_failure,
    exit_after_failed_start,
    format_url,
    is_start_failure_line,
    listener_name,
)
from wsgihub.servers.waitress import WaitressServer

# the live apps live next to this file (also under pytest --import-mode=importlib)
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

Environ = dict[str, Any]


def ok_app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers 200 ``ok`` at once."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


class Gate:
    """A WSGI app whose ``/held`` requests announce their arrival and wait until the gate opens.

    Tests wait for requests to be in flight (:meth:`wait_arrived`) and decide
    when they finish (:meth:`open`), instead of sleeping and hoping.
    """

    def __init__(self) -> None:
        self.arrived = 0
        self._arrival = threading.Condition()
        self._open = threading.Event()

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/held":
            return ok_app(environ, start_response)
        with self._arrival:
            self.arrived += 1
            self._arrival.notify_all()
        self._open.wait(30)
        return ok_app(environ, start_response)

    def wait_arrived(self, count: int, timeout: float = 10) -> bool:
        with self._arrival:
            return self._arrival.wait_for(lambda: self.arrived >= count, timeout)

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def bus() -> Iterator[Bus]:
    bus = Bus()
    yield bus
    if bus.state is not states.STOPPED:
        bus.stop()


def refused(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# -- helpers --------------------------------------------------------------------------------


def test_format_url_brackets_ipv6() -> None:
    assert format_url("127.0.0.1", 80) == "http://127.0.0.1:80"
    assert format_url("::1", 8080) == "http://[::1]:8080"
    assert format_url("example.com", 443, "https") == "https://example.com:443"


def test_bind_socket_port_0_picks_a_free_port_without_listening() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert port > 0
        assert refused(("127.0.0.1", port))  # bound, not listening yet
    finally:
        sock.close()


def test_bind_socket_names_the_address_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError) as info:
            bind_socket("127.0.0.1", port)
        assert str(info.value) == (
            f"cannot listen on http://127.0.0.1:{port}: address already in use (is another server running there?)"
        )
        with pytest.raises(ServeError):
            check_address("127.0.0.1", port)


def test_bind_socket_unknown_host() -> None:
    with pytest.raises(ServeError, match="unknown host 'no-such-host.invalid'"):
        bind_socket("no-such-host.invalid", 0)


def test_check_address_returns_a_usable_port() -> None:
    port = check_address("127.0.0.1", 0)
    bind_socket("127.0.0.1", port).close()


def start_me() -> None:
    raise RuntimeError("nope")


def test_listener_names_and_start_failure_report() -> None:
    assert listener_name(start_me) == f"{__name__}.start_me"
    server = WaitressServer(Bus(), ok_app)
    assert listener_name(server.start) == "wsgihub.servers.waitress.WaitressServer.start"

    bus = Bus()
    bus.subscribe("start", start_me)
    with pytest.raises(RuntimeError) as info:
        bus.start()
    assert bus.failed_start_listener is start_me
    assert (
        describe_start_failure(bus, info.value)
        == f"start listener {__name__}.start_me failed: RuntimeError: nope"
    )
    assert is_start_failure_line("Error in 'start' listener <function start_me>")
    assert not is_start_failure_line("Bus STARTED")
    bus.unsubscribe("start", start_me)
    bus.start()
    assert bus.failed_start_listener is None
    bus.exit()
    assert describe_start_failure(bus, ValueError()) == "a start listener failed: ValueError"


def test_exit_after_failed_start_does_not_stop_twice() -> None:
    bus = Bus()
    calls: list[str] = []
    bus.subscribe("start", start_me)
    bus.subscribe("stop", lambda: calls.append("stop"))
    bus.subscribe("exit", lambda: calls.append("exit"))
    with pytest.raises(RuntimeError):
        bus.start()
    exit_after_failed_start(bus)
    assert calls == ["stop", "exit"]
    assert bus.state is states.EXITING


# -- waitress on the bus --------------------------------------------------------------------------


def test_waitress_serves_between_start_and_stop(bus: Bus) -> None:
    before = set(threading.enumerate())  # other tests' servers may still be winding down
    server = WaitressServer(bus, ok_app, port=0, threads=2)
    server.subscribe()
    bus.start()
    assert server.bound is not None and server.bound[1] > 0
    assert server.url == f"http://127.0.0.1:{server.bound[1]}"
    assert requests.get(server.url, timeout=5).text == "ok"
    bus.stop()
    assert refused(server.bound)
    assert server.wait_drained(0)
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("waitress")]


def test_waitress_restarts_on_the_same_port(bus: Bus) -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = WaitressServer(bus, ok_app, sock=sock)
    server.subscribe()
    bus.start()
    bus.stop()
    bus.start()
    assert server.bound == ("127.0.0.1", port)
    assert requests.get(server.url, timeout=5).status_code == 200


def test_waitress_stop_without_start_closes_the_given_socket(bus: Bus) -> None:
    sock = bind_socket("127.0.0.1", 0)
    WaitressServer(bus, ok_app, sock=sock).subscribe()
    bus.stop()
    assert sock.fileno() == -1


def test_waitress_drains_in_flight_requests(bus: Bus) -> None:
    gate = Gate()
    server = WaitressServer(bus, gate, port=0, threads=10, drain_timeout=10)
    server.subscribe()
    bus.start()
    assert server.bound is not None
    idle = requests.Session()
    idle.get(server.url, timeout=5)  # an idle keep-alive connection: closed at stop, not waited for
    statuses: list[int] = []

    def client() -> None:
        statuses.append(requests.get(server.url + "/held", timeout=10).status_code)

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    assert gate.wait_arrived(8)
    stopper = threading.Thread(target=bus.stop)
    stopper.start()
    assert server.wait_refusing(5)
    assert refused(server.bound)  # refused while the requests are still running
    assert statuses == [] and stopper.is_alive()  # the stop waits for them
    gate.open()
    stopper.join(10)
    for thread in clients:
        thread.join(5)
    assert statuses == [200] * 8
    assert server.wait_drained(0)
    assert bus.state is states.STOPPED


def test_waitress_drain_timeout_cuts_what_is_left(bus: Bus) -> None:
    lines: list[str] = []
    bus.subscribe("log", lambda msg, level=20: lines.append(msg))
    gate = Gate()
    server = WaitressServer(bus, gate, port=0, drain_timeout=0.3)
    server.subscribe()
    bus.start()
    errors: list[BaseException] = []

    def client() -> None:
        try:
            requests.get(server.url + "/held", timeout=10)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    assert gate.wait_arrived(1)
    started = time.monotonic()
    bus.stop()  # the gate stays shut: the request is still running at the deadline
    assert time.monotonic() - started < 2.5
    thread.join(10)
    gate.open()
    assert len(errors) == 1
    assert "Stopped accepting on " + server.url + "; 1 connection(s) with requests in flight." in lines
    assert "Drain timeout: cut 1 connection(s) with requests in flight." in lines


def test_waitress_bad_option_fails_the_start(bus: Bus) -> None:
    WaitressServer(bus, ok_app, port=0, options={"no_such_adjustment": 1}).subscribe()
    with pytest.raises(ServeError, match="waitress cannot serve on http://127.0.0.1:0"):
        bus.start()
    assert bus.state is states.STOPPED


# -- gunicorn --------------------------------------------------------------------------------------------


def test_probe_site_loads_in_a_child_only() -> None:
    from wsgihub.servers.gunicorn import probe_site

    sys.modules.pop("live_apps.sites", None)
    probe = probe_site("live_apps.sites:two_apps", ["/c=live_apps.echo:app_a"])
    assert probe.mounts == [
        MountInfo("a", "wsgi", "/a"),
        MountInfo("b.deeper", "wsgi", "/b/deeper"),
        MountInfo("c", "wsgi", "/c"),
    ]
    assert "live_apps.sites" not in sys.modules
    live_apps_dir = Path(__file__).resolve().parent / "live_apps"
    assert str(live_apps_dir / "sites.py") in probe.files
    assert not [f for f in probe.files if "site-packages" in f]


def test_probe_site_reports_the_error_in_one_line() -> None:
    from wsgihub.servers.gunicorn import probe_site

    with pytest.raises(ConfigError) as info:
        probe_site(None, ["/a=live_apps.crashing:app"])
    assert "ZeroDivisionError: division by zero" in str(info.value)
    assert "\n" not in str(info.value)


def test_gunicorn_settings_come_from_the_arguments() -> None:
    from wsgihub.servers.gunicorn import GunicornServer

    server = GunicornServer(
        "site.ini",
        ["/a=x:app"],
        host="::1",
        port=8081,
        workers=3,
        threads=4,
        drain_timeout=2.5,
        options={"timeout": 7},
    )
    cfg = server.cfg
    assert cfg.bind == ["[::1]:8081"]
    assert (cfg.workers, cfg.threads, cfg.worker_class_str) == (3, 4, "gthread")
    assert cfg.graceful_timeout == 3  # whole seconds, rounded up
    assert cfg.timeout == 7
    assert cfg.forwarded_allow_ips == []  # no proxy trusted, not even loopback (gunicorn's default)
    trusting = GunicornServer("site.ini", options={"forwarded_allow_ips": "10.0.0.5"})
    assert trusting.cfg.forwarded_allow_ips == ["10.0.0.5"]
    server.reload()  # what SIGHUP does: the same settings again, the bus untouched
    assert server.cfg.workers == 3 and server.cfg.when_ready == server._when_ready
    with pytest.raises(ConfigError, match="unknown gunicorn setting\\(s\\): timout"):
        GunicornServer("site.ini", options={"timout": 7})


def test_one_thread_workers_do_the_request_id_and_access_log_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn_front's worker for one-thread workers, unless a worker class is given or it cannot."""
    from wsgihub.servers import gunicorn_front
    from wsgihub.servers.gunicorn import GunicornServer

    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    assert GunicornServer("site.ini", workers=2).cfg.worker_class is gunicorn_front.FrontSyncWorker
    assert GunicornServer("site.ini", threads=2).cfg.worker_class_str == "gthread"
    assert GunicornServer("site.ini", options={"worker_class": "sync"}).cfg.worker_class_str == "sync"
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--threads 3")  # threads not given to wsgihub: gunicorn's count
    assert GunicornServer("site.ini", explicit=set()).cfg.worker_class_str == "gthread"
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-class sync")
    assert GunicornServer("site.ini").cfg.worker_class_str == "sync"
    monkeypatch.delenv("GUNICORN_CMD_ARGS")

    said: list[str] = []
    monkeypatch.setattr(gunicorn_front, "ENABLED", False)
    server = GunicornServer("site.ini")
    server.bus.subscribe("log", lambda msg, level=20: said.append(msg))
    server.reload()  # load_config again, now heard
    assert said == [
        (
            "gunicorn's workers serve the request-ID/access-log layers (not their own): "
            "disabled (wsgihub.servers.gunicorn_front.ENABLED is False)"
        )
    ]


class Hammer:
    """Client threads requesting ``paths`` in a loop until stopped; responses in :attr:`seen`."""

    def __init__(self, url: str, paths: list[str], threads: int = 2) -> None:
        self.url = url
        self.paths = paths
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[str] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                try:
                    response = requests.get(self.url + path, timeout=10)
                    response.raise_for_status()
                    with self._changed:
                        self.seen.append((path, response.json()))
                        self._changed.notify_all()
                except (requests.RequestException, ValueError) as exc:
                    self.failures.append(f"{path}: {exc!r}")

    def wait_for(self, predicate: Callable[[list[tuple[str, dict[str, Any]]]], bool], timeout: float) -> bool:
        """Wait until ``predicate(seen)`` holds (checked at every response)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.seen), timeout)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)


@pytest.mark.live
def test_gunicorn_sighup_reloads_workers_without_failing_a_request() -> None:
    with ServeProcess(["live_apps.sites:two_apps", "--workers", "2", "--port", "0"]) as served:
        url = served.url()
        hammer = Hammer(url, ["/a/x", "/b/deeper/y/z", "/b/deeper"])
        try:
            # both old workers have answered
            assert hammer.wait_for(lambda seen: len({b["pid"] for _, b in seen}) == 2 and len(seen) > 10, 20)
            before = {body["pid"] for _, body in hammer.seen}
            count_before = len(hammer.seen)
            served.signal(signal.SIGHUP)
            # twenty answers in a row from fresh workers: the old ones are gone
            assert hammer.wait_for(
                lambda seen: len(seen) > count_before + 20
                and not {b["pid"] for _, b in seen[-20:]} & before,
                30,
            )
        finally:
            hammer.stop()
        seen, failures = hammer.seen, hammer.failures
        assert failures == []
        expected = {
            "/a/x": ("a", "/a", "/x"),
            "/b/deeper/y/z": ("b", "/b/deeper", "/y/z"),
            "/b/deeper": ("b", "/b/deeper", ""),
        }
        for path, body in seen:
            assert (body["app"], body["script_name"], body["path_info"]) == expected[path]
        after = {body["pid"] for _, body in seen[-20:]}
        assert len(before) == 2 and after and not after & before  # fresh workers serve
        assert served.pid not in before | after  # never the master

        served.signal(signal.SIGTERM)
        assert served.wait(timeout=20) == 0
        # every worker (2 old, 2 new) ran its own bus's stop and exit listeners once
        assert served.stdout.count("MARKER stop listener ran") == 4
        assert served.stdout.count("MARKER exit listener ran") == 4


@pytest.mark.live
def test_gunicorn_cross_app_urls_survive_a_reload() -> None:
    pytest.importorskip("wsgihub_flask")
    with ServeProcess(["live_apps.flask_sites:site", "--workers", "2", "--port", "0"]) as served:
        url = served.url()
        assert served.stdout[:3] == [
            "Mounted apps:",
            "  shop  flask  /shop",
            "  blog  flask  /blog",
        ]

        def check() -> set[int]:
            pids = set()
            for _ in range(6):
                shop = requests.get(url + "/shop/item/3", timeout=10).json()
                blog = requests.get(url + "/blog/post/x", timeout=10).json()
                assert shop["post_url"] == "/blog/post/hello"
                assert blog["item_url"] == "/shop/item/7"
                pids |= {shop["pid"], blog["pid"]}
            return pids

        before = check()
        served.signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        after = check()
        while after & before and time.monotonic() < deadline:
            after = check()  # twelve requests a round: until only fresh workers answer
        assert not after & before
        served.signal(signal.SIGTERM)
        assert served.wait(timeout=20) == 0


@pytest.mark.live
def test_gunicorn_failing_start_listener_fails_the_boot() -> None:
    with ServeProcess(["live_apps.sites:failing_site", "--workers", "2", "--port", "0"]) as served:
        code = served.wait(timeout=30)
        assert code == 3  # gunicorn's "worker failed to boot"
        reports = [line for line in served.stderr if line.startswith("wsgihub: error:")]
        named = [line for line in reports if "start listener" in line]
        # one line per worker that got that far (the master may stop the other first)
        assert named and set(named) == {
            (
                "wsgihub: error: start listener live_apps.sites.refuse_to_start failed: "
                "RuntimeError: the database is not there"
            )
        }
        assert set(reports) - set(named) <= {"wsgihub: error: gunicorn: Worker failed to boot."}
        assert not any("Traceback" in line for line in served.stderr)
        assert served.stdout.count("MARKER stop listener ran") >= len(named)


# -- gunicorn's own config file: what wsgihub overrides or ignores is said, once --------------
DROPPING_GUNICORN_CONF = """\
import os

bind = "127.0.0.1:1"
accesslog = "-"
access_log_format = "%(h)s %(r)s"
wsgi_app = "somewhere:else"
worker = 3
timeout = 17
_private = "left alone"


def helper():
    return os.getpid()
"""


@pytest.mark.live
def test_gunicorn_config_settings_wsgihub_drops_are_named(tmp_path: Path) -> None:
    """bind given to wsgihub, gunicorn's access log, a name gunicorn does not know: one warning each.

    What gunicorn honours (``timeout``) and what is not meant as a setting
    (an import, a function, a ``_private`` name) gives none; SIGHUP, which
    reads the file again, repeats none.
    """
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(DROPPING_GUNICORN_CONF, encoding="utf-8")
    with ServeProcess(
        ["live_apps.sites:two_apps", "-c", str(conf), "--workers", "1", "--port", "0", "-v"]
    ) as served:
        url = served.url()
        served.wait_for_line("Booting worker", stderr=True)
        assert requests.get(url + "/a/", timeout=10).status_code == 200
        served.signal(signal.SIGHUP)  # gunicorn reads its config file again, then boots a new worker
        served.wait_for_line("Booting worker", stderr=True)
        assert requests.get(url + "/a/", timeout=10).status_code == 200
        served.signal(signal.SIGTERM)
        assert served.wait() == 0
    warnings = [line for line in served.stderr if line.startswith("wsgihub: warning:")]
    ours = "wsgihub writes the access log (--access-log FILE, --log-format text|json)"
    assert warnings == [
        f"wsgihub: warning: {conf}: bind is overridden by wsgihub's --host/--port",
        f"wsgihub: warning: {conf}: accesslog is ignored: {ours}",
        f"wsgihub: warning: {conf}: access_log_format is ignored: {ours}",
        f"wsgihub: warning: {conf}: wsgi_app is ignored: wsgihub serves the site it is given (SITE, --mount)",
        f"wsgihub: warning: {conf}: worker is not a gunicorn setting (ignored)",
    ], served.stderr
