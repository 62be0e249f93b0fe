"""HTTP throughput over loopback: what does serving through the hub cost?

Measures requests per second with ``wrk`` (fixed duration and connections,
same machine, same run) for:

(a)       waitress serving one Flask app alone (``waitress-serve``)
(b)       ``wsgihub serve`` with Django, Flask and Pyramid mounted, hitting the
          same Flask route (``/new/hello``)
(c-alone) gunicorn, 2 sync workers, serving the Flask app alone
(c)       ``wsgihub serve --workers 2``: gunicorn, 2 sync workers, serving the hub

and prints a markdown table with the ratios (b)/(a) and (c)/(c-alone); the
goal is >= 0.95.  Each configuration is measured ``--rounds`` times,
interleaved, and the median is reported, to spread the noise of a shared
machine over all of them.

Run from the repository root::

    python benchmarks/http.py                      # 3 rounds of 5 s, 16 connections
    python benchmarks/http.py --duration 10 --rounds 5

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install wrk``; macOS: ``brew install wrk``).
The apps are in ``benchmarks/bench_apps.py``.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``http`` package: never let
# its directory shadow it (Python puts the script's directory first on sys.path).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

ROOT = os.path.dirname(_HERE)
BIN = os.path.dirname(sys.executable)
THREADS = 4  # waitress threads, in (a) and (b) alike
WORKERS = 2

#: (a): plain ``waitress.serve``, logging set up as ``wsgihub serve`` does it
#: (warnings to stderr, waitress's "Task queue depth" chatter off), so that
#: both spend the same on logging.
WAITRESS_ALONE = """
import logging, waitress
logging.basicConfig(level=logging.WARNING)
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
from benchmarks.bench_apps import flask_app
waitress.serve(flask_app, listen="{listen}", threads={threads})
"""


@dataclass(frozen=True)
class Setup:
    """One server configuration: how to start it and which path to hit."""

    key: str
    label: str
    argv: tuple[str, ...]
    path: str


def setups(port: int) -> list[Setup]:
    host = "127.0.0.1"
    wsgihub_cmd = (
        sys.executable,
        "-c",
        "import sys; from wsgihub.cli import main; sys.exit(main())",
    )
    return [
        Setup(
            "a",
            "(a) waitress, Flask app alone",
            (sys.executable, "-c", WAITRESS_ALONE.format(listen=f"{host}:{port}", threads=THREADS)),
            "/hello",
        ),
        Setup(
            "b",
            "(b) wsgihub serve (waitress), Django + Flask + Pyramid",
            (
                *wsgihub_cmd,
                "serve",
                "benchmarks.bench_apps:make_hub",
                "--host",
                host,
                "--port",
                str(port),
                "--threads",
                str(THREADS),
                "-q",
            ),
            "/new/hello",
        ),
        Setup(
            "c-alone",
            f"(c-alone) gunicorn {WORKERS} workers, Flask app alone",
            (
                os.path.join(BIN, "gunicorn"),
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
                "--no-control-socket",
                "benchmarks.bench_apps:flask_app",
            ),
            "/hello",
        ),
        Setup(
            "c",
            f"(c) wsgihub serve --workers {WORKERS} (gunicorn), the hub",
            (
                *wsgihub_cmd,
                "serve",
                "benchmarks.bench_apps:make_hub",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
                "-q",
            ),
            "/new/hello",
        ),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, timeout: float = 30.0) -> None:
    """Poll until ``GET path`` answers 200 (raw socket: no ``http`` import here)."""
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(request)
                head = sock.recv(64)
            if head.startswith(b"HTTP/1.") and b" 200 " in head:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer 200 on {path} within {timeout} s")


def run_wrk(port: int, path: str, duration: int, connections: int, threads: int) -> float:
    """Requests per second of one ``wrk`` run; fails on any non-2xx answer or socket error."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and any(int(n) for n in errors.groups()[:1] + errors.groups()[2:]):
        raise RuntimeError(f"wrk saw socket errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return float(match.group(1))


def measure(key: str, duration: int, connections: int, wrk_threads: int) -> float:
    """Start setup ``key`` on a free port, warm it up, measure it, stop it."""
    port = free_port()
    setup = {s.key: s for s in setups(port)}[key]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            setup.argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            try:
                wait_ready(port, setup.path)
            except RuntimeError:
                log.seek(0)
                raise RuntimeError(f"{setup.label} did not start:\n{log.read()[-2000:]}") from None
            run_wrk(port, setup.path, 1, connections, wrk_threads)  # warm-up
            return run_wrk(port, setup.path, duration, connections, wrk_threads)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def table(
    results: dict[str, list[float]], labels: dict[str, str], duration: int, connections: int
) -> str:
    med = {key: statistics.median(values) for key, values in results.items()}
    lines = [
        (
            f"wrk, {duration} s x {len(next(iter(results.values())))} rounds, {connections} connections, "
            f"loopback, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        ),
        "",
        "| setup | requests/s (median) | rounds | ratio |",
        "|---|---:|---|---:|",
    ]
    ratio = {
        "a": "",
        "b": f"(b)/(a) = {med['b'] / med['a']:.3f}",
        "c-alone": "",
        "c": f"(c)/(c-alone) = {med['c'] / med['c-alone']:.3f}",
    }
    for key in ("a", "b", "c-alone", "c"):
        rounds = ", ".join(f"{v:.0f}" for v in results[key])
        lines.append(f"| {labels[key]} | {med[key]:.0f} | {rounds} | {ratio[key]} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds per measurement (default 5)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per setup (default 3)")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print(
            "benchmarks/http.py needs wrk: apt-get install wrk (Debian/Ubuntu), "
            "brew install wrk (macOS), or build it from https://github.com/wg/wrk",
            file=sys.stderr,
        )
        return 2

    all_setups = setups(0)
    labels = {s.key: s.label for s in all_setups}
    results: dict[str, list[float]] = {s.key: [] for s in all_setups}
    for round_no in range(1, args.rounds + 1):
        for setup in all_setups:
            rps = measure(setup.key, args.duration, args.connections, args.wrk_threads)
            results[setup.key].append(rps)
            print(f"round {round_no}: {setup.label}: {rps:.0f} req/s", file=sys.stderr, flush=True)
    print(table(results, labels, args.duration, args.connections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
