"""The serving stack's front (``wsgihub.servers.front``): what every request meets under both servers.

Here: answers to ``HEAD`` carry no body, whatever the app returned (found by
sample_sites/thirdparty with a Django mount under waitress), on a kept-alive
connection under waitress and gunicorn.
"""

from __future__ import annotations

import http.client
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from wsgihub.servers.front import HeadWithoutBody

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess

SITE = '''
from wsgihub import Hub

BODY = b"a body a HEAD answer must not carry" * 100


def eager(environ, start_response):
    """Returns its body to HEAD too, as Django does (it leaves stripping to the server)."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def lazy(environ, start_response):
    """Calls start_response only when its body is iterated (PEP 3333 allows it)."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    yield BODY


def site():
    hub = Hub()
    hub.mount("/eager", eager, name="eager")
    hub.mount("/lazy", lazy, name="lazy")
    return hub
'''


@pytest.mark.live
@pytest.mark.parametrize("server", [[], ["--workers", "1"]], ids=["waitress", "gunicorn"])
def test_head_answers_carry_no_body_on_a_kept_alive_connection(tmp_path: Path, server: list[str]) -> None:
    (tmp_path / "head_site.py").write_text(textwrap.dedent(SITE))
    with ServeProcess(["head_site:site", "--port", "0", *server], pythonpath=[tmp_path]) as proc:
        host, port = proc.url().removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            for path in ("/eager/", "/lazy/", "/eager/"):
                connection.request("HEAD", path)
                head = connection.getresponse()
                assert head.status == 200
                assert head.getheader("Content-Length") == str(len(b"a body a HEAD answer must not carry") * 100)
                assert head.read() == b""
                # the same connection: the next answer must start with its status line
                connection.request("GET", path)
                get = connection.getresponse()
                assert get.status == 200
                assert get.read().startswith(b"a body a HEAD")
        finally:
            connection.close()


def test_other_methods_pass_through_untouched() -> None:
    body = [b"x"]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return body

    assert HeadWithoutBody(app)({"REQUEST_METHOD": "GET"}, lambda *a: None) is body


def test_the_apps_body_is_closed() -> None:
    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Length", "1")])
        return Body([b"x"])

    assert HeadWithoutBody(app)({"REQUEST_METHOD": "HEAD"}, lambda *a: None) == []
    assert closed == [True]
