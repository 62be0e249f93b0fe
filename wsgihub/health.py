"""The health path: whether this process should get traffic, from its bus's state.

::

    wsgihub serve site.ini --health-path /healthz --drain-delay 5

    $ curl -i http://127.0.0.1:8080/healthz
    HTTP/1.1 200 OK
    {"status": "ok", "state": "STARTED", "mounts": ["legacy", "new", "reports"]}

:class:`HealthCheck` is a WSGI middleware (one of the front layers of
:func:`wsgihub.servers.front.front`) answering one path itself, without
calling any app: ``200`` while the hub's bus is ``STARTED`` and the process
is not draining, ``503`` otherwise -- while the bus is ``STARTING``,
``STOPPING``, ``STOPPED`` or ``EXITING``, and from the moment a shutdown
began (the ``drain`` channel of the bus) until the next start.  The body
is JSON: ``status`` (``ok``, ``starting``, ``draining``, ``stopping``,
``stopped``), ``state`` (the bus state's name) and ``mounts`` (the mount
names); ``GET`` and ``HEAD`` only, never cached.

**The drain delay.**  A load balancer only learns that a process is going
away when its health check fails; if the server stopped accepting at the
same moment, requests sent meanwhile would be refused.  So a shutdown
(SIGTERM, Ctrl-C) has two phases:

1. *drain delay* (``--drain-delay SECONDS``, default 0): health answers
   ``503`` ("draining") while the server still accepts and serves every
   other request, long enough for the load balancer's checks to take the
   process out of rotation (its check interval times its fall count);
2. *drain* (``--drain-timeout``): the server stops accepting and lets
   in-flight requests finish.

Under waitress the delay is :class:`DrainDelay`, a ``stop`` listener that
runs before the server's own (it publishes ``drain`` on the bus, then
waits).  Under gunicorn each worker has its own bus: the worker's SIGTERM
publishes ``drain`` on it and the worker keeps accepting for the delay
(:mod:`wsgihub.servers.gunicorn`).

Layering: this module sits on the bus and the hub; the servers import it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .bus import states
from .process.plugins import SimplePlugin
from .process.signals import arrival, signals_arrived

if TYPE_CHECKING:
    from .bus import Bus
    from .hub import Hub
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["DRAIN_CHANNEL", "DrainDelay", "HealthCheck", "announce_drain", "health_report"]

#: The bus channel published when a shutdown begins: health answers 503 from then on.
DRAIN_CHANNEL = "drain"

#: ``status`` for each bus state other than STARTED.
_STATUS = {
    states.STARTING: "starting",
    states.STOPPING: "stopping",
    states.STOPPED: "stopped",
    states.EXITING: "stopped",
}

_NO_STORE = ("Cache-Control", "no-store")


def announce_drain(bus: Bus) -> None:
    """Publish :data:`DRAIN_CHANNEL` on ``bus``: health answers 503 until the next start."""
    if DRAIN_CHANNEL in bus.listeners:
        bus.publish(DRAIN_CHANNEL)


def health_report(hub: Hub, draining: bool = False) -> tuple[int, dict[str, object]]:
    """``(status code, JSON body)`` for ``hub`` now: 200 only if started and not draining."""
    state = hub.bus.state
    if state is states.STARTED and not draining:
        code, status = 200, "ok"
    else:
        code, status = 503, "draining" if draining else _STATUS.get(state, "stopped")
    mounts = [peg.name for peg in hub.pegs()]
    return code, {"status": status, "state": hub.bus.state_name, "mounts": mounts}


class HealthCheck:
    """WSGI middleware: answer ``path`` with the hub's health, pass every other request on.

    ``app`` is what other requests go to (the hub, or the next front
    layer); ``hub`` is whose bus and mounts are reported.  The path is
    compared with ``PATH_INFO`` exactly (``/healthz``, not
    ``/healthz/``).  A ``drain`` publication on the hub's bus sets
    :attr:`draining` (503 from then on); the next ``start`` clears it.
    """

    def __init__(self, app: WSGIApplication, hub: Hub, path: str) -> None:
        self.app = app
        self.hub = hub
        self.path = path
        #: Set from the ``drain`` channel: a shutdown began.
        self.draining = False
        bus = hub.bus
        bus.subscribe(DRAIN_CHANNEL, self._on_drain)
        bus.subscribe("start", self._on_start, priority=10)

    def _on_drain(self) -> None:
        self.draining = True

    def _on_start(self) -> None:
        self.draining = False

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            body = b"405 Method Not Allowed: the health path answers GET and HEAD\n"
            start_response(
                "405 Method Not Allowed",
                [
                    ("Allow", "GET, HEAD"),
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    _NO_STORE,
                ],
            )
            return [body]
        code, report = health_report(self.hub, self.draining)
        body = json.dumps(report).encode()
        start_response(
            "200 OK" if code == 200 else "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                _NO_STORE,
            ],
        )
        return [] if method == "HEAD" else [body]


class DrainDelay(SimplePlugin):
    """A bus plugin: at ``stop``, announce the drain, then wait ``delay`` seconds.

    Its ``stop`` listener runs before the server's (priority 30; waitress
    stops accepting at 40), so for ``delay`` seconds health answers 503
    while every other request is still served.  A delay of 0 only announces.
    A SIGINT during the delay (Ctrl-C again; published on the bus by
    :class:`~wsgihub.process.SignalHandler`) ends it at once; the drain
    itself still runs.  A SIGTERM does not: one stop often brings two
    signals (Ctrl-C reaches the whole process group and the ``--reload``
    parent then sends its child SIGTERM; systemd signals every process).
    Nor does a SIGINT that arrived before the delay began (that Ctrl-C's
    SIGINT, published after the parent's SIGTERM: each signal is published
    from a thread of its own, :func:`wsgihub.process.signals.arrival`).
    """

    def __init__(self, bus: Bus, delay: float) -> None:
        super().__init__(bus)
        self.delay = delay
        self._woken = threading.Event()
        self._waiting = False
        #: How many signals had arrived when the running delay began.
        self._began_after = 0

    def subscribe(self) -> None:
        """Subscribe ``start``, ``stop`` and the signal channels (and make ``drain`` known)."""
        self.bus.listeners.setdefault(DRAIN_CHANNEL, set())
        super().subscribe()
        self.bus.subscribe("SIGINT", self._on_signal, priority=90)

    def unsubscribe(self) -> None:
        """Undo :meth:`subscribe`."""
        super().unsubscribe()
        self.bus.unsubscribe("SIGINT", self._on_signal)

    def _on_signal(self) -> None:
        if self._waiting:  # a second signal while the first one's delay runs
            number = arrival()
            if number is not None and number <= self._began_after:
                return  # arrived with the signal that began the stop: the same Ctrl-C
            self.bus.log("Drain delay cut short by a second signal.")
            self._woken.set()

    def start(self) -> None:
        """A new start: a later stop waits its delay again."""
        self._woken.clear()

    def stop(self) -> None:
        """Announce the drain; keep accepting for ``delay`` seconds."""
        announce_drain(self.bus)
        if self.delay > 0:
            self.bus.log(
                f"Draining: health answers 503; still accepting for {self.delay:g} s (drain delay)."
            )
            self._began_after = signals_arrived()
            self._waiting = True
            try:
                self._woken.wait(self.delay)
            finally:
                self._waiting = False

    stop.priority = 30  # type: ignore[attr-defined]

    def cut_short(self) -> None:
        """End a running delay at once (a second signal, a test)."""
        self._woken.set()
