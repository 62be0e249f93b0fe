"""The access log (issue 11 §2): one line per request, the same under waitress and gunicorn.

Live tests run ``wsgihub serve`` in a subprocess on port 0 with ``--access-log -``
(lines on stdout, waited for like the ``Serving on`` line) or with a file
read after the server stopped.  The framework rows (mount and endpoint of a
Django, Flask and Pyramid route) are skipped where the frameworks are not
installed (the core tox env) and run in the integration envs.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub import Hub
from wsgihub.accesslog import FIELDS, AccessLog, logged_path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess, run_serve

pytestmark = pytest.mark.live

SERVERS = {"waitress": [], "gunicorn": ["--workers", "1"]}

#: time remote "method path" status bytes duration mount endpoint request_id
TEXT_LINE = re.compile(
    r'^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<remote>\S+) '
    r'"(?P<method>\S+) (?P<path>.*)" (?P<status>\d{3}|-) (?P<bytes>\d+|-) '
    r"(?P<duration>\d+\.\d{3})ms (?P<mount>\S+) (?P<endpoint>\S+) (?P<rid>\S+)$"
)

PLAIN_SITE = '''
import sys
from wsgihub import Hub

def hello(environ, start_response):
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [body]

class Stream:
    """256 MB at most, in 64 KB chunks: the client goes away long before."""
    def __iter__(self):
        chunk = b"x" * 65536
        for _ in range(4096):
            yield chunk
    def close(self):
        sys.stdout.write("CLOSED stream\\n")
        sys.stdout.flush()

def stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return Stream()

def boom(environ, start_response):
    raise RuntimeError("boom")

def site():
    hub = Hub()
    hub.mount("/plain", hello, name="plain")
    hub.mount("/stream", stream, name="stream")
    hub.mount("/boom", boom, name="boom")
    return hub
'''


@pytest.fixture
def plain_site(tmp_path: Path) -> Path:
    (tmp_path / "plain_site.py").write_text(textwrap.dedent(PLAIN_SITE))
    return tmp_path


def _serve(site_dir: Path, *args: str) -> ServeProcess:
    return ServeProcess(["plain_site:site", "--port", "0", *args], pythonpath=[site_dir])


# -- text and JSON lines, both servers ----------------------------------------------------------
@pytest.mark.parametrize("server", SERVERS)
def test_text_line_per_request(plain_site: Path, server: str) -> None:
    with _serve(plain_site, "--access-log", "-", *SERVERS[server]) as proc:
        url = proc.url()
        answer = requests.get(url + "/plain/x", headers={"X-Request-ID": "abc-123"}, timeout=10)
        assert answer.status_code == 200
        line = proc.wait_for_line(TEXT_LINE)
        assert line["method"] == "GET"
        assert line["path"] == "/plain/x"
        assert line["status"] == "200"
        assert line["bytes"] == "5"
        assert line["mount"] == "plain"
        assert line["endpoint"] == "-"  # a plain WSGI app has no endpoints
        assert line["rid"] == "abc-123" == answer.headers["X-Request-ID"]
        assert line["remote"] == "127.0.0.1"
        assert float(line["duration"]) >= 0

        # a path no mount takes: no mount, a 404, a generated ID
        answer = requests.get(url + "/nowhere", timeout=10)
        line = proc.wait_for_line(TEXT_LINE)
        assert (line["status"], line["mount"], line["path"]) == ("404", "-", "/nowhere")
        assert re.fullmatch(r"[0-9a-f]{32}", line["rid"])
        assert line["rid"] == answer.headers["X-Request-ID"]


@pytest.mark.parametrize("server", SERVERS)
def test_json_lines_to_a_file(plain_site: Path, tmp_path: Path, server: str) -> None:
    log = tmp_path / "access.log"
    with _serve(plain_site, "--access-log", str(log), "--log-format", "json", *SERVERS[server]) as proc:
        url = proc.url()
        first = requests.get(url + "/plain/a?token=secret", timeout=10)
        second = requests.post(url + "/plain/b", data=b"12345", timeout=10)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        assert tuple(record) == FIELDS
        assert record["mount"] == "plain"
        assert record["endpoint"] is None
        assert record["remote_addr"] == "127.0.0.1"
        assert record["status"] == 200 and record["bytes"] == 5
        assert isinstance(record["duration_ms"], float)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
    # A line is written when the server closes the body, which may come after the
    # client already has the response and sent the next request: match by request ID.
    by_id = {r["request_id"]: r for r in records}
    assert set(by_id) == {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert by_id[first.headers["X-Request-ID"]]["method"] == "GET"
    assert by_id[second.headers["X-Request-ID"]]["method"] == "POST"
    assert by_id[first.headers["X-Request-ID"]]["path"] == "/plain/a"  # the query string (tokens) is left out


@pytest.mark.parametrize("server", SERVERS)
def test_a_non_ascii_path_is_logged_percent_encoded(plain_site: Path, tmp_path: Path, server: str) -> None:
    """Not latin-1 mojibake (PATH_INFO's bytes decoded as latin-1): the path as the client sent it."""
    log = tmp_path / "access.log"
    with _serve(plain_site, "--access-log", "-", *SERVERS[server]) as text_proc:
        requests.get(text_proc.url() + "/plain/caf\u00e9/%E2%98%83", timeout=10)
        line = text_proc.wait_for_line(TEXT_LINE)
        assert line["path"] == "/plain/caf%C3%A9/%E2%98%83"
    with _serve(plain_site, "--access-log", str(log), "--log-format", "json", *SERVERS[server]) as proc:
        requests.get(proc.url() + "/plain/caf\u00e9", timeout=10)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    (record,) = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines()]
    assert record["path"] == "/plain/caf%C3%A9"


@pytest.mark.parametrize("server", SERVERS)
def test_a_client_that_goes_away_is_logged_with_the_bytes_so_far(
    plain_site: Path, server: str
) -> None:
    with _serve(plain_site, "--access-log", "-", *SERVERS[server]) as proc:
        url = proc.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
            received = 0
            while received < 200_000:
                data = sock.recv(65536)
                assert data
                received += len(data)
        proc.wait_for_line("^CLOSED stream$", timeout=30)
        line = proc.wait_for_line(TEXT_LINE, timeout=30)
        assert line["mount"] == "stream"
        assert line["status"] == "200"
        assert 0 < int(line["bytes"]) < 4096 * 65536


@pytest.mark.parametrize("server", SERVERS)
def test_an_app_that_raises_is_logged_as_500(plain_site: Path, server: str) -> None:
    with _serve(plain_site, "--access-log", "-", *SERVERS[server]) as proc:
        answer = requests.get(proc.url() + "/boom", timeout=10)
        assert answer.status_code == 500
        line = proc.wait_for_line(TEXT_LINE)
        assert (line["status"], line["bytes"], line["mount"]) == ("500", "0", "boom")


def test_no_access_log_by_default(plain_site: Path) -> None:
    with _serve(plain_site) as proc:
        url = proc.url()
        assert requests.get(url + "/plain/", timeout=10).status_code == 200
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    assert not [line for line in proc.stdout + proc.stderr if TEXT_LINE.match(line)]


# -- logging configuration ----------------------------------------------------------------------
SITE_INI_LOGGING = """
[composite:main]
use = egg:wsgihub#hub
/plain = plain

[app:plain]
paste.app_factory = plain_site:plain_factory

[loggers]
keys = root, access

[handlers]
keys = stderr, accessfile

[formatters]
keys = plain, access

[logger_root]
level = WARNING
handlers = stderr

[logger_access]
level = INFO
handlers = accessfile
qualname = wsgihub.access
propagate = 0

[handler_stderr]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[handler_accessfile]
class = FileHandler
args = (r'%(here)s/from-site-file.log', 'a', 'utf-8')
formatter = access

[formatter_plain]
format = %(levelname)s %(name)s %(message)s

[formatter_access]
format = ACCESS %(status)s %(mount)s %(request_id)s
"""


@pytest.mark.parametrize("server", SERVERS)
def test_site_file_logging_sections_turn_the_access_log_on(
    plain_site: Path, server: str
) -> None:
    (plain_site / "plain_site.py").write_text(
        textwrap.dedent(PLAIN_SITE) + "\n\ndef plain_factory(global_conf, **local):\n    return hello\n"
    )
    (plain_site / "site.ini").write_text(SITE_INI_LOGGING)
    with ServeProcess(
        [str(plain_site / "site.ini"), "--port", "0", *SERVERS[server]], pythonpath=[plain_site]
    ) as proc:
        answer = requests.get(proc.url() + "/plain/", timeout=10)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    lines = (plain_site / "from-site-file.log").read_text().splitlines()
    assert lines == [f"ACCESS 200 plain {answer.headers['X-Request-ID']}"]


@pytest.mark.parametrize("kind", ["json", "ini"])
def test_log_config_file(plain_site: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / f"via-{kind}.log"
    if kind == "json":
        config = tmp_path / "logging.json"
        config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {"f": {"format": "%(name)s|%(status)s|%(path)s"}},
                    "handlers": {
                        "file": {"class": "logging.FileHandler", "filename": str(target), "formatter": "f"}
                    },
                    "loggers": {"wsgihub.access": {"handlers": ["file"], "level": "INFO", "propagate": False}},
                }
            )
        )
    else:
        config = tmp_path / "logging.ini"
        config.write_text(
            SITE_INI_LOGGING.split("[loggers]", 1)[1]
            .replace("%(here)s/from-site-file.log", str(target))
            .replace("ACCESS %(status)s %(mount)s %(request_id)s", "%(name)s|%(status)s|%(path)s")
            .join(["[loggers]", ""])
        )
    with _serve(plain_site, "--log-config", str(config)) as proc:
        requests.get(proc.url() + "/plain/z", timeout=10)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    assert target.read_text().splitlines() == ["wsgihub.access|200|/plain/z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-format", "xml"], "--log-format xml: expected text or json"),
        (["--access-log", "/no/such/dir/access.log"], "--access-log /no/such/dir/access.log: directory"),
        (["--log-config", "/no/such/logging.json"], "--log-config /no/such/logging.json: no such file"),
        (["--request-id-header", "X Bad"], "--request-id-header X Bad: expected a header name"),
    ],
)
def test_bad_logging_options_are_one_line(args: list[str], message: str) -> None:
    done = run_serve(["--mount", "/a=live_apps.echo:app_a", "--port", "0", *args])
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('{"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}', "ValueError"),
    ],
)
def test_a_broken_log_config_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "logging.json"
    config.write_text(text)
    done = run_serve(["--mount", "/a=live_apps.echo:app_a", "--port", "0", "--log-config", str(config)])
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"--log-config {config}: " in done.stderr and message in done.stderr


# -- the middleware on its own --------------------------------------------------------------
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    handler = _Records()
    logger = logging.getLogger("test.accesslog")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler.records
    logger.removeHandler(handler)


def _call(app: Any, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, headers
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "REMOTE_ADDR": "10.0.0.1",
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
    }
    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        body.close()
    return got["status"], got["headers"], data


def test_a_path_cannot_forge_a_line(records: list[logging.LogRecord]) -> None:
    hub = Hub()
    hub.mount("/a", lambda e, s: (s("200 OK", []), [b"ok"])[1], name="a")
    app = AccessLog(hub, logger=logging.getLogger("test.accesslog"), request_id_header="X-Request-ID")
    _call(app, '/a/x"\n2026-01-01T00:00:00.000Z 1.2.3.4 "GET /admin" 200')
    (record,) = records
    line = record.getMessage()
    assert "\n" not in line
    # the path as a client sends it: percent-encoded, so nothing in it can end the quotes or the line
    assert '"GET /a/x%22%0A2026-01-01T00:00:00.000Z%201.2.3.4%20%22GET%20/admin%22%20200" 200 ' in line
    assert record.path == "/a/x%22%0A2026-01-01T00:00:00.000Z%201.2.3.4%20%22GET%20/admin%22%20200"


@pytest.mark.parametrize(
    ("path_info", "logged"),
    [
        ("/new/hello", "/new/hello"),
        ("/caf\u00c3\u00a9", "/caf%C3%A9"),  # /café: UTF-8 bytes, decoded as latin-1 (PEP 3333)
        ("/\u00ff", "/%FF"),  # not UTF-8 at all: the byte as sent
        ("/100%", "/100%25"),
        ("/a b", "/a%20b"),
        ("/x;y=1,z:@!$&'()*+~_.-", "/x;y=1,z:@!$&'()*+~_.-"),  # RFC 3986 path characters stay
        ("/snow\u2603", "/snow%E2%98%83"),  # a str no server makes (past U+00FF): its UTF-8
    ],
)
def test_the_path_is_logged_as_the_client_sent_it(path_info: str, logged: str) -> None:
    assert logged_path({"SCRIPT_NAME": "", "PATH_INFO": path_info}) == logged
    assert logged_path({"SCRIPT_NAME": "/mount", "PATH_INFO": path_info}) == "/mount" + logged


def test_the_line_is_written_when_the_body_is_closed(records: list[logging.LogRecord]) -> None:
    def chunks(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b"abc"
        yield b"defg"

    app = AccessLog(chunks, logger=logging.getLogger("test.accesslog"), log_format="json")
    status, headers, data = _call(app, "/x")
    assert (status, data) == ("201 Created", b"abcdefg")
    assert ("X-Request-ID" not in dict(headers))  # IDs left to another layer here
    (record,) = records
    assert json.loads(record.getMessage())["bytes"] == 7
    assert (record.status, record.mount, record.request_id) == (201, None, None)


def test_two_gunicorn_workers_share_one_file_line_by_line(plain_site: Path, tmp_path: Path) -> None:
    """Both workers append to the file the master opened: whole lines, none lost at exit."""
    import threading

    log = tmp_path / "shared.log"
    with _serve(plain_site, "--access-log", str(log), "--workers", "2") as proc:
        url = proc.url()
        answers: list[int] = []

        def client(n: int) -> None:
            with requests.Session() as session:
                for i in range(50):
                    answers.append(session.get(f"{url}/plain/{n}-{i}", timeout=10).status_code)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    assert answers == [200] * 200
    lines = log.read_text().splitlines()
    assert len(lines) == 200
    assert all(TEXT_LINE.match(line) for line in lines), [line for line in lines if not TEXT_LINE.match(line)][:3]
    assert len({line.split()[-1] for line in lines}) == 200  # one request ID each


def test_gunicorns_own_access_log_stays_off(
    plain_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One format under both servers: GUNICORN_CMD_ARGS' --access-logfile does not add gunicorn's."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--access-logfile -")
    with _serve(plain_site, "--access-log", "-", "--workers", "1") as proc:
        requests.get(proc.url() + "/plain/once", timeout=10)
        proc.wait_for_line(TEXT_LINE)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    requests_seen = [line for line in proc.stdout + proc.stderr if "/plain/once" in line]
    assert len(requests_seen) == 1 and TEXT_LINE.match(requests_seen[0]), requests_seen


class _OddAdapter:
    """An adapter whose endpoint names hold what JSON and text lines must escape."""

    def endpoint(self, environ: dict[str, Any]) -> str:
        return 'caf\u00e9 "q" \\ \n' + environ["PATH_INFO"]


@pytest.mark.parametrize("flush_interval", [0.0, 60.0])
def test_the_handlers_own_lines_match_json_and_escape_text(flush_interval: float) -> None:
    """With --access-log's own handler (values queued, endpoint asked later): valid JSON, safe text."""
    import io

    from wsgihub.accesslog import AccessLogHandler

    hub = Hub()
    hub.mount("/odd", lambda e, s: (s("200 OK", [("Content-Length", "2")]), [b"ok"])[1], name="odd")
    hub.peg("odd").adapter = _OddAdapter()  # type: ignore[assignment]
    for log_format in ("json", "text"):
        stream = io.StringIO()
        logger = logging.getLogger(f"test.accesslog.own.{log_format}.{flush_interval}")
        handler = AccessLogHandler(stream, flush_interval=flush_interval)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        app = AccessLog(hub, log_format=log_format, logger=logger, request_id_header="X-Request-ID")
        _call(app, "/odd/caf\u00c3\u00a9")
        handler.flush()
        (line,) = stream.getvalue().splitlines()
        if log_format == "json":
            record = json.loads(line)
            assert tuple(record) == FIELDS
            assert record["endpoint"] == 'caf\u00e9 "q" \\ \n/caf\u00c3\u00a9'
            assert (record["path"], record["mount"], record["status"], record["bytes"]) == (
                "/odd/caf%C3%A9",
                "odd",
                200,
                2,
            )
            assert record["remote_addr"] == "10.0.0.1"
        else:
            match = TEXT_LINE.match(line)
            assert match, line
            assert match["path"] == "/odd/caf%C3%A9"
            assert match["endpoint"] == 'caf\u00e9\\x20\\"q\\"\\x20\\\\\\x20\\x0a/caf\u00c3\u00a9'
        logger.removeHandler(handler)


def test_log_request_writes_the_same_line_for_a_request_outside_wsgi() -> None:
    """AccessLog.log_request (native ASGI requests): the same line, format and handler."""
    import io
    import time

    from wsgihub.accesslog import AccessLogHandler

    hub = Hub()
    hub.mount("/odd", lambda e, s: (s("200 OK", []), [b"ok"])[1], name="odd")
    peg = hub.peg("odd")
    peg.adapter = _OddAdapter()  # type: ignore[assignment]
    stream = io.StringIO()
    logger = logging.getLogger("test.accesslog.log_request")
    handler = AccessLogHandler(stream, flush_interval=60.0)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        log = AccessLog(hub, log_format="json", logger=logger)
        started = time.perf_counter()
        log.log_request(
            started=started, remote_addr="10.0.0.2", method="POST", path="/odd/caf\u00c3\u00a9",
            status=201, sent=7, request_id="rid-1", peg=peg, script_name="/odd", path_info="/x",
            host="example.com", ended=started + 0.002,
        )
        handler.flush()
        (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
    assert tuple(record) == FIELDS
    assert (record["method"], record["path"], record["status"], record["bytes"]) == ("POST", "/odd/caf%C3%A9", 201, 7)
    assert (record["mount"], record["endpoint"], record["request_id"]) == ("odd", 'caf\u00e9 "q" \\ \n/x', "rid-1")
    assert record["remote_addr"] == "10.0.0.2" and record["duration_ms"] == 2.0


def test_log_request_to_a_configured_logger_makes_a_record(records: list[logging.LogRecord]) -> None:
    log = AccessLog(Hub(), logger=logging.getLogger("test.accesslog"))
    log.log_request(started=0.0, remote_addr=None, method="GET", path="/a b", status=None, sent=None,
                    request_id=None, ended=0.001)
    (record,) = records
    assert (record.path, record.status, record.mount, record.request_id) == ("/a%20b", None, None, None)
    assert '"GET /a%20b" - - 1.000ms - - -' in record.getMessage()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_another_layers_id_and_a_request_without_host_or_address(log_format: str) -> None:
    """With IDs left to another layer, its ID is shown (escaped in text); no Host/address: unknown."""
    import io

    from wsgihub.accesslog import AccessLogHandler

    hub = Hub()
    hub.mount("/a", lambda e, s: (s("200 OK", [("Content-Length", "2")]), [b"ok"])[1], name="a")
    stream = io.StringIO()
    logger = logging.getLogger(f"test.accesslog.other-id.{log_format}")
    handler = AccessLogHandler(stream, flush_interval=60.0)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    app = AccessLog(hub, log_format=log_format, logger=logger)  # request_id_header=None
    try:
        for outer_id in ("outer-1", 'bad "id" \n'):
            environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/a/x", "wsgihub.request_id": outer_id}
            body = app(environ, lambda status, headers, exc_info=None: None)
            assert b"".join(body) == b"ok"
            body.close()  # type: ignore[attr-defined]
        handler.flush()
        lines = stream.getvalue().splitlines()
    finally:
        logger.removeHandler(handler)
    assert len(lines) == 2
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert [r["request_id"] for r in records] == ["outer-1", 'bad "id" \n']
        assert [(r["remote_addr"], r["mount"], r["path"]) for r in records] == [(None, "a", "/a/x")] * 2
    else:
        matches = [TEXT_LINE.match(line) for line in lines]
        assert all(matches), lines
        assert [m["rid"] for m in matches if m] == ["outer-1", r"bad\x20\"id\"\x20\x0a"]
        assert [(m["remote"], m["mount"], m["path"]) for m in matches if m] == [("-", "a", "/a/x")] * 2
