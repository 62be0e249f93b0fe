"""The waitress task's copy of waitress's code is used only with the waitress it was copied from.

``wsgihub.servers.waitress_front.FrontTask`` carries a copy of waitress 3.0's
``WSGITask.execute`` and ``build_response_header``.  A waitress whose source
of either differs (a release fixing a bug there, a patched method) must get
the layers instead, with one line on the bus saying why, and serve the same
lines.  Real waitress on 127.0.0.1, port 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from test_waitress_front import captured  # the same log capture
from waitress.task import WSGITask

from wsgihub import Hub
from wsgihub.bus import Bus
from wsgihub.servers import waitress_front
from wsgihub.servers.front import FrontStack, front_stack
from wsgihub.servers.waitress import WaitressServer

pytestmark = pytest.mark.live

_original_execute = WSGITask.execute
_original_header = WSGITask.build_response_header


def patched_execute(self: Any) -> None:
    """A changed ``WSGITask.execute`` (another source, the same behaviour)."""
    _original_execute(self)


def patched_build_response_header(self: Any) -> bytes:
    """A changed ``WSGITask.build_response_header`` (another source, the same bytes)."""
    return _original_header(self)  # type: ignore[no-any-return]


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _mask(line: str) -> str:
    """A text line without its time and duration."""
    return re.sub(r" \d+\.\d{3}ms ", " DURATIONms ", line.split(" ", 1)[1])


@contextmanager
def serving(stack: FrontStack) -> Iterator[tuple[str, WaitressServer, list[str]]]:
    bus = Bus()
    said: list[str] = []
    bus.subscribe("log", lambda msg, level=20: said.append(msg))
    server = WaitressServer(bus, stack, "127.0.0.1", 0, threads=2, drain_timeout=5)
    server.subscribe()
    try:
        bus.start()
        yield server.url, server, said
    finally:
        bus.exit()


def test_the_installed_waitress_is_the_one_copied() -> None:
    assert waitress_front.unsupported() is None
    assert (
        waitress_front.source_fingerprint(WSGITask.execute)
        in waitress_front.WRITTEN_FROM["execute"]
    )
    assert (
        waitress_front.source_fingerprint(patched_execute)
        not in waitress_front.WRITTEN_FROM["execute"]
    )
    assert waitress_front.source_fingerprint(len) is None  # no Python source


@pytest.mark.parametrize(
    ("name", "patched"),
    [("execute", patched_execute), ("build_response_header", patched_build_response_header)],
)
def test_a_changed_method_gets_the_layers_and_the_same_lines(
    name: str, patched: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub()
    hub.mount("/hello", hello, name="hello")
    stack = front_stack(hub, SimpleNamespace(access_log="-"))
    lines_by_way: list[str] = []
    for changed in (False, True):
        if changed:
            monkeypatch.setattr(WSGITask, name, patched)
            reason = waitress_front.unsupported()
            assert reason is not None and f"WSGITask.{name} differs" in reason
            assert waitress_front.unsupported() == reason  # the same answer, once worked out
        with captured("wsgihub.access") as lines, serving(stack) as (url, server, said):
            assert server.in_server_work is not changed
            answer = requests.get(url + "/hello/", headers={"X-Request-ID": "t-src"}, timeout=10)
            (line,) = lines.wait(1)
        assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "t-src"
        told = [msg for msg in said if "request-ID/access-log layers" in msg]
        if changed:
            assert len(told) == 1 and f"WSGITask.{name} differs" in told[0], said
        else:
            assert told == []
        lines_by_way.append(_mask(line))
        assert line.endswith(" hello - t-src")
    assert lines_by_way[0] == lines_by_way[1]
    monkeypatch.undo()
    assert waitress_front.unsupported() is None


def test_no_line_when_the_task_can() -> None:
    hub = Hub()
    hub.mount("/hello", hello, name="hello")
    with serving(front_stack(hub, SimpleNamespace(access_log="-"))) as (_, server, said):
        assert server.in_server_work
    assert not [msg for msg in said if "layers" in msg]
