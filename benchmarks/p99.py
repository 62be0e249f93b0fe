"""Paired p99: several setups of ``benchmarks/http.py`` started once, wrk runs taking turns.

On a shared machine a p99 taken in one run of a setup and compared with one
taken minutes later in a run of another measures the other processes as much
as the servers.  Here every setup is started once and stays up; each round
runs ``wrk`` against each of them in a fresh random order, back to back, and
the report gives, per round, the p99 of each against the first setup's p99
in the same round (a slow moment tends to fall on both of a pair), then the
median of those per-round ratios::

    python benchmarks/p99.py --rounds 12 --duration 3 \\
        n-proxy-uvicorn n-hub-uvicorn-workers

A setup is a key of ``benchmarks/http.py``'s setups, optionally with a name
and a variant after it: ``NAME=KEY;ENV=VALUE;--option value`` starts ``KEY``
with ``ENV=VALUE`` in its environment and ``--option value`` added to its
command line (the hub's own options, to compare settings of the same code)::

    python benchmarks/p99.py n-hub-uvicorn-workers \\
        'si1=n-hub-uvicorn-workers;--switch-interval 0.001'

Run from the repository root; needs wrk, and nginx for the proxy setups.

``--in-process`` measures inside one process instead, no sockets, no other
process: ``hub.asgi`` serving the three apps of ``benchmarks/bench_apps.py``
(WSGI, in its pool of ``--threads`` threads) to ``--concurrency`` clients
on a uvloop (else asyncio) loop, each sending its next request as soon as
the last one is answered; the time from the call to the last body message,
per request.  The settings compared (``--switch-intervals``) take turns
every ``--block`` seconds in the same process, so a slow moment on a shared
machine falls on each of them alike::

    python benchmarks/p99.py --in-process --switch-intervals 0.005,0.001 --rounds 20
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
# benchmarks/http.py would shadow the standard library's http package (as in http.py itself)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _http() -> ModuleType:
    """``benchmarks/http.py`` as a module (its name would shadow the standard library's ``http``)."""
    spec = importlib.util.spec_from_file_location("bench_http", os.path.join(_HERE, "http.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_http"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


@dataclass
class Running:
    """A setup started once: its processes, port, wrk script, and its measurements."""

    name: str
    key: str
    port: int
    path: str
    script: str | None
    procs: list[subprocess.Popen[bytes]]
    p99: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


def parse(spec: str) -> tuple[str, str, dict[str, str], list[str]]:
    """``NAME=KEY;ENV=VALUE;--option value`` -> ``(name, key, env, extra argv)``."""
    head, *rest = spec.split(";")
    name, _, key = head.rpartition("=")
    name = name or key
    env: dict[str, str] = {}
    extra: list[str] = []
    for part in rest:
        part = part.strip()
        if part.startswith("-"):
            extra += shlex.split(part)
        elif "=" in part:
            var, _, value = part.partition("=")
            env[var] = value
    return name, key, env, extra


def start(bench: ModuleType, spec: str, workdir: str, log: object) -> Running:
    """Start the setup ``spec`` (its backends first) on a free port; wait until it answers."""
    name, key, env_extra, extra = parse(spec)
    port = bench.free_port()
    own = os.path.join(workdir, name)
    os.makedirs(own, exist_ok=True)
    os.chmod(own, 0o755)
    setup = {s.key: s for s in bench.setups(port, os.devnull, own)}[key]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    env.update(env_extra)
    script = None
    if setup.paths:
        script = os.path.join(own, "paths.lua")
        with open(script, "w", encoding="ascii") as out:
            out.write(bench.WRK_PATHS.format(paths="{" + ", ".join(f'"{p}"' for p in setup.paths) + "}"))
    procs: list[subprocess.Popen[bytes]] = []
    for argv, ready_port, ready_path in setup.backends:
        procs.append(
            subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)  # type: ignore[arg-type]
        )
        bench.wait_ready(ready_port, ready_path)
    argv = (*setup.argv, *extra)
    procs.insert(
        0, subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)  # type: ignore[arg-type]
    )
    running = Running(name, key, port, setup.path, script, procs)
    bench.wait_ready(port, setup.path)
    return running


def stop(bench: ModuleType, running: Running) -> None:
    """Stop a started setup's processes (``benchmarks/http.py``'s way)."""
    bench.stop_procs(running.procs)


def in_process(args: argparse.Namespace) -> str:
    """``--in-process``: per-request latency of ``hub.asgi`` under each switch interval, taking turns."""
    import asyncio
    import gc
    import time

    sys.path.insert(0, ROOT)
    from benchmarks.bench_apps import make_hub
    from wsgihub.asgi import ASGIHub

    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        loop_factory = asyncio.new_event_loop
    hub = make_hub()
    thread_counts = [int(v) for v in str(args.threads).split(",")]
    apps = {n: ASGIHub(hub, threads=n) for n in thread_counts}
    if args.freeze:
        gc.collect()
        gc.freeze()
    intervals = [float(v) for v in args.switch_intervals.split(",")]
    settings = [(n, v) for n in thread_counts for v in intervals]
    latencies: dict[tuple[int, float], list[float]] = {setting: [] for setting in settings}
    paths = ("/hello/", "/new/hello", "/api/hello")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def client(app: Any, number: int, until: list[float], into: list[list[float]]) -> None:
        i = number
        while time.perf_counter() < until[0]:
            path = paths[i % 3]
            i += 1
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                "root_path": "", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 40000 + number),
                "server": ("127.0.0.1", 80),
            }
            status: list[int] = []

            async def send(message: dict[str, Any], status: list[int] = status) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])

            start = time.perf_counter()
            await app(scope, receive, send)
            into[0].append(time.perf_counter() - start)
            assert status == [200], status

    async def drive() -> None:
        turn = list(settings)
        for _ in range(args.rounds):
            order.shuffle(turn)
            for threads, interval in turn:
                sys.setswitchinterval(interval)
                app = apps[threads]
                into = [latencies[threads, interval]]
                warm = [time.perf_counter() + 0.05]
                await asyncio.gather(*(client(app, n, warm, [[]]) for n in range(args.concurrency)))
                until = [time.perf_counter() + args.block]
                await asyncio.gather(*(client(app, n, until, into) for n in range(args.concurrency)))

    order = random.Random(args.seed)
    loop = loop_factory()
    try:
        loop.run_until_complete(drive())
    finally:
        loop.close()
        for app in apps.values():
            app.pool.shutdown(wait=False)

    def q(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1e3

    lines = [
        (
            f"in-process hub.asgi, {args.concurrency} clients, {args.rounds} turns of "
            f"{args.block} s per setting, gc.freeze {'on' if args.freeze else 'off'}, {os.cpu_count()} CPUs"
        ),
        "",
        "| threads | switch interval | requests | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (threads, interval), values in latencies.items():
        lines.append(
            f"| {threads} | {interval:g} | {len(values)} | {q(values, 0.5):.2f} | {q(values, 0.9):.2f} | {q(values, 0.99):.2f} "
            f"| {q(values, 0.999):.2f} | {max(values) * 1e3:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-process", action="store_true", help="measure hub.asgi inside this process (see above)")
    parser.add_argument("--switch-intervals", default="0.005,0.001", help="--in-process: settings compared")
    parser.add_argument("--threads", default="8", help="--in-process: the pool's threads, or several: 8,4 (default 8)")
    parser.add_argument("--concurrency", type=int, default=8, help="--in-process: clients (default 8)")
    parser.add_argument("--block", type=float, default=0.5, help="--in-process: seconds per turn (default 0.5)")
    parser.add_argument("--freeze", action="store_true", help="--in-process: gc.freeze() after loading")
    parser.add_argument("setups", nargs="*", help="setups (the first is the reference): KEY or NAME=KEY;ENV=V;--opt v")
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=10, help="wrk runs per setup (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the order within a round")
    args = parser.parse_args(argv)
    if args.in_process:
        print(in_process(args))
        return 0
    if not args.setups:
        parser.error("name at least one setup (or --in-process)")
    if shutil.which("wrk") is None:
        print("benchmarks/p99.py needs wrk", file=sys.stderr)
        return 2
    bench = _http()
    order = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="wsgihub-p99-")
    os.chmod(workdir, 0o755)
    started: list[Running] = []
    with tempfile.TemporaryFile("w+") as log:
        try:
            for spec in args.setups:
                started.append(start(bench, spec, workdir, log))
            for running in started:  # warm-up
                bench.run_wrk(running.port, running.path, 1, args.connections, args.wrk_threads, running.script)
            for round_no in range(1, args.rounds + 1):
                turn = list(started)
                order.shuffle(turn)
                for running in turn:
                    sessions = [p.pid for p in running.procs]
                    before = sum(bench.session_cpu(s) for s in sessions)
                    rps, requests, p99 = bench.run_wrk(
                        running.port, running.path, args.duration, args.connections, args.wrk_threads, running.script
                    )
                    used = sum(bench.session_cpu(s) for s in sessions) - before
                    running.rps.append(rps)
                    running.p99.append(p99)
                    running.cpu_us.append(used / requests * 1e6)
                print(
                    f"round {round_no}: "
                    + ", ".join(f"{r.name} {r.rps[-1]:.0f}/s p99 {r.p99[-1]:.1f} ms" for r in started),
                    file=sys.stderr,
                    flush=True,
                )
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-3000:])
            raise
        finally:
            for running in started:
                stop(bench, running)
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(started, args))
    return 0


def report(started: list[Running], args: argparse.Namespace) -> str:
    """Markdown: per setup the medians, and per-round ratios against the first setup."""
    ref = started[0]
    lines = [
        (
            f"wrk, {args.rounds} rounds x {args.duration} s per setup (setups started once, taking turns "
            f"in random order), {args.connections} connections, {os.cpu_count()} CPUs"
        ),
        "",
        (
            "| setup | p99 ms (median) | p99 min-max | requests/s (median) | CPU µs/request (median) "
            f"| p99 / {ref.name}'s, per round (median) | requests/s / {ref.name}'s, per round (median) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in started:
        p99_ratio = statistics.median(a / b for a, b in zip(r.p99, ref.p99, strict=True))
        rps_ratio = statistics.median(a / b for a, b in zip(r.rps, ref.rps, strict=True))
        lines.append(
            f"| {r.name} | {statistics.median(r.p99):.1f} | {min(r.p99):.1f}-{max(r.p99):.1f} "
            f"| {statistics.median(r.rps):.0f} | {statistics.median(r.cpu_us):.0f} "
            f"| {p99_ratio:.2f} | {rps_ratio:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
