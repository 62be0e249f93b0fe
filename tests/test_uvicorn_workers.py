"""``wsgihub serve --server uvicorn --workers N``: gunicorn's master, uvicorn's workers, real signals.

The site (``live_apps.asgi_sites:site``) has FastAPI (native ASGI, with a
lifespan that prints a marker line), Flask and a plain WSGI echo (in each
worker's thread pool).  Each test starts the command on port 0 and waits for
its ``Serving on`` line and for each worker's lifespan startup (the event
that says the worker's bus started on its loop), never for a time.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import re
import signal
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("uvicorn_worker")
pytest.importorskip("gunicorn")
pytest.importorskip("fastapi")
pytest.importorskip("wsgihub_starlette")
pytest.importorskip("wsgihub_flask")

import requests
from live_apps._process import ServeProcess, refuses_connections, run_serve, send_in_flight
from live_apps.asgi_sites import SLOW_ANSWERS, SLOW_PATHS

SITE = "live_apps.asgi_sites:site"
STARTUP = re.escape("MARKER api lifespan startup")
SHUTDOWN = "MARKER api lifespan shutdown"

pytestmark = pytest.mark.live


@pytest.fixture
def served() -> Iterator[tuple[ServeProcess, str]]:
    """Two uvicorn workers, each with its bus (and the FastAPI lifespan) started."""
    args = [SITE, "--server", "uvicorn", "--workers", "2", "--port", "0", "--threads", "4", "-v"]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        proc.wait_for_lines(STARTUP, 2, timeout=60)
        yield proc, url


def _pids(url: str, rounds: int = 40) -> set[int]:
    """The worker pids the WSGI echo answers from (new connections spread over the workers)."""
    return {requests.get(url + "/wsgi/x", timeout=10).json()["pid"] for _ in range(rounds)}


def test_two_workers_serve_asgi_and_wsgi_mounts(served: tuple[ServeProcess, str]) -> None:
    proc, url = served
    assert proc.stdout[:5] == [
        "Mounted apps:",
        "  api    starlette  /api",
        "  flask  flask      /flask",
        "  new    starlette  graft over flask",
        "  wsgi   wsgi       /wsgi",
    ]
    item = requests.get(url + "/api/items/5", timeout=10).json()
    # native on the worker's loop, with the state its lifespan (run by the bus) yielded
    assert item["db"] == "ready" and item["same_loop"] is True
    assert item["hub_url"] == "/flask/hello" and item["wsgihub_url_for"] == "/flask/old"
    hello = requests.get(url + "/flask/hello", timeout=10).json()
    assert hello == {"api": "/api/items/7", "script_name": "/flask"}
    assert requests.get(url + "/flask/new", timeout=10).json()["app"] == "fastapi-graft"
    pids = _pids(url)
    assert proc.pid not in pids and 1 <= len(pids) <= 2
    assert proc.stdout.count("MARKER api lifespan startup") == 2  # once per worker


@pytest.mark.parametrize("stop", ["sigterm-to-master", "ctrl-c-to-group"])
def test_a_stop_drains_slow_requests_in_flight(served: tuple[ServeProcess, str], stop: str) -> None:
    """SIGTERM to the master (a supervisor), or SIGINT to every process (Ctrl-C: each
    worker gets it, then the master's SIGTERM as well: that second signal keeps the drain)."""
    proc, url = served
    flight = send_in_flight(proc, url, SLOW_PATHS)  # both in flight (ASGI task, WSGI thread)
    if stop == "sigterm-to-master":
        proc.signal(signal.SIGTERM)
    else:
        proc.signal_group(signal.SIGINT)
    assert flight.finish() == SLOW_ANSWERS
    assert proc.wait(30) == 0
    # each worker's bus stopped after its drain: the lifespan shutdown ran once per worker
    assert proc.stdout.count(SHUTDOWN) == 2, proc.stdout
    assert not any("Traceback" in line for line in proc.stderr), proc.stderr[-20:]
    assert refuses_connections(url)


def test_sighup_replaces_the_workers(served: tuple[ServeProcess, str]) -> None:
    proc, url = served
    before = _pids(url)
    proc.signal(signal.SIGHUP)
    # two fresh workers started their buses, the old ones drained and stopped theirs (in any order)
    proc.wait_for_lines(r"MARKER api lifespan (startup|shutdown)", 4, timeout=60)
    assert proc.stdout.count("MARKER api lifespan startup") == 4
    assert proc.stdout.count(SHUTDOWN) == 2
    after = _pids(url)
    assert after and not after & before
    assert requests.get(url + "/api/items/1", timeout=10).json()["db"] == "ready"
    proc.signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert proc.stdout.count(SHUTDOWN) == 4  # every worker, old and new, once


def test_a_failing_start_listener_fails_the_boot_in_one_line() -> None:
    args = ["live_apps.sites:failing_site", "--server", "uvicorn", "--workers", "2", "--port", "0"]
    with ServeProcess(args) as proc:
        assert proc.wait(timeout=60) == 3  # gunicorn's "worker failed to boot"
        reports = [line for line in proc.stderr if line.startswith("wsgihub: error:")]
        named = [line for line in reports if "start listener" in line]
        assert named and set(named) == {
            (
                "wsgihub: error: start listener live_apps.sites.refuse_to_start failed: "
                "RuntimeError: the database is not there"
            )
        }
        assert set(reports) - set(named) <= {"wsgihub: error: gunicorn: Worker failed to boot."}
        assert not any("Traceback" in line for line in proc.stderr), proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "granian", "--workers", "2"], "--workers: gunicorn's option, but --server is granian"),
        (["--server", "uvicorn", "--workers", "0"], "--workers"),
        (["--mount", "/a=live_apps.crashing:app", "--server", "uvicorn", "--workers", "2"], "ZeroDivisionError"),
        (["--server", "uvicorn", "--workers", "2", "--switch-interval", "0"], "--switch-interval 0: expected"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    site = [] if "--mount" in args else [SITE]
    result = run_serve([*site, "--port", "0", *args], timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsgihub: error:") and message in lines[0], result.stderr


def test_a_stop_while_the_workers_boot_still_stops_their_buses() -> None:
    """SIGTERM while the workers boot (the first one is starting its bus, before uvicorn
    serves; the other is starting or still loading the site): each worker finishes its
    start, then drains at once; its bus stops (lifespan shutdown) and it exits normally.
    (uvicorn-worker leaves SIGTERM at its default action until uvicorn serves: the worker
    died without its bus's stop.)"""
    args = [SITE, "--server", "uvicorn", "--workers", "2", "--port", "0", "-v"]
    with ServeProcess(args) as proc:
        while True:  # a worker's line, not the master's own bus
            match = proc.wait_for_line(r"\[(\d+)\] \[INFO\] Bus STARTING$", stderr=True, timeout=60)
            if int(match.group(1)) != proc.pid:
                break
        proc.signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert proc.stdout.count("MARKER api lifespan startup") == 2, proc.stdout
        assert proc.stdout.count(SHUTDOWN) == 2, proc.stdout
        assert not any("Traceback" in line for line in proc.stderr), proc.stderr[-20:]


def test_the_drain_delay_answers_503_on_the_health_path_while_still_serving() -> None:
    """SIGTERM with --drain-delay: each worker's health path says 503 from the signal on
    while the worker keeps accepting and serving for the delay; then it drains and exits."""
    delay = 4.0
    args = [
        SITE, "--server", "uvicorn", "--workers", "2", "--port", "0", "-v",
        "--health-path", "/healthz", "--drain-delay", str(delay),
    ]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        proc.wait_for_lines(STARTUP, 2, timeout=60)
        assert requests.get(url + "/healthz", timeout=10).status_code == 200
        sent = time.monotonic()
        proc.signal(signal.SIGTERM)
        codes: list[int] = []
        while time.monotonic() - sent < delay / 2:  # the event: health turns 503 (both workers)
            codes.append(requests.get(url + "/healthz", timeout=10).status_code)
            if codes[-3:] == [503, 503, 503]:
                break
        assert codes[-3:] == [503, 503, 503], codes
        assert requests.get(url + "/wsgi/x", timeout=10).status_code == 200  # still serving
        assert requests.get(url + "/api/items/2", timeout=10).json()["item"] == 2
        assert time.monotonic() - sent < delay
        assert proc.wait(60) == 0
        assert time.monotonic() - sent >= delay  # the drain came after the delay
        assert any("Draining: health answers 503" in line for line in proc.stderr), proc.stderr[-20:]
        assert proc.stdout.count(SHUTDOWN) == 2


def test_connections_opened_at_once_spread_over_the_workers(served: tuple[ServeProcess, str]) -> None:
    """16 keep-alive connections opened at once (as wrk or a proxy's pool opens them) end on both workers.

    Each worker accepts one connection at a time and leaves the next to a sibling holding fewer (waiting
    20 ms at most): uvicorn's own accepting took every pending connection at each wake-up, and such a
    burst split 16/0, 15/1 or 14/2 in half the runs.  (At least 5 each: a loaded machine may stall a
    worker past the wait now and then; the old split failed this most of the time.)
    """
    _proc, url = served
    _assert_a_burst_spreads(url)


def test_a_killed_workers_replacement_takes_its_share(served: tuple[ServeProcess, str]) -> None:
    """A worker killed outright (as gunicorn does at its timeout) cannot clear its row of the shared
    counts; the master clears it when it spawns the replacement, and bursts spread over both again."""
    proc, url = served
    victim = next(iter(_pids(url, 4)))
    os.kill(victim, signal.SIGKILL)
    proc.wait_for_lines(STARTUP, 1, timeout=60)  # the replacement's bus started
    _assert_a_burst_spreads(url)
    assert victim not in _pids(url)


def _assert_a_burst_spreads(url: str) -> None:
    for _ in range(200):  # both workers serve (a worker's lifespan starts before it accepts)
        if len(_pids(url, 4)) == 2:
            break
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connections = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(16)]
    try:
        for conn in connections:
            conn.connect()  # all 16 wait in the listening socket's queue before any is accepted
        pids: list[int] = []
        for _ in range(3):  # keep-alive: each connection stays on the worker that accepted it
            for conn in connections:
                conn.request("GET", "/wsgi/x")
                response = conn.getresponse()
                assert response.status == 200
                pids.append(json.loads(response.read())["pid"])
        per_connection = [set(pids[i::16]) for i in range(16)]
        assert all(len(owner) == 1 for owner in per_connection)
        counts = collections.Counter(next(iter(owner)) for owner in per_connection)
        assert len(counts) == 2 and min(counts.values()) >= 5, counts
    finally:
        for conn in connections:
            conn.close()


@pytest.mark.parametrize(
    ("args", "interval"),
    [
        ([], 0.001),  # the hub's default under uvicorn: the loop waits less for the WSGI threads
        (["--switch-interval", "0.002"], 0.002),
    ],
)
def test_each_worker_runs_with_the_switch_interval_and_its_startup_frozen(args: list[str], interval: float) -> None:
    """Each worker serves with ``--switch-interval`` (default 0.001 under uvicorn) and with what the
    site made at startup frozen out of garbage collection (``gc.freeze()``)."""
    serve = ["--mount", "/=live_apps.runtime:app", "--server", "uvicorn", "--workers", "2", "--port", "0"]
    with ServeProcess([*serve, *args]) as proc:
        url = proc.url(60)
        answers = [requests.get(url + "/", timeout=10).json() for _ in range(6)]
        assert {answer["switch_interval"] for answer in answers} == {interval}
        assert all(answer["gc_frozen"] > 0 and answer["pid"] != proc.pid for answer in answers)
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0
