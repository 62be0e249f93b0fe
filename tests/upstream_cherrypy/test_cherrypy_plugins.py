"""CherryPy's own plugins (``cherrypy.process.plugins``) running on a wsgihub Bus."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cherrypy")

from cherrypy.process import plugins  # type: ignore[import-untyped]

from wsgihub.bus import Bus, states


@pytest.fixture
def bus() -> Iterator[Bus]:
    bus = Bus()
    yield bus
    bus.exit()


class Recorder(plugins.SimplePlugin):
    """A plugin written against CherryPy, subscribed to our bus unchanged."""

    def __init__(self, bus: Bus) -> None:
        plugins.SimplePlugin.__init__(self, bus)
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    start.priority = 80  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.calls.append("stop")

    def graceful(self) -> None:
        self.calls.append("graceful")

    def exit(self) -> None:
        self.calls.append("exit")


def test_cherrypy_simple_plugin_on_our_bus(bus: Bus) -> None:
    plugin = Recorder(bus)
    order: list[str] = []
    bus.subscribe("start", lambda: order.append(f"priority 50 sees {plugin.calls}"))
    plugin.subscribe()
    bus.start()
    bus.graceful()
    bus.exit()
    assert plugin.calls == ["start", "graceful", "stop", "exit"]
    assert order == ["priority 50 sees []"]
    plugin.unsubscribe()
    for channel in ("start", "stop", "graceful", "exit"):
        assert getattr(plugin, channel) not in bus.listeners[channel]


def test_cherrypy_pidfile_and_monitor_on_our_bus(bus: Bus, tmp_path: Path) -> None:
    path = tmp_path / "cp.pid"
    ticks: list[int] = []
    plugins.PIDFile(bus, str(path)).subscribe()
    monitor = plugins.Monitor(bus, lambda: ticks.append(1), frequency=0.02)
    monitor.subscribe()
    bus.start()
    assert path.read_text().strip() == str(os.getpid())
    deadline = time.monotonic() + 5
    while len(ticks) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(ticks) >= 2
    bus.exit()
    assert monitor.thread is None
    assert not path.exists()


def test_cherrypy_thread_manager_channels_on_our_bus(bus: Bus) -> None:
    manager = plugins.ThreadManager(bus)  # registers its channels via listeners.setdefault
    manager.subscribe()
    bus.publish("acquire_thread")
    assert len(manager.threads) == 1
    bus.publish("release_thread")
    assert manager.threads == {}


def test_cherrypy_signal_handler_on_our_bus(bus: Bus) -> None:
    before = signal.getsignal(signal.SIGUSR1)
    handler = plugins.SignalHandler(bus)
    graceful: list[str] = []
    bus.subscribe("graceful", lambda: graceful.append("graceful"))
    handler.subscribe()
    try:
        signal.raise_signal(signal.SIGUSR1)
        assert graceful == ["graceful"]
        assert bus.state is states.STOPPED
    finally:
        handler.unsubscribe()
    assert signal.getsignal(signal.SIGUSR1) == before
