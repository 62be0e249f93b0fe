"""``wsgihub serve --mount /api=module:fastapi_app`` under waitress and gunicorn, real processes.

The FastAPI app object itself is mounted from the command line; its lifespan
runs once per serving process when the bus starts (before requests see its
state) and once at SIGTERM, in each gunicorn worker.
"""

from __future__ import annotations

import json
import signal
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CORE_TESTS = HERE.parents[2] / "tests"
if str(CORE_TESTS) not in sys.path:
    sys.path.insert(0, str(CORE_TESTS))

from live_apps._process import ServeProcess


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def lines(served: ServeProcess, kind: str) -> list[str]:
    return [line.split()[-1] for line in served.stdout if line.startswith(f"LIFESPAN {kind} ")]


def test_waitress_runs_the_lifespan_once() -> None:
    with ServeProcess(["--mount", "/api=live_fastapi:app", "--port", "0"], pythonpath=[HERE]) as served:
        url = served.url()
        answer = get(url + "/api/items/3")
        assert answer["me"] == "/api/items/3"
        assert answer["started_in"] == answer["pid"] == served.pid  # the lifespan's state, this process
        served.signal(signal.SIGTERM)
        assert served.wait(timeout=20) == 0
    assert lines(served, "startup") == [str(served.pid)]
    assert lines(served, "shutdown") == [str(served.pid)]


def test_gunicorn_runs_the_lifespan_in_each_worker() -> None:
    pytest.importorskip("gunicorn")
    with ServeProcess(["--mount", "/api=live_fastapi:app", "--port", "0", "--workers", "2"], pythonpath=[HERE]) as served:
        url = served.url()
        pids: set[int] = set()
        for _ in range(400):  # until both workers have answered (each request is one accept race)
            answer = get(url + "/api/items/1")
            assert answer["started_in"] == answer["pid"] != served.pid  # its own lifespan ran first
            pids.add(answer["pid"])
            if len(pids) == 2:
                break
        assert len(pids) == 2
        served.signal(signal.SIGTERM)
        assert served.wait(timeout=30) == 0
    started, stopped = lines(served, "startup"), lines(served, "shutdown")
    assert len(started) == 2 and sorted(started) == sorted(stopped)
    assert {str(pid) for pid in pids} <= set(started)


def test_a_failing_lifespan_fails_the_serve_command_in_one_line() -> None:
    with ServeProcess(["--mount", "/api=live_fastapi:failing_app", "--port", "0"], pythonpath=[HERE]) as served:
        code = served.wait(timeout=30)
    assert code != 0
    errors = [line for line in served.stderr if line.startswith("wsgihub: error:")]
    assert len(errors) == 1, served.stderr
    assert "mount 'api' (starlette)" in errors[0] and "lifespan startup failed: RuntimeError: no database" in errors[0]
    assert not any("Traceback" in line for line in served.stderr)
