"""``wsgihub serve --server uvicorn`` (and ``granian``): real processes, real signals, real sockets.

The site (``live_apps.asgi_sites:site``) has FastAPI (native ASGI), Flask and
a plain WSGI app (in the thread pool).  Each test starts ``wsgihub serve
--server uvicorn --port 0`` and waits for its ``Serving on`` line.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
pytest.importorskip("wsgihub_starlette")
pytest.importorskip("wsgihub_flask")

import requests
from live_apps._process import ServeProcess, refuses_connections, run_serve, send_in_flight
from live_apps.asgi_sites import SLOW_ANSWERS, SLOW_PATHS
from live_apps.echo import app_a
from websockets.sync.client import connect

from wsgihub import Hub
from wsgihub.servers import bind_socket
from wsgihub.servers.uvicorn import UvicornServer

SITE = "live_apps.asgi_sites:site"


def _granian() -> Any:
    try:
        import granian  # noqa: F401
    except ImportError:
        return pytest.mark.skip(reason="granian is not installed")
    return ()


SERVERS = [pytest.param("uvicorn"), pytest.param("granian", marks=_granian())]


@pytest.fixture(params=SERVERS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[ServeProcess, str]]:
    """``wsgihub serve --server uvicorn`` (and ``granian``, kept for the same bus lifecycle)."""
    with ServeProcess([SITE, "--server", request.param, "--port", "0", "--threads", "4", "-v"]) as proc:
        yield proc, proc.url(60)


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class _Upload:
    """``size`` bytes made as they are read (requests streams it with a Content-Length)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.size = size
        self.block = b"u" * 65536

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = min(self.left, len(self.block) if amount is None or amount < 0 else min(amount, len(self.block)))
        self.left -= n
        return self.block[:n]


def test_a_websocket_echo_through_the_hub(served: tuple[ServeProcess, str]) -> None:
    _proc, url = served
    with connect(url.replace("http://", "ws://") + "/api/ws") as ws:
        for text in ("one", "two", "three"):
            ws.send(text)
            assert ws.recv() == f"echo:{text}:/api"
        ws.send("bye")


def test_a_50_mb_upload_streams_through_a_wsgi_mount_in_bounded_memory(served: tuple[ServeProcess, str]) -> None:
    proc, url = served
    warm = requests.post(url + "/flask/upload", data=_Upload(2 * 1024 * 1024), timeout=60).json()
    assert warm["size"] == 2 * 1024 * 1024
    before = _peak_rss_kib(proc.pid)
    size = 50 * 1024 * 1024
    answer = requests.post(url + "/flask/upload", data=_Upload(size), timeout=120).json()
    assert answer["size"] == size and answer["largest"] <= 65536
    growth = _peak_rss_kib(proc.pid) - before
    assert growth < 16 * 1024, f"the server's peak RSS grew by {growth} KiB for a 50 MB upload"


def test_sigterm_drains_slow_requests_in_flight(served: tuple[ServeProcess, str]) -> None:
    proc, url = served
    flight = send_in_flight(proc, url, SLOW_PATHS)  # both in flight (ASGI task, WSGI thread)
    proc.signal(signal.SIGTERM)
    assert flight.finish() == SLOW_ANSWERS
    assert proc.wait(30) == 0
    assert any(re.match(r"INFO \[wsgihub.bus\] Draining (uvicorn|granian)", line) for line in proc.stderr), proc.stderr[-20:]
    assert "MARKER api lifespan shutdown" in proc.stdout  # the bus stopped the app after the drain
    assert refuses_connections(url)


@pytest.mark.parametrize("server", SERVERS)
def test_the_drain_timeout_bounds_the_wait_for_stuck_requests(server: str) -> None:
    with ServeProcess([SITE, "--server", server, "--port", "0", "--drain-timeout", "1"]) as proc:
        url = proc.url(60)
        send_in_flight(proc, url, ("/api/slow?seconds=60", "/flask/slow?seconds=60"))
        proc.signal(signal.SIGTERM)
        assert proc.wait(20) == 0  # not the 60 s the requests want: a WSGI thread does not hold the exit


def test_the_lifespan_runs_once_and_on_the_servers_loop(served: tuple[ServeProcess, str]) -> None:
    proc, url = served
    body = requests.get(url + "/api/items/5", timeout=10).json()
    assert body["db"] == "ready" and body["same_loop"] is True
    assert proc.stdout.count("MARKER api lifespan startup") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "granian", "--workers", "2"], "--workers: gunicorn's option, but --server is granian"),
        (["--server", "nginx"], "--server nginx: expected waitress, gunicorn, uvicorn or granian"),
        (["--server", "granian", "--gunicorn-config", __file__], "--gunicorn-config: gunicorn's option"),
    ],
)
def test_bad_server_options_are_one_line(args: list[str], message: str) -> None:
    result = run_serve([SITE, "--port", "0", *args])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_front_layers_serve_the_wsgi_side_and_the_health_path() -> None:
    args = [SITE, "--server", "uvicorn", "--port", "0", "--health-path", "/healthz", "--access-log", "-"]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        health = requests.get(url + "/healthz", timeout=10)
        assert health.status_code == 200
        flask_page = requests.get(url + "/flask/hello", timeout=10)
        assert flask_page.headers.get("X-Request-ID")  # the request-ID layer ran (WSGI side)
        proc.wait_for_line(r"GET /flask/hello", timeout=10)  # one access-log line on stdout
        assert requests.get(url + "/api/items/1", timeout=10).json()["item"] == 1  # native beside them


def test_a_fastapi_app_grafted_over_django_under_uvicorn() -> None:
    pytest.importorskip("django")
    pytest.importorskip("wsgihub_django")
    with ServeProcess(["live_apps.asgi_django_site:site", "--server", "uvicorn", "--port", "0", "-v"]) as proc:
        url = proc.url(60)
        # route-aware: the graft takes the routes its router matches, natively
        assert requests.get(url + "/blog/3/", timeout=10).json() == {
            "app": "fastapi", "pk": 3, "django_home": "/", "about": "/about/"
        }
        assert requests.get(url + "/items/4", timeout=10).json()["app"] == "fastapi"
        # everything else is Django's, in the thread pool, with cross-app URLs
        assert requests.get(url + "/", timeout=10).json() == {"app": "django", "page": "home", "new_item": "/items/4"}
        # the graft's 404 to a GET falls through to Django
        assert requests.get(url + "/about/", timeout=10).json() == {"app": "django", "page": "about", "script_name": ""}
        # a POST the graft takes runs there only, whatever it answers
        assert requests.post(url + "/blog/3/", data=b"x", timeout=10).status_code == 404
        assert requests.get(url + "/items/1", timeout=10).json()["posts"] == [3]
    assert any("graft 'new' takes" in line for line in proc.stderr), proc.stderr[:5]  # the overlap report


# -- the front layers for native requests (issue 11 under --server uvicorn/granian) -----------------------
def test_native_requests_get_request_ids(served: tuple[ServeProcess, str]) -> None:
    """A FastAPI mount's requests get the request-ID rules WSGI mounts get (scope, log records, header)."""
    _proc, url = served
    made = requests.get(url + "/api/front", timeout=10)
    assert made.status_code == 200
    body = made.json()
    rid = made.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert body["request_id"] == body["record_request_id"] == rid
    kept = requests.get(url + "/api/front", headers={"X-Request-ID": "abc.123:x-y_z"}, timeout=10)
    assert kept.headers["X-Request-ID"] == kept.json()["request_id"] == "abc.123:x-y_z"
    hostile = requests.get(url + "/api/front", headers={"X-Request-ID": "a b<script>" + "x" * 200}, timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])
    # a WSGI mount beside it keeps its own (the WSGI front) with the same rules
    assert re.fullmatch(r"[0-9a-f]{32}", requests.get(url + "/flask/hello", timeout=10).headers["X-Request-ID"])


def test_native_requests_ignore_forwarded_headers_from_untrusted_peers(served: tuple[ServeProcess, str]) -> None:
    _proc, url = served
    sent = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Prefix": "/evil",
        "Forwarded": "for=203.0.113.9;proto=https",
    }
    body = requests.get(url + "/api/front", headers=sent, timeout=10).json()
    assert body["client"] == "127.0.0.1"
    assert body["scheme"] == "http"
    assert body["root_path"] == "/api"
    assert body["host"] == url.removeprefix("http://")
    assert body["forwarded"] == []


@pytest.mark.parametrize("server", SERVERS)
def test_native_requests_take_forwarded_headers_from_trusted_proxies(server: str) -> None:
    args = [SITE, "--server", server, "--port", "0", "--threads", "2", "--forwarded-allow-ips", "127.0.0.1"]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        sent = {
            "X-Forwarded-For": "198.51.100.7, 127.0.0.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "public.example",
            "X-Forwarded-Prefix": "/outer",
        }
        body = requests.get(url + "/api/front", headers=sent, timeout=10).json()
    assert body["client"] == "198.51.100.7"
    assert body["scheme"] == "https"
    assert body["host"] == "public.example"
    assert body["root_path"] == "/outer/api"
    assert body["url_for"] == "/outer/api/front"  # the proxy's prefix is in front of the hub's URLs


@pytest.mark.parametrize("server", SERVERS)
def test_native_requests_are_in_the_access_log(server: str, tmp_path: Any) -> None:
    """One JSON line per native request, same keys as a WSGI request's, with mount and endpoint."""
    import json

    log = tmp_path / "access.log"
    args = [SITE, "--server", server, "--port", "0", "--threads", "2", "--access-log", str(log), "--log-format", "json"]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        native = requests.get(url + "/api/items/7", headers={"X-Request-ID": "native-1"}, timeout=10)
        wsgi = requests.get(url + "/flask/hello", headers={"X-Request-ID": "wsgi-1"}, timeout=10)
        assert native.status_code == wsgi.status_code == 200
        # the file is written in batches (at least once a second): wait for both lines
        deadline = time.monotonic() + 30
        lines: dict[str, Any] = {}
        while time.monotonic() < deadline and not {"native-1", "wsgi-1"} <= lines.keys():
            text = log.read_text() if log.exists() else ""
            whole = text[: text.rfind("\n") + 1]  # a batch being written: its whole lines only
            lines = {line["request_id"]: line for line in map(json.loads, whole.splitlines())}
            time.sleep(0.05)
    one, other = lines["native-1"], lines["wsgi-1"]
    assert list(one) == list(other)
    assert (one["method"], one["path"], one["status"], one["mount"], one["endpoint"]) == (
        "GET", "/api/items/7", 200, "api", "read_item"
    )
    assert one["bytes"] == len(native.content)
    assert one["remote_addr"] == "127.0.0.1"
    assert (other["mount"], other["path"]) == ("flask", "/flask/hello")


@pytest.mark.parametrize("server", SERVERS)
def test_access_log_lines_still_queued_at_a_stop_are_written(server: str, tmp_path: Any) -> None:
    """SIGTERM right after a request: its line is in the file once the process exited (granian lost it)."""
    log = tmp_path / "access.log"
    args = [SITE, "--server", server, "--port", "0", "--threads", "2", "--access-log", str(log)]
    with ServeProcess(args) as proc:
        url = proc.url(60)
        assert requests.get(url + "/api/items/7", headers={"X-Request-ID": "last-native"}, timeout=10).ok
        assert requests.get(url + "/flask/hello", headers={"X-Request-ID": "last-wsgi"}, timeout=10).ok
        proc.signal(signal.SIGTERM)  # before the once-a-second batch is written
        assert proc.wait(30) == 0
    text = log.read_text()
    assert "last-native" in text and "last-wsgi" in text, text


# -- uvicorn's own log messages (the uvicorn.error logger) ------------------------------------------
STARTED = "[uvicorn.error] Started server process"
INVALID = "[uvicorn.error] Invalid HTTP request received."


def _send_garbage(url: str) -> None:
    """Send a request uvicorn cannot parse (it logs a warning) and read until it closes."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        while sock.recv(4096):
            pass


def _uvicorn_messages(*args: str, site: tuple[str, ...] = ("--mount", "/a=live_apps.echo:app_a")) -> list[str]:
    """stderr of ``wsgihub serve --server uvicorn ARGS`` sent one unparsable request, then SIGTERM."""
    with ServeProcess([*site, "--server", "uvicorn", "--port", "0", *args]) as proc:
        url = proc.url(60)
        _send_garbage(url)
        assert requests.get(url + "/a/", timeout=10).ok  # (after the garbage: its warning is out)
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    return proc.stderr


@pytest.mark.parametrize(
    ("args", "started", "invalid"),
    [([], False, True), (["-v"], True, True), (["-q"], False, False)],
    ids=["default-warnings", "verbose-info", "quiet-errors"],
)
def test_uvicorns_own_messages_follow_the_verbosity(args: list[str], started: bool, invalid: bool) -> None:
    """Without a logging configuration: -q/-v decide for uvicorn's messages as for wsgihub's."""
    stderr = _uvicorn_messages(*args)
    assert any(STARTED in line for line in stderr) is started, stderr
    assert any(INVALID in line for line in stderr) is invalid, stderr


SITE_INI_UVICORN_LOGGING = """\
[composite:main]
use = egg:wsgihub#hub
/a = a

[app:a]
use = call:live_apps.echo:echo_factory

[loggers]
keys = root, uvicorn

[handlers]
keys = stderr

[formatters]
keys = site

[logger_root]
level = WARNING
handlers = stderr

[logger_uvicorn]
level = INFO
handlers =
qualname = uvicorn

[handler_stderr]
class = StreamHandler
args = (sys.stderr,)
formatter = site

[formatter_site]
format = SITE %(levelname)s [%(name)s] %(message)s
"""


def test_the_site_files_loggers_decide_for_uvicorns_messages(tmp_path: Any) -> None:
    """The site file's [loggers] sets uvicorn at INFO under a WARNING root: its startup lines show."""
    site = tmp_path / "site.ini"
    site.write_text(SITE_INI_UVICORN_LOGGING)
    stderr = _uvicorn_messages(site=(str(site),))
    assert any(line.startswith("SITE INFO " + STARTED) for line in stderr), stderr
    assert any(line.startswith("SITE WARNING " + INVALID) for line in stderr), stderr


def test_a_log_config_decides_for_uvicorns_messages(tmp_path: Any) -> None:
    """--log-config with uvicorn.error at ERROR under an INFO root: wsgihub's INFO lines, none of uvicorn's."""
    config = tmp_path / "logging.json"
    config.write_text(
        json.dumps(
            {
                "formatters": {"f": {"format": "CONF %(levelname)s [%(name)s] %(message)s"}},
                "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "f"}},
                "root": {"level": "INFO", "handlers": ["err"]},
                "loggers": {"uvicorn.error": {"level": "ERROR"}},
            }
        )
    )
    stderr = _uvicorn_messages("--log-config", str(config))
    assert any(line.startswith("CONF INFO [wsgihub.bus] Serving on") for line in stderr), stderr
    assert not any("[uvicorn.error]" in line for line in stderr), stderr


def test_uvicorn_error_gets_the_level_it_inherits_so_no_trace_messages_are_built() -> None:
    """In the process: once uvicorn serves, ``uvicorn.error`` has a level of its own (what it
    inherited), as uvicorn builds its per-connection trace messages whenever that level is
    at most TRACE (NOTSET is); a level set by a configuration stays, TRACE included."""
    logger = logging.getLogger("uvicorn.error")
    root = logging.getLogger()
    saved = (logger.level, root.level)
    records: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(catch)
    try:
        for own, expected in ((logging.NOTSET, logging.WARNING), (5, 5)):  # 5: uvicorn's TRACE
            logger.setLevel(own)
            root.setLevel(logging.WARNING)
            hub = Hub()
            hub.mount("/a", app_a)
            server = UvicornServer(hub.bus, hub.asgi, sock=bind_socket("127.0.0.1", 0))
            server.subscribe()
            hub.bus.start()
            try:
                assert logger.level == expected
                assert requests.get(server.url + "/a/", timeout=10).ok
            finally:
                hub.bus.exit()
        traced = [r.getMessage() for r in records if r.levelno == 5]
        assert any("HTTP connection made" in message for message in traced), traced  # the TRACE run only
    finally:
        logger.removeHandler(catch)
        logger.setLevel(saved[0])
        root.setLevel(saved[1])


@pytest.mark.live
@pytest.mark.parametrize(
    ("args", "interval"),
    [
        (["--server", "uvicorn"], 0.001),  # the hub's default beside an event loop
        (["--server", "uvicorn", "--switch-interval", "0.003"], 0.003),
        ([], 0.005),  # waitress: Python's own
        (["--switch-interval", "0.002"], 0.002),
        (["--workers", "1"], 0.005),  # gunicorn's sync worker
    ],
)
def test_the_serving_process_runs_with_the_switch_interval(args: list[str], interval: float) -> None:
    """``--switch-interval`` (``sys.setswitchinterval``) where the hub serves; 0.001 by default under
    uvicorn (the event loop needs the GIL for every read and write while the WSGI threads run).
    Under every server, what the site made at startup is frozen out of garbage collection."""
    with ServeProcess(["--mount", "/=live_apps.runtime:app", "--port", "0", *args]) as proc:
        url = proc.url(60)
        answer = requests.get(url + "/", timeout=10).json()
        assert answer["switch_interval"] == interval
        assert answer["gc_frozen"] > 0
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0
