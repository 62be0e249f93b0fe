"""HTTP throughput over loopback: what does serving through the hub cost?

Measures requests per second with ``wrk`` (fixed duration and connections,
same machine, same run) for:

(a)       waitress serving one Flask app alone (``waitress-serve``)
(b)       ``wsgihub serve`` with Django, Flask and Pyramid mounted, hitting the
          same Flask route (``/new/hello``)
(c-alone) gunicorn, 2 sync workers, serving the Flask app alone
(c)       ``wsgihub serve --workers 2``: gunicorn, 2 sync workers, serving the hub

and prints a markdown table with the ratios (b)/(a) and (c)/(c-alone); the
goal is >= 0.95.  What the access log and request IDs cost (issue 11), in
the same run:

(b-off)   ``wsgihub serve`` as (b) with ``--request-id-header ''``: neither on
(b-log)   as (b) with ``--access-log FILE`` (text lines to a file on disk) and
          request IDs (on by default)
(c-off), (c-log)  the same two under gunicorn, as (c)

with the ratios (b-log)/(b-off) and (c-log)/(c-off); the goal is >= 0.97.
``--setups b-off,b-log`` measures only some of them.  Each configuration is measured ``--rounds`` times,
interleaved, so that the noise of a shared machine spreads over all of them;
the median and the best round are reported, with the server's CPU time per
request (from ``/proc``), which other load disturbs much less.

Why (a) and (b) run 8 waitress threads: on a machine with few cores,
waitress's socket loop falls into a busy wait (its thread keeps polling a
connection whose output lock a worker thread holds, and takes the GIL from
that very thread); requests/s then collapses and CPU per request multiplies.
With 4 threads on 2 cores it happens in most rounds, to (a) and (b) alike,
and the ratio measures luck; with 8 it does not happen.

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
#: waitress threads, in (a) and (b) alike.  Not waitress's default 4: with 4
#: or fewer threads on a 2-core machine waitress's socket loop keeps falling
#: into its busy wait (see above) and both setups measure that instead.
THREADS = 8
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


def setups(port: int, access_log: str = os.devnull) -> list[Setup]:
    """Every setup on ``port``; the ``-log`` ones write their access log to ``access_log``."""
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
        *(
            Setup(
                f"b-{variant}",
                f"(b-{variant}) wsgihub serve (waitress), {label}",
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
                    *extra,
                ),
                "/new/hello",
            )
            for variant, label, extra in _log_variants(access_log)
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
        *(
            Setup(
                f"c-{variant}",
                f"(c-{variant}) wsgihub serve --workers {WORKERS} (gunicorn), {label}",
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
                    *extra,
                ),
                "/new/hello",
            )
            for variant, label, extra in _log_variants(access_log)
        ),
    ]


def _log_variants(access_log: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(variant, label, extra arguments)``: request IDs and access log off, then both on."""
    return [
        ("off", "no request IDs, no access log", ("--request-id-header", "")),
        ("log", "request IDs + access log to a file", ("--access-log", access_log)),
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


@dataclass(frozen=True)
class Result:
    """One measurement: throughput, and the server's CPU time per request."""

    rps: float
    #: CPU seconds (user + system) the server's processes used per request, in
    #: microseconds; ``nan`` where ``/proc`` is not available.  Much less
    #: sensitive than ``rps`` to other load on a shared machine.
    cpu_us: float


def run_wrk(
    port: int, path: str, duration: int, connections: int, threads: int
) -> tuple[float, int]:
    """``(requests/s, requests)`` of one ``wrk`` run; fails on any non-2xx or socket error."""
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
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return float(rps.group(1)), int(total.group(1))


def session_cpu(session: int) -> float:
    """CPU seconds used so far by the live processes of ``session`` (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "pid (comm)": state ppid pgrp session ... utime(12th) stime(13th)
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def measure(
    key: str, duration: int, connections: int, wrk_threads: int, access_log: str = os.devnull
) -> Result:
    """Start setup ``key`` on a free port, warm it up, measure it, stop it."""
    port = free_port()
    setup = {s.key: s for s in setups(port, access_log)}[key]
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
            proc_fs = os.path.isdir("/proc/self")
            cpu_before = session_cpu(proc.pid) if proc_fs else 0.0
            rps, requests = run_wrk(port, setup.path, duration, connections, wrk_threads)
            cpu = session_cpu(proc.pid) - cpu_before if proc_fs else float("nan")
            return Result(rps, cpu / requests * 1e6)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def table(
    results: dict[str, list[Result]], labels: dict[str, str], duration: int, connections: int
) -> str:
    """The markdown report: per setup, then the two ratios (median and best round)."""
    rps = {key: statistics.median(r.rps for r in values) for key, values in results.items()}
    best = {key: max(r.rps for r in values) for key, values in results.items()}
    cpu = {key: statistics.median(r.cpu_us for r in values) for key, values in results.items()}
    rounds = len(next(iter(results.values())))
    lines = [
        (
            f"wrk, {duration} s x {rounds} rounds (interleaved), {connections} connections, "
            f"loopback, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        ),
        "",
        (
            "| setup | requests/s (median) | best round | server CPU µs/request (median) "
            "| requests/s, each round |"
        ),
        "|---|---:|---:|---:|---|",
    ]
    for key, values in results.items():
        each = ", ".join(f"{r.rps:.0f}" for r in values)
        lines.append(
            f"| {labels[key]} | {rps[key]:.0f} | {best[key]:.0f} | {cpu[key]:.0f} | {each} |"
        )
    lines += [
        "",
        (
            "| ratio (goal >= 0.95) | requests/s, medians | requests/s, best rounds "
            "| CPU/request, alone / hub |"
        ),
        "|---|---:|---:|---:|",
    ]
    for hub, alone in (("b", "a"), ("c", "c-alone")):
        if hub in results and alone in results:
            lines.append(
                f"| ({hub})/({alone}) | {rps[hub] / rps[alone]:.3f} | {best[hub] / best[alone]:.3f} "
                f"| {cpu[alone] / cpu[hub]:.3f} |"
            )
    pairs = [(on, off) for on, off in (("b-log", "b-off"), ("c-log", "c-off")) if on in results and off in results]
    if pairs:
        lines += [
            "",
            (
                "| access log + request IDs (goal >= 0.97) | requests/s, medians "
                "| requests/s, best rounds | CPU/request, off / on |"
            ),
            "|---|---:|---:|---:|",
        ]
        for on, off in pairs:
            lines.append(
                f"| ({on})/({off}) | {rps[on] / rps[off]:.3f} | {best[on] / best[off]:.3f} "
                f"| {cpu[off] / cpu[on]:.3f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds per measurement (default 5)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per setup (default 3)")
    parser.add_argument(
        "--setups", default="", help="comma-separated setup keys to measure (default: all)"
    )
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print(
            "benchmarks/http.py needs wrk: apt-get install wrk (Debian/Ubuntu), "
            "brew install wrk (macOS), or build it from https://github.com/wg/wrk",
            file=sys.stderr,
        )
        return 2

    all_setups = setups(0)
    if args.setups:
        wanted = args.setups.split(",")
        unknown = sorted(set(wanted) - {s.key for s in all_setups})
        if unknown:
            parser.error(f"unknown setup(s): {', '.join(unknown)} (known: {', '.join(s.key for s in all_setups)})")
        all_setups = [s for s in all_setups if s.key in wanted]
    labels = {s.key: s.label for s in all_setups}
    results: dict[str, list[Result]] = {s.key: [] for s in all_setups}
    # the -log setups write a real file (not /dev/null), removed at the end
    log_dir = tempfile.mkdtemp(prefix="wsgihub-bench-")
    access_log = os.path.join(log_dir, "access.log")
    for round_no in range(1, args.rounds + 1):
        for setup in all_setups:
            result = measure(setup.key, args.duration, args.connections, args.wrk_threads, access_log)
            results[setup.key].append(result)
            print(
                f"round {round_no}: {setup.label}: {result.rps:.0f} req/s, "
                f"{result.cpu_us:.0f} µs CPU/request",
                file=sys.stderr,
                flush=True,
            )
    shutil.rmtree(log_dir, ignore_errors=True)
    print(table(results, labels, args.duration, args.connections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
