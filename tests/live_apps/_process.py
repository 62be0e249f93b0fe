"""Run ``wsgihub serve`` in a real process for the live tests.

:class:`ServeProcess` starts the command in its own session (so the whole
process group -- gunicorn workers, reloader children -- can be killed at the
end), collects stdout and stderr in threads, and waits for lines with a
bounded timeout.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import requests

from .echo import ARRIVED

TESTS_DIR = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"^Serving on (http://\S+)$")


class ServeProcess:
    """``wsgihub serve ARGS`` in a subprocess; use as a context manager."""

    def __init__(
        self, args: Sequence[str], *, pythonpath: Sequence[str | os.PathLike[str]] = ()
    ) -> None:
        env = dict(os.environ)
        paths = [str(p) for p in pythonpath] + [str(TESTS_DIR)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("WSGIHUB_SERVE_OPTIONS", None)
        self.argv = [
            sys.executable,
            "-c",
            "import sys; from wsgihub.cli import main; sys.exit(main())",
            "serve",
            *args,
        ]
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._error_lines: queue.Queue[str] = queue.Queue()
        self._readers = [
            threading.Thread(
                target=self._read, args=(self.proc.stdout, self.stdout, self._lines), daemon=True
            ),
            threading.Thread(
                target=self._read,
                args=(self.proc.stderr, self.stderr, self._error_lines),
                daemon=True,
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, sink: list[str], lines: queue.Queue[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            line = line.rstrip("\n")
            sink.append(line)
            lines.put(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for_line(
        self, pattern: str | re.Pattern[str], timeout: float = 15.0, *, stderr: bool = False
    ) -> re.Match[str]:
        """The next stdout (or stderr) line matching ``pattern``; AssertionError on timeout."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        lines, reader = (self._error_lines, self._readers[1]) if stderr else (self._lines, self._readers[0])
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no line matching {regex.pattern!r} within {timeout} s\n"
                    f"stdout: {self.stdout}\nstderr: {self.stderr[-30:]}\nexit: {self.proc.poll()}"
                )
            try:
                line = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None and lines.empty() and not reader.is_alive():
                    raise AssertionError(
                        f"process exited ({self.proc.returncode}) before a line matching {regex.pattern!r}\n"
                        f"stdout: {self.stdout}\nstderr: {self.stderr[-30:]}"
                    ) from None
                continue
            match = regex.search(line)
            if match:
                return match

    def wait_for_lines(
        self, pattern: str | re.Pattern[str], count: int, timeout: float = 15.0
    ) -> list[re.Match[str]]:
        """The next ``count`` stdout lines matching ``pattern`` (all within ``timeout``)."""
        deadline = time.monotonic() + timeout
        return [
            self.wait_for_line(pattern, max(deadline - time.monotonic(), 0.01))
            for _ in range(count)
        ]

    def url(self, timeout: float = 15.0) -> str:
        """Wait for ``Serving on URL`` and return the URL."""
        return self.wait_for_line(SERVING, timeout).group(1)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the command's own process only (as a supervisor does)."""
        os.kill(self.proc.pid, signum)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to its whole process group (as Ctrl-C in a terminal does)."""
        os.killpg(self.proc.pid, signum)

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for the exit (and for the output to be read); return the exit code."""
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        """Kill the whole process group (workers, reloader children) if still there."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class InFlight:
    """GETs sent each in its own thread (see :func:`send_in_flight`); their answers by path."""

    def __init__(self, url: str, paths: Sequence[str]) -> None:
        #: each path's JSON answer, or the exception its request ended with
        self.results: dict[str, Any] = {}
        self.threads = [
            threading.Thread(target=self._fetch, args=(url, path), daemon=True) for path in paths
        ]

    def _fetch(self, url: str, path: str) -> None:
        try:
            self.results[path] = requests.get(url + path, timeout=90).json()
        except Exception as exc:  # noqa: BLE001 - the caller's assertion shows it
            self.results[path] = exc

    def finish(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait (up to ``timeout`` each) for the requests to end; their results by path."""
        for thread in self.threads:
            thread.join(timeout)
        return self.results


def send_in_flight(served: ServeProcess, url: str, paths: Sequence[str], timeout: float = 30.0) -> InFlight:
    """GET ``url + path`` for each of ``paths`` and return once every one is in flight.

    The paths are slow ones of the live apps (``/slow?seconds=N`` of
    :mod:`live_apps.echo` and the ASGI sites), which print :data:`ARRIVED` on
    arrival: this waits for that line once per path, so a stop signal sent
    next finds them all inside the app.
    """
    flight = InFlight(url, paths)
    for thread in flight.threads:
        thread.start()
    served.wait_for_lines(re.escape(ARRIVED), len(paths), timeout=timeout)
    return flight


def refuses_connections(url: str) -> bool:
    """Whether ``url``'s host and port refuse a TCP connection (the server let go of it)."""
    host, port = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError:
        return True
    return False


def run_serve(args: Sequence[str], timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Run ``wsgihub serve ARGS`` to its end (for commands that must fail fast)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from wsgihub.cli import main; sys.exit(main())",
            "serve",
            *args,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        start_new_session=True,
        check=False,
    )
