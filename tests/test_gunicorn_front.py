"""gunicorn's sync worker doing the request-ID and access-log work itself (wsgihub.servers.gunicorn_front).

Real ``wsgihub serve --workers 1`` processes: the worker's own work against
the layers (what a ``worker_class`` of the user's own gets, here
``GUNICORN_CMD_ARGS=--worker-class sync``), request by request: the same
access-log lines, the same answers and headers.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub.servers import gunicorn_front

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

pytestmark = pytest.mark.live

SITE = '''
import os
from wsgihub import Hub

def who(environ, start_response):
    """Says which start_response it was given: the worker's own, or the layer's request object."""
    body = getattr(start_response, "__qualname__", type(start_response).__qualname__).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]

def chunked(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"one "
    yield b""
    yield b"two three"

def lazy(environ, start_response):
    # start_response on the first iteration (PEP 3333 allows it)
    start_response("201 Created", [("Content-Type", "text/plain")])
    yield b"made"

def writes(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "11")])
    write(b"written ")
    return [b"end"]

def boom(environ, start_response):
    raise RuntimeError("boom")

def late_boom(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial"
    raise RuntimeError("late boom")

def own_id(environ, start_response):
    start_response("200 OK", [("x-request-id", "the-apps-own"), ("Content-Length", "2")])
    return [b"ok"]

def sendfile(environ, start_response):
    size = os.path.getsize(__file__)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"))

def site():
    hub = Hub()
    for name, app in {
        "who": who, "hello": hello, "chunked": chunked, "lazy": lazy, "writes": writes,
        "boom": boom, "late": late_boom, "own": own_id, "file": sendfile,
    }.items():
        hub.mount("/" + name, app, name=name)
    return hub
'''

#: (method, path, the X-Request-ID sent or None)
REQUESTS = [
    ("GET", "/hello/", "kept-1"),
    ("GET", "/hello/", "x" * 129),  # not kept: one is made
    ("HEAD", "/hello/", "head-2"),
    ("GET", "/chunked/", "chunked-3"),
    ("GET", "/lazy/", "lazy-4"),
    ("GET", "/writes/", "writes-5"),
    ("GET", "/boom/", "boom-6"),
    ("GET", "/own/", "own-7"),
    ("GET", "/file/", "file-8"),
    ("GET", "/nowhere", None),
    ("GET", "/caf%C3%A9?token=secret", "path-9"),
]

GENERATED = re.compile(r"[0-9a-f]{32}")


def _answers_and_lines(site_dir: Path, log: Path) -> tuple[str, list[Any], list[dict[str, Any]]]:
    """Serve the site with one gunicorn worker; send :data:`REQUESTS`; the answers and the lines."""
    args = ["gfront_site:site", "--port", "0", "--workers", "1", "--access-log", str(log), "--log-format", "json"]
    answers: list[Any] = []
    with ServeProcess(args, pythonpath=[site_dir]) as proc:
        url = proc.url()
        who = requests.get(url + "/who/", timeout=10).text
        for method, path, request_id in REQUESTS:
            headers = {} if request_id is None else {"X-Request-ID": request_id}
            answer = requests.request(method, url + path, headers=headers, timeout=10)
            kept = {key.lower(): value for key, value in answer.headers.items() if key.lower() != "date"}
            answers.append((answer.status_code, answer.content, kept))
        try:  # the late boom cuts the response short: the client sees the connection end
            requests.get(url + "/late/", headers={"X-Request-ID": "late-10"}, timeout=10).content  # noqa: B018
        except requests.RequestException:
            pass
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return who, answers, lines


def _normalized(answers: list[Any], lines: list[dict[str, Any]]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Answers and lines without what differs by run: times, durations, made IDs (checked here)."""
    kept_answers = []
    for status, content, headers in answers:
        made = headers.get("x-request-id", "")
        if GENERATED.fullmatch(made):
            headers = {**headers, "x-request-id": "<made>"}
        kept_answers.append((status, content, headers))
    kept_lines = []
    for line in lines:
        assert line.pop("time") and line.pop("duration_ms") >= 0
        if line["path"] == "/who/":  # its body names the start_response it got
            continue
        if line["request_id"] and GENERATED.fullmatch(line["request_id"]):
            line["request_id"] = "<made>"
        kept_lines.append(line)
    return kept_answers, kept_lines


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    (tmp_path / "gfront_site.py").write_text(textwrap.dedent(SITE))
    return tmp_path


def test_the_workers_own_work_gives_the_layers_lines_and_answers(
    site_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    own_who, own_answers, own_lines = _answers_and_lines(site_dir, tmp_path / "own.log")
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-class sync")  # a worker class of the user's: the layers
    layer_who, layer_answers, layer_lines = _answers_and_lines(site_dir, tmp_path / "layers.log")

    assert layer_who == "_Request"  # the access log's layer
    if gunicorn_front.unsupported() is None:
        assert own_who == "FrontSyncWorker.handle_request.<locals>.start_response"
    else:  # a gunicorn the copy was not written from: the layers, as for a worker class of one's own
        assert own_who == "_Request"

    # every answer's ID is its line's
    for answers, lines in ((own_answers, own_lines), (layer_answers, layer_lines)):
        by_path = {line["path"]: line for line in lines if line["method"] == "GET"}
        assert by_path["/hello/"]["request_id"] in ("kept-1", answers[1][2]["x-request-id"])
        assert by_path["/nowhere"]["request_id"] == answers[9][2]["x-request-id"]
        assert by_path["/own/"]["request_id"] == "own-7" and answers[7][2]["x-request-id"] == "the-apps-own"
        assert by_path["/boom/"]["status"] == 500 and answers[6][0] == 500
        assert by_path["/late/"]["request_id"] == "late-10"
    assert _normalized(own_answers, own_lines) == _normalized(layer_answers, layer_lines)
    assert len(own_lines) == len(REQUESTS) + 2  # and /who/, /late/
