"""The health path (issue 11 §4): 200 while the bus is started, 503 starting, draining, stopping.

The in-process tests drive a real hub's real bus (and a real waitress for
the STARTING window); the live tests run ``wsgihub serve`` under waitress
and under gunicorn, send SIGTERM with a slow request in flight and poll the
health path while the process drains: it answers 503 while the listener
still accepts (``--drain-delay``), before the socket closes.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

import wsgihub
from wsgihub.bus import Bus, states
from wsgihub.health import DRAIN_CHANNEL, DrainDelay, HealthCheck, announce_drain
from wsgihub.process import SignalHandler
from wsgihub.servers.front import front
from wsgihub.servers.waitress import WaitressServer
from wsgihub.testing.client import call

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess
from live_apps.echo import ARRIVED


class Recorder:
    """A plain WSGI app that records every call (health must never call it)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]


@pytest.fixture
def site() -> Iterator[tuple[wsgihub.Hub, Recorder]]:
    app = Recorder()
    hub = wsgihub.Hub()
    hub.mount("/", app, name="legacy")
    hub.mount("/api", Recorder(), name="api")
    yield hub, app
    hub.bus.exit()


def test_health_follows_the_bus_and_never_calls_an_app(site: tuple[wsgihub.Hub, Recorder]) -> None:
    hub, app = site
    served = HealthCheck(hub, hub, "/healthz")

    stopped = call(served, "/healthz")
    assert stopped.code == 503
    assert json.loads(stopped.body) == {"status": "stopped", "state": "STOPPED", "mounts": ["legacy", "api"]}

    hub.bus.start()
    ok = call(served, "/healthz")
    assert ok.code == 200 and ok.header("Content-Type") == "application/json"
    assert ok.header("Cache-Control") == "no-store"
    assert json.loads(ok.body) == {"status": "ok", "state": "STARTED", "mounts": ["legacy", "api"]}

    announce_drain(hub.bus)  # a shutdown began
    draining = call(served, "/healthz")
    assert draining.code == 503 and json.loads(draining.body)["status"] == "draining"

    hub.bus.stop()
    hub.bus.start()  # a new start: healthy again
    assert call(served, "/healthz").code == 200

    assert app.calls == []
    assert call(served, "/healthz/").code == 200 and app.calls == ["/healthz/"]  # exact path only


def test_health_answers_head_and_refuses_other_methods(site: tuple[wsgihub.Hub, Recorder]) -> None:
    hub, app = site
    served = HealthCheck(hub, hub, "/healthz")
    hub.bus.start()
    head = call(served, "/healthz", method="HEAD")
    assert head.code == 200 and head.body == b""
    post = call(served, "/healthz", method="POST")
    assert post.code == 405 and post.header("Allow") == "GET, HEAD"
    assert app.calls == []


def test_front_adds_health_only_when_asked(site: tuple[wsgihub.Hub, Recorder]) -> None:
    hub, _app = site

    class Options:
        health_path = "/-/health"

    assert not isinstance(front(hub, None), HealthCheck)
    hub.bus.start()
    assert call(front(hub, Options()), "/-/health").code == 200


def test_health_is_503_while_the_bus_is_starting(site: tuple[wsgihub.Hub, Recorder]) -> None:
    """waitress listens (priority 75) before the bus is STARTED: a slow start listener shows it."""
    hub, app = site
    bus = hub.bus
    release = threading.Event()
    listening = threading.Event()
    server = WaitressServer(bus, HealthCheck(hub, hub, "/healthz"), "127.0.0.1", 0, threads=2)
    server.subscribe()

    def slow_start() -> None:  # after waitress's start listener
        listening.set()
        release.wait(10)

    bus.subscribe("start", slow_start, priority=90)
    starter = threading.Thread(target=bus.start)
    starter.start()
    try:
        assert listening.wait(10)
        host, port = server.bound or ("", 0)
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 503
        assert json.loads(response.read())["state"] == "STARTING"
        release.set()
        starter.join(10)
        connection.request("GET", "/healthz")  # the same keep-alive connection
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["state"] == "STARTED"
        connection.close()
    finally:
        release.set()
        starter.join(10)
        bus.stop()
    assert app.calls == []


def test_drain_delay_announces_then_waits_before_the_server_stops(site: tuple[wsgihub.Hub, Recorder]) -> None:
    hub, _app = site
    bus = hub.bus
    seen: list[str] = []
    delay = DrainDelay(bus, 30)
    delay.subscribe()
    bus.subscribe(DRAIN_CHANNEL, lambda: seen.append("drain"))
    bus.subscribe("stop", lambda: seen.append("server stops"), priority=40)  # waitress's priority
    bus.start()
    bus.subscribe(DRAIN_CHANNEL, lambda: delay.cut_short())  # end the delay as soon as it begins
    bus.stop()
    assert seen == ["drain", "server stops"]


@pytest.mark.parametrize(
    ("health", "inspect", "message"),
    [
        ("/api", None, "--health-path /api: inside mount 'api' at /api"),
        ("/api/health", None, "--health-path /api/health: inside mount 'api' at /api"),
        (None, "/api/x", "--inspect /api/x: inside mount 'api' at /api"),
        ("/users/5", None, "--health-path /users/5: mount 'legacy' has a route there"),
        (None, "/users/5", "--inspect /users/5: mount 'legacy' has a route there"),
        ("/ops", "/ops", "--inspect /ops: the same path as --health-path /ops"),
        ("/ops.json", "/ops", "--inspect /ops: the same path as --health-path /ops.json"),
    ],
)
def test_health_and_inspector_paths_may_not_hide_a_mounts_urls(
    health: str | None, inspect: str | None, message: str
) -> None:
    from wsgihub.errors import ConfigError
    from wsgihub.servers.front import check_front_paths
    from wsgihub.testing.reference import ReferenceApp, reference_hub

    hub = reference_hub()
    hub.mount("/", ReferenceApp("legacy", {"user": "/users/<int:uid>"}), name="legacy")
    hub.mount("/api", Recorder(), name="api")
    with pytest.raises(ConfigError) as info:
        check_front_paths(hub, SimpleNamespace(health_path=health, inspect=inspect))
    assert str(info.value).startswith(message)
    # paths the root app has no route for are fine
    check_front_paths(hub, SimpleNamespace(health_path="/healthz", inspect="/_hub"))


# -- live: real processes ----------------------------------------------------------------------
def _health(url: str, session: requests.Session | None = None) -> tuple[int, dict[str, Any]]:
    response = (session or requests).get(url + "/healthz", timeout=5)
    return response.status_code, response.json()


def _slow_request(url: str, results: list[int | str]) -> threading.Thread:
    def client() -> None:
        try:
            results.append(requests.get(url + "/slow/?seconds=3", timeout=20).status_code)
        except requests.RequestException as exc:
            results.append(type(exc).__name__)

    thread = threading.Thread(target=client)
    thread.start()
    return thread


@pytest.mark.live
@pytest.mark.parametrize(
    "server_args",
    [["--threads", "4"], ["--workers", "1", "--threads", "4"]],
    ids=["waitress", "gunicorn"],
)
def test_health_is_503_during_the_drain_before_the_listener_closes(server_args: list[str]) -> None:
    """SIGTERM with a slow request in flight: health says 503 on a kept-alive and on a new
    connection while the server still accepts, then the listener closes and the slow
    request still finishes with 200."""
    with ServeProcess(
        [
            "live_apps.sites:slow_site",
            "--port", "0",
            "--health-path", "/healthz",
            "--drain-delay", "4",  # room for a loaded machine
            "--drain-timeout", "8",
            "-v",
            *server_args,
        ]
    ) as served:
        url = served.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        session = requests.Session()  # one kept-alive connection to the server
        code, report = _health(url, session)
        assert (code, report["status"], report["state"]) == (200, "ok", "STARTED")
        assert report["mounts"] == ["slow", "a"]

        results: list[int | str] = []
        slow = _slow_request(url, results)
        served.wait_for_line(ARRIVED)
        served.signal(signal.SIGTERM)
        served.wait_for_line("Draining: health answers 503", stderr=True)

        code, report = _health(url, session)  # the kept-alive connection
        assert (code, report["status"]) == (503, "draining")
        code, report = _health(url)  # a new connection: the listener still accepts
        assert (code, report["status"]) == (503, "draining")
        assert requests.get(url + "/a/", timeout=5).status_code == 200  # other requests are served

        slow.join(20)
        assert results == [200]
        assert served.wait(timeout=20) == 0
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()


@pytest.mark.live
def test_a_second_signal_ends_the_drain_delay() -> None:
    """waitress: a 60 s delay, SIGTERM, then SIGINT (an impatient Ctrl-C): the drain starts at once."""
    with ServeProcess(
        ["live_apps.sites:slow_site", "--port", "0", "--health-path", "/healthz", "--drain-delay", "60", "-v"]
    ) as served:
        url = served.url()
        served.signal(signal.SIGTERM)
        served.wait_for_line("Draining: health answers 503", stderr=True)
        assert _health(url)[0] == 503
        served.signal(signal.SIGINT)
        served.wait_for_line("Drain delay cut short by a second signal", stderr=True)
        assert served.wait(timeout=15) == 0
        assert served.stdout.count("MARKER stop listener ran") == 1


def test_the_sigint_of_the_ctrl_c_that_began_the_stop_does_not_end_the_drain_delay() -> None:
    """One Ctrl-C under ``--reload``: the child gets the group's SIGINT, then the parent's SIGTERM.

    Each signal is published from a thread of its own; here the SIGINT's
    thread is held until the SIGTERM's stop has begun the delay (the order
    thread scheduling sometimes gives).  That SIGINT arrived first: it is
    not a second signal.  One sent after the delay began is.
    """
    bus = Bus()
    lines: list[str] = []
    bus.subscribe("log", lambda msg, level=20: lines.append(msg))
    DrainDelay(bus, 60.0).subscribe()
    began = threading.Event()
    bus.subscribe(DRAIN_CHANNEL, began.set)
    first_sigint_done = threading.Event()
    exited = threading.Event()
    bus.subscribe("exit", exited.set)
    sigints = iter([True])

    def hold_the_first_sigint() -> None:
        if next(sigints, False):
            assert began.wait(10)

    def after_the_first_sigint() -> None:
        first_sigint_done.set()

    bus.subscribe("SIGINT", hold_the_first_sigint, priority=0)
    bus.subscribe("SIGINT", after_the_first_sigint, priority=99)
    handler = SignalHandler(bus)
    handler.subscribe()
    try:
        bus.start()
        signal.raise_signal(signal.SIGINT)  # the group's, arriving first
        signal.raise_signal(signal.SIGTERM)  # the reload parent's
        assert first_sigint_done.wait(10)
        assert bus.state is states.STOPPING
        assert "Drain delay cut short by a second signal." not in lines
        first_sigint_done.clear()
        signal.raise_signal(signal.SIGINT)  # Ctrl-C again
        assert first_sigint_done.wait(10)
        assert "Drain delay cut short by a second signal." in lines
        assert exited.wait(10)  # the stop the SIGTERM began ends, drained
    finally:
        handler.unsubscribe()
        bus.exit()
