"""Request IDs (issue 11 §3): kept when well-formed, else made; environ, response, every log record.

The live rows serve a Django + Flask site with ``wsgihub serve`` (waitress and
gunicorn) whose views log through their frameworks' own loggers, with a
``--log-config`` whose format says ``%(request_id)s``; each line a view logs
must carry the ID the response came back with.  They need Django and Flask
(skipped in the core env, run in the integration envs).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub.requestid import (
    ENVIRON_KEY,
    RequestID,
    RequestIdFilter,
    current_request_id,
    is_valid_request_id,
)

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

SERVERS = {"waitress": [], "gunicorn": ["--workers", "1"]}
GENERATED = re.compile(r"[0-9a-f]{32}")


# -- the middleware, called as a server calls it ------------------------------------------------
def _call(app: Any, headers: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    got: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["headers"] = response_headers
        return lambda data: None

    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": ""}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    body = app(environ, start_response)
    try:
        b"".join(body)
    finally:
        body.close()
    return dict(got["headers"]), environ


def _seen(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers what it saw: the environ's ID and the one log records get."""
    body = json.dumps({"environ": environ[ENVIRON_KEY], "current": current_request_id()}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123", True),
        ("a.b_c:d-E9", True),
        ("x" * 128, True),
        ("x" * 129, False),  # bounded
        ("", False),
        ("has space", False),
        ("semi;colon", False),
        ("new\nline", False),
        ("ünïcode", False),
    ],
)
def test_incoming_id_kept_only_when_well_formed(incoming: str, kept: bool) -> None:
    assert is_valid_request_id(incoming) is kept
    headers, environ = _call(RequestID(_seen), {"X-Request-ID": incoming})
    request_id = environ[ENVIRON_KEY]
    assert headers["X-Request-ID"] == request_id
    if kept:
        assert request_id == incoming
    else:
        assert GENERATED.fullmatch(request_id)


def test_each_request_gets_its_own_id_and_it_ends_with_the_body() -> None:
    ids = {_call(RequestID(_seen))[1][ENVIRON_KEY] for _ in range(50)}
    assert len(ids) == 50
    assert current_request_id() == "-"  # nothing left behind after close()


def test_the_id_is_current_while_the_body_is_iterated() -> None:
    def streamed(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield current_request_id().encode()

    got: list[bytes] = []
    app = RequestID(streamed)
    body = app({"HTTP_X_REQUEST_ID": "in-the-body"}, lambda *a: None)
    got.extend(body)
    body.close()  # type: ignore[attr-defined]
    assert got == [b"in-the-body"]
    assert current_request_id() == "-"


def test_another_header_name() -> None:
    headers, environ = _call(RequestID(_seen, header="X-Trace-Id"), {"X-Trace-Id": "t-1", "X-Request-ID": "r-1"})
    assert environ[ENVIRON_KEY] == "t-1" == headers["X-Trace-Id"]
    assert "X-Request-ID" not in headers


def test_an_app_that_sets_the_header_itself_keeps_it() -> None:
    def own(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("x-request-id", "the-app's")])
        return [b""]

    headers, _environ = _call(RequestID(own), {"X-Request-ID": "incoming"})
    assert headers == {"x-request-id": "the-app's"}


def test_every_record_created_in_the_request_carries_the_id() -> None:
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.request_id)  # type: ignore[attr-defined]

    logger = logging.getLogger("test.requestid.any")
    handler = Keep()
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)

    def logs(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        logger.info("inside")
        start_response("200 OK", [])
        return [b""]

    try:
        _call(RequestID(logs), {"X-Request-ID": "rec-1"})
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    assert seen == ["rec-1", "-"]


def test_the_filter_sets_the_id_for_configured_handlers() -> None:
    # made directly, not through the record factory: as records of a process
    # that serves the hub some other way
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert not hasattr(record, "request_id")
    assert RequestIdFilter().filter(record)
    assert record.request_id == "-"  # type: ignore[attr-defined]


# -- live: Django and Flask views logging through their own loggers ------------------------------
SITE = '''
import logging

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="request-id-test",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
)
django.setup()

import flask
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

from wsgihub import Hub

django_log = logging.getLogger("django.request.views")


def django_view(request):
    django_log.warning("django view ran")
    return HttpResponse("django")


urlpatterns = [path("hello/", django_view, name="hello")]

app = flask.Flask("rid_flask")


@app.route("/hello")
def flask_view():
    app.logger.warning("flask view ran")
    return "flask"


def site():
    hub = Hub()
    hub.mount("/", get_wsgi_application(), name="legacy")
    hub.mount("/new", app, name="new")
    return hub
'''

LOG_CONFIG = {
    "version": 1,
    "formatters": {"rid": {"format": "RID %(request_id)s %(name)s %(message)s"}},
    "handlers": {"out": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "rid"}},
    "root": {"handlers": ["out"], "level": "INFO"},
}


@pytest.fixture
def framework_site(tmp_path: Path) -> Path:
    pytest.importorskip("django")
    pytest.importorskip("flask")
    (tmp_path / "rid_site.py").write_text(textwrap.dedent(SITE))
    (tmp_path / "logging.json").write_text(json.dumps(LOG_CONFIG))
    return tmp_path


@pytest.mark.live
@pytest.mark.parametrize("server", SERVERS)
def test_framework_log_records_carry_the_request_id(framework_site: Path, server: str) -> None:
    args = ["rid_site:site", "--port", "0", "--log-config", str(framework_site / "logging.json")]
    with ServeProcess([*args, *SERVERS[server], "--access-log", "-"], pythonpath=[framework_site]) as proc:
        url = proc.url()
        django_answer = requests.get(url + "/hello/", timeout=10)
        flask_answer = requests.get(url + "/new/hello", headers={"X-Request-ID": "flask-1"}, timeout=10)
        assert (django_answer.text, flask_answer.text) == ("django", "flask")
        django_id = django_answer.headers["X-Request-ID"]
        assert GENERATED.fullmatch(django_id)
        assert flask_answer.headers["X-Request-ID"] == "flask-1"
        # two lines the views logged, two access-log lines, in whatever order
        lines = [m.string for m in proc.wait_for_lines(r"^RID |\" 200 ", 4)]
        assert f"RID {django_id} django.request.views django view ran" in lines
        assert "RID flask-1 rid_flask flask view ran" in lines  # Flask's app.logger
        # and the access log names the routes: mount and endpoint
        access = sorted(line.split()[-3:] for line in lines if not line.startswith("RID "))
        assert access == [["legacy", "hello", django_id], ["new", "flask_view", "flask-1"]]
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0


@pytest.mark.live
def test_request_id_header_option(framework_site: Path) -> None:
    with ServeProcess(
        ["rid_site:site", "--port", "0", "--request-id-header", "X-Trace-Id"], pythonpath=[framework_site]
    ) as proc:
        answer = requests.get(proc.url() + "/new/hello", headers={"X-Trace-Id": "t-42"}, timeout=10)
        assert answer.headers["X-Trace-Id"] == "t-42"
        assert "X-Request-ID" not in answer.headers


@pytest.mark.live
def test_request_ids_off(framework_site: Path) -> None:
    with ServeProcess(
        ["rid_site:site", "--port", "0", "--request-id-header", ""], pythonpath=[framework_site]
    ) as proc:
        answer = requests.get(proc.url() + "/new/hello", headers={"X-Request-ID": "x"}, timeout=10)
        assert answer.status_code == 200
        assert "X-Request-ID" not in answer.headers


def test_set_and_reset_request_id_for_requests_outside_wsgi() -> None:
    """What a native ASGI request uses: the ID is current (on log records) until reset."""
    from wsgihub.requestid import install_record_factory, reset_request_id, set_request_id

    install_record_factory()
    assert current_request_id() == "-"
    token = set_request_id("asgi-1")
    try:
        assert current_request_id() == "asgi-1"
        record = logging.getLogger("test.requestid.asgi").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert record.request_id == "asgi-1"
    finally:
        reset_request_id(token)
    assert current_request_id() == "-"


def test_generated_ids_stay_unique_and_well_formed_across_batches() -> None:
    """IDs are made many at a time: every one of several batches' worth is new and well-formed."""
    from wsgihub.requestid import POOL_SIZE, new_request_id

    ids = [new_request_id() for _ in range(3 * POOL_SIZE + 7)]
    assert len(set(ids)) == len(ids)
    assert all(GENERATED.fullmatch(one) for one in ids)
