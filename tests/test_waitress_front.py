"""Request IDs and the access log done by waitress's own task (``wsgihub.servers.waitress_front``).

``WaitressServer(bus, front_stack(hub, options))`` does the request-ID and
access-log layer's work in waitress's task instead of a WSGI layer.  Each test
here serves the same hub both ways -- in the task, and through the layers
(``in_server=False``, what a waitress the module does not know gets) -- with
a real waitress on 127.0.0.1, port 0, sends both the same requests and
compares what comes back: the access-log lines (the time and duration
columns aside), the response headers, the IDs apps and their log records see.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from wsgihub import Hub
from wsgihub.bus import Bus
from wsgihub.requestid import ENVIRON_KEY, current_request_id
from wsgihub.servers import waitress_front
from wsgihub.servers.front import FrontStack, front, front_stack
from wsgihub.servers.waitress import WaitressServer

pytestmark = pytest.mark.live

CHUNK = b"x" * 65536
GENERATED = re.compile(r"[0-9a-f]{32}")
#: The app's log records (name "wsgihub_test.app"): request ID as the record carries it.
APP_LOGGER = "wsgihub_test.app"


# -- the site ---------------------------------------------------------------------------------
class Stream:
    """64 MB in 64 KB chunks (a client going away stops it early); closing sets ``closed``."""

    def __init__(self, closed: threading.Event) -> None:
        self.closed = closed

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(1024):
            yield CHUNK

    def close(self) -> None:
        self.closed.set()


def make_hub(tmp_path: Path, closed: threading.Event) -> Hub:
    """A hub whose mounts answer in every way a server meets."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"0123456789" * 1000)

    def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]

    def chunked(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one "
        yield b""
        yield b"two three"

    def lazy(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        # calls start_response on the first iteration (PEP 3333 allows it)
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b"made"

    def writes(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "11")])
        write(b"written ")
        return [b"end"]

    def stream(environ: dict[str, Any], start_response: Any) -> Stream:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Stream(closed)

    def boom(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    def late_boom(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial"
        raise RuntimeError("late boom")

    def sendfile(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", "10000")])
        return environ["wsgi.file_wrapper"](data.open("rb"))  # type: ignore[no-any-return]

    def own_id(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("x-request-id", "the-apps-own"), ("Content-Length", "2")])
        return [b"ok"]

    def logs(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        logging.getLogger(APP_LOGGER).warning("view ran")
        seen = f"{environ.get(ENVIRON_KEY)} {current_request_id()}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(seen)))])
        return [seen]

    def logs_late(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        # records from a copied context's thread, from the body's iteration, and from a
        # new thread (its own context: no request)
        logger = logging.getLogger(APP_LOGGER)
        start_response("200 OK", [("Content-Type", "text/plain")])
        copied = threading.Thread(target=contextvars.copy_context().run, args=(logger.warning, "copied"))
        copied.start()
        copied.join()
        yield b"a"
        logger.warning("body")
        alone = threading.Thread(target=logger.warning, args=("alone",))
        alone.start()
        alone.join()
        yield b"b"

    hub = Hub()
    for name, app in {
        "hello": hello,
        "chunked": chunked,
        "lazy": lazy,
        "writes": writes,
        "stream": stream,
        "boom": boom,
        "late": late_boom,
        "file": sendfile,
        "own": own_id,
        "logs": logs,
        "logs-late": logs_late,
    }.items():
        hub.mount("/" + name, app, name=name)
    return hub


# -- capturing lines and records -----------------------------------------------------------------
class Lines(logging.Handler):
    """Keeps each record's message; :meth:`wait` waits for a number of them (no sleeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.messages.append(record.getMessage())
            self.records.append(record)
            self.changed.notify_all()

    def wait(self, count: int, timeout: float = 20.0) -> list[str]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, timeout), self.messages
            return list(self.messages)


@contextmanager
def captured(name: str) -> Iterator[Lines]:
    logger = logging.getLogger(name)
    handler = Lines()
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextmanager
def serving(stack: FrontStack, *, in_server: bool) -> Iterator[tuple[str, WaitressServer]]:
    bus = Bus()
    server = WaitressServer(
        bus,
        stack,
        "127.0.0.1",
        0,
        threads=2,
        drain_timeout=5,
        in_server=in_server,
        options={"clear_untrusted_proxy_headers": False},  # as wsgihub serve: forwarded headers are the stack's
    )
    server.subscribe()
    try:
        bus.start()
        yield server.url, server
    finally:
        bus.exit()


def _mask(line: str, log_format: str) -> str:
    """A line without its time and duration (which differ between any two runs)."""
    if log_format == "json":
        record = json.loads(line)
        del record["time"], record["duration_ms"]
        return json.dumps(record)
    parts = line.split(" ")
    parts[0] = "TIME"
    return re.sub(r" \d+\.\d{3}ms ", " DURATIONms ", " ".join(parts))


def _disconnect_mid_response(url: str, closed: threading.Event) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: t-gone\r\n\r\n")
        received = 0
        while received < 200_000:
            data = sock.recv(65536)
            assert data
            received += len(data)
    assert closed.wait(20)


#: (method, path, X-Request-ID sent or None) -- each with its own ID, so lines match by ID.
REQUESTS = [
    ("GET", "/hello/x", "t-hello"),
    ("HEAD", "/hello/x", "t-head"),
    ("POST", "/hello/y", "t-post"),
    ("GET", "/chunked", "t-chunked"),
    ("GET", "/lazy", "t-lazy"),
    ("GET", "/writes", "t-writes"),
    ("GET", "/boom", "t-boom"),
    ("GET", "/late", "t-late"),
    ("GET", "/file", "t-file"),
    ("GET", "/own", "t-own"),
    ("GET", "/logs", "t-logs"),
    ("GET", "/nowhere", "t-404"),
    ("GET", "/caf\u00e9/%E2%98%83", "t-encoded"),
]


def _run(stack: FrontStack, closed: threading.Event, *, in_server: bool) -> dict[str, Any]:
    """Every request of :data:`REQUESTS` (plus a disconnect), served one way: what came back."""
    closed.clear()
    answers: dict[str, Any] = {}
    with captured("wsgihub.access") as lines, captured(APP_LOGGER) as app_records:
        with serving(stack, in_server=in_server) as (url, server):
            assert server.in_server_work is in_server
            with requests.Session() as session:
                for method, path, sent_id in REQUESTS:
                    try:
                        response = session.request(method, url + path, headers={"X-Request-ID": sent_id}, timeout=10)
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):  # the late boom: headers sent, then the connection cut
                        answers[sent_id] = None
                        continue
                    answers[sent_id] = (response.status_code, response.headers.get("X-Request-ID"), response.content)
                invalid = session.get(url + "/hello/bad", headers={"X-Request-ID": "not valid!"}, timeout=10)
                generated = session.get(url + "/hello/none", timeout=10)
            _disconnect_mid_response(url, closed)
            count = len(REQUESTS) + 3
            messages = lines.wait(count)
        answers["records"] = [(record.getMessage(), record.request_id) for record in app_records.records]
    answers["invalid"] = invalid.headers["X-Request-ID"]
    answers["generated"] = generated.headers["X-Request-ID"]
    answers["lines"] = messages
    answers["line_records"] = lines.records
    return answers


@pytest.fixture
def closed() -> threading.Event:
    return threading.Event()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_servers_own_lines_are_the_layers(tmp_path: Path, closed: threading.Event, log_format: str) -> None:
    hub = make_hub(tmp_path, closed)
    stack = front_stack(hub, SimpleNamespace(access_log="-", log_format=log_format))
    assert stack.inner is not None and stack.access_log is not None
    layers = _run(stack, closed, in_server=False)
    task = _run(stack, closed, in_server=True)

    # what the clients got: statuses, ID headers, bodies
    for _method, _path, sent_id in REQUESTS:
        assert task[sent_id] == layers[sent_id], sent_id
    assert task["t-hello"] == (200, "t-hello", b"hello")
    assert task["t-head"] == (200, "t-head", b"")
    assert task["t-own"] == (200, "the-apps-own", b"ok")  # the app's own header is kept, not doubled
    assert task["t-boom"][:2] == (500, None)  # waitress's own error answer
    assert task["t-logs"][2] == b"t-logs t-logs"  # the environ's and the log records' ID while the app runs
    assert task["records"] == layers["records"] == [("view ran", "t-logs")]
    for answers in (task, layers):
        assert GENERATED.fullmatch(answers["invalid"]) and GENERATED.fullmatch(answers["generated"])

    def by_id(answers: dict[str, Any]) -> dict[str, str]:
        found = {}
        for line in answers["lines"]:
            masked = _mask(line, log_format)
            for generated in (answers["invalid"], answers["generated"]):
                masked = masked.replace(generated, "GENERATED")
            key = re.search(r"t-[a-z0-9]+|GENERATED", masked)
            assert key is not None, line
            found.setdefault(key.group(), []).append(masked)
        return {key: "\n".join(sorted(value)) for key, value in found.items()}

    task_lines, layer_lines = by_id(task), by_id(layers)
    gone_task, gone_layers = task_lines.pop("t-gone"), layer_lines.pop("t-gone")
    assert task_lines == layer_lines
    # the client that went away: the bytes so far differ from run to run, the rest does not
    gone = re.compile(r'"?bytes"?:? ?\d+' if log_format == "json" else r" 200 \d+ ")
    assert gone.sub("BYTES", gone_task) == gone.sub("BYTES", gone_layers)

    values = {record.request_id: record for record in task["line_records"]}
    assert (values["t-hello"].status, values["t-hello"].bytes, values["t-hello"].mount) == (200, 5, "hello")
    assert (values["t-head"].method, values["t-head"].bytes) == ("HEAD", 0)
    assert values["t-chunked"].bytes == len(b"one two three")
    assert (values["t-lazy"].status, values["t-lazy"].bytes) == (201, 4)
    assert values["t-writes"].bytes == 11
    assert (values["t-boom"].status, values["t-boom"].bytes, values["t-boom"].mount) == (500, 0, "boom")
    assert (values["t-late"].status, values["t-late"].bytes) == (200, len(b"partial"))
    assert values["t-file"].bytes == 10000
    assert (values["t-404"].status, values["t-404"].mount, values["t-404"].path) == (404, None, "/nowhere")
    assert values["t-encoded"].path == "/caf%C3%A9/%E2%98%83"
    assert 0 < values["t-gone"].bytes < 1024 * len(CHUNK)
    assert {record.remote_addr for record in task["line_records"]} == {"127.0.0.1"}


def test_request_ids_alone_in_the_server(tmp_path: Path, closed: threading.Event) -> None:
    """The default stack (IDs, no access log): header, environ, log records, an app's own header."""
    hub = make_hub(tmp_path, closed)
    stack = front_stack(hub, None)
    assert stack.access_log is None and stack.request_id_header == "X-Request-ID"
    with captured(APP_LOGGER) as app_records, serving(stack, in_server=True) as (url, server):
        assert server.in_server_work
        kept = requests.get(url + "/logs", headers={"X-Request-ID": "abc.DEF:1-2_3"}, timeout=10)
        made = requests.get(url + "/logs", headers={"X-Request-ID": "x" * 129}, timeout=10)
        own = requests.get(url + "/own", timeout=10)
        head = requests.head(url + "/hello/", timeout=10)
    assert kept.headers["X-Request-ID"] == "abc.DEF:1-2_3"
    assert kept.content == b"abc.DEF:1-2_3 abc.DEF:1-2_3"
    made_id = made.headers["X-Request-ID"]
    assert GENERATED.fullmatch(made_id) and made.content == f"{made_id} {made_id}".encode()
    assert [record.request_id for record in app_records.records] == ["abc.DEF:1-2_3", made_id]
    assert own.headers["X-Request-ID"] == "the-apps-own"
    assert GENERATED.fullmatch(head.headers["X-Request-ID"]) and head.content == b""
    assert current_request_id() == "-"


def test_records_carry_the_id_all_the_request_long(tmp_path: Path, closed: threading.Event) -> None:
    """In the task: records from the body's iteration and a copied context have the ID; none after."""
    hub = make_hub(tmp_path, closed)
    with captured(APP_LOGGER) as app_records, serving(front_stack(hub, None), in_server=True) as (url, server):
        assert server.in_server_work
        first = requests.get(url + "/logs-late/", headers={"X-Request-ID": "late-1"}, timeout=10)
        second = requests.get(url + "/logs-late/", timeout=10)
        between = requests.get(url + "/logs", headers={"X-Request-ID": "next-2"}, timeout=10)
    assert first.content == b"ab" and second.content == b"ab"
    made = second.headers["X-Request-ID"]
    seen = [(record.getMessage(), record.request_id) for record in app_records.records]
    assert seen == [
        ("copied", "late-1"), ("body", "late-1"), ("alone", "-"),
        ("copied", made), ("body", made), ("alone", "-"),
        ("view ran", "next-2"),
    ]  # fmt: skip
    assert between.content == b"next-2 next-2"
    assert current_request_id() == "-"


def test_another_header_name_and_ids_off(tmp_path: Path, closed: threading.Event) -> None:
    hub = make_hub(tmp_path, closed)
    with serving(front_stack(hub, SimpleNamespace(request_id_header="Trace-Id")), in_server=True) as (url, server):
        assert server.in_server_work
        answer = requests.get(url + "/hello/", headers={"Trace-Id": "t1", "X-Request-ID": "other"}, timeout=10)
    assert answer.headers["Trace-Id"] == "t1" and "X-Request-ID" not in answer.headers
    off = front_stack(hub, SimpleNamespace(request_id_header=""))
    assert off.inner is None  # nothing for the server to do: it serves the stack
    with serving(off, in_server=True) as (url, server):
        assert not server.in_server_work
        answer = requests.get(url + "/hello/", timeout=10)
    assert "X-Request-ID" not in answer.headers


def test_a_forwarded_prefix_and_client_are_logged_as_the_layer_logs_them(
    tmp_path: Path, closed: threading.Event
) -> None:
    hub = make_hub(tmp_path, closed)
    stack = front_stack(hub, SimpleNamespace(access_log="-", forwarded_allow_ips="127.0.0.1"))
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Prefix": "/outer", "X-Request-ID": "t-fwd"}
    got = []
    for in_server in (True, False):
        with captured("wsgihub.access") as lines, serving(stack, in_server=in_server) as (url, _server):
            assert requests.get(url + "/hello/x", headers=headers, timeout=10).status_code == 200
            (line,) = lines.wait(1)
            got.append(_mask(line, "text"))
            record = lines.records[0]
            assert (record.remote_addr, record.path, record.mount) == ("203.0.113.7", "/outer/hello/x", "hello")
    assert got[0] == got[1]


def test_the_layers_where_the_task_cannot(tmp_path: Path, closed: threading.Event, monkeypatch: pytest.MonkeyPatch) -> None:
    """A waitress the module does not know (here: switched off) gets the layers: the same answers."""
    hub = make_hub(tmp_path, closed)
    stack = front_stack(hub, SimpleNamespace(access_log="-"))
    monkeypatch.setattr(waitress_front, "ENABLED", False)
    assert waitress_front.unsupported() is not None
    with captured("wsgihub.access") as lines, serving(stack, in_server=True) as (url, server):
        assert not server.in_server_work
        answer = requests.get(url + "/hello/", headers={"X-Request-ID": "t-1"}, timeout=10)
        (line,) = lines.wait(1)
    assert answer.headers["X-Request-ID"] == "t-1"
    assert ' "GET /hello/" 200 5 ' in line and line.endswith(" hello - t-1")


def test_when_the_work_stays_a_layer() -> None:
    hub = Hub()
    assert front_stack(hub, SimpleNamespace(request_id_header="X-Forwarded-Id")).inner is None
    assert front_stack(hub, SimpleNamespace(request_id_header="X-Real-IP")).inner is None
    assert waitress_front.unsupported("Connection") is not None
    assert waitress_front.unsupported("X-Request-ID") is None
    # front() is still every layer
    stack = front_stack(hub, None)
    assert type(front(hub, None)) is type(stack.app)
    assert stack.inner is not None and stack.inner is not stack.app


def _raw_head(url: str, request: bytes) -> bytes:
    """The response head the server sends for ``request`` (one connection), without its Date line."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.partition(b"\r\n\r\n")[0]
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"Date: "))


def test_the_id_header_line_sits_where_the_layer_puts_it() -> None:
    """The task's head is byte for byte the layer's: app headers sorting before and after the ID's."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK",
            [("zz-after", "1"), ("X-Request-Ic", "2"), ("a-before", "3"), ("x-request-ie", "4"), ("Zz-After", "5")],
        )
        return [b"ok"]

    hub = Hub()
    hub.mount("/", app, name="plain")
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: t-head-bytes\r\n\r\n"
    heads = {}
    for in_server in (True, False):
        with serving(front_stack(hub, SimpleNamespace()), in_server=in_server) as (url, server):
            assert server.in_server_work is in_server
            heads[in_server] = _raw_head(url, request)
    assert heads[True] == heads[False]
    assert heads[True].split(b"\r\n")[1:] == [
        b"A-Before: 3",
        b"Content-Length: 2",
        b"Server: waitress",
        b"X-Request-Ic: 2",
        b"X-Request-Id: t-head-bytes",
        b"X-Request-Ie: 4",
        b"Zz-After: 1",
        b"Zz-After: 5",
    ]
